"""Loss functions, as functions (``cross_entropy(logits, labels)``) and as the tutorial's
callable objects (``CrossEntropyLoss()(logits, labels)``). ``reduction`` is ``"mean"``
(default), ``"sum"`` or ``"none"`` (one loss per sample).

>>> import numpy as np, micrograd as mg
>>> mg.MSELoss()(np.array([2.1, 4.2, 6.3]), np.array([2.0, 4.0, 6.0])).round(6)
np.float64(0.046667)
>>> mg.CrossEntropyLoss(reduction="none")(np.array([[2.0, 0.0], [0.0, 2.0]]), np.array([0, 0])).round(4)
array([0.1269, 2.1269])
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import numpy as mnp
from ..core import tree
from ..core.dtypes import is_float
from ..core.errors import ShapeError, with_location
from ..core.trace import Tracer
from .module import Module

__all__ = ["mse_loss", "l1_loss", "cross_entropy", "nll_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "l2_penalty", "MSELoss", "L1Loss", "CrossEntropyLoss", "NLLLoss",
           "BCELoss", "BCEWithLogitsLoss"]

_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(reduction: str, name: str) -> str:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{name}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    return reduction


def _reduce(losses: Any, reduction: str) -> Any:
    if reduction == "mean":
        return mnp.mean(losses)
    return mnp.sum(losses) if reduction == "sum" else losses


def _same_shape(input: Any, target: Any, name: str) -> tuple[Any, Any]:
    input, target = mnp.asarray(input), mnp.asarray(target)
    if input.shape != target.shape:
        raise ShapeError(with_location(
            f"{name}: input of shape {input.shape} and target of shape {target.shape} differ; reshape one of them "
            f"(broadcasting them would compare every prediction with every target)"))
    return input, target


def mse_loss(input: Any, target: Any, reduction: str = "mean") -> Any:
    """Mean squared error ``(input - target) ** 2``.

    >>> mse_loss(np.array([1.0, 3.0]), np.array([0.0, 0.0]), reduction="sum")
    np.float64(10.0)
    """
    input, target = _same_shape(input, target, "mse_loss")
    return _reduce((input - target) ** 2, _check_reduction(reduction, "mse_loss"))


def l1_loss(input: Any, target: Any, reduction: str = "mean") -> Any:
    """Mean absolute error ``|input - target|``.

    >>> l1_loss(np.array([1.0, -3.0]), np.array([0.0, 0.0]))
    np.float64(2.0)
    """
    input, target = _same_shape(input, target, "l1_loss")
    return _reduce(mnp.abs(input - target), _check_reduction(reduction, "l1_loss"))


def nll_loss(log_probs: Any, target: Any, reduction: str = "mean") -> Any:
    """Negative log-likelihood of ``target`` under ``log_probs`` (classes on the last axis).
    ``target`` is integer class labels (shape ``log_probs.shape[:-1]``) or probabilities
    (one-hot or soft, shape ``log_probs.shape``).

    >>> nll_loss(np.log(np.array([[0.5, 0.5], [0.9, 0.1]])), np.array([0, 1])).round(4)
    np.float64(1.4979)
    """
    return _nll(log_probs, target, reduction, "nll_loss")


def _nll(log_probs: Any, target: Any, reduction: str, name: str) -> Any:
    log_probs, target = mnp.asarray(log_probs), mnp.asarray(target)
    if log_probs.ndim == 0:
        raise ShapeError(with_location(f"{name}: needs class scores on the last axis, got a scalar"))
    n_classes = log_probs.shape[-1]
    if is_float(target.dtype):
        if target.shape != log_probs.shape:
            raise ShapeError(with_location(
                f"{name}: probability targets must have the scores' shape {log_probs.shape}, got {target.shape}"))
        losses = -mnp.sum(target * log_probs, axis=-1)
    elif np.issubdtype(target.dtype, np.integer):
        if target.shape != log_probs.shape[:-1]:
            raise ShapeError(with_location(
                f"{name}: integer labels must have shape {log_probs.shape[:-1]} for scores of shape "
                f"{log_probs.shape}, got {target.shape}"))
        labels = _known(target)
        if labels is None:  # traced: the values are unknown, no check
            one_hot = mnp.one_hot(target, n_classes, dtype=log_probs.dtype)
        else:  # known labels (an array, an eager tensor): checked, and their one-hot rows made with NumPy
            bad = (labels < 0) | (labels >= n_classes)
            if bad.any():
                raise ValueError(with_location(
                    f"{name}: labels must be in [0, {n_classes - 1}] for {n_classes} classes, got "
                    f"{np.unique(labels[bad])[:5].tolist()}"))
            one_hot = (labels[..., None] == np.arange(n_classes)).astype(log_probs.dtype)
        losses = -mnp.sum(log_probs * one_hot, axis=-1)
    else:
        raise TypeError(f"{name}: targets must be integer labels or float probabilities, got dtype {target.dtype}")
    return _reduce(losses, _check_reduction(reduction, name))


def _known(x: Any) -> np.ndarray | None:
    """The values of ``x`` when they are known (an array, or an eager tensor's data); ``None`` for
    a traced value."""
    if isinstance(x, Tracer):
        return x.data if x._trace.level == 0 else None
    return np.asarray(x)


def cross_entropy(logits: Any, target: Any, reduction: str = "mean") -> Any:
    """Cross-entropy of ``target`` under ``softmax(logits)``, computed as
    ``nll_loss(log_softmax(logits), target)`` (stable for any logits). Takes logits, not
    probabilities: a Softmax before it would apply softmax twice.

    >>> cross_entropy(np.array([[1000.0, 0.0]]), np.array([1]))
    np.float64(1000.0)
    """
    return _nll(mnp.log_softmax(logits, axis=-1), target, reduction, "cross_entropy")


def binary_cross_entropy(probs: Any, target: Any, reduction: str = "mean", eps: float = 1e-7) -> Any:
    """``-(t log p + (1 - t) log(1 - p))`` with ``p`` clipped to ``[eps, 1 - eps]`` so that a
    confident wrong prediction costs a large finite loss, not infinity.

    >>> binary_cross_entropy(np.array([0.9, 0.0]), np.array([1.0, 1.0]), reduction="none").round(4)
    array([ 0.1054, 16.1181])
    """
    probs, target = _same_shape(probs, target, "binary_cross_entropy")
    p = mnp.clip(probs, eps, 1.0 - eps)
    losses = -(target * mnp.log(p) + (1.0 - target) * mnp.log(1.0 - p))
    return _reduce(losses, _check_reduction(reduction, "binary_cross_entropy"))


def _softplus(x: Any) -> Any:
    """``log(1 + exp(x))`` without overflow, and with the right derivative (``sigmoid(x)``) at
    every ``x``, 0 included.

    The usual stable form ``relu(x) + log1p(exp(-|x|))`` has the right value but, at ``x = 0``,
    the kinks of ``relu`` and ``abs`` (derivatives 0 and ``sign(0) = 0`` there) give a
    derivative of 0 instead of 1/2 -- and logits of exactly 0 are what a zero-initialized last
    layer outputs. So each sign gets its own smooth branch, ``x + log1p(exp(-x))`` for
    ``x > 0`` and ``log1p(exp(x))`` otherwise, and each branch only ever sees inputs of its own
    sign (the other branch's input is 0): a branch computed on the wrong side would overflow,
    and its infinite derivative times ``where``'s zero cotangent would be NaN.
    """
    positive = x > 0
    xp = mnp.where(positive, x, 0.0)
    xn = mnp.where(positive, 0.0, x)
    return mnp.where(positive, xp + mnp.log1p(mnp.exp(-xp)), mnp.log1p(mnp.exp(xn)))


def binary_cross_entropy_with_logits(logits: Any, target: Any, reduction: str = "mean") -> Any:
    """``binary_cross_entropy(sigmoid(logits), target)`` computed stably as
    ``softplus(x) - x t`` (``softplus(x) = log(1 + exp(x))``, evaluated without overflow); its
    gradient is ``sigmoid(x) - t`` at every ``x``.

    >>> binary_cross_entropy_with_logits(np.array([-1000.0, 0.0]), np.array([1.0, 1.0]), reduction="none").round(4)
    array([1.000e+03, 6.931e-01])
    >>> import micrograd as mg  # sigmoid(0) - 1
    >>> mg.grad(binary_cross_entropy_with_logits)(np.array([0.0]), np.array([1.0]))
    array([-0.5])
    """
    x, target = _same_shape(logits, target, "binary_cross_entropy_with_logits")
    losses = _softplus(x) - x * target
    return _reduce(losses, _check_reduction(reduction, "binary_cross_entropy_with_logits"))


def l2_penalty(params: Any) -> Any:
    """The sum of squares of every parameter, to add to a loss as ``lam * l2_penalty(model)``.
    For a module, only its :meth:`~micrograd.nn.Module.parameters` count (not running
    statistics); pass ``[layer.weight for layer in ...]`` to leave biases out.

    >>> l2_penalty({"w": np.array([1.0, 2.0]), "b": np.array([3.0])})
    np.float64(14.0)
    """
    leaves = params.parameters() if isinstance(params, Module) else tree.leaves(params)
    leaves = [p for leaf in leaves for p in (leaf.parameters() if isinstance(leaf, Module) else [leaf])]
    if not leaves:
        return np.float64(0.0)
    total = mnp.sum(mnp.square(leaves[0]))
    for p in leaves[1:]:
        total = total + mnp.sum(mnp.square(p))
    return total


class _Loss(Module):
    """A loss function with its options bound: ``Loss(reduction=...)(input, target)``."""
    _function: Any = None

    def __init__(self, reduction: str = "mean"):
        self.reduction = _check_reduction(reduction, type(self).__name__)

    def __call__(self, input: Any, target: Any) -> Any:
        options = {k: v for k, v in vars(self).items() if k != "training"}
        return type(self)._function(input, target, **options)


class MSELoss(_Loss):
    """:func:`mse_loss` as an object. ``MSELoss()(np.array([1.0]), np.array([3.0]))`` -> ``4.0``."""
    _function = staticmethod(mse_loss)


class L1Loss(_Loss):
    """:func:`l1_loss` as an object. ``L1Loss()(np.array([1.0]), np.array([3.0]))`` -> ``2.0``."""
    _function = staticmethod(l1_loss)


class CrossEntropyLoss(_Loss):
    """:func:`cross_entropy` as an object: takes **logits** and integer labels or probabilities.

    >>> CrossEntropyLoss()(np.array([[0.0, 0.0]]), np.array([3]))
    Traceback (most recent call last):
    ...
    ValueError: cross_entropy: labels must be in [0, 1] for 2 classes, got [3]
    ...
    """
    _function = staticmethod(cross_entropy)


class NLLLoss(_Loss):
    """:func:`nll_loss` as an object: takes log-probabilities (a LogSoftmax output)."""
    _function = staticmethod(nll_loss)


class BCELoss(_Loss):
    """:func:`binary_cross_entropy` as an object: takes probabilities (a Sigmoid output).

    >>> BCELoss()(np.array([0.5]), np.array([1.0])).round(4)
    np.float64(0.6931)
    """
    _function = staticmethod(binary_cross_entropy)

    def __init__(self, reduction: str = "mean", eps: float = 1e-7):
        super().__init__(reduction)
        if not 0.0 < eps < 0.5:
            raise ValueError(f"BCELoss: eps must be in (0, 0.5), got {eps!r}")
        self.eps = float(eps)


class BCEWithLogitsLoss(_Loss):
    """:func:`binary_cross_entropy_with_logits` as an object: takes logits (no Sigmoid layer).

    >>> BCEWithLogitsLoss()(np.array([0.0]), np.array([1.0])).round(4)
    np.float64(0.6931)
    """
    _function = staticmethod(binary_cross_entropy_with_logits)
