"""Neural-network modules (pytrees of arrays), losses and initializers.

>>> import numpy as np, micrograd as mg
>>> model = mg.nn.Sequential([mg.nn.Linear(2, 1, key=mg.random.key(0)), mg.nn.Sigmoid()])
>>> model(np.zeros((4, 2))).shape
(4, 1)
"""
from . import functional, init
from .layers import (BatchNorm1d, Dropout, Flatten, Identity, Linear, LogSoftmax, ReLU, Sequential, Sigmoid, Softmax,
                     Tanh)
from .spatial import (AdaptiveAvgPool2d, AvgPool2d, BatchNorm2d, Conv1d, Conv2d, ConvTranspose2d, Dropout2d,
                      MaxPool2d)
from .losses import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss, NLLLoss, binary_cross_entropy,
                     binary_cross_entropy_with_logits, cross_entropy, l1_loss, l2_penalty, mse_loss, nll_loss)
from .module import Module, copy_buffers
from .recurrent import GRU, LSTM, RNN

__all__ = ["Module", "copy_buffers", "functional", "init", "Linear", "Sequential", "Identity", "ReLU", "Sigmoid",
           "Tanh", "Softmax", "LogSoftmax", "Dropout", "BatchNorm1d", "RNN", "LSTM", "GRU", "Flatten", "Conv1d", "Conv2d",
           "ConvTranspose2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "BatchNorm2d", "Dropout2d", "MSELoss", "L1Loss", "CrossEntropyLoss",
           "NLLLoss", "BCELoss", "BCEWithLogitsLoss", "mse_loss", "l1_loss", "cross_entropy", "nll_loss",
           "binary_cross_entropy", "binary_cross_entropy_with_logits", "l2_penalty"]
