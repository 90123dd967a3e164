"""Switches that change how micrograd runs, for debugging.

``debug_nans``: raise at the first primitive that produces a NaN or an infinity from finite
operands, naming the primitive and the line of your code that applied it — in eager tensors,
in transforms, and in ``jit`` (a compiled program whose results are not finite runs again one
operation at a time to find where).

>>> import numpy as np, micrograd as mg
>>> with mg.debug_nans():
...     mg.grad(lambda x: np.sum(np.log(x - 1.0)))(np.array([0.5]))
Traceback (most recent call last):
...
FloatingPointError: log produced nan from finite operands...
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator, Sequence

import numpy as np


class Config:
    """micrograd's switches; set them as attributes: ``mg.config.debug_nans = True``."""
    debug_nans: bool = False

    def __repr__(self):
        return f"Config(debug_nans={self.debug_nans})"


config = Config()


@contextmanager
def debug_nans(enabled: bool = True) -> Iterator[None]:
    """Turn NaN/infinity hunting on (or off) inside a ``with`` block."""
    previous, config.debug_nans = config.debug_nans, enabled
    try:
        yield
    finally:
        config.debug_nans = previous


def all_finite(x: Any) -> bool:
    """Whether an array (or an eager tensor's data) has no NaN or infinity; traced values count
    as finite (they are checked when they are computed)."""
    if isinstance(x, (tuple, list)):  # the results of a primitive with several
        return all(all_finite(r) for r in x)
    x = x.data if isinstance(getattr(x, "data", None), np.ndarray) else x
    if not isinstance(x, (np.ndarray, np.generic, float)):
        return True  # traced values are checked when they are computed
    x = np.asarray(x)
    return not np.issubdtype(x.dtype, np.floating) or bool(np.isfinite(x).all())


def check_finite(what: str, operands: Sequence[Any], result: Any, where: str | None) -> None:
    """Raise FloatingPointError if ``result`` has a NaN or infinity and ``operands`` do not."""
    if all_finite(result) or not all(all_finite(a) for a in operands):
        return
    results = result if isinstance(result, (tuple, list)) else [result]
    bad = "nan" if any(np.isnan(np.asarray(getattr(r, "data", r))).any() for r in results) else "inf"
    raise FloatingPointError(f"{what} produced {bad} from finite operands"
                             + (f"\n  at {where}" if where else "")
                             + "\n(mg.config.debug_nans is on; turn it off to let NaNs through)")
