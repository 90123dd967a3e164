"""Products and contractions: ``matmul``, ``dot``, ``vdot``, ``inner``, ``outer``, ``tensordot``,
``einsum``, ``kron`` and ``cross``.

Every contraction of two arrays becomes one ``matmul`` (a BLAS matrix product): the shared
batch axes first, the contracted axes folded into one, the free axes of each side into one.
``einsum`` orders its pairwise contractions with the ``opt_einsum`` library (as JAX does),
then contracts pair by pair; a repeated index in one operand is a diagonal (a gather) and an
index that appears nowhere else is summed first.
"""
from __future__ import annotations

import math
import string

import numpy as np

from .. import primitives as P
from ..core.errors import ShapeError, with_location
from ._core import ArrayLike, asarray, promote
from .shape import broadcast_arrays, broadcast_to, diagonal, expand_dims, moveaxis, ravel, reshape, stack

__all__ = ["matmul", "dot", "vdot", "inner", "outer", "tensordot", "einsum", "kron", "cross"]


def matmul(x: ArrayLike, y: ArrayLike) -> ArrayLike:
    """Matrix product with NumPy's rules: 1-D operands are vectors, leading axes broadcast.

    >>> matmul(np.ones((2, 3)), np.ones(3))
    array([3., 3.])
    """
    x, y = promote(x, y)
    if x.ndim == 0 or y.ndim == 0:
        raise ShapeError(with_location(f"matmul: operands must have at least one dimension, got shapes "
                                       f"{x.shape} and {y.shape} (use * to scale)"))
    x2 = reshape(x, (1,) + x.shape) if x.ndim == 1 else x
    y2 = reshape(y, y.shape + (1,)) if y.ndim == 1 else y
    if x2.shape[-1] != y2.shape[-2]:
        raise ShapeError(with_location(
            f"matmul: shapes {x.shape} and {y.shape} do not fit: {x2.shape[-1]} (last axis of the first) "
            f"!= {y2.shape[-2]} ({'only' if y.ndim == 1 else 'second-to-last'} axis of the second)"))
    if x.ndim == 2 and y.ndim == 2:  # the usual case (a layer's product): nothing to broadcast or reshape
        return P.matmul(x, y)
    try:
        batch = np.broadcast_shapes(x2.shape[:-2], y2.shape[:-2])
    except ValueError:
        raise ShapeError(with_location(f"matmul: batch dimensions of {x.shape} and {y.shape} do not broadcast")) from None
    if x2.ndim > 2 and y2.ndim == 2:  # a stack against one matrix: one product of all the rows, not one per matrix
        rows = P.matmul(reshape(x2, (math.prod(x2.shape[:-1]), x2.shape[-1])), y2)
        return reshape(rows, x.shape[:-1] + (y.shape[-1:] if y.ndim > 1 else ()))
    out = P.matmul(broadcast_to(x2, batch + x2.shape[-2:]), broadcast_to(y2, batch + y2.shape[-2:]))
    shape = batch + (x.shape[-2:-1] if x.ndim > 1 else ()) + (y.shape[-1:] if y.ndim > 1 else ())
    return reshape(out, shape)


def dot(x: ArrayLike, y: ArrayLike) -> ArrayLike:
    """Dot product: scaling for 0-d, inner product for 1-D, matrix product for 2-D operands, and
    the sum over the last axis of ``x`` and the second-to-last of ``y`` beyond.

    >>> dot(np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    array(11.)
    """
    x, y = asarray(x), asarray(y)
    if x.ndim == 0 or y.ndim == 0:
        return x * y
    if x.ndim <= 2 and y.ndim <= 2:
        return matmul(x, y)
    return tensordot(x, y, axes=([x.ndim - 1], [max(y.ndim - 2, 0)]))


def vdot(a: ArrayLike, b: ArrayLike) -> ArrayLike:
    """The dot product of the flattened arrays.

    >>> vdot(np.array([[1.0, 2.0], [3.0, 4.0]]), np.ones((2, 2)))
    array(10.)
    """
    return dot(ravel(a), ravel(b))


def inner(a: ArrayLike, b: ArrayLike) -> ArrayLike:
    """The sum product over the last axes of ``a`` and ``b``.

    >>> inner(np.array([1.0, 2.0]), np.array([[1.0, 0.0], [0.0, 1.0]]))
    array([1., 2.])
    """
    a, b = asarray(a), asarray(b)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    return tensordot(a, b, axes=([a.ndim - 1], [b.ndim - 1]))


def outer(x: ArrayLike, y: ArrayLike) -> ArrayLike:
    """Outer product of two vectors (flattened first).

    >>> outer(np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    array([[3., 4.],
           [6., 8.]])
    """
    return expand_dims(ravel(x), 1) * expand_dims(ravel(y), 0)


def tensordot(a: ArrayLike, b: ArrayLike, axes=2) -> ArrayLike:
    """The sum product over ``axes``: an int N (the last N of ``a`` with the first N of ``b``)
    or a pair of axis lists.

    >>> tensordot(np.ones((2, 3, 4)), np.ones((3, 4, 5)), axes=2).shape
    (2, 5)
    """
    a, b = promote(a, b)
    if isinstance(axes, (int, np.integer)):
        a_axes, b_axes = list(range(a.ndim - axes, a.ndim)), list(range(axes))
    else:
        a_axes, b_axes = ([x] if isinstance(x, (int, np.integer)) else list(x) for x in axes)
    if len(a_axes) != len(b_axes):
        raise ShapeError(with_location(f"tensordot: {len(a_axes)} axes of the first operand against {len(b_axes)} of "
                                       "the second"))
    letters = iter(string.ascii_letters)
    a_idx = [next(letters) for _ in range(a.ndim)]
    b_idx = [next(letters) for _ in range(b.ndim)]
    for i, j in zip(a_axes, b_axes):
        b_idx[j % b.ndim] = a_idx[i % a.ndim]
    contracted = {a_idx[i % a.ndim] for i in a_axes}
    out_idx = [c for c in a_idx if c not in contracted] + [c for c in b_idx if c not in contracted]
    return einsum(f"{''.join(a_idx)},{''.join(b_idx)}->{''.join(out_idx)}", a, b)


# --- einsum ---------------------------------------------------------------------------------------

def _parse(subscripts: str, operands) -> tuple[list[str], str]:
    """Subscripts with the ellipsis replaced by letters of their own, and the output (implicit:
    the indices that appear once, in alphabetical order, after the ellipsis' axes)."""
    subscripts = subscripts.replace(" ", "")
    inputs, arrow, output = subscripts.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(operands):
        raise ValueError(with_location(f"einsum: {subscripts!r} names {len(terms)} operands, got {len(operands)}"))
    used = set(c for c in subscripts if c.isalpha())
    spare = [c for c in string.ascii_letters if c not in used]
    ellipsis_rank = max((x.ndim - len(t.replace("...", "")) for t, x in zip(terms, operands) if "..." in t), default=0)
    ellipsis = "".join(spare[:ellipsis_rank])
    expanded = []
    for k, (term, x) in enumerate(zip(terms, operands)):
        if "..." in term:
            rank = x.ndim - len(term.replace("...", ""))
            if rank < 0:
                raise ShapeError(with_location(f"einsum: operand {k} of shape {x.shape} has fewer axes than {term!r} names"))
            term = term.replace("...", ellipsis[ellipsis_rank - rank:])
        if not all(c.isalpha() for c in term):
            raise ValueError(with_location(f"einsum: {term!r} (operand {k}) may hold only letters and '...'"))
        if len(term) != x.ndim:
            raise ShapeError(with_location(f"einsum: operand {k} has shape {x.shape} ({x.ndim} axes) but its subscripts "
                                           f"{terms[k]!r} name {len(term)}"))
        expanded.append(term)
    if arrow:
        output = output.replace("...", ellipsis)
    else:
        letters = "".join(expanded)
        output = ellipsis + "".join(sorted(c for c in set(letters) if letters.count(c) == 1 and c not in ellipsis))
    for c in output:
        if not any(c in term for term in expanded):
            raise ValueError(with_location(f"einsum: the output index {c!r} appears in no operand of {subscripts!r}"))
    return expanded, output


def _sizes(terms, operands, ellipsis_letters: set) -> dict:
    """The length of each index, broadcasting the ellipsis' axes; mismatches name both operands."""
    sizes: dict[str, tuple[int, int]] = {}
    for k, (term, x) in enumerate(zip(terms, operands)):
        for c, d in zip(term, x.shape):
            if c not in sizes or sizes[c][0] == 1:
                sizes[c] = (d, k) if c not in sizes or d != 1 else sizes[c]
            elif d != sizes[c][0] and not (d == 1 and c in ellipsis_letters):
                other = sizes[c][1]
                raise ShapeError(with_location(
                    f"einsum: index {c!r} has length {sizes[c][0]} in operand {other} (shape {operands[other].shape}) "
                    f"but {d} in operand {k} (shape {x.shape})"))
    return {c: d for c, (d, _) in sizes.items()}


def _single(x, idx: str, keep: str):
    """One operand: diagonals for repeated indices, sums over indices not in ``keep``, then the
    axes in ``keep``'s order."""
    while len(set(idx)) != len(idx):
        c = next(c for c in idx if idx.count(c) > 1)
        p = idx.index(c)
        q = idx.index(c, p + 1)
        x = diagonal(x, 0, p, q)
        idx = idx[:p] + idx[p + 1:q] + idx[q + 1:] + c
    summed = tuple(i for i, c in enumerate(idx) if c not in keep)
    if summed:
        x = P.reduce_sum(x, axes=summed)
        idx = "".join(c for c in idx if c in keep)
    order = list(dict.fromkeys(c for c in keep if c in idx))
    if list(idx) != order:
        x = P.transpose(x, perm=tuple(idx.index(c) for c in order))
    return x, "".join(order)


def _pair(a, ai: str, b, bi: str, keep: str, sizes: dict):
    """Contract two operands into one, keeping the indices in ``keep``: one matmul."""
    a, ai = _single(a, ai, "".join(c for c in ai if c in keep or c in bi))
    b, bi = _single(b, bi, "".join(c for c in bi if c in keep or c in ai))
    batch = [c for c in ai if c in bi and c in keep]
    contracted = [c for c in ai if c in bi and c not in keep]
    a_free = [c for c in ai if c not in bi]
    b_free = [c for c in bi if c not in ai]
    size = (lambda letters: math.prod(sizes[c] for c in letters))
    a = _broadcast_letters(a, ai, batch + contracted, sizes)
    b = _broadcast_letters(b, bi, batch + contracted, sizes)
    a = P.transpose(a, perm=tuple(ai.index(c) for c in batch + a_free + contracted)) if list(ai) != batch + a_free + contracted else a
    b = P.transpose(b, perm=tuple(bi.index(c) for c in batch + contracted + b_free)) if list(bi) != batch + contracted + b_free else b
    lead = (size(batch),) if batch else ()
    a = P.reshape(a, shape=lead + (size(a_free), size(contracted)))
    b = P.reshape(b, shape=lead + (size(contracted), size(b_free)))
    out = P.matmul(a, b)
    out_idx = batch + a_free + b_free
    return P.reshape(out, shape=tuple(sizes[c] for c in out_idx)), "".join(out_idx)


def _broadcast_letters(x, idx: str, letters, sizes):
    """Ellipsis axes of length 1 broadcast to the index's length."""
    target = tuple(sizes[c] if c in letters else d for c, d in zip(idx, x.shape))
    return x if target == x.shape else P.broadcast_to(x, shape=target)


def einsum(subscripts: str, *operands: ArrayLike, optimize="auto", dtype=None) -> ArrayLike:
    """Einstein summation: ``einsum("ij,jk->ik", a, b)`` is ``a @ b``. Any subscripts work,
    with ``...`` for leading axes, repeated indices for diagonals and traces, and an implicit
    output; contractions run as matrix products in the order ``opt_einsum`` chooses.

    >>> a = np.arange(6.0).reshape(2, 3)
    >>> einsum("ij,ij->i", a, a)
    array([ 5., 50.])
    >>> float(einsum("ii", np.eye(3)))
    3.0
    """
    import opt_einsum

    if not isinstance(subscripts, str):
        raise NotImplementedError(with_location("einsum: give the subscripts as a string ('ij,jk->ik')"))
    operands = promote(*(asarray(x, dtype) for x in operands)) if len(operands) > 1 else [asarray(operands[0], dtype)]
    terms, output = _parse(subscripts, operands)
    ellipsis_letters = {c for t in terms for c in t} - set(subscripts)
    sizes = _sizes(terms, operands, ellipsis_letters)
    if len(output) != len(set(output)):
        raise ValueError(with_location(f"einsum: the output {output!r} repeats an index"))
    if len(operands) == 1:
        x, idx = _single(operands[0], terms[0], output)
        x = _broadcast_letters(x, idx, idx, sizes)
        return x
    shapes = [tuple(sizes[c] for c in t) for t in terms]
    path, _ = opt_einsum.contract_path(",".join(terms) + "->" + output, *shapes, shapes=True,
                                       optimize="auto" if optimize in (True, "auto", "greedy", "optimal") else optimize)
    remaining = list(zip(operands, terms))
    for positions in path:
        picked = [remaining.pop(i) for i in sorted(positions, reverse=True)]
        keep = output + "".join(t for _, t in remaining)
        if len(picked) == 1:
            remaining.append(_single(*picked[0], "".join(dict.fromkeys(c for c in picked[0][1] if c in keep))))
        else:
            (b, bi), (a, ai) = picked[0], picked[1]
            remaining.append(_pair(a, ai, b, bi, keep, sizes))
    (x, idx), = remaining
    x, idx = _single(x, idx, output)
    return _broadcast_letters(x, idx, idx, sizes)


# --- products of other kinds ---------------------------------------------------------------------------

def kron(a: ArrayLike, b: ArrayLike) -> ArrayLike:
    """The Kronecker product: blocks of ``b`` scaled by each element of ``a``.

    >>> kron(np.eye(2), np.array([[1.0, 2.0]]))
    array([[1., 2., 0., 0.],
           [0., 0., 1., 2.]])
    """
    a, b = promote(a, b)
    ndim = max(a.ndim, b.ndim)
    a = reshape(a, (1,) * (ndim - a.ndim) + a.shape)
    b = reshape(b, (1,) * (ndim - b.ndim) + b.shape)
    spread_a = reshape(a, tuple(d for dim in a.shape for d in (dim, 1)))
    spread_b = reshape(b, tuple(d for dim in b.shape for d in (1, dim)))
    return reshape(spread_a * spread_b, tuple(x * y for x, y in zip(a.shape, b.shape)))


def cross(a: ArrayLike, b: ArrayLike, axisa: int = -1, axisb: int = -1, axisc: int = -1, axis: int | None = None) -> ArrayLike:
    """The cross product of 3-vectors (or 2-vectors, giving the z component) along an axis.

    >>> cross(np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0]))
    array([0., 0., 1.])
    """
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = promote(a, b)
    a, b = moveaxis(a, axisa, -1), moveaxis(b, axisb, -1)
    if a.shape[-1] not in (2, 3) or b.shape[-1] not in (2, 3):
        raise ShapeError(with_location(f"cross: vectors must have 2 or 3 components, got shapes {a.shape} and {b.shape}"))

    both_planar = a.shape[-1] == 2 and b.shape[-1] == 2
    a, b = (x if x.shape[-1] == 3 else P.concatenate(x, np.zeros(x.shape[:-1] + (1,), x.dtype), axis=x.ndim - 1)
            for x in (a, b))
    a0, a1, a2 = (a[..., i] for i in range(3))
    b0, b1, b2 = (b[..., i] for i in range(3))
    z = a0 * b1 - a1 * b0
    if both_planar:
        return z
    out = stack(broadcast_arrays(a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, z), axis=-1)
    return moveaxis(out, -1, axisc)
