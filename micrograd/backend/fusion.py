"""Fusion: group chains of elementwise operations (and the reductions that end them) into
loop kernels, so that ``relu(x @ W + b)`` and its backward pass do not allocate an array per
operation.

A group has an iteration shape ``S``: its elementwise members all produce arrays of shape ``S``
(their operands may broadcast up to it, which costs nothing in a loop), and its reductions sum,
max or min values of shape ``S`` over some axes. An equation joins the group of an operand it
consumes when the shapes fit; a group closes once anything outside it consumes one of its
values, which keeps every group computable in one pass at the place of its last member.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..core.ir import Const, Eqn, Program, Var
from ..primitives import reductions as red
from ..primitives import shape as sh
from .helpers import VECTORIZED_FLOAT32

REDUCTIONS = {red.reduce_sum: "sum", red.reduce_max: "max", red.reduce_min: "min"}


# Numba computes these with scalar libm calls, NumPy with SIMD loops 5-70x faster per element
# (measured on 262,144 float32s: tanh 2.8 ms against 41 us, exp 0.43 ms against 0.08 ms): from
# these sizes on they run with NumPy, between compiled pieces, which costs a few microseconds.
NUMPY_MIN_SIZE = {"exp": 2048, "log": 2048, "pow": 1024, "logistic": 1024,
                  "tanh": 256, "log1p": 256, "expm1": 256, "sin": 512, "cos": 512,
                  **dict.fromkeys(("sinh", "cosh", "asin", "acos", "atan", "asinh", "acosh", "atanh", "atan2",
                                   "hypot", "cbrt"), 512)}


def is_elementwise(eqn: Eqn, in_loop: bool = False) -> bool:
    """Whether ``eqn`` runs inside a fused loop nest (``in_loop``: inside a compiled loop's body,
    where it cannot run with NumPy whatever its size)."""
    if eqn.prim is sh.broadcast_to:
        return True
    if eqn.prim.lower is None:
        return False
    name = eqn.prim.name
    if name == "pow_scalar" and eqn.params["p"] not in (0, 0.5, 1, 2, 3, 4):
        name = "pow"  # a call of pow, not multiplications
    if name in VECTORIZED_FLOAT32 and eqn.out.aval.dtype == np.float32:
        return True  # vectorized in the loop (backend/vectormath.py): as fast as NumPy, and fused
    return in_loop or eqn.out.aval.size < NUMPY_MIN_SIZE.get(name, 1 << 62)


@dataclass
class Group:
    shape: tuple[int, ...]
    eqns: list[Eqn] = field(default_factory=list)
    reduced: set = field(default_factory=set)  # outputs of member reductions
    members: set = field(default_factory=set)  # every var a member defines
    closed: bool = False

    @property
    def inputs(self) -> list:
        seen, out = set(), []
        for eqn in self.eqns:
            for a in eqn.inputs:
                key = id(a)
                if (isinstance(a, Const) or a not in self.members) and key not in seen:
                    seen.add(key)
                    out.append(a)
        return out


@dataclass
class Step:
    """One step of a lowered program: a fused ``group``, or a single equation run as is."""
    group: Group | None = None
    eqn: Eqn | None = None
    outputs: list = field(default_factory=list)  # for groups: the members used after the group


def fuse(program: Program, in_loop: bool = False) -> list[Step]:
    """Cut ``program`` into steps, in an order that respects every dependency."""
    owner: dict[Var, Group] = {}
    steps: list[Step] = []
    open_groups: list[Group] = []

    def consume_outside(atom):
        group = owner.get(atom) if isinstance(atom, Var) else None
        if group is not None:
            group.closed = True

    for eqn in program.eqns:
        group = None
        if is_elementwise(eqn, in_loop) or eqn.prim in REDUCTIONS:
            shape = eqn.inputs[0].aval.shape if eqn.prim in REDUCTIONS else eqn.out.aval.shape
            joinable = _joinable(eqn, shape, owner)
            group = joinable[0] if joinable else None
            for other in joinable[1:]:  # open groups it reads from become one: they never read each other
                group.eqns += other.eqns
                group.members |= other.members
                group.reduced |= other.reduced
                for v in other.members:
                    owner[v] = group
                steps = [s for s in steps if s.group is not other]
            if group is None:
                group = Group(shape)
                open_groups.append(group)
                steps.append(Step(group=group))
        for a in eqn.inputs:
            if group is None or owner.get(a) is not group:
                consume_outside(a)
        if group is None:
            steps.append(Step(eqn=eqn))
            continue
        group.eqns.append(eqn)
        group.members.add(eqn.out)
        owner[eqn.out] = group
        if eqn.prim in REDUCTIONS:
            group.reduced.add(eqn.out)
    # a group runs where its last member is: move each group step there
    order = {id(e): i for i, e in enumerate(program.eqns)}
    steps.sort(key=lambda s: order[id(s.group.eqns[-1] if s.group else s.eqn)])
    used_later = _uses_outside_groups(program, owner)
    for step in steps:
        if step.group is not None:
            step.outputs = [e.out for e in step.group.eqns if e.out in used_later]
    return steps


def _joinable(eqn: Eqn, shape, owner) -> list[Group]:
    """The open groups of ``eqn``'s operands that it may join (all of them, merged, since an open
    group's values have been read only by its own members)."""
    groups: list[Group] = []
    for a in reversed(eqn.inputs):
        group = owner.get(a) if isinstance(a, Var) else None
        if group is None or group.closed or group.shape != shape or group in groups:
            continue
        if any(owner.get(b) is group and b in group.reduced for b in eqn.inputs if isinstance(b, Var)):
            continue  # a reduction's result is ready only after the loop
        groups.append(group)
    return groups


def _uses_outside_groups(program: Program, owner) -> set:
    used = {a for a in program.outvars if isinstance(a, Var)}
    for eqn in program.eqns:
        group = owner.get(eqn.out)
        for a in eqn.inputs:
            if isinstance(a, Var) and owner.get(a) is not None and owner.get(a) is not group:
                used.add(a)
    return used
