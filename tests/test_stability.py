"""Numerical stability at the edges: softmax, log_softmax, logsumexp, sigmoid, tanh and the
losses built on them (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss) at inputs of magnitude 1e3
in float64 and 80 in float32 (where exp overflows: exp(80) > float32's largest value). Values
and gradients must be finite and equal to closed forms evaluated stably in float64 — by grad,
by eager tensors, and for a few under jit, jvp and as Hessians."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import micrograd as mg
import micrograd.numpy as mnp

EDGES = [pytest.param(np.float64, 1e3, id="float64-1e3"), pytest.param(np.float32, 80.0, id="float32-80")]


def edge_inputs(dtype, m):
    """Rows mixing huge positive, huge negative and ordinary logits, ties at the maximum
    included, and a row of equal huge values."""
    return np.array([[m, -m, 0.0], [-m, -m, m], [m, m, -m], [-m, -m, -m], [0.5, -1.0, m / 2]], dtype)


LABELS = np.array([1, 2, 0, 1, 0])


def targets(dtype):
    return np.array([[1, 0, 1], [0, 1, 0], [1, 1, 0], [0, 0, 1], [1, 0, 0]], dtype)


# --- closed forms, evaluated stably in float64 -------------------------------------------------

def ref_logsumexp(x):
    m = x.max(-1, keepdims=True)
    return (m + np.log(np.exp(x - m).sum(-1, keepdims=True)))[..., 0]


def ref_softmax(x):
    return np.exp(x - ref_logsumexp(x)[..., None])


def ref_sigmoid(x):
    return np.where(x >= 0, 1 / (1 + np.exp(-np.abs(x))), np.exp(-np.abs(x)) / (1 + np.exp(-np.abs(x))))


W = np.array([1.0, -2.0, 0.5])  # weights the outputs, so a gradient is not trivially zero


# name: (function of (x, dtype), reference value, reference gradient of the value's sum); x in float64
CASES = {
    "softmax": (lambda x, dt: mnp.softmax(x, axis=-1) * W.astype(dt),
                lambda x: ref_softmax(x) * W,
                lambda x: ref_softmax(x) * (W - (ref_softmax(x) * W).sum(-1, keepdims=True))),
    "log_softmax": (lambda x, dt: mnp.log_softmax(x, axis=-1) * W.astype(dt),
                    lambda x: (x - ref_logsumexp(x)[..., None]) * W,
                    lambda x: W - ref_softmax(x) * W.sum()),
    "logsumexp": (lambda x, dt: mnp.logsumexp(x, axis=-1), ref_logsumexp, ref_softmax),
    "sigmoid": (lambda x, dt: mnp.sigmoid(x), ref_sigmoid, lambda x: ref_sigmoid(x) * ref_sigmoid(-x)),
    "Sigmoid layer": (lambda x, dt: mg.Sigmoid()(x), ref_sigmoid, lambda x: ref_sigmoid(x) * ref_sigmoid(-x)),
    "tanh": (lambda x, dt: mnp.tanh(x), np.tanh, lambda x: 1 - np.tanh(x) ** 2),
    "Softmax layer": (lambda x, dt: mg.Softmax()(x) * W.astype(dt), lambda x: ref_softmax(x) * W,
                      lambda x: ref_softmax(x) * (W - (ref_softmax(x) * W).sum(-1, keepdims=True))),
    "BCEWithLogitsLoss": (lambda x, dt: mg.BCEWithLogitsLoss()(x, targets(dt)),
                          lambda x: np.mean(np.maximum(x, 0) - x * targets(np.float64)
                                            + np.log1p(np.exp(-np.abs(x)))),
                          lambda x: (ref_sigmoid(x) - targets(np.float64)) / x.size),
    "CrossEntropyLoss": (lambda x, dt: mg.CrossEntropyLoss()(x, LABELS),
                         lambda x: np.mean(ref_logsumexp(x) - x[np.arange(len(x)), LABELS]),
                         lambda x: (ref_softmax(x) - np.eye(3)[LABELS]) / len(x)),
    "CrossEntropyLoss probabilities": (
        lambda x, dt: mg.CrossEntropyLoss()(x, targets(dt) / 2),
        lambda x: np.mean(-(targets(np.float64) / 2 * (x - ref_logsumexp(x)[:, None])).sum(-1)),
        lambda x: (ref_softmax(x) * (targets(np.float64) / 2).sum(-1, keepdims=True) - targets(np.float64) / 2)
        / len(x)),
}


def _bce_reference(x, dtype):
    """BCELoss(sigmoid(x)): the probability is clipped to [eps, 1 - eps] (eps = 1e-7, in the
    input's dtype), so a saturated sigmoid costs a large finite loss and passes no gradient."""
    t, eps = targets(np.float64), 1e-7
    p = ref_sigmoid(x).astype(dtype).astype(np.float64)
    lo, hi = float(np.asarray(eps, dtype)), float(np.asarray(1.0, dtype) - np.asarray(eps, dtype))
    pc = np.clip(p, lo, hi)
    value = np.mean(-(t * np.log(pc) + (1 - t) * np.log(1 - pc)))
    inside = (p >= lo) & (p <= hi)
    grad = np.where(inside, (pc - t) / (pc * (1 - pc)) * p * (1 - p), 0.0) / x.size
    return value, grad


def _tolerance(dtype):
    return dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)


def _assert_finite(what, *arrays):
    for a in arrays:
        data = a.data if isinstance(a, mg.Tensor) else a
        assert np.all(np.isfinite(data)), f"{what}: not finite: {data}"


@pytest.fixture(autouse=True)
def no_numpy_warnings():
    """An overflow or invalid-value warning from NumPy is a failure here, even if the final
    result were finite."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):  # underflow to 0 is fine
            yield


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("dtype, m", EDGES)
def test_value_and_gradient_are_finite_and_right(name, dtype, m):
    f, ref_value, ref_grad = CASES[name]
    x = edge_inputs(dtype, m)
    x64 = x.astype(np.float64)
    value, grad = mg.value_and_grad(lambda x: mnp.sum(f(x, dtype)))(x)
    _assert_finite(f"{name} value", value)
    _assert_finite(f"{name} gradient", grad)
    assert np.asarray(value).dtype == dtype and grad.dtype == dtype
    np.testing.assert_allclose(f(x, dtype), ref_value(x64), **_tolerance(dtype))
    np.testing.assert_allclose(grad, np.broadcast_to(ref_grad(x64), x.shape), **_tolerance(dtype))


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("dtype, m", EDGES)
def test_eager_tensors_at_the_edges(name, dtype, m):
    f, ref_value, ref_grad = CASES[name]
    x = mg.tensor(edge_inputs(dtype, m), requires_grad=True)
    loss = mnp.sum(f(x, dtype))
    loss.backward()
    _assert_finite(f"eager {name}", loss, x.grad)
    np.testing.assert_allclose(x.grad.data, np.broadcast_to(ref_grad(x.data.astype(np.float64)), x.shape),
                               **_tolerance(dtype))


@pytest.mark.parametrize("dtype, m", EDGES)
def test_bce_loss_of_a_saturated_sigmoid_is_finite(dtype, m):
    x = edge_inputs(dtype, m)
    value, grad = mg.value_and_grad(lambda x: mg.BCELoss()(mnp.sigmoid(x), targets(dtype)))(x)
    _assert_finite("BCELoss", value, grad)
    ref_value, ref_grad = _bce_reference(x.astype(np.float64), dtype)
    np.testing.assert_allclose(value, ref_value, rtol=1e-5 if dtype == np.float32 else 1e-12)
    np.testing.assert_allclose(grad, ref_grad, **_tolerance(dtype))
    # probabilities of exactly 0 and 1, as a saturated Sigmoid layer returns them
    p = np.array([0.0, 1.0, 0.0, 1.0], dtype)
    t = np.array([1.0, 0.0, 0.0, 1.0], dtype)
    value, grad = mg.value_and_grad(lambda p: mg.BCELoss(reduction="sum")(p, t))(p)
    _assert_finite("BCELoss at 0 and 1", value, grad)
    eps = np.asarray(1e-7, dtype)  # clipped to [eps, 1 - eps], in the input's dtype
    assert value == pytest.approx(-np.log(eps) - np.log(np.float64(1) - (np.asarray(1, dtype) - eps)), rel=1e-5)
    np.testing.assert_array_equal(grad, np.zeros(4, dtype))  # outside the clipped range


JITTED = ["softmax", "log_softmax", "logsumexp", "sigmoid", "tanh", "BCEWithLogitsLoss", "CrossEntropyLoss"]


@pytest.mark.parametrize("dtype, m", EDGES)
def test_jit_at_the_edges(dtype, m):
    """One compiled program for all the functions (compiling one per function would cost seconds)."""
    x = edge_inputs(dtype, m)

    def everything(x):
        return [mg.value_and_grad(lambda x: mnp.sum(CASES[name][0](x, dtype)))(x) for name in JITTED]
    compiled = mg.jit(everything, strict=True)(x)
    for name, (value, grad) in zip(JITTED, compiled):
        _assert_finite(f"jit {name}", value, grad)
        _, ref_value, ref_grad = CASES[name]
        np.testing.assert_allclose(grad, np.broadcast_to(ref_grad(x.astype(np.float64)), x.shape),
                                   **_tolerance(dtype))


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "logsumexp", "sigmoid", "tanh", "CrossEntropyLoss",
                                  "BCEWithLogitsLoss"])
@pytest.mark.parametrize("dtype, m", EDGES)
def test_second_derivatives_and_jvp_are_finite(name, dtype, m):
    f = CASES[name][0]
    x = edge_inputs(dtype, m)
    h = mg.hessian(lambda x: mnp.sum(f(x, dtype)))(x)
    _, tangent = mg.jvp(lambda x: f(x, dtype), (x,), (np.ones_like(x),))
    _assert_finite(f"{name} Hessian", h)
    _assert_finite(f"{name} jvp", tangent)
