"""An LSTM learns the adding problem, a task that needs memory.

Each input is a sequence of pairs (value, marker): the values are uniform in [0, 1] and exactly
two steps are marked; the target is the sum of the two marked values. Predicting the mean sum
(1.0) scores a mean squared error of 1/6 = 0.167; a model must remember the marked values
across the sequence to do better. The model is ``mg.LSTM`` (a ``scan`` over time) with a
linear readout of its last output, trained with Adam under ``jit``; it is scored on held-out
sequences and, when matplotlib is installed, the loss curve and predictions are saved.

    python examples/sequence_lstm.py [--steps 1500] [--length 30] [--hidden 32] [--plot lstm.png]
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import micrograd as mg
import micrograd.numpy as mnp

BASELINE = 1 / 6  # the mean squared error of always predicting 1.0


def adding_problem(rng: np.random.Generator, batch: int, length: int) -> tuple[np.ndarray, np.ndarray]:
    """Inputs (length, batch, 2), time first, and targets (batch, 1)."""
    values = rng.uniform(0, 1, (length, batch)).astype(np.float32)
    markers = np.zeros((length, batch), np.float32)
    first = rng.integers(0, length // 2, batch)
    second = rng.integers(length // 2, length, batch)
    markers[first, np.arange(batch)] = 1.0
    markers[second, np.arange(batch)] = 1.0
    targets = (values * markers).sum(axis=0, keepdims=True).T
    return np.stack([values, markers], axis=-1), targets


def predict(model: dict, x):
    output, _ = model["lstm"](x)
    return model["head"](output[-1])


def loss_fn(model: dict, x, y):
    return mnp.mean((predict(model, x) - y) ** 2)


def main(argv: list[str] | None = None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--length", type=int, default=30, help="sequence length")
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", default="sequence_lstm.png", help="figure path ('' for none)")
    args = parser.parse_args(argv)

    rng = np.random.default_rng(args.seed)
    k1, k2 = mg.random.split(mg.random.key(args.seed))
    model = {"lstm": mg.LSTM(2, args.hidden, key=k1), "head": mg.Linear(args.hidden, 1, key=k2)}
    optimizer = mg.Adam(learning_rate=mg.optim.schedules.cosine_decay(args.lr, args.steps))
    opt_state = optimizer.init(model)
    train_step = mg.optim.make_train_step(loss_fn, optimizer)

    start, losses = time.perf_counter(), []
    with mg.viz.progress(total=args.steps, desc="training", unit="step") as bar:
        for step in range(args.steps):
            x, y = adding_problem(rng, args.batch_size, args.length)
            model, opt_state, loss = train_step(model, opt_state, x, y)
            losses.append(float(loss))
            bar.update()
            if step % 50 == 0:
                bar.set_postfix(loss=f"{np.mean(losses[-50:]):.4f}")
    x_test, y_test = adding_problem(np.random.default_rng(args.seed + 1), 1000, args.length)
    predictions = np.asarray(mg.jit(predict)(model, x_test))
    mse = float(np.mean((predictions - y_test) ** 2))
    print(f"held-out MSE {mse:.4f} on 1000 sequences of length {args.length} (predicting the mean scores "
          f"{BASELINE:.3f}); {args.steps} steps in {time.perf_counter() - start:.1f} s")
    if args.plot:
        _plot(losses, predictions, y_test, args.plot)
    return mse


def _plot(losses, predictions, targets, path):
    plt = mg.viz.pyplot()
    if plt is None:
        print("matplotlib is not installed (pip install matplotlib): no figure written")
        return
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.semilogy(np.convolve(losses, np.ones(20) / 20, mode="valid"))
    left.axhline(BASELINE, color="gray", linestyle="--", label="predicting the mean")
    left.set(xlabel="step", ylabel="training MSE (20-step mean)", title="the adding problem")
    left.legend()
    right.scatter(targets[:, 0], predictions[:, 0], s=4, alpha=0.5)
    right.plot([0, 2], [0, 2], color="gray", linestyle="--")
    right.set(xlabel="true sum", ylabel="predicted sum", title="held-out sequences")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"figure saved to {path}")


if __name__ == "__main__":
    main()
