"""A multilayer perceptron (the tutorial's chapter 10): 1-64-64-1 with ReLU, fitted to y = 2x
with mean squared error and Adam.

    python examples/mlp.py

Where this differs from the tutorial's code, and why:
- The data are NumPy arrays and the loop is functional: ``mg.value_and_grad`` gives the
  gradient with respect to the model, and ``optimizer.update`` returns the new model and
  optimizer state (the whole step is compiled with ``mg.jit``).
"""
from __future__ import annotations

import argparse

import numpy as np

import micrograd as mg


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1000)
    parser.add_argument("--lr", type=float, default=0.001)
    parser.add_argument("--plot", default="mlp_loss.png", help="loss-curve PNG ('' for none)")
    args = parser.parse_args(argv)

    k1, k2, k3 = mg.random.split(mg.random.key(0), 3)
    model = mg.Sequential([
        mg.Linear(in_features=1, out_features=64, key=k1),
        mg.ReLU(),
        mg.Linear(in_features=64, out_features=64, key=k2),
        mg.ReLU(),
        mg.Linear(in_features=64, out_features=1, key=k3),
    ])
    loss_function = mg.MSELoss()
    optimizer = mg.Adam(learning_rate=args.lr)
    opt_state = optimizer.init(model)

    x = np.array([[1], [2], [3], [4], [5]], dtype=np.float32)
    y = np.array([[2], [4], [6], [8], [10]], dtype=np.float32)

    def loss_of(model):
        return loss_function(model(x), y)

    # value_and_grad with respect to the model, then the optimizer update, compiled as one program
    train_step = mg.optim.make_train_step(loss_of, optimizer)

    losses = []
    for epoch in range(args.epochs):
        model, opt_state, loss = train_step(model, opt_state)
        losses.append(float(loss))
        if epoch % 100 == 0:
            print(f"Epoch {epoch}: Loss = {float(loss):.6g}")

    mse = float(loss_of(model))
    print(f"predictions: {np.round(model(x)[:, 0].astype(float), 3).tolist()}   (MSE {mse:.2e})")
    if args.plot and mg.viz.save_loss_curve(losses, args.plot, title="multilayer perceptron", xlabel="epoch",
                                            log_scale=True):
        print(f"loss curve saved to {args.plot}")
    return mse


if __name__ == "__main__":
    main()
