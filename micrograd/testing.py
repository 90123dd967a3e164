"""Numerical derivative checks, as in JAX's test utilities.

>>> import numpy as np, micrograd as mg
>>> mg.testing.check_grads(lambda x: np.sin(x) * x, (np.array([0.3, 1.2]),), order=2)
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from .core import tree
from .core.dtypes import is_float
from .transforms.grad import vjp
from .transforms.jvp import jvp


def _as_float64(x):
    x = np.asarray(x)
    return x.astype(np.float64) if is_float(x.dtype) else x


def numerical_vjp(f: Callable, args: Sequence[Any], cotangent: Any, eps: float) -> list[np.ndarray]:
    """Central differences of ``<cotangent, f(*args)>`` for every element of every float leaf."""
    flat, in_tree = tree.flatten(tuple(args))
    ct_leaves = tree.leaves(cotangent)

    def scalar(leaves) -> float:
        out = tree.leaves(f(*tree.unflatten(in_tree, leaves)))
        return float(sum(np.sum(np.asarray(o, np.float64) * c) for o, c in zip(out, ct_leaves)))

    grads = []
    for i, x in enumerate(flat):
        g = np.zeros(np.shape(x))
        if is_float(np.asarray(x).dtype):
            for j in np.ndindex(*np.shape(x)):
                hi, lo = (np.array(x, dtype=np.float64) for _ in range(2))
                hi[j] += eps
                lo[j] -= eps
                g[j] = (scalar(flat[:i] + [hi] + flat[i + 1:]) - scalar(flat[:i] + [lo] + flat[i + 1:])) / (2 * eps)
        grads.append(g)
    return grads


def _check_fwd(f, args, eps, atol, rtol, order_label, rng):
    tangents = tree.map(lambda a: rng.standard_normal(np.shape(a)) if is_float(np.asarray(a).dtype)
                        else np.zeros(np.shape(a)), args)
    _, analytic = jvp(f, args, tangents)

    def shifted(sign):
        moved = tree.map(lambda a, t: a + sign * eps * t if is_float(np.asarray(a).dtype) else a, args, tangents)
        return tree.leaves(f(*moved))

    numeric = [(np.asarray(hi, np.float64) - np.asarray(lo, np.float64)) / (2 * eps)
               for hi, lo in zip(shifted(1), shifted(-1))]
    for n, (a, e) in enumerate(zip(tree.leaves(analytic), numeric)):
        if not is_float(np.asarray(a).dtype):
            continue
        _assert_close(np.asarray(a, np.float64), e, atol, rtol,
                      f"{order_label} forward-mode derivative (jvp) of output leaf {n}")
    return tangents


def _check_rev(f, args, eps, atol, rtol, order_label, rng):
    out, pullback = vjp(f, *args)
    cotangent = tree.map(lambda o: rng.standard_normal(np.shape(o)), out)
    analytic = tree.leaves(pullback(cotangent))
    numeric = numerical_vjp(f, args, cotangent, eps)
    for n, (a, e) in enumerate(zip(analytic, numeric)):
        if is_float(np.asarray(a).dtype):
            _assert_close(np.asarray(a, np.float64), e, atol, rtol,
                          f"{order_label} reverse-mode derivative (vjp) of input leaf {n}")
    return cotangent


def _assert_close(analytic: np.ndarray, numeric: np.ndarray, atol: float, rtol: float, what: str) -> None:
    err = np.abs(analytic - numeric) - (atol + rtol * np.abs(numeric))
    if err.size and not np.max(err) <= 0:
        worst = tuple(int(i) for i in np.unravel_index(np.nanargmax(np.where(np.isnan(err), np.inf, err)), err.shape))
        raise AssertionError(
            f"{what} disagrees with central differences at element {worst}: micrograd "
            f"{float(analytic[worst])!r}, numerical {float(numeric[worst])!r} (atol={atol}, rtol={rtol})")


def check_grads(f: Callable, args: Sequence[Any], order: int = 2, modes: Sequence[str] = ("fwd", "rev"),
                eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-5, seed: int = 0) -> None:
    """Check ``f``'s derivatives at ``args`` against central differences in float64, up to
    ``order``, in forward mode (``jvp``) and reverse mode (``vjp``). Raises an AssertionError
    naming the order, the mode, the input or output and the worst element.

    Each order differentiates the previous order's derivative in the same mode: order 2 in
    reverse mode checks the derivative of the vector-Jacobian product, in forward mode that of
    the Jacobian-vector product.
    """
    unknown = set(modes) - {"fwd", "rev"}
    if unknown:
        raise ValueError(f"check_grads: unknown modes {sorted(unknown)}; use 'fwd' and/or 'rev'")
    args = tuple(tree.map(_as_float64, a) for a in args)
    for mode in modes:
        rng = np.random.default_rng(seed)
        g = f
        for k in range(1, order + 1):
            label = {1: "first-order", 2: "second-order", 3: "third-order"}.get(k, f"order-{k}")
            if mode == "rev":
                cotangent = _check_rev(g, args, eps, atol, rtol, label, rng)
                g = _pulled_back(g, cotangent)
            else:
                tangents = _check_fwd(g, args, eps, atol, rtol, label, rng)
                g = _pushed_forward(g, tangents)


def _pulled_back(f: Callable, cotangent: Any) -> Callable:
    def pullback_of_f(*args):
        return vjp(f, *args)[1](cotangent)
    return pullback_of_f


def _pushed_forward(f: Callable, tangents: Any) -> Callable:
    def pushforward_of_f(*args):
        return jvp(f, args, tangents)[1]
    return pushforward_of_f
