"""Layers for images and other signals on a grid, with PyTorch's names, constructor arguments,
parameter layouts and initialization: ``Conv1d``, ``Conv2d``, ``ConvTranspose2d``,
``MaxPool2d``, ``AvgPool2d``, ``AdaptiveAvgPool2d``, ``BatchNorm2d`` and ``Dropout2d``. Inputs are
``(N, C, H, W)`` (``(N, C, L)`` for ``Conv1d``).

>>> import numpy as np, micrograd as mg
>>> model = mg.Sequential([mg.Conv2d(1, 8, 3, padding=1, key=mg.random.key(0)), mg.ReLU(), mg.MaxPool2d(2),
...                        mg.Flatten(), mg.Linear(8 * 14 * 14, 10, key=mg.random.key(1))])
>>> model(np.zeros((5, 1, 28, 28), np.float32)).shape
(5, 10)
>>> model[0].weight.shape, model[0].bias.shape
((8, 1, 3, 3), (8,))
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import numpy as mnp
from .. import random
from ..core.errors import ShapeError, with_location
from . import convolution
from . import init as initializers
from .layers import Dropout, _positive_int, parameter
from .module import Module

__all__ = ["Conv1d", "Conv2d", "ConvTranspose2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "BatchNorm2d",
           "Dropout2d"]


def _fan_in_uniform(key, shape, fan_in: int, dtype):
    """Uniform in +-1/sqrt(fan_in): PyTorch's default for convolution weights (kaiming_uniform with
    a = sqrt(5)) and biases."""
    bound = 1.0 / math.sqrt(fan_in)
    return initializers.uniform(-bound, bound)(key, shape, dtype)


class _Conv(Module):
    d = 2
    transposed = False

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 dilation: Any = 1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros", *,
                 output_padding: Any = 0, key: Any = None, dtype: Any = np.float32):
        name = type(self).__name__
        self.in_channels = _positive_int(in_channels, "in_channels", name)
        self.out_channels = _positive_int(out_channels, "out_channels", name)
        self.groups = _positive_int(groups, "groups", name)
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{name}: groups={groups} must divide in_channels={in_channels} and "
                             f"out_channels={out_channels}")
        if padding_mode != "zeros":
            raise NotImplementedError(f"{name}: padding_mode={padding_mode!r}; only 'zeros' is supported (pad the input "
                                      "with mg.numpy.pad for the others)")
        self.kernel_size = convolution._tuple(kernel_size, self.d, "kernel_size", name)
        self.stride = convolution._tuple(stride, self.d, "stride", name)
        self.dilation = convolution._tuple(dilation, self.d, "dilation", name)
        if isinstance(padding, str) and self.transposed:
            raise ValueError(f"{name}: padding must be an int or {self.d} ints (a transposed convolution has no 'same' "
                             f"or 'valid'), got {padding!r}")
        convolution._padding(padding, self.d, self.kernel_size, self.dilation, self.stride, name)  # checks it now
        self.padding = padding if isinstance(padding, str) else (
            convolution._tuple(padding, self.d, "padding", name, minimum=0) if not (
                isinstance(padding, (tuple, list)) and padding and isinstance(padding[0], (tuple, list)))
            else tuple(tuple(p) for p in padding))
        self.output_padding = convolution._tuple(output_padding, self.d, "output_padding", name, minimum=0)
        wkey, bkey = random.split(initializers.default_key() if key is None else key)
        dtype = np.dtype(dtype)
        if self.transposed:  # PyTorch: (in, out / groups, *kernel), fan_in from the second axis
            shape = (in_channels, out_channels // groups) + self.kernel_size
            fan_in = (out_channels // groups) * math.prod(self.kernel_size)
        else:
            shape = (out_channels, in_channels // groups) + self.kernel_size
            fan_in = (in_channels // groups) * math.prod(self.kernel_size)
        self.weight = parameter(_fan_in_uniform(wkey, shape, fan_in, dtype))
        self.bias = parameter(_fan_in_uniform(bkey, (out_channels,), fan_in, dtype)) if bias else None

    def __call__(self, x: Any, *, key: Any = None) -> Any:
        name = type(self).__name__
        if self.transposed:
            return convolution.conv_transpose(x, self.weight, self.bias, self.stride, self.padding, self.output_padding,
                                              self.groups, self.dilation, name=name)
        return convolution.conv(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups,
                                name=name)

    def __repr__(self) -> str:
        extra = "".join([f", stride={self.stride}" if any(s != 1 for s in self.stride) else "",
                         f", padding={self.padding!r}" if self.padding not in (0, (0,) * self.d) else "",
                         f", output_padding={self.output_padding}" if any(self.output_padding) else "",
                         f", dilation={self.dilation}" if any(d != 1 for d in self.dilation) else "",
                         f", groups={self.groups}" if self.groups != 1 else "",
                         ", bias=False" if self.bias is None else ""])
        return (f"{type(self).__name__}({self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}"
                f"{extra})")


class Conv1d(_Conv):
    """A 1-d convolution over ``(N, C, L)`` inputs; weight ``(out, in / groups, k)``.

    >>> import numpy as np, micrograd as mg
    >>> mg.Conv1d(2, 4, 3, key=mg.random.key(0))(np.zeros((1, 2, 10), np.float32)).shape
    (1, 4, 8)
    """
    d = 1


class Conv2d(_Conv):
    """A 2-d convolution over ``(N, C, H, W)`` inputs (PyTorch's ``Conv2d``: ``stride``,
    ``padding`` as an int, a pair, 'same', 'valid' or two (before, after) pairs, ``dilation``,
    ``groups``); weight ``(out, in / groups, kh, kw)``, weights and bias uniform in
    +-1/sqrt(fan_in).

    >>> import numpy as np, micrograd as mg
    >>> mg.Conv2d(3, 16, 3, stride=2, padding=1, key=mg.random.key(0))(np.zeros((2, 3, 32, 32), np.float32)).shape
    (2, 16, 16, 16)
    """


class ConvTranspose2d(_Conv):
    """A 2-d transposed convolution (the gradient of ``Conv2d`` with respect to its input; it
    upsamples by ``stride``); weight ``(in, out / groups, kh, kw)``.

    >>> import numpy as np, micrograd as mg
    >>> up = mg.ConvTranspose2d(16, 3, 4, stride=2, padding=1, key=mg.random.key(0))
    >>> up(np.zeros((2, 16, 8, 8), np.float32)).shape
    (2, 3, 16, 16)
    """
    transposed = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 output_padding: Any = 0, groups: int = 1, bias: bool = True, dilation: Any = 1,
                 padding_mode: str = "zeros", *, key: Any = None, dtype: Any = np.float32):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode,
                         output_padding=output_padding, key=key, dtype=dtype)


class MaxPool2d(Module):
    """The maximum over each ``kernel_size`` window (``stride`` defaults to the kernel size).

    >>> import numpy as np, micrograd as mg
    >>> mg.MaxPool2d(2)(np.arange(16.0).reshape(1, 1, 4, 4))
    array([[[[ 5.,  7.],
             [13., 15.]]]])
    """

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                 return_indices: bool = False, ceil_mode: bool = False):
        if return_indices:
            raise NotImplementedError("MaxPool2d: return_indices=True is not supported")
        self.kernel_size, self.stride, self.padding, self.dilation = kernel_size, stride, padding, dilation
        self.ceil_mode = bool(ceil_mode)

    def __call__(self, x: Any, *, key: Any = None) -> Any:
        return convolution.max_pool(x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                                    name="MaxPool2d")

    def __repr__(self) -> str:
        return (f"MaxPool2d(kernel_size={self.kernel_size}, stride={self.stride or self.kernel_size}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode})")


class AvgPool2d(Module):
    """The mean over each ``kernel_size`` window (PyTorch's ``ceil_mode``, ``count_include_pad``
    and ``divisor_override``).

    >>> import numpy as np, micrograd as mg
    >>> mg.AvgPool2d(2)(np.arange(16.0).reshape(1, 1, 4, 4))
    array([[[[ 2.5,  4.5],
             [10.5, 12.5]]]])
    """

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override: int | None = None):
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.ceil_mode, self.count_include_pad, self.divisor_override = bool(ceil_mode), bool(count_include_pad), divisor_override

    def __call__(self, x: Any, *, key: Any = None) -> Any:
        return convolution.avg_pool(x, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                                    self.count_include_pad, self.divisor_override, name="AvgPool2d")

    def __repr__(self) -> str:
        return (f"AvgPool2d(kernel_size={self.kernel_size}, stride={self.stride or self.kernel_size}, padding={self.padding}"
                f"{', ceil_mode=True' if self.ceil_mode else ''}"
                f"{', count_include_pad=False' if not self.count_include_pad else ''})")


class AdaptiveAvgPool2d(Module):
    """The mean over windows that divide each spatial axis into ``output_size`` parts.

    >>> import numpy as np, micrograd as mg
    >>> mg.AdaptiveAvgPool2d(1)(np.ones((2, 3, 5, 7))).shape
    (2, 3, 1, 1)
    """

    def __init__(self, output_size: Any):
        self.output_size = output_size if isinstance(output_size, (int, type(None))) else tuple(output_size)

    def __call__(self, x: Any, *, key: Any = None) -> Any:
        return convolution.adaptive_avg_pool(x, self.output_size, name="AdaptiveAvgPool2d")

    def __repr__(self) -> str:
        return f"AdaptiveAvgPool2d(output_size={self.output_size})"


class BatchNorm2d(Module):
    """Batch normalization of each channel of ``(N, C, H, W)`` inputs over the batch and both
    spatial axes; running statistics as in ``BatchNorm1d`` (``y, model = model.apply(x)``).

    >>> import numpy as np, micrograd as mg
    >>> y, bn = mg.BatchNorm2d(2).apply(np.arange(16.0).reshape(2, 2, 2, 2))
    >>> np.round(np.asarray(y).mean(axis=(0, 2, 3)), 6), bn.running_mean
    (array([0., 0.]), array([0.55, 0.95], dtype=float32))
    """
    _buffers = ("running_mean", "running_var")

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1, affine: bool = True,
                 track_running_stats: bool = True, dtype: Any = np.float32):
        n = _positive_int(num_features, "num_features", "BatchNorm2d")
        if not 0.0 <= float(momentum) <= 1.0:
            raise ValueError(f"BatchNorm2d: momentum must be in [0, 1], got {momentum!r}")
        self.weight = parameter(np.ones(n, dtype)) if affine else None
        self.bias = parameter(np.zeros(n, dtype)) if affine else None
        self.running_mean = np.zeros(n, dtype) if track_running_stats else None
        self.running_var = np.ones(n, dtype) if track_running_stats else None
        self.num_features, self.eps, self.momentum = n, float(eps), float(momentum)

    def __call__(self, x: Any, *, key: Any = None) -> Any:
        return self.apply(x)[0]

    def apply(self, x: Any, *, key: Any = None) -> tuple[Any, "BatchNorm2d"]:
        x = mnp.asarray(x)
        if x.ndim != 4 or x.shape[1] != self.num_features:
            extra = " (the batch axis is missing? add it with x[None])" if x.ndim == 3 else ""
            raise ShapeError(with_location(f"BatchNorm2d({self.num_features}) expects inputs of shape (N, "
                                           f"{self.num_features}, H, W), got shape {x.shape}{extra}"))
        shape = (1, self.num_features, 1, 1)
        if self.training or self.running_mean is None:
            count = x.shape[0] * x.shape[2] * x.shape[3]
            if count < 2:
                raise ValueError("BatchNorm2d in training mode needs more than one value per channel")
            mean, var = mnp.mean(x, axis=(0, 2, 3)), mnp.var(x, axis=(0, 2, 3))
            new = self
            if self.running_mean is not None:
                m = self.momentum
                new = self.replace(
                    running_mean=mnp.astype((1 - m) * self.running_mean + m * mnp.stop_gradient(mean), self.running_mean.dtype),
                    running_var=mnp.astype((1 - m) * self.running_var + m * mnp.stop_gradient(var) * (count / (count - 1)),
                                           self.running_var.dtype))
        else:
            mean, var, new = self.running_mean, self.running_var, self
        y = (x - mnp.reshape(mean, shape)) / mnp.sqrt(mnp.reshape(var, shape) + self.eps)
        if self.weight is not None:
            y = y * mnp.reshape(self.weight, shape) + mnp.reshape(self.bias, shape)
        return y, new

    def __repr__(self) -> str:
        return f"BatchNorm2d({self.num_features}, eps={self.eps}, momentum={self.momentum})"


class Dropout2d(Dropout):
    """Zeroes whole channels with probability ``p`` in training (the rest scaled by
    ``1 / (1 - p)``), given a random key at call time, as ``Dropout``.

    >>> import numpy as np, micrograd as mg
    >>> y = mg.Dropout2d(0.5)(np.ones((1, 4, 2, 2)), key=mg.random.key(0))
    >>> y[0, :, 0, 0]
    array([0., 2., 2., 0.])
    """

    def _mask_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        return shape[:2] + (1,) * (len(shape) - 2)  # one draw per (example, channel)
