"""Checkpoints: ``save(path, tree)`` writes any pytree of arrays (a model, an optimizer state,
dicts, lists, tuples, namedtuples, ``None``) to one file; ``load(path, like=None)`` reads it back.

The file is a plain NumPy ``.npz`` archive: one entry per leaf (``leaf0``, ``leaf1``, ...) and
one entry, ``__micrograd__``, holding the tree's structure as JSON text (node kinds, dict keys,
class names, and each leaf's shape and dtype). Nothing is pickled, and :func:`load` reads with
``allow_pickle=False``, so loading a file never runs code from it.

Saving is atomic: the archive is written to a temporary file in the same folder, flushed and
fsynced, renamed over ``path`` (``os.replace``) and the folder fsynced, so a process killed
during a save leaves the previous checkpoint whole (and at most a ``.NAME.*.tmp`` file beside it).

>>> import os, tempfile, numpy as np, micrograd as mg
>>> path = os.path.join(tempfile.mkdtemp(), "state.npz")
>>> mg.save(path, {"w": np.array([1.0, 2.0], np.float32), "step": 3, "extra": None})
>>> mg.load(path)
{'extra': None, 'step': 3, 'w': array([1., 2.], dtype=float32)}

A model is a class (a registered pytree), which a file alone cannot rebuild without running
code; give ``like`` (a model of the same architecture) and the file supplies its arrays:

>>> model = mg.Linear(2, 1, key=mg.random.key(0))
>>> mg.save(path, model)
>>> restored = mg.load(path, like=mg.Linear(2, 1, key=mg.random.key(1)))
>>> bool(np.array_equal(restored.weight.data, model.weight.data))
True
"""
from __future__ import annotations

import json
import os
import tempfile
import zipfile
from collections import namedtuple
from typing import Any

import numpy as np

from .core import tree
from .core.trace import Tracer
from .tensor import Tensor

__all__ = ["save", "load", "CheckpointError"]

FORMAT = "micrograd-checkpoint"
VERSION = 1
_META = "__micrograd__"


class CheckpointError(ValueError):
    """A checkpoint cannot be written or read: a leaf that is not an array, a truncated or
    corrupted file, or a file whose structure, shapes or dtypes differ from ``like``."""


# --- paths in a tree, for messages ----------------------------------------------------------------

def _key_text(key: Any) -> str:
    return f"[{key!r}]"


def _path_text(path: str) -> str:
    return path or "the root of the tree"


# --- saving ---------------------------------------------------------------------------------------

def _children(x: Any) -> tuple[list, Any] | None:
    """(children, treedef of one level) of a pytree node, or None for a leaf. Flattening one
    level (every child counts as a leaf) uses the registry exactly as transforms do."""
    children, treedef = tree.flatten(x, is_leaf=lambda v: v is not x)
    return None if treedef.node_class is None else (children, treedef)


def _labels(x: Any, treedef: tree.TreeDef, count: int) -> list[str]:
    """How each child is named in a path: ``.field`` for modules and namedtuples, ``[i]``
    otherwise (dict keys are handled by the caller)."""
    from .nn.module import Module  # late: nn imports this package
    if isinstance(x, Module):
        names = [name for name, is_child, _ in treedef.aux if is_child]
        if len(names) == count:
            return [f".{n}" for n in names]
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return [f".{n}" for n in x._fields]
    return [f"[{i}]" for i in range(count)]


def _encode_key(key: Any, path: str) -> list:
    for kind in (bool, int, float, str):  # bool first: True is an int too
        if type(key) is kind:
            return [kind.__name__, key]
    if key is None:
        return ["None", None]
    raise CheckpointError(f"save: the dict at {_path_text(path)} has a key {key!r} of type {type(key).__name__}; "
                          "checkpoint dict keys must be str, int, float, bool or None")


def _decode_key(encoded: list) -> Any:
    kind, value = encoded
    return None if kind == "None" else {"bool": bool, "int": int, "float": float, "str": str}[kind](value)


def _leaf_record(x: Any, path: str, arrays: list) -> dict:
    if isinstance(x, Tensor):
        array, kind, extra = x.data, "tensor", {"requires_grad": bool(x.requires_grad)}
    elif isinstance(x, Tracer):
        raise CheckpointError(f"save: the leaf at {_path_text(path)} is a traced value ({x.aval}); save concrete "
                              "arrays, outside of grad/jit/vmap")
    elif isinstance(x, np.ndarray):
        array, kind, extra = x, "array", {}
    elif isinstance(x, np.generic):
        array, kind, extra = np.asarray(x), "numpy_scalar", {}
    elif type(x) in (bool, int, float, complex):
        if type(x) is int and not -2 ** 63 <= x < 2 ** 63:
            raise CheckpointError(f"save: the int at {_path_text(path)} does not fit in 64 bits")
        array = np.asarray(x)
        kind, extra = "python_scalar", {"type": type(x).__name__}
    else:
        raise CheckpointError(
            f"save: the leaf at {_path_text(path)} is a {type(x).__name__} ({x!r:.60}); a checkpoint holds arrays, "
            "tensors and numbers in dicts, lists, tuples, namedtuples and registered classes (modules). Keep other "
            "values (strings, functions) out of the tree, or in a module's static fields")
    if array.dtype.hasobject:
        raise CheckpointError(f"save: the array at {_path_text(path)} has dtype object, which only pickle could "
                              "store; checkpoints hold numeric, bool and string arrays")
    arrays.append(array)
    return {"leaf": len(arrays) - 1, "kind": kind, "shape": list(array.shape), "dtype": array.dtype.str, **extra}


def _encode(x: Any, path: str, arrays: list) -> dict:
    """The JSON description of ``x``, appending its leaves' arrays to ``arrays`` in flatten order."""
    if x is None:
        return {"node": "None"}
    node = _children(x)
    if node is None:
        return _leaf_record(x, path, arrays)
    children, treedef = node
    kind = treedef.node_class
    if kind is dict:
        return {"node": "dict", "keys": [_encode_key(k, path) for k in treedef.aux],
                "children": [_encode(c, path + _key_text(k), arrays) for k, c in zip(treedef.aux, children)]}
    labels = _labels(x, treedef, len(children))
    encoded = [_encode(c, path + label, arrays) for c, label in zip(children, labels)]
    if kind is list or kind is tuple:
        return {"node": kind.__name__, "children": encoded}
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return {"node": "namedtuple", "class": kind.__name__, "fields": list(x._fields), "children": encoded}
    return {"node": "class", "class": f"{kind.__module__}.{kind.__qualname__}", "labels": labels,
            "children": encoded}


def save(path: str | os.PathLike, tree_: Any) -> None:
    """Write the pytree ``tree_`` to ``path`` (an ``.npz`` file; the name is used as given).

    Leaves may be NumPy arrays and scalars, :class:`~micrograd.Tensor` objects (their data is
    saved) and Python numbers; containers are dicts, lists, tuples, namedtuples, ``None`` and
    registered classes such as modules. The write is atomic (see the module docstring): an
    interrupted save leaves the previous file at ``path`` as it was.

    >>> import os, tempfile, numpy as np, micrograd as mg
    >>> path = os.path.join(tempfile.mkdtemp(), "ckpt.npz")
    >>> mg.save(path, [np.zeros(2), (np.int32(1), None)])
    >>> mg.load(path)
    [array([0., 0.]), (np.int32(1), None)]
    """
    path = os.fspath(path)
    arrays: list[np.ndarray] = []
    structure = _encode(tree_, "", arrays)
    meta = json.dumps({"format": FORMAT, "version": VERSION, "tree": structure}, allow_nan=True)
    entries = {f"leaf{i}": a for i, a in enumerate(arrays)}
    entries[_META] = np.frombuffer(meta.encode("utf-8"), np.uint8)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **entries)
            f.flush()
            os.fsync(f.fileno())  # the data is on disk before the rename makes it the checkpoint
        try:  # mkstemp makes the file private; a checkpoint gets the usual permissions or the old file's
            os.chmod(tmp, os.stat(path).st_mode & 0o777 if os.path.exists(path) else 0o644)
        except OSError:
            pass
        os.replace(tmp, path)
    except BaseException:  # KeyboardInterrupt included: never leave a half-written temporary behind
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_folder(folder)


def _fsync_folder(folder: str) -> None:
    """Make the rename itself durable (a crash right after ``os.replace`` keeps the new name)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # platforms that cannot open folders (Windows) cannot fsync them either
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# --- loading --------------------------------------------------------------------------------------

def _describe_node(record: dict) -> str:
    node = record.get("node")
    if node is None:
        return f"an array of shape {tuple(record['shape'])} and dtype {np.dtype(record['dtype'])}"
    if node == "None":
        return "None"
    n = len(record["children"])
    if node in ("list", "tuple"):
        return f"a {node} of {n}"
    if node == "dict":
        return f"a dict with keys {_keys_text(map(_decode_key, record['keys']))}"
    return f"a {record['class']} ({n} children)"


def _keys_text(keys) -> str:
    return ", ".join(sorted(map(repr, keys))) or "none"


def _describe_like(x: Any) -> str:
    if x is None:
        return "None"
    node = _children(x)
    if node is None:
        return f"an array of shape {np.shape(x)} and dtype {_dtype_of(x)}"
    children, treedef = node
    kind = treedef.node_class
    if kind in (list, tuple):
        return f"a {kind.__name__} of {len(children)}"
    if kind is dict:
        return f"a dict with keys {_keys_text(treedef.aux)}"
    return f"a {kind.__module__}.{kind.__qualname__} ({len(children)} children)"


def _dtype_of(x: Any) -> np.dtype:
    dtype = getattr(x, "dtype", None)
    return np.dtype(dtype) if dtype is not None else np.asarray(x).dtype


def _mismatch(where: str, path: str, expected: str, got: str) -> CheckpointError:
    return CheckpointError(f"checkpoint {where} does not match like= at {_path_text(path)}: like has {expected}, "
                           f"the file has {got}")


def _check(record: dict, like: Any, path: str, where: str, leaves: list) -> None:
    """Walk the file's structure beside ``like``; raise at the first difference, else collect
    (leaf record, like leaf) pairs in flatten order."""
    node = record.get("node")
    if like is None or node == "None":
        if not (like is None and node == "None"):
            raise _mismatch(where, path, _describe_like(like), _describe_node(record))
        return
    children = _children(like)
    if children is None or node is None:
        if not (children is None and node is None):
            raise _mismatch(where, path, _describe_like(like), _describe_node(record))
        shape, dtype = tuple(record["shape"]), np.dtype(record["dtype"])
        like_shape, like_dtype = tuple(np.shape(like.data if isinstance(like, Tensor) else like)), _dtype_of(like)
        if (like_shape, like_dtype) != (shape, dtype):
            raise _mismatch(where, path, f"shape {like_shape} and dtype {like_dtype}",
                            f"shape {shape} and dtype {dtype}")
        leaves.append((record, like))
        return
    like_children, treedef = children
    kind = treedef.node_class
    if kind is dict:
        if node != "dict":
            raise _mismatch(where, path, _describe_like(like), _describe_node(record))
        keys = [_decode_key(k) for k in record["keys"]]
        missing = [k for k in treedef.aux if k not in keys]
        extra = [k for k in keys if k not in treedef.aux]
        if missing or extra:
            what = (f"no key {missing[0]!r} (like has it)" if missing else f"a key {extra[0]!r} that like lacks")
            raise CheckpointError(f"checkpoint {where} does not match like= at {_path_text(path)}: the file's dict "
                                  f"has {what}; like has keys {_keys_text(treedef.aux)}, the file {_keys_text(keys)}")
        by_key = dict(zip(keys, record["children"]))
        for k, c in zip(treedef.aux, like_children):
            _check(by_key[k], c, path + _key_text(k), where, leaves)
        return
    if isinstance(like, tuple) and hasattr(like, "_fields"):
        same = node == "namedtuple" and record["fields"] == list(like._fields)
    elif kind in (list, tuple):
        same = node == kind.__name__
    else:
        same = node == "class" and record["class"] == f"{kind.__module__}.{kind.__qualname__}"
    labels = _labels(like, treedef, len(like_children))
    if same and node == "class" and record["labels"] != labels:
        raise _mismatch(where, path, f"fields {[n.lstrip('.') for n in labels]}",
                        f"fields {[n.lstrip('.') for n in record['labels']]}")
    if not same or len(record["children"]) != len(like_children):
        raise _mismatch(where, path, _describe_like(like), _describe_node(record))
    for c_record, c_like, label in zip(record["children"], like_children, labels):
        _check(c_record, c_like, path + label, where, leaves)


def _as_like(array: np.ndarray, like: Any) -> Any:
    """A loaded array in the form of the ``like`` leaf it replaces."""
    if isinstance(like, Tensor):
        t = Tensor._wrap(array)
        t.requires_grad = bool(like.requires_grad)
        return t
    if isinstance(like, np.generic):
        return array[()]
    if type(like) in (bool, int, float, complex):
        return type(like)(array.item())
    return array


def _as_saved(array: np.ndarray, record: dict) -> Any:
    kind = record["kind"]
    if kind == "tensor":
        t = Tensor._wrap(array)
        t.requires_grad = bool(record.get("requires_grad"))
        return t
    if kind == "numpy_scalar":
        return array[()]
    if kind == "python_scalar":
        return {"bool": bool, "int": int, "float": float, "complex": complex}[record["type"]](array.item())
    return array


def _decode(record: dict, path: str, where: str, arrays: list) -> Any:
    """Rebuild plain containers from the file alone (no ``like``)."""
    node = record.get("node")
    if node is None:
        return _as_saved(arrays[record["leaf"]], record)
    if node == "None":
        return None
    if node == "dict":
        keys = [_decode_key(k) for k in record["keys"]]
        return {k: _decode(c, path + _key_text(k), where, arrays) for k, c in zip(keys, record["children"])}
    if node in ("list", "tuple"):
        items = [_decode(c, f"{path}[{i}]", where, arrays) for i, c in enumerate(record["children"])]
        return items if node == "list" else tuple(items)
    if node == "namedtuple":  # a new class of the same name and fields: importing the original could run code
        cls = namedtuple(record["class"], record["fields"])
        return cls(*(_decode(c, f"{path}.{f}", where, arrays) for c, f in zip(record["children"], record["fields"])))
    raise CheckpointError(
        f"checkpoint {where} holds a {record['class']} at {_path_text(path)}, which load() can only rebuild with "
        f"like=: pass an object of the same structure (e.g. like=model for a model built as it was when saved); "
        "the file supplies its arrays")


def load(path: str | os.PathLike, like: Any = None) -> Any:
    """Read a checkpoint written by :func:`save`.

    Without ``like``, dicts, lists, tuples, namedtuples (as new classes of the same name and
    fields) and ``None`` are rebuilt as saved, and leaves come back as they were saved (arrays,
    tensors, NumPy or Python scalars); a file holding a registered class (a module) needs
    ``like``. With ``like``, the result has ``like``'s structure (classes, static fields, the
    kind of each leaf: a tensor stays a tensor with ``like``'s ``requires_grad``) and the file's
    arrays, after checking that the structure, every shape and every dtype agree: the first
    difference raises :class:`CheckpointError` naming the path in the tree. A truncated or
    corrupted file raises :class:`CheckpointError` too. Never unpickles.

    >>> import os, tempfile, numpy as np, micrograd as mg
    >>> path = os.path.join(tempfile.mkdtemp(), "ckpt.npz")
    >>> mg.save(path, {"w": np.zeros((2, 3))})
    >>> mg.load(path, like={"w": np.zeros((3, 2))})
    Traceback (most recent call last):
    ...
    micrograd.saving.CheckpointError: checkpoint ... does not match like= at ['w']: like has shape (3, 2) and dtype float64, the file has shape (2, 3) and dtype float64
    """
    path = os.fspath(path)
    where = repr(path)
    with open(path, "rb") as f:  # np.load would take any other file for a pickle
        magic = f.read(4)
    if magic != b"PK\x03\x04":
        raise CheckpointError(f"checkpoint {where} is truncated or corrupted, or not a checkpoint: it does not start "
                              f"as an .npz (zip) archive does (first bytes {magic!r})")
    try:
        with np.load(path, allow_pickle=False) as archive:
            if _META not in archive.files:
                raise CheckpointError(f"{where} is an .npz file but not a micrograd checkpoint (it has no {_META} "
                                      f"entry; its entries are {sorted(archive.files)[:5]})")
            meta = json.loads(archive[_META].tobytes().decode("utf-8"))
            if not isinstance(meta, dict) or meta.get("format") != FORMAT:
                raise CheckpointError(f"{where} is not a micrograd checkpoint (its {_META} entry is not one)")
            if meta.get("version") != VERSION:
                raise CheckpointError(f"checkpoint {where} has format version {meta.get('version')!r}; this "
                                      f"micrograd reads version {VERSION}")
            record = meta["tree"]
            pairs: list = []
            if like is not None or record.get("node") == "None":
                _check(record, like, "", where, pairs)  # before reading arrays: a mismatch costs no I/O
            arrays = _read_arrays(archive, record, where)
    except CheckpointError:
        raise
    except FileNotFoundError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError, TypeError, UnicodeDecodeError) as e:
        raise CheckpointError(_damaged(where, e)) from e
    if like is None:
        return _decode(record, "", where, arrays)
    return tree.unflatten(tree.structure(like), [_as_like(arrays[r["leaf"]], l) for r, l in pairs])


def _damaged(where: str, error: Exception) -> str:
    text = str(error)
    if "allow_pickle" in text or "Object arrays" in text:
        return (f"checkpoint {where} holds an object array, which only unpickling could read, and unpickling can "
                f"run code; load() refuses it. ({type(error).__name__}: {text})")
    return (f"checkpoint {where} is truncated or corrupted and cannot be read (an interrupted copy, or a file "
            f"changed after it was saved; the save itself is atomic). {type(error).__name__}: {text}")


def _records(record: dict) -> list[dict]:
    if record.get("node") is None:
        return [record]
    return [r for c in record.get("children", ()) for r in _records(c)]


def _read_arrays(archive, record: dict, where: str) -> list[np.ndarray]:
    """Every leaf's array, checked against the shape and dtype the structure records (a file
    whose parts disagree was tampered with or damaged)."""
    arrays = []
    for r in sorted(_records(record), key=lambda r: r["leaf"]):
        name = f"leaf{r['leaf']}"
        try:
            array = archive[name]
        except KeyError:
            raise CheckpointError(f"checkpoint {where} is damaged: its structure names {name}, which the archive "
                                  "does not hold") from None
        if array.shape != tuple(r["shape"]) or array.dtype != np.dtype(r["dtype"]):
            raise CheckpointError(f"checkpoint {where} is damaged: {name} has shape {array.shape} and dtype "
                                  f"{array.dtype}, its structure records {tuple(r['shape'])} and "
                                  f"{np.dtype(r['dtype'])}")
        arrays.append(array)
    return arrays
