"""Compiling kernels with Numba, in the background, through a cache on disk.

A lowered program starts running at once with each kernel's NumPy version; its first call
hands the kernel's arguments to a compile thread, which has the kernel compiled for exactly
those argument types and then swaps it into the program's kernel table. So the first result
never waits for a compiler, and programs speed up as their kernels arrive.

With a disk cache, a compile thread writes the kernel's module and a worker process
(``worker.py``) compiles it into the cache, from which a loader thread then loads the machine
code into this process: the compiler never holds this process's interpreter lock, so it neither stalls a running
training loop nor waits for it. There are as many threads and workers as cores, at most two
(``$MICROGRAD_COMPILE_WORKERS`` sets the number; 0 compiles in this process, as without a
disk cache); the ranks of an MPI job on one machine share its cores (:func:`share_cores`).

On disk, each kernel is a module named by a hash of its source and of the micrograd, Numba and
NumPy versions; Numba caches its machine code beside it. A second process running the same
program imports the module and loads the machine code instead of compiling. Files are written
to a temporary name and renamed, so a crash or two processes at once never leave half a file;
an entry that fails to load is removed and compiled again, with a warning.
"""
from __future__ import annotations

import atexit
import functools
import os
import queue
import sys
import tempfile
import threading
import warnings
from typing import Any, Callable

from .lower import Kernel
from .worker import Worker, WorkerError, load_module

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
    vectormath.py and arrays.py that kernels import (a change there must not load stale machine
    code)."""
    import hashlib

    import numba
    import numpy

    from .. import __version__
    from . import arrays, vectormath
    helpers = hashlib.sha256()
    for module in (vectormath, arrays):
        with open(module.__file__, "rb") as f:
            helpers.update(f.read())
    return (f"micrograd {__version__} numba {numba.__version__} numpy {numpy.__version__} "
            f"helpers {helpers.hexdigest()[:12]}")


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


_sharing_cores = 1  # processes of one job on this machine (set by micrograd.distributed)


def share_cores(processes: int) -> None:
    """Tell the compiler that ``processes`` processes of one job (MPI ranks on this machine)
    share its cores: each then starts its share of the default number of workers, at least one,
    rather than every rank starting as many workers as there are cores."""
    global _sharing_cores
    _sharing_cores = max(1, int(processes))


def _worker_count() -> int:
    setting = os.environ.get("MICROGRAD_COMPILE_WORKERS", "")
    if setting.strip().isdigit():
        return int(setting)
    return max(1, min(2, (os.cpu_count() or 1) // _sharing_cores))


_workers: list[Worker] = []
_workers_lock = threading.Lock()
_thread_worker = threading.local()


def _worker() -> Worker | None:
    """The calling thread's worker process (started on first use), or None when compiling in
    this process: no workers wanted, or one could not be started."""
    worker = getattr(_thread_worker, "worker", None)
    if worker is not None and worker.alive():
        return worker
    with _workers_lock:
        if _worker_count() == 0:
            return None
        try:
            worker = Worker()
        except OSError:
            return None
        _workers.append(worker)
    _thread_worker.worker = worker
    return worker


def _stop_workers() -> None:
    with _workers_lock:
        for worker in _workers:
            worker.close()
        _workers.clear()


class Abandoned(Exception):
    """The interpreter is exiting: the kernel is not loaded."""


class _NumbaWork:
    """Numba work in this process (compiling, or loading machine code from the cache) is
    counted: at exit the interpreter waits for it, since tearing LLVM down under it can abort
    the process, and none starts afterwards. A worker process compiling needs no waiting for."""

    def __init__(self):
        self._done = threading.Condition()
        self._busy = 0
        self._closed = False

    def __enter__(self):
        with self._done:
            if self._closed:
                raise Abandoned()
            self._busy += 1

    def __exit__(self, *exc):
        with self._done:
            self._busy -= 1
            self._done.notify_all()

    def close(self, timeout: float) -> None:
        with self._done:
            self._closed = True
            self._done.wait_for(lambda: self._busy == 0, timeout)


NUMBA_WORK = _NumbaWork()


def _signature(args: tuple) -> tuple:
    import numba

    return tuple(numba.typeof(a) for a in args)


def _cache_entry(kernel: Kernel, cache: str) -> tuple[str, str]:
    """(path, module name) of ``kernel``'s module in the cache folder."""
    import hashlib

    digest = hashlib.sha256((kernel.source + _versions()).encode()).hexdigest()[:24]
    return os.path.join(cache, f"k_{digest}.py"), f"micrograd_kernel_{digest}"


def _write_entry(kernel: Kernel, path: str) -> None:
    _write_atomically(path, kernel.source.replace(f"def {kernel.name}(", "def kernel("))


def compile_in_worker(kernel: Kernel, args: tuple, cache: str) -> None:
    """The first half of compiling with a disk cache, in a compile thread: a worker process
    compiles ``kernel`` into the cache unless it is there already. Nothing is raised: a kernel
    the worker could not compile is compiled by :func:`compile_kernel`, which raises Numba's
    own error if there is one."""
    path, module = _cache_entry(kernel, cache)
    if os.path.exists(path):
        return
    _write_entry(kernel, path)
    worker = _worker()
    if worker is not None:
        try:
            worker.compile(path, module, _signature(args))
        except WorkerError:
            pass


def compile_kernel(kernel: Kernel, args: tuple, cache: str | None) -> tuple[Callable, Any]:
    """``kernel`` compiled by Numba for the types of ``args``, in this process or loaded from the
    cache: (entry point, dispatcher). (It runs in a compile thread: nothing here may touch the
    process's warning filters, which are global.)"""
    import numba

    signature = _signature(args)
    if cache is None:
        namespace = {"CACHE": False}
        exec(compile(kernel.source, f"<micrograd kernel {kernel.name}>", "exec"), namespace)
        with NUMBA_WORK:
            return _entry_point(namespace[kernel.name], signature)
    path, module = _cache_entry(kernel, cache)
    for attempt in (1, 2):
        cached = os.path.exists(path)
        try:
            if not cached:
                _write_entry(kernel, path)
            with NUMBA_WORK:
                return _entry_point(load_module(path, module).kernel, signature)
        except Exception as e:  # noqa: BLE001 - a broken cache entry must never stop the program
            if not cached or attempt == 2 or isinstance(e, (numba.core.errors.TypingError, Abandoned)):
                raise
            warnings.warn(f"micrograd.jit: the cached kernel {path} could not be loaded ({type(e).__name__}: {e}); "
                          "compiling it again", RuntimeWarning, stacklevel=2)
            _forget(path)
            sys.modules.pop(module, None)
    raise AssertionError("unreachable")


class _Job:
    __slots__ = ("kernel", "args", "install", "cache", "done")

    def __init__(self, kernel, args, install, cache):
        self.kernel, self.args, self.install, self.cache = kernel, args, install, cache
        self.done = threading.Event()


class Compiler:
    """Background threads compiling kernels in the order they are first called: one per worker
    process, each handing what its worker compiled to one loader thread, which loads it into
    this process (so a worker goes on to its next kernel at once; loading the first kernel also
    starts Numba in this process, a third of a second). Without a disk cache, the loader
    thread alone compiles, in this process."""

    def __init__(self):
        self._queue: queue.Queue[_Job] = queue.Queue()  # to compile (in workers)
        self._loads: queue.Queue[_Job] = queue.Queue()  # to load (or compile here)
        self._threads: list[threading.Thread] = []
        self._loader: threading.Thread | None = None
        self._lock = threading.Lock()
        self._pending = 0  # jobs submitted and not yet finished
        self._idle = threading.Condition(self._lock)

    def submit(self, kernel: Kernel, args: tuple, install: Callable[[Any, Exception | None], None],
               cache: str | None) -> _Job:
        job = _Job(kernel, args, install, cache)
        with self._lock:
            self._pending += 1
            self._start_threads(_worker_count() if cache is not None else 0)
        (self._queue if cache is not None and _worker_count() else self._loads).put(job)
        return job

    def _start_threads(self, count: int) -> None:
        if self._loader is None or not self._loader.is_alive():
            self._loader = threading.Thread(target=self._load, name="micrograd-loader", daemon=True)
            self._loader.start()
        self._threads = [t for t in self._threads if t.is_alive()]
        for _ in range(count - len(self._threads)):  # (each starts its worker when a kernel is not cached)
            thread = threading.Thread(target=self._compile, name="micrograd-compiler", daemon=True)
            thread.start()
            self._threads.append(thread)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until every job submitted so far has finished; False if ``timeout`` ran out."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def stop(self, timeout: float = 60.0) -> None:
        """At exit: drop the jobs not started, and wait for Numba work in this process (see
        :class:`_NumbaWork`), not for kernels still compiling in worker processes."""
        with self._lock:
            for jobs in (self._queue, self._loads):
                while True:
                    try:
                        job = jobs.get_nowait()
                    except queue.Empty:
                        break
                    job.args = None
                    job.done.set()
                    self._pending -= 1
        NUMBA_WORK.close(timeout)

    def _compile(self):
        while True:
            job = self._queue.get()
            try:
                compile_in_worker(job.kernel, job.args, job.cache)
            except Exception:  # noqa: BLE001 - the loader compiles it here, and reports what fails
                pass
            self._loads.put(job)

    def _load(self):
        while True:
            job = self._loads.get()
            try:
                job.install(compile_kernel(job.kernel, job.args, job.cache), None)
            except Abandoned:
                pass
            except Exception as e:  # noqa: BLE001 - reported through install
                job.install(None, e)
            finally:
                job.args = None
                job.done.set()
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()


COMPILER = Compiler()
atexit.register(_stop_workers)  # (runs after COMPILER.stop: atexit calls in reverse order)
atexit.register(COMPILER.stop)
