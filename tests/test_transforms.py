"""grad, value_and_grad, vjp and chain: values, composition and higher orders."""
from collections import namedtuple

import numpy as np
import pytest

import micrograd as mg
import micrograd.numpy as mnp


def test_tutorial_appendix_a1_value_and_grad():
    value, grad = mg.value_and_grad(lambda x: x ** 2)(np.array([1.0]))
    np.testing.assert_array_equal(value, [1.0])
    np.testing.assert_array_equal(grad, [2.0])
    assert isinstance(value, np.ndarray) and isinstance(grad, np.ndarray)


def test_plain_numpy_function_traces():
    x = np.array([0.1, -0.7, 2.0])
    g = mg.grad(lambda x: np.sum(np.tanh(x) ** 2))(x)
    np.testing.assert_allclose(g, 2 * np.tanh(x) * (1 - np.tanh(x) ** 2), rtol=1e-12)


@pytest.mark.parametrize("f, derivatives", [
    (np.sin, [np.cos, lambda x: -np.sin(x), lambda x: -np.cos(x)]),
    (np.exp, [np.exp, np.exp, np.exp]),
    (np.tanh, [lambda x: 1 - np.tanh(x) ** 2,
               lambda x: -2 * np.tanh(x) * (1 - np.tanh(x) ** 2),
               lambda x: (6 * np.tanh(x) ** 2 - 2) * (1 - np.tanh(x) ** 2)]),
    (lambda x: x ** 5 - 3 * x ** 2, [lambda x: 5 * x ** 4 - 6 * x, lambda x: 20 * x ** 3 - 6, lambda x: 60 * x ** 2]),
    (lambda x: mnp.sigmoid(x), [lambda x: _s(x) * (1 - _s(x)),
                                lambda x: _s(x) * (1 - _s(x)) * (1 - 2 * _s(x)),
                                lambda x: _s(x) * (1 - _s(x)) * (1 - 6 * _s(x) + 6 * _s(x) ** 2)]),
])
@pytest.mark.parametrize("x", [-1.3, 0.0, 0.4, 2.1])
def test_derivatives_to_third_order_match_closed_forms(f, derivatives, x):
    d = f
    for order, expected in enumerate(derivatives, start=1):
        d = mg.grad(d)
        np.testing.assert_allclose(d(x), expected(x), rtol=1e-10, atol=1e-12, err_msg=f"order {order}")


def _s(x):
    return 1 / (1 + np.exp(-x))


def test_grad_of_grad_of_vector_function_elementwise():
    x = np.array([0.3, -1.1, 2.0])
    second = mg.grad(lambda x: np.sum(mg.grad(lambda y: np.sum(np.sin(y) * y))(x)))(x)
    # d/dx [cos(x) x + sin(x)] = 2 cos(x) - x sin(x)
    np.testing.assert_allclose(second, 2 * np.cos(x) - x * np.sin(x), rtol=1e-12)


def test_grad_of_function_calling_value_and_grad_inside():
    def f(x):
        value, g = mg.value_and_grad(lambda y: np.sum(y ** 3))(x)
        return value + np.sum(g)  # sum x^3 + sum 3x^2
    x = np.array([1.0, -2.0])
    np.testing.assert_allclose(mg.grad(f)(x), 3 * x ** 2 + 6 * x)


def test_closure_over_traced_value():
    # d/dx [d/dy (x*y)] = d/dx x = 1 ; d/dx [x * d/dy (x*y^2) at y=3] = d/dx (6 x^2) = 12x
    assert mg.grad(lambda x: mg.grad(lambda y: x * y)(1.0))(2.0) == 1.0
    np.testing.assert_allclose(mg.grad(lambda x: x * mg.grad(lambda y: x * y ** 2)(3.0))(2.0), 24.0)


def test_argnums_and_has_aux():
    def f(a, b, c):
        return np.sum(a * b ** 2 + c), {"aux": a + 1}
    a, b, c = np.array([1.0, 2.0]), np.array([3.0, 4.0]), np.array([5.0, 6.0])
    (value, aux), (ga, gb) = mg.value_and_grad(f, argnums=(0, 1), has_aux=True)(a, b, c)
    np.testing.assert_allclose(value, np.sum(a * b ** 2 + c))
    np.testing.assert_allclose(aux["aux"], a + 1)
    np.testing.assert_allclose(ga, b ** 2)
    np.testing.assert_allclose(gb, 2 * a * b)
    g, aux = mg.grad(f, argnums=-1, has_aux=True)(a, b, c)
    np.testing.assert_allclose(g, np.ones(2))


def test_pytree_arguments_and_gradients():
    Point = namedtuple("Point", "x y")
    params = {"w": [np.array([1.0, 2.0]), Point(np.array(3.0), np.array([4.0]))], "none": None}

    def f(p):
        return np.sum(p["w"][0] ** 2) + p["w"][1].x * np.sum(p["w"][1].y)

    g = mg.grad(f)(params)
    assert g["none"] is None and isinstance(g["w"][1], Point)
    np.testing.assert_allclose(g["w"][0], [2.0, 4.0])
    np.testing.assert_allclose(g["w"][1].x, 4.0)
    np.testing.assert_allclose(g["w"][1].y, [3.0])


def test_unused_input_gets_zero_gradient_and_constant_output():
    g = mg.grad(lambda x, y: np.sum(x), argnums=1)(np.ones(2), np.ones(3))
    np.testing.assert_array_equal(g, np.zeros(3))
    assert mg.grad(lambda x: 3.0)(1.0) == 0.0


def test_repeated_use_accumulates():
    x = np.array([1.5, -2.0])
    np.testing.assert_allclose(mg.grad(lambda x: np.sum(x * x * x + x))(x), 3 * x ** 2 + 1)


def test_vjp_with_pytree_output_and_cotangent():
    out, pullback = mg.vjp(lambda x: {"a": x * 2, "b": np.sum(x)}, np.array([1.0, 2.0]))
    np.testing.assert_allclose(out["a"], [2.0, 4.0])
    (ct,) = pullback({"a": np.array([1.0, 10.0]), "b": np.array(100.0)})
    np.testing.assert_allclose(ct, [102.0, 120.0])


def test_vjp_of_integer_input_is_float0_zero():
    out, pullback = mg.vjp(lambda x, i: x * i, np.array([1.0, 2.0]), np.array([3, 4]))
    gx, gi = pullback(np.ones(2))
    np.testing.assert_allclose(gx, [3.0, 4.0])
    assert gi.shape == (2,) and gi.dtype == mg.core.dtypes.float0


def test_chain_equals_grad_of_composition():
    f = lambda x: np.sin(x) * x  # noqa: E731
    g = lambda y: np.exp(y) / (1 + y ** 2)  # noqa: E731
    h = lambda z: np.sum(np.tanh(z))  # noqa: E731
    x = np.array([0.2, -0.5, 1.1])
    np.testing.assert_allclose(mg.chain(h, f)(x), mg.grad(lambda x: h(f(x)))(x), rtol=1e-13)
    np.testing.assert_allclose(mg.chain(h, g, f)(x), mg.grad(lambda x: h(g(f(x))))(x), rtol=1e-13)
    np.testing.assert_allclose(mg.chain(h)(x), mg.grad(h)(x), rtol=1e-13)


def test_chain_is_differentiable_and_composable():
    f = lambda x: x ** 3  # noqa: E731
    g = lambda y: np.sum(np.sin(y))  # noqa: E731
    x = np.array([0.4, 0.9])
    # chain(g, f)(x) = cos(x^3) 3x^2; its derivative: -sin(x^3) 9x^4 + 6x cos(x^3)
    second = mg.grad(lambda x: np.sum(mg.chain(g, f)(x)))(x)
    np.testing.assert_allclose(second, -np.sin(x ** 3) * 9 * x ** 4 + 6 * x * np.cos(x ** 3), rtol=1e-12)
    np.testing.assert_allclose(mg.chain(lambda v: np.sum(mg.chain(g, f)(v)), np.exp)(x),
                               mg.grad(lambda x: np.sum(mg.grad(lambda x: g(f(x)))(np.exp(x))))(x), rtol=1e-12)


def test_float32_stays_float32_and_python_float_is_float64():
    x32 = np.array([0.5, 1.5], np.float32)
    g = mg.grad(lambda x: np.sum(np.exp(x) * 2.0 + x ** 2 / 3))(x32)
    assert g.dtype == np.float32
    assert mg.grad(lambda x: x * 2.0)(1.0).dtype == np.float64


def test_results_are_numpy_and_writable():
    g = mg.grad(lambda x: np.sum(x))(np.ones(3))
    assert type(g) is np.ndarray and g.flags.writeable
    g += 1  # a broadcast view would refuse this
    np.testing.assert_array_equal(g, [2.0, 2.0, 2.0])


def test_unused_branches_cost_nothing():
    def f(x):
        unused = np.exp(x) * 3  # noqa: F841
        return np.sum(x * 2)
    program = mg.make_ir(mg.grad(f))(np.ones(2))
    # the backward program has no derivative of exp: only the forward exp survives
    names = [e.prim.name for e in program.eqns]
    assert names.count("exp") == 1 and "log" not in names


def test_stop_gradient():
    x = np.array([2.0, 3.0])
    np.testing.assert_allclose(mg.grad(lambda x: np.sum(x * mnp.stop_gradient(x)))(x), x)
    # stays stopped at second order
    np.testing.assert_allclose(mg.grad(lambda x: np.sum(mg.grad(lambda y: np.sum(y * mnp.stop_gradient(y) ** 2))(x)))(x),
                               np.zeros(2))
