"""How much everyday NumPy code micrograd differentiates: the bank in ``numpy_bank.py``.

Each case runs twice: written against ``micrograd.numpy`` and against plain ``numpy`` (traced
through NumPy's dispatch). Its value must match plain NumPy on arrays, and its vector-Jacobian
product for a random cotangent must match central differences computed with plain NumPy alone,
so the reference never depends on micrograd.

``python tests/test_numpy_bank.py`` prints per-family pass rates and every failure.
"""
from __future__ import annotations

import os
import re
import sys
import time
import zlib
from collections import Counter, defaultdict

import numpy
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from numpy_bank import CASES, FAMILIES  # noqa: E402

VALUE_TOL = dict(rtol=1e-7, atol=1e-9)
GRAD_TOL = dict(rtol=1e-4, atol=1e-6)
EPS = 1e-6


def _reason(stage: str, e: BaseException) -> str:
    text = str(e).strip()
    first = text.splitlines()[0] if text else ""
    if len(first) > 200:
        first = first[:200] + "..."
    return f"{stage}: {type(e).__name__}: {first}".rstrip(": ")


def _copies(args):
    return tuple(np.array(a, dtype=np.float64, copy=True) for a in args)


def reference(case, args=None):
    """``case.f`` with plain NumPy on plain arrays, as a float64 array."""
    out = case.f(numpy, *_copies(case.args if args is None else args))
    return np.asarray(out, dtype=np.float64)


def cotangent(case, shape):
    rng = np.random.default_rng(zlib.crc32(("cotangent/" + case.name).encode()))
    return np.asarray(rng.standard_normal(shape), dtype=np.float64)


def numerical_vjp(case, ct, eps=EPS):
    """Central differences of ``sum(ct * f(numpy, *args))``, one input element at a time."""
    args = _copies(case.args)

    def phi(a):
        return float(np.sum(ct * reference(case, a)))

    grads = []
    for i, x in enumerate(args):
        g = np.zeros_like(x)
        for j in np.ndindex(x.shape):
            plus, minus = list(args), list(args)
            plus[i], minus[i] = x.copy(), x.copy()
            plus[i][j] += eps
            minus[i][j] -= eps
            g[j] = (phi(plus) - phi(minus)) / (2 * eps)
        grads.append(g)
    return grads


def run_case(case, xp):
    """``(ok, reason)``: micrograd's value and VJP of ``case.f(xp, ...)`` against plain NumPy."""
    import micrograd as mg

    args = _copies(case.args)
    try:
        expected = reference(case)
    except Exception as e:  # the bank itself is wrong
        return False, _reason("reference (plain NumPy on arrays)", e)
    try:
        out, pullback = mg.vjp(lambda *a: case.f(xp, *a), *args)
    except Exception as e:
        return False, _reason("forward", e)
    try:
        out = np.asarray(out)
        if out.shape != expected.shape:
            return False, f"value: shape {out.shape}, expected {expected.shape}"
        if out.dtype.kind not in "fc" and expected.size:
            return False, f"value: dtype {out.dtype}, expected float64"
        if not np.allclose(out, expected, **VALUE_TOL):
            err = np.max(np.abs(out - expected)) if out.size else 0.0
            return False, f"value: mismatch (max abs error {err:.3g})"
    except Exception as e:
        return False, _reason("value", e)
    ct = cotangent(case, expected.shape)
    try:
        grads = pullback(ct)
    except Exception as e:
        return False, _reason("backward", e)
    try:
        grads = tuple(grads)
        if len(grads) != len(args):
            return False, f"gradient: {len(grads)} cotangents for {len(args)} arguments"
        numeric = numerical_vjp(case, ct)
        for i, (g, n) in enumerate(zip(grads, numeric)):
            if g is None:
                return False, f"gradient: argument {i} has no cotangent (None)"
            g = np.asarray(g)
            if g.shape != n.shape:
                return False, f"gradient: argument {i} has shape {g.shape}, expected {n.shape}"
            if not np.allclose(g, n, **GRAD_TOL):
                with np.errstate(invalid="ignore"):
                    err = np.nanmax(np.abs(g - n)) if np.all(np.isfinite(g)) else float("nan")
                return False, f"gradient: argument {i} wrong (max abs error {err:.3g})"
    except Exception as e:
        return False, _reason("gradient", e)
    return True, "ok"


def run_bank(xp):
    """``[(case, ok, reason)]`` for every case."""
    return [(case, *run_case(case, xp)) for case in CASES]


def bank_report(xp, results=None):
    """``(fraction passed, [(name, family, reason)] of the failures)``."""
    results = run_bank(xp) if results is None else results
    failures = [(c.name, c.family, reason) for c, ok, reason in results if not ok]
    return 1.0 - len(failures) / len(results), failures


def _format_failures(failures):
    return "\n".join(f"  {name} [{family}]: {reason}" for name, family, reason in failures)


# --- the bank is sound and broad ------------------------------------------------------------------

# Functions the bank must keep covering (each must appear in numpy_bank.py's source).
REQUIRED = """
sinh cosh tanh arcsin arccos arctan arcsinh arccosh arctanh log2 log10 exp2 cbrt deg2rad rad2deg
degrees radians fabs sinc arctan2 hypot logaddexp logaddexp2 fmax fmin remainder mod fmod
floor_divide float_power copysign heaviside floor ceil round around rint trunc fix nan_to_num
isnan isinf isfinite logical_and logical_or logical_not logical_xor real imag conj conjugate angle
prod cumsum cumprod average ptp median quantile percentile nansum nanmean sort argsort all any
count_nonzero cov corrcoef var std split array_split hsplit vsplit dsplit hstack vstack dstack
column_stack atleast_1d atleast_2d atleast_3d tile repeat pad flip fliplr flipud roll rot90
rollaxis diag diagonal diagflat triu tril trace append take_along_axis select meshgrid
broadcast_arrays r_ c_ array asarray vdot inner outer dot tensordot einsum kron cross matrix_power
matmul inv pinv solve det slogdet cholesky eigh eigvalsh svd qr norm lstsq polyval clip where
maximum linspace mean sum concatenate stack reshape transpose
""".split()


def test_bank_is_broad():
    names = [c.name for c in CASES]
    dupes = [n for n, k in Counter(names).items() if k > 1]
    assert not dupes, f"duplicate case names: {dupes}"
    assert len(CASES) >= 250, f"only {len(CASES)} cases"
    assert set(c.family for c in CASES) == set(FAMILIES)
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "numpy_bank.py")) as fh:
        source = fh.read()
    missing = [f for f in REQUIRED if not re.search(rf"(xp\.|xp\.linalg\.|\.){re.escape(f)}\b", source)]
    assert not missing, f"functions no longer covered: {missing}"
    for c in CASES:
        assert all(isinstance(a, np.ndarray) and a.dtype == np.float64 for a in c.args), c.name
        assert c.args, f"{c.name} has no differentiable argument"


def test_bank_references_are_sound():
    """Each case is finite and smooth at its point: plain NumPy runs it, its numerical VJP is
    finite, nonzero, and the same with a ten times larger step, and it leaves its inputs alone."""
    bad = []
    for c in CASES:
        before = _copies(c.args)
        out = reference(c)
        if not np.all(np.isfinite(out)):
            bad.append(f"{c.name}: value not finite")
            continue
        ct = cotangent(c, out.shape)
        g1 = numerical_vjp(c, ct)
        g2 = numerical_vjp(c, ct, eps=1e-5)
        if not all(np.all(np.isfinite(g)) for g in g1):
            bad.append(f"{c.name}: numerical gradient not finite")
        elif not any(np.any(g != 0) for g in g1):
            bad.append(f"{c.name}: gradient is zero everywhere")
        elif not all(np.allclose(a, b, **GRAD_TOL) for a, b in zip(g1, g2)):
            bad.append(f"{c.name}: not smooth at its point (step 1e-6 and 1e-5 disagree)")
        if not all(np.array_equal(a, b) for a, b in zip(before, c.args)):
            bad.append(f"{c.name}: mutated its arguments")
    assert not bad, "\n".join(bad)


# --- micrograd differentiates the bank --------------------------------------------------------------

def test_bank_through_micrograd_numpy():
    import micrograd.numpy as mnp

    rate, failures = bank_report(mnp)
    assert rate >= 0.95, (f"{rate:.1%} of {len(CASES)} cases pass through micrograd.numpy (need 95%); "
                          f"{len(failures)} failures:\n{_format_failures(failures)}")


def test_bank_through_plain_numpy():
    rate, failures = bank_report(numpy)
    assert rate >= 0.93, (f"{rate:.1%} of {len(CASES)} cases pass through plain numpy (need 93%); "
                          f"{len(failures)} failures:\n{_format_failures(failures)}")


# --- report ---------------------------------------------------------------------------------------

def _print_report(label, xp):
    start = time.perf_counter()
    results = run_bank(xp)
    seconds = time.perf_counter() - start
    rate, failures = bank_report(xp, results)
    print(f"\n=== {label}: {len(results) - len(failures)}/{len(results)} passed ({rate:.1%}) in {seconds:.1f} s")
    by_family = defaultdict(lambda: [0, 0])
    for c, ok, _ in results:
        by_family[c.family][0] += ok
        by_family[c.family][1] += 1
    for fam in FAMILIES:
        passed, total = by_family[fam]
        print(f"  {fam:<12} {passed:>3}/{total:<3} {passed / total:6.1%}")
    if failures:
        print(f"failures ({len(failures)}):")
        print(_format_failures(failures))
    return rate


if __name__ == "__main__":
    import micrograd.numpy as mnp

    print(f"{len(CASES)} cases; NumPy {np.__version__}")
    _print_report("micrograd.numpy", mnp)
    _print_report("plain numpy (traced through dispatch)", numpy)
