"""Dtype rules. micrograd follows NumPy 2 (NEP 50): Python scalars are "weak" and take the
dtype of the array they meet, so a float32 array stays float32 when multiplied by 2.0, while
a bare Python float becomes float64."""
from __future__ import annotations

import numpy as np

float0 = np.dtype([("float0", np.void, 0)])  # the "no gradient" dtype of integer inputs, as in JAX


def is_float(dtype) -> bool:
    if isinstance(dtype, np.dtype):  # (the usual argument, without np.issubdtype's cost)
        return dtype.kind == "f"
    return np.issubdtype(dtype, np.floating)


def result_type(*values) -> np.dtype:
    """The dtype NumPy would give ``values[0] op values[1] ...``; Python scalars are weak."""
    return np.result_type(*(v if isinstance(v, (int, float, bool, complex)) else v.dtype
                            for v in values))


def float_type(dtype) -> np.dtype:
    """The float dtype an operation like ``sin`` or ``mean`` computes in (ints become float64)."""
    return np.dtype(dtype) if is_float(dtype) else np.dtype(np.float64)


def short_name(dtype) -> str:
    """'f32', 'f64', 'i64', 'bool': the dtype as printed in the IR."""
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return "bool"
    return {"f": "f", "i": "i", "u": "u", "c": "c"}.get(dtype.kind, dtype.kind) + str(8 * dtype.itemsize)
