"""The IR: make_ir, printing, eval_program."""
import numpy as np

import micrograd as mg
import micrograd.numpy as mnp


def test_make_ir_prints_one_equation_per_line_with_types():
    text = str(mg.make_ir(lambda x, w: np.sum(np.tanh(x @ w)))(np.ones((2, 3)), np.ones((3,), np.float32)))
    lines = text.splitlines()
    assert lines[0] == "{ lambda ; a:f64[2,3] b:f32[3]. let"
    assert "    c:f64[3] = cast[dtype=f64] b" in lines
    assert any(line.strip().startswith("e:f64[2,1] = matmul") for line in lines)
    assert lines[-1].startswith("  in (")


def test_make_ir_of_grad_shows_backward_program():
    program = mg.make_ir(mg.grad(lambda x: np.sum(np.sin(x) * x)))(np.ones(3))
    names = [e.prim.name for e in program.eqns]
    assert names[:2] == ["sin", "mul"] and "cos" in names
    assert len(program.outvars) == 1 and program.outvars[0].aval.shape == (3,)


def test_constants_print_inline_or_in_header():
    k = np.arange(3.0)
    text = str(mg.make_ir(lambda x: x * 2.0 + k)(np.ones(3)))
    assert "mul a 2.0:f64" in text and "k0:f64[3]" in text.splitlines()[0]


def test_eval_program_reproduces_function_and_its_gradient():
    f = lambda x: np.sum(mnp.softmax(x) * np.arange(4.0)) + np.max(x) ** 2  # noqa: E731
    x = np.array([0.1, 2.0, -1.0, 0.5])
    for fn in (f, mg.grad(f)):
        program = mg.make_ir(fn)(x)
        (out,) = mg.eval_program(program, [x])
        np.testing.assert_allclose(out, fn(x), rtol=1e-14)


def test_eval_program_inside_a_transform_records_into_it():
    program = mg.make_ir(lambda x: np.sum(np.exp(x)))(np.ones(2))
    g = mg.grad(lambda x: mg.eval_program(program, [x])[0])(np.array([0.0, 1.0]))
    np.testing.assert_allclose(g, np.exp([0.0, 1.0]))


def test_equations_remember_the_users_line():
    program = mg.make_ir(lambda x: np.sum(x * 3))(np.ones(2))
    assert all(__file__ in e.source for e in program.eqns)


def test_program_trees_describe_arguments_and_results():
    program = mg.make_ir(lambda p: {"out": p["a"] * 2})({"a": np.ones(2)})
    assert mg.tree.unflatten(program.in_tree, ["A"]) == ({"a": "A"},)
    assert mg.tree.unflatten(program.out_tree, ["O"]) == {"out": "O"}
