"""Control flow (mg.lax), custom derivative rules and checkpointing: each construct against its
unrolled Python equivalent (values, first and second derivatives in both modes), under vmap and
jit and on eager tensors; custom rules are the ones used; bad input is named."""
import gc
import time
import tracemalloc

import numpy as np
import pytest

import micrograd as mg
import micrograd.numpy as mnp
from micrograd.testing import check_grads

THIS_FILE = __file__
rng = np.random.default_rng(11)
W = rng.normal(size=(3, 3)) * 0.6
XS = rng.normal(size=(4, 3))
H0 = rng.normal(size=3)


# --- each construct and its unrolled equivalent --------------------------------------------------

def rnn_scan(w, xs, h0):
    def step(h, x):
        h = np.tanh(w @ h + x)
        return h, {"out": h * x, "norm": np.sum(h * h)}  # a pytree of outputs
    h, ys = mg.lax.scan(step, h0, xs)
    return np.sum(ys["out"]) + np.sum(ys["norm"] * np.arange(4.0)) + np.sum(h * h)


def rnn_unrolled(w, xs, h0):
    h, total = h0, 0.0
    for k, x in enumerate(xs):
        h = np.tanh(w @ h + x)
        total = total + np.sum(h * x) + np.sum(h * h) * k
    return total + np.sum(h * h)


def reverse_scan(xs, c0):
    c, ys = mg.lax.scan(lambda c, x: (c * np.sin(x) + x, c * x), c0, xs, reverse=True)
    return np.concatenate([np.ravel(c), np.ravel(ys)])


def reverse_unrolled(xs, c0):
    c, ys = c0, [None] * len(xs)
    for k in range(len(xs) - 1, -1, -1):
        ys[k] = c * xs[k]
        c = c * np.sin(xs[k]) + xs[k]
    return np.concatenate([np.ravel(c), np.ravel(np.stack(ys))])


def scan_no_xs(a):
    return mg.lax.scan(lambda c, _: (c * a + 1.0, c), np.ones(2), None, length=3)[1]


def scan_no_xs_unrolled(a):
    c, ys = np.ones(2), []
    for _ in range(3):
        ys.append(c)
        c = c * a + 1.0
    return np.stack(ys)


def nested_scan(w, xs):
    def outer(c, x):
        inner_c, inner_ys = mg.lax.scan(lambda d, y: (np.sin(d * y + w), d * y), c, np.stack([x, x * 2]))
        return inner_c, inner_ys.sum(axis=0)
    c, ys = mg.lax.scan(outer, np.zeros(3), xs)
    return np.sum(c) + np.sum(ys * ys)


def nested_unrolled(w, xs):
    c, total = np.zeros(3), 0.0
    for x in xs:
        acc = 0.0
        for y in (x, x * 2):
            acc = acc + c * y
            c = np.sin(c * y + w)
        total = total + np.sum(acc * acc)
    return np.sum(c) + total


def fori(x, a):
    return mg.lax.fori_loop(1, 4, lambda i, v: v * a + np.sin(v) * i, x)


def fori_unrolled(x, a):
    v = x
    for i in range(1, 4):
        v = v * a + np.sin(v) * i
    return v


def cond_fn(x, y):
    return mg.lax.cond(np.sum(x) > 0, lambda a, b: np.sin(a) * b + a, lambda a, b: a * a * b, x, y)


def cond_true(x, y):
    return np.sin(x) * y + x


def cond_false(x, y):
    return x * x * y


def switch_fn(x):
    index = mnp.astype(mnp.floor(mnp.sum(x)), np.int64)  # a traced index
    return mg.lax.switch(index, [lambda a: a ** 3, lambda a: np.exp(a), lambda a: np.sin(a) * a], x)


SWITCH_BRANCHES = [lambda a: a ** 3, lambda a: np.exp(a), lambda a: np.sin(a) * a]  # (the branch each case takes)


def while_fn(x):
    return mg.lax.while_loop(lambda s: s[0] < 4, lambda s: (s[0] + 1, np.sin(s[1]) * s[1] + 1.0), (0, x))[1]


def while_unrolled(x):
    for _ in range(4):
        x = np.sin(x) * x + 1.0
    return x


CONSTRUCTS = {
    "scan": (rnn_scan, rnn_unrolled, (W, XS, H0), ("fwd", "rev")),
    "scan_reverse": (reverse_scan, reverse_unrolled, (XS[:, 0], H0[:2]), ("fwd", "rev")),
    "scan_without_xs": (scan_no_xs, scan_no_xs_unrolled, (H0[:2],), ("fwd", "rev")),
    "scan_nested": (nested_scan, nested_unrolled, (W[0], XS[:2]), ("fwd", "rev")),
    "fori_loop": (fori, fori_unrolled, (H0, W[0]), ("fwd", "rev")),
    "cond_true": (cond_fn, cond_true, (np.abs(H0), W[1]), ("fwd", "rev")),
    "cond_false": (cond_fn, cond_false, (-np.abs(H0), W[1]), ("fwd", "rev")),
    "switch_0": (switch_fn, SWITCH_BRANCHES[0], (np.array([-0.5, 0.2]),), ("fwd", "rev")),
    "switch_1": (switch_fn, SWITCH_BRANCHES[1], (np.array([0.5, 0.7]),), ("fwd", "rev")),
    "switch_clamped": (switch_fn, SWITCH_BRANCHES[2], (np.array([3.5, 1.7]),), ("fwd", "rev")),
    "while_loop": (while_fn, while_unrolled, (H0,), ("fwd",)),
}
NAMES = sorted(CONSTRUCTS)


@pytest.mark.parametrize("name", NAMES)
def test_values_match_the_unrolled_program(name):
    f, unrolled, args, _ = CONSTRUCTS[name]
    np.testing.assert_allclose(f(*args), unrolled(*args), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(mg.jvp(f, args, args)[0], unrolled(*args), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_derivatives_match_the_unrolled_program_and_central_differences(name):
    f, unrolled, args, modes = CONSTRUCTS[name]
    check_grads(f, args, order=2, modes=modes)
    tangents = tuple(rng.normal(size=np.shape(a)) for a in args)
    np.testing.assert_allclose(mg.jvp(f, args, tangents)[1], mg.jvp(unrolled, args, tangents)[1], rtol=1e-10, atol=1e-12)
    if "rev" in modes:
        out, pullback = mg.vjp(f, *args)
        ct = rng.normal(size=np.shape(out))
        for g, e in zip(pullback(ct), mg.vjp(unrolled, *args)[1](ct)):
            np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_vmap_matches_a_loop(name):
    f, _, args, _ = CONSTRUCTS[name]
    batch = [np.stack([a + 0.1 * k for k in range(3)]) for a in args]  # (switch: members take different branches)
    got = mg.vmap(f)(*batch)
    np.testing.assert_allclose(got, np.stack([f(*[b[k] for b in batch]) for k in range(3)]), rtol=1e-12, atol=1e-12)
    got = mg.vmap(f, in_axes=(0,) + (None,) * (len(args) - 1))(batch[0], *args[1:])
    np.testing.assert_allclose(got, np.stack([f(batch[0][k], *args[1:]) for k in range(3)]), rtol=1e-12, atol=1e-12)


JIT_NAMES = ["scan", "scan_nested", "cond_true", "switch_1", "while_loop", "fori_loop"]


@pytest.mark.parametrize("name", JIT_NAMES)
def test_jit_matches_the_interpreter_and_compiles_the_loop(name):
    f, _, args, modes = CONSTRUCTS[name]
    transform = mg.grad if "rev" in modes else (lambda f: lambda *a: mg.jvp(f, a, a)[1])
    g = transform(lambda *a: np.sum(f(*a)))
    compiled = mg.jit(g, strict=True)
    for _ in range(2):
        for got, want in zip(mg.tree.leaves(compiled(*args)), mg.tree.leaves(g(*args))):
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    text = compiled.lower(*args).as_text()
    assert "# scan" in text or "# while_loop" in text or "# cond" in text, "the loop or branch runs in compiled code"


def test_eager_tensors_run_and_record_loops():
    w, xs, h0 = (mg.tensor(a, requires_grad=True) for a in (W, XS, H0))
    out = rnn_scan(w, xs, h0)
    assert isinstance(out, mg.Tensor)
    out.backward()
    for t, g in zip((w, xs, h0), mg.grad(rnn_scan, argnums=(0, 1, 2))(W, XS, H0)):
        np.testing.assert_allclose(t.grad.data, g, rtol=1e-10, atol=1e-12)
    x = mg.tensor(np.abs(H0), requires_grad=True)
    cond_fn(x, W[1]).sum().backward()
    np.testing.assert_allclose(x.grad.data, mg.grad(lambda x: np.sum(cond_fn(x, W[1])))(np.abs(H0)), rtol=1e-12)


def test_loops_close_over_the_variables_of_enclosing_transforms():
    def f(w):  # the body reads w, a tracer of grad's trace: w becomes an operand of the scan
        return mg.lax.scan(lambda c, x: (c * w + x, c), 1.0, XS[:, 0])[0]

    check_grads(f, (0.7,), order=2)
    assert float(mg.grad(mg.grad(lambda w: f(w)))(0.7)) == pytest.approx(
        float(mg.grad(mg.grad(lambda w: fori_unrolled_closure(w)))(0.7)))


def fori_unrolled_closure(w):
    c = 1.0
    for x in XS[:, 0]:
        c = c * w + x
    return c


def test_make_ir_prints_loops_nested():
    text = str(mg.make_ir(lambda xs: mg.lax.scan(lambda c, x: (c + x, c * 2.0), 0.0, xs))(np.zeros(3)))
    assert "scan[length=3 reverse=False num_consts=0 num_carry=1]" in text
    assert "body={ lambda ; a:f64[] b:f64[]. let" in text and "mul a 2.0:f64" in text


# --- jit: loops stay loops ------------------------------------------------------------------------

def _long_scan(n):
    def f(w, xs):
        return mg.lax.scan(lambda h, x: (np.tanh(w * h + x), h), np.zeros(4), xs)[0]
    return mg.jit(mg.grad(lambda w, xs: np.sum(f(w, xs))), strict=True, cache=False), (np.full(4, 0.5), np.ones((n, 4)))


def test_a_1000_step_scan_compiles_to_a_loop():
    short, short_args = _long_scan(10)
    long, long_args = _long_scan(1000)
    short_text, long_text = short.lower(*short_args).as_text(), long.lower(*long_args).as_text()
    ir_short, ir_long = mg.make_ir(short.f)(*short_args), mg.make_ir(long.f)(*long_args)
    assert len(str(ir_long)) <= len(str(ir_short)) + 40  # the length appears as a number, nothing grows
    assert len(long_text) <= len(short_text) + 100
    timings = []
    for compiled, args in ((short, short_args), (long, long_args)):
        start = time.perf_counter()
        compiled(*args)  # strict: compiles before returning
        timings.append(time.perf_counter() - start)
    # compiling does not grow with the number of steps (the 1,000 steps also run once, in compiled code)
    assert timings[1] < 2 * timings[0] + 0.5, timings


# --- custom rules are the ones used -----------------------------------------------------------------

@mg.custom_jvp
def safe_norm(x):
    return np.sqrt(np.sum(x * x))


@safe_norm.defjvp
def safe_norm_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    n = safe_norm(x)
    scale = mnp.where(n == 0, 0.0, 1.0 / mnp.where(n == 0, 1.0, n))
    return n, np.sum(x * t) * scale


def test_custom_jvp_rule_is_used_in_both_modes_and_to_second_order():
    zero = np.zeros(3)
    with np.errstate(invalid="ignore", divide="ignore"):
        assert np.isnan(mg.grad(lambda x: np.sqrt(np.sum(x * x)))(zero)).all()  # the default derivative
    np.testing.assert_array_equal(mg.grad(safe_norm)(zero), zero)  # the rule
    np.testing.assert_array_equal(mg.jvp(safe_norm, (zero,), (np.ones(3),))[1], 0.0)
    x = np.array([3.0, 4.0, 0.0])
    check_grads(safe_norm, (x,), order=2)
    np.testing.assert_allclose(mg.hessian(safe_norm)(x), (np.eye(3) - np.outer(x, x) / 25) / 5, atol=1e-12)
    np.testing.assert_allclose(mg.vmap(mg.grad(safe_norm))(np.stack([x, zero])), [x / 5, zero])
    np.testing.assert_allclose(mg.jit(mg.grad(safe_norm))(x), x / 5)
    t = mg.tensor(zero, requires_grad=True)
    safe_norm(t).backward()
    np.testing.assert_array_equal(t.grad.data, zero)


@mg.custom_vjp
def scale_gradient(x, factor):
    return x


def _scale_fwd(x, factor):
    return x, factor


def _scale_bwd(factor, g):
    return g * factor, None


scale_gradient.defvjp(_scale_fwd, _scale_bwd)


def test_custom_vjp_rule_is_used_and_differentiable():
    assert float(mg.grad(lambda x: scale_gradient(x, 3.0) * 2.0)(1.0)) == 6.0  # the default would give 2
    # the rule's own derivative: d/dx of g(x) = grad of x**2 scaled by x -> d/dx (2x * x) = 4x
    assert float(mg.grad(mg.grad(lambda x: scale_gradient(x ** 2, x)))(1.5)) == pytest.approx(6.0)
    np.testing.assert_allclose(mg.vmap(mg.grad(lambda x: scale_gradient(x, 3.0) * x))(np.array([1.0, 2.0])),
                               [1.0 * 3 + 1.0, 2.0 * 3 + 2.0])
    assert float(mg.jit(mg.grad(lambda x: scale_gradient(x, 3.0)))(np.array(1.0))) == 3.0
    t = mg.tensor(1.0, requires_grad=True)
    (scale_gradient(t, 3.0) * 2.0).backward()
    assert t.grad.item() == 6.0


def test_nondiff_argnums_reach_the_rules_first():
    @mg.custom_vjp
    def apply(f, x):
        return f(x)

    apply_fwd = lambda f, x: (f(x), x)  # noqa: E731
    apply_bwd = lambda f, x, g: (g * 100.0,)  # noqa: E731
    apply = mg.custom_vjp(apply.__wrapped__, nondiff_argnums=(0,))
    apply.defvjp(apply_fwd, apply_bwd)
    assert float(mg.grad(lambda x: apply(np.sin, x))(0.3)) == 100.0

    @mg.custom_jvp
    def power(n, x):
        return x ** n

    power = mg.custom_jvp(power.__wrapped__, nondiff_argnums=(0,))
    power.defjvp(lambda n, primals, tangents: (primals[0] ** n, n * primals[0] ** (n - 1) * tangents[0] * 10))
    assert float(mg.grad(lambda x: power(3, x))(2.0)) == 120.0


def test_custom_vjp_in_a_scan_and_forward_mode_error():
    f = lambda x: mg.lax.scan(lambda c, xi: (scale_gradient(c * xi, 2.0), c), 1.0, x)[0]  # noqa: E731
    # c2 = (c1 x1 scaled), c1 = (x0 scaled): dc2/dx0 = 2 x1 * 2, dc2/dx1 = 2 c1 = 2 x0
    np.testing.assert_allclose(mg.grad(f)(np.array([1.5, 2.0])), [2 * 2.0 * 2, 2 * 1.5])
    with pytest.raises(mg.NotDifferentiableError, match="forward mode .* custom_vjp function .*scale_gradient"):
        mg.jvp(lambda x: scale_gradient(x, 2.0), (1.0,), (1.0,))


# --- checkpoint --------------------------------------------------------------------------------

def _deep_mlp(n_layers=100, width=64):
    weights = [rng.normal(size=(width, width)) / np.sqrt(width) for _ in range(n_layers)]

    def layer(h, w):
        return np.tanh(h @ w)

    def plain(x):
        for w in weights:
            x = layer(x, w)
        return np.sum(x)

    def block(h, ws):
        for w in ws:
            h = layer(h, w)
        return h

    def checkpointed(x):  # ten blocks of ten layers: only the blocks' inputs are kept
        for k in range(0, n_layers, 10):
            x = mg.checkpoint(block)(x, weights[k:k + 10])
        return np.sum(x)

    return plain, checkpointed, rng.normal(size=(32, width))


def _held_between_passes(f, x):
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        out, pullback = mg.vjp(f, x)
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    return held, pullback(np.ones_like(out))


def test_checkpoint_holds_less_memory_between_the_passes_with_equal_gradients():
    plain, checkpointed, x = _deep_mlp()
    held_plain, g_plain = _held_between_passes(plain, x)
    held_checkpointed, g_checkpointed = _held_between_passes(checkpointed, x)
    np.testing.assert_allclose(g_checkpointed, g_plain, rtol=1e-12)
    (g_plain,) = g_plain
    activation = x.nbytes
    assert held_plain > 100 * activation  # every layer's output and more
    assert held_checkpointed < held_plain / 5, (held_checkpointed, held_plain)
    check_grads(lambda x: mg.checkpoint(lambda a: np.sum(np.tanh(a) ** 2))(x), (x[:2, :3],), order=2)
    np.testing.assert_allclose(mg.jit(mg.grad(checkpointed))(x), g_plain, rtol=1e-10)


# --- bad input ------------------------------------------------------------------------------------

def test_errors_name_the_function_what_was_expected_and_the_line():
    def grow(c, x):
        return np.concatenate([c, x[:1]]), x

    cases = [
        (lambda: mg.lax.scan(grow, np.zeros(2), np.ones((3, 2))),
         r"scan of grow: the body must return a carry like the one it was given: expected .*f64\[2\], got .*f64\[3\]"),
        (lambda: mg.lax.scan(lambda c, x: ((c, c), x), 0.0, np.ones(3)),
         r"expected TreeDef\(\*\) with f64\[\], got TreeDef\(\(\*, \*\)\) with f64\[\], f64\[\]"),
        (lambda: mg.lax.scan(lambda c, x: (c, x), 0.0, {"a": np.ones(3), "b": np.ones(4)}),
         r"scan of <lambda>: the leaves of xs disagree on the length to loop over: shapes \[\(3,\), \(4,\)\]"),
        (lambda: mg.lax.scan(lambda c, x: c, 0.0, np.ones(3)), r"must return a pair \(carry, y\)"),
        (lambda: mg.lax.scan(lambda c, x: (c * np.float32(1), x), np.float32(0), np.ones(3)), None),
        (lambda: mg.lax.cond(np.array([True, False]), np.sin, np.cos, 1.0), r"predicate must be a boolean scalar, got bool\[2\]"),
        (lambda: mg.lax.cond(1, np.sin, np.cos, 1.0), r"predicate must be a boolean scalar, got i64\[\]"),
        (lambda: mg.lax.cond(True, lambda x: x, lambda x: np.stack([x, x]), 1.0),
         r"cond: the branches must return the same structure, shapes and dtypes: false_fun \(<lambda>\) returns "
         r"TreeDef\(\*\) with f64\[2\], true_fun \(<lambda>\) returns TreeDef\(\*\) with f64\[\]"),
        (lambda: mg.lax.switch(0.5, [np.sin], 1.0), r"switch: the index must be an integer scalar, got f64\[\]"),
        (lambda: mg.lax.while_loop(lambda x: x, lambda x: x, 1.0), r"while_loop: <lambda> must return a boolean scalar"),
        (lambda: mg.lax.while_loop(lambda x: x < 1, lambda x: np.stack([x, x]), 1.0), r"while_loop of <lambda>: the body must return a carry"),
    ]
    for run, pattern in cases:
        if pattern is None:  # a float32 carry that stays float32: fine
            run()
            continue
        with pytest.raises((TypeError, ValueError)) as info:
            run()
        assert info.match(pattern)
        assert THIS_FILE in str(info.value), str(info.value)


def test_reverse_mode_through_while_loop_says_what_to_use():
    with pytest.raises(mg.NotDifferentiableError, match=r"reverse-mode.*while_loop.*fori_loop.*scan") as info:
        mg.grad(lambda x: while_fn(x).sum())(H0)
    assert THIS_FILE in str(info.value)  # the while_loop's line
    np.testing.assert_allclose(mg.jacfwd(while_fn)(H0), mg.jacfwd(while_unrolled)(H0), rtol=1e-12)


def test_custom_vjp_bwd_returning_the_wrong_structure_or_shape():
    @mg.custom_vjp
    def f(x, y):
        return x * y

    f.defvjp(lambda x, y: (x * y, (x, y)), lambda res, g: (g * res[1],))
    with pytest.raises(TypeError, match=r"the bwd rule of f must return a tuple with one cotangent per differentiated "
                                        r"argument \(2\), got a tuple of 1") as info:
        mg.grad(f)(1.0, 2.0)
    assert THIS_FILE in str(info.value)
    f.defvjp(lambda x, y: (x * y, (x, y)), lambda res, g: (np.ones(3), g))
    with pytest.raises(TypeError, match=r"each cotangent must have the structure and shapes of its argument: "
                                        r"expected TreeDef\(\*\) with f64\[\], got TreeDef\(\*\) with f64\[3\]"):
        mg.grad(f)(1.0, 2.0)
