"""Counterexamples found by fuzzing (tests/test_fuzz.py, scripts/fuzz.py) and by the edge-case
tests (tests/test_stability.py), each as a plain test: the program as found, then what must hold.
Each says what was wrong and where it was fixed."""
from __future__ import annotations

import numpy as np

import micrograd as mg
import micrograd.numpy as mnp


def test_bce_with_logits_gradient_at_zero_logits():
    """Found by tests/test_stability.py (rows with a logit of exactly 0). A library bug:
    BCEWithLogitsLoss was ``relu(x) - x t + log1p(exp(-|x|))``, whose derivative at x = 0 is
    ``0 - t + 0`` (the kinks of relu and abs) instead of ``sigmoid(0) - t = 1/2 - t``; a
    zero-initialized last layer outputs exactly such logits. Fixed in micrograd/nn/losses.py
    (softplus with one smooth branch per sign)."""
    x = np.zeros(4)
    t = np.array([1.0, 0.0, 1.0, 0.5])
    g = mg.grad(lambda x: mg.BCEWithLogitsLoss(reduction="sum")(x, t))(x)
    np.testing.assert_allclose(g, 0.5 - t)
    # second derivative sigmoid'(0) = 1/4; eagerly and under jit alike
    h = mg.hessian(lambda x: mg.BCEWithLogitsLoss(reduction="sum")(x, t))(x)
    np.testing.assert_allclose(h, 0.25 * np.eye(4))
    xt = mg.tensor(x, requires_grad=True)
    mg.BCEWithLogitsLoss(reduction="sum")(xt, t).backward()
    np.testing.assert_allclose(xt.grad.data, 0.5 - t)
    jitted = mg.jit(mg.grad(lambda x, t: mg.BCEWithLogitsLoss(reduction="sum")(x, t)), strict=True)
    np.testing.assert_allclose(jitted(np.array([0.0, -1e3, 1e3, 2.0]), t),
                               np.array([0.5, 0.0, 1.0, 1 / (1 + np.exp(-2.0))]) - t, atol=1e-15)


k0 = np.array([-0.9651301731991828, 0.45488445055586, -1.2619228651212544], np.float64)


def f_15603(x0, x1, x2):
    v1 = mnp.matmul(x0, x2)
    v2 = mnp.sin(v1)
    v5 = v2 + k0
    return v5


def test_float32_product_promoted_by_a_float64_constant_under_vmap():
    """Found by the fuzzer (program seed 15603, trimmed to the lines that matter). Not a library
    bug: the float32 product is promoted to float64 by the float64 constant ``k0``, and vmap's
    batched product rounds (in float32) differently from the loop's one-row products, so the
    float64 results agree to float32 precision only. The fuzzer judged them at float64's
    tolerance; it now uses the coarsest dtype among a program's values."""
    x0 = np.array([-0.2026119828224182, 0.6264455318450928, -0.0028985999524593353], np.float32)
    x1 = np.zeros((2, 3), np.float32)
    x2 = np.array([[1.2111456394195557, -1.5627130270004272, -0.5518000721931458],
                   [-0.4671935737133026, 0.5619980692863464, -0.2624923884868622],
                   [0.5144209265708923, -1.2816731929779053, 1.0840473175048828]], np.float32)
    rng = np.random.default_rng(0)
    x0s = rng.uniform(-2, 2, (3, 3)).astype(np.float32)
    x1s = rng.uniform(-2, 2, (2, 3, 3)).astype(np.float32)
    batched = mg.vmap(f_15603, in_axes=(1, 2, None))(x0s.T.copy(), x1s, x2)
    loop = np.stack([f_15603(x0s[k], x1s[..., k], x2) for k in range(3)])
    assert batched.dtype == loop.dtype == np.float64
    np.testing.assert_allclose(batched, loop, rtol=1e-6, atol=1e-6)
    assert f_15603(x0, x1, x2).dtype == np.float64


def test_traced_size_names_the_real_problem():
    """Found while collecting docs/errors.md: ``x.reshape(n)`` with ``n`` a traced 0-d array
    failed with "len() of a 0-d traced array" (the shape was iterated). Fixed in
    micrograd/numpy.py: a traced size is converted with int(), whose error says why."""
    import pytest
    with pytest.raises(mg.TracerConversionError, match="Shapes and indices must be known while tracing"):
        mg.jit(lambda x, n: x.reshape(n))(np.ones(2), np.array(2))
    with pytest.raises(mg.TracerConversionError, match="to a Python int inside jit"):
        mg.jit(lambda x, n: mnp.broadcast_to(x, n))(np.ones(2), np.array([2, 2]))
