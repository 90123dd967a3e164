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


def test_higher_order_example(tmp_path, capsys):
    module = run_example("higher_order.py", [])
    curves = module["main"](["--out", str(tmp_path / "tanh.png")])
    xs = __import__("numpy").linspace(-4, 4, 401)
    for got, expected in zip(curves, module["tanh_closed_forms"](xs)):
        assert abs(got - expected).max() < 1e-12
    h, closed = module["hessian_demo"]()
    assert abs(h - closed).max() < 1e-12
    assert len(module["per_example_gradient_norms"]()) == 6
    assert "Hessian" in capsys.readouterr().out
