"""Higher-order derivatives with micrograd.

1. tanh and its derivatives to order 4, by nesting ``grad`` inside ``vmap``, on one figure
   (saved as a PNG when matplotlib is installed).
2. The Hessian of a small function next to its closed form.
3. Per-example gradient norms of a small model, with ``vmap(grad(loss))``.

    python examples/higher_order.py [--out tanh_derivatives.png]
"""
from __future__ import annotations

import argparse

import numpy as np

import micrograd as mg
import micrograd.numpy as mnp


def tanh_derivatives(xs: np.ndarray, order: int = 4) -> list[np.ndarray]:
    """[tanh, tanh', ..., tanh^(order)] at ``xs``: each derivative is ``grad`` of the previous,
    mapped over the points with ``vmap``."""
    fs = [np.tanh]
    for _ in range(order):
        fs.append(mg.grad(fs[-1]))
    return [mg.vmap(f)(xs) for f in fs]


def tanh_closed_forms(xs: np.ndarray) -> list[np.ndarray]:
    t = np.tanh(xs)
    s = 1 - t ** 2  # sech^2
    return [t, s, -2 * t * s, s * (6 * t ** 2 - 2), 8 * t * s * (2 - 3 * t ** 2)]


def plot(xs, curves, path):
    plt = mg.viz.pyplot()
    if plt is None:
        print("matplotlib is not installed (pip install matplotlib): no figure written")
        return
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for k, ys in enumerate(curves):
        ax.plot(xs, ys, label="tanh" + ("'" * k if k < 4 else "⁽⁴⁾"))
    ax.set_xlabel("x")
    ax.legend()
    ax.grid(alpha=0.3)
    ax.set_title("tanh and its derivatives to order 4 (micrograd.grad, nested)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"figure saved to {path}")


def hessian_demo():
    """f(x, y) = x^2 y + sin(x y): Hessian [[2y - y^2 sin(xy), 2x + cos(xy) - xy sin(xy)],
                                            [2x + cos(xy) - xy sin(xy), -x^2 sin(xy)]]"""
    f = lambda v: v[0] ** 2 * v[1] + np.sin(v[0] * v[1])  # noqa: E731
    v = np.array([0.7, -1.3])
    x, y = v
    closed = np.array([[2 * y - y ** 2 * np.sin(x * y), 2 * x + np.cos(x * y) - x * y * np.sin(x * y)],
                       [2 * x + np.cos(x * y) - x * y * np.sin(x * y), -x ** 2 * np.sin(x * y)]])
    h = mg.hessian(f)(v)
    print("Hessian of x^2 y + sin(xy) at (0.7, -1.3):")
    print("  micrograd    ", np.array2string(h, precision=6).replace("\n", "\n" + " " * 16))
    print("  closed form  ", np.array2string(closed, precision=6).replace("\n", "\n" + " " * 16))
    print(f"  largest difference {np.max(np.abs(h - closed)):.2e}")
    return h, closed


def per_example_gradient_norms(seed: int = 0):
    """A 3-8-1 tanh network on 6 points: the norm of each example's gradient."""
    rng = np.random.default_rng(seed)
    params = {"w1": rng.normal(size=(3, 8)) / np.sqrt(3), "b1": np.zeros(8),
              "w2": rng.normal(size=(8, 1)) / np.sqrt(8), "b2": np.zeros(1)}
    x, y = rng.normal(size=(6, 3)), rng.normal(size=6)

    def loss(p, xi, yi):
        hidden = mnp.tanh(xi @ p["w1"] + p["b1"])
        return ((hidden @ p["w2"] + p["b2"])[0] - yi) ** 2

    grads = mg.vmap(mg.grad(loss), in_axes=(None, 0, 0))(params, x, y)
    norms = np.sqrt(sum(np.sum(g.reshape(6, -1) ** 2, axis=1) for g in mg.tree.leaves(grads)))
    print("per-example gradient norms:", np.array2string(norms, precision=4))
    return norms


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="tanh_derivatives.png")
    args = parser.parse_args(argv)
    xs = np.linspace(-4, 4, 401)
    curves = tanh_derivatives(xs)
    worst = max(np.max(np.abs(c - e)) for c, e in zip(curves, tanh_closed_forms(xs)))
    print(f"tanh derivatives to order 4 at {len(xs)} points; largest difference from the closed forms {worst:.2e}")
    plot(xs, curves, args.out)
    hessian_demo()
    per_example_gradient_norms()
    return curves


if __name__ == "__main__":
    main()
