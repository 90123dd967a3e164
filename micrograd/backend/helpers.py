"""The functions compiled kernels call from micrograd's two Numba helper modules, by name.

Lowering writes each kernel's imports from these lists without importing the modules, which
import Numba: ``import micrograd`` (eager code, transforms, lowering to source) needs Numba
only once ``jit`` compiles.
"""

# primitives whose float32 loop code calls NAME_f32 of vectormath.py (see primitives/elementwise.py)
VECTORIZED_FLOAT32 = ("exp", "tanh", "logistic")

HELPERS = {
    "micrograd.backend.vectormath": tuple(f"{name}_f32" for name in VECTORIZED_FLOAT32),
    "micrograd.backend.arrays": ("empty", "full", "contiguous", "reshaped", "permuted", "broadcast", "matmul",
                                 "matmul_into"),
}
