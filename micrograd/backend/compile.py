"""Compiling kernels with Numba, in a background thread, through a cache on disk.

A lowered program starts running at once with each kernel's NumPy version; its first call
hands the kernel's arguments to the compile thread, which compiles the kernel for exactly those
argument types and then swaps it into the program's kernel table. So the first result never
waits for a compiler, and programs speed up as their kernels arrive.

On disk, each kernel is a module named by a hash of its source and of the micrograd, Numba and
NumPy versions; Numba caches its machine code beside it. A second process running the same
program imports the module and loads the machine code instead of compiling. Files are written
to a temporary name and renamed, so a crash or two processes at once never leave half a file;
an entry that fails to load is removed and compiled again, with a warning.
"""
from __future__ import annotations

import atexit
import functools
import importlib.util
import os
import queue
import sys
import tempfile
import threading
import warnings
from typing import Any, Callable

from .lower import Kernel

DEFAULT_CACHE = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
                             "micrograd", "jit")


def cache_dir(setting: str | bool | None) -> str | None:
    """Where kernels are cached: ``setting`` if it is a path, none if False; by default
    ``$MICROGRAD_CACHE_DIR`` (empty: no disk cache), else ~/.cache/micrograd/jit."""
    if setting is False or setting == "":
        return None
    if isinstance(setting, (str, os.PathLike)):
        return os.fspath(setting)
    env = os.environ.get("MICROGRAD_CACHE_DIR")
    if env is not None:
        return env or None
    return DEFAULT_CACHE


class CompileError(RuntimeError):
    """Numba could not compile a kernel (raised by ``jit(..., strict=True)``)."""


@functools.lru_cache(maxsize=None)
def _versions() -> str:
    """What a cached kernel depends on besides its source: the versions, and the functions of
    vectormath.py that kernels import (a change there must not load stale machine code)."""
    import hashlib

    import numba
    import numpy

    from .. import __version__
    from . import vectormath
    with open(vectormath.__file__, "rb") as f:
        helpers = hashlib.sha256(f.read()).hexdigest()[:12]
    return f"micrograd {__version__} numba {numba.__version__} numpy {numpy.__version__} vectormath {helpers}"


def _write_atomically(path: str, text: str) -> None:
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".py")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _load_module(path: str, name: str):
    """Import the kernel module at ``path`` (registered in sys.modules: Numba's cache needs to
    find a function's module again)."""
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        module.CACHE = True
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]
            raise
    return module


def _forget(path: str) -> None:
    """Remove a cached kernel and Numba's files for it."""
    stem = os.path.splitext(os.path.basename(path))[0]
    pycache = os.path.join(os.path.dirname(path), "__pycache__")
    if os.path.isdir(pycache):
        for entry in os.listdir(pycache):
            if entry.startswith(stem + "."):
                try:
                    os.unlink(os.path.join(pycache, entry))
                except OSError:
                    pass
    if os.path.exists(path):
        os.unlink(path)


def _entry_point(dispatcher, signature) -> tuple[Callable, Any]:
    """The compiled function for exactly ``signature``, without Numba's per-call type dispatch
    (jit calls a piece only with arguments of the types it was compiled for: its cache is keyed
    by type, shape, dtype and contiguity, and other arguments are made contiguous first), and
    the dispatcher (whose ``stats`` count cache hits)."""
    dispatcher.compile(signature)
    return dispatcher.overloads[signature].entry_point, dispatcher


def compile_kernel(kernel: Kernel, args: tuple, cache: str | None) -> tuple[Callable, Any]:
    """``kernel`` compiled by Numba for the types of ``args``: (entry point, dispatcher). (It runs in the
    compile thread: nothing here may touch the process's warning filters, which are global.)"""
    import hashlib

    import numba

    signature = tuple(numba.typeof(a) for a in args)
    if cache is None:
        namespace = {"CACHE": False}
        exec(compile(kernel.source, f"<micrograd kernel {kernel.name}>", "exec"), namespace)
        dispatcher = namespace[kernel.name]
        return _entry_point(dispatcher, signature)
    digest = hashlib.sha256((kernel.source + _versions()).encode()).hexdigest()[:24]
    stem = f"k_{digest}"
    path = os.path.join(cache, stem + ".py")
    source = kernel.source.replace(f"def {kernel.name}(", "def kernel(")
    for attempt in (1, 2):
        cached = os.path.exists(path)
        try:
            if not cached:
                _write_atomically(path, source)
            dispatcher = _load_module(path, f"micrograd_kernel_{digest}").kernel
            return _entry_point(dispatcher, signature)
        except Exception as e:  # noqa: BLE001 - a broken cache entry must never stop the program
            if not cached or attempt == 2 or isinstance(e, numba.core.errors.TypingError):
                raise
            warnings.warn(f"micrograd.jit: the cached kernel {path} could not be loaded ({type(e).__name__}: {e}); "
                          "compiling it again", RuntimeWarning, stacklevel=2)
            _forget(path)
            sys.modules.pop(f"micrograd_kernel_{digest}", None)
    raise AssertionError("unreachable")


class _Job:
    __slots__ = ("kernel", "args", "install", "cache", "done")

    def __init__(self, kernel, args, install, cache):
        self.kernel, self.args, self.install, self.cache = kernel, args, install, cache
        self.done = threading.Event()


class Compiler:
    """One background thread compiling kernels in the order they are first called."""

    def __init__(self):
        self._queue: queue.Queue[_Job] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._pending = 0  # jobs submitted and not yet finished
        self._idle = threading.Condition(self._lock)

    def submit(self, kernel: Kernel, args: tuple, install: Callable[[Any, Exception | None], None],
               cache: str | None) -> _Job:
        job = _Job(kernel, args, install, cache)
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._work, name="micrograd-compiler", daemon=True)
                self._thread.start()
            self._pending += 1
        self._queue.put(job)
        return job

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until every job submitted so far has finished; False if ``timeout`` ran out."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def stop(self, timeout: float = 60.0) -> None:
        """At exit: drop the jobs not started and wait for the one in progress, so the interpreter
        never tears LLVM down under a compile (which can abort the process)."""
        with self._lock:
            while True:
                try:
                    job = self._queue.get_nowait()
                except queue.Empty:
                    break
                job.args = None
                job.done.set()
                self._pending -= 1
        with self._idle:
            self._idle.wait_for(lambda: self._pending == 0, timeout)

    def _work(self):
        while True:
            job = self._queue.get()
            try:
                compiled = compile_kernel(job.kernel, job.args, job.cache)
                job.install(compiled, None)
            except Exception as e:  # noqa: BLE001 - reported through install
                job.install(None, e)
            finally:
                job.args = None
                job.done.set()
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()


COMPILER = Compiler()
atexit.register(COMPILER.stop)
