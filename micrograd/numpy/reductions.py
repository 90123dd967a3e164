"""Reductions, running (cumulative) operations, sorting and statistics.

``prod`` and ``cumprod`` are trees of multiplications (a balanced tree, and a Hillis-Steele
scan), so their derivatives are right with zeros in the input, to any order; ``sort`` is a
gather at ``argsort``'s positions, so its derivative flows back to where each element came
from; ``median`` and ``quantile`` interpolate between sorted values.
"""
from __future__ import annotations

import builtins
import functools

import numpy as np

from .. import primitives as P
from ..core.errors import ShapeError, with_location
from ..core.trace import Tracer
from ._core import (ArrayLike, asarray, astype, cast, count, count_all, keep_dims, normalize_axes, normalize_axis,
                    promote_float)
from .ufuncs import ceil, clip, equal, exp, floor, greater, isnan, log, rint, sqrt, stop_gradient, where

__all__ = [
    "sum", "prod", "mean", "average", "var", "std", "max", "min", "amax", "amin", "ptp", "argmax", "argmin",
    "nansum", "nanmean", "cumsum", "cumprod", "sort", "argsort", "partition", "argpartition", "median", "quantile", "percentile",
    "all", "any", "count_nonzero", "cov", "corrcoef", "logsumexp", "softmax", "log_softmax", "one_hot",
    "nanmax", "nanmin", "nanprod", "nanvar", "nanstd",
]


def accepts_dim(fn):
    """Let a reduction take PyTorch's spelling too: ``dim=`` for ``axis=``, ``keepdim=`` for
    ``keepdims=`` (the tutorial writes ``mg.argmax(predictions, dim=1)``)."""
    @functools.wraps(fn)
    def reduction(*args, dim=None, keepdim=None, **kwargs):
        if dim is not None:
            kwargs["axis"] = dim
        if keepdim is not None:
            kwargs["keepdims"] = keepdim
        return fn(*args, **kwargs)
    return reduction


def _flat(x, axis):
    """(x, axis) with ``axis=None`` meaning the flattened array, as NumPy's scans and sorts do."""
    x = asarray(x)
    if axis is None:
        return P.reshape(x, shape=(count_all(x),)), 0
    return x, normalize_axis(axis, x.ndim, "axis")


@accepts_dim
def sum(x: ArrayLike, axis=None, keepdims: bool = False, dtype=None) -> ArrayLike:  # noqa: A001
    """Sum over ``axis`` (all axes by default).

    >>> sum(np.array([[1.0, 2.0], [3.0, 4.0]]), axis=0)
    array([4., 6.])
    """
    x = asarray(x, dtype)
    if x.dtype.kind == "b":
        x = cast(x, np.dtype(np.int64))
    axes = normalize_axes(axis, x.ndim, "sum")
    return keep_dims(x, P.reduce_sum(x, axes=axes), axes, keepdims)


@accepts_dim
def prod(x: ArrayLike, axis=None, keepdims: bool = False, dtype=None) -> ArrayLike:
    """Product over ``axis``, as a balanced tree of multiplications: the derivative with
    respect to an element is the product of the others, zeros included.

    >>> prod(np.array([[1.0, 2.0], [3.0, 4.0]]), axis=1)
    array([ 2., 12.])
    """
    x = asarray(x, dtype)
    if x.dtype == np.bool_:
        x = cast(x, np.dtype(np.int64))
    axes = normalize_axes(axis, x.ndim, "prod")
    kept = [i for i in range(x.ndim) if i not in axes]
    rest = tuple(x.shape[i] for i in kept)
    n = count(x, axes)
    if n == 0:
        return keep_dims(x, np.ones(rest, x.dtype), axes, keepdims)
    y = x if list(axes) + kept == list(range(x.ndim)) else P.transpose(x, perm=tuple(axes) + tuple(kept))
    y = P.reshape(y, shape=(n,) + rest)
    while y.shape[0] > 1:
        if y.shape[0] % 2:
            y = P.concatenate(y, np.ones((1,) + rest, x.dtype), axis=0)
        half = y.shape[0] // 2
        y = _take_slice(y, 0, 2 * half, 2) * _take_slice(y, 1, 2 * half, 2)
    return keep_dims(x, P.reshape(y, shape=rest), axes, keepdims)


def _take_slice(x, start, stop, step):
    from ..primitives.indexing import Index
    return P.gather(x, index=Index([slice(start, stop, step)]))


@accepts_dim
def mean(x: ArrayLike, axis=None, keepdims: bool = False, dtype=None) -> ArrayLike:
    """Mean over ``axis``; integer inputs give float64, as in NumPy.

    >>> mean(np.array([1, 2, 3, 4]))
    np.float64(2.5)
    """
    x = promote_float(asarray(x, dtype))[0]
    axes = normalize_axes(axis, x.ndim, "mean")
    return sum(x, axis=axes, keepdims=keepdims) / count(x, axes)


def average(a: ArrayLike, axis=None, weights: ArrayLike = None, returned: bool = False,
            keepdims: bool = False) -> ArrayLike:
    """The mean of ``a`` along ``axis``, weighted by ``weights`` (of ``a``'s shape, or 1-D along
    one ``axis``); with ``returned``, also the sum of the weights.

    >>> average(np.array([1.0, 2.0, 4.0]), weights=np.array([3.0, 1.0, 0.0]))
    np.float64(1.25)
    """
    a = promote_float(a)[0]
    if weights is None:
        avg = mean(a, axis=axis, keepdims=keepdims)
        return (avg, np.full(np.shape(avg), count(a, normalize_axes(axis, a.ndim, "average")), a.dtype)) if returned else avg
    a, w = promote_float(a, weights)
    if w.shape != a.shape:
        if axis is None or w.ndim != 1:
            raise ShapeError(with_location(f"average: weights of shape {w.shape} differ from the array's {a.shape}: "
                                           "give 1-D weights with one axis"))
        ax = normalize_axis(axis, a.ndim, "average")
        if w.shape[0] != a.shape[ax]:
            raise ShapeError(with_location(f"average: {w.shape[0]} weights for an axis of length {a.shape[ax]}"))
        w = P.reshape(w, shape=tuple(a.shape[ax] if i == ax else 1 for i in range(a.ndim)))
    total = sum(w, axis=axis, keepdims=keepdims)
    avg = sum(a * w, axis=axis, keepdims=keepdims) / total
    if returned and total.shape != avg.shape:
        total = P.broadcast_to(total, shape=avg.shape)
    return (avg, total) if returned else avg


@accepts_dim
def var(x: ArrayLike, axis=None, keepdims: bool = False, ddof: int = 0, dtype=None) -> ArrayLike:
    """Variance over ``axis`` with ``ddof`` degrees of freedom removed.

    >>> var(np.array([1.0, 2.0, 3.0, 4.0]))
    np.float64(1.25)
    """
    x = promote_float(asarray(x, dtype))[0]
    axes = normalize_axes(axis, x.ndim, "var")
    d = x - mean(x, axis=axes, keepdims=True)
    return sum(d * d, axis=axes, keepdims=keepdims) / (count(x, axes) - ddof)


@accepts_dim
def std(x: ArrayLike, axis=None, keepdims: bool = False, ddof: int = 0, dtype=None) -> ArrayLike:
    """Standard deviation over ``axis``.

    >>> std(np.array([1.0, 3.0]))
    np.float64(1.0)
    """
    return sqrt(var(x, axis=axis, keepdims=keepdims, ddof=ddof, dtype=dtype))


def _extremum(prim, name):
    @accepts_dim
    def fn(x: ArrayLike, axis=None, keepdims: bool = False) -> ArrayLike:
        x = asarray(x)
        axes = normalize_axes(axis, x.ndim, name)
        if builtins.any(x.shape[a] == 0 for a in axes):
            raise ShapeError(with_location(f"{name}: reduction over an empty axis of an array of shape {x.shape}"))
        return keep_dims(x, prim(x, axes=axes), axes, keepdims)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"``{name}`` over ``axis``; tied elements share the derivative equally.\n\n"
                  f">>> {name}(np.array([[1.0, 5.0], [7.0, 2.0]]), axis=1)\n"
                  f"array([{'5., 7.' if name == 'max' else '1., 2.'}])")
    return fn


max = amax = _extremum(P.reduce_max, "max")  # noqa: A001
min = amin = _extremum(P.reduce_min, "min")  # noqa: A001


@accepts_dim
def ptp(x: ArrayLike, axis=None, keepdims: bool = False) -> ArrayLike:
    """The range, ``max - min``, over ``axis``.

    >>> ptp(np.array([[4.0, 9.0, 2.0], [1.0, 1.0, 5.0]]), axis=1)
    array([7., 4.])
    """
    return max(x, axis=axis, keepdims=keepdims) - min(x, axis=axis, keepdims=keepdims)


def _arg_extremum(prim, name):
    @accepts_dim
    def fn(x: ArrayLike, axis: int | None = None, keepdims: bool = False) -> ArrayLike:
        x = asarray(x)
        if axis is None:
            x, axis = P.reshape(x, shape=(count_all(x),)), 0
        axis = normalize_axis(axis, x.ndim, name)
        return keep_dims(x, prim(x, axis=axis), (axis,), keepdims)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"Index of the {name[3:]} along ``axis`` (of the flattened array by default).\n\n"
                  f">>> {name}(np.array([3.0, 9.0, 1.0]))\nnp.int64({1 if name == 'argmax' else 2})")
    return fn


argmax = _arg_extremum(P.argmax, "argmax")
argmin = _arg_extremum(P.argmin, "argmin")


def nansum(x: ArrayLike, axis=None, keepdims: bool = False) -> ArrayLike:
    """Sum over ``axis`` treating NaN as zero.

    >>> nansum(np.array([1.0, np.nan, 2.0]))
    np.float64(3.0)
    """
    x = asarray(x)
    return sum(where(isnan(x), 0, x), axis=axis, keepdims=keepdims)


def nanmean(x: ArrayLike, axis=None, keepdims: bool = False) -> ArrayLike:
    """Mean over ``axis`` of the values that are not NaN.

    >>> nanmean(np.array([1.0, np.nan, 2.0]))
    np.float64(1.5)
    """
    x = promote_float(x)[0]
    present = P.cast(P.eq(x, x), dtype=x.dtype)
    return nansum(x, axis=axis, keepdims=keepdims) / sum(present, axis=axis, keepdims=keepdims)


# --- running operations ---------------------------------------------------------------------------

@accepts_dim
def cumsum(x: ArrayLike, axis: int | None = None, dtype=None) -> ArrayLike:
    """Running sum along ``axis`` (of the flattened array by default).

    >>> cumsum(np.array([1.0, 2.0, 3.0]))
    array([1., 3., 6.])
    """
    x, axis = _flat(asarray(x, dtype), axis)
    if x.dtype == np.bool_:
        x = cast(x, np.dtype(np.int64))
    return P.cumsum(x, axis=axis, reverse=False)


@accepts_dim
def cumprod(x: ArrayLike, axis: int | None = None, dtype=None) -> ArrayLike:
    """Running product along ``axis``, as log2(n) rounds of multiplications (a Hillis-Steele
    scan): the derivative is right with zeros in the input.

    >>> cumprod(np.array([1.0, 2.0, 3.0, 0.0, 5.0]))
    array([1., 2., 6., 0., 0.])
    """
    x, axis = _flat(asarray(x, dtype), axis)
    if x.dtype == np.bool_:
        x = cast(x, np.dtype(np.int64))
    return associative_scan(P.mul, x, axis, 1)


# --- sorting and order statistics ---------------------------------------------------------------------

def argsort(x: ArrayLike, axis: int | None = -1, kind: str | None = None, order=None, *,
            stable: bool | None = None) -> ArrayLike:
    """The indices that sort ``x`` along ``axis`` (NaN last); no derivative.

    >>> argsort(np.array([3.0, 1.0, 2.0]))
    array([1, 2, 0])
    """
    if order is not None:
        raise NotImplementedError(with_location("argsort: order= (structured arrays) is not supported"))
    x, axis = _flat(x, axis)
    return P.argsort(x, axis=axis, stable=bool(stable) or kind in ("stable", "mergesort"))


def take_sorted(x, indices, axis: int):
    from .indexing import take_along_axis
    return take_along_axis(x, indices, axis)


def sort(x: ArrayLike, axis: int | None = -1, kind: str | None = None, order=None, *,
         stable: bool | None = None) -> ArrayLike:
    """``x`` sorted along ``axis`` (NaN last). Each element's derivative goes back to the place
    it came from.

    >>> sort(np.array([3.0, 1.0, 2.0]))
    array([1., 2., 3.])
    """
    x, axis = _flat(x, axis)
    return take_sorted(x, argsort(x, axis, kind, order, stable=stable), axis)


def argpartition(a: ArrayLike, kth, axis: int | None = -1, kind: str = "introselect", order=None) -> ArrayLike:
    """Indices that put the ``kth`` element in its sorted place, smaller ones before and larger
    after (a full ``argsort`` does); no derivative.

    >>> argpartition(np.array([3.0, 1.0, 2.0]), 1)[1]
    np.int64(2)
    """
    return argsort(a, axis, order=order)


def partition(a: ArrayLike, kth, axis: int | None = -1, kind: str = "introselect", order=None) -> ArrayLike:
    """``a`` with the ``kth`` element in its sorted place (a full sort).

    >>> partition(np.array([3.0, 1.0, 2.0]), 1)
    array([1., 2., 3.])
    """
    return sort(a, axis, order=order)


_QUANTILE_METHODS = ("linear", "lower", "higher", "nearest", "midpoint")


def quantile(a: ArrayLike, q: ArrayLike, axis=None, out=None, overwrite_input: bool = False,
             method: str = "linear", keepdims: bool = False) -> ArrayLike:
    """The ``q``-th quantiles of ``a`` along ``axis`` (``q`` in [0, 1]; its axes come first in the
    result, as in NumPy), interpolating between sorted values as ``method`` says.

    >>> quantile(np.array([4.0, 1.0, 3.0, 2.0]), 0.5)
    np.float64(2.5)
    >>> quantile(np.array([4.0, 1.0, 3.0, 2.0]), [0.0, 1.0])
    array([1., 4.])
    """
    if out is not None:
        raise TypeError(with_location("quantile: out= is not supported (micrograd never writes into arrays)"))
    if method not in _QUANTILE_METHODS:
        raise ValueError(with_location(f"quantile: method {method!r} is not one of {_QUANTILE_METHODS}"))
    a = promote_float(a)[0]
    original_shape, reduced = a.shape, normalize_axes(axis, a.ndim, "quantile")
    kept = [i for i in range(a.ndim) if i not in reduced]
    if list(reduced) != list(range(a.ndim - len(reduced), a.ndim)):
        a = P.transpose(a, perm=tuple(kept) + tuple(reduced))
    n = count(a, range(len(kept), a.ndim))
    a = P.reshape(a, shape=a.shape[:len(kept)] + (n,))  # the reduced axes, as one last axis
    if n == 0:
        raise ShapeError(with_location("quantile of an empty array"))
    ordered = sort(a, axis=-1)
    q = q if isinstance(q, Tracer) else np.asarray(q, a.dtype)
    position = q * (n - 1)
    lower = rint(position) if method == "nearest" else floor(position)
    upper = ceil(position)
    low = _take_last(ordered, P.cast(clip(lower, 0, n - 1), dtype=np.dtype(np.intp)))
    high = _take_last(ordered, P.cast(clip(upper, 0, n - 1), dtype=np.dtype(np.intp)))
    if method in ("lower", "nearest"):
        result = low
    elif method == "higher":
        result = high
    elif method == "midpoint":
        result = (low + high) * 0.5
    else:
        fraction = P.reshape(astype(position - lower, a.dtype), shape=np.shape(q) + (1,) * (a.ndim - 1))
        result = low + (high - low) * fraction
    if keepdims:
        result = P.reshape(result, shape=np.shape(q) + tuple(1 if i in reduced else d for i, d in enumerate(original_shape)))
    return result


def _take_last(x, index):
    """x[..., index] for an index array (or scalar) along the last axis, the index's axes first."""
    from ..primitives.indexing import Index
    index_ndim = np.ndim(index)
    taken = P.gather(x, index, index=Index([Ellipsis, Index.ARRAY]))  # (..., *index.shape)
    if index_ndim == 0:
        return taken
    rest = x.ndim - 1
    return P.transpose(taken, perm=tuple(range(rest, rest + index_ndim)) + tuple(range(rest)))


def percentile(a: ArrayLike, q: ArrayLike, axis=None, out=None, overwrite_input: bool = False,
               method: str = "linear", keepdims: bool = False) -> ArrayLike:
    """The ``q``-th percentiles (``q`` in [0, 100]); see :func:`quantile`.

    >>> percentile(np.array([1.0, 2.0, 3.0, 4.0, 5.0]), 25)
    np.float64(2.0)
    """
    q = q / 100 if isinstance(q, Tracer) else np.asarray(q, np.float64) / 100
    return quantile(a, q, axis=axis, out=out, method=method, keepdims=keepdims)


def median(a: ArrayLike, axis=None, out=None, overwrite_input: bool = False, keepdims: bool = False) -> ArrayLike:
    """The median along ``axis`` (the mean of the two middle values for an even count).

    >>> median(np.array([[10.0, 7.0, 4.0], [3.0, 2.0, 1.0]]), axis=1)
    array([7., 2.])
    """
    return quantile(a, 0.5, axis=axis, out=out, keepdims=keepdims)


# --- logic ------------------------------------------------------------------------------------------

def _count_true(x, axis, keepdims):
    x = asarray(x)
    truth = x if x.dtype == np.bool_ else P.ne(x, np.zeros((), x.dtype))
    return sum(P.cast(truth, dtype=np.dtype(np.int64)), axis=axis, keepdims=keepdims), truth


@accepts_dim
def all(x: ArrayLike, axis=None, keepdims: bool = False) -> ArrayLike:  # noqa: A001
    """Whether every element along ``axis`` is true (nonzero).

    >>> all(np.array([[1.0, 0.0], [2.0, 3.0]]), axis=1)
    array([False,  True])
    """
    counted, truth = _count_true(x, axis, keepdims)
    axes = normalize_axes(axis, truth.ndim, "all")
    return equal(counted, count(truth, axes))


@accepts_dim
def any(x: ArrayLike, axis=None, keepdims: bool = False) -> ArrayLike:  # noqa: A001
    """Whether some element along ``axis`` is true (nonzero).

    >>> any(np.array([[1.0, 0.0], [0.0, 0.0]]), axis=1)
    array([ True, False])
    """
    return greater(_count_true(x, axis, keepdims)[0], 0)


def count_nonzero(x: ArrayLike, axis=None, *, keepdims: bool = False) -> ArrayLike:
    """The number of nonzero elements along ``axis``.

    >>> count_nonzero(np.array([[0.0, 1.0], [2.0, 3.0]]), axis=0)
    array([1, 2])
    """
    return _count_true(x, axis, keepdims)[0]


# --- statistics -----------------------------------------------------------------------------------

def cov(m: ArrayLike, y: ArrayLike = None, rowvar: bool = True, bias: bool = False, ddof: int | None = None,
        fweights: ArrayLike = None, aweights: ArrayLike = None, *, dtype=None) -> ArrayLike:
    """The covariance matrix of the variables in the rows of ``m`` (columns with
    ``rowvar=False``), and of ``y``'s; normalized by N - 1 (N with ``bias``, N - ``ddof``).

    >>> cov(np.array([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]]))
    array([[ 1., -1.],
           [-1.,  1.]])
    """
    from .shape import atleast_2d, concatenate
    if fweights is not None or aweights is not None:
        raise NotImplementedError(with_location("cov: fweights= and aweights= are not supported"))
    x = atleast_2d(promote_float(asarray(m, dtype))[0])
    if not rowvar and x.shape[0] != 1:
        x = P.transpose(x, perm=(1, 0))
    if y is not None:
        y = atleast_2d(promote_float(asarray(y, dtype))[0])
        if not rowvar and y.shape[0] != 1:
            y = P.transpose(y, perm=(1, 0))
        x = concatenate([x, y], axis=0)
    ddof = (0 if bias else 1) if ddof is None else ddof
    n = x.shape[1]
    centered = x - mean(x, axis=1, keepdims=True)
    from .contractions import matmul
    c = matmul(centered, P.transpose(centered, perm=(1, 0))) / (n - ddof)
    return P.reshape(c, shape=()) if c.shape == (1, 1) else c


def corrcoef(x: ArrayLike, y: ArrayLike = None, rowvar: bool = True, *, dtype=None) -> ArrayLike:
    """Pearson correlation coefficients: the covariance matrix scaled to a unit diagonal.

    >>> corrcoef(np.array([[0.0, 1.0, 2.0], [0.0, 2.0, 4.0]]))
    array([[1., 1.],
           [1., 1.]])
    """
    c = cov(x, y, rowvar, dtype=dtype)
    if c.ndim == 0:
        return c / c
    d = sqrt(P.reduce_sum(c * np.eye(c.shape[0], dtype=c.dtype), axes=(1,)))
    c = c / P.reshape(d, shape=(d.shape[0], 1)) / P.reshape(d, shape=(1, d.shape[0]))
    return clip(c, -1, 1)


# --- neural-network reductions (also in micrograd.nn.functional) -----------------------------------

@accepts_dim
def logsumexp(x: ArrayLike, axis=None, keepdims: bool = False) -> ArrayLike:
    """``log(sum(exp(x)))`` over ``axis``, computed without overflow.

    >>> logsumexp(np.array([1000.0, 1000.0])) - 1000.0  # log(2)
    np.float64(0.69314718055...)
    """
    x = promote_float(x)[0]
    axes = normalize_axes(axis, x.ndim, "logsumexp")
    shift = stop_gradient(max(x, axis=axes, keepdims=True))
    shift = where(equal(shift, -np.inf), 0.0, shift)  # all -inf: the answer is -inf, not nan
    out = log(sum(exp(x - shift), axis=axes, keepdims=True)) + shift
    return out if keepdims else P.reshape(out, shape=tuple(d for i, d in enumerate(x.shape) if i not in axes))


@accepts_dim
def softmax(x: ArrayLike, axis: int = -1) -> ArrayLike:
    """``exp(x) / sum(exp(x))`` along ``axis``, shifted by the maximum so it cannot overflow.

    >>> softmax(np.array([0.0, np.log(3.0)]))
    array([0.25, 0.75])
    """
    x = promote_float(x)[0]
    e = exp(x - stop_gradient(max(x, axis=axis, keepdims=True)))
    return e / sum(e, axis=axis, keepdims=True)


@accepts_dim
def log_softmax(x: ArrayLike, axis: int = -1) -> ArrayLike:
    """``log(softmax(x))`` along ``axis``, computed stably.

    >>> np.round(np.exp(log_softmax(np.array([0.0, np.log(3.0)]))), 6)
    array([0.25, 0.75])
    """
    x = promote_float(x)[0]
    shifted = x - stop_gradient(max(x, axis=axis, keepdims=True))
    return shifted - log(sum(exp(shifted), axis=axis, keepdims=True))


def one_hot(labels: ArrayLike, num_classes: int, dtype=np.float64) -> ArrayLike:
    """Integer labels as one-hot rows of ``num_classes`` entries.

    >>> one_hot(np.array([2, 0]), 3)
    array([[0., 0., 1.],
           [1., 0., 0.]])
    """
    labels = asarray(labels)
    expanded = P.reshape(labels, shape=labels.shape + (1,))
    return astype(equal(expanded, np.arange(num_classes, dtype=labels.dtype)), dtype)


def _nan_reduction(reduce, fill, name: str):
    def fn(x: ArrayLike, axis=None, keepdims: bool = False) -> ArrayLike:
        x = promote_float(x)[0]
        return reduce(where(isnan(x), fill, x), axis=axis, keepdims=keepdims)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"``{name[3:]}`` over ``axis`` ignoring NaN.\n\n"
                  f">>> float({name}(np.array([1.0, np.nan, 3.0])))\n{ {'nanmax': 3.0, 'nanmin': 1.0, 'nanprod': 3.0}[name]}")
    return fn


nanmax = _nan_reduction(max, -np.inf, "nanmax")
nanmin = _nan_reduction(min, np.inf, "nanmin")
nanprod = _nan_reduction(prod, 1.0, "nanprod")


def nanvar(x: ArrayLike, axis=None, keepdims: bool = False, ddof: int = 0) -> ArrayLike:
    """Variance over ``axis`` of the values that are not NaN.

    >>> nanvar(np.array([1.0, np.nan, 3.0]))
    np.float64(1.0)
    """
    x = promote_float(x)[0]
    present = P.cast(P.eq(x, x), dtype=x.dtype)
    d = where(isnan(x), 0.0, x - nanmean(x, axis=axis, keepdims=True))
    return sum(d * d, axis=axis, keepdims=keepdims) / (sum(present, axis=axis, keepdims=keepdims) - ddof)


def nanstd(x: ArrayLike, axis=None, keepdims: bool = False, ddof: int = 0) -> ArrayLike:
    """Standard deviation over ``axis`` of the values that are not NaN.

    >>> nanstd(np.array([1.0, np.nan, 3.0]))
    np.float64(1.0)
    """
    return sqrt(nanvar(x, axis=axis, keepdims=keepdims, ddof=ddof))


def associative_scan(combine, x: ArrayLike, axis: int, identity) -> ArrayLike:
    """The running ``combine`` (an associative elementwise function, such as ``maximum``) along
    ``axis``, in log2(n) rounds: each combines every element with the one ``shift`` places
    before it (Hillis and Steele's scan)."""
    x = asarray(x)
    n = x.shape[axis]
    lead = (slice(None),) * axis
    from ..primitives.indexing import Index
    shift = 1
    while shift < n:
        fill = np.full(x.shape[:axis] + (shift,) + x.shape[axis + 1:], identity, x.dtype)
        head = P.gather(x, index=Index(lead + (slice(0, n - shift),)))
        x = combine(x, P.concatenate(fill, head, axis=axis))
        shift *= 2
    return x
