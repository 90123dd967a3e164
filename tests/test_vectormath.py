"""The float32 exp, tanh and logistic function that compiled loops use (backend/vectormath.py):
accurate over the whole float32 range, special values included."""
import numpy as np
import pytest
from numba import njit

from micrograd.backend.vectormath import exp_f32, logistic_f32, tanh_f32

FLAGS = {"contract", "reassoc", "arcp"}


def _loop(f):
    @njit(fastmath=FLAGS, error_model="numpy")
    def run(x, out):
        for i in range(x.size):
            out[i] = f(x[i])
    return run


RUNS = {"exp": _loop(exp_f32), "tanh": _loop(tanh_f32), "logistic": _loop(logistic_f32)}
EXACT = {"exp": np.exp, "tanh": np.tanh, "logistic": lambda x: 1.0 / (1.0 + np.exp(-x))}  # (float64: exact enough)
MAX_ULPS = {"exp": 1.0, "tanh": 1.5, "logistic": 2.5}


def _every_kth_float32(k: int = 1009) -> np.ndarray:
    """Finite float32s spread over every exponent (one bit pattern in ``k``)."""
    x = np.arange(0, 2 ** 32, k, dtype=np.uint64).astype(np.uint32).view(np.float32)
    return x[np.isfinite(x)]


@pytest.mark.parametrize("name", sorted(RUNS))
def test_within_a_few_units_in_the_last_place_over_all_float32(name):
    x = _every_kth_float32()
    got = np.empty_like(x)
    RUNS[name](x, got)
    with np.errstate(over="ignore", under="ignore"):
        exact = EXACT[name](x.astype(np.float64))
    representable = np.abs(exact) <= np.finfo(np.float32).max
    assert np.isinf(got[~representable]).all() and (got[~representable] > 0).all()  # exp overflows to inf
    error = np.abs(got[representable].astype(np.float64) - exact[representable])
    ulp = np.spacing(np.abs(exact[representable]).astype(np.float32)).astype(np.float64)
    assert np.max(error / ulp) <= MAX_ULPS[name]


def test_special_values():
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 88.72, -103.5, 1e-40], np.float32)
    out = {name: np.empty_like(x) for name in RUNS}
    for name, run in RUNS.items():
        run(x, out[name])
    assert np.isnan(out["exp"][0]) and out["exp"][1] == np.inf and out["exp"][2] == 0.0 and out["exp"][3] == 1.0
    assert out["exp"][4] == 1.0 and np.isfinite(out["exp"][5]) and 0 < out["exp"][6] < 1e-44
    assert np.isnan(out["tanh"][0]) and out["tanh"][1] == 1.0 and out["tanh"][2] == -1.0
    assert out["tanh"][3] == 0.0 and np.signbit(out["tanh"][4]) and out["tanh"][7] == np.float32(1e-40)
    assert np.isnan(out["logistic"][0]) and out["logistic"][1] == 1.0 and out["logistic"][2] == 0.0
    assert out["logistic"][3] == 0.5
