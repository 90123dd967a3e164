"""vmap against a Python loop over the batch, for every case of the primitive table."""
import numpy as np
import pytest

import micrograd as mg
import micrograd.numpy as mnp
from test_primitives import CASES


def variants(a):
    """Three batch elements in the same domain as ``a`` (its values, permuted)."""
    flat = np.ravel(a)
    return [a, flat[::-1].reshape(np.shape(a)), np.roll(flat, 1).reshape(np.shape(a))]


def batched(a, axis):
    return np.stack(variants(a), axis=axis)


def loop(f, args, axes):
    outs = [f(*[a if ax is None else variants(a)[k] for a, ax in zip(args, axes)]) for k in range(3)]
    return mg.tree.map(lambda *xs: np.stack(xs), *outs)


def assert_tree_close(got, expected):
    for g, e in zip(mg.tree.leaves(got), mg.tree.leaves(expected)):
        assert np.shape(g) == np.shape(e)
        np.testing.assert_allclose(np.asarray(g, np.float64), np.asarray(e, np.float64), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("c", CASES, ids=[c.id for c in CASES])
def test_vmap_matches_loop(c):
    args = c.args
    axis_choices = [tuple(0 for _ in args)]  # everything batched
    for i, a in enumerate(args):  # one argument batched (at its last axis), the rest not
        axis_choices.append(tuple((np.ndim(a) if j == i else None) for j in range(len(args))))
    for axes in axis_choices:
        inputs = [a if ax is None else batched(a, ax) for a, ax in zip(args, axes)]
        got = mg.vmap(c.f, in_axes=axes)(*inputs)
        assert_tree_close(got, loop(c.f, args, axes))


REVERSE = [c for c in CASES if "rev" in c.grad_kw.get("modes", ("rev",))][::3]


@pytest.mark.parametrize("c", REVERSE, ids=[c.id for c in REVERSE])
def test_vmap_of_pullback_matches_loop(c):
    out = c.f(*c.args)
    ct = np.linspace(0.5, 1.5, np.size(out)).reshape(np.shape(out))

    def pulled(*args):
        return mg.vjp(c.f, *args)[1](ct)

    axes = tuple(0 for _ in c.args)
    got = mg.vmap(pulled, in_axes=axes)(*[batched(a, 0) for a in c.args])
    assert_tree_close(got, loop(pulled, c.args, axes))


def test_per_example_gradients_match_a_loop_of_grads():
    rng = np.random.default_rng(0)
    w = {"w": rng.normal(size=(3, 4)), "b": rng.normal(size=4)}
    x, y = rng.normal(size=(6, 3)), rng.integers(0, 4, size=6)

    def loss(params, x, label):
        logits = x @ params["w"] + params["b"]
        return -mnp.log_softmax(logits)[label]

    per_example = mg.vmap(mg.grad(loss), in_axes=(None, 0, 0))(w, x, y)
    for i in range(6):
        g = mg.grad(loss)(w, x[i], y[i])
        np.testing.assert_allclose(per_example["w"][i], g["w"], rtol=1e-12)
        np.testing.assert_allclose(per_example["b"][i], g["b"], rtol=1e-12)


def test_vmap_batch_rule_uses_one_matmul():
    program = mg.make_ir(mg.vmap(lambda x, w: np.tanh(x @ w), in_axes=(0, None)))(np.ones((7, 2, 3)), np.ones((3, 4)))
    assert [e.prim.name for e in program.eqns].count("matmul") == 1


def test_nested_vmap_and_grad_of_vmap():
    x = np.arange(12.0).reshape(3, 4) / 10
    np.testing.assert_allclose(mg.vmap(mg.vmap(lambda a: np.sin(a) * a))(x), np.sin(x) * x)
    g = mg.grad(lambda w: np.sum(mg.vmap(lambda row: np.tanh(row @ w))(x)))(np.ones(4))
    np.testing.assert_allclose(g, mg.grad(lambda w: np.sum(np.tanh(x @ w)))(np.ones(4)), rtol=1e-12)


def test_in_axes_pytree_prefix_and_out_axes():
    params = {"a": np.ones((2, 5)), "b": np.arange(3.0)}
    out = mg.vmap(lambda p: p["a"][0] * p["b"][0], in_axes=({"a": 1, "b": None},))(params)
    np.testing.assert_allclose(out, np.zeros(5))
    x = np.arange(6.0).reshape(2, 3)
    out = mg.vmap(lambda r: r * 2, in_axes=0, out_axes=1)(x)
    np.testing.assert_allclose(out, (x * 2).T)
    const = mg.vmap(lambda r: (r, np.float64(7.0)), out_axes=(0, 0))(x)
    np.testing.assert_allclose(const[1], [7.0, 7.0])


def test_vmap_bad_input_is_named():
    with pytest.raises(ValueError, match="in_axes has 1 entries but the function was called with 2"):
        mg.vmap(lambda a, b: a + b, in_axes=(0,))(np.ones(3), np.ones(3))
    with pytest.raises(ValueError, match=r"different sizes: leaf 0 of shape \(3,\) has size 3 along axis 0, "
                                         r"leaf 1 of shape \(4,\) has size 4"):
        mg.vmap(lambda a, b: a + b)(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match=r"in_axes=2 is out of range for argument leaf 0 of shape \(3, 4\)"):
        mg.vmap(lambda a: a, in_axes=2)(np.ones((3, 4)))
    with pytest.raises(ValueError, match="no argument is mapped"):
        mg.vmap(lambda a: a, in_axes=None)(np.ones(3))


@pytest.mark.parametrize("key", [
    lambda i: i,                                   # x[i]
    lambda i: (slice(None), i),                    # x[:, i]        advanced block in place
    lambda i: (i, slice(None), i),                 # x[i, :, i]     separated: advanced axes first
    lambda i: (Ellipsis, i),                       # x[..., i]
    lambda i: (slice(1, None), None, i, 0),        # x[1:, None, i, 0]
    lambda i: (0, slice(None, None, -1), i),       # x[0, ::-1, i]  int separated from the array
])
@pytest.mark.parametrize("batched_x", [True, False])
def test_vmap_of_indexing_with_batched_index_arrays(key, batched_x):
    rng = np.random.default_rng(1)
    xs = rng.normal(size=(4, 3, 3, 3))
    idx = rng.integers(0, 3, size=(4, 2, 2))

    def f(x, i):
        return np.sin(x[key(i)]) * 2.0

    def loss(x, i):
        return np.sum(f(x, i) ** 2)

    in_axes = (0 if batched_x else None, 0)
    x_arg = xs if batched_x else xs[0]
    got = mg.vmap(f, in_axes=in_axes)(x_arg, idx)
    expected = np.stack([f(xs[k] if batched_x else xs[0], idx[k]) for k in range(4)])
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    grads = mg.vmap(mg.grad(loss), in_axes=in_axes)(x_arg, idx)  # scatter_add with batched indices
    expected = np.stack([mg.grad(loss)(xs[k] if batched_x else xs[0], idx[k]) for k in range(4)])
    np.testing.assert_allclose(grads, expected, rtol=1e-12)
