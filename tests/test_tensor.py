"""Eager tensors: the tape's gradients equal the functional transforms' on every primitive, and
the PyTorch-style surface (``backward``, ``.grad``, ``no_grad``, in-place rules, modules and
optimizers used eagerly) behaves and fails as documented.

The primitive cases are the table of ``test_primitives.py``: each function is run once on
tensors that require grad and back-propagated with random output weights, and compared with
``mg.vjp`` of the same function; second order (``create_graph=True``) is compared with
``mg.grad`` of a gradient on a subset.
"""
from __future__ import annotations

import re

import numpy as np
import pytest

import micrograd as mg
import micrograd.numpy as mnp
from test_primitives import CASES, THIRD_ORDER

_rng = np.random.default_rng(7)


def as_array(grad, like):
    """A leaf's ``.grad`` as an array; a leaf the cotangent never reached has None (zero)."""
    return np.zeros(np.shape(like)) if grad is None else np.asarray(grad.data)


def weights_like(out):
    return _rng.standard_normal(np.shape(out))


# --- eager and functional gradients on every primitive ------------------------------------------

@pytest.mark.parametrize("c", CASES, ids=[c.id for c in CASES])
def test_eager_gradients_equal_vjp(c):
    out, pullback = mg.vjp(c.f, *c.args)
    w = weights_like(out)
    expected = pullback(w)
    tensors = [mg.tensor(a, requires_grad=True) for a in c.args]
    eager_out = c.f(*tensors)
    assert isinstance(eager_out, mg.Tensor) and eager_out.requires_grad
    np.testing.assert_allclose(eager_out.numpy(), out, rtol=1e-12, atol=1e-12)
    (eager_out * w).sum().backward()
    for i, (t, e) in enumerate(zip(tensors, expected)):
        got = as_array(t.grad, e)
        assert got.shape == np.shape(e) and got.dtype == np.asarray(e).dtype, f"argument {i}"
        np.testing.assert_allclose(got, e, rtol=1e-10, atol=1e-12, err_msg=f"argument {i}")


SECOND_ORDER = sorted(set(THIRD_ORDER) | {"exp-2x3", "mul-3x1_1x4", "pow_scalar_cube-2x3", "relu", "softmax",
                                          "log_softmax", "matmul-2x3_3x2", "gather_array_repeated",
                                          "mean", "where_bcast", "chain_arith"})


@pytest.mark.parametrize("c", [c for c in CASES if c.id in SECOND_ORDER], ids=lambda c: c.id)
def test_create_graph_second_order_equals_grad_of_grad(c):
    n = len(c.args)
    w = weights_like(c.ref(*c.args))
    v = [_rng.standard_normal(np.shape(a)) for a in c.args]

    def first(*xs):
        return mnp.sum(c.f(*xs) * w)

    def directional(*xs):  # sum_i <d first / d x_i, v_i>
        grads = mg.grad(first, argnums=tuple(range(n)))(*xs)
        total = 0.0
        for g, vi in zip(grads, v):
            total = total + mnp.sum(g * vi)
        return total

    expected = mg.grad(directional, argnums=tuple(range(n)))(*c.args)

    tensors = [mg.tensor(a, requires_grad=True) for a in c.args]
    (c.f(*tensors) * w).sum().backward(create_graph=True)
    grads = [t.grad for t in tensors]
    for t in tensors:
        t.grad = None
    total = None
    for g, vi in zip(grads, v):
        if g is not None and g.requires_grad:
            term = (g * vi).sum()
            total = term if total is None else total + term
    if total is not None:
        total.backward()
    for i, (t, e) in enumerate(zip(tensors, expected)):
        np.testing.assert_allclose(as_array(t.grad, e), e, rtol=1e-9, atol=1e-12, err_msg=f"argument {i}")
    assert len(SECOND_ORDER) > 25


def test_an_input_reached_by_two_paths_gets_both_contributions():
    # regression: the tape's topological order once let x be visited before sum(x) had passed
    # its share back, so x - x.sum(axis=1, keepdims=True) lost the second path
    x0 = np.array([[1.0, 2.0, 4.0], [0.5, -1.0, 3.0]])
    x = mg.tensor(x0, requires_grad=True)
    w = np.arange(3.0)
    ((x - x.sum(axis=1, keepdims=True)) * w).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.broadcast_to(w - w.sum(), (2, 3)))
    x = mg.tensor(x0, requires_grad=True)
    mg.nn.losses.cross_entropy(x, np.array([2, 0])).backward()
    np.testing.assert_allclose(x.grad.numpy(), mg.grad(mg.nn.losses.cross_entropy)(x0, np.array([2, 0])))
