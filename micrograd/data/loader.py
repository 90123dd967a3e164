"""Batches for training loops, as tensors: eager code calls ``images.to(mg.device)`` and
``labels.size(0)`` on them as the tutorial does, and functional code and transforms take them
as they take arrays.

>>> import numpy as np
>>> loader = DataLoader(np.arange(10.0).reshape(5, 2), np.arange(5), batch_size=2, shuffle=False)
>>> len(loader), [labels.tolist() for _, labels in loader]
(3, [[0, 1], [2, 3], [4]])
"""
from __future__ import annotations

import copy
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

    With ``shard=True`` (or ``loader.shard(rank, size)``), each of the processes of a
    data-parallel job gets its part of every batch: all ranks draw the same order (the same
    ``seed``), ``batch_size`` stays the global batch, and rank ``r`` of ``size`` takes rows
    ``r * b`` to ``(r + 1) * b`` of it, ``b = batch_size // size``, so the ranks' batches together
    are the batch one process would see. A smaller last batch (without ``drop_last``) is split as
    evenly as it goes; one with fewer rows than ranks is left out. With a ``transform``, each
    rank draws its augmentation from the batch's key and its rank.

    >>> loader = DataLoader(np.zeros((5, 1)), np.arange(5), batch_size=2, seed=0)
    >>> first = [labels.tolist() for _, labels in loader]
    >>> second = [labels.tolist() for _, labels in loader]
    >>> sorted(sum(first, [])) == sorted(sum(second, [])) == [0, 1, 2, 3, 4], first != second
    (True, True)
    """

    def __init__(self, inputs: np.ndarray, labels: np.ndarray, batch_size: int = 64, shuffle: bool = True,
                 seed: int = 0, drop_last: bool = False, transform: Transform | None = None, shard: bool = False):
        if len(inputs) != len(labels):
            raise ValueError(f"DataLoader: {len(inputs)} inputs but {len(labels)} labels")
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got {batch_size!r}")
        self.inputs, self.labels = inputs, labels
        self.batch_size, self.shuffle, self.drop_last = int(batch_size), bool(shuffle), bool(drop_last)
        self.transform = transform
        self.key = random.key(seed)
        self.epoch = 0
        self.shard_rank, self.shard_count = 0, 1
        if shard:
            from ..distributed import rank, size
            self._set_shard(rank(), size())

    def shard(self, rank: int | None = None, size: int | None = None) -> "DataLoader":
        """A loader for rank ``rank`` of ``size`` processes (default: this MPI rank among all of
        them), yielding that rank's rows of every batch (see the class); this loader is unchanged.

        >>> loader = DataLoader(np.arange(12.0)[:, None], np.arange(12), batch_size=4, shuffle=False)
        >>> [labels.tolist() for _, labels in loader.shard(1, 2)]
        [[2, 3], [6, 7], [10, 11]]
        """
        if rank is None or size is None:
            from .. import distributed
            rank = distributed.rank() if rank is None else rank
            size = distributed.size() if size is None else size
        sharded = copy.copy(self)
        sharded._set_shard(rank, size)
        return sharded

    def _set_shard(self, rank: int, size: int) -> None:
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size <= 0:
            raise ValueError(f"DataLoader.shard: size must be a positive number of ranks, got {size!r}")
        if isinstance(rank, bool) or not isinstance(rank, (int, np.integer)) or not 0 <= rank < size:
            raise ValueError(f"DataLoader.shard: rank must be from 0 to {size - 1}, got {rank!r}")
        if len(self.inputs) < size:
            raise ValueError(f"DataLoader.shard: {len(self.inputs)} rows cannot be shared by {size} ranks: every rank "
                             "needs at least one row (use fewer processes or more data)")
        if self.batch_size % size:
            raise ValueError(f"DataLoader.shard: batch_size {self.batch_size} (the global batch) does not divide "
                             f"evenly among {size} ranks; use a multiple of {size}, such as "
                             f"{max(size, self.batch_size - self.batch_size % size)}")
        self.shard_rank, self.shard_count = int(rank), int(size)

    def __len__(self) -> int:
        n, b = len(self.inputs), self.batch_size
        if self.drop_last or n % b < self.shard_count:  # (a last batch smaller than the ranks is left out)
            return n // b
        return -(-n // b)

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        epoch_key = random.fold_in(self.key, self.epoch)
        self.epoch += 1
        n = len(self.inputs)
        order = random.permutation(epoch_key, n) if self.shuffle else np.arange(n)
        batch_keys = random.split(random.fold_in(epoch_key, n), len(self)) if self.transform else None
        for i in range(len(self)):
            rows = order[i * self.batch_size:(i + 1) * self.batch_size]
            key = batch_keys[i] if self.transform else None
            if self.shard_count > 1:
                rows = np.array_split(rows, self.shard_count)[self.shard_rank]
                key = random.fold_in(key, self.shard_rank) if self.transform else None
            inputs = self.inputs[rows]
            if self.transform is not None:
                inputs = self.transform(key, inputs)
            yield Tensor._wrap(np.asarray(inputs)), Tensor._wrap(np.asarray(self.labels[rows]))
