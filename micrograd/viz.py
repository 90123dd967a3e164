"""Showing what happens: a progress bar for long loops (tqdm when it is installed, else a plain
text one), a loss-curve plot (when matplotlib is installed), and pictures of computation
graphs (:func:`draw`: Graphviz DOT text for a traced program or an eager tensor's tape,
rendered when Graphviz is installed).

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
import shutil
import subprocess
import sys
import time
import warnings
from typing import Any, Sequence, TextIO

import numpy as np

from .core.ir import Const, Program, format_param, _names
from .core.dtypes import short_name
from .tensor import Tensor

__all__ = ["progress", "TextProgress", "pyplot", "save_loss_curve", "draw"]


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


def pyplot() -> Any:
    """matplotlib's ``pyplot`` set up to write files (no window, works without a display), or
    None when matplotlib is not installed.

    >>> plt = pyplot()
    >>> plt is None or hasattr(plt, "subplots")
    True
    """
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    return plt


def save_loss_curve(losses: Sequence[float], path: str, title: str = "training loss", xlabel: str = "step",
                    log_scale: bool = False) -> bool:
    """Plot ``losses`` to the PNG file ``path`` with matplotlib; returns False (and writes
    nothing) when matplotlib is not installed.

    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "loss.png")
    >>> save_loss_curve([1.0, 0.5, 0.25], path) == os.path.exists(path)
    True
    """
    plt = pyplot()
    if plt is None:
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


# --- graph pictures ---------------------------------------------------------------------------------

# Node styles: values that come in from outside (program inputs, leaf tensors that require grad,
# as the parameters of a model) are filled blue; constants (and tensors that do not require
# grad) are grey and dashed; operations are ellipses; outputs have a thick border.
_INPUT = 'style=filled, fillcolor="#cfe2f3"'
_CONST = 'style="filled,dashed", fillcolor="#eeeeee"'
_OP = 'style=filled, fillcolor="#fff2cc"'
_OUTPUT = "penwidth=2.5"  # records have no peripheries
RENDER_FORMATS = ("svg", "png", "pdf")


def _quote(text: str) -> str:
    """``text`` inside a double-quoted DOT label."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _escape(text: str) -> str:
    """``text`` as one field of a record label, where braces, bars and angle brackets are syntax."""
    text = text.replace("\\", "\\\\")
    for ch in '{}|<>"':
        text = text.replace(ch, "\\" + ch)
    return text.replace("\n", "\\n")


def _record(*fields: str) -> str:
    return "{ " + " | ".join(_escape(f) for f in fields) + " }"


def _op_label(prim, params: dict) -> str:
    if not params:
        return prim.name
    return prim.name + "[" + " ".join(f"{k}={format_param(v)}" for k, v in params.items()) + "]"


def _aval_text(x: Any) -> str:
    x = np.asarray(x) if not hasattr(x, "shape") or not hasattr(x, "dtype") else x
    return f"{short_name(x.dtype)}[{','.join(map(str, x.shape))}]"


def _scalar_text(value: Any) -> str:
    v = np.asarray(value)
    return f"{v.item():.4f}" if np.issubdtype(v.dtype, np.floating) else str(v.item())


class _Dot:
    """Collects nodes and edges, then prints a digraph."""

    def __init__(self, name: str):
        self.name, self.lines, self.count = name, [], 0

    def node(self, label: str, style: str = "", shape: str = "record") -> str:
        node_id = f"n{self.count}"
        self.count += 1
        attrs = f'shape={shape}, label="{label}"' + (f", {style}" if style else "")
        self.lines.append(f"  {node_id} [{attrs}];")
        return node_id

    def edge(self, a: str, b: str) -> None:
        self.lines.append(f"  {a} -> {b};")

    def text(self) -> str:
        head = [f"digraph {self.name} {{", "  rankdir=LR;", '  node [fontname="Helvetica", fontsize=11];']
        return "\n".join(head + self.lines + ["}"]) + "\n"


def _program_dot(program: Program) -> str:
    """One record per variable (its name as printed by ``print(program)``, and its dtype and
    shape), one ellipse per equation, constants as dashed records."""
    dot, names, fresh = _Dot("program"), {}, _names()
    nodes: dict[int, str] = {}
    array_consts: list[Const] = []

    def const_node(c: Const) -> str:
        if c.aval.ndim == 0 and isinstance(c.value, (np.ndarray, np.generic, int, float, bool)):
            # a scalar constant: a node per use (one shared 2.0 would tie unrelated equations together)
            return dot.node(_record(f"{np.asarray(c.value).item()!r}:{short_name(c.aval.dtype)}"), _CONST)
        if id(c) not in nodes:
            nodes[id(c)] = dot.node(_record(f"k{len(array_consts)}", repr(c.aval)), _CONST)
            array_consts.append(c)
        return nodes[id(c)]

    outputs = {id(v) for v in program.outvars}

    def var_node(v, style: str = "") -> str:
        names[id(v)] = next(fresh)
        if id(v) in outputs:
            style = f"{style}, {_OUTPUT}" if style else _OUTPUT
        nodes[id(v)] = dot.node(_record(names[id(v)], repr(v.aval)), style)
        return nodes[id(v)]

    for v in program.invars:
        var_node(v, _INPUT)
    for eqn in program.eqns:
        op = dot.node(_quote(_op_label(eqn.prim, eqn.params)), _OP, shape="ellipse")
        for a in eqn.inputs:
            dot.edge(const_node(a) if isinstance(a, Const) else nodes[id(a)], op)
        for v in eqn.outs:
            dot.edge(op, var_node(v))
    for v in program.outvars:  # an output that is an input or a constant
        if isinstance(v, Const):
            dot.lines.append(f"  {const_node(v)} [{_OUTPUT}];")
        elif id(v) in outputs and id(v) in nodes and not any(v in eqn.outs for eqn in program.eqns):
            dot.lines.append(f"  {nodes[id(v)]} [{_OUTPUT}];")
    return dot.text()


def _tensor_label(t: Any) -> str:
    """``dtype[shape]``, and for a one-element tensor its value and gradient (when it has one),
    as the original micrograd's ``draw_dot`` shows them."""
    if not isinstance(t, Tensor):  # a constant operand recorded on the tape: an array or a number
        return _record(_aval_text(t), f"data {_scalar_text(t)}") if np.size(t) == 1 else _record(_aval_text(t))
    fields = [_aval_text(t.data)]
    if t.data.size == 1:
        fields.append(f"data {_scalar_text(t.data)}")
        if t.grad is not None:
            fields.append(f"grad {_scalar_text(t.grad.data)}")
        elif t.requires_grad and t._node is None:
            fields.append("grad None")
    elif t.grad is not None:
        fields.append(f"grad {_aval_text(t.grad.data)}")
    return _record(*fields)


def _tape_dot(root: Tensor) -> str:
    """One record per tensor (and per constant operand), one ellipse per recorded primitive."""
    dot, nodes = _Dot("tape"), {}
    order, seen, stack = [], set(), [root]
    while stack:  # every tensor the root was computed from, through the tape
        t = stack.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        order.append(t)
        if t._node is not None:
            stack.extend(a for a in t._node.args if isinstance(a, Tensor))
    for t in order:
        if t._node is not None:
            style = ""
        elif t.requires_grad:
            style = _INPUT
        else:
            style = _CONST
        if t is root:
            style = f"{style}, {_OUTPUT}" if style else _OUTPUT
        nodes[id(t)] = dot.node(_tensor_label(t), style)
    for t in order:
        node = t._node
        if node is None:
            continue
        label = _op_label(node.prim, node.params)
        if node.freed:  # backward() without retain_graph=True dropped the operands
            label += "\n(inputs freed by backward)"
        op = dot.node(_quote(label), _OP, shape="ellipse")
        for a in node.args:
            dot.edge(nodes[id(a)] if isinstance(a, Tensor) else dot.node(_tensor_label(a), _CONST), op)
        dot.edge(op, nodes[id(t)])
    return dot.text()


def draw(graph: Program | Tensor, path: str | os.PathLike | None = None, format: str | None = None) -> str:  # noqa: A002
    """Graphviz DOT text picturing ``graph``: a :class:`~micrograd.Program` (from
    ``mg.make_ir(f)(*args)``), or an eager tensor's tape (what ``backward()`` would walk).

    Values are records (dtype and shape; for a one-element tensor also its data and grad, as
    the original micrograd's ``draw_dot``), operations are ellipses labelled with the
    primitive and its parameters. Inputs and leaf tensors that require grad are blue,
    constants grey and dashed, outputs thick-bordered. ``backward()`` frees the tape, so
    draw a tensor before it, or after ``backward(retain_graph=True)`` to see the leaves' grads.

    With ``path``, the picture is also saved: ``format`` is ``"svg"``, ``"png"`` or ``"pdf"``
    (by default the suffix of ``path``, else svg; a path without a suffix gets one). Rendering
    needs Graphviz's ``dot`` program; without it the DOT text is written next to ``path``
    with the suffix ``.dot``, and a warning says how to render it and install Graphviz.

    >>> import micrograd as mg
    >>> x = mg.tensor(2.0, requires_grad=True)
    >>> text = draw(x * x + 1)
    >>> print("\\n".join(line for line in text.splitlines() if "label" in line))
      n0 [shape=record, label="{ f64[] | data 5.0000 }", penwidth=2.5];
      n1 [shape=record, label="{ f64[] | data 4.0000 }"];
      n2 [shape=record, label="{ f64[] | data 2.0000 | grad None }", style=filled, fillcolor="#cfe2f3"];
      n3 [shape=ellipse, label="add", style=filled, fillcolor="#fff2cc"];
      n4 [shape=record, label="{ f64[] | data 1.0000 }", style="filled,dashed", fillcolor="#eeeeee"];
      n5 [shape=ellipse, label="mul", style=filled, fillcolor="#fff2cc"];
    >>> text.count("->")  # 1 and x * x into add, add to the sum, x twice into mul, mul to x * x
    6
    """
    if isinstance(graph, Program):
        text = _program_dot(graph)
    elif isinstance(graph, Tensor):
        text = _tape_dot(graph)
    else:
        raise TypeError(f"draw() takes a Program (mg.make_ir(f)(*args)) or an eager tensor, got {type(graph).__name__}; "
                        "for a function, draw(mg.make_ir(f)(*args))")
    if path is not None:
        _save(text, os.fspath(path), format)
    return text


def _save(text: str, path: str, format: str | None) -> None:  # noqa: A002
    stem, suffix = os.path.splitext(path)
    if format is None:
        format = suffix[1:].lower() if suffix[1:].lower() in RENDER_FORMATS + ("dot",) else "svg"
    if format not in RENDER_FORMATS + ("dot",):
        raise ValueError(f"draw: format must be one of {RENDER_FORMATS + ('dot',)}, got {format!r}")
    if not suffix:
        path = f"{path}.{format}"
    dot_path = path if format == "dot" else f"{stem}.dot"
    program = None if format == "dot" else shutil.which("dot")
    if program is None:
        with open(dot_path, "w", encoding="utf-8") as f:
            f.write(text)
        if format != "dot":
            warnings.warn(
                f"Graphviz's `dot` program was not found, so {path} was not rendered; the graph is in {dot_path}. "
                f"Render it with `dot -T{format} {dot_path} -o {path}` once Graphviz is installed: "
                "`apt-get install graphviz` (Debian, Ubuntu), `brew install graphviz` (macOS), or your "
                "system's package manager (https://graphviz.org/download/).", RuntimeWarning, stacklevel=3)
        return
    done = subprocess.run([program, f"-T{format}", "-o", path], input=text, text=True, capture_output=True)
    if done.returncode != 0:
        raise RuntimeError(f"draw: `dot -T{format} -o {path}` failed: {done.stderr.strip()}")
