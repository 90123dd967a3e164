"""Differential fuzzing of micrograd: random programs over the primitive set, run every way
micrograd can run them, which must all agree.

A :class:`Program` is Python source (printed in every failure, so a counterexample can be pasted
into ``tests/test_regressions.py``): a function of a few float32 or float64 inputs with
broadcast-compatible random shapes, built from ``micrograd.numpy`` functions and Python
operators. Operands of functions with a restricted domain are wrapped to keep them safe
(``log(x * x + 1)``, ``sqrt(abs(x) + 0.25)``, ``x / (1 + y * y)``, ``exp`` only of bounded
values), and the generator tracks a bound on every value's magnitude so nothing overflows.

:func:`check` runs a program

* with NumPy itself (the reference: the same source, with NumPy's functions),
* through micrograd.numpy on plain arrays (the NumPy interpreter),
* traced (``mg.vjp``), with eager tensors (``mg.tensor`` + ``backward``) and, when asked, with
  ``mg.jit(strict=True)``: values, dtypes and shapes, and first-order gradients,
* gradients (``vjp``) against central differences in float64, and ``jvp`` against ``vjp``,
* ``mg.vmap`` (of the function and of its pullback) against a Python loop,

and raises :class:`Mismatch` naming the check, the worst element and the program.

The generator draws from a :class:`Chooser`: hypothesis's ``data.draw`` in the test suite (so
failures shrink to small programs), a seeded ``random.Random`` in ``scripts/fuzz.py``.

>>> program = generate(RandomChooser(3))
>>> print(program.source())  # doctest: +SKIP
>>> check(program)  # raises Mismatch on a disagreement; False: rejected (the reference is not finite)
True
"""
from __future__ import annotations

import itertools
import math
import random
import types
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

import micrograd as mg
import micrograd.numpy as mnp
from micrograd.testing import numerical_vjp

MAX_SIZE = 48  # elements per value: keeps central differences cheap
BIG = 1e4  # bound on any value's magnitude


class Mismatch(AssertionError):
    """Two ways of running a program disagree."""


# --- choosing -------------------------------------------------------------------------------------

class Chooser:
    """Where the generator's decisions come from."""

    def integer(self, lo: int, hi: int) -> int:  # inclusive
        raise NotImplementedError

    def choice(self, options: Sequence[Any]) -> Any:
        return options[self.integer(0, len(options) - 1)]

    def chance(self, percent: int) -> bool:
        return self.integer(0, 99) < percent


class RandomChooser(Chooser):
    def __init__(self, seed: int):
        self.rng = random.Random(seed)

    def integer(self, lo: int, hi: int) -> int:
        return self.rng.randint(lo, hi)


class HypothesisChooser(Chooser):
    def __init__(self, draw: Callable):
        from hypothesis import strategies as st
        self.draw, self.st = draw, st

    def integer(self, lo: int, hi: int) -> int:
        return self.draw(self.st.integers(lo, hi))


# --- the reference namespace: NumPy, plus what NumPy lacks ---------------------------------------

def _ref_logsumexp(x, axis=None, keepdims=False):
    m = np.max(x, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis) if axis is not None else out.reshape(())


def _ref_softmax(x, axis=-1):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def _ref_log_softmax(x, axis=-1):
    s = x - np.max(x, axis=axis, keepdims=True)
    return s - np.log(np.sum(np.exp(s), axis=axis, keepdims=True))


REFERENCE = types.SimpleNamespace(**{name: getattr(np, name) for name in dir(np) if not name.startswith("_")})
REFERENCE.sigmoid = lambda x: 1 / (1 + np.exp(-x))
REFERENCE.relu = lambda x: np.maximum(x, np.zeros((), np.asarray(x).dtype))
REFERENCE.logsumexp = _ref_logsumexp
REFERENCE.softmax = _ref_softmax
REFERENCE.log_softmax = _ref_log_softmax
REFERENCE.astype = lambda x, dtype: np.asarray(x).astype(dtype)


def _reduce(losses, reduction):
    return np.mean(losses) if reduction == "mean" else np.sum(losses) if reduction == "sum" else losses


def _ref_cross_entropy(logits, target, reduction="mean"):
    log_p = _ref_log_softmax(logits, axis=-1)
    if target.dtype.kind == "f":
        return _reduce(-np.sum(target * log_p, axis=-1), reduction)
    return _reduce(-np.take_along_axis(log_p, target[..., None], axis=-1)[..., 0], reduction)


def _ref_bce_with_logits(x, t, reduction="mean"):
    return _reduce(np.maximum(x, 0) - x * t + np.log1p(np.exp(-np.abs(x))), reduction)


def _ref_bce(p, t, reduction="mean"):
    return _reduce(-(t * np.log(p) + (1 - t) * np.log(1 - p)), reduction)


_REFERENCE_MG = types.SimpleNamespace(nn=types.SimpleNamespace(functional=types.SimpleNamespace(
    cross_entropy=_ref_cross_entropy, binary_cross_entropy_with_logits=_ref_bce_with_logits,
    binary_cross_entropy=_ref_bce, mse_loss=lambda x, t, reduction="mean": _reduce((x - t) ** 2, reduction),
    l1_loss=lambda x, t, reduction="mean": _reduce(np.abs(x - t), reduction))))


# --- programs -------------------------------------------------------------------------------------

@dataclass
class Value:
    """A value of a program being built: its name in the source, shape, dtype, and a bound on
    the magnitude of its elements."""
    name: str
    shape: tuple[int, ...]
    dtype: np.dtype
    bound: float


@dataclass
class Program:
    """A generated program: its source lines, inputs, outputs and constants; ``seed`` draws
    its arguments."""
    dtype: np.dtype
    inputs: list[Value] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    values: list[Value] = field(default_factory=list)
    constants: dict[str, np.ndarray] = field(default_factory=dict)
    outputs: list[Value] = field(default_factory=list)
    seed: int = 0
    spelling: str = "mnp"  # "np": use NumPy's own functions on traced values where NumPy has them
    ops: list[str] = field(default_factory=list)  # the kind of each line, for the counts
    tuple_out: bool = False  # return a tuple even of one output

    def source(self, name: str = "f") -> str:
        args = ", ".join(v.name for v in self.inputs)
        outs = ", ".join(v.name for v in self.outputs) + ("," if len(self.outputs) == 1 and self.tuple_out else "")
        body = "".join(f"    {line}\n" for line in self.lines)
        return f"def {name}({args}):\n{body}    return {outs}\n"

    def constants_source(self) -> str:
        return "".join(f"{k} = np.array({v.tolist()!r}, np.{v.dtype.name})\n" for k, v in self.constants.items())

    def function(self, namespace: Any = mnp, numpy_module: Any = np, dtype: Any = None) -> Callable:
        """The program as a function, with ``mnp`` bound to ``namespace`` (micrograd.numpy or the
        NumPy reference); ``dtype`` recasts the float constants (the float64 version of a
        float32 program, for central differences)."""
        scope = {"mnp": namespace, "np": numpy_module, "mg": mg if namespace is mnp else _REFERENCE_MG}
        for k, v in self.constants.items():
            scope[k] = v.astype(dtype) if dtype is not None and v.dtype.kind == "f" else v
        exec(compile(self.source(), "<fuzzed program>", "exec"), scope)
        return scope["f"]

    def arguments(self, dtype: Any = None) -> list[np.ndarray]:
        rng = np.random.default_rng(self.seed)
        out = []
        for v in self.inputs:
            x = rng.uniform(-2.0, 2.0, v.shape)
            out.append(np.asarray(x, dtype or v.dtype))
        return out

    def __repr__(self) -> str:  # hypothesis prints falsifying examples with repr: show the code
        return "\n" + self.report()

    def report(self) -> str:
        """The program and its arguments as a script to paste into a test."""
        args = "".join(f"{v.name} = np.array({a.tolist()!r}, np.{a.dtype.name})\n"
                       for v, a in zip(self.inputs, self.arguments()))
        return ("import numpy as np, micrograd as mg, micrograd.numpy as mnp\n"
                f"{self.constants_source()}{self.source()}{args}")


class _Builder:
    """Builds a Program one line at a time, tracking shapes, dtypes and magnitude bounds."""

    def __init__(self, c: Chooser, dtype: np.dtype, max_inputs: int):
        self.c, self.max_inputs = c, max_inputs
        self.p = Program(dtype=dtype, seed=c.integer(0, 2 ** 31 - 1))
        self.p.spelling = "np" if c.chance(25) else "mnp"
        self.counter = itertools.count()

    # values
    def new_input(self, shape) -> Value:
        v = Value(f"x{len(self.p.inputs)}", tuple(shape), self.p.dtype, 2.0)
        self.p.inputs.append(v)
        self.p.values.append(v)
        return v

    def emit(self, op: str, expr: str, shape, dtype, bound: float) -> Value:
        v = Value(f"v{next(self.counter)}", tuple(int(d) for d in shape), np.dtype(dtype), float(bound))
        self.p.lines.append(f"{v.name} = {expr}")
        self.p.values.append(v)
        self.p.ops.append(op)
        return v

    def constant(self, shape, dtype) -> str:
        name = f"k{len(self.p.constants)}"
        rng = np.random.default_rng(self.c.integer(0, 10 ** 6))
        values = rng.uniform(-1.5, 1.5, shape) if np.dtype(dtype).kind == "f" else rng.integers(-1, 2, shape)
        self.p.constants[name] = np.asarray(values, dtype)
        return name

    def fn(self, name: str) -> str:
        """``mnp.name``, or ``np.name`` where the program uses NumPy's spelling and NumPy has it."""
        return f"np.{name}" if self.p.spelling == "np" and name in _NUMPY_HAS else f"mnp.{name}"

    # shapes
    def random_shape(self) -> tuple[int, ...]:
        rank = self.c.integer(0, 3)
        shape = []
        for _ in range(rank):
            shape.append(0 if self.c.chance(3) else self.c.choice([1, 2, 3, 4, 1, 2, 3]))  # empty arrays too
        while int(np.prod(shape)) > MAX_SIZE:
            shape[shape.index(max(shape))] -= 1
        return tuple(shape)

    def compatible_shape(self, shape) -> tuple[int, ...]:
        """A shape that broadcasts with ``shape``: a suffix of it with some axes set to 1, or
        ``shape`` with a new leading axis."""
        if shape and self.c.chance(15) and 2 * int(np.prod(shape)) <= MAX_SIZE:
            return (2,) + tuple(shape)
        keep = self.c.integer(0, len(shape))
        suffix = list(shape[len(shape) - keep:])
        for i in range(len(suffix)):
            if self.c.chance(30):
                suffix[i] = 1
        return tuple(suffix)

    def pick(self, ok: Callable[[Value], bool] = lambda v: True) -> Value | None:
        candidates = [v for v in self.p.values if ok(v)]
        if not candidates:
            return None
        # favour recent values, so programs are chains rather than bushes
        weights = list(range(1, len(candidates) + 1))
        i = self.c.integer(0, sum(weights) - 1)
        for v, w in zip(candidates, weights):
            if i < w:
                return v
            i -= w
        return candidates[-1]

    def partner(self, a: Value) -> Value:
        """A value broadcast-compatible with ``a`` (an existing one, or a new input)."""
        def fits(v):
            try:
                s = np.broadcast_shapes(a.shape, v.shape)
            except ValueError:
                return False
            return int(np.prod(s)) <= MAX_SIZE
        if len(self.p.inputs) < self.max_inputs and self.c.chance(30):
            return self.new_input(self.compatible_shape(a.shape))
        b = self.pick(fits)
        return b if b is not None else a


_NUMPY_HAS = {"exp", "log", "log1p", "expm1", "sqrt", "sin", "cos", "tanh", "abs", "sign", "maximum", "minimum",
              "where", "clip", "sum", "mean", "var", "max", "min", "argmax", "reshape", "transpose", "squeeze",
              "expand_dims", "broadcast_to", "concatenate", "stack", "take", "matmul", "square", "reciprocal"}


def _dt(*values: Value) -> np.dtype:
    return np.result_type(*(v.dtype for v in values))


def _bshape(*values: Value) -> tuple[int, ...]:
    return tuple(np.broadcast_shapes(*(v.shape for v in values)))


def _squash(b: _Builder, a: Value) -> Value:
    return b.emit("tanh", f"{b.fn('tanh')}({a.name})", a.shape, a.dtype, 1.0)


# --- operations: each takes the builder and returns the new value (or None: not applicable) -----

def op_unary(b: _Builder) -> Value:
    a = b.pick()
    f = b.fn
    kind = b.c.choice(["neg", "exp", "log", "log_abs", "log1p", "expm1", "sqrt", "sqrt_abs", "sin", "cos", "tanh",
                       "sigmoid", "abs", "sign", "relu", "square", "cube", "pow_half", "pow_neg", "reciprocal"])
    x, B = a.name, a.bound
    table = {
        "neg": (f"-{x}", B),
        "exp": (f"{f('exp')}({x})", math.exp(B)) if B <= 4 else (f"{f('exp')}({f('tanh')}({x}))", math.e),
        "log": (f"{f('log')}({x} * {x} + 1)", math.log(B * B + 1)),
        "log_abs": (f"{f('log')}({f('abs')}({x}) + 0.5)", math.log(B + 0.5) + 1),
        "log1p": (f"{f('log1p')}({x} * {x})", math.log1p(B * B)),
        "expm1": (f"{f('expm1')}({x})", math.expm1(B)) if B <= 4 else (f"{f('expm1')}({f('sin')}({x}))", 2.0),
        "sqrt": (f"{f('sqrt')}({x} * {x} + 1)", B + 1),
        "sqrt_abs": (f"{f('sqrt')}({f('abs')}({x}) + 0.25)", math.sqrt(B + 0.25)),
        "sin": (f"{f('sin')}({x})", 1.0),
        "cos": (f"{f('cos')}({x})", 1.0),
        "tanh": (f"{f('tanh')}({x})", 1.0),
        "sigmoid": (f"mnp.sigmoid({x})", 1.0),
        "abs": (f"abs({x})" if b.c.chance(50) else f"{f('abs')}({x})", B),
        "sign": (f"{f('sign')}({x}) * {x}", B),
        "relu": (f"mnp.relu({x})", B),
        "square": (f"{x} ** 2" if b.c.chance(50) else f"{f('square')}({x})", B * B),
        "cube": (f"{x} ** 3", B ** 3),
        "pow_half": (f"({x} * {x} + 1) ** 0.5", B + 1),
        "pow_neg": (f"({x} * {x} + 1) ** -1.5", 1.0),
        "reciprocal": (f"{f('reciprocal')}({x} * {x} + 1)" if b.c.chance(50) else f"1 / ({x} * {x} + 1)", 1.0),
    }
    expr, bound = table[kind]
    if bound > BIG:
        return _squash(b, a)
    return b.emit(kind, expr, a.shape, a.dtype, bound)


def op_binary(b: _Builder) -> Value:
    a = b.pick()
    other = b.partner(a)
    x, y = a.name, other.name
    kind = b.c.choice(["add", "sub", "mul", "div", "maximum", "minimum", "pow", "scalar_mul", "scalar_rsub",
                       "scalar_div", "const_add", "const_mul", "int_const"])
    f = b.fn
    shape, dtype = _bshape(a, other), _dt(a, other)
    A, B = a.bound, other.bound
    if kind == "add":
        expr, bound = f"{x} + {y}", A + B
    elif kind == "sub":
        expr, bound = f"{x} - {y}", A + B
    elif kind == "mul":
        expr, bound = f"{x} * {y}", A * B
    elif kind == "div":
        expr, bound = f"{x} / (1 + {y} * {y})", A
    elif kind in ("maximum", "minimum"):
        expr, bound = f"{f(kind)}({x}, {y})", max(A, B)
    elif kind == "pow":
        expr, bound = f"({x} * {x} + 0.5) ** {f('tanh')}({y})", max(A * A + 0.5, 2.0)
    elif kind == "scalar_mul":
        c = b.c.choice([2, -0.5, 3.0, 0.25])
        expr, bound, shape, dtype = (f"{c} * {x}" if b.c.chance(50) else f"{x} * {c}"), A * abs(c), a.shape, a.dtype
    elif kind == "scalar_rsub":
        expr, bound, shape, dtype = f"1.5 - {x}", A + 1.5, a.shape, a.dtype
    elif kind == "scalar_div":
        expr, bound, shape, dtype = f"{x} / 4", A / 4, a.shape, a.dtype
    elif kind == "int_const":  # integers promote: int8 keeps float32, int32 and int64 make float64
        cdtype = np.dtype(b.c.choice(["int8", "int32", "int64"]))
        k = b.constant(b.compatible_shape(a.shape), cdtype)
        shape = np.broadcast_shapes(a.shape, b.p.constants[k].shape)
        dtype = np.result_type(a.dtype, cdtype)
        expr, bound = (f"{x} + {k}", A + 1) if b.c.chance(50) else (f"{k} * {x}", A)
    else:  # a constant array: float64 now and then in a float32 program (promotion)
        cdtype = np.float64 if b.c.chance(15) else a.dtype
        k = b.constant(b.compatible_shape(a.shape), cdtype)
        shape = np.broadcast_shapes(a.shape, b.p.constants[k].shape)
        dtype = np.result_type(a.dtype, cdtype)
        expr, bound = (f"{x} + {k}", A + 1.5) if kind == "const_add" else (f"{k} * {x}", A * 1.5)
    if bound > BIG or int(np.prod(shape)) > MAX_SIZE:
        return _squash(b, a)
    return b.emit(kind, expr, shape, dtype, bound)


def op_where(b: _Builder) -> Value:
    a = b.pick()
    c1, c2, v2 = b.partner(a), b.partner(a), b.partner(a)
    try:
        shape = np.broadcast_shapes(a.shape, c1.shape, c2.shape, v2.shape)
    except ValueError:
        return _squash(b, a)
    if int(np.prod(shape)) > MAX_SIZE:
        return _squash(b, a)
    cmp = b.c.choice([">", "<", ">=", "<="])
    kind = b.c.choice(["where", "where_scalar", "clip"])
    if kind == "clip":
        lo = b.c.choice([-1.0, -0.5, 0.0])
        return b.emit("clip", f"{b.fn('clip')}({a.name}, {lo}, {lo + 1.25})", a.shape, a.dtype, max(abs(lo), lo + 1.25))
    if kind == "where_scalar":
        return b.emit("where", f"{b.fn('where')}({c1.name} {cmp} {c2.name}, {a.name}, 0.5)",
                      np.broadcast_shapes(a.shape, c1.shape, c2.shape), a.dtype, max(a.bound, 0.5))
    return b.emit("where", f"{b.fn('where')}({c1.name} {cmp} {c2.name}, {a.name}, {v2.name})", shape, _dt(a, v2),
                  max(a.bound, v2.bound))


def _axis_arg(b: _Builder, ndim: int, allow_tuple: bool = True):
    """(text, axes as a sorted tuple) for a reduction: None, an int (maybe negative) or a tuple."""
    if ndim == 0 or b.c.chance(20):
        return "None", tuple(range(ndim))
    if allow_tuple and ndim >= 2 and b.c.chance(25):
        axes = tuple(sorted({b.c.integer(0, ndim - 1), b.c.integer(0, ndim - 1)}))
        return repr(axes), axes
    axis = b.c.integer(0, ndim - 1)
    text = str(axis - ndim) if b.c.chance(30) else str(axis)
    return text, (axis,)


def op_reduce(b: _Builder) -> Value:
    a = b.pick()
    kind = b.c.choice(["sum", "mean", "max", "min", "var", "logsumexp", "softmax", "log_softmax", "method_sum"])
    if 0 in a.shape:  # the others have no value (or a NaN) over nothing
        kind = b.c.choice(["sum", "method_sum"])
    if kind in ("softmax", "log_softmax"):
        if not a.shape:
            return op_unary(b)
        axis = b.c.integer(-len(a.shape), len(a.shape) - 1)
        bound = 1.0 if kind == "softmax" else 2 * a.bound + math.log(max(a.shape[axis], 1)) + 1
        return b.emit(kind, f"mnp.{kind}({a.name}, axis={axis})", a.shape, a.dtype, bound)
    text, axes = _axis_arg(b, len(a.shape))
    keep = b.c.chance(30)
    shape = tuple((1 if i in axes else d) for i, d in enumerate(a.shape)) if keep else \
        tuple(d for i, d in enumerate(a.shape) if i not in axes)
    n = int(np.prod([a.shape[i] for i in axes])) if axes else 1
    bounds = {"sum": a.bound * n, "mean": a.bound, "max": a.bound, "min": a.bound, "var": a.bound * a.bound,
              "logsumexp": a.bound + math.log(max(n, 1)) + 1, "method_sum": a.bound * n}
    kw = f", keepdims={keep}" if keep else ""
    if kind == "method_sum":
        expr = f"{a.name}.sum(axis={text}{kw})"
    elif kind == "logsumexp":
        expr = f"mnp.logsumexp({a.name}, axis={text}{kw})"
    else:
        expr = f"{b.fn(kind)}({a.name}, axis={text}{kw})"
    return b.emit(kind, expr, shape, a.dtype, bounds[kind])


def op_shape(b: _Builder) -> Value:
    a = b.pick()
    kind = b.c.choice(["reshape", "transpose", "expand_dims", "squeeze", "broadcast_to", "concatenate", "stack",
                       "T", "ravel"])
    f, x, shape = b.fn, a.name, a.shape
    size = int(np.prod(shape))
    if kind == "reshape" and size == 0:
        new = b.c.choice([(0,), (0, 1), (1, 0, 2)])
        return b.emit(kind, f"{f('reshape')}({x}, {new!r})", new, a.dtype, a.bound)
    if kind == "reshape":
        factors = [d for d in range(1, size + 1) if size % d == 0]
        first = b.c.choice(factors)
        new = b.c.choice([(size,), (first, size // first), (first, 1, size // first), (1, size)])
        text = repr(new) if b.c.chance(70) else repr(new[:-1] + (-1,))
        expr = f"{f('reshape')}({x}, {text})" if b.c.chance(50) else f"{x}.reshape({text})"
        return b.emit(kind, expr, new, a.dtype, a.bound)
    if kind == "ravel":
        return b.emit(kind, f"mnp.ravel({x})", (size,), a.dtype, a.bound)
    if kind in ("transpose", "T"):
        if len(shape) < 2:
            return op_unary(b)
        if kind == "T":
            return b.emit(kind, f"{x}.T", shape[::-1], a.dtype, a.bound)
        perm = list(range(len(shape)))
        for i in range(len(perm) - 1, 0, -1):
            j = b.c.integer(0, i)
            perm[i], perm[j] = perm[j], perm[i]
        return b.emit(kind, f"{f('transpose')}({x}, {tuple(perm)!r})", tuple(shape[p] for p in perm), a.dtype, a.bound)
    if kind == "expand_dims":
        axis = b.c.integer(0, len(shape))
        return b.emit(kind, f"{f('expand_dims')}({x}, {axis})", shape[:axis] + (1,) + shape[axis:], a.dtype, a.bound)
    if kind == "squeeze":
        ones = [i for i, d in enumerate(shape) if d == 1]
        if not ones:
            return b.emit(kind, f"{f('squeeze')}({x})", shape, a.dtype, a.bound)
        if b.c.chance(50):
            return b.emit(kind, f"{f('squeeze')}({x})", tuple(d for d in shape if d != 1), a.dtype, a.bound)
        axis = b.c.choice(ones)
        return b.emit(kind, f"{f('squeeze')}({x}, axis={axis})", shape[:axis] + shape[axis + 1:], a.dtype, a.bound)
    if kind == "broadcast_to":
        new = [d if d != 1 or not b.c.chance(50) else b.c.integer(2, 3) for d in shape]
        if b.c.chance(40):
            new = [b.c.integer(1, 3)] + new
        if int(np.prod(new)) > MAX_SIZE:
            return op_unary(b)
        return b.emit(kind, f"{f('broadcast_to')}({x}, {tuple(new)!r})", tuple(new), a.dtype, a.bound)
    if not shape:
        return op_unary(b)
    axis = b.c.integer(0, len(shape) - 1)
    if kind == "concatenate":
        def fits(v):
            return (len(v.shape) == len(shape) and all(p == q for i, (p, q) in enumerate(zip(v.shape, shape)) if i != axis)
                    and int(np.prod(v.shape)) + size <= MAX_SIZE)
        other = b.pick(fits) or a
        new = shape[:axis] + (shape[axis] + other.shape[axis],) + shape[axis + 1:]
        if int(np.prod(new)) > MAX_SIZE:
            return op_unary(b)
        return b.emit(kind, f"{f('concatenate')}([{x}, {other.name}], axis={axis})", new, _dt(a, other),
                      max(a.bound, other.bound))
    other = b.pick(lambda v: v.shape == shape) or a  # stack
    if 2 * size > MAX_SIZE:
        return op_unary(b)
    axis = b.c.integer(0, len(shape))
    return b.emit(kind, f"{f('stack')}([{x}, {other.name}], axis={axis})", shape[:axis] + (2,) + shape[axis:],
                  _dt(a, other), max(a.bound, other.bound))


def op_index(b: _Builder) -> Value:
    a = b.pick(lambda v: len(v.shape) >= 1 and 0 not in v.shape)
    if a is None:
        return op_unary(b)
    kind = b.c.choice(["slice", "int", "array", "take", "argmax", "mask"])
    shape = a.shape
    if kind == "slice":
        items, out = [], []
        for d in shape[:b.c.integer(1, len(shape))]:
            step = b.c.choice([1, 1, 2, -1])
            if step > 0:
                start = b.c.integer(0, d - 1)
                stop = b.c.integer(start + 1, d)
                items.append(f"{start}:{stop}" + (f":{step}" if step != 1 else ""))
                out.append(len(range(start, stop, step)))
            else:
                items.append("::-1")
                out.append(d)
        if b.c.chance(20):
            items.insert(b.c.integer(0, len(items)), "None")
            out.insert(items.index("None"), 1)
        rest = shape[len([i for i in items if i != "None"]):]
        return b.emit(kind, f"{a.name}[{', '.join(items)}]", tuple(out) + rest, a.dtype, a.bound)
    if kind == "int":
        i = b.c.integer(-shape[0], shape[0] - 1)
        return b.emit(kind, f"{a.name}[{i}]", shape[1:], a.dtype, a.bound)
    if kind == "array":  # repeated indices: the reverse pass adds them up
        n = b.c.integer(1, 4)
        idx = [b.c.integer(-shape[0], shape[0] - 1) for _ in range(n)]
        if int(np.prod((n,) + shape[1:])) > MAX_SIZE:
            return op_unary(b)
        if len(shape) >= 2 and b.c.chance(40):
            idx2 = [b.c.integer(0, shape[1] - 1) for _ in range(n)]
            return b.emit(kind, f"{a.name}[np.array({idx!r}), np.array({idx2!r})]", (n,) + shape[2:], a.dtype, a.bound)
        return b.emit(kind, f"{a.name}[np.array({idx!r})]", (n,) + shape[1:], a.dtype, a.bound)
    if kind == "take":
        n = b.c.integer(1, 4)
        axis = b.c.integer(0, len(shape) - 1)
        idx = [b.c.integer(0, shape[axis] - 1) for _ in range(n)]
        new = shape[:axis] + (n,) + shape[axis + 1:]
        if int(np.prod(new)) > MAX_SIZE:
            return op_unary(b)
        return b.emit(kind, f"{b.fn('take')}({a.name}, np.array({idx!r}), axis={axis})", new, a.dtype, a.bound)
    if kind == "mask":
        mask = [b.c.chance(50) for _ in range(shape[0])]
        if not any(mask):
            mask[0] = True
        return b.emit(kind, f"{a.name}[np.array({mask!r})]", (sum(mask),) + shape[1:], a.dtype, a.bound)
    # a traced integer index: rows of a chosen by the argmax of another value
    y = b.pick(lambda v: len(v.shape) >= 1 and 0 not in v.shape and min(v.shape) <= shape[0]) or a
    axis = next(i for i, d in enumerate(y.shape) if d <= shape[0])
    new = y.shape[:axis] + y.shape[axis + 1:] + shape[1:]
    if int(np.prod(new)) > MAX_SIZE:
        return op_unary(b)
    return b.emit(kind, f"{a.name}[{b.fn('argmax')}({y.name}, axis={axis})]", new, a.dtype, a.bound)


def op_matmul(b: _Builder) -> Value:
    a = b.pick(lambda v: len(v.shape) >= 1)
    if a is None:
        return op_unary(b)
    k = a.shape[-1]

    def fits(v):
        return (len(v.shape) == 1 and v.shape[0] == k) or (len(v.shape) >= 2 and v.shape[-2] == k)
    other = b.pick(fits) if b.c.chance(60) else None
    if other is None and len(b.p.inputs) < b.max_inputs:
        other = b.new_input((k,) if b.c.chance(30) else (k, b.c.integer(1, 3)))
    if other is None:
        return op_unary(b)
    try:
        out = np.matmul(np.zeros(a.shape), np.zeros(other.shape)).shape
    except ValueError:
        return op_unary(b)
    bound = a.bound * other.bound * k
    if int(np.prod(out)) > MAX_SIZE or bound > BIG:
        return _squash(b, a)
    expr = f"{a.name} @ {other.name}" if b.c.chance(60) else f"{b.fn('matmul')}({a.name}, {other.name})"
    return b.emit("matmul", expr, out, _dt(a, other), bound)


def op_cast(b: _Builder) -> Value:
    """A float -> int -> float round trip: piecewise constant, so its derivative is zero."""
    a = b.pick()
    back = a.dtype.name
    return b.emit("astype", f"mnp.astype(mnp.astype({a.name} * 3, np.int32), np.{back}) + {a.name}", a.shape,
                  a.dtype, 4 * a.bound + 1)


def op_loss(b: _Builder) -> Value:
    """The losses of micrograd.nn, with constant targets (reduction "none" keeps the shape)."""
    a = b.pick(lambda v: len(v.shape) >= 1 and 0 not in v.shape)
    if a is None:
        return op_unary(b)
    kind = b.c.choice(["bce_logits", "bce", "cross_entropy", "cross_entropy_probs", "mse", "l1"])
    reduction = b.c.choice(["none", "mean", "sum"])
    shape = a.shape if reduction == "none" else ()
    n = int(np.prod(a.shape))
    rng = np.random.default_rng(b.c.integer(0, 10 ** 6))
    name = f"k{len(b.p.constants)}"
    if kind == "cross_entropy":
        b.p.constants[name] = rng.integers(0, a.shape[-1], a.shape[:-1])
        ce_shape = a.shape[:-1] if reduction == "none" else ()
        return b.emit(kind, f"mg.nn.functional.cross_entropy({a.name}, {name}, reduction={reduction!r})", ce_shape,
                      a.dtype, (2 * a.bound + math.log(a.shape[-1]) + 1) * n)
    if kind == "cross_entropy_probs":
        p = rng.uniform(0, 1, a.shape)
        b.p.constants[name] = np.asarray(p / p.sum(-1, keepdims=True), a.dtype)
        ce_shape = a.shape[:-1] if reduction == "none" else ()
        return b.emit(kind, f"mg.nn.functional.cross_entropy({a.name}, {name}, reduction={reduction!r})", ce_shape,
                      a.dtype, (2 * a.bound + math.log(a.shape[-1]) + 1) * n)
    b.p.constants[name] = np.asarray(rng.uniform(0, 1, a.shape), a.dtype)
    if kind == "bce_logits":
        expr, bound = f"mg.nn.functional.binary_cross_entropy_with_logits({a.name}, {name}, reduction={reduction!r})", \
            (2 * a.bound + 1) * n
    elif kind == "bce":  # of probabilities away from 0 and 1, where its clipping would cut the gradient
        expr, bound = (f"mg.nn.functional.binary_cross_entropy(0.05 + 0.9 * mnp.sigmoid({a.name}), {name}, "
                       f"reduction={reduction!r})"), 4.0 * n
    elif kind == "mse":
        expr, bound = f"mg.nn.functional.mse_loss({a.name}, {name}, reduction={reduction!r})", (a.bound + 1) ** 2 * n
    else:
        expr, bound = f"mg.nn.functional.l1_loss({a.name}, {name}, reduction={reduction!r})", (a.bound + 1) * n
    if bound > BIG:
        return _squash(b, a)
    return b.emit(kind, expr, shape, a.dtype, bound)


OPS = [(op_unary, 30), (op_binary, 30), (op_where, 8), (op_reduce, 12), (op_shape, 12), (op_index, 10),
       (op_matmul, 6), (op_cast, 2), (op_loss, 4)]


def generate(c: Chooser, max_ops: int = 8, max_inputs: int = 3) -> Program:
    """A random program (see the module docstring)."""
    dtype = np.dtype(c.choice(["float32", "float64"]))
    b = _Builder(c, dtype, max_inputs)
    b.new_input(b.random_shape())
    if c.chance(50):
        b.new_input(b.compatible_shape(b.p.inputs[0].shape))
    total = sum(w for _, w in OPS)
    for _ in range(c.integer(1, max_ops)):
        i = c.integer(0, total - 1)
        for op, w in OPS:
            if i < w:
                op(b)
                break
            i -= w
    last = b.p.values[-1]
    if last.name.startswith("x"):  # at least one operation
        last = op_unary(b)
    b.p.outputs = [last]
    if c.chance(20) and len(b.p.values) > 2:  # a second output: results are a tuple
        b.p.outputs.append(b.pick(lambda v: v is not last))
    b.p.tuple_out = len(b.p.outputs) > 1 or c.chance(10)
    return b.p


# --- checking -------------------------------------------------------------------------------------

def _tolerance(dtype: np.dtype) -> tuple[float, float]:
    """(rtol, atol per unit of the values' magnitude bound)."""
    return (2e-4, 2e-5) if np.dtype(dtype) == np.float32 else (1e-9, 1e-11)


def _leaves(tree) -> list:
    return [l.data if isinstance(l, mg.Tensor) else l for l in mg.tree.leaves(tree)]


def _compare(program: Program, what: str, got, expected, scale: float, rtol: float | None = None,
             atol: float | None = None, exact_dtype: bool = True) -> None:
    got_leaves, exp_leaves = _leaves(got), _leaves(expected)
    if len(got_leaves) != len(exp_leaves):
        raise Mismatch(f"{what}: {len(got_leaves)} results, expected {len(exp_leaves)}\n{program.report()}")
    for n, (g, e) in enumerate(zip(got_leaves, exp_leaves)):
        g_arr, e_arr = np.asarray(g), np.asarray(e)
        if g_arr.shape != e_arr.shape or (exact_dtype and g_arr.dtype != e_arr.dtype):
            raise Mismatch(f"{what}, result {n}: {g_arr.dtype}{list(g_arr.shape)}, expected "
                           f"{e_arr.dtype}{list(e_arr.shape)}\n{program.report()}")
        # the least precise dtype among the program's values decides (a float32 value promoted to
        # float64 by a float64 constant carries float32 rounding)
        coarsest = np.float32 if any(v.dtype == np.float32 for v in program.values) else e_arr.dtype
        r, a = _tolerance(coarsest if e_arr.dtype.kind == "f" else e_arr.dtype)
        r, a = rtol if rtol is not None else r, (atol if atol is not None else a) * scale
        g64, e64 = g_arr.astype(np.float64), e_arr.astype(np.float64)
        err = np.abs(g64 - e64) - (a + r * np.abs(e64))
        bad = ~(err <= 0) & ~(np.isnan(g64) & np.isnan(e64))
        if bad.any():
            i = tuple(int(j) for j in np.argwhere(bad)[0])
            raise Mismatch(f"{what}, result {n} at {i}: got {g64[i]!r}, expected {e64[i]!r} (rtol {r:g}, atol "
                           f"{a:g}; {int(bad.sum())} of {bad.size} elements differ)\n{program.report()}")


def _cotangents(program: Program, out, seed: int) -> list:
    rng = np.random.default_rng(seed)
    return [np.asarray(rng.standard_normal(np.shape(o)), np.asarray(o).dtype) for o in mg.tree.leaves(out)]


def _as_out_tree(program: Program, leaves: list):
    return tuple(leaves) if program.tuple_out else leaves[0]


@dataclass
class Counts:
    """What :func:`check` did, summed over a run."""
    programs: int = 0
    jit: int = 0
    vmap: int = 0
    rejected: int = 0  # the NumPy reference itself was not finite: a generator slip, not a finding
    ops: dict = field(default_factory=dict)


COUNTS = Counts()


def check(program: Program, jit: bool = False, vmap: bool = True, numerical: bool = True,
          second_order: bool = False, jit_cache: Any = False) -> bool:
    """Run every check on ``program``; raise :class:`Mismatch` on a disagreement. Returns
    False if the program was rejected (its NumPy reference is not finite).

    ``jit`` compiles one program per call (``mg.jit(strict=True)``, so Numba compiles before it
    returns): the value, the vjp, the jvp and the vmap of the program together."""
    xs = program.arguments()
    scale = 1.0 + max(v.bound for v in program.values)
    reference = program.function(REFERENCE)(*xs)
    if not all(np.all(np.isfinite(r)) for r in mg.tree.leaves(reference)):
        COUNTS.rejected += 1
        return False
    COUNTS.programs += 1
    for op in program.ops:
        COUNTS.ops[op] = COUNTS.ops.get(op, 0) + 1
    f = program.function(mnp)

    # values: the NumPy interpreter, traced, eager
    interpreted = f(*xs)
    _compare(program, "micrograd on arrays vs NumPy", interpreted, reference, scale)
    out, pullback = mg.vjp(f, *xs)
    _compare(program, "vjp's value vs micrograd on arrays", out, interpreted, scale)
    cts = _cotangents(program, out, program.seed + 1)
    ct_tree = _as_out_tree(program, cts)
    grads = list(pullback(ct_tree))
    grad_scale = scale * (1.0 + sum(float(np.abs(c).sum()) for c in cts))
    for g, x in zip(grads, xs):
        if np.asarray(g).dtype != x.dtype or np.shape(g) != x.shape:
            raise Mismatch(f"vjp's gradient is {np.asarray(g).dtype}{list(np.shape(g))} for an input "
                           f"{x.dtype}{list(x.shape)}\n{program.report()}")
    rng = np.random.default_rng(program.seed + 3)
    tangents = tuple(np.asarray(rng.standard_normal(x.shape), x.dtype) for x in xs)
    _, jvp_out = mg.jvp(f, tuple(xs), tangents)

    tensors = [mg.tensor(x, requires_grad=True) for x in xs]
    eager = f(*tensors)
    _compare(program, "eager tensors vs micrograd on arrays", eager, interpreted, scale)
    loss = None
    for e, c in zip(mg.tree.leaves(eager), cts):
        if isinstance(e, mg.Tensor) and e.requires_grad:
            term = (e * c).sum()
            loss = term if loss is None else loss + term
    if loss is not None:
        loss.backward()
    eager_grads = [t.grad.data if t.grad is not None else np.zeros_like(t.data) for t in tensors]
    _compare(program, "eager backward vs vjp", eager_grads, grads, grad_scale)

    if numerical:
        _check_numerical(program, second_order)
    batch = _vmap_case(program, f, xs) if vmap or jit else None
    if vmap:
        COUNTS.vmap += 1
        axes, batched, expected = batch
        got = mg.vmap(f, in_axes=axes)(*batched)
        _compare(program, f"vmap(in_axes={axes}) vs a loop", _leaves(got), expected, scale)
        _check_vmap_of_pullback(program, f, batch, ct_tree, grad_scale)
    if jit:
        COUNTS.jit += 1
        axes, batched, expected = batch

        def everything(xs, tangents, batched):
            return (f(*xs), mg.vjp(f, *xs)[1](ct_tree), mg.jvp(f, tuple(xs), tuple(tangents))[1],
                    mg.vmap(f, in_axes=axes)(*batched))
        jitted = mg.jit(everything, strict=True, cache=jit_cache)
        for call in range(2):  # the first call compiles; the second passes Fortran-ordered arrays
            order = np.asarray if call == 0 else (lambda a: np.array(a, order="F"))  # asfortranarray makes 0-d 1-d
            j_out, j_grads, j_jvp, j_vmap = jitted([order(x) for x in xs], list(tangents), [order(b) for b in batched])
            _compare(program, f"jit vs micrograd on arrays (call {call + 1})", j_out, interpreted, scale)
            _compare(program, "jit's vjp vs vjp", list(j_grads), grads, grad_scale)
            _compare(program, "jit's jvp vs jvp", j_jvp, jvp_out, scale * (1 + sum(float(np.abs(t).sum()) for t in tangents)))
            _compare(program, "jit's vmap vs a loop", _leaves(j_vmap), expected, scale)
    return True


def _check_numerical(program: Program, second_order: bool) -> None:
    """vjp against central differences, and jvp against vjp, on the float64 version."""
    f64 = program.function(mnp, dtype=np.float64)
    xs = program.arguments(np.float64)
    out, pullback = mg.vjp(f64, *xs)
    cts = [c.astype(np.float64) for c in _cotangents(program, out, program.seed + 2)]
    ct_tree = _as_out_tree(program, cts)
    analytic = pullback(ct_tree)
    eps = 1e-6
    numeric = numerical_vjp(f64, xs, ct_tree, eps)
    scale = 1.0 + max(v.bound for v in program.values)
    ct_size = 1.0 + sum(float(np.abs(c).sum()) for c in cts)
    # truncation (eps^2 * curvature) and rounding (1e-16 * scale / eps) errors
    _compare(program, "vjp vs central differences (float64)", list(analytic), numeric, 1.0,
             rtol=1e-4, atol=1e-6 * scale * ct_size, exact_dtype=False)
    rng = np.random.default_rng(program.seed + 3)
    tangents = tuple(rng.standard_normal(x.shape) for x in xs)
    _, jt = mg.jvp(f64, tuple(xs), tangents)
    forward = sum(float(np.sum(np.asarray(t) * c)) for t, c in zip(mg.tree.leaves(jt), cts))
    backward = sum(float(np.sum(np.asarray(g) * t)) for g, t in zip(analytic, tangents))
    if not abs(forward - backward) <= 1e-8 * scale * ct_size * (1 + sum(float(np.abs(t).sum()) for t in tangents)):
        raise Mismatch(f"jvp disagrees with vjp: <ct, J t> = {forward!r} by jvp, <J^T ct, t> = {backward!r} by "
                       f"vjp\n{program.report()}")
    if second_order:  # the pullback is itself a program: its vjp against central differences
        def pulled_back(*args):
            return mg.vjp(f64, *args)[1](ct_tree)
        g_out, g_pullback = mg.vjp(pulled_back, *xs)
        cts2 = tuple(rng.standard_normal(x.shape) for x in xs)
        _compare(program, "second order: vjp of the pullback vs central differences (float64)",
                 list(g_pullback(cts2)), numerical_vjp(pulled_back, xs, cts2, 1e-5), 1.0, rtol=1e-3,
                 atol=1e-5 * scale * scale * ct_size * (1 + sum(float(np.abs(c).sum()) for c in cts2)),
                 exact_dtype=False)


def _vmap_case(program: Program, f, xs):
    """(in_axes, batched arguments, the loop's stacked results): a random subset of the
    arguments (always the first) gets a batch of 2 or 3 at a random axis."""
    rng = np.random.default_rng(program.seed + 4)
    size = int(rng.integers(2, 4))
    axes, batched = [], []
    for i, x in enumerate(xs):
        if i == 0 or rng.random() < 0.5:
            axis = int(rng.integers(0, x.ndim + 1))
            stacked = np.stack([np.asarray(rng.uniform(-2, 2, x.shape), x.dtype) for _ in range(size)], axis=axis)
            axes.append(axis)
            batched.append(stacked)
        else:
            axes.append(None)
            batched.append(x)
    axes = tuple(axes)
    loop = [f(*_slices(batched, axes, k)) for k in range(size)]
    expected = [np.stack([_leaves(l)[n] for l in loop]) for n in range(len(_leaves(loop[0])))]
    return axes, batched, expected


def _slices(batched, axes, k):
    return [np.take(b, k, axis=a) if a is not None else b for b, a in zip(batched, axes)]


def _check_vmap_of_pullback(program: Program, f, batch, ct_tree, grad_scale) -> None:
    axes, batched, _ = batch

    def pulled_back(*args):
        return mg.vjp(f, *args)[1](ct_tree)
    size = next(b.shape[a] for b, a in zip(batched, axes) if a is not None)
    loop = [pulled_back(*_slices(batched, axes, k)) for k in range(size)]
    expected = [np.stack([g[n] for g in loop]) for n in range(len(batched))]
    got = mg.vmap(pulled_back, in_axes=axes)(*batched)
    _compare(program, f"vmap of the pullback (in_axes={axes}) vs a loop", list(got), expected, grad_scale)
