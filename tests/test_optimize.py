"""The IR optimization passes and fusion, each on its own."""
import numpy as np

import micrograd as mg
import micrograd.numpy as mnp
from micrograd.backend import optimize as opt
from micrograd.backend.fusion import fuse
from micrograd.backend.lower import lower


def names(program):
    return [e.prim.name for e in program.eqns]


def test_dead_code_elimination_drops_unused_equations():
    program = mg.make_ir(lambda x: (np.exp(x), np.sin(x))[1])(np.ones(3))
    assert names(program) == ["exp", "sin"]
    assert names(opt.dead_code_elimination(program)) == ["sin"]


def test_common_subexpression_elimination_shares_equal_work():
    program = mg.make_ir(lambda x: np.tanh(x * 2.0) + np.tanh(x * 2.0))(np.ones(3))
    assert names(program).count("tanh") == 2
    shared = opt.dead_code_elimination(opt.common_subexpression_elimination(program))
    assert names(shared) == ["mul", "tanh", "add"]
    np.testing.assert_allclose(mg.eval_program(shared, [np.arange(3.0)])[0], 2 * np.tanh(2 * np.arange(3.0)))


def test_constant_folding_evaluates_constant_equations():
    k = np.arange(4.0)
    program = mg.make_ir(lambda x: x + mg.primitives.exp(mg.primitives.mul(k, k)))(np.ones(4))
    folded = opt.dead_code_elimination(opt.constant_folding(program))
    assert names(folded) == ["add"]
    np.testing.assert_allclose(mg.eval_program(folded, [np.ones(4)])[0], 1 + np.exp(k * k))


def test_algebraic_simplification_identities():
    f = lambda x: (-(-x) * 1.0 + 0.0 - 0.0) / 1.0  # noqa: E731
    simplified = opt.dead_code_elimination(opt.algebraic_simplification(mg.make_ir(f)(np.ones(3))))
    assert names(simplified) == [] and simplified.outvars[0] is simplified.invars[0]
    g = lambda x: x.T.T + x.reshape(6).reshape(2, 3)  # noqa: E731
    simplified = opt.dead_code_elimination(opt.algebraic_simplification(mg.make_ir(g)(np.ones((2, 3)))))
    assert names(simplified) == ["add"]


def test_broadcast_scalar_operand_becomes_a_scalar():
    f = lambda x: x * mnp.broadcast_to(np.float64(3.0), (4,))  # noqa: E731
    program = opt.optimize(mg.make_ir(f)(np.ones(4)))
    assert names(program) == ["mul"] and program.eqns[0].inputs[1].aval.shape == ()


def test_optimize_keeps_results():
    f = lambda w, x: np.sum(mnp.log_softmax(x @ w) * 2.0)  # noqa: E731
    w, x = np.random.default_rng(0).normal(size=(3, 4)), np.random.default_rng(1).normal(size=(5, 3))
    program = mg.make_ir(mg.grad(f))(w, x)
    optimized = opt.optimize(program)
    assert len(optimized.eqns) < len(program.eqns)
    np.testing.assert_allclose(mg.eval_program(optimized, [w, x])[0], mg.grad(f)(w, x), rtol=1e-12)


def test_fusion_groups_dense_relu_and_its_backward_into_few_kernels():
    def loss(w, b, x):
        return np.sum(mnp.relu(x @ w + b) ** 2)
    args = (np.ones((3, 4)), np.ones(4), np.ones((5, 3)))
    program = opt.optimize(mg.make_ir(mg.grad(loss, argnums=(0, 1)))(*args))
    steps = fuse(program)
    groups = [s.group for s in steps if s.group is not None]
    elementwise = sum(len(g.eqns) for g in groups)
    # every elementwise equation and reduction sits in a group, and groups hold several each
    assert all(s.eqn.prim.name in ("matmul", "transpose") for s in steps if s.group is None)
    assert len(groups) <= 3 and elementwise >= 6
    lowered = lower(program)
    glue_lines = [l for l in lowered.glue_source.splitlines() if "K[" in l]
    assert len(glue_lines) == len(groups)


def test_broadcast_scalar_is_kept_where_it_gives_the_result_its_shape():
    f = lambda x: x * mnp.broadcast_to(np.float64(2.0), (1, 3))  # the constant adds the leading axis  # noqa: E731
    program = opt.optimize(mg.make_ir(f)(np.ones(3)))
    (out,) = mg.eval_program(program, [np.arange(3.0)])
    assert out.shape == (1, 3)
    np.testing.assert_allclose(out, [[0.0, 2.0, 4.0]])


def test_identity_matmul_full_slices_and_unit_axis_transposes_disappear():
    eye = np.eye(3)
    f = lambda x: (x @ eye)[..., 0:3].reshape(3, 1, 3).transpose(1, 0, 2).reshape(3, 3)  # noqa: E731
    program = opt.optimize(mg.make_ir(f)(np.ones((3, 3))))
    assert names(program) == [] and program.outvars[0] is program.invars[0]
    g = lambda x: x.reshape(2, 3, 1).transpose(1, 0, 2).reshape(3, 2)  # a real transpose, without the unit axis  # noqa: E731
    program = opt.optimize(mg.make_ir(g)(np.ones((2, 3))))
    assert names(program) == ["transpose"]
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(mg.eval_program(program, [x])[0], g(x))


def test_common_subexpressions_of_commutative_operations():
    program = mg.make_ir(lambda x, y: x * y + y * x)(np.ones(2), np.ones(2))
    shared = opt.dead_code_elimination(opt.common_subexpression_elimination(program))
    assert names(shared) == ["mul", "add"]


def test_solves_and_log_determinant_share_one_lu_factorization():
    from micrograd.backend.optimize import lu_factor

    def f(a, b):
        return np.sum(np.linalg.solve(a, b)) + np.linalg.slogdet(a)[1]

    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(5, 5)) + 3 * np.eye(5), rng.normal(size=(5, 2))
    step = mg.jit(mg.value_and_grad(f, argnums=(0, 1)))
    program = step.lower(a, b).program
    assert [e.prim for e in program.eqns].count(lu_factor) == 1  # the forward solve, slogdet and both backward solves
    assert not any(e.prim.name in ("solve", "slogdet") for e in program.eqns)
    (value, grads), (expected_value, expected_grads) = step(a, b), mg.value_and_grad(f, argnums=(0, 1))(a, b)
    np.testing.assert_allclose(value, expected_value, rtol=1e-12)
    for g, e in zip(grads, expected_grads):
        np.testing.assert_allclose(g, e, rtol=1e-10)
    singular = np.array([[1.0, 2.0], [2.0, 4.0]])
    sign, logabsdet = mg.jit(np.linalg.slogdet)(singular)
    assert (float(sign), float(logabsdet)) == (0.0, -np.inf) and not np.signbit(sign)
    sign, logabsdet = mg.jit(np.linalg.slogdet)(np.array([[0.0, 1.0], [1.0, 0.0]]))  # one row swap
    assert (float(sign), float(logabsdet)) == (-1.0, 0.0)


def test_scatters_into_disjoint_slices_become_one_concatenation():
    from micrograd.backend.optimize import optimize

    f = lambda x: np.sum(np.sin(x[..., :3]) * x[..., 3:6] ** 2) + np.sum(np.cos(x[..., 7:]))  # noqa: E731
    program = optimize(mg.make_ir(mg.grad(f))(np.ones((2, 10))))
    names = [e.prim.name for e in program.eqns]
    assert "scatter_add" not in names and names.count("concatenate") == 1
    x = np.random.default_rng(0).normal(size=(2, 10))
    np.testing.assert_allclose(mg.eval_program(program, [x])[0], mg.grad(f)(x), rtol=1e-15)
    # overlapping slices keep their scatters (they add up where they overlap)
    g = lambda x: np.sum(np.sin(x[:4]) * x[2:6])  # noqa: E731
    program = optimize(mg.make_ir(mg.grad(g))(np.ones(6)))
    assert [e.prim.name for e in program.eqns].count("scatter_add") == 2
    np.testing.assert_allclose(mg.eval_program(program, [x[0, :6]])[0], mg.grad(g)(x[0, :6]), rtol=1e-15)
