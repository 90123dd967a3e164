"""jvp, linearize, jacfwd, jacrev, hessian and check_grads."""
import numpy as np
import pytest

import micrograd as mg
import micrograd.numpy as mnp


def test_jvp_value_and_tangent():
    x, t = np.array([0.2, 1.0]), np.array([1.0, -2.0])
    out, tangent = mg.jvp(lambda x: np.sin(x) * x, (x,), (t,))
    np.testing.assert_allclose(out, np.sin(x) * x)
    np.testing.assert_allclose(tangent, (np.cos(x) * x + np.sin(x)) * t)


def test_jvp_of_pytrees_and_several_arguments():
    out, tangent = mg.jvp(lambda p, y: {"s": p["a"] * y}, ({"a": np.array(2.0)}, np.array([1.0, 3.0])),
                          ({"a": np.array(1.0)}, np.array([0.5, 0.0])))
    np.testing.assert_allclose(tangent["s"], [1 * 1 + 2 * 0.5, 3.0])


def test_hessian_vector_product_forward_over_reverse():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(5, 5))
    f = lambda x: np.sum(np.tanh(a @ x) ** 2)  # noqa: E731
    x, v = rng.normal(size=5), rng.normal(size=5)
    hvp = mg.jvp(mg.grad(f), (x,), (v,))[1]
    np.testing.assert_allclose(hvp, mg.hessian(f)(x) @ v, rtol=1e-10)
    # reverse over reverse gives the same
    np.testing.assert_allclose(mg.grad(lambda x: np.sum(mg.grad(f)(x) * v))(x), hvp, rtol=1e-10)


def test_forward_over_forward_and_reverse_over_forward():
    d2 = lambda x: mg.jvp(lambda y: mg.jvp(np.sin, (y,), (1.0,))[1], (x,), (1.0,))[1]  # noqa: E731
    np.testing.assert_allclose(d2(0.7), -np.sin(0.7))
    g = mg.grad(lambda x: mg.jvp(np.exp, (x,), (2.0,))[1])(0.3)  # d/dx 2 e^x
    np.testing.assert_allclose(g, 2 * np.exp(0.3))


def test_linearize_evaluates_tangents_at_fixed_point():
    y, f_jvp = mg.linearize(lambda x: np.sin(x) * x, np.array([1.0, 2.0]))
    np.testing.assert_allclose(y, np.sin([1.0, 2.0]) * [1.0, 2.0])
    x = np.array([1.0, 2.0])
    for t in (np.array([1.0, 0.0]), np.array([0.3, -2.0])):
        np.testing.assert_allclose(f_jvp(t), (np.cos(x) * x + np.sin(x)) * t)


def test_jvp_bad_tangents_are_named():
    with pytest.raises(ValueError, match=r"tangent 0 has shape \(2,\) but its primal has shape \(3,\)"):
        mg.jvp(np.sin, (np.ones(3),), (np.ones(2),))
    with pytest.raises(TypeError, match=r"tangent 0 has dtype int64; tangents of float primals must be floats"):
        mg.jvp(np.sin, (np.ones(3),), (np.ones(3, int),))
    with pytest.raises(TypeError, match=r"tangent 0 has dtype float32 but its primal has dtype float64"):
        mg.jvp(np.sin, (np.ones(3),), (np.ones(3, np.float32),))
    with pytest.raises(ValueError, match="structure"):
        mg.jvp(lambda a, b: a * b, (np.ones(2), np.ones(2)), (np.ones(2),))


def _f_closed_form(x):
    """f(x) = sum(sin(x) * x^2) + x0 x1^3, its gradient and Hessian."""
    f = lambda x: np.sum(np.sin(x) * x ** 2) + x[0] * x[1] ** 3  # noqa: E731
    diag = 4 * x * np.cos(x) - np.sin(x) * x ** 2 + 2 * np.sin(x)
    h = np.diag(diag)
    h[0, 1] = h[1, 0] = 3 * x[1] ** 2
    h[1, 1] += 6 * x[0] * x[1]
    return f, h


def test_hessian_of_100_variables_matches_closed_form_and_finite_differences():
    x = np.random.default_rng(3).normal(size=100)
    f, expected = _f_closed_form(x)
    h = mg.hessian(f)(x)
    assert h.shape == (100, 100)
    np.testing.assert_allclose(h, expected, rtol=1e-10, atol=1e-12)
    eps, g = 1e-5, mg.grad(f)
    fd = np.stack([(g(x + eps * e) - g(x - eps * e)) / (2 * eps) for e in np.eye(100)], axis=1)
    np.testing.assert_allclose(h, fd, rtol=1e-6, atol=1e-6)


def test_jacfwd_and_jacrev_agree_and_have_jax_layout():
    f = lambda x, y: {"a": np.outer(x, y), "b": np.sum(x) * y}  # noqa: E731
    x, y = np.array([1.0, 2.0, 3.0]), np.array([0.5, -1.0])
    for jac in (mg.jacfwd, mg.jacrev):
        j = jac(f, argnums=(0, 1))(x, y)
        assert j["a"][0].shape == (3, 2, 3) and j["a"][1].shape == (3, 2, 2)
        assert j["b"][0].shape == (2, 3) and j["b"][1].shape == (2, 2)
        np.testing.assert_allclose(j["b"][0], np.outer(y, np.ones(3)))
        np.testing.assert_allclose(j["b"][1], np.sum(x) * np.eye(2))
        np.testing.assert_allclose(j["a"][1][2], np.diag([x[2]] * 2))
    jf, jr = mg.jacfwd(f)(x, y), mg.jacrev(f)(x, y)
    np.testing.assert_allclose(jf["a"], jr["a"])


def test_jacrev_of_pytree_input_and_has_aux():
    params = {"w": np.array([1.0, 2.0]), "b": np.array(0.5)}
    jac, aux = mg.jacrev(lambda p: (p["w"] * p["b"], "aux"), has_aux=True)(params)
    assert aux == "aux"
    np.testing.assert_allclose(jac["w"], 0.5 * np.eye(2))
    np.testing.assert_allclose(jac["b"], params["w"])


def test_jacobians_use_vmap_not_a_loop_over_basis_vectors():
    program = mg.make_ir(mg.jacrev(lambda x: np.tanh(x @ np.ones((4, 4)))))(np.ones(4))
    assert [e.prim.name for e in program.eqns].count("matmul") == 2  # forward, and one batched pullback


def test_jacobian_of_integer_input_is_refused():
    with pytest.raises(TypeError, match="jacfwd needs float inputs"):
        mg.jacfwd(lambda x: x * 1.0)(np.arange(3))


def test_check_grads_reports_mode_order_and_element():
    bad = lambda x: mnp.stop_gradient(x) * x  # noqa: E731  (its true derivative is 2x, micrograd gives x)
    with pytest.raises(AssertionError, match=r"first-order forward-mode derivative \(jvp\) of output leaf 0 .* element \(1,\)"):
        mg.check_grads(bad, (np.array([0.0, 3.0]),), order=1, modes=("fwd",))
    with pytest.raises(AssertionError, match=r"first-order reverse-mode derivative \(vjp\) of input leaf 0"):
        mg.check_grads(bad, (np.array([0.0, 3.0]),), order=1, modes=("rev",))
    mg.check_grads(lambda x: np.sin(x) * x, (np.array([0.3, 1.2]),), order=3)
