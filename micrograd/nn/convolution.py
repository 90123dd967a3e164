"""Convolution and pooling in any number of spatial dimensions, with PyTorch's layouts: inputs
``(N, C, *spatial)``, convolution weights ``(out_channels, in_channels / groups, *kernel)``,
transposed-convolution weights ``(in_channels, out_channels / groups, *kernel)``.

A convolution is ``windows`` (the input's sliding windows, im2col) and one matrix product per
group, which runs on BLAS; its derivatives follow from those two (the input's gradient is a
transposed convolution: a product, then ``unwindows``, col2im). A transposed convolution is
the same two steps in the other order. Max pooling is a primitive of its own (its derivative
goes to each window's first maximum), average pooling a sum over windows divided by each
window's count.

>>> import numpy as np, micrograd as mg
>>> from micrograd.nn import convolution
>>> x = np.arange(16.0).reshape(1, 1, 4, 4)
>>> convolution.conv(x, np.ones((1, 1, 2, 2)), stride=2)  # sums of 2x2 blocks
array([[[[10., 18.],
         [42., 50.]]]])
>>> convolution.max_pool(x, 2)
array([[[[ 5.,  7.],
         [13., 15.]]]])
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import numpy as mnp
from .. import primitives as P
from ..core.errors import ShapeError, with_location
from ..numpy._core import promote, promote_float

__all__ = ["conv", "conv_transpose", "max_pool", "avg_pool", "adaptive_avg_pool"]


def _tuple(value: Any, d: int, what: str, name: str, minimum: int = 1) -> tuple[int, ...]:
    values = (value,) * d if isinstance(value, (int, np.integer)) else tuple(value)
    if len(values) != d or any(not isinstance(v, (int, np.integer)) or v < minimum for v in values):
        raise ValueError(with_location(f"{name}: {what} must be {'a positive' if minimum else 'a non-negative'} int "
                                       f"or {d} of them, got {value!r}"))
    return tuple(int(v) for v in values)


def _padding(padding: Any, d: int, kernel, dilation, stride, name: str) -> tuple[tuple[int, int], ...]:
    """PyTorch's padding (an int, one per axis, 'valid' or 'same'), or one (before, after) pair per
    axis for asymmetric padding."""
    if isinstance(padding, str) and padding not in ("valid", "same"):
        raise ValueError(with_location(f"{name}: padding must be an int, {d} ints, {d} (before, after) pairs, 'valid' "
                                       f"or 'same', got {padding!r}"))
    if padding == "valid":
        return ((0, 0),) * d
    if padding == "same":
        if any(s != 1 for s in stride):
            raise ValueError(with_location(f"{name}: padding='same' needs stride 1, got stride {stride}"))
        total = [(k - 1) * dl for k, dl in zip(kernel, dilation)]
        return tuple((t // 2, t - t // 2) for t in total)
    if isinstance(padding, (int, np.integer)):
        padding = (padding,) * d
    padding = tuple(padding)
    if len(padding) == d and all(isinstance(p, (int, np.integer)) for p in padding):
        pairs = tuple((int(p), int(p)) for p in padding)
    elif len(padding) == d and all(isinstance(p, (tuple, list)) and len(p) == 2 for p in padding):
        pairs = tuple((int(lo), int(hi)) for lo, hi in padding)
    else:
        raise ValueError(with_location(f"{name}: padding must be an int, {d} ints, {d} (before, after) pairs, 'valid' "
                                       f"or 'same', got {padding!r}"))
    if any(lo < 0 or hi < 0 for lo, hi in pairs):
        raise ValueError(with_location(f"{name}: padding must not be negative, got {padding!r}"))
    return pairs


def _check_groups(groups, channels: int, which: str, name: str) -> int:
    groups = int(groups)
    if groups < 1 or channels % groups:
        raise ValueError(with_location(f"{name}: groups={groups} must be positive and divide the {channels} {which} "
                                       "channels"))
    return groups


def _check_input(x, d: int, channels: int | None, name: str):
    x = mnp.asarray(x)
    if x.ndim == d + 1:
        raise ShapeError(with_location(
            f"{name} expects a batch (N, C, {', '.join('HW'[-d:] if d <= 2 else 'DHW')}), got shape {x.shape}: the batch "
            f"axis is missing; add it with x[None] (or mg.numpy.expand_dims(x, 0)) for a single example"))
    if x.ndim != d + 2:
        raise ShapeError(with_location(f"{name} expects inputs with {d + 2} axes (N, C, {d} spatial), got shape {x.shape}"))
    if channels is not None and x.shape[1] != channels:
        raise ShapeError(with_location(f"{name}: the input has {x.shape[1]} channels (shape {x.shape}) but the weight "
                                       f"expects {channels}"))
    return x


def conv(x, weight, bias=None, stride: Any = 1, padding: Any = 0, dilation: Any = 1, groups: int = 1, *,
         name: str = "conv"):
    """An N-d convolution (cross-correlation, as in PyTorch): ``x`` is ``(N, C, *spatial)``,
    ``weight`` is ``(O, C / groups, *kernel)``; the result is ``(N, O, *out)``.

    >>> import numpy as np
    >>> conv(np.ones((1, 2, 3)), np.ones((4, 2, 2)), padding=1).shape  # 1-d: 3 positions, kernel 2
    (1, 4, 4)
    """
    weight = mnp.asarray(weight)
    d = weight.ndim - 2
    if d < 1:
        raise ShapeError(with_location(f"{name}: the weight must be (out_channels, in_channels / groups, *kernel), got "
                                       f"shape {weight.shape}"))
    out_channels, group_channels, kernel = weight.shape[0], weight.shape[1], weight.shape[2:]
    groups = _check_groups(groups, out_channels, "output", name)
    x = _check_input(x, d, None, name)
    if x.shape[1] % groups or x.shape[1] // groups != group_channels:
        raise ShapeError(with_location(
            f"{name}: the input has {x.shape[1]} channels (shape {x.shape}) but the weight of shape {weight.shape} "
            f"expects {group_channels * groups} ({group_channels} per group, {groups} group{'s' if groups > 1 else ''})"))
    stride, dilation = _tuple(stride, d, "stride", name), _tuple(dilation, d, "dilation", name)
    pads = _padding(padding, d, kernel, dilation, stride, name)
    for n, k, dl, (lo, hi) in zip(x.shape[2:], kernel, dilation, pads):
        if n + lo + hi < (k - 1) * dl + 1:
            raise ShapeError(with_location(f"{name}: the kernel {kernel} (dilation {dilation}) is larger than the padded "
                                           f"input {tuple(n + lo + hi for n, (lo, hi) in zip(x.shape[2:], pads))}"))
    x, weight = promote(x, weight)
    cols = P.windows(x, window=kernel, strides=stride, dilation=dilation, padding=pads, pad_value=0.0)
    n, out = x.shape[0], cols.shape[1:1 + d]
    rows, per_group = n * math.prod(out), group_channels * math.prod(kernel)
    # the weights in the windows' order, (kernel..., channels): (O, C/g, *K) -> (C/g * K, O) per group
    w = P.transpose(weight, perm=tuple(range(2, d + 2)) + (1, 0))  # (*K, C/g, O)
    if groups == 1:
        y = P.matmul(P.reshape(cols, shape=(rows, per_group)), P.reshape(w, shape=(per_group, out_channels)))
    else:  # the windows' channels split into groups: (rows, *K, G, C/g) -> (G, rows, K * C/g)
        k = math.prod(kernel)
        cols = P.reshape(cols, shape=(rows, k, groups, group_channels))
        cols = P.reshape(P.transpose(cols, perm=(2, 0, 1, 3)), shape=(groups, rows, per_group))
        w = P.reshape(w, shape=(k, group_channels, groups, out_channels // groups))
        w = P.reshape(P.transpose(w, perm=(2, 0, 1, 3)), shape=(groups, per_group, out_channels // groups))
        y = P.reshape(P.transpose(P.matmul(cols, w), perm=(1, 0, 2)), shape=(rows, out_channels))
    y = P.reshape(y, shape=(n,) + out + (out_channels,))
    y = P.transpose(y, perm=(0, d + 1) + tuple(range(1, d + 1)))
    return _add_bias(y, bias, out_channels, d, name)


def conv_transpose(x, weight, bias=None, stride: Any = 1, padding: Any = 0, output_padding: Any = 0,
                   groups: int = 1, dilation: Any = 1, *, name: str = "conv_transpose"):
    """An N-d transposed convolution (the gradient of a convolution with respect to its input,
    as PyTorch's ``conv_transpose``): ``weight`` is ``(C, O / groups, *kernel)``; each output axis
    has ``(n - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1`` elements.

    >>> import numpy as np
    >>> conv_transpose(np.ones((1, 1, 2, 2)), np.ones((1, 1, 2, 2)), stride=2).shape
    (1, 1, 4, 4)
    """
    weight = mnp.asarray(weight)
    d = weight.ndim - 2
    in_channels, group_out, kernel = weight.shape[0], weight.shape[1], weight.shape[2:]
    groups = _check_groups(groups, in_channels, "input", name)
    x = _check_input(x, d, in_channels, name)
    if isinstance(padding, str):
        raise ValueError(with_location(f"{name}: padding must be an int or {d} ints (a transposed convolution has no "
                                       f"'same' or 'valid'), got {padding!r}"))
    stride, dilation = _tuple(stride, d, "stride", name), _tuple(dilation, d, "dilation", name)
    pads = _padding(padding, d, kernel, dilation, stride, name)
    extra = _tuple(output_padding, d, "output_padding", name, minimum=0)
    if any(e >= max(s, dl) for e, s, dl in zip(extra, stride, dilation)):
        raise ValueError(with_location(f"{name}: output_padding {extra} must be smaller than the stride {stride} or the "
                                       f"dilation {dilation}"))
    x, weight = promote(x, weight)
    n, spatial = x.shape[0], x.shape[2:]
    out_channels = group_out * groups
    out = tuple((m - 1) * s - lo - hi + dl * (k - 1) + e + 1
                for m, s, (lo, hi), dl, k, e in zip(spatial, stride, pads, dilation, kernel, extra))
    if any(o <= 0 for o in out):
        raise ShapeError(with_location(f"{name}: padding {padding} leaves no output for inputs of spatial shape {spatial}"))
    rows = n * math.prod(spatial)
    per_group = group_out * math.prod(kernel)
    flat = P.reshape(P.transpose(x, perm=(0,) + tuple(range(2, d + 2)) + (1,)), shape=(rows, in_channels))
    k = math.prod(kernel)
    # the weights (C, O/g, *K) as (C, *K, O/g): each input channel's contribution to every window place
    w = P.transpose(weight, perm=(0,) + tuple(range(2, d + 2)) + (1,))
    if groups == 1:
        cols = P.matmul(flat, P.reshape(w, shape=(in_channels, per_group)))
        cols = P.reshape(cols, shape=(n,) + spatial + kernel + (out_channels,))
    else:
        flat = P.transpose(P.reshape(flat, shape=(rows, groups, in_channels // groups)), perm=(1, 0, 2))
        w = P.reshape(w, shape=(groups, in_channels // groups, per_group))
        cols = P.matmul(flat, w)  # (G, rows, K * O/g) -> (rows, K, G, O/g): the windows' order
        cols = P.transpose(P.reshape(cols, shape=(groups, rows, k, group_out)), perm=(1, 2, 0, 3))
        cols = P.reshape(cols, shape=(n,) + spatial + kernel + (out_channels,))
    # the output, padded by (lo, hi - output_padding), is what a convolution's windows were taken from
    y = P.unwindows(cols, shape=(n, out_channels) + out, window=kernel, strides=stride, dilation=dilation,
                    padding=tuple((lo, hi - e) for (lo, hi), e in zip(pads, extra)))
    return _add_bias(y, bias, out_channels, d, name)


def _add_bias(y, bias, out_channels: int, d: int, name: str):
    if bias is None:
        return y
    bias = mnp.asarray(bias)
    if bias.shape != (out_channels,):
        raise ShapeError(with_location(f"{name}: the bias must have shape ({out_channels},), one per output channel, "
                                       f"got {bias.shape}"))
    return y + mnp.reshape(bias, (out_channels,) + (1,) * d)


def _pool_padding(spatial, kernel, stride, dilation, padding, ceil_mode: bool, name: str):
    """(before, after) padding, the after side grown for ``ceil_mode`` (PyTorch's rule: a last
    window must start inside the input or its left padding)."""
    pads = []
    for n, k, s, dl, p in zip(spatial, kernel, stride, dilation, padding):
        span = (k - 1) * dl + 1
        size = (n + 2 * p - span) // s + 1
        if ceil_mode:
            size = -(-(n + 2 * p - span) // s) + 1
            if (size - 1) * s >= n + p:
                size -= 1
        if size <= 0:
            raise ShapeError(with_location(
                f"{name}: a window of {kernel} (dilation {dilation}) does not fit the input's spatial shape "
                f"{tuple(spatial)} padded by {padding}"))
        pads.append((p, max(p, (size - 1) * s + span - n - p)))
    return tuple(pads)


def _pool_arguments(x, kernel_size, stride, padding, dilation, d: int, name: str):
    x = _check_input(x, d, None, name)
    kernel = _tuple(kernel_size, d, "kernel_size", name)
    stride = kernel if stride is None else _tuple(stride, d, "stride", name)
    dilation = _tuple(dilation, d, "dilation", name)
    padding = _tuple(padding, d, "padding", name, minimum=0)
    if any(2 * p > k for p, k in zip(padding, kernel)):
        raise ValueError(with_location(f"{name}: padding {padding} must be at most half the kernel {kernel}"))
    return x, kernel, stride, dilation, padding


def _tiles(x, kernel, d: int):
    """Non-overlapping windows without padding as a reshape: (N, C, *out, *kernel), no copy
    (a trailing remainder that fills no window is cut off first)."""
    out = tuple(n // k for n, k in zip(x.shape[2:], kernel))
    if any(o * k != n for o, k, n in zip(out, kernel, x.shape[2:])):
        x = x[(slice(None), slice(None)) + tuple(slice(0, o * k) for o, k in zip(out, kernel))]
    tiles = mnp.reshape(x, x.shape[:2] + tuple(v for o, k in zip(out, kernel) for v in (o, k)))
    return mnp.transpose(tiles, (0, 1) + tuple(range(2, 2 + 2 * d, 2)) + tuple(range(3, 3 + 2 * d, 2)))


def max_pool(x, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1, ceil_mode: bool = False,
             *, d: int = 2, name: str = "max_pool"):
    """The maximum over each window (padding counts as -inf); the first maximum of a window
    takes its derivative, as in PyTorch.

    >>> import numpy as np
    >>> max_pool(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]), 2)
    array([[[[4.]]]])
    """
    x, kernel, stride, dilation, padding = _pool_arguments(x, kernel_size, stride, padding, dilation, d, name)
    pads = _pool_padding(x.shape[2:], kernel, stride, dilation, padding, ceil_mode, name)
    if not np.issubdtype(x.dtype, np.floating):
        x = mnp.astype(x, np.float64)
    return P.max_pool(x, window=kernel, strides=stride, dilation=dilation, padding=pads)


def avg_pool(x, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
             count_include_pad: bool = True, divisor_override: int | None = None, *, d: int = 2,
             name: str = "avg_pool"):
    """The mean over each window: padding counts as zeros, in the divisor too with
    ``count_include_pad`` (never the cells ``ceil_mode`` adds beyond it), as in PyTorch.

    >>> import numpy as np
    >>> avg_pool(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]), 2)
    array([[[[2.5]]]])
    """
    x, kernel, stride, dilation, padding = _pool_arguments(x, kernel_size, stride, padding, 1, d, name)
    pads = _pool_padding(x.shape[2:], kernel, stride, dilation, padding, ceil_mode, name)
    x = promote_float(x)[0]
    if stride == kernel and not any(lo or hi for lo, hi in pads):
        total = mnp.sum(_tiles(x, kernel, d), axis=tuple(range(2 + d, 2 + 2 * d)))
    else:
        cols = P.windows(x, window=kernel, strides=stride, dilation=dilation, padding=pads, pad_value=0.0)
        total = mnp.moveaxis(mnp.sum(cols, axis=tuple(range(d + 1, 2 * d + 1))), -1, 1)  # (N, C, *out)
    if divisor_override is not None:
        return total / divisor_override
    counts = 1.0
    for axis, (n, k, s, p, (lo, hi), m) in enumerate(zip(x.shape[2:], kernel, stride, padding, pads, total.shape[2:])):
        starts = np.arange(m) * s - lo
        ends = np.minimum(starts + k, n + p)  # the window, cut where the padding ends
        if not count_include_pad:
            starts, ends = np.maximum(starts, 0), np.minimum(ends, n)
        counts = counts * (ends - starts).astype(x.dtype).reshape((m,) + (1,) * (d - axis - 1))
    return total / counts


def adaptive_avg_pool(x, output_size: Any, *, d: int = 2, name: str = "adaptive_avg_pool"):
    """The mean over ``output_size`` windows per axis, window ``i`` of ``n`` elements spanning
    ``[floor(i n / out), ceil((i + 1) n / out))``, as in PyTorch (``None`` keeps an axis).

    >>> import numpy as np
    >>> adaptive_avg_pool(np.arange(16.0).reshape(1, 1, 4, 4), 1)
    array([[[[7.5]]]])
    """
    x = _check_input(x, d, None, name)
    sizes = (output_size,) * d if isinstance(output_size, (int, np.integer)) or output_size is None else tuple(output_size)
    if len(sizes) != d or any(s is not None and (not isinstance(s, (int, np.integer)) or s <= 0) for s in sizes):
        raise ValueError(with_location(f"{name}: output_size must be {d} positive ints (or None), got {output_size!r}"))
    sizes = tuple(n if s is None else int(s) for n, s in zip(x.shape[2:], sizes))
    x = promote_float(x)[0]
    if all(n % s == 0 for n, s in zip(x.shape[2:], sizes)):  # equal windows: one average pool
        kernel = tuple(n // s for n, s in zip(x.shape[2:], sizes))
        return avg_pool(x, kernel, kernel, d=d, name=name)
    for axis, (n, s) in enumerate(zip(x.shape[2:], sizes)):  # axis by axis, window by window
        parts = []
        for i in range(s):
            start, end = (i * n) // s, -(-((i + 1) * n) // s)
            index = (slice(None),) * (axis + 2) + (slice(start, end),)
            parts.append(mnp.mean(x[index], axis=axis + 2, keepdims=True))
        x = mnp.concatenate(parts, axis=axis + 2)
    return x

