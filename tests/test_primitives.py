"""Numerical checks of every primitive in ``micrograd.primitives.PRIMITIVES``.

Each case of the table below is a function written with ``micrograd.numpy`` (or Python
operators), a NumPy reference for its forward value, and float64 arguments drawn from a fixed
RNG inside the function's smooth domain. Every case is checked

* forward: eager and traced (``mg.vjp``) values against NumPy;
* reverse mode, first and second order, against central differences (``check_grads``).

A coverage test traces every case and fails when a primitive of the table is not exercised, so
new primitives must get cases here. Exact-value tests pin down behaviour numerical checks cannot
see (ties, kinks, zero derivatives) and dtype tests check float32 / Python-float handling.
"""
from __future__ import annotations

from typing import Any, Callable, NamedTuple

import numpy as np
import pytest

import micrograd as mg
import micrograd.numpy as mnp
from micrograd.primitives import PRIMITIVES, Index, scatter_add
from micrograd.testing import check_grads

_rng = np.random.default_rng(20240607)


# --- argument generators (float64, at most ~12 elements per argument) ----------------------------

def normal(*shape):
    return np.asarray(_rng.standard_normal(shape), np.float64)


def positive(*shape):
    """In [0.5, 2]: for log, sqrt, fractional powers, pow's base."""
    return np.asarray(_rng.uniform(0.5, 2.0, shape), np.float64)


def nonzero(*shape):
    """|x| in [0.4, 2] with random signs: for div, abs, sign."""
    return np.asarray(_rng.uniform(0.4, 2.0, shape) * _rng.choice([-1.0, 1.0], shape), np.float64)


def grid(*shape, offset=0.0):
    """Multiples of 0.5 (plus ``offset``): ``grid(s)`` and ``grid(s, offset=0.25)`` never tie and are
    at least 0.25 apart, so maximum / minimum / comparisons stay away from their kinks."""
    return np.asarray(_rng.choice(np.arange(-4, 4) * 0.5, shape) + offset, np.float64)


def distinct(*shape):
    """Pairwise distinct values at least 0.5 apart (no ties for max / min / argmax)."""
    n = int(np.prod(shape, dtype=np.int64))
    return np.asarray((_rng.permutation(n) - n / 2) * 0.5 + _rng.uniform(-0.1, 0.1), np.float64).reshape(shape)


# --- the table -----------------------------------------------------------------------------------

class Case(NamedTuple):
    id: str
    f: Callable
    ref: Callable  # plain NumPy
    args: tuple
    grad_kw: dict  # extra check_grads arguments (tolerances)
    fwd_rtol: float


CASES: list[Case] = []


def case(id: str, f: Callable, ref: Callable, *args: Any, fwd_rtol: float = 1e-12, **grad_kw: Any) -> None:
    CASES.append(Case(id, f, ref, tuple(args), grad_kw, fwd_rtol))


def shape_id(*shapes) -> str:
    return "_".join("x".join(map(str, s)) or "0d" for s in shapes)


# elementwise unary ----------------------------------------------------------------------------
UNARY = [
    ("neg", lambda x: -x, np.negative, normal),
    ("negative", mnp.negative, np.negative, normal),
    ("exp", mnp.exp, np.exp, normal),
    ("log", mnp.log, np.log, positive),
    ("log1p", mnp.log1p, np.log1p, lambda *s: np.asarray(_rng.uniform(-0.5, 1.5, s))),
    ("expm1", mnp.expm1, np.expm1, normal),
    ("sqrt", mnp.sqrt, np.sqrt, positive),
    ("sin", mnp.sin, np.sin, normal),
    ("cos", mnp.cos, np.cos, normal),
    ("tanh", mnp.tanh, np.tanh, normal),
    ("sigmoid", mnp.sigmoid, lambda x: 1 / (1 + np.exp(-x)), lambda *s: 3 * normal(*s)),
    ("abs", mnp.abs, np.abs, nonzero),
    ("abs_builtin", lambda x: abs(x), np.abs, nonzero),
    # sign's derivative is zero: the product rule leaves d/dx = sign(x) * 2x
    ("sign", lambda x: mnp.sign(x) * x * x, lambda x: np.sign(x) * x * x, nonzero),
    ("tan", mnp.tan, np.tan, lambda *s: np.asarray(_rng.uniform(-1.0, 1.0, s))),
    ("numpy_dispatch", lambda x: np.tanh(np.exp(x)) * np.sin(x), lambda x: np.tanh(np.exp(x)) * np.sin(x), normal),
]
for name, f, ref, gen in UNARY:
    for shape in [(), (4,), (2, 3)]:
        case(f"{name}-{shape_id(shape)}", f, ref, gen(*shape))

# elementwise binary arithmetic with broadcasting --------------------------------------------------
BINARY_SHAPES = [((4,), (4,)), ((3, 1), (1, 4)), ((), (2, 3)), ((2, 3), (3,)), ((), ()), ((2, 1, 3), (2, 1))]
BINARY = [
    ("add", lambda x, y: x + y, np.add, normal),
    ("sub", lambda x, y: x - y, np.subtract, normal),
    ("mul", lambda x, y: x * y, np.multiply, normal),
    ("div", lambda x, y: x / y, np.true_divide, nonzero),
]
for name, f, ref, gen_y in BINARY:
    for sx, sy in BINARY_SHAPES:
        case(f"{name}-{shape_id(sx, sy)}", f, ref, normal(*sx), gen_y(*sy))
case("add_fn", mnp.add, np.add, normal(2, 3), normal(3))
case("subtract_fn", mnp.subtract, np.subtract, normal(3, 1), normal(2))
case("multiply_fn", mnp.multiply, np.multiply, normal(), normal(2, 2))
case("divide_fn", mnp.divide, np.divide, normal(2, 2), nonzero(2, 1))
case("reciprocal", mnp.reciprocal, np.reciprocal, nonzero(3))
case("radd_scalar", lambda x: 1.5 + x, lambda x: 1.5 + x, normal(3))
case("rsub_scalar", lambda x: 2.0 - x, lambda x: 2.0 - x, normal(2, 2))
case("rmul_int", lambda x: 3 * x, lambda x: 3 * x, normal())
case("rdiv_scalar", lambda x: 2.0 / x, lambda x: 2.0 / x, nonzero(4))
case("div_scalar", lambda x: x / 4, lambda x: x / 4, normal(2, 3))
case("chain_arith", lambda x, y: (x * y - y / x) * (x + 1.0), lambda x, y: (x * y - y / x) * (x + 1.0),
     nonzero(3, 1), normal(4))

# pow with an array exponent (differentiated with respect to base and exponent) --------------------
for sx, sy in [((4,), (4,)), ((2, 1), (3,)), ((), (2, 2)), ((2, 3), ()), ((), ())]:
    case(f"pow-{shape_id(sx, sy)}", lambda x, y: x ** y, np.power, positive(*sx), normal(*sy))
case("power_fn", mnp.power, np.power, positive(3), positive(3) * 2)
case("rpow_scalar_base", lambda y: 2.0 ** y, lambda y: 2.0 ** y, normal(2, 2))
case("pow_array_int_valued_exponent", lambda x: x ** np.array([2.0, 3.0, -1.0]),
     lambda x: x ** np.array([2.0, 3.0, -1.0]), positive(3))

# pow with a Python-number exponent (pow_scalar) ----------------------------------------------------
POW_SCALAR = [
    ("sq", 2, normal), ("cube", 3, normal), ("half", 0.5, positive), ("m1.5", -1.5, positive),
    ("zero", 0, normal), ("one", 1, normal), ("m2", -2, nonzero), ("2.5", 2.5, positive),
]
for name, p, gen in POW_SCALAR:
    for shape in [(), (2, 3)]:
        case(f"pow_scalar_{name}-{shape_id(shape)}", lambda x, p=p: x ** p, lambda x, p=p: np.power(x, p), gen(*shape))
case("square", mnp.square, np.square, normal(4))
case("power_fn_scalar", lambda x: mnp.power(x, 3), lambda x: x ** 3, normal(2, 2))

# maximum / minimum away from ties -------------------------------------------------------------------
for sx, sy in [((4,), (4,)), ((3, 1), (1, 4)), ((), (2, 3)), ((2, 3), (3,))]:
    # times x, so that the second-order check differentiates the (traced) tie rule too
    case(f"maximum-{shape_id(sx, sy)}", lambda x, y: mnp.maximum(x, y) * x, lambda x, y: np.maximum(x, y) * x,
         grid(*sx), grid(*sy, offset=0.25))
    case(f"minimum-{shape_id(sx, sy)}", lambda x, y: mnp.minimum(x, y) * y, lambda x, y: np.minimum(x, y) * y,
         grid(*sx), grid(*sy, offset=0.25))
case("maximum_scalar", lambda x: mnp.maximum(x, 0.3), lambda x: np.maximum(x, 0.3), grid(2, 3))
case("minimum_scalar", lambda x: mnp.minimum(0.3, x), lambda x: np.minimum(0.3, x), grid(4))
case("maximum_dispatch", lambda x, y: np.maximum(x, y) ** 2, lambda x, y: np.maximum(x, y) ** 2, grid(3), grid(3, offset=0.25))
case("relu", lambda x: mnp.relu(x) * x, lambda x: np.maximum(x, 0) * x, nonzero(2, 3))
case("clip", lambda x: mnp.clip(x, -0.6, 0.6) ** 2, lambda x: np.clip(x, -0.6, 0.6) ** 2, grid(3, 3, offset=0.25))

# comparisons, used inside where so the function is differentiable -----------------------------------
COMPARISONS = [
    ("lt", lambda x, y: x < y, np.less),
    ("le", lambda x, y: x <= y, np.less_equal),
    ("gt", lambda x, y: x > y, np.greater),
    ("ge", lambda x, y: x >= y, np.greater_equal),
    ("less_fn", mnp.less, np.less),
    ("greater_equal_fn", mnp.greater_equal, np.greater_equal),
]
for name, cmp, np_cmp in COMPARISONS:
    for sx, sy in [((4,), (4,)), ((3, 1), (1, 4))]:
        case(f"where_{name}-{shape_id(sx, sy)}",
             lambda x, y, cmp=cmp: mnp.where(cmp(x, y), x * y, x - y * y),
             lambda x, y, np_cmp=np_cmp: np.where(np_cmp(x, y), x * y, x - y * y),
             grid(*sx), grid(*sy, offset=0.25))
# eq / ne on piecewise-constant values of the arguments (signs away from 0), so the condition is locally fixed
for name, cmp, np_cmp in [("eq", lambda a, b: a == b, np.equal), ("ne", lambda a, b: a != b, np.not_equal),
                          ("equal_fn", mnp.equal, np.equal), ("not_equal_fn", mnp.not_equal, np.not_equal)]:
    case(f"where_{name}",
         lambda x, y, cmp=cmp: mnp.where(cmp(mnp.sign(x), mnp.sign(y)), x * y, x + y * y),
         lambda x, y, np_cmp=np_cmp: np.where(np_cmp(np.sign(x), np.sign(y)), x * y, x + y * y),
         nonzero(3, 1), nonzero(4))
case("where_gt_scalar", lambda x: mnp.where(x > 0.25, x ** 2, -x), lambda x: np.where(x > 0.25, x ** 2, -x), grid(2, 3))
case("where_le_scalar_0d", lambda x: mnp.where(x <= 0.1, mnp.sin(x), mnp.cos(x)),
     lambda x: np.where(x <= 0.1, np.sin(x), np.cos(x)), grid())
case("where_eq_int_argmax",
     lambda x: mnp.where(mnp.argmax(x, axis=1, keepdims=True) == 1, x * x, 2 * x),
     lambda x: np.where(np.argmax(x, axis=1, keepdims=True) == 1, x * x, 2 * x), distinct(3, 3))
case("astype_bool", lambda x: mnp.astype(x > 0, np.float64) * x * x, lambda x: (x > 0) * x * x, nonzero(4))

# select (where) with broadcasting between condition and values -------------------------------------
COND = np.array([[True, False, True, True], [False, False, True, False], [True, True, False, False]])
case("where_bcast", lambda x, y: mnp.where(COND, x * x, mnp.sin(y)), lambda x, y: np.where(COND, x * x, np.sin(y)),
     normal(4), normal(3, 1))
case("where_python_scalar", lambda x: mnp.where(COND, 0.5, x ** 3), lambda x: np.where(COND, 0.5, x ** 3), normal(3, 4))
case("where_0d_values", lambda x, y: mnp.where(COND[:2, :2], x * y, y), lambda x, y: np.where(COND[:2, :2], x * y, y),
     normal(), normal())
case("where_0d_all", lambda x, y: mnp.where(np.array(True), x, y * y), lambda x, y: np.where(True, x, y * y),
     normal(), normal())
case("where_int_condition", lambda x: mnp.where(np.array([0, 2, 0]), x, -x * x), lambda x: np.where([0, 2, 0], x, -x * x),
     normal(3))

# reduce_sum ---------------------------------------------------------------------------------------
for axis, keepdims in [(None, False), (0, False), (1, False), (-1, False), ((0, 2), False), ((2, 0), True),
                       (None, True), (1, True), ((), False)]:
    # sin(sum(x)): the second-order check then differentiates the traced reduce_sum rule too
    case(f"sum-axis{axis}-keep{keepdims}",
         lambda x, axis=axis, keepdims=keepdims: mnp.sin(mnp.sum(x, axis=axis, keepdims=keepdims)),
         lambda x, axis=axis, keepdims=keepdims: np.sin(np.sum(x, axis=axis, keepdims=keepdims)), normal(2, 3, 2))
case("sum-0d", lambda x: mnp.sum(x) ** 2, lambda x: np.sum(x) ** 2, normal())
case("sum-0d-keepdims", lambda x: mnp.sum(x, keepdims=True) * x, lambda x: np.sum(x, keepdims=True) * x, normal())
case("sum-linear", lambda x: mnp.sum(x, axis=1), lambda x: np.sum(x, axis=1), normal(3, 4))
case("sum-method", lambda x: x.sum(axis=0) * x.sum(), lambda x: x.sum(axis=0) * x.sum(), normal(3, 2))
case("mean", lambda x: mnp.mean(x, axis=1) ** 2, lambda x: np.mean(x, axis=1) ** 2, normal(2, 4))
case("var", lambda x: mnp.var(x, axis=0), lambda x: np.var(x, axis=0), normal(4, 2))
case("std_ddof1", lambda x: x.std(ddof=1), lambda x: x.std(ddof=1), normal(5))
case("logsumexp", lambda x: mnp.logsumexp(x, axis=-1), lambda x: np.log(np.sum(np.exp(x), axis=-1)), normal(2, 3))
case("softmax", lambda x: mnp.softmax(x, axis=0), lambda x: np.exp(x) / np.sum(np.exp(x), axis=0), normal(3, 2))
case("log_softmax", lambda x: mnp.log_softmax(x), lambda x: x - np.log(np.sum(np.exp(x), axis=-1, keepdims=True)),
     normal(2, 3))

# reduce_max / reduce_min without ties ---------------------------------------------------------------
for name, f, ref in [("max", mnp.max, np.max), ("min", mnp.min, np.min)]:
    for axis, keepdims in [(None, False), (1, False), (-1, False), ((0, 2), False), (0, True), (None, True)]:
        case(f"{name}-axis{axis}-keep{keepdims}",
             lambda x, f=f, axis=axis, keepdims=keepdims: f(x, axis=axis, keepdims=keepdims) ** 2,
             lambda x, ref=ref, axis=axis, keepdims=keepdims: ref(x, axis=axis, keepdims=keepdims) ** 2,
             distinct(2, 3, 2))
    case(f"{name}-0d", lambda x, f=f: f(x) * x, lambda x, ref=ref: ref(x) * x, normal())
    case(f"{name}-linear", lambda x, f=f: f(x, axis=0), lambda x, ref=ref: ref(x, axis=0), distinct(3, 2))
case("max-method", lambda x: x.max(axis=1) * x.min(), lambda x: x.max(axis=1) * x.min(), distinct(3, 3))
case("amax_amin", lambda x: mnp.amax(x, axis=0) - mnp.amin(x, axis=0) ** 3,
     lambda x: np.amax(x, axis=0) - np.amin(x, axis=0) ** 3, distinct(2, 3))

# argmax / argmin, used to index -----------------------------------------------------------------------
case("argmax_index", lambda x: x[mnp.argmax(x)] ** 2, lambda x: x[np.argmax(x)] ** 2, distinct(5))
case("argmin_flat_index", lambda x: mnp.ravel(x)[mnp.argmin(x)] * x,
     lambda x: np.ravel(x)[np.argmin(x)] * x, distinct(2, 3))
case("argmax_axis1", lambda x: x[np.arange(2), mnp.argmax(x, axis=1)] ** 3,
     lambda x: x[np.arange(2), np.argmax(x, axis=1)] ** 3, distinct(2, 3))
case("argmin_axis0", lambda x: mnp.sin(x[mnp.argmin(x, axis=0), np.arange(3)]),
     lambda x: np.sin(x[np.argmin(x, axis=0), np.arange(3)]), distinct(2, 3))
case("argmax_method_take", lambda x: mnp.take(x, x.argmax(axis=-1), axis=1) * 2.0,
     lambda x: np.take(x, x.argmax(axis=-1), axis=1) * 2.0, distinct(3, 3))
case("argmin_0d", lambda x: mnp.ravel(x)[mnp.argmin(x)] * x, lambda x: x.reshape(1)[np.argmin(x)] * x, normal())

# reshape / broadcast_to / transpose / squeeze / expand_dims (composed with sin for a nonzero second order)
SHAPE_OPS = [
    ("reshape", lambda x: mnp.reshape(x, (3, 4)), lambda x: np.reshape(x, (3, 4)), (2, 3, 2)),
    ("reshape_method_minus1", lambda x: x.reshape(4, -1), lambda x: x.reshape(4, -1), (2, 3, 2)),
    ("reshape_0d_to_2d", lambda x: mnp.reshape(x, (1, 1)), lambda x: np.reshape(x, (1, 1)), ()),
    ("reshape_to_0d", lambda x: mnp.reshape(x, ()), lambda x: np.reshape(x, ()), (1, 1)),
    ("ravel", mnp.ravel, np.ravel, (3, 2)),
    ("flatten", lambda x: x.flatten(), lambda x: x.flatten(), (2, 2)),
    ("broadcast_to_row", lambda x: mnp.broadcast_to(x, (2, 3)), lambda x: np.broadcast_to(x, (2, 3)), (3,)),
    ("broadcast_to_col", lambda x: mnp.broadcast_to(x, (2, 3)), lambda x: np.broadcast_to(x, (2, 3)), (2, 1)),
    ("broadcast_to_0d", lambda x: mnp.broadcast_to(x, (2, 2)), lambda x: np.broadcast_to(x, (2, 2)), ()),
    ("broadcast_to_lead", lambda x: mnp.broadcast_to(x, (2, 2, 3)), lambda x: np.broadcast_to(x, (2, 2, 3)), (1, 3)),
    ("transpose_T", lambda x: x.T, lambda x: x.T, (2, 3)),
    ("transpose_perm", lambda x: mnp.transpose(x, (1, 2, 0)), lambda x: np.transpose(x, (1, 2, 0)), (2, 3, 2)),
    ("transpose_method", lambda x: x.transpose(2, 0, 1), lambda x: x.transpose(2, 0, 1), (2, 3, 2)),
    ("transpose_neg_axes", lambda x: mnp.transpose(x, (-1, 0, 1)), lambda x: np.transpose(x, (-1, 0, 1)), (2, 1, 3)),
    ("swapaxes", lambda x: mnp.swapaxes(x, 0, 2), lambda x: np.swapaxes(x, 0, 2), (2, 3, 2)),
    ("moveaxis", lambda x: mnp.moveaxis(x, 0, -1), lambda x: np.moveaxis(x, 0, -1), (2, 3, 2)),
    ("squeeze_all", mnp.squeeze, np.squeeze, (1, 3, 1)),
    ("squeeze_axis", lambda x: mnp.squeeze(x, axis=0), lambda x: np.squeeze(x, axis=0), (1, 3, 1)),
    ("squeeze_to_0d", mnp.squeeze, np.squeeze, (1, 1)),
    ("expand_dims_last", lambda x: mnp.expand_dims(x, -1), lambda x: np.expand_dims(x, -1), (2, 3)),
    ("expand_dims_0d", lambda x: mnp.expand_dims(x, 0), lambda x: np.expand_dims(x, 0), ()),
    ("expand_dims_tuple", lambda x: mnp.expand_dims(x, (0, 2)), lambda x: np.expand_dims(x, (0, 2)), (3,)),
]
for name, f, ref, shape in SHAPE_OPS:
    case(name, lambda x, f=f: mnp.sin(f(x)) * 2.0, lambda x, ref=ref: np.sin(ref(x)) * 2.0, normal(*shape))
case("broadcast_to_linear", lambda x: mnp.broadcast_to(x, (3, 2)), lambda x: np.broadcast_to(x, (3, 2)), normal(3, 1))
case("transpose_times_self", lambda x: x.T @ x, lambda x: x.T @ x, normal(3, 2))

# concatenate / stack ------------------------------------------------------------------------------
case("concatenate_axis1", lambda x, y: mnp.concatenate([x, y], axis=1) ** 2,
     lambda x, y: np.concatenate([x, y], axis=1) ** 2, normal(2, 3), normal(2, 1))
case("concatenate_three_axis0", lambda x, y: mnp.sin(mnp.concatenate([x, y, x])),
     lambda x, y: np.sin(np.concatenate([x, y, x])), normal(2, 3), normal(1, 3))
case("concatenate_neg_axis", lambda x, y: mnp.concatenate((x * y[:, :, :2], y), axis=-1),
     lambda x, y: np.concatenate((x * y[:, :, :2], y), axis=-1), normal(2, 1, 2), normal(2, 1, 3))
case("concatenate_dispatch", lambda x, y: np.concatenate([x, y]) * np.concatenate([y, x]),
     lambda x, y: np.concatenate([x, y]) * np.concatenate([y, x]), normal(3), normal(3))
case("concatenate_single", lambda x: mnp.concatenate([x]) * x, lambda x: np.concatenate([x]) * x, normal(3))
case("stack_0d", lambda x, y: mnp.stack([x, y, x * y]), lambda x, y: np.stack([x, y, x * y]), normal(), normal())
case("stack_axis1", lambda x, y: mnp.stack([x, y], axis=1) ** 2, lambda x, y: np.stack([x, y], axis=1) ** 2,
     normal(3), normal(3))
case("stack_axis_neg", lambda x, y: mnp.sin(mnp.stack([x, y], axis=-1)), lambda x, y: np.sin(np.stack([x, y], axis=-1)),
     normal(2, 2), normal(2, 2))

# gather: basic slicing, integer-array indexing, mixed -----------------------------------------------
GATHERS = [
    ("int", lambda x: x[1], (3, 4)),
    ("int_int_0d", lambda x: x[-1, 2], (3, 4)),
    ("slice", lambda x: x[1:3], (4,)),
    ("step", lambda x: x[::2], (5,)),
    ("reverse", lambda x: x[::-1], (2, 3)),
    ("neg_step_bounds", lambda x: x[3:0:-2], (5,)),
    ("neg_step_none_int", lambda x: x[::-2, None, 1], (4, 3)),
    ("ellipsis_int", lambda x: x[..., 1], (2, 3, 2)),
    ("int_ellipsis_none", lambda x: x[1, ..., None], (2, 3, 2)),
    ("0d_none", lambda x: x[None], ()),
    ("0d_ellipsis", lambda x: x[...], ()),
    ("0d_none_ellipsis_none", lambda x: x[None, ..., None], ()),
    ("slices_2d", lambda x: x[1:, ::-2], (3, 4)),
    ("array_repeated", lambda x: x[np.array([0, 2, 0, 0])], (3,)),
    ("list_repeated", lambda x: x[[1, 1, 0]], (3, 2)),
    ("array_2d_index", lambda x: x[np.array([[0, 1], [1, 0], [2, 2]])], (3,)),
    ("array_negative", lambda x: x[np.array([-1, 0, -1]), ::-1], (3, 2)),
    ("mixed_array_slice_array", lambda x: x[np.array([0, 1, 0]), 1:, np.array([2, 0, 2])], (2, 2, 3)),
    ("slice_then_array", lambda x: x[:, np.array([2, 0, 2])], (2, 3)),
    ("broadcast_index_arrays", lambda x: x[np.array([0, 1]), np.array([[1], [0], [1]])], (2, 3)),
    ("bool_mask_const", lambda x: x[np.array([True, False, True, True])], (4,)),
    ("array_then_none", lambda x: x[np.array([1, 1]), None], (3, 2)),
    ("take_flat", lambda x: mnp.take(x, np.array([3, 0, 3])), (2, 3)),
    ("take_axis1", lambda x: mnp.take(x, np.array([1, 1]), axis=1), (2, 3)),
    ("chained", lambda x: x[1:][::-1][0], (3, 2)),
]
for name, f, shape in GATHERS:
    # the same Python indexing works on NumPy arrays, so f itself is the reference when fed ndarrays
    case(f"gather_{name}", lambda x, f=f: mnp.sin(f(x)) * 3.0, lambda x, f=f: np.sin(f(np.asarray(x))) * 3.0,
         normal(*shape))
case("gather_linear_repeated", lambda x: x[np.array([1, 1, 1, 0])], lambda x: x[np.array([1, 1, 1, 0])], normal(2))


# scatter_add, differentiated with respect to the updates ---------------------------------------------
def _split_key(key) -> tuple[Index, list]:
    """A NumPy index tuple as (Index, its integer-array operands)."""
    items, arrays = [], []
    for k in key:
        if isinstance(k, np.ndarray):
            items.append(Index.ARRAY)
            arrays.append(k)
        else:
            items.append(k)
    return Index(items), arrays


def _np_scatter_add(u, shape, key):
    out = np.zeros(shape)
    np.add.at(out, key, u)
    return out


SCATTERS = [  # (name, key, output shape, updates shape)
    ("slice", (slice(1, 4),), (5,), (3,)),
    ("neg_step", (slice(None, None, -2),), (5,), (3,)),
    ("array_repeated", (np.array([0, 2, 0, 3]),), (4,), (4,)),
    ("array_then_slice", (np.array([1, 1, 0]), slice(None)), (3, 2), (3, 2)),
    ("slice_then_array", (slice(None), np.array([2, 2])), (2, 3), (2, 2)),
    ("int_none_ellipsis", (1, None, Ellipsis), (2, 3), (1, 3)),
    ("0d", (Ellipsis,), (), ()),
    ("broadcast_updates_0d", (slice(None),), (3,), ()),
    ("broadcast_updates_row", (np.array([0, 2, 0]),), (4, 2), (2,)),
    ("broadcast_updates_size1", (slice(None), np.array([1, 0, 1])), (2, 3), (2, 1)),
]
for name, key, out_shape, u_shape in SCATTERS:
    index, arrays = _split_key(key)
    case(f"scatter_add_{name}",
         lambda u, index=index, arrays=arrays, out_shape=out_shape:
             mnp.sin(scatter_add(u, *arrays, shape=out_shape, index=index)) + 1.0,
         lambda u, key=key, out_shape=out_shape: np.sin(_np_scatter_add(u, out_shape, key)) + 1.0,
         normal(*u_shape))
case("scatter_add_linear", lambda u: scatter_add(u, np.array([2, 2, 0]), shape=(3,), index=Index([Index.ARRAY])),
     lambda u: _np_scatter_add(u, (3,), (np.array([2, 2, 0]),)), normal(3))

# matmul ---------------------------------------------------------------------------------------------
MATMULS = [
    ((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 2)), ((2, 3), (3, 2)), ((2, 2, 3), (2, 3, 2)),
    ((2, 1, 2, 2), (3, 2, 2)), ((2, 2, 3), (3,)), ((3,), (2, 3, 2)), ((1, 2, 3), (3, 2)), ((1, 1), (1, 1)),
]
for sx, sy in MATMULS:
    case(f"matmul-{shape_id(sx, sy)}", lambda x, y: x @ y, np.matmul, normal(*sx), normal(*sy))
case("matmul_fn_nonlinear", lambda x, y: mnp.tanh(mnp.matmul(x, y)), lambda x, y: np.tanh(x @ y), normal(2, 2), normal(2, 3))
case("matmul_dispatch", lambda x, y: np.matmul(x, y) ** 2, lambda x, y: np.matmul(x, y) ** 2, normal(2, 3), normal(3))
case("matmul_self", lambda x: x @ x, lambda x: x @ x, normal(3, 3))
case("dot_2d", mnp.dot, np.dot, normal(2, 3), normal(3, 2))
case("dot_0d", mnp.dot, np.dot, normal(), normal(3))
case("outer", mnp.outer, np.outer, normal(3), normal(2))

# cast -----------------------------------------------------------------------------------------------
# float64 -> float32 -> float64 is the identity up to float32 rounding: large steps, loose tolerances
case("cast_f32_roundtrip", lambda x: mnp.sin(mnp.astype(mnp.astype(x, np.float32), np.float64)),
     lambda x: np.sin(x.astype(np.float32).astype(np.float64)), normal(2, 3),
     fwd_rtol=1e-6, eps=1e-2, atol=1e-3, rtol=1e-3)
case("cast_asarray_dtype", lambda x: mnp.asarray(x, np.float32) * np.float32(2.0),
     lambda x: x.astype(np.float32) * np.float32(2.0), normal(4), fwd_rtol=1e-6, eps=1e-2, atol=1e-3, rtol=1e-3)
# float -> int is piecewise constant (zero derivative); 2x stays 0.5 away from the integers
case("cast_to_int", lambda x: x * mnp.astype(mnp.astype(x * 2, np.int64), np.float64),
     lambda x: x * (x * 2).astype(np.int64).astype(np.float64), grid(2, 3, offset=0.25))

# stop_gradient inside a function whose value does not depend on it (the shift of a stable logsumexp)
case("stop_gradient_shift", lambda x: mnp.log(mnp.sum(mnp.exp(x - mnp.stop_gradient(x[0])))) + mnp.stop_gradient(x[0]),
     lambda x: np.log(np.sum(np.exp(x))), normal(4))

# hyperbolic and inverse functions, atan2, hypot, cbrt ---------------------------------------------------
def inside(lo, hi):
    return lambda *s: np.asarray(_rng.uniform(lo, hi, s), np.float64)


MORE_UNARY = [
    ("sinh", mnp.sinh, np.sinh, normal), ("cosh", mnp.cosh, np.cosh, normal),
    ("arcsin", mnp.arcsin, np.arcsin, inside(-0.8, 0.8)), ("arccos", mnp.arccos, np.arccos, inside(-0.8, 0.8)),
    ("arctan", mnp.arctan, np.arctan, normal), ("arcsinh", mnp.arcsinh, np.arcsinh, normal),
    ("arccosh", mnp.arccosh, np.arccosh, inside(1.2, 3.0)), ("arctanh", mnp.arctanh, np.arctanh, inside(-0.8, 0.8)),
    ("cbrt", mnp.cbrt, np.cbrt, nonzero),
]
for name, f, ref, gen in MORE_UNARY:
    for shape in [(), (2, 3)]:
        case(f"{name}-{shape_id(shape)}", f, ref, gen(*shape))
for sx, sy in [((3,), (3,)), ((2, 1), (3,)), ((), ())]:
    case(f"arctan2-{shape_id(sx, sy)}", mnp.arctan2, np.arctan2, nonzero(*sx), nonzero(*sy))
    case(f"hypot-{shape_id(sx, sy)}", mnp.hypot, np.hypot, nonzero(*sx), nonzero(*sy))

# rounding has no derivative: times x, so that the derivative is the rounded value; values stay 0.25
# away from where the rounding jumps
for name, f, ref in [("floor", mnp.floor, np.floor), ("ceil", mnp.ceil, np.ceil), ("rint", mnp.rint, np.rint),
                     ("trunc", mnp.trunc, np.trunc)]:
    case(f"{name}", lambda x, f=f: f(x) * x, lambda x, ref=ref: ref(x) * x, grid(2, 3, offset=0.25))
# remainder, fmod, floor_divide: x / y stays away from integers (y = 0.75, 1.75 or 2.75; x on a 0.5 grid + 0.1)
DIVISORS = np.array([[0.75], [1.75], [-2.75]])
case("remainder", mnp.remainder, np.remainder, grid(3, 4, offset=0.1), DIVISORS)
case("fmod", mnp.fmod, np.fmod, grid(3, 4, offset=0.1), DIVISORS)
case("floor_divide", lambda x, y: mnp.floor_divide(x, y) * x, lambda x, y: np.floor_divide(x, y) * x,
     grid(3, 4, offset=0.1), DIVISORS)
case("copysign", lambda x, y: mnp.copysign(x, y) * y, lambda x, y: np.copysign(x, y) * y, nonzero(2, 3), nonzero(3))

# argsort (through sort, a gather at its positions) and cumsum ---------------------------------------------
case("sort_axis1", lambda x: mnp.sort(x, axis=1) * np.arange(3.0), lambda x: np.sort(x, axis=1) * np.arange(3.0),
     distinct(2, 3))
case("sort_flat", lambda x: mnp.sin(mnp.sort(x, axis=None)), lambda x: np.sin(np.sort(x, axis=None)), distinct(2, 2))
for axis in (0, 1):
    case(f"cumsum_axis{axis}", lambda x, axis=axis: mnp.sin(mnp.cumsum(x, axis=axis)),
         lambda x, axis=axis: np.sin(np.cumsum(x, axis=axis)), normal(3, 4))


# windows (im2col) and unwindows (col2im): the gather and scatter convolutions are made of ---------------
def _windows_reference(x, window, strides, dilation, padding, pad_value=0.0):
    """(N, *out, *window, C) straight from the definition, one window element at a time."""
    x = np.pad(x, ((0, 0), (0, 0)) + tuple(padding), constant_values=pad_value)
    out = [(n - (k - 1) * d - 1) // s + 1 for n, k, d, s in zip(x.shape[2:], window, dilation, strides)]
    cols = np.empty((x.shape[0], *out, *window, x.shape[1]))
    for o in np.ndindex(*out):
        for k in np.ndindex(*window):
            at = tuple(oi * s + ki * d for oi, ki, s, d in zip(o, k, strides, dilation))
            cols[(slice(None),) + o + k] = x[(slice(None), slice(None)) + at]
    return cols


_WINDOWS = dict(window=(2, 2), strides=(2, 1), dilation=(1, 2), padding=((1, 0), (0, 1)))
case("windows", lambda x: mnp.sin(mg.primitives.windows(x, pad_value=0.0, **_WINDOWS)),
     lambda x: np.sin(_windows_reference(x, **_WINDOWS)), normal(2, 2, 3, 3))
case("windows_1d", lambda x: mg.primitives.windows(x, window=(3,), strides=(1,), dilation=(1,), padding=((1, 1),),
                                                   pad_value=0.0) ** 2,
     lambda x: _windows_reference(x, (3,), (1,), (1,), ((1, 1),)) ** 2, normal(1, 2, 4))


def _unwindows_reference(cols):
    """The transpose of ``_windows_reference``: each window element added back where it came from."""
    x = np.zeros((2, 2, 3, 3))
    for i in np.ndindex(x.shape):
        e = np.zeros(x.shape)
        e[i] = 1.0
        x[i] = np.sum(_windows_reference(e, **_WINDOWS) * cols)
    return x


case("unwindows", lambda c: mnp.sin(mg.primitives.unwindows(c, shape=(2, 2, 3, 3), **_WINDOWS)),
     lambda c: np.sin(_unwindows_reference(c)), normal(2, 2, 2, 2, 2, 2))


def _first_maxima(x, window, strides, dilation, padding):
    """Per (n, c, *out): the input position of the window's first maximum (padding is -inf)."""
    out = [(n + lo + hi - (k - 1) * d - 1) // s + 1 for n, k, d, s, (lo, hi) in
           zip(x.shape[2:], window, dilation, strides, padding)]
    positions = {}
    for n, c, *o in np.ndindex(*x.shape[:2], *out):
        best = None
        for k in np.ndindex(*window):
            p = tuple(oi * s + ki * d - lo for oi, ki, s, d, (lo, _) in zip(o, k, strides, dilation, padding))
            if all(0 <= pi < size for pi, size in zip(p, x.shape[2:])) and (best is None or x[(n, c) + p] > x[best]):
                best = (n, c) + p
        positions[(n, c) + tuple(o)] = best
    return tuple(x.shape[:2]) + tuple(out), positions


def _max_pool_reference(x, what="max", t=None, **pool):
    shape, positions = _first_maxima(x, **pool)
    if what == "scatter":  # t: a cotangent of the pooled shape, added at the maxima
        result = np.zeros(x.shape)
        for o, p in positions.items():
            result[p] += t[o]
        return result
    result = np.empty(shape)
    for o, p in positions.items():
        result[o] = x[p] if what == "max" else t[p]
    return result


_POOL = dict(window=(2, 3), strides=(2, 1), dilation=(1, 2), padding=((1, 1), (0, 2)))
_X = distinct(1, 2, 3, 4)  # distinct values: the maxima, hence the derivatives, hold near these inputs
case("max_pool", lambda x: mnp.sin(mg.primitives.max_pool(x, **_POOL)),
     lambda x: np.sin(_max_pool_reference(x, **_POOL)), distinct(1, 2, 3, 4))
case("max_pool_gather", lambda t: mg.primitives.max_pool_gather(t, _X, **_POOL) ** 2,
     lambda t: _max_pool_reference(_X, "gather", t, **_POOL) ** 2, normal(1, 2, 3, 4))
case("max_pool_scatter", lambda g: mnp.sin(mg.primitives.max_pool_scatter(g, _X, **_POOL)),
     lambda g: np.sin(_max_pool_reference(_X, "scatter", g, **_POOL)), normal(*_first_maxima(_X, **_POOL)[0]))


# linear algebra ------------------------------------------------------------------------------------------
def spd(x):
    """A symmetric positive-definite matrix from any square x (the derivative sees both triangles)."""
    return mnp.matmul(x, mnp.swapaxes(x, -1, -2)) + 3.0 * np.eye(x.shape[-1])


def spd_np(x):
    return x @ np.swapaxes(x, -1, -2) + 3.0 * np.eye(x.shape[-1])


def well_conditioned(*shape):
    return normal(*shape) + 3.0 * np.eye(shape[-1])


case("solve_matrix", lambda a, b: mnp.linalg.solve(a, b), np.linalg.solve, well_conditioned(3, 3), normal(3, 2))
case("solve_batched", lambda a, b: mnp.linalg.solve(a, b), np.linalg.solve, well_conditioned(2, 3, 3), normal(3, 1))
case("solve_vector", lambda a, b: mnp.linalg.solve(a, b), np.linalg.solve, well_conditioned(3, 3), normal(3))
case("inv", mnp.linalg.inv, np.linalg.inv, well_conditioned(3, 3))
case("slogdet", lambda a: mnp.linalg.slogdet(a)[1] * mnp.linalg.slogdet(a)[0],
     lambda a: np.linalg.slogdet(a)[1] * np.linalg.slogdet(a)[0], well_conditioned(2, 3, 3))
case("det", mnp.linalg.det, np.linalg.det, well_conditioned(3, 3))
case("cholesky", lambda x: mnp.linalg.cholesky(spd(x)), lambda x: np.linalg.cholesky(spd_np(x)), normal(3, 3))
case("eigh", lambda x: mnp.concatenate([mnp.linalg.eigh(spd(x))[0][:, None], mnp.linalg.eigh(spd(x))[1] ** 2], axis=1),
     lambda x: np.concatenate([np.linalg.eigh(spd_np(x))[0][:, None], np.linalg.eigh(spd_np(x))[1] ** 2], axis=1),
     normal(3, 3))
for shape in [(4, 3), (3, 4)]:
    case(f"svd-{shape_id(shape)}",
         lambda a: mnp.concatenate([mnp.ravel(mnp.linalg.svd(a, full_matrices=False)[1]),
                                    mnp.ravel(mnp.linalg.svd(a, full_matrices=False)[0] ** 2),
                                    mnp.ravel(mnp.linalg.svd(a, full_matrices=False)[2] ** 2)]),
         lambda a: np.concatenate([np.ravel(np.linalg.svd(a, full_matrices=False)[1]),
                                   np.ravel(np.linalg.svd(a, full_matrices=False)[0] ** 2),
                                   np.ravel(np.linalg.svd(a, full_matrices=False)[2] ** 2)]), normal(*shape))
case("qr", lambda a: mnp.linalg.qr(a)[0] @ mnp.linalg.qr(a)[1] + mnp.linalg.qr(a)[1][0, 0],
     lambda a: np.linalg.qr(a)[0] @ np.linalg.qr(a)[1] + np.linalg.qr(a)[1][0, 0], normal(4, 3))

# higher-order primitives: loops, branches, custom rules, recomputation --------------------------------
def _scan_case(x, w):
    carry, ys = mg.lax.scan(lambda c, xi: (mnp.tanh(c * w + xi), c * xi), np.ones(2) * 0.5, x)
    return mnp.concatenate([carry, ys.ravel()])


def _scan_reference(x, w):
    c, ys = np.ones(2) * 0.5, []
    for xi in x:
        c, y = np.tanh(c * w + xi), c * xi
        ys.append(y)
    return np.concatenate([c, np.ravel(ys)])


case("scan", _scan_case, _scan_reference, normal(3, 2), normal(2))


def _while_reference(x):
    i, c = 0, x
    while i < 3:
        i, c = i + 1, np.sin(c) * 1.5 + c * c
    return c


case("while", lambda x: mg.lax.while_loop(lambda s: s[0] < 3, lambda s: (s[0] + 1, mnp.sin(s[1]) * 1.5 + s[1] * s[1]),
                                          (0, x))[1], _while_reference, inside(-0.5, 0.5)(3), modes=("fwd",))
for name, gen in [("true", positive), ("false", lambda *s: -positive(*s))]:
    case(f"cond_{name}", lambda x, y: mg.lax.cond(mnp.sum(x) > 0, lambda a, b: mnp.sin(a) * b, lambda a, b: a ** 3 - b, x, y),
         lambda x, y: np.sin(x) * y if np.sum(x) > 0 else x ** 3 - y, gen(3), normal(3))


@mg.custom_jvp
def _softplus(x):
    return mnp.log1p(mnp.exp(x))


@_softplus.defjvp
def _softplus_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return _softplus(x), t * mnp.sigmoid(x)


@mg.custom_vjp
def _cube(x):
    return x ** 3


_cube.defvjp(lambda x: (x ** 3, x), lambda x, g: (3 * x * x * g,))
case("custom_jvp", lambda x: _softplus(x) * x, lambda x: np.log1p(np.exp(x)) * x, normal(2, 3))
case("custom_vjp", lambda x: mnp.sin(_cube(x)), lambda x: np.sin(x ** 3), normal(4), modes=("rev",))
case("checkpoint", lambda x, y: mg.checkpoint(lambda a, b: mnp.tanh(a @ b) * a[:, :1])(x, y),
     lambda x, y: np.tanh(x @ y) * x[:, :1], normal(2, 3), normal(3, 2))

assert len({c.id for c in CASES}) == len(CASES), "case ids must be unique"


# --- table tests ---------------------------------------------------------------------------------

@pytest.mark.parametrize("c", CASES, ids=[c.id for c in CASES])
def test_forward_matches_numpy(c: Case):
    expected = np.asarray(c.ref(*c.args))
    for label, got in [("eager", c.f(*c.args)), ("traced", mg.vjp(c.f, *c.args)[0])]:
        assert np.shape(got) == expected.shape, f"{label}: shape {np.shape(got)} != NumPy's {expected.shape}"
        np.testing.assert_allclose(np.asarray(got, np.float64), expected, rtol=c.fwd_rtol, atol=1e-12,
                                   err_msg=label)


@pytest.mark.parametrize("c", CASES, ids=[c.id for c in CASES])
def test_grads_first_and_second_order(c: Case):
    check_grads(c.f, c.args, order=2, **c.grad_kw)


THIRD_ORDER = ["sin-2x3", "tanh-4", "sigmoid-4", "log-4", "sqrt-0d", "div-3x1_1x4", "pow-2x1_3", "pow_scalar_m1.5-2x3",
               "maximum-3x1_1x4", "where_lt-3x1_1x4", "max-axis1-keepFalse", "sum-axis(2, 0)-keepTrue", "gather_mixed_array_slice_array",
               "scatter_add_broadcast_updates_row", "matmul_fn_nonlinear", "concatenate_axis1", "transpose_perm", "logsumexp"]


@pytest.mark.parametrize("c", [c for c in CASES if c.id in THIRD_ORDER], ids=lambda c: c.id)
def test_grads_third_order_on_selected_cases(c: Case):
    check_grads(c.f, c.args, order=3, **c.grad_kw)


def test_third_order_selection_exists():
    assert set(THIRD_ORDER) <= {c.id for c in CASES}


def _traced_primitive_names(f, args) -> set[str]:
    return {eqn.prim.name for eqn in mg.make_ir(f)(*args).eqns}


def test_every_primitive_has_a_case():
    covered: set[str] = set()
    for c in CASES:
        covered |= _traced_primitive_names(c.f, c.args)
    assert set(PRIMITIVES) - covered == set(), "primitives without a case in the table"
    assert covered <= set(PRIMITIVES)


def test_coverage_check_sees_each_primitive_by_name():
    # the coverage test is only as good as the names it collects: spot-check a few traced programs
    assert _traced_primitive_names(lambda x: x[mnp.argmax(x)], (np.ones(3),)) == {"reshape", "argmax", "gather"}
    assert "scatter_add" in _traced_primitive_names(
        lambda u: scatter_add(u, shape=(3,), index=Index([slice(None)])), (np.ones(3),))
    assert _traced_primitive_names(lambda x: mnp.stop_gradient(x) * 2.0, (np.ones(2),)) == {"stop_gradient", "mul"}


# --- exact values: ties, kinks, zero derivatives ------------------------------------------------------

def test_max_ties_share_the_gradient():
    np.testing.assert_array_equal(mg.grad(mnp.max)(np.array([1.0, 3.0, 3.0])), [0.0, 0.5, 0.5])
    np.testing.assert_array_equal(mg.grad(mnp.min)(np.array([2.0, 1.0, 1.0, 5.0])), [0.0, 0.5, 0.5, 0.0])
    np.testing.assert_allclose(mg.grad(mnp.max)(np.array([2.0, 2.0, 2.0])), [1 / 3] * 3, rtol=1e-15)
    g = mg.grad(lambda x: mnp.sum(mnp.max(x, axis=1) * np.array([1.0, 2.0])))(np.array([[3.0, 3.0, 1.0], [0.0, 2.0, 1.0]]))
    np.testing.assert_array_equal(g, [[0.5, 0.5, 0.0], [0.0, 2.0, 0.0]])


def test_maximum_minimum_ties_give_half_each():
    gx, gy = mg.grad(mnp.maximum, argnums=(0, 1))(2.0, 2.0)
    assert (float(gx), float(gy)) == (0.5, 0.5)
    gx, gy = mg.grad(mnp.minimum, argnums=(0, 1))(-1.0, -1.0)
    assert (float(gx), float(gy)) == (0.5, 0.5)
    x, y = np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 4.0])
    gx, gy = mg.grad(lambda x, y: mnp.sum(mnp.maximum(x, y)), argnums=(0, 1))(x, y)
    np.testing.assert_array_equal(gx, [0.5, 1.0, 0.0])
    np.testing.assert_array_equal(gy, [0.5, 0.0, 1.0])
    gx, gy = mg.grad(lambda x, y: mnp.sum(mnp.minimum(x, y)), argnums=(0, 1))(x, y)
    np.testing.assert_array_equal(gx, [0.5, 0.0, 1.0])
    np.testing.assert_array_equal(gy, [0.5, 1.0, 0.0])
    # a broadcast operand sums its shares: 1/2 at each of the two ties, 1 where it wins outright
    gy = mg.grad(lambda x, y: mnp.sum(mnp.maximum(x, y)), argnums=1)(np.array([2.0, 2.0, 1.0]), np.array(2.0))
    assert float(gy) == 0.5 + 0.5 + 1.0


def test_relu_and_abs_have_zero_derivative_at_zero():
    np.testing.assert_array_equal(mg.grad(lambda x: mnp.sum(mnp.relu(x)))(np.array([-1.0, 0.0, 2.0])), [0.0, 0.0, 1.0])
    assert float(mg.grad(mnp.relu)(0.0)) == 0.0
    assert float(mg.grad(mg.grad(lambda x: mnp.relu(x) * x))(0.0)) == 0.0
    np.testing.assert_array_equal(mg.grad(lambda x: mnp.sum(mnp.abs(x)))(np.array([-2.0, 0.0, 3.0])), [-1.0, 0.0, 1.0])


def test_sign_has_exactly_zero_derivative():
    x = nonzero(5)
    g = mg.grad(lambda x: mnp.sum(mnp.sign(x) * np.arange(5.0)))(x)
    assert g.shape == (5,) and not np.any(g) and np.all(np.isfinite(g))
    assert float(mg.grad(mg.grad(mnp.sign))(0.7)) == 0.0


def test_stop_gradient_blocks_the_derivative():
    x = normal(3)
    g = mg.grad(lambda x: mnp.sum(mnp.stop_gradient(x) ** 2))(x)
    assert g.shape == (3,) and not np.any(g)
    # d/dx [x * sg(x)] = sg(x): the value of x (not 2x), itself with zero derivative (as in JAX)
    assert float(mg.grad(lambda x: x * mnp.stop_gradient(x))(3.0)) == 3.0
    assert float(mg.grad(mg.grad(lambda x: x * mnp.stop_gradient(x)))(3.0)) == 0.0
    # only the stopped path is cut: d2/dx2 [x**2 * sg(x)] = 2 sg(x)
    assert float(mg.grad(mg.grad(lambda x: x ** 2 * mnp.stop_gradient(x)))(3.0)) == 6.0
    np.testing.assert_array_equal(mg.grad(lambda x: mnp.sum(x * mnp.stop_gradient(mnp.exp(x))))(x), np.exp(x))


def test_cast_roundtrip_derivative_is_exact():
    c = np.array([0.5, -2.0, 3.0, 0.25])  # exactly representable in float32
    g = mg.grad(lambda x: mnp.sum(mnp.astype(mnp.astype(x, np.float32), np.float64) * c))(normal(4))
    assert g.dtype == np.float64
    np.testing.assert_array_equal(g, c)
    g = mg.grad(lambda x: mnp.sum(mnp.astype(x, np.int64) * 1.0 + x))(normal(3))
    np.testing.assert_array_equal(g, np.ones(3))


def test_pow_exact_values_at_zero():
    assert float(mg.grad(mg.grad(lambda x: x ** 2))(0.0)) == 2.0
    assert float(mg.grad(mg.grad(mg.grad(lambda x: x ** 3)))(0.0)) == 6.0
    assert float(mg.grad(lambda x: x ** 0)(0.0)) == 0.0
    # d/dy 0**y = 0 (y > 0): the log(0) never reaches the result, at first or second order
    assert float(mg.grad(lambda x, y: x ** y, argnums=1)(0.0, 2.0)) == 0.0
    assert float(mg.grad(mg.grad(lambda x, y: x ** y, argnums=1), argnums=1)(0.0, 2.0)) == 0.0
    assert float(mg.grad(lambda x, y: x ** y, argnums=0)(0.0, 2.0)) == 0.0
    # d/dy 2**y = 2**y log 2, and d2/dy2 = 2**y log(2)**2
    np.testing.assert_allclose(mg.grad(mg.grad(lambda y: 2.0 ** y))(3.0), 8 * np.log(2) ** 2, rtol=1e-14)


def test_scatter_add_repeated_indices_add_up():
    u, idx, w = np.array([1.0, 2.0, 3.0]), np.array([0, 2, 0]), np.array([10.0, 20.0, 30.0, 40.0])
    out = scatter_add(u, idx, shape=(4,), index=Index([Index.ARRAY]))
    np.testing.assert_array_equal(out, [4.0, 0.0, 2.0, 0.0])
    g = mg.grad(lambda u: mnp.sum(scatter_add(u, idx, shape=(4,), index=Index([Index.ARRAY])) * w))(u)
    np.testing.assert_array_equal(g, [10.0, 30.0, 10.0])
    # gather with repeated indices: its vjp adds the cotangents of the repeats
    np.testing.assert_array_equal(mg.grad(lambda x: mnp.sum(x[np.array([1, 1, 0, 1])]))(np.zeros(3)), [1.0, 3.0, 0.0])


def test_scatter_add_broadcast_updates_gradient_has_their_shape():
    # regression: the vjp of scatter_add returned the indexed shape, not the (broadcast) updates' shape
    g = mg.grad(lambda u: mnp.sum(scatter_add(u, shape=(3,), index=Index([slice(None)])) * np.array([1.0, 2.0, 4.0])))(
        np.array(0.5))
    assert np.shape(g) == () and float(g) == 7.0


# --- dtypes ---------------------------------------------------------------------------------------

_Y32 = np.array([0.5, 1.5, -1.0], np.float32)
_M32 = np.arange(6, dtype=np.float32).reshape(3, 2) / 4
F32_FUNCTIONS = [
    ("sin", lambda x: mnp.sum(mnp.sin(x))),
    ("cos_tanh", lambda x: mnp.sum(mnp.cos(x) * mnp.tanh(x))),
    ("exp_expm1_log1p", lambda x: mnp.sum(mnp.exp(x) + mnp.expm1(x) + mnp.log1p(x))),
    ("log_sqrt", lambda x: mnp.sum(mnp.log(x) * mnp.sqrt(x))),
    ("sigmoid_abs", lambda x: mnp.sum(mnp.sigmoid(x) * mnp.abs(x))),
    ("pow_scalar", lambda x: mnp.sum(x ** 2 + x ** 0.5 + x ** -1.5 + x ** 3)),
    ("pow_array", lambda x: mnp.sum(x ** _Y32 + mnp.abs(_Y32) ** x)),
    ("python_scalars", lambda x: mnp.sum(x * 2.0 + 1 - 3.0 / x)),
    ("maximum_minimum", lambda x: mnp.sum(mnp.maximum(x, 0.7) - mnp.minimum(x, _Y32))),
    ("max_min_mean", lambda x: mnp.max(x) - mnp.min(x) + mnp.mean(x)),
    ("where", lambda x: mnp.sum(mnp.where(x > 1.0, x, 2.0) * x)),
    ("gather", lambda x: mnp.sum(x[np.array([0, 2, 0])] * x[::-1])),
    ("concatenate_reshape_transpose", lambda x: mnp.sum(mnp.reshape(mnp.concatenate([x, x * x]), (2, 3)).T ** 2)),
    ("matmul", lambda x: mnp.sum(mnp.tanh(x @ _M32))),
    ("softmax_logsumexp", lambda x: mnp.sum(mnp.softmax(x) * x) + mnp.logsumexp(x)),
    ("argmax_stop_gradient", lambda x: x[mnp.argmax(x)] * mnp.stop_gradient(x[0])),
]


@pytest.mark.parametrize("f", [f for _, f in F32_FUNCTIONS], ids=[n for n, _ in F32_FUNCTIONS])
def test_float32_stays_float32(f):
    x32 = np.array([0.6, 1.3, 1.9], np.float32)
    value, g = mg.value_and_grad(f)(x32)
    assert np.asarray(value).dtype == np.float32
    assert g.dtype == np.float32 and g.shape == (3,)
    g64 = mg.grad(f)(x32.astype(np.float64))
    assert g64.dtype == np.float64
    np.testing.assert_allclose(g, g64, rtol=1e-4, atol=1e-5)


def test_float32_second_order_stays_float32():
    g2 = mg.grad(mg.grad(lambda x: mnp.sin(x) * x ** 2))(np.float32(0.7))
    assert np.asarray(g2).dtype == np.float32
    x = 0.7
    np.testing.assert_allclose(g2, -np.sin(x) * x ** 2 + 4 * x * np.cos(x) + 2 * np.sin(x), rtol=1e-5)


def test_float32_input_mixed_with_float64_gets_a_float32_gradient():
    y64 = np.array([1.0, 2.0, 3.0])
    value, g = mg.value_and_grad(lambda x: mnp.sum(x * y64))(np.ones(3, np.float32))
    assert np.asarray(value).dtype == np.float64  # promoted as in NumPy
    assert g.dtype == np.float32  # the cast's vjp brings the cotangent back to the input's dtype
    np.testing.assert_array_equal(g, y64.astype(np.float32))


@pytest.mark.parametrize("f, df", [
    (mnp.sin, np.cos),
    (lambda x: x ** 2, lambda x: 2 * x),
    (lambda x: x * x * x, lambda x: 3 * x * x),
    (mnp.exp, np.exp),
    (lambda x: mnp.maximum(x, 0.0) / 2, lambda x: 0.5 * (x > 0)),
    (lambda x: mnp.sum(mnp.stack([x, x ** 2])), lambda x: 1 + 2 * x),
], ids=["sin", "pow_scalar", "mul", "exp", "maximum_div", "stack_sum"])
def test_python_float_argument_gives_float64(f, df):
    value, g = mg.value_and_grad(f)(1.5)
    assert np.asarray(value).dtype == np.float64
    assert np.asarray(g).dtype == np.float64 and np.shape(g) == ()
    np.testing.assert_allclose(g, df(1.5), rtol=1e-14)


def test_integer_argument_is_rejected_by_grad():
    with pytest.raises(TypeError, match="float inputs"):
        mg.grad(mnp.sin)(2)
