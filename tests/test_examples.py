"""The examples run and learn."""
import os
import runpy
import sys

import pytest

from conftest import REPO


def run_example(name, argv):
    old = sys.argv
    sys.argv = [name] + argv
    try:
        return runpy.run_path(os.path.join(REPO, "examples", name), run_name="example")
    finally:
        sys.argv = old


def test_mnist_example_learns(mnist_dir, capsys):
    module = run_example("mnist.py", [])
    accuracy = module["main"](["--data", mnist_dir, "--epochs", "2", "--batch-size", "64"])
    out = capsys.readouterr().out
    assert "epoch 2/2" in out
    losses = [float(line.split("loss ")[1].split()[0]) for line in out.splitlines() if line.startswith("epoch")]
    assert losses[1] < losses[0]
    assert accuracy > 0.85
