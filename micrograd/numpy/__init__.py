"""NumPy's namespace, differentiable: functions that work on arrays and on traced values alike.

Each function promotes its operands as NumPy does (Python scalars take the array's dtype;
integers become float64 where a float is computed), checks their shapes, and applies
primitives. Inside a traced function, plain ``numpy`` calls on traced values land here too
(through ``__array_ufunc__`` and ``__array_function__``), so both spellings trace:

>>> import numpy as np, micrograd as mg, micrograd.numpy as mnp
>>> x = np.array([0.5, -1.0])
>>> bool(np.allclose(mg.grad(lambda x: mnp.sum(mnp.tanh(x)))(x),
...                  mg.grad(lambda x: np.sum(np.tanh(x)))(x)))
True

The functions live in one module per family, as NumPy's documentation groups them:
``ufuncs`` (elementwise), ``reductions`` (sums, running operations, sorting, statistics),
``shape`` (reshaping, joining, splitting, padding, diagonals), ``indexing``,
``contractions`` (products and ``einsum``), ``numerical`` (differences, integration,
polynomials, convolution, interpolation), ``creation``, and ``linalg`` (``numpy.linalg``).
"""
from __future__ import annotations

from ..core.trace import Tracer
from . import contractions, creation, dispatch, indexing, linalg, numerical, reductions, shape, ufuncs
from .contractions import *  # noqa: F401,F403
from .creation import *  # noqa: F401,F403
from .indexing import *  # noqa: F401,F403
from .numerical import *  # noqa: F401,F403
from .reductions import *  # noqa: F401,F403
from .shape import *  # noqa: F401,F403
from .ufuncs import *  # noqa: F401,F403

__all__ = sorted({name for family in dispatch.FAMILIES for name in family.__all__} | {"linalg"})

dispatch.install_array_methods(Tracer)
