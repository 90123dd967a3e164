"""Learning-rate schedules: functions from the step count (0 for the first update) to a rate,
accepted wherever a learning rate is (``mg.Adam(learning_rate=cosine_decay(1e-3, 1000))``).
They are written with micrograd operations, so inside a jitted step the count may be traced.

>>> from micrograd.optim import schedules
>>> lr = schedules.warmup(schedules.cosine_decay(1.0, 10), warmup_steps=5)
>>> [round(float(lr(s)), 3) for s in (0, 1, 5, 10, 15, 20)]
[0.0, 0.2, 1.0, 0.5, 0.0, 0.0]
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .. import numpy as mnp

__all__ = ["constant", "step_decay", "exponential_decay", "cosine_decay", "warmup"]

Schedule = Callable[[Any], Any]


def _count(step: Any) -> Any:
    return mnp.astype(mnp.asarray(step), np.float64)


def constant(value: float) -> Schedule:
    """The same rate at every step. ``constant(0.1)(7)`` -> ``0.1``."""
    return lambda step: mnp.full_like(_count(step), value)


def step_decay(init_value: float, step_size: int, gamma: float = 0.1) -> Schedule:
    """``init_value * gamma ** (step // step_size)``: multiplied by ``gamma`` every ``step_size``
    steps (PyTorch's StepLR, counted in steps).

    >>> [float(step_decay(1.0, 2, 0.5)(s)) for s in range(5)]
    [1.0, 1.0, 0.5, 0.5, 0.25]
    """
    if step_size <= 0:
        raise ValueError(f"step_decay: step_size must be positive, got {step_size!r}")
    # floor as a cast to integers, which truncates: counts are never negative here
    return lambda step: init_value * mnp.power(gamma, mnp.astype(_count(step) / step_size, np.int64) * 1.0)


def exponential_decay(init_value: float, decay_rate: float, decay_steps: int = 1) -> Schedule:
    """``init_value * decay_rate ** (step / decay_steps)``: smooth exponential decay.

    >>> round(float(exponential_decay(1.0, 0.5, decay_steps=10)(5)), 4)
    0.7071
    """
    if decay_steps <= 0:
        raise ValueError(f"exponential_decay: decay_steps must be positive, got {decay_steps!r}")
    return lambda step: init_value * mnp.power(decay_rate, _count(step) / decay_steps)


def cosine_decay(init_value: float, decay_steps: int, alpha: float = 0.0) -> Schedule:
    """Half a cosine from ``init_value`` down to ``alpha * init_value`` over ``decay_steps``,
    then constant (SGDR without restarts).

    >>> [round(float(cosine_decay(1.0, 4)(s)), 4) for s in (0, 2, 4, 8)]
    [1.0, 0.5, 0.0, 0.0]
    """
    if decay_steps <= 0:
        raise ValueError(f"cosine_decay: decay_steps must be positive, got {decay_steps!r}")

    def schedule(step):
        progress = mnp.minimum(_count(step), float(decay_steps)) / decay_steps
        return init_value * (alpha + (1.0 - alpha) * 0.5 * (1.0 + mnp.cos(np.pi * progress)))
    return schedule


def warmup(schedule: Schedule | float, warmup_steps: int, init_value: float = 0.0) -> Schedule:
    """A linear ramp from ``init_value`` to the schedule's first rate over ``warmup_steps``
    steps, then ``schedule(step - warmup_steps)``. ``schedule`` may be a constant rate.

    >>> [float(warmup(1.0, 4)(s)) for s in range(6)]
    [0.0, 0.25, 0.5, 0.75, 1.0, 1.0]
    """
    if warmup_steps <= 0:
        raise ValueError(f"warmup: warmup_steps must be positive, got {warmup_steps!r}")
    after = schedule if callable(schedule) else constant(schedule)

    def warmed(step):
        count = _count(step)
        peak = after(mnp.zeros_like(count))
        ramp = init_value + (peak - init_value) * (count / warmup_steps)
        return mnp.where(mnp.less(count, warmup_steps), ramp, after(mnp.maximum(count - warmup_steps, 0.0)))
    return warmed
