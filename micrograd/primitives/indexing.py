"""Indexing: ``gather`` is NumPy's ``x[index]`` (basic slicing and integer-array indexing) and
``scatter_add`` is its reverse, adding values into zeros at the indexed places (repeated indices
add up). Each is the other's vjp."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..core.errors import ShapeError, with_location
from ..core.ir import Aval, aval_of
from ..core.primitive import PerOperand, Primitive
from . import shape as _shape  # circular (shape uses gather); only read at call time


class Index:
    """A static NumPy index whose integer arrays are operands of the primitive: its items are
    ints, slices, ``None``, ``Ellipsis`` and ``Index.ARRAY`` (the next array operand)."""
    ARRAY = "array"
    __slots__ = ("items", "num_arrays", "_hash")

    def __init__(self, items: Sequence[Any]):
        self.items = tuple((("slice", i.start, i.stop, i.step) if isinstance(i, slice) else i) for i in items)
        self.num_arrays = sum(1 for i in self.items if i == Index.ARRAY)
        self._hash = hash(self.items)

    def build(self, arrays: Sequence[Any]) -> tuple:
        arrays = iter(arrays)
        return tuple(next(arrays) if i == Index.ARRAY else slice(*i[1:]) if isinstance(i, tuple) else i
                     for i in self.items)

    def __eq__(self, other):
        return isinstance(other, Index) and self.items == other.items

    def __hash__(self):
        return self._hash

    def ir_text(self) -> str:
        def text(i):
            if i == Index.ARRAY:
                return "#"
            if isinstance(i, tuple):
                start, stop, step = ("" if v is None else v for v in i[1:])
                return f"{start}:{stop}" + (f":{step}" if step != "" else "")
            return "..." if i is Ellipsis else repr(i)
        return "[" + ", ".join(map(text, self.items)) + "]"

    __repr__ = ir_text


def _gathered_shape(shape, index: Index, array_avals) -> tuple[int, ...]:
    """The shape NumPy gives ``x[index]``, found on a zero-byte stand-in of ``x``."""
    stand_in = np.broadcast_to(np.zeros((), np.int8), shape)
    try:
        return stand_in[index.build([np.zeros(a.shape, a.dtype) for a in array_avals])].shape
    except IndexError as e:
        raise IndexError(with_location(f"indexing an array of shape {shape} with {index.ir_text()}: {e}")) from None


def _gather_shape(x, *arrays, index):
    return Aval(_gathered_shape(x.shape, index, arrays), x.dtype)


gather = Primitive(
    "gather", lambda x, *arrays, index: x[index.build(arrays)], _gather_shape,
    jvp=PerOperand(lambda i: None if i else (lambda t, out, x, *arrays, index: gather(t, *arrays, index=index))),
    vjp=PerOperand(lambda i: None if i else (
        lambda ct, out, x, *arrays, index: scatter_add(ct, *arrays, shape=x.shape, index=index))))


def _scatter_add_impl(updates, *arrays, shape, index):
    out = np.zeros(shape, updates.dtype)
    if index.num_arrays:
        np.add.at(out, index.build(arrays), updates)
    else:  # basic slicing never repeats a place
        out[index.build(arrays)] = updates
    return out


def _scatter_add_shape(updates, *arrays, shape, index):
    expected = _gathered_shape(shape, index, arrays)
    if np.broadcast_shapes(updates.shape, expected) != expected:
        raise ShapeError(with_location(f"scatter_add: updates of shape {updates.shape} do not fit {index.ir_text()} "
                                       f"of an array of shape {shape}"))
    return Aval(shape, updates.dtype)


scatter_add = Primitive(
    "scatter_add", _scatter_add_impl, _scatter_add_shape,
    jvp=PerOperand(lambda i: None if i else (
        lambda t, out, u, *arrays, shape, index: scatter_add(t, *arrays, shape=shape, index=index))),
    # updates may broadcast against the indexed places: sum the cotangent back down to their shape
    vjp=PerOperand(lambda i: None if i else (
        lambda ct, out, u, *arrays, shape, index: _shape.sum_to(gather(ct, *arrays, index=index), u.shape))))


# --- batching -------------------------------------------------------------------------------------
# NumPy keeps a block of adjacent advanced indices (arrays, and ints beside them) in place, but
# puts their broadcast axes first when they are separated. With only ``x`` batched, a leading full
# slice keeps the batch axis first unless the advanced indices are separated. With batched index
# arrays, an ``arange`` over the batch joins the advanced indices: the result then has the batch
# axis, then the advanced axes, then the sliced ones, and a transpose puts the advanced axes back
# where NumPy has them without a batch.

def _advanced_first(items) -> bool:
    if Index.ARRAY not in items:
        return False
    places = [k for k, i in enumerate(items) if i == Index.ARRAY or isinstance(i, int)]
    return places != list(range(places[0], places[-1] + 1))


def _axes_before_advanced(items, ndim: int) -> int:
    """How many result axes precede the advanced block in NumPy's unbatched result."""
    if _advanced_first(items):
        return 0
    consumed = sum(1 for i in items if i is not None and i is not Ellipsis)
    count = 0
    for i in items:
        if i == Index.ARRAY or isinstance(i, int):
            break
        count += ndim - consumed if i is Ellipsis else 1
    return count


def _batched_index(index: Index, arrays, dims, size):
    """(index, arrays, advanced rank) selecting batch element b of x for batch element b of the
    arrays."""
    rank = max(a.ndim - (d is not None) for a, d in zip(arrays, dims))
    moved = []
    for a, d in zip(arrays, dims):
        if d is not None:
            a = _shape.move_axis(a, d, 0)
            a = _shape.reshape(a, shape=a.shape[:1] + (1,) * (rank - a.ndim + 1) + a.shape[1:])
        moved.append(a)
    batch_arange = np.arange(size).reshape((size,) + (1,) * rank)
    return Index((Index.ARRAY,) + index.items), [batch_arange] + moved, rank


def _advanced_back_in_place(ndim: int, rank: int, before: int) -> tuple[int, ...]:
    """The permutation taking (batch, advanced..., sliced...) to (batch, sliced[:before],
    advanced..., sliced[before:])."""
    return ((0,) + tuple(range(1 + rank, 1 + rank + before)) + tuple(range(1, 1 + rank))
            + tuple(range(1 + rank + before, ndim)))


def _gather_batch(args, dims, index):
    (x, *arrays), (x_dim, *array_dims) = args, dims
    if all(d is None for d in array_dims):
        out = gather(_shape.move_axis(x, x_dim, 0), *arrays, index=Index((slice(None),) + index.items))
        return out, (max(a.ndim for a in arrays) if _advanced_first(index.items) else 0)
    size = _shape.batch_size(args, dims)
    new_index, new_arrays, rank = _batched_index(index, arrays, array_dims, size)
    x = _shape.batch_to_front(x, x_dim, size)
    out = gather(x, *new_arrays, index=new_index)
    before = _axes_before_advanced(index.items, x.ndim - 1)
    return (_shape.transpose(out, perm=_advanced_back_in_place(out.ndim, rank, before)) if before else out), 0


def _scatter_add_batch(args, dims, shape, index):
    (u, *arrays), (u_dim, *array_dims) = args, dims
    size = _shape.batch_size(args, dims)
    unbatched_arrays = [aval_of(a) if d is None else Aval(a.shape[:d] + a.shape[d + 1:], a.dtype)
                        for a, d in zip(arrays, array_dims)]
    gathered = _gathered_shape(shape, index, unbatched_arrays)
    u = _shape.broadcast_batched(_shape.batch_to_front(u, u_dim, size), gathered)  # (size,) + gathered
    if all(d is None for d in array_dims):
        at = max(a.ndim for a in arrays) if _advanced_first(index.items) else 0
        return scatter_add(_shape.move_axis(u, 0, at), *arrays, shape=(size,) + shape,
                           index=Index((slice(None),) + index.items)), 0
    new_index, new_arrays, rank = _batched_index(index, arrays, array_dims, size)
    before = _axes_before_advanced(index.items, len(shape))
    if before:  # into the batched layout: the inverse of putting the advanced axes back in place
        u = _shape.transpose(u, perm=tuple(np.argsort(_advanced_back_in_place(u.ndim, rank, before)).tolist()))
    return scatter_add(u, *new_arrays, shape=(size,) + shape, index=new_index), 0


gather.batch = _gather_batch
scatter_add.batch = _scatter_add_batch
