"""Functional forms: activations (from :mod:`micrograd.numpy`) and losses as plain functions.

>>> import numpy as np
>>> from micrograd.nn import functional as F
>>> F.cross_entropy(np.array([[0.0, 0.0]]), np.array([1])).round(4)  # log(2)
np.float64(0.6931)
"""
from ..numpy import log_softmax, logsumexp, one_hot, relu, sigmoid, softmax, tanh
from .losses import (binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy, l1_loss, l2_penalty,
                     mse_loss, nll_loss)

__all__ = ["relu", "sigmoid", "tanh", "softmax", "log_softmax", "logsumexp", "one_hot", "mse_loss", "l1_loss",
           "cross_entropy", "nll_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits", "l2_penalty"]
