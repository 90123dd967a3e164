"""Optimizers (stateless ``init``/``update`` pairs), learning-rate schedules and gradient clipping.

>>> import numpy as np, micrograd as mg
>>> opt = mg.optim.SGD(learning_rate=mg.optim.schedules.step_decay(0.1, step_size=1, gamma=0.5))
>>> params, state = np.array([1.0]), opt.init(np.array([1.0]))
>>> for _ in range(2):
...     params, state = opt.update(params, np.array([1.0]), state)
>>> params  # 1 - 0.1 - 0.05
array([0.85])
"""
from . import schedules
from .optimizers import SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop, clip_by_global_norm, global_norm
from .step import make_train_step

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "clip_by_global_norm", "global_norm",
           "schedules", "make_train_step"]
