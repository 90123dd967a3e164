"""What every family of :mod:`micrograd.numpy` shares: turning operands into arrays, NumPy's
dtype promotion (Python scalars are weak), and axis arguments."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import primitives as P
from ..core.errors import ShapeError, with_location
from ..core.trace import Tracer

ArrayLike = Any
SCALAR_TYPES = (bool, int, float)


def is_traced(x: Any) -> bool:
    return isinstance(x, Tracer)


def asarray(x: ArrayLike, dtype=None) -> ArrayLike:
    """``x`` as an array (a traced value stays traced), cast to ``dtype`` if given. Nested
    lists and tuples may hold traced values: they are stacked.

    >>> asarray([1, 2], dtype="float32")
    array([1., 2.], dtype=float32)
    """
    if isinstance(x, Tracer):
        return x if dtype is None or x.dtype == np.dtype(dtype) else P.cast(x, dtype=np.dtype(dtype))
    if isinstance(x, (list, tuple)) and _holds_tracer(x):
        return _stack_nested(x, dtype)
    return np.asarray(x, dtype)


def _holds_tracer(x) -> bool:
    return any(isinstance(v, Tracer) or (isinstance(v, (list, tuple)) and _holds_tracer(v)) for v in x)


def _stack_nested(x, dtype):
    """``np.array`` of nested sequences holding traced values: each level is a stack."""
    from .shape import stack
    items = [_stack_nested(v, None) if isinstance(v, (list, tuple)) else asarray(v) for v in x]
    shapes = {tuple(i.shape) for i in items}
    if len(shapes) > 1:
        raise ShapeError(with_location(f"array: the nested sequence is ragged: its items have shapes {sorted(shapes)}"))
    out = stack(items)
    return out if dtype is None else astype(out, dtype)


def cast(x, dtype):
    if isinstance(x, SCALAR_TYPES):
        return np.asarray(x, dtype)
    return x if x.dtype == dtype else P.cast(x, dtype=dtype)


_ARRAYS = (Tracer, np.ndarray, np.generic)
_OPERANDS = _ARRAYS + SCALAR_TYPES


def promote(*xs) -> list:
    """Bring operands to one dtype as NumPy would (Python scalars are weak)."""
    # arrays of one dtype already (the common case, on every eager operation): as they are
    dtype = xs[0].dtype if isinstance(xs[0], _ARRAYS) else None
    for x in xs:
        if not isinstance(x, _ARRAYS) or x.dtype != dtype:
            break
    else:
        return list(xs)
    xs = [x if isinstance(x, _OPERANDS) else asarray(x) for x in xs]
    if all(not isinstance(x, SCALAR_TYPES) and x.dtype == xs[0].dtype for x in xs):
        return xs
    dtype = np.result_type(*(x if isinstance(x, SCALAR_TYPES) else x.dtype for x in xs))
    return [cast(x, dtype) for x in xs]


def promote_float(*xs) -> list:
    """:func:`promote`, then integers and bools become float64 (for functions computing floats)."""
    xs = promote(*xs)
    return xs if xs[0].dtype.kind == "f" else [P.cast(x, dtype=np.dtype(np.float64)) for x in xs]


def astype(x: ArrayLike, dtype) -> ArrayLike:
    """``x`` cast to ``dtype`` (``x.astype(dtype)``).

    >>> astype(np.array([1.7]), np.int64)
    array([1])
    """
    return cast(asarray(x), np.dtype(dtype))


def normalize_axes(axis, ndim: int, op: str) -> tuple[int, ...]:
    """``axis`` (None, an int or a sequence; negative counts from the end) as sorted axes."""
    if axis is None:
        return tuple(range(ndim))
    if type(axis) is int and -ndim <= axis < ndim:  # (the usual case)
        return (axis % ndim,)
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for a in axes:
        if not -ndim <= a < ndim:
            raise ShapeError(with_location(f"{op}: axis {a} is out of range for an array of {ndim} dimensions"))
        out.append(int(a) % ndim if ndim else 0)
    if len(set(out)) != len(out):
        raise ShapeError(with_location(f"{op}: repeated axis in {axis}"))
    return tuple(sorted(out))


def normalize_axis(axis: int, ndim: int, op: str) -> int:
    (axis,) = normalize_axes(axis, ndim, op)
    return axis


def count_all(x) -> int:
    """The number of elements. Not ``x.size``: on an eager tensor that is PyTorch's ``size()``
    method (``labels.size(0)``), not NumPy's count."""
    return math.prod(x.shape)


def count(x, axes) -> int:
    return math.prod(x.shape[a] for a in axes)


def keep_dims(x, r, axes, keepdims: bool):
    """A reduction's result ``r`` with the reduced ``axes`` of ``x`` kept as length 1."""
    if not keepdims:
        return r
    return P.reshape(r, shape=tuple(1 if i in axes else d for i, d in enumerate(x.shape)))


def shape_arg(shape) -> tuple[int, ...]:
    if isinstance(shape, (int, np.integer)) or (isinstance(shape, Tracer) and shape.ndim == 0):
        # int() of a traced size raises TracerConversionError saying sizes must be known while
        # tracing (iterating it would fail with a puzzling "len() of a 0-d traced array")
        return (int(shape),)
    return tuple(int(d) for d in shape)


def zeros_of(x) -> np.ndarray:
    """A 0-d zero of ``x``'s dtype (broadcasts against ``x`` in elementwise primitives)."""
    return np.zeros((), x.dtype)


def full_of(x, value) -> np.ndarray:
    return np.full((), value, x.dtype)
