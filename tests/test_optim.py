"""Optimizers against hand-written NumPy versions of PyTorch's documented algorithms, schedules,
clipping, bad hyperparameters, and a whole training step under jit."""
import math

import numpy as np
import pytest

import micrograd as mg
from micrograd.optim import schedules

STEPS = 6


def _problem(seed=0):
    rng = np.random.default_rng(seed)
    params = {"w": rng.normal(size=(3, 2)), "b": rng.normal(size=2)}
    grads = [{"w": rng.normal(size=(3, 2)), "b": rng.normal(size=2)} for _ in range(STEPS)]
    return params, grads


# --- references: one parameter array at a time, straight from the PyTorch documentation ------------

def ref_sgd(p, gs, lr, momentum=0.0, nesterov=False, weight_decay=0.0):
    b = None
    for g in gs:
        g = g + weight_decay * p
        if momentum:
            b = g.copy() if b is None else momentum * b + g
            g = g + momentum * b if nesterov else b
        p = p - lr * g
    return p


def ref_adam(p, gs, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
    m, v = np.zeros_like(p), np.zeros_like(p)
    for t, g in enumerate(gs, start=1):
        if decoupled:
            p = p * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
        m = betas[0] * m + (1 - betas[0]) * g
        v = betas[1] * v + (1 - betas[1]) * g * g
        m_hat, v_hat = m / (1 - betas[0] ** t), v / (1 - betas[1] ** t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
    return p


def ref_rmsprop(p, gs, lr, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
    sq, ga, buf = np.zeros_like(p), np.zeros_like(p), np.zeros_like(p)
    for g in gs:
        g = g + weight_decay * p
        sq = alpha * sq + (1 - alpha) * g * g
        avg = sq
        if centered:
            ga = alpha * ga + (1 - alpha) * g
            avg = sq - ga * ga
        step = g / (np.sqrt(avg) + eps)
        if momentum:
            buf = momentum * buf + step
            step = buf
        p = p - lr * step
    return p


def ref_adagrad(p, gs, lr, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10):
    s = np.full_like(p, initial_accumulator_value)
    for t, g in enumerate(gs, start=1):
        clr = lr / (1 + (t - 1) * lr_decay)
        g = g + weight_decay * p
        s = s + g * g
        p = p - clr * g / (np.sqrt(s) + eps)
    return p


CASES = [
    (mg.SGD, ref_sgd, dict(learning_rate=0.1)),
    (mg.SGD, ref_sgd, dict(learning_rate=0.1, momentum=0.9)),
    (mg.SGD, ref_sgd, dict(learning_rate=0.05, momentum=0.8, nesterov=True, weight_decay=0.01)),
    (mg.Adam, ref_adam, dict(learning_rate=0.01)),
    (mg.Adam, ref_adam, dict(learning_rate=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    (mg.AdamW, lambda p, gs, **kw: ref_adam(p, gs, decoupled=True, **kw), dict(learning_rate=0.01, weight_decay=0.5)),
    (mg.RMSprop, ref_rmsprop, dict(learning_rate=0.01)),
    (mg.RMSprop, ref_rmsprop, dict(learning_rate=0.01, momentum=0.9, centered=True, weight_decay=0.1)),
    (mg.Adagrad, ref_adagrad, dict(learning_rate=0.1)),
    (mg.Adagrad, ref_adagrad, dict(learning_rate=0.1, lr_decay=0.05, weight_decay=0.1, initial_accumulator_value=0.5)),
]


def _id(case):
    cls, _, kw = case
    return cls.__name__ + "-" + "-".join(f"{k}={v}" for k, v in kw.items() if k != "learning_rate")


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_optimizer_matches_numpy_reference(case):
    cls, ref, kw = case
    params, grads = _problem()
    opt = cls(**kw)
    state = opt.init(params)
    p = params
    for g in grads:
        p, state = opt.update(p, g, state)
    reference = {name: ref(params[name], [g[name] for g in grads], lr=kw["learning_rate"],
                           **{k: v for k, v in kw.items() if k != "learning_rate"}) for name in params}
    for name in params:
        np.testing.assert_allclose(p[name], reference[name], rtol=1e-12, atol=1e-14)
        assert not np.allclose(p[name], params[name])  # the parameters did move
    assert int(state["count"]) == STEPS


def test_defaults_match_pytorch():
    assert (mg.Adam().learning_rate, mg.Adam().betas, mg.Adam().eps) == (1e-3, (0.9, 0.999), 1e-8)
    assert mg.AdamW().weight_decay == 1e-2
    rms = mg.RMSprop()
    assert (rms.learning_rate, rms.alpha, rms.eps) == (1e-2, 0.99, 1e-8)
    assert (mg.Adagrad().eps, mg.Adagrad().learning_rate) == (1e-10, 1e-2)


def test_float32_parameters_stay_float32():
    params = {"w": np.ones(3, np.float32)}
    for opt in (mg.SGD(0.1, momentum=0.9), mg.Adam(schedules.cosine_decay(0.1, 10)), mg.RMSprop(), mg.Adagrad(), mg.AdamW()):
        new, state = opt.update(params, {"w": np.full(3, 0.5, np.float32)}, opt.init(params))
        assert new["w"].dtype == np.float32
        assert all(leaf.dtype == np.float32 for name, leaf in zip(state, mg.tree.leaves(state)) if name != "count")


@pytest.mark.parametrize("lr", [-0.1, float("nan"), float("inf")])
@pytest.mark.parametrize("cls", [mg.SGD, mg.Adam, mg.AdamW, mg.RMSprop, mg.Adagrad])
def test_bad_learning_rate_is_rejected(cls, lr):
    with pytest.raises(ValueError, match="learning_rate"):
        cls(learning_rate=lr)


def test_bad_hyperparameters_are_rejected():
    with pytest.raises(ValueError, match="betas"):
        mg.Adam(betas=(1.0, 0.999))
    with pytest.raises(ValueError, match="nesterov"):
        mg.SGD(0.1, nesterov=True)
    with pytest.raises(ValueError, match="momentum"):
        mg.SGD(0.1, momentum=-1)
    with pytest.raises(TypeError, match="learning_rate"):
        mg.SGD("fast")


def test_update_checks_structure():
    opt = mg.SGD(0.1)
    with pytest.raises(ValueError, match="structure"):
        opt.update({"w": np.ones(2)}, {"v": np.ones(2)}, opt.init({"w": np.ones(2)}))


def test_schedules():
    assert [float(schedules.step_decay(1.0, 3, 0.5)(s)) for s in range(7)] == [1, 1, 1, 0.5, 0.5, 0.5, 0.25]
    np.testing.assert_allclose(schedules.exponential_decay(2.0, 0.9)(np.arange(4)), 2.0 * 0.9 ** np.arange(4))
    steps = np.arange(12)
    expected = 0.1 * (0.2 + 0.8 * 0.5 * (1 + np.cos(np.pi * np.minimum(steps, 10) / 10)))
    np.testing.assert_allclose(schedules.cosine_decay(0.1, 10, alpha=0.2)(steps), expected)
    warm = schedules.warmup(schedules.step_decay(1.0, 2, 0.1), warmup_steps=4, init_value=0.2)
    np.testing.assert_allclose([float(warm(s)) for s in range(8)], [0.2, 0.4, 0.6, 0.8, 1.0, 1.0, 0.1, 0.1])


def test_schedule_drives_learning_rate():
    # SGD with a step schedule: the k-th update uses schedule(k)
    opt = mg.SGD(schedules.step_decay(0.1, 1, 0.5))
    p, state = np.array([0.0]), opt.init(np.array([0.0]))
    for _ in range(3):
        p, state = opt.update(p, np.array([-1.0]), state)
    np.testing.assert_allclose(p, [0.1 + 0.05 + 0.025])


def test_clip_by_global_norm():
    grads = {"a": np.array([3.0, 0.0]), "b": np.array([[4.0]])}
    clipped = mg.clip_by_global_norm(grads, 2.5)
    np.testing.assert_allclose(clipped["a"], [1.5, 0.0])
    np.testing.assert_allclose(clipped["b"], [[2.0]])
    np.testing.assert_allclose(mg.optim.global_norm(clipped), 2.5)
    same = mg.clip_by_global_norm(grads, 10.0)
    np.testing.assert_allclose(same["a"], grads["a"])


def test_jitted_training_step_matches_interpreted_for_every_optimizer():
    """One compiled program runs a full step (loss, value_and_grad, update, clipping) for all
    five optimizers, so Numba compiles once; it must agree with the same step uncompiled."""
    rng = np.random.default_rng(1)
    model = mg.Sequential([mg.Linear(4, 3, key=mg.random.key(1), dtype=np.float64), mg.Tanh(),
                           mg.Linear(3, 2, key=mg.random.key(2), dtype=np.float64)])
    x, y = rng.normal(size=(5, 4)), np.array([0, 1, 1, 0, 1])
    optimizers = [mg.SGD(0.1, momentum=0.9, nesterov=True), mg.Adam(schedules.warmup(0.01, 2)),
                  mg.AdamW(0.01), mg.RMSprop(0.01, momentum=0.5, centered=True), mg.Adagrad(0.1, lr_decay=0.01)]
    loss_fn = mg.CrossEntropyLoss()

    def steps(models, states, x, y):
        out_models, out_states, losses = [], [], []
        for opt, m, s in zip(optimizers, models, states):
            loss, grads = mg.value_and_grad(lambda m: loss_fn(m(x), y) + 1e-3 * mg.nn.l2_penalty(m))(m)
            m, s = opt.update(m, mg.clip_by_global_norm(grads, 1.0), s)
            out_models.append(m)
            out_states.append(s)
            losses.append(loss)
        return out_models, out_states, losses

    models = [model] * len(optimizers)
    states = [opt.init(model) for opt in optimizers]
    jitted = mg.jit(steps, strict=True)
    m_ref, s_ref, m_jit, s_jit = models, states, models, states
    for _ in range(3):
        m_ref, s_ref, l_ref = steps(m_ref, s_ref, x, y)
        m_jit, s_jit, l_jit = jitted(m_jit, s_jit, x, y)
        np.testing.assert_allclose(l_jit, l_ref, rtol=1e-9)
    for got, want in zip(mg.tree.leaves((m_jit, s_jit)), mg.tree.leaves((m_ref, s_ref))):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)
    assert isinstance(m_jit[0], mg.Sequential) and jitted.trace_count == 1
    assert all(float(a) < float(b) for a, b in zip(l_ref, steps(models, states, x, y)[2]))
    assert math.isfinite(float(l_jit[0]))
