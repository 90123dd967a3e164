"""micrograd.distributed. In this process: a job of one (without mpi4py, every collective is the
identity), the loaders' shards, and the errors. On two processes: the collectives, their
derivatives (check_grads, first and second order), vmap, jit, eager tensors, data-parallel
training against one process, the MNIST example, checkpoints, debug mode
(tests/distributed_checks.py, launched once under ``mpiexec -n 2``), and jobs whose rank 1 fails
(tests/distributed_failures.py). The multi-process tests are skipped without mpi4py, naming the
extra that brings it: ``pip install -e ".[distributed]"``.
"""
from __future__ import annotations

import importlib.util
import os
import re
import runpy
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import REPO

import micrograd as mg
import micrograd.numpy as mnp
from micrograd import distributed as dist
from micrograd.distributed import runtime

EXTRA = 'pip install -e ".[distributed]"'


def mpiexec() -> str | None:
    """The mpiexec beside this Python (the mpich wheel's, in a virtual environment), else on PATH."""
    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    return beside if os.path.exists(beside) else shutil.which("mpiexec")


def why_not_multiprocess() -> str | None:
    if importlib.util.find_spec("mpi4py") is None:
        return f"mpi4py is not installed: {EXTRA} (mpi4py and the mpich wheel) runs the distributed tests"
    if mpiexec() is None:
        return f"no mpiexec beside {sys.executable} or on PATH: {EXTRA} installs the mpich wheel's"
    return None


needs_mpi = pytest.mark.skipif(why_not_multiprocess() is not None, reason=why_not_multiprocess() or "")


def launch(script: str, *args: str, timeout: float = 600, env: dict | None = None) -> tuple[int, str, str, float]:
    """``mpiexec -n 2 python tests/SCRIPT ARGS``: (exit status, stdout, stderr, seconds). A job still
    running after ``timeout`` is killed with all of its processes."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("PMI_", "PMIX_", "HYDRA_", "OMPI_"))}
    environment.update({"OPENBLAS_NUM_THREADS": "1", "MICROGRAD_PROGRESS": "off",
                        "MICROGRAD_COLLECTIVE_TIMEOUT": "300", **(env or {})})
    command = [mpiexec(), "-n", "2", sys.executable, os.path.join(REPO, "tests", script), *args]
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
                               env=environment, start_new_session=True)
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
        pytest.fail(f"{' '.join(command)} did not end within {timeout} s\n{out}\n{err[-3000:]}")
    return process.returncode, out, err, time.perf_counter() - start


@pytest.fixture
def without_mpi4py(monkeypatch):
    """This process as it is without mpi4py (whether or not it is installed)."""
    monkeypatch.setattr(runtime, "_MPI", None)
    monkeypatch.setattr(runtime, "_MPI_MISSING", "ModuleNotFoundError: No module named 'mpi4py'")


def test_without_mpi4py_a_process_is_a_job_of_one(without_mpi4py):
    assert (dist.size(), dist.rank(), dist.is_main()) == (1, 0, True)
    x = np.array([1.0, -2.0])
    tree = {"w": x, "n": 3}
    assert dist.allreduce(tree, "mean") is tree and dist.broadcast(x) is x and dist.reduce(x) is x
    assert dist.average_gradients(tree) is tree and dist.broadcast_parameters(tree) is tree
    np.testing.assert_array_equal(dist.allgather(x), x[None])
    np.testing.assert_array_equal(dist.reduce_scatter(x[None]), x)
    # and the identity has the identity's derivatives, under every transform
    f = lambda v: mnp.sum(dist.allreduce(v, "max") ** 2) + mnp.sum(dist.allgather(v))  # noqa: E731
    np.testing.assert_allclose(mg.grad(f)(x), 2 * x + 1)
    np.testing.assert_allclose(mg.jit(mg.grad(f))(x), 2 * x + 1)
    np.testing.assert_allclose(mg.vmap(mg.grad(f))(np.stack([x, 2 * x])), [2 * x + 1, 4 * x + 1])
    optimizer = dist.DistributedOptimizer(mg.SGD(learning_rate=0.5))
    assert optimizer.learning_rate == 0.5 and repr(optimizer).startswith("DistributedOptimizer(SGD(learning_rate=0.5")
    np.testing.assert_allclose(optimizer.update(x, x, optimizer.init(x))[0], 0.5 * x)
    dist.assert_replicated(tree)
    dist.barrier()
    with pytest.raises(dist.MPINotAvailableError, match=r'pip install -e "\.\[distributed\]"'):
        dist.require_mpi()
    with pytest.raises(ValueError, match="allreduce: op must be one of 'sum', 'mean', 'max', 'min', got 'avg'"):
        dist.allreduce(x, "avg")
    with pytest.raises(mg.ShapeError, match=r"reduce_scatter: each operand's first axis must hold one block per rank"):
        dist.reduce_scatter(np.ones((2, 3)))
    with pytest.raises(ValueError, match="broadcast: root must be a rank from 0 to 0, got 1"):
        dist.broadcast(x, root=1)


def test_the_examples_distributed_flag_without_mpi4py_names_the_extra(without_mpi4py, capsys):
    example = runpy.run_path(os.path.join(REPO, "examples", "mnist.py"), run_name="mnist")
    with pytest.raises(SystemExit) as exit_:
        example["main"](["--distributed", "--data", "/nonexistent"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "--distributed needs mpi4py and an MPI library" in err and EXTRA in err, err


def test_importing_micrograd_does_not_import_mpi4py():
    done = subprocess.run([sys.executable, "-c", "import sys, micrograd, micrograd.distributed; "
                           "print('mpi4py' in sys.modules)"], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "False", done.stderr


def test_loaders_share_every_batch_among_ranks():
    x, y = np.arange(22.0)[:, None], np.arange(22)
    full = mg.data.DataLoader(x, y, batch_size=6, seed=1)
    shards = [full.shard(r, 2) for r in range(2)]
    assert full.shard_count == 1 and [s.shard_rank for s in shards] == [0, 1]
    assert len(full) == len(shards[0]) == len(shards[1]) == 4  # the last batch of 4 rows: 2 each
    whole = [labels.tolist() for _, labels in full]
    parts = [[labels.tolist() for _, labels in s] for s in shards]
    assert [a + b for a, b in zip(*parts)] == whole  # rank 0 the first half of each batch, rank 1 the second
    assert [len(b) for b in parts[0]] == [3, 3, 3, 2]
    # the same shuffle on every rank, a new one every epoch, and the loader given stays whole
    second = [[labels.tolist() for _, labels in s] for s in shards]
    assert [a + b for a, b in zip(*second)] == [labels.tolist() for _, labels in full] != whole
    # a last batch smaller than the number of ranks is left out, so no rank gets an empty batch
    three = mg.data.DataLoader(x[:13], y[:13], batch_size=6, shuffle=False).shard(0, 3)
    assert len(three) == 2 and [len(labels) for _, labels in three] == [2, 2]
    # transforms: each rank draws from the batch's key and its rank
    shifted = lambda key, v: v + float(mg.random.uniform(key, ()))  # noqa: E731
    augmented = mg.data.DataLoader(x, y, batch_size=6, shuffle=False, transform=shifted)
    shifts = [next(iter(augmented.shard(r, 2)))[0].data - x[3 * r:3 * r + 3] for r in range(2)]
    assert max(shifts[0].std(), shifts[1].std()) < 1e-12 and abs(shifts[0][0, 0] - shifts[1][0, 0]) > 1e-3


def test_shard_true_takes_this_process_rank(without_mpi4py):
    x, y = np.zeros((5, 1)), np.arange(5)
    loader = mg.data.DataLoader(x, y, batch_size=2, seed=4, shard=True)
    assert (loader.shard_rank, loader.shard_count) == (0, 1)
    assert [v.tolist() for _, v in loader] == [v.tolist() for _, v in mg.data.DataLoader(x, y, batch_size=2, seed=4)]


def test_loader_shard_errors():
    loader = mg.data.DataLoader(np.zeros((3, 1)), np.arange(3), batch_size=2)
    with pytest.raises(ValueError, match="DataLoader.shard: 3 rows cannot be shared by 4 ranks: every rank needs at "
                                         r"least one row \(use fewer processes or more data\)"):
        loader.shard(0, 4)
    with pytest.raises(ValueError, match=r"DataLoader.shard: batch_size 2 \(the global batch\) does not divide evenly "
                                         "among 3 ranks; use a multiple of 3, such as 3"):
        loader.shard(0, 3)
    with pytest.raises(ValueError, match="DataLoader.shard: rank must be from 0 to 1, got 2"):
        loader.shard(2, 2)
    with pytest.raises(ValueError, match="DataLoader.shard: size must be a positive number of ranks, got 0"):
        loader.shard(0, 0)


@needs_mpi
def test_collectives_derivatives_and_data_parallel_training_on_two_ranks(mnist_dir):
    status, out, err, seconds = launch("distributed_checks.py", env={"MICROGRAD_DATA": os.path.dirname(mnist_dir)})
    # (the ranks' lines may interleave in the one pipe mpiexec gives them)
    failed = re.findall(r"rank \d FAIL \w+", out)
    assert status == 0 and not failed, f"{failed}\n--- stdout\n{out}\n--- stderr\n{err[-5000:]}"
    counts = {int(r): int(n) for r, n in re.findall(r"rank (\d) runs (\d+) checks", out)}
    passed = [re.findall(rf"rank {r} ok (\w+)", out) for r in (0, 1)]
    assert counts[0] == counts[1] == len(passed[0]) == len(passed[1]) >= 18, out


@needs_mpi
def test_a_rank_that_fails_ends_the_job_with_an_error():
    # an uncaught exception on rank 1 aborts the job at once (rank 0 is waiting in an allreduce)
    status, out, err, seconds = launch("distributed_failures.py", "raise", timeout=120)
    assert status != 0 and "ValueError: a bug on rank 1" in err, (status, out, err)
    assert "rank 1 stopped with an uncaught ValueError; ending the job (MPI_Abort)" in err, err
    assert "finished" not in out
    # a rank that stops calling collectives: the others wait config.timeout seconds, then end the job
    status, out, err, seconds = launch("distributed_failures.py", "hang", timeout=120,
                                       env={"MICROGRAD_COLLECTIVE_TIMEOUT": "2"})
    assert status != 0 and "rank 0 waited 2 s in allreduce[op=mean]" in err, (status, out, err)
    assert "another rank has died, hangs, or does not call the same collectives" in err
    assert seconds < 60, seconds
