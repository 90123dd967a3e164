"""Functional forms with PyTorch's names and signatures: activations (from
:mod:`micrograd.numpy`), losses, convolutions and pooling, dropout and flatten.

>>> import numpy as np
>>> from micrograd.nn import functional as F
>>> F.cross_entropy(np.array([[0.0, 0.0]]), np.array([1])).round(4)  # log(2)
np.float64(0.6931)
>>> F.max_pool2d(F.conv2d(np.ones((1, 1, 4, 4)), np.ones((2, 1, 3, 3)), padding=1), 2).shape
(1, 2, 2, 2)
"""
from __future__ import annotations

from typing import Any

from .. import numpy as mnp
from .. import random
from ..numpy import log_softmax, logsumexp, one_hot, relu, sigmoid, softmax, tanh
from . import convolution
from .layers import flatten
from .losses import (binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy, l1_loss, l2_penalty,
                     mse_loss, nll_loss)

__all__ = ["relu", "sigmoid", "tanh", "softmax", "log_softmax", "logsumexp", "one_hot", "mse_loss", "l1_loss",
           "cross_entropy", "nll_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits", "l2_penalty",
           "conv1d", "conv2d", "conv3d", "conv_transpose2d", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d",
           "dropout", "flatten"]


def conv1d(input: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0, dilation: Any = 1,  # noqa: A002
           groups: int = 1) -> Any:
    """PyTorch's ``conv1d``: ``(N, C, L)`` inputs, ``(out, C / groups, k)`` weights."""
    return convolution.conv(input, weight, bias, stride, padding, dilation, groups, name="conv1d")


def conv2d(input: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0, dilation: Any = 1,  # noqa: A002
           groups: int = 1) -> Any:
    """PyTorch's ``conv2d``: ``(N, C, H, W)`` inputs, ``(out, C / groups, kh, kw)`` weights;
    ``padding`` may also give (before, after) pairs."""
    return convolution.conv(input, weight, bias, stride, padding, dilation, groups, name="conv2d")


def conv3d(input: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0, dilation: Any = 1,  # noqa: A002
           groups: int = 1) -> Any:
    """PyTorch's ``conv3d``: ``(N, C, D, H, W)`` inputs."""
    return convolution.conv(input, weight, bias, stride, padding, dilation, groups, name="conv3d")


def conv_transpose2d(input: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0,  # noqa: A002
                     output_padding: Any = 0, groups: int = 1, dilation: Any = 1) -> Any:
    """PyTorch's ``conv_transpose2d``: weights ``(C, out / groups, kh, kw)``."""
    return convolution.conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation,
                                      name="conv_transpose2d")


def max_pool2d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,  # noqa: A002
               ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """PyTorch's ``max_pool2d`` (``return_indices`` is not supported)."""
    if return_indices:
        raise NotImplementedError("max_pool2d: return_indices=True is not supported")
    return convolution.max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, name="max_pool2d")


def avg_pool2d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,  # noqa: A002
               count_include_pad: bool = True, divisor_override: int | None = None) -> Any:
    """PyTorch's ``avg_pool2d``."""
    return convolution.avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override,
                                name="avg_pool2d")


def adaptive_avg_pool2d(input: Any, output_size: Any) -> Any:  # noqa: A002
    """PyTorch's ``adaptive_avg_pool2d``."""
    return convolution.adaptive_avg_pool(input, output_size, name="adaptive_avg_pool2d")


def dropout(input: Any, p: float = 0.5, training: bool = True, *, key: Any = None) -> Any:  # noqa: A002
    """Zeroes elements with probability ``p`` (the rest scaled by ``1 / (1 - p)``) when
    ``training``; micrograd's random numbers need a ``key``.

    >>> import numpy as np, micrograd as mg
    >>> dropout(np.ones(4), 0.5, key=mg.random.key(0))
    array([0., 2., 2., 0.])
    """
    if not training or p == 0.0:
        return input
    if key is None:
        raise ValueError("dropout with training=True needs a random key: dropout(x, p, key=mg.random.key(seed))")
    x = mnp.asarray(input)
    return mnp.where(random.bernoulli(key, 1.0 - p, x.shape), x / (1.0 - p), 0.0)
