"""Layers under the tutorial's (PyTorch's) names. Each is a :class:`Module`: a pytree whose
arrays are its parameters, called as a pure function.

>>> import numpy as np, micrograd as mg
>>> model = mg.Sequential([mg.Linear(3, 4, key=mg.random.key(0)), mg.ReLU(), mg.Linear(4, 1, key=mg.random.key(1))])
>>> model(np.ones((2, 3))).shape
(2, 1)
>>> grads = mg.grad(lambda m, x: mg.numpy.sum(m(x)))(model, np.ones((2, 3)))
>>> [g.shape for g in grads.parameters()]
[(3, 4), (4,), (4, 1), (1,)]
"""
from __future__ import annotations

from typing import Any, Iterator, Sequence

import numpy as np

from .. import numpy as mnp
from .. import random
from ..core.errors import ShapeError, with_location
from . import init as initializers
from ..tensor import Tensor
from .module import Module


def parameter(array: np.ndarray) -> Tensor:
    """A trainable field: a tensor that requires grad, so the layer works eagerly (``backward``
    fills its ``.grad``) and, as an array, under every transform."""
    return Tensor(array, requires_grad=True)

__all__ = ["Linear", "Sequential", "Identity", "ReLU", "Sigmoid", "Tanh", "Softmax", "LogSoftmax", "Dropout",
           "BatchNorm1d", "Flatten"]


def _positive_int(value: Any, what: str, layer: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{layer}: {what} must be a positive integer, got {value!r}")
    return int(value)


class Linear(Module):
    """``y = x @ weight + bias``, with ``weight`` of shape ``(in_features, out_features)`` (the
    transpose of PyTorch's layout, so that no transpose is needed) and ``bias`` of shape
    ``(out_features,)``. ``x`` may be one sample ``(in_features,)`` or a batch
    ``(..., in_features)``.

    Weights and bias start uniform in ``+-1/sqrt(in_features)``, as PyTorch initializes them,
    unless ``weight_init``/``bias_init`` (see :mod:`micrograd.nn.init`) say otherwise. ``key``
    makes the initialization reproducible; without it the layer takes the next key of
    :func:`micrograd.nn.init.default_key`'s sequence.

    >>> import numpy as np, micrograd as mg
    >>> layer = mg.Linear(in_features=3, out_features=2, key=mg.random.key(0))
    >>> layer
    Linear(in_features=3, out_features=2, bias=True)
    >>> layer(np.array([1.0, 2.0, 3.0])).shape
    (2,)
    >>> layer(np.ones((5, 4)))
    Traceback (most recent call last):
    ...
    micrograd.core.errors.ShapeError: Linear(in_features=3, out_features=2, bias=True) expects inputs whose last axis has 3 features, got shape (5, 4)
    ...
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, *, key: Any = None,
                 dtype: Any = np.float32, weight_init: initializers.Initializer | None = None,
                 bias_init: initializers.Initializer | None = None):
        in_features = _positive_int(in_features, "in_features", "Linear")
        out_features = _positive_int(out_features, "out_features", "Linear")
        wkey, bkey = random.split(initializers.default_key() if key is None else key)
        dtype = np.dtype(dtype)
        self.weight = parameter((weight_init or initializers.fan_in_uniform())(wkey, (in_features, out_features), dtype))
        if bias:
            bound = 1.0 / float(np.sqrt(in_features))  # the fan-in of the layer, not of the bias vector
            self.bias = parameter((bias_init or initializers.uniform(-bound, bound))(bkey, (out_features,), dtype))
        else:
            self.bias = None
        self.in_features, self.out_features = in_features, out_features

    def __call__(self, x: Any, *, key: Any = None) -> Any:
        x = mnp.asarray(x)
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ShapeError(with_location(
                f"{self!r} expects inputs whose last axis has {self.in_features} features, got shape {x.shape}"))
        y = mnp.matmul(x, self.weight)
        return y if self.bias is None else y + self.bias

    def __repr__(self) -> str:
        return f"Linear(in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None})"


class Sequential(Module):
    """Layers applied in order: ``Sequential([a, b])(x) == b(a(x))``. A ``key`` given to the
    call is split among the layers (for Dropout). Indexing and ``len`` work as on a list.

    >>> import numpy as np, micrograd as mg
    >>> model = mg.Sequential([mg.Linear(2, 2, key=mg.random.key(0)), mg.Tanh()])
    >>> model
    Sequential(
      (0): Linear(in_features=2, out_features=2, bias=True)
      (1): Tanh()
    )
    >>> len(model), type(model[1]).__name__
    (2, 'Tanh')
    """

    def __init__(self, layers: Sequence[Module] | Module = (), *more: Module):
        layers = (layers,) + more if isinstance(layers, Module) else tuple(layers) + more
        for i, layer in enumerate(layers):
            if not callable(layer):
                raise TypeError(f"Sequential: layer {i} is {layer!r}, which is not callable")
        self.layers = layers

    def __call__(self, x: Any, *, key: Any = None) -> Any:
        return self.apply(x, key=key)[0]

    def apply(self, x: Any, *, key: Any = None) -> tuple[Any, "Sequential"]:
        """The output and the model with the state its layers updated (BatchNorm1d statistics).

        >>> import numpy as np, micrograd as mg
        >>> y, model = mg.Sequential([mg.BatchNorm1d(2)]).apply(np.array([[0.0, 1.0], [2.0, 3.0]]))
        >>> model[0].running_mean
        array([0.1, 0.2], dtype=float32)
        """
        keys = [None] * len(self.layers) if key is None else random.split(key, len(self.layers))
        new_layers = []
        for i, (layer, k) in enumerate(zip(self.layers, keys)):
            try:
                if isinstance(layer, Module):
                    x, layer = layer.apply(x, key=k)
                else:  # a plain function of x
                    x = layer(x)
            except ShapeError as e:
                raise ShapeError(f"layer {i} of Sequential: {e}") from None
            new_layers.append(layer)
        if all(new is old for new, old in zip(new_layers, self.layers)):
            return x, self  # no layer has state: no copy (this runs on every eager forward pass)
        return x, self.replace(layers=tuple(new_layers))

    def __getitem__(self, i: int) -> Module:
        return self.layers[i]

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self) -> Iterator[Module]:
        return iter(self.layers)

    def __repr__(self) -> str:
        inner = "".join(f"\n  ({i}): " + repr(layer).replace("\n", "\n  ") for i, layer in enumerate(self.layers))
        return f"Sequential({inner}\n)" if inner else "Sequential()"


class Identity(Module):
    """Returns its input. ``Identity()(3.0)`` -> ``3.0``."""

    def __call__(self, x: Any, *, key: Any = None) -> Any:
        return x


class ReLU(Module):
    """``max(x, 0)`` elementwise.

    >>> import numpy as np, micrograd as mg
    >>> mg.ReLU()(np.array([1.0, -2.0, 3.0]))
    array([1., 0., 3.])
    """

    def __call__(self, x: Any, *, key: Any = None) -> Any:
        return mnp.relu(x)


class Sigmoid(Module):
    """``1 / (1 + exp(-x))`` elementwise.

    >>> import numpy as np, micrograd as mg
    >>> mg.Sigmoid()(np.array([0.0]))
    array([0.5])
    """

    def __call__(self, x: Any, *, key: Any = None) -> Any:
        return mnp.sigmoid(x)


class Tanh(Module):
    """``tanh(x)`` elementwise.

    >>> import numpy as np, micrograd as mg
    >>> mg.Tanh()(np.array([0.0]))
    array([0.])
    """

    def __call__(self, x: Any, *, key: Any = None) -> Any:
        return mnp.tanh(x)


class _AlongDim(Module):
    """An activation that normalizes along one axis, ``dim``."""
    _function = None

    def __init__(self, dim: int = -1):
        self.dim = int(dim)

    def __call__(self, x: Any, *, key: Any = None) -> Any:
        return type(self)._function(x, axis=self.dim)


class Softmax(_AlongDim):
    """Softmax along ``dim``. Do not put it before :class:`CrossEntropyLoss`, which takes
    logits and applies log-softmax itself.

    >>> import numpy as np, micrograd as mg
    >>> mg.Softmax()(np.array([0.0, np.log(3.0)]))
    array([0.25, 0.75])
    """
    _function = staticmethod(mnp.softmax)


class LogSoftmax(_AlongDim):
    """``log(softmax(x))`` along ``dim``, computed stably.

    >>> import numpy as np, micrograd as mg
    >>> np.exp(mg.LogSoftmax()(np.array([0.0, np.log(3.0)]))).round(6)
    array([0.25, 0.75])
    """
    _function = staticmethod(mnp.log_softmax)


class Dropout(Module):
    """In training mode, zeroes each element with probability ``p`` and scales the rest by
    ``1 / (1 - p)``, drawing from the ``key`` given to the call; in evaluation mode
    (``model.eval()``) it returns its input.

    >>> import numpy as np, micrograd as mg
    >>> drop = mg.Dropout(0.5)
    >>> drop(np.ones(6), key=mg.random.key(0))
    array([0., 2., 2., 0., 2., 2.])
    >>> drop.eval()(np.ones(3))
    array([1., 1., 1.])
    """

    def __init__(self, p: float = 0.5):
        if not 0.0 <= float(p) < 1.0:
            raise ValueError(f"{type(self).__name__}: p must be in [0, 1), got {p!r}")
        self.p = float(p)

    def _mask_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        return shape

    def __call__(self, x: Any, *, key: Any = None) -> Any:
        if not self.training or self.p == 0.0:
            return x
        if key is None:
            raise ValueError(f"{type(self).__name__} in training mode needs a random key: call model(x, key=key) with "
                             "key = mg.random.key(seed) (split it for each step), or use model.eval() to predict")
        x = mnp.asarray(x)
        keep = random.bernoulli(key, 1.0 - self.p, self._mask_shape(x.shape))
        return mnp.where(keep, x / (1.0 - self.p), 0.0)


class BatchNorm1d(Module):
    """Batch normalization over the batch axis of ``(batch, num_features)`` inputs.

    In training mode the batch's mean and (biased) variance normalize the input, and
    :meth:`apply` also returns the layer with updated running statistics,
    ``running = (1 - momentum) * running + momentum * batch`` (the running variance uses the
    unbiased batch variance, as in PyTorch); in evaluation mode the running statistics
    normalize and nothing changes. Calling the layer (``bn(x)``) computes the output only.

    The running statistics are leaves of the model (``_buffers``), so a jitted training step
    takes and returns them; their gradient is zero, but an optimizer's weight decay would
    shrink them, so take them from the module ``apply`` returned after the optimizer step::

        (loss, stats), grads = mg.value_and_grad(loss_fn, has_aux=True)(model, x, y)  # loss_fn returns model.apply's model
        model, opt_state = opt.update(model, grads, opt_state)
        model = mg.nn.copy_buffers(model, stats)

    >>> import numpy as np, micrograd as mg
    >>> bn = mg.BatchNorm1d(2)
    >>> x = np.array([[1.0, 10.0], [3.0, 30.0]])
    >>> y, bn = bn.apply(x)
    >>> np.asarray(y).round(4)
    array([[-1., -1.],
           [ 1.,  1.]])
    >>> bn.running_mean, bn.running_var
    (array([0.2, 2. ], dtype=float32), array([ 1.1, 20.9], dtype=float32))
    """
    _buffers = ("running_mean", "running_var")

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1, affine: bool = True,
                 dtype: Any = np.float32):
        n = _positive_int(num_features, "num_features", "BatchNorm1d")
        if not 0.0 <= float(momentum) <= 1.0:
            raise ValueError(f"BatchNorm1d: momentum must be in [0, 1], got {momentum!r}")
        self.weight = parameter(np.ones(n, dtype)) if affine else None
        self.bias = parameter(np.zeros(n, dtype)) if affine else None
        self.running_mean = np.zeros(n, dtype)
        self.running_var = np.ones(n, dtype)
        self.num_features, self.eps, self.momentum = n, float(eps), float(momentum)

    def __call__(self, x: Any, *, key: Any = None) -> Any:
        return self.apply(x)[0]

    def apply(self, x: Any, *, key: Any = None) -> tuple[Any, "BatchNorm1d"]:
        x = mnp.asarray(x)
        if x.ndim != 2 or x.shape[1] != self.num_features:
            raise ShapeError(with_location(
                f"BatchNorm1d({self.num_features}) expects inputs of shape (batch, {self.num_features}), "
                f"got shape {x.shape}"))
        if self.training:
            n = x.shape[0]
            if n < 2:
                raise ValueError("BatchNorm1d in training mode needs more than one sample per batch "
                                 "(the batch variance of one sample is 0); use model.eval() to predict")
            mean, var = mnp.mean(x, axis=0), mnp.var(x, axis=0)
            m = self.momentum
            new = self.replace(
                running_mean=mnp.astype((1 - m) * self.running_mean + m * mnp.stop_gradient(mean), self.running_mean.dtype),
                running_var=mnp.astype((1 - m) * self.running_var + m * mnp.stop_gradient(var) * (n / (n - 1)),
                                       self.running_var.dtype))
        else:
            mean, var, new = self.running_mean, self.running_var, self
        y = (x - mean) / mnp.sqrt(var + self.eps)
        if self.weight is not None:
            y = y * self.weight + self.bias
        return y, new

    def __repr__(self) -> str:
        return (f"BatchNorm1d({self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.weight is not None}{'' if self.training else ', training=False'})")


def flatten(x: Any, start_dim: int = 1, end_dim: int = -1) -> Any:
    """``x`` with the axes from ``start_dim`` to ``end_dim`` (included) merged into one.

    >>> import numpy as np
    >>> flatten(np.zeros((2, 3, 4, 5))).shape
    (2, 60)
    """
    x = mnp.asarray(x)
    start, end = start_dim % max(x.ndim, 1), end_dim % max(x.ndim, 1)
    if start > end:
        raise ValueError(with_location(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for shape {x.shape}"))
    return mnp.reshape(x, x.shape[:start] + (-1,) + x.shape[end + 1:])


class Flatten(Module):
    """Merges axes ``start_dim`` (1) to ``end_dim`` (-1): images to feature vectors.

    >>> import numpy as np, micrograd as mg
    >>> mg.Flatten()(np.zeros((2, 8, 7, 7))).shape
    (2, 392)
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        self.start_dim, self.end_dim = int(start_dim), int(end_dim)

    def __call__(self, x: Any, *, key: Any = None) -> Any:
        return flatten(x, self.start_dim, self.end_dim)

    def __repr__(self) -> str:
        return f"Flatten(start_dim={self.start_dim}, end_dim={self.end_dim})"
