"""exp, tanh and the logistic function for float32 inside compiled loops, written so that LLVM
vectorizes them.

Numba computes ``np.exp`` inside a loop by calling the C library's scalar ``expf`` for each
element, which no compiler can vectorize: 5x slower than NumPy's SIMD loops for exp and 25x for
tanh (measured on 16,384 float32s). LLVM could call a vector math library instead, but
llvmlite's wheels are built without one (Numba reports "SVML state: False"), so these functions
are written out: range reduction and a polynomial for exp, a polynomial near 0 and exp further
out for tanh. LLVM inlines them into the loop and then vectorizes it (as fast as NumPy's SIMD
loops, and fused with the operations around them). They are ordinary Numba functions, compiled
once per process and linked into each kernel that calls them, rather than ``inline="always"``
(which inlines at Numba's level: their Python code is typed again inside every kernel, about
0.1 s per kernel for exp and 0.3 s for tanh). Over all float32 inputs, subnormal results
included, exp is within 1 unit in the last place of the exact value, tanh within 1.5 and the
logistic function within 2.5, as NumPy's own ``1 / (1 + exp(-x))`` in float32
(``tests/test_vectormath.py`` checks).

Compiled kernels import them by name (listed in ``helpers.py``).
"""
from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

f32 = np.float32


@intrinsic
def _float32_from_bits(typingctx, bits):
    """The float32 whose bit pattern is the int32 ``bits`` (a reinterpretation, not a conversion)."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.FloatType())
    return types.float32(types.int32), codegen


_FLAGS = {"contract", "reassoc", "arcp"}  # as compiled kernels: no assumption that values are finite
_LOG2E = f32(1.4426950408889634)
_LN2_HI, _LN2_LO = f32(0.693359375), f32(-2.12194440e-4)  # ln 2 in two parts: k * _LN2_HI is exact


@njit(fastmath=_FLAGS, error_model="numpy")
def exp_f32(x):
    """e**x: x = k ln 2 + r with |r| <= ln(2) / 2, e**r by its Taylor polynomial to r**7
    (truncation error below 6e-9), times 2**k built from its exponent bits."""
    x = min(max(x, f32(-104.0)), f32(88.72284))
    k = np.floor(x * _LOG2E + f32(0.5))
    r = x - k * _LN2_HI - k * _LN2_LO
    p = f32(1) + r * (f32(1) + r * (f32(1 / 2) + r * (f32(1 / 6) + r * (f32(1 / 24) + r * (
        f32(1 / 120) + r * (f32(1 / 720) + r * f32(1 / 5040)))))))
    # 2**k as two normal powers of two: k is in [-150, 128]; k1 in [-126, 127], k2 in [-24, 0]
    # (k = 128 puts its extra 2 into p), so neither factor, nor their product, overflows
    ki = np.int32(k)
    k1 = min(max(ki, np.int32(-126)), np.int32(127))
    k2 = ki - k1
    p = p * (f32(2) if k2 > 0 else f32(1))
    k2 = min(k2, np.int32(0))
    return p * _float32_from_bits((k1 + np.int32(127)) << np.int32(23)) * \
        _float32_from_bits((k2 + np.int32(127)) << np.int32(23))


# tanh(x) = x + x**3 q(x**2) on |x| <= 0.625: q fitted by weighted least squares to tanh's
# relative error (degree 4 in x**2; the fit's float32 error is below 0.9 units in the last place)
_Q0, _Q1, _Q2, _Q3, _Q4 = (f32(-0.33333291520028235), f32(0.13331718845793555), f32(-0.05376382495108631),
                           f32(0.020720367702051646), f32(-0.005798204879381129))


@njit(fastmath=_FLAGS, error_model="numpy")
def tanh_f32(x):
    """tanh: a polynomial near 0 (where 1 - 2 / (e**2x + 1) would cancel), that formula beyond,
    and +-1 past |x| = 9.1 (where float32's tanh is 1)."""
    a = abs(x)
    z = x * x
    small = x * (f32(1) + z * (_Q0 + z * (_Q1 + z * (_Q2 + z * (_Q3 + z * _Q4)))))  # (-0.0 stays -0.0)
    large = f32(1) - f32(2) / (exp_f32(f32(2) * min(a, f32(9.1))) + f32(1))
    return small if a <= f32(0.625) else (large if x > f32(0) else -large)


@njit(fastmath=_FLAGS, error_model="numpy")
def logistic_f32(x):
    """1 / (1 + e**-x), from e = e**-|x| (which never overflows): 1 / (1 + e), or e / (1 + e)."""
    e = exp_f32(-abs(x))
    return (f32(1) if x >= f32(0) else e) / (f32(1) + e)
