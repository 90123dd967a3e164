"""Lowering: turn an optimized Program into Python source. Each fused group becomes a loop
kernel (Numba source: one loop nest over the group's iteration shape, scalar code from each
primitive's ``lower`` rule); the glue function between kernels calls them and runs the other
primitives (matmul, reshape, gather, ...) with their NumPy ``impl``.
"""
from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ..core.ir import Const, Program, Var
from ..core.trace import Tracer
from ..primitives import shape as sh
from .fusion import REDUCTIONS, Group, Step, fuse

FASTMATH = "{'contract', 'reassoc', 'arcp'}"  # changes results by rounding only: no nnan/ninf/nsz


@dataclass
class Kernel:
    name: str
    source: str  # a whole module: imports, typed constants, the @njit function
    group: Group
    args: list  # atoms passed by the glue, in parameter order
    outputs: list  # Vars returned, in order
    digest: str = ""

    def numpy_version(self) -> Callable:
        """The same computation with NumPy, one array per operation: what runs until the
        compiled kernel is ready, or when it cannot be compiled."""
        group, args, outputs = self.group, self.args, self.outputs

        def run(*values):
            env = {a: v for a, v in zip(args, values)}
            for eqn in group.eqns:
                operands = [a.value if isinstance(a, Const) and a not in env else env[a] for a in eqn.inputs]
                env[eqn.out] = eqn.prim.impl(*operands, **eqn.params)
            return tuple(env[o] for o in outputs)
        return run


def _dtype_code(dtype) -> str:
    return "np." + np.dtype(dtype).name


def _literal(value) -> str:
    if isinstance(value, float) and not np.isfinite(value):
        return "np.nan" if np.isnan(value) else ("np.inf" if value > 0 else "-np.inf")
    return repr(value)


def _is_scalar_const(atom) -> bool:
    return isinstance(atom, Const) and atom.aval.ndim == 0 and not isinstance(atom.value, Tracer)


def kernel_source(name: str, group: Group, outputs: list) -> Kernel:
    shape = group.shape
    idx = [f"i{k}" for k in range(len(shape))]
    code: dict[Any, str] = {}
    constants, params, args = [], [], []
    for a in group.inputs:
        if _is_scalar_const(a):
            code[a] = f"c{len(constants)}"
            constants.append(f"c{len(constants)} = {_dtype_code(a.aval.dtype)}({_literal(np.asarray(a.value).item())})")
        else:
            code[a] = f"a{len(params)}"
            params.append(code[a])
            args.append(a)

    def read(atom) -> str:
        if atom in code and (atom.aval.ndim == 0 or atom in members):
            return code[atom]
        s = atom.aval.shape
        lead = len(shape) - len(s)
        return f"{code[atom]}[{', '.join(idx[lead + j] if d != 1 else '0' for j, d in enumerate(s))}]"

    members: set = set()
    before, body, returns = [], [], []
    for j, eqn in enumerate(group.eqns):
        out = eqn.out
        dt = _dtype_code(eqn.inputs[-1].aval.dtype)
        if eqn.prim in REDUCTIONS:
            axes, kind = eqn.params["axes"], REDUCTIONS[eqn.prim]
            kept = [i for k, i in enumerate(idx) if k not in axes]
            target = f"r{j}[{', '.join(kept)}]" if kept else f"r{j}"
            init = {"sum": "0", "max": "-np.inf", "min": "np.inf"}[kind]
            if np.issubdtype(out.aval.dtype, np.integer) and kind != "sum":
                init = f"np.iinfo({_dtype_code(out.aval.dtype)}).{'min' if kind == 'max' else 'max'}"
            if kept:
                before.append(f"r{j} = np.full({out.aval.shape!r}, {init}, {_dtype_code(out.aval.dtype)})")
            else:
                before.append(f"r{j} = {_dtype_code(out.aval.dtype)}({init})")
            value = read(eqn.inputs[0])
            body.append(f"{target} += {value}" if kind == "sum" else
                        f"{target} = np.{'maximum' if kind == 'max' else 'minimum'}({target}, {value})")
            code[out] = f"r{j}"
            if out in outputs:
                returns.append((out, f"r{j}"))
            continue
        if eqn.prim is sh.broadcast_to:
            expr = read(eqn.inputs[0])
        else:
            operands = [read(a) for a in eqn.inputs]
            rule = eqn.prim.lower
            expr = rule.format(*operands, dt=dt, **eqn.params) if isinstance(rule, str) else rule(dt, *operands, **eqn.params)
        body.append(f"v{j} = {expr}  # {eqn.prim.name}")
        code[out] = f"v{j}"
        members.add(out)
        if out in outputs:
            if shape:
                before.append(f"o{j} = np.empty({shape!r}, {_dtype_code(out.aval.dtype)})")
                body.append(f"o{j}[{', '.join(idx)}] = v{j}")
                returns.append((out, f"o{j}"))
            else:
                returns.append((out, f"v{j}"))
    order = {o: k for k, o in enumerate(outputs)}
    returns.sort(key=lambda r: order[r[0]])

    lines = ["import numpy as np", "from numba import njit", "", *constants, "",
             f"@njit(cache=CACHE, fastmath={FASTMATH}, nogil=True)",
             f"def {name}({', '.join(params)}):"]
    lines += ["    " + b for b in before]
    indent = "    "
    for k, n in enumerate(shape):
        lines.append(f"{indent}for {idx[k]} in range({n}):")
        indent += "    "
    lines += [indent + b for b in body]
    lines.append(f"    return ({''.join(r + ', ' for _, r in returns)})")
    source = "\n".join(lines) + "\n"
    kernel = Kernel(name, source, group, args, [o for o, _ in returns])
    kernel.digest = hashlib.sha256(source.encode()).hexdigest()[:16]
    return kernel


@dataclass
class Lowered:
    """A program cut into kernels and glue: ``glue(*kernels)`` builds the callable."""
    program: Program
    kernels: list[Kernel]
    glue_source: str
    namespace: dict = field(default_factory=dict)

    def as_text(self) -> str:
        parts = ["# glue: runs the steps in order; K[i] is kernel i"] + [self.glue_source]
        for i, k in enumerate(self.kernels):
            parts.append(f"# kernel {i}: {k.name}  ({len(k.group.eqns)} equations fused over shape {k.group.shape})")
            parts.append(k.source.replace("cache=CACHE, ", ""))
        return "\n".join(parts)

    def make_callable(self, kernel_table: list) -> Callable:
        namespace = dict(self.namespace, K=kernel_table, np=np)
        exec(compile(self.glue_source, "<micrograd jit glue>", "exec"), namespace)
        return namespace["program"]


def lower(program: Program) -> Lowered:
    steps = fuse(program)
    names: dict[Any, str] = {}
    namespace: dict[str, Any] = {}
    for k, v in enumerate(program.invars):
        names[v] = f"x{k}"

    def name(atom) -> str:
        if atom not in names:
            if isinstance(atom, Const):
                names[atom] = f"const{len(namespace)}"
                namespace[names[atom]] = atom.value
            else:
                names[atom] = f"v{len(names)}"
        return names[atom]

    lines = [f"def program({', '.join(names[v] for v in program.invars)}):"]
    kernels: list[Kernel] = []
    for step in steps:
        if step.group is not None:
            kernel = kernel_source(f"kernel_{len(kernels)}", step.group, step.outputs)
            call_args = []
            for a in kernel.args:
                arg = name(a)
                call_args.append(f"{_dtype_code(a.aval.dtype)}({arg})" if a.aval.ndim == 0 else arg)
            outs = [name(o) for o in kernel.outputs]
            if outs:
                lines.append(f"    {''.join(o + ', ' for o in outs)}= K[{len(kernels)}]({', '.join(call_args)})")
                for o in kernel.outputs:
                    if o.aval.ndim == 0:
                        lines.append(f"    {name(o)} = {_dtype_code(o.aval.dtype)}({name(o)})")
            kernels.append(kernel)
        else:
            eqn = step.eqn
            fn = f"{eqn.prim.name}_{len(namespace)}"
            namespace[fn] = functools.partial(eqn.prim.impl, **eqn.params) if eqn.params else eqn.prim.impl
            detail = ", ".join(f"{k}={v!r}" for k, v in eqn.params.items())
            lines.append(f"    {name(eqn.out)} = {fn}({', '.join(name(a) for a in eqn.inputs)})"
                         + (f"  # {detail}" if detail else ""))
    outs = [name(a) for a in program.outvars]
    lines.append(f"    return ({''.join(o + ', ' for o in outs)})")
    return Lowered(program, kernels, "\n".join(lines) + "\n", namespace)
