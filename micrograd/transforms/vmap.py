"""``vmap``: vectorize a function over a mapped axis of its arguments.

The function is traced once on unbatched shapes; the program is then interpreted with values
that carry a batch axis (or none, for unmapped values), applying each primitive's batch rule,
which moves the batch axis into the primitive itself: a batch of matrix products is one matmul.
"""
from __future__ import annotations

import functools
from typing import Any, Callable, Sequence

import numpy as np

from ..config import check_finite, config, debug_nans
from ..core import tree
from ..core.errors import (argument_leaves, check_callable, describe_value, join_arguments, name_of, traced_origin,
                           with_location)
from ..core.ir import Aval, Const, Program, Var, aval_of
from ..core.trace import bind, concrete, trace_to_program
from ..primitives.shape import broadcast_to, move_axis
from .grad import NOT_NUMBERS, _materialize


def batch_pass(program: Program, args: Sequence[Any], dims: Sequence[int | None]) -> tuple[list, list]:
    """Outputs of ``program`` and where their batch axes are (``None``: not batched)."""
    env: dict[Var, tuple[Any, int | None]] = {v: (a, d) for v, a, d in zip(program.invars, args, dims)}

    def read(atom):
        return (atom.value, None) if isinstance(atom, Const) else env[atom]

    for eqn in program.eqns:
        values, value_dims = zip(*map(read, eqn.inputs)) if eqn.inputs else ((), ())
        with debug_nans(False):
            if all(d is None for d in value_dims):
                out = bind(eqn.prim, *values, **eqn.params)
                out_dims = [None] * len(eqn.outs) if eqn.prim.multiple_results else None
            else:
                out, out_dims = eqn.prim.batch(values, value_dims, **eqn.params)
        if config.debug_nans:  # blame the line that built the equation
            check_finite(eqn.prim.name, values, out, eqn.source)
        if eqn.prim.multiple_results:
            env.update((v, (o, d)) for v, o, d in zip(eqn.outs, out, out_dims))
        else:
            env[eqn.out] = out, out_dims
    outs = [read(a) for a in program.outvars]
    return [o for o, _ in outs], [d for _, d in outs]


def _leaf_axes(axes: Any, args: tuple, what: str) -> list[int | None]:
    """``in_axes`` as one entry per leaf of ``args``."""
    if isinstance(axes, list):
        axes = tuple(axes)
    if isinstance(axes, tuple):
        if len(axes) != len(args):
            raise ValueError(f"vmap: {what} has {len(axes)} entries but the function was called with "
                             f"{len(args)} positional argument{'s' if len(args) != 1 else ''}")
        return [a for prefix, x in zip(axes, args) for a in _expand_prefix(prefix, x, what)]
    return _expand_prefix(axes, args, what)


def _expand_prefix(prefix: Any, x: Any, what: str) -> list[int | None]:
    if isinstance(prefix, (int, type(None))):
        return [prefix] * len(tree.leaves(x))
    p_leaves, p_def = tree.flatten(prefix, is_leaf=lambda v: v is None)
    try:
        children = _children_like(p_def, x)
    except (ValueError, TypeError, KeyError):
        raise ValueError(f"vmap: {what} entry {prefix!r} does not match the structure of its argument "
                         f"{tree.structure(x)}") from None
    out = []
    for a, child in zip(p_leaves, children):
        out += [a] * len(tree.leaves(child))
    return out


def _children_like(prefix_def: tree.TreeDef, x: Any) -> list[Any]:
    """The subtrees of ``x`` at the leaves of the prefix structure ``prefix_def``."""
    if prefix_def.node_class is None:
        return [x]
    if prefix_def.node_class is not type(x) and not (prefix_def.node_class in (tuple, list) and isinstance(x, (tuple, list))):
        raise ValueError
    children, node_def = tree.flatten(x, is_leaf=lambda v: v is not x)
    if node_def.node_class is None or len(children) != len(prefix_def.children) or node_def.aux != prefix_def.aux:
        raise ValueError
    return [sub for c, d in zip(children, prefix_def.children) for sub in _children_like(d, c)]


def _explaining(f: Callable, args: tuple, flat_axes: list) -> Callable:
    """``f``, whose conversion errors (``range(n)``, ``np.zeros(n)``) of values computed from
    arguments vmap does not map say that those arguments are traced all the same."""
    def traced(*tracers):
        try:
            return f(*tracers)
        except TypeError as e:
            origin = traced_origin(e, tree.leaves(tracers))
            if origin is None or not origin.inputs or any(flat_axes[i] is not None for i in origin.inputs):
                raise
            leaves = argument_leaves(f, list(enumerate(args)))
            arguments = join_arguments(leaves[i] for i in origin.inputs)
            what = (f"{origin.about(arguments)} of {name_of(f)}, which vmap does not map (in_axes None) but traces "
                    f"like the others")
            advice = ("Close over such values instead of passing them: mg.vmap(lambda x: f(x, n)) "
                      "keeps n a Python value." if origin.wants_int else origin.hint)
            raise origin.error(what, advice).with_traceback(e.__traceback__) from None
    return traced


def _check_axes(axes: Any, what: str, f: Callable) -> None:
    """``in_axes``/``out_axes``: an int, ``None``, or a pytree of them (a tuple per argument)."""
    def is_axis(a):
        return a is None or isinstance(a, (int, np.integer)) and not isinstance(a, (bool, np.bool_))
    bad = [a for a in tree.flatten(axes, is_leaf=lambda v: v is None)[0] if not is_axis(a)]
    if bad:
        got = f"{axes!r} ({type(axes).__name__})" if bad[0] is axes else f"{axes!r}, whose entry {bad[0]!r} is a " \
                                                                          f"{type(bad[0]).__name__}"
        raise TypeError(with_location(
            f"vmap({name_of(f)}): {what} must be an int, None, or a tuple with one entry per "
            f"{'argument' if what == 'in_axes' else 'output'} (each an int, None, or a pytree of them), got {got}"))


def vmap(f: Callable, in_axes: Any = 0, out_axes: Any = 0) -> Callable:
    """Vectorize ``f`` over axis ``in_axes`` of its arguments (``None``: not mapped), putting the
    mapped axis of the results at ``out_axes``. ``in_axes`` may be an int, ``None``, or a tuple
    with one entry per argument, each an int, ``None`` or a pytree prefix of the argument.

    >>> import numpy as np, micrograd as mg
    >>> mg.vmap(np.dot, in_axes=(0, None))(np.ones((3, 2)), np.array([1.0, 2.0]))
    array([3., 3., 3.])
    """
    check_callable(f, "vmap")
    _check_axes(in_axes, "in_axes", f)
    _check_axes(out_axes, "out_axes", f)

    @functools.wraps(f)
    def vmapped(*args: Any, **kwargs: Any) -> Any:
        if kwargs:
            raise TypeError(with_location(
                f"vmap({name_of(f)}) takes positional arguments only (in_axes counts them), got keyword "
                f"argument{'s' if len(kwargs) > 1 else ''} {', '.join(map(repr, kwargs))}: pass "
                f"{'them' if len(kwargs) > 1 else 'it'} positionally, or close over {'them' if len(kwargs) > 1 else 'it'}"
                f" (mg.vmap(lambda x: f(x, key=value)))"))
        flat_args, in_tree = tree.flatten(args)
        flat_axes = _leaf_axes(in_axes, args, "in_axes")
        size, sizes = None, []
        unbatched, values, dims = [], [], []
        for i, (x, axis) in enumerate(zip(flat_args, flat_axes)):
            x = concrete(x)
            if x.dtype.kind in NOT_NUMBERS:
                leaf = argument_leaves(f, list(enumerate(args)))[i]
                raise TypeError(with_location(
                    f"vmap({name_of(f)}): {leaf} is {describe_value(flat_args[i])}, which vmap cannot map or trace: "
                    f"it takes arrays and numbers, or tuples, lists and dicts of them. Close over the value instead: "
                    f"mg.vmap(lambda x: f(x, value))"))
            if axis is not None:
                if not -x.ndim <= axis < max(x.ndim, 1) or x.ndim == 0:
                    raise ValueError(f"vmap: in_axes={axis} is out of range for argument leaf {i} of shape {x.shape}")
                axis %= x.ndim
                sizes.append((i, x.shape, axis))
                size = x.shape[axis] if size is None else size
                if x.shape[axis] != size:
                    detail = ", ".join(f"leaf {j} of shape {s} has size {s[a]} along axis {a}" for j, s, a in sizes)
                    raise ValueError(f"vmap: mapped axes have different sizes: {detail}")
                unbatched.append(Aval(x.shape[:axis] + x.shape[axis + 1:], x.dtype))
            else:
                unbatched.append(aval_of(x))
            values.append(x)
            dims.append(axis)
        if size is None:
            raise ValueError("vmap: no argument is mapped (in_axes is None everywhere)")
        program = trace_to_program(_explaining(f, args, flat_axes), tree.unflatten(in_tree, unbatched), "vmap")
        outs, out_dims = batch_pass(program, values, dims)
        out_axes_flat = _expand_prefix(out_axes, tree.unflatten(program.out_tree, outs), "out_axes")
        results = []
        for out, d, target in zip(outs, out_dims, out_axes_flat):
            if target is None:
                if d is not None:
                    raise ValueError(f"vmap: out_axes=None for an output of shape {np.shape(out)} that depends on the "
                                     "mapped axis")
                results.append(_materialize(out))
                continue
            if d is None:  # unmapped result: repeat it along the new axis
                out, d = broadcast_to(out, shape=(size,) + aval_of(out).shape), 0
            ndim = aval_of(out).ndim
            if not -ndim <= target < ndim:
                raise ValueError(f"vmap: out_axes={target} is out of range for an output of {ndim} dimensions")
            results.append(_materialize(move_axis(out, d, target % ndim)))
        return tree.unflatten(program.out_tree, results)

    return vmapped
