"""Functions that move elements without computing: reshaping, transposing, joining,
splitting, flipping, padding and diagonals. All of them are reshapes, transposes,
concatenations, broadcasts and gathers (indexing with constant index arrays), so each
derivative is the reverse movement."""
from __future__ import annotations

import builtins
from typing import Sequence

import numpy as np

from .. import primitives as P
from ..core.errors import ShapeError, with_location
from ..primitives.indexing import Index
from ._core import ArrayLike, asarray, count_all, full_of, normalize_axes, normalize_axis, promote, shape_arg

__all__ = [
    "reshape", "ravel", "transpose", "swapaxes", "moveaxis", "rollaxis", "squeeze", "expand_dims",
    "broadcast_to", "broadcast_arrays", "concatenate", "stack", "hstack", "vstack", "dstack", "column_stack",
    "row_stack", "block", "append", "split", "array_split", "hsplit", "vsplit", "dsplit", "atleast_1d", "atleast_2d",
    "atleast_3d", "tile", "repeat", "pad", "flip", "fliplr", "flipud", "roll", "rot90", "diag", "diagonal",
    "diagflat", "trace", "triu", "tril", "meshgrid", "shape", "ndim", "size",
]


def take_along(x, indices, axis: int):
    """``x`` indexed along ``axis`` by a constant or traced integer array."""
    return P.gather(x, indices, index=Index((slice(None),) * axis + (Index.ARRAY,)))


def reshape(x: ArrayLike, shape, *more, order: str = "C") -> ArrayLike:
    """``x`` with a new shape (one entry may be -1).

    >>> reshape(np.arange(6.0), (2, -1)).shape
    (2, 3)
    """
    if order != "C":
        raise NotImplementedError(with_location(f"reshape: order={order!r}; only C order is supported"))
    x = asarray(x)
    shape = shape_arg(shape) + tuple(int(d) for d in more)
    if shape.count(-1) == 1:
        known = int(np.prod([d for d in shape if d != -1], dtype=np.int64))
        if known == 0 or count_all(x) % known:
            raise ShapeError(with_location(f"reshape: cannot reshape an array of shape {x.shape} into shape {shape}"))
        shape = tuple(count_all(x) // known if d == -1 else d for d in shape)
    return x if shape == x.shape else P.reshape(x, shape=shape)


def ravel(x: ArrayLike, order: str = "C") -> ArrayLike:
    """``x`` flattened to one dimension.

    >>> ravel(np.ones((2, 2))).shape
    (4,)
    """
    return reshape(x, -1, order=order)


def transpose(x: ArrayLike, axes: Sequence[int] | None = None) -> ArrayLike:
    """``x`` with its axes permuted (reversed by default).

    >>> transpose(np.zeros((2, 3))).shape
    (3, 2)
    """
    x = asarray(x)
    perm = tuple(range(x.ndim))[::-1] if axes is None else tuple(a % x.ndim for a in shape_arg(axes))
    if sorted(perm) != list(range(x.ndim)):
        raise ShapeError(with_location(f"transpose: axes {axes} are not a permutation of {x.ndim} axes"))
    return x if perm == tuple(range(x.ndim)) else P.transpose(x, perm=perm)


def swapaxes(x: ArrayLike, axis1: int, axis2: int) -> ArrayLike:
    """``x`` with two axes exchanged.

    >>> swapaxes(np.zeros((2, 3, 4)), 0, 2).shape
    (4, 3, 2)
    """
    x = asarray(x)
    perm = list(range(x.ndim))
    perm[axis1], perm[axis2] = perm[axis2], perm[axis1]
    return transpose(x, perm)


def moveaxis(x: ArrayLike, source, destination) -> ArrayLike:
    """``x`` with axes ``source`` moved to positions ``destination`` (ints or sequences).

    >>> moveaxis(np.zeros((2, 3, 4)), 0, -1).shape
    (3, 4, 2)
    """
    x = asarray(x)
    sources = [normalize_axis(s, x.ndim, "moveaxis") for s in np.atleast_1d(source)]
    destinations = [normalize_axis(d, x.ndim, "moveaxis") for d in np.atleast_1d(destination)]
    if len(sources) != len(destinations):
        raise ValueError(with_location("moveaxis: source and destination need the same number of axes"))
    order = [a for a in range(x.ndim) if a not in sources]
    for d, s in sorted(zip(destinations, sources)):
        order.insert(d, s)
    return transpose(x, order)


def rollaxis(x: ArrayLike, axis: int, start: int = 0) -> ArrayLike:
    """``x`` with ``axis`` moved to just before position ``start``.

    >>> rollaxis(np.zeros((3, 4, 5)), 2).shape
    (5, 3, 4)
    """
    x = asarray(x)
    axis = normalize_axis(axis, x.ndim, "rollaxis")
    start = start + x.ndim if start < 0 else start
    if axis < start:
        start -= 1
    return moveaxis(x, axis, start) if axis != start else x


def squeeze(x: ArrayLike, axis=None) -> ArrayLike:
    """``x`` without its length-1 axes (or just ``axis``).

    >>> squeeze(np.zeros((1, 3, 1))).shape
    (3,)
    """
    x = asarray(x)
    axes = tuple(i for i, d in enumerate(x.shape) if d == 1) if axis is None else normalize_axes(axis, x.ndim, "squeeze")
    if any(x.shape[a] != 1 for a in axes):
        raise ShapeError(with_location(f"squeeze: axis {axis} of shape {x.shape} does not have length 1"))
    return reshape(x, tuple(d for i, d in enumerate(x.shape) if i not in axes))


def expand_dims(x: ArrayLike, axis) -> ArrayLike:
    """``x`` with new length-1 axes at the positions ``axis`` names in the result.

    >>> expand_dims(np.zeros(3), -1).shape
    (3, 1)
    """
    x = asarray(x)
    new_axes = normalize_axes(axis, x.ndim + (1 if isinstance(axis, int) else len(axis)), "expand_dims")
    dims = iter(x.shape)
    return reshape(x, tuple(1 if i in new_axes else next(dims) for i in range(x.ndim + len(new_axes))))


def broadcast_to(x: ArrayLike, shape) -> ArrayLike:
    """``x`` broadcast to ``shape`` as in NumPy.

    >>> broadcast_to(np.array([1.0, 2.0]), (2, 2)).shape
    (2, 2)
    """
    x, shape = asarray(x), shape_arg(shape)
    return x if x.shape == shape else P.broadcast_to(x, shape=shape)


def broadcast_arrays(*args: ArrayLike) -> tuple:
    """The arrays broadcast against each other.

    >>> [a.shape for a in broadcast_arrays(np.zeros((2, 1)), np.zeros(3))]
    [(2, 3), (2, 3)]
    """
    arrays = [asarray(a) for a in args]
    try:
        target = np.broadcast_shapes(*(a.shape for a in arrays))
    except ValueError:
        raise ShapeError(with_location(f"broadcast_arrays: shapes {[a.shape for a in arrays]} do not broadcast")) from None
    return tuple(broadcast_to(a, target) for a in arrays)


# --- joining ---------------------------------------------------------------------------------------

def concatenate(arrays: Sequence[ArrayLike], axis: int | None = 0, out=None, *, dtype=None,
                casting: str = "same_kind") -> ArrayLike:
    """Join arrays along an existing axis (of the flattened arrays for ``axis=None``).

    >>> concatenate([np.zeros(2), np.ones(1)])
    array([0., 0., 1.])
    """
    arrays = [asarray(a, dtype) for a in arrays]
    if axis is None:
        arrays, axis = [ravel(a) for a in arrays], 0
    arrays = promote(*arrays)
    if len(arrays) == 1:
        return arrays[0]
    ndims = {a.ndim for a in arrays}
    if len(ndims) > 1:
        raise ShapeError(with_location(f"concatenate: arrays of shapes {[a.shape for a in arrays]} have different "
                                       "numbers of dimensions"))
    return P.concatenate(*arrays, axis=normalize_axis(axis, arrays[0].ndim, "concatenate"))


def stack(arrays: Sequence[ArrayLike], axis: int = 0, out=None, *, dtype=None, casting: str = "same_kind") -> ArrayLike:
    """Join arrays of one shape along a new axis.

    >>> stack([np.zeros(2), np.ones(2)]).shape
    (2, 2)
    """
    arrays = [asarray(a, dtype) for a in arrays]
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        raise ShapeError(with_location(f"stack: arrays must have one shape, got {sorted(shapes)}"))
    return concatenate([expand_dims(a, axis) for a in arrays], axis=axis)


def hstack(arrays: Sequence[ArrayLike], *, dtype=None, casting: str = "same_kind") -> ArrayLike:
    """Join along the second axis (the first, for 1-D arrays).

    >>> hstack([np.zeros((2, 1)), np.ones((2, 2))]).shape
    (2, 3)
    """
    arrays = atleast_1d(*(asarray(a, dtype) for a in arrays))
    arrays = arrays if isinstance(arrays, list) else [arrays]
    return concatenate(arrays, axis=0 if arrays[0].ndim == 1 else 1)


def vstack(arrays: Sequence[ArrayLike], *, dtype=None, casting: str = "same_kind") -> ArrayLike:
    """Join along the first axis, 1-D arrays as rows.

    >>> vstack([np.zeros(3), np.ones(3)]).shape
    (2, 3)
    """
    arrays = atleast_2d(*(asarray(a, dtype) for a in arrays))
    return concatenate(arrays if isinstance(arrays, list) else [arrays], axis=0)


row_stack = vstack


def dstack(arrays: Sequence[ArrayLike], *, dtype=None, casting: str = "same_kind") -> ArrayLike:
    """Join along the third axis.

    >>> dstack([np.zeros(3), np.ones(3)]).shape
    (1, 3, 2)
    """
    arrays = atleast_3d(*(asarray(a, dtype) for a in arrays))
    return concatenate(arrays if isinstance(arrays, list) else [arrays], axis=2)


def block(arrays) -> ArrayLike:
    """An array assembled from nested lists of blocks: the innermost lists join along the last
    axis, the next ones along the one before, and so on.

    >>> block([[np.eye(2), np.zeros((2, 1))], [np.ones((1, 2)), np.ones((1, 1))]]).shape
    (3, 3)
    """
    def depth(x) -> int:
        return 1 + depth(x[0]) if isinstance(x, list) else 0

    def rank(x) -> int:
        return builtins.max(rank(v) for v in x) if isinstance(x, list) else asarray(x).ndim

    levels = depth(arrays)
    ndim = builtins.max(levels, rank(arrays))

    def assemble(x, level: int):
        if not isinstance(x, list):
            x = asarray(x)
            return reshape(x, (1,) * (ndim - x.ndim) + x.shape)
        return concatenate([assemble(v, level + 1) for v in x], axis=ndim - levels + level)

    return assemble(arrays, 0)


def column_stack(arrays: Sequence[ArrayLike]) -> ArrayLike:
    """Join 1-D arrays as the columns of a matrix (2-D arrays as they are).

    >>> column_stack([np.zeros(3), np.ones(3)]).shape
    (3, 2)
    """
    columns = [asarray(a) for a in arrays]
    return concatenate([reshape(a, (-1, 1)) if a.ndim < 2 else a for a in columns], axis=1)


def append(arr: ArrayLike, values: ArrayLike, axis: int | None = None) -> ArrayLike:
    """``values`` joined to the end of ``arr`` (both flattened, for ``axis=None``).

    >>> append(np.array([1.0, 2.0]), [[3.0]])
    array([1., 2., 3.])
    """
    return concatenate([arr, values], axis=axis)


def _at_least(ndim: int, arrays):
    out = []
    for a in arrays:
        a = asarray(a)
        if a.ndim < ndim:
            if ndim == 3 and a.ndim == 2:
                a = reshape(a, a.shape + (1,))
            elif ndim == 3 and a.ndim == 1:
                a = reshape(a, (1,) + a.shape + (1,))
            else:
                a = reshape(a, (1,) * (ndim - a.ndim) + a.shape)
        out.append(a)
    return out[0] if len(out) == 1 else out


def atleast_1d(*arrays: ArrayLike):
    """Each array with at least one dimension (a list for several).

    >>> atleast_1d(np.float64(2.0)).shape
    (1,)
    """
    return _at_least(1, arrays)


def atleast_2d(*arrays: ArrayLike):
    """Each array with at least two dimensions (1-D arrays become rows).

    >>> atleast_2d(np.zeros(3)).shape
    (1, 3)
    """
    return _at_least(2, arrays)


def atleast_3d(*arrays: ArrayLike):
    """Each array with at least three dimensions ((n,) -> (1, n, 1); (m, n) -> (m, n, 1)).

    >>> atleast_3d(np.zeros((2, 3))).shape
    (2, 3, 1)
    """
    return _at_least(3, arrays)


# --- splitting -------------------------------------------------------------------------------------

def _slice_along(x, axis: int, start: int, stop: int):
    return P.gather(x, index=Index((slice(None),) * axis + (slice(start, stop),)))


def array_split(ary: ArrayLike, indices_or_sections, axis: int = 0) -> list:
    """``ary`` cut along ``axis`` into ``indices_or_sections`` nearly equal parts, or at the given
    indices.

    >>> [p.shape for p in array_split(np.zeros(5), 2)]
    [(3,), (2,)]
    """
    x = asarray(ary)
    axis = normalize_axis(axis, x.ndim, "split")
    n = x.shape[axis]
    if isinstance(indices_or_sections, (int, np.integer)):
        sections = int(indices_or_sections)
        if sections <= 0:
            raise ValueError(with_location(f"split: the number of sections must be positive, got {sections}"))
        size, extra = divmod(n, sections)
        bounds = np.cumsum([0] + [size + 1] * extra + [size] * (sections - extra)).tolist()
    else:
        bounds = [0] + [int(i) for i in indices_or_sections] + [n]
    return [_slice_along(x, axis, min(max(lo, 0), n), min(max(hi, lo, 0), n)) for lo, hi in zip(bounds, bounds[1:])]


def split(ary: ArrayLike, indices_or_sections, axis: int = 0) -> list:
    """``ary`` cut along ``axis`` into equal parts, or at the given indices.

    >>> [p.tolist() for p in split(np.arange(6.0), [2, 5])]
    [[0.0, 1.0], [2.0, 3.0, 4.0], [5.0]]
    """
    x = asarray(ary)
    if isinstance(indices_or_sections, (int, np.integer)):
        n = x.shape[normalize_axis(axis, x.ndim, "split")]
        if indices_or_sections <= 0 or n % indices_or_sections:
            raise ValueError(with_location(f"split: an axis of length {n} does not split into {indices_or_sections} "
                                           "equal parts (array_split allows unequal ones)"))
    return array_split(x, indices_or_sections, axis)


def hsplit(ary: ArrayLike, indices_or_sections) -> list:
    """Split along the second axis (the first, for 1-D arrays).

    >>> [p.shape for p in hsplit(np.zeros((2, 4)), 2)]
    [(2, 2), (2, 2)]
    """
    x = asarray(ary)
    return split(x, indices_or_sections, axis=1 if x.ndim > 1 else 0)


def vsplit(ary: ArrayLike, indices_or_sections) -> list:
    """Split along the first axis.

    >>> [p.shape for p in vsplit(np.zeros((4, 2)), 2)]
    [(2, 2), (2, 2)]
    """
    return split(ary, indices_or_sections, axis=0)


def dsplit(ary: ArrayLike, indices_or_sections) -> list:
    """Split along the third axis.

    >>> [p.shape for p in dsplit(np.zeros((1, 2, 4)), 2)]
    [(1, 2, 2), (1, 2, 2)]
    """
    return split(ary, indices_or_sections, axis=2)


# --- repeating, flipping, rolling, padding --------------------------------------------------------

def tile(a: ArrayLike, reps) -> ArrayLike:
    """``a`` repeated ``reps`` times along each axis.

    >>> tile(np.array([1.0, 2.0]), (2, 2))
    array([[1., 2., 1., 2.],
           [1., 2., 1., 2.]])
    """
    x = asarray(a)
    reps = shape_arg(reps)
    ndim = max(x.ndim, len(reps))
    reps = (1,) * (ndim - len(reps)) + reps
    x = reshape(x, (1,) * (ndim - x.ndim) + x.shape)
    spread = reshape(x, tuple(d for dim in x.shape for d in (1, dim)))
    spread = broadcast_to(spread, tuple(d for r, dim in zip(reps, x.shape) for d in (r, dim)))
    return reshape(spread, tuple(r * dim for r, dim in zip(reps, x.shape)))


def repeat(a: ArrayLike, repeats, axis: int | None = None) -> ArrayLike:
    """Each element of ``a`` repeated ``repeats`` times along ``axis`` (of the flattened array by
    default); ``repeats`` may give a count per element.

    >>> repeat(np.array([1.0, 2.0]), [1, 3])
    array([1., 2., 2., 2.])
    """
    x = asarray(a)
    if axis is None:
        x, axis = ravel(x), 0
    axis = normalize_axis(axis, x.ndim, "repeat")
    counts = np.asarray(repeats)
    if counts.ndim == 0:
        k = int(counts)
        spread = expand_dims(x, axis + 1)
        spread = broadcast_to(spread, x.shape[:axis + 1] + (k,) + x.shape[axis + 1:])
        return reshape(spread, x.shape[:axis] + (x.shape[axis] * k,) + x.shape[axis + 1:])
    return take_along(x, np.repeat(np.arange(x.shape[axis]), counts), axis)


def flip(m: ArrayLike, axis=None) -> ArrayLike:
    """``m`` with the order of elements along ``axis`` (all axes by default) reversed.

    >>> flip(np.array([1.0, 2.0, 3.0]))
    array([3., 2., 1.])
    """
    x = asarray(m)
    axes = normalize_axes(axis, x.ndim, "flip")
    return P.gather(x, index=Index([slice(None, None, -1) if i in axes else slice(None) for i in range(x.ndim)]))


def fliplr(m: ArrayLike) -> ArrayLike:
    """Reverse the columns (the second axis).

    >>> fliplr(np.array([[1.0, 2.0]]))
    array([[2., 1.]])
    """
    return flip(m, 1)


def flipud(m: ArrayLike) -> ArrayLike:
    """Reverse the rows (the first axis).

    >>> flipud(np.array([[1.0], [2.0]]))
    array([[2.],
           [1.]])
    """
    return flip(m, 0)


def roll(a: ArrayLike, shift, axis=None) -> ArrayLike:
    """Elements shifted by ``shift`` places along ``axis`` (of the flattened array by default),
    those leaving one end coming back at the other.

    >>> roll(np.array([1.0, 2.0, 3.0]), 1)
    array([3., 1., 2.])
    """
    x = asarray(a)
    if axis is None:
        return reshape(roll(ravel(x), shift, 0), x.shape)
    shifts, axes = np.broadcast_arrays(np.atleast_1d(shift), np.atleast_1d(axis))
    for s, ax in zip(shifts.tolist(), axes.tolist()):
        ax = normalize_axis(ax, x.ndim, "roll")
        n = x.shape[ax]
        if n and s % n:
            x = take_along(x, (np.arange(n) - s) % n, ax)
    return x


def rot90(m: ArrayLike, k: int = 1, axes=(0, 1)) -> ArrayLike:
    """``m`` rotated by 90 degrees ``k`` times in the plane of ``axes``.

    >>> rot90(np.array([[1.0, 2.0], [3.0, 4.0]]))
    array([[2., 4.],
           [1., 3.]])
    """
    x = asarray(m)
    a0, a1 = (normalize_axis(a, x.ndim, "rot90") for a in axes)
    if a0 == a1:
        raise ValueError(with_location("rot90: the two axes must differ"))
    k %= 4
    if k == 0:
        return x
    if k == 2:
        return flip(flip(x, a0), a1)
    perm = list(range(x.ndim))
    perm[a0], perm[a1] = perm[a1], perm[a0]
    return transpose(flip(x, a1), perm) if k == 1 else flip(transpose(x, perm), a1)


def _pad_index(n: int, before: int, after: int, mode: str) -> np.ndarray:
    i = np.arange(-before, n + after)
    if mode == "edge":
        return np.clip(i, 0, n - 1)
    if mode == "wrap":
        return i % n
    if mode == "reflect":
        if n == 1:
            return np.zeros_like(i)
        j = i % (2 * (n - 1))
        return np.where(j >= n, 2 * (n - 1) - j, j)
    j = i % (2 * n)  # symmetric: the edge repeated
    return np.where(j >= n, 2 * n - 1 - j, j)


_PAD_MODES = ("constant", "edge", "reflect", "symmetric", "wrap")


def pad(array: ArrayLike, pad_width, mode: str = "constant", constant_values=0) -> ArrayLike:
    """``array`` padded by ``pad_width`` (an int, a (before, after) pair, or one pair per axis)
    with ``constant_values`` or by ``mode`` ('edge', 'reflect', 'symmetric', 'wrap').

    >>> pad(np.array([1.0, 2.0, 3.0]), (2, 1), mode="reflect")
    array([3., 2., 1., 2., 3., 2.])
    """
    x = asarray(array)
    if mode not in _PAD_MODES:
        raise ValueError(with_location(f"pad: mode {mode!r} is not one of {_PAD_MODES}"))
    widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (x.ndim, 2)).tolist()
    if np.any(np.asarray(widths) < 0):
        raise ValueError(with_location(f"pad: widths must not be negative, got {pad_width}"))
    values = np.broadcast_to(np.asarray(constant_values), (x.ndim, 2)).tolist() if mode == "constant" else None
    for axis, (before, after) in enumerate(widths):
        if not before and not after:
            continue
        n = x.shape[axis]
        if mode == "constant":
            parts = []
            for width, value in ((before, values[axis][0]), (after, values[axis][1])):
                parts.append(broadcast_to(full_of(x, value), x.shape[:axis] + (width,) + x.shape[axis + 1:]))
            x = concatenate([parts[0], x, parts[1]], axis=axis)
        else:
            if n == 0:
                raise ValueError(with_location(f"pad: cannot pad an empty axis with mode {mode!r}"))
            x = take_along(x, _pad_index(n, before, after, mode), axis)
    return x


# --- diagonals and triangles ------------------------------------------------------------------------

def diagonal(a: ArrayLike, offset: int = 0, axis1: int = 0, axis2: int = 1) -> ArrayLike:
    """The diagonal of the 2-D slices in ``axis1``, ``axis2`` (above the main one for a positive
    ``offset``), as the last axis of the result.

    >>> diagonal(np.arange(9.0).reshape(3, 3), 1)
    array([1., 5.])
    """
    x = asarray(a)
    a1, a2 = normalize_axis(axis1, x.ndim, "diagonal"), normalize_axis(axis2, x.ndim, "diagonal")
    if a1 == a2:
        raise ValueError(with_location("diagonal: axis1 and axis2 must differ"))
    x = moveaxis(x, (a1, a2), (-2, -1))
    rows, cols = x.shape[-2:]
    length = max(0, min(rows - max(-offset, 0), cols - max(offset, 0)))
    i = np.arange(length)
    return P.gather(x, i + max(-offset, 0), i + max(offset, 0), index=Index([Ellipsis, Index.ARRAY, Index.ARRAY]))


def trace(a: ArrayLike, offset: int = 0, axis1: int = 0, axis2: int = 1) -> ArrayLike:
    """The sum of a diagonal.

    >>> trace(np.eye(3))
    np.float64(3.0)
    """
    from .reductions import sum
    return sum(diagonal(a, offset, axis1, axis2), axis=-1)


def diag(v: ArrayLike, k: int = 0) -> ArrayLike:
    """The ``k``-th diagonal of a matrix, or a square matrix with ``v`` on its ``k``-th diagonal.

    >>> diag(np.array([1.0, 2.0]))
    array([[1., 0.],
           [0., 2.]])
    """
    x = asarray(v)
    if x.ndim == 2:
        return diagonal(x, k)
    if x.ndim != 1:
        raise ShapeError(with_location(f"diag: needs a 1-D or 2-D array, got shape {x.shape}"))
    n = x.shape[0] + abs(k)
    i = np.arange(x.shape[0])
    return P.scatter_add(x, i + max(-k, 0), i + max(k, 0), shape=(n, n), index=Index([Index.ARRAY, Index.ARRAY]))


def diagflat(v: ArrayLike, k: int = 0) -> ArrayLike:
    """A matrix with the flattened ``v`` on its ``k``-th diagonal.

    >>> diagflat(np.array([[1.0, 2.0]])).shape
    (2, 2)
    """
    return diag(ravel(v), k)


def _triangle(m: ArrayLike, k: int, lower: bool) -> ArrayLike:
    x = asarray(m)
    if x.ndim < 2:
        raise ShapeError(with_location(f"{'tril' if lower else 'triu'}: needs at least 2 dimensions, got shape {x.shape}"))
    rows, cols = x.shape[-2:]
    mask = np.tri(rows, cols, k, dtype=bool) if lower else ~np.tri(rows, cols, k - 1, dtype=bool)
    return P.select(mask, x, np.zeros((), x.dtype))


def triu(m: ArrayLike, k: int = 0) -> ArrayLike:
    """``m`` with the elements below the ``k``-th diagonal set to zero.

    >>> triu(np.ones((2, 2)))
    array([[1., 1.],
           [0., 1.]])
    """
    return _triangle(m, k, lower=False)


def tril(m: ArrayLike, k: int = 0) -> ArrayLike:
    """``m`` with the elements above the ``k``-th diagonal set to zero.

    >>> tril(np.ones((2, 2)))
    array([[1., 0.],
           [1., 1.]])
    """
    return _triangle(m, k, lower=True)


def meshgrid(*xi: ArrayLike, copy: bool = True, sparse: bool = False, indexing: str = "xy") -> tuple:
    """Coordinate arrays from coordinate vectors (``indexing='xy'``: the first two axes swapped,
    as for images).

    >>> [g.shape for g in meshgrid(np.zeros(3), np.zeros(2))]
    [(2, 3), (2, 3)]
    """
    if indexing not in ("xy", "ij"):
        raise ValueError(with_location(f"meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}"))
    vectors = [ravel(x) for x in xi]
    n = len(vectors)
    shapes = []
    for i, v in enumerate(vectors):
        shape = [1] * n
        shape[i] = v.shape[0]
        if indexing == "xy" and n > 1 and i < 2:
            shape[0], shape[1] = shape[1], shape[0]
        shapes.append(tuple(shape))
    grids = [reshape(v, s) for v, s in zip(vectors, shapes)]
    return tuple(grids) if sparse else broadcast_arrays(*grids)


def shape(x: ArrayLike) -> tuple[int, ...]:
    """The shape of ``x``. ``shape(np.zeros((2, 3)))`` -> ``(2, 3)``."""
    return asarray(x).shape


def ndim(x: ArrayLike) -> int:
    """The number of dimensions of ``x``. ``ndim(np.zeros((2, 3)))`` -> ``2``."""
    return asarray(x).ndim


def size(x: ArrayLike, axis: int | None = None) -> int:
    """The number of elements of ``x`` (along ``axis``). ``size(np.zeros((2, 3)))`` -> ``6``."""
    x = asarray(x)
    return count_all(x) if axis is None else x.shape[axis]
