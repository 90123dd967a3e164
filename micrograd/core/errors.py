"""Errors that point at the user's code, not at micrograd's internals."""
from __future__ import annotations

import os
import sys

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_NUMPY_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__import__("numpy").__file__)))
_SKIP = (_PACKAGE_DIR + os.sep, os.path.join(_NUMPY_DIR, "numpy") + os.sep)


def user_frame_location() -> str | None:
    """'file.py:12 in loss: return np.sum(x @ w)' for the innermost frame outside micrograd and
    NumPy (NumPy's frames appear when a plain-NumPy call dispatches to micrograd)."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_SKIP):
        frame = frame.f_back
    if frame is None:
        return None
    import linecache
    code = linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()
    where = f"{frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}"
    return f"{where}: {code}" if code else where


class ShapeError(ValueError):
    """Operands whose shapes do not fit an operation."""


class TracerConversionError(TypeError):
    """A traced value was used where a concrete Python value is needed (``if x > 0:``)."""


class NotDifferentiableError(TypeError):
    """A derivative micrograd cannot take (reverse mode through ``while_loop``, forward mode through
    a ``custom_vjp`` function)."""


class LeakedTracerError(RuntimeError):
    """A traced value was used after the transform that made it had returned."""


def with_location(message: str) -> str:
    where = user_frame_location()
    return f"{message}\n  at {where}" if where else message
