"""MNIST loading (offline: downloads come from a local HTTP server), loaders, augmentation."""
import functools
import gzip
import hashlib
import http.server
import os
import threading

import numpy as np
import pytest

import micrograd as mg
from micrograd.data import augment, mnist
from micrograd.data.idx import read_idx


def _idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def _write_gz(path, array):
    with gzip.open(path, "wb") as f:
        f.write(_idx_bytes(array))


@pytest.fixture
def http_server(tmp_path):
    """A local HTTP server serving tmp_path/served; yields (folder, base URL)."""
    served = tmp_path / "served"
    served.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield served, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def _closed_port_url():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/"  # nothing listens there once closed


# --- the MNIST files in $MICROGRAD_DATA/mnist ---------------------------------------------------

def test_load_arrays(mnist_dir):
    x_train, y_train, x_test, y_test = mnist.load_arrays(mnist_dir, download=False)
    assert x_test.shape == (10000, 784) and x_test.dtype == np.float32 and y_test.dtype == np.int64
    assert x_train.shape[1] == 784 and len(x_train) == len(y_train)
    assert 0.0 == x_test.min() and x_test.max() == 1.0
    assert np.bincount(y_test).tolist()[:3] == [980, 1135, 1032]  # the official test set's counts
    # the test files are the official ones, byte for byte
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        assert mnist._md5(os.path.join(mnist_dir, name)) == mnist.FILES[name]


def test_load_data_loaders(mnist_dir):
    train, test = mnist.load_data(batch_size=64, root=mnist_dir, download=False, seed=3)
    n = len(train.inputs)
    assert len(train) == -(-n // 64) and len(test) == 157
    batches = list(train)
    assert len(batches) == len(train)
    images, labels = batches[0]
    assert images.shape == (64, 784) and images.dtype == np.float32 and labels.shape == (64,) and labels.dtype == np.int64
    assert batches[-1][0].shape == (n - 64 * (len(train) - 1), 784)
    epoch1 = np.concatenate([lab for _, lab in batches])
    epoch2 = np.concatenate([lab for _, lab in train])
    # every image once per epoch, in a new order each epoch (the files are sorted by label)
    assert np.array_equal(np.sort(epoch1), np.sort(train.labels)) and not np.array_equal(epoch1, epoch2)
    assert len(set(labels.tolist())) > 5
    again = mnist.load_data(batch_size=64, root=mnist_dir, download=False, seed=3)[0]
    assert np.array_equal(np.concatenate([lab for _, lab in again]), epoch1)  # the seed fixes the order
    test_labels = np.concatenate([lab for _, lab in test])
    assert np.array_equal(test_labels, test.labels)  # test order is the file's
    dropped = mnist.load_data(batch_size=64, root=mnist_dir, download=False, drop_last=True)[0]
    assert len(dropped) == n // 64 and all(len(lab) == 64 for _, lab in dropped)


def test_default_root(monkeypatch, tmp_path):
    monkeypatch.setenv("MICROGRAD_DATA", str(tmp_path))
    assert mnist.default_root() == os.path.join(str(tmp_path), "mnist")
    monkeypatch.delenv("MICROGRAD_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert mnist.default_root() == os.path.join(str(tmp_path / "cache"), "micrograd", "mnist")
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert mnist.default_root() == os.path.join(os.path.expanduser("~"), ".cache", "micrograd", "mnist")


# --- missing, broken and downloaded files -------------------------------------------------------

def test_missing_files_without_download(tmp_path):
    with pytest.raises(mnist.MNISTNotFoundError) as info:
        mnist.load_data(root=str(tmp_path), download=False)
    message = str(info.value)
    assert str(tmp_path) in message and all(name in message for name in mnist.FILES)
    assert "download=False" in message and "MICROGRAD_DATA" in message


def test_failed_download_names_files_and_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(mnist, "MIRRORS", (_closed_port_url(),))
    with pytest.raises(mnist.MNISTNotFoundError, match="train-images-idx3-ubyte.gz") as info:
        mnist.load_arrays(str(tmp_path / "mnist"), download=True)
    assert str(tmp_path / "mnist") in str(info.value)
    assert os.listdir(tmp_path / "mnist") == []  # nothing half-written left behind


def test_download_verifies_checksums_and_writes_atomically(tmp_path, http_server):
    served, url = http_server
    content = gzip.compress(_idx_bytes(np.arange(12).reshape(3, 4)))
    (served / "good.gz").write_bytes(content)
    (served / "bad.gz").write_bytes(content[:-5] + b"xxxxx")  # corrupted in transit
    md5 = hashlib.md5(content).hexdigest()
    root = tmp_path / "root"

    # a dead mirror first: the next one serves the file
    got = mnist.download(str(root), mirrors=[_closed_port_url(), url], files={"good.gz": md5}, show_progress=False)
    assert got == ["good.gz"] and (root / "good.gz").read_bytes() == content
    assert np.array_equal(read_idx(root / "good.gz"), np.arange(12).reshape(3, 4))
    assert mnist.download(str(root), mirrors=[url], files={"good.gz": md5}) == []  # present: not fetched again

    with pytest.raises(mnist.ChecksumError, match=f"checksum .* is not the expected {md5}"):
        mnist.download(str(root), mirrors=[url], files={"bad.gz": md5}, show_progress=False)
    assert sorted(os.listdir(root)) == ["good.gz"]  # the corrupted file was not kept, no temporary left


def test_download_then_load(tmp_path, http_server, monkeypatch):
    """The whole path load_data takes on a user's machine, against a local server."""
    served, url = http_server
    rng = np.random.default_rng(0)
    arrays = {"train-images-idx3-ubyte.gz": rng.integers(0, 256, (10, 28, 28)),
              "train-labels-idx1-ubyte.gz": rng.integers(0, 10, 10),
              "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (4, 28, 28)),
              "t10k-labels-idx1-ubyte.gz": rng.integers(0, 10, 4)}
    checksums = {}
    for name, array in arrays.items():
        data = gzip.compress(_idx_bytes(array))
        (served / name).write_bytes(data)
        checksums[name] = hashlib.md5(data).hexdigest()
    monkeypatch.setattr(mnist, "MIRRORS", (url,))
    monkeypatch.setattr(mnist, "FILES", checksums)
    monkeypatch.setenv("MICROGRAD_DATA", str(tmp_path / "data"))
    train, test = mnist.load_data(batch_size=4)
    assert sorted(os.listdir(tmp_path / "data" / "mnist")) == sorted(arrays)
    images, labels = next(iter(test))
    np.testing.assert_array_equal(labels, arrays["t10k-labels-idx1-ubyte.gz"])
    np.testing.assert_allclose(images, arrays["t10k-images-idx3-ubyte.gz"].reshape(4, 784) / 255.0, rtol=1e-6)
    assert len(train) == 3


def test_truncated_files_give_clear_errors(tmp_path, mnist_dir):
    import shutil
    for name in mnist.FILES:
        shutil.copy(os.path.join(mnist_dir, name), tmp_path / name)
    labels = read_idx(tmp_path / "t10k-labels-idx1-ubyte.gz")
    with gzip.open(tmp_path / "t10k-labels-idx1-ubyte.gz", "wb") as f:  # a valid gzip of a cut-off IDX file
        f.write(_idx_bytes(labels)[:-100])
    with pytest.raises(ValueError, match=r"t10k-labels-idx1-ubyte.gz: IDX file of shape \(10000,\) should be 10008 "
                                         r"bytes, found 9908 \(truncated or corrupted\)"):
        mnist.load_arrays(str(tmp_path), download=False)
    data = (tmp_path / "t10k-images-idx3-ubyte.gz").read_bytes()
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(data[: len(data) // 2])  # a cut-off download
    with pytest.raises(ValueError, match="t10k-images-idx3-ubyte.gz: truncated or corrupted gzip file"):
        read_idx(tmp_path / "t10k-images-idx3-ubyte.gz")


# --- loaders and augmentation -------------------------------------------------------------------

def test_dataloader_batches_and_errors():
    x, y = np.arange(20.0).reshape(10, 2), np.arange(10)
    loader = mg.data.DataLoader(x, y, batch_size=4, shuffle=False)
    assert len(loader) == 3 and [lab.tolist() for _, lab in loader] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert all(np.array_equal(xb[:, 0], 2 * yb) for xb, yb in loader)  # rows stay with their labels
    shuffled = mg.data.DataLoader(x, y, batch_size=4, seed=1)
    assert all(np.array_equal(xb[:, 0], 2 * yb) for xb, yb in shuffled)
    with pytest.raises(ValueError, match="10 inputs but 9 labels"):
        mg.data.DataLoader(x, y[:9])
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        mg.data.DataLoader(x, y, batch_size=0)


def test_augmentation_is_a_pure_function_of_the_key():
    rng = np.random.default_rng(0)
    images = np.zeros((8, 28, 28), np.float32)
    images[:, 8:20, 12:16] = 1.0
    a = augment.random_affine(mg.random.key(0), images)
    assert np.array_equal(a, augment.random_affine(mg.random.key(0), images))
    assert not np.array_equal(a, augment.random_affine(mg.random.key(1), images))
    assert a.shape == images.shape and a.dtype == np.float32 and 0 <= a.min() and a.max() <= 1 + 1e-6
    # mass is roughly kept (the digit stays inside the frame), and each image moved differently
    np.testing.assert_allclose(a.sum((1, 2)) / images.sum((1, 2)), 1.0, atol=0.25)
    assert len({a[i].tobytes() for i in range(8)}) == 8
    # integer shifts move pixels exactly; a quarter turn of a square image maps rows to columns
    flat = rng.random((2, 784)).astype(np.float32)
    moved = augment.shift(flat, 2, -3).reshape(2, 28, 28)
    np.testing.assert_allclose(moved[:, 2:, :25], flat.reshape(2, 28, 28)[:, :26, 3:], atol=1e-6)
    assert not moved[:, :2].any() and not moved[:, :, 25:].any()
    turned = augment.affine(flat[:1], 0, 0, angle=90).reshape(28, 28)
    np.testing.assert_allclose(turned, np.rot90(flat[0].reshape(28, 28)), atol=1e-6)
