"""NaN hunting, threads, leaked tracers and memory."""
import gc
import subprocess
import sys
import textwrap
import threading
import tracemalloc

import numpy as np
import pytest

import micrograd as mg
import micrograd.numpy as mnp

THIS_FILE = __file__


def culprit(x):
    y = x * 2.0
    return np.sum(np.log(y - 1.0))  # the line debug_nans must name


@pytest.mark.parametrize("mode", ["grad", "jit", "eager", "vmap", "jvp"])
def test_debug_nans_names_the_primitive_and_the_users_line(mode):
    x = np.array([0.25, 3.0])
    run = {"grad": lambda: mg.grad(culprit)(x), "jit": lambda: mg.jit(culprit)(x),
           "eager": lambda: culprit(mg.tensor(x, requires_grad=True)),
           "vmap": lambda: mg.vmap(culprit)(x[:, None]), "jvp": lambda: mg.jvp(culprit, (x,), (x,))}[mode]
    with mg.debug_nans(), pytest.warns(RuntimeWarning) if mode != "jit" else _nothing():
        with pytest.raises(FloatingPointError) as info:
            run()
    message = str(info.value)
    assert message.startswith("log produced nan from finite operands")
    assert THIS_FILE in message and "the line debug_nans must name" in message


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_debug_nans_blames_a_derivative():
    with mg.debug_nans(), pytest.raises(FloatingPointError, match="derivative \\(vjp\\) of sqrt produced inf"):
        mg.grad(lambda x: np.sum(np.sqrt(x)))(np.array([0.0, 1.0]))


def test_debug_nans_is_off_by_default_and_lets_nan_inputs_through():
    assert not mg.config.debug_nans
    with np.errstate(invalid="ignore"):
        assert np.isnan(mg.grad(lambda x: np.sum(np.sqrt(x - 2.0)))(np.array([1.0]))).all()
    mg.config.debug_nans = True
    try:  # a NaN that comes in is not the primitive's fault
        assert np.isnan(mg.grad(lambda x: np.sum(x * 2.0))(np.array([np.nan]))).sum() == 0
    finally:
        mg.config.debug_nans = False


def test_jitted_function_called_from_four_threads():
    f = mg.jit(mg.grad(lambda w, x: np.sum(np.tanh(x @ w) ** 2)))
    rng = np.random.default_rng(0)
    w, xs = rng.normal(size=(5, 3)), [rng.normal(size=(8, 5)) for _ in range(4)]
    expected = [mg.grad(lambda w, x: np.sum(np.tanh(x @ w) ** 2))(w, x) for x in xs]
    results, errors = [None] * 4, []

    def work(i):
        try:
            for _ in range(50):
                results[i] = f(w, xs[i])
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for got, want in zip(results, expected):
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_tracing_in_one_thread_never_sees_another_threads_tracers():
    barrier = threading.Barrier(2)
    seen = {}

    def traced(name, scale):
        def f(x):
            barrier.wait()  # both threads are inside their traces now
            return np.sum(x * scale)
        seen[name] = mg.make_ir(mg.grad(f))(np.ones(3))

    threads = [threading.Thread(target=traced, args=(n, s)) for n, s in (("a", 2.0), ("b", 3.0))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for name, scale in (("a", 2.0), ("b", 3.0)):
        (out,) = mg.eval_program(seen[name], [np.ones(3)])
        np.testing.assert_allclose(out, [scale] * 3)


def test_leaked_tracer_names_its_transform():
    kept = []
    mg.vmap(lambda x: kept.append(x) or x)(np.ones((2, 3)))
    with pytest.raises(mg.LeakedTracerError, match="of vmap was used after vmap returned"):
        np.sin(kept[0])


TWO_PROCESSES = textwrap.dedent("""
    import sys, numpy as np, micrograd as mg
    f = mg.jit(mg.grad(lambda w, x: np.sum(np.tanh(w * x) * np.cos(x) ** 3)), cache=sys.argv[1], strict=True)
    print(repr(float(f(np.linspace(0, 1, 7), np.linspace(1, 2, 7)).sum())))
""")


def test_two_processes_compiling_the_same_program_at_once(tmp_path):
    runs = [subprocess.Popen([sys.executable, "-c", TWO_PROCESSES, str(tmp_path)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [r.communicate(timeout=180) for r in runs]
    assert all(r.returncode == 0 for r in runs), [o[1] for o in outs]
    assert outs[0][0] == outs[1][0]
    third = subprocess.run([sys.executable, "-c", TWO_PROCESSES, str(tmp_path)], capture_output=True, text=True,
                           timeout=180)
    assert third.returncode == 0 and third.stdout == outs[0][0] and "could not be loaded" not in third.stderr


def _growth_per_step(step, n=300, windows=3, warmup=200):
    """Bytes per step that ``step`` keeps allocated: the smallest growth over ``windows``
    consecutive windows of ``n`` steps. A leak grows in every window; a one-off allocation (a
    dict resizing) shows in one window only, so the slope is measured, not one window against a
    byte count. Background compiles finish first: a compile in progress allocates too, and its
    result changes what a step allocates. (NumPy keeps freed small blocks in bounded caches,
    which fill over tens of thousands of steps: a few bytes per step early on, about 0.25 later.)"""
    for _ in range(warmup):
        step()
    assert mg.wait_for_compiles(timeout=300)
    for _ in range(warmup):  # once more, now compiled: its first calls allocate once
        step()
    tracemalloc.start()
    try:
        sizes = []
        for w in range(windows + 1):
            for _ in range(n if w else 0):
                step()
            gc.collect()
            sizes.append(tracemalloc.get_traced_memory()[0])
    finally:
        tracemalloc.stop()
    return min((b - a) / n for a, b in zip(sizes, sizes[1:]))


LEAK_LIMIT = 32  # bytes per step: less than any array, tensor or tape node kept per step


def test_the_slope_measure_sees_a_leak_of_one_small_array_per_step():
    kept = []
    assert _growth_per_step(lambda: kept.append(np.zeros(2)), n=200) > 3 * LEAK_LIMIT
    assert _growth_per_step(lambda: None, n=200) < 1


def test_memory_stays_flat_over_training_steps_eager_and_jit():
    rng = np.random.default_rng(0)
    x, labels = rng.normal(size=(16, 8)), rng.integers(0, 3, 16)
    model = mg.Sequential([mg.Linear(8, 16, key=mg.random.key(0)), mg.ReLU(), mg.Linear(16, 3, key=mg.random.key(1))])
    loss_fn = mg.CrossEntropyLoss()
    opt = mg.SGD(model.parameters(), learning_rate=0.01)
    xt = mg.tensor(x)

    def eager_step():
        loss = loss_fn(model(xt), labels)
        loss.backward()
        opt.step()
        opt.zero_grad()

    params = {"w": rng.normal(size=(8, 3)), "b": np.zeros(3)}

    @mg.jit
    def jit_step(p, x, labels):
        loss, g = mg.value_and_grad(lambda p: -mnp.mean(mnp.log_softmax(x @ p["w"] + p["b"])[np.arange(16), labels]))(p)
        return mg.tree.map(lambda a, b: a - 0.01 * b, p, g), loss

    state = {"p": params}

    def compiled_step():
        state["p"], _ = jit_step(state["p"], x, labels)

    assert _growth_per_step(eager_step) < LEAK_LIMIT
    assert _growth_per_step(compiled_step) < LEAK_LIMIT
    assert len(jit_step.programs) == 1
