"""Training on several processes and machines with MPI (the optional extra
``pip install -e ".[distributed]"``: mpi4py and an MPI library).

Launch the same script on N processes, ``mpiexec -n N python train.py``; each is a *rank*. The
collectives — :func:`allreduce`, :func:`allgather`, :func:`broadcast`, :func:`reduce_scatter`
and :func:`reduce` — are primitives with shape and derivative rules, so they work on arrays and
pytrees eagerly, on eager tensors, and under ``grad``, ``vmap`` and ``jit`` (whose compiled
pieces call MPI between them). Data-parallel training puts them together:

>>> import numpy as np, micrograd as mg
>>> from micrograd import distributed as dist
>>> x, y = np.random.default_rng(0).random((8, 2), np.float32), np.zeros((8, 1), np.float32)
>>> loader = mg.data.DataLoader(x, y, batch_size=4, shard=True)  # this rank's rows of every batch
>>> model = dist.broadcast_parameters(mg.Linear(2, 1, key=mg.random.key(0)))
>>> optimizer = dist.DistributedOptimizer(mg.SGD(learning_rate=0.1))  # gradients averaged over ranks
>>> step = mg.optim.make_train_step(lambda m, x, y: mg.MSELoss()(m(x), y), optimizer)
>>> state = optimizer.init(model)
>>> for inputs, targets in loader:
...     model, state, loss = step(model, state, inputs, targets)
>>> if dist.is_main():
...     pass  # print, show progress, dist.save(path, model): rank 0 only

Without mpi4py, or in a single process, ``size()`` is 1, ``rank()`` 0 and every collective
is the identity, so the same script runs alone. ``config.debug`` checks that all ranks call
the same collective on the same shapes; ``config.timeout`` ends a job whose ranks have waited
for each other too long (a rank that died or hangs); see docs/distributed.md.
"""
from .collectives import OPS, allgather, allreduce, broadcast, reduce, reduce_scatter
from .runtime import (CollectiveMismatchError, MPINotAvailableError, config, debug, is_main, mpi, rank,
                      require_mpi, size)
from .training import (DEFAULT_BUCKET_BYTES, DistributedOptimizer, assert_replicated, average_gradients, barrier,
                       broadcast_parameters, load, save)

__all__ = ["rank", "size", "is_main", "allreduce", "allgather", "broadcast", "reduce", "reduce_scatter", "OPS",
           "average_gradients", "broadcast_parameters", "DistributedOptimizer", "assert_replicated", "barrier",
           "save", "load", "config", "debug", "mpi", "require_mpi", "MPINotAvailableError",
           "CollectiveMismatchError", "DEFAULT_BUCKET_BYTES"]
