"""Batches for training loops, as tensors: eager code calls ``images.to(mg.device)`` and
``labels.size(0)`` on them as the tutorial does, and functional code and transforms take them
as they take arrays.

>>> import numpy as np
>>> loader = DataLoader(np.arange(10.0).reshape(5, 2), np.arange(5), batch_size=2, shuffle=False)
>>> len(loader), [labels.tolist() for _, labels in loader]
(3, [[0, 1], [2, 3], [4]])
"""
from __future__ import annotations

from typing import Any, Callable, Iterator

import numpy as np

from .. import random
from ..tensor import Tensor

__all__ = ["DataLoader"]

Transform = Callable[[Any, np.ndarray], np.ndarray]


class DataLoader:
    """Iterates over ``(inputs, labels)`` batches of ``batch_size`` rows.

    With ``shuffle``, each pass (epoch) visits the rows in a new order, drawn from
    ``seed`` and the epoch number, so a run is reproducible and every epoch differs. The last
    batch is smaller unless ``drop_last``. ``transform(key, inputs) -> inputs`` (data
    augmentation, e.g. :func:`micrograd.data.augment.random_affine`) is applied to each batch
    with its own key. ``len(loader)`` is the number of batches in one epoch.

    >>> loader = DataLoader(np.zeros((5, 1)), np.arange(5), batch_size=2, seed=0)
    >>> first = [labels.tolist() for _, labels in loader]
    >>> second = [labels.tolist() for _, labels in loader]
    >>> sorted(sum(first, [])) == sorted(sum(second, [])) == [0, 1, 2, 3, 4], first != second
    (True, True)
    """

    def __init__(self, inputs: np.ndarray, labels: np.ndarray, batch_size: int = 64, shuffle: bool = True,
                 seed: int = 0, drop_last: bool = False, transform: Transform | None = None):
        if len(inputs) != len(labels):
            raise ValueError(f"DataLoader: {len(inputs)} inputs but {len(labels)} labels")
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got {batch_size!r}")
        self.inputs, self.labels = inputs, labels
        self.batch_size, self.shuffle, self.drop_last = int(batch_size), bool(shuffle), bool(drop_last)
        self.transform = transform
        self.key = random.key(seed)
        self.epoch = 0

    def __len__(self) -> int:
        n, b = len(self.inputs), self.batch_size
        return n // b if self.drop_last else -(-n // b)

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        epoch_key = random.fold_in(self.key, self.epoch)
        self.epoch += 1
        n = len(self.inputs)
        order = random.permutation(epoch_key, n) if self.shuffle else np.arange(n)
        batch_keys = random.split(random.fold_in(epoch_key, n), len(self)) if self.transform else None
        for i in range(len(self)):
            rows = order[i * self.batch_size:(i + 1) * self.batch_size]
            inputs = self.inputs[rows]
            if self.transform is not None:
                inputs = self.transform(batch_keys[i], inputs)
            yield Tensor._wrap(np.asarray(inputs)), Tensor._wrap(np.asarray(self.labels[rows]))
