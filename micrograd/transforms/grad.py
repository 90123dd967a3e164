"""Reverse mode: ``vjp``, ``grad``, ``value_and_grad`` and ``chain``.

``vjp`` traces the function into a Program, evaluates it in the current context keeping every
intermediate value, and returns a pullback that walks the equations backwards applying each
primitive's vjp rule. The rules are micrograd operations, so inside another transform the
backward pass is itself recorded and can be differentiated again.
"""
from __future__ import annotations

import functools
from typing import Any, Callable, Sequence

import numpy as np

from ..config import check_finite, config, debug_nans
from ..core import tree
from ..core.dtypes import float0, is_float
from ..core.errors import (NotDifferentiableError, argument_leaves, check_argnums, check_callable, describe_value,
                           join_arguments, name_of, traced_origin, with_location)
from ..core.ir import Const, Program, Var, aval_of
from ..core.trace import Tracer, apply_impl, bind, concrete, trace_leaves, tracing


def add_any(a, b):
    """``a + b`` where ``None`` is a symbolic zero (a cotangent or tangent not yet seen)."""
    return b if a is None else a if b is None else a + b


def active_vars(program: Program) -> set[Var]:
    """The variables a derivative can flow into: float values computed from float inputs
    through primitives that have a derivative for that operand."""
    active = {v for v in program.invars if is_float(v.aval.dtype)}
    for eqn in program.eqns:
        rules = eqn.prim.vjp
        if rules is None:
            continue
        if eqn.prim.multiple_results:
            if any(a in active for a in eqn.inputs):
                active.update(v for v in eqn.outs if is_float(v.aval.dtype))
        elif is_float(eqn.out.aval.dtype):
            for i, a in enumerate(eqn.inputs):  # (a Const is never in active)
                if a in active and rules[i] is not None:
                    active.add(eqn.out)
                    break
    return active


def backward_pass(program: Program, env: dict, out_cts: Sequence[Any]) -> list[Any]:
    """Cotangents of ``program``'s inputs (``None`` for zero) given those of its outputs; ``env``
    holds the forward values."""
    active = active_vars(program)
    cts: dict[Var, Any] = {}
    for v, ct in zip(program.outvars, out_cts):
        if ct is not None and isinstance(v, Var) and v in active:
            cts[v] = add_any(cts.get(v), ct)
    for eqn in reversed(program.eqns):
        if eqn.prim.multiple_results:
            try:
                _backward_multiple(eqn, env, cts, active)
            except NotDifferentiableError as e:
                raise NotDifferentiableError(f"{e}\n  at {eqn.source}" if eqn.source and "\n  at " not in str(e)
                                             else str(e)) from None
            continue
        ct = cts.pop(eqn.out, None)
        if ct is None:
            continue
        args = [a.value if type(a) is Const else env[a] for a in eqn.inputs]
        rules, out = eqn.prim.vjp, env[eqn.out]
        for i, atom in enumerate(eqn.inputs):
            if atom in active:  # (a Const never is)
                rule = rules[i]
                if rule is None:
                    continue
                if config.debug_nans:  # blame the equation whose derivative this is
                    with debug_nans(False):
                        ct_in = rule(ct, out, *args, **eqn.params)
                    check_finite(f"the derivative (vjp) of {eqn.prim.name}", [ct, *args], ct_in, eqn.source)
                else:
                    ct_in = rule(ct, out, *args, **eqn.params)
                if ct_in is not None:
                    previous = cts.get(atom)
                    cts[atom] = ct_in if previous is None else previous + ct_in
    return [cts.get(v) for v in program.invars]


def _backward_multiple(eqn, env: dict, cts: dict, active: set) -> None:
    """One equation of a primitive with several results: its rule maps all the results'
    cotangents (``None`` for zero) to all the operands' cotangents."""
    out_cts = [cts.pop(v, None) for v in eqn.outs]
    if all(ct is None for ct in out_cts):
        return
    args = [env[a] if isinstance(a, Var) else a.value for a in eqn.inputs]
    with debug_nans(False):
        if eqn in env:  # the residuals its forward rule kept
            in_cts = eqn.prim.bwd(env[eqn], out_cts, *args, **eqn.params)
        else:
            in_cts = eqn.prim.vjp(out_cts, [env[v] for v in eqn.outs], *args, **eqn.params)
    if config.debug_nans:
        check_finite(f"the derivative (vjp) of {eqn.prim.name}", [c for c in out_cts if c is not None] + args,
                     [c for c in in_cts if c is not None], eqn.source)
    for atom, ct_in in zip(eqn.inputs, in_cts):
        if ct_in is not None and isinstance(atom, Var) and atom in active:
            if isinstance(ct_in, NotDifferentiableError):  # a rule that cannot give this operand's cotangent
                raise ct_in
            cts[atom] = add_any(cts.get(atom), ct_in)


def forward_with_residuals(program: Program, args: Sequence[Any], env: dict) -> list[Any]:
    """:func:`eval_program` for reverse mode: an equation whose primitive has a ``fwd`` rule, and
    an operand a derivative flows from, runs that rule, and ``env[eqn]`` keeps its residuals
    (the values its ``bwd`` rule needs: a loop's per-step values)."""
    active = None  # computed at the first equation with a fwd rule (most programs have none)
    for var, value in zip(program.invars, args):
        env[var] = value
    hunting = config.debug_nans
    apply = bind if tracing() else apply_impl  # (at top level every operand is an array)
    for eqn in program.eqns:
        operands = [a.value if type(a) is Const else env[a] for a in eqn.inputs]
        if eqn.prim.fwd is not None and active is None:
            active = active_vars(program)
        if eqn.prim.fwd is not None and any(a in active for a in eqn.inputs):
            with debug_nans(False):
                out, env[eqn] = eqn.prim.fwd(*operands, **eqn.params)
        elif hunting:  # checked below, blaming this equation's line rather than the interpreter's
            with debug_nans(False):
                out = bind(eqn.prim, *operands, **eqn.params)
        else:
            out = apply(eqn.prim, *operands, **eqn.params)
        if hunting:
            check_finite(eqn.prim.name, operands, out, eqn.source)
        if eqn.prim.multiple_results:
            env.update(zip(eqn.outs, out))
        else:
            env[eqn.out] = out
    return [a.value if isinstance(a, Const) else env[a] for a in program.outvars]


def _materialize(x):
    """Top-level results are ordinary writable arrays: never NumPy scalars or broadcast views."""
    if isinstance(x, Tracer):
        return x
    return np.array(x) if not isinstance(x, np.ndarray) or not x.flags.writeable else x


def _zeros(aval):
    return np.zeros(aval.shape, aval.dtype if is_float(aval.dtype) else float0)


def _trace_with_aux(f, flat_primals, in_tree, has_aux: bool, name: str):
    """Trace ``f`` on the primals ``in_tree`` rebuilds from ``flat_primals``; return (program,
    out_tree, aux_tree, n_out) where program's outputs are the flattened output followed by the
    flattened aux."""
    trees = {"aux": _NO_AUX}

    def flat_f(*args):
        result = f(*args)
        if has_aux:
            if not (isinstance(result, tuple) and len(result) == 2):
                got = (f"an array {result.aval}" if isinstance(result, Tracer) else
                       f"a tuple of {len(result)}" if isinstance(result, tuple) else type(result).__name__)
                raise TypeError(f"{name} with has_aux=True needs a function returning (output, aux), got {got}")
            out, aux = result
        else:
            out, aux = result, None
        out_leaves, trees["out"] = tree.flatten(out)
        trees["n_out"] = len(out_leaves)
        if not has_aux:
            return out_leaves
        aux_leaves, trees["aux"] = tree.flatten(aux)
        return out_leaves + aux_leaves

    program = trace_leaves(flat_f, flat_primals, in_tree, name)
    return program, trees["out"], trees["aux"], trees["n_out"]


_NO_AUX = tree.structure(None)


def vjp(f: Callable, *primals: Any, has_aux: bool = False):
    """``(f(*primals), pullback)`` where ``pullback(cotangent)`` returns the cotangents of the
    primals (a tuple, one per primal): the vector-Jacobian product.

    >>> import numpy as np, micrograd as mg
    >>> out, pullback = mg.vjp(lambda x: x * np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    >>> pullback(np.array([1.0, 1.0]))
    (array([1., 2.]),)
    """
    check_callable(f, "vjp")
    check_primals(primals, "vjp")
    return traced_vjp(f, primals, has_aux, "vjp")


def leaf_dtype(leaf: Any) -> np.dtype:
    """The dtype a transform's input leaf has as an array (object for what is not a number)."""
    dtype = getattr(leaf, "dtype", None)
    if isinstance(dtype, np.dtype):
        return dtype
    try:
        return np.asarray(leaf).dtype
    except Exception:  # noqa: BLE001 - anything NumPy cannot make an array of is not one
        return np.dtype(object)


NOT_NUMBERS = "OUSVMm"  # object, strings, bytes, void, datetimes: no derivative, nothing to trace
COMPLEX_HINT = ("complex numbers are not supported yet by grad, vjp and jvp (nor jacfwd, jacrev, hessian): "
                "pass the real and imaginary parts as separate float arrays (z.real, z.imag)")


def check_primals(primals: Sequence[Any], name: str) -> None:
    """The points of ``vjp``/``jvp``: arrays or numbers (complex ones are not supported yet)."""
    for i, primal in enumerate(primals):
        for leaf in tree.leaves(primal):
            dtype = leaf_dtype(leaf)
            if dtype.kind in NOT_NUMBERS:
                raise TypeError(with_location(
                    f"{name}: primal {i} is {describe_value(leaf)}, not an array: {name} takes float arrays and "
                    f"numbers, or tuples, lists and dicts of them"))
            if dtype.kind == "c":
                raise TypeError(with_location(f"{name}: primal {i} has dtype {dtype}: {COMPLEX_HINT}"))


def traced_vjp(f: Callable, primals: Sequence[Any], has_aux: bool, name: str):
    """:func:`vjp`, with ``name`` (the transform the user called) for error messages."""
    flat_primals, in_tree = tree.flatten(tuple(primals))
    program, out_tree, aux_tree, n_out = _trace_with_aux(f, flat_primals, in_tree, has_aux, name)
    env: dict = {}
    flat_primals = [concrete(x) for x in flat_primals]
    results = [_materialize(r) for r in forward_with_residuals(program, flat_primals, env)]
    out = tree.unflatten(out_tree, results[:n_out])
    pullback = Pullback(program, env, out_tree, results[:n_out])
    if has_aux:
        return out, pullback, tree.unflatten(aux_tree, results[n_out:])
    return out, pullback


class Pullback:
    """The pullback :func:`vjp` returns: ``pullback(cotangent)`` gives the cotangents of the
    primals. ``out_leaves`` are the flattened output and :meth:`flat` takes their cotangents as a
    list (what ``grad`` uses: no pytree to build and flatten again)."""

    def __init__(self, program: Program, env: dict, out_tree, out_leaves: list):
        self.program, self.env, self.out_tree, self.out_leaves = program, env, out_tree, out_leaves

    def __call__(self, cotangent: Any) -> tuple:
        flat_cts, ct_tree = tree.flatten(cotangent)
        if ct_tree != self.out_tree:
            raise ValueError(f"vjp: the cotangent's structure {ct_tree} differs from the output's {self.out_tree}")
        return self.flat(flat_cts)

    def flat(self, flat_cts: Sequence[Any]) -> tuple:
        program = self.program
        cts = []
        for i, (ct, v) in enumerate(zip(flat_cts, program.outvars)):
            aval = v.aval
            if (ct.shape if type(ct) is np.ndarray else np.shape(ct)) != aval.shape:
                raise ValueError(f"vjp: cotangent {i} has shape {np.shape(ct)} but the output has shape {aval.shape}")
            cts.append(ct if isinstance(ct, Tracer) else np.asarray(ct, aval.dtype))
        in_cts = backward_pass(program, self.env, cts + [None] * (len(program.outvars) - len(cts)))
        in_cts = [_zeros(v.aval) if ct is None else _materialize(ct) for ct, v in zip(in_cts, program.invars)]
        return tree.unflatten(program.in_tree, in_cts)


def _argnums_tuple(argnums: int | Sequence[int], nargs: int, name: str, kwargs: dict | None = None) -> tuple[int, ...]:
    if type(argnums) is int and 0 <= argnums < nargs:  # (the usual case)
        return (argnums,)
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for n in nums:
        if not -nargs <= n < nargs:
            keywords = (f" (keyword arguments, here {', '.join(kwargs)}, are not counted: pass the ones to "
                        f"differentiate positionally)" if kwargs else "")
            raise ValueError(with_location(
                f"{name}: argnums={argnums!r} is out of range for a call with {nargs} positional "
                f"argument{'s' if nargs != 1 else ''}{keywords}"))
    return tuple(n % nargs for n in nums)


def _check_differentiable(args: Sequence[Any], nums: Sequence[int], name: str) -> None:
    for n in nums:
        for leaf in tree.leaves(args[n]):
            dtype = leaf_dtype(leaf)
            if dtype.kind in NOT_NUMBERS:
                raise TypeError(with_location(
                    f"{name}: argument {n} is {describe_value(leaf)}, not an array: derivatives are taken with "
                    f"respect to float arrays and numbers, or tuples, lists and dicts of them. Leave the argument "
                    f"out of argnums."))
            if dtype.kind == "c":
                raise TypeError(with_location(
                    f"{name} needs float inputs, but argument {n} has dtype {dtype}: {COMPLEX_HINT}."))
            if not is_float(dtype):
                raise TypeError(with_location(
                    f"{name} needs float inputs, but argument {n} has dtype {dtype}: integer and bool values "
                    f"have no derivative. Pass floats (e.g. np.asarray(x, float)), or leave the argument out "
                    f"of argnums."))


def differentiated_origin_error(error: Exception, selected: Sequence[Any], leaves: Sequence[Any], f: Callable,
                                name: str) -> Exception | None:
    """A conversion error (``range(n)``, ``np.zeros(n)``, ``if x:``) of a value computed from the
    differentiated arguments, rewritten to name them; ``None`` for other errors."""
    origin = traced_origin(error, tree.leaves(selected))
    if origin is None or origin.inputs is None:
        return None
    if not origin.inputs:
        return None
    arguments = join_arguments(leaves[i] for i in origin.inputs)
    what = f"{origin.about(arguments)} of {name_of(f)}, differentiated (and so traced) by {name}"
    if origin.wants_int:
        advice = ("Sizes, shapes, loop counts and indices must be Python ints known while tracing: pass them in "
                  "arguments that argnums leaves out (only the differentiated arguments are traced).")
    else:
        advice = origin.hint
    return origin.error(what, advice)


def differentiated_arguments(f: Callable, args: tuple, kwargs: dict, argnums: int | Sequence[int],
                             name: str) -> tuple[Callable, tuple]:
    """``(g, primals)``: the arguments ``argnums`` selects (checked: in range, floats) and ``g``,
    ``f`` as a function of those alone with the other arguments fixed."""
    nums = _argnums_tuple(argnums, len(args), name, kwargs)
    _check_differentiable(args, nums, name)
    leaves: list = []

    def f_of_selected(*selected):
        full = list(args)
        for n, value in zip(nums, selected):
            full[n] = value
        try:
            return f(*full, **kwargs)
        except TypeError as e:
            if not leaves:
                leaves.extend(argument_leaves(f, [(n, args[n]) for n in nums]))
            better = differentiated_origin_error(e, selected, leaves, f, name)
            if better is None:
                raise
            raise better.with_traceback(e.__traceback__) from None

    return f_of_selected, tuple([args[n] for n in nums])


def value_and_grad(f: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False) -> Callable:
    """A function returning ``(f(*args), gradient)``; with ``has_aux``, ``((value, aux), gradient)``.

    ``f`` must return a single-element float array (a scalar). The gradient has the structure of
    the argument ``argnums`` names, or is a tuple of such when ``argnums`` is a tuple.

    >>> import numpy as np, micrograd as mg
    >>> mg.value_and_grad(lambda x: x ** 2)(np.array([1.0]))
    (array([1.]), array([2.]))
    """
    check_callable(f, "value_and_grad")
    argnums = check_argnums(argnums, f"value_and_grad({name_of(f)})")
    return _value_and_grad(f, argnums, has_aux)


def _value_and_grad(f: Callable, argnums: int | Sequence[int], has_aux: bool) -> Callable:
    name = f"grad({name_of(f)})"

    @functools.wraps(f)
    def value_and_grad_f(*args: Any, **kwargs: Any):
        f_of_selected, primals = differentiated_arguments(f, args, kwargs, argnums, name)
        out, pullback, *aux = traced_vjp(f_of_selected, primals, has_aux, name)
        leaves = [aval_of(leaf) for leaf in pullback.out_leaves]
        if len(leaves) != 1 or leaves[0].size != 1 or not is_float(leaves[0].dtype):
            got = ", ".join(map(repr, leaves)) or "nothing"
            raise TypeError(
                f"{name} needs a function returning one float scalar (an array with exactly one element), "
                f"but it returned {got}. For non-scalar outputs use mg.jacrev(f) for the Jacobian, or "
                f"mg.vjp(f, x) for vector-Jacobian products.")
        grads = pullback.flat([np.ones(leaves[0].shape, leaves[0].dtype)])
        grads = grads[0] if isinstance(argnums, int) else grads
        return ((out, aux[0]) if has_aux else out), grads

    return value_and_grad_f


def grad(f: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False) -> Callable:
    """The gradient of a scalar-valued ``f`` with respect to argument ``argnums``.

    >>> import numpy as np, micrograd as mg
    >>> mg.grad(lambda x: np.sum(x ** 3))(np.array([1.0, 2.0]))
    array([ 3., 12.])
    >>> mg.grad(mg.grad(mg.grad(np.sin)))(0.0)  # -cos(0)
    array(-1.)
    """
    check_callable(f, "grad")
    argnums = check_argnums(argnums, f"grad({name_of(f)})")
    value_and_grad_f = _value_and_grad(f, argnums, has_aux)

    @functools.wraps(f)
    def grad_f(*args: Any, **kwargs: Any):
        value, grads = value_and_grad_f(*args, **kwargs)
        return (grads, value[1]) if has_aux else grads

    return grad_f


def chain(*fs: Callable) -> Callable:
    """The gradient of ``fs[0](fs[1](...fs[-1](x)))`` by the explicit chain rule: the gradient of
    the outermost function at the inner value, pulled back through each inner function's
    vector-Jacobian product in turn. Equal to ``grad(lambda x: g(f(x)))`` to rounding.

    >>> import numpy as np, micrograd as mg
    >>> g, f = (lambda y: np.sum(y ** 2)), (lambda x: 3 * x)
    >>> mg.chain(g, f)(np.array([1.0, 2.0]))  # d/dx sum(9 x^2) = 18 x
    array([18., 36.])
    """
    if not fs:
        raise TypeError("chain needs at least one function")
    for i, f in enumerate(fs):
        check_callable(f, "chain", f"function {i}")
    outer, inner = fs[0], fs[1:]

    def chained(x: Any):
        pullbacks = []
        for f in reversed(inner):
            x, pullback = vjp(f, x)
            pullbacks.append(pullback)
        ct = grad(outer)(x)
        for pullback in reversed(pullbacks):
            (ct,) = pullback(ct)
        return ct

    return chained
