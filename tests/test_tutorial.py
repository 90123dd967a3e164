"""The tutorial's code blocks (examples/tutorial/) run as scripts and learn.

Each script runs with runpy in this process, as ``python examples/tutorial/<name>.py`` would,
with the layers' default initialization keys restarted so that every script sees the model a
fresh process builds. Its printed output is checked: the loss falls, and the final metric is
good.
"""
import itertools
import os
import re
import runpy
import sys
import time

import pytest

import micrograd.nn.init
from conftest import REPO

TUTORIAL = os.path.join(REPO, "examples", "tutorial")
LOSS = re.compile(r"^Epoch (\d+): Loss = ([-+0-9.e]+)", re.MULTILINE)


def run_script(name, monkeypatch, capsys, *argv):
    """Run examples/tutorial/<name> as __main__; its stdout."""
    monkeypatch.setattr(micrograd.nn.init, "_default_keys", itertools.count())  # as in a fresh process
    monkeypatch.setattr(sys, "argv", [name, *argv])
    runpy.run_path(os.path.join(TUTORIAL, name), run_name="__main__")
    return capsys.readouterr().out


def losses(out):
    found = [(int(epoch), float(value)) for epoch, value in LOSS.findall(out)]
    assert found, f"no 'Epoch N: Loss = ...' lines in:\n{out}"
    return [value for _, value in found]


def falls(values, factor):
    """The last loss is ``factor`` times below the first, and the loss never rises by much
    (Adam's and SGD's last steps jitter)."""
    return values[-1] < values[0] / factor and all(b < 1.5 * a for a, b in zip(values, values[1:]))


def test_every_tutorial_script_is_tested():
    scripts = sorted(f for f in os.listdir(TUTORIAL) if f.endswith(".py"))
    assert scripts == ["a1_value_and_grad.py", "a2_linear.py", "a3_activations.py", "a4_losses.py", "a5_adam.py",
                       "ch08_linear_regression.py", "ch09_logistic_regression.py", "ch10_mlp.py", "ch11_mnist.py"]
    for script in scripts:  # every change from the tutorial says why, next to it
        text = open(os.path.join(TUTORIAL, script), encoding="utf-8").read()
        for line in text.splitlines():
            if "CHANGED" in line and line.strip().startswith("#"):
                assert len(line.split("CHANGED", 1)[1]) > 20, f"{script}: a CHANGED comment without a reason"


def test_ch08_linear_regression(monkeypatch, capsys):
    out = run_script("ch08_linear_regression.py", monkeypatch, capsys)
    values = losses(out)
    assert len(values) == 10 and falls(values, 1e6)
    weight, bias, mse = map(float, re.search(r"learned y = (\S+) x \+ (\S+), MSE (\S+)", out).groups())
    assert abs(weight - 2) < 1e-3 and abs(bias) < 1e-3 and mse < 1e-8


def test_ch09_logistic_regression(monkeypatch, capsys):
    out = run_script("ch09_logistic_regression.py", monkeypatch, capsys)
    assert falls(losses(out), 10)
    log_loss = float(re.search(r"log loss (\S+),", out).group(1))
    assert log_loss < 0.05 and "accuracy 100%" in out


def test_ch10_mlp(monkeypatch, capsys):
    out = run_script("ch10_mlp.py", monkeypatch, capsys)
    assert falls(losses(out), 1e4)
    assert float(re.search(r"MSE (\S+)", out).group(1)) < 1e-3


def test_ch11_mnist_reaches_85_percent(monkeypatch, capsys, mnist_dir):
    monkeypatch.setenv("MICROGRAD_DATA", os.path.dirname(mnist_dir))  # the script calls mnist.load_data()
    start = time.perf_counter()
    out = run_script("ch11_mnist.py", monkeypatch, capsys, "3")
    values = losses(out)
    assert len(values) == 3 and values[0] > values[1] > values[2]
    accuracy = float(re.search(r"Test Accuracy: (\S+)%", out).group(1))
    assert accuracy > 85, out
    print(f"ch11: 3 epochs, {accuracy:.2f}% in {time.perf_counter() - start:.1f} s")


def test_a1_value_and_grad(monkeypatch, capsys):
    out = run_script("a1_value_and_grad.py", monkeypatch, capsys)
    assert "Value: [1.], Gradient: [2.]" in out
    assert "grad: [2.]" in out and "chain: [24.]" in out


def test_a2_linear(monkeypatch, capsys):
    out = run_script("a2_linear.py", monkeypatch, capsys)
    assert re.search(r"Output: tensor\(\[\S+, +\S+\], grad_fn=<add>\)", out), out
    assert "weight.grad: [[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]], bias.grad: [1.0, 1.0]" in out


def test_a3_activations(monkeypatch, capsys):
    out = run_script("a3_activations.py", monkeypatch, capsys)
    assert "Output: tensor([1., 0., 3.]" in out
    assert "Sigmoid: tensor([0.73105858, 0.11920292, 0.95257413]" in out
    assert "ReLU gradient: tensor([1., 0., 1.])" in out


def test_a4_losses(monkeypatch, capsys):
    out = run_script("a4_losses.py", monkeypatch, capsys)
    assert "Loss: 0.04666666666" in out  # a 0-d tensor formats as its number, as in PyTorch
    assert "y_pred.grad: tensor([0.06666667, 0.13333333, 0.2       ])" in out
    assert "CrossEntropyLoss: 0.17545638" in out


def test_a5_adam_optimizes_the_parameters(monkeypatch, capsys):
    out = run_script("a5_adam.py", monkeypatch, capsys)
    values = losses(out)
    assert values[0] == pytest.approx(0.0466667, rel=1e-5)  # the tutorial's tensors, at the start
    assert values[-1] < values[0] / 1e3
    assert "params: [0.952, 1.905, 2.857]" in out
