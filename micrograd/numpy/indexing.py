"""Indexing: ``x[key]``, ``take``, ``take_along_axis``, ``select``, the index tricks ``r_`` and
``c_``, and the functions whose result's shape depends on values (``nonzero``, ``unique``),
which trace only with a static ``size=``."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .. import primitives as P
from ..core.errors import ShapeError, with_location
from ..core.trace import Tracer
from ..primitives.indexing import Index
from ._core import ArrayLike, asarray, count_all, normalize_axis

__all__ = ["take", "take_along_axis", "select", "piecewise", "nonzero", "flatnonzero", "argwhere", "unique", "r_", "c_"]


def _index_item(item, key):
    if isinstance(item, Tracer):
        if item.dtype == np.bool_:
            raise TypeError(with_location(
                f"indexing with a traced boolean mask {item.aval}: the result's shape would depend on the "
                "mask's values. Use mg.numpy.where(mask, x, 0) to keep the shape, or mg.numpy.nonzero(mask, size=k) "
                "for a fixed number of positions."))
        if not np.issubdtype(item.dtype, np.integer):
            raise TypeError(with_location(f"index arrays must be integers, got {item.aval} in {key!r}"))
        return (Index.ARRAY, item)
    if isinstance(item, (list, np.ndarray)):
        item = np.asarray(item)
        if item.dtype == np.bool_:
            return [(Index.ARRAY, i) for i in np.nonzero(item)]
        if not np.issubdtype(item.dtype, np.integer):
            raise TypeError(with_location(f"index arrays must be integers, got dtype {item.dtype} in {key!r}"))
        return (Index.ARRAY, item)
    if isinstance(item, slice):
        for part in (item.start, item.stop, item.step):
            if part is not None and not isinstance(part, (int, np.integer)):
                raise TypeError(with_location(f"slice bounds must be Python ints, got {part!r} in {key!r}"))
        return slice(*(None if p is None else int(p) for p in (item.start, item.stop, item.step)))
    if isinstance(item, (int, np.integer)) and not isinstance(item, bool):
        return int(item)
    if item is None or item is Ellipsis:
        return item
    raise TypeError(with_location(f"unsupported index {item!r} in {key!r}"))


def getitem(x: ArrayLike, key) -> ArrayLike:
    """``x[key]`` for ints, slices, ``None``, ``...`` and integer (or constant boolean) arrays."""
    x = asarray(x)
    items, arrays = [], []
    for entry in key if isinstance(key, tuple) else (key,):
        parts = _index_item(entry, key)
        for part in parts if isinstance(parts, list) else [parts]:
            if isinstance(part, tuple):
                items.append(Index.ARRAY)
                arrays.append(part[1])
            else:
                items.append(part)
    return P.gather(x, *arrays, index=Index(items))


def take(x: ArrayLike, indices: ArrayLike, axis: int | None = None, out=None, mode: str = "raise") -> ArrayLike:
    """Elements of ``x`` at ``indices`` along ``axis`` (of the flattened array by default);
    ``mode='wrap'`` or ``'clip'`` brings indices out of range back in.

    >>> take(np.array([10.0, 20.0, 30.0]), np.array([2, 0]))
    array([30., 10.])
    """
    from .shape import ravel
    x = asarray(x)
    if axis is None:
        x, axis = ravel(x), 0
    axis = normalize_axis(axis, x.ndim, "take")
    if mode in ("wrap", "clip"):
        n = x.shape[axis]
        indices = asarray(indices)
        indices = (P.remainder(indices, np.asarray(n, indices.dtype)) if mode == "wrap" else
                   P.minimum(P.maximum(indices, np.zeros((), indices.dtype)), np.asarray(n - 1, indices.dtype)))
    return getitem(x, (slice(None),) * axis + (indices,))


def take_along_axis(arr: ArrayLike, indices: ArrayLike, axis: int | None) -> ArrayLike:
    """``arr`` indexed along ``axis`` by ``indices`` of the same number of dimensions (the others
    broadcast), as ``argsort`` and ``argmax(..., keepdims=True)`` produce them.

    >>> x = np.array([[3.0, 1.0, 2.0]])
    >>> take_along_axis(x, np.argsort(x, axis=1), axis=1)
    array([[1., 2., 3.]])
    """
    from .shape import ravel
    x, indices = asarray(arr), asarray(indices)
    if axis is None:
        x, axis = ravel(x), 0
    axis = normalize_axis(axis, x.ndim, "take_along_axis")
    if indices.ndim != x.ndim:
        raise ShapeError(with_location(f"take_along_axis: indices of shape {indices.shape} need as many dimensions as "
                                       f"the array's {x.shape}"))
    arrays = []
    for i in range(x.ndim):
        if i == axis:
            arrays.append(indices)
        else:
            shape = [1] * x.ndim
            shape[i] = x.shape[i]
            arrays.append(np.arange(x.shape[i]).reshape(shape))
    return P.gather(x, *arrays, index=Index([Index.ARRAY] * x.ndim))


def select(condlist: Sequence[ArrayLike], choicelist: Sequence[ArrayLike], default: ArrayLike = 0) -> ArrayLike:
    """Per element, the choice of the first condition that holds (``default`` if none does).

    >>> x = np.array([-2.0, 0.5, 3.0])
    >>> select([x < 0, x < 1], [-x, x * 10], default=0.0)
    array([2., 5., 0.])
    """
    from .ufuncs import where
    if len(condlist) != len(choicelist):
        raise ValueError(with_location(f"select: {len(condlist)} conditions for {len(choicelist)} choices"))
    result = default
    for condition, choice in reversed(list(zip(condlist, choicelist))):
        result = where(condition, choice, result)
    return asarray(result)


def piecewise(x: ArrayLike, condlist, funclist, *args, **kw) -> ArrayLike:
    """Per element, the function (or value) of the last condition that holds, as NumPy's
    ``piecewise`` (one extra function is the default, else 0); every function is evaluated on
    every element, and ``where`` picks.

    >>> x = np.array([-2.0, 0.5, 3.0])
    >>> piecewise(x, [x < 0, x >= 1], [lambda v: -v, lambda v: v * 10, 0.0])
    array([ 2.,  0., 30.])
    """
    from .ufuncs import where
    x = asarray(x)
    if not isinstance(condlist, (list, tuple)) or (condlist and np.ndim(condlist[0]) == 0 and x.ndim > 0):
        condlist = [condlist]
    if len(funclist) not in (len(condlist), len(condlist) + 1):
        raise ValueError(with_location(f"piecewise: {len(funclist)} functions for {len(condlist)} conditions"))

    def value(f):
        return f(x, *args, **kw) if callable(f) else f

    result = x * 0 + (value(funclist[-1]) if len(funclist) > len(condlist) else 0)
    for condition, f in zip(condlist, funclist):  # later conditions win, as in NumPy
        result = where(condition, value(f), result)
    return result


# --- functions whose result's shape depends on values ----------------------------------------------

def _value_dependent(name: str, alternative: str) -> TypeError:
    return TypeError(with_location(
        f"numpy.{name} on a traced value: the number of results depends on the values, which are not known while "
        f"the function is traced. {alternative}"))


def nonzero(a: ArrayLike, *, size: int | None = None, fill_value: int = 0, _caller: str = "nonzero") -> tuple:
    """The indices of the nonzero elements, one array per axis. While tracing, ``size`` fixes how
    many are returned (the first ``size``, padded with ``fill_value``), as in JAX.

    >>> nonzero(np.array([0.0, 3.0, 0.0, 4.0]))
    (array([1, 3]),)
    >>> nonzero(np.array([0.0, 3.0, 0.0, 4.0]), size=3, fill_value=-1)
    (array([ 1,  3, -1]),)
    """
    x = asarray(a)
    if size is None:
        if isinstance(x, Tracer) and x._trace.level > 0:
            raise _value_dependent(_caller, "Give a fixed number of results, mg.numpy.nonzero(mask, size=k), or keep "
                                   "the shape with mg.numpy.where(mask, x, 0).")
        return np.nonzero(x.data if isinstance(x, Tracer) else x)
    flat = P.reshape(x, shape=(count_all(x),))
    truth = flat if flat.dtype == np.bool_ else P.ne(flat, np.zeros((), flat.dtype))
    n = count_all(flat)
    order = P.argsort(P.eq(truth, np.zeros((), bool)), axis=0, stable=True)  # true places first, in order
    if size <= n:
        order = P.gather(order, index=Index([slice(0, size)]))
    else:
        order = P.concatenate(order, np.zeros(size - n, order.dtype), axis=0)
    count = P.reduce_sum(P.cast(truth, dtype=np.dtype(np.intp)), axes=(0,))
    valid = P.lt(np.arange(size, dtype=np.intp), count)
    order = P.select(valid, order, np.asarray(fill_value, np.intp))
    result = []
    for d, stride in zip(x.shape, np.cumprod((1,) + x.shape[::-1])[::-1][1:]):
        index = P.floor_divide(order, np.asarray(stride, np.intp))
        result.append(P.select(valid, P.remainder(index, np.asarray(d, np.intp)), np.asarray(fill_value, np.intp)))
    return tuple(result)


def flatnonzero(a: ArrayLike, *, size: int | None = None, fill_value: int = 0) -> ArrayLike:
    """The indices of the nonzero elements of the flattened array (``size`` as in :func:`nonzero`).

    >>> flatnonzero(np.array([[0.0, 1.0], [2.0, 0.0]]))
    array([1, 2])
    """
    from .shape import ravel
    return nonzero(ravel(a), size=size, fill_value=fill_value, _caller="flatnonzero")[0]


def argwhere(a: ArrayLike, *, size: int | None = None, fill_value: int = 0) -> ArrayLike:
    """The indices of the nonzero elements, one row each (``size`` as in :func:`nonzero`).

    >>> argwhere(np.array([[0.0, 1.0], [2.0, 0.0]]))
    array([[0, 1],
           [1, 0]])
    """
    from .shape import stack
    x = asarray(a)
    if size is None and not (isinstance(x, Tracer) and x._trace.level > 0):
        return np.argwhere(x.data if isinstance(x, Tracer) else x)
    return stack(nonzero(x, size=size, fill_value=fill_value, _caller="argwhere"), axis=1)


def unique(ar: ArrayLike, return_index: bool = False, return_inverse: bool = False, return_counts: bool = False,
           axis: int | None = None, *, size: int | None = None, fill_value: Any = None) -> ArrayLike:
    """The sorted distinct values of ``ar``. While tracing, ``size`` fixes how many are returned
    (padded with ``fill_value``, by default the smallest value), as in JAX.

    >>> unique(np.array([3.0, 1.0, 3.0, 2.0]))
    array([1., 2., 3.])
    """
    x = asarray(ar)
    traced = isinstance(x, Tracer) and x._trace.level > 0
    if size is None:
        if traced:
            raise _value_dependent("unique", "Give a fixed number of results: mg.numpy.unique(x, size=k).")
        return np.unique(x.data if isinstance(x, Tracer) else x, return_index, return_inverse, return_counts, axis)
    if return_index or return_inverse or return_counts or axis is not None:
        raise NotImplementedError(with_location("unique with size=: return_index, return_inverse, return_counts and "
                                                "axis are not supported"))
    from .reductions import sort
    ordered = sort(x, axis=None)
    n = ordered.shape[0]
    first = P.concatenate(np.ones(1, bool), P.ne(P.gather(ordered, index=Index([slice(1, None)])),
                                                  P.gather(ordered, index=Index([slice(0, n - 1)]))), axis=0)
    (places,) = nonzero(first, size=size, fill_value=0)
    values = P.gather(ordered, places, index=Index([Index.ARRAY]))
    count = P.reduce_sum(P.cast(first, dtype=np.dtype(np.intp)), axes=(0,))
    fill = P.gather(ordered, index=Index([0])) if fill_value is None else np.asarray(fill_value, ordered.dtype)
    return P.select(P.lt(np.arange(size, dtype=np.intp), count), values, fill)


# --- index tricks ---------------------------------------------------------------------------------

class _Concatenator:
    """``r_[...]`` (join along the first axis) and ``c_[...]`` (1-D items become columns, joined
    along the last axis); slices ``start:stop:step`` stand for ``arange`` (or ``linspace`` with an
    imaginary step, ``0:1:5j``)."""

    def __init__(self, columns: bool):
        self.columns = columns

    def __getitem__(self, key):
        from .shape import concatenate, reshape
        items = key if isinstance(key, tuple) else (key,)
        parts = []
        for item in items:
            if isinstance(item, slice):
                step = item.step if item.step is not None else 1
                start = 0 if item.start is None else item.start
                if isinstance(step, complex):
                    item = np.linspace(start, item.stop, int(abs(step)))
                else:
                    item = np.arange(start, item.stop, step)
            elif isinstance(item, str):
                raise NotImplementedError(with_location(f"r_/c_: string directives such as {item!r} are not supported"))
            part = asarray(item)
            if part.ndim == 0:
                part = reshape(part, (1,))
            if self.columns and part.ndim == 1:
                part = reshape(part, (-1, 1))
            parts.append(part)
        return concatenate(parts, axis=-1 if self.columns else 0)


r_ = _Concatenator(columns=False)
c_ = _Concatenator(columns=True)
