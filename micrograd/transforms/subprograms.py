"""Transforms of whole sub-programs, for the higher-order primitives (loops, branches, custom
rules): each turns a Program into another Program by tracing one of the transforms'
interpreters over it, so that a transform of a loop is a loop of the transformed body.

- :func:`jvp_program`: primals and the tangents that are not zero in; values and the tangents
  that are not zero out.
- :func:`batch_program`: inputs batched (on axis 0) or not; outputs batched on axis 0 where
  asked or where they depend on the batch.
- :func:`vjp_program`: cotangents of the inputs from the inputs and the outputs' cotangents
  (the forward pass is traced too, so it runs again: what ``checkpoint`` and ``cond`` want).
- :func:`residual_programs`: a forward program that also returns what the backward pass needs,
  and the backward program that takes it (what loops want: the forward loop saves each step's
  values for the backward loop).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..core.dtypes import is_float
from ..core.ir import Aval, Const, Eqn, Program, Var
from ..core.trace import trace_avals
from ..primitives.shape import broadcast_to, move_axis
from .grad import active_vars, backward_pass, forward_with_residuals
from .jvp import forward_pass
from .vmap import batch_pass


def _derived(program: Program, key: tuple, make):
    """``make()``, traced once per ``program`` and ``key`` (a sub-program holds no tracers of
    enclosing transforms, so what is derived from it can be reused by every later call)."""
    if key not in program.derived:
        program.derived[key] = make()
    return program.derived[key]


def zeros_like_aval(aval: Aval) -> np.ndarray:
    return np.zeros(aval.shape, aval.dtype)


def differentiable(aval: Aval) -> bool:
    return is_float(aval.dtype)


def _jvp_program(program: Program, nonzero: Sequence[bool], name: str = "jvp",
                instantiate: Sequence[bool] | None = None) -> tuple[Program, list[bool]]:
    avals = program.in_avals
    tangent_avals = [a for a, nz in zip(avals, nonzero) if nz]
    has_tangent: list[bool] = []

    def f(*flat):
        primals, rest = list(flat[:len(avals)]), iter(flat[len(avals):])
        tangents = [next(rest) if nz else None for nz in nonzero]
        outs, out_tangents = forward_pass(program, primals, tangents)
        if instantiate is not None:
            out_tangents = [zeros_like_aval(v.aval) if t is None and keep and differentiable(v.aval) else t
                            for t, keep, v in zip(out_tangents, instantiate, program.outvars)]
        has_tangent[:] = [t is not None for t in out_tangents]
        return list(outs) + [t for t in out_tangents if t is not None]

    return trace_avals(f, avals + tangent_avals, name), has_tangent


def _batch_program(program: Program, batched: Sequence[bool], size: int, name: str = "vmap",
                  force: Sequence[bool] | None = None) -> tuple[Program, list[bool]]:
    avals = [Aval((size,) + a.shape, a.dtype) if b else a for a, b in zip(program.in_avals, batched)]
    out_batched: list[bool] = []

    def f(*flat):
        outs, dims = batch_pass(program, flat, [0 if b else None for b in batched])
        results = []
        for i, (out, d) in enumerate(zip(outs, dims)):
            if d is None and force is not None and force[i]:
                out, d = broadcast_to(out, shape=(size,) + program.outvars[i].aval.shape), 0
            results.append(out if d in (None, 0) else move_axis(out, d, 0))
        out_batched[:] = [d is not None or (force is not None and force[i]) for i, d in enumerate(dims)]
        return results

    return trace_avals(f, avals, name), out_batched


def _vjp_program(program: Program, name: str = "vjp") -> Program:
    avals = program.in_avals
    n = len(avals)

    def f(*flat):
        env: dict = {}
        forward_with_residuals(program, flat[:n], env)
        cts = backward_pass(program, env, list(flat[n:]))
        return [zeros_like_aval(v.aval) if ct is None else ct for ct, v in zip(cts, program.invars)]

    return trace_avals(f, avals + program.out_avals, name)


def _residual_programs(program: Program, saved: Sequence[bool], name: str = "vjp") -> tuple[Program, Program, int]:
    avals = program.in_avals
    layout: list = []  # per residual: a Var of ``program``, or (an equation, the index in its residuals)

    def forward(*flat):
        env: dict = {}
        outs = forward_with_residuals(program, flat, env)
        layout[:] = _residual_layout(program, env, saved)
        return list(outs) + [env[r] if isinstance(r, Var) else env[r[0]][r[1]] for r in layout]

    forward_program = trace_avals(forward, avals, name)
    residual_avals = forward_program.out_avals[len(program.outvars):]
    unsaved = [v for v, s in zip(program.invars, saved) if not s]

    def backward(*flat):
        residuals, rest = flat[:len(layout)], flat[len(layout):]
        env: dict = dict(zip(unsaved, rest[:len(unsaved)]))
        for r, value in zip(layout, residuals):
            if isinstance(r, Var):
                env[r] = value
            else:
                env.setdefault(r[0], []).append(value)
        cts = backward_pass(program, env, list(rest[len(unsaved):]))
        return [zeros_like_aval(v.aval) if ct is None else ct for ct, v in zip(cts, program.invars)]

    backward_program = trace_avals(backward, residual_avals + [v.aval for v in unsaved] + program.out_avals,
                                   name + " (backward)")
    # keep only the residuals the backward pass reads (the rest were candidates: operands of
    # rules that, as it turned out, do not look at them)
    backward_program = _without_dead_code(backward_program)
    read = {a for e in backward_program.eqns for a in e.inputs} | set(backward_program.outvars)
    keep = [k for k, v in enumerate(backward_program.invars[:len(layout)]) if v in read]
    n_out = len(program.outvars)
    forward_program = Program(forward_program.invars, forward_program.eqns,
                              forward_program.outvars[:n_out] + [forward_program.outvars[n_out + k] for k in keep])
    backward_program = Program([backward_program.invars[k] for k in keep] + backward_program.invars[len(layout):],
                               backward_program.eqns, backward_program.outvars)
    return _without_dead_code(forward_program), backward_program, len(keep)


def _without_dead_code(program: Program) -> Program:
    from ..backend.optimize import dead_code_elimination
    return dead_code_elimination(program)


def _residual_layout(program: Program, env: dict, saved: Sequence[bool]) -> list:
    """What the backward pass of ``program`` reads from ``env``: the operands and results of the
    equations a derivative flows through, and the residuals of those with a ``fwd`` rule."""
    active = active_vars(program)
    not_saved = {v for v, s in zip(program.invars, saved) if not s}
    layout, seen = [], set()
    for eqn in program.eqns:
        if not any(isinstance(a, Var) and a in active for a in eqn.inputs):
            continue
        for v in [a for a in eqn.inputs if isinstance(a, Var)] + list(eqn.outs):
            if v not in seen and v not in not_saved:
                seen.add(v)
                layout.append(v)
        if eqn in env:
            layout += [(eqn, k) for k in range(len(env[eqn]))]
    return layout


def hoist_array_constants(program: Program) -> tuple[Program, list]:
    """``program`` with its array constants (and constants holding tracers) as its first inputs,
    and their values: a compiled loop body takes them as arguments."""
    hoisted: dict[int, Var] = {}
    values = []

    def hoist(atom):
        if isinstance(atom, Const) and (atom.aval.ndim or not isinstance(atom.value, (np.ndarray, np.generic))):
            if id(atom) not in hoisted:
                hoisted[id(atom)] = Var(atom.aval)
                values.append(atom)
            return hoisted[id(atom)]
        return atom

    eqns = [Eqn(e.prim, tuple(hoist(a) for a in e.inputs), e.outs, e.params, e.source) for e in program.eqns]
    outvars = [hoist(a) for a in program.outvars]
    return Program(list(hoisted.values()) + program.invars, eqns, outvars), values



def jvp_program(program: Program, nonzero: Sequence[bool], name: str = "jvp",
                instantiate: Sequence[bool] | None = None) -> tuple[Program, list[bool]]:
    """The jvp of ``program``: inputs are its inputs, then the tangents of those ``nonzero``
    marks; outputs are its outputs, then the tangents that are not zero (and those
    ``instantiate`` marks, as zeros if need be). Returns the program and which outputs have a
    tangent."""
    return _derived(program, ("jvp", tuple(nonzero), None if instantiate is None else tuple(instantiate)),
                    lambda: _jvp_program(program, nonzero, name, instantiate))


def batch_program(program: Program, batched: Sequence[bool], size: int, name: str = "vmap",
                  force: Sequence[bool] | None = None) -> tuple[Program, list[bool]]:
    """``program`` on inputs carrying a batch of ``size`` on axis 0 (those ``batched`` marks).
    Outputs that depend on the batch, and those ``force`` marks, carry it on axis 0. Returns
    the program and which outputs are batched."""
    return _derived(program, ("batch", tuple(batched), size, None if force is None else tuple(force)),
                    lambda: _batch_program(program, batched, size, name, force))


def vjp_program(program: Program, name: str = "vjp") -> Program:
    """Inputs: ``program``'s inputs, then a cotangent for each output; outputs: a cotangent for
    each input (zeros where none flows, and for inputs without derivative)."""
    return _derived(program, ("vjp",), lambda: _vjp_program(program, name))


def residual_programs(program: Program, saved: Sequence[bool], name: str = "vjp") -> tuple[Program, Program, int]:
    """Reverse mode in two programs.

    ``forward``: inputs as ``program``'s; outputs its outputs, then the residuals: the values of
    the forward pass the backward pass reads, except the inputs not marked ``saved`` (the caller
    passes those to the backward program itself: a loop's invariants and its per-step inputs).

    ``backward``: inputs are the residuals, then ``program``'s inputs not marked ``saved``, then a
    cotangent for each output; outputs a cotangent for each input (zeros where none flows).

    Returns ``(forward, backward, number of residuals)``.
    """
    return _derived(program, ("residuals", tuple(saved)), lambda: _residual_programs(program, saved, name))
