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


def _reshape_shape(x, shape):
    if int(np.prod(shape, dtype=np.int64)) != x.size:
        raise ShapeError(with_location(f"reshape: cannot reshape an array of shape {x.shape} into shape {shape}"))
    return Aval(shape, x.dtype)


reshape = Primitive(
    "reshape", lambda x, shape: np.reshape(x, shape), _reshape_shape,
    jvp=(lambda t, out, x, shape: reshape(t, shape=shape),),
    vjp=(lambda ct, out, x, shape: reshape(ct, shape=x.shape),))


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
    vjp=(lambda ct, out, x, shape: sum_to(ct, x.shape),))

transpose = Primitive(
    "transpose", lambda x, perm: np.transpose(x, perm),
    lambda x, perm: Aval(tuple(x.shape[p] for p in perm), x.dtype),
    jvp=(lambda t, out, x, perm: transpose(t, perm=perm),),
    vjp=(lambda ct, out, x, perm: transpose(ct, perm=tuple(np.argsort(perm).tolist())),))


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


concatenate = Primitive(
    "concatenate", lambda *xs, axis: np.concatenate(xs, axis=axis), _concatenate_shape,
    jvp=_concatenate_jvp, vjp=PerOperand(_concatenate_vjp))
