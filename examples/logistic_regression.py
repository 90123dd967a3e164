"""Logistic regression (the tutorial's chapter 9): classify points of a line with one Linear
layer and a Sigmoid, trained on the log loss (binary cross-entropy) with gradient descent.

    python examples/logistic_regression.py

Where this differs from the tutorial's code, and why:
- The loss is ``mg.BCELoss()``, not ``mg.CrossEntropyLoss()``: cross-entropy takes one logit
  per class and normalizes them with softmax, and over a single column softmax is always 1,
  so that loss is 0 whatever the model predicts and nothing is learned. BCELoss takes the
  Sigmoid's probability of class 1, which is what this model outputs.
- The tutorial's labels 1, 0, 1, 0, 1 for x = 0..4 alternate, so no threshold on x separates
  them and the best any logistic regression can do is 60% accuracy. Here the labels are
  0, 0, 1, 1, 1 (a threshold at x = 1.5 separates them), which the model learns exactly.
- The learning rate is 0.5 rather than 0.01, so that 1,000 steps reach a confident fit.
"""
from __future__ import annotations

import argparse

import numpy as np

import micrograd as mg


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1000)
    parser.add_argument("--lr", type=float, default=0.5)
    parser.add_argument("--plot", default="logistic_regression_loss.png", help="loss-curve PNG ('' for none)")
    args = parser.parse_args(argv)

    model = mg.Sequential([
        mg.Linear(in_features=1, out_features=1, key=mg.random.key(0)),
        mg.Sigmoid(),
    ])
    loss_function = mg.BCELoss()  # not CrossEntropyLoss: see the module docstring
    optimizer = mg.SGD(learning_rate=args.lr)
    opt_state = optimizer.init(model)

    x = np.array([[0], [1], [2], [3], [4]], dtype=np.float32)
    y = np.array([[0], [0], [1], [1], [1]], dtype=np.float32)

    # value_and_grad with respect to the model, then the optimizer update, compiled as one program
    train_step = mg.optim.make_train_step(lambda m: loss_function(m(x), y), optimizer)

    losses = []
    for epoch in range(args.epochs):
        model, opt_state, loss = train_step(model, opt_state)
        losses.append(float(loss))
        if epoch % 100 == 0:
            print(f"Epoch {epoch}: Loss = {float(loss):.6g}")

    probabilities = model(x)[:, 0]
    predicted = (probabilities > 0.5).astype(np.float32)
    accuracy = float(np.mean(predicted == y[:, 0]))
    log_loss = float(loss_function(model(x), y))
    w, b = float(model[0].weight[0, 0]), float(model[0].bias[0])
    print(f"probabilities of class 1: {np.round(probabilities.astype(float), 3).tolist()}")
    print(f"log loss {log_loss:.4f}, accuracy {100 * accuracy:.0f}%, decision boundary at x = {-b / w:.3f}")
    if args.plot and mg.viz.save_loss_curve(losses, args.plot, title="logistic regression", xlabel="epoch",
                                            log_scale=True):
        print(f"loss curve saved to {args.plot}")
    return log_loss, accuracy


if __name__ == "__main__":
    main()
