"""Numba code for the primitives that are not elementwise, inside a compiled piece: each rule
returns the statement lines that assign the result to ``out``, or ``None`` when the operation
has no Numba form here (the piece is then cut, and NumPy runs it between pieces).

Conventions: a 0-d value is a scalar variable, not an array; ``ins`` holds the operands' code
names and avals; ``c_or_f`` tells which operands are known to be contiguous (C or Fortran),
which BLAS takes as they are. Arrays are made, viewed and multiplied with ``arrays.py``'s
intrinsics (``empty``, ``full``, ``reshaped``, ``matmul``, ...), which compile in a fraction of
the time of Numba's NumPy functions.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ..primitives import convolution, indexing, linalg, reductions, shape
from ..primitives.indexing import Index


def _dtype(aval) -> str:
    return f"np.{aval.dtype.name}"


def _zeros(out: str, shape: tuple, aval) -> str:
    return f"{out} = full({shape!r}, 0, {_dtype(aval)})"


def _reshape(out, out_aval, ins, contiguous, shape):
    (x, xa), = ins
    if not shape:  # to a scalar
        return [f"{out} = {x}[{', '.join('0' * xa.ndim)}]" if xa.ndim else f"{out} = {x}"]
    if not xa.ndim:
        return [f"{out} = full({shape!r}, {x}, {_dtype(out_aval)})"]
    source = x if contiguous[0] == "C" else f"contiguous({x})"
    return [f"{out} = reshaped({source}, {shape!r})"]


def _broadcast_to(out, out_aval, ins, contiguous, shape):
    (x, xa), = ins
    if not xa.ndim:
        return [f"{out} = full({shape!r}, {x}, {_dtype(out_aval)})"]
    return [f"{out} = broadcast({x}, {shape!r})"]


def _transpose(out, out_aval, ins, contiguous, perm):
    (x, xa), = ins
    return [f"{out} = {x}.T" if perm == (1, 0) else f"{out} = permuted({x}, {perm!r})"]


# OpenBLAS runs a product of fewer multiply-adds than this on one thread. Larger products run
# with NumPy (between pieces), on NumPy's BLAS: a second BLAS thread pool (Numba's np.dot goes
# through SciPy's OpenBLAS) would spin against NumPy's for the same cores.
SINGLE_THREAD_BLAS_LIMIT = 4 * 65536


def _matmul(out, out_aval, ins, contiguous, in_loop=False):
    (x, xa), (y, ya) = ins
    if not np.issubdtype(out_aval.dtype, np.floating):
        return None  # BLAS: floats only
    if int(np.prod(out_aval.shape, dtype=np.int64)) * xa.shape[-1] > SINGLE_THREAD_BLAS_LIMIT and not in_loop:
        return None  # (inside a compiled loop there is no NumPy to hand it to)
    (m, k), n = xa.shape[-2:], ya.shape[-1]
    if k == 0:  # (BLAS is not asked for an empty sum)
        return [_zeros(out, out_aval.shape, out_aval)]
    x = x if contiguous[0] in "CF" else f"contiguous({x})"
    y = y if contiguous[1] in "CF" else f"contiguous({y})"
    if xa.ndim == 2:
        return [f"{out} = matmul({x}, {y})"]
    batch = int(np.prod(xa.shape[:-2]))
    return [f"{out}_x = reshaped(contiguous({x}), ({batch}, {m}, {k}))",
            f"{out}_y = reshaped(contiguous({y}), ({batch}, {k}, {n}))",
            f"{out}_b = empty(({batch}, {m}, {n}), {_dtype(out_aval)})",
            f"for b in range({batch}):",
            f"    matmul_into({out}_x[b], {out}_y[b], {out}_b[b])",
            f"{out} = reshaped({out}_b, {out_aval.shape!r})"]


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
    return ([f"{out} = empty({out_aval.shape!r}, {_dtype(out_aval)})"] + loops
            + [f"{body}{out}[{', '.join(idx)}] = {x}[{', '.join(sources)}]"])


def _scatter_add(out, out_aval, ins, contiguous, shape, index):
    (u, ua), arrays = ins[0], ins[1:]
    zeros = _zeros(out, shape, out_aval)
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
    """A loop nest per operand, copying it into its place along ``axis``."""
    lines = [f"{out} = empty({out_aval.shape!r}, {_dtype(out_aval)})"]
    offset = 0
    for code, aval in ins:
        idx = [f"j{d}" for d in range(aval.ndim)]
        lines += ["    " * d + f"for {idx[d]} in range({n}):" for d, n in enumerate(aval.shape)]
        place = [f"{i} + {offset}" if d == axis and offset else i for d, i in enumerate(idx)]
        lines.append("    " * aval.ndim + f"{out}[{', '.join(place)}] = {code}[{', '.join(idx)}]")
        offset += aval.shape[axis]
    return lines


def _arg_extremum(fn: str):
    """np.argmax or np.argmin along ``axis``, as loops: the first extremum, or the first NaN."""
    better = ">" if fn == "argmax" else "<"

    def rule(out, out_aval, ins, contiguous, axis):
        (x, xa), = ins
        kept = [d for d in range(xa.ndim) if d != axis]
        idx = [f"j{d}" for d in range(xa.ndim)]
        at = lambda k: ", ".join(k if d == axis else idx[d] for d in range(xa.ndim))  # noqa: E731
        lines = [f"{out} = empty({out_aval.shape!r}, {_dtype(out_aval)})"] if kept else []
        lines += ["    " * n + f"for {idx[d]} in range({xa.shape[d]}):" for n, d in enumerate(kept)]
        pad = "    " * len(kept)
        lines += [f"{pad}best, where = {x}[{at('0')}], 0",
                  f"{pad}if best == best:",
                  f"{pad}    for k in range(1, {xa.shape[axis]}):",
                  f"{pad}        v = {x}[{at('k')}]",
                  f"{pad}        if v != v:",
                  f"{pad}            where = k",
                  f"{pad}            break",
                  f"{pad}        if v {better} best:",
                  f"{pad}            best, where = v, k",
                  f"{pad}{out}[{', '.join(idx[d] for d in kept)}] = where" if kept else f"{pad}{out} = where"]
        return lines
    return rule


def _window_loops(out_shape, window, strides, dilation, padding, spatial, body):
    """Loops over (n, *out, *window) with ``p{i}``, the source position on axis i, and
    ``inside`` testing whether it falls inside the array (``None`` when no padding can put it
    outside); ``body(pad, index, source, inside)`` gives the innermost lines."""
    d = len(window)
    lines = []
    names = ["n"] + [f"o{i}" for i in range(d)] + [f"k{i}" for i in range(d)]
    sizes = [out_shape[0]] + list(out_shape[1:1 + d]) + list(window)
    for depth, (name, size) in enumerate(zip(names, sizes)):
        lines.append(f"{'    ' * depth}for {name} in range({size}):")
    inner = "    " * len(names)
    for i in range(d):
        lines.append(f"{inner}p{i} = o{i} * {strides[i]} + k{i} * {dilation[i]} - {padding[i][0]}")
    checked = [padding[i][0] > 0 or (sizes[1 + i] - 1) * strides[i] + (window[i] - 1) * dilation[i] - padding[i][0]
               >= spatial[i] for i in range(d)]
    inside = " and ".join(f"0 <= p{i} < {spatial[i]}" for i in range(d) if checked[i]) or None
    lines += body(inner, ", ".join(names), ", ".join(f"p{i}" for i in range(d)), inside)
    return lines


def _windows(out, out_aval, ins, contiguous, window, strides, dilation, padding, pad_value):
    """im2col: the input channels-last first (one copy), then a run of channels per window place
    (a loop: Numba's slice assignment costs a call per run)."""
    (x, xa), = ins
    d = len(window)
    dtype = _dtype(out_aval)
    fill = "-np.inf" if pad_value == -np.inf else ("np.inf" if pad_value == np.inf else repr(float(pad_value)))
    channels = xa.shape[1]

    def body(pad, index, source, inside):
        copy = [f"{pad}    for ch in range({channels}):", f"{pad}        {out}[{index}, ch] = {out}_x[n, {source}, ch]"]
        if inside is None:
            return [line[4:] for line in copy]
        return [f"{pad}if {inside}:", *copy, f"{pad}else:", f"{pad}    {out}[{index}, :] = {dtype}({fill})"]

    return ([f"{out}_x = contiguous(permuted({x}, {(0,) + tuple(range(2, d + 2)) + (1,)}))",
             f"{out} = empty({out_aval.shape!r}, {dtype})"]
            + _window_loops(out_aval.shape, window, strides, dilation, padding, xa.shape[2:], body))


def _unwindows(out, out_aval, ins, contiguous, shape, window, strides, dilation, padding):
    """col2im: each window place's run of channels added into a channels-last array, which is
    then transposed back (one copy)."""
    (cols, ca), = ins
    d = len(window)

    def body(pad, index, source, inside):
        add = [f"{pad}    for ch in range({shape[1]}):", f"{pad}        {out}_r[n, {source}, ch] += {cols}[{index}, ch]"]
        return [line[4:] for line in add] if inside is None else [f"{pad}if {inside}:", *add]

    return ([_zeros(f"{out}_r", (shape[0],) + tuple(shape[2:]) + (shape[1],), out_aval)]
            + _window_loops(ca.shape, window, strides, dilation, padding, shape[2:], body)
            + [f"{out} = contiguous(permuted({out}_r, {(0, d + 1) + tuple(range(1, d + 1))}))"])


def _max_pool_family(kind: str):
    """Max pooling on (N, C, *spatial) in place: per window, the flat offset ``at`` of its first
    maximum, then the value (``max_pool``), the tangent there (``max_pool_gather``), or the
    cotangent added there (``max_pool_scatter``).

    The scan starts from the window's first element inside the array and keeps one offset, with
    no NaN test in the loop: written so, the comparisons compile to conditional moves (random
    data made the branches of a NaN-aware scan 3x slower). A NaN anywhere makes ``poison`` NaN,
    and a second scan then takes the first NaN, as ``np.argmax`` does. Bounds are tested only on
    axes whose padding can put a window element outside."""
    def rule(out, out_aval, ins, contiguous, window, strides, dilation, padding):
        x, xa = ins[-1]
        d, spatial = len(window), xa.shape[2:]
        pooled = out_aval.shape if kind != "max_pool_scatter" else ins[0][1].shape
        lines = [_zeros(out, out_aval.shape, out_aval) if kind == "max_pool_scatter"
                 else f"{out} = empty({out_aval.shape!r}, {_dtype(out_aval)})"]
        loops = ["n", "c"] + [f"o{i}" for i in range(d)]
        for depth, (name, size) in enumerate(zip(loops, pooled)):
            lines.append("    " * depth + f"for {name} in range({size}):")
        pad = "    " * len(loops)
        checked = [padding[i][0] > 0 or (pooled[2 + i] - 1) * strides[i] + (window[i] - 1) * dilation[i] - padding[i][0]
                   >= spatial[i] for i in range(d)]
        start = [f"o{i} * {strides[i]} - {padding[i][0]}" for i in range(d)]
        for i in range(d):  # the first element inside on each axis
            first = (f"0 if {start[i]} >= 0 else ({padding[i][0]} - o{i} * {strides[i]} + {dilation[i] - 1}) // "
                     f"{dilation[i]}") if padding[i][0] > 0 else "0"
            lines.append(f"{pad}f{i} = {first}")
        flat = lambda ks: " + ".join(f"{k} * {int(np.prod(window[i + 1:]))}" for i, k in enumerate(ks))  # noqa: E731
        position = lambda ks: ", ".join(f"{start[i]} + {k} * {dilation[i]}" for i, k in enumerate(ks))  # noqa: E731
        lines += [f"{pad}at = {flat([f'f{i}' for i in range(d)])}",
                  f"{pad}best = {x}[n, c, {position([f'f{i}' for i in range(d)])}]",
                  f"{pad}poison = best * 0"]

        def scan(body):
            code = [pad + "    " * i + f"for k{i} in range({window[i]}):" for i in range(d)]
            inner = pad + "    " * d
            code += [f"{inner}p{i} = {start[i]} + k{i} * {dilation[i]}" for i in range(d)]
            tests = " and ".join(f"0 <= p{i} < {spatial[i]}" for i in range(d) if checked[i])
            if tests:
                code.append(f"{inner}if {tests}:")
                inner += "    "
            code.append(f"{inner}v = {x}[n, c, {', '.join(f'p{i}' for i in range(d))}]")
            return code + [inner + line for line in body]

        ks = [f"k{i}" for i in range(d)]
        lines += scan(["poison += v * 0", "if v > best:", "    best = v", f"    at = {flat(ks)}"])
        lines.append(f"{pad}if poison != poison:  # a NaN (or an infinity): the first NaN wins")
        lines.append(f"{pad}    nan_at = -1")
        lines += ["    " + line for line in scan([f"if v != v and nan_at < 0:", f"    nan_at = {flat(ks)}"])]
        lines += [f"{pad}    if nan_at >= 0:", f"{pad}        at = nan_at", f"{pad}        best = {x}[n, c, "
                  f"{position([f'(at // {int(np.prod(window[i + 1:]))}) % {window[i]}' for i in range(d)])}]"]
        source = position([f"(at // {int(np.prod(window[i + 1:]))}) % {window[i]}" for i in range(d)])
        here = ", ".join(loops)
        lines.append({"max_pool": f"{pad}{out}[{here}] = best",
                      "max_pool_gather": f"{pad}{out}[{here}] = {ins[0][0]}[n, c, {source}]",
                      "max_pool_scatter": f"{pad}{out}[n, c, {source}] += {ins[0][0]}[{here}]"}[kind])
        return lines
    return rule


STATEMENTS: dict = {
    shape.reshape: _reshape, shape.broadcast_to: _broadcast_to, shape.transpose: _transpose,
    shape.concatenate: _concatenate, linalg.matmul: _matmul, indexing.gather: _gather,
    indexing.scatter_add: _scatter_add, reductions.argmax: _arg_extremum("argmax"),
    reductions.argmin: _arg_extremum("argmin"), convolution.windows: _windows, convolution.unwindows: _unwindows,
    **{prim: _max_pool_family(prim.name) for prim in (convolution.max_pool, convolution.max_pool_gather,
                                                      convolution.max_pool_scatter)},
}


def statement(eqn, out: str, ins, contiguous, in_loop: bool = False) -> list[str] | None:
    rule: Callable | None = STATEMENTS.get(eqn.prim)
    if rule is None:
        return None
    extra = {"in_loop": True} if in_loop and rule is _matmul else {}
    return rule(out, eqn.out.aval, ins, contiguous, **eqn.params, **extra)
