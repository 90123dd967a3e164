"""Making arrays: constants (plain NumPy arrays: they never depend on traced values), and
``array``/``asarray``, which stack nested sequences holding traced values; ``full`` and
``linspace`` with traced values are differentiable in them."""
from __future__ import annotations

import numpy as np

from ._core import ArrayLike, asarray, astype, promote_float
from .shape import broadcast_to, reshape

__all__ = ["array", "asarray", "astype", "copy", "zeros", "ones", "full", "empty", "zeros_like", "ones_like",
           "full_like", "empty_like", "linspace", "arange", "eye", "identity", "tri",
           "pi", "e", "inf", "nan", "newaxis", "euler_gamma"]

pi, e, inf, nan, newaxis, euler_gamma = np.pi, np.e, np.inf, np.nan, None, np.euler_gamma


def array(obj: ArrayLike, dtype=None, copy: bool = True, ndmin: int = 0) -> ArrayLike:
    """An array from ``obj``: nested lists and tuples may hold traced values, which are stacked
    (plain ``np.array`` cannot see them: NumPy does not dispatch its call).

    >>> import micrograd as mg
    >>> mg.grad(lambda x: array([x[0] * 2, x[1]]).sum())(np.array([1.0, 1.0]))
    array([2., 1.])
    """
    x = asarray(obj, dtype)
    if not isinstance(x, np.ndarray) or not copy:
        return reshape(x, (1,) * (ndmin - x.ndim) + x.shape) if x.ndim < ndmin else x
    return np.array(x, ndmin=ndmin)


def copy(a: ArrayLike) -> ArrayLike:
    """A copy of ``a`` (a traced value is never written into, so it is itself).

    >>> copy(np.array([1.0]))
    array([1.])
    """
    x = asarray(a)
    return x.copy() if isinstance(x, np.ndarray) else x


def _shape_of(x) -> tuple:
    return np.shape(x) if not hasattr(x, "aval") else x.shape


def zeros(shape, dtype=np.float64) -> np.ndarray:
    """An array of zeros. ``zeros((2,))`` -> ``array([0., 0.])``."""
    return np.zeros(shape, dtype)


def ones(shape, dtype=np.float64) -> np.ndarray:
    """An array of ones. ``ones((2,))`` -> ``array([1., 1.])``."""
    return np.ones(shape, dtype)


empty = zeros


def full(shape, fill_value: ArrayLike, dtype=None) -> ArrayLike:
    """An array filled with ``fill_value`` (a traced value broadcasts, differentiably).
    ``full(2, 7.0)`` -> ``array([7., 7.])``."""
    if hasattr(fill_value, "aval") and not isinstance(fill_value, np.ndarray):
        return broadcast_to(asarray(fill_value, dtype), (shape,) if isinstance(shape, int) else tuple(shape))
    return np.full(shape, fill_value, dtype)


def zeros_like(x: ArrayLike, dtype=None) -> np.ndarray:
    """Zeros of ``x``'s shape and dtype. ``zeros_like(np.ones(2))`` -> ``array([0., 0.])``."""
    return np.zeros(_shape_of(x), dtype or asarray(x).dtype)


def ones_like(x: ArrayLike, dtype=None) -> np.ndarray:
    """Ones of ``x``'s shape and dtype. ``ones_like(np.zeros(2))`` -> ``array([1., 1.])``."""
    return np.ones(_shape_of(x), dtype or asarray(x).dtype)


empty_like = zeros_like


def full_like(x: ArrayLike, fill_value, dtype=None) -> ArrayLike:
    """``fill_value`` in ``x``'s shape and dtype. ``full_like(np.zeros(2), 3.0)`` -> ``array([3., 3.])``."""
    return full(_shape_of(x), astype(fill_value, dtype or asarray(x).dtype) if hasattr(fill_value, "aval")
                else fill_value, dtype or asarray(x).dtype)


def linspace(start: ArrayLike, stop: ArrayLike, num: int = 50, endpoint: bool = True, retstep: bool = False,
             dtype=None, axis: int = 0) -> ArrayLike:
    """``num`` evenly spaced numbers from ``start`` to ``stop`` (traced ends are differentiable).
    ``linspace(0, 1, 3)`` -> ``array([0. , 0.5, 1. ])``."""
    if not any(hasattr(v, "aval") and not isinstance(v, np.ndarray) for v in (start, stop)):
        return np.linspace(start, stop, num, endpoint=endpoint, retstep=retstep, dtype=dtype, axis=axis)
    start, stop = promote_float(start, stop)
    div = (num - 1) if endpoint else num
    fractions = np.arange(num, dtype=start.dtype) / (div if div > 0 else 1)
    ndim = max(start.ndim, stop.ndim)
    fractions = fractions.reshape((num,) + (1,) * ndim)
    step = (stop - start) / (div if div > 0 else 1)
    values = start + (stop - start) * fractions
    if axis != 0:
        from .shape import moveaxis
        values = moveaxis(values, 0, axis)
    values = values if dtype is None else astype(values, dtype)
    return (values, step) if retstep else values


def arange(*args, dtype=None) -> np.ndarray:
    """Evenly spaced values in a half-open interval. ``arange(3)`` -> ``array([0, 1, 2])``."""
    return np.arange(*args, dtype=dtype)


def eye(n: int, m: int | None = None, k: int = 0, dtype=np.float64) -> np.ndarray:
    """The identity matrix. ``eye(2)`` -> ``array([[1., 0.], [0., 1.]])``."""
    return np.eye(n, m, k, dtype=dtype)


def identity(n: int, dtype=np.float64) -> np.ndarray:
    """The ``n`` x ``n`` identity. ``identity(2)`` -> ``array([[1., 0.], [0., 1.]])``."""
    return np.identity(n, dtype=dtype)


def tri(n: int, m: int | None = None, k: int = 0, dtype=np.float64) -> np.ndarray:
    """Ones at and below the ``k``-th diagonal. ``tri(2)`` -> ``array([[1., 0.], [1., 1.]])``."""
    return np.tri(n, m, k, dtype=dtype)
