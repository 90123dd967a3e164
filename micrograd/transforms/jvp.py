"""Forward mode: ``jvp`` and ``linearize``.

``jvp`` traces the function into a Program and walks it forwards, computing each equation's
value and, with the primitive's jvp rule, its tangent. Rules are micrograd operations, so
forward mode nests with itself and with reverse mode (``jvp`` of ``grad`` is a Hessian-vector
product).
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from ..config import check_finite, config, debug_nans
from ..core import tree
from ..core.dtypes import is_float
from ..core.errors import check_callable
from ..core.ir import Const, Program, Var, aval_of
from ..core.trace import bind, concrete, eval_program, trace_to_program
from .grad import _materialize, _zeros, add_any, check_primals


def forward_pass(program: Program, primals: Sequence[Any], tangents: Sequence[Any]) -> tuple[list, list]:
    """Values and tangents (``None`` for zero) of ``program``'s outputs."""
    env: dict[Var, Any] = dict(zip(program.invars, primals))
    tangent_env: dict[Var, Any] = {v: t for v, t in zip(program.invars, tangents) if t is not None}

    def read(atom):
        return atom.value if isinstance(atom, Const) else env[atom]

    for eqn in program.eqns:
        args = [read(a) for a in eqn.inputs]
        with debug_nans(False):
            out = bind(eqn.prim, *args, **eqn.params)
        if config.debug_nans:
            check_finite(eqn.prim.name, args, out, eqn.source)
        arg_tangents = [tangent_env.get(a) if isinstance(a, Var) else None for a in eqn.inputs]
        rules = eqn.prim.jvp
        if eqn.prim.multiple_results:
            env.update(zip(eqn.outs, out))
            if rules is None or all(t is None for t in arg_tangents):
                continue
            out_tangents = rules(arg_tangents, out, *args, **eqn.params)
            if config.debug_nans:
                check_finite(f"the derivative (jvp) of {eqn.prim.name}", args + [t for t in arg_tangents if t is not None],
                             [t for t in out_tangents if t is not None], eqn.source)
            tangent_env.update((v, t) for v, t in zip(eqn.outs, out_tangents) if t is not None and is_float(v.aval.dtype))
            continue
        env[eqn.out] = out
        if rules is None or not is_float(eqn.out.aval.dtype) or all(t is None for t in arg_tangents):
            continue
        if callable(rules):  # one rule for all operands
            tangent = rules(arg_tangents, out, *args, **eqn.params)
        else:
            tangent = None
            for i, t in enumerate(arg_tangents):
                if t is not None and rules[i] is not None:
                    tangent = add_any(tangent, rules[i](t, out, *args, **eqn.params))
        if tangent is not None:
            if config.debug_nans:
                check_finite(f"the derivative (jvp) of {eqn.prim.name}", args + arg_tangents, tangent, eqn.source)
            tangent_env[eqn.out] = tangent
    outs = [read(a) for a in program.outvars]
    return outs, [tangent_env.get(a) if isinstance(a, Var) else None for a in program.outvars]


def _check_tangents(primals, tangents, name: str) -> list:
    flat_p, p_tree = tree.flatten(tuple(primals))
    flat_t, t_tree = tree.flatten(tuple(tangents))
    if p_tree != t_tree:
        raise ValueError(f"{name}: tangents have structure {t_tree} but primals have {p_tree}")
    checked = []
    for i, (p, t) in enumerate(zip(flat_p, flat_t)):
        pa, ta = aval_of(p), aval_of(t)
        if pa.shape != ta.shape:
            raise ValueError(f"{name}: tangent {i} has shape {ta.shape} but its primal has shape {pa.shape}")
        if not is_float(pa.dtype):
            checked.append(None)  # integer inputs carry no tangent
            continue
        if not is_float(ta.dtype):
            raise TypeError(f"{name}: tangent {i} has dtype {ta.dtype}; tangents of float primals must be "
                            f"floats ({pa.dtype})")
        if ta.dtype != pa.dtype:
            raise TypeError(f"{name}: tangent {i} has dtype {ta.dtype} but its primal has dtype {pa.dtype}")
        checked.append(concrete(t))
    return checked


def jvp(f: Callable, primals: Sequence[Any], tangents: Sequence[Any]) -> tuple[Any, Any]:
    """``(f(*primals), J @ tangents)``: the value and the Jacobian-vector product.

    >>> import numpy as np, micrograd as mg
    >>> mg.jvp(np.sin, (np.array([0.0, 1.0]),), (np.array([1.0, 0.5]),))[1].round(4)
    array([1.   , 0.2702])
    """
    check_callable(f, "jvp")
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError("jvp(f, primals, tangents): primals and tangents must be tuples (one entry per argument)")
    check_primals(primals, "jvp")
    flat_tangents = _check_tangents(primals, tangents, "jvp")
    program = trace_to_program(f, tuple(primals), "jvp")
    flat_primals = [concrete(x) for x in tree.leaves(tuple(primals))]
    outs, out_tangents = forward_pass(program, flat_primals, flat_tangents)
    out_tangents = [_zeros(a.aval) if t is None else _materialize(t) for t, a in zip(out_tangents, program.outvars)]
    return (tree.unflatten(program.out_tree, [_materialize(o) for o in outs]),
            tree.unflatten(program.out_tree, out_tangents))


def linearize(f: Callable, *primals: Any) -> tuple[Any, Callable]:
    """``(f(*primals), f_jvp)`` where ``f_jvp(*tangents)`` is the Jacobian-vector product at
    ``primals``. The forward pass runs once: tracing ``jvp`` with the primals fixed folds every
    primal computation into constants, leaving a program of the linear tangent operations.

    >>> import numpy as np, micrograd as mg
    >>> y, f_jvp = mg.linearize(lambda x: x ** 3, 2.0)
    >>> f_jvp(1.0)  # 3 x^2
    array(12.)
    """
    check_callable(f, "linearize")
    check_primals(primals, "linearize")
    outs = []

    def tangent_map(*tangents):
        out, tangent = jvp(f, primals, tangents)
        outs.append(out)
        return tangent

    program = trace_to_program(tangent_map, tuple(tree.map(lambda p: _zeros(aval_of(p)), primals)), "linearize")

    def f_jvp(*tangents: Any) -> Any:
        flat = _check_tangents(primals, tangents, "linearize")
        flat = [np.zeros(v.aval.shape, v.aval.dtype) if t is None else t for t, v in zip(flat, program.invars)]
        results = eval_program(program, flat)
        return tree.unflatten(program.out_tree, [_materialize(r) for r in results])

    return outs[0], f_jvp
