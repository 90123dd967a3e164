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
