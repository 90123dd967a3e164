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


def _check_rev(f, args, eps, atol, rtol, order_label, rng):
    out, pullback = vjp(f, *args)
    cotangent = tree.map(lambda o: rng.standard_normal(np.shape(o)), out)
    analytic = tree.leaves(pullback(cotangent))
    numeric = numerical_vjp(f, args, cotangent, eps)
    for n, (a, e) in enumerate(zip(analytic, numeric)):
        if not is_float(np.asarray(a).dtype):
            continue
        a = np.asarray(a, np.float64)
        err = np.abs(a - e) - (atol + rtol * np.abs(e))
        if err.size and np.max(err) > 0:
            worst = tuple(int(i) for i in np.unravel_index(np.argmax(err), err.shape)) if err.ndim else ()
            raise AssertionError(
                f"{order_label} reverse-mode derivative of input leaf {n} disagrees with central differences "
                f"at element {worst}: micrograd {float(a[worst])!r}, numerical {float(e[worst])!r} "
                f"(atol={atol}, rtol={rtol})")
    return cotangent


def check_grads(f: Callable, args: Sequence[Any], order: int = 2, modes: Sequence[str] = ("rev",),
                eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-5, seed: int = 0) -> None:
    """Check ``f``'s derivatives at ``args`` against central differences in float64, up to
    ``order``. Raises an AssertionError naming the order, the input and the worst element.

    Each order differentiates the previous order's pullback, so order 2 checks the derivative
    of the vector-Jacobian product (what a Hessian-vector product uses).
    """
    rng = np.random.default_rng(seed)
    args = tuple(tree.map(_as_float64, a) for a in args)
    unknown = set(modes) - {"rev"}
    if unknown:
        raise ValueError(f"check_grads: unknown modes {sorted(unknown)}; available: 'rev'")
    for k in range(1, order + 1):
        label = {1: "first-order", 2: "second-order", 3: "third-order"}.get(k, f"order-{k}")
        cotangent = _check_rev(f, args, eps, atol, rtol, label, rng)
        if k < order:
            f = _pulled_back(f, cotangent)


def _pulled_back(f: Callable, cotangent: Any) -> Callable:
    def pullback_of_f(*args):
        return vjp(f, *args)[1](cotangent)
    return pullback_of_f
