"""Handwritten digits with a convolutional network: two 3x3 convolution + 2x2 max-pooling
blocks and a linear head, trained on NCHW image batches with the pipeline, flags and
checkpoints of ``examples/mnist.py`` (progress bar, ``--augment``, ``--save/--resume``, loss
curve).

    python examples/mnist_cnn.py --data path/to/mnist --epochs 15
    python examples/mnist_cnn.py --save cnn.safetensors --resume   # continue an interrupted run

The multilayer perceptron of ``mnist.py`` sees 784 unrelated numbers; the convolutions here see
images: the same 3x3 filters slide over every position, so a stroke is recognised wherever it
is, with far fewer weights per layer.
"""
from __future__ import annotations

import os
import runpy

import micrograd as mg

# the MLP example's data pipeline, command line, training loop and checkpoints
_mnist = runpy.run_path(os.path.join(os.path.dirname(os.path.abspath(__file__)), "mnist.py"), run_name="mnist")


def build_model(key) -> mg.Sequential:
    """a CNN: conv 3x3 (32) - pool - conv 3x3 (64) - pool - linear 3136-128-10"""
    k1, k2, k3, k4 = mg.random.split(key, 4)
    return mg.Sequential([
        mg.Conv2d(1, 32, kernel_size=3, padding=1, key=k1), mg.ReLU(), mg.MaxPool2d(2),   # 32 x 14 x 14
        mg.Conv2d(32, 64, kernel_size=3, padding=1, key=k2), mg.ReLU(), mg.MaxPool2d(2),  # 64 x 7 x 7
        mg.Flatten(),
        mg.Linear(64 * 7 * 7, 128, key=k3), mg.ReLU(),
        mg.Linear(128, 10, key=k4),  # logits: CrossEntropyLoss applies log-softmax
    ])


def main(argv=None) -> float:
    return _mnist["main"](argv, build=build_model, flatten=False, description=__doc__, epochs=15, lr=1e-3,
                          plot="mnist_cnn_loss.png")


if __name__ == "__main__":
    main()
