"""One training step as a single compiled function.

>>> import numpy as np, micrograd as mg
>>> x, y = np.array([[1.0], [2.0]]), np.array([[2.0], [4.0]])
>>> model = mg.Linear(1, 1, key=mg.random.key(0))
>>> opt = mg.SGD(learning_rate=0.1)
>>> step = make_train_step(lambda m: mg.MSELoss()(m(x), y), opt)
>>> model, state, loss = step(model, opt.init(model))
>>> model, state, loss2 = step(model, state)
>>> bool(loss2 < loss)
True
"""
from __future__ import annotations

from typing import Any, Callable

from ..transforms.grad import value_and_grad
from ..transforms.jit import jit as _jit
from .optimizers import Optimizer

__all__ = ["make_train_step"]


def make_train_step(loss_fn: Callable[..., Any], optimizer: Optimizer, *, jit: bool = True,
                    has_aux: bool = False) -> Callable:
    """``step(model, opt_state, *args) -> (model, opt_state, loss)``: the value and gradient of
    ``loss_fn(model, *args)`` with respect to the model, then one optimizer update; compiled
    with ``mg.jit`` as one program unless ``jit=False``. With ``has_aux``, ``loss_fn`` returns
    ``(loss, aux)`` and the step returns ``(model, opt_state, (loss, aux))``.
    """
    def train_step(model: Any, opt_state: Any, *args: Any):
        value, grads = value_and_grad(loss_fn, has_aux=has_aux)(model, *args)
        model, opt_state = optimizer.update(model, grads, opt_state)
        return model, opt_state, value

    return _jit(train_step) if jit else train_step
