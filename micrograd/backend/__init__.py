"""The compiler behind ``jit``: IR optimization passes, fusion into loop kernels, lowering to
Numba, and the compile cache."""
