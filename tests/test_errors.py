"""Bad input gets a clear error naming what was wrong and where."""
import numpy as np
import pytest

import micrograd as mg
import micrograd.numpy as mnp

THIS_FILE = __file__


def test_grad_of_non_scalar_output_names_shape_and_suggests_jacrev():
    with pytest.raises(TypeError, match=r"returned f64\[3\].*jacrev.*vjp"):
        mg.grad(lambda x: x * 2)(np.ones(3))


def test_grad_of_integer_output():
    with pytest.raises(TypeError, match="one float scalar"):
        mg.grad(lambda x: mnp.argmax(x))(np.ones(3))


@pytest.mark.parametrize("arg", [np.array([1, 2]), 3, np.array([True])])
def test_grad_of_integer_or_bool_argument(arg):
    with pytest.raises(TypeError, match=r"argument 0 has dtype (int64|bool).*float"):
        mg.grad(lambda x: np.sum(x * 1.0))(arg)


def test_argnums_out_of_range():
    with pytest.raises(ValueError, match=r"argnums=2 is out of range for a call with 2 positional arguments"):
        mg.grad(lambda a, b: a * b, argnums=2)(1.0, 2.0)


def test_shape_mismatch_names_op_shapes_and_user_line():
    def f(x):
        return np.sum(x + np.ones(4))  # the offending line
    with pytest.raises(mg.ShapeError) as info:
        mg.grad(f)(np.ones(3))
    message = str(info.value)
    assert "add" in message and "(3,)" in message and "(4,)" in message
    assert THIS_FILE in message and "the offending line" in message


def test_matmul_mismatch_names_both_shapes():
    with pytest.raises(mg.ShapeError, match=r"matmul: shapes \(2, 3\) and \(4, 5\)"):
        mg.grad(lambda w: np.sum(w @ np.ones((4, 5))))(np.ones((2, 3)))


def test_shape_mismatch_at_top_level_too():
    with pytest.raises(mg.ShapeError, match=r"multiply.*\(2,\) and \(3,\)|mul.*\(2,\) and \(3,\)"):
        mnp.multiply(np.ones(2), np.ones(3))


def test_python_branch_on_traced_value():
    def f(x):
        if x > 0:
            return x
        return -x
    with pytest.raises(mg.TracerConversionError) as info:
        mg.grad(f)(1.0)
    message = str(info.value)
    assert "bool" in message and "where" in message and "bool[]" in message and "grad(f)" in message and "if x > 0" in message


def test_float_conversion_of_traced_value():
    with pytest.raises(mg.TracerConversionError, match="Python float"):
        mg.grad(lambda x: float(x) * 2)(1.0)


def test_unsupported_numpy_function_is_named():
    with pytest.raises(TypeError, match=r"numpy\.fft\.fft is not supported"):
        mg.grad(lambda x: np.sum(np.fft.fft(x).real))(np.ones(3))
    with pytest.raises(TypeError, match=r"numpy\.linalg\.eig is not supported"):  # the full path
        mg.grad(lambda x: np.sum(np.linalg.eig(x)[0]))(np.eye(2))
    with pytest.raises(TypeError, match=r"numpy\.bitwise_and is not supported"):
        mg.grad(lambda x: np.sum(x * np.bitwise_and(np.arange(3), np.arange(3) + x.astype(int))))(np.ones(3))
    with pytest.raises(TypeError, match=r"numpy\.add\.at writes into an array in place"):
        mg.grad(lambda x: np.add.at(x, [0], 1.0))(np.ones(3))


def test_leaked_tracer():
    leaked = []

    def f(x):
        leaked.append(x)
        return np.sum(x)
    mg.grad(f)(np.ones(2))
    with pytest.raises(mg.LeakedTracerError, match=r"of grad\(f\) was used after grad\(f\) returned"):
        mg.grad(lambda y: np.sum(y * leaked[0]))(np.ones(2))


def test_traced_boolean_mask_index():
    with pytest.raises(TypeError, match="boolean mask"):
        mg.grad(lambda x: np.sum(x[x > 0]))(np.ones(3))


def test_index_out_of_bounds():
    with pytest.raises(IndexError, match="out of bounds"):
        mg.grad(lambda x: x[5])(np.ones(3))


def test_reshape_and_axis_errors():
    with pytest.raises(mg.ShapeError, match=r"reshape.*\(6,\).*\(4, -1\)"):
        mg.grad(lambda x: np.sum(x.reshape(4, -1)))(np.ones(6))
    with pytest.raises(mg.ShapeError, match="axis 2 is out of range"):
        mg.grad(lambda x: np.sum(np.sum(x, axis=2)))(np.ones((2, 2)))


def test_has_aux_needs_pair():
    with pytest.raises(TypeError, match=r"\(output, aux\), got an array f64\[\]"):
        mg.grad(lambda x: x, has_aux=True)(1.0)
    with pytest.raises(TypeError, match=r"got a tuple of 3"):
        mg.grad(lambda x: (x, x, x), has_aux=True)(1.0)


def test_cotangent_shape_mismatch():
    _, pullback = mg.vjp(lambda x: x * 2, np.ones(3))
    with pytest.raises(ValueError, match=r"cotangent 0 has shape \(2,\) but the output has shape \(3,\)"):
        pullback(np.ones(2))


def test_functions_whose_shape_depends_on_values_say_what_to_write():
    x = np.array([1.0, -2.0, 3.0])
    cases = [(lambda x: np.sum(x[np.nonzero(x > 0)]), r"numpy\.nonzero on a traced value.*size=k"),
             (lambda x: np.sum(np.unique(x)), r"numpy\.unique on a traced value.*unique\(x, size=k\)"),
             (lambda x: np.sum(x[np.where(x > 0)]), r"numpy\.where on a traced value.*where\(mask, x, 0\)"),
             (lambda x: np.sum(x[x > 0]), r"traced boolean mask bool\[3\].*where\(mask, x, 0\).*size=k")]
    for f, pattern in cases:
        with pytest.raises(TypeError, match=pattern) as info:
            mg.grad(f)(x)
        assert THIS_FILE in str(info.value)
    # with a static size, as in JAX: the first k places (padded), differentiable through the gather
    g = mg.grad(lambda x: np.sum(x[mnp.nonzero(x > 0, size=2)]))(x)
    np.testing.assert_array_equal(g, [1.0, 0.0, 1.0])
    np.testing.assert_array_equal(mnp.unique(np.array([3.0, 1.0, 3.0]), size=3, fill_value=0.0), [1.0, 3.0, 0.0])


def test_np_array_of_traced_values_says_to_stack():
    with pytest.raises(mg.TracerConversionError, match=r"np\.stack\(\[\.\.\.\]\) or mg\.numpy\.array"):
        mg.grad(lambda x: np.sum(np.array([x[0], x[1]])))(np.ones(2))
    np.testing.assert_array_equal(mg.grad(lambda x: np.sum(mnp.array([x[0], 2 * x[1]])))(np.ones(2)), [1.0, 2.0])


def test_singular_matrices_raise_linalg_error_not_nan():
    singular = np.array([[1.0, 2.0], [2.0, 4.0]])
    for f in (lambda a: np.sum(np.linalg.inv(a)), lambda a: np.sum(np.linalg.solve(a, np.ones(2)))):
        with pytest.raises(np.linalg.LinAlgError):
            mg.grad(f)(singular)
        with pytest.raises(np.linalg.LinAlgError):
            mg.jit(mg.grad(f))(singular)
    # det is finite at a singular matrix; its derivative (the adjugate) is found through the inverse
    assert float(mnp.linalg.det(singular)) == 0.0
    with pytest.raises(np.linalg.LinAlgError):
        mg.grad(np.linalg.det)(singular)


def test_einsum_names_the_operand_and_its_shape():
    a, b = np.ones((2, 3)), np.ones((4, 5))
    with pytest.raises(mg.ShapeError, match=r"index 'j' has length 3 in operand 0 \(shape \(2, 3\)\) but 4 in operand 1 "
                                            r"\(shape \(4, 5\)\)") as info:
        mg.grad(lambda a: np.sum(np.einsum("ij,jk->ik", a, b)))(a)
    assert THIS_FILE in str(info.value)
    with pytest.raises(mg.ShapeError, match=r"operand 1 has shape \(4, 5\) \(2 axes\) but its subscripts 'jkl' name 3"):
        np.einsum("ij,jkl->ik", a, mg.tensor(b))
    with pytest.raises(ValueError, match=r"'ij,jk' names 2 operands, got 1"):
        mnp.einsum("ij,jk", a)
