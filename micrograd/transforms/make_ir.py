"""``make_ir``: the program a function traces to."""
from __future__ import annotations

import functools
from typing import Any, Callable

from ..core.errors import check_callable
from ..core.ir import Program
from ..core.trace import trace_to_program


def make_ir(f: Callable) -> Callable[..., Program]:
    """A function that traces ``f`` on its arguments and returns the :class:`Program`.

    >>> import numpy as np, micrograd as mg
    >>> print(mg.make_ir(lambda x: np.sum(np.tanh(x)))(np.zeros(3)))
    { lambda ; a:f64[3]. let
        b:f64[3] = tanh a
        c:f64[] = reduce_sum[axes=(0,)] b
      in (c) }
    """
    check_callable(f, "make_ir")
    @functools.wraps(f)
    def traced(*args: Any) -> Program:
        return trace_to_program(f, args, name="make_ir")
    return traced
