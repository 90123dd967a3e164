"""Showing progress: a progress bar for long loops (tqdm when it is installed, else a plain text
one) and a loss-curve plot (when matplotlib is installed).

>>> import io
>>> out = io.StringIO()
>>> with progress(total=3, desc="epoch 1", file=out, force_text=True) as bar:
...     for _ in range(3):
...         bar.update(1)
...         bar.set_postfix(loss=0.5)
>>> out.getvalue().splitlines()[-1].startswith("epoch 1: 100%")
True
"""
from __future__ import annotations

import os
import sys
import time
from typing import Any, Sequence, TextIO

__all__ = ["progress", "TextProgress", "save_loss_curve"]


class TextProgress:
    """A minimal stand-in for ``tqdm``: ``update(n)``, ``set_postfix(**values)``, ``close()``.
    It redraws one line (``\\r``) on a terminal and prints a line per tenth otherwise, so logs
    stay short."""

    def __init__(self, total: int | None = None, desc: str = "", unit: str = "it", file: TextIO | None = None):
        self.total, self.desc, self.unit = total, desc, unit
        self.file = file if file is not None else sys.stderr
        self.n, self.postfix, self.start = 0, "", time.perf_counter()
        self._tty = hasattr(self.file, "isatty") and self.file.isatty()
        self._last_tenth = -1

    def _line(self) -> str:
        elapsed = max(time.perf_counter() - self.start, 1e-9)
        rate = f"{self.n / elapsed:,.0f} {self.unit}/s"
        if self.total:
            width = 20
            done = int(width * self.n / self.total)
            bar = f"{100 * self.n / self.total:3.0f}%|{'#' * done}{' ' * (width - done)}| {self.n}/{self.total}"
        else:
            bar = f"{self.n}"
        postfix = f", {self.postfix}" if self.postfix else ""
        return f"{self.desc}: {bar} [{elapsed:.1f}s, {rate}{postfix}]"

    def _draw(self, final: bool = False) -> None:
        if self._tty:
            self.file.write("\r" + self._line() + ("\n" if final else ""))
            self.file.flush()
            return
        tenth = int(10 * self.n / self.total) if self.total else -1
        if final or tenth > self._last_tenth:
            self._last_tenth = tenth
            self.file.write(self._line() + "\n")

    def update(self, n: int = 1) -> None:
        self.n += n
        self._draw(final=False)

    def set_postfix(self, **values: Any) -> None:
        self.postfix = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in values.items())

    def close(self) -> None:
        self._draw(final=True)

    def __enter__(self) -> "TextProgress":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def progress(total: int | None = None, desc: str = "", unit: str = "it", file: TextIO | None = None,
             force_text: bool = False, **kwargs: Any):
    """A progress bar: ``tqdm(total=..., desc=..., unit=...)`` if tqdm is installed (and
    ``force_text`` is false), else :class:`TextProgress`. Both support ``update``,
    ``set_postfix`` and use as a context manager. ``MICROGRAD_PROGRESS=text`` forces the
    plain one, ``=off`` hides the bar."""
    mode = os.environ.get("MICROGRAD_PROGRESS", "")
    if mode == "off" or kwargs.get("disable"):
        file = open(os.devnull, "w")  # noqa: SIM115 - closed with the process; tqdm needs a real file
        force_text = True
    if not force_text and mode != "text":
        try:
            from tqdm import tqdm
            return tqdm(total=total, desc=desc, unit=unit, file=file, **kwargs)
        except ImportError:
            pass
    return TextProgress(total=total, desc=desc, unit=unit, file=file)


def save_loss_curve(losses: Sequence[float], path: str, title: str = "training loss", xlabel: str = "step",
                    log_scale: bool = False) -> bool:
    """Plot ``losses`` to the PNG file ``path`` with matplotlib; returns False (and writes
    nothing) when matplotlib is not installed.

    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "loss.png")
    >>> save_loss_curve([1.0, 0.5, 0.25], path) == os.path.exists(path)
    True
    """
    try:
        import matplotlib
        matplotlib.use("Agg")  # files only: no window, works without a display
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(range(len(losses)), losses)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("loss")
    ax.set_title(title)
    if log_scale:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True
