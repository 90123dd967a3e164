"""Numba code for the primitives that are not elementwise, inside a compiled piece: each rule
returns the statement lines that assign the result to ``out``, or ``None`` when the operation
has no Numba form here (the piece is then cut, and NumPy runs it between pieces).

Conventions: a 0-d value is a scalar variable, not an array; ``ins`` holds the operands' code
names and avals; ``c_or_f`` tells which operands are known to be contiguous (C or Fortran),
which BLAS takes as they are.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ..primitives import convolution, indexing, linalg, reductions, shape
from ..primitives.indexing import Index


def _as_array(code: str, aval) -> str:
    return code if aval.ndim else f"np.full((1,), {code})"


def _reshape(out, out_aval, ins, contiguous, shape):
    (x, xa), = ins
    if not shape:  # to a scalar
        return [f"{out} = {_as_array(x, xa)}.ravel()[0]" if xa.ndim else f"{out} = {x}"]
    if not xa.ndim:
        return [f"{out} = np.full({shape!r}, {x})"]
    source = x if contiguous[0] == "C" else f"np.ascontiguousarray({x})"
    return [f"{out} = {source}.reshape({shape!r})"]


def _broadcast_to(out, out_aval, ins, contiguous, shape):
    (x, xa), = ins
    return [f"{out} = np.broadcast_to({x}, {shape!r})" if xa.ndim else f"{out} = np.full({shape!r}, {x})"]


def _transpose(out, out_aval, ins, contiguous, perm):
    (x, xa), = ins
    return [f"{out} = {x}.T" if perm == (1, 0) else f"{out} = np.transpose({x}, {perm!r})"]


# OpenBLAS runs a product of fewer multiply-adds than this on one thread. Larger products run
# with NumPy (between pieces), on NumPy's BLAS: a second BLAS thread pool (Numba's np.dot goes
# through SciPy's OpenBLAS) would spin against NumPy's for the same cores.
SINGLE_THREAD_BLAS_LIMIT = 4 * 65536


def _matmul(out, out_aval, ins, contiguous, in_loop=False):
    (x, xa), (y, ya) = ins
    if not np.issubdtype(out_aval.dtype, np.floating):
        return None  # Numba's np.dot is BLAS: floats only
    if int(np.prod(out_aval.shape, dtype=np.int64)) * xa.shape[-1] > SINGLE_THREAD_BLAS_LIMIT and not in_loop:
        return None  # (inside a compiled loop there is no NumPy to hand it to)
    x = x if contiguous[0] in "CF" else f"np.ascontiguousarray({x})"
    y = y if contiguous[1] in "CF" else f"np.ascontiguousarray({y})"
    if xa.ndim == 2:
        return [f"{out} = np.dot({x}, {y})"]
    batch = int(np.prod(xa.shape[:-2]))
    (m, k), n = xa.shape[-2:], ya.shape[-1]
    return [f"{out}_x = np.ascontiguousarray({x}).reshape(({batch}, {m}, {k}))",
            f"{out}_y = np.ascontiguousarray({y}).reshape(({batch}, {k}, {n}))",
            f"{out}_b = np.empty(({batch}, {m}, {n}), np.{out_aval.dtype.name})",
            f"for b in range({batch}):",
            f"    {out}_b[b] = np.dot({out}_x[b], {out}_y[b])",
            f"{out} = {out}_b.reshape({out_aval.shape!r})"]


def _index_code(items, arrays: list[str]) -> str:
    it = iter(arrays)
    parts = []
    for i in items:
        if i == Index.ARRAY:
            parts.append(next(it))
        elif isinstance(i, tuple):
            start, stop, step = ("" if v is None else str(v) for v in i[1:])
            parts.append(f"{start}:{stop}" + (f":{step}" if step else ""))
        else:
            parts.append("..." if i is Ellipsis else repr(i))
    return ", ".join(parts)


def _leading_advanced(index: Index, ins) -> tuple[int, tuple] | None:
    """For an index made of arrays and ints first, then only full slices: how many leading
    axes it indexes and the broadcast shape of the index arrays; else None."""
    items = index.items
    k = 0
    while k < len(items) and (items[k] == Index.ARRAY or isinstance(items[k], int)):
        k += 1
    if any(i != ("slice", None, None, None) for i in items[k:]):
        return None
    shapes = [a.shape for _, a in ins]
    return k, (np.broadcast_shapes(*shapes) if shapes else ())


def _advanced_loops(index: Index, arrays, out_prefix_shape):
    """Loop headers over the broadcast index shape and the source index expressions."""
    idx = [f"j{d}" for d in range(len(out_prefix_shape))]
    lines = [("    " * d) + f"for {idx[d]} in range({n}):" for d, n in enumerate(out_prefix_shape)]
    it = iter(arrays)
    sources = []
    for i in index.items:
        if i == Index.ARRAY:
            code, aval = next(it)
            lead = len(out_prefix_shape) - aval.ndim
            sub = ", ".join(idx[lead + j] if d != 1 else "0" for j, d in enumerate(aval.shape))
            sources.append(f"{code}[{sub}]" if aval.ndim else code)
        elif isinstance(i, int):
            sources.append(repr(i))
    return lines, idx, sources


def _gather(out, out_aval, ins, contiguous, index):
    (x, xa), arrays = ins[0], ins[1:]
    if not xa.ndim:
        return None  # a 0-d value is a scalar inside a piece: nothing to index
    if not index.num_arrays:
        return [f"{out} = {x}[{_index_code(index.items, [])}]"]
    found = _leading_advanced(index, arrays)
    if found is None:
        return None
    k, prefix = found
    loops, idx, sources = _advanced_loops(index, arrays, prefix)
    if not prefix:  # 0-d index arrays: one element or one slab
        return [f"{out} = {x}[{', '.join(sources)}]"]
    body = "    " * len(prefix)
    return ([f"{out} = np.empty({out_aval.shape!r}, np.{out_aval.dtype.name})"] + loops
            + [f"{body}{out}[{', '.join(idx)}] = {x}[{', '.join(sources)}]"])


def _scatter_add(out, out_aval, ins, contiguous, shape, index):
    (u, ua), arrays = ins[0], ins[1:]
    zeros = f"{out} = np.zeros({shape!r}, np.{out_aval.dtype.name})"
    if not index.num_arrays:
        return [zeros, f"{out}[{_index_code(index.items, [])}] = {u}"]
    found = _leading_advanced(index, arrays)
    if found is None:
        return None
    k, prefix = found
    loops, idx, sources = _advanced_loops(index, arrays, prefix)
    gathered_ndim = len(prefix) + len(shape) - k
    lead = gathered_ndim - ua.ndim
    update = f"{u}[{', '.join(idx[lead + j] if d != 1 else '0' for j, d in enumerate(ua.shape[:len(prefix) - lead]))}]" \
        if ua.ndim > len(shape) - k else u
    body = "    " * len(prefix)
    return [zeros] + loops + [f"{body}{out}[{', '.join(sources)}] += {update}"]


def _concatenate(out, out_aval, ins, contiguous, axis):
    return [f"{out} = np.concatenate(({''.join(code + ', ' for code, _ in ins)}), axis={axis})"]


def _arg_extremum(fn: str):
    def rule(out, out_aval, ins, contiguous, axis):
        (x, xa), = ins
        return [f"{out} = np.{fn}({x})" if xa.ndim == 1 else f"{out} = np.{fn}({x}, axis={axis})"]
    return rule


def _window_loops(indent: int, out_shape, window, strides, dilation, padding, spatial, body):
    """Loops over (n, *out, *window) with ``p{i}``, the padded-free source position on axis i, and
    ``inside`` telling whether it falls inside the array; ``body(index)`` gives the innermost lines."""
    d = len(window)
    lines, pad = [], "    " * indent
    names = ["n"] + [f"o{i}" for i in range(d)] + [f"k{i}" for i in range(d)]
    sizes = [out_shape[0]] + list(out_shape[1:1 + d]) + list(window)
    for depth, (name, size) in enumerate(zip(names, sizes)):
        lines.append(f"{pad}{'    ' * depth}for {name} in range({size}):")
    inner = pad + "    " * len(names)
    for i in range(d):
        lines.append(f"{inner}p{i} = o{i} * {strides[i]} + k{i} * {dilation[i]} - {padding[i][0]}")
    inside = " and ".join(f"0 <= p{i} < {spatial[i]}" for i in range(d))
    lines += body(inner, ", ".join(names), ", ".join(f"p{i}" for i in range(d)), inside)
    return lines


def _windows(out, out_aval, ins, contiguous, window, strides, dilation, padding, pad_value):
    """im2col: the input channels-last first (one copy), then a run of channels per window place."""
    (x, xa), = ins
    d = len(window)
    dtype = f"np.{out_aval.dtype.name}"
    fill = "-np.inf" if pad_value == -np.inf else ("np.inf" if pad_value == np.inf else repr(float(pad_value)))

    def body(pad, index, source, inside):
        return [f"{pad}if {inside}:", f"{pad}    {out}[{index}, :] = {out}_x[n, {source}, :]",
                f"{pad}else:", f"{pad}    {out}[{index}, :] = {dtype}({fill})"]

    return ([f"{out}_x = np.ascontiguousarray(np.transpose({x}, {(0,) + tuple(range(2, d + 2)) + (1,)}))",
             f"{out} = np.empty({out_aval.shape!r}, {dtype})"]
            + _window_loops(0, out_aval.shape, window, strides, dilation, padding, xa.shape[2:], body))


def _unwindows(out, out_aval, ins, contiguous, shape, window, strides, dilation, padding):
    """col2im: each window place's run of channels added into a channels-last array, which is
    then transposed back (one copy)."""
    (cols, ca), = ins
    d = len(window)

    def body(pad, index, source, inside):
        return [f"{pad}if {inside}:", f"{pad}    {out}_r[n, {source}, :] += {cols}[{index}, :]"]

    return ([f"{out}_r = np.zeros({(shape[0],) + tuple(shape[2:]) + (shape[1],)!r}, np.{out_aval.dtype.name})"]
            + _window_loops(0, ca.shape, window, strides, dilation, padding, shape[2:], body)
            + [f"{out} = np.ascontiguousarray(np.transpose({out}_r, {(0, d + 1) + tuple(range(1, d + 1))}))"])


STATEMENTS: dict = {
    shape.reshape: _reshape, shape.broadcast_to: _broadcast_to, shape.transpose: _transpose,
    shape.concatenate: _concatenate, linalg.matmul: _matmul, indexing.gather: _gather,
    indexing.scatter_add: _scatter_add, reductions.argmax: _arg_extremum("argmax"),
    reductions.argmin: _arg_extremum("argmin"), convolution.windows: _windows, convolution.unwindows: _unwindows,
}


def statement(eqn, out: str, ins, contiguous, in_loop: bool = False) -> list[str] | None:
    rule: Callable | None = STATEMENTS.get(eqn.prim)
    if rule is None:
        return None
    extra = {"in_loop": True} if in_loop and rule is _matmul else {}
    return rule(out, eqn.out.aval, ins, contiguous, **eqn.params, **extra)
