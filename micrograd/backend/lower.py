"""Lowering: turn an optimized Program into Python source. Consecutive steps Numba can run
become one *piece* (a kernel: an @njit function with a loop nest per fused group, scalar code
from each primitive's ``lower`` rule, and statements for matmul, reshape, indexing, ...); a
glue function calls the pieces and runs what is left between them with NumPy.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from ..core.ir import Const, Program, Var
from ..core.trace import Tracer
from ..primitives import shape as sh
from . import control
from .fusion import REDUCTIONS, Group, Step, fuse
from .helpers import HELPERS
from .statements import statement

FASTMATH = "{'contract', 'reassoc', 'arcp'}"  # changes results by rounding only: no nnan/ninf/nsz
# (and error_model='numpy': x / 0 is inf or nan, as in NumPy, rather than an exception, which also
# lets loops with a division vectorize)


@dataclass
class Kernel:
    """A compiled piece: consecutive steps (fused groups and statements) in one Numba function."""
    name: str
    source: str  # a whole module: imports, typed constants, the @njit function(s)
    steps: list[Step]
    args: list  # atoms passed by the glue, in parameter order
    outputs: list  # Vars returned, in order
    definition: str = ""  # the source without the imports (a loop body inside another piece)
    blas_in_loops: bool = False  # its loops multiply matrices: run it with one BLAS thread (blas.py)

    @property
    def eqns(self) -> list:
        return [e for step in self.steps for e in (step.group.eqns if step.group else [step.eqn])]

    def numpy_version(self) -> Callable:
        """The same computation with NumPy, one array per operation: what runs until the
        compiled kernel is ready, or when it cannot be compiled."""
        eqns, args, outputs = self.eqns, self.args, self.outputs

        def run(*values):
            env = dict(zip(args, values))
            for eqn in eqns:
                operands = [a.value if isinstance(a, Const) and a not in env else env[a] for a in eqn.inputs]
                if eqn.prim.multiple_results:
                    env.update(zip(eqn.outs, eqn.prim.impl(*operands, **eqn.params)))
                else:
                    env[eqn.out] = eqn.prim.impl(*operands, **eqn.params)
            return tuple(env[o] for o in outputs)
        return run


def _param_text(value) -> str:
    """A parameter as a one-line comment of the glue (sub-programs by size)."""
    if isinstance(value, Program):
        return f"<a program of {len(value.eqns)} equations>"
    if isinstance(value, tuple) and value and all(isinstance(v, Program) for v in value):
        return f"<{len(value)} programs>"
    return repr(value)


def _dtype_code(dtype) -> str:
    return "np." + np.dtype(dtype).name


def _literal(value) -> str:
    if isinstance(value, float) and not np.isfinite(value):
        return "np.nan" if np.isnan(value) else ("np.inf" if value > 0 else "-np.inf")
    return repr(value)


def _is_scalar_const(atom) -> bool:
    return isinstance(atom, Const) and atom.aval.ndim == 0 and not isinstance(atom.value, Tracer)


_INIT = {"sum": "0", "max": "-np.inf", "min": "np.inf"}


def lowerable(step: Step, in_loop: bool = False) -> bool:
    """Whether a step can run inside a compiled piece (``in_loop``: inside a compiled loop's
    body, where nothing can run with NumPy instead)."""
    if step.group is not None:
        return True
    if control.is_control(step.eqn):
        return control.lowerable(step.eqn)
    names = ["_"] * len(step.eqn.inputs)
    return statement(step.eqn, "_", list(zip(names, [a.aval for a in step.eqn.inputs])), ["A"] * len(names),
                     in_loop) is not None


PARALLEL_MIN_SIZE = 1 << 17  # elements of a loop nest worth splitting across cores


def _splits_across_cores(group: Group) -> bool:
    """Large nests run their outer loop across cores, unless a reduction sums over that axis
    (its iterations would then write the same places)."""
    if not group.shape or int(np.prod(group.shape)) < PARALLEL_MIN_SIZE or group.shape[0] < 2:
        return False
    return not any(e.prim in REDUCTIONS and 0 in e.params["axes"] for e in group.eqns)


def _donated_buffer(out: Var, eqn, group: Group, donated: dict, reused: set):
    """A donated input that ``out`` may be written into: same shape and dtype, read only by
    ``group`` (so at the index being written), and by no member after ``eqn`` (each iteration
    reads it before this member writes)."""
    later = group.eqns[group.eqns.index(eqn) + 1:]
    for var, readers in donated.items():
        if (var not in reused and readers and var.aval == out.aval and all(r in group.eqns for r in readers)
                and not any(var in e.inputs for e in later)):
            reused.add(var)
            return var
    return None


def _layout_of(eqn, layout) -> str:
    """"C" or "F" where a statement's result is known to be contiguous that way, else "A"."""
    if eqn.prim is sh.transpose:
        return "F" if eqn.params["perm"] == (1, 0) and layout.get(eqn.inputs[0]) == "C" else "A"
    if eqn.prim is sh.broadcast_to or (eqn.prim.name == "gather" and not eqn.params["index"].num_arrays):
        return "A"  # views
    return "C"


def kernel_source(name: str, steps: list[Step], returned: set, program_inputs: Sequence = (),
                  uses_blas: bool = True, donated: dict | None = None, in_loop: bool = False) -> Kernel:
    """One Numba function running ``steps`` in order: a loop nest per fused group, statements
    for the rest. Values made and used inside stay inside; values in ``returned`` are returned.
    ``program_inputs`` arrive C-contiguous (jit makes them so). Loops run across cores only in
    programs without matrix products (``uses_blas``): BLAS keeps its threads spinning between
    calls, and a second thread pool fighting it for two cores costs far more than it gains.
    ``donated`` maps inputs whose buffers may be overwritten to the equations that read them: a
    loop nest may write a result into such a buffer when it is the only reader and reads it at
    the same index it writes, before writing. ``in_loop``: the function is a loop body or branch
    called from another piece (its constants are named after it)."""
    eqns = [e for s in steps for e in (s.group.eqns if s.group else [s.eqn])]
    produced = {v for e in eqns for v in e.outs}
    const_prefix = f"{name}_c" if in_loop else "c"
    used_across = {a for s in steps for e in (s.group.eqns if s.group else [s.eqn]) for a in e.inputs
                   if isinstance(a, Var) and (s.group is None or a not in s.group.members)}
    storage: dict[Any, str] = {}  # atom -> the variable holding it (an array; a scalar when 0-d)
    layout: dict[Any, str] = {}  # "C" for arrays known to be C-contiguous
    constants, operands = [], []
    for e in eqns:
        for a in e.inputs:
            if a in storage or (isinstance(a, Var) and a in produced):
                continue
            if _is_scalar_const(a):
                storage[a] = f"{const_prefix}{len(constants)}"
                constants.append(f"{storage[a]} = {_dtype_code(a.aval.dtype)}({_literal(np.asarray(a.value).item())})")
            else:
                storage[a] = None
                operands.append(a)
    # the program's own inputs first, in their order: a piece that is the whole program is then
    # called with the caller's arguments as they are
    order = {v: i for i, v in enumerate(program_inputs)}
    args = sorted(operands, key=lambda a: order.get(a, len(order)))
    params = []
    for a in args:
        storage[a] = f"a{len(params)}"
        params.append(storage[a])
        if a in order:  # (a loop body's inputs are made C-contiguous before its loop: see control.py)
            layout[a] = "C"

    lines, counter, parallel, functions = [], [0], False, []
    reused: set = set()  # donated inputs already holding a result

    def fresh(prefix: str) -> str:
        counter[0] += 1
        return f"{prefix}{counter[0]}"

    for step in steps:
        if step.eqn is not None and control.is_control(step.eqn):  # a loop or a branch: calls its sub-programs
            eqn = step.eqn
            outs = [fresh("s") for _ in eqn.outs]
            code, sources = control.statement(eqn, outs, [(storage[a], a.aval) for a in eqn.inputs],
                                              lambda prefix: f"{name}_{fresh(prefix)}")
            lines += code
            functions += sources
            for v, out in zip(eqn.outs, outs):
                storage[v], layout[v] = out, "C"
            continue
        if step.eqn is not None:
            eqn = step.eqn
            out = fresh("s")
            ins = [(storage[a], a.aval) for a in eqn.inputs]
            code = statement(eqn, out, ins, [layout.get(a, "A") for a in eqn.inputs], in_loop)
            lines += [f"{code[0]}  # {eqn.prim.name}"] + code[1:]
            storage[eqn.out] = out
            layout[eqn.out] = _layout_of(eqn, layout)
            continue
        group = step.group
        shape = group.shape
        idx = [f"i{k}" for k in range(len(shape))]
        local: dict[Any, str] = {}  # members of this nest: their value in the current iteration

        def read(atom) -> str:
            """The atom's value in this iteration: an array element is loaded once, into a variable
            (a load inside a conditional expression would be a branch, which LLVM cannot turn
            into a vector select: 5x slower on random masks)."""
            if atom in local:
                return local[atom]
            if atom.aval.ndim == 0:
                return storage[atom]
            lead = len(shape) - atom.aval.ndim
            index = ", ".join(idx[lead + j] if d != 1 else "0" for j, d in enumerate(atom.aval.shape))
            local[atom] = fresh("l")
            body.append(f"{local[atom]} = {storage[atom]}[{index}]")
            return local[atom]

        before, body = [], []
        entering = [[] for _ in shape]  # lines before the loop over each axis, and after it
        leaving = [[] for _ in shape]
        for eqn in group.eqns:
            out = eqn.out
            if eqn.prim in REDUCTIONS:
                axes, kind = eqn.params["axes"], REDUCTIONS[eqn.prim]
                kept = [i for k, i in enumerate(idx) if k not in axes]
                r = fresh("r")
                init, dtype = _INIT[kind], _dtype_code(out.aval.dtype)
                if np.issubdtype(out.aval.dtype, np.integer) and kind != "sum":
                    init = repr(int(getattr(np.iinfo(out.aval.dtype), "min" if kind == "max" else "max")))
                before.append(f"{r} = full({out.aval.shape!r}, {init}, {dtype})" if kept else f"{r} = {dtype}({init})")
                combine = (lambda t, v: f"{t} += {v}") if kind == "sum" else (
                    lambda t, v: f"{t} = np.{'maximum' if kind == 'max' else 'minimum'}({t}, {v})")
                target = f"{r}[{', '.join(kept)}]" if kept else r
                inner = len(shape)  # the innermost axes reduced: a local accumulator across them, so
                while inner > 0 and inner - 1 in axes:  # that the loop carries no store (and vectorizes)
                    inner -= 1
                if kept and inner < len(shape):
                    acc = fresh("acc")
                    entering[inner].append(f"{acc} = {dtype}({init})")
                    leaving[inner].append(combine(target, acc))
                    target = acc
                body.append(combine(target, read(eqn.inputs[0])))
                storage[out], layout[out] = r, "C"
                continue
            if eqn.prim is sh.broadcast_to:
                expr = read(eqn.inputs[0])
            else:
                operands = [read(a) for a in eqn.inputs]
                rule, dt = eqn.prim.lower, _dtype_code(eqn.inputs[-1].aval.dtype)
                expr = rule.format(*operands, dt=dt, **eqn.params) if isinstance(rule, str) else rule(dt, *operands, **eqn.params)
            v = fresh("v")
            body.append(f"{v} = {expr}  # {eqn.prim.name}")
            local[out] = v
            if out in returned or out in used_across:
                if shape:
                    buffer = _donated_buffer(out, eqn, group, donated or {}, reused)
                    o = fresh("o")
                    if buffer is None:
                        before.append(f"{o} = empty({shape!r}, {_dtype_code(out.aval.dtype)})")
                    else:  # the result overwrites a donated input, element by element after reading it
                        before.append(f"{o} = {storage[buffer]}")
                    body.append(f"{o}[{', '.join(idx)}] = {v}")
                    storage[out], layout[out] = o, "C"
                else:
                    storage[out] = v
        lines += before
        indent = ""
        split = _splits_across_cores(group) and not uses_blas
        parallel |= split
        for k, n in enumerate(shape):
            lines += [indent + line for line in entering[k]]
            lines.append(f"{indent}for {idx[k]} in {'prange' if split and k == 0 else 'range'}({n}):")
            indent += "    "
        lines += [indent + b for b in body]
        for k in reversed(range(len(shape))):
            indent = indent[4:]
            lines += [indent + line for line in leaving[k]]
    outputs = sorted((v for e in eqns for v in e.outs if v in returned), key=lambda v: returned[v])
    body = "\n".join("    " + line for line in lines)
    definition = "\n".join([*functions, *constants, "",
                             f"@njit(cache=CACHE, fastmath={FASTMATH}, error_model='numpy', nogil=True"
                             f"{', parallel=True' if parallel else ''})",
                             f"def {name}({', '.join(params)}):", body,
                             f"    return ({''.join(storage[o] + ', ' for o in outputs)})"]) + "\n"
    imports = ["import numpy as np", "from numba import njit, prange"]
    for module, functions in HELPERS.items():
        used = sorted(f for f in functions if re.search(rf"\b{f}\(", definition))
        if used:
            imports.append(f"from {module} import {', '.join(used)}")
    source = "\n".join(imports + ["", definition])
    blas_in_loops = any(s.eqn is not None and control.is_control(s.eqn) and control.multiplies_matrices(s.eqn)
                        for s in steps)
    return Kernel(name, source, steps, args, outputs, definition, blas_in_loops)


@dataclass
class Lowered:
    """A program cut into kernels and glue: ``glue(*kernels)`` builds the callable."""
    program: Program
    kernels: list[Kernel]
    glue_source: str
    namespace: dict = field(default_factory=dict)
    direct: bool = False  # one piece taking the program's inputs and returning its outputs

    def as_text(self) -> str:
        parts = ["# glue: runs the steps in order; K[i] is kernel i"] + [self.glue_source]
        for i, k in enumerate(self.kernels):
            nests = sum(1 for s in k.steps if s.group)
            parts.append(f"# kernel {i}: {len(k.eqns)} equations, {nests} loop nest(s) and {len(k.steps) - nests} statement(s)")
            parts.append(k.source.replace("cache=CACHE, ", ""))
        return "\n".join(parts)

    def make_callable(self, kernel_table: list) -> Callable:
        namespace = dict(self.namespace, K=kernel_table, np=np)
        exec(compile(self.glue_source, "<micrograd jit glue>", "exec"), namespace)
        return namespace["program"]


# Numba's compile time grows faster than a function's size, and separate pieces compile in
# parallel (compile.py): a piece holds at most this many loop nests. (Each extra piece costs a
# call from the glue, about a microsecond.)
MAX_NESTS_PER_PIECE = 4


def lower(program: Program, donated: Sequence[Var] = ()) -> Lowered:
    """Cut ``program`` into compiled pieces and glue: consecutive steps that Numba can run
    (fused groups, and matmul, reshape, indexing, ... as statements) form one piece; a piece
    needs at least one fused group to be worth compiling; everything else runs with NumPy."""
    steps = fuse(program)
    runs: list[list[Step]] = []
    can_compile = {id(step): lowerable(step) for step in steps}
    worth_compiling = {id(s) for s in steps if s.group is not None or (s.eqn is not None and control.is_control(s.eqn))}
    for step in steps:
        if (can_compile[id(step)] and runs and can_compile[id(runs[-1][-1])]
                and (step.group is None or sum(1 for s in runs[-1] if s.group) < MAX_NESTS_PER_PIECE)):
            runs[-1].append(step)
        else:
            runs.append([step])
    glue_runs = []
    for run in runs:  # a run without a fused group or a loop stays NumPy: compiling it gains nothing
        if any(id(s) in worth_compiling for s in run) and all(can_compile[id(s)] for s in run):
            glue_runs.append(run)
        else:
            glue_runs += [[s] for s in run]
    readers = {v: [e for e in program.eqns if v in e.inputs] for v in donated}
    used_by_run: dict[Any, set[int]] = {}
    for r, run in enumerate(glue_runs):
        for step in run:
            for eqn in (step.group.eqns if step.group else [step.eqn]):
                for a in eqn.inputs:
                    used_by_run.setdefault(a, set()).add(r)
    program_outputs = set(a for a in program.outvars if isinstance(a, Var))

    names: dict[Any, str] = {v: f"x{k}" for k, v in enumerate(program.invars)}
    namespace: dict[str, Any] = {}

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
    for r, run in enumerate(glue_runs):
        if len(run) == 1 and run[0].group is None:  # an operation NumPy runs between pieces
            eqn = run[0].eqn
            fn = f"{eqn.prim.name}_{len(namespace)}"
            namespace[fn] = functools.partial(eqn.prim.impl, **eqn.params) if eqn.params else eqn.prim.impl
            detail = ", ".join(f"{k}={_param_text(v)}" for k, v in eqn.params.items())
            lines.append(f"    {''.join(name(v) + ', ' for v in eqn.outs) if eqn.prim.multiple_results else name(eqn.out)}"
                         f" = {fn}({', '.join(name(a) for a in eqn.inputs)})" + (f"  # {detail}" if detail else ""))
            continue
        returned = [v for s in run for e in (s.group.eqns if s.group else [s.eqn]) for v in e.outs
                    if v in program_outputs or used_by_run.get(v, set()) - {r}]
        # returned in the program's output order where they are outputs: see Lowered.direct
        place = {v: i for i, v in enumerate(program.outvars) if isinstance(v, Var)}
        returned = {v: (place.get(v, len(place)), k) for k, v in enumerate(returned)}
        kernel = kernel_source(f"kernel_{len(kernels)}", run, returned, program.invars,
                               uses_blas=any(e.prim.name == "matmul" for e in program.eqns),
                               donated={v: readers[v] for v in donated if v not in program.outvars})
        call_args = [f"{_dtype_code(a.aval.dtype)}({name(a)})" if a.aval.ndim == 0 else name(a) for a in kernel.args]
        if kernel.outputs:
            lines.append(f"    {''.join(name(o) + ', ' for o in kernel.outputs)}= K[{len(kernels)}]({', '.join(call_args)})")
            lines += [f"    {name(o)} = {_dtype_code(o.aval.dtype)}({name(o)})" for o in kernel.outputs if o.aval.ndim == 0]
        kernels.append(kernel)
    lines.append(f"    return ({''.join(name(a) + ', ' for a in program.outvars)})")
    lowered = Lowered(program, kernels, "\n".join(lines) + "\n", namespace)
    only = kernels[0] if len(kernels) == 1 else None
    lowered.direct = bool(only and only.args == list(program.invars) and only.outputs == list(program.outvars)
                          and len(glue_runs) == 1 and all(v.aval.ndim for v in program.outvars + program.invars))
    return lowered
