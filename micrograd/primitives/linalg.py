"""Matrix products. ``matmul`` takes (..., m, k) @ (..., k, n) with equal batch dimensions;
:func:`micrograd.numpy.matmul` reshapes 1-D operands and broadcasts batch dimensions first."""
from __future__ import annotations

import numpy as np

from ..core.errors import ShapeError, with_location
from ..core.ir import Aval
from ..core.primitive import Primitive
from . import shape as _shape


def _swap_last(x):
    perm = tuple(range(x.ndim - 2)) + (x.ndim - 1, x.ndim - 2)
    return _shape.transpose(x, perm=perm)


def _matmul_shape(x, y):
    if x.ndim < 2 or x.ndim != y.ndim or x.shape[:-2] != y.shape[:-2] or x.shape[-1] != y.shape[-2]:
        raise ShapeError(with_location(
            f"matmul: shapes {x.shape} and {y.shape} do not fit: the last axis of the first "
            f"({x.shape[-1] if x.ndim else '-'}) must equal the second-to-last of the second "
            f"({y.shape[-2] if y.ndim >= 2 else '-'})"))
    if x.dtype != y.dtype:
        raise TypeError(f"matmul: operands must share a dtype, got {x.dtype} and {y.dtype}")
    return Aval(x.shape[:-1] + y.shape[-1:], x.dtype)


matmul = Primitive(
    "matmul", np.matmul, _matmul_shape,
    jvp=(lambda t, out, x, y: matmul(t, y), lambda t, out, x, y: matmul(x, t)),
    vjp=(lambda ct, out, x, y: matmul(ct, _swap_last(y)), lambda ct, out, x, y: matmul(_swap_last(x), ct)))


def _matmul_batch(args, dims):
    (x, y), (xd, yd) = args, dims
    if yd is None and y.ndim == 2:  # a batch of (m, k) rows against one matrix: one product
        x = _shape.move_axis(x, xd, 0)
        rows = _shape.reshape(x, shape=(int(np.prod(x.shape[:-1])), x.shape[-1]))
        return _shape.reshape(matmul(rows, y), shape=x.shape[:-1] + y.shape[-1:]), 0
    if xd is None and x.ndim == 2:  # one matrix against a batch of (k, n): fold the batch into columns
        y = _shape.move_axis(y, yd, y.ndim - 2)  # (..., k, B, n) with the batch beside the columns
        cols = _shape.reshape(y, shape=y.shape[:-3] + (y.shape[-3], y.shape[-2] * y.shape[-1]))
        out = matmul(x, cols)
        return _shape.reshape(out, shape=out.shape[:-1] + y.shape[-2:]), x.ndim - 1
    size = _shape.batch_size(args, dims)
    return matmul(_shape.batch_to_front(x, xd, size), _shape.batch_to_front(y, yd, size)), 0


matmul.batch = _matmul_batch
