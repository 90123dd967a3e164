"""Datasets: the IDX file format and MNIST."""
from .idx import read_idx

__all__ = ["read_idx"]
