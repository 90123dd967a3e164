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
    return _describe_frame(frame, frame.f_lineno)


# Every traced equation records its line, so the text of a line is looked up once: by the code
# object and line number (a code object never changes; an edited and reloaded function has a new one).
_DESCRIBED: dict[tuple, str] = {}


def _describe_frame(frame, lineno: int) -> str:
    key = (frame.f_code, lineno)
    text = _DESCRIBED.get(key)
    if text is None:
        import linecache
        code = linecache.getline(frame.f_code.co_filename, lineno).strip()
        where = f"{frame.f_code.co_filename}:{lineno} in {frame.f_code.co_name}"
        text = f"{where}: {code}" if code else where
        if len(_DESCRIBED) >= 4096:  # (code made on the fly, e.g. by exec, would grow it without end)
            _DESCRIBED.clear()
        _DESCRIBED[key] = text
    return text


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


def traceback_location(tb) -> str | None:
    """:func:`user_frame_location` for an exception: the innermost frame of its traceback outside
    micrograd and NumPy (for errors raised by C code, such as NumPy's, that has no frame)."""
    user = None
    while tb is not None:
        if not tb.tb_frame.f_code.co_filename.startswith(_SKIP):
            user = tb
        tb = tb.tb_next
    return None if user is None else _describe_frame(user.tb_frame, user.tb_lineno)


def describe_value(x) -> str:
    """``x`` for a message saying it is not an array: 'a str ('abc')', 'a function (sin)'."""
    import numpy as np
    if isinstance(x, np.ndarray):
        return f"an array of dtype {x.dtype}"
    if isinstance(x, (str, bytes)):
        text = repr(x) if len(x) <= 40 else repr(x[:37]) + "..."
        return f"a {type(x).__name__} ({text})"
    if isinstance(x, type):
        return f"a class ({x.__name__})"
    if callable(x) and hasattr(x, "__name__"):
        return f"a function ({x.__name__})"
    text = repr(x)
    text = text if len(text) <= 40 else text[:37] + "..."
    return f"{_article(type(x).__name__)} {type(x).__name__} ({text})"


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def check_callable(f, transform: str, which: str = "") -> None:
    """``transform(f)`` needs a function: say so when the transform is made, not when it is called.
    ``which`` names the function among several ("function 1")."""
    if callable(f):
        return
    hint = ""
    if hasattr(f, "shape") and hasattr(f, "dtype"):
        hint = (f" (was the function called, as in {transform}(f(x))? Pass the function itself and call what "
                f"{transform} returns: {transform}(f)(x))")
    text = repr(f)
    text = text if len(text) <= 60 else text[:57] + "..."
    which = f" as {which}" if which else ""
    raise TypeError(with_location(f"{transform} expects a function{which}, got {text} ({type(f).__name__}){hint}"))


def _is_index(n) -> bool:
    import numpy as np
    return isinstance(n, (int, np.integer)) and not isinstance(n, (bool, np.bool_))


def check_argnums(argnums, transform: str, what: str = "argnums"):
    """``argnums`` (or ``static_argnums``, ...) as an int or a tuple of ints, or a TypeError saying
    what it is instead; whether they are in range is known only when the function is called."""
    if _is_index(argnums):
        return int(argnums)
    if isinstance(argnums, (tuple, list, range)) and all(_is_index(n) for n in argnums):
        return tuple(int(n) for n in argnums)
    got = f"{argnums!r} ({type(argnums).__name__})"
    if isinstance(argnums, (tuple, list)):
        bad = next(n for n in argnums if not _is_index(n))
        got = f"{argnums!r}, whose entry {bad!r} is a {type(bad).__name__}"
    raise TypeError(with_location(f"{transform}: {what} must be an int or a tuple of ints (positions of arguments, "
                                  f"counted from 0), got {got}"))


def check_argnames(argnames, transform: str, what: str = "static_argnames") -> tuple:
    """``argnames`` (a str or a tuple of strs) as a tuple, or a TypeError saying what it is instead."""
    if isinstance(argnames, str):
        return (argnames,)
    if isinstance(argnames, (tuple, list)) and all(isinstance(n, str) for n in argnames):
        return tuple(argnames)
    got = f"{argnames!r} ({type(argnames).__name__})"
    if isinstance(argnames, (tuple, list)):
        bad = next(n for n in argnames if not isinstance(n, str))
        got = f"{argnames!r}, whose entry {bad!r} is a {type(bad).__name__}"
    hint = " (positions go in static_argnums)" if _is_index(argnames) or isinstance(argnames, (tuple, list)) else ""
    raise TypeError(with_location(f"{transform}: {what} must be a str or a tuple of strs (names of parameters), "
                                  f"got {got}{hint}"))


# Tracer methods that need a concrete value; a TypeError raised in one of them is about that value
_CONVERSIONS = frozenset({"_concrete_error", "__bool__", "__int__", "__index__", "__float__", "__complex__",
                          "item", "tolist", "__array__", "__len__", "__iter__"})


class TracedOrigin:
    """Which traced inputs the value behind a conversion error was computed from.

    ``inputs`` are indices into the inputs given to :func:`traced_origin` (``None``: the value
    could not be found, only that it belongs to this trace); ``direct`` is true when the value is
    one of the inputs itself, false when it is computed from them, ``None`` when that is not known.
    :meth:`error` rewrites the message with the transform's explanation."""

    def __init__(self, error: BaseException, inputs: list[int] | None, direct: bool):
        self.original, self.inputs, self.direct = error, inputs, direct
        text = str(error)
        text, _, location = text.partition("\n  at ")
        self.location = location or traceback_location(error.__traceback__)
        head, sep, hint = text.partition(": its value is not known while the function is traced. ")
        self.head, self.hint = head.strip(), hint.strip() if sep else ""

    def about(self, arguments: str) -> str:
        """'it is argument 1 (n)', 'it is computed from argument 1 (n)' or 'it comes from ...'."""
        verb = {True: "is", False: "is computed from", None: "comes from"}[self.direct]
        return f"it {verb} {arguments}"

    @property
    def wants_int(self) -> bool:
        """Whether the value was needed as an int (a size, an index, a loop count) or a shape."""
        return (" Python int" in self.head or "integer" in self.head or "len()" in self.head
                or " ints" in self.head)

    def error(self, origin: str, advice: str) -> TracerConversionError:
        message = f"{self.head}: {origin}, so its value is not known while the function is traced. {advice}".rstrip()
        if self.location:
            message += f"\n  at {self.location}"
        return TracerConversionError(message)


def traced_origin(error: BaseException, inputs) -> TracedOrigin | None:
    """When ``error`` (raised while a function was traced on ``inputs``, the flat input tracers of
    one trace) comes from a value of that trace used where a concrete one is needed (``int(n)``,
    ``range(n)``, ``if n:``, ``np.zeros(n)``, ``len(n)``), which inputs the value depends on. ``None``
    for other errors, and for values of other traces (an enclosing transform's)."""
    from .ir import Var
    from .trace import Tracer
    inputs = list(inputs)
    if not inputs or not all(isinstance(t, Tracer) for t in inputs):
        return None
    trace = inputs[0]._trace

    def ours(x):
        return isinstance(x, Tracer) and x._trace is trace and isinstance(getattr(x, "ir_var", None), Var)

    found: list = []
    seen = 0
    e = error
    while e is not None and seen < 4 and not found:  # the conversion's own frame: `self` is the value
        tb = e.__traceback__
        while tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
        if tb is not None and tb.tb_frame.f_code.co_name in _CONVERSIONS:
            value = tb.tb_frame.f_locals.get("self")
            if isinstance(value, Tracer):
                if not ours(value):
                    return None
                found.append(value)
        e, seen = e.__cause__ or e.__context__, seen + 1
    certain = bool(found)
    if not found:  # a message quoting the value, from code that caught the conversion's error (NumPy's)
        message = str(error)
        if not isinstance(error, TypeError) or f"> of {trace.name}" not in message:
            return None
        tb, user = error.__traceback__, None
        while tb is not None:
            if not tb.tb_frame.f_code.co_filename.startswith(_SKIP):
                user = tb.tb_frame
            tb = tb.tb_next
        for value in (user.f_locals.values() if user is not None else ()):
            for v in (value if isinstance(value, (tuple, list)) else (value,)):
                if ours(v) and repr(v) in message and not any(v is w for w in found):
                    found.append(v)
        if not found:
            return TracedOrigin(error, None, False)
        # the quoted value is the local one found, unless a value computed so far could have its repr
        certain = len(found) == 1 and not any(f"Tracer<{v.aval}> of {trace.name}" in message
                                              for eqn in trace.eqns for v in eqn.outs)
    invars = {t.ir_var: i for i, t in enumerate(inputs)}
    needed = {t.ir_var for t in found}
    for eqn in reversed(trace.eqns):
        if any(v in needed for v in eqn.outs):
            needed.update(a for a in eqn.inputs if isinstance(a, Var))
    indices = sorted(i for v, i in invars.items() if v in needed)
    direct = all(t.ir_var in invars for t in found)
    return TracedOrigin(error, indices, direct if certain else (None if direct else False))


class ArgumentLeaf:
    """One leaf of a transform's arguments, for messages: 'argument 1 (n)', 'argument 0 (p) at ['w']'.
    ``value`` is the leaf, ``whole`` the argument it is part of."""
    __slots__ = ("position", "name", "path", "value", "whole", "keyword")

    def __init__(self, position, name, path, value, whole, keyword=False):
        self.position, self.name, self.path, self.value, self.whole = position, name, path, value, whole
        self.keyword = keyword

    def argument(self) -> str:
        if self.position is None:
            return f"argument {self.name}"
        return f"argument {self.position}" + (f" ({self.name})" if self.name else "")

    def __str__(self):
        return self.argument() + (f" at {self.path}" if self.path else "")

    @property
    def scalar(self) -> bool:
        """A Python number or a 0-d array: a value that could be a static argument instead."""
        import numpy as np
        return isinstance(self.value, (bool, int, float, complex, np.generic)) or (
            isinstance(self.value, np.ndarray) and self.value.ndim == 0)

    def kind(self) -> str:
        import numpy as np
        if isinstance(self.value, (bool, int, float, complex)):
            return f"a Python {type(self.value).__name__}"
        if isinstance(self.value, (np.ndarray, np.generic)):
            return "a 0-d array" if np.ndim(self.value) == 0 else "an array"
        return describe_value(self.value)


def parameters_of(f):
    """(names of f's positional parameters, those that can also be passed by keyword, all names,
    whether it takes *args, whether it takes **kwargs); None if f has no signature."""
    import inspect
    try:
        params = list(inspect.signature(f).parameters.values())
    except (TypeError, ValueError):
        return None
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return ([p.name for p in positional], {p.name for p in positional if p.kind is p.POSITIONAL_OR_KEYWORD},
            {p.name: p for p in params}, any(p.kind is p.VAR_POSITIONAL for p in params),
            any(p.kind is p.VAR_KEYWORD for p in params))


def argument_leaves(f, positional, keywords=None) -> list[ArgumentLeaf]:
    """The leaves of ``f``'s arguments, in the order a transform flattens them: ``positional``
    as (position, value) pairs (a tuple of them), then ``keywords`` (a dict, flattened as one)."""
    from . import tree
    params = parameters_of(f)
    names = params[0] if params else []
    leaves: list[ArgumentLeaf] = []
    for position, value in positional:
        name = names[position] if 0 <= position < len(names) else None
        for path, leaf in _leaf_paths(value):
            leaves.append(ArgumentLeaf(position, name, path, leaf, value))
    if keywords:
        keys = tree.flatten(keywords, is_leaf=lambda v: v is not keywords)[1].aux
        for key in keys:
            position = names.index(key) if key in names and params and key in params[1] else None
            for path, leaf in _leaf_paths(keywords[key]):
                leaves.append(ArgumentLeaf(position, key, path, leaf, keywords[key], keyword=True))
    return leaves


def join_arguments(leaves) -> str:
    """'argument 1 (n)', 'arguments 0 (x) and 1 (n)': the arguments of some leaves, once each."""
    described = list(dict.fromkeys(str(leaf).removeprefix("argument ") for leaf in leaves))
    return ("argument " if len(described) == 1 else "arguments ") + join(described)


def join(items) -> str:
    """'a', 'a and b', 'a, b and c'."""
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _leaf_paths(x, path: str = ""):
    from . import tree
    node = tree.labeled_children(x)
    if node is None:
        return [(path, x)]
    children, _, labels = node
    return [p for label, c in zip(labels, children) for p in _leaf_paths(c, path + label)]


def name_of(f) -> str:
    return getattr(f, "__name__", type(f).__name__)
