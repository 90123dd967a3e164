"""Derivatives you define, and derivatives that recompute: ``custom_jvp``, ``custom_vjp`` and
``checkpoint`` (alias ``remat``), with JAX's semantics.

Each wraps a function into a higher-order primitive whose parameter is the function's traced
program: evaluating it runs the program; the transforms use your rule instead of
differentiating the program (``custom_jvp``: forward mode calls your jvp rule, reverse mode
transposes it; ``custom_vjp``: reverse mode calls your ``fwd`` and ``bwd``); ``checkpoint``
keeps only its inputs for reverse mode and runs the function again in the backward pass.
``jit`` compiles the function's program in place of the call (past differentiation, the rule
has done its work).
"""
from __future__ import annotations

import functools
from typing import Any, Callable, Sequence

import numpy as np

from ..core import tree
from ..core.errors import NotDifferentiableError, check_callable, with_location
from ..core.ir import Program, aval_of
from ..core.primitive import Primitive
from ..core.trace import Tracer, eval_program, trace_closed
from ..primitives import shape as sh
from .grad import backward_pass, forward_with_residuals, vjp
from .jvp import forward_pass
from .subprograms import batch_program
from .vmap import vmap

__all__ = ["custom_jvp", "custom_vjp", "checkpoint", "remat"]


def _name(f) -> str:
    return getattr(f, "__name__", type(f).__name__)


class _Rule:
    """A user rule as a primitive's parameter: called on flat lists, printed by name."""

    def __init__(self, name: str, call: Callable):
        self.name, self.call = name, call

    def __call__(self, *args):
        return self.call(*args)

    def __repr__(self):
        return self.name


def _split_args(args: tuple, nondiff_argnums: tuple, name: str):
    nums = {i % len(args) for i in nondiff_argnums if -len(args) <= i < len(args)}
    nondiff = {i: a for i, a in enumerate(args) if i in nums}
    diff = tuple(a for i, a in enumerate(args) if i not in nums)
    return nondiff, diff


def _merge(nondiff: dict, diff: Sequence) -> list:
    it = iter(diff)
    return [nondiff[i] if i in nondiff else next(it) for i in range(len(nondiff) + len(diff))]


def _trace_function(fun: Callable, nondiff: dict, diff: tuple, what: str):
    """``fun`` on the differentiable arguments (the others fixed) as a closed program, its
    constants, the flat arguments and the output structure."""
    leaves, in_tree = tree.flatten(diff)
    out_trees = []

    def flat_fun(*flat):
        out_leaves, out_tree = tree.flatten(fun(*_merge(nondiff, tree.unflatten(in_tree, flat))))
        out_trees.append(out_tree)
        return out_leaves

    program, consts = trace_closed(flat_fun, [aval_of(x) for x in leaves], f"{what} {_name(fun)}")
    return program, consts, leaves, in_tree, out_trees[0]


def _check_like(what: str, got, want_tree, want_avals, got_label: str, want_label: str) -> list:
    leaves, got_tree = tree.flatten(got)
    got_avals = [aval_of(x) for x in leaves]
    if got_tree != want_tree or [a.shape for a in got_avals] != [a.shape for a in want_avals]:
        raise TypeError(with_location(
            f"{what}: {got_label} must have the structure and shapes of {want_label}: expected {want_tree} with "
            f"{', '.join(map(repr, want_avals)) or 'no arrays'}, got {got_tree} with "
            f"{', '.join(map(repr, got_avals)) or 'no arrays'}"))
    return leaves


def _zeros_for(values) -> list:
    return [np.zeros(aval_of(v).shape, aval_of(v).dtype) for v in values]


def _batched_all(args, dims, size):
    return [sh.batch_to_front(a, d, size) for a, d in zip(args, dims)]


def _inline(program: Program, args) -> list:
    return eval_program(program, list(args))


# --- custom_jvp -----------------------------------------------------------------------------------

def _custom_jvp_jvp(tangents, outs, *args, fun, jvp, num_consts):
    if any(t is not None for t in tangents[:num_consts]):
        raise NotDifferentiableError(with_location(
            f"a custom_jvp function ({jvp}) closes over a value being differentiated; pass it as an argument, so that "
            "its jvp rule sees its tangent"))
    primals = list(args[num_consts:])
    filled = [t if t is not None else np.zeros(aval_of(p).shape, aval_of(p).dtype) for t, p in zip(tangents[num_consts:], primals)]
    return jvp(primals, filled)


def _custom_jvp_vjp(cts, outs, *args, fun, jvp, num_consts):
    """Reverse mode transposes the jvp rule: it is linear in the tangents, so its vjp at zero
    tangents is its transpose."""
    primals = list(args[num_consts:])
    cts = [ct if ct is not None else np.zeros(aval_of(o).shape, aval_of(o).dtype) for ct, o in zip(cts, outs)]
    _, pullback = vjp(lambda *t: jvp(primals, list(t)), *_zeros_for(primals))
    in_cts = pullback(cts)
    missing = NotDifferentiableError(with_location(
        f"a custom_jvp function ({jvp}) closes over a value being differentiated; pass it as an argument, so that its "
        "jvp rule sees its tangent"))
    return [missing] * num_consts + [None if ct.dtype.kind == "V" else ct for ct in in_cts]


def _custom_jvp_batch(args, dims, fun, jvp, num_consts):
    size = sh.batch_size(args, dims)
    bfun, _ = batch_program(fun, [True] * len(args), size, "vmap of a custom_jvp function", force=[True] * len(fun.outvars))

    def batched_rule(primals, tangents):
        return vmap(lambda p, t: jvp(list(p), list(t)))(list(primals), list(tangents))

    rule = _Rule(f"vmap({jvp})", batched_rule)
    return custom_jvp_call(*_batched_all(args, dims, size), fun=bfun, jvp=rule, num_consts=num_consts), [0] * len(fun.outvars)


custom_jvp_call = Primitive("custom_jvp_call", lambda *args, fun, jvp, num_consts: _inline(fun, args),
                            lambda *avals, fun, jvp, num_consts: fun.out_avals, jvp=_custom_jvp_jvp, vjp=_custom_jvp_vjp,
                            batch=_custom_jvp_batch, multiple_results=True)


class custom_jvp:
    """A function with its own forward-mode derivative rule (JAX's ``jax.custom_jvp``):

    >>> import numpy as np, micrograd as mg
    >>> @mg.custom_jvp
    ... def log1pexp(x):
    ...     return np.log1p(np.exp(x))
    >>> @log1pexp.defjvp
    ... def log1pexp_jvp(primals, tangents):
    ...     (x,), (t,) = primals, tangents
    ...     return log1pexp(x), t * (1 - 1 / (1 + np.exp(x)))  # stable where exp(x) overflows
    >>> mg.grad(log1pexp)(1000.0)
    array(1.)

    The rule ``jvp(primals, tangents) -> (primal_out, tangent_out)`` must be linear in the
    tangents; reverse mode transposes it, so one rule serves both modes, to any order. Arguments
    named in ``nondiff_argnums`` are passed to the rule first and have no tangent.
    """

    def __init__(self, fun: Callable, nondiff_argnums: Sequence[int] = ()):
        check_callable(fun, "custom_jvp")
        functools.update_wrapper(self, fun)
        self.fun, self.nondiff_argnums, self.jvp_rule = fun, tuple(nondiff_argnums), None

    def defjvp(self, jvp: Callable, symbolic_zeros: bool = False) -> Callable:
        """Set the rule (usable as a decorator)."""
        self.jvp_rule = jvp
        return jvp

    def defjvps(self, *tangent_fns: Callable | None) -> None:
        """Set the rule from one function per argument, ``tangent_fn(t, primal_out, *primals)``
        giving that argument's contribution (``None``: no derivative)."""
        def rule(primals, tangents):
            out = self.fun(*primals)
            total = None
            for fn, t in zip(tangent_fns, tangents):
                if fn is not None:
                    term = fn(t, out, *primals)
                    total = term if total is None else tree.map(lambda a, b: a + b, total, term)
            return out, total if total is not None else tree.map(lambda o: o * 0, out)
        self.jvp_rule = rule

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs:
            raise TypeError(f"custom_jvp function {_name(self.fun)}: pass its arguments positionally")
        if self.jvp_rule is None:
            raise AttributeError(f"no jvp rule for the custom_jvp function {_name(self.fun)}: define one with "
                                 f"@{_name(self.fun)}.defjvp")
        nondiff, diff = _split_args(args, self.nondiff_argnums, _name(self.fun))
        if not any(isinstance(x, Tracer) for x in tree.leaves(diff)):
            return self.fun(*args)  # nothing differentiates it here
        program, consts, leaves, in_tree, out_tree = _trace_function(self.fun, nondiff, diff, "custom_jvp function")
        user_rule, fun_name = self.jvp_rule, _name(self.fun)
        out_avals = program.out_avals

        def flat_rule(primals, tangents):
            nondiff_values = [nondiff[i] for i in sorted(nondiff)]
            result = user_rule(*nondiff_values, tree.unflatten(in_tree, primals), tree.unflatten(in_tree, tangents))
            if not (isinstance(result, tuple) and len(result) == 2):
                raise TypeError(with_location(f"the jvp rule of {fun_name} must return (primal_out, tangent_out)"))
            return _check_like(f"the jvp rule of {fun_name}", result[1], out_tree, out_avals, "its tangent output",
                               "the function's output")

        outs = custom_jvp_call(*consts, *leaves, fun=program, jvp=_Rule(f"jvp rule of {fun_name}", flat_rule),
                               num_consts=len(consts))
        return tree.unflatten(out_tree, outs)


# --- custom_vjp -----------------------------------------------------------------------------------

def _custom_vjp_jvp(tangents, outs, *args, fun, fwd, bwd, num_consts):
    raise NotDifferentiableError(with_location(
        f"forward mode (jvp, jacfwd) cannot go through a custom_vjp function ({bwd}): its rule is for reverse mode only, "
        "as in JAX. Use mg.custom_jvp for a rule both modes use, or reverse mode (grad, vjp, jacrev)."))


def _custom_vjp_fwd(*args, fun, fwd, bwd, num_consts):
    return fwd(list(args[num_consts:]))


def _custom_vjp_bwd(residuals, cts, *args, fun, fwd, bwd, num_consts):
    cts = [ct if ct is not None else np.zeros(v.aval.shape, v.aval.dtype) for ct, v in zip(cts, fun.outvars)]
    missing = NotDifferentiableError(with_location(
        f"a custom_vjp function ({bwd}) closes over a value being differentiated; pass it as an argument, so that its "
        "bwd rule gives its cotangent"))
    return [missing] * num_consts + bwd(list(residuals), cts)


def _custom_vjp_batch(args, dims, fun, fwd, bwd, num_consts):
    size = sh.batch_size(args, dims)
    bfun, _ = batch_program(fun, [True] * len(args), size, "vmap of a custom_vjp function", force=[True] * len(fun.outvars))
    n_out = len(fun.outvars)

    def batched_fwd(primals):
        flat = vmap(lambda p: (lambda o, r: list(o) + list(r))(*fwd(list(p))))(list(primals))
        return flat[:n_out], flat[n_out:]

    def batched_bwd(residuals, cts):
        return vmap(lambda r, c: bwd(list(r), list(c)))(list(residuals), list(cts))

    return custom_vjp_call(*_batched_all(args, dims, size), fun=bfun, fwd=_Rule(f"vmap({fwd})", batched_fwd),
                           bwd=_Rule(f"vmap({bwd})", batched_bwd), num_consts=num_consts), [0] * n_out


custom_vjp_call = Primitive("custom_vjp_call", lambda *args, fun, fwd, bwd, num_consts: _inline(fun, args),
                            lambda *avals, fun, fwd, bwd, num_consts: fun.out_avals, jvp=_custom_vjp_jvp,
                            fwd=_custom_vjp_fwd, bwd=_custom_vjp_bwd, batch=_custom_vjp_batch, multiple_results=True)


class custom_vjp:
    """A function with its own reverse-mode derivative rule (JAX's ``jax.custom_vjp``):

    >>> import numpy as np, micrograd as mg
    >>> @mg.custom_vjp
    ... def clip_gradient(x):
    ...     return x
    >>> def clip_fwd(x):
    ...     return x, None  # (output, residuals for bwd)
    >>> def clip_bwd(residuals, g):
    ...     return (np.clip(g, -1.0, 1.0),)  # one cotangent per argument
    >>> clip_gradient.defvjp(clip_fwd, clip_bwd)
    >>> mg.grad(lambda x: 5.0 * clip_gradient(x))(2.0)
    array(1.)

    ``fwd(*args) -> (output, residuals)`` and ``bwd(residuals, cotangent) -> tuple of argument
    cotangents``; both are traced like any code, so the derivative can itself be differentiated.
    Arguments named in ``nondiff_argnums`` are passed to ``bwd`` first and get no cotangent.
    Forward mode does not go through a ``custom_vjp`` function (as in JAX): use ``custom_jvp``.
    """

    def __init__(self, fun: Callable, nondiff_argnums: Sequence[int] = ()):
        check_callable(fun, "custom_vjp")
        functools.update_wrapper(self, fun)
        self.fun, self.nondiff_argnums, self.fwd, self.bwd = fun, tuple(nondiff_argnums), None, None

    def defvjp(self, fwd: Callable, bwd: Callable, symbolic_zeros: bool = False) -> None:
        """Set the rules: ``fwd`` (same arguments as the function) and ``bwd``."""
        self.fwd, self.bwd = fwd, bwd

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs:
            raise TypeError(f"custom_vjp function {_name(self.fun)}: pass its arguments positionally")
        if self.fwd is None:
            raise AttributeError(f"no rules for the custom_vjp function {_name(self.fun)}: set them with "
                                 f"{_name(self.fun)}.defvjp(fwd, bwd)")
        nondiff, diff = _split_args(args, self.nondiff_argnums, _name(self.fun))
        if not any(isinstance(x, Tracer) for x in tree.leaves(diff)):
            return self.fun(*args)
        program, consts, leaves, in_tree, out_tree = _trace_function(self.fun, nondiff, diff, "custom_vjp function")
        user_fwd, user_bwd, fun_name = self.fwd, self.bwd, _name(self.fun)
        nondiff_values = [nondiff[i] for i in sorted(nondiff)]
        out_avals = program.out_avals
        residual_tree = []

        def flat_fwd(primals):
            result = user_fwd(*_merge(nondiff, tree.unflatten(in_tree, primals)))
            if not (isinstance(result, tuple) and len(result) == 2):
                raise TypeError(with_location(f"the fwd rule of {fun_name} must return (output, residuals)"))
            out = _check_like(f"the fwd rule of {fun_name}", result[0], out_tree, out_avals, "its output",
                              "the function's output")
            residual_leaves, treedef = tree.flatten(result[1])
            residual_tree[:] = [treedef]
            return out, residual_leaves

        def flat_bwd(residual_leaves, cts):
            residuals = tree.unflatten(residual_tree[0], residual_leaves)
            result = user_bwd(*nondiff_values, residuals, tree.unflatten(out_tree, cts))
            if not isinstance(result, (tuple, list)) or len(result) != len(diff):
                got = f"a tuple of {len(result)}" if isinstance(result, (tuple, list)) else type(result).__name__
                raise TypeError(with_location(
                    f"the bwd rule of {fun_name} must return a tuple with one cotangent per differentiated argument "
                    f"({len(diff)}), got {got}"))
            flat = []
            for arg, ct in zip(diff, result):
                arg_leaves, arg_tree = tree.flatten(arg)
                if ct is None:
                    flat += [None] * len(arg_leaves)
                    continue
                flat += _check_like(f"the bwd rule of {fun_name}", ct, arg_tree, [aval_of(a) for a in arg_leaves],
                                    "each cotangent", "its argument")
            return flat

        outs = custom_vjp_call(*consts, *leaves, fun=program, fwd=_Rule(f"fwd rule of {fun_name}", flat_fwd),
                               bwd=_Rule(f"bwd rule of {fun_name}", flat_bwd), num_consts=len(consts))
        return tree.unflatten(out_tree, outs)


# --- checkpoint -----------------------------------------------------------------------------------

def _checkpoint_fwd(*args, fun):
    return eval_program(fun, list(args)), []


def _checkpoint_bwd(residuals, cts, *args, fun):
    """The function runs again, now keeping its intermediate values, then its backward pass."""
    env: dict = {}
    forward_with_residuals(fun, list(args), env)
    return backward_pass(fun, env, list(cts))


def _checkpoint_jvp(tangents, outs, *args, fun):
    return forward_pass(fun, list(args), list(tangents))[1]


def _checkpoint_batch(args, dims, fun):
    size = sh.batch_size(args, dims)
    batched = [d is not None for d in dims]
    bfun, out_b = batch_program(fun, batched, size, "vmap of a checkpointed function")
    operands = [sh.move_axis(a, d, 0) if d is not None else a for a, d in zip(args, dims)]
    return checkpoint_p(*operands, fun=bfun), [0 if b else None for b in out_b]


checkpoint_p = Primitive("checkpoint", lambda *args, fun: _inline(fun, args), lambda *avals, fun: fun.out_avals,
                         jvp=_checkpoint_jvp, fwd=_checkpoint_fwd, bwd=_checkpoint_bwd, batch=_checkpoint_batch,
                         multiple_results=True)


def checkpoint(fun: Callable, *, prevent_cse: bool = True, policy: Any = None, static_argnums: Sequence[int] = ()) -> Callable:
    """``fun``, whose intermediate values reverse mode does not keep: the backward pass runs
    ``fun`` again to get them (JAX's ``jax.checkpoint``, alias ``remat``). Memory held between
    the forward and backward passes drops to ``fun``'s inputs and outputs, for one more
    forward pass of ``fun``. Values and derivatives are unchanged.

    >>> import numpy as np, micrograd as mg
    >>> layer = mg.checkpoint(lambda w, x: np.tanh(w * x))
    >>> mg.grad(lambda w: layer(w, 2.0))(0.0)
    array(2.)
    """
    check_callable(fun, "checkpoint")
    if policy is not None:
        raise NotImplementedError("checkpoint: policy= (saving some values) is not supported; everything is recomputed")

    @functools.wraps(fun)
    def checkpointed(*args: Any) -> Any:
        nondiff, diff = _split_args(args, tuple(static_argnums), _name(fun))
        if not any(isinstance(x, Tracer) for x in tree.leaves(diff)):
            return fun(*args)
        program, consts, leaves, _, out_tree = _trace_function(fun, nondiff, diff, "checkpointed function")
        return tree.unflatten(out_tree, checkpoint_p(*consts, *leaves, fun=program))

    return checkpointed


remat = checkpoint
