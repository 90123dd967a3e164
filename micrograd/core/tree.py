"""Pytrees: nested containers whose leaves are arrays.

Tuples, lists, dicts, namedtuples and ``None`` are containers out of the box; any other class
becomes one with :func:`register`. Every transform flattens its arguments to a list of leaves
plus a :class:`TreeDef`, works on the leaves, and rebuilds the caller's structure.

>>> leaves, treedef = flatten({"w": 1.0, "b": (2.0, None)})
>>> leaves
[2.0, 1.0]
>>> unflatten(treedef, [x * 10 for x in leaves])
{'b': (20.0, None), 'w': 10.0}
"""
from __future__ import annotations

from typing import Any, Callable, Hashable, Iterable, NamedTuple, Sequence

import numpy as np


class _NodeType(NamedTuple):
    flatten: Callable[[Any], tuple[Iterable[Any], Hashable]]
    unflatten: Callable[[Hashable, list[Any]], Any]


_registry: dict[type, _NodeType] = {}


def register(cls: type, flatten: Callable[[Any], tuple[Iterable[Any], Hashable]],
             unflatten: Callable[[Hashable, list[Any]], Any]) -> type:
    """Make instances of ``cls`` pytree nodes.

    ``flatten(obj) -> (children, aux)`` where ``aux`` is hashable static data, and
    ``unflatten(aux, children) -> obj``.

    >>> class Pair:
    ...     def __init__(self, a, b): self.a, self.b = a, b
    >>> _ = register(Pair, lambda p: ((p.a, p.b), None), lambda aux, ch: Pair(*ch))
    >>> leaves(Pair(1.0, [2.0, 3.0]))
    [1.0, 2.0, 3.0]
    """
    _registry[cls] = _NodeType(flatten, unflatten)
    return cls


def _sorted_keys(d: dict) -> tuple:
    try:
        return tuple(sorted(d))
    except TypeError:  # keys of mixed types keep insertion order
        return tuple(d)


register(tuple, lambda t: (t, None), lambda _, ch: tuple(ch))
register(list, lambda t: (t, None), lambda _, ch: list(ch))
register(dict, lambda d: ([d[k] for k in _sorted_keys(d)], _sorted_keys(d)),
         lambda keys, ch: dict(zip(keys, ch)))
register(type(None), lambda _: ((), None), lambda _, ch: None)


def _node_type(x: Any) -> _NodeType | None:
    node = _registry.get(type(x))
    if node is None and isinstance(x, tuple) and hasattr(x, "_fields"):  # namedtuple
        cls = type(x)
        register(cls, lambda t: (tuple(t), None), lambda _, ch: cls(*ch))
        node = _registry[cls]
    return node


class TreeDef:
    """The structure of a pytree without its leaves; hashable, so it can key a cache."""
    __slots__ = ("node_class", "aux", "children", "_num_leaves", "_hash")

    def __init__(self, node_class: type | None, aux: Hashable = None, children: tuple = ()):
        self.node_class, self.aux, self.children = node_class, aux, children
        self._num_leaves = self._hash = None  # computed when first asked for: flattening is hot

    @property
    def num_leaves(self) -> int:
        if self._num_leaves is None:
            self._num_leaves = 1 if self.node_class is None else sum(c.num_leaves for c in self.children)
        return self._num_leaves

    def __eq__(self, other):
        return self is other or (isinstance(other, TreeDef) and hash(self) == hash(other)
                                 and self.node_class is other.node_class and self.aux == other.aux
                                 and self.children == other.children)

    def __hash__(self):
        if self._hash is None:
            self._hash = hash((self.node_class, self.aux, self.children))
        return self._hash

    def __repr__(self):
        return f"TreeDef({_describe(self)})"


LEAF = TreeDef(None)
_LEAF_TYPES = frozenset({np.ndarray, float, int, bool, complex})  # never registered as containers
_NONE = TreeDef(type(None))


def _describe(td: TreeDef) -> str:
    if td.node_class is None:
        return "*"
    inner = ", ".join(_describe(c) for c in td.children)
    if td.node_class is dict:
        inner = ", ".join(f"{k!r}: {_describe(c)}" for k, c in zip(td.aux, td.children))
        return "{" + inner + "}"
    if td.node_class is list:
        return f"[{inner}]"
    if td.node_class is tuple:
        return f"({inner}{',' if len(td.children) == 1 else ''})"
    if td.node_class is type(None):
        return "None"
    return f"{td.node_class.__name__}({inner})"


def flatten(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> tuple[list[Any], TreeDef]:
    """Split a pytree into its list of leaves and its :class:`TreeDef`.

    >>> flatten([1.0, (2.0, 3.0)])[0]
    [1.0, 2.0, 3.0]
    """
    if type(tree) in _LEAF_TYPES and is_leaf is None:  # (transforms flatten single arrays all the time)
        return [tree], LEAF
    leaves: list[Any] = []
    return leaves, _flatten(tree, leaves, is_leaf)


def _flatten(x: Any, leaves: list, is_leaf) -> TreeDef:
    if is_leaf is not None and is_leaf(x):
        leaves.append(x)
        return LEAF
    kind = type(x)
    if kind in _LEAF_TYPES:
        leaves.append(x)
        return LEAF
    if kind is list or kind is tuple:  # the common containers skip the registry
        return TreeDef(kind, None, tuple([_flatten(c, leaves, is_leaf) for c in x]))
    if kind is dict:
        keys = _sorted_keys(x)
        return TreeDef(dict, keys, tuple([_flatten(x[k], leaves, is_leaf) for k in keys]))
    if x is None:
        return _NONE
    node = _node_type(x)
    if node is None:
        leaves.append(x)
        return LEAF
    children, aux = node.flatten(x)
    return TreeDef(kind, aux, tuple([_flatten(c, leaves, is_leaf) for c in children]))


def unflatten(treedef: TreeDef, leaves: Iterable[Any]) -> Any:
    """Rebuild a pytree of the given structure from a sequence of leaves.

    >>> _, td = flatten((1.0, [2.0]))
    >>> unflatten(td, ["a", "b"])
    ('a', ['b'])
    """
    it = iter(leaves)
    out = _build(treedef, it)
    if next(it, _sentinel) is not _sentinel:
        raise ValueError(f"too many leaves for tree structure {treedef}")
    return out


def _build(td: TreeDef, it) -> Any:
    kind = td.node_class
    if kind is None:
        return next(it)
    if kind is list:
        return [_build(c, it) for c in td.children]
    if kind is tuple:
        return tuple([_build(c, it) for c in td.children])
    if kind is dict:
        return {k: _build(c, it) for k, c in zip(td.aux, td.children)}
    return _registry[kind].unflatten(td.aux, [_build(c, it) for c in td.children])


_sentinel = object()


def unflattener(treedef: TreeDef, wrap: Sequence[Callable | None] = ()) -> Callable[[Sequence[Any]], Any]:
    """A function rebuilding ``treedef`` from a sequence of leaves, generated once so that
    calling it does no recursion (``jit`` calls it on every result). ``wrap[i]``, if given,
    is applied to leaf ``i``.

    >>> rebuild = unflattener(structure({"a": [0, 0], "b": None}))
    >>> rebuild([1, 2])
    {'a': [1, 2], 'b': None}
    """
    namespace: dict[str, Any] = {}
    count = iter(range(treedef.num_leaves))

    def code(td: TreeDef) -> str:
        kind = td.node_class
        if kind is None:
            i = next(count)
            if i < len(wrap) and wrap[i] is not None:
                namespace[f"w{i}"] = wrap[i]
                return f"w{i}(o[{i}])"
            return f"o[{i}]"
        children = [code(c) for c in td.children]
        if kind is list:
            return "[" + ", ".join(children) + "]"
        if kind is tuple:
            return "(" + "".join(c + ", " for c in children) + ")"
        if kind is dict:
            return "{" + ", ".join(f"{k!r}: {c}" for k, c in zip(td.aux, children)) + "}" if all(
                type(k) in (str, int) for k in td.aux) else _generic(td, children)
        return _generic(td, children)

    def _generic(td: TreeDef, children: list[str]) -> str:
        n = len(namespace)
        namespace[f"u{n}"], namespace[f"a{n}"] = _registry[td.node_class].unflatten, td.aux
        return f"u{n}(a{n}, [{', '.join(children)}])"

    return eval(f"lambda o: {code(treedef)}", namespace)


def labeled_children(x: Any) -> tuple[list[Any], TreeDef, list[str]] | None:
    """One level of a pytree node: its children, the treedef of that level, and how each child
    is named in a path (``[key]`` in a dict, ``.field`` in a namedtuple, ``[i]`` otherwise);
    None for a leaf. It flattens one level with the registry, as transforms do.

    >>> labeled_children({"a": 1, "b": (2, 3)})[2]
    ["['a']", "['b']"]
    """
    children, treedef = flatten(x, is_leaf=lambda v: v is not x)
    if treedef.node_class is None:
        return None
    if treedef.node_class is dict:
        labels = [f"[{k!r}]" for k in treedef.aux]
    elif isinstance(x, tuple) and hasattr(x, "_fields"):
        labels = [f".{k}" for k in x._fields]
    else:
        labels = [f"[{i}]" for i in range(len(children))]
    return children, treedef, labels


def leaves(tree: Any) -> list[Any]:
    """The leaves of a pytree, left to right.

    >>> leaves({"a": 1.0, "b": [2.0, None]})
    [1.0, 2.0]
    """
    return flatten(tree)[0]


def structure(tree: Any) -> TreeDef:
    """The :class:`TreeDef` of a pytree.

    >>> structure((1.0, [2.0]))
    TreeDef((*, [*]))
    """
    return flatten(tree)[1]


def map(f: Callable[..., Any], tree: Any, *rest: Any) -> Any:  # noqa: A001 - mirrors jax.tree.map
    """Apply ``f`` to every leaf (and the matching leaves of ``rest``, which share the structure).

    >>> map(lambda x, y: x + y, {"a": 1.0, "b": 2.0}, {"a": 10.0, "b": 20.0})
    {'a': 11.0, 'b': 22.0}
    """
    flat, treedef = flatten(tree)
    flat_rest = []
    for other in rest:
        other_flat, other_def = flatten(other)
        if other_def != treedef:
            raise ValueError(f"tree.map: structures differ: {treedef} and {other_def}")
        flat_rest.append(other_flat)
    return unflatten(treedef, [f(*xs) for xs in zip(flat, *flat_rest)])
