"""jit: compiled programs agree with the NumPy interpreter; caching, retracing and fallbacks."""
import os
import re
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

import micrograd as mg
import micrograd.numpy as mnp
from micrograd.primitives import PRIMITIVES
from test_primitives import CASES


def _covering_cases():
    """A subset of the primitive table's cases in which every primitive appears (compiling
    every case would cost minutes of Numba time), plus every seventh case for variety."""
    chosen, seen = [], set()
    for i, c in enumerate(CASES):
        prims = {e.prim.name for e in mg.make_ir(c.f)(*c.args).eqns}
        if prims - seen or i % 7 == 0:
            chosen.append(c)
            seen |= prims
    return chosen, seen


JIT_CASES, JIT_PRIMITIVES = _covering_cases()


def test_jit_cases_cover_every_primitive():
    assert JIT_PRIMITIVES == set(PRIMITIVES)


@pytest.mark.parametrize("c", JIT_CASES, ids=[c.id for c in JIT_CASES])
def test_jit_matches_interpreter(c):
    compiled = mg.jit(c.f, strict=True)  # strict: compile now, and fail loudly
    expected = c.f(*c.args)
    for _ in range(2):  # first call compiles, second runs the compiled kernels
        got = compiled(*c.args)
        for g, e in zip(mg.tree.leaves(got), mg.tree.leaves(expected)):
            assert np.shape(g) == np.shape(e) and np.asarray(g).dtype == np.asarray(e).dtype
            np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-12)


def test_jit_of_composed_transforms():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(6, 6)) / 3
    f = lambda x: np.sum(np.tanh(a @ x) ** 2) + np.sum(np.sin(x))  # noqa: E731
    x = rng.normal(size=6)
    for transform in (mg.grad, mg.hessian, mg.jacfwd, lambda f: mg.grad(lambda x: np.sum(mg.grad(f)(x) * x))):
        compiled = mg.jit(transform(f), strict=True)
        np.testing.assert_allclose(compiled(x), transform(f)(x), rtol=1e-10, atol=1e-12)
    per_example = mg.jit(mg.vmap(mg.grad(lambda w, xi: np.sum(np.tanh(w * xi))), in_axes=(None, 0)), strict=True)
    xs = rng.normal(size=(4, 6))
    np.testing.assert_allclose(per_example(x, xs), np.stack([mg.grad(lambda w: np.sum(np.tanh(w * xi)))(x) for xi in xs]))


def test_grad_and_vmap_of_jit_inline():
    f = mg.jit(lambda x: np.sum(np.sin(x) * x))
    x = np.array([0.3, 1.0])
    np.testing.assert_allclose(mg.grad(f)(x), np.cos(x) * x + np.sin(x))
    np.testing.assert_allclose(mg.vmap(mg.jit(lambda v: v * 2.0))(np.ones((3, 2))), 2 * np.ones((3, 2)))
    assert mg.grad(mg.grad(mg.jit(np.sin)))(0.5) == pytest.approx(-np.sin(0.5))


def mlp_step(params, x, labels, lr=0.05):
    def loss(p):
        h = mnp.relu(x @ p["w1"] + p["b1"])
        logits = h @ p["w2"] + p["b2"]
        return -mnp.mean(mnp.log_softmax(logits)[np.arange(len(labels)), labels])
    value, grads = mg.value_and_grad(loss)(params)
    return mg.tree.map(lambda p, g: p - lr * g, params, grads), value


def test_jit_training_step_matches_eager_float32():
    rng = np.random.default_rng(1)
    params = {"w1": rng.normal(size=(20, 16)).astype(np.float32) * 0.2, "b1": np.zeros(16, np.float32),
              "w2": rng.normal(size=(16, 10)).astype(np.float32) * 0.2, "b2": np.zeros(10, np.float32)}
    x, labels = rng.normal(size=(32, 20)).astype(np.float32), rng.integers(0, 10, 32)
    step = mg.jit(mlp_step, strict=True)
    p_jit, p_eager = params, params
    for _ in range(5):
        p_jit, loss_jit = step(p_jit, x, labels)
        p_eager, loss_eager = mlp_step(p_eager, x, labels)
        assert loss_jit.dtype == np.float32 and p_jit["w1"].dtype == np.float32
        np.testing.assert_allclose(loss_jit, loss_eager, rtol=1e-5)
    for k in params:
        np.testing.assert_allclose(p_jit[k], p_eager[k], rtol=1e-4, atol=1e-6)
    assert loss_jit < mlp_step(params, x, labels)[1]


def test_retrace_only_on_a_new_signature():
    calls = []

    def f(x, y):
        calls.append(1)
        return x * y

    g = mg.jit(f)
    g(np.ones(3), np.ones(3))
    g(np.zeros(3), np.ones(3))
    assert len(calls) == 1
    g(np.ones(4), np.ones(4))          # new shape
    g(np.ones(3, np.float32), np.ones(3, np.float32))  # new dtype
    g([np.ones(3)][0], y=np.ones(3))   # new structure (keyword)
    assert len(calls) == 4 and g.trace_count == 4
    g(np.ones(4), np.ones(4))
    assert len(calls) == 4


def test_static_arguments_key_the_cache():
    g = mg.jit(lambda x, n, *, scale: x * n * scale, static_argnums=1, static_argnames="scale")
    np.testing.assert_allclose(g(np.ones(2), 3, scale=2.0), [6.0, 6.0])
    np.testing.assert_allclose(g(np.ones(2), 4, scale=2.0), [8.0, 8.0])
    np.testing.assert_allclose(g(np.ones(2), 4, scale=0.5), [2.0, 2.0])
    assert g.trace_count == 3


def test_results_are_fresh_writable_arrays():
    g = mg.jit(lambda x: (x, x.T, x.reshape(-1), np.sum(x)))
    x = np.ones((2, 3))
    outs = g(x)
    for o in outs[:3]:
        assert o.flags.writeable and not np.shares_memory(o, x)
    assert isinstance(outs[3], np.ndarray) and outs[3].shape == ()


def test_lowered_text_shows_kernels_and_glue():
    text = mg.jit(lambda x, w: mnp.relu(x @ w)).lower(np.ones((2, 3)), np.ones((3, 4))).as_text()
    assert "def program(" in text and "matmul" in text and "@njit" in text and "for i0 in range(2):" in text


def test_compile_failure_falls_back_with_one_warning(monkeypatch):
    monkeypatch.setattr(mg.primitives.sin, "lower", "this is not python({0})")
    f = lambda x: np.sin(x) * 2.0  # noqa: E731
    g = mg.jit(f, cache=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first = g(np.array([0.5, 1.0]))
        g.wait()
        second = g(np.array([0.5, 1.0]))
    np.testing.assert_allclose(first, np.sin([0.5, 1.0]) * 2)
    np.testing.assert_allclose(second, first)
    messages = [str(w.message) for w in caught if "micrograd.jit" in str(w.message)]
    assert len(messages) == 1 and "sin" in messages[0] and "NumPy instead" in messages[0]
    assert __file__ in messages[0]  # names the user's line
    with pytest.raises(mg.CompileError, match="(?s)could not compile .* sin"):
        mg.jit(f, cache=False, strict=True)(np.array([0.5]))


SCRIPT = textwrap.dedent("""
    import sys, numpy as np, micrograd as mg
    g = mg.jit(mg.grad(lambda w, x: np.sum(np.tanh(w * x) ** 2)), cache=sys.argv[1])
    out = g(np.linspace(0, 1, 5), np.linspace(1, 2, 5))
    g.wait()
    kernels = [d for p in g.programs.values() for d in p.dispatchers]
    hits = sum(sum(k.stats.cache_hits.values()) for k in kernels)
    misses = sum(sum(k.stats.cache_misses.values()) for k in kernels)
    from micrograd.backend import compile
    print(f"hits={hits} misses={misses} workers={len(compile._workers)} out={out.sum():.12f}")
""")


def _run_script(cache, **env):
    env = dict(os.environ, PYTHONWARNINGS="default", **env)
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(cache)], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip(), done.stderr


def test_disk_cache_is_reused_by_a_second_process_and_survives_corruption(tmp_path):
    first, _ = _run_script(tmp_path)
    second, _ = _run_script(tmp_path)
    # a worker process compiled the kernel into the cache, from which the first process loaded it;
    # the second process found it there and started no worker
    assert re.search(r"hits=1 misses=0 workers=[12] ", first) and "hits=1 misses=0 workers=0" in second
    assert first.split("out=")[1] == second.split("out=")[1]
    in_process, _ = _run_script(tmp_path / "own", MICROGRAD_COMPILE_WORKERS="0")  # compiled in the process itself
    assert "hits=0 misses=1 workers=0" in in_process and in_process.split("out=")[1] == first.split("out=")[1]
    for root, _, files in os.walk(tmp_path):  # corrupt every cache file
        for name in files:
            with open(os.path.join(root, name), "r+b") as f:
                f.seek(0)
                f.write(b"\0garbage\0" * 4)
    third, stderr = _run_script(tmp_path)
    assert third.split("out=")[1] == first.split("out=")[1]
    assert "compiling it again" in stderr


def test_large_transcendentals_run_with_numpy_and_large_nests_split_across_cores():
    f = lambda x: np.sum(np.tanh(x) * 2.0, axis=1)  # noqa: E731
    x = np.random.default_rng(0).normal(size=(1024, 256))
    lowered = mg.jit(f).lower(x)
    assert "tanh" in lowered.glue_source  # float64: NumPy's SIMD tanh, between compiled pieces
    assert "in prange(" in lowered.kernels[0].source and "parallel=True" in lowered.kernels[0].source
    np.testing.assert_allclose(mg.jit(f, strict=True)(x), f(x), rtol=1e-12)
    small = mg.jit(f).lower(x[:4, :8])
    assert "tanh" not in small.glue_source and "in prange(" not in small.kernels[0].source
    # float32: the vectorizable tanh of backend/vectormath.py, in the fused loop at any size
    x32 = x.astype(np.float32)
    lowered = mg.jit(f).lower(x32)
    assert "tanh" not in lowered.glue_source and "tanh_f32(" in lowered.kernels[0].source
    np.testing.assert_allclose(mg.jit(f, strict=True)(x32), f(x32), rtol=1e-5, atol=1e-4)  # float32 sums of 256


def test_donated_arguments_may_hold_the_results():
    def step(p, g, m):
        m2 = 0.9 * m + 0.1 * g
        return p - 0.01 * m2, m2

    f = mg.jit(step, donate_argnums=(0, 2), strict=True)
    p, g, m = np.ones(5), np.arange(5.0), np.full(5, 0.5)
    expected = step(p.copy(), g, m.copy())
    f(p.copy(), g, m.copy())  # (the first call runs with NumPy while it compiles)
    new_p, new_m = f(p, g, m)
    np.testing.assert_allclose(new_p, expected[0])
    np.testing.assert_allclose(new_m, expected[1])
    assert new_p is p  # written in place: the caller gave the buffer away
    # an input read again later (here by the second output's own nest) must keep its values
    twice = mg.jit(lambda p, g: (p * 2.0, mnp.sum(p) + g), donate_argnums=0, strict=True)
    a = np.arange(3.0)
    twice(a.copy(), np.ones(()))
    out = twice(a, np.ones(()))
    np.testing.assert_allclose(out[0], [0.0, 2.0, 4.0])
    assert float(out[1]) == 4.0


def test_independent_chains_of_one_shape_fuse_into_one_loop():
    opt = mg.Adam(learning_rate=1e-3)
    p, g = [np.ones((6, 4), np.float32)], [np.full((6, 4), 0.5, np.float32)]
    text = mg.jit(opt.update).lower(p, g, opt.init(p)).as_text()
    assert text.count("for i0 in range(6):") == 1  # m, v and the parameter update in one pass


def test_array_statements_agree_with_numpy_when_compiled():
    """The statements compiled kernels make arrays with (allocation, views, copies, products,
    arg-extrema as loops) against NumPy, with ties and NaNs where the first one must win."""
    def f(x, y, m, n, b):
        z = x * 1.0  # (a fused loop: the piece is compiled)
        picks = [np.argmax(z, axis=1), np.argmin(z, axis=0), np.argmax(z.reshape(-1)), np.argmin(z, axis=1)]
        t = np.transpose(y * 2.0, (2, 0, 1))
        return (picks, np.concatenate([z, z * 2.0], axis=1), np.concatenate([z, -z], axis=0), t + 1.0,
                np.broadcast_to(x[0] * 3.0, (2, 4, 5)) + 0.0, (z * 2.0).reshape(()) if z.size == 1 else z.sum(),
                (m * 1.0).T @ (n * 1.0), (b * 1.0) @ (b * 2.0))

    x = np.array([[1.0, 3.0, 3.0, 0.0, 2.0], [np.nan, 1.0, np.nan, 5.0, 5.0], [2.0, 2.0, 1.0, 1.0, -1.0],
                  [0.0, 0.0, 0.0, 0.0, 0.0]])
    rng = np.random.default_rng(0)
    args = (x, rng.normal(size=(2, 3, 4)), rng.normal(size=(6, 3)), rng.normal(size=(6, 4)), rng.normal(size=(3, 4, 4)))
    compiled = mg.jit(f, strict=True)
    expected = f(*args)
    for _ in range(2):
        for g, e in zip(mg.tree.leaves(compiled(*args)), mg.tree.leaves(expected)):
            assert np.shape(g) == np.shape(e) and np.asarray(g).dtype == np.asarray(e).dtype
            np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-12)
    kernels = "".join(k.source for p in compiled.programs.values() for k in p.lowered.kernels)
    for name in ("empty(", "argmax", "permuted(", "matmul("):
        assert name in kernels, name


def test_importing_micrograd_does_not_import_numba_and_kernels_helpers_exist():
    """Numba is needed once jit compiles, not to import micrograd (eager code, transforms); the
    names lowering imports into kernels are those of the helper modules."""
    import importlib

    from micrograd.backend.helpers import HELPERS
    done = subprocess.run([sys.executable, "-c", "import sys, micrograd; print('numba' in sys.modules)"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "False", done.stderr
    for module, names in HELPERS.items():
        missing = [n for n in names if not callable(getattr(importlib.import_module(module), n, None))]
        assert not missing, (module, missing)


def test_array_intrinsics_agree_with_numpy():
    from numba import njit

    from micrograd.backend.arrays import broadcast, contiguous, empty, full, matmul, matmul_into, permuted, reshaped

    @njit
    def make():
        return empty((2, 3), np.bool_), full((2, 2), -np.inf, np.float32), full((3,), 7, np.int64)

    flags, neg_inf, sevens = make()
    assert flags.shape == (2, 3) and flags.dtype == np.bool_ and flags.flags.c_contiguous and neg_inf.dtype == np.float32 and (neg_inf == -np.inf).all()
    assert sevens.tolist() == [7, 7, 7] and sevens.dtype == np.int64

    x = np.arange(24.0).reshape(2, 3, 4)
    views = njit(lambda x: (contiguous(x.T), contiguous(x), reshaped(x, (6, 4)), permuted(x, (2, 0, 1)),
                            broadcast(x[0, 1], (2, 3, 4)), broadcast(x[:, :1, :], (2, 3, 4))))(x)
    expected = (np.ascontiguousarray(x.T), x, x.reshape(6, 4), np.transpose(x, (2, 0, 1)),
                np.broadcast_to(x[0, 1], (2, 3, 4)), np.broadcast_to(x[:, :1, :], (2, 3, 4)))
    for got, want in zip(views, expected):
        np.testing.assert_array_equal(got, want)
    assert views[0].flags.c_contiguous and views[1] is not None and np.shares_memory(views[2], x)

    rng = np.random.default_rng(1)
    for dtype in (np.float32, np.float64):
        a, b = rng.normal(size=(5, 3)).astype(dtype), rng.normal(size=(3, 4)).astype(dtype)
        out = np.empty((2, 5, 4), dtype)

        @njit
        def products(a, b, out):
            for i in range(2):
                matmul_into(a, b, out[i])
            return matmul(a, b), matmul(b.T, a.T), matmul(a.T.copy().T, b)

        for got in (*products(a, b, out)[::2], out[0], out[1], products(a, b, out)[1].T):
            np.testing.assert_allclose(got, a @ b, rtol=1e-5 if dtype == np.float32 else 1e-12)
