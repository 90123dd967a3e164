"""Pytrees (``micrograd.tree.map``, ``flatten``, ``unflatten``, ``register``); see :mod:`micrograd.core.tree`."""
from .core.tree import TreeDef, flatten, leaves, map, register, structure, unflatten  # noqa: F401

__all__ = ["TreeDef", "flatten", "unflatten", "leaves", "structure", "map", "register"]
