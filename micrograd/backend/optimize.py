"""IR optimization passes. Each takes a Program and returns a new one computing the same
outputs; :func:`optimize` runs them in order.

>>> import numpy as np, micrograd as mg
>>> program = mg.make_ir(lambda x: -(-x) * 1.0 + 0.0)(np.ones(3))
>>> print(optimize(program))
{ lambda ; a:f64[3]. let
  in (a) }
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..core.ir import Aval, Const, Eqn, Program, Var
from ..core.primitive import Primitive
from ..primitives import elementwise as ew
from ..primitives import indexing as ix
from ..primitives import linalg as la
from ..primitives import shape as sh

Atom = Any  # Var | Const


def _rewrite(program: Program, visit: Callable[[Eqn], "Eqn | list[Eqn] | Atom | None"]) -> Program:
    """Rebuild ``program``, letting ``visit`` replace each equation (its inputs already
    substituted) by other equations (the last defines the result), or by an existing atom
    (None keeps it)."""
    subst: dict[Var, Atom] = {}

    def sub(a):
        return subst.get(a, a) if isinstance(a, Var) else a

    eqns = []
    for eqn in program.eqns:
        eqn = Eqn(eqn.prim, tuple(sub(a) for a in eqn.inputs), eqn.outs, eqn.params, eqn.source)
        result = visit(eqn)
        if result is None or result is eqn:
            eqns.append(eqn)
        elif isinstance(result, tuple):  # the results of a primitive with several, as existing atoms
            subst.update(zip(eqn.outs, result))
        elif isinstance(result, (Eqn, list)):
            result = [result] if isinstance(result, Eqn) else result
            eqns += result
            if result[-1].out is not eqn.out:
                subst[eqn.out] = result[-1].out
        else:
            subst[eqn.out] = result
    return Program(program.invars, eqns, [sub(a) for a in program.outvars], program.in_tree, program.out_tree)


def dead_code_elimination(program: Program) -> Program:
    """Drop equations whose results are never used (every primitive is pure)."""
    live = {a for a in program.outvars if isinstance(a, Var)}
    kept = []
    for eqn in reversed(program.eqns):
        if any(v in live for v in eqn.outs):
            kept.append(eqn)
            live.update(a for a in eqn.inputs if isinstance(a, Var))
    return Program(program.invars, kept[::-1], program.outvars, program.in_tree, program.out_tree)


def _const_key(c: Const):
    v = c.value
    if isinstance(v, np.ndarray) and v.ndim == 0:
        return ("scalar", v.dtype.str, v.item())
    return ("array", id(v))


_COMMUTATIVE = {ew.add, ew.mul, ew.maximum, ew.minimum, ew.eq, ew.ne}


def common_subexpression_elimination(program: Program) -> Program:
    """Compute each distinct (primitive, operands, parameters) once; the operands of commutative
    primitives count in any order."""
    seen: dict[tuple, Var] = {}

    def visit(eqn):
        operands = [("var", id(a)) if isinstance(a, Var) else _const_key(a) for a in eqn.inputs]
        if eqn.prim in _COMMUTATIVE:
            operands.sort(key=repr)
        key = (eqn.prim.name, tuple(operands), tuple(sorted(eqn.params.items())))
        try:
            hash(key)
        except TypeError:
            return None
        if key in seen:
            return seen[key]
        seen[key] = eqn.outs if eqn.prim.multiple_results else eqn.out
        return None

    return _rewrite(program, visit)


_FOLD_LIMIT = 4096  # larger constants are left to the program: folding them would only move memory


def constant_folding(program: Program) -> Program:
    """Evaluate equations whose operands are all constants (except broadcasts, which fused loops
    read for free, and results too large to be worth storing)."""
    def visit(eqn):
        if not eqn.inputs or not all(isinstance(a, Const) and not _is_tracer(a.value) for a in eqn.inputs):
            return None
        if eqn.prim is sh.broadcast_to or any(v.aval.size > _FOLD_LIMIT for v in eqn.outs):
            return None
        value = eqn.prim.impl(*(a.value for a in eqn.inputs), **eqn.params)
        if eqn.prim.multiple_results:
            return tuple(Const(np.asarray(r), v.aval) for r, v in zip(value, eqn.outs))
        return Const(np.asarray(value), eqn.out.aval)

    return _rewrite(program, visit)


def _is_tracer(x) -> bool:
    from ..core.trace import Tracer
    return isinstance(x, Tracer)


def _scalar_value(atom) -> float | None:
    """The value of a constant whose elements are all equal (a scalar, or a broadcast one)."""
    if not isinstance(atom, Const) or not isinstance(atom.value, np.ndarray):
        return None
    v = atom.value
    if v.size and (v.ndim == 0 or all(s == 0 for s in v.strides)):
        return v.flat[0].item()
    return None


def _same_type(atom, eqn) -> bool:
    return atom.aval.shape == eqn.out.aval.shape and atom.aval.dtype == eqn.out.aval.dtype


def _producer(eqns_by_out: dict, atom):
    return eqns_by_out.get(atom) if isinstance(atom, Var) else None


def algebraic_simplification(program: Program) -> Program:
    """x*1, 1*x, x/1, x+0, 0+x, x-0, -(-x), x @ I, cast to the same dtype, reshape to the same
    shape, slices that keep everything, transpose of a transpose, reshape of a reshape,
    stop_gradient (for programs past differentiation); a transpose moving only length-1 axes is
    a reshape, and other transposes lose their length-1 axes (so vmap's reshape/transpose/reshape
    chains collapse); an elementwise operand that is a broadcast scalar constant becomes the
    scalar (elementwise primitives broadcast it)."""
    producers: dict[Var, Eqn] = {}

    def visit(eqn):
        prim, ins = eqn.prim, eqn.inputs
        if prim in _ELEMENTWISE:
            scalars = tuple(_scalar_constant(a, eqn) for a in ins)
            if any(s is not None for s in scalars):
                new = tuple(a if s is None else s for a, s in zip(ins, scalars))
                if np.broadcast_shapes(*(a.aval.shape for a in new)) == eqn.out.aval.shape:
                    eqn = Eqn(prim, new, eqn.out, eqn.params, eqn.source)
        result = _identity(eqn, producers)
        if result is None:
            result = eqn
        for e in result if isinstance(result, list) else [result] if isinstance(result, Eqn) else []:
            producers[e.out] = e
        return result

    return _rewrite(program, visit)


def _scalar_constant(atom, eqn):
    value = _scalar_value(atom)
    if value is None or atom.aval.ndim == 0:
        return None
    return Const(np.asarray(value, atom.aval.dtype), type(atom.aval)((), atom.aval.dtype))


def _identity(eqn: Eqn, producers: dict):
    prim, ins = eqn.prim, eqn.inputs
    x = ins[0] if ins else None
    if prim in (ew.mul,):
        for a, b in ((ins[0], ins[1]), (ins[1], ins[0])):
            if _scalar_value(b) == 1 and _same_type(a, eqn):
                return a
    if prim is ew.div and _scalar_value(ins[1]) == 1 and _same_type(x, eqn):
        return x
    if prim is ew.add:
        for a, b in ((ins[0], ins[1]), (ins[1], ins[0])):
            if _scalar_value(b) == 0 and _same_type(a, eqn):
                return a
    if prim is ew.sub and _scalar_value(ins[1]) == 0 and _same_type(x, eqn):
        return x
    inner = _producer(producers, x)
    if prim is ew.neg and inner is not None and inner.prim is ew.neg:
        return inner.inputs[0]
    if prim is ew.stop_gradient or (prim in (ew.cast, sh.reshape, sh.broadcast_to) and _same_type(x, eqn)):
        return x  # (a compiled program is past differentiation: stop_gradient is the identity)
    if prim is sh.reshape and inner is not None and inner.prim is sh.reshape:
        original = inner.inputs[0]
        return original if _same_type(original, eqn) else Eqn(sh.reshape, inner.inputs, eqn.out, eqn.params, eqn.source)
    if prim is sh.transpose:
        if eqn.params["perm"] == tuple(range(len(eqn.params["perm"]))):
            return x
        moved = [p for p in eqn.params["perm"] if x.aval.shape[p] != 1]
        if moved == sorted(moved):  # only length-1 axes move: the data's order is unchanged
            return Eqn(sh.reshape, (x,), eqn.out, {"shape": eqn.out.aval.shape}, eqn.source)
        if len(moved) < len(eqn.params["perm"]):  # transpose without the length-1 axes, between reshapes
            return _transpose_without_unit_axes(eqn, x, moved, producers)
        if inner is not None and inner.prim is sh.transpose:
            perm = tuple(inner.params["perm"][p] for p in eqn.params["perm"])
            if perm == tuple(range(len(perm))):
                return inner.inputs[0]
            return Eqn(sh.transpose, inner.inputs, eqn.out, {"perm": perm}, eqn.source)
    if prim is ix.gather and not eqn.params["index"].num_arrays and _same_type(x, eqn) and all(
            i is Ellipsis or (isinstance(i, tuple) and i[3] in (None, 1)) for i in eqn.params["index"].items):
        return x  # slices that keep every element in order
    if prim is la.matmul:
        for a, b in ((ins[0], ins[1]), (ins[1], ins[0])):
            if _is_identity(b) and _same_type(a, eqn):
                return a
    return None


def _transpose_without_unit_axes(eqn: Eqn, x, moved: list, producers: dict) -> list[Eqn]:
    rank = {p: r for r, p in enumerate(sorted(moved))}
    core_shape = tuple(x.aval.shape[p] for p in sorted(moved))
    core_perm = tuple(rank[p] for p in moved)
    squeezed = Var(type(x.aval)(core_shape, x.aval.dtype))
    transposed = Var(type(x.aval)(tuple(core_shape[p] for p in core_perm), x.aval.dtype))
    first = Eqn(sh.reshape, (x,), squeezed, {"shape": core_shape}, eqn.source)
    inner = _producer(producers, x)
    if inner is not None and inner.prim is sh.reshape:  # reshape of a reshape: skip the middle
        original = inner.inputs[0]
        first = None if original.aval.shape == core_shape else Eqn(sh.reshape, (original,), squeezed, {"shape": core_shape}, eqn.source)
        squeezed = original if first is None else squeezed
    return [e for e in (first,) if e is not None] + [
        Eqn(sh.transpose, (squeezed,), transposed, {"perm": core_perm}, eqn.source),
        Eqn(sh.reshape, (transposed,), eqn.out, {"shape": eqn.out.aval.shape}, eqn.source)]


def _is_identity(atom) -> bool:
    """A constant identity matrix (jacfwd pushes one through a program)."""
    if not isinstance(atom, Const) or not isinstance(atom.value, np.ndarray) or atom.value.ndim != 2:
        return False
    v = atom.value
    return v.shape[0] == v.shape[1] and v.size <= 1 << 22 and np.array_equal(v, np.eye(v.shape[0], dtype=v.dtype))


_ELEMENTWISE = {p for p in vars(ew).values() if getattr(p, "lower", None) is not None and p not in (ew.cast, ew.stop_gradient)}


# --- sums of scatters into disjoint slices --------------------------------------------------------
# The backward pass of taking slices (np.split, an LSTM's four gates) adds one scatter of each
# slice's cotangent into zeros: k arrays of zeros, k copies and k - 1 additions where one
# concatenation of the cotangents (and zeros for what no slice covers) does.

def _slice_along(eqn):
    """(axis, start, stop) of a scatter_add into one contiguous slice of one axis, else None."""
    if eqn.prim is not ix.scatter_add or eqn.params["index"].num_arrays:
        return None
    shape, items = eqn.params["shape"], eqn.params["index"].items
    if Ellipsis in items:
        k = items.index(Ellipsis)
        items = items[:k] + (("slice", None, None, None),) * (len(shape) - len(items) + 1) + items[k + 1:]
    if len(items) > len(shape) or any(not isinstance(i, tuple) for i in items):
        return None
    items = tuple(items) + (("slice", None, None, None),) * (len(shape) - len(items))
    partial = [(a, slice(*i[1:]).indices(shape[a])) for a, i in enumerate(items) if slice(*i[1:]).indices(shape[a]) != (0, shape[a], 1)]
    if len(partial) != 1 or partial[0][1][2] != 1:
        return None
    axis, (start, stop, _) = partial[0]
    return (axis, start, stop) if start < stop else None


def merge_slice_scatters(program: Program) -> Program:
    """``scatter(a into x[..., 0:k]) + scatter(b into x[..., k:n])`` as one concatenation."""
    producers = {e.out: e for e in program.eqns if not e.prim.multiple_results}
    uses: dict = {}
    for e in program.eqns:
        for a in e.inputs:
            uses[a] = uses.get(a, 0) + 1
    for a in program.outvars:
        uses[a] = uses.get(a, 0) + 2
    inner = {a for e in program.eqns if e.prim is ew.add for a in e.inputs
             if isinstance(a, Var) and uses.get(a) == 1 and a in producers and producers[a].prim is ew.add}

    def terms(atom) -> list:
        eqn = producers.get(atom) if isinstance(atom, Var) else None
        if eqn is not None and eqn.prim is ew.add and (atom in inner or uses.get(atom) is None):
            return terms(eqn.inputs[0]) + terms(eqn.inputs[1])
        return [atom]

    def visit(eqn):
        if eqn.prim is not ew.add or eqn.out in inner:
            return None
        parts = terms(eqn.inputs[0]) + terms(eqn.inputs[1])
        scatters, rest = {}, []
        for atom in parts:
            e = producers.get(atom) if isinstance(atom, Var) else None
            where = _slice_along(e) if e is not None and uses.get(atom) == 1 else None
            if where is not None and e.out.aval == eqn.out.aval:
                scatters.setdefault(where[0], []).append((where[1], where[2], e))
            else:
                rest.append(atom)
        axis, found = max(scatters.items(), key=lambda kv: len(kv[1]), default=(None, []))
        found.sort(key=lambda t: t[0])
        if len(found) < 2 or any(a[1] > b[0] for a, b in zip(found, found[1:])):
            return None
        for other_axis, others in scatters.items():
            if other_axis != axis:
                rest += [e.out for _, _, e in others]
        shape, dtype = eqn.out.aval.shape, eqn.out.aval.dtype
        new, pieces, at = [], [], 0

        def zeros(n):
            block = shape[:axis] + (n,) + shape[axis + 1:]
            return Const(np.zeros(block, dtype), Aval(block, dtype))

        for start, stop, e in found:
            if start > at:
                pieces.append(zeros(start - at))
            update = e.inputs[0]
            block = shape[:axis] + (stop - start,) + shape[axis + 1:]
            if update.aval.shape != block:  # the update broadcast into its slice
                var = Var(Aval(block, dtype))
                new.append(Eqn(sh.broadcast_to, (update,), var, {"shape": block}, e.source))
                update = var
            pieces.append(update)
            at = stop
        if at < shape[axis]:
            pieces.append(zeros(shape[axis] - at))
        total = Var(eqn.out.aval)
        new.append(Eqn(sh.concatenate, tuple(pieces), total, {"axis": axis}, eqn.source))
        for atom in rest:
            out = Var(eqn.out.aval)
            new.append(Eqn(ew.add, (total, atom), out, {}, eqn.source))
            total = out
        new[-1] = Eqn(new[-1].prim, new[-1].inputs, eqn.out, new[-1].params, new[-1].source)
        return new

    return _rewrite(program, visit)


# --- one LU factorization per matrix -----------------------------------------------------------
# A differentiated program solves with a matrix and with its transpose (the backward pass of
# ``solve``) and takes its log-determinant: each of those would factor the matrix again. Past
# differentiation, they share one LU factorization (LAPACK's getrf) and solve with it (getrs),
# a triangular solve per right-hand side instead of a factorization.

def _lapack(name: str, a):
    from scipy.linalg import lapack
    return lapack.get_lapack_funcs((name,), (a,))[0]


def _lu_factor(a):
    lu, piv, info = _lapack("getrf", a)(a)
    return lu, piv, np.asarray(info)  # info > 0: singular (a solve raises; a determinant is 0)


def _lu_solve(lu, piv, info, b, trans):
    if info > 0:
        raise np.linalg.LinAlgError("Singular matrix")
    x, _ = _lapack("getrs", lu)(lu, piv, b, trans=trans)
    return x


def _lu_slogdet(lu, piv, info):
    diagonal = np.diagonal(lu)
    swaps = np.count_nonzero(piv != np.arange(piv.shape[0]))
    sign = np.prod(np.sign(diagonal)) * (-1.0) ** swaps + 0.0  # (+ 0.0: a singular matrix's sign is 0, not -0)
    with np.errstate(divide="ignore"):
        return np.asarray(sign, lu.dtype), np.asarray(np.sum(np.log(np.abs(diagonal))), lu.dtype)


lu_factor = Primitive("lu_factor", _lu_factor, lambda a: [a, Aval(a.shape[:1], np.int32), Aval((), np.int32)],
                      multiple_results=True, in_table=False)
lu_solve = Primitive("lu_solve", _lu_solve, lambda lu, piv, info, b, trans: b, in_table=False)
lu_slogdet = Primitive("lu_slogdet", _lu_slogdet, lambda lu, piv, info: [Aval((), lu.dtype)] * 2,
                       multiple_results=True, in_table=False)


def share_lu_factorizations(program: Program) -> Program:
    """Solves with a 2-D matrix or its transpose, and its log-determinant, from one LU
    factorization of it."""
    transposes = {e.out: e.inputs[0] for e in program.eqns if e.prim is sh.transpose and e.params["perm"] == (1, 0)}

    def matrix_of(eqn):
        """(the factored matrix, whether the equation uses its transpose), for the equations this
        pass rewrites."""
        if eqn.prim not in (la.solve, la.slogdet) or eqn.inputs[0].aval.ndim != 2:
            return None
        a = eqn.inputs[0]
        return (transposes[a], 1) if eqn.prim is la.solve and a in transposes else (a, 0)

    factors: dict[Any, tuple] = {}

    def visit(eqn):
        found = matrix_of(eqn)
        if found is None:
            return None
        matrix, trans = found
        new = []
        if matrix not in factors:
            outs = [Var(a) for a in lu_factor.shape(matrix.aval)]
            factors[matrix] = tuple(outs)
            new.append(Eqn(lu_factor, (matrix,), outs, {}, eqn.source))
        if eqn.prim is la.solve:
            new.append(Eqn(lu_solve, factors[matrix] + (eqn.inputs[1],), eqn.outs, {"trans": trans}, eqn.source))
        else:
            new.append(Eqn(lu_slogdet, factors[matrix], eqn.outs, {}, eqn.source))
        return new

    return _rewrite(program, visit)


# --- calls ---------------------------------------------------------------------------------------

_CALLS = ("custom_jvp_call", "custom_vjp_call", "checkpoint")


def inline_calls(program: Program) -> Program:
    """Replace each call of a function with its own derivative rule (``custom_jvp``,
    ``custom_vjp``) or recomputed in reverse mode (``checkpoint``) by the function's equations:
    a compiled program is past differentiation, and inlined equations fuse with their
    neighbours."""
    if not any(e.prim.name in _CALLS for e in program.eqns):
        return program
    subst: dict = {}
    eqns: list[Eqn] = []

    def sub(a):
        return subst.get(a, a) if isinstance(a, Var) else a

    for eqn in program.eqns:
        inputs = tuple(sub(a) for a in eqn.inputs)
        if eqn.prim.name not in _CALLS:
            eqns.append(Eqn(eqn.prim, inputs, eqn.outs, eqn.params, eqn.source))
            continue
        fun = inline_calls(eqn.params["fun"])
        renamed = dict(zip(fun.invars, inputs))
        for inner in fun.eqns:  # fresh variables: the same function may be called twice
            outs = [Var(v.aval) for v in inner.outs]
            renamed.update(zip(inner.outs, outs))
            eqns.append(Eqn(inner.prim, tuple(renamed.get(a, a) if isinstance(a, Var) else a for a in inner.inputs),
                            outs, inner.params, inner.source or eqn.source))
        for v, out in zip(eqn.outs, fun.outvars):
            subst[v] = renamed.get(out, out) if isinstance(out, Var) else out
    return Program(program.invars, eqns, [sub(a) for a in program.outvars], program.in_tree, program.out_tree)


# --- sub-programs ------------------------------------------------------------------------------

def prepare_subprograms(program: Program) -> Program:
    """Optimize the sub-programs of loops and branches, and make their array constants operands
    of the equation (a compiled loop body then takes them as arguments)."""
    from ..transforms.subprograms import hoist_array_constants

    def prepared(sub: Program) -> tuple[Program, list]:
        return hoist_array_constants(optimize(sub, keep_inputs=True))

    def visit(eqn):
        name, p = eqn.prim.name, eqn.params
        if name == "scan":
            body, consts = prepared(p["body"])
            return Eqn(eqn.prim, tuple(consts) + eqn.inputs, eqn.outs,
                       dict(p, body=body, num_consts=p["num_consts"] + len(consts)), eqn.source)
        if name == "while":
            cond, cond_consts = prepared(p["cond"])
            body, body_consts = prepared(p["body"])
            nc = p["num_cond_consts"]
            inputs = tuple(cond_consts) + eqn.inputs[:nc] + tuple(body_consts) + eqn.inputs[nc:]
            return Eqn(eqn.prim, inputs, eqn.outs, dict(p, cond=cond, body=body, num_cond_consts=nc + len(cond_consts),
                                                        num_body_consts=p["num_body_consts"] + len(body_consts)),
                       eqn.source)
        if name == "cond":
            prepared_branches = [prepared(b) for b in p["branches"]]
            extra = [c for _, consts in prepared_branches for c in consts]
            branches, start = [], 0
            for body, consts in prepared_branches:  # every branch takes every branch's constants
                own = body.invars[:len(consts)]
                others = [Var(c.aval) for c in extra]
                invars = others[:start] + own + others[start + len(consts):] + body.invars[len(consts):]
                branches.append(Program(invars, body.eqns, body.outvars))
                start += len(consts)
            return Eqn(eqn.prim, eqn.inputs[:1] + tuple(extra) + eqn.inputs[1:], eqn.outs,
                       dict(p, branches=tuple(branches)), eqn.source)
        return None

    return _rewrite(program, visit)


def optimize(program: Program, keep_inputs: bool = False) -> Program:
    """Simplify, fold constants, share common subexpressions, drop dead code. (Programs keep
    their inputs, used or not: ``keep_inputs`` is for the record, sub-programs must.)"""
    program = inline_calls(program)
    program = prepare_subprograms(program)
    program = algebraic_simplification(program)
    program = constant_folding(program)
    program = common_subexpression_elimination(program)
    program = algebraic_simplification(program)
    program = share_lu_factorizations(program)
    program = merge_slice_scatters(program)
    return dead_code_elimination(program)
