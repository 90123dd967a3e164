"""The intermediate representation: a program in SSA form.

A :class:`Program` has input variables, a list of equations (each applies one primitive to
variables and constants and defines one new variable) and outputs. It is plain data: transforms
read it and build new programs; ``print(program)`` shows it one equation per line, like a jaxpr::

    { lambda ; a:f64[3]. let
        b:f64[3] = tanh a
        c:f64[] = reduce_sum[axes=(0,)] b
      in (c) }
"""
from __future__ import annotations

import itertools
import math
from typing import Any, Iterable, Sequence

import numpy as np

from .dtypes import short_name


class Aval:
    """An abstract value: what is known about an array while tracing (shape and dtype)."""
    __slots__ = ("shape", "dtype")

    def __init__(self, shape: tuple[int, ...], dtype):
        self.shape = shape if type(shape) is tuple else tuple(shape)
        self.dtype = dtype if isinstance(dtype, np.dtype) else np.dtype(dtype)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    def __eq__(self, other):
        return isinstance(other, Aval) and self.shape == other.shape and self.dtype == other.dtype

    def __hash__(self):
        return hash((self.shape, self.dtype))

    def __repr__(self):
        return f"{short_name(self.dtype)}[{','.join(map(str, self.shape))}]"


def aval_of(x: Any) -> Aval:
    if type(x) is np.ndarray:
        return Aval(x.shape, x.dtype)
    if isinstance(x, Aval):
        return x
    aval = getattr(x, "aval", None)
    if isinstance(aval, Aval):
        return aval
    x = np.asarray(x)
    return Aval(x.shape, x.dtype)


class Var:
    """A variable of the program, defined once (by an input or an equation)."""
    __slots__ = ("aval",)

    def __init__(self, aval: Aval):
        self.aval = aval


class Const:
    """A constant operand. Its value is an array, or a tracer of an enclosing transform when the
    traced function closes over one (it is then a constant of this program, not of the outer one)."""
    __slots__ = ("value", "aval")

    def __init__(self, value: Any, aval: Aval):
        self.value, self.aval = value, aval


Atom = "Var | Const"


class Eqn:
    """``out = prim[params](*inputs)``; ``source`` is the user's line that created it. A primitive
    with several results (``prim.multiple_results``: a decomposition, a loop) defines one Var per
    result in ``outs``; ``out`` is the result of a single-result primitive."""
    __slots__ = ("prim", "inputs", "outs", "out", "params", "source")

    def __init__(self, prim, inputs: tuple, outs: "Var | Sequence[Var]", params: dict, source: str | None = None):
        self.prim, self.inputs, self.params, self.source = prim, inputs, params, source
        self.outs = tuple(outs) if isinstance(outs, (tuple, list)) else (outs,)
        self.out = self.outs[0] if self.outs else None  # (a field, not a property: interpreters read it often)


class Program:
    """An SSA program: ``invars`` in, ``eqns`` in order, ``outvars`` out (Vars or Consts).
    ``derived`` keeps programs derived from this one (a loop body's jvp, its backward pass), so
    that each is traced once."""
    __slots__ = ("invars", "eqns", "outvars", "in_tree", "out_tree", "derived")

    def __init__(self, invars: list[Var], eqns: list[Eqn], outvars: list, in_tree=None, out_tree=None):
        self.invars, self.eqns, self.outvars = invars, eqns, outvars
        self.in_tree, self.out_tree = in_tree, out_tree
        self.derived: dict = {}

    @property
    def in_avals(self) -> list[Aval]:
        return [v.aval for v in self.invars]

    @property
    def out_avals(self) -> list[Aval]:
        return [v.aval for v in self.outvars]

    def __str__(self):
        return format_program(self)

    __repr__ = __str__


def _names() -> Iterable[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    for n in itertools.count(1):
        for chars in itertools.product(letters, repeat=n):
            yield "".join(chars)


def format_param(value: Any) -> str:
    if isinstance(value, np.dtype) or isinstance(value, type):
        return short_name(value)
    if hasattr(value, "ir_text"):
        return value.ir_text()
    return repr(value)


def format_program(program: Program) -> str:
    names: dict[int, str] = {}
    fresh = _names()
    consts: list[Const] = []

    def name(atom) -> str:
        if isinstance(atom, Const):
            if atom.aval.ndim == 0 and isinstance(atom.value, (np.ndarray, np.generic, int, float, bool)):
                return f"{np.asarray(atom.value).item()!r}:{short_name(atom.aval.dtype)}"
            if id(atom) not in names:
                names[id(atom)] = f"k{len(consts)}"
                consts.append(atom)
            return names[id(atom)]
        if id(atom) not in names:
            names[id(atom)] = next(fresh)
        return names[id(atom)]

    def typed(atom) -> str:
        return f"{name(atom)}:{atom.aval!r}"

    ins = " ".join(typed(v) for v in program.invars)
    lines = []
    for eqn in program.eqns:
        simple = {k: v for k, v in eqn.params.items() if not _is_program(v)}
        nested = {k: v for k, v in eqn.params.items() if _is_program(v)}
        params = "[" + " ".join(f"{k}={format_param(v)}" for k, v in simple.items()) + "]" if simple else ""
        args = " ".join(name(a) for a in eqn.inputs)
        lines.append(f"    {' '.join(typed(v) for v in eqn.outs)} = {eqn.prim.name}{params} {args}")
        for key, value in nested.items():  # sub-programs, as a jaxpr prints its sub-jaxprs
            for k, program_value in enumerate(value if isinstance(value, tuple) else (value,)):
                label = f"{key}[{k}]" if isinstance(value, tuple) else key
                text = format_program(program_value).replace("\n", "\n" + " " * 8)
                lines.append(f"      {label}={text}")
    outs = " ".join(name(a) for a in program.outvars)
    header = "".join(typed(c) + " " for c in consts)
    return "\n".join([f"{{ lambda {header}; {ins}. let", *lines, f"  in ({outs}) }}"])


def _is_program(value) -> bool:
    return isinstance(value, Program) or (isinstance(value, tuple) and bool(value)
                                          and all(isinstance(v, Program) for v in value))
