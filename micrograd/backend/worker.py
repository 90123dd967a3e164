"""A compile worker: a separate Python process that compiles kernel modules with Numba into the
disk cache, from which the process running the program then loads them.

Compiling in the process that runs the program shares one interpreter lock with it: a training
loop holding the lock starves the compiler, and the compiler (which holds the lock through
most of Numba's work) stalls the loop. A worker process shares nothing but the cache folder.

The protocol is one JSON line per request on stdin, ``{"path", "name", "signature"}`` (the
signature pickled, base64), and one JSON line per answer on stdout, ``{"ok": true}`` or
``{"ok": false, "error": "TypeError: ..."}``. The worker exits when its stdin closes, so it
never outlives the process that started it.

The worker runs this file as a script, not as ``-m micrograd.backend.worker``: importing the
package would run micrograd's ``__init__`` and import the whole library (a third of a second
of every worker's start), where kernels need only Numba and the two helper modules they import
(``arrays.py``, ``vectormath.py``). So the script registers ``micrograd`` and
``micrograd.backend`` as bare packages over their folders, and imports just those.
"""
from __future__ import annotations

import base64
import importlib.util
import json
import os
import pickle
import subprocess
import sys
import threading
from typing import Any


class WorkerError(RuntimeError):
    """A worker could not compile a kernel, or stopped answering."""


class Worker:
    """One worker process, used by one compile thread at a time."""

    def __init__(self):
        self.process = subprocess.Popen([sys.executable, os.path.abspath(__file__)], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1)
        self.lock = threading.Lock()

    def compile(self, path: str, name: str, signature: tuple) -> None:
        """Compile the kernel in the module at ``path`` for ``signature``, into Numba's cache."""
        request = {"path": path, "name": name, "signature": base64.b64encode(pickle.dumps(signature)).decode()}
        with self.lock:
            try:
                self.process.stdin.write(json.dumps(request) + "\n")
                self.process.stdin.flush()
                answer = self.process.stdout.readline()
            except (OSError, ValueError) as e:
                raise WorkerError(f"the compile worker stopped ({e})") from None
        if not answer:
            raise WorkerError(f"the compile worker exited with code {self.process.poll()}")
        result = json.loads(answer)
        if not result["ok"]:
            raise WorkerError(result["error"])

    def alive(self) -> bool:
        return self.process.poll() is None

    def close(self) -> None:
        """Let the worker go: it exits once it has finished the kernel in hand (written to the
        cache, for the next run), without this process waiting for it (a worker's own exit,
        tearing Numba down, takes about half a second)."""
        try:
            self.process.stdin.close()  # (stdout stays open: a compile thread may be reading its answer)
        except Exception:  # noqa: BLE001 - at exit: never raise
            pass


def load_module(path: str, name: str):
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


def _bare_packages() -> None:
    """``micrograd`` and ``micrograd.backend`` as packages over their folders, without running
    their ``__init__`` (see the module's docstring), and this file's folder off the path."""
    import types

    backend = os.path.dirname(os.path.abspath(__file__))
    if sys.path and os.path.realpath(sys.path[0] or ".") == os.path.realpath(backend):
        del sys.path[0]  # (its modules must not shadow others)
    for name, folder in (("micrograd", os.path.dirname(backend)), ("micrograd.backend", backend)):
        package = types.ModuleType(name)
        package.__path__ = [folder]
        sys.modules[name] = package


def _serve() -> None:
    import numba  # noqa: F401  (unpickling the signature needs Numba's types)

    answers, sys.stdout = sys.stdout, sys.stderr  # nothing else may write on the protocol's stream
    for line in sys.stdin:
        request: dict[str, Any] = json.loads(line)
        try:
            signature = pickle.loads(base64.b64decode(request["signature"]))
            load_module(request["path"], request["name"]).kernel.compile(signature)
            answer = {"ok": True}
        except Exception as e:  # noqa: BLE001 - every failure is an answer; the caller decides
            answer = {"ok": False, "error": f"{type(e).__name__}: {e}"}
        answers.write(json.dumps(answer) + "\n")
        answers.flush()


if __name__ == "__main__":
    _bare_packages()
    _serve()
