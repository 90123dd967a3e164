"""Elementwise functions: NumPy's ufuncs and their relatives (``where``, ``clip``, ``round``,
``nan_to_num``, ...). Each promotes its operands as NumPy does and applies a primitive, or is
a short composition of primitives when that is exact; rounding and comparisons have no
derivative, so they pass none on."""
from __future__ import annotations

import numpy as np

from .. import primitives as P
from ..core.dtypes import is_float
from ..core.trace import Tracer
from ._core import ArrayLike, SCALAR_TYPES, asarray, cast, full_of, promote, promote_float, zeros_of

__all__ = [
    "add", "subtract", "multiply", "divide", "true_divide", "negative", "positive", "power", "float_power",
    "square", "reciprocal", "remainder", "mod", "fmod", "floor_divide", "divmod", "abs", "absolute", "fabs",
    "sign", "copysign", "heaviside", "maximum", "minimum", "fmax", "fmin", "clip", "where",
    "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "logaddexp", "logaddexp2", "sqrt", "cbrt",
    "sin", "cos", "tan", "arcsin", "arccos", "arctan", "arctan2", "hypot", "sinh", "cosh", "tanh",
    "arcsinh", "arccosh", "arctanh", "deg2rad", "rad2deg", "degrees", "radians", "sinc",
    "floor", "ceil", "rint", "round", "around", "trunc", "fix",
    "less", "less_equal", "greater", "greater_equal", "equal", "not_equal",
    "logical_and", "logical_or", "logical_not", "logical_xor", "isnan", "isinf", "isfinite", "signbit",
    "nan_to_num", "real", "imag", "conj", "conjugate", "angle",
    "relu", "sigmoid", "stop_gradient",
]


def _binary(prim, doc_example: str, promote_operands=promote):
    def fn(x: ArrayLike, y: ArrayLike) -> ArrayLike:
        return prim(*promote_operands(x, y))
    fn.__doc__ = f"Elementwise ``{prim.name}`` with NumPy broadcasting and promotion.\n\n{doc_example}"
    return fn


def _float_operand(x: ArrayLike) -> ArrayLike:
    """``x`` as a float array (integers and bools become float64)."""
    if isinstance(x, (Tracer, np.ndarray)) and x.dtype.kind == "f":  # (the usual operand: as it is)
        return x
    return promote_float(x)[0]


def _unary(prim, example: str, promote_operand=_float_operand):
    def fn(x: ArrayLike) -> ArrayLike:
        return prim(promote_operand(x))
    fn.__doc__ = f"Elementwise ``{prim.name}``.\n\n{example}"
    return fn


def _float_or_int(ufunc):
    """Promotion for functions that keep integer dtypes (``floor``, ``remainder``): the dtype
    NumPy's own ufunc gives for these operands."""
    def operands(*xs):
        xs = promote(*xs)
        dtype = ufunc(*(np.zeros(0, x.dtype) for x in xs)).dtype
        return [cast(x, dtype) for x in xs]
    return operands


# --- arithmetic -------------------------------------------------------------------------------

add = _binary(P.add, ">>> add(np.array([1.0, 2.0]), 1)\narray([2., 3.])")
subtract = _binary(P.sub, ">>> subtract(3.0, np.array([1.0]))\narray([2.])")
multiply = _binary(P.mul, ">>> multiply(np.array([1.0, 2.0]), 3)\narray([3., 6.])")
divide = true_divide = _binary(P.div, ">>> divide(np.array([1, 2]), 4)\narray([0.25, 0.5 ])", promote_float)
remainder = mod = _binary(P.remainder, ">>> remainder(np.array([5.5, -1.0]), 2.0)  # the sign of the divisor\n"
                          "array([1.5, 1. ])", _float_or_int(np.remainder))
fmod = _binary(P.fmod, ">>> fmod(np.array([5.5, -1.0]), 2.0)  # the sign of the dividend\narray([ 1.5, -1. ])",
               _float_or_int(np.fmod))
floor_divide = _binary(P.floor_divide, ">>> floor_divide(np.array([1.0, 7.0]), 0.1)  # as NumPy rounds\n"
                       "array([ 9., 69.])", _float_or_int(np.floor_divide))
maximum = _binary(P.maximum, ">>> maximum(np.array([1.0, 5.0]), 2.0)\narray([2., 5.])")
minimum = _binary(P.minimum, ">>> minimum(np.array([1.0, 5.0]), 2.0)\narray([1., 2.])")
copysign = _binary(P.copysign, ">>> copysign(np.array([1.5, 2.0]), -1.0)\narray([-1.5, -2. ])", promote_float)
negative = _unary(P.neg, ">>> negative(np.array([1, -2]))\narray([-1,  2])", asarray)
abs = absolute = _unary(P.abs, ">>> abs(np.array([-1.5]))\narray([1.5])", asarray)  # noqa: A001
fabs = _unary(P.abs, ">>> fabs(np.array([-2]))\narray([2.])")
sign = _unary(P.sign, ">>> sign(np.array([-2.0, 0.0, 3.0]))\narray([-1.,  0.,  1.])", asarray)


def divmod(x: ArrayLike, y: ArrayLike) -> tuple[ArrayLike, ArrayLike]:  # noqa: A001
    """``(x // y, x % y)``.

    >>> divmod(np.array([7.0, -7.0]), 2.0)
    (array([ 3., -4.]), array([1., 1.]))
    """
    return floor_divide(x, y), remainder(x, y)


def positive(x: ArrayLike) -> ArrayLike:
    """``+x``.

    >>> positive(np.array([-1.0]))
    array([-1.])
    """
    return asarray(x)


def power(x: ArrayLike, y: ArrayLike) -> ArrayLike:
    """``x ** y``. A Python-number exponent is a constant of the program (``pow_scalar``), so
    ``x ** 2`` is differentiable at ``x = 0`` to any order; an array exponent uses ``pow``.

    >>> power(np.array([2.0, 3.0]), 2)
    array([4., 9.])
    """
    if isinstance(y, SCALAR_TYPES) and not isinstance(y, bool):
        x = asarray(x)
        if not is_float(x.dtype) and (isinstance(y, float) or y < 0):
            x = cast(x, np.dtype(np.float64))
        return P.pow_scalar(x, p=y)
    return P.pow(*promote(x, y))


def float_power(x: ArrayLike, y: ArrayLike) -> ArrayLike:
    """``x ** y`` computed in float64.

    >>> float_power(np.array([2, 3]), 2)
    array([4., 9.])
    """
    x = cast(asarray(x), np.dtype(np.float64))
    return power(x, y if isinstance(y, SCALAR_TYPES) else cast(asarray(y), np.dtype(np.float64)))


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


def heaviside(x: ArrayLike, h0: ArrayLike) -> ArrayLike:
    """0 where ``x < 0``, ``h0`` where ``x == 0``, 1 where ``x > 0`` (NaN stays NaN); no
    derivative in ``x``.

    >>> heaviside(np.array([-1.0, 0.0, 2.0]), 0.5)
    array([0. , 0.5, 1. ])
    """
    x, h0 = promote_float(x, h0)
    stepped = where(less(x, 0), 0.0, where(greater(x, 0), 1.0, h0))
    return where(isnan(x), np.nan, stepped)


def where(condition: ArrayLike, x: ArrayLike = None, y: ArrayLike = None) -> ArrayLike:
    """``x`` where ``condition`` holds, else ``y`` (the traceable form of ``if``).

    >>> where(np.array([True, False]), 1.0, np.array([5.0, 6.0]))
    array([1., 6.])
    """
    if x is None and y is None:
        from .indexing import nonzero
        return nonzero(condition, _caller="where")
    if x is None or y is None:
        raise TypeError("where: give both x and y, or neither")
    condition = asarray(condition)
    if condition.dtype != np.bool_:
        condition = not_equal(condition, 0)
    return P.select(condition, *promote(x, y))


def clip(x: ArrayLike, a_min: ArrayLike = None, a_max: ArrayLike = None, *, min: ArrayLike = None,  # noqa: A002
         max: ArrayLike = None) -> ArrayLike:  # noqa: A002
    """``x`` limited to ``[a_min, a_max]``; the derivative is 1 inside, boundaries included.

    >>> clip(np.array([-2.0, 0.5, 3.0]), 0, 1)
    array([0. , 0.5, 1. ])
    """
    a_min = min if a_min is None else a_min
    a_max = max if a_max is None else a_max
    if a_min is not None:
        x = where(less(x, a_min), a_min, x)
    if a_max is not None:
        x = where(greater(x, a_max), a_max, x)
    return x


def _nan_ignoring(prim, name):
    def fn(x: ArrayLike, y: ArrayLike) -> ArrayLike:
        x, y = promote(x, y)
        return where(isnan(y), x, where(isnan(x), y, prim(x, y)))
    fn.__doc__ = (f"Elementwise {name[1:]}imum that ignores NaN (it returns the other operand).\n\n"
                  f">>> {name}(np.array([np.nan, 1.0]), np.array([2.0, np.nan]))\narray([2., 1.])")
    return fn


fmax = _nan_ignoring(P.maximum, "fmax")
fmin = _nan_ignoring(P.minimum, "fmin")


# --- exponentials and logarithms --------------------------------------------------------------

exp = _unary(P.exp, ">>> exp(np.array([0.0]))\narray([1.])")
log = _unary(P.log, ">>> log(np.array([1.0]))\narray([0.])")
log1p = _unary(P.log1p, ">>> log1p(np.array([0.0]))\narray([0.])")
expm1 = _unary(P.expm1, ">>> expm1(np.array([0.0]))\narray([0.])")
sqrt = _unary(P.sqrt, ">>> sqrt(np.array([4.0]))\narray([2.])")
cbrt = _unary(P.cbrt, ">>> cbrt(np.array([27.0, -8.0]))\narray([ 3., -2.])")


def exp2(x: ArrayLike) -> ArrayLike:
    """``2 ** x`` (exact at integers, as a power of 2).

    >>> exp2(np.array([3.0, 0.5]))
    array([8.        , 1.41421356])
    """
    x = promote_float(x)[0]
    return P.pow(full_of(x, 2.0), x)


def log2(x: ArrayLike) -> ArrayLike:
    """Base-2 logarithm.

    >>> log2(np.array([8.0]))
    array([3.])
    """
    x = promote_float(x)[0]
    return P.log(x) * full_of(x, 1 / np.log(2))


def log10(x: ArrayLike) -> ArrayLike:
    """Base-10 logarithm.

    >>> log10(np.array([1000.0]))
    array([3.])
    """
    x = promote_float(x)[0]
    return P.log(x) * full_of(x, 1 / np.log(10))


def logaddexp(x: ArrayLike, y: ArrayLike) -> ArrayLike:
    """``log(exp(x) + exp(y))`` without overflow; its derivative is the softmax of (x, y), smooth
    at every order.

    >>> logaddexp(np.array([1000.0]), np.array([1000.0])) - 1000.0
    array([0.69314718])
    """
    x, y = promote_float(x, y)
    shift = stop_gradient(maximum(x, y))
    shift = where(isfinite(shift), shift, 0.0)  # both -inf, or one inf: the answer follows from exp alone
    return log(exp(x - shift) + exp(y - shift)) + shift


def logaddexp2(x: ArrayLike, y: ArrayLike) -> ArrayLike:
    """``log2(2**x + 2**y)`` without overflow.

    >>> logaddexp2(np.array([3.0]), np.array([3.0]))
    array([4.])
    """
    x, y = promote_float(x, y)
    ln2 = full_of(x, np.log(2))
    return logaddexp(x * ln2, y * ln2) / ln2


# --- trigonometry -----------------------------------------------------------------------------

sin = _unary(P.sin, ">>> sin(np.array([0.0]))\narray([0.])")
cos = _unary(P.cos, ">>> cos(np.array([0.0]))\narray([1.])")
tanh = _unary(P.tanh, ">>> tanh(np.array([0.0]))\narray([0.])")
sinh = _unary(P.sinh, ">>> sinh(np.array([0.0]))\narray([0.])")
cosh = _unary(P.cosh, ">>> cosh(np.array([0.0]))\narray([1.])")
arcsin = _unary(P.asin, ">>> arcsin(np.array([1.0]))\narray([1.57079633])")
arccos = _unary(P.acos, ">>> arccos(np.array([1.0]))\narray([0.])")
arctan = _unary(P.atan, ">>> arctan(np.array([1.0]))\narray([0.78539816])")
arcsinh = _unary(P.asinh, ">>> arcsinh(np.array([0.0]))\narray([0.])")
arccosh = _unary(P.acosh, ">>> arccosh(np.array([1.0]))\narray([0.])")
arctanh = _unary(P.atanh, ">>> arctanh(np.array([0.0]))\narray([0.])")
arctan2 = _binary(P.atan2, ">>> arctan2(np.array([1.0]), np.array([-1.0]))  # the angle of (-1, 1)\narray([2.35619449])",
                  promote_float)
hypot = _binary(P.hypot, ">>> hypot(np.array([3.0]), 4.0)\narray([5.])", promote_float)


def tan(x: ArrayLike) -> ArrayLike:
    """Elementwise tangent, ``sin(x) / cos(x)``.

    >>> tan(np.array([0.0]))
    array([0.])
    """
    return sin(x) / cos(x)


def deg2rad(x: ArrayLike) -> ArrayLike:
    """Degrees to radians.

    >>> deg2rad(np.array([180.0]))
    array([3.14159265])
    """
    x = promote_float(x)[0]
    return x * full_of(x, np.pi / 180)


def rad2deg(x: ArrayLike) -> ArrayLike:
    """Radians to degrees.

    >>> rad2deg(np.array([np.pi]))
    array([180.])
    """
    x = promote_float(x)[0]
    return x * full_of(x, 180 / np.pi)


radians, degrees = deg2rad, rad2deg

# sin(pi x) / (pi x) near 0 as its Maclaurin series, whose derivatives at 0 are exact to any
# order (the quotient's are 0/0 there); the series' error below |pi x| = 0.1 is under 1e-19.
_SINC_SERIES = [(-1) ** k / float(np.prod(np.arange(1, 2 * k + 2))) for k in range(8)]


def sinc(x: ArrayLike) -> ArrayLike:
    """The normalized sinc, ``sin(pi x) / (pi x)``, with value 1 and exact derivatives at 0.

    >>> sinc(np.array([0.0, 0.5]))
    array([1.        , 0.63661977])
    """
    x = promote_float(x)[0]
    px = x * full_of(x, np.pi)
    near_zero = less(abs(px), 0.1)
    far = where(near_zero, 1.0, px)
    z2 = square(where(near_zero, px, 0.0))
    series = full_of(x, _SINC_SERIES[-1])
    for c in reversed(_SINC_SERIES[:-1]):
        series = series * z2 + c
    return where(near_zero, series, sin(far) / far)


# --- rounding (piecewise constant: no derivative) -----------------------------------------------

def _rounding(prim, ufunc, example: str):
    def fn(x: ArrayLike) -> ArrayLike:
        x = asarray(x)
        if not is_float(x.dtype):
            return cast(x, ufunc(np.zeros(0, x.dtype)).dtype)
        return prim(x)
    fn.__doc__ = f"Elementwise ``{ufunc.__name__}``; its derivative is zero.\n\n{example}"
    return fn


floor = _rounding(P.floor, np.floor, ">>> floor(np.array([-1.5, 1.5]))\narray([-2.,  1.])")
ceil = _rounding(P.ceil, np.ceil, ">>> ceil(np.array([-1.5, 1.5]))\narray([-1.,  2.])")
rint = _rounding(P.rint, np.rint, ">>> rint(np.array([0.5, 1.5, 2.7]))  # halves to even\narray([0., 2., 3.])")
trunc = fix = _rounding(P.trunc, np.trunc, ">>> trunc(np.array([-1.7, 1.7]))\narray([-1.,  1.])")


def round(x: ArrayLike, decimals: int = 0) -> ArrayLike:  # noqa: A001
    """``x`` rounded to ``decimals`` places, halves to even, as NumPy does (multiply, ``rint``,
    divide); the derivative is zero.

    >>> round(np.array([1.25, 2.5, 123.0]), 1)
    array([  1.2,   2.5, 123. ])
    """
    x = asarray(x)
    if not is_float(x.dtype):
        if decimals >= 0:
            return x
        scale = 10 ** -decimals
        return cast(rint(cast(x, np.dtype(np.float64)) / scale) * scale, x.dtype)
    if decimals == 0:
        return rint(x)
    scale = full_of(x, 10.0 ** decimals)
    return rint(x * scale) / scale


around = round


# --- comparisons and logic (no derivative) ------------------------------------------------------

less = _binary(P.lt, ">>> less(np.array([1, 3]), 2)\narray([ True, False])")
less_equal = _binary(P.le, ">>> less_equal(np.array([1, 3]), 3)\narray([ True,  True])")
greater = _binary(P.gt, ">>> greater(np.array([1, 3]), 2)\narray([False,  True])")
greater_equal = _binary(P.ge, ">>> greater_equal(np.array([1, 3]), 3)\narray([False,  True])")
equal = _binary(P.eq, ">>> equal(np.array([1, 3]), 3)\narray([False,  True])")
not_equal = _binary(P.ne, ">>> not_equal(np.array([1, 3]), 3)\narray([ True, False])")


def _truth(x):
    x = asarray(x)
    return x if x.dtype == np.bool_ else P.ne(x, zeros_of(x))


def logical_and(x: ArrayLike, y: ArrayLike) -> ArrayLike:
    """Elementwise ``x and y`` (nonzero is true).

    >>> logical_and(np.array([1.0, 0.0, 2.0]), np.array([True, True, False]))
    array([ True, False, False])
    """
    x, y = _truth(x), _truth(y)
    return P.select(x, y, np.zeros((), bool))


def logical_or(x: ArrayLike, y: ArrayLike) -> ArrayLike:
    """Elementwise ``x or y``.

    >>> logical_or(np.array([1.0, 0.0]), np.array([False, False]))
    array([ True, False])
    """
    x, y = _truth(x), _truth(y)
    return P.select(x, np.ones((), bool), y)


def logical_not(x: ArrayLike) -> ArrayLike:
    """Elementwise ``not x``.

    >>> logical_not(np.array([0.0, 3.0]))
    array([ True, False])
    """
    x = _truth(x)
    return P.eq(x, np.zeros((), bool))


def logical_xor(x: ArrayLike, y: ArrayLike) -> ArrayLike:
    """Elementwise ``x != y`` on truth values.

    >>> logical_xor(np.array([1.0, 0.0]), np.array([True, True]))
    array([False,  True])
    """
    return P.ne(_truth(x), _truth(y))


def isnan(x: ArrayLike) -> ArrayLike:
    """Where ``x`` is NaN (the one value not equal to itself).

    >>> isnan(np.array([1.0, np.nan]))
    array([False,  True])
    """
    x = asarray(x)
    return P.ne(x, x)


def isinf(x: ArrayLike) -> ArrayLike:
    """Where ``x`` is infinite.

    >>> isinf(np.array([1.0, -np.inf]))
    array([False,  True])
    """
    x = asarray(x)
    if not is_float(x.dtype):
        return P.ne(x, x)  # all False
    return P.eq(P.abs(x), full_of(x, np.inf))


def isfinite(x: ArrayLike) -> ArrayLike:
    """Where ``x`` is neither infinite nor NaN.

    >>> isfinite(np.array([1.0, np.inf, np.nan]))
    array([ True, False, False])
    """
    x = asarray(x)
    if not is_float(x.dtype):
        return P.eq(x, x)  # all True
    return P.lt(P.abs(x), full_of(x, np.inf))


def signbit(x: ArrayLike) -> ArrayLike:
    """Where the sign bit is set (negative numbers and -0.0).

    >>> signbit(np.array([-0.0, 0.0, -2.0]))
    array([ True, False,  True])
    """
    x = promote_float(x)[0]
    return P.lt(P.copysign(np.ones((), x.dtype), x), zeros_of(x))


def nan_to_num(x: ArrayLike, copy: bool = True, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None) -> ArrayLike:
    """``x`` with NaN and infinities replaced by finite numbers (the dtype's extremes by default);
    the derivative is 1 where ``x`` is finite.

    >>> nan_to_num(np.array([np.nan, 1.0, -np.inf]), neginf=-9.0)
    array([ 0.,  1., -9.])
    """
    x = asarray(x)
    if not is_float(x.dtype):
        return x
    info = np.finfo(x.dtype)
    x = where(isnan(x), nan, x)
    x = where(equal(x, np.inf), info.max if posinf is None else posinf, x)
    return where(equal(x, -np.inf), info.min if neginf is None else neginf, x)


def real(x: ArrayLike) -> ArrayLike:
    """The real part: ``x`` itself (micrograd computes with real numbers).

    >>> real(np.array([1.5]))
    array([1.5])
    """
    return asarray(x)


def imag(x: ArrayLike) -> ArrayLike:
    """The imaginary part of a real array: zeros.

    >>> imag(np.array([1.5]))
    array([0.])
    """
    x = asarray(x)
    return P.broadcast_to(zeros_of(x), shape=x.shape)


def conj(x: ArrayLike) -> ArrayLike:
    """The complex conjugate of a real array: ``x`` itself.

    >>> conj(np.array([1.5]))
    array([1.5])
    """
    return asarray(x)


conjugate = conj


def angle(x: ArrayLike, deg: bool = False) -> ArrayLike:
    """The argument of a real number: 0 for positive, pi for negative numbers (and -0.0).

    >>> angle(np.array([2.0, -2.0]))
    array([0.        , 3.14159265])
    """
    x = promote_float(x)[0]
    a = P.atan2(P.broadcast_to(zeros_of(x), shape=x.shape), x)
    return rad2deg(a) if deg else a


# --- neural-network elementwise functions -------------------------------------------------------

sigmoid = _unary(P.logistic, ">>> sigmoid(np.array([0.0]))\narray([0.5])")


def relu(x: ArrayLike) -> ArrayLike:
    """``max(x, 0)``, with derivative 0 at 0 (as in PyTorch and JAX).

    >>> relu(np.array([-1.0, 2.0]))
    array([0., 2.])
    """
    x = asarray(x)
    return P.select(P.gt(x, zeros_of(x)), x, zeros_of(x))


def stop_gradient(x: ArrayLike) -> ArrayLike:
    """``x``, but no derivative flows through it.

    >>> import micrograd as mg
    >>> mg.grad(lambda x: x * stop_gradient(x))(3.0)
    array(3.)
    """
    return P.stop_gradient(asarray(x))
