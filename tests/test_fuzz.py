"""Differential fuzzing (bounded for CI): random programs from ``fuzzing.generate`` must agree
between NumPy, micrograd on arrays, traced vjp/jvp, eager tensors, vmap and jit; gradients
agree with central differences. hypothesis draws the programs (derandomized, so every run
checks the same ones) and shrinks a failure to a small program, printed as Python source.
``scripts/fuzz.py`` runs the same checks on many more programs."""
from __future__ import annotations

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import fuzzing

SETTINGS = dict(deadline=None, derandomize=True, database=None, print_blob=False,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])


@st.composite
def programs(draw, max_ops: int = 8):
    return fuzzing.generate(fuzzing.HypothesisChooser(draw), max_ops=max_ops)


@settings(max_examples=400, **SETTINGS)
@given(programs())
def test_random_programs_agree_everywhere_but_jit(program):
    """NumPy, micrograd on arrays, vjp, eager tensors, vmap and vmap of the pullback; vjp
    against central differences and jvp against vjp (float64)."""
    assume(fuzzing.check(program))


@settings(max_examples=100, **SETTINGS)
@given(programs(max_ops=5))
def test_random_programs_second_derivatives(program):
    assume(fuzzing.check(program, vmap=False, second_order=True))


@settings(max_examples=20, **SETTINGS)
@given(programs(max_ops=6))
def test_random_programs_agree_under_jit(program):
    """One compiled program per example (Numba compiles each, ~0.3 s): value, vjp, jvp and
    vmap under ``mg.jit(strict=True)``, called twice."""
    assume(fuzzing.check(program, jit=True, vmap=False, numerical=False))
