"""Numerical methods on arrays: finite differences, the trapezoidal rule, polynomials,
convolution, sorted search and linear interpolation, as compositions (slices, gathers and
matrix products), so all are differentiable."""
from __future__ import annotations

import numpy as np

from .. import primitives as P
from ..core.errors import ShapeError, with_location
from ..primitives.indexing import Index
from ._core import ArrayLike, asarray, normalize_axis, promote, promote_float
from .contractions import matmul
from .reductions import sum
from .shape import concatenate, flip, ravel, reshape, take_along
from .ufuncs import greater, less, less_equal, where

__all__ = ["diff", "ediff1d", "gradient", "trapezoid", "polyval", "convolve", "correlate", "searchsorted", "interp"]


def _slice(x, axis: int, start, stop):
    return P.gather(x, index=Index((slice(None),) * axis + (slice(start, stop),)))


def diff(a: ArrayLike, n: int = 1, axis: int = -1, prepend: ArrayLike = None, append: ArrayLike = None) -> ArrayLike:
    """The ``n``-th differences along ``axis``: ``a[1:] - a[:-1]``, ``n`` times.

    >>> diff(np.array([1.0, 4.0, 9.0, 16.0]), n=2)
    array([2., 2.])
    """
    x = asarray(a)
    axis = normalize_axis(axis, x.ndim, "diff")
    parts = []
    for extra in (prepend, append):
        if extra is None:
            parts.append(None)
            continue
        extra = asarray(extra)
        if extra.ndim == 0:
            extra = P.broadcast_to(extra, shape=x.shape[:axis] + (1,) + x.shape[axis + 1:])
        parts.append(extra)
    x = concatenate([p for p in (parts[0], x, parts[1]) if p is not None], axis=axis)
    for _ in range(n):
        length = x.shape[axis]
        x = _slice(x, axis, 1, length) - _slice(x, axis, 0, length - 1)
    return x


def ediff1d(ary: ArrayLike, to_end: ArrayLike = None, to_begin: ArrayLike = None) -> ArrayLike:
    """Differences of the flattened array, with values added at either end.

    >>> ediff1d(np.array([1.0, 2.0, 4.0]), to_end=[9.0])
    array([1., 2., 9.])
    """
    d = diff(ravel(ary))
    parts = [ravel(asarray(v)) for v in (to_begin,) if v is not None] + [d] + \
            [ravel(asarray(v)) for v in (to_end,) if v is not None]
    return concatenate(parts)


def gradient(f: ArrayLike, *varargs, axis=None, edge_order: int = 1):
    """The gradient by central differences inside and one-sided ones at the edges, along each
    axis (or ``axis``), with uniform spacing (one number, or one per axis).

    >>> gradient(np.array([1.0, 2.0, 4.0, 7.0]))
    array([1. , 1.5, 2.5, 3. ])
    """
    x = promote_float(f)[0]
    axes = list(range(x.ndim)) if axis is None else [normalize_axis(a, x.ndim, "gradient") for a in np.atleast_1d(axis)]
    spacings = list(varargs) if varargs else [1.0]
    if len(spacings) == 1:
        spacings = spacings * len(axes)
    if len(spacings) != len(axes) or any(np.ndim(s) != 0 for s in spacings):
        raise NotImplementedError(with_location("gradient: give one uniform spacing (a number), or one per axis"))
    if edge_order != 1:
        raise NotImplementedError(with_location("gradient: only edge_order=1 is supported"))
    results = []
    for ax, h in zip(axes, spacings):
        n = x.shape[ax]
        if n < 2:
            raise ShapeError(with_location(f"gradient: axis {ax} needs at least 2 points, has {n}"))
        first = (_slice(x, ax, 1, 2) - _slice(x, ax, 0, 1)) / h
        last = (_slice(x, ax, n - 1, n) - _slice(x, ax, n - 2, n - 1)) / h
        inner = (_slice(x, ax, 2, n) - _slice(x, ax, 0, n - 2)) / (2 * h)
        results.append(concatenate([first, inner, last], axis=ax))
    return results[0] if len(results) == 1 else results


def trapezoid(y: ArrayLike, x: ArrayLike = None, dx: float = 1.0, axis: int = -1) -> ArrayLike:
    """The integral of ``y`` by the trapezoidal rule (over sample points ``x``, or spacing ``dx``).

    >>> trapezoid(np.array([1.0, 2.0, 3.0]), x=np.array([0.0, 1.0, 3.0]))
    np.float64(6.5)
    """
    y = promote_float(y)[0]
    axis = normalize_axis(axis, y.ndim, "trapezoid")
    n = y.shape[axis]
    widths = dx if x is None else diff(x, axis=-1 if asarray(x).ndim == 1 else axis)
    if x is not None and asarray(x).ndim == 1 and y.ndim > 1:
        widths = reshape(widths, tuple(n - 1 if i == axis else 1 for i in range(y.ndim)))
    return sum((_slice(y, axis, 1, n) + _slice(y, axis, 0, n - 1)) * widths, axis=axis) / 2


def polyval(p: ArrayLike, x: ArrayLike) -> ArrayLike:
    """The polynomial with coefficients ``p`` (highest power first) at ``x``, by Horner's rule.

    >>> polyval(np.array([3.0, 0.0, 1.0]), np.array([5.0]))  # 3x^2 + 1
    array([76.])
    """
    p = asarray(p)
    if p.ndim != 1:
        raise ShapeError(with_location(f"polyval: coefficients must be 1-D, got shape {p.shape}"))
    x = asarray(x)
    result = x * 0 + p[0]
    for i in range(1, p.shape[0]):
        result = result * x + p[i]
    return result


def convolve(a: ArrayLike, v: ArrayLike, mode: str = "full") -> ArrayLike:
    """The discrete convolution of two 1-D arrays (``mode`` 'full', 'same' or 'valid'), as one
    matrix product of shifted copies of ``a`` with ``v``.

    >>> convolve(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 0.5]))
    array([0. , 1. , 2.5, 4. , 1.5])
    """
    a, v = promote(asarray(a), asarray(v))
    if a.ndim != 1 or v.ndim != 1:
        raise ShapeError(with_location(f"convolve: needs two 1-D arrays, got shapes {a.shape} and {v.shape}"))
    if v.shape[0] > a.shape[0]:
        a, v = v, a
    n, m = a.shape[0], v.shape[0]
    if m == 0:
        raise ShapeError(with_location("convolve: an array is empty"))
    padded = concatenate([np.zeros(m - 1, a.dtype), a, np.zeros(m - 1, a.dtype)])
    starts = {"full": 0, "same": (m - 1) // 2, "valid": m - 1}
    if mode not in starts:
        raise ValueError(with_location(f"convolve: mode must be 'full', 'same' or 'valid', got {mode!r}"))
    length = {"full": n + m - 1, "same": n, "valid": n - m + 1}[mode]
    k = np.arange(starts[mode], starts[mode] + length)
    shifted = take_along(padded, k[:, None] + (m - 1) - np.arange(m)[None, :], 0)  # (length, m)
    return matmul(shifted, v)


def correlate(a: ArrayLike, v: ArrayLike, mode: str = "valid") -> ArrayLike:
    """The cross-correlation of two 1-D arrays: ``c[k] = sum(a[n + k] * v[n])``.

    >>> correlate(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 0.5]))
    array([3.5])
    """
    a, v = asarray(a), asarray(v)
    if v.ndim == 1 and a.ndim == 1 and v.shape[0] > a.shape[0]:
        return flip(convolve(flip(a), v, mode))
    return convolve(a, flip(v), mode)


def searchsorted(a: ArrayLike, v: ArrayLike, side: str = "left", sorter=None) -> ArrayLike:
    """Where ``v``'s values would be inserted into the sorted 1-D ``a`` to keep it sorted (by
    comparing with every element: meant for modest sizes); no derivative.

    >>> searchsorted(np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.5]))
    array([1, 2])
    """
    a, v = promote(asarray(a), asarray(v))
    if a.ndim != 1:
        raise ShapeError(with_location(f"searchsorted: needs a 1-D sorted array, got shape {a.shape}"))
    if sorter is not None:
        a = take_along(a, asarray(sorter), 0)
    if side not in ("left", "right"):
        raise ValueError(with_location(f"searchsorted: side must be 'left' or 'right', got {side!r}"))
    expanded = reshape(v, v.shape + (1,))
    before = less(a, expanded) if side == "left" else less_equal(a, expanded)  # the elements that come first
    return sum(P.cast(before, dtype=np.dtype(np.intp)), axis=-1)


def interp(x: ArrayLike, xp: ArrayLike, fp: ArrayLike, left=None, right=None, period=None) -> ArrayLike:
    """Piecewise-linear interpolation of the points (``xp``, ``fp``) at ``x`` (``xp``
    increasing); differentiable in ``x`` and ``fp``.

    >>> interp(np.array([0.5, 2.5, 9.0]), np.array([0.0, 1.0, 3.0]), np.array([0.0, 10.0, 30.0]))
    array([ 5., 25., 30.])
    """
    if period is not None:
        raise NotImplementedError(with_location("interp: period= is not supported"))
    x = promote_float(x)[0]
    xp, fp = promote_float(xp, fp)
    n = xp.shape[0]
    index = P.minimum(P.maximum(searchsorted(xp, x, side="right") - 1, np.zeros((), np.intp)), np.asarray(n - 2, np.intp))
    x0, x1 = take_along(xp, index, 0), take_along(xp, index + 1, 0)
    y0, y1 = take_along(fp, index, 0), take_along(fp, index + 1, 0)
    y = y0 + (x - x0) * (y1 - y0) / (x1 - x0)
    y = where(less(x, xp[0]), fp[0] if left is None else left, y)
    return where(greater(x, xp[n - 1]), fp[n - 1] if right is None else right, y)

