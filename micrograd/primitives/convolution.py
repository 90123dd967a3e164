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
    # (a negative ``hi`` leaves the array's last elements outside every window: they stay zero)
    padded = tuple(n + lo + max(hi, 0) for n, (lo, hi) in zip(spatial, padding))
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



# --- max pooling ------------------------------------------------------------------------------------
# The maximum of each window, and its derivative: the first maximum of each window (in the
# window's row-major order) takes the whole derivative, as in PyTorch and JAX. ``max_pool_gather``
# (forward mode: the tangent at each window's maximum) and ``max_pool_scatter`` (reverse mode: the
# cotangent added at each window's maximum) are each other's transposes, linear in their first
# argument; the positions depend on ``x`` only piecewise-constantly, so ``x`` has no derivative.

def _first_maxima(x, window, strides, dilation, padding):
    """``(cols, positions)``: the windows ``(N, *out, K, C)`` with the window flattened, and the
    flat position in each window of its first maximum ``(N, *out, 1, C)``."""
    cols = _windows_impl(x, window, strides, dilation, padding, -np.inf)
    d = len(window)
    cols = cols.reshape(cols.shape[:1 + d] + (-1, cols.shape[-1]))
    return cols, np.expand_dims(np.argmax(cols, axis=d + 1), d + 1)


def _to_channels_first(a):
    return np.ascontiguousarray(np.moveaxis(a, -1, 1))


def _max_pool_impl(x, window, strides, dilation, padding):
    cols, at = _first_maxima(np.asarray(x), window, strides, dilation, padding)
    return _to_channels_first(np.take_along_axis(cols, at, axis=len(window) + 1)[..., 0, :])


def _max_pool_gather_impl(t, x, window, strides, dilation, padding):
    _, at = _first_maxima(np.asarray(x), window, strides, dilation, padding)
    cols = _windows_impl(np.asarray(t), window, strides, dilation, padding, 0.0)
    cols = cols.reshape(at.shape[:-2] + (-1, cols.shape[-1]))
    return _to_channels_first(np.take_along_axis(cols, at, axis=len(window) + 1)[..., 0, :])


def _max_pool_scatter_impl(g, x, window, strides, dilation, padding):
    d = len(window)
    cols, at = _first_maxima(np.asarray(x), window, strides, dilation, padding)
    placed = np.zeros(cols.shape, np.result_type(g))
    np.put_along_axis(placed, at, np.expand_dims(np.moveaxis(np.asarray(g), 1, -1), d + 1), axis=d + 1)
    placed = placed.reshape(cols.shape[:1 + d] + tuple(window) + cols.shape[-1:])
    return _unwindows_impl(placed, x.shape, window, strides, dilation, padding)


def _max_pool_shape(x, window, strides, dilation, padding):
    out = _check("max_pool", x.shape, window, strides, dilation, padding)
    return Aval(x.shape[:2] + out, x.dtype)


def _max_pool_gather_shape(t, x, window, strides, dilation, padding):
    if t.shape != x.shape:
        raise ShapeError(with_location(f"max_pool_gather: a tangent of shape {t.shape} for an input of shape {x.shape}"))
    return Aval(_max_pool_shape(x, window, strides, dilation, padding).shape, t.dtype)


def _max_pool_scatter_shape(g, x, window, strides, dilation, padding):
    pooled = _max_pool_shape(x, window, strides, dilation, padding).shape
    if g.shape != pooled:
        raise ShapeError(with_location(f"max_pool_scatter: a cotangent of shape {g.shape} for pooled windows of shape "
                                       f"{pooled}"))
    return Aval(x.shape, g.dtype)


def _fold_batch_pair(prim):
    """vmap of a primitive of (a, x): both get the mapped axis, which then joins N."""
    def batch(args, dims, **params):
        size = next(a.shape[d] for a, d in zip(args, dims) if d is not None)
        moved = [_shape.broadcast_to(_shape.reshape(a, shape=(1,) + a.shape), shape=(size,) + a.shape) if d is None
                 else _shape.move_axis(a, d, 0) for a, d in zip(args, dims)]
        flat = [_shape.reshape(a, shape=(size * a.shape[1],) + a.shape[2:]) for a in moved]
        out = prim(*flat, **params)
        return _shape.reshape(out, shape=(size, out.shape[0] // size) + out.shape[1:]), 0
    return batch


max_pool = Primitive(
    "max_pool", _max_pool_impl, _max_pool_shape,
    jvp=(lambda t, out, x, **params: max_pool_gather(t, x, **params),),
    vjp=(lambda ct, out, x, **params: max_pool_scatter(ct, x, **params),))
max_pool.batch = _fold_batch(max_pool, shape_param=False)

max_pool_gather = Primitive(
    "max_pool_gather", _max_pool_gather_impl, _max_pool_gather_shape,
    jvp=(lambda t, out, t0, x, **params: max_pool_gather(t, x, **params), None),
    vjp=(lambda ct, out, t0, x, **params: max_pool_scatter(ct, x, **params), None))
max_pool_gather.batch = _fold_batch_pair(max_pool_gather)

max_pool_scatter = Primitive(
    "max_pool_scatter", _max_pool_scatter_impl, _max_pool_scatter_shape,
    jvp=(lambda t, out, g, x, **params: max_pool_scatter(t, x, **params), None),
    vjp=(lambda ct, out, g, x, **params: max_pool_gather(ct, x, **params), None))
max_pool_scatter.batch = _fold_batch_pair(max_pool_scatter)
