"""Tracing: running a Python function on Tracers records the primitives it applies into a Program.

``bind(prim, *args)`` is the one entry point of every primitive application. With no tracer among
its arguments it computes with NumPy right away; otherwise the innermost active trace among the
arguments records it. Transforms nest by nesting traces: a function traced inside another
transform's trace records into its own program, whose constants may be the outer tracers it
closes over.
"""
from __future__ import annotations

import threading
from typing import Any, Callable, Sequence

import numpy as np

from ..config import check_finite, config, debug_nans
from . import tree
from .errors import LeakedTracerError, TracerConversionError, user_frame_location, with_location
from .ir import Aval, Const, Eqn, Program, Var, aval_of


class Tracer:
    """A stand-in for an array while a function is traced: it knows its shape and dtype only.
    Operators and NumPy's dispatch protocols are installed by :mod:`micrograd.numpy`."""
    __slots__ = ("aval", "_trace")
    __array_priority__ = 1000  # NumPy defers binary operators to us
    __hash__ = object.__hash__  # == builds an array, so hashing is by identity

    def __init__(self, trace: "Trace", aval: Aval):
        self._trace, self.aval = trace, aval

    shape = property(lambda self: self.aval.shape)
    dtype = property(lambda self: self.aval.dtype)
    ndim = property(lambda self: self.aval.ndim)
    size = property(lambda self: self.aval.size)

    def __len__(self):
        if not self.aval.shape:
            raise TypeError("len() of a 0-d traced array")
        return self.aval.shape[0]

    def _concrete_error(self, what: str, hint: str):
        raise TracerConversionError(with_location(
            f"cannot convert a traced value {self.aval} to {what} inside {self._trace.name}: its value "
            f"is not known while the function is traced. {hint}"))

    def __bool__(self):
        self._concrete_error("a Python bool (an `if`, `while`, `and`/`or` on an array?)",
                             "Use mg.numpy.where(condition, a, b) to choose between values.")

    def __float__(self):
        self._concrete_error("a Python float", "Keep it an array: micrograd.numpy functions accept it.")

    def __int__(self):
        self._concrete_error("a Python int", "Shapes and indices must be known while tracing; "
                             "pass such values as Python ints rather than arrays.")

    __index__ = __int__

    def item(self):
        self._concrete_error("a Python scalar (.item())", "Return the array from the function instead.")

    def __array__(self, dtype=None, copy=None):
        self._concrete_error(
            "a NumPy array", "np.array([...]) of a list holding traced values is not handed to micrograd by NumPy: "
            "use np.stack([...]) or mg.numpy.array([...]). Other NumPy functions micrograd does not know end here "
            "too: micrograd.numpy.__all__ lists those it does.")

    def __repr__(self):
        return f"Tracer<{self.aval}> of {self._trace.name}"


class Trace:
    """Records primitive applications into equations of a Program being built."""

    def __init__(self, level: int, name: str):
        self.level, self.name = level, name
        self.eqns: list[Eqn] = []
        self.active = True
        self._consts: dict[int, Const] = {}
        # A sub-program (a loop body, a branch) keeps the eager tensors it closes over as tensors,
        # so that they become operands of its equation and their gradients flow (see trace_closed).
        self.keep_tensors = False

    def new_input(self, aval: Aval) -> Tracer:
        return IRTracer(self, aval, Var(aval))

    def atom(self, x: Any) -> Var | Const:
        """The program operand for ``x``: its variable if it is ours, else a constant."""
        if type(x) is np.ndarray:  # (the usual constant)
            const = self._consts.get(id(x))
            if const is None:
                const = self._consts[id(x)] = Const(x, Aval(x.shape, x.dtype))
            return const
        if isinstance(x, IRTracer) and x._trace is self:
            return x.ir_var
        if isinstance(x, Tracer) and not x._trace.active:
            raise _leaked(x)
        if isinstance(x, Tracer) and x._trace.level == 0 and not self.keep_tensors:
            x = x.data  # an eager tensor closed over by a traced function is a constant of it
        const = self._consts.get(id(x))
        if const is None:
            if not isinstance(x, (Tracer, np.ndarray)):
                x = np.asarray(x)
            const = self._consts[id(x)] = Const(x, aval_of(x))
        return const

    def process(self, prim, args: Sequence[Any], params: dict) -> Tracer | list[Tracer]:
        atoms, avals = [], []  # (one loop: this runs for every traced operation)
        for a in args:
            atom = a.ir_var if type(a) is IRTracer and a._trace is self else self.atom(a)
            atoms.append(atom)
            avals.append(atom.aval)
        aval = prim.shape(*avals, **params)
        if prim.multiple_results:
            outs = [Var(a) for a in aval]
            self.eqns.append(Eqn(prim, tuple(atoms), outs, params, user_frame_location()))
            return [IRTracer(self, v.aval, v) for v in outs]
        out = Var(aval)
        self.eqns.append(Eqn(prim, tuple(atoms), out, params, user_frame_location()))
        return IRTracer(self, aval, out)

    def to_program(self, inputs: Sequence[Tracer], outputs: Sequence[Any]) -> Program:
        return Program([t.ir_var for t in inputs], self.eqns, [self.atom(o) for o in outputs])


class IRTracer(Tracer):
    __slots__ = ("ir_var",)  # (not ``var``: that is the variance method of arrays)

    def __init__(self, trace: Trace, aval: Aval, var: Var):
        self._trace, self.aval, self.ir_var = trace, aval, var


def _leaked(tracer: Tracer) -> LeakedTracerError:
    return LeakedTracerError(with_location(
        f"a traced value {tracer.aval} of {tracer._trace.name} was used after {tracer._trace.name} "
        "returned (was it stored in a global or an outer variable?). Return it from the function "
        "instead."))


_local = threading.local()


def _stack() -> list[Trace]:
    stack = getattr(_local, "stack", None)
    if stack is None:
        stack = _local.stack = []
    return stack


class new_trace:
    """``with new_trace(name) as trace:`` a trace above the current ones while the block runs
    (a class rather than a generator-based context manager: every transform call enters one)."""
    __slots__ = ("stack", "trace")

    def __init__(self, name: str):
        self.stack = _stack()
        self.trace = Trace(len(self.stack) + 1, name)

    def __enter__(self) -> Trace:
        self.stack.append(self.trace)
        return self.trace

    def __exit__(self, *exc) -> None:
        self.stack.pop()
        self.trace.active = False


def tracing() -> bool:
    """Whether a transform is tracing in this thread (values may be tracers)."""
    return bool(getattr(_local, "stack", None))


def bind(prim, *args: Any, **params: Any) -> Any:
    """Apply a primitive: in the innermost trace among the arguments, or with NumPy if none."""
    top = None
    for a in args:
        if isinstance(a, Tracer) and (top is None or a._trace.level > top.level):
            top = a._trace
    if top is None:
        return apply_impl(prim, *args, **params)
    if not top.active:
        raise _leaked(next(a for a in args if isinstance(a, Tracer) and a._trace is top))
    return top.process(prim, args, params)


def apply_impl(prim, *args: Any, **params: Any) -> Any:
    """:func:`bind` of operands that are all arrays: the primitive's NumPy ``impl``."""
    try:
        out = prim.impl(*args, **params)
    except (ValueError, IndexError, TypeError):
        prim.shape(*map(aval_of, args), **params)  # raises micrograd's clearer error, if it has one
        raise
    if config.debug_nans:
        check_finite(prim.name, args, out, user_frame_location())
    return out


def concrete(x: Any) -> Any:
    """An argument of a transform as an array: eager tensors give their data (transforms are
    functional; their results are arrays), tracers stay."""
    if isinstance(x, Tracer):
        return x.data if x._trace.level == 0 else x
    return x if isinstance(x, np.ndarray) else np.asarray(x)


def trace_to_program(f: Callable, args: Sequence[Any], name: str) -> Program:
    """Trace ``f(*args)`` into a Program over the flattened leaves of ``args``."""
    flat_args, in_tree = tree.flatten(tuple(args))
    return trace_leaves(f, flat_args, in_tree, name)


def trace_leaves(f: Callable, flat_args: Sequence[Any], in_tree, name: str) -> Program:
    """:func:`trace_to_program` for arguments already flattened (``in_tree`` rebuilds them)."""
    with new_trace(name) as trace:
        tracers = [trace.new_input(aval_of(x)) for x in flat_args]
        out = f(*tree.unflatten(in_tree, tracers))
        flat_out, out_tree = tree.flatten(out)
        program = trace.to_program(tracers, flat_out)
    program.in_tree, program.out_tree = in_tree, out_tree
    return program


def trace_avals(f: Callable, in_avals: Sequence[Aval], name: str) -> Program:
    """Trace ``f(*flat_inputs) -> flat_outputs`` on abstract inputs: the program of a flat function."""
    with new_trace(name) as trace:
        tracers = [trace.new_input(a) for a in in_avals]
        program = trace.to_program(tracers, list(f(*tracers)))
    return program


def trace_closed(f: Callable, in_avals: Sequence[Aval], name: str) -> tuple[Program, list]:
    """Trace ``f(*flat_inputs) -> flat_outputs`` as a sub-program of a higher-order primitive:
    ``(program, consts)``, where the values ``f`` closes over that belong to an enclosing
    transform (its tracers) or are eager tensors come first among the program's inputs, and
    ``consts`` are those values, to pass as the equation's first operands (closure conversion:
    the enclosing transforms then see them, and differentiate through them)."""
    with new_trace(name) as trace:
        trace.keep_tensors = True
        tracers = [trace.new_input(a) for a in in_avals]
        program = trace.to_program(tracers, list(f(*tracers)))
    hoisted: dict[int, Var] = {}
    consts = []

    def hoist(atom):
        if isinstance(atom, Const) and isinstance(atom.value, Tracer):
            if id(atom) not in hoisted:
                hoisted[id(atom)] = Var(atom.aval)
                consts.append(atom.value)
            return hoisted[id(atom)]
        return atom

    eqns = [Eqn(e.prim, tuple(hoist(a) for a in e.inputs), e.outs, e.params, e.source) for e in program.eqns]
    outvars = [hoist(a) for a in program.outvars]
    return Program(list(hoisted.values()) + program.invars, eqns, outvars), consts


def eval_program(program: Program, args: Sequence[Any], env: dict | None = None) -> list[Any]:
    """Evaluate ``program`` on ``args`` (its flattened inputs) by binding each equation in the
    current context: NumPy at top level, recorded into the enclosing trace inside a transform.
    When ``env`` is given it receives every variable's value (reverse mode reads it)."""
    env = {} if env is None else env
    for var, value in zip(program.invars, args):
        env[var] = value

    def read(atom):
        return atom.value if isinstance(atom, Const) else env[atom]

    for eqn in program.eqns:
        operands = [read(a) for a in eqn.inputs]
        if config.debug_nans:  # blame the line that built the equation, not the interpreter
            with debug_nans(False):
                out = bind(eqn.prim, *operands, **eqn.params)
            check_finite(eqn.prim.name, operands, out, eqn.source)
        else:
            out = bind(eqn.prim, *operands, **eqn.params)
        if eqn.prim.multiple_results:
            env.update(zip(eqn.outs, out))
        else:
            env[eqn.out] = out
    return [read(a) for a in program.outvars]
