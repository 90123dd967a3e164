"""Elementwise primitives. Operands broadcast as in NumPy and share one dtype (the wrappers in
:mod:`micrograd.numpy` promote them). An elementwise Jacobian is diagonal, so one linear map
per input, ``rule(t, out, *args)``, serves as both its forward (jvp) and reverse (vjp) rule;
:func:`elementwise` adds the broadcasting (and its reverse, summing) around it."""
from __future__ import annotations

import numpy as np

from ..core.errors import ShapeError, with_location
from ..core.ir import Aval
from ..core.primitive import Primitive
from . import shape as _shape


def broadcast_avals(name: str, avals) -> tuple[int, ...]:
    try:
        return np.broadcast_shapes(*(a.shape for a in avals))
    except ValueError:
        shapes = " and ".join(str(a.shape) for a in avals)
        raise ShapeError(with_location(f"{name}: operands of shapes {shapes} do not broadcast together")) from None


def elementwise(name: str, impl, *linear_maps, lower, out_dtype=None) -> Primitive:
    def shape(*avals, **params):
        # (written as loops: this runs for every traced elementwise operation)
        value_avals = avals[1:] if name == "select" else avals
        dtype, first, same_shape = value_avals[0].dtype, avals[0].shape, True
        for a in value_avals:
            if a.dtype != dtype:
                dtypes = {a.dtype for a in value_avals}
                raise TypeError(f"{name}: operands must share a dtype, got {sorted(map(str, dtypes))}")
        for a in avals:
            if a.shape != first:
                same_shape = False
        return Aval(first if same_shape else broadcast_avals(name, avals), out_dtype or dtype)

    def jvp_rule(rule):
        def jvp(t, out, *args, **params):
            dt = rule(t, out, *args, **params)
            if dt is not None and dt.shape != out.shape:
                dt = _shape.broadcast_to(dt, shape=out.shape)
            return dt
        return jvp

    def vjp_rule(rule, i):
        def vjp(ct, out, *args, **params):
            ct_in = rule(ct, out, *args, **params)
            return None if ct_in is None else _shape.sum_to(ct_in, args[i].shape)
        return vjp

    def batch(args, dims, **params):
        # batch axes first, and batched operands padded to the output's rank so that NumPy's
        # right-aligned broadcasting lines their other axes up with the unbatched operands
        rank = max(a.ndim - (d is not None) for a, d in zip(args, dims))
        moved = []
        for a, d in zip(args, dims):
            if d is not None:
                a = _shape.move_axis(a, d, 0)
                if a.ndim - 1 < rank:
                    a = _shape.reshape(a, shape=a.shape[:1] + (1,) * (rank - a.ndim + 1) + a.shape[1:])
            moved.append(a)
        return prim(*moved, **params), 0

    prim = Primitive(name, impl, shape,
                     jvp=tuple(r and jvp_rule(r) for r in linear_maps) or None,
                     vjp=tuple(r and vjp_rule(r, i) for i, r in enumerate(linear_maps)) or None,
                     batch=batch, lower=lower)
    return prim


def _zero(t):
    return np.zeros((), t.dtype)


def _one(t):
    return np.ones((), t.dtype)


def _ties(a, b):
    """1 where a > b, 1/2 where a == b: the derivative of max(a, b) with respect to a."""
    return cast(gt(a, b), dtype=a.dtype) + cast(eq(a, b), dtype=a.dtype) * 0.5


def _log_or_zero(x):
    """log(x), with 0 where x == 0 (where x**y's derivative in y multiplies it by 0 anyway)."""
    return log(select(eq(x, np.zeros((), x.dtype)), np.ones((), x.dtype), x))


neg = elementwise("neg", np.negative, lambda t, out, x: -t, lower="-{0}")
add = elementwise("add", np.add, lambda t, out, x, y: t, lambda t, out, x, y: t, lower="({0} + {1})")
sub = elementwise("sub", np.subtract, lambda t, out, x, y: t, lambda t, out, x, y: -t, lower="({0} - {1})")
mul = elementwise("mul", np.multiply, lambda t, out, x, y: t * y, lambda t, out, x, y: x * t, lower="({0} * {1})")
div = elementwise("div", np.true_divide, lambda t, out, x, y: t / y, lambda t, out, x, y: -(t * out) / y, lower="({0} / {1})")
pow = elementwise("pow", np.power,  # noqa: A001
                  lambda t, out, x, y: t * (y * pow(x, y - 1)),
                  lambda t, out, x, y: t * (out * _log_or_zero(x)), lower="({0} ** {1})")
pow_scalar = elementwise("pow_scalar", lambda x, p: np.power(x, np.asarray(p, x.dtype)),
                         lambda t, out, x, p: None if p == 0 else t * (p * (x if p == 2 else pow_scalar(x, p=p - 1))),
                         lower=lambda dt, x, p: _pow_scalar_code(dt, x, p))
def _vector_math(name: str):
    """Scalar code for a function that float32 loops compute with backend/vectormath.py's
    vectorizable version (float64 ones with the C library's)."""
    return lambda dt, x: f"{name}_f32({x})" if dt == "np.float32" else f"np.{name}({x})"


exp = elementwise("exp", np.exp, lambda t, out, x: t * out, lower=_vector_math("exp"))
log = elementwise("log", np.log, lambda t, out, x: t / x, lower="np.log({0})")
log1p = elementwise("log1p", np.log1p, lambda t, out, x: t / (x + 1), lower="np.log1p({0})")
expm1 = elementwise("expm1", np.expm1, lambda t, out, x: t * (out + 1), lower="np.expm1({0})")
sqrt = elementwise("sqrt", np.sqrt, lambda t, out, x: t / (out * 2), lower="np.sqrt({0})")
sin = elementwise("sin", np.sin, lambda t, out, x: t * cos(x), lower="np.sin({0})")
cos = elementwise("cos", np.cos, lambda t, out, x: -(t * sin(x)), lower="np.cos({0})")
tanh = elementwise("tanh", np.tanh, lambda t, out, x: t * (1 - out * out), lower=_vector_math("tanh"))
# Inverse and hyperbolic functions are primitives: written with exp, log and sqrt they lose
# digits (asinh(x) = log(x + sqrt(x*x + 1)) for small or negative x, acos near 1) or
# overflow early (cosh(710) is finite, exp(710) is not).
sinh = elementwise("sinh", np.sinh, lambda t, out, x: t * cosh(x), lower="np.sinh({0})")
cosh = elementwise("cosh", np.cosh, lambda t, out, x: t * sinh(x), lower="np.cosh({0})")
asin = elementwise("asin", np.arcsin, lambda t, out, x: t / sqrt(1 - x * x), lower="np.arcsin({0})")
acos = elementwise("acos", np.arccos, lambda t, out, x: -t / sqrt(1 - x * x), lower="np.arccos({0})")
atan = elementwise("atan", np.arctan, lambda t, out, x: t / (1 + x * x), lower="np.arctan({0})")
asinh = elementwise("asinh", np.arcsinh, lambda t, out, x: t / sqrt(x * x + 1), lower="np.arcsinh({0})")
acosh = elementwise("acosh", np.arccosh, lambda t, out, x: t / (sqrt(x - 1) * sqrt(x + 1)), lower="np.arccosh({0})")
atanh = elementwise("atanh", np.arctanh, lambda t, out, x: t / (1 - x * x), lower="np.arctanh({0})")
atan2 = elementwise("atan2", np.arctan2, lambda t, out, y, x: t * x / (x * x + y * y),
                    lambda t, out, y, x: -(t * y) / (x * x + y * y), lower="np.arctan2({0}, {1})")
hypot = elementwise("hypot", np.hypot, lambda t, out, x, y: t * x / out, lambda t, out, x, y: t * y / out,
                    lower="np.hypot({0}, {1})")
cbrt = elementwise("cbrt", np.cbrt, lambda t, out, x: t / (3 * out * out), lower="np.cbrt({0})")
# Rounding is piecewise constant: no derivative. remainder, fmod and floor_divide are
# primitives so that they round exactly as NumPy does (1 // 0.1 is 9.0, floor(1 / 0.1) is 10.0).
floor = elementwise("floor", np.floor, None, lower="np.floor({0})")
ceil = elementwise("ceil", np.ceil, None, lower="np.ceil({0})")
rint = elementwise("rint", np.rint, None, lower="np.rint({0})")
trunc = elementwise("trunc", np.trunc, None, lower="np.trunc({0})")
floor_divide = elementwise("floor_divide", np.floor_divide, None, None, lower="np.floor_divide({0}, {1})")
remainder = elementwise("remainder", np.remainder, lambda t, out, x, y: t,
                        lambda t, out, x, y: -(t * floor_divide(x, y)), lower="np.remainder({0}, {1})")
fmod = elementwise("fmod", np.fmod, lambda t, out, x, y: t, lambda t, out, x, y: -(t * trunc(x / y)),
                   lower="np.fmod({0}, {1})")
copysign = elementwise("copysign", np.copysign,
                       lambda t, out, x, y: t * (copysign(_one(x), x) * copysign(_one(x), y)), None,
                       lower="np.copysign({0}, {1})")


def _pow_scalar_code(dt: str, x: str, p) -> str:
    """Scalar code for x ** p with the exponent typed like x (an untyped 2.0 would widen float32)."""
    if p == int(p) and 0 <= p <= 4:
        return f"{dt}(1)" if p == 0 else "(" + " * ".join([x] * int(p)) + ")"
    if p == 0.5:
        return f"np.sqrt({x})"
    return f"({x} ** {dt}({p!r}))"


def _logistic(x):
    e = np.exp(-np.abs(x))  # never overflows
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _logistic_code(dt: str, x: str) -> str:
    """With e = exp(-|x|), 1 / (1 + e) for x >= 0 and e / (1 + e) below (never overflows)."""
    if dt == "np.float32":
        return f"logistic_f32({x})"
    e = f"np.exp(-np.abs({x}))"
    return f"(({dt}(1) if {x} >= {dt}(0) else {e}) / ({dt}(1) + {e}))"


logistic = elementwise("logistic", _logistic, lambda t, out, x: t * (out * (1 - out)), lower=_logistic_code)
abs = elementwise("abs", np.abs, lambda t, out, x: t * sign(x), lower="np.abs({0})")  # noqa: A001
sign = elementwise("sign", np.sign, None, lower="np.sign({0})")
maximum = elementwise("maximum", np.maximum, lambda t, out, x, y: t * _ties(x, y), lambda t, out, x, y: t * _ties(y, x), lower="np.maximum({0}, {1})")
minimum = elementwise("minimum", np.minimum, lambda t, out, x, y: t * _ties(y, x), lambda t, out, x, y: t * _ties(x, y), lower="np.minimum({0}, {1})")
select = elementwise("select", np.where, None,
                     lambda t, out, c, a, b: select(c, t, _zero(t)),
                     lambda t, out, c, a, b: select(c, _zero(t), t), lower="({1} if {0} else {2})")

lt = elementwise("lt", np.less, None, None, out_dtype=np.bool_, lower="({0} < {1})")
le = elementwise("le", np.less_equal, None, None, out_dtype=np.bool_, lower="({0} <= {1})")
gt = elementwise("gt", np.greater, None, None, out_dtype=np.bool_, lower="({0} > {1})")
ge = elementwise("ge", np.greater_equal, None, None, out_dtype=np.bool_, lower="({0} >= {1})")
eq = elementwise("eq", np.equal, None, None, out_dtype=np.bool_, lower="({0} == {1})")
ne = elementwise("ne", np.not_equal, None, None, out_dtype=np.bool_, lower="({0} != {1})")


def _is_float(dtype) -> bool:
    return np.issubdtype(dtype, np.floating)


cast = Primitive(
    "cast", lambda x, dtype: np.asarray(x).astype(dtype, copy=False),
    lambda x, dtype: Aval(x.shape, dtype), lower=lambda dt, x, dtype: f"np.{np.dtype(dtype).name}({x})",
    jvp=(lambda t, out, x, dtype: cast(t, dtype=dtype) if _is_float(dtype) else None,),
    vjp=(lambda ct, out, x, dtype: cast(ct, dtype=x.dtype) if _is_float(x.dtype) else None,))
cast.batch = _shape.keep_batch_dim(cast)

# The identity whose derivative is zero: it has no rules, so nothing flows through it (and eager
# tensors do not record it: its result is detached, as PyTorch's x.detach()).
stop_gradient = Primitive("stop_gradient", lambda x: x, lambda x: x, vjp=None, jvp=(None,), lower="{0}")
stop_gradient.batch = _shape.keep_batch_dim(stop_gradient)
