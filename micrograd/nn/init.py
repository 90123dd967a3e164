"""Initializers: each factory returns ``init(key, shape, dtype) -> array``.

Fans follow micrograd's weight layout ``(in_features, out_features)``: ``fan_in = shape[0]``,
``fan_out = shape[-1]`` (for a 1-D shape both are its length).

>>> import micrograd as mg
>>> w = mg.nn.init.xavier_uniform()(mg.random.key(0), (784, 128))
>>> w.dtype, bool(abs(w).max() <= (6 / (784 + 128)) ** 0.5)
(dtype('float32'), True)
"""
from __future__ import annotations

import itertools
import math
from typing import Any, Callable, Sequence

import numpy as np

from .. import random

__all__ = ["zeros", "ones", "constant", "uniform", "normal", "fan_in_uniform", "kaiming_uniform",
           "kaiming_normal", "xavier_uniform", "xavier_normal", "default_key"]

Initializer = Callable[[Any, Sequence[int], Any], Any]

_default_keys = itertools.count()


def default_key() -> Any:
    """The key a layer uses when it is given none: the next one of a process-wide sequence that
    starts from ``mg.random.key(0)``, so a script builds the same model on every run (as after
    ``torch.manual_seed(0)``) while two layers never share a key. Pass ``key=`` to a layer for
    control that does not depend on how many layers were built before.

    >>> default_key().shape
    (2,)
    """
    return random.fold_in(random.key(0), next(_default_keys))


def _fans(shape: Sequence[int]) -> tuple[int, int]:
    shape = tuple(shape)
    if not shape:
        return 1, 1
    return int(shape[0]), int(shape[-1])


def constant(value: float) -> Initializer:
    """All entries ``value``.

    >>> constant(0.5)(None, (2,), np.float32)
    array([0.5, 0.5], dtype=float32)
    """
    return lambda key, shape, dtype=np.float32: np.full(tuple(shape), value, dtype)


def zeros() -> Initializer:
    """All zeros. ``zeros()(None, (2,), np.float64)`` -> ``array([0., 0.])``."""
    return constant(0.0)


def ones() -> Initializer:
    """All ones. ``ones()(None, (2,), np.float64)`` -> ``array([1., 1.])``."""
    return constant(1.0)


def uniform(low: float = -1.0, high: float = 1.0) -> Initializer:
    """Uniform in ``[low, high)``.

    >>> x = uniform(-0.1, 0.1)(random.key(0), (1000,))
    >>> bool(-0.1 <= x.min() and x.max() < 0.1)
    True
    """
    return lambda key, shape, dtype=np.float32: random.uniform(key, shape, dtype, low, high)


def normal(std: float = 1.0, mean: float = 0.0) -> Initializer:
    """Normal with the given mean and standard deviation.

    >>> round(float(normal(0.1)(random.key(0), (10000,)).std()), 2)
    0.1
    """
    return lambda key, shape, dtype=np.float32: (random.normal(key, shape, np.float64) * std + mean).astype(dtype)


def fan_in_uniform() -> Initializer:
    """Uniform in ``+-1/sqrt(fan_in)``: PyTorch's default for ``nn.Linear`` weights and biases.

    >>> bool(abs(fan_in_uniform()(random.key(0), (100, 3))).max() <= 0.1)
    True
    """
    def init(key, shape, dtype=np.float32):
        bound = 1.0 / math.sqrt(_fans(shape)[0])
        return random.uniform(key, shape, dtype, -bound, bound)
    return init


def kaiming_uniform(gain: float = math.sqrt(2.0)) -> Initializer:
    """He initialization, uniform: variance ``gain**2 / fan_in`` (the default gain suits ReLU).

    >>> w = kaiming_uniform()(random.key(0), (1000, 100), np.float64)
    >>> round(float(w.var() * 1000), 1)
    2.0
    """
    def init(key, shape, dtype=np.float32):
        bound = gain * math.sqrt(3.0 / _fans(shape)[0])
        return random.uniform(key, shape, dtype, -bound, bound)
    return init


def kaiming_normal(gain: float = math.sqrt(2.0)) -> Initializer:
    """He initialization, normal: standard deviation ``gain / sqrt(fan_in)``.

    >>> round(float(kaiming_normal()(random.key(0), (1000, 100)).std() ** 2 * 1000), 1)
    2.0
    """
    return lambda key, shape, dtype=np.float32: normal(gain / math.sqrt(_fans(shape)[0]))(key, shape, dtype)


def xavier_uniform(gain: float = 1.0) -> Initializer:
    """Glorot initialization, uniform: variance ``2 gain**2 / (fan_in + fan_out)``.

    >>> w = xavier_uniform()(random.key(0), (300, 100), np.float64)
    >>> round(float(w.var() * 400 / 2), 1)
    1.0
    """
    def init(key, shape, dtype=np.float32):
        bound = gain * math.sqrt(6.0 / sum(_fans(shape)))
        return random.uniform(key, shape, dtype, -bound, bound)
    return init


def xavier_normal(gain: float = 1.0) -> Initializer:
    """Glorot initialization, normal: standard deviation ``gain * sqrt(2 / (fan_in + fan_out))``.

    >>> round(float(xavier_normal()(random.key(0), (300, 100)).std() ** 2 * 200), 1)
    1.0
    """
    return lambda key, shape, dtype=np.float32: normal(gain * math.sqrt(2.0 / sum(_fans(shape))))(key, shape, dtype)
