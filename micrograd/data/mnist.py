"""MNIST handwritten digits: 60,000 training and 10,000 test images of 28x28 pixels.

``load_data`` returns ``(train_loader, test_loader)`` as the tutorial's chapter 11 uses them;
``load_arrays`` returns whole NumPy arrays. Images are float32 in ``[0, 1]`` of shape
``(n, 784)``; labels are int64.

Where the four ``.gz`` files are looked for: ``root=`` when given; else ``$MICROGRAD_DATA/mnist``
when that variable is set; else ``mnist/`` in micrograd's cache folder
(``$XDG_CACHE_HOME/micrograd/mnist``, by default ``~/.cache/micrograd/mnist``). Missing files
are downloaded there (with ``download=True``) from the first mirror that answers, checked
against the official MD5 checksums and written atomically; a file that is already present is
used as it is (the shared test data holds a 5,000-image training subset under the official names).

>>> FILES["t10k-labels-idx1-ubyte.gz"]  # the official checksum of the test labels
'ec29112dd5afa0611ce80d1b7f02629c'
"""
from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from typing import Any, Callable, Sequence

import numpy as np

from ..viz import progress
from . import augment as _augment
from .idx import read_idx
from .loader import DataLoader

__all__ = ["FILES", "MIRRORS", "MNISTNotFoundError", "ChecksumError", "default_root", "download", "load_arrays",
           "load_data"]

FILES = {  # name -> MD5 of the official file
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
MIRRORS = ("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/")


class MNISTNotFoundError(FileNotFoundError):
    """MNIST files are missing and could not be downloaded."""


class ChecksumError(ValueError):
    """A downloaded file's MD5 checksum is not the official one (corrupted or wrong file)."""


def default_root() -> str:
    """The folder MNIST is looked for in when no ``root`` is given (see the module docstring).

    >>> default_root().endswith("mnist")
    True
    """
    if os.environ.get("MICROGRAD_DATA"):
        return os.path.join(os.environ["MICROGRAD_DATA"], "mnist")
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "micrograd", "mnist")


def _md5(path: str) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fetch(url: str, dest: str, md5: str, show_progress: bool, timeout: float) -> None:
    """Download ``url`` to ``dest`` through a temporary file in the same folder, renamed into
    place only once complete and verified, so a partial download never looks complete."""
    folder = os.path.dirname(dest)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(dest) + ".", suffix=".part")
    try:
        digest = hashlib.md5()
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
            total = int(response.headers.get("Content-Length") or 0) or None
            bar = progress(total=total, desc=os.path.basename(dest), unit="B", unit_scale=True, unit_divisor=1024,
                           **({} if show_progress else {"disable": True}))
            with bar:
                for block in iter(lambda: response.read(1 << 16), b""):
                    out.write(block)
                    digest.update(block)
                    bar.update(len(block))
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != md5:
            raise ChecksumError(f"{url}: MD5 checksum {digest.hexdigest()} is not the expected {md5} "
                                "(corrupted or incomplete download); the file was not kept")
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _missing_message(root: str, missing: Sequence[str], reasons: Sequence[str] = ()) -> str:
    why = "".join(f"\n  - {r}" for r in reasons)
    return (f"MNIST files missing in {root}: {', '.join(missing)}.{why}\n"
            f"Download them (e.g. from {MIRRORS[0]}) into {root}, or pass root= (--data in the examples) "
            f"naming the folder that holds them, or set MICROGRAD_DATA to the folder that holds mnist/.")


def download(root: str | None = None, mirrors: Sequence[str] | None = None, files: dict[str, str] | None = None,
             show_progress: bool = True, timeout: float = 30.0) -> list[str]:
    """Download the MNIST files missing from ``root`` (``files`` maps names to MD5 checksums,
    the official four by default), trying each mirror in turn; returns the names downloaded.
    Raises :class:`ChecksumError` when only corrupted copies were found and
    :class:`MNISTNotFoundError` when none could be fetched. ``mirrors`` defaults to ``MIRRORS``.

    >>> download(tempfile.mkdtemp(), mirrors=[], files={"x.gz": "0" * 32})
    Traceback (most recent call last):
    ...
    micrograd.data.mnist.MNISTNotFoundError: MNIST files missing in ...: x.gz...
    """
    root = default_root() if root is None else os.fspath(root)
    files = FILES if files is None else files
    mirrors = MIRRORS if mirrors is None else mirrors
    os.makedirs(root, exist_ok=True)
    fetched = []
    for name, md5 in files.items():
        dest = os.path.join(root, name)
        if os.path.exists(dest):
            continue
        reasons = []
        for mirror in mirrors:
            try:
                _fetch(mirror.rstrip("/") + "/" + name, dest, md5, show_progress, timeout)
                fetched.append(name)
                break
            except ChecksumError as e:
                reasons.append(str(e))
            except (urllib.error.URLError, OSError) as e:
                reasons.append(f"{mirror}{name}: {getattr(e, 'reason', e)}")
        else:
            error = ChecksumError if any("checksum" in r for r in reasons) else MNISTNotFoundError
            raise error(_missing_message(root, [name], reasons or ["no mirror to download from"]))
    return fetched


def load_arrays(root: str | None = None, download: bool = True,
                flatten: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(train_images, train_labels, test_images, test_labels)``: images float32 in
    ``[0, 1]`` of shape ``(n, 784)``, or ``(n, 1, 28, 28)`` (NCHW, for convolutions) with
    ``flatten=False``; labels int64.

    >>> x_train, y_train, x_test, y_test = load_arrays()  # doctest: +SKIP
    >>> x_test.shape, y_test.dtype  # doctest: +SKIP
    ((10000, 784), dtype('int64'))
    """
    root = default_root() if root is None else os.fspath(root)
    missing = [name for name in FILES if not os.path.exists(os.path.join(root, name))]
    if missing and not download:
        raise MNISTNotFoundError(_missing_message(root, missing, ["download=False, so nothing was downloaded"]))
    if missing:
        _download(root)

    def images(name):
        raw = read_idx(os.path.join(root, name))
        shape = (len(raw), -1) if flatten else (len(raw), 1) + raw.shape[1:]
        return (raw.reshape(shape) / np.float32(255.0)).astype(np.float32)

    def labels(name):
        return read_idx(os.path.join(root, name)).astype(np.int64)

    return (images("train-images-idx3-ubyte.gz"), labels("train-labels-idx1-ubyte.gz"),
            images("t10k-images-idx3-ubyte.gz"), labels("t10k-labels-idx1-ubyte.gz"))


_download = download  # load_arrays's argument of the same name hides the function


def load_data(batch_size: int = 64, root: str | None = None, download: bool = True, shuffle: bool = True,
              seed: int = 0, drop_last: bool = False,
              augment: bool | Callable[[Any, np.ndarray], np.ndarray] | None = None,
              flatten: bool = True) -> tuple[DataLoader, DataLoader]:
    """``(train_loader, test_loader)``: iterables of ``(images, labels)`` batches (see
    :class:`~micrograd.data.DataLoader`); images are rows of 784 pixels, or ``(batch, 1, 28,
    28)`` (NCHW, what ``Conv2d`` takes) with ``flatten=False``. The training loader reshuffles every epoch (from
    ``seed``) and applies ``augment`` to each batch: ``True`` for
    :func:`~micrograd.data.augment.random_affine`'s defaults, or a function ``(key, images)
    -> images``. The test loader keeps the file's order and never augments.

    >>> train_loader, test_loader = load_data(batch_size=100)  # doctest: +SKIP
    >>> len(test_loader)  # doctest: +SKIP
    100
    """
    x_train, y_train, x_test, y_test = load_arrays(root, download, flatten)
    transform = _augment.random_affine if augment is True else (augment or None)
    train = DataLoader(x_train, y_train, batch_size, shuffle=shuffle, seed=seed, drop_last=drop_last,
                       transform=transform)
    test = DataLoader(x_test, y_test, batch_size, shuffle=False)
    return train, test
