"""The primitive table, one module per family. ``PRIMITIVES`` maps each name to its Primitive.

These are the low-level operations the rest of micrograd is built on. Called directly on
arrays they run their NumPy ``impl`` without the promotion and checks of
:mod:`micrograd.numpy` (operands must already share a dtype and fit each other's shapes; while
tracing, the shape rules check them): write programs with ``micrograd.numpy`` or plain NumPy.
"""
from ..core.primitive import PRIMITIVES, Primitive
from . import elementwise, indexing, linalg, reductions, shape  # (this order: shape needs the others)
from . import convolution
from .elementwise import (abs, acos, acosh, add, asin, asinh, atan, atan2, atanh, cast, cbrt, ceil, copysign,
                          cos, cosh, div, eq, exp, expm1, floor, floor_divide, fmod, ge, gt, hypot, le, log, log1p,
                          logistic, lt, maximum, minimum, mul, ne, neg, pow, pow_scalar, remainder, rint, select,
                          sign, sin, sinh, sqrt, stop_gradient, sub, tanh, trunc)
from .convolution import max_pool, max_pool_gather, max_pool_scatter, unwindows, windows
from .indexing import Index, gather, scatter_add
from .linalg import cholesky, eigh, matmul, qr, slogdet, solve, svd
from .reductions import argmax, argmin, argsort, cumsum, reduce_max, reduce_min, reduce_sum
from .shape import broadcast_to, concatenate, reshape, sum_to, transpose
