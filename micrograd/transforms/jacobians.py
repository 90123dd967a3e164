"""Jacobians and Hessians: ``jacfwd`` pushes the standard basis of the inputs through ``jvp``,
``jacrev`` pulls the standard basis of the outputs back through ``vjp``, each as one ``vmap``
over the basis (no Python loop over its vectors); ``hessian`` is ``jacfwd(jacrev(f))``.

The layout is JAX's: for an output leaf of shape ``O`` and an input leaf of shape ``I`` the
Jacobian block has shape ``O + I``; the result has the output's structure, each leaf holding the
input's structure (a tuple over ``argnums`` when that is a tuple).
"""
from __future__ import annotations

import functools
from typing import Any, Callable, Sequence

import numpy as np

from ..core import tree
from ..core.errors import check_argnums, check_callable, name_of
from ..core.ir import aval_of
from .grad import differentiated_arguments, traced_vjp
from .jvp import jvp
from .vmap import vmap


def _basis(avals) -> list[np.ndarray]:
    """Rows of the identity over all elements of ``avals``, cut into one block per aval and
    shaped (n_total,) + aval.shape."""
    total = sum(a.size for a in avals)
    blocks, start = [], 0
    for a in avals:
        block = np.zeros((total, a.size), a.dtype)
        block[np.arange(start, start + a.size), np.arange(a.size)] = 1
        blocks.append(block.reshape((total,) + a.shape))
        start += a.size
    return blocks


def jacfwd(f: Callable, argnums: int | Sequence[int] = 0) -> Callable:
    """The Jacobian of ``f`` by forward mode (efficient when inputs are fewer than outputs).

    >>> import numpy as np, micrograd as mg
    >>> mg.jacfwd(lambda x: x ** 2)(np.array([1.0, 2.0]))
    array([[2., 0.],
           [0., 4.]])
    """
    check_callable(f, "jacfwd")
    argnums = check_argnums(argnums, f"jacfwd({name_of(f)})")

    @functools.wraps(f)
    def jacobian(*args: Any, **kwargs: Any) -> Any:
        f_sel, primals = differentiated_arguments(f, args, kwargs, argnums, "jacfwd")
        flat_primals, primal_tree = tree.flatten(primals)
        in_avals = [aval_of(p) for p in flat_primals]

        def pushforward(*basis_leaves):
            return jvp(f_sel, primals, tree.unflatten(primal_tree, basis_leaves))[1]

        out = vmap(pushforward, out_axes=-1)(*_basis(in_avals))  # each leaf: out_shape + (n_in,)

        def arrange(leaf):
            blocks, start = [], 0
            for a in in_avals:
                blocks.append(leaf[..., start:start + a.size].reshape(leaf.shape[:-1] + a.shape))
                start += a.size
            return _structure(blocks, primal_tree, argnums)

        return tree.map(arrange, out)

    return jacobian


def jacrev(f: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False) -> Callable:
    """The Jacobian of ``f`` by reverse mode (efficient when outputs are fewer than inputs).

    >>> import numpy as np, micrograd as mg
    >>> mg.jacrev(lambda x: np.sin(x) * x[0])(np.array([0.0, 1.0])).round(3)
    array([[0.   , 0.   ],
           [0.841, 0.   ]])
    """
    check_callable(f, "jacrev")
    argnums = check_argnums(argnums, f"jacrev({name_of(f)})")

    @functools.wraps(f)
    def jacobian(*args: Any, **kwargs: Any) -> Any:
        f_sel, primals = differentiated_arguments(f, args, kwargs, argnums, "jacrev")
        flat_primals, primal_tree = tree.flatten(primals)
        in_avals = [aval_of(p) for p in flat_primals]
        out, pullback, *aux = traced_vjp(f_sel, primals, has_aux, "jacrev")
        flat_out, out_tree = tree.flatten(out)
        out_avals = [aval_of(o) for o in flat_out]

        def pull(*basis_leaves):
            return tree.leaves(pullback(tree.unflatten(out_tree, basis_leaves)))

        pulled = vmap(pull)(*_basis(out_avals))  # per input leaf: (n_out,) + in_shape
        per_output = []
        start = 0
        for o in out_avals:
            blocks = [p[start:start + o.size].reshape(o.shape + a.shape) for p, a in zip(pulled, in_avals)]
            per_output.append(_structure(blocks, primal_tree, argnums))
            start += o.size
        jac = tree.unflatten(out_tree, per_output)
        return (jac, aux[0]) if has_aux else jac

    return jacobian


def _structure(blocks: list, primal_tree, argnums) -> Any:
    """Blocks (one per input leaf) in the input's structure; unwrapped for an int ``argnums``."""
    structured = tree.unflatten(primal_tree, blocks)
    return structured[0] if isinstance(argnums, int) else structured


def hessian(f: Callable, argnums: int | Sequence[int] = 0) -> Callable:
    """The Hessian of a scalar ``f``: ``jacfwd(jacrev(f))``.

    >>> import numpy as np, micrograd as mg
    >>> mg.hessian(lambda x: x[0] ** 2 * x[1])(np.array([1.0, 3.0]))
    array([[6., 2.],
           [2., 0.]])
    """
    check_callable(f, "hessian")
    argnums = check_argnums(argnums, f"hessian({name_of(f)})")
    return jacfwd(jacrev(f, argnums), argnums)
