"""The two primitives convolutions and pooling are made of: ``windows`` gathers the sliding
windows of an array's spatial axes (im2col), ``unwindows`` adds windows back into place
(col2im). Each is the other's transpose, so each is the other's vjp, and both are linear.

A convolution is ``windows`` then one matrix product (``micrograd.nn.convolution``): its gradient
with respect to the input, a transposed convolution, is a matrix product then ``unwindows``, and
with respect to the weights a matrix product with the same windows. Pooling reduces the windows.

Layouts: ``x`` is ``(N, C, *spatial)`` (PyTorch's NCHW); the windows are ``(N, *out, *window,
C)``, so that their rows, one per output position, meet the weights in a single product, and
the copies that build them move contiguous runs of channels.
"""
from __future__ import annotations

import numpy as np

from ..core.errors import ShapeError, with_location
from ..core.ir import Aval
from ..core.primitive import Primitive
from . import shape as _shape


def output_size(size: int, window: int, stride: int, dilation: int, lo: int, hi: int) -> int:
    """How many windows of ``window`` elements ``dilation`` apart, ``stride`` apart, fit along an
    axis of ``size`` padded by ``lo`` and ``hi``."""
    return (size + lo + hi - ((window - 1) * dilation + 1)) // stride + 1


def _geometry(shape, window, strides, dilation, padding):
    return tuple(output_size(n, k, s, d, lo, hi) for n, k, s, d, (lo, hi) in
                 zip(shape, window, strides, dilation, padding))


def _check(name: str, x_shape, window, strides, dilation, padding):
    d = len(window)
    if len(x_shape) != d + 2:
        raise ShapeError(with_location(f"{name}: expects (N, C, {d} spatial axes), got shape {x_shape}"))
    out = _geometry(x_shape[2:], window, strides, dilation, padding)
    if any(n <= 0 for n in out):
        raise ShapeError(with_location(
            f"{name}: a window of {window} (dilation {dilation}) does not fit spatial axes {x_shape[2:]} padded by "
            f"{padding}"))
    return out


def _padded(x, padding, value):
    """``x`` with its spatial axes padded (negative widths crop)."""
    spatial = x.shape[2:]
    grow = [(max(lo, 0), max(hi, 0)) for lo, hi in padding]
    if any(lo or hi for lo, hi in grow):
        padded = np.full(x.shape[:2] + tuple(n + lo + hi for n, (lo, hi) in zip(spatial, grow)), value, x.dtype)
        padded[(slice(None), slice(None)) + tuple(slice(lo, lo + n) for n, (lo, _) in zip(spatial, grow))] = x
        x = padded
    if any(lo < 0 or hi < 0 for lo, hi in padding):
        x = x[(slice(None), slice(None)) + tuple(slice(-min(lo, 0), n - min(hi, 0) if hi < 0 else None)
                                               for n, (lo, hi) in zip(x.shape[2:], padding))]
    return x


def _channels_last(x):
    return np.ascontiguousarray(np.moveaxis(x, 1, -1))


def _windows_impl(x, window, strides, dilation, padding, pad_value):
    """One strided copy per window offset, in channels-last order (the copies then move
    contiguous runs of channels)."""
    d = len(window)
    out = _geometry(x.shape[2:], window, strides, dilation, padding)
    x = _channels_last(_padded(np.asarray(x), padding, pad_value))  # (N, *padded, C)
    result = np.empty(x.shape[:1] + out + tuple(window) + x.shape[-1:], x.dtype)
    for offset in np.ndindex(*window):
        source = tuple(slice(k * dl, k * dl + (n - 1) * s + 1, s) for k, dl, n, s in zip(offset, dilation, out, strides))
        result[(slice(None),) * (d + 1) + offset] = x[(slice(None),) + source]
    return result  # (N, *out, *window, C)


def _windows_shape(x, window, strides, dilation, padding, pad_value):
    out = _check("windows", x.shape, window, strides, dilation, padding)
    return Aval(x.shape[:1] + out + tuple(window) + x.shape[1:2], x.dtype)


def _unwindows_impl(cols, shape, window, strides, dilation, padding):
    d = len(window)
    spatial = shape[2:]
    padded = tuple(n + lo + hi for n, (lo, hi) in zip(spatial, padding))
    out = _geometry(spatial, window, strides, dilation, padding)
    result = np.zeros(shape[:1] + padded + shape[1:2], cols.dtype)  # channels last while adding
    cols = np.asarray(cols)
    for offset in np.ndindex(*window):
        region = tuple(slice(k * dl, k * dl + (n - 1) * s + 1, s) for k, dl, n, s in zip(offset, dilation, out, strides))
        result[(slice(None),) + region] += cols[(slice(None),) * (d + 1) + offset]
    result = result[(slice(None),) + tuple(slice(lo, lo + n) for n, (lo, _) in zip(spatial, padding))]
    return np.ascontiguousarray(np.moveaxis(result, -1, 1))


def _unwindows_shape(cols, shape, window, strides, dilation, padding):
    out = _check("unwindows", shape, window, strides, dilation, padding)
    expected = shape[:1] + out + tuple(window) + shape[1:2]
    if cols.shape != expected:
        raise ShapeError(with_location(f"unwindows: windows of shape {cols.shape} do not fit an array of shape {shape} "
                                       f"(expected {expected})"))
    return Aval(shape, cols.dtype)


def _fold_batch(prim, shape_param: bool):
    """vmap: the mapped axis joins N (the arrays' first axis)."""
    def batch(args, dims, **params):
        x = _shape.move_axis(args[0], dims[0], 0)
        b, n = x.shape[:2]
        flat = _shape.reshape(x, shape=(b * n,) + x.shape[2:])
        if shape_param:
            params = dict(params, shape=(b * params["shape"][0],) + params["shape"][1:])
        out = prim(flat, **params)
        return _shape.reshape(out, shape=(b, n) + out.shape[1:]), 0
    return batch


windows = Primitive(
    "windows", _windows_impl, _windows_shape,
    jvp=(lambda t, out, x, window, strides, dilation, padding, pad_value:
         windows(t, window=window, strides=strides, dilation=dilation, padding=padding, pad_value=0.0),),
    vjp=(lambda ct, out, x, window, strides, dilation, padding, pad_value:
         unwindows(ct, shape=x.shape, window=window, strides=strides, dilation=dilation, padding=padding),))
windows.batch = _fold_batch(windows, shape_param=False)

unwindows = Primitive(
    "unwindows", _unwindows_impl, _unwindows_shape,
    jvp=(lambda t, out, cols, shape, window, strides, dilation, padding:
         unwindows(t, shape=shape, window=window, strides=strides, dilation=dilation, padding=padding),),
    vjp=(lambda ct, out, cols, shape, window, strides, dilation, padding:
         windows(ct, window=window, strides=strides, dilation=dilation, padding=padding, pad_value=0.0),))
unwindows.batch = _fold_batch(unwindows, shape_param=True)

