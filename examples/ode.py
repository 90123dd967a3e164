"""Fitting an ordinary differential equation's parameters to observed trajectories.

Predators and prey (the Lotka-Volterra equations): prey grow at rate ``a`` and are eaten at
rate ``b``; predators grow by eating, at rate ``d``, and die at rate ``g``:

    dx/dt = a x - b x y,        dy/dt = d x y - g y.

The integrator is the classic fourth-order Runge-Kutta method, its steps a ``mg.lax.scan`` (one
loop in the program, however many steps), and reverse mode differentiates straight through it:
the loss is the squared distance between the simulated and the observed (noisy) populations, and
gradient descent (Adam, under ``jit``) recovers the parameters from a poor first guess.

    python examples/ode.py [--steps 600] [--plot ode.png]
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import micrograd as mg
import micrograd.numpy as mnp

TRUE = np.array([1.0, 0.4, 0.1, 0.4])  # a, b, d, g
GUESS = np.array([0.6, 0.6, 0.2, 0.8])
START = np.array([10.0, 5.0])  # prey, predators
DT, STEPS_BETWEEN, OBSERVATIONS = 0.05, 10, 40  # 40 observations, half a time unit apart


def dynamics(state, params):
    a, b, d, g = params[0], params[1], params[2], params[3]
    x, y = state[0], state[1]
    return mnp.stack([a * x - b * x * y, d * x * y - g * y])


def rk4_step(state, params, dt):
    k1 = dynamics(state, params)
    k2 = dynamics(state + 0.5 * dt * k1, params)
    k3 = dynamics(state + 0.5 * dt * k2, params)
    k4 = dynamics(state + dt * k3, params)
    return state + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)


def simulate(params, start=START, dt=DT):
    """The state at each observation time: a scan over observations, each a fori_loop of steps."""
    def observe(state, _):
        state = mg.lax.fori_loop(0, STEPS_BETWEEN, lambda i, s: rk4_step(s, params, dt), state)
        return state, state
    _, states = mg.lax.scan(observe, start, None, length=OBSERVATIONS)
    return states  # (OBSERVATIONS, 2)


def loss_fn(log_params, observed):
    """Parameters are fitted through their logarithms, which keeps them positive."""
    return mnp.mean((simulate(mnp.exp(log_params)) - observed) ** 2)


def main(argv: list[str] | None = None) -> np.ndarray:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--noise", type=float, default=0.2, help="observation noise (standard deviation)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", default="ode.png", help="figure path ('' for none)")
    args = parser.parse_args(argv)

    rng = np.random.default_rng(args.seed)
    observed = np.asarray(simulate(TRUE)) + args.noise * rng.standard_normal((OBSERVATIONS, 2))
    optimizer = mg.Adam(learning_rate=args.lr)
    log_params = np.log(GUESS)
    opt_state = optimizer.init(log_params)
    step = mg.optim.make_train_step(loss_fn, optimizer)
    start = time.perf_counter()
    for i in range(args.steps):
        log_params, opt_state, loss = step(log_params, opt_state, observed)
        if i % 100 == 0 or i == args.steps - 1:
            print(f"step {i:4d}  loss {float(loss):.4f}  parameters {np.round(np.exp(log_params), 3)}")
    fitted = np.exp(log_params)
    print(f"fitted a, b, d, g = {np.round(fitted, 3)} (true {TRUE}, first guess {GUESS}) in "
          f"{time.perf_counter() - start:.1f} s")
    if args.plot:
        _plot(observed, np.asarray(simulate(GUESS)), np.asarray(simulate(fitted)), args.plot)
    return fitted


def _plot(observed, guess, fitted, path):
    plt = mg.viz.pyplot()
    if plt is None:
        print("matplotlib is not installed (pip install matplotlib): no figure written")
        return
    t = np.arange(1, OBSERVATIONS + 1) * DT * STEPS_BETWEEN
    fig, ax = plt.subplots(figsize=(8, 4))
    for k, (name, color) in enumerate((("prey", "tab:blue"), ("predators", "tab:red"))):
        ax.plot(t, observed[:, k], "o", color=color, markersize=3, label=f"{name}, observed")
        ax.plot(t, guess[:, k], ":", color=color, label=f"{name}, first guess")
        ax.plot(t, fitted[:, k], "-", color=color, label=f"{name}, fitted")
    ax.set(xlabel="time", ylabel="population", title="Lotka-Volterra parameters fitted through an RK4 scan")
    ax.legend(fontsize=8, ncol=3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"figure saved to {path}")


if __name__ == "__main__":
    main()
