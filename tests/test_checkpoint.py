"""Checkpoints (mg.save / mg.load): round trips, tensor names other tools read (safetensors,
PyTorch), checks against ``like``, damaged and foreign files, old .npz checkpoints, no
unpickling, atomic saves under SIGKILL, and the MNIST example's --save / --resume."""
from __future__ import annotations

import collections
import json
import os
import pickle
import random
import signal
import subprocess
import sys
import textwrap
import time
import zlib

import numpy as np
import pytest
import safetensors.numpy
from safetensors import safe_open

import micrograd as mg
from conftest import REPO

Point = collections.namedtuple("Point", ["x", "y"])


def small_model(seed=0):
    k1, k2 = mg.random.split(mg.random.key(seed))
    return mg.Sequential([mg.Linear(3, 4, key=k1), mg.ReLU(), mg.Linear(4, 2, key=k2)])


def assert_trees_equal(a, b):
    la, ta = mg.tree.flatten(a)
    lb, tb = mg.tree.flatten(b)
    assert ta == tb
    for x, y in zip(la, lb):
        assert type(x) is type(y)
        xd, yd = (v.data if isinstance(v, mg.Tensor) else v for v in (x, y))
        assert np.asarray(xd).dtype == np.asarray(yd).dtype
        np.testing.assert_array_equal(xd, yd)


def metadata(path):
    with safe_open(path, framework="np") as f:
        return f.metadata()


def save_v1(path, tree):
    """The .npz writer of earlier micrograd (checkpoint format version 1), reproduced: one entry
    per leaf (leaf0, leaf1, ... in flatten order) and the structure as JSON in __micrograd__."""
    arrays = []

    def leaf(x):
        if isinstance(x, mg.Tensor):
            a, kind, extra = x.data, "tensor", {"requires_grad": bool(x.requires_grad)}
        elif isinstance(x, (np.ndarray, np.generic)):
            a, kind, extra = np.asarray(x), "array" if isinstance(x, np.ndarray) else "numpy_scalar", {}
        else:
            a, kind, extra = np.asarray(x), "python_scalar", {"type": type(x).__name__}
        arrays.append(a)
        return {"leaf": len(arrays) - 1, "kind": kind, "shape": list(a.shape), "dtype": a.dtype.str, **extra}

    def encode(x):
        if x is None:
            return {"node": "None"}
        children, treedef = mg.tree.flatten(x, is_leaf=lambda v: v is not x)
        kind = treedef.node_class
        if kind is None:
            return leaf(x)
        encoded = [encode(c) for c in children]
        if kind is dict:
            keys = [["None" if k is None else type(k).__name__, k] for k in treedef.aux]
            return {"node": "dict", "keys": keys, "children": encoded}
        if kind in (list, tuple):
            return {"node": kind.__name__, "children": encoded}
        if hasattr(x, "_fields"):
            return {"node": "namedtuple", "class": kind.__name__, "fields": list(x._fields), "children": encoded}
        labels = [f".{name}" for name, is_child, _ in treedef.aux if is_child]  # a module
        return {"node": "class", "class": f"{kind.__module__}.{kind.__qualname__}", "labels": labels,
                "children": encoded}

    meta = json.dumps({"format": "micrograd-checkpoint", "version": 1, "tree": encode(tree)})
    with open(path, "wb") as f:  # a file object: np.savez would add .npz to a name without it
        np.savez(f, **{f"leaf{i}": a for i, a in enumerate(arrays)},
                 __micrograd__=np.frombuffer(meta.encode("utf-8"), np.uint8))


def save_foreign(path, tensors, tree, version=2):
    """A safetensors file with a hand-made micrograd structure (and its valid checksum)."""
    meta = json.dumps({"format": "micrograd-checkpoint", "version": version, "tree": tree})
    safetensors.numpy.save_file(tensors, str(path), metadata={
        "__micrograd__": meta, "__micrograd_crc32__": str(zlib.crc32(meta.encode()))})


# --- round trips ------------------------------------------------------------------------------

def test_model_with_tensors_round_trips_with_like(tmp_path):
    model = small_model(0)
    assert isinstance(model[0].weight, mg.Tensor) and model[0].weight.requires_grad
    mg.save(tmp_path / "m.safetensors", model)
    restored = mg.load(tmp_path / "m.safetensors", like=small_model(1))
    assert_trees_equal(restored, model)
    assert restored[0].weight.requires_grad  # a tensor stays a tensor, as in like
    assert repr(restored) == repr(model)
    x = np.ones((2, 3), np.float32)
    np.testing.assert_array_equal(restored(x).data, model(x).data)


def test_optimizer_state_and_trained_model_round_trip(tmp_path):
    model = small_model()
    opt = mg.Adam(learning_rate=0.01)
    step = mg.optim.make_train_step(lambda m, x, y: mg.MSELoss()(m(x), y), opt, jit=False)
    x, y = np.ones((5, 3), np.float32), np.zeros((5, 2), np.float32)
    state = opt.init(model)
    for _ in range(2):
        model, state, _ = step(model, state, x, y)
    checkpoint = {"model": model, "opt_state": state, "epoch": 2}
    mg.save(tmp_path / "c.safetensors", checkpoint)
    like = {"model": small_model(5), "opt_state": opt.init(small_model(5)), "epoch": 0}
    restored = mg.load(tmp_path / "c.safetensors", like=like)
    assert restored["epoch"] == 2 and type(restored["epoch"]) is int
    assert restored["opt_state"]["count"] == 2
    assert_trees_equal(restored["opt_state"], state)
    np.testing.assert_array_equal(restored["model"][2].bias, model[2].bias)
    # training goes on identically from the restored state
    a = step(model, state, x, y)
    b = step(restored["model"], restored["opt_state"], x, y)
    assert_trees_equal(a[0], b[0])


def test_nested_containers_dtypes_scalars_and_none_round_trip_without_like(tmp_path):
    tree = {
        "f32": np.arange(6, dtype=np.float32).reshape(2, 3),
        "f64": np.linspace(0, 1, 4),
        "ints": [np.arange(3, dtype=np.int32), np.array([[-1, 2]], np.int64), np.array([True, False])],
        "nested": ({"a": None, 1: np.float32(2.5)}, [None, (np.zeros((0, 2)),)]),
        "scalars": [1, 2.5, True, np.int64(7)],
        "point": Point(np.ones(2), None),
        "tensor": mg.tensor([1.0, 2.0], requires_grad=True),
        "empty": ([], {}, ()),
        # dtypes safetensors has no type for, a byte order it does not store, a strided view
        "odd": [np.array([1 + 2j, -0.0 - 1j], np.complex64), np.complex128(3 - 4j), 2 + 1j,
                np.array(["ab", "", "ü€"]), np.array([b"x\x00y", b""]), np.array(["2024-01-02"], "datetime64[D]"),
                np.array([5, -6], "timedelta64[ms]"), np.array([1.5, np.pi], np.longdouble),
                np.arange(6.0).astype(">f8").reshape(2, 3), np.arange(12, dtype=np.int16).reshape(3, 4)[::2, ::-2].T,
                np.float16(0.5), np.array([2 ** 64 - 1], np.uint64), np.zeros((2, 0, 3), np.complex128),
                np.array([], "U3")],
    }
    mg.save(tmp_path / "t.safetensors", tree)
    restored = mg.load(tmp_path / "t.safetensors")
    assert restored["point"]._fields == ("x", "y") and type(restored["point"]).__name__ == "Point"
    assert restored["point"] == Point(*restored["point"])
    np.testing.assert_array_equal(restored["point"].x, tree["point"].x)
    assert restored["point"].y is None
    assert restored["tensor"].requires_grad and isinstance(restored["tensor"], mg.Tensor)
    assert restored["scalars"] == [1, 2.5, True, 7]
    assert [type(v) for v in restored["scalars"]] == [int, float, bool, np.int64]
    assert type(restored["odd"][2]) is complex and restored["odd"][2] == 2 + 1j
    assert restored["odd"][8].dtype == np.dtype(">f8") and restored["odd"][3][2] == "ü€"
    assert np.signbit(restored["odd"][0].real[1])  # complex parts come back bit for bit
    assert 1 in restored["nested"][0] and restored["nested"][0]["a"] is None
    without = {k: v for k, v in tree.items() if k != "point"}
    assert_trees_equal({k: v for k, v in restored.items() if k != "point"}, without)
    # with like, namedtuples come back as the original class
    assert type(mg.load(tmp_path / "t.safetensors", like=tree)["point"]) is Point


def test_none_and_single_array_trees(tmp_path):
    mg.save(tmp_path / "n.safetensors", None)
    assert mg.load(tmp_path / "n.safetensors") is None
    mg.save(tmp_path / "a.safetensors", np.float32(3))
    assert mg.load(tmp_path / "a.safetensors") == np.float32(3)


def test_save_replaces_the_previous_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "c.safetensors"
    mg.save(path, [np.zeros(2)])
    mg.save(path, [np.ones(3)])
    np.testing.assert_array_equal(mg.load(path)[0], np.ones(3))
    assert os.listdir(tmp_path) == ["c.safetensors"]
    assert list(safetensors.numpy.load_file(path)) == ["0"]  # a plain safetensors file: other tools read it
    np.testing.assert_array_equal(safetensors.numpy.load_file(path)["0"], np.ones(3))


def test_a_failed_write_keeps_the_previous_file(tmp_path, monkeypatch):
    """A write that stops short (a full disk), reported or not, never replaces the checkpoint."""
    path = tmp_path / "c.safetensors"
    mg.save(path, [np.zeros(2)])
    real = safetensors.numpy.save_file

    def short_write(tensors, filename, metadata=None):
        real(tensors, filename, metadata=metadata)
        with open(filename, "r+b") as f:
            f.truncate(os.path.getsize(filename) - 3)

    monkeypatch.setattr(safetensors.numpy, "save_file", short_write)
    with pytest.raises(OSError, match=r"stopped short .*the previous file at that path is unchanged"):
        mg.save(path, [np.ones(2)])
    assert os.listdir(tmp_path) == ["c.safetensors"]
    np.testing.assert_array_equal(mg.load(path)[0], np.zeros(2))


# --- what other tools see ----------------------------------------------------------------------

def test_tensor_names_are_paths_in_the_tree(tmp_path):
    model = small_model()
    path = tmp_path / "c.safetensors"
    mg.save(path, {"model": model, "opt_state": mg.Adam().init(model), "epoch": 5, "point": Point(1.0, None)})
    loaded = safetensors.numpy.load_file(path)
    layer = [f"{i}.{field}" for i in (0, 2) for field in ("weight", "bias")]  # as torch.nn.Sequential names them
    assert sorted(loaded) == sorted([f"model.{n}" for n in layer] + [f"opt_state.{s}.{n}" for s in "mv" for n in layer]
                                    + ["opt_state.count", "epoch", "point.x"])
    np.testing.assert_array_equal(loaded["model.2.weight"], model[2].weight.data)
    assert loaded["epoch"].shape == () and loaded["epoch"] == 5
    meta = metadata(path)
    assert sorted(meta) == ["__micrograd__", "__micrograd_crc32__"]
    assert meta["__micrograd_crc32__"] == str(zlib.crc32(meta["__micrograd__"].encode()))
    structure = json.loads(meta["__micrograd__"])
    assert (structure["format"], structure["version"]) == ("micrograd-checkpoint", 2)
    epoch = structure["tree"]["children"][0]
    assert {k: epoch[k] for k in ("name", "kind", "shape", "dtype", "type")} == {
        "name": "epoch", "kind": "python_scalar", "shape": [], "dtype": "<i8", "type": "int"}
    # one leaf alone, colliding paths and the name safetensors reserves: unique names, loaded back exactly
    mg.save(path, np.float32(3))
    assert list(safetensors.numpy.load_file(path)) == ["root"]
    tree = {1: np.zeros(1), "1": np.ones(1), "a.b": np.zeros(2), "a": {"b": np.ones(2)}, "__metadata__": np.ones(3),
            "": [np.zeros(1)]}
    mg.save(path, tree)
    assert sorted(safetensors.numpy.load_file(path)) == [".0", "1", "1#2", "__metadata__#2", "a.b", "a.b#2"]
    assert_trees_equal(mg.load(path), tree)


def test_saved_mlp_reads_with_safetensors_load_file(tmp_path):
    model = small_model()
    mg.save(tmp_path / "mlp.safetensors", model)
    loaded = safetensors.numpy.load_file(tmp_path / "mlp.safetensors")
    assert sorted(loaded) == ["0.bias", "0.weight", "2.bias", "2.weight"]
    for i in (0, 2):
        np.testing.assert_array_equal(loaded[f"{i}.weight"], model[i].weight.data)  # (in_features, out_features)
        np.testing.assert_array_equal(loaded[f"{i}.bias"], model[i].bias.data)
        assert loaded[f"{i}.weight"].dtype == np.float32
    x = np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3)
    h = np.maximum(x @ loaded["0.weight"] + loaded["0.bias"], 0)
    np.testing.assert_allclose(h @ loaded["2.weight"] + loaded["2.bias"], model(x).data, rtol=1e-6)


def test_saved_mlp_loads_into_torch(tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.torch import load_file
    model = small_model()
    mg.save(tmp_path / "mlp.safetensors", model)
    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    # micrograd's Linear keeps weight as (in_features, out_features) and computes x @ W + b;
    # PyTorch's as (out_features, in_features): transpose the weights
    state = {name: t.T if name.endswith("weight") else t for name, t in load_file(tmp_path / "mlp.safetensors").items()}
    net.load_state_dict(state)  # strict: every name matches
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    with torch.no_grad():
        out = net(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(out, model(x).data, rtol=1e-5, atol=1e-6)


# --- what cannot be saved ---------------------------------------------------------------------

@pytest.mark.parametrize("tree, message", [
    ({"name": "abc"}, r"leaf at \['name'\] is a str"),
    ([np.array([object()], dtype=object)], r"at \[0\] has dtype object"),
    ({(1, 2): np.zeros(1)}, r"has a key \(1, 2\) of type tuple"),
    ([2 ** 70], r"does not fit in 64 bits"),
])
def test_unsavable_trees_raise_naming_the_leaf(tmp_path, tree, message):
    with pytest.raises(mg.CheckpointError, match=message):
        mg.save(tmp_path / "x.safetensors", tree)
    assert os.listdir(tmp_path) == []


def test_saving_a_traced_value_raises(tmp_path):
    def f(x):
        mg.save(tmp_path / "x.safetensors", {"x": x})
        return x
    with pytest.raises(mg.CheckpointError, match=r"\['x'\] is a traced value"):
        mg.grad(lambda x: f(x).sum())(np.ones(2))


# --- mismatches against like ------------------------------------------------------------------

@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "c.safetensors"
    mg.save(path, {"model": small_model(), "opt": {"count": np.int64(3), "m": [np.zeros(2, np.float32)]}})
    return path


def good_like():
    return {"model": small_model(), "opt": {"count": np.int64(0), "m": [np.zeros(2, np.float32)]}}


@pytest.mark.parametrize("change, message", [
    (lambda t: t["opt"].update(m=[np.zeros(3, np.float32)]),
     r"at \['opt'\]\['m'\]\[0\]: like has shape \(3,\) and dtype float32, the file has shape \(2,\) and dtype float32"),
    (lambda t: t["opt"].update(m=[np.zeros(2, np.float64)]),
     r"at \['opt'\]\['m'\]\[0\]: like has shape \(2,\) and dtype float64, the file has shape \(2,\) and dtype float32"),
    (lambda t: t["opt"].update(m=(np.zeros(2, np.float32),)),
     r"at \['opt'\]\['m'\]: like has a tuple of 1, the file has a list of 1"),
    (lambda t: t["opt"].update(m=[np.zeros(2, np.float32), np.zeros(1)]),
     r"at \['opt'\]\['m'\]: like has a list of 2, the file has a list of 1"),
    (lambda t: t["opt"].pop("count"), r"at \['opt'\]: the file's dict has a key 'count' that like lacks"),
    (lambda t: t.update(extra=None), r"at the root of the tree: the file's dict has no key 'extra'"),
    (lambda t: t["opt"].update(m=[None]), r"at \['opt'\]\['m'\]\[0\]: like has None, the file has an array"),
    (lambda t: t.update(model=mg.Sequential([mg.Linear(3, 4), mg.ReLU(), mg.Linear(4, 5)])),
     r"at \['model'\]\.layers\[2\]\.weight: like has shape \(4, 5\)"),
    (lambda t: t.update(model=mg.Sequential([mg.Linear(3, 4), mg.Tanh(), mg.Linear(4, 2)])),
     r"at \['model'\]\.layers\[1\]: like has a micrograd.nn.layers.Tanh .*, the file has a micrograd.nn.layers.ReLU"),
    (lambda t: t.update(model=mg.Sequential([mg.Linear(3, 4, bias=False), mg.ReLU(), mg.Linear(4, 2)])),
     r"at \['model'\]\.layers\[0\]: like has fields \['weight'\], the file has fields \['weight', 'bias'\]"),
])
def test_mismatch_names_the_first_difference(saved, change, message):
    like = good_like()
    change(like)
    with pytest.raises(mg.CheckpointError, match=message):
        mg.load(saved, like=like)
    mg.load(saved, like=good_like())  # the unchanged like loads


def test_loading_a_model_without_like_says_to_pass_one(saved):
    with pytest.raises(mg.CheckpointError, match=r"holds a micrograd.nn.layers.Sequential at \['model'\], which "
                                                 r"load\(\) can only rebuild with like="):
        mg.load(saved)


# --- damaged files ----------------------------------------------------------------------------

def big_tree():
    rng = np.random.default_rng(0)
    return {"w": rng.standard_normal((64, 64)), "b": [rng.standard_normal(100).astype(np.float32)]}


@pytest.mark.parametrize("keep", [0.0, 0.3, 0.7, 0.99])
def test_truncated_file_is_reported(tmp_path, keep):
    path = tmp_path / "c.safetensors"
    mg.save(path, big_tree())
    data = path.read_bytes()
    path.write_bytes(data[:int(len(data) * keep)])
    with pytest.raises(mg.CheckpointError, match="is truncated or corrupted"):
        mg.load(path)


def test_corrupted_bytes_are_reported(tmp_path):
    path = tmp_path / "c.safetensors"
    mg.save(path, big_tree())
    data = bytearray(path.read_bytes())
    for offset in (len(data) // 3, len(data) // 2, 200, 5):  # array data, the header and its length
        damaged = bytearray(data)
        damaged[offset] ^= 0x5A
        path.write_bytes(bytes(damaged))
        with pytest.raises(mg.CheckpointError, match="truncated or corrupted|damaged"):
            mg.load(path, like=big_tree())


def test_every_damaged_byte_is_reported(tmp_path):
    """safetensors has no checksums; the structure's CRC-32s, its checks against the header and
    the format's own checks together catch a changed byte anywhere in the file."""
    path = tmp_path / "c.safetensors"
    tree = {"model": mg.Linear(2, 1, key=mg.random.key(0)), "n": 3, "c": np.array([1j], np.complex64),
            "s": np.array(["a"])}
    mg.save(path, tree)
    data = path.read_bytes()
    for offset in range(len(data)):
        damaged = bytearray(data)
        damaged[offset] ^= 0x5A
        path.write_bytes(bytes(damaged))
        with pytest.raises(mg.CheckpointError, match="truncated or corrupted|damaged"):
            mg.load(path, like=tree)


def test_structure_disagreeing_with_tensors_is_reported(tmp_path):
    path = tmp_path / "c.safetensors"
    leaf = {"name": "x", "kind": "array", "shape": [3], "dtype": "<f8", "crc32": zlib.crc32(np.zeros(4))}
    save_foreign(path, {"x": np.zeros(4)}, leaf)
    with pytest.raises(mg.CheckpointError, match=r"damaged: the tensor 'x' has shape \(4,\) .* records \(3,\)"):
        mg.load(path)
    save_foreign(path, {"x": np.zeros(4)}, {**leaf, "name": "y"})
    with pytest.raises(mg.CheckpointError, match=r"damaged: its structure names the tensor 'y', which the file"):
        mg.load(path)
    save_foreign(path, {"x": np.zeros(3), "y": np.zeros(1)}, leaf)
    with pytest.raises(mg.CheckpointError, match=r"damaged: it holds tensors its structure does not name \('y'\)"):
        mg.load(path)
    save_foreign(path, {"x": np.ones(3)}, leaf)
    with pytest.raises(mg.CheckpointError, match=r"damaged: the tensor 'x' fails its CRC-32 check"):
        mg.load(path)
    save_foreign(path, {"x": np.zeros(24, np.uint8).reshape(3, 8)}, {**leaf, "dtype": "|O", "stored": "bytes"})
    with pytest.raises(mg.CheckpointError, match=r"damaged: the tensor 'x' has a dtype \(\|O\) or encoding"):
        mg.load(path)  # bytes are never viewed as object pointers
    save_foreign(path, {"x": np.zeros(3)}, leaf, version=3)
    with pytest.raises(mg.CheckpointError, match=r"has format version 3; this micrograd reads version 2"):
        mg.load(path)


def test_structure_disagreeing_with_arrays_is_reported_in_npz_files(tmp_path):
    path = tmp_path / "c.npz"
    meta = '{"format": "micrograd-checkpoint", "version": 1, "tree": {"leaf": 0, "kind": "array", "shape": [3], "dtype": "<f8"}}'
    np.savez(path, leaf0=np.zeros(4), __micrograd__=np.frombuffer(meta.encode(), np.uint8))
    with pytest.raises(mg.CheckpointError, match=r"damaged: leaf0 has shape \(4,\).* records \(3,\)"):
        mg.load(path)


def test_other_files_are_not_checkpoints(tmp_path):
    safetensors.numpy.save_file({"a": np.zeros(2)}, str(tmp_path / "plain.safetensors"))
    with pytest.raises(mg.CheckpointError, match=r"is a safetensors file but not a micrograd checkpoint \(its "
                                                 r"metadata has no __micrograd__ entry; its tensors are \['a'\]\)"):
        mg.load(tmp_path / "plain.safetensors")
    np.savez(tmp_path / "plain.npz", a=np.zeros(2))
    with pytest.raises(mg.CheckpointError, match="is an .npz file but not a micrograd checkpoint"):
        mg.load(tmp_path / "plain.npz")
    (tmp_path / "text.safetensors").write_text("hello")
    with pytest.raises(mg.CheckpointError, match="truncated or corrupted, or not a checkpoint: it starts neither as a "
                                                 r"safetensors file nor as an .npz \(zip\) archive \(first bytes b'hello'\)"):
        mg.load(tmp_path / "text.safetensors")
    rng = np.random.default_rng(0)
    for n in (0, 3, 9, 100, 5000):
        (tmp_path / "random").write_bytes(rng.bytes(n))
        with pytest.raises(mg.CheckpointError, match="truncated or corrupted"):
            mg.load(tmp_path / "random")
    (tmp_path / "random").write_bytes((100).to_bytes(8, "little") + b"{" + rng.bytes(200))  # starts as safetensors
    with pytest.raises(mg.CheckpointError, match="truncated or corrupted and cannot be read"):
        mg.load(tmp_path / "random")
    with pytest.raises(FileNotFoundError):
        mg.load(tmp_path / "missing.safetensors")


# --- checkpoints of earlier micrograd (.npz, format version 1) ------------------------------------

def test_old_npz_checkpoints_still_load(tmp_path):
    model, opt = small_model(), mg.Adam(learning_rate=0.01)
    state = opt.init(model)
    checkpoint = {"model": model, "opt_state": state, "epoch": 2}
    path = tmp_path / "old.safetensors"  # the first bytes tell the format, not the name
    save_v1(path, checkpoint)
    assert path.read_bytes()[:4] == b"PK\x03\x04"
    like = {"model": small_model(5), "opt_state": opt.init(small_model(5)), "epoch": 0}
    restored = mg.load(path, like=like)
    assert_trees_equal(restored, checkpoint)
    assert restored["model"][0].weight.requires_grad and type(restored["epoch"]) is int
    with pytest.raises(mg.CheckpointError, match=r"at \['model'\]\.layers\[2\]\.weight: like has shape \(4, 5\)"):
        mg.load(path, like={**like, "model": mg.Sequential([mg.Linear(3, 4), mg.ReLU(), mg.Linear(4, 5)])})
    plain = {"a": [np.arange(3, dtype=np.int32), None], "p": Point(np.float32(1.5), 2.5), 7: (True, np.zeros((0, 2)))}
    save_v1(tmp_path / "plain.npz", plain)
    restored = mg.load(tmp_path / "plain.npz")
    assert restored["p"] == (np.float32(1.5), 2.5) and restored[7][0] is True and restored["a"][1] is None
    assert_trees_equal({k: v for k, v in restored.items() if k != "p"}, {k: v for k, v in plain.items() if k != "p"})
    # saving again writes the new format, to the path given
    mg.save(tmp_path / "plain.npz", restored)
    assert (tmp_path / "plain.npz").read_bytes()[8:9] == b"{"
    assert_trees_equal(mg.load(tmp_path / "plain.npz", like=restored), restored)


class _RunsCode:
    """Unpickling this creates a folder: proof that code ran."""
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def test_loading_never_unpickles(tmp_path):
    marker = str(tmp_path / "code-ran")
    path = tmp_path / "evil.npz"
    meta = '{"format": "micrograd-checkpoint", "version": 1, "tree": {"leaf": 0, "kind": "array", "shape": [1], "dtype": "|O"}}'
    evil = np.empty(1, dtype=object)
    evil[0] = _RunsCode(marker)
    np.savez(path, leaf0=evil, __micrograd__=np.frombuffer(meta.encode(), np.uint8))  # np.savez pickles it
    assert b"mkdir" in path.read_bytes()
    with pytest.raises(mg.CheckpointError, match="holds an object array, which only unpickling could read"):
        mg.load(path)
    with pytest.raises(mg.CheckpointError, match="object array"):
        mg.load(path, like=np.zeros(1, dtype=object))
    assert not os.path.exists(marker)
    pickle.loads(pickle.dumps(_RunsCode(marker)))  # the payload does run when unpickled
    assert os.path.exists(marker)


# --- atomic saves: kill -9 in the middle -------------------------------------------------------

_SAVER = textwrap.dedent("""
    import sys, numpy as np, micrograd as mg
    path = sys.argv[1]
    big = {"a": np.zeros(3_000_000), "b": [np.zeros(1_000_000, np.float32)], "i": np.int64(0)}
    for i in range(1, 10 ** 9):
        big["a"][[0, -1]] = i
        big["b"][0][[0, -1]] = i
        big["i"] = np.int64(i)
        print("saving", i, flush=True)
        mg.save(path, big)
        print(i, flush=True)
""")


def test_kill_during_save_keeps_the_previous_checkpoint(tmp_path):
    """A process saving a ~28 MB checkpoint in a loop is SIGKILLed at a random moment; the file
    still loads, whole and consistent, holding a save at least as recent as the last reported."""
    script = tmp_path / "saver.py"
    script.write_text(_SAVER)
    path = tmp_path / "big.safetensors"
    rng = random.Random(1234)
    killed_mid_save = 0
    deadline = time.monotonic() + 60
    for attempt in range(100):  # five kills, and more until one has landed inside a save
        proc = subprocess.Popen([sys.executable, str(script), str(path)], stdout=subprocess.PIPE, text=True,
                                env={**os.environ, "PYTHONPATH": REPO})
        try:
            lines = [proc.stdout.readline(), proc.stdout.readline()]  # one complete save exists
            assert lines[1].strip().isdigit(), lines
            lines.append(proc.stdout.readline())  # the next save has started (a save takes tens of ms)
            time.sleep(rng.uniform(0.0, 0.02))
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
        finally:
            if proc.poll() is None:
                proc.kill()
        reported = [int(line) for line in lines + proc.stdout.read().splitlines() if line.strip().isdigit()]
        proc.stdout.close()
        temporaries = [name for name in os.listdir(tmp_path) if name.endswith(".tmp")]
        killed_mid_save += bool(temporaries)
        state = mg.load(path)
        i = int(state["i"])
        assert i >= max(reported)
        assert state["a"][0] == state["a"][-1] == state["b"][0][0] == state["b"][0][-1] == i
        assert state["a"].shape == (3_000_000,) and not state["a"][1:-1].any()
        for name in temporaries:
            os.unlink(tmp_path / name)
        if (attempt >= 4 and killed_mid_save) or time.monotonic() > deadline:
            break
    assert killed_mid_save >= 1, "no kill landed inside a save: the test did not test atomicity"


# --- the MNIST example ------------------------------------------------------------------------

def test_mnist_example_saves_and_resumes(mnist_dir, tmp_path, capsys, monkeypatch):
    """An interrupted run resumed from its checkpoint ends exactly where the uninterrupted run does."""
    from test_examples import run_example
    module = run_example("mnist.py", [])
    common = ["--data", mnist_dir, "--epochs", "2", "--batch-size", "256", "--no-augment", "--plot", ""]
    straight = module["main"](common + ["--save", str(tmp_path / "straight.safetensors")])

    real_save = mg.save

    def save_then_stop(path, tree):  # the run is killed right after its first checkpoint
        real_save(path, tree)
        raise KeyboardInterrupt

    monkeypatch.setattr(mg, "save", save_then_stop)
    with pytest.raises(KeyboardInterrupt):
        module["main"](common + ["--save", str(tmp_path / "run.safetensors"), "--resume"])
    monkeypatch.setattr(mg, "save", real_save)
    capsys.readouterr()
    resumed = module["main"](common + ["--save", str(tmp_path / "run.safetensors"), "--resume"])
    out = capsys.readouterr().out
    assert "resuming from" in out and "1 of 2 epochs done" in out
    assert "epoch 1/2" not in out and "epoch 2/2" in out
    # equal up to rounding: until its kernels are compiled (in the background) a jitted step runs
    # with NumPy, whose float32 sums round differently, so two runs may differ in the last bits
    assert abs(resumed - straight) <= 0.002
    a = safetensors.numpy.load_file(tmp_path / "run.safetensors")  # model, Adam state, losses
    b = safetensors.numpy.load_file(tmp_path / "straight.safetensors")
    assert sorted(a) == sorted(b) and "losses" in a and "model.0.weight" in a
    for name in a:
        np.testing.assert_allclose(a[name], b[name], rtol=1e-3, atol=1e-5)
    # a finished run resumes to nothing more to do; a run of another length is refused clearly
    assert module["main"](common + ["--save", str(tmp_path / "run.safetensors"), "--resume"]) == resumed
    with pytest.raises(SystemExit, match=r"(?s)cannot resume: .*\[.losses.\].*--epochs and --batch-size"):
        module["main"](common[:2] + ["--epochs", "3"] + common[4:] + ["--save", str(tmp_path / "run.safetensors"),
                                                                    "--resume"])
