"""The original micrograd's engine tests, on ``mg.tensor`` float64 scalars.

Karpathy's micrograd checks two expressions (``test_sanity_check`` and ``test_more_ops``)
against PyTorch. Here each expression is one Python function of its inputs and of a ``relu``,
evaluated three ways:

* eagerly on tensors: ``backward()`` fills ``.grad``;
* functionally with ``mg.value_and_grad`` on plain floats (a traced program and its vjp), so
  the numbers are checked even where PyTorch is not installed (CI);
* with PyTorch in float64, when it can be imported.

The original's in-place updates (``c += c + 1``) are written ``c = c + c + 1``: in-place
operations on tensors that require grad are refused (see the last test).
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import micrograd as mg
import micrograd.numpy as mnp

TOL = 1e-6  # the original tests' tolerance against PyTorch


def sanity_expression(x, relu):
    z = 2 * x + 2 + x
    q = relu(z) + z * x
    h = relu(z * z)
    return h + q + q * x


def more_ops_expression(a, b, relu):
    c = a + b
    d = a * b + b ** 3
    c = c + c + 1
    c = c + 1 + c + (-a)
    d = d + d * 2 + relu(b + a)
    d = d + 3 * d + relu(b - a)
    e = c - d
    f = e ** 2
    g = f / 2.0
    g = g + 10.0 / f
    return g


def eager(expression, *values):
    """``(value, [gradients])`` by backward() on float64 tensor scalars."""
    leaves = [mg.tensor(v, requires_grad=True) for v in values]
    out = expression(*leaves, lambda t: t.relu())
    assert out.dtype == np.float64 and out.shape == ()
    out.backward()
    return out.item(), [leaf.grad.item() for leaf in leaves]


def functional(expression, *values):
    """``(value, [gradients])`` by mg.value_and_grad on Python floats."""
    f = lambda *xs: expression(*xs, mnp.relu)  # noqa: E731
    value, grads = mg.value_and_grad(f, argnums=tuple(range(len(values))))(*map(float, values))
    return float(value), [float(g) for g in grads]


def with_torch(expression, *values):
    torch = pytest.importorskip("torch")
    leaves = [torch.tensor(float(v), dtype=torch.float64, requires_grad=True) for v in values]
    out = expression(*leaves, torch.relu)
    out.backward()
    return out.item(), [leaf.grad.item() for leaf in leaves]


def assert_close(got, expected, tol):
    (value, grads), (ref_value, ref_grads) = got, expected
    assert abs(value - ref_value) < tol, (value, ref_value)
    assert len(grads) == len(ref_grads)
    for g, r in zip(grads, ref_grads):
        assert abs(g - r) < tol, (g, r)


# --- test_sanity_check -------------------------------------------------------------------------------

def test_sanity_check_eager_equals_functional():
    got = eager(sanity_expression, -4.0)
    assert_close(got, functional(sanity_expression, -4.0), 1e-12)
    assert got == (-20.0, [46.0])  # y = -20 and dy/dx = 46, exactly, as the original test's PyTorch gives


def test_sanity_check_against_pytorch():
    assert_close(eager(sanity_expression, -4.0), with_torch(sanity_expression, -4.0), TOL)


# --- test_more_ops -----------------------------------------------------------------------------------

def test_more_ops_eager_equals_functional():
    got = eager(more_ops_expression, -4.0, 2.0)
    assert_close(got, functional(more_ops_expression, -4.0, 2.0), 1e-10)
    value, (da, db) = got
    # g = 24.70408163..., dg/da = 138.83381924..., dg/db = 645.57725947... (PyTorch agrees: see below)
    assert abs(value - 24.70408163265306) < 1e-10
    assert abs(da - 138.83381924198252) < 1e-9 and abs(db - 645.5772594752186) < 1e-9


def test_more_ops_against_pytorch():
    assert_close(eager(more_ops_expression, -4.0, 2.0), with_torch(more_ops_expression, -4.0, 2.0), TOL)


# --- scalar methods and operators ------------------------------------------------------------------

# (name, eager form on a tensor, functional form with micrograd.numpy, PyTorch form, arguments)
SCALAR_OPS = [
    ("relu_positive", lambda x: x.relu(), mnp.relu, lambda x: x.relu(), 1.5),
    ("relu_negative", lambda x: x.relu() * x, lambda x: mnp.relu(x) * x, lambda x: x.relu() * x, -0.7),
    ("tanh", lambda x: x.tanh(), mnp.tanh, lambda x: x.tanh(), 0.8),
    ("exp", lambda x: x.exp(), mnp.exp, lambda x: x.exp(), -1.3),
    ("log", lambda x: x.log(), mnp.log, lambda x: x.log(), 2.5),
    ("sigmoid", lambda x: x.sigmoid(), mnp.sigmoid, lambda x: x.sigmoid(), 0.4),
    ("pow_int", lambda x: x ** 3, lambda x: x ** 3, lambda x: x ** 3, -1.2),
    ("pow_float", lambda x: x ** 0.5, lambda x: x ** 0.5, lambda x: x ** 0.5, 3.0),
    ("pow_negative", lambda x: x ** -2, lambda x: x ** -2, lambda x: x ** -2, 1.7),
    ("neg_sub", lambda x: -x - 3.0, lambda x: -x - 3.0, lambda x: -x - 3.0, 0.25),
    ("rsub_rmul_radd", lambda x: 2.0 - 3 * x + 1, lambda x: 2.0 - 3 * x + 1, lambda x: 2.0 - 3 * x + 1, 0.6),
    ("truediv_rtruediv", lambda x: x / 4 + 2.0 / x, lambda x: x / 4 + 2.0 / x, lambda x: x / 4 + 2.0 / x, 1.1),
    ("abs", lambda x: abs(x) * x, lambda x: mnp.abs(x) * x, lambda x: abs(x) * x, -2.0),
    # the tanh neuron of Karpathy's lecture: o = tanh(x1 w1 + x2 w2 + b)
    ("neuron", lambda x1, w1, x2, w2, b: (x1 * w1 + x2 * w2 + b).tanh(),
     lambda x1, w1, x2, w2, b: mnp.tanh(x1 * w1 + x2 * w2 + b),
     lambda x1, w1, x2, w2, b: (x1 * w1 + x2 * w2 + b).tanh(), 2.0, -3.0, 0.0, 1.0, 6.8813735870195432),
]


def _expression(form):
    """A one-form expression in the ``(inputs..., relu)`` signature eager() and functional() call."""
    return lambda *args: form(*args[:-1])


@pytest.mark.parametrize("op", SCALAR_OPS, ids=[op[0] for op in SCALAR_OPS])
def test_scalar_op_eager_equals_functional(op):
    _, eager_form, functional_form, _, *args = op
    got = eager(_expression(eager_form), *args)
    assert_close(got, functional(_expression(functional_form), *args), 1e-12)


@pytest.mark.parametrize("op", SCALAR_OPS, ids=[op[0] for op in SCALAR_OPS])
def test_scalar_op_against_pytorch(op):
    _, eager_form, _, torch_form, *args = op
    assert_close(eager(_expression(eager_form), *args), with_torch(_expression(torch_form), *args), TOL)


def test_neuron_gradients_are_the_lectures():
    value, (dx1, dw1, dx2, dw2, db) = eager(_expression(SCALAR_OPS[-1][1]), *SCALAR_OPS[-1][4:])
    assert abs(value - math.sqrt(0.5)) < 1e-12  # tanh(0.8813735870195432) = 1 / sqrt(2)
    for got, expected in [(dx1, -1.5), (dw1, 1.0), (dx2, 0.5), (dw2, 0.0), (db, 0.5)]:
        assert abs(got - expected) < 1e-12


def test_in_place_update_as_the_original_writes_it_is_refused():
    a = mg.tensor(-4.0, requires_grad=True)
    c = a + 2.0
    with pytest.raises(RuntimeError, match=r"in-place operation on a tensor that requires grad.*`x = x \+ y`"):
        c += c + 1
