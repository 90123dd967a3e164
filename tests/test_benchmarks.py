"""The benchmark cases still build and micrograd agrees with the hand-written NumPy in each (no
timing loops, and no JAX or PyTorch needed), so benchmarks/run.py cannot rot unnoticed."""
import sys

from conftest import REPO

if REPO not in sys.path:  # benchmarks/ is not an installed package
    sys.path.insert(0, REPO)

from benchmarks import run  # noqa: E402


def test_every_case_builds_and_micrograd_agrees_with_numpy():
    for case in run.CASES:
        callables, notes = run.build_and_check(case, names=[run.NUMPY, run.MICROGRAD])
        assert notes == {}, f"{case.name}: {notes}"
        assert set(callables) == {run.NUMPY, run.MICROGRAD}, case.name
    # and the check would catch a difference in value, dtype or structure
    ref = run.CASES[0].numpy(run.CASES[0].setup())()
    assert run.disagreement(ref, ref, **run.F32_TOL) is None
    assert run.disagreement((ref[0], ref[1] * 1.01), ref, **run.F32_TOL)
    assert run.disagreement((ref[0], ref[1].astype("float64")), ref, **run.F32_TOL)
    assert run.disagreement(ref[0], ref, **run.F32_TOL)
    assert [c.name for c in run.CASES] == ["mnist_mlp_step_b128", "mnist_mlp_step_b1024", "tiny_grad",
                                           "hessian_100", "moons_mlp_step", "per_example_grads"]
