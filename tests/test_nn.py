"""Modules as pytrees, layers (shape errors, Dropout, BatchNorm1d), losses against NumPy formulas."""
import numpy as np
import pytest

import micrograd as mg
import micrograd.numpy as mnp


def _mlp(dtype=np.float64):
    return mg.Sequential([mg.Linear(3, 4, key=mg.random.key(0), dtype=dtype), mg.ReLU(),
                          mg.Linear(4, 2, key=mg.random.key(1), dtype=dtype)])


# --- modules are pytrees ------------------------------------------------------------------------

def test_module_is_a_pytree_with_arrays_as_leaves():
    model = _mlp()
    leaves, treedef = mg.tree.flatten(model)
    assert [leaf.shape for leaf in leaves] == [(3, 4), (4,), (4, 2), (2,)]
    rebuilt = mg.tree.unflatten(treedef, [leaf * 0 for leaf in leaves])
    assert isinstance(rebuilt, mg.Sequential) and isinstance(rebuilt[0], mg.Linear)
    assert rebuilt[0].in_features == 3 and not rebuilt(np.ones(3)).any()
    assert mg.tree.structure(model.eval()) != treedef  # the training flag is static data
    assert mg.tree.structure(model.eval().train()) == treedef


def test_gradient_is_model_shaped_and_correct():
    model, x = _mlp(), np.random.default_rng(0).normal(size=(5, 3))
    grads = mg.grad(lambda m: mnp.sum(m(x) ** 2))(model)
    assert isinstance(grads, mg.Sequential)
    w1, b1, w2, b2 = model.parameters()
    h = x @ w1 + b1
    out = np.maximum(h, 0) @ w2 + b2
    d_out = 2 * out
    np.testing.assert_allclose(grads[2].weight, np.maximum(h, 0).T @ d_out, rtol=1e-12)
    np.testing.assert_allclose(grads[2].bias, d_out.sum(0), rtol=1e-12)
    np.testing.assert_allclose(grads[0].weight, x.T @ ((d_out @ w2.T) * (h > 0)), rtol=1e-12)


def test_linear_layout_and_default_initialization():
    layer = mg.Linear(in_features=100, out_features=30, key=mg.random.key(3))
    assert layer.weight.shape == (100, 30) and layer.bias.shape == (30,) and layer.weight.dtype == np.float32
    assert np.abs(layer.weight).max() <= 0.1 and np.abs(layer.weight).max() > 0.09  # U(+-1/sqrt(100))
    np.testing.assert_allclose(layer(np.ones(100)), layer.weight.sum(0) + layer.bias, rtol=1e-5)
    # same key, same layer; without a key, layers differ from each other
    assert np.array_equal(mg.Linear(100, 30, key=mg.random.key(3)).weight, layer.weight)
    assert not np.array_equal(mg.Linear(2, 2).weight, mg.Linear(2, 2).weight)
    assert mg.Linear(2, 3, bias=False).parameters()[0].shape == (2, 3) and len(mg.Linear(2, 3, bias=False).parameters()) == 1


def test_linear_wrong_feature_count_names_layer_expected_and_got():
    model = _mlp()
    with pytest.raises(mg.ShapeError, match=r"Linear\(in_features=3, out_features=4, bias=True\) expects inputs "
                                            r"whose last axis has 3 features, got shape \(5, 7\)"):
        model[0](np.ones((5, 7)))
    with pytest.raises(mg.ShapeError, match=r"layer 2 of Sequential: Linear\(in_features=4.*got shape \(5, 3\)"):
        mg.Sequential([mg.Linear(3, 3, key=mg.random.key(0)), mg.ReLU(), model[0].replace(in_features=4)])(np.ones((5, 3)))
    for transform in (mg.jit, lambda f: mg.grad(lambda x: mnp.sum(f(x)))):  # shapes are known while tracing
        with pytest.raises(mg.ShapeError, match="expects inputs whose last axis has 3 features"):
            transform(lambda x: model(x))(np.ones((2, 5)))
    with pytest.raises(ValueError, match="in_features must be a positive integer"):
        mg.Linear(0, 2)


def test_activations():
    x = np.array([[-1.0, 0.0, 2.0]])
    np.testing.assert_allclose(mg.ReLU()(x), [[0, 0, 2]])
    np.testing.assert_allclose(mg.Sigmoid()(x), 1 / (1 + np.exp(-x)))
    np.testing.assert_allclose(mg.Tanh()(x), np.tanh(x))
    np.testing.assert_allclose(mg.Softmax(dim=-1)(x), np.exp(x) / np.exp(x).sum(), rtol=1e-12)
    np.testing.assert_allclose(mg.Softmax(dim=0)(x), np.ones_like(x))
    np.testing.assert_allclose(mg.LogSoftmax()(x), x - np.log(np.exp(x).sum()), rtol=1e-12)
    assert mg.Identity()(x) is x


def test_dropout_train_and_eval():
    x = np.ones((200, 50))
    drop = mg.Dropout(0.3)
    y = drop(x, key=mg.random.key(0))
    kept = y != 0
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(y[kept], 1 / 0.7)
    assert np.array_equal(drop(x, key=mg.random.key(0)), y)  # a key fixes the mask
    assert not np.array_equal(drop(x, key=mg.random.key(1)), y)
    assert drop.eval()(x) is x
    with pytest.raises(ValueError, match="needs a random key"):
        drop(x)
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\)"):
        mg.Dropout(1.0)
    # inside a model under jit, with the key as an argument
    model = mg.Sequential([mg.Dropout(0.5), mg.Linear(50, 1, key=mg.random.key(0), dtype=np.float64)])
    f = mg.jit(lambda m, x, k: m(x, key=k), strict=True)
    key = mg.random.key(5)
    np.testing.assert_allclose(f(model, x, key), model(x, key=key), rtol=1e-12)
    np.testing.assert_allclose(f(model.eval(), x, key), model.eval()(x), rtol=1e-12)


def test_batchnorm_training_and_evaluation():
    rng = np.random.default_rng(0)
    x = rng.normal(3.0, 2.0, size=(32, 4))
    bn = mg.BatchNorm1d(4, momentum=0.1, dtype=np.float64)
    y, bn1 = bn.apply(x)
    np.testing.assert_allclose(y, (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5), rtol=1e-10)
    np.testing.assert_allclose(bn1.running_mean, 0.1 * x.mean(0), rtol=1e-12)
    np.testing.assert_allclose(bn1.running_var, 0.9 + 0.1 * x.var(0, ddof=1), rtol=1e-12)
    assert np.array_equal(bn.running_mean, np.zeros(4))  # the original is untouched
    np.testing.assert_allclose(bn(x), y)  # calling returns the output only
    # evaluation mode normalizes with the running statistics and changes nothing
    bn_eval = bn1.eval()
    y_eval, same = bn_eval.apply(x)
    np.testing.assert_allclose(y_eval, (x - bn1.running_mean) / np.sqrt(bn1.running_var + 1e-5), rtol=1e-12)
    assert same is bn_eval
    # running statistics are leaves a jitted step carries, but not parameters
    assert len(mg.tree.leaves(bn)) == 4 and len(bn.parameters()) == 2
    # a model with BatchNorm trains under grad: gradients flow through the batch statistics
    model = mg.Sequential([mg.Linear(4, 3, key=mg.random.key(0), dtype=np.float64), mg.BatchNorm1d(3, dtype=np.float64)])

    def loss(m):
        out, new = m.apply(x)
        return mnp.sum(out[:, 0] * np.arange(32.0)), new
    grads, new_model = mg.grad(loss, has_aux=True)(model)
    assert np.abs(grads[0].weight).sum() > 0 and not np.abs(grads[1].running_mean).any()
    assert np.abs(new_model[1].running_mean).sum() > 0
    merged = mg.nn.copy_buffers(model, new_model)
    assert np.array_equal(merged[1].running_mean, new_model[1].running_mean) and merged[0].weight is model[0].weight
    with pytest.raises(ValueError, match="more than one sample"):
        bn.apply(x[:1])
    with pytest.raises(mg.ShapeError, match=r"BatchNorm1d\(4\) expects inputs of shape \(batch, 4\)"):
        bn(np.ones((2, 3)))


def test_replace_and_static_fields_must_be_hashable():
    assert mg.Softmax().replace(dim=0).dim == 0
    with pytest.raises(AttributeError, match="no field"):
        mg.Softmax().replace(axis=0)

    class Bad(mg.nn.Module):
        def __init__(self):
            self.sizes = [1, 2]
    with pytest.raises(TypeError, match="must be hashable"):
        mg.tree.flatten(Bad())


# --- losses against NumPy formulas --------------------------------------------------------------

def _reduce(x, reduction):
    return {"mean": np.mean, "sum": np.sum, "none": lambda v: v}[reduction](x)


def _log_softmax(z):
    z = z - z.max(-1, keepdims=True)
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_losses_match_numpy(reduction):
    rng = np.random.default_rng(0)
    pred, target = rng.normal(size=(6, 3)), rng.normal(size=(6, 3))
    logits, labels = rng.normal(size=(6, 4)) * 3, rng.integers(0, 4, 6)
    probs = rng.dirichlet(np.ones(4), size=6)
    p, t = rng.uniform(0.01, 0.99, size=(6, 1)), rng.integers(0, 2, (6, 1)).astype(float)
    z = rng.normal(size=(6, 1)) * 4
    cases = [
        (mg.MSELoss, (pred, target), (pred - target) ** 2),
        (mg.L1Loss, (pred, target), np.abs(pred - target)),
        (mg.CrossEntropyLoss, (logits, labels), -_log_softmax(logits)[np.arange(6), labels]),
        (mg.CrossEntropyLoss, (logits, probs), -(probs * _log_softmax(logits)).sum(-1)),
        (mg.NLLLoss, (_log_softmax(logits), labels), -_log_softmax(logits)[np.arange(6), labels]),
        (mg.BCELoss, (p, t), -(t * np.log(p) + (1 - t) * np.log(1 - p))),
        (mg.BCEWithLogitsLoss, (z, t), -(t * np.log(1 / (1 + np.exp(-z))) + (1 - t) * np.log(1 - 1 / (1 + np.exp(-z))))),
    ]
    for cls, args, per_sample in cases:
        got = cls(reduction=reduction)(*args)
        np.testing.assert_allclose(got, _reduce(per_sample, reduction), rtol=1e-10, err_msg=cls.__name__)


def test_losses_are_stable_and_differentiable():
    # large logits: no overflow, exact values
    assert float(mg.CrossEntropyLoss()(np.array([[1000.0, -1000.0]]), np.array([1]))) == 2000.0
    np.testing.assert_allclose(mg.BCEWithLogitsLoss(reduction="none")(np.array([800.0, -800.0]), np.array([0.0, 1.0])),
                               [800.0, 800.0])
    # BCELoss clips probabilities: a confident wrong answer costs -log(eps), not infinity
    np.testing.assert_allclose(mg.BCELoss(eps=1e-7)(np.array([0.0]), np.array([1.0])), -np.log(1e-7), rtol=1e-9)
    # gradient of cross-entropy with respect to logits is softmax - one_hot, divided by the batch
    logits, labels = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]]), np.array([2, 0])
    g = mg.grad(lambda z: mg.CrossEntropyLoss()(z, labels))(logits)
    expected = (np.exp(_log_softmax(logits)) - np.eye(3)[labels]) / 2
    np.testing.assert_allclose(g, expected, rtol=1e-12)
    # one-hot float targets and integer labels agree
    np.testing.assert_allclose(mg.CrossEntropyLoss()(logits, np.eye(3)[labels]), mg.CrossEntropyLoss()(logits, labels))


def test_loss_bad_input():
    with pytest.raises(ValueError, match=r"labels must be in \[0, 2\] for 3 classes, got \[-1, 3\]"):
        mg.CrossEntropyLoss()(np.zeros((3, 3)), np.array([3, -1, 0]))
    with pytest.raises(ValueError, match=r"labels must be in \[0, 9\]"):
        mg.nn.functional.nll_loss(np.zeros((1, 10)), np.array([10]))
    # under tracing the labels' values are unknown: no check, and no error
    assert np.isfinite(mg.jit(lambda z, y: mg.CrossEntropyLoss()(z, y))(np.zeros((2, 3)), np.array([0, 2])))
    with pytest.raises(mg.ShapeError, match=r"integer labels must have shape \(3,\)"):
        mg.CrossEntropyLoss()(np.zeros((3, 3)), np.array([[0], [1], [2]]))
    with pytest.raises(mg.ShapeError, match=r"input of shape \(5, 1\) and target of shape \(5,\) differ"):
        mg.MSELoss()(np.zeros((5, 1)), np.zeros(5))
    with pytest.raises(ValueError, match="reduction must be one of"):
        mg.MSELoss(reduction="avg")


def test_l2_penalty():
    model = mg.Sequential([mg.Linear(2, 2, key=mg.random.key(0), dtype=np.float64), mg.BatchNorm1d(2, dtype=np.float64)])
    expected = sum(np.sum(p ** 2) for p in model.parameters())  # running statistics excluded
    np.testing.assert_allclose(mg.nn.l2_penalty(model), expected)
    g = mg.grad(mg.nn.l2_penalty)(model)
    np.testing.assert_allclose(g[0].weight, 2 * model[0].weight)
    assert not g[1].running_var.any()
