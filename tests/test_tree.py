from collections import namedtuple

import pytest

import micrograd as mg


class Pair:
    def __init__(self, a, b):
        self.a, self.b = a, b


mg.tree.register(Pair, lambda p: ((p.a, p.b), "pair"), lambda aux, ch: Pair(*ch))


def test_flatten_unflatten_round_trip():
    P = namedtuple("P", "x y")
    tree = {"b": [1, (2, None)], "a": P(3, {"z": 4}), "c": Pair(5, [6])}
    leaves, treedef = mg.tree.flatten(tree)
    assert leaves == [3, 4, 1, 2, 5, 6]  # dict keys in sorted order
    rebuilt = mg.tree.unflatten(treedef, leaves)
    assert rebuilt["a"] == P(3, {"z": 4}) and rebuilt["b"] == [1, (2, None)]
    assert isinstance(rebuilt["c"], Pair) and rebuilt["c"].b == [6]


def test_treedefs_compare_and_hash():
    _, a = mg.tree.flatten({"x": [1, 2]})
    _, b = mg.tree.flatten({"x": [3, 4]})
    _, c = mg.tree.flatten({"x": (3, 4)})
    assert a == b and hash(a) == hash(b) and a != c
    assert repr(a) == "TreeDef({'x': [*, *]})"


def test_map_over_several_trees_and_mismatch():
    assert mg.tree.map(lambda x, y: x * y, [1, {"k": 2}], [3, {"k": 4}]) == [3, {"k": 8}]
    with pytest.raises(ValueError, match="structures differ"):
        mg.tree.map(lambda x, y: x, [1, 2], [1, 2, 3])


def test_unflatten_checks_leaf_count():
    _, treedef = mg.tree.flatten([1, 2])
    with pytest.raises(ValueError, match="too many leaves"):
        mg.tree.unflatten(treedef, [1, 2, 3])
