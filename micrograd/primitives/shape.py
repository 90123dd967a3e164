"""Primitives that move elements without computing: reshape, broadcast_to, transpose and
concatenate. Each is linear, so its jvp applies the primitive itself to the tangent and its vjp
is the reverse movement."""
from __future__ import annotations

import numpy as np

from ..core.errors import ShapeError, with_location
from ..core.ir import Aval
from ..core.primitive import PerOperand, Primitive
from . import indexing as _indexing
from . import reductions as _reductions


def sum_to(x, shape: tuple[int, ...]):
    """Sum ``x`` down to ``shape``, undoing a NumPy broadcast (the vjp of broadcasting)."""
    if x.shape == shape:
        return x
    lead = len(x.shape) - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, d in enumerate(shape) if d == 1 and x.shape[lead + i] != 1)
    if axes:
        x = _reductions.reduce_sum(x, axes=axes)
    return reshape(x, shape=shape) if x.shape != shape else x


def move_axis(x, source: int, destination: int):
    if source == destination:
        return x
    perm = [a for a in range(x.ndim) if a != source]
    perm.insert(destination, source)
    return transpose(x, perm=tuple(perm))


def batch_to_front(x, dim: int | None, size: int):
    """``x`` with its batch axis first; an unbatched ``x`` is repeated ``size`` times."""
    if dim is None:
        return broadcast_to(x, shape=(size,) + x.shape)
    return move_axis(x, dim, 0)


def batch_size(args, dims) -> int:
    return next(a.shape[d] for a, d in zip(args, dims) if d is not None)


def keep_batch_dim(prim):
    """The batch rule of a primitive that acts on each element on its own (one operand)."""
    return lambda args, dims, **params: (prim(args[0], **params), dims[0])


def _reshape_shape(x, shape):
    if int(np.prod(shape, dtype=np.int64)) != x.size:
        raise ShapeError(with_location(f"reshape: cannot reshape an array of shape {x.shape} into shape {shape}"))
    return Aval(shape, x.dtype)


# (the array methods where the operand is an array: NumPy's functions cost several times more in Python)
reshape = Primitive(
    "reshape", lambda x, shape: x.reshape(shape) if type(x) is np.ndarray else np.reshape(x, shape), _reshape_shape,
    jvp=(lambda t, out, x, shape: reshape(t, shape=shape),),
    vjp=(lambda ct, out, x, shape: reshape(ct, shape=x.shape),),
    batch=lambda args, dims, shape: (reshape(move_axis(args[0], dims[0], 0), shape=args[0].shape[dims[0]:][:1] + shape), 0))


def broadcast_batched(x, shape):
    """Broadcast the axes after ``x``'s leading batch axis to ``shape``."""
    aligned = reshape(x, shape=x.shape[:1] + (1,) * (len(shape) - (x.ndim - 1)) + x.shape[1:])
    return broadcast_to(aligned, shape=x.shape[:1] + shape)


def _broadcast_batch(args, dims, shape):
    return broadcast_batched(move_axis(args[0], dims[0], 0), shape), 0


def _broadcast_shape(x, shape):
    try:
        if np.broadcast_shapes(x.shape, shape) == shape:
            return Aval(shape, x.dtype)
    except ValueError:
        pass
    raise ShapeError(with_location(f"broadcast_to: cannot broadcast shape {x.shape} to shape {shape}"))


broadcast_to = Primitive(
    "broadcast_to", lambda x, shape: np.broadcast_to(x, shape), _broadcast_shape,
    jvp=(lambda t, out, x, shape: broadcast_to(t, shape=shape),),
    vjp=(lambda ct, out, x, shape: sum_to(ct, x.shape),),
    batch=_broadcast_batch)

transpose = Primitive(
    "transpose", lambda x, perm: x.transpose(perm) if type(x) is np.ndarray else np.transpose(x, perm),
    lambda x, perm: Aval(tuple(x.shape[p] for p in perm), x.dtype),
    jvp=(lambda t, out, x, perm: transpose(t, perm=perm),),
    vjp=(lambda ct, out, x, perm: transpose(ct, perm=tuple(np.argsort(perm).tolist())),),
    batch=lambda args, dims, perm: (
        transpose(move_axis(args[0], dims[0], 0), perm=(0,) + tuple(p + 1 for p in perm)), 0))


def _concatenate_shape(*xs, axis):
    first = xs[0]
    for x in xs[1:]:
        if x.ndim != first.ndim or any(a != b for i, (a, b) in enumerate(zip(x.shape, first.shape)) if i != axis):
            raise ShapeError(with_location(
                f"concatenate: shapes {first.shape} and {x.shape} differ outside axis {axis}"))
        if x.dtype != first.dtype:
            raise TypeError(f"concatenate: operands must share a dtype, got {first.dtype} and {x.dtype}")
    size = sum(x.shape[axis] for x in xs)
    return Aval(first.shape[:axis] + (size,) + first.shape[axis + 1:], first.dtype)


def _concatenate_jvp(tangents, out, *xs, axis):
    return concatenate(*(np.zeros(x.shape, out.dtype) if t is None else t for t, x in zip(tangents, xs)), axis=axis)


def _concatenate_vjp(i):
    def vjp(ct, out, *xs, axis):
        start = sum(x.shape[axis] for x in xs[:i])
        index = (slice(None),) * axis + (slice(start, start + xs[i].shape[axis]),)
        return _indexing.gather(ct, index=_indexing.Index(index))
    return vjp


def _concatenate_batch(xs, dims, axis):
    size = batch_size(xs, dims)
    return concatenate(*(batch_to_front(x, d, size) for x, d in zip(xs, dims)), axis=axis + 1), 0


concatenate = Primitive(
    "concatenate", lambda *xs, axis: np.concatenate(xs, axis=axis), _concatenate_shape,
    jvp=_concatenate_jvp, vjp=PerOperand(_concatenate_vjp), batch=_concatenate_batch)
