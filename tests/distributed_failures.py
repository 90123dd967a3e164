"""A data-parallel job in which rank 1 fails after a few steps while rank 0 goes on to the next
gradient average: ``mpiexec -n 2 python tests/distributed_failures.py MODE``
(tests/test_distributed.py launches it and checks that the job ends, with an error, in seconds).

- ``raise``: rank 1 raises; its uncaught exception aborts the job (MPI_Abort).
- ``hang``: rank 1 stops calling collectives (stuck in a long computation); rank 0's watchdog
  ends the job after ``MICROGRAD_COLLECTIVE_TIMEOUT`` seconds.
- ``sysexit``: rank 1 ends its script without an error (``sys.exit(0)``).
- ``exit``: rank 1's process ends without an error and without MPI_Finalize (``os._exit(0)``).
- ``kill``: rank 1 is killed (``SIGKILL``, as the out-of-memory killer does).
"""
from __future__ import annotations

import os
import signal
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import micrograd as mg  # noqa: E402
from micrograd import distributed as dist  # noqa: E402


def main(mode: str) -> None:
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((64, 4)).astype(np.float32), rng.integers(0, 2, 64)
    model = dist.broadcast_parameters(mg.Linear(4, 2, key=mg.random.key(0)))
    optimizer = dist.DistributedOptimizer(mg.SGD(learning_rate=0.1))
    step = mg.optim.make_train_step(lambda m, x, y: mg.CrossEntropyLoss()(m(x), y), optimizer, jit=False)
    state = optimizer.init(model)
    for i, (inputs, labels) in enumerate(mg.data.DataLoader(x, y, batch_size=8, shard=True)):
        if i == 3 and dist.rank() == 1:
            print(f"rank 1 fails at step {i} ({mode})", flush=True)
            if mode == "raise":
                raise ValueError("a bug on rank 1")
            if mode == "hang":
                time.sleep(600)
            if mode == "exit":
                os._exit(0)
            if mode == "sysexit":
                sys.exit(0)
            if mode == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
        model, state, loss = step(model, state, inputs, labels)
    print(f"rank {dist.rank()} finished, which it should not have", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
