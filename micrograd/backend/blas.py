"""One BLAS thread for matrix products inside compiled loops.

Numba's ``np.dot`` calls SciPy's OpenBLAS, NumPy's ``matmul`` NumPy's own: two thread pools. At
top level, products large enough for OpenBLAS to use threads run with NumPy between compiled
pieces (``statements.SINGLE_THREAD_BLAS_LIMIT``). Inside a compiled loop every product is
Numba's, and SciPy's pool, spinning against NumPy's for the same cores, made an LSTM's training
step 2-8x slower and its time erratic (measured: 42 ms, median 131 ms; with one thread 15 ms).
So a piece whose loops multiply matrices runs with SciPy's OpenBLAS set to one thread for the
calling thread only (OpenBLAS's ``openblas_set_num_threads_local``), and back afterwards.
"""
from __future__ import annotations

import ctypes
import functools
import glob
import os
from typing import Callable


@functools.lru_cache(maxsize=None)
def _set_local_threads() -> Callable[[int], int] | None:
    """OpenBLAS's per-thread setting in SciPy's library, or None where it is not found."""
    import scipy

    for path in glob.glob(os.path.join(os.path.dirname(scipy.__file__) + ".libs", "libscipy_openblas*.so*")):
        try:
            function = ctypes.CDLL(path).openblas_set_num_threads_local
        except (OSError, AttributeError):
            continue
        function.restype, function.argtypes = ctypes.c_int, [ctypes.c_int]
        return function
    return None


def one_blas_thread(kernel: Callable) -> Callable:
    """``kernel``, calling SciPy's BLAS with one thread while it runs."""
    set_threads = _set_local_threads()
    if set_threads is None:
        return kernel

    def call(*args):
        previous = set_threads(1)
        try:
            return kernel(*args)
        finally:
            set_threads(previous)
    return call
