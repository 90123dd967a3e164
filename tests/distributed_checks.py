"""Checks of micrograd.distributed on several ranks: ``mpiexec -n 2 python tests/distributed_checks.py``
(tests/test_distributed.py launches it). Each rank runs every check in the same order and prints
``rank R ok NAME`` or ``rank R FAIL NAME`` with the traceback; the exit status is the number of
failures. ``python tests/distributed_checks.py NAME ...`` runs only the checks named.

Derivatives are checked with ``mg.check_grads``, which perturbs each input element on every rank
at once (the ranks step through the same elements together). Its central differences then
measure the derivative of the whole job only when the function is the same on every rank, so
each collective under test sits between two symmetrizing means: the input is first averaged
over ranks (every rank's input counts alike), made different per rank, passed through the
collective and a rank-dependent function, and the result averaged over ranks again. The
derivative rules of all collectives involved must then agree with the differences, to first and
second order, in both modes.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
import traceback

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import micrograd as mg  # noqa: E402
import micrograd.numpy as mnp  # noqa: E402
from micrograd import distributed as dist  # noqa: E402

RANK, SIZE = dist.rank(), dist.size()
CHECKS = []


def check(fn):
    CHECKS.append(fn)
    return fn


def close(a, b, **tol):
    np.testing.assert_allclose(np.asarray(a, np.float64), np.asarray(b, np.float64), **(tol or dict(rtol=1e-12)))


def per_rank(r: int, shape=(3,), dtype=np.float64):
    """Rank r's test array: different on every rank, known to all."""
    return (np.arange(np.prod(shape)).reshape(shape) + 10.0 * r + 1.0).astype(dtype)


@check
def ranks():
    assert SIZE == 2, SIZE
    assert dist.is_main() == (RANK == 0)
    close(dist.allgather(np.array(RANK)), np.arange(SIZE))


@check
def ranks_on_one_machine_share_its_compile_workers():
    from micrograd.backend import compile as backend_compile
    assert dist.size() == 2  # (MPI is in use: the runtime has started)
    setting = os.environ.get("MICROGRAD_COMPILE_WORKERS", "")
    expected = int(setting) if setting.isdigit() else max(1, min(2, (os.cpu_count() or 1) // 2))
    assert backend_compile._worker_count() == expected, (backend_compile._worker_count(), expected)


@check
def values_of_the_collectives():
    x = per_rank(RANK)
    everyone = np.stack([per_rank(r) for r in range(SIZE)])
    close(dist.allreduce(x), everyone.sum(0))
    close(dist.allreduce(x, "mean"), everyone.mean(0))
    close(dist.allreduce(x, "max"), everyone.max(0))
    close(dist.allreduce(x, "min"), everyone.min(0))
    close(dist.allgather(x), everyone)
    blocks = np.stack([x, 2 * x])  # block r goes to rank r
    close(dist.reduce_scatter(blocks), (everyone * (RANK + 1)).sum(0))
    close(dist.reduce_scatter(blocks, "mean"), (everyone * (RANK + 1)).mean(0))
    close(dist.broadcast(x, root=1), per_rank(1))
    close(dist.reduce(x, root=1), everyone.sum(0) if RANK == 1 else np.zeros(3))
    # dtypes, 0-d and empty arrays, and pytrees mixing them (one buffer per dtype)
    assert dist.allreduce(np.int64(RANK + 1)).shape == ()
    assert int(dist.allreduce(np.int64(RANK + 1))) == 3
    assert bool(dist.allreduce(np.array(RANK == 0), "max")) and not bool(dist.allreduce(np.array(RANK == 0), "min"))
    assert dist.allreduce(np.zeros((0, 4))).shape == (0, 4)
    tree = {"a": x.astype(np.float32), "b": [x, np.int32(RANK)], "c": 2.0}
    out = dist.allreduce(tree)
    assert out["a"].dtype == np.float32 and out["b"][1].dtype == np.int32
    close(out["a"], everyone.sum(0))
    close(out["b"][0], everyone.sum(0))
    assert int(out["b"][1]) == 1 and float(out["c"]) == 4.0
    # small buckets: several calls, the same result
    big = {"w": per_rank(RANK, (40, 5)), "v": per_rank(RANK, (7,)), "u": per_rank(RANK, (30,))}
    for bucket in (None, 64, 400, 10 ** 6):
        got = dist.allreduce(big, "mean", bucket_bytes=bucket)
        for k in big:
            close(got[k], np.mean([per_rank(r, big[k].shape) for r in range(SIZE)], 0))
    gathered = dist.allgather({"p": x, "q": np.ones((2, 2)) * RANK})
    close(gathered["p"], everyone)
    close(gathered["q"], np.stack([np.zeros((2, 2)), np.ones((2, 2))]))


@check
def ties_share_the_derivative_of_a_maximum():
    x = np.array([1.0, 5.0, 2.0 + RANK])  # elements 0 and 1 tie on both ranks; element 2 is rank 1's
    g = mg.grad(lambda v: mnp.sum(dist.allreduce(v, "max") * np.array([1.0, 2.0, 3.0])))(x)
    # the job's sum of outputs is 2 * max, so each tied rank gets half of 2 * weight
    close(g, [1.0, 2.0, 6.0 * (RANK == 1)])


@check
def explicit_derivatives():
    x = per_rank(RANK)
    ct = np.full(3, RANK + 1.0)  # rank r's cotangent: r + 1
    # transposes: the input cotangent of a sum is the sum of the ranks' output cotangents
    close(mg.vjp(lambda v: dist.allreduce(v), x)[1](ct)[0], np.full(3, 3.0))
    close(mg.vjp(lambda v: dist.allreduce(v, "mean"), x)[1](ct)[0], np.full(3, 1.5))
    gct = np.stack([np.full(3, 1.0), np.full(3, 2.0)]) * (RANK + 1)
    close(mg.vjp(lambda v: dist.allgather(v), x)[1](gct)[0], np.full(3, 3.0 * (RANK + 1)))
    close(mg.vjp(lambda v: dist.broadcast(v, 1), x)[1](ct)[0], np.full(3, 3.0 * (RANK == 1)))
    close(mg.vjp(lambda v: dist.reduce(v, 1), x)[1](ct)[0], np.full(3, 2.0))
    close(mg.jvp(lambda v: dist.allreduce(v), (x,), (ct,))[1], np.full(3, 3.0))


def symmetric(collective):
    """``collective`` between two means over ranks (see the module docstring)."""
    weights = np.linspace(0.5, 1.5, 12)

    def f(x):
        shared = dist.allreduce(x, "mean")
        own = shared * (1.0 + RANK) + 0.25 * RANK
        y = collective(own)
        y = mg.tree.leaves(y)
        z = sum(mnp.sum(mnp.sin(leaf) * weights[RANK:RANK + leaf.size].reshape(leaf.shape)) for leaf in y)
        return dist.allreduce(z * (1.0 + 0.5 * RANK) + z * z, "mean")
    return f


COLLECTIVES = {
    "allreduce sum": lambda v: dist.allreduce(v),
    "allreduce mean": lambda v: dist.allreduce(v, "mean"),
    "allreduce max": lambda v: dist.allreduce(v, "max"),
    "allreduce min": lambda v: dist.allreduce(v, "min"),
    "allgather": lambda v: dist.allgather(v),
    "reduce_scatter sum": lambda v: dist.reduce_scatter(mnp.stack([v, v * v])),
    "reduce_scatter mean": lambda v: dist.reduce_scatter(mnp.stack([v, mnp.cos(v)]), "mean"),
    "broadcast": lambda v: dist.broadcast(v, 1),
    "reduce": lambda v: dist.reduce(v * v, 1),
    "pytree": lambda v: dist.allreduce({"a": v, "b": [v * v, mnp.sum(v)]}, "mean"),
}


@check
def check_grads_first_and_second_order():
    x = np.array([0.3, -0.2, 0.7])
    for name, collective in COLLECTIVES.items():
        try:
            mg.check_grads(symmetric(collective), (x,), order=2, modes=("fwd", "rev"), atol=1e-6, rtol=1e-5)
        except AssertionError as e:
            raise AssertionError(f"{name}: {e}") from None


@check
def check_grads_would_catch_a_wrong_rule():
    # the harness is only as good as its power to fail: an allreduce whose vjp forgets to sum
    # over ranks (the transpose of an identity) must be caught
    from micrograd.distributed import collectives as c
    saved = c.allreduce_p.vjp
    c.allreduce_p.vjp = lambda cts, outs, *xs, op, **p: list(cts)
    try:
        mg.check_grads(symmetric(lambda v: dist.allreduce(v * (1.0 + RANK))), (np.array([0.3, -0.2]),), order=1,
                       modes=("rev",))
    except AssertionError:
        pass
    else:
        raise AssertionError("check_grads passed a wrong vjp rule")
    finally:
        c.allreduce_p.vjp = saved


@check
def vmap_of_collectives():
    xs = np.stack([per_rank(RANK) * (k + 1) for k in range(4)])  # a batch of 4
    for op in dist.OPS:
        close(mg.vmap(lambda v, op=op: dist.allreduce(v, op))(xs), dist.allreduce(xs, op))
    close(mg.vmap(dist.allgather)(xs), np.moveaxis(dist.allgather(xs), 0, 1))
    close(mg.vmap(dist.allgather, in_axes=1, out_axes=0)(xs), np.moveaxis(dist.allgather(xs), 2, 0))
    blocks = np.stack([xs, 2 * xs], axis=1)  # (batch 4, 2 blocks, 3)
    close(mg.vmap(dist.reduce_scatter)(blocks), dist.reduce_scatter(np.moveaxis(blocks, 1, 0)))
    close(mg.vmap(dist.reduce_scatter, in_axes=2)(np.moveaxis(blocks, 0, 2)), dist.reduce_scatter(np.moveaxis(blocks, 1, 0)))
    close(mg.vmap(lambda v: dist.broadcast(v, 1))(xs), dist.broadcast(xs, 1))
    # a batched and an unbatched operand in one call, and per-example gradients through a collective
    out = mg.vmap(lambda v, w: dist.allreduce([v, w]), in_axes=(0, None))(xs, per_rank(RANK))
    close(out[0], dist.allreduce(xs))
    close(out[1], np.broadcast_to(dist.allreduce(per_rank(RANK)), (4, 3)))  # (vmap's results are all batched)
    per_example = mg.vmap(mg.grad(lambda v: mnp.sum(dist.allreduce(v) ** 2)))(xs)
    close(per_example, [mg.grad(lambda v: mnp.sum(dist.allreduce(v) ** 2))(x) for x in xs])


@check
def jit_runs_collectives_between_compiled_pieces():
    x = per_rank(RANK, (4, 3)) / 10

    def f(w, x):  # value and gradient: collectives in the forward and the backward program
        h = mnp.tanh(x @ w)
        total = dist.allreduce(h, "mean")
        gathered = dist.allgather(mnp.sum(h * h, axis=0))
        return mnp.sum(total ** 2) + mnp.sum(gathered[0] * gathered[1])

    w = np.linspace(-1, 1, 6).reshape(3, 2)
    expected = mg.value_and_grad(f)(w, x)
    step = mg.jit(mg.value_and_grad(f))
    close(step(w, x)[1], expected[1], rtol=1e-12)  # the first call runs with NumPy while kernels compile
    step.wait()
    for _ in range(2):
        value, g = step(w, x)
        close(value, expected[0], rtol=1e-10)
        close(g, expected[1], rtol=1e-10)
    text = step.lower(w, x).as_text()
    glue = text.split("# kernel 0")[0]
    assert "allreduce" in glue and "allgather" in glue and "reduce_scatter" in glue, glue
    assert "def kernel_" in text  # the rest compiled
    # jit of vmap and vmap of jit
    xs = np.stack([x, 2 * x])
    close(mg.jit(mg.vmap(lambda v: dist.allreduce(v, "max")))(xs), dist.allreduce(xs, "max"))
    close(mg.vmap(mg.jit(lambda v: dist.allreduce(v, "max")))(xs), dist.allreduce(xs, "max"))


@check
def eager_tensors_record_collectives():
    t = mg.tensor(per_rank(RANK), requires_grad=True)
    loss = dist.allreduce((t * t).sum(), "mean")
    loss.backward()
    close(t.grad.data, 2 * per_rank(RANK))  # d/dx_r of the job's sum of the ranks' means: the rank's own term
    s = mg.tensor(per_rank(RANK), requires_grad=True)
    g = dist.allgather(s)
    (g * g).sum().backward()
    close(s.grad.data, 2 * SIZE * per_rank(RANK))


@check
def a_communicator_other_than_the_world():
    MPI = dist.mpi()
    comm = MPI.COMM_WORLD.Dup()
    x = per_rank(RANK)
    program = mg.make_ir(lambda v: dist.allreduce(v, comm=comm))(x)
    assert "comm=" in str(program), program
    close(mg.jit(lambda v: dist.allreduce(v, comm=comm))(x), per_rank(0) + per_rank(1))
    alone = MPI.COMM_WORLD.Split(color=RANK, key=0)  # a communicator of one rank: the identity
    assert dist.size(alone) == 1 and dist.rank(alone) == 0
    assert dist.allreduce(x, comm=alone) is x
    alone.Free()
    comm.Free()


@check
def debug_mode_names_both_shapes_and_ranks():
    with dist.debug():
        for mine, kind in (((3,) if RANK == 0 else (4,), "allreduce"), ((3,), "allreduce" if RANK == 0 else "broadcast")):
            try:
                if kind == "allreduce":
                    dist.allreduce(np.ones(mine, np.float32 if RANK == 0 else np.float64))
                else:
                    dist.broadcast(np.ones(mine))
            except dist.CollectiveMismatchError as e:
                message = str(e)
            else:
                raise AssertionError("no CollectiveMismatchError")
            assert "rank 0: allreduce[op=sum] of (float32[3])" in message, message
            assert ("rank 1: allreduce[op=sum] of (float64[4])" in message or
                    "rank 1: bcast[root=0] of (float64[3])" in message), message
        dist.allreduce(np.ones(2))  # agreeing ranks pass


def mlp(key, sizes=(6, 16, 3)):
    keys = mg.random.split(key, len(sizes) - 1)
    layers = []
    for k, (a, b) in zip(keys, zip(sizes[:-1], sizes[1:])):
        layers += [mg.Linear(a, b, key=k), mg.Tanh()]
    return mg.Sequential(layers[:-1])


def data(n=64, classes=3):
    rng = np.random.default_rng(0)
    return rng.standard_normal((n, 6)).astype(np.float32), rng.integers(0, classes, n)


def train(model, loader, optimizer, steps, epochs=1, jit=True):
    loss_fn = mg.CrossEntropyLoss()
    step = mg.optim.make_train_step(lambda m, x, y: loss_fn(m(x), y), optimizer, jit=jit)
    state = optimizer.init(model)
    done = 0
    for _ in range(epochs):
        for x, y in loader:
            model, state, loss = step(model, state, x, y)
            if done == 0 and jit:
                step.wait()  # from the second step on every rank runs the compiled step (see docs/distributed.md)
            done += 1
            if done == steps:
                return model, state
    return model, state


@check
def data_parallel_training_matches_one_process():
    x, y = data()
    reference, _ = train(mlp(mg.random.key(0)), mg.data.DataLoader(x, y, batch_size=16, seed=3), mg.Adam(1e-2), 6,
                         epochs=2, jit=False)  # (one process, with NumPy: nothing to compile)
    model = dist.broadcast_parameters(mlp(mg.random.key(RANK)))  # rank 1 starts elsewhere: broadcast fixes it
    loader = mg.data.DataLoader(x, y, batch_size=16, seed=3, shard=True)
    assert len(loader) == 4 and len(next(iter(mg.data.DataLoader(x, y, batch_size=16, shard=True)))[1]) == 8
    trained, state = train(model, loader, dist.DistributedOptimizer(mg.Adam(1e-2)), 6, epochs=2)
    dist.assert_replicated(trained)
    dist.assert_replicated(state, "optimizer state")
    for got, want in zip(mg.tree.leaves(trained), mg.tree.leaves(reference)):
        close(got, want, rtol=2e-5, atol=2e-6)


@check
def eager_data_parallel_training_matches_one_process():
    x, y = data()
    loss_fn = mg.CrossEntropyLoss()

    def run(model, optimizer, loader, tutorial_form):
        for _ in range(2):
            for inputs, labels in loader:
                loss = loss_fn(model(inputs), labels)
                if tutorial_form:
                    optimizer.step(model.parameters(), loss)
                else:
                    optimizer.zero_grad()
                    loss.backward()
                    optimizer.step()
        return model

    for tutorial_form in (True, False):
        reference = mlp(mg.random.key(0))
        run(reference, mg.SGD(learning_rate=0.1, momentum=0.9) if tutorial_form else
            mg.Adam(reference.parameters(), learning_rate=1e-2), mg.data.DataLoader(x, y, batch_size=16), tutorial_form)
        model = mlp(mg.random.key(RANK))
        if tutorial_form:
            dist.broadcast_parameters(model)
            optimizer = dist.DistributedOptimizer(mg.SGD(learning_rate=0.1, momentum=0.9))
        else:  # built on the tensors: rank 0's values are broadcast at once
            optimizer = dist.DistributedOptimizer(mg.Adam(model.parameters(), learning_rate=1e-2))
        run(model, optimizer, mg.data.DataLoader(x, y, batch_size=16, shard=True), tutorial_form)
        dist.assert_replicated(model)
        for got, want in zip(model.parameters(), reference.parameters()):
            close(got.data, want.data, rtol=2e-5, atol=2e-6)


@check
def replicas_that_differ_are_named():
    try:
        dist.assert_replicated({"w": np.ones(3), "b": np.full(2, float(RANK))})
    except AssertionError as e:
        assert "leaf 0 of 2 (float64[2]) differs from rank 0's on rank(s) [1], by up to 1" in str(e), str(e)
    else:
        raise AssertionError("different replicas passed")


@check
def structures_that_differ_are_named():
    try:
        dist.broadcast_parameters([np.ones(3), np.ones((2, 2 + RANK))])
    except ValueError as e:
        assert "leaf 1 of 2 differs between ranks: rank 0 has float64[2, 2], rank 1 has float64[2, 3]" in str(e), str(e)
    else:
        raise AssertionError("no error")


@check
def checkpoints_are_written_by_rank_0_and_read_everywhere():
    folder = dist.mpi().COMM_WORLD.bcast(tempfile.mkdtemp() if RANK == 0 else None)
    mine = os.path.join(folder, f"rank{RANK}.safetensors")
    model = mlp(mg.random.key(5))
    dist.save(mine, {"model": model, "epoch": 3})
    assert os.path.exists(mine) == (RANK == 0), os.listdir(folder)
    # rank 0 reads its file (rank 1 names a path that does not exist on it) and every rank receives it
    loaded = dist.load(mine, like={"model": mlp(mg.random.key(9)), "epoch": 0})
    assert loaded["epoch"] == 3
    for a, b in zip(mg.tree.leaves(loaded["model"]), mg.tree.leaves(model)):
        close(a, b)
    try:
        dist.load(os.path.join(folder, "missing.safetensors"))
    except FileNotFoundError:
        pass
    else:
        raise AssertionError("no FileNotFoundError")
    remove(folder)


@check
def loaders_share_every_batch():
    x, y = np.arange(22.0)[:, None], np.arange(22)
    full = [b.tolist() for _, b in mg.data.DataLoader(x, y, batch_size=6, seed=1)]
    mine = [b.tolist() for _, b in mg.data.DataLoader(x, y, batch_size=6, seed=1, shard=True)]
    everyone = dist.allgather(np.array([len(mine)]))
    assert everyone.tolist() == [[4], [4]], everyone
    ours = [sum(dist.allgather(np.array(sorted(b) + [-1] * (3 - len(b))).reshape(1, 3)).tolist(), []) for b in mine]
    assert [sorted(v for row in o for v in row if v >= 0) for o in ours] == [sorted(b) for b in full], (ours, full)


def write_mnist_subset(folder: str, n_train: int, n_test: int) -> None:
    """The first images of the MNIST files under ``$MICROGRAD_DATA/mnist`` as a smaller MNIST folder."""
    import gzip
    import struct
    source = os.path.join(os.environ.get("MICROGRAD_DATA", ""), "mnist")
    for name, n in (("train-images-idx3-ubyte.gz", n_train), ("train-labels-idx1-ubyte.gz", n_train),
                    ("t10k-images-idx3-ubyte.gz", n_test), ("t10k-labels-idx1-ubyte.gz", n_test)):
        array = mg.data.read_idx(os.path.join(source, name))[:n]
        header = struct.pack(">BBBB", 0, 0, 8, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
        with gzip.open(os.path.join(folder, name), "wb") as f:
            f.write(header + np.ascontiguousarray(array, np.uint8).tobytes())


@check
def the_mnist_example_trains_the_same_model_on_two_ranks():
    import contextlib
    import io
    import runpy
    comm = dist.mpi().COMM_WORLD
    folder = comm.bcast(tempfile.mkdtemp() if RANK == 0 else None)
    if RANK == 0:
        write_mnist_subset(folder, 512, 256)
    dist.barrier()
    example = runpy.run_path(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples",
                                          "mnist.py"), run_name="mnist")
    common = ["--data", folder, "--no-download", "--epochs", "1", "--batch-size", "32", "--no-augment", "--plot", ""]
    one = two = None
    if RANK == 0:  # the reference: one process (rank 1 waits at the barrier)
        with contextlib.redirect_stdout(io.StringIO()):
            one = example["main"](common + ["--save", os.path.join(folder, "one.safetensors")])
    dist.barrier()
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        two = example["main"](common + ["--distributed", "--save", os.path.join(folder, "two.safetensors")])
    assert ("data-parallel on 2 processes" in printed.getvalue()) == (RANK == 0), printed.getvalue()  # rank 0 speaks
    assert os.path.exists(os.path.join(folder, "two.safetensors"))
    if RANK == 0:
        model = example["build_model"](mg.random.key(0))
        like = example["checkpoint"](model, mg.Adam().init(model), 0, [], 16)  # (512 images, batches of 32)
        a, b = (mg.load(os.path.join(folder, f"{run}.safetensors"), like=like) for run in ("one", "two"))
        assert abs(one - two) <= 1 / 256, (one, two)
        assert a["epoch"] == b["epoch"] == 1
        close(a["losses"], b["losses"], rtol=1e-5)
        for x, y in zip(mg.tree.leaves(a["model"]), mg.tree.leaves(b["model"])):
            close(x, y, rtol=1e-4, atol=1e-6)
    remove(folder)


def remove(folder: str) -> None:
    """Rank 0 removes a folder the ranks share, once every rank is done with it."""
    dist.barrier()
    if RANK == 0:
        shutil.rmtree(folder, ignore_errors=True)


def main(names: list[str]) -> int:
    failures = 0
    chosen = [fn for fn in CHECKS if not names or fn.__name__ in names]
    print(f"rank {RANK} runs {len(chosen)} checks", flush=True)
    for fn in chosen:
        start = time.perf_counter()
        try:
            fn()
            print(f"rank {RANK} ok {fn.__name__} ({time.perf_counter() - start:.1f} s)", flush=True)
        except Exception:
            failures += 1
            print(f"rank {RANK} FAIL {fn.__name__}\n{traceback.format_exc()}", flush=True)
    return failures


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
