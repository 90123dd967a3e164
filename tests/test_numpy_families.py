"""``micrograd.numpy``, family by family: every function against NumPy, its derivatives
against central differences (first and second order, forward and reverse mode), ``vmap``
against a Python loop, eager tensors against ``vjp``, and ``jit`` against NumPy (one compiled
program per family, holding several of its functions: compiling is the slow part).

Each case is ``f(xp, *args)``, run with ``xp = micrograd.numpy`` and, traced, with plain
``numpy`` (NumPy hands its calls on traced values to micrograd).
"""
from __future__ import annotations

from typing import Any, Callable, NamedTuple

import numpy as np
import pytest

import micrograd as mg
import micrograd.numpy as mnp
from micrograd.testing import check_grads

rng = np.random.default_rng(7)


def normal(*shape):
    return rng.standard_normal(shape)


def within(lo, hi, *shape):
    return rng.uniform(lo, hi, shape)


def distinct(*shape):
    n = int(np.prod(shape))
    return ((rng.permutation(n) - n / 2) * 0.5 + rng.uniform(-0.1, 0.1)).reshape(shape)


def grid(*shape, offset=0.25):
    """Multiples of 0.5 plus ``offset``: away from the integers (and halves) where rounding jumps."""
    return rng.choice(np.arange(-6, 6) * 0.5, shape) + offset


def spd(xp, x):
    return xp.matmul(x, xp.swapaxes(x, -1, -2)) + 3.0 * np.eye(x.shape[-1])


class Case(NamedTuple):
    id: str
    f: Callable  # f(xp, *args)
    args: tuple
    grad_kw: dict


FAMILIES: dict[str, list[Case]] = {}


def case(family: str, id: str, f: Callable, *args: Any, **grad_kw: Any) -> None:
    FAMILIES.setdefault(family, []).append(Case(f"{family}-{id}", f, tuple(np.asarray(a, float) for a in args), grad_kw))


# --- ufuncs --------------------------------------------------------------------------------------
U = "ufuncs"
for name, gen in [("sinh", normal), ("cosh", normal), ("tanh", normal), ("arcsin", lambda *s: within(-0.8, 0.8, *s)),
                  ("arccos", lambda *s: within(-0.8, 0.8, *s)), ("arctan", normal), ("arcsinh", normal),
                  ("arccosh", lambda *s: within(1.2, 3, *s)), ("arctanh", lambda *s: within(-0.8, 0.8, *s)),
                  ("log2", lambda *s: within(0.5, 3, *s)), ("log10", lambda *s: within(0.5, 3, *s)),
                  ("exp2", normal), ("cbrt", lambda *s: within(0.5, 2, *s) * rng.choice([-1, 1], s)),
                  ("deg2rad", normal), ("rad2deg", normal), ("degrees", normal), ("radians", normal),
                  ("fabs", lambda *s: within(0.5, 2, *s) * rng.choice([-1, 1], s)), ("sinc", normal),
                  ("expm1", normal), ("log1p", lambda *s: within(-0.5, 2, *s)), ("square", normal),
                  ("reciprocal", lambda *s: within(0.5, 2, *s)), ("real", normal), ("conj", normal),
                  ("conjugate", normal), ("nan_to_num", normal)]:
    case(U, name, lambda xp, x, name=name: getattr(xp, name)(x), gen(2, 3))
case(U, "sinc-at-zero", lambda xp, x: xp.sinc(x * 0.0 + x - x) + xp.sinc(x), np.array([0.0, 0.3]))
for name in ("arctan2", "hypot", "logaddexp", "logaddexp2", "copysign", "float_power"):
    case(U, name, lambda xp, x, y, name=name: getattr(xp, name)(x, y),
         within(0.5, 2, 2, 3) * rng.choice([-1, 1], (2, 3)) if name != "float_power" else within(0.5, 2, 2, 3),
         within(0.5, 2, 3) * (rng.choice([-1, 1], 3) if name != "float_power" else 1))
case(U, "fmax-fmin", lambda xp, x, y: xp.fmax(x, y) + xp.fmin(x, y) ** 2, grid(2, 3), grid(3, offset=0.0))
for name in ("remainder", "mod", "fmod"):
    case(U, name, lambda xp, x, y, name=name: getattr(xp, name)(x, y), grid(2, 3, offset=0.1), np.array([0.75, 1.75, -2.75]))
case(U, "floor_divide-divmod", lambda xp, x, y: x * xp.floor_divide(x, y) + xp.divmod(x, y)[1] * xp.divmod(x, y)[0],
     grid(3, offset=0.1), np.array([0.75, 1.75, -2.75]))
case(U, "operators", lambda xp, x: (x % 1.0) * (x // 0.5) + abs(x) + round(x[0], 1) * x + divmod(x, 0.75)[1],
     grid(4, offset=0.1))
for name in ("floor", "ceil", "rint", "trunc", "fix", "around"):
    case(U, name, lambda xp, x, name=name: getattr(xp, name)(x) * x, grid(2, 3))
case(U, "round-decimals", lambda xp, x: xp.round(x, 2) * x + xp.round(x * 100, -1), grid(3, offset=0.0123))
case(U, "heaviside", lambda xp, x: xp.heaviside(x, 0.5) * x ** 2, grid(2, 3))
case(U, "logical", lambda xp, x, y: xp.where(xp.logical_and(x > 0, y > 0) | xp.logical_xor(x > 1, y < 0),
                                             x * y, xp.where(xp.logical_not(x > 0) & ~(y > 0), x, y ** 2)),
     grid(2, 3), grid(3))
case(U, "isnan-isinf-isfinite", lambda xp, x: xp.where(xp.isfinite(x) & ~xp.isnan(x) & ~xp.isinf(x), x ** 2, 0.0),
     normal(4))
case(U, "imag-angle-signbit", lambda xp, x: x * (xp.imag(x) + xp.angle(x) + xp.signbit(x)), grid(4))
case(U, "nan_to_num-of-inf", lambda xp, x: xp.nan_to_num(np.array([1.0, np.inf, np.nan]), posinf=5.0) * x + xp.nan_to_num(x),
     within(0.5, 1, 3))

# --- reductions ----------------------------------------------------------------------------------
R = "reductions"
case(R, "prod", lambda xp, x: xp.prod(x, axis=1), normal(3, 4))
case(R, "prod-zero", lambda xp, x: xp.prod(x * np.array([1.0, 0.0, 1.0, 1.0])), normal(4))
case(R, "prod-keepdims-method", lambda xp, x: x.prod(axis=0, keepdims=True) + x.prod(), normal(3, 2))
case(R, "cumsum", lambda xp, x: xp.cumsum(x, axis=0) + x.cumsum(axis=1), normal(3, 4))
case(R, "cumsum-flat", lambda xp, x: xp.sin(xp.cumsum(x)), normal(2, 3))
case(R, "cumprod", lambda xp, x: xp.cumprod(x, axis=1), normal(2, 5))
case(R, "cumprod-zero", lambda xp, x: xp.cumprod(x * np.array([1.0, 1.0, 0.0, 1.0])) * x, normal(4))
case(R, "average", lambda xp, x: xp.average(x, axis=1, weights=np.array([1.0, 2.0, 3.0])) + xp.average(x), normal(2, 3))
case(R, "ptp", lambda xp, x: xp.ptp(x, axis=0) + xp.ptp(x), distinct(3, 3))
case(R, "median", lambda xp, x: xp.median(x, axis=1) + xp.median(x), distinct(3, 4))
case(R, "quantile", lambda xp, x: xp.quantile(x, [0.1, 0.5, 0.9], axis=0), distinct(5, 2))
case(R, "quantile-methods", lambda xp, x: sum(xp.quantile(x, 0.3, method=m) for m in
                                              ("linear", "lower", "higher", "nearest", "midpoint")), distinct(7))
case(R, "percentile-keepdims", lambda xp, x: xp.percentile(x, 25, axis=1, keepdims=True), distinct(2, 5))
case(R, "nansum-nanmean", lambda xp, x: xp.nansum(x, axis=0) + xp.nanmean(x) + xp.nanmax(x) + xp.nanmin(x), normal(3, 2))
case(R, "nanvar-nanstd-nanprod", lambda xp, x: xp.nanvar(x) + xp.nanstd(x, axis=0) + xp.nanprod(x, axis=1).sum(), normal(2, 3))
case(R, "sort", lambda xp, x: xp.sort(x, axis=0) * np.arange(3.0)[:, None], distinct(3, 2))
case(R, "argsort-take", lambda xp, x: xp.take_along_axis(x, xp.argsort(x, axis=1), axis=1) * np.arange(4.0), distinct(2, 4))
case(R, "all-any-count", lambda xp, x: x * xp.all(x > -10, axis=0) + x * xp.any(x > 0) + xp.count_nonzero(x > 0, axis=1)[:, None] * x,
     grid(2, 3))
case(R, "var-std-ddof", lambda xp, x: xp.var(x, ddof=1) + xp.std(x, axis=0, ddof=1) + x.var() + x.std(), normal(3, 2))
case(R, "cov", lambda xp, x: xp.cov(x), normal(3, 5))
case(R, "cov-rowvar-y", lambda xp, x, y: xp.cov(x, y, rowvar=False, bias=True), normal(5, 2), normal(5, 1))
case(R, "corrcoef", lambda xp, x: xp.corrcoef(x), normal(3, 6))
case(R, "ufunc-reduce-accumulate", lambda xp, x: xp.add.reduce(x) + xp.multiply.reduce(x, axis=1)[:, None]
     + xp.maximum.accumulate(x, axis=1), distinct(2, 4))

# --- shapes and indexing -------------------------------------------------------------------------
S = "shape"
case(S, "split", lambda xp, x: xp.concatenate([p ** (i + 1) for i, p in enumerate(xp.split(x, 3))]), normal(6))
case(S, "array_split", lambda xp, x: xp.concatenate([p * (i + 1) for i, p in enumerate(xp.array_split(x, 3, axis=1))], axis=1),
     normal(2, 5))
case(S, "hvd-split", lambda xp, x: xp.hsplit(x, 2)[0] * xp.vsplit(x, [1])[1][:, :2] + xp.dsplit(x[..., None] * x[..., None], 1)[0][:, :2, 0],
     normal(2, 4))
case(S, "stacks", lambda xp, x, y: xp.hstack([x, y]) ** 2 + xp.vstack([x, y]).sum() + xp.dstack([x, y]).sum()
     + xp.column_stack([x, y]).sum() + xp.stack([x, y], axis=1).sum(), normal(3), normal(3))
case(S, "block", lambda xp, a, b: xp.block([[a, b], [b.T, a[:1, :1]]]) ** 2, normal(2, 2), normal(2, 1))
case(S, "atleast", lambda xp, x: xp.atleast_1d(x[0]) * xp.atleast_2d(x) * xp.atleast_3d(x).sum(), normal(3))
case(S, "tile-repeat", lambda xp, x: xp.tile(x, (2, 2)).sum(axis=0)[:3] + xp.repeat(x, 2, axis=1).sum(axis=0)[:3]
     + x.repeat(2).reshape(2, 6)[0, :3] + xp.repeat(x, [1, 2], axis=0).sum(axis=0), normal(2, 3))
for mode in ("constant", "edge", "reflect", "symmetric", "wrap"):
    case(S, f"pad-{mode}", lambda xp, x, mode=mode: xp.pad(x, ((1, 2), (3, 1)), mode=mode) ** 2, normal(3, 4))
case(S, "pad-constant-values", lambda xp, x: xp.pad(x, 2, constant_values=1.5) * xp.pad(x, 2), normal(2, 3))
case(S, "flips-roll-rot90", lambda xp, x: xp.flip(x) * xp.fliplr(x) * xp.flipud(x) + xp.roll(x, 2) + xp.roll(x, -1, axis=1)
     + xp.rot90(xp.rot90(x)) + xp.rot90(x, 3).T, normal(3, 3))
case(S, "rollaxis-moveaxis", lambda xp, x: xp.rollaxis(x, 2).sum(axis=0) * xp.moveaxis(x, [0, 1], [-1, -2])[0].T,
     normal(2, 3, 4))
case(S, "diag-diagonal-trace", lambda xp, x: xp.diag(xp.diag(x)) + xp.diag(x[0], k=1)[:3, :3] + xp.diagonal(x, 1).sum()
     + xp.trace(x) + xp.diagflat(x[1])[:3, :3], normal(3, 3))
case(S, "triu-tril", lambda xp, x: xp.triu(x, 1) ** 2 + xp.tril(x) * 3, normal(3, 4))
case(S, "append-meshgrid-broadcast", lambda xp, x, y: xp.append(x, y) ** 2 + xp.meshgrid(x, y)[0].sum()
     + xp.meshgrid(x, y, indexing="ij")[1].sum() + xp.broadcast_arrays(x[:, None], y)[1].sum(), normal(3), normal(3))
case(S, "take_along_select", lambda xp, x: xp.take_along_axis(x, np.array([[2, 0], [1, 1]]), 1)
     + xp.select([x[:, :2] < 0, x[:, :2] > 1], [x[:, :2] ** 2, -x[:, :2]], default=0.5), grid(2, 3))
case(S, "array-of-traced", lambda xp, x: mnp.array([[x[0], x[1] * 2], [x[2], 1.0]]) + mnp.asarray([x[1], x[0]]), normal(3))
case(S, "r_-c_", lambda xp, x, y: mnp.r_[x, y, 1.0] ** 2 + mnp.c_[x, y].sum(), normal(3), normal(3))
case(S, "methods", lambda xp, x: x.flatten() * x.squeeze().ravel() + x.clip(-0.5, 0.5).ravel() + x.round(1).ravel() * x.ravel()
     + x.dot(np.ones((3, 1))).repeat(3) + x.swapaxes(0, 1).ravel() + x.T.ravel(), normal(1, 3))

# --- contractions and linear algebra --------------------------------------------------------------
C = "contractions"
case(C, "einsum-matmul", lambda xp, a, b: xp.einsum("ij,jk->ik", a, b), normal(2, 3), normal(3, 4))
case(C, "einsum-attention", lambda xp, q, k: xp.einsum("bhqk,bhkd->bhqd", xp.einsum("bhqd,bhkd->bhqk", q, k), k),
     normal(2, 2, 3, 4), normal(2, 2, 3, 4))
case(C, "einsum-trace-diag", lambda xp, a: xp.einsum("ii", a) + xp.einsum("ii->i", a) * xp.einsum("ij->ji", a)[0], normal(3, 3))
case(C, "einsum-ellipsis-implicit", lambda xp, a, b: xp.einsum("...ij,...jk", a, b) + xp.einsum("ij,kj", a[0], a[1]).sum(),
     normal(2, 3, 3), normal(3, 3))
case(C, "einsum-three", lambda xp, a, b, c: xp.einsum("ij,jk,kl->il", a, b, c) + xp.einsum("i,j->ij", a[0], c[0]).sum(),
     normal(2, 3), normal(3, 4), normal(4, 2))
case(C, "einsum-repeated-in-both", lambda xp, a, b: xp.einsum("iij,jk->ik", a, b), normal(3, 3, 2), normal(2, 4))
case(C, "tensordot", lambda xp, a, b: xp.tensordot(a, b) + xp.tensordot(a, b, axes=([1], [0])).sum() + xp.tensordot(a, b, 0).sum(),
     normal(2, 3, 4), normal(3, 4))
case(C, "vdot-inner-outer", lambda xp, a, b: xp.vdot(a, b) + xp.inner(a, b).sum() * xp.outer(a, b), normal(2, 3), normal(2, 3))
case(C, "dot-nd", lambda xp, a, b: xp.dot(a, b), normal(2, 3, 4), normal(5, 4, 2))
case(C, "kron-cross", lambda xp, a, b: xp.kron(a, b).sum(axis=0) + xp.cross(a[0], b[0]).sum(),
     normal(2, 3), normal(2, 3))

L = "linalg"
case(L, "solve-inv-det", lambda xp, a, b: xp.linalg.solve(a, b) + xp.linalg.inv(a) @ b + xp.linalg.det(a),
     normal(3, 3) + 3 * np.eye(3), normal(3, 2))
case(L, "slogdet-batched", lambda xp, a: xp.linalg.slogdet(a)[1] * xp.linalg.slogdet(a).sign, normal(2, 3, 3) + 3 * np.eye(3))
case(L, "cholesky-eigh", lambda xp, x: xp.linalg.cholesky(spd(xp, x)) + xp.linalg.eigvalsh(spd(xp, x))[:, None]
     + xp.linalg.eigh(spd(xp, x)).eigenvectors ** 2, normal(3, 3))
case(L, "svd-pinv", lambda xp, a: xp.linalg.svd(a, compute_uv=False).sum() + xp.linalg.pinv(a), normal(4, 3))
case(L, "svd-reconstruct", lambda xp, a: (lambda u, s, vh: (u * s) @ vh)(*xp.linalg.svd(a, full_matrices=False)), normal(3, 4))
case(L, "qr", lambda xp, a: xp.linalg.qr(a)[1] + xp.linalg.qr(a)[0][:3] ** 2, normal(4, 3))
case(L, "norm-vector", lambda xp, x: sum(xp.linalg.norm(x, ord=o) for o in (None, 1, 2, np.inf, -np.inf, 3))
     + xp.linalg.norm(x, axis=0).sum(), normal(4))
case(L, "norm-matrix", lambda xp, a: sum(xp.linalg.norm(a, ord=o) for o in (None, "fro", "nuc", 2, 1, -1, np.inf))
     + xp.linalg.norm(a, axis=(0, 1), keepdims=True).sum(), normal(3, 3))
case(L, "lstsq-matrix_power", lambda xp, a, b: xp.linalg.lstsq(a, b)[0].sum() + xp.linalg.lstsq(a, b)[1].sum()
     + xp.linalg.matrix_power(a[:3], 3) + xp.linalg.matrix_power(a[:3] + 3 * np.eye(3), -1), normal(4, 3), normal(4))
case(L, "multi_dot", lambda xp, a, b: xp.linalg.multi_dot([a[0], a, b, b[:, 0]]), normal(3, 3), normal(3, 3))

N = "numerical"
case(N, "diff-gradient", lambda xp, x: xp.diff(x, n=2).sum() + xp.gradient(x) * xp.diff(x, prepend=0.0), normal(5))
case(N, "trapezoid-polyval", lambda xp, y, p: xp.trapezoid(y, x=np.array([0.0, 1.0, 3.0, 4.0])) + xp.polyval(p, y),
     normal(4), normal(3))
case(N, "convolve-correlate", lambda xp, a, v: xp.convolve(a, v) + xp.correlate(a, v, mode="full")
     + xp.convolve(a, v, mode="same").sum(), normal(5), normal(3))
case(N, "interp", lambda xp, x, fp: xp.interp(x, np.array([0.0, 1.0, 2.0, 4.0]), fp),
     np.array([0.3, 1.5, 2.2, 3.9]), normal(4))

CASES = [c for cases in FAMILIES.values() for c in cases]
assert len({c.id for c in CASES}) == len(CASES)
ids = [c.id for c in CASES]


def _as_tuple(out):
    return out if isinstance(out, tuple) else (out,)


@pytest.mark.parametrize("c", CASES, ids=ids)
def test_values_match_numpy(c: Case):
    expected = np.asarray(c.f(np, *c.args))
    for label, got in [("micrograd.numpy", c.f(mnp, *c.args)), ("traced", mg.vjp(lambda *a: c.f(mnp, *a), *c.args)[0]),
                       ("plain numpy traced", mg.vjp(lambda *a: c.f(np, *a), *c.args)[0])
                       if c.id not in ("shape-array-of-traced", "shape-r_-c_") else ("-", expected)]:
        assert np.shape(got) == expected.shape, label
        np.testing.assert_allclose(np.asarray(got, float), expected, rtol=1e-10, atol=1e-12, err_msg=label)


@pytest.mark.parametrize("c", CASES, ids=ids)
def test_derivatives_first_and_second_order(c: Case):
    check_grads(lambda *a: c.f(mnp, *a), c.args, order=2, modes=("fwd", "rev"), **c.grad_kw)


@pytest.mark.parametrize("c", CASES, ids=ids)
def test_vmap_matches_a_loop(c: Case):
    batch = [np.stack([a + 0.01 * k * (1 + np.abs(a)) for k in range(3)]) for a in c.args]
    f = lambda *a: c.f(mnp, *a)  # noqa: E731
    got = mg.vmap(f)(*batch)
    expected = [np.asarray(c.f(np, *[b[k] for b in batch])) for k in range(3)]
    np.testing.assert_allclose(np.asarray(got), np.stack(expected), rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("c", CASES, ids=ids)
def test_eager_tensors_match_vjp(c: Case):
    tensors = [mg.tensor(a, requires_grad=True) for a in c.args]
    out = c.f(mnp, *tensors)
    value, pullback = mg.vjp(lambda *a: c.f(mnp, *a), *c.args)
    np.testing.assert_allclose(np.asarray(out.data), value, rtol=1e-12, atol=1e-12)
    ct = np.random.default_rng(0).standard_normal(np.shape(value))
    (out * ct).sum().backward()
    for t, g in zip(tensors, pullback(ct)):  # (no .grad: nothing flowed back, as in PyTorch)
        np.testing.assert_allclose(np.zeros_like(g) if t.grad is None else t.grad.data, g, rtol=1e-10, atol=1e-12)


def _family_program(cases):
    """One function computing every case's value and vector-Jacobian product (a fixed cotangent)."""
    cts = [np.random.default_rng(1).standard_normal(np.shape(c.f(np, *c.args))) for c in cases]

    def program(args):
        results = []
        for c, ct, a in zip(cases, cts, args):
            value, pullback = mg.vjp(lambda *x, c=c: c.f(mnp, *x), *a)
            results.append((value, pullback(ct)))
        return results
    return program


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_jit_matches_numpy_per_family(family: str):
    cases = FAMILIES[family][::6]  # a sixth of each family in one compiled program (Numba compiles for seconds)
    program = _family_program(cases)
    args = [list(c.args) for c in cases]
    compiled = mg.jit(program, strict=True)
    expected = program(args)
    for _ in range(2):
        got = compiled(args)
        for (c, (gv, gg)), (ev, eg) in zip(zip(cases, got), expected):
            np.testing.assert_allclose(gv, ev, rtol=1e-9, atol=1e-11, err_msg=c.id)
            for a, b in zip(gg, eg):
                np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11, err_msg=c.id)
