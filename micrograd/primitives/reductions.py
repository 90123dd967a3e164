"""Reductions over a tuple of axes (the reduced axes are dropped; ``keepdims`` is a reshape in
:mod:`micrograd.numpy`), and argmax/argmin."""
from __future__ import annotations

import numpy as np

from ..core.ir import Aval
from ..core.primitive import Primitive
from . import elementwise as _ew
from . import shape as _shape


def _batch_reduction(prim):
    def batch(args, dims, axes):
        return prim(_shape.move_axis(args[0], dims[0], 0), axes=tuple(a + 1 for a in axes)), 0
    return batch


def _reduced(x, axes) -> Aval:
    return Aval(tuple(d for i, d in enumerate(x.shape) if i not in axes), x.dtype)


def _unreduce(v, shape, axes):
    """Broadcast a reduced ``v`` back over the reduced axes of ``shape``."""
    if len(axes) < len(shape):  # (a full reduction's 0-d result broadcasts as it is)
        v = _shape.reshape(v, shape=tuple(1 if i in axes else d for i, d in enumerate(shape)))
    return _shape.broadcast_to(v, shape=shape)


reduce_sum = Primitive(
    "reduce_sum", lambda x, axes: np.add.reduce(x, axis=axes), _reduced,  # (np.sum, without its Python layer)
    jvp=(lambda t, out, x, axes: reduce_sum(t, axes=axes),),
    vjp=(lambda ct, out, x, axes: _unreduce(ct, x.shape, axes),))
reduce_sum.batch = _batch_reduction(reduce_sum)


def _share_among_ties(x, out, axes):
    """Where ``x`` attains its extremum, and 1 / (number of such places) per reduced slice: ties
    share the derivative equally, so it does not depend on which of them NumPy would pick."""
    winners = _ew.cast(_ew.eq(x, _unreduce(out, x.shape, axes)), dtype=x.dtype)
    return winners, reduce_sum(winners, axes=axes)


def _extremum(name, impl) -> Primitive:
    def jvp(t, out, x, axes):
        winners, count = _share_among_ties(x, out, axes)
        return reduce_sum(t * winners, axes=axes) / count

    def vjp(ct, out, x, axes):
        winners, count = _share_among_ties(x, out, axes)
        return _unreduce(ct / count, x.shape, axes) * winners

    prim = Primitive(name, lambda x, axes: impl(x, axis=axes), _reduced, jvp=(jvp,), vjp=(vjp,))
    prim.batch = _batch_reduction(prim)
    return prim


reduce_max = _extremum("reduce_max", np.maximum.reduce)  # (np.max and np.min, without their Python layer)
reduce_min = _extremum("reduce_min", np.minimum.reduce)


def _arg_shape(x, axis):
    return Aval(x.shape[:axis] + x.shape[axis + 1:], np.intp)


def _arg_extremum(name, impl) -> Primitive:
    prim = Primitive(name, lambda x, axis: impl(x, axis=axis), _arg_shape, jvp=(None,), vjp=(None,))
    prim.batch = lambda args, dims, axis: (prim(_shape.move_axis(args[0], dims[0], 0), axis=axis + 1), 0)
    return prim


argmax = _arg_extremum("argmax", np.argmax)
argmin = _arg_extremum("argmin", np.argmin)


# argsort has no derivative (its values are positions); sort is a gather at its result, so the
# derivative of a sort flows back to where each element came from.
argsort = Primitive("argsort", lambda x, axis, stable: np.argsort(x, axis=axis, kind="stable" if stable else None),
                    lambda x, axis, stable: Aval(x.shape, np.intp), jvp=(None,), vjp=(None,))
argsort.batch = lambda args, dims, axis, stable: (
    argsort(_shape.move_axis(args[0], dims[0], 0), axis=axis + 1, stable=stable), 0)


def _cumsum_impl(x, axis, reverse):
    if not reverse:
        return np.cumsum(x, axis=axis)
    flipped = np.flip(x, axis)
    return np.flip(np.cumsum(flipped, axis=axis), axis)


# A running sum is linear: its transpose is the running sum in the other direction. (A
# composition, x @ triu(ones), would cost n^2.)
cumsum = Primitive(
    "cumsum", _cumsum_impl, lambda x, axis, reverse: Aval(x.shape, x.dtype),
    jvp=(lambda t, out, x, axis, reverse: cumsum(t, axis=axis, reverse=reverse),),
    vjp=(lambda ct, out, x, axis, reverse: cumsum(ct, axis=axis, reverse=not reverse),))
cumsum.batch = lambda args, dims, axis, reverse: (
    cumsum(_shape.move_axis(args[0], dims[0], 0), axis=axis + 1, reverse=reverse), 0)
