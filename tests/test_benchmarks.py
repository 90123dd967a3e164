"""The benchmark cases still build and micrograd agrees with the hand-written NumPy in each (no
timing loops, and no JAX or PyTorch needed), so benchmarks/run.py cannot rot unnoticed."""
import sys

from conftest import REPO

if REPO not in sys.path:  # benchmarks/ is not an installed package
    sys.path.insert(0, REPO)

from benchmarks import run  # noqa: E402


def test_every_case_builds_and_micrograd_agrees_with_numpy():
    timed = [c for c in run.CASES if c not in run.SEPARATE]  # (e), (q) and (r) run fresh processes: see below
    for case in timed:
        names = [run.NUMPY, run.MICROGRAD] + ([run.MICROGRAD_JIT] if case.name == "moons_mlp_step" else [])
        callables, notes, _ = run.build_and_check(case, names=names)
        assert notes == {}, f"{case.name}: {notes}"
        assert set(callables) == set(names), case.name
    # and the check would catch a difference in value, dtype or structure
    ref = run.CASES[0].numpy(run.CASES[0].setup())()
    assert run.disagreement(ref, ref, **run.F32_TOL) is None
    assert run.disagreement((ref[0], ref[1] * 1.01), ref, **run.F32_TOL)
    assert run.disagreement((ref[0], ref[1].astype("float64")), ref, **run.F32_TOL)
    assert run.disagreement(ref[0], ref, **run.F32_TOL)
    assert [c.name for c in run.CASES] == ["mnist_mlp_step_b128", "mnist_mlp_step_b1024", "tiny_grad",
                                           "hessian_100", "moons_mlp_step", "per_example_grads",
                                           "eager_mnist_epoch", "einsum_attention", "solve_slogdet_64",
                                           "sort_cumsum", "lstm_step", "cnn_step", "conv2d_grad", "tiny_eager_step",
                                           "tiny_value_and_grad", "cold_start", "mnist_example_cold_warm",
                                           "distributed_scaling"]


def test_cold_start_script_runs(tmp_path):
    import subprocess
    done = subprocess.run([sys.executable, "-c", run.COLD_START_SCRIPT, "micrograd", str(tmp_path)], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    first, compiled, loss = map(float, done.stdout.split())  # (it kept stepping until compiled code took over)
    assert 0 < first <= compiled and loss > 0


def test_eager_epoch_case_trains_the_same_parameters_as_numpy():
    # (f) is in the loop above; here: each call starts again from the same parameters, so repeated
    # calls (as the timing makes them) return the same result, and the rows it cannot run say so
    case = next(c for c in run.CASES if c.name == "eager_mnist_epoch")
    data = case.setup()
    eager = case.micrograd(data)
    first, second = eager(), eager()
    # (to float32 rounding: the eager optimizer step is compiled in the background, so one epoch may
    # run partly with NumPy and the next with the compiled update)
    assert run.disagreement(second, first, **case.tol) is None
    assert run.disagreement(first, case.numpy(data)(), **case.tol) is None
    _, notes, _ = run.build_and_check(case, names=[run.NUMPY, run.JAX])
    assert notes == {run.JAX: "skipped: not written for this case"}
