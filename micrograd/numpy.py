"""NumPy-named functions that work on arrays and on traced values alike.

Each one promotes its operands as NumPy does (Python scalars take the array's dtype; integers
become float64 where a float is computed), broadcasts them, and applies primitives. Inside a
traced function, plain ``numpy`` calls on traced values land here too (through
``__array_ufunc__`` and ``__array_function__``), so both spellings trace:

>>> import numpy as np, micrograd as mg, micrograd.numpy as mnp
>>> x = np.array([0.5, -1.0])
>>> bool(np.allclose(mg.grad(lambda x: mnp.sum(mnp.tanh(x)))(x),
...                  mg.grad(lambda x: np.sum(np.tanh(x)))(x)))
True
"""
from __future__ import annotations

import functools
import math
from typing import Any, Sequence

import numpy as np

from . import primitives as P
from .core.dtypes import is_float
from .core.errors import ShapeError, with_location
from .core.trace import Tracer
from .primitives.indexing import Index

__all__ = [
    # arithmetic and elementwise functions
    "add", "subtract", "multiply", "divide", "true_divide", "negative", "positive", "power", "square",
    "reciprocal", "exp", "log", "log1p", "expm1", "sqrt", "sin", "cos", "tan", "tanh", "abs", "absolute",
    "sign", "maximum", "minimum", "clip", "where", "less", "less_equal", "greater", "greater_equal",
    "equal", "not_equal",
    # reductions
    "sum", "mean", "var", "std", "max", "min", "amax", "amin", "argmax", "argmin", "logsumexp",
    # shapes and indexing
    "reshape", "ravel", "transpose", "swapaxes", "moveaxis", "squeeze", "expand_dims", "broadcast_to",
    "concatenate", "stack", "take",
    # linear algebra
    "matmul", "dot", "outer",
    # neural-network functions (also in micrograd.nn.functional)
    "relu", "sigmoid", "softmax", "log_softmax", "one_hot",
    # constants and helpers
    "asarray", "array", "astype", "stop_gradient", "zeros", "ones", "full", "zeros_like", "ones_like",
    "full_like", "linspace", "arange", "eye", "shape", "ndim", "size",
]

ArrayLike = Any
_scalar_types = (bool, int, float)


# --- promotion ------------------------------------------------------------------------------------

def asarray(x: ArrayLike, dtype=None) -> ArrayLike:
    """``x`` as an array (a traced value stays traced), cast to ``dtype`` if given.

    >>> asarray([1, 2], dtype="float32")
    array([1., 2.], dtype=float32)
    """
    if isinstance(x, Tracer):
        return x if dtype is None or x.dtype == np.dtype(dtype) else P.cast(x, dtype=np.dtype(dtype))
    return np.asarray(x, dtype)


array = asarray


def _cast(x, dtype):
    if isinstance(x, _scalar_types):
        return np.asarray(x, dtype)
    return x if x.dtype == dtype else P.cast(x, dtype=dtype)


def _promote(*xs) -> list:
    """Bring operands to one dtype as NumPy would (Python scalars are weak)."""
    xs = [x if isinstance(x, (Tracer, np.ndarray, np.generic) + _scalar_types) else np.asarray(x) for x in xs]
    first = xs[0]
    if not isinstance(first, _scalar_types):  # operands of one dtype already (the common case): as they are
        dtype = first.dtype
        if all(not isinstance(x, _scalar_types) and x.dtype == dtype for x in xs):
            return xs
    dtype = np.result_type(*(x if isinstance(x, _scalar_types) else x.dtype for x in xs))
    return [_cast(x, dtype) for x in xs]


def _promote_float(*xs) -> list:
    xs = _promote(*xs)
    return xs if xs[0].dtype.kind == "f" else [P.cast(x, dtype=np.dtype(np.float64)) for x in xs]


def astype(x: ArrayLike, dtype) -> ArrayLike:
    """``x`` cast to ``dtype`` (``x.astype(dtype)``).

    >>> astype(np.array([1.7]), np.int64)
    array([1])
    """
    return _cast(asarray(x), np.dtype(dtype))


# --- elementwise ----------------------------------------------------------------------------------

def _binary(prim, doc_example: str, promote=_promote):
    def fn(x: ArrayLike, y: ArrayLike) -> ArrayLike:
        return prim(*promote(x, y))
    fn.__doc__ = f"Elementwise ``{prim.name}`` with NumPy broadcasting and promotion.\n\n{doc_example}"
    return fn


def _unary(prim, example: str, promote=lambda x: _promote_float(x)[0]):
    def fn(x: ArrayLike) -> ArrayLike:
        return prim(promote(x))
    fn.__doc__ = f"Elementwise ``{prim.name}``.\n\n{example}"
    return fn


add = _binary(P.add, ">>> add(np.array([1.0, 2.0]), 1)\narray([2., 3.])")
subtract = _binary(P.sub, ">>> subtract(3.0, np.array([1.0]))\narray([2.])")
multiply = _binary(P.mul, ">>> multiply(np.array([1.0, 2.0]), 3)\narray([3., 6.])")
divide = true_divide = _binary(P.div, ">>> divide(np.array([1, 2]), 4)\narray([0.25, 0.5 ])", _promote_float)
maximum = _binary(P.maximum, ">>> maximum(np.array([1.0, 5.0]), 2.0)\narray([2., 5.])")
minimum = _binary(P.minimum, ">>> minimum(np.array([1.0, 5.0]), 2.0)\narray([1., 2.])")
less = _binary(P.lt, ">>> less(np.array([1, 3]), 2)\narray([ True, False])")
less_equal = _binary(P.le, ">>> less_equal(np.array([1, 3]), 3)\narray([ True,  True])")
greater = _binary(P.gt, ">>> greater(np.array([1, 3]), 2)\narray([False,  True])")
greater_equal = _binary(P.ge, ">>> greater_equal(np.array([1, 3]), 3)\narray([False,  True])")
equal = _binary(P.eq, ">>> equal(np.array([1, 3]), 3)\narray([False,  True])")
not_equal = _binary(P.ne, ">>> not_equal(np.array([1, 3]), 3)\narray([ True, False])")

exp = _unary(P.exp, ">>> exp(np.array([0.0]))\narray([1.])")
log = _unary(P.log, ">>> log(np.array([1.0]))\narray([0.])")
log1p = _unary(P.log1p, ">>> log1p(np.array([0.0]))\narray([0.])")
expm1 = _unary(P.expm1, ">>> expm1(np.array([0.0]))\narray([0.])")
sqrt = _unary(P.sqrt, ">>> sqrt(np.array([4.0]))\narray([2.])")
sin = _unary(P.sin, ">>> sin(np.array([0.0]))\narray([0.])")
cos = _unary(P.cos, ">>> cos(np.array([0.0]))\narray([1.])")
tanh = _unary(P.tanh, ">>> tanh(np.array([0.0]))\narray([0.])")
sigmoid = _unary(P.logistic, ">>> sigmoid(np.array([0.0]))\narray([0.5])")
negative = _unary(P.neg, ">>> negative(np.array([1, -2]))\narray([-1,  2])", asarray)
abs = absolute = _unary(P.abs, ">>> abs(np.array([-1.5]))\narray([1.5])", asarray)  # noqa: A001
sign = _unary(P.sign, ">>> sign(np.array([-2.0, 0.0, 3.0]))\narray([-1.,  0.,  1.])", asarray)


def positive(x: ArrayLike) -> ArrayLike:
    """``+x``.

    >>> positive(np.array([-1.0]))
    array([-1.])
    """
    return asarray(x)


def tan(x: ArrayLike) -> ArrayLike:
    """Elementwise tangent, ``sin(x) / cos(x)``.

    >>> tan(np.array([0.0]))
    array([0.])
    """
    return sin(x) / cos(x)


def power(x: ArrayLike, y: ArrayLike) -> ArrayLike:
    """``x ** y``. A Python-number exponent is a constant of the program (``pow_scalar``), so
    ``x ** 2`` is differentiable at ``x = 0`` to any order; an array exponent uses ``pow``.

    >>> power(np.array([2.0, 3.0]), 2)
    array([4., 9.])
    """
    if isinstance(y, _scalar_types) and not isinstance(y, bool):
        x = asarray(x)
        if not is_float(x.dtype) and (isinstance(y, float) or y < 0):
            x = _cast(x, np.dtype(np.float64))
        return P.pow_scalar(x, p=y)
    return P.pow(*_promote(x, y))


def square(x: ArrayLike) -> ArrayLike:
    """``x ** 2``.

    >>> square(np.array([3.0]))
    array([9.])
    """
    return power(x, 2)


def reciprocal(x: ArrayLike) -> ArrayLike:
    """``1 / x``.

    >>> reciprocal(np.array([4.0]))
    array([0.25])
    """
    return divide(1.0, x)


def where(condition: ArrayLike, x: ArrayLike, y: ArrayLike) -> ArrayLike:
    """``x`` where ``condition`` holds, else ``y`` (the traceable form of ``if``).

    >>> where(np.array([True, False]), 1.0, np.array([5.0, 6.0]))
    array([1., 6.])
    """
    condition = asarray(condition)
    if condition.dtype != np.bool_:
        condition = not_equal(condition, 0)
    return P.select(condition, *_promote(x, y))


def clip(x: ArrayLike, a_min: ArrayLike = None, a_max: ArrayLike = None) -> ArrayLike:
    """``x`` limited to ``[a_min, a_max]``; the derivative is 1 inside, boundaries included.

    >>> clip(np.array([-2.0, 0.5, 3.0]), 0, 1)
    array([0. , 0.5, 1. ])
    """
    if a_min is not None:
        x = where(less(x, a_min), a_min, x)
    if a_max is not None:
        x = where(greater(x, a_max), a_max, x)
    return x


def relu(x: ArrayLike) -> ArrayLike:
    """``max(x, 0)``, with derivative 0 at 0 (as in PyTorch and JAX).

    >>> relu(np.array([-1.0, 2.0]))
    array([0., 2.])
    """
    x = asarray(x)
    return P.select(P.gt(x, np.zeros((), x.dtype)), x, np.zeros((), x.dtype))


def stop_gradient(x: ArrayLike) -> ArrayLike:
    """``x``, but no derivative flows through it.

    >>> import micrograd as mg
    >>> mg.grad(lambda x: x * stop_gradient(x))(3.0)
    array(3.)
    """
    return P.stop_gradient(asarray(x))


# --- reductions -----------------------------------------------------------------------------------

def _accepts_dim(fn):
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


def _axes(axis, ndim: int, op: str) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for a in axes:
        if not -ndim <= a < ndim:
            raise ShapeError(with_location(f"{op}: axis {a} is out of range for an array of {ndim} dimensions"))
        out.append(int(a) % ndim if ndim else 0)
    if len(set(out)) != len(out):
        raise ShapeError(with_location(f"{op}: repeated axis in {axis}"))
    return tuple(sorted(out))


def _count_all(x) -> int:
    """The number of elements. Not ``x.size``: on an eager tensor that is PyTorch's ``size()``
    method (``labels.size(0)``), not NumPy's count."""
    return math.prod(x.shape)


def _keep(x, r, axes, keepdims: bool):
    if not keepdims:
        return r
    return P.reshape(r, shape=tuple(1 if i in axes else d for i, d in enumerate(x.shape)))


def sum(x: ArrayLike, axis=None, keepdims: bool = False, dtype=None) -> ArrayLike:  # noqa: A001
    """Sum over ``axis`` (all axes by default).

    >>> sum(np.array([[1.0, 2.0], [3.0, 4.0]]), axis=0)
    array([4., 6.])
    """
    x = asarray(x, dtype)
    if x.dtype == np.bool_:
        x = _cast(x, np.dtype(np.int64))
    axes = _axes(axis, x.ndim, "sum")
    return _keep(x, P.reduce_sum(x, axes=axes), axes, keepdims)


def _count(x, axes) -> int:
    return int(np.prod([x.shape[a] for a in axes], dtype=np.int64))


def mean(x: ArrayLike, axis=None, keepdims: bool = False) -> ArrayLike:
    """Mean over ``axis``; integer inputs give float64, as in NumPy.

    >>> mean(np.array([1, 2, 3, 4]))
    np.float64(2.5)
    """
    x = _promote_float(x)[0]
    axes = _axes(axis, x.ndim, "mean")
    return sum(x, axis=axes, keepdims=keepdims) / _count(x, axes)


def var(x: ArrayLike, axis=None, keepdims: bool = False, ddof: int = 0) -> ArrayLike:
    """Variance over ``axis`` with ``ddof`` degrees of freedom removed.

    >>> var(np.array([1.0, 2.0, 3.0, 4.0]))
    np.float64(1.25)
    """
    x = _promote_float(x)[0]
    axes = _axes(axis, x.ndim, "var")
    d = x - mean(x, axis=axes, keepdims=True)
    return sum(d * d, axis=axes, keepdims=keepdims) / (_count(x, axes) - ddof)


def std(x: ArrayLike, axis=None, keepdims: bool = False, ddof: int = 0) -> ArrayLike:
    """Standard deviation over ``axis``.

    >>> std(np.array([1.0, 3.0]))
    np.float64(1.0)
    """
    return sqrt(var(x, axis=axis, keepdims=keepdims, ddof=ddof))


def _extremum(prim, name):
    def fn(x: ArrayLike, axis=None, keepdims: bool = False) -> ArrayLike:
        x = asarray(x)
        axes = _axes(axis, x.ndim, name)
        if any(x.shape[a] == 0 for a in axes):
            raise ShapeError(with_location(f"{name}: reduction over an empty axis of an array of shape {x.shape}"))
        return _keep(x, prim(x, axes=axes), axes, keepdims)
    fn.__doc__ = (f"``{name}`` over ``axis``; tied elements share the derivative equally.\n\n"
                  f">>> {name}(np.array([[1.0, 5.0], [7.0, 2.0]]), axis=1)\n"
                  f"array([{'5., 7.' if name == 'max' else '1., 2.'}])")
    return fn


max = amax = _extremum(P.reduce_max, "max")  # noqa: A001
min = amin = _extremum(P.reduce_min, "min")  # noqa: A001


def _arg_extremum(prim, name):
    def fn(x: ArrayLike, axis: int | None = None, keepdims: bool = False) -> ArrayLike:
        x = asarray(x)
        if axis is None:
            x, axis = P.reshape(x, shape=(_count_all(x),)), 0
        (axis,) = _axes(axis, x.ndim, name)
        return _keep(x, prim(x, axis=axis), (axis,), keepdims)
    fn.__doc__ = (f"Index of the {name[3:]} along ``axis`` (of the flattened array by default).\n\n"
                  f">>> {name}(np.array([3.0, 9.0, 1.0]))\nnp.int64({1 if name == 'argmax' else 2})")
    return fn


argmax = _arg_extremum(P.argmax, "argmax")
argmin = _arg_extremum(P.argmin, "argmin")


def logsumexp(x: ArrayLike, axis=None, keepdims: bool = False) -> ArrayLike:
    """``log(sum(exp(x)))`` over ``axis``, computed without overflow.

    >>> logsumexp(np.array([1000.0, 1000.0])) - 1000.0  # log(2)
    np.float64(0.69314718055...)
    """
    x = _promote_float(x)[0]
    axes = _axes(axis, x.ndim, "logsumexp")
    shift = stop_gradient(max(x, axis=axes, keepdims=True))
    shift = where(equal(shift, -np.inf), 0.0, shift)  # all -inf: the answer is -inf, not nan
    out = log(sum(exp(x - shift), axis=axes, keepdims=True)) + shift
    return out if keepdims else P.reshape(out, shape=tuple(d for i, d in enumerate(x.shape) if i not in axes))


def softmax(x: ArrayLike, axis: int = -1) -> ArrayLike:
    """``exp(x) / sum(exp(x))`` along ``axis``, shifted by the maximum so it cannot overflow.

    >>> softmax(np.array([0.0, np.log(3.0)]))
    array([0.25, 0.75])
    """
    x = _promote_float(x)[0]
    e = exp(x - stop_gradient(max(x, axis=axis, keepdims=True)))
    return e / sum(e, axis=axis, keepdims=True)


def log_softmax(x: ArrayLike, axis: int = -1) -> ArrayLike:
    """``log(softmax(x))`` along ``axis``, computed stably.

    >>> np.round(np.exp(log_softmax(np.array([0.0, np.log(3.0)]))), 6)
    array([0.25, 0.75])
    """
    x = _promote_float(x)[0]
    shifted = x - stop_gradient(max(x, axis=axis, keepdims=True))
    return shifted - log(sum(exp(shifted), axis=axis, keepdims=True))


def one_hot(labels: ArrayLike, num_classes: int, dtype=np.float64) -> ArrayLike:
    """Integer labels as one-hot rows of ``num_classes`` entries.

    >>> one_hot(np.array([2, 0]), 3)
    array([[0., 0., 1.],
           [1., 0., 0.]])
    """
    labels = asarray(labels)
    return astype(equal(expand_dims(labels, -1), np.arange(num_classes, dtype=labels.dtype)), dtype)


# --- shapes ---------------------------------------------------------------------------------------

def _shape_arg(shape) -> tuple[int, ...]:
    if isinstance(shape, (int, np.integer)) or (isinstance(shape, Tracer) and shape.ndim == 0):
        # int() of a traced size raises TracerConversionError saying sizes must be known while
        # tracing (iterating it would fail with a puzzling "len() of a 0-d traced array")
        return (int(shape),)
    return tuple(int(d) for d in shape)


def reshape(x: ArrayLike, shape, *more) -> ArrayLike:
    """``x`` with a new shape (one entry may be -1).

    >>> reshape(np.arange(6.0), (2, -1)).shape
    (2, 3)
    """
    x = asarray(x)
    shape = _shape_arg(shape) + tuple(int(d) for d in more)
    if shape.count(-1) == 1:
        known = int(np.prod([d for d in shape if d != -1], dtype=np.int64))
        if known == 0 or _count_all(x) % known:
            raise ShapeError(with_location(f"reshape: cannot reshape an array of shape {x.shape} into shape {shape}"))
        shape = tuple(_count_all(x) // known if d == -1 else d for d in shape)
    return x if shape == x.shape else P.reshape(x, shape=shape)


def ravel(x: ArrayLike) -> ArrayLike:
    """``x`` flattened to one dimension.

    >>> ravel(np.ones((2, 2))).shape
    (4,)
    """
    return reshape(x, -1)


def transpose(x: ArrayLike, axes: Sequence[int] | None = None) -> ArrayLike:
    """``x`` with its axes permuted (reversed by default).

    >>> transpose(np.zeros((2, 3))).shape
    (3, 2)
    """
    x = asarray(x)
    perm = tuple(range(x.ndim))[::-1] if axes is None else tuple(a % x.ndim for a in _shape_arg(axes))
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


def moveaxis(x: ArrayLike, source: int, destination: int) -> ArrayLike:
    """``x`` with axis ``source`` moved to position ``destination``.

    >>> moveaxis(np.zeros((2, 3, 4)), 0, -1).shape
    (3, 4, 2)
    """
    x = asarray(x)
    perm = [a for a in range(x.ndim) if a != source % x.ndim]
    perm.insert(destination % x.ndim, source % x.ndim)
    return transpose(x, perm)


def squeeze(x: ArrayLike, axis=None) -> ArrayLike:
    """``x`` without its length-1 axes (or just ``axis``).

    >>> squeeze(np.zeros((1, 3, 1))).shape
    (3,)
    """
    x = asarray(x)
    axes = tuple(i for i, d in enumerate(x.shape) if d == 1) if axis is None else _axes(axis, x.ndim, "squeeze")
    if any(x.shape[a] != 1 for a in axes):
        raise ShapeError(with_location(f"squeeze: axis {axis} of shape {x.shape} does not have length 1"))
    return reshape(x, tuple(d for i, d in enumerate(x.shape) if i not in axes))


def expand_dims(x: ArrayLike, axis) -> ArrayLike:
    """``x`` with new length-1 axes at the positions ``axis`` names in the result.

    >>> expand_dims(np.zeros(3), -1).shape
    (3, 1)
    """
    x = asarray(x)
    new_axes = _axes(axis, x.ndim + (1 if isinstance(axis, int) else len(axis)), "expand_dims")
    dims = iter(x.shape)
    return reshape(x, tuple(1 if i in new_axes else next(dims) for i in range(x.ndim + len(new_axes))))


def broadcast_to(x: ArrayLike, shape) -> ArrayLike:
    """``x`` broadcast to ``shape`` as in NumPy.

    >>> broadcast_to(np.array([1.0, 2.0]), (2, 2)).shape
    (2, 2)
    """
    x, shape = asarray(x), _shape_arg(shape)
    return x if x.shape == shape else P.broadcast_to(x, shape=shape)


def concatenate(arrays: Sequence[ArrayLike], axis: int = 0) -> ArrayLike:
    """Join arrays along an existing axis.

    >>> concatenate([np.zeros(2), np.ones(1)])
    array([0., 0., 1.])
    """
    arrays = _promote(*arrays)
    if len(arrays) == 1:
        return arrays[0]
    (axis,) = _axes(axis, arrays[0].ndim, "concatenate")
    return P.concatenate(*arrays, axis=axis)


def stack(arrays: Sequence[ArrayLike], axis: int = 0) -> ArrayLike:
    """Join arrays of one shape along a new axis.

    >>> stack([np.zeros(2), np.ones(2)]).shape
    (2, 2)
    """
    return concatenate([expand_dims(a, axis) for a in arrays], axis=axis)


def _index_item(item, key):
    if isinstance(item, Tracer):
        if item.dtype == np.bool_:
            raise TypeError(with_location(
                f"indexing with a traced boolean mask {item.aval}: the result's shape would depend on the "
                "mask's values. Use mg.numpy.where(mask, x, 0) instead."))
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


def take(x: ArrayLike, indices: ArrayLike, axis: int | None = None) -> ArrayLike:
    """Elements of ``x`` at ``indices`` along ``axis`` (of the flattened array by default).

    >>> take(np.array([10.0, 20.0, 30.0]), np.array([2, 0]))
    array([30., 10.])
    """
    x = asarray(x)
    if axis is None:
        x, axis = ravel(x), 0
    (axis,) = _axes(axis, x.ndim, "take")
    return getitem(x, (slice(None),) * axis + (indices,))


# --- linear algebra -------------------------------------------------------------------------------

def matmul(x: ArrayLike, y: ArrayLike) -> ArrayLike:
    """Matrix product with NumPy's rules: 1-D operands are vectors, leading axes broadcast.

    >>> matmul(np.ones((2, 3)), np.ones(3))
    array([3., 3.])
    """
    x, y = _promote(x, y)
    if x.ndim == 0 or y.ndim == 0:
        raise ShapeError(with_location(f"matmul: operands must have at least one dimension, got shapes "
                                       f"{x.shape} and {y.shape} (use * to scale)"))
    x2 = reshape(x, (1,) + x.shape) if x.ndim == 1 else x
    y2 = reshape(y, y.shape + (1,)) if y.ndim == 1 else y
    if x2.shape[-1] != y2.shape[-2]:
        raise ShapeError(with_location(
            f"matmul: shapes {x.shape} and {y.shape} do not fit: {x2.shape[-1]} (last axis of the first) "
            f"!= {y2.shape[-2]} ({'only' if y.ndim == 1 else 'second-to-last'} axis of the second)"))
    try:
        batch = np.broadcast_shapes(x2.shape[:-2], y2.shape[:-2])
    except ValueError:
        raise ShapeError(with_location(f"matmul: batch dimensions of {x.shape} and {y.shape} do not broadcast")) from None
    out = P.matmul(broadcast_to(x2, batch + x2.shape[-2:]), broadcast_to(y2, batch + y2.shape[-2:]))
    shape = batch + (x.shape[-2:-1] if x.ndim > 1 else ()) + (y.shape[-1:] if y.ndim > 1 else ())
    return reshape(out, shape)


def dot(x: ArrayLike, y: ArrayLike) -> ArrayLike:
    """Dot product: scaling for 0-d, inner product for 1-D, matrix product for 2-D operands.

    >>> dot(np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    array(11.)
    """
    x, y = asarray(x), asarray(y)
    if x.ndim == 0 or y.ndim == 0:
        return multiply(x, y)
    if x.ndim <= 2 and y.ndim <= 2:
        return matmul(x, y)
    raise NotImplementedError(with_location(
        f"dot of shapes {x.shape} and {y.shape}: use matmul for stacks of matrices"))


def outer(x: ArrayLike, y: ArrayLike) -> ArrayLike:
    """Outer product of two vectors.

    >>> outer(np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    array([[3., 4.],
           [6., 8.]])
    """
    return multiply(expand_dims(ravel(x), 1), expand_dims(ravel(y), 0))


# --- constants (plain NumPy arrays: they never depend on traced values) ------------------------

def zeros(shape, dtype=np.float64) -> np.ndarray:
    """An array of zeros. ``zeros((2,))`` -> ``array([0., 0.])``."""
    return np.zeros(shape, dtype)


def ones(shape, dtype=np.float64) -> np.ndarray:
    """An array of ones. ``ones((2,))`` -> ``array([1., 1.])``."""
    return np.ones(shape, dtype)


def full(shape, fill_value, dtype=None) -> np.ndarray:
    """An array filled with ``fill_value``. ``full(2, 7.0)`` -> ``array([7., 7.])``."""
    return np.full(shape, fill_value, dtype)


def zeros_like(x: ArrayLike, dtype=None) -> np.ndarray:
    """Zeros of ``x``'s shape and dtype. ``zeros_like(np.ones(2))`` -> ``array([0., 0.])``."""
    return np.zeros(np.shape(x) if not isinstance(x, Tracer) else x.shape, dtype or asarray(x).dtype)


def ones_like(x: ArrayLike, dtype=None) -> np.ndarray:
    """Ones of ``x``'s shape and dtype. ``ones_like(np.zeros(2))`` -> ``array([1., 1.])``."""
    return np.ones(np.shape(x) if not isinstance(x, Tracer) else x.shape, dtype or asarray(x).dtype)


def full_like(x: ArrayLike, fill_value, dtype=None) -> np.ndarray:
    """``fill_value`` in ``x``'s shape and dtype. ``full_like(np.zeros(2), 3.0)`` -> ``array([3., 3.])``."""
    return np.full(np.shape(x) if not isinstance(x, Tracer) else x.shape, fill_value, dtype or asarray(x).dtype)


def linspace(start: float, stop: float, num: int = 50, endpoint: bool = True, dtype=None) -> np.ndarray:
    """``num`` evenly spaced numbers. ``linspace(0, 1, 3)`` -> ``array([0. , 0.5, 1. ])``."""
    return np.linspace(start, stop, num, endpoint=endpoint, dtype=dtype)


def arange(*args, dtype=None) -> np.ndarray:
    """Evenly spaced values in a half-open interval. ``arange(3)`` -> ``array([0, 1, 2])``."""
    return np.arange(*args, dtype=dtype)


def eye(n: int, m: int | None = None, dtype=np.float64) -> np.ndarray:
    """The identity matrix. ``eye(2)`` -> ``array([[1., 0.], [0., 1.]])``."""
    return np.eye(n, m, dtype=dtype)


def shape(x: ArrayLike) -> tuple[int, ...]:
    """The shape of ``x``. ``shape(np.zeros((2, 3)))`` -> ``(2, 3)``."""
    return asarray(x).shape


def ndim(x: ArrayLike) -> int:
    """The number of dimensions of ``x``. ``ndim(np.zeros((2, 3)))`` -> ``2``."""
    return asarray(x).ndim


def size(x: ArrayLike) -> int:
    """The number of elements of ``x``. ``size(np.zeros((2, 3)))`` -> ``6``."""
    return _count_all(asarray(x))


# --- NumPy dispatch and operators on traced values ----------------------------------------------

for _name in ("sum", "mean", "var", "std", "max", "min", "amax", "amin", "argmax", "argmin", "logsumexp",
              "softmax", "log_softmax"):
    globals()[_name] = _accepts_dim(globals()[_name])

_UFUNCS = {
    np.add: add, np.subtract: subtract, np.multiply: multiply, np.true_divide: divide, np.power: power,
    np.negative: negative, np.positive: positive, np.exp: exp, np.log: log, np.log1p: log1p, np.expm1: expm1,
    np.sqrt: sqrt, np.sin: sin, np.cos: cos, np.tan: tan, np.tanh: tanh, np.absolute: abs, np.sign: sign,
    np.maximum: maximum, np.minimum: minimum, np.less: less, np.less_equal: less_equal, np.greater: greater,
    np.greater_equal: greater_equal, np.equal: equal, np.not_equal: not_equal, np.matmul: matmul,
    np.square: square, np.reciprocal: reciprocal,
}
_FUNCTIONS = {getattr(np, name): globals()[name] for name in __all__
              if hasattr(np, name) and not isinstance(getattr(np, name), np.ufunc)}


def _only_eager(args) -> bool:
    """Whether every micrograd value among ``args`` is an eager tensor (not a traced value)."""
    from .core import tree
    return all(x._trace.level == 0 for x in tree.leaves(args) if isinstance(x, Tracer))


def _with_data(args):
    """``args`` with eager tensors replaced by their arrays: NumPy functions micrograd does not
    define still work on tensors, as on arrays, without a gradient."""
    from .core import tree
    return tree.map(lambda x: x.data if isinstance(x, Tracer) else x, args)


def _array_ufunc(self, ufunc, method, *inputs, **kwargs):
    fn = _UFUNCS.get(ufunc)
    if fn is None or method != "__call__" or kwargs:
        if _only_eager((inputs, kwargs)):
            inputs, kwargs = _with_data((inputs, kwargs))
            return getattr(ufunc, method)(*inputs, **kwargs)
        what = f"numpy.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}")
        extra = f" with arguments {sorted(kwargs)}" if kwargs and fn is not None else ""
        raise TypeError(with_location(f"{what}{extra} is not supported on traced values; "
                                      "see micrograd.numpy.__all__ for what is"))
    return fn(*inputs)


def _array_function(self, func, types, args, kwargs):
    fn = _FUNCTIONS.get(func)
    if fn is None:
        if _only_eager((args, kwargs)):
            args, kwargs = _with_data((args, kwargs))
            return func(*args, **kwargs)
        raise TypeError(with_location(f"numpy.{func.__name__} is not supported on traced values; "
                                      "see micrograd.numpy.__all__ for what is"))
    return fn(*args, **kwargs)


def _reflected(fn):
    return lambda self, other: fn(other, self)


def install_array_methods(cls: type) -> None:
    """Give ``cls`` (traced values, eager tensors) NumPy's operators and methods."""
    methods = {
        "__add__": add, "__radd__": _reflected(add), "__sub__": subtract, "__rsub__": _reflected(subtract),
        "__mul__": multiply, "__rmul__": _reflected(multiply), "__truediv__": divide,
        "__rtruediv__": _reflected(divide), "__pow__": power, "__rpow__": _reflected(power),
        "__matmul__": matmul, "__rmatmul__": _reflected(matmul), "__neg__": negative, "__pos__": positive,
        "__abs__": abs, "__lt__": less, "__le__": less_equal, "__gt__": greater, "__ge__": greater_equal,
        "__eq__": equal, "__ne__": not_equal, "__getitem__": getitem,
        "__array_ufunc__": _array_ufunc, "__array_function__": _array_function,
        "sum": sum, "mean": mean, "var": var, "std": std, "max": max, "min": min, "argmax": argmax,
        "argmin": argmin, "transpose": lambda self, *axes: transpose(self, axes[0] if len(axes) == 1 else axes or None),
        "reshape": reshape, "ravel": ravel, "flatten": ravel, "squeeze": squeeze, "astype": astype, "clip": clip,
        "dot": dot, "T": property(lambda self: transpose(self)),
        "__iter__": lambda self: (self[i] for i in range(len(self))),
    }
    for name, fn in methods.items():
        setattr(cls, name, fn)


install_array_methods(Tracer)
