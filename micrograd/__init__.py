"""micrograd: composable automatic differentiation for NumPy programs.

>>> import numpy as np, micrograd as mg
>>> mg.grad(lambda x: np.sum(np.tanh(x) ** 2))(np.array([0.0, 1.0])).round(4)
array([0.    , 0.6397])
"""
__version__ = "0.1.0"

from .backend.memory import keep_freed_memory as _keep_freed_memory  # noqa: E402

_keep_freed_memory()  # (see backend/memory.py: training steps reuse their memory instead of faulting it in again)

from . import numpy, primitives, random, testing, tree, viz  # noqa: E402
from .testing import check_grads  # noqa: E402
from .config import config, debug_nans  # noqa: E402  (mg.config is the settings object)
from .backend.compile import CompileError  # noqa: E402
from .core.errors import LeakedTracerError, NotDifferentiableError, ShapeError, TracerConversionError  # noqa: E402
from .core.ir import Program  # noqa: E402
from .core.trace import eval_program  # noqa: E402
from .transforms.grad import chain, grad, value_and_grad, vjp  # noqa: E402
from .transforms.jacobians import hessian, jacfwd, jacrev  # noqa: E402
from .transforms.jit import jit, wait_for_compiles  # noqa: E402
from .transforms.jvp import jvp, linearize  # noqa: E402
from .transforms.make_ir import make_ir  # noqa: E402
from .transforms.custom import checkpoint, custom_jvp, custom_vjp, remat  # noqa: E402
from .transforms.vmap import vmap  # noqa: E402
from .tensor import Device, Tensor, device, enable_grad, is_grad_enabled, no_grad  # noqa: E402
from .tensor import tensor  # noqa: E402  (the function: it shadows the module's name, as torch.tensor does)
from .numpy import argmax, argmin  # noqa: E402  (the tutorial's mg.argmax(predictions, dim=1))
from . import data, lax, nn, optim  # noqa: E402
from . import distributed  # noqa: E402  (MPI is imported only when a distributed function needs it)
from .saving import CheckpointError, load, save  # noqa: E402
from .nn import (GRU, LSTM, RNN, AdaptiveAvgPool2d, AvgPool2d, BatchNorm1d, BatchNorm2d, BCELoss,  # noqa: E402
                 BCEWithLogitsLoss, Conv1d, Conv2d, ConvTranspose2d, CrossEntropyLoss, Dropout, Dropout2d, Flatten,
                 Identity, L1Loss, Linear, LogSoftmax, MaxPool2d, Module, MSELoss, NLLLoss, ReLU, Sequential, Sigmoid,
                 Softmax, Tanh)
from .optim import SGD, Adagrad, Adam, AdamW, RMSprop, clip_by_global_norm  # noqa: E402

__all__ = ["__version__", "numpy", "tree", "primitives", "grad", "value_and_grad", "vjp", "chain",
           "jit", "wait_for_compiles", "jvp", "linearize", "vmap", "jacfwd", "jacrev", "hessian", "make_ir", "custom_jvp", "custom_vjp", "checkpoint", "remat", "eval_program", "check_grads", "Program", "ShapeError", "TracerConversionError", "NotDifferentiableError", "LeakedTracerError", "CompileError",
           "tensor", "Tensor", "argmax", "argmin", "config", "debug_nans", "no_grad", "enable_grad", "is_grad_enabled", "device", "Device",
           "random", "nn", "optim", "data", "distributed", "viz", "lax", "Module", "Linear", "Sequential", "Identity", "ReLU", "Sigmoid", "Tanh",
           "Softmax", "LogSoftmax", "Dropout", "BatchNorm1d", "RNN", "LSTM", "GRU", "Flatten", "Conv1d", "Conv2d",
           "ConvTranspose2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "BatchNorm2d", "Dropout2d", "MSELoss", "L1Loss", "CrossEntropyLoss", "NLLLoss",
           "BCELoss", "BCEWithLogitsLoss", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "clip_by_global_norm",
           "save", "load", "CheckpointError"]
