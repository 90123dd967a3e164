"""Loops and branches inside compiled pieces: a ``scan``, ``while`` or ``cond`` whose
sub-programs Numba can run entirely becomes a Python loop (or ``if``) in the piece, calling one
``@njit`` function per sub-program. The loop is never unrolled: a 1,000-step scan compiles to
the same source as a 10-step one.

Sub-programs reach here optimized, with their array constants turned into operands of the
equation (``optimize.prepare_subprograms``), so a body function takes only values of the loop.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.ir import Const, Program, Var


@dataclass
class SubFunction:
    """A sub-program as an ``@njit`` function: its source (constants and definition), its
    parameters (inputs of the sub-program, in order) and its results (the Vars it returns)."""
    name: str
    source: str
    program: Program
    params: list
    results: list

    def call(self, inputs: dict) -> str:
        """The call, given the code of each of the sub-program's inputs."""
        return f"{self.name}({', '.join(inputs[v] for v in self.params)})"

    def outputs(self, result: str, inputs: dict) -> list[str]:
        """The code of each output of the sub-program, from the call's ``result`` tuple."""
        codes = []
        for v in self.program.outvars:
            if isinstance(v, Const):
                codes.append(f"np.{v.aval.dtype.name}({np.asarray(v.value).item()!r})")
            elif v in self.results:
                codes.append(f"{result}[{self.results.index(v)}]")
            else:
                codes.append(inputs[v])
        return codes


CONTROL = ("scan", "while", "cond")


def is_control(eqn) -> bool:
    return eqn.prim.name in CONTROL


def sub_programs(eqn) -> list[Program]:
    if eqn.prim.name == "scan":
        return [eqn.params["body"]]
    if eqn.prim.name == "while":
        return [eqn.params["cond"], eqn.params["body"]]
    return list(eqn.params["branches"])


def multiplies_matrices(eqn) -> bool:
    """Whether a loop or branch multiplies matrices (in its sub-programs, at any depth)."""
    return any(e.prim.name == "matmul" or (is_control(e) and multiplies_matrices(e))
               for p in sub_programs(eqn) for e in p.eqns)


_COMPILED: dict[int, tuple] = {}  # id(program) -> (program, SubFunction or None): programs are traced once


def sub_function(program: Program, name: str) -> SubFunction | None:
    """``program`` as a Numba function, or None if Numba cannot run all of it."""
    from .fusion import fuse
    from .lower import kernel_source, lowerable

    cached = _COMPILED.get(id(program))
    if cached is not None and cached[0] is program and cached[1] is not None and cached[1].name == name:
        return cached[1]
    steps = fuse(program, in_loop=True)
    if not all(lowerable(s, in_loop=True) for s in steps):
        _COMPILED[id(program)] = (program, None)
        return None
    results = list(dict.fromkeys(v for v in program.outvars if isinstance(v, Var) and v not in program.invars))
    kernel = kernel_source(name, steps, {v: (i, 0) for i, v in enumerate(results)}, program.invars,
                           uses_blas=True, in_loop=True)
    function = SubFunction(name, kernel.definition, program, list(kernel.args), list(kernel.outputs))
    _COMPILED[id(program)] = (program, function)
    return function


def lowerable(eqn) -> bool:
    return all(sub_function(p, "f") is not None for p in sub_programs(eqn))


def _contiguous(code: str, aval) -> str:
    """Sub-functions take C-contiguous arrays (their code relies on it: a transpose of an input
    is then F-contiguous, which BLAS takes as it is), and loop-carried values keep one Numba
    type across iterations."""
    return f"contiguous({code})" if aval.ndim else code


def _contiguous_inputs(ins: list, fresh) -> tuple[list[str], list]:
    """Lines making each array operand C-contiguous once, before a loop (a copy only where it is
    not), and the operands under their new names."""
    lines, renamed = [], []
    for code, aval in ins:
        if aval.ndim:
            name = fresh("c")
            lines.append(f"{name} = contiguous({code})")
            code = name
        renamed.append((code, aval))
    return lines, renamed


def statement(eqn, outs: list[str], ins: list, fresh) -> tuple[list[str], list[str]]:
    """``(lines, function sources)`` computing ``eqn``'s results into the names ``outs``;
    ``ins`` holds the operands' code and avals, ``fresh(prefix)`` makes new names."""
    if eqn.prim.name == "scan":
        return _scan(eqn, outs, ins, fresh)
    if eqn.prim.name == "while":
        return _while(eqn, outs, ins, fresh)
    return _cond(eqn, outs, ins, fresh)


def _scan(eqn, outs, ins, fresh):
    p = eqn.params
    body = sub_function(p["body"], fresh("body"))
    nc, nk, length = p["num_consts"], p["num_carry"], p["length"]
    consts, carry, xs = ins[:nc], ins[nc:nc + nk], ins[nc + nk:]
    carry_out, ys = outs[:nk], outs[nk:]
    step = fresh("t")
    invars = p["body"].invars
    const_lines, consts = _contiguous_inputs(consts, fresh)
    x_lines, xs = _contiguous_inputs(xs, fresh)
    lines = const_lines + x_lines
    inputs = {v: code for v, (code, _) in zip(invars[:nc], consts)}
    inputs.update({v: name for v, name in zip(invars[nc:nc + nk], carry_out)})
    inputs.update({v: f"{code}[{step}]" for v, (code, _) in zip(invars[nc + nk:], xs)})
    lines += [f"{name} = {_contiguous(code, aval)}" for name, (code, aval) in zip(carry_out, carry)]
    for name, v in zip(ys, p["body"].outvars[nk:]):
        lines.append(f"{name} = empty({(length,) + v.aval.shape!r}, np.{v.aval.dtype.name})")
    order = f"range({length} - 1, -1, -1)" if p["reverse"] else f"range({length})"
    result = fresh("r")
    lines.append(f"for {step} in {order}:  # scan")
    lines.append(f"    {result} = {body.call(inputs)}")
    codes = body.outputs(result, inputs)
    for name, code in zip(ys, codes[nk:]):  # before the carry changes: an output may be this step's carry
        lines.append(f"    {name}[{step}] = {code}")
    carry_codes = [_contiguous(c, v.aval) for c, v in zip(codes[:nk], p["body"].outvars[:nk])]
    if carry_codes:
        lines.append(f"    {', '.join(carry_out)} = {', '.join(carry_codes)}")
    return lines, [body.source]


def _while(eqn, outs, ins, fresh):
    p = eqn.params
    cond, body = sub_function(p["cond"], fresh("cond")), sub_function(p["body"], fresh("body"))
    nc, nb = p["num_cond_consts"], p["num_body_consts"]
    const_lines, consts = _contiguous_inputs(ins[:nc + nb], fresh)
    cond_consts, body_consts, carry = consts[:nc], consts[nc:], ins[nc + nb:]
    cond_inputs = {v: c for v, (c, _) in zip(p["cond"].invars, cond_consts)}
    cond_inputs.update({v: name for v, name in zip(p["cond"].invars[nc:], outs)})
    body_inputs = {v: c for v, (c, _) in zip(p["body"].invars, body_consts)}
    body_inputs.update({v: name for v, name in zip(p["body"].invars[nb:], outs)})
    lines = const_lines + [f"{name} = {_contiguous(code, aval)}" for name, (code, aval) in zip(outs, carry)]
    pred = fresh("r")
    lines.append(f"while True:  # while_loop")
    lines.append(f"    {pred} = {cond.call(cond_inputs)}")
    lines.append(f"    if not {cond.outputs(pred, cond_inputs)[0]}:")
    lines.append("        break")
    result = fresh("r")
    lines.append(f"    {result} = {body.call(body_inputs)}")
    codes = [_contiguous(c, v.aval) for c, v in zip(body.outputs(result, body_inputs), p["body"].outvars)]
    if outs:
        lines.append(f"    {', '.join(outs)} = {', '.join(codes)}")
    return lines, [cond.source, body.source]


def _cond(eqn, outs, ins, fresh):
    branches = [sub_function(b, fresh("branch")) for b in eqn.params["branches"]]
    (index, _), operands = ins[0], ins[1:]
    lines, operands = _contiguous_inputs(operands, fresh)
    sources = []
    for k, (branch, program) in enumerate(zip(branches, eqn.params["branches"])):
        inputs = {v: code for v, (code, _) in zip(program.invars, operands)}
        keyword = "if" if k == 0 else "elif" if k < len(branches) - 1 else "else"
        test = f" {index} <= 0" if k == 0 else f" {index} == {k}" if k < len(branches) - 1 else ""
        lines.append(f"{keyword}{test}:  # cond" if keyword != "else" else "else:")
        result = fresh("r")
        lines.append(f"    {result} = {branch.call(inputs)}")
        codes = [_contiguous(c, v.aval) for c, v in zip(branch.outputs(result, inputs), program.outvars)]
        if outs:
            lines.append(f"    {', '.join(outs)} = {', '.join(codes)}")
        sources.append(branch.source)
    if len(branches) == 1:
        lines = [line[4:] if line.startswith("    ") else line for line in lines[1:]]
    return lines, sources
