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


# Bad input found by probing as a user would (issue 13, item 6)

def _loop(x, n):
    for _ in range(n):
        x = x * 2.0
    return x


def _zeros(x, n):
    return x.sum() + np.zeros(n).sum()


def _reshape(x, n):
    return x.reshape(n, -1)


@pytest.mark.parametrize("f", [_loop, _zeros, _reshape])
def test_jit_python_int_used_as_a_size_is_named_and_static_is_suggested(f):
    x = np.ones(6)
    with pytest.raises(mg.TracerConversionError) as info:
        mg.jit(f)(x, 3)
    message = str(info.value)
    assert f"it is argument 1 (n) of {f.__name__}, a Python int that jit traces like every argument not marked " \
           "static" in message
    assert f"mg.jit({f.__name__}, static_argnums=1) or mg.jit({f.__name__}, static_argnames='n')" in message
    assert f"inside jit({f.__name__})" in message or "got 'Tracer<i64[]> of jit(" in message
    assert THIS_FILE in message
    # the advice works, with either option, however n is passed
    expected = f(x, 3)
    np.testing.assert_allclose(mg.jit(f, static_argnums=1)(x, 3), expected)
    np.testing.assert_allclose(mg.jit(f, static_argnames="n")(x, 3), expected)
    np.testing.assert_allclose(mg.jit(f, static_argnums=1)(x, n=3), expected)


def test_jit_value_computed_from_an_int_argument_names_it():
    with pytest.raises(mg.TracerConversionError, match=r"computed from argument 1 \(n\) of <lambda>, a Python int.*"
                                                       r"mg\.jit\(f, static_argnums=1\)"):
        mg.jit(lambda x, n: x.reshape(n + 1, -1))(np.ones(6), 2)
    with pytest.raises(mg.TracerConversionError, match=r"slice bounds must be Python ints.*: it is argument 1 \(n\) of "
                                                       r"<lambda>"):
        mg.jit(lambda x, n: x[:n])(np.ones(6), 2)
    # a message that quotes the value (NumPy's) cannot say whether it is n or computed from n
    with pytest.raises(mg.TracerConversionError, match=r"expected a sequence of integers.*: it comes from argument 1 "
                                                       r"\(n\) of <lambda>"):
        mg.jit(lambda x, n: x.sum() + np.zeros(n + 1).sum())(np.ones(6), 2)


def test_jit_keyword_only_and_container_arguments_are_named():
    with pytest.raises(mg.TracerConversionError, match=r"it is argument n of <lambda>.*Mark it static: "
                                                       r"mg\.jit\(f, static_argnames='n'\) \("):
        mg.jit(lambda x, *, n: x.reshape(n, -1))(np.ones(6), n=2)
    with pytest.raises(mg.TracerConversionError, match=r"argument 1 \(c\) at \['n'\] of <lambda>.*static_argnums=1.*"
                                                       r"pass argument 1 \(c\) as a tuple rather than a dict"):
        mg.jit(lambda x, c: x.reshape(c["n"], -1))(np.ones(6), {"n": 2})
    with pytest.raises(mg.TracerConversionError, match=r"argument 2 \(n\).*mg\.jit\(f, static_argnums=\(1, 2\)\) or "
                                                       r"mg\.jit\(f, static_argnums=1, static_argnames='n'\)"):
        mg.jit(lambda x, k, n: x.reshape(n, -1) * k, static_argnums=1)(np.ones(6), 2, 3)


def test_jit_python_bool_flag_suggests_static_or_where():
    with pytest.raises(mg.TracerConversionError, match=r"Python bool .*argument 1 \(flag\) of <lambda>, a Python bool"
                                                       r".*static_argnames='flag'.*Or keep it traced: use mg\.numpy\.where"):
        mg.jit(lambda x, flag: x if flag else -x)(np.ones(2), True)


def test_jit_zero_d_array_used_as_a_size_says_pass_a_python_int():
    with pytest.raises(mg.TracerConversionError, match=r"argument 1 \(n\) of <lambda>, a 0-d array.*Shapes and indices "
                                                       r"must be known while tracing.*static_argnums=1.*as a Python number"):
        mg.jit(lambda x, n: x.reshape(n, -1))(np.ones(6), np.array(3))


def test_jit_branch_on_an_array_argument_names_it_but_does_not_suggest_static():
    with pytest.raises(mg.TracerConversionError) as info:
        mg.jit(lambda x: x if x.sum() > 0 else -x)(np.ones(2))
    message = str(info.value)
    assert "computed from argument 0 (x) of <lambda>, an array that jit traces" in message
    assert "mg.numpy.where" in message and "static_arg" not in message


def test_grad_of_argument_used_as_a_size_says_it_is_differentiated():
    with pytest.raises(mg.TracerConversionError) as info:
        mg.grad(lambda n: np.zeros(n).sum())(3.0)
    message = str(info.value)
    assert "argument 0 (n) of <lambda>, differentiated (and so traced) by grad(<lambda>)" in message
    assert "argnums leaves out" in message and THIS_FILE in message
    # arguments argnums leaves out are not traced: they can be sizes
    np.testing.assert_allclose(mg.grad(lambda x, n: np.sum(x * np.ones(n)))(np.ones(3), 3), np.ones(3))


def test_vmap_unmapped_argument_used_as_a_size_says_close_over_it():
    with pytest.raises(mg.TracerConversionError, match=r"argument 1 \(n\) of <lambda>, which vmap does not map "
                                                       r"\(in_axes None\) but traces.*Close over"):
        mg.vmap(lambda x, n: x.reshape(n, -1), in_axes=(0, None))(np.ones((2, 6)), 3)


@pytest.mark.parametrize("value, described", [("a", r"a str \('a'\)"), (np.sin, r"a function \(sin\)"),
                                              (object(), r"an object \(<object object")])
def test_jit_non_array_argument_must_be_static(value, described):
    def f(x, scale):
        return x * 2.0
    with pytest.raises(TypeError, match=rf"jit\(f\): argument 1 \(scale\) is {described}.*, which jit cannot trace.*"
                                        r"mg\.jit\(f, static_argnums=1\) or mg\.jit\(f, static_argnames='scale'\)") as info:
        mg.jit(f)(np.ones(2), scale=value)
    assert THIS_FILE in str(info.value)
    np.testing.assert_allclose(mg.jit(f, static_argnames="scale")(np.ones(2), scale=value), [2.0, 2.0])
    np.testing.assert_allclose(mg.jit(f)(np.ones(2), None), [2.0, 2.0])  # None is an empty pytree


@pytest.mark.parametrize("value, pattern", [({"a": 2}, r"static argument 1 \(d\) is a dict.*not hashable.*\(key, value\)"),
                                            ([2], r"static argument 1 \(d\) is a list.*not hashable.*a tuple"),
                                            (np.ones(2), r"is an array of dtype float64.*Arrays are traced")])
def test_jit_unhashable_static_argument(value, pattern):
    with pytest.raises(TypeError, match=pattern):
        mg.jit(lambda x, d: x, static_argnums=1)(np.ones(2), value)


def test_jit_static_argnums_and_argnames_are_checked_when_jit_is_applied():
    def f(x, n):
        return x
    def g(x, n, /):
        return x
    cases = [(f, {"static_argnums": 0.5}, TypeError,
              r"jit\(f\): static_argnums must be an int or a tuple of ints.*got 0\.5 \(float\)"),
             (f, {"static_argnums": ("1",)}, TypeError, r"static_argnums must be.*whose entry '1' is a str"),
             (f, {"static_argnames": 1}, TypeError,
              r"static_argnames must be a str or a tuple of strs.*got 1 \(int\) \(positions go in static_argnums\)"),
             (f, {"donate_argnums": [0.5]}, TypeError, r"donate_argnums must be an int or a tuple of ints"),
             (f, {"static_argnums": 5}, ValueError,
              r"static_argnums names position 5, but f takes 2 positional arguments \(x, n\)"),
             (f, {"static_argnames": "m"}, ValueError,
              r"static_argnames names 'm', which is not a parameter of f \(its parameters: x, n\)"),
             (g, {"static_argnames": "n"}, ValueError,
              r"static_argnames names 'n', a positional-only parameter; use static_argnums=1")]
    for fun, kwargs, kind, pattern in cases:
        with pytest.raises(kind, match=pattern):
            mg.jit(fun, **kwargs)
    with pytest.raises(TypeError, match="static_argnums must be"):
        mg.jit(static_argnums=0.5)  # as a decorator factory too


@pytest.mark.parametrize("transform", [lambda f: mg.grad(f), lambda f: mg.jacfwd(f), lambda f: mg.jacrev(f),
                                       lambda f: mg.hessian(f)])
def test_complex_inputs_are_not_supported_yet(transform):
    with pytest.raises(TypeError, match=r"argument 0 has dtype complex128: complex numbers are not supported yet by "
                                        r"grad, vjp and jvp.*z\.real, z\.imag"):
        transform(lambda z: np.sum(z * z).real)(np.array([1.0 + 2.0j]))


def test_complex_primals_of_vjp_and_jvp_are_not_supported_yet():
    z = np.array([1.0 + 2.0j])
    with pytest.raises(TypeError, match=r"vjp: primal 0 has dtype complex128: complex numbers are not supported yet"):
        mg.vjp(lambda z: z * 2, z)
    with pytest.raises(TypeError, match=r"jvp: primal 0 has dtype complex128: complex numbers are not supported yet"):
        mg.jvp(lambda z: z * 2, (z,), (z,))


@pytest.mark.parametrize("value, described", [("abc", r"a str \('abc'\)"), (np.sin, r"a function \(sin\)")])
def test_grad_of_a_non_array_says_it_is_not_an_array(value, described):
    with pytest.raises(TypeError, match=rf"grad\(<lambda>\): argument 0 is {described}, not an array: derivatives are "
                                        r"taken with respect to float arrays and numbers") as info:
        mg.grad(lambda s: 1.0)(value)
    assert THIS_FILE in str(info.value)
    with pytest.raises(TypeError, match=r"jvp: primal 0 is a str \('abc'\), not an array"):
        mg.jvp(lambda s: s, ("abc",), ("abc",))


@pytest.mark.parametrize("name", ["grad", "value_and_grad", "jacfwd", "jacrev", "hessian"])
@pytest.mark.parametrize("argnums, got", [(0.5, r"got 0\.5 \(float\)"), ("0", r"got '0' \(str\)"),
                                          ((0, 1.0), r"got \(0, 1\.0\), whose entry 1\.0 is a float"),
                                          (True, r"got True \(bool\)")])
def test_argnums_must_be_ints(name, argnums, got):
    with pytest.raises(TypeError, match=rf"{name}\(<lambda>\): argnums must be an int or a tuple of ints \(positions of "
                                        rf"arguments, counted from 0\), {got}"):
        getattr(mg, name)(lambda x: x, argnums=argnums)


def test_argnums_out_of_range_with_keyword_arguments_says_they_are_not_counted():
    with pytest.raises(ValueError, match=r"argnums=0 is out of range for a call with 0 positional arguments \(keyword "
                                         r"arguments, here x, are not counted"):
        mg.grad(lambda x: x)(x=1.0)


@pytest.mark.parametrize("make", [lambda v: mg.grad(v), lambda v: mg.value_and_grad(v), lambda v: mg.jacfwd(v),
                                  lambda v: mg.jacrev(v), lambda v: mg.hessian(v), lambda v: mg.vmap(v),
                                  lambda v: mg.jit(v), lambda v: mg.jvp(v, (1.0,), (1.0,)), lambda v: mg.vjp(v, 1.0),
                                  lambda v: mg.linearize(v, 1.0)])
def test_transforms_check_for_a_function_when_made(make):
    with pytest.raises(TypeError, match=r"^(grad|value_and_grad|jacfwd|jacrev|hessian|vmap|jit|jvp|vjp|linearize) "
                                        r"expects a function, got 3 \(int\)\n  at ") as info:
        make(3)
    assert THIS_FILE in str(info.value)


def test_passing_a_result_instead_of_the_function_says_so():
    with pytest.raises(TypeError, match=r"grad expects a function, got array\(\[0\.84.*\) \(ndarray\) \(was the function "
                                        r"called, as in grad\(f\(x\)\)\? Pass the function itself and call what grad "
                                        r"returns: grad\(f\)\(x\)\)"):
        mg.grad(np.sin(np.ones(2)))
    with pytest.raises(TypeError, match=r"chain expects a function as function 1, got 3 \(int\)"):
        mg.chain(np.sum, 3)


def test_vmap_axes_and_keyword_arguments():
    with pytest.raises(TypeError, match=r"vmap\(<lambda>\): in_axes must be an int, None, or a tuple with one entry per "
                                        r"argument.*got 'a' \(str\)"):
        mg.vmap(lambda x: x, in_axes="a")
    with pytest.raises(TypeError, match=r"out_axes must be .* one entry per output.*got \(0, 0\.5\), whose entry 0\.5 "
                                        r"is a float"):
        mg.vmap(lambda x: x, out_axes=(0, 0.5))
    with pytest.raises(TypeError, match=r"vmap\(<lambda>\) takes positional arguments only \(in_axes counts them\), got "
                                        r"keyword argument 's'"):
        mg.vmap(lambda x, s=1: x)(np.ones(2), s=2)
    with pytest.raises(TypeError, match=r"vmap\(<lambda>\): argument 1 \(s\) is a str \('a'\), which vmap cannot map or "
                                        r"trace.*Close over"):
        mg.vmap(lambda x, s: x, in_axes=(0, None))(np.ones(2), "a")


@pytest.mark.parametrize("make", [mg.custom_jvp, mg.custom_vjp, mg.checkpoint, mg.make_ir],
                         ids=["custom_jvp", "custom_vjp", "checkpoint", "make_ir"])
def test_custom_rules_and_make_ir_check_their_function_when_made(make):
    with pytest.raises(TypeError, match=rf"{make.__name__} expects a function, got 3 \(int\)"):
        make(3)
