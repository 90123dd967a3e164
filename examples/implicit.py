"""Differentiating through a solver with the implicit function theorem.

Newton's method finds ``x`` with ``f(x, theta) = 0``; it runs in ``mg.lax.while_loop`` until the
step is tiny, a number of iterations nobody knows in advance, so reverse mode cannot go back
through the loop (micrograd says so). It does not need to: at the solution, differentiating
``f(x(theta), theta) = 0`` gives

    dx/dtheta = -(df/dx)^-1 df/dtheta,

the implicit function theorem, which ``mg.custom_vjp`` turns into the solver's derivative: the
backward pass solves one linear system at the solution, whatever the iterations did.

Here ``f`` is a small nonlinear system (a balance of springs with cubic stiffness, pulled by
forces ``theta``); the example checks the derivative against central differences and the
closed form, then finds the forces that bring the springs' ends to chosen positions by
gradient descent through the solver.

    python examples/implicit.py
"""
from __future__ import annotations

import argparse

import numpy as np

import micrograd as mg
import micrograd.numpy as mnp

STIFFNESS = np.array([[3.0, -1.0, 0.0], [-1.0, 3.0, -1.0], [0.0, -1.0, 2.0]])


def residual(x, theta):
    """Springs in a chain with cubic stiffness, pulled by forces theta: zero at equilibrium."""
    return STIFFNESS @ x + x ** 3 - theta


def newton(theta, tol: float = 1e-12, max_iterations: int = 50):
    """Newton's method in a while_loop: iterate x -= J^-1 f(x) until the step is below tol."""
    def keep_going(state):
        i, x, step = state
        return (i < max_iterations) & (mnp.max(mnp.abs(step)) > tol)

    def iterate(state):
        i, x, _ = state
        jacobian = STIFFNESS + mnp.diag(3 * x ** 2)
        step = mnp.linalg.solve(jacobian, residual(x, theta))
        return i + 1, x - step, step

    start = mnp.zeros_like(theta)
    _, x, _ = mg.lax.while_loop(keep_going, iterate, (0, start, mnp.ones_like(theta)))
    return x


@mg.custom_vjp
def solve(theta):
    """The equilibrium x(theta), differentiable by the implicit function theorem."""
    return newton(theta)


def solve_fwd(theta):
    x = newton(theta)
    return x, x  # the solution is all the backward pass needs


def solve_bwd(x, x_bar):
    # x_bar . dx/dtheta with dx/dtheta = -(df/dx)^-1 df/dtheta, and df/dtheta = -I:
    # theta_bar = (df/dx)^-T x_bar, one linear solve at the solution
    jacobian = STIFFNESS + mnp.diag(3 * x ** 2)
    return (mnp.linalg.solve(jacobian.T, x_bar),)


solve.defvjp(solve_fwd, solve_bwd)


def main(argv: list[str] | None = None) -> np.ndarray:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--lr", type=float, default=0.2)
    args = parser.parse_args(argv)

    theta = np.array([1.0, 2.0, -0.5])
    x = np.asarray(solve(theta))
    print(f"equilibrium for forces {theta}: x = {np.round(x, 6)}, residual {np.abs(residual(x, theta)).max():.1e}")
    try:
        mg.jacrev(newton)(theta)
    except mg.NotDifferentiableError as e:
        print(f"reverse mode through the while_loop itself: {str(e).splitlines()[0][:100]}...")
    jacobian = np.asarray(mg.jacrev(solve)(theta))
    closed_form = np.linalg.inv(STIFFNESS + np.diag(3 * x ** 2))
    eps = 1e-6
    numerical = np.stack([(np.asarray(solve(theta + eps * e)) - np.asarray(solve(theta - eps * e))) / (2 * eps)
                          for e in np.eye(3)], axis=1)
    print(f"dx/dtheta by the implicit function theorem agrees with the closed form to "
          f"{np.abs(jacobian - closed_form).max():.1e} and with central differences to "
          f"{np.abs(jacobian - numerical).max():.1e}")
    print(f"forward mode through the while_loop gives the same: "
          f"{np.abs(np.asarray(mg.jacfwd(newton)(theta)) - closed_form).max():.1e}")

    target = np.array([0.5, 0.25, -0.5])
    loss = lambda theta: mnp.sum((solve(theta) - target) ** 2)  # noqa: E731
    step = mg.jit(mg.value_and_grad(loss))
    theta = np.zeros(3)
    for i in range(args.steps):
        value, g = step(theta)
        theta = theta - args.lr * g
        if i % 50 == 0 or i == args.steps - 1:
            print(f"step {i:3d}  loss {float(value):.2e}  forces {np.round(theta, 4)}")
    print(f"forces {np.round(theta, 4)} put the springs' ends at {np.round(np.asarray(solve(theta)), 4)} "
          f"(target {target})")
    return theta


if __name__ == "__main__":
    main()
