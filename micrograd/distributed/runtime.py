"""The MPI side of ``micrograd.distributed``: finding mpi4py, communicators, the settings, the
watchdog that ends a job whose ranks wait for each other forever, and the debug-mode check that
every rank calls the same collective on the same shapes.

mpi4py is imported the first time a function here needs it, never by ``import micrograd``.
Without mpi4py a process is a job of one: ``size()`` is 1, ``rank()`` 0, and collectives are
the identity.

>>> from micrograd.distributed import runtime
>>> runtime.size() >= 1, 0 <= runtime.rank() < runtime.size()
(True, True)
"""
from __future__ import annotations

import os
import sys
import threading
import time
from contextlib import contextmanager
from typing import Any, Iterator, Sequence

__all__ = ["MPINotAvailableError", "CollectiveMismatchError", "config", "debug", "mpi", "require_mpi", "size",
           "rank", "is_main", "communicator", "comm_param"]

INSTALL_HINT = 'pip install -e ".[distributed]"'


class MPINotAvailableError(ImportError):
    """Distributed training was asked for, but mpi4py (or the MPI library under it) is missing."""


class CollectiveMismatchError(RuntimeError):
    """Ranks called different collectives, or the same one on arrays of different shapes or dtypes."""


def _env_timeout() -> float | None:
    text = os.environ.get("MICROGRAD_COLLECTIVE_TIMEOUT", "").strip().lower()
    if not text:
        return 300.0
    if text in ("0", "off", "none", "never"):
        return None
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"MICROGRAD_COLLECTIVE_TIMEOUT must be a number of seconds or 'off', got {text!r}") from None


class Config:
    """The switches of ``micrograd.distributed``; set them as attributes, on every rank alike.

    ``debug``: before each collective, the ranks compare what they are about to do (one small
    extra exchange) and raise :class:`CollectiveMismatchError` naming every rank's shapes when
    they differ (``MICROGRAD_DEBUG_COLLECTIVES=1`` turns it on). Without it, MPI is given the
    mismatch, and MPI does not promise to detect it.

    ``timeout``: seconds a rank may wait inside one collective before the watchdog ends the whole
    job with an error naming the collective (``MICROGRAD_COLLECTIVE_TIMEOUT``, default 300;
    ``None`` waits forever). Covers a rank that hangs, exits without an error, or stops calling
    collectives; a rank that crashes is usually noticed sooner by ``mpiexec`` itself.
    """

    def __init__(self):
        self.debug: bool = os.environ.get("MICROGRAD_DEBUG_COLLECTIVES", "") not in ("", "0")
        self._timeout_error: ValueError | None = None
        try:
            self.timeout: float | None = _env_timeout()
        except ValueError as e:  # (raised when a job of several processes starts, not by import micrograd)
            self.timeout, self._timeout_error = 300.0, e

    def __repr__(self):
        return f"Config(debug={self.debug}, timeout={self.timeout})"


config = Config()


@contextmanager
def debug(enabled: bool = True) -> Iterator[None]:
    """Check every collective inside a ``with`` block (see :class:`Config`)."""
    previous, config.debug = config.debug, enabled
    try:
        yield
    finally:
        config.debug = previous


# --- mpi4py, found lazily ------------------------------------------------------------------------

_MPI: Any = None
_MPI_MISSING: str | None = None  # why mpi4py could not be imported, once it was tried
_started = False


def mpi() -> Any:
    """mpi4py's ``MPI`` module (importing it initializes MPI), or None without mpi4py."""
    global _MPI, _MPI_MISSING
    if _MPI is None and _MPI_MISSING is None:
        try:
            from mpi4py import MPI
        except (ImportError, RuntimeError, OSError) as e:  # mpi4py absent, or without an MPI library it can load
            _MPI_MISSING = f"{type(e).__name__}: {e}"
        else:
            _MPI = MPI
    if _MPI is not None and not _started:
        _start(_MPI)
    return _MPI


def require_mpi(what: str = "distributed training") -> Any:
    """``MPI``, or :class:`MPINotAvailableError` saying which extra to install."""
    MPI = mpi()
    if MPI is None:
        raise MPINotAvailableError(
            f"{what} needs mpi4py and an MPI library, which are not installed ({_MPI_MISSING}). Install them with "
            f"{INSTALL_HINT} (mpi4py and the mpich wheel), or pip install mpi4py against your system's MPI; then "
            "launch with mpiexec -n N python ...")
    return MPI


_COMMS: dict[int, Any] = {}  # a communicator's MPI handle -> the latest mpi4py object for it


def comm_param(comm: Any) -> dict:
    """The primitive parameter naming ``comm``: nothing for COMM_WORLD (the default), else its
    MPI handle, an int (parameters must be hashable: they key jit's common subexpressions and
    caches). The handle is valid for the communicator's life, as the program that holds it."""
    if comm is None:
        return {}
    MPI = require_mpi("a communicator")
    if comm == MPI.COMM_WORLD:
        return {}
    handle = comm.py2f()
    _COMMS[handle] = comm
    return {"comm": handle}


def communicator(handle: int | None = None) -> Any:
    """The mpi4py communicator of a primitive's ``comm`` parameter (None: COMM_WORLD), or None
    without mpi4py."""
    MPI = mpi()
    if MPI is None:
        return None
    return MPI.COMM_WORLD if handle is None else _COMMS[handle]


def _as_comm(comm: Any) -> Any:
    return communicator() if comm is None else comm


def size(comm: Any = None) -> int:
    """The number of processes in ``comm`` (default: all of them, ``MPI.COMM_WORLD``); 1 without mpi4py.

    >>> size()
    1
    """
    comm = _as_comm(comm)
    return 1 if comm is None else comm.Get_size()


def rank(comm: Any = None) -> int:
    """This process's number in ``comm``, from 0 to ``size(comm) - 1``; 0 without mpi4py."""
    comm = _as_comm(comm)
    return 0 if comm is None else comm.Get_rank()


def is_main(comm: Any = None) -> bool:
    """Whether this process is rank 0: the one that prints, shows progress and writes checkpoints."""
    return rank(comm) == 0


# --- a job that cannot hang forever ----------------------------------------------------------------

def _start(MPI: Any) -> None:
    """On the first use of MPI in a job of several processes: an uncaught exception on any rank
    aborts the whole job (as ``python -m mpi4py script.py`` does), and the watchdog starts."""
    global _started
    _started = True
    if MPI.COMM_WORLD.Get_size() == 1:
        return
    if config._timeout_error is not None:
        raise config._timeout_error
    # the ranks on this machine share its cores: as many compile workers between them as one
    # process would start (MPICH and Open MPI say how many ranks run here; no collective needed)
    local = os.environ.get("MPI_LOCALNRANKS") or os.environ.get("OMPI_COMM_WORLD_LOCAL_SIZE") or ""
    if local.isdigit():
        from ..backend.compile import share_cores
        share_cores(int(local))
    previous = sys.excepthook

    def abort_on_uncaught(kind, value, tb):
        previous(kind, value, tb)
        _abort(f"rank {MPI.COMM_WORLD.Get_rank()} stopped with an uncaught {kind.__name__}; ending the job "
               "(MPI_Abort) so that the other ranks do not wait for it forever")

    sys.excepthook = abort_on_uncaught
    _WATCHDOG.start()


def _abort(message: str) -> None:
    sys.stderr.write(f"micrograd.distributed: {message}\n")
    sys.stderr.flush()
    sys.stdout.flush()
    time.sleep(0.5)  # (mpiexec forwards the output while it runs: give it the traceback before the end)
    try:
        _MPI.COMM_WORLD.Abort(1)
    finally:
        os._exit(1)  # (if Abort returned: end this rank, which mpiexec takes as the job's failure)


class _Watchdog(threading.Thread):
    """Ends the job when a rank has waited in one collective longer than ``config.timeout``.
    MPI itself gives no such guarantee: after a process fails, the standard leaves the behaviour
    of communication with it undefined, and a rank blocked in a collective may wait forever."""

    def __init__(self):
        super().__init__(name="micrograd-collective-watchdog", daemon=True)
        self.current: tuple[str, float] | None = None  # (what, since when), written by the main thread

    def run(self):
        while True:
            timeout = config.timeout
            time.sleep(1.0 if timeout is None else min(1.0, max(timeout / 10, 0.01)))
            current = self.current
            if current is None or timeout is None:
                continue
            what, since = current
            waited = time.monotonic() - since
            if waited > timeout and self.current is current:
                _abort(f"rank {_MPI.COMM_WORLD.Get_rank()} waited {waited:.0f} s in {what}, longer than the "
                       f"timeout of {timeout:g} s (micrograd.distributed.config.timeout, or "
                       "MICROGRAD_COLLECTIVE_TIMEOUT): another rank has died, hangs, or does not call the same "
                       "collectives. Ending the job (MPI_Abort).")


_WATCHDOG = _Watchdog()


@contextmanager
def watched(what: str) -> Iterator[None]:
    """Run a collective under the watchdog's eye."""
    _WATCHDOG.current = (what, time.monotonic())
    try:
        yield
    finally:
        _WATCHDOG.current = None


# --- debug mode --------------------------------------------------------------------------------------

def _describe(signature: tuple) -> str:
    name, params, operands = signature
    arrays = ", ".join(f"{dtype}{list(shape)}" for dtype, shape in operands)
    return f"{name}{params} of ({arrays})"


def check_agreement(comm: Any, name: str, params: str, arrays: Sequence[Any], where: str | None) -> None:
    """Raise :class:`CollectiveMismatchError` on every rank unless all ranks are about to run
    the same collective on operands of the same shapes and dtypes. One small allgather."""
    import numpy as np
    mine = (name, params, tuple((np.dtype(a.dtype).name, tuple(a.shape)) for a in arrays))
    with watched(f"the debug check before {name}"):
        everyone = comm.allgather(mine)
    if all(s == mine for s in everyone):
        return
    ranks = "\n".join(f"  rank {r}: {_describe(s)}" for r, s in enumerate(everyone))
    raise CollectiveMismatchError(
        f"{name}: the ranks disagree on the collective they are calling:\n{ranks}\nEvery rank must call the same "
        "collectives, in the same order, on arrays of the same shapes and dtypes."
        + (f"\n  at {where}" if where else ""))
