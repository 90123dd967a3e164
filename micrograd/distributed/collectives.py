"""MPI collectives as primitives: each with its shape rule, its NumPy ``impl`` (mpi4py's buffer
calls on contiguous arrays), and its jvp, vjp and batch rules, so that they work eagerly, on
eager tensors, and under ``grad``, ``jvp``, ``vmap`` and ``jit`` (which runs them between its
compiled pieces).

Each primitive takes any number of operands and returns one result per operand: operands of one
dtype travel in one packed buffer, one MPI call for a whole pytree (the data-parallel gradient
average is one allreduce per step). Derivatives treat the job as one function of every rank's
inputs to every rank's outputs, so each vjp is the collective's transpose: the transpose of a
sum over ranks hands every rank the sum of the cotangents.

=====================  ===================================  ====================  =============================
primitive              rank r's result                      jvp                   vjp (the transpose)
=====================  ===================================  ====================  =============================
``allreduce[op=sum]``  ``sum_s x_s``                        ``allreduce(t)``      ``allreduce(ct, sum)``
``allreduce[op=mean]`` ``sum_s x_s / n``                    ``allreduce(t)``      ``allreduce(ct, mean)``
``allreduce[op=max]``  ``max_s x_s`` (ties share)           tangent of the max    cotangent to the max
``allgather``          ``stack(x_0, ..., x_{n-1})``         ``allgather(t)``      ``reduce_scatter(ct)``
``reduce_scatter``     ``sum_s x_s[r]``                     ``reduce_scatter(t)`` ``allgather(ct)``
``bcast[root]``        ``x_root``                           ``bcast(t)``          ``reduce(ct, root)``
``reduce[root]``       ``sum_s x_s`` on root, 0 elsewhere   ``reduce(t)``         ``bcast(ct, root)``
=====================  ===================================  ====================  =============================

>>> import numpy as np
>>> from micrograd.distributed import allreduce
>>> allreduce(np.array([1.0, 2.0]), op="mean")  # one process: the identity
array([1., 2.])
"""
from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import numpy as np

from ..core import tree
from ..core.errors import ShapeError, user_frame_location, with_location
from ..core.ir import Aval
from ..core.primitive import Primitive
from ..primitives.shape import move_axis
from . import runtime
from .runtime import communicator, watched

__all__ = ["allreduce", "allgather", "reduce_scatter", "broadcast", "reduce", "OPS"]

OPS = ("sum", "mean", "max", "min")


# --- shape rules ---------------------------------------------------------------------------------

def _size_of(comm: int | None) -> int:
    c = communicator(comm)
    return 1 if c is None else c.Get_size()


def _allreduce_shape(*xs: Aval, op: str, comm: int | None = None) -> list[Aval]:
    for x in xs:
        if op in ("sum", "mean") and x.dtype == np.bool_:
            raise TypeError(with_location(f"allreduce(op={op!r}) of a bool array: use op='max' (any) or 'min' (all), "
                                          "or cast to int first"))
        if op == "mean" and x.dtype.kind != "f":
            raise TypeError(with_location(f"allreduce(op='mean') averages float arrays, got {x}: use op='sum' for "
                                          "integers, or cast to float first"))
    return [Aval(x.shape, x.dtype) for x in xs]


def _allgather_shape(*xs: Aval, comm: int | None = None) -> list[Aval]:
    n = _size_of(comm)
    return [Aval((n,) + x.shape, x.dtype) for x in xs]


def _reduce_scatter_shape(*xs: Aval, op: str, comm: int | None = None) -> list[Aval]:
    n = _size_of(comm)
    for x in xs:
        if not x.shape or x.shape[0] != n:
            raise ShapeError(with_location(f"reduce_scatter: each operand's first axis must hold one block per rank "
                                           f"({n} ranks), got {x}"))
    _allreduce_shape(*xs, op=op)
    return [Aval(x.shape[1:], x.dtype) for x in xs]


def _rooted_shape(name: str):
    def shape(*xs: Aval, root: int, comm: int | None = None) -> list[Aval]:
        n = _size_of(comm)
        if not 0 <= root < n:
            raise ValueError(with_location(f"{name}: root must be a rank from 0 to {n - 1}, got {root}"))
        if name == "reduce":
            _allreduce_shape(*xs, op="sum")
        return [Aval(x.shape, x.dtype) for x in xs]
    return shape


# --- impls: mpi4py's buffer calls ----------------------------------------------------------------

def _by_dtype(arrays: Sequence[np.ndarray]) -> list[list[int]]:
    """Operand indices grouped by dtype, in order of first appearance (one buffer per group)."""
    groups: dict[np.dtype, list[int]] = {}
    for i, a in enumerate(arrays):
        groups.setdefault(a.dtype, []).append(i)
    return list(groups.values())


def _pack(arrays: Sequence[np.ndarray], rows: int | None = None) -> np.ndarray:
    """One contiguous buffer: the arrays flattened one after another, or with ``rows``, as
    ``(rows, total)`` with each array's row ``r`` in row ``r`` (the blocks reduce_scatter deals)."""
    if rows is None:
        return np.concatenate([a.reshape(-1) for a in arrays])
    return np.concatenate([a.reshape(rows, -1) for a in arrays], axis=1)


def _unpack(buffer: np.ndarray, shapes: Sequence[tuple], lead: tuple = ()) -> list[np.ndarray]:
    """The arrays of ``shapes`` back out of a buffer :func:`_pack` made, with ``lead`` axes in
    front (an allgather's rank axis). Views of the buffer where they are contiguous."""
    out, offset = [], 0
    flat = buffer.reshape(lead + (-1,))
    for shape in shapes:
        size = math.prod(shape)
        part = flat[..., offset:offset + size]
        if lead:  # a block of columns: copied, so that every result is C-contiguous
            part = np.ascontiguousarray(part)
        out.append(part.reshape(lead + tuple(shape)))
        offset += size
    return out


def _mpi_op(op: str, dtype: np.dtype) -> Any:
    MPI = runtime.mpi()
    if dtype == np.bool_:  # (MPI defines MAX and MIN on numbers only)
        return {"max": MPI.LOR, "min": MPI.LAND}[op]
    return {"sum": MPI.SUM, "mean": MPI.SUM, "max": MPI.MAX, "min": MPI.MIN}[op]


def _collective(name: str, run: Callable[[Any, list[np.ndarray]], list[np.ndarray]],
                alone: Callable[[list[np.ndarray]], list[np.ndarray]], params_text: Callable[[dict], str]):
    """An impl: contiguous operands, the debug check, then ``run(comm, arrays of one dtype)`` per
    dtype (``alone(arrays)`` in a job of one process)."""
    def impl(*xs, **params):
        arrays = [np.asarray(x, order="C") for x in xs]  # (ascontiguousarray would make 0-d arrays 1-d)
        comm = communicator(params.get("comm"))
        if comm is None or comm.Get_size() == 1:
            return tuple(alone(arrays, **params))
        if runtime.config.debug:
            runtime.check_agreement(comm, name, params_text(params), arrays, user_frame_location())
        results: list = [None] * len(arrays)
        options = {k: v for k, v in params.items() if k != "comm"}
        with watched(f"{name}{params_text(params)} of {len(arrays)} array(s)"):
            for group in _by_dtype(arrays):
                for i, r in zip(group, run(comm, [arrays[i] for i in group], **options)):
                    results[i] = r
        return tuple(results)
    return impl


def _op_text(params: dict) -> str:
    return f"[op={params['op']}]"


def _root_text(params: dict) -> str:
    return f"[root={params['root']}]"


def _run_allreduce(comm, arrays, op, **_):
    # One new buffer per call, reduced in place, whose views are the results (micrograd keeps freed
    # memory in the process, so the buffer is memory the last step used, which MPI reads fast).
    # A mean over a power of two ranks scales while packing (x / n is then exact for normal numbers,
    # so the sum of the scaled values is the scaled sum), else after the sum.
    n = comm.Get_size()
    scale_first = op == "mean" and n & (n - 1) == 0
    buffer = np.empty(sum(a.size for a in arrays), arrays[0].dtype)
    offset = 0
    for a in arrays:
        part = buffer[offset:offset + a.size].reshape(a.shape)
        if scale_first:
            np.multiply(a, a.dtype.type(1.0 / n), out=part)
        else:
            np.copyto(part, a)
        offset += a.size
    comm.Allreduce(runtime.mpi().IN_PLACE, buffer, op=_mpi_op(op, buffer.dtype))
    if op == "mean" and not scale_first:
        np.divide(buffer, n, out=buffer)
    return _unpack(buffer, [a.shape for a in arrays])


def _run_allgather(comm, arrays, **_):
    n = comm.Get_size()
    if len(arrays) == 1:
        buffer = np.empty((n,) + arrays[0].shape, arrays[0].dtype)
        comm.Allgather(arrays[0], buffer)
        return [buffer]
    send = _pack(arrays)
    buffer = np.empty((n, send.size), send.dtype)
    comm.Allgather(send, buffer)
    return _unpack(buffer, [a.shape for a in arrays], lead=(n,))


def _run_reduce_scatter(comm, arrays, op, **_):
    n = comm.Get_size()
    send = arrays[0] if len(arrays) == 1 else _pack(arrays, rows=n)
    buffer = np.empty(send.shape[1:] if len(arrays) == 1 else (send.shape[1],), send.dtype)
    comm.Reduce_scatter_block(send, buffer, op=_mpi_op(op, buffer.dtype))
    if op == "mean":
        np.divide(buffer, n, out=buffer)
    return [buffer] if len(arrays) == 1 else _unpack(buffer, [a.shape[1:] for a in arrays])


def _run_bcast(comm, arrays, root, **_):
    mine = comm.Get_rank() == root
    if len(arrays) == 1:
        buffer = arrays[0].copy() if mine else np.empty_like(arrays[0])
    else:
        buffer = _pack(arrays) if mine else np.empty(sum(a.size for a in arrays), arrays[0].dtype)
    comm.Bcast(buffer, root=root)
    return [buffer] if len(arrays) == 1 else _unpack(buffer, [a.shape for a in arrays])


def _run_reduce(comm, arrays, root, **_):
    mine = comm.Get_rank() == root
    send = arrays[0] if len(arrays) == 1 else _pack(arrays)
    buffer = np.empty_like(send) if mine else None
    comm.Reduce(send, buffer, op=_mpi_op("sum", send.dtype), root=root)
    if not mine:  # the transpose of a broadcast: ranks other than the root receive nothing, a zero
        buffer = np.zeros_like(send)
    return [buffer] if len(arrays) == 1 else _unpack(buffer, [a.shape for a in arrays])


def _copies(arrays, **_):
    return [a.copy() for a in arrays]


# --- derivative and batch rules --------------------------------------------------------------------

def _place(values: Sequence[Any], where: Sequence[int], count: int) -> list:
    out: list = [None] * count
    for i, v in zip(where, values):
        out[i] = v
    return out


def _linear(prim_of: Callable[[dict], tuple[Primitive, dict]]):
    """A jvp or vjp rule applying a linear collective to the tangents (cotangents) that are not
    zero; which are zero follows from the program's structure, so every rank skips the same ones."""
    def rule(values, outs, *args, **params):
        where = [i for i, v in enumerate(values) if v is not None]
        if not where:
            return [None] * len(values)
        prim, prim_params = prim_of(params)
        return _place(prim(*[values[i] for i in where], **prim_params), where, len(values))
    return rule


def _comm(params: dict) -> dict:
    return {"comm": params["comm"]} if "comm" in params else {}


def _extreme_jvp(tangents, outs, *xs, op, **params):
    """The tangent of a maximum over ranks: the tangent of the rank holding it, or the mean of the
    tangents of the ranks tied for it (as micrograd's max reductions share ties)."""
    from .. import numpy as mnp
    where = [i for i, t in enumerate(tangents) if t is not None]
    masks = [mnp.astype(mnp.equal(xs[i], outs[i]), tangents[i].dtype) for i in where]
    summed = allreduce_p(*[m * tangents[i] for m, i in zip(masks, where)], *masks, op="sum", **_comm(params))
    k = len(where)
    return _place([summed[j] / summed[k + j] for j in range(k)], where, len(tangents))


def _extreme_vjp(cotangents, outs, *xs, op, **params):
    """The transpose of :func:`_extreme_jvp`: the sum of the cotangents over ranks, shared by the
    ranks tied for the extreme."""
    from .. import numpy as mnp
    where = [i for i, c in enumerate(cotangents) if c is not None]
    masks = [mnp.astype(mnp.equal(xs[i], outs[i]), cotangents[i].dtype) for i in where]
    summed = allreduce_p(*[cotangents[i] for i in where], *masks, op="sum", **_comm(params))
    k = len(where)
    return _place([m * (summed[j] / summed[k + j]) for j, m in enumerate(masks)], where, len(cotangents))


def _allreduce_jvp(tangents, outs, *xs, op, **params):
    if op in ("max", "min"):
        return _extreme_jvp(tangents, outs, *xs, op=op, **params)
    return _linear(lambda p: (allreduce_p, dict(op=op, **_comm(p))))(tangents, outs, *xs, **params)


def _allreduce_vjp(cotangents, outs, *xs, op, **params):
    if op in ("max", "min"):
        return _extreme_vjp(cotangents, outs, *xs, op=op, **params)
    return _linear(lambda p: (allreduce_p, dict(op=op, **_comm(p))))(cotangents, outs, *xs, **params)


def _elementwise_batch(prim: Primitive):
    """vmap of a collective that treats every element alike: the batch axes ride along."""
    def batch(args, dims, **params):
        return list(prim(*args, **params)), list(dims)
    return batch


def _allgather_batch(args, dims, **params):
    return list(allgather_p(*args, **params)), [None if d is None else d + 1 for d in dims]


def _reduce_scatter_batch(args, dims, **params):
    # the per-rank blocks stay on axis 0, the batch axis goes after them (and comes out first)
    moved = [a if d is None else move_axis(a, d, 1) for a, d in zip(args, dims)]
    return list(reduce_scatter_p(*moved, **params)), [None if d is None else 0 for d in dims]


# --- the primitives --------------------------------------------------------------------------------
# (Not in micrograd's primitive table, PRIMITIVES: they are an optional extra, and the table's
# tests cover the operations every installation has.)

allreduce_p = Primitive(
    "allreduce", _collective("allreduce", _run_allreduce, _copies, _op_text), _allreduce_shape,
    jvp=_allreduce_jvp, vjp=_allreduce_vjp, multiple_results=True, in_table=False)
allreduce_p.batch = _elementwise_batch(allreduce_p)

allgather_p = Primitive(
    "allgather", _collective("allgather", _run_allgather, lambda arrays, **_: [a[None].copy() for a in arrays],
                             lambda p: ""),
    _allgather_shape, multiple_results=True, in_table=False, batch=_allgather_batch,
    jvp=_linear(lambda p: (allgather_p, _comm(p))),
    vjp=_linear(lambda p: (reduce_scatter_p, dict(op="sum", **_comm(p)))))

reduce_scatter_p = Primitive(
    "reduce_scatter", _collective("reduce_scatter", _run_reduce_scatter, lambda arrays, **_: [a[0].copy() for a in arrays],
                                  _op_text),
    _reduce_scatter_shape, multiple_results=True, in_table=False, batch=_reduce_scatter_batch,
    jvp=_linear(lambda p: (reduce_scatter_p, dict(op=p["op"], **_comm(p)))),
    vjp=None)


def _reduce_scatter_vjp(cotangents, outs, *xs, op, **params):
    gathered = _linear(lambda p: (allgather_p, _comm(p)))(cotangents, outs, *xs, **params)
    if op == "mean":
        n = _size_of(params.get("comm"))
        gathered = [None if g is None else g / n for g in gathered]
    return gathered


reduce_scatter_p.vjp = _reduce_scatter_vjp

bcast_p = Primitive(
    "bcast", _collective("bcast", _run_bcast, _copies, _root_text), _rooted_shape("broadcast"),
    multiple_results=True, in_table=False,
    jvp=_linear(lambda p: (bcast_p, dict(root=p["root"], **_comm(p)))),
    vjp=_linear(lambda p: (reduce_p, dict(root=p["root"], **_comm(p)))))
bcast_p.batch = _elementwise_batch(bcast_p)

reduce_p = Primitive(
    "reduce", _collective("reduce", _run_reduce, _copies, _root_text), _rooted_shape("reduce"),
    multiple_results=True, in_table=False,
    jvp=_linear(lambda p: (reduce_p, dict(root=p["root"], **_comm(p)))),
    vjp=_linear(lambda p: (bcast_p, dict(root=p["root"], **_comm(p)))))
reduce_p.batch = _elementwise_batch(reduce_p)


# --- the functions users call: arrays and pytrees ----------------------------------------------------

def _buckets(leaves: Sequence[Any], bucket_bytes: int | None) -> list[list[int]]:
    """Leaf indices in buckets of one dtype and at most ``bucket_bytes`` (a leaf larger than that
    is a bucket of its own): each bucket is one MPI call on one packed buffer."""
    buckets: list[list[int]] = []
    for group in _by_dtype(leaves):
        current, filled = [], 0
        for i in group:
            nbytes = math.prod(leaves[i].shape) * leaves[i].dtype.itemsize
            if current and bucket_bytes is not None and filled + nbytes > bucket_bytes:
                buckets.append(current)
                current, filled = [], 0
            current.append(i)
            filled += nbytes
        buckets.append(current)
    return buckets


def _leaves(x: Any) -> tuple[list[Any], Any]:
    leaves, treedef = tree.flatten(x)
    return [v if hasattr(v, "shape") and hasattr(v, "dtype") else np.asarray(v) for v in leaves], treedef


def _apply(prim: Primitive, x: Any, params: dict, bucket_bytes: int | None = None) -> Any:
    leaves, treedef = _leaves(x)
    if not leaves:
        return x
    results: list = [None] * len(leaves)
    for bucket in _buckets(leaves, bucket_bytes):
        for i, r in zip(bucket, prim(*[leaves[i] for i in bucket], **params)):
            results[i] = r
    return tree.unflatten(treedef, results)


def _check_op(name: str, op: str, allowed: Sequence[str]) -> None:
    if op not in allowed:
        raise ValueError(f"{name}: op must be one of {', '.join(map(repr, allowed))}, got {op!r}")


def allreduce(x: Any, op: str = "sum", *, comm: Any = None, bucket_bytes: int | None = None) -> Any:
    """The ``op`` ("sum", "mean", "max" or "min") of ``x`` over all ranks, on every rank. ``x``
    is an array or a pytree of them; leaves of one dtype travel in one buffer (several when
    ``bucket_bytes`` bounds a buffer's size). Differentiable: the vjp of a sum is a sum of the
    cotangents over ranks, of a mean their mean; a maximum's derivative goes to the rank that
    holds it (shared among ranks tied for it). With one process, ``x`` itself.

    >>> allreduce({"n": 3, "w": np.ones(2)}, op="sum")  # one process
    {'n': 3, 'w': array([1., 1.])}
    """
    _check_op("allreduce", op, OPS)
    if runtime.size(comm) == 1:
        return x
    return _apply(allreduce_p, x, dict(op=op, **runtime.comm_param(comm)), bucket_bytes)


def allgather(x: Any, *, comm: Any = None) -> Any:
    """Every rank's ``x``, stacked on a new first axis in rank order (``(size, *x.shape)``), on
    every rank; pytrees leaf by leaf. Its vjp is :func:`reduce_scatter` of the cotangent."""
    if runtime.size(comm) == 1:
        from .. import numpy as mnp
        return tree.map(lambda v: mnp.expand_dims(v, 0), x)
    return _apply(allgather_p, x, runtime.comm_param(comm))


def reduce_scatter(x: Any, op: str = "sum", *, comm: Any = None) -> Any:
    """The ``op`` ("sum" or "mean") over ranks of block ``r`` of ``x``, on rank ``r``: ``x`` has
    one block per rank on its first axis (``(size, ...)``) and the result drops that axis.
    Its vjp is :func:`allgather` of the cotangent (divided by the size for "mean")."""
    _check_op("reduce_scatter", op, ("sum", "mean"))
    if runtime.size(comm) == 1:
        def only_block(v):
            if not v.shape or v.shape[0] != 1:
                raise ShapeError(f"reduce_scatter: each operand's first axis must hold one block per rank (1 rank), "
                                 f"got shape {tuple(v.shape)}")
            return v[0]
        return tree.map(only_block, x)
    return _apply(reduce_scatter_p, x, dict(op=op, **runtime.comm_param(comm)))


def broadcast(x: Any, root: int = 0, *, comm: Any = None, bucket_bytes: int | None = None) -> Any:
    """Rank ``root``'s ``x`` on every rank (the other ranks' ``x`` gives only shapes and dtypes).
    Its vjp sums the cotangents of all ranks into rank ``root`` (:func:`reduce`)."""
    if runtime.size(comm) == 1:
        if root != 0:
            raise ValueError(f"broadcast: root must be a rank from 0 to 0, got {root}")
        return x
    return _apply(bcast_p, x, dict(root=int(root), **runtime.comm_param(comm)), bucket_bytes)


def reduce(x: Any, root: int = 0, *, comm: Any = None) -> Any:
    """The sum of ``x`` over ranks on rank ``root``, zeros on the others (the transpose of
    :func:`broadcast`, and its vjp)."""
    if runtime.size(comm) == 1:
        if root != 0:
            raise ValueError(f"reduce: root must be a rank from 0 to 0, got {root}")
        return x
    return _apply(reduce_p, x, dict(root=int(root), **runtime.comm_param(comm)))
