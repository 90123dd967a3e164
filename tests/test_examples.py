"""The examples run and learn."""
import importlib.util
import os
import runpy
import sys

import numpy as np
import pytest

from conftest import REPO


def run_example(name, argv):
    old = sys.argv
    sys.argv = [name] + argv
    try:
        return runpy.run_path(os.path.join(REPO, "examples", name), run_name="example")
    finally:
        sys.argv = old


HAS_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None


def test_mnist_example_learns(mnist_dir, capsys, tmp_path):
    module = run_example("mnist.py", [])
    plot = tmp_path / "loss.png"
    accuracy = module["main"](["--data", mnist_dir, "--epochs", "2", "--batch-size", "64", "--plot", str(plot)])
    out = capsys.readouterr().out
    assert "epoch 2/2" in out
    losses = [float(line.split("loss ")[1].split()[0]) for line in out.splitlines() if line.startswith("epoch")]
    assert losses[1] < losses[0]
    assert accuracy > 0.85
    assert f"Test Accuracy: {100 * accuracy:.2f}% on 10000 images" in out
    assert plot.stat().st_size > 1000 if HAS_MATPLOTLIB else not plot.exists()


def test_mnist_example_says_when_the_data_are_missing(tmp_path):
    module = run_example("mnist.py", [])
    with pytest.raises(FileNotFoundError, match="MNIST files missing in"):
        module["main"](["--data", str(tmp_path), "--no-download", "--plot", ""])


def test_mnist_example_repeats_itself_bit_for_bit_with_a_cold_and_a_warm_cache(mnist_dir, tmp_path):
    """The same seed, an empty compile cache then a warm one: the same printed numbers and the
    same parameters, to the bit (the example compiles before training: see compile_first)."""
    import re
    import subprocess

    from safetensors.numpy import load_file

    env = dict(os.environ, MICROGRAD_CACHE_DIR=str(tmp_path / "cache"))
    runs = []
    for name in ("cold", "warm"):
        done = subprocess.run([sys.executable, os.path.join(REPO, "examples", "mnist.py"), "--data", mnist_dir,
                               "--epochs", "1", "--batch-size", "128", "--lr", "3e-3", "--no-augment", "--plot", "",
                               "--save", str(tmp_path / f"{name}.st")], capture_output=True, text=True, env=env,
                              timeout=300)
        assert done.returncode == 0, done.stderr
        runs.append((re.sub(r"\(?[0-9.]+ s\)?", "", done.stdout), load_file(str(tmp_path / f"{name}.st"))))
    (cold_out, cold), (warm_out, warm) = runs
    assert float(re.search(r"Test Accuracy: ([0-9.]+)%", cold_out).group(1)) > 80  # (without augmentation)
    assert cold_out == warm_out
    assert cold.keys() == warm.keys() and all(np.array_equal(cold[k], warm[k]) for k in cold)


def test_mnist_cnn_example_learns_from_image_batches(mnist_dir, capsys, tmp_path):
    module = run_example("mnist_cnn.py", [])
    accuracy = module["main"](["--data", mnist_dir, "--epochs", "1", "--lr", "3e-3", "--plot", ""])
    out = capsys.readouterr().out
    assert "model: a CNN" in out and "epoch 1/1" in out
    assert accuracy > 0.85  # one epoch on 5,000 images; the MLP reaches about 0.83


def test_linear_regression_example_recovers_2x(tmp_path, capsys):
    module = run_example("linear_regression.py", [])
    weight, bias, mse = module["main"](["--plot", str(tmp_path / "loss.png")])
    assert abs(weight - 2.0) < 1e-3 and abs(bias) < 1e-3 and mse < 1e-6
    out = capsys.readouterr().out
    assert "Epoch 0: Loss = " in out and "Epoch 900: Loss = " in out and "learned y = 2.0000 x" in out
    assert (tmp_path / "loss.png").exists() == HAS_MATPLOTLIB  # matplotlib is optional


def test_logistic_regression_example_separates(capsys):
    module = run_example("logistic_regression.py", [])
    log_loss, accuracy = module["main"](["--plot", ""])
    assert accuracy == 1.0 and log_loss < 0.05
    assert "accuracy 100%" in capsys.readouterr().out


def test_mlp_example_fits_chapter_10_data(capsys):
    module = run_example("mlp.py", [])
    mse = module["main"](["--plot", ""])
    assert mse < 1e-3
    assert "Epoch 900: Loss = " in capsys.readouterr().out


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


def test_sequence_lstm_example_remembers(capsys, tmp_path):
    module = run_example("sequence_lstm.py", [])
    plot = tmp_path / "lstm.png"
    mse = module["main"](["--steps", "300", "--lr", "0.05", "--length", "10", "--hidden", "16", "--plot", str(plot)])
    assert mse < 0.05  # predicting the mean scores 1/6: the LSTM remembers the marked values
    assert "held-out MSE" in capsys.readouterr().out
    assert plot.stat().st_size > 1000 if HAS_MATPLOTLIB else not plot.exists()


def test_ode_example_fits_through_the_integrator(capsys):
    module = run_example("ode.py", [])
    fitted = module["main"](["--steps", "40", "--plot", ""])
    losses = [float(line.split("loss ")[1].split()[0]) for line in capsys.readouterr().out.splitlines()
              if line.startswith("step")]
    assert losses[-1] < losses[0] / 5
    assert abs(fitted[1] - 0.4) < abs(0.6 - 0.4)  # b moved from its first guess towards the truth


def test_implicit_example_differentiates_the_solver(capsys):
    module = run_example("implicit.py", [])
    theta = module["main"](["--steps", "150"])
    out = capsys.readouterr().out
    assert "reverse mode through the while_loop itself: reverse-mode differentiation" in out
    agreement = out.split("closed form to ")[1].split()[0]
    assert float(agreement) < 1e-12
    x = module["solve"](theta)
    np.testing.assert_allclose(x, [0.5, 0.25, -0.5], atol=2e-3)
