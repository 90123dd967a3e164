"""A bank of everyday NumPy derivative cases.

Each case is a small function ``f(xp, *args)`` written against a NumPy-like module ``xp``, so
the same code runs with plain ``numpy`` (which micrograd traces through NumPy's
``__array_ufunc__`` / ``__array_function__`` dispatch) and with ``micrograd.numpy``. ``args`` are
float64 arrays at a point where ``f`` is smooth; ``static`` holds the non-differentiated
arguments (index arrays, axes, weights, masks...) baked into ``f``. The cases come from NumPy's
documentation and from the code scientists and machine-learning people write every day; they
measure how much ordinary NumPy code micrograd can differentiate, so they are written as people
write NumPy, not as micrograd happens to support it.

``tests/test_numpy_bank.py`` checks values against plain NumPy and vector-Jacobian products
against central differences computed with plain NumPy.
"""
from __future__ import annotations

import math
import warnings
import zlib
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

FAMILIES = ("ufunc", "reduction", "shape", "indexing", "contraction", "linalg", "misc")


@dataclass(frozen=True)
class Case:
    name: str
    family: str
    f: Callable[..., Any]  # f(xp, *args), with ``static`` already baked in
    args: tuple
    static: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        shapes = ", ".join("x".join(map(str, a.shape)) or "()" for a in self.args)
        return f"Case({self.name!r}, {self.family}, args=[{shapes}])"


CASES: list[Case] = []


# --- argument makers: each draws from a generator seeded by the case's name ---------------------

def U(lo, hi, *shape):
    """Uniform draws in [lo, hi)."""
    return lambda rng: rng.uniform(lo, hi, shape)


def N(*shape):
    """Standard normal draws."""
    return lambda rng: rng.standard_normal(shape)


def PM(lo, hi, *shape):
    """Magnitudes in [lo, hi) with random signs: away from zero."""
    return lambda rng: rng.uniform(lo, hi, shape) * rng.choice([-1.0, 1.0], shape)


def WC(n, *batch):
    """A well-conditioned square matrix (or batch): Gaussian plus n times the identity."""
    return lambda rng: rng.standard_normal(batch + (n, n)) + n * np.eye(n)


def A(values):
    """Fixed values."""
    return lambda rng: np.array(values, dtype=np.float64)


def case(name, family, f, *args, static=None):
    assert family in FAMILIES, family
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    arrays = tuple(np.asarray(a(rng) if callable(a) else a, dtype=np.float64) for a in args)
    static = dict(static or {})
    if static:
        raw = f

        def f(xp, *a, _raw=raw, _static=static):
            return _raw(xp, *a, **_static)
    CASES.append(Case(name, family, f, arrays, static))


def spd(xp, b):
    """A symmetric positive definite matrix (or batch) built from an unconstrained one."""
    n = b.shape[-1]
    return b @ xp.swapaxes(b, -1, -2) + n * xp.eye(n)


NANMASK = np.array([1.0, np.nan, 1.0, 1.0, 1.0])
NANMASK2 = np.array([[1.0, np.nan, 1.0], [1.0, 1.0, np.nan]])


# =================================================================================================
# ufunc: elementwise functions and Python operators
# =================================================================================================

case("sin", "ufunc", lambda xp, x: xp.sin(x), N(2, 3))
case("log1p", "ufunc", lambda xp, x: xp.log1p(x), U(-0.5, 2.0, 5))
case("sinh", "ufunc", lambda xp, x: xp.sinh(x), N(5))
case("cosh", "ufunc", lambda xp, x: xp.cosh(x), N(5))
case("tanh", "ufunc", lambda xp, x: xp.tanh(x), N(2, 3))
case("arcsin", "ufunc", lambda xp, x: xp.arcsin(x), U(-0.9, 0.9, 5))
case("arccos", "ufunc", lambda xp, x: xp.arccos(x), U(-0.9, 0.9, 5))
case("arctan", "ufunc", lambda xp, x: xp.arctan(x), N(5))
case("arcsinh", "ufunc", lambda xp, x: xp.arcsinh(x), N(5))
case("arccosh", "ufunc", lambda xp, x: xp.arccosh(x), U(1.1, 4.0, 5))
case("arctanh", "ufunc", lambda xp, x: xp.arctanh(x), U(-0.9, 0.9, 5))
case("log2", "ufunc", lambda xp, x: xp.log2(x), U(0.2, 5.0, 5))
case("log10", "ufunc", lambda xp, x: xp.log10(x), U(0.2, 5.0, 5))
case("exp2", "ufunc", lambda xp, x: xp.exp2(x), N(5))
case("cbrt", "ufunc", lambda xp, x: xp.cbrt(x), A([-2.5, -0.7, 0.4, 1.9, 8.0]))
case("deg2rad", "ufunc", lambda xp, x: xp.sin(xp.deg2rad(x)), U(-180, 180, 4))
case("rad2deg", "ufunc", lambda xp, x: xp.rad2deg(x), N(4))
case("degrees", "ufunc", lambda xp, x: xp.degrees(x) ** 2, N(4))
case("radians", "ufunc", lambda xp, x: xp.cos(xp.radians(x)), U(-180, 180, 4))
case("fabs", "ufunc", lambda xp, x: xp.fabs(x), PM(0.2, 2.0, 5))
case("abs-np", "ufunc", lambda xp, x: xp.abs(x), PM(0.2, 2.0, 2, 3))
case("sinc", "ufunc", lambda xp, x: xp.sinc(x), A([-1.7, -0.6, 0.35, 1.3, 2.45]))
case("sinc-grid-with-zero", "ufunc", lambda xp, x: xp.sinc(x), A([-1.5, -0.5, 0.0, 0.5, 1.25]))
case("power-arrays", "ufunc", lambda xp, x, y: xp.power(x, y), U(0.3, 3.0, 4), N(4))
case("float_power", "ufunc", lambda xp, x, y: xp.float_power(x, y), U(0.3, 3.0, 4), N(4))
case("arctan2", "ufunc", lambda xp, y, x: xp.arctan2(y, x), U(0.2, 2.0, 5), PM(0.2, 2.0, 5))
case("hypot", "ufunc", lambda xp, x, y: xp.hypot(x, y), N(5), N(5))
case("logaddexp", "ufunc", lambda xp, x, y: xp.logaddexp(x, y), N(5), N(5))
case("logaddexp2", "ufunc", lambda xp, x, y: xp.logaddexp2(x, y), N(5), N(5))
case("fmax", "ufunc", lambda xp, x, y: xp.fmax(x, y), N(6), N(6))
case("fmin", "ufunc", lambda xp, x, y: xp.fmin(x, y), N(6), N(6))
case("maximum", "ufunc", lambda xp, x, y: xp.maximum(x, y), N(6), N(6))
case("maximum-relu", "ufunc", lambda xp, x: xp.maximum(x, 0.0), PM(0.1, 2.0, 2, 3))
case("remainder", "ufunc", lambda xp, x, y: xp.remainder(x, y), A([3.3, -2.2, 5.1, 0.4]), A([1.5, 0.7, 2.0, 0.9]))
case("mod", "ufunc", lambda xp, x: xp.mod(x, 1.5) * x, A([3.7, -2.2, 5.1, 0.4]))
case("fmod", "ufunc", lambda xp, x, y: xp.fmod(x, y), A([3.3, -2.2, 5.1, -0.4]), A([1.5, 0.7, -2.0, 0.9]))
case("floor_divide", "ufunc", lambda xp, x: xp.floor_divide(x, 0.7) * x, A([3.3, -2.2, 5.1, 1.2]))
case("copysign", "ufunc", lambda xp, x, y: xp.copysign(x, y), PM(0.2, 2.0, 6), PM(0.2, 2.0, 6))
case("heaviside", "ufunc", lambda xp, x: xp.heaviside(x, 0.5) * x ** 2, A([-1.3, -0.4, 0.6, 1.7]))
case("floor", "ufunc", lambda xp, x: xp.floor(x) * x, A([1.3, -2.6, 3.7, 0.2, -0.5]))
case("ceil", "ufunc", lambda xp, x: xp.ceil(x) * x, A([1.3, -2.6, 3.7, 0.2, -0.5]))
case("round", "ufunc", lambda xp, x: xp.round(x, 1) * x, A([1.33, -2.61, 3.77, 0.24]))
case("around", "ufunc", lambda xp, x: xp.around(x, 2) * xp.exp(x), A([1.3333, -2.6161, 0.2424]))
case("round-method", "ufunc", lambda xp, x: x.round(1) * x, A([1.33, -2.61, 0.77]))
case("rint", "ufunc", lambda xp, x: xp.rint(x) * x, A([1.3, -2.6, 3.7, 0.8]))
case("trunc", "ufunc", lambda xp, x: xp.trunc(x) * x, A([1.3, -2.6, 3.7, -0.8]))
case("fix", "ufunc", lambda xp, x: xp.fix(x) * x, A([1.3, -2.6, 3.7, -1.8]))
case("nan_to_num-masked", "ufunc", lambda xp, x, m: xp.nan_to_num(x * m), N(5), static=dict(m=NANMASK))
case("isnan-where", "ufunc", lambda xp, x, m: xp.where(xp.isnan(x * m), 0.0, x * m), N(5), static=dict(m=NANMASK))
case("isinf-where", "ufunc", lambda xp, x, c: xp.where(xp.isinf(c), x, x ** 2), N(4),
     static=dict(c=np.array([1.0, np.inf, -np.inf, 2.0])))
case("isfinite-where", "ufunc", lambda xp, x, c: xp.where(xp.isfinite(x * c), x ** 2, 0.0), N(4),
     static=dict(c=np.array([1.0, np.inf, 2.0, 0.5])))
case("logical_and", "ufunc", lambda xp, x: xp.where(xp.logical_and(x > -0.5, x < 0.5), x ** 2, x), A([-0.9, -0.2, 0.1, 0.7, 1.4]))
case("logical_or", "ufunc", lambda xp, x: xp.where(xp.logical_or(x < -1.0, x > 1.0), x ** 3, xp.sin(x)), A([-1.5, -0.3, 0.4, 1.2]))
case("logical_not", "ufunc", lambda xp, x: xp.where(xp.logical_not(x > 0), xp.exp(x), 1.0 + x), PM(0.2, 2.0, 5))
case("logical_xor", "ufunc", lambda xp, x, y: xp.where(xp.logical_xor(x > 0, y > 0), x * y, x + y), PM(0.2, 2, 6), PM(0.2, 2, 6))
case("where-and-operator", "ufunc", lambda xp, x: xp.where((x > 0) & (x < 1), x ** 2, 0.5 * x), A([-0.7, 0.3, 0.8, 1.6]))
case("real", "ufunc", lambda xp, x: xp.real(x) * x, N(4))
case("imag", "ufunc", lambda xp, x: xp.imag(x) + x ** 2, N(4))
case("conj", "ufunc", lambda xp, x: xp.conj(x) * 3.0, N(4))
case("conjugate", "ufunc", lambda xp, x: xp.conjugate(x) * x, N(4))
case("angle", "ufunc", lambda xp, x: (1.0 + xp.angle(x)) * x, PM(0.2, 2.0, 5))
case("op-mod", "ufunc", lambda xp, x: x % 1.0, A([1.3, -2.6, 3.7, 0.2]))
case("op-floordiv", "ufunc", lambda xp, x: (x // 2) * x, A([1.3, -2.6, 3.7, 4.5]))
case("op-divmod", "ufunc", lambda xp, x: (lambda q, r: q * x + r)(*divmod(x, 0.7)), A([3.3, -2.2, 5.1, 1.2]))
case("op-abs", "ufunc", lambda xp, x: abs(x), PM(0.2, 2.0, 5))
case("op-round-scalar", "ufunc", lambda xp, x: round(xp.sum(x), 1) * x, A([1.31, -0.22, 0.47]))
case("op-add-broadcast", "ufunc", lambda xp, x, b: x + b, N(2, 3), N(3))
case("clip", "ufunc", lambda xp, x: xp.clip(x, -0.5, 0.5), A([-1.2, -0.3, 0.1, 0.45, 0.9]))
case("clip-method", "ufunc", lambda xp, x: x.clip(0, 1), A([-1.2, 0.3, 0.7, 1.45]))
case("where", "ufunc", lambda xp, x: xp.where(x > 0, x, 0.01 * x), PM(0.1, 2.0, 2, 3))

# =================================================================================================
# reduction
# =================================================================================================

case("sum-axis1-keepdims", "reduction", lambda xp, x: xp.sum(x, axis=1, keepdims=True), N(2, 3))
case("sum-axis-tuple", "reduction", lambda xp, x: xp.sum(x, axis=(0, 2)), N(2, 3, 2))
case("mean-axis0", "reduction", lambda xp, x: xp.mean(x, axis=0), N(3, 2))
case("max-axis1", "reduction", lambda xp, x: xp.max(x, axis=1), N(3, 4))
case("amax", "reduction", lambda xp, x: xp.amax(x, axis=0), N(3, 2))
case("argmax-index", "reduction", lambda xp, x: x[xp.argmax(x)] * x, N(5))
case("prod", "reduction", lambda xp, x: xp.prod(x), U(0.5, 2.0, 5))
case("prod-axis0", "reduction", lambda xp, x: xp.prod(x, axis=0), N(3, 2))
case("prod-with-zero", "reduction", lambda xp, x: xp.prod(x), A([2.0, 0.0, 3.0, 1.5]))
case("prod-method", "reduction", lambda xp, x: x.prod(), PM(0.5, 1.5, 4))
case("cumsum-axis1", "reduction", lambda xp, x: xp.cumsum(x, axis=1), N(2, 3))
case("cumsum-method", "reduction", lambda xp, x: x.cumsum() * x, N(4))
case("cumprod", "reduction", lambda xp, x: xp.cumprod(x), U(0.5, 2.0, 5))
case("cumprod-axis1", "reduction", lambda xp, x: xp.cumprod(x, axis=1), N(2, 3))
case("average-weights", "reduction", lambda xp, x, w: xp.average(x, weights=w), N(4), static=dict(w=np.array([1.0, 2.0, 0.5, 3.0])))
case("average-axis-weights", "reduction", lambda xp, x, w: xp.average(x, axis=1, weights=w), N(2, 3), static=dict(w=np.array([0.2, 0.3, 0.5])))
case("ptp", "reduction", lambda xp, x: xp.ptp(x), N(6))
case("ptp-axis0", "reduction", lambda xp, x: xp.ptp(x, axis=0), N(3, 4))
case("median-odd", "reduction", lambda xp, x: xp.median(x), N(7))
case("median-even", "reduction", lambda xp, x: xp.median(x), N(6))
case("median-axis0", "reduction", lambda xp, x: xp.median(x, axis=0), N(5, 3))
case("quantile", "reduction", lambda xp, x: xp.quantile(x, 0.3), N(8))
case("quantile-list", "reduction", lambda xp, x: xp.quantile(x, [0.25, 0.5, 0.9]), N(7))
case("quantile-axis1", "reduction", lambda xp, x: xp.quantile(x, 0.75, axis=1), N(3, 5))
case("percentile-axis0", "reduction", lambda xp, x: xp.percentile(x, [10, 90], axis=0), N(6, 2))
case("nansum-masked", "reduction", lambda xp, x, m: xp.nansum(x * m), N(5), static=dict(m=NANMASK))
case("nanmean-masked", "reduction", lambda xp, x, m: xp.nanmean(x * m), N(5), static=dict(m=NANMASK))
case("nanmax-masked", "reduction", lambda xp, x, m: xp.nanmax(x * m), N(5), static=dict(m=NANMASK))
case("sort", "reduction", lambda xp, x: xp.sort(x), N(6))
case("sort-axis0", "reduction", lambda xp, x: xp.sort(x, axis=0), N(3, 4))
case("sort-descending", "reduction", lambda xp, x: xp.sort(x)[::-1], N(5))
case("argsort-index", "reduction", lambda xp, x: x[xp.argsort(x)], N(6))
case("argsort-reorder-other", "reduction", lambda xp, x, y: y[xp.argsort(x)] * x, N(5), N(5))
case("all-where", "reduction", lambda xp, x: xp.where(xp.all(x > 0), x * 2.0, x), U(0.2, 2.0, 4))
case("any-where", "reduction", lambda xp, x: xp.where(xp.any(x > 1.5), x ** 2, x), A([0.2, 1.8, -0.4, 0.9]))
case("count_nonzero-mean-of-positives", "reduction", lambda xp, x: xp.sum(xp.where(x > 0, x, 0.0)) / xp.count_nonzero(x > 0), A([0.5, -1.0, 2.0, 0.7, -0.3]))
case("cov", "reduction", lambda xp, x: xp.cov(x), N(3, 6))
case("cov-xy", "reduction", lambda xp, x, y: xp.cov(x, y), N(5), N(5))
case("cov-rowvar-false", "reduction", lambda xp, x: xp.cov(x, rowvar=False), N(6, 3))
case("corrcoef", "reduction", lambda xp, x: xp.corrcoef(x), N(3, 6))
case("var-ddof1", "reduction", lambda xp, x: xp.var(x, ddof=1), N(6))
case("var-axis0", "reduction", lambda xp, x: xp.var(x, axis=0), N(4, 3))
case("std-ddof1", "reduction", lambda xp, x: xp.std(x, ddof=1), N(6))
case("std-axis1", "reduction", lambda xp, x: xp.std(x, axis=1), N(3, 4))
case("var-method", "reduction", lambda xp, x: x.var(), N(5))
case("std-method-ddof1", "reduction", lambda xp, x: x.std(ddof=1), N(5))
case("trace", "reduction", lambda xp, x: xp.trace(x), N(3, 3))
case("logsumexp-by-hand", "reduction", lambda xp, x: (lambda m: m + xp.log(xp.sum(xp.exp(x - m))))(xp.max(x)), N(5))

# =================================================================================================
# shape: reshaping, joining, splitting, padding, rearranging
# =================================================================================================

case("reshape", "shape", lambda xp, x: xp.reshape(x, (3, 2)) * xp.arange(1.0, 3.0), N(2, 3))
case("reshape-method-minus1", "shape", lambda xp, x: x.reshape(-1) * xp.arange(6.0), N(2, 3))
case("transpose-axes", "shape", lambda xp, x: xp.transpose(x, (1, 2, 0)) * xp.arange(2.0), N(2, 3, 4))
case("T-attribute", "shape", lambda xp, x: x.T @ x, N(3, 2))
case("swapaxes", "shape", lambda xp, x: xp.swapaxes(x, 0, 2) * xp.arange(2.0), N(2, 3, 4))
case("moveaxis", "shape", lambda xp, x: xp.moveaxis(x, 0, -1) * xp.arange(2.0), N(2, 3, 4))
case("rollaxis", "shape", lambda xp, x: xp.rollaxis(x, 2) ** 2, N(2, 3, 4))
case("squeeze-method", "shape", lambda xp, x: x.squeeze() * xp.arange(3.0), N(3, 1))
case("expand_dims", "shape", lambda xp, x: xp.expand_dims(x, 1) * x, N(3))
case("ravel", "shape", lambda xp, x: xp.ravel(x) * xp.arange(6.0), N(2, 3))
case("flatten-method", "shape", lambda xp, x: x.flatten() * xp.arange(6.0), N(3, 2))
case("broadcast_to", "shape", lambda xp, x: xp.broadcast_to(x, (4, 3)) * xp.arange(4.0)[:, None], N(3))
case("concatenate-axis0", "shape", lambda xp, x, y: xp.concatenate([x, y]) ** 2, N(2, 3), N(1, 3))
case("concatenate-axis1", "shape", lambda xp, x, y: xp.concatenate((x, y), axis=1) ** 2, N(2, 3), N(2, 2))
case("stack-axis0", "shape", lambda xp, x, y: xp.stack([x, y]) ** 2, N(3), N(3))
case("split-sections", "shape", lambda xp, x: (lambda a, b, c: a * b + c)(*xp.split(x, 3)), N(6))
case("split-indices", "shape", lambda xp, x: (lambda a, b, c: xp.concatenate([a * 2.0, b ** 2, xp.exp(c)]))(*xp.split(x, [2, 5])), N(7))
case("array_split", "shape", lambda xp, x: (lambda p: xp.concatenate([p[0] * 2.0, p[1] ** 2, p[2]]))(xp.array_split(x, 3)), N(7))
case("hsplit", "shape", lambda xp, x: (lambda a, b: a - b ** 2)(*xp.hsplit(x, 2)), N(2, 4))
case("vsplit", "shape", lambda xp, x: (lambda a, b: a * b)(*xp.vsplit(x, 2)), N(4, 3))
case("dsplit", "shape", lambda xp, x: (lambda a, b: a * b + a)(*xp.dsplit(x, 2)), N(2, 2, 4))
case("hstack-1d", "shape", lambda xp, x, y: xp.hstack([x, y]) ** 2, N(2), N(3))
case("vstack-1d", "shape", lambda xp, x, y: xp.vstack([x, y]) * xp.arange(3.0), N(3), N(3))
case("dstack", "shape", lambda xp, x, y: xp.dstack([x, y]) ** 2, N(2, 3), N(2, 3))
case("column_stack", "shape", lambda xp, x, y: xp.column_stack([x, y]) @ xp.array([1.0, -2.0]), N(4), N(4))
if hasattr(np, "row_stack"):
    def _row_stack(xp, x, y):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return xp.row_stack([x, y]) ** 2
    case("row_stack", "shape", _row_stack, N(3), N(3))
case("block", "shape", lambda xp, a, b, c, d: xp.block([[a, b], [c, d]]) ** 2, N(2, 2), N(2, 1), N(1, 2), N(1, 1))
case("atleast_1d", "shape", lambda xp, x: xp.atleast_1d(x) ** 2, N())
case("atleast_2d", "shape", lambda xp, x: xp.atleast_2d(x).T @ xp.atleast_2d(x), N(3))
case("atleast_3d", "shape", lambda xp, x: xp.atleast_3d(x) ** 2, N(2, 3))
case("tile", "shape", lambda xp, x: xp.tile(x, 3) * xp.arange(9.0), N(3))
case("repeat-axis0", "shape", lambda xp, x: xp.repeat(x, 2, axis=0) ** 2, N(2, 3))
case("repeat-method", "shape", lambda xp, x: x.repeat(3) ** 2, N(2))
case("pad-constant", "shape", lambda xp, x: xp.pad(x, 2) * xp.arange(7.0), N(3))
case("pad-edge", "shape", lambda xp, x: xp.pad(x, 2, mode="edge") * xp.arange(8.0), N(4))
case("pad-reflect", "shape", lambda xp, x: xp.pad(x, (2, 1), mode="reflect") * xp.arange(7.0), N(4))
case("pad-wrap", "shape", lambda xp, x: xp.pad(x, 2, mode="wrap") * xp.arange(8.0), N(4))
case("flip", "shape", lambda xp, x: xp.flip(x) * xp.arange(5.0), N(5))
case("fliplr", "shape", lambda xp, x: xp.fliplr(x) * xp.arange(3.0), N(2, 3))
case("flipud", "shape", lambda xp, x: xp.flipud(x) * xp.arange(3.0), N(2, 3))
case("roll", "shape", lambda xp, x: xp.roll(x, 2) * xp.arange(5.0), N(5))
case("roll-axis1", "shape", lambda xp, x: xp.roll(x, 1, axis=1) * xp.arange(3.0), N(2, 3))
case("rot90", "shape", lambda xp, x: xp.rot90(x) * xp.arange(2.0), N(2, 3))
case("diag-vector", "shape", lambda xp, x: xp.diag(x) + 1.0, N(3))
case("diag-matrix", "shape", lambda xp, x: xp.diag(x) ** 2, N(3, 3))
case("diagonal", "shape", lambda xp, x: xp.diagonal(x) ** 2, N(3, 4))
case("diagflat", "shape", lambda xp, x: xp.diagflat(x) * 2.0, N(2, 2))
case("triu", "shape", lambda xp, x: xp.triu(x) ** 2, N(3, 3))
case("tril-k-1", "shape", lambda xp, x: xp.tril(x, -1) ** 2, N(3, 3))
case("append", "shape", lambda xp, x, y: xp.append(x, y) ** 2, N(3), N(2))
case("meshgrid", "shape", lambda xp, x, y: (lambda X, Y: X ** 2 * Y)(*xp.meshgrid(x, y)), N(3), N(2))
case("broadcast_arrays", "shape", lambda xp, x, y: (lambda a, b: a * b + a)(*xp.broadcast_arrays(x[:, None], y)), N(3), N(2))
case("r_", "shape", lambda xp, x, y: xp.r_[x, y] ** 2, N(2), N(3))
case("c_", "shape", lambda xp, x, y: xp.c_[x, y] ** 2, N(3), N(3))
case("array-from-scalars", "shape", lambda xp, x: xp.array([x[0], x[1] * 2]), N(3))
case("asarray-nested", "shape", lambda xp, x: xp.asarray([[x[0], x[1]], [x[2], x[3]]]) @ x[:2], N(4))

# =================================================================================================
# indexing
# =================================================================================================

case("int-index", "indexing", lambda xp, x: x[1] * x, N(4))
case("negative-index", "indexing", lambda xp, x: x[-1] ** 2, N(4))
case("slice", "indexing", lambda xp, x: x[1:4] ** 2, N(5))
case("slice-step", "indexing", lambda xp, x: x[::2] ** 2, N(5))
case("slice-reverse", "indexing", lambda xp, x: x[::-1] * xp.arange(5.0), N(5))
case("column", "indexing", lambda xp, x: x[:, 0] ** 2, N(3, 2))
case("ellipsis", "indexing", lambda xp, x: x[..., 1] ** 2, N(2, 2, 3))
case("newaxis-constant", "indexing", lambda xp, x: x[:, xp.newaxis] ** 2, N(3))
case("2d-slices", "indexing", lambda xp, x: x[1:, :-1] * x[:-1, 1:], N(3, 3))
case("fancy-repeated", "indexing", lambda xp, x: x[[0, 2, 2, 1]] * xp.arange(4.0), N(3))
case("fancy-array", "indexing", lambda xp, x, idx: x[idx] ** 2, N(5), static=dict(idx=np.array([4, 0, 0, 3])))
case("fancy-pairs", "indexing", lambda xp, x, r, c: x[r, c] ** 2, N(3, 3), static=dict(r=np.array([0, 1, 2, 2]), c=np.array([2, 0, 1, 1])))
case("fancy-ix_", "indexing", lambda xp, x: x[np.ix_([0, 2], [1, 2])] ** 2, N(3, 3))
case("bool-mask-static", "indexing", lambda xp, x, m: x[m] ** 2, N(5), static=dict(m=np.array([True, False, True, True, False])))
case("bool-mask-data-dependent", "indexing", lambda xp, x: x[x > 0] ** 2, PM(0.2, 2.0, 6))
case("where-indices", "indexing", lambda xp, x: x[xp.where(x > 0)] * 3.0, PM(0.2, 2.0, 6))
case("take", "indexing", lambda xp, x, idx: xp.take(x, idx) ** 2, N(4), static=dict(idx=np.array([3, 1, 1])))
case("take-axis1", "indexing", lambda xp, x: xp.take(x, [2, 0], axis=1) ** 2, N(2, 3))
case("take_along_axis-argmax", "indexing", lambda xp, x: xp.take_along_axis(x, xp.argmax(x, axis=1)[:, None], axis=1), N(3, 4))
case("take_along_axis-argsort", "indexing", lambda xp, x: xp.take_along_axis(x, xp.argsort(x, axis=1), axis=1) * xp.arange(3.0), N(2, 3))
case("gather-labels", "indexing", lambda xp, x, rows, labels: x[rows, labels] ** 2, N(3, 4),
     static=dict(rows=np.arange(3), labels=np.array([1, 3, 0])))
case("one-hot-eye", "indexing", lambda xp, x, labels: xp.sum(xp.eye(4)[labels] * x, axis=1), N(3, 4), static=dict(labels=np.array([1, 3, 0])))
case("argpartition-topk-sum", "indexing", lambda xp, x: xp.sum(x[xp.argpartition(x, -2)[-2:]]) * x, N(6))
case("setitem-into-zeros_like", "indexing", lambda xp, x: _shift_right(xp, x) * x, N(5))
case("setitem-mask-on-copy", "indexing", lambda xp, x: _relu_in_place(xp, x) * x, PM(0.2, 2.0, 5))


def _shift_right(xp, x):
    y = xp.zeros_like(x)
    y[1:] = x[:-1]
    return y


def _relu_in_place(xp, x):
    y = x.copy()
    y[y < 0] = 0.0
    return y


# =================================================================================================
# contraction: products of arrays
# =================================================================================================

case("dot-vectors", "contraction", lambda xp, x, y: xp.dot(x, y), N(4), N(4))
case("dot-matrices", "contraction", lambda xp, a, b: xp.dot(a, b), N(2, 3), N(3, 2))
case("dot-method", "contraction", lambda xp, a, b: a.dot(b), N(2, 3), N(3, 2))
case("matmul", "contraction", lambda xp, a, b: xp.matmul(a, b), N(2, 3), N(3, 2))
case("matmul-operator", "contraction", lambda xp, a, b: a @ b, N(3, 3), N(3, 2))
case("matmul-batched", "contraction", lambda xp, a, b: a @ b, N(2, 3, 4), N(2, 4, 2))
case("matmul-broadcast", "contraction", lambda xp, a, b: xp.matmul(a, b), N(2, 3, 4), N(4, 2))
case("vdot", "contraction", lambda xp, x, y: xp.vdot(x, y), N(4), N(4))
case("inner", "contraction", lambda xp, x, y: xp.inner(x, y), N(4), N(4))
case("inner-2d", "contraction", lambda xp, a, b: xp.inner(a, b), N(2, 3), N(4, 3))
case("outer", "contraction", lambda xp, x, y: xp.outer(x, y), N(3), N(2))
case("tensordot-axes1", "contraction", lambda xp, a, b: xp.tensordot(a, b, axes=1), N(2, 3), N(3, 2))
case("tensordot-axes2", "contraction", lambda xp, a, b: xp.tensordot(a, b), N(2, 3, 4), N(3, 4, 2))
case("tensordot-pairs", "contraction", lambda xp, a, b: xp.tensordot(a, b, axes=([1], [0])), N(2, 3, 2), N(3, 4))
case("einsum-matmul", "contraction", lambda xp, a, b: xp.einsum("ij,jk->ik", a, b), N(2, 3), N(3, 2))
case("einsum-batch-matmul", "contraction", lambda xp, a, b: xp.einsum("bij,bjk->bik", a, b), N(2, 2, 3), N(2, 3, 2))
case("einsum-trace", "contraction", lambda xp, a: xp.einsum("ii", a), N(3, 3))
case("einsum-diagonal", "contraction", lambda xp, a: xp.einsum("ii->i", a) ** 2, N(3, 3))
case("einsum-transpose", "contraction", lambda xp, a: xp.einsum("ij->ji", a) * xp.arange(2.0), N(2, 3))
case("einsum-outer", "contraction", lambda xp, x, y: xp.einsum("i,j->ij", x, y), N(3), N(2))
case("einsum-ellipsis", "contraction", lambda xp, a, b: xp.einsum("...ij,...jk->...ik", a, b), N(2, 2, 3), N(2, 3, 2))
case("einsum-attention", "contraction", lambda xp, q, k: xp.einsum("bhqd,bhkd->bhqk", q, k), N(1, 2, 3, 2), N(1, 2, 2, 2))
case("einsum-sum", "contraction", lambda xp, a: xp.einsum("ij->", a ** 2), N(2, 3))
case("kron-matrices", "contraction", lambda xp, a, b: xp.kron(a, b), N(2, 2), N(2, 1))
case("cross", "contraction", lambda xp, x, y: xp.cross(x, y), N(3), N(3))
case("cross-batch", "contraction", lambda xp, a, b: xp.cross(a, b), N(4, 3), N(4, 3))
case("matrix_power-2", "contraction", lambda xp, a: xp.linalg.matrix_power(a, 2), N(3, 3))
case("multi_dot", "contraction", lambda xp, a, b, c: xp.linalg.multi_dot([a, b, c]), N(2, 3), N(3, 4), N(4, 2))
case("add-outer", "contraction", lambda xp, x, y: xp.add.outer(x, y) ** 2, N(3), N(2))

# =================================================================================================
# linalg
# =================================================================================================

case("inv", "linalg", lambda xp, a: xp.linalg.inv(a), WC(3))
case("inv-batched", "linalg", lambda xp, a: xp.linalg.inv(a), WC(2, 2))
case("pinv-tall", "linalg", lambda xp, a: xp.linalg.pinv(a), N(4, 2))
case("solve-vector", "linalg", lambda xp, a, b: xp.linalg.solve(a, b), WC(3), N(3))
case("solve-matrix", "linalg", lambda xp, a, b: xp.linalg.solve(a, b), WC(3), N(3, 2))
case("solve-batched", "linalg", lambda xp, a, b: xp.linalg.solve(a, b), WC(3, 2), N(2, 3, 2))
case("solve-spd", "linalg", lambda xp, m, b: xp.linalg.solve(spd(xp, m), b), N(3, 3), N(3))
case("det", "linalg", lambda xp, a: xp.linalg.det(a), WC(3))
case("det-batched", "linalg", lambda xp, a: xp.linalg.det(a), WC(3, 2))
case("slogdet-logabsdet", "linalg", lambda xp, a: xp.linalg.slogdet(a)[1], WC(3))
case("slogdet-sign-and-log", "linalg", lambda xp, a: (lambda s, l: s * xp.exp(l) + l)(*xp.linalg.slogdet(a)), N(3, 3))
case("cholesky", "linalg", lambda xp, m: xp.linalg.cholesky(spd(xp, m)), N(3, 3))
case("cholesky-logdet", "linalg", lambda xp, m: 2.0 * xp.sum(xp.log(xp.diag(xp.linalg.cholesky(spd(xp, m))))), N(3, 3))
case("cholesky-batched", "linalg", lambda xp, m: xp.linalg.cholesky(spd(xp, m)), N(2, 2, 2))
case("eigh-values", "linalg", lambda xp, m: xp.linalg.eigh(spd(xp, m))[0], N(3, 3))
case("eigh-vectors-squared", "linalg", lambda xp, m: xp.linalg.eigh(spd(xp, m))[1] ** 2, N(3, 3))
case("eigh-reconstruct", "linalg", lambda xp, m: (lambda w, v: v @ xp.diag(w ** 2) @ v.T)(*xp.linalg.eigh(spd(xp, m))), N(3, 3))
case("eigvalsh", "linalg", lambda xp, m: xp.linalg.eigvalsh(spd(xp, m)), N(3, 3))
case("svd-values", "linalg", lambda xp, a: xp.linalg.svd(a, full_matrices=False)[1], N(4, 3))
case("svd-compute_uv-false", "linalg", lambda xp, a: xp.linalg.svd(a, compute_uv=False), N(3, 4))
case("svd-reconstruct", "linalg", lambda xp, a: (lambda u, s, vh: u @ xp.diag(s) @ vh)(*xp.linalg.svd(a, full_matrices=False)), N(4, 3))
case("svd-rank1", "linalg", lambda xp, a: (lambda u, s, vh: s[0] * xp.outer(u[:, 0], vh[0]))(*xp.linalg.svd(a, full_matrices=False)), N(3, 3))
case("qr-product", "linalg", lambda xp, a: (lambda q, r: q @ r)(*xp.linalg.qr(a)), N(4, 3))
case("qr-r-diagonal-squared", "linalg", lambda xp, a: xp.diag(xp.linalg.qr(a)[1]) ** 2, N(4, 3))
case("norm-vector", "linalg", lambda xp, x: xp.linalg.norm(x), N(4))
case("norm-vector-ord2", "linalg", lambda xp, x: xp.linalg.norm(x, ord=2), N(4))
case("norm-vector-ord1", "linalg", lambda xp, x: xp.linalg.norm(x, 1), PM(0.2, 2.0, 4))
case("norm-vector-inf", "linalg", lambda xp, x: xp.linalg.norm(x, np.inf), N(4))
case("norm-vector-neginf", "linalg", lambda xp, x: xp.linalg.norm(x, -np.inf), PM(0.2, 2.0, 4))
case("norm-vector-ord3", "linalg", lambda xp, x: xp.linalg.norm(x, 3), PM(0.2, 2.0, 4))
case("norm-fro", "linalg", lambda xp, a: xp.linalg.norm(a, "fro"), N(3, 3))
case("norm-nuc", "linalg", lambda xp, a: xp.linalg.norm(a, "nuc"), N(3, 2))
case("norm-matrix-2", "linalg", lambda xp, a: xp.linalg.norm(a, 2), N(3, 3))
case("norm-axis1", "linalg", lambda xp, a: xp.linalg.norm(a, axis=1), N(3, 2))
case("norm-axis0-keepdims", "linalg", lambda xp, a: a / xp.linalg.norm(a, axis=0, keepdims=True), N(3, 2))
case("norm-matrix-axes", "linalg", lambda xp, a: xp.linalg.norm(a, axis=(1, 2)), N(2, 2, 3))
case("lstsq", "linalg", lambda xp, a, b: xp.linalg.lstsq(a, b, rcond=None)[0], N(5, 2), N(5))
case("matrix_power-inverse", "linalg", lambda xp, a: xp.linalg.matrix_power(a, -1), WC(2))
case("gaussian-nll", "linalg", lambda xp, m, y: _gauss_nll(xp, spd(xp, m), y), N(3, 3), N(3))


def _gauss_nll(xp, cov, y):
    alpha = xp.linalg.solve(cov, y)
    sign, logdet = xp.linalg.slogdet(cov)
    return 0.5 * (y @ alpha + logdet + y.shape[0] * math.log(2 * math.pi))


# =================================================================================================
# misc: everyday code
# =================================================================================================


def _softmax(xp, x, axis=-1):
    e = xp.exp(x - xp.max(x, axis=axis, keepdims=True))
    return e / xp.sum(e, axis=axis, keepdims=True)


case("softmax", "misc", lambda xp, x: (lambda e: e / e.sum())(xp.exp(x - x.max())), N(5))
case("log-softmax", "misc", lambda xp, x: x - x.max(axis=1, keepdims=True) - xp.log(xp.sum(xp.exp(x - x.max(axis=1, keepdims=True)), axis=1, keepdims=True)), N(2, 3))
case("logistic", "misc", lambda xp, x: 1.0 / (1.0 + xp.exp(-x)), N(5))
case("softplus", "misc", lambda xp, x: xp.log1p(xp.exp(x)), N(5))
case("cross-entropy", "misc", lambda xp, x, y: -xp.mean(xp.log(_softmax(xp, x))[np.arange(3), y]), N(3, 4), static=dict(y=np.array([2, 0, 3])))
case("binary-cross-entropy", "misc", lambda xp, z, y: -xp.mean(y * xp.log(1 / (1 + xp.exp(-z))) + (1 - y) * xp.log(1 - 1 / (1 + xp.exp(-z)))), N(5),
     static=dict(y=np.array([1.0, 0.0, 0.0, 1.0, 1.0])))
case("logistic-regression-loss", "misc", lambda xp, w, X, y: xp.mean(xp.log1p(xp.exp(-y * (X @ w)))), N(3), N(5, 3),
     static=dict(y=np.array([1.0, -1.0, -1.0, 1.0, 1.0])))
case("mse-loss", "misc", lambda xp, p, y: xp.mean((p - y) ** 2), N(5), N(5))
case("least-squares", "misc", lambda xp, w, X, y: xp.sum((X @ w - y) ** 2), N(2), N(5, 2), N(5))
case("huber", "misc", lambda xp, r: xp.where(xp.abs(r) < 1.0, 0.5 * r ** 2, xp.abs(r) - 0.5), A([-2.1, -0.4, 0.3, 1.6, 0.9]))
case("polyval-coefficients", "misc", lambda xp, p, t: xp.polyval(p, t), N(3), static=dict(t=np.array([-1.0, 0.5, 2.0])))
case("polyval-points", "misc", lambda xp, t: xp.polyval([1.0, -2.0, 0.5, 3.0], t), N(4))
case("linspace-grid", "misc", lambda xp, p: (lambda t: p[0] * t + p[1] * t ** 2)(xp.linspace(0, 1, 5)), N(2))
case("arange-decay", "misc", lambda xp, p: p[0] * xp.exp(-p[1] * xp.arange(5.0)), U(0.2, 1.0, 2))
case("mlp-forward", "misc", lambda xp, x, w1, b1, w2, b2: xp.tanh(x @ w1 + b1) @ w2 + b2, N(4, 3), N(3, 5), N(5), N(5, 2), N(2))
case("mlp-relu-mse", "misc", lambda xp, w1, w2, x, y: xp.mean((xp.maximum(x @ w1, 0.0) @ w2 - y) ** 2), N(3, 4), N(4, 1), N(5, 3), N(5, 1))
case("attention", "misc", lambda xp, q, k, v: _softmax(xp, q @ k.T / np.sqrt(q.shape[-1])) @ v, N(2, 3), N(4, 3), N(4, 2))
case("layer-norm", "misc", lambda xp, x, g, b: (x - x.mean(axis=-1, keepdims=True)) / xp.sqrt(x.var(axis=-1, keepdims=True) + 1e-5) * g + b, N(2, 4), N(4), N(4))
case("standardize-columns", "misc", lambda xp, x: (x - xp.mean(x, axis=0)) / xp.std(x, axis=0), N(4, 2))
case("gaussian-pdf", "misc", lambda xp, x, mu, s: xp.exp(-0.5 * ((x - mu) / s) ** 2) / (s * xp.sqrt(2 * xp.pi)), N(4), N(), U(0.5, 2.0))
case("pairwise-distances", "misc", lambda xp, x, y: xp.sqrt(((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)), N(3, 2), N(2, 2))
case("cosine-similarity", "misc", lambda xp, x, y: x @ y / (xp.linalg.norm(x) * xp.linalg.norm(y)), N(4), N(4))
case("rosenbrock", "misc", lambda xp, x: xp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2), N(4))
case("diff", "misc", lambda xp, x: xp.diff(x) ** 2, N(5))
case("gradient", "misc", lambda xp, x: xp.gradient(x) ** 2, N(5))
case("trapezoid", "misc", lambda xp, y, t: xp.trapezoid(y ** 2, t), N(5), static=dict(t=np.array([0.0, 0.3, 0.5, 1.2, 2.0])))
case("interp-values", "misc", lambda xp, fp, xq, xk: xp.interp(xq, xk, fp), N(4),
     static=dict(xq=np.array([0.5, 1.7, 2.2, 0.1]), xk=np.array([0.0, 1.0, 2.0, 3.0])))
case("convolve-full", "misc", lambda xp, x, k: xp.convolve(x, k), N(5), N(3))
case("convolve-same", "misc", lambda xp, x, k: xp.convolve(x, k, mode="same"), N(5), N(3))
case("correlate-valid", "misc", lambda xp, x, k: xp.correlate(x, k), N(5), N(3))
case("select", "misc", lambda xp, x: xp.select([x < -0.5, x > 0.5], [x ** 2, x ** 3], default=x), A([-1.2, -0.1, 0.3, 0.8, 1.5]))
case("piecewise", "misc", lambda xp, x: xp.piecewise(x, [x < 0, x >= 0], [lambda v: -v, lambda v: v ** 2]), PM(0.2, 2.0, 5))
case("builtin-sum-rows", "misc", lambda xp, x: sum(x) ** 2, N(3, 2))
case("iterate-rows", "misc", lambda xp, x: xp.stack([r ** 2 + r[0] for r in x]), N(3, 2))
case("len-mean", "misc", lambda xp, x: x.sum() / len(x), N(4))
case("augmented-assignment", "misc", lambda xp, x: _augmented(xp, x), N(4))
case("numpy-scalar-constants", "misc", lambda xp, x: xp.pi * x + xp.e * x ** 2 + np.float64(0.5) * x, N(3))
case("maximum-accumulate", "misc", lambda xp, x: xp.maximum.accumulate(x), A([0.3, -0.2, 1.1, 0.7, 1.9]))
case("add-at-scatter", "misc", lambda xp, x, idx: _scatter_add(xp, x, idx), N(5), static=dict(idx=np.array([0, 2, 0, 1, 2])))
case("fft-power-spectrum", "misc", lambda xp, x: xp.abs(xp.fft.rfft(x)) ** 2, N(6))


def _augmented(xp, x):
    y = x * 1.0
    y += x ** 2
    y *= 2.0
    y -= x
    y /= 3.0
    return y


def _scatter_add(xp, x, idx):
    y = xp.zeros(3)
    xp.add.at(y, idx, x)
    return y * xp.arange(1.0, 4.0)
