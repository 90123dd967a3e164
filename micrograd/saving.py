"""Checkpoints: ``save(path, tree)`` writes any pytree of arrays (a model, an optimizer state,
dicts, lists, tuples, namedtuples, ``None``) to one file; ``load(path, like=None)`` reads it back.

The file is a `safetensors <https://github.com/huggingface/safetensors>`_ file, which PyTorch,
the ``safetensors`` package and many other tools read. Each leaf is one tensor, named by its path
in the tree: the path's parts joined with dots, a part being a dict key (as text), a list or tuple
index, or the field name of a module or namedtuple. A ``Sequential``'s layers are numbered as
``torch.nn.Sequential`` numbers them (``0.weight``, not ``layers.0.weight``), so
``{"model": mlp, "opt_state": adam_state}`` gives ``model.0.weight``, ``model.0.bias``, ...,
``opt_state.count``, ``opt_state.m.0.weight``, ... A tree that is a single array is named
``root``. Should two paths give one name (dict keys ``1`` and ``"1"``; a key ``"a.b"`` beside a
key ``"a"`` holding ``"b"``), the later one in flatten order gets ``#2`` (then ``#3``, ...).
Arrays of the dtypes safetensors has (bool, int8-64, uint8-64, float16/32/64; 0-d too) are stored
as they are; complex arrays as (real, imaginary) pairs along a last axis of 2, and strings, dates
and long doubles as their bytes (uint8), the structure saying how to read them back. PyTorch
reads a saved MLP by these names: transpose each ``Linear`` weight, which micrograd keeps as
``(in_features, out_features)`` and PyTorch as ``(out_features, in_features)``.

The metadata (the format's str -> str dict) holds two entries: ``__micrograd__``, JSON text with
``format`` (``"micrograd-checkpoint"``), ``version`` (2) and ``tree``, the structure (node kinds,
dict keys, class names, and for each leaf its tensor name, kind, shape, dtype and CRC-32); and
``__micrograd_crc32__``, the CRC-32 of that text. The format itself has no checksums: these make
a damaged byte anywhere in the file an error rather than a silently different checkpoint.
Nothing is pickled, and loading a file never runs code from it. Old ``.npz`` checkpoints (format
version 1) load too; the format is told by the file's first bytes, not by its name.

Saving is atomic: the file is written to a temporary file in the same folder, fsynced, renamed
over ``path`` (``os.replace``) and the folder fsynced, so a process killed during a save leaves
the previous checkpoint whole (and at most a ``.NAME.*.tmp`` file beside it).

>>> import os, tempfile, numpy as np, micrograd as mg
>>> path = os.path.join(tempfile.mkdtemp(), "state.safetensors")
>>> mg.save(path, {"w": np.array([1.0, 2.0], np.float32), "step": 3, "extra": None})
>>> mg.load(path)
{'extra': None, 'step': 3, 'w': array([1., 2.], dtype=float32)}

Other tools see the arrays under their names (a Python number is a 0-d array):

>>> from safetensors.numpy import load_file
>>> sorted(load_file(path).items())
[('step', array(3)), ('w', array([1., 2.], dtype=float32))]

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
import zlib
from collections import namedtuple
from typing import Any

import numpy as np

from .core import tree
from .core.trace import Tracer
from .tensor import Tensor

__all__ = ["save", "load", "CheckpointError"]

FORMAT = "micrograd-checkpoint"
VERSION = 2  # safetensors files
NPZ_VERSION = 1  # the .npz files of earlier micrograd, still read
_META = "__micrograd__"
_META_CRC = "__micrograd_crc32__"
_ROOT_NAME = "root"
# safetensors keeps its own metadata under this key in the header: no tensor may take the name
_RESERVED_NAMES = frozenset({"__metadata__"})


class CheckpointError(ValueError):
    """A checkpoint cannot be written or read: a leaf that is not an array, a truncated or
    corrupted file, or a file whose structure, shapes or dtypes differ from ``like``."""


def _safetensors():
    """The safetensors package, imported when a checkpoint is written or read (not with micrograd)."""
    try:
        import safetensors
        import safetensors.numpy
    except ImportError as e:  # a core dependency, but an environment may predate it
        raise ImportError("mg.save and mg.load need the safetensors package: pip install 'safetensors>=0.4'") from e
    return safetensors


# --- paths in a tree, for messages ----------------------------------------------------------------

def _key_text(key: Any) -> str:
    return f"[{key!r}]"


def _path_text(path: str) -> str:
    return path or "the root of the tree"


# --- saving ---------------------------------------------------------------------------------------

def _labels(x: Any, treedef: tree.TreeDef, labels: list[str]) -> list[str]:
    """How each child is named in a path: ``tree.labeled_children``'s ``labels``, but
    ``.field`` for a module's fields."""
    from .nn.module import Module  # late: nn imports this package
    if isinstance(x, Module):
        names = [name for name, is_child, _ in treedef.aux if is_child]
        if len(names) == len(labels):
            return [f".{n}" for n in names]
    return labels


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


def _name_parts(x: Any, labels: list[str]) -> list[str | None]:
    """Each child's part of a tensor name (``None``: the child adds no part). Labels ``.field``
    and ``[i]`` become ``field`` and ``i``; a Sequential's one field, ``layers``, adds nothing, so
    its layers are ``0``, ``1``, ... as in ``torch.nn.Sequential`` and the names match PyTorch's."""
    from .nn.layers import Sequential  # late: nn imports this package
    if isinstance(x, Sequential) and labels == [".layers"]:
        return [None]
    return [label[1:] if label.startswith(".") else label[1:-1] for label in labels]


def _leaf_record(x: Any, path: str, parts: tuple, leaves: list) -> dict:
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
    if array.dtype.fields is not None:
        raise CheckpointError(f"save: the array at {_path_text(path)} has the structured dtype {array.dtype}; "
                              "checkpoints hold numeric, bool and string arrays: save each field as its own array")
    stored, encoding = _store(array)
    record = {"name": None, "kind": kind, "shape": list(array.shape), "dtype": array.dtype.str,
              "crc32": zlib.crc32(stored), **extra}  # the name is given once all leaves are known
    if encoding is not None:
        record["stored"] = encoding
    leaves.append((record, parts, stored))
    return record


# --- how arrays are stored --------------------------------------------------------------------------
# safetensors stores bool, int8-64, uint8-64 and float16/32/64 arrays of any shape (0-d included),
# little-endian; those are saved as they are (a big-endian array is byte-swapped, and its dtype in
# the structure restores it). For the rest the structure's "stored" says how a leaf was encoded:
# - "complex": complex64/128 as float32/64 pairs (real, imaginary) along a new last axis of 2, the
#   layout torch.view_as_complex reads. safetensors has no complex128, and complex64 only in its
#   newest versions, so every complex array is stored one way whatever version wrote it.
# - "bytes": other fixed-size dtypes (str_ and bytes_ strings, datetime64, timedelta64, long
#   double, complex long double), which safetensors has no type for, as their raw little-endian
#   bytes: uint8 with a new last axis of the item size.

def _native(dtype: np.dtype) -> bool:
    return (dtype.kind == "b" or (dtype.kind in "iu" and dtype.itemsize in (1, 2, 4, 8))
            or (dtype.kind == "f" and dtype.itemsize in (2, 4, 8)))


def _store(array: np.ndarray) -> tuple[np.ndarray, str | None]:
    """(the C-contiguous little-endian array safetensors writes, its encoding). safetensors reads
    the array's memory from its data pointer, so a strided view must become contiguous first."""
    dtype = array.dtype
    little = dtype.newbyteorder("<")
    if _native(dtype):
        return np.asarray(array, little, order="C"), None
    if dtype.kind == "c" and dtype.itemsize in (8, 16):
        part = np.dtype(f"<f{dtype.itemsize // 2}")
        return np.asarray(np.stack([array.real, array.imag], axis=-1), part, order="C"), "complex"
    raw = np.asarray(array, little, order="C").reshape(-1)
    raw = raw.view(np.uint8) if dtype.itemsize else np.zeros(0, np.uint8)  # a view needs a nonzero item size
    return raw.reshape(array.shape + (dtype.itemsize,)), "bytes"


def _stored_form(record: dict) -> tuple[np.dtype, tuple] | None:
    """The dtype and shape the tensor of a leaf record must have in the file (None: the record
    names no form this micrograd knows, or a dtype a checkpoint never holds)."""
    dtype, shape, encoding = np.dtype(record["dtype"]), tuple(record["shape"]), record.get("stored")
    if dtype.hasobject or dtype.fields is not None:
        return None  # never written by save(); refused before any bytes become such an array
    if encoding is None and _native(dtype):
        return dtype.newbyteorder("<"), shape
    if encoding == "complex" and dtype.kind == "c" and dtype.itemsize in (8, 16):
        return np.dtype(f"<f{dtype.itemsize // 2}"), shape + (2,)
    if encoding == "bytes" and not _native(dtype):
        return np.dtype(np.uint8), shape + (dtype.itemsize,)
    return None


def _unstore(stored: np.ndarray, record: dict) -> np.ndarray:
    """The array a leaf record describes, from its tensor (already checked against _stored_form)."""
    dtype, shape, encoding = np.dtype(record["dtype"]), tuple(record["shape"]), record.get("stored")
    if encoding == "complex":
        array = np.empty(shape, dtype)
        array.real, array.imag = stored[..., 0], stored[..., 1]  # exact, unlike re + 1j * im (signed zeros, NaNs)
        return array
    if encoding == "bytes":
        if not dtype.itemsize or not stored.size:
            return np.zeros(shape, dtype)
        stored = np.asarray(stored, order="C").reshape(-1).view(dtype.newbyteorder("<")).reshape(shape)
    if not stored.flags.writeable:  # arrays read from a file are the caller's, to update in place
        stored = stored.copy()
    return stored if stored.dtype == dtype else stored.astype(dtype)  # astype: back to big-endian


def _encode(x: Any, path: str, parts: tuple, leaves: list) -> dict:
    """The JSON description of ``x``; its leaves go to ``leaves`` as (record, name parts, stored
    array) in flatten order."""
    if x is None:
        return {"node": "None"}
    node = tree.labeled_children(x)
    if node is None:
        return _leaf_record(x, path, parts, leaves)
    children, treedef, labels = node
    kind = treedef.node_class
    if kind is dict:
        return {"node": "dict", "keys": [_encode_key(k, path) for k in treedef.aux],
                "children": [_encode(c, path + _key_text(k), parts + (str(k),), leaves)
                             for k, c in zip(treedef.aux, children)]}
    labels = _labels(x, treedef, labels)
    encoded = [_encode(c, path + label, parts if part is None else parts + (part,), leaves)
               for c, label, part in zip(children, labels, _name_parts(x, labels))]
    if kind is list or kind is tuple:
        return {"node": kind.__name__, "children": encoded}
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return {"node": "namedtuple", "class": kind.__name__, "fields": list(x._fields), "children": encoded}
    return {"node": "class", "class": f"{kind.__module__}.{kind.__qualname__}", "labels": labels,
            "children": encoded}


def _name_tensors(leaves: list) -> dict[str, np.ndarray]:
    """Give each leaf its tensor name (unique: see the module docstring) in its record."""
    tensors: dict[str, np.ndarray] = {}
    for record, parts, stored in leaves:
        base = ".".join(parts) if parts else _ROOT_NAME
        name, n = base, 1
        while name in tensors or name in _RESERVED_NAMES:
            n += 1
            name = f"{base}#{n}"
        tensors[name] = stored
        record["name"] = name
    return tensors


def save(path: str | os.PathLike, tree_: Any) -> None:
    """Write the pytree ``tree_`` to ``path`` as a safetensors file (the name is used as given;
    ``.safetensors`` is the usual extension).

    Leaves may be NumPy arrays and scalars, :class:`~micrograd.Tensor` objects (their data is
    saved) and Python numbers; containers are dicts, lists, tuples, namedtuples, ``None`` and
    registered classes such as modules. Tensor names and the metadata are described in the
    module docstring. The write is atomic: an interrupted save leaves the previous file at
    ``path`` as it was.

    >>> import os, tempfile, numpy as np, micrograd as mg
    >>> path = os.path.join(tempfile.mkdtemp(), "ckpt.safetensors")
    >>> mg.save(path, [np.zeros(2), (np.int32(1), None)])
    >>> mg.load(path)
    [array([0., 0.]), (np.int32(1), None)]
    """
    st = _safetensors()
    path = os.fspath(path)
    leaves: list = []
    structure = _encode(tree_, "", (), leaves)
    tensors = _name_tensors(leaves)
    meta = json.dumps({"format": FORMAT, "version": VERSION, "tree": structure}, allow_nan=True)
    metadata = {_META: meta, _META_CRC: str(zlib.crc32(meta.encode("utf-8")))}
    data_bytes = sum(a.nbytes for a in tensors.values())
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        os.close(fd)  # safetensors writes the file by its name
        st.numpy.save_file(tensors, tmp, metadata=metadata)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())  # the data is on disk before the rename makes it the checkpoint
            header = f.read(8)
            size = os.fstat(f.fileno()).st_size
        # a write that failed midway (a full disk) must not replace the previous checkpoint, whether
        # or not the writer reported it: the file is 8 bytes, the header, then every tensor's bytes
        expected = 8 + int.from_bytes(header, "little") + data_bytes
        if len(header) < 8 or size < expected:
            raise OSError(f"save: writing {path!r} stopped short ({size} of {expected} bytes; is the disk full?); "
                          "the previous file at that path is unchanged")
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
    node = tree.labeled_children(x)
    if node is None:
        return f"an array of shape {np.shape(x)} and dtype {_dtype_of(x)}"
    children, treedef, _ = node
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
    children = tree.labeled_children(like)
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
    like_children, treedef, labels = children
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
    labels = _labels(like, treedef, labels)
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


def _decode(record: dict, path: str, where: str, arrays: dict) -> Any:
    """Rebuild plain containers from the file alone (no ``like``)."""
    node = record.get("node")
    if node is None:
        return _as_saved(arrays[id(record)], record)
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
    """Read a checkpoint written by :func:`save` (a safetensors file, or an ``.npz`` file of an
    earlier micrograd: the first bytes tell which).

    Without ``like``, dicts, lists, tuples, namedtuples (as new classes of the same name and
    fields) and ``None`` are rebuilt as saved, and leaves come back as they were saved (arrays,
    tensors, NumPy or Python scalars); a file holding a registered class (a module) needs
    ``like``. With ``like``, the result has ``like``'s structure (classes, static fields, the
    kind of each leaf: a tensor stays a tensor with ``like``'s ``requires_grad``) and the file's
    arrays, after checking that the structure, every shape and every dtype agree: the first
    difference raises :class:`CheckpointError` naming the path in the tree. A truncated or
    corrupted file, or a file :func:`save` did not write, raises :class:`CheckpointError` too.
    Never unpickles.

    >>> import os, tempfile, numpy as np, micrograd as mg
    >>> path = os.path.join(tempfile.mkdtemp(), "ckpt.safetensors")
    >>> mg.save(path, {"w": np.zeros((2, 3))})
    >>> mg.load(path, like={"w": np.zeros((3, 2))})
    Traceback (most recent call last):
    ...
    micrograd.saving.CheckpointError: checkpoint ... does not match like= at ['w']: like has shape (3, 2) and dtype float64, the file has shape (2, 3) and dtype float64
    """
    path = os.fspath(path)
    where = repr(path)
    with open(path, "rb") as f:  # the first bytes choose the reader: never guess (np.load would unpickle)
        head = f.read(9)
    # safetensors: an 8-byte little-endian header length, then the header, JSON that must start with {
    if len(head) == 9 and head[8:9] == b"{":
        record, pairs, arrays = _read_safetensors(path, where, like)
    elif head[:4] == b"PK\x03\x04":
        record, pairs, arrays = _read_npz(path, where, like)
    else:
        raise CheckpointError(f"checkpoint {where} is truncated or corrupted, or not a checkpoint: it starts neither "
                              f"as a safetensors file nor as an .npz (zip) archive (first bytes {head[:8]!r})")
    if like is None:
        return _decode(record, "", where, arrays)
    return tree.unflatten(tree.structure(like), [_as_like(arrays[id(r)], l) for r, l in pairs])


# errors that a damaged or hand-made file can raise while being read (RecursionError: nesting too deep)
_READ_ERRORS = (EOFError, OSError, ValueError, KeyError, TypeError, IndexError, AttributeError, RecursionError,
                UnicodeDecodeError)


def _structure(meta: Any, where: str, entry: str, version: int) -> dict:
    """The tree record of a checkpoint's metadata JSON, after checking its format and version."""
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"{where} is not a micrograd checkpoint (its {entry} is not one)")
    if meta.get("version") != version:
        raise CheckpointError(f"checkpoint {where} has format version {meta.get('version')!r}; this micrograd reads "
                              f"version {VERSION} (safetensors files) and version {NPZ_VERSION} (.npz files)")
    return meta["tree"]


def _checked(record: dict, like: Any, where: str) -> list:
    """(leaf record, like leaf) pairs, after checking ``like`` against the file's structure; done
    before any array is read, so a mismatch costs no I/O."""
    pairs: list = []
    if like is not None or record.get("node") == "None":
        _check(record, like, "", where, pairs)
    return pairs


def _read_safetensors(path: str, where: str, like: Any) -> tuple[dict, list, dict]:
    st = _safetensors()
    try:
        with st.safe_open(path, framework="np") as f:
            metadata = f.metadata() or {}
            names = set(f.keys())
            text = metadata.get(_META)
            if text is None:
                raise CheckpointError(
                    f"{where} is a safetensors file but not a micrograd checkpoint (its metadata has no {_META} "
                    f"entry; its tensors are {sorted(names)[:5]}{' ...' if len(names) > 5 else ''}); read it with "
                    "safetensors.numpy.load_file")
            if metadata.get(_META_CRC) != str(zlib.crc32(text.encode("utf-8"))):
                raise CheckpointError(f"checkpoint {where} is damaged: its structure (metadata {_META}) fails its "
                                      f"CRC-32 check (metadata {_META_CRC}); the file changed after it was saved")
            record = _structure(json.loads(text), where, f"metadata {_META}", VERSION)
            pairs = _checked(record, like, where)
            arrays = _read_tensors(f, names, record, where)
    except CheckpointError:
        raise
    except (st.SafetensorError, *_READ_ERRORS) as e:
        raise CheckpointError(_damaged(where, e)) from e
    return record, pairs, arrays


def _read_tensors(f: Any, names: set, record: dict, where: str) -> dict:
    """Every leaf's array, by id of its record, checked against the structure (a file whose parts
    disagree was damaged or changed by hand) and against its CRC-32."""
    records = _records(record)
    wanted = [r["name"] for r in records]
    if len(set(wanted)) != len(wanted):
        raise CheckpointError(f"checkpoint {where} is damaged: its structure names a tensor twice")
    missing = [n for n in wanted if n not in names]
    if missing:
        raise CheckpointError(f"checkpoint {where} is damaged: its structure names the tensor {missing[0]!r}, which "
                              "the file does not hold")
    extra = sorted(names.difference(wanted))
    if extra:
        raise CheckpointError(f"checkpoint {where} is damaged: it holds tensors its structure does not name "
                              f"({', '.join(map(repr, extra[:3]))}{' ...' if len(extra) > 3 else ''})")
    arrays = {}
    for r in records:
        name, form = r["name"], _stored_form(r)
        if form is None:
            raise CheckpointError(f"checkpoint {where} is damaged: the tensor {name!r} has a dtype ({r['dtype']}) or "
                                  f"encoding ({r.get('stored')}) that micrograd never writes")
        stored = f.get_tensor(name)
        if (stored.dtype, stored.shape) != form:
            raise CheckpointError(f"checkpoint {where} is damaged: the tensor {name!r} has shape {stored.shape} and "
                                  f"dtype {stored.dtype}, its structure records {form[1]} and {form[0]}")
        if zlib.crc32(np.asarray(stored, order="C")) != r["crc32"]:
            raise CheckpointError(f"checkpoint {where} is damaged: the tensor {name!r} fails its CRC-32 check (its "
                                  "bytes changed after it was saved)")
        arrays[id(r)] = _unstore(stored, r)
    return arrays


def _read_npz(path: str, where: str, like: Any) -> tuple[dict, list, dict]:
    """A checkpoint of format version 1: an .npz archive with one entry per leaf (``leaf0``, ...)
    and the structure as JSON text in the entry ``__micrograd__``."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            if _META not in archive.files:
                raise CheckpointError(f"{where} is an .npz file but not a micrograd checkpoint (it has no {_META} "
                                      f"entry; its entries are {sorted(archive.files)[:5]})")
            meta = json.loads(archive[_META].tobytes().decode("utf-8"))
            record = _structure(meta, where, f"{_META} entry", NPZ_VERSION)
            pairs = _checked(record, like, where)
            arrays = _read_npz_arrays(archive, record, where)
    except CheckpointError:
        raise
    except FileNotFoundError:
        raise
    except (zipfile.BadZipFile, *_READ_ERRORS) as e:
        raise CheckpointError(_damaged(where, e)) from e
    return record, pairs, arrays


def _damaged(where: str, error: Exception) -> str:
    text = str(error)
    if "allow_pickle" in text or "Object arrays" in text:
        return (f"checkpoint {where} holds an object array, which only unpickling could read, and unpickling can "
                f"run code; load() refuses it. ({type(error).__name__}: {text})")
    return (f"checkpoint {where} is truncated or corrupted and cannot be read (an interrupted copy, or a file "
            f"changed after it was saved; the save itself is atomic). {type(error).__name__}: {text}")


def _records(record: dict) -> list[dict]:
    """The leaf records of a structure, in flatten order."""
    if record.get("node") is None:
        return [record]
    return [r for c in record.get("children", ()) for r in _records(c)]


def _read_npz_arrays(archive, record: dict, where: str) -> dict:
    """Every leaf's array, by id of its record, checked against the shape and dtype the structure
    records (a file whose parts disagree was tampered with or damaged)."""
    arrays = {}
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
        arrays[id(r)] = array
    return arrays
