"""Datasets and loaders: the IDX file format, MNIST, batching and image augmentation.

>>> import numpy as np, micrograd as mg
>>> len(mg.data.DataLoader(np.zeros((10, 2)), np.zeros(10), batch_size=4))
3
"""
from . import augment, mnist
from .idx import read_idx
from .loader import DataLoader

__all__ = ["read_idx", "DataLoader", "mnist", "augment"]
