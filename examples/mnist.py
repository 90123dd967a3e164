"""Handwritten digits (the tutorial's chapter 11): a 784-128-128-10 multilayer perceptron trained
with micrograd's ``value_and_grad`` and Adam on MNIST.

    python examples/mnist.py --data path/to/mnist --epochs 10

``--data`` names the folder holding the four MNIST files (train-images-idx3-ubyte.gz, ...);
without it, ``$MICROGRAD_DATA/mnist`` is used.

The tutorial puts a Softmax layer before its cross-entropy loss; that applies softmax twice and
trains badly. Here the network returns logits and the loss applies log-softmax once.
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np

import micrograd as mg
import micrograd.numpy as mnp
from micrograd.data import read_idx


def load_mnist(folder: str):
    def images(name):
        return read_idx(os.path.join(folder, name)).reshape(-1, 784).astype(np.float32) / 255.0

    def labels(name):
        return read_idx(os.path.join(folder, name)).astype(np.int64)

    return (images("train-images-idx3-ubyte.gz"), labels("train-labels-idx1-ubyte.gz"),
            images("t10k-images-idx3-ubyte.gz"), labels("t10k-labels-idx1-ubyte.gz"))


def init_mlp(sizes, rng):
    """Weights and biases uniform in +-1/sqrt(fan_in), as PyTorch's Linear initializes them."""
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        bound = 1.0 / np.sqrt(fan_in)
        params.append({"w": rng.uniform(-bound, bound, (fan_in, fan_out)).astype(np.float32),
                       "b": rng.uniform(-bound, bound, fan_out).astype(np.float32)})
    return params


def predict(params, x):
    for layer in params[:-1]:
        x = mnp.relu(x @ layer["w"] + layer["b"])
    return x @ params[-1]["w"] + params[-1]["b"]  # logits


def loss_fn(params, x, labels):
    log_probs = mnp.log_softmax(predict(params, x))
    return -mnp.mean(log_probs[np.arange(len(labels)), labels])


def adam(params, grads, state, lr, b1=0.9, b2=0.999, eps=1e-8):
    step = state["step"] + 1
    m = mg.tree.map(lambda m, g: b1 * m + (1 - b1) * g, state["m"], grads)
    v = mg.tree.map(lambda v, g: b2 * v + (1 - b2) * g * g, state["v"], grads)
    scale = lr * np.sqrt(1 - b2 ** step) / (1 - b1 ** step)
    params = mg.tree.map(lambda p, m, v: p - (scale * m / (np.sqrt(v) + eps)).astype(p.dtype), params, m, v)
    return params, {"step": step, "m": m, "v": v}


def accuracy(params, x, y, batch=1000):
    correct = sum(int(np.sum(np.argmax(predict(params, x[i:i + batch]), axis=1) == y[i:i + batch]))
                  for i in range(0, len(x), batch))
    return correct / len(x)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.path.join(os.environ.get("MICROGRAD_DATA", "data"), "mnist"))
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    x_train, y_train, x_test, y_test = load_mnist(args.data)
    print(f"MNIST from {args.data}: {len(x_train)} training and {len(x_test)} test images")
    rng = np.random.default_rng(args.seed)
    params = init_mlp([784, 128, 128, 10], rng)
    state = {"step": 0, "m": mg.tree.map(np.zeros_like, params), "v": mg.tree.map(np.zeros_like, params)}
    loss_and_grad = mg.value_and_grad(loss_fn)

    start = time.perf_counter()
    for epoch in range(args.epochs):
        order = rng.permutation(len(x_train))  # the subset is sorted by label: shuffling matters
        losses = []
        for i in range(0, len(order), args.batch_size):
            batch = order[i:i + args.batch_size]
            loss, grads = loss_and_grad(params, x_train[batch], y_train[batch])
            params, state = adam(params, grads, state, args.lr)
            losses.append(float(loss))
        elapsed = time.perf_counter() - start
        print(f"epoch {epoch + 1}/{args.epochs}  loss {np.mean(losses):.4f}  "
              f"test accuracy {100 * accuracy(params, x_test, y_test):.2f}%  ({elapsed:.1f} s)")
    return accuracy(params, x_test, y_test)


if __name__ == "__main__":
    main()
