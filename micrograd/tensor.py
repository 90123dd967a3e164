"""Eager tensors: PyTorch-style values that compute at once and record a tape for ``backward``.

A :class:`Tensor` wraps a NumPy array. Every operation on tensors is a primitive application
(the same table as everywhere else): it runs the primitive's NumPy ``impl`` immediately and,
when an input requires a gradient and grad mode is on, records a node on the tape.
``backward()`` walks the tape in reverse topological order applying the primitives' ``vjp``
rules, so eager gradients and functional ones come from the same formulas.

>>> import micrograd as mg
>>> x = mg.tensor(3.0, requires_grad=True)
>>> y = x * x + 2 * x
>>> y.backward()
>>> x.grad
tensor(8.)
"""
from __future__ import annotations

import functools
import sys
import threading
from typing import Any, Callable, Sequence

import numpy as np

from .config import check_finite, config
from .core.dtypes import is_float
from .core.errors import user_frame_location
from .core.ir import Aval, aval_of
from .core.trace import Tracer

__all__ = ["Tensor", "tensor", "no_grad", "enable_grad", "is_grad_enabled", "device", "Device"]

class _State(threading.local):
    enabled = True  # grad mode, per thread (a class default: reading it is as cheap as any attribute)


_state = _State()


def is_grad_enabled() -> bool:
    """Whether operations on tensors are recorded for ``backward`` (see :class:`no_grad`)."""
    return _state.enabled


class _GradMode:
    """Context manager and decorator setting grad mode."""

    def __init__(self, enabled: bool):
        self.enabled = enabled

    def __enter__(self):
        self._previous = is_grad_enabled()
        _state.enabled = self.enabled
        return self

    def __exit__(self, *exc):
        _state.enabled = self._previous
        return False

    def __call__(self, f: Callable) -> Callable:
        @functools.wraps(f)
        def wrapped(*args, **kwargs):
            with _GradMode(self.enabled):
                return f(*args, **kwargs)
        return wrapped


def no_grad() -> _GradMode:
    """Operations inside do not record a tape (evaluation, in-place parameter updates).

    >>> import micrograd as mg
    >>> w = mg.tensor([1.0], requires_grad=True)
    >>> with mg.no_grad():
    ...     y = w * 2
    >>> y.requires_grad
    False
    """
    return _GradMode(False)


def enable_grad() -> _GradMode:
    """Record the tape again, inside a ``no_grad`` block."""
    return _GradMode(True)


class Device:
    """The device tensors live on: micrograd computes on the CPU."""

    def __init__(self, type: str = "cpu"):  # noqa: A002 - PyTorch's name
        if type != "cpu":
            raise ValueError(f"micrograd runs on the CPU; there is no device {type!r}")
        self.type = type

    def __repr__(self):
        return f"device(type='{self.type}')"

    def __eq__(self, other):
        return isinstance(other, Device) or other == "cpu"

    def __hash__(self):
        return hash("cpu")


device = Device()


class _Node:
    """One recorded primitive application: what ``backward`` needs to apply its vjp rules.
    ``inputs`` are the operands that require grad, with their positions (the ones ``backward``
    sends cotangents to); ``versions`` pairs every tensor operand with its version when it was
    used, to detect in-place changes before the vjp rules read it."""
    __slots__ = ("prim", "args", "params", "inputs", "versions", "freed")

    def __init__(self, prim, args: tuple, params: dict, inputs: list, versions: list):
        self.prim, self.args, self.params = prim, args, params
        self.inputs, self.versions, self.freed = inputs, versions, False


class _EagerTrace:
    """The trace of eager tensors: below every transform's trace, and always active."""
    level = 0
    name = "eager tensors"
    active = True

    @staticmethod
    def process(prim, args: tuple, params: dict) -> "Tensor":
        # The hot path of eager code, so written out: one pass over the operands collects their
        # arrays and what a node records (inline: a call per operation costs as much as the loop),
        # and no dtype helpers.
        values, inputs, versions = [], [], []
        i = 0
        for a in args:
            if type(a) is Tensor:
                values.append(a.data)
                versions.append((a, a._version))
                if a.requires_grad:
                    inputs.append((i, a))
            else:
                values.append(a)
            i += 1
        try:
            out = prim.impl(*values, **params)
        except (ValueError, IndexError, TypeError):
            prim.shape(*map(aval_of, values), **params)  # micrograd's clearer error, if it has one
            raise
        if config.debug_nans:
            check_finite(prim.name, values, out, user_frame_location())
        record = inputs and prim.vjp is not None and _state.enabled
        if prim.multiple_results:
            return _results(prim, args, params, out, _Node(prim, args, params, inputs, versions) if record else None)
        if type(out) is not np.ndarray:
            out = np.asarray(out)
        result = _new_tensor(Tensor)
        result.data, result.grad, result._version = out, None, 0
        if record and out.dtype.kind == "f":  # (kind "f" is is_float(dtype) without np.issubdtype's cost)
            result.requires_grad, result._node = True, _Node(prim, args, params, inputs, versions)
        else:
            result.requires_grad, result._node = False, None
        return result


EAGER = _EagerTrace()
_new_tensor = object.__new__


class _ResultOf:
    """The tape's link from one result of a primitive with several results to the hidden tensor
    standing for the whole application (whose node holds the primitive): ``backward`` gathers
    the results' cotangents there, then applies the primitive's rule once."""
    name = "result"
    vjp = ()
    multiple_results = False


_RESULT_OF = _ResultOf()


def _results(prim, args: Sequence[Any], params: dict, outs: Sequence[Any], node: _Node | None) -> list["Tensor"]:
    results = [_wrap(np.asarray(o)) for o in outs]
    if node is not None:
        application = _new_tensor(Tensor)
        application.data, application.grad, application._version = tuple(r.data for r in results), None, 0
        application.requires_grad, application._node = True, node
        for i, r in enumerate(results):
            if r.data.dtype.kind == "f":
                r.requires_grad = True
                r._node = _Node(_RESULT_OF, (application,), {"index": i, "count": len(results)}, [(0, application)],
                                [(application, 0)])
    return results


class Tensor(Tracer):
    """An array that records the operations applied to it for ``backward``.

    >>> import micrograd as mg
    >>> w = mg.tensor([1.0, 2.0], requires_grad=True)
    >>> loss = (w ** 2).sum()
    >>> loss.backward()
    >>> w.grad
    tensor([2., 4.])
    """
    __slots__ = ("data", "grad", "requires_grad", "_node", "_version")
    _trace = EAGER

    def __init__(self, data: Any, requires_grad: bool = False, dtype=None):
        array = np.array(data.data if isinstance(data, Tensor) else data, dtype=dtype)
        if requires_grad and not is_float(array.dtype):
            if dtype is not None:
                raise TypeError(f"only float tensors can require gradients, but dtype={np.dtype(dtype)} was "
                                "asked for; use a float dtype (or leave dtype out)")
            array = array.astype(np.float64)  # integers written in the tutorial's data, e.g. [[1], [2]]
        self.data, self.grad, self.requires_grad = array, None, bool(requires_grad)
        self._node, self._version = None, 0

    # --- what a Tracer is, for a concrete value ---------------------------------------------------
    aval = property(lambda self: Aval(self.data.shape, self.data.dtype))
    shape = property(lambda self: self.data.shape)
    dtype = property(lambda self: self.data.dtype)
    ndim = property(lambda self: self.data.ndim)
    is_leaf = property(lambda self: self._node is None)
    device = property(lambda self: device)

    def __getattr__(self, name: str) -> Any:
        """Array methods micrograd does not define (``round``, ``any``, ``argsort``, ...) act on
        the data, as on an array, without a gradient."""
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.data, name)

    def __bool__(self):
        return bool(self.data)

    def __float__(self):
        return float(self.item())  # a one-element tensor of any shape, as in PyTorch (NumPy 2 wants 0-d)

    def __int__(self):
        return int(self.item())

    def __format__(self, spec: str) -> str:
        """As PyTorch: a 0-d tensor formats as its number (``f"{loss:.4f}"``, and ``f"{loss}"``
        prints the value alone); other tensors only without a format spec.

        >>> import micrograd as mg
        >>> f"{mg.tensor(2 / 3):.3f}"
        '0.667'
        """
        if self.data.ndim == 0:
            return format(self.data.item(), spec)
        if spec:
            raise TypeError(f"format spec {spec!r} on a tensor of shape {self.data.shape}: only 0-d tensors take "
                            "one; format t.item() or t.tolist() instead")
        return str(self)

    def __index__(self):
        return self.data.__index__()

    def __array__(self, dtype=None, copy=None):
        return self.data if dtype is None else self.data.astype(dtype)

    def __len__(self):
        return len(self.data)

    def __hash__(self):
        return id(self)

    def __repr__(self):
        body = np.array2string(self.data, separator=", ", prefix="tensor(")
        extra = ""
        if self._node is not None:
            extra = f", grad_fn=<{self._node.prim.name}>"
        elif self.requires_grad:
            extra = ", requires_grad=True"
        if self.data.dtype not in (np.float64, np.int64, np.bool_):
            extra = f", dtype={self.data.dtype.name}" + extra
        return f"tensor({body}{extra})"

    # --- PyTorch's conveniences -------------------------------------------------------------------
    def size(self, dim: int | None = None):
        """The shape, or its length along ``dim`` (PyTorch's ``size``)."""
        return self.data.shape if dim is None else self.data.shape[dim]

    def numel(self) -> int:
        return self.data.size

    def item(self) -> Any:
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item() needs a tensor with one element, this one has shape {self.data.shape}")
        return self.data.item()

    def tolist(self) -> Any:
        return self.data.tolist()

    def numpy(self) -> np.ndarray:
        """The underlying array (shared, not copied)."""
        return self.data

    def detach(self) -> "Tensor":
        """The same values, cut from the tape."""
        out = Tensor.__new__(Tensor)
        out.data, out.grad, out.requires_grad, out._node, out._version = self.data, None, False, None, 0
        return out

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        if requires_grad and not is_float(self.data.dtype):
            raise TypeError(f"only float tensors can require gradients, this one is {self.data.dtype}")
        self.requires_grad = requires_grad
        return self

    def to(self, *args, **kwargs) -> "Tensor":
        """Tensors are on the CPU already: ``to(mg.device)`` returns the tensor itself; a dtype
        argument converts."""
        dtype = kwargs.get("dtype") or next((a for a in args if not isinstance(a, (Device, str))), None)
        return self if dtype is None else self.astype(dtype)

    cpu = to

    def zero_(self) -> "Tensor":
        self.data[...] = 0
        self._version += 1
        return self

    def relu(self) -> "Tensor":
        from . import numpy as mnp
        return mnp.relu(self)

    def tanh(self) -> "Tensor":
        from . import numpy as mnp
        return mnp.tanh(self)

    def exp(self) -> "Tensor":
        from . import numpy as mnp
        return mnp.exp(self)

    def log(self) -> "Tensor":
        from . import numpy as mnp
        return mnp.log(self)

    def sigmoid(self) -> "Tensor":
        from . import numpy as mnp
        return mnp.sigmoid(self)

    # --- in place, for tensors the tape does not need -------------------------------------------
    def _in_place(self, op: Callable, other: Any) -> "Tensor":
        if self.requires_grad and is_grad_enabled():
            raise RuntimeError(
                "an in-place operation on a tensor that requires grad: the tape would lose the value it "
                "records. Use `x = x + y`, or update parameters inside `with mg.no_grad():`")
        result = op(self, other)
        self.data[...] = result.data if type(result) is Tensor else result
        self._version += 1
        return self

    def __iadd__(self, other):
        return self._in_place(lambda a, b: a + b, other)

    def __isub__(self, other):
        return self._in_place(lambda a, b: a - b, other)

    def __imul__(self, other):
        return self._in_place(lambda a, b: a * b, other)

    def __itruediv__(self, other):
        return self._in_place(lambda a, b: a / b, other)

    def __setitem__(self, key, value):
        if self.requires_grad and is_grad_enabled():
            raise RuntimeError("item assignment on a tensor that requires grad; do it inside `with mg.no_grad():`")
        self.data[key.data if type(key) is Tensor else key] = value.data if type(value) is Tensor else value
        self._version += 1

    # --- backward -------------------------------------------------------------------------------
    def backward(self, gradient: Any = None, retain_graph: bool | None = None, create_graph: bool = False) -> None:
        """Accumulate into ``.grad`` of every leaf tensor that requires grad the gradient of this
        tensor (weighted by ``gradient`` when it has more than one element).

        ``retain_graph`` keeps the tape for another backward (by default only with
        ``create_graph``, which records the backward pass itself so that the gradients can be
        differentiated again), as in PyTorch.
        """
        retain_graph = create_graph if retain_graph is None else retain_graph
        if not self.requires_grad:
            raise RuntimeError("backward() on a tensor that does not require grad: no input of its computation "
                               "had requires_grad=True (or it was computed under mg.no_grad())")
        if gradient is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward() without gradient= needs a tensor with one element, this one has shape "
                    f"{self.data.shape}; pass gradient= of that shape (e.g. mg.tensor(np.ones({self.data.shape})))")
            gradient = np.ones_like(self.data)
        gradient = gradient.data if type(gradient) is Tensor and not create_graph else gradient
        if np.shape(gradient) != self.data.shape:
            raise ValueError(f"backward(): gradient has shape {np.shape(gradient)} but the tensor has shape "
                             f"{self.data.shape}")
        with _GradMode(create_graph):
            _backward(self, gradient, retain_graph, create_graph)


def _topological_order(root: Tensor) -> list[Tensor]:
    """Every tensor ``root`` depends on (through tensors that require grad), each after all of
    its inputs: a depth-first post-order (a tensor is emitted once all its inputs are)."""
    node = root._node
    if node is None:
        return [root]
    order, seen, stack = [], {id(root)}, [(root, iter(node.inputs))]
    while stack:
        t, inputs = stack[-1]
        for _, a in inputs:
            if id(a) not in seen:
                seen.add(id(a))
                if a._node is None:  # a leaf: nothing to expand
                    order.append(a)
                    continue
                stack.append((a, iter(a._node.inputs)))
                break
        else:  # every input done
            stack.pop()
            order.append(t)
    return order


def _check_versions(node: _Node) -> None:
    for a, version in node.versions:
        if a._version != version:
            raise RuntimeError(
                f"a tensor of shape {a.data.shape} that {node.prim.name} needs for its gradient was modified "
                f"in place after it was used (version {version}, now {a._version}). Compute with a copy "
                "(x = x + y instead of x += y), or call backward() before modifying it.")


def _backward(root: Tensor, gradient, retain_graph: bool, create_graph: bool) -> None:
    order = _topological_order(root)
    if create_graph or config.debug_nans or not _replay(order, gradient, retain_graph):
        _interpret(order, gradient, retain_graph, create_graph)


def _interpret(order: list[Tensor], gradient, retain_graph: bool, create_graph: bool) -> None:
    """The backward pass: the vjp rules of each node, from the root (last in ``order``) back."""
    root = order[-1]
    cts: dict[int, Any] = {id(root): Tensor(gradient) if create_graph and type(gradient) is not Tensor else gradient}
    for t in reversed(order):
        ct = cts.pop(id(t), None)
        if ct is None:
            continue
        node = t._node
        if node is None:  # a leaf: accumulate
            c = in_cts = None  # (drop the loop's names for it: .grad may then take the array without a copy)
            _accumulate(t, ct, create_graph)
            continue
        if node.freed:
            raise RuntimeError(
                f"backward through the tape a second time: the {node.prim.name} that made this value was "
                "freed by the first backward(). Pass retain_graph=True to the first backward() to keep it.")
        _check_versions(node)
        if node.prim is _RESULT_OF:  # into the slot of this result, at the application's tensor
            ((_, application),), i = node.inputs, node.params["index"]
            slots = cts.setdefault(id(application), [None] * node.params["count"])
            slots[i] = ct if slots[i] is None else slots[i] + ct
        elif node.prim.multiple_results:
            if create_graph:  # computed again, recorded: the rule's use of the results is differentiated too
                args, outs = node.args, list(node.prim(*node.args, **node.params))
            else:
                args, outs = [a.data if type(a) is Tensor else a for a in node.args], list(t.data)
            in_cts = node.prim.vjp(ct, outs, *args, **node.params)
            for i, a in node.inputs:
                c = in_cts[i]
                if isinstance(c, Exception):  # a rule that cannot give this operand's cotangent
                    raise c
                if c is not None:
                    previous = cts.get(id(a))
                    cts[id(a)] = c if previous is None else previous + c
        else:
            if create_graph:
                args, out = node.args, t
            else:
                args, out = [a.data if type(a) is Tensor else a for a in node.args], t.data
            vjp, params = node.prim.vjp, node.params
            for i, a in node.inputs:
                rule = vjp[i]
                c = None if rule is None else rule(ct, out, *args, **params)
                if c is not None:
                    previous = cts.get(id(a))
                    cts[id(a)] = c if previous is None else previous + c
        if not retain_graph:
            _free(node)


def _free(node: _Node) -> None:
    """Drop what the tape holds for ``node``; the node stays, to say it was freed."""
    node.freed, node.args, node.inputs, node.versions = True, (), (), ()


def _accumulate(t: Tensor, ct, create_graph: bool) -> None:
    """Add ``ct`` to the leaf ``t``'s ``.grad``. The caller holds ``ct`` under one name only."""
    if create_graph:
        t.grad = ct if t.grad is None else t.grad + ct
        return
    ct = np.asarray(ct, t.data.dtype)
    if t.grad is not None:
        # the sum of two 0-d arrays is a NumPy scalar, and .grad must stay an array (zero_() writes into it)
        t.grad = _wrap(np.asarray(t.grad.data + ct))
    elif type(ct) is np.ndarray and ct.base is None and sys.getrefcount(ct) == 3:
        # nothing else refers to this cotangent (no pending sum, no view of it: views hold their
        # base) and it owns its memory: it becomes .grad without a copy, as PyTorch steals a gradient
        # nobody else holds. (3: the caller's name, this parameter and getrefcount's argument.)
        t.grad = _wrap(ct)
    else:
        t.grad = _wrap(ct.copy())


# --- replaying a backward pass that repeats, compiled ------------------------------------------------
#
# A training loop builds the same tape at every step: the same primitives with the same parameters,
# connected the same way, on arrays of the same shapes. After seeing a tape's structure a few times,
# backward() traces the interpreter above, run on the tape's values, into a program (with
# micrograd's own tracer: the vjp rules are micrograd operations), compiles it with jit, and from
# then on calls that program with the tape's values: one compiled call in place of a Python call per
# rule. What the program gives is accumulated into .grad as the interpreter does, and the nodes it
# went through are freed as the interpreter frees them. Anything unusual is left to the
# interpreter: create_graph, debug_nans, a node already freed or whose operands changed in place
# (the interpreter raises, or not, exactly as before), primitives with several results, parameters
# that cannot key a cache, and tapes whose rules cannot be traced (the structure is then remembered
# as not replayable).

REPLAY_AFTER = 3  # interpret a structure this many times before compiling (most tapes never repeat)
REPLAY_NODES = (3, 1000)  # tapes with fewer nodes gain nothing; bigger ones would take long to compile
_replays: dict[tuple, "_Replay"] = {}
_MAX_REPLAYS = 256  # structures remembered (a program that builds ever new ones must not grow memory)
_LEAF = object()  # the marker of a leaf in a tape's signature


class _Replay:
    """One tape structure: how often it was seen, and its compiled backward pass."""
    __slots__ = ("seen", "replayed", "program", "compiled", "failed", "leaves", "used")

    def __init__(self):
        self.seen, self.replayed, self.program, self.compiled, self.failed = 0, 0, None, False, None
        self.leaves: list[int] = []  # positions in the order of the leaves the program gives cotangents to
        self.used: list[int] = []  # positions of the nodes whose rules it applies (freed afterwards)


def _signature(order: list[Tensor]) -> tuple[tuple | None, list]:
    """``(key, values)``: the tape's structure as a hashable key, and the arrays its rules read
    (each tensor's data in ``order``, then the operands outside the tape: tensors that do not
    require grad, arrays). ``(None, [])`` for a tape the interpreter must run."""
    position = {id(t): k for k, t in enumerate(order)}
    key, values = [], [t.data for t in order]
    for t in order:
        node = t._node
        if node is None:
            key.append(_LEAF)
            continue
        if node.freed or node.prim.multiple_results or node.prim is _RESULT_OF:
            return None, []
        for a, version in node.versions:
            if a._version != version:
                return None, []
        key += (node.prim, tuple(node.params.items()), len(node.args))
        for a in node.args:
            if type(a) is Tensor:
                k = position.get(id(a))
                if k is None:  # (a tensor that does not require grad)
                    values.append(a.data)
                key.append(-1 if k is None else k)
            elif type(a) is np.ndarray:
                values.append(a)
                key.append(-1)
            else:  # a number: a constant of the program
                key.append((type(a), a))
    return tuple(key), values


def _replay(order: list[Tensor], gradient, retain_graph: bool) -> bool:
    """Run the backward pass of ``order`` compiled, if its structure repeats (see above); whether it did."""
    root = order[-1]
    if not REPLAY_NODES[0] <= len(order) <= REPLAY_NODES[1] or type(gradient) is not np.ndarray \
            or gradient.dtype != root.data.dtype:
        return False
    key, values = _signature(order)
    if key is None:
        return False
    try:
        entry = _replays.get(key)
    except TypeError:  # a parameter that cannot be hashed
        return False
    if entry is None:
        if len(_replays) >= _MAX_REPLAYS:
            _replays.clear()
        entry = _replays[key] = _Replay()
    entry.seen += 1
    if entry.failed is not None or entry.seen <= REPLAY_AFTER:
        return False
    if entry.program is None:  # traced at the call below, which starts compiling its kernels
        from .transforms.jit import jit
        entry.program = jit(_backward_program(order, entry))
    elif not entry.compiled:  # until then the interpreter is faster than the kernels' NumPy versions
        entry.compiled = entry.program.wait(timeout=0)
        if not entry.compiled:
            return False
    values = [v if v.flags.c_contiguous else np.ascontiguousarray(v) for v in values]
    try:
        cts = entry.program(gradient, *values)
    except Exception as e:  # noqa: BLE001 - e.g. a rule that needs a value: the interpreter runs this structure
        entry.failed = e
        return False
    for k in range(len(cts)):
        ct, cts[k] = cts[k], None  # (this name holds the only reference: .grad may take the array)
        _accumulate(order[entry.leaves[k]], ct, False)
    if not retain_graph:
        for k in entry.used:
            _free(order[k]._node)
    entry.replayed += 1
    return True


def _backward_program(order: list[Tensor], entry: _Replay) -> Callable:
    """The backward pass of tapes structured as ``order``, as a function of the root's cotangent
    and the values :func:`_signature` lists: the interpreter's walk, for jit to trace."""
    position = {id(t): k for k, t in enumerate(order)}
    steps, extra = [], len(order)
    for t in order:  # per tensor: None for a leaf, else (prim, params, where each operand comes from, inputs)
        node = t._node
        if node is None:
            steps.append(None)
            continue
        sources = []  # (True, index into the values) or (False, a constant)
        for a in node.args:
            k = position.get(id(a)) if type(a) is Tensor else None
            if k is not None:
                sources.append((True, k))
            elif type(a) is Tensor or type(a) is np.ndarray:
                sources.append((True, extra))
                extra += 1
            else:
                sources.append((False, a))
        steps.append((node.prim, node.params, sources, [(i, position[id(a)]) for i, a in node.inputs]))

    def tape_backward(gradient, *values):
        cts, leaves, used = {len(steps) - 1: gradient}, [], []
        for k in range(len(steps) - 1, -1, -1):
            ct = cts.pop(k, None)
            if ct is None:
                continue
            if steps[k] is None:
                leaves.append((k, ct))
                continue
            prim, params, sources, inputs = steps[k]
            args = [values[s] if is_value else s for is_value, s in sources]
            for i, j in inputs:
                rule = prim.vjp[i]
                c = None if rule is None else rule(ct, values[k], *args, **params)
                if c is not None:
                    previous = cts.get(j)
                    cts[j] = c if previous is None else previous + c
            used.append(k)
        entry.leaves, entry.used = [k for k, _ in leaves], used  # (the same at every trace: structural)
        return [ct for _, ct in leaves]

    return tape_backward


def _wrap(array: np.ndarray) -> Tensor:
    out = Tensor.__new__(Tensor)
    out.data, out.grad, out.requires_grad, out._node, out._version = array, None, False, None, 0
    return out


Tensor._wrap = staticmethod(_wrap)


def tensor(data: Any, requires_grad: bool = False, dtype=None) -> Tensor:
    """A tensor holding a copy of ``data``. With ``requires_grad=True`` its gradient is
    accumulated in ``.grad`` by ``backward()``; integer data then becomes float64 (the
    tutorial writes ``mg.tensor([[1], [2], [3]], requires_grad=True)``).

    >>> import micrograd as mg
    >>> mg.tensor([[1], [2]], requires_grad=True)
    tensor([[1.],
            [2.]], requires_grad=True)
    """
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)
