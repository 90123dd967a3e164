"""Optimizers as stateless ``(init, update)`` pairs (as in Optax), under PyTorch's names and with
PyTorch's update formulas:

>>> import numpy as np, micrograd as mg
>>> params = {"w": np.array([1.0, -2.0])}
>>> opt = mg.SGD(learning_rate=0.1)
>>> state = opt.init(params)
>>> grads = mg.grad(lambda p: mg.numpy.sum(p["w"] ** 2))(params)
>>> params, state = opt.update(params, grads, state)
>>> params
{'w': array([ 0.8, -1.6])}

The state is a dict of arrays shaped like the parameters, with the number of updates done so
far as ``state["count"]``, so ``update`` is a pure function that ``mg.jit`` compiles. Any
pytree of float arrays can be optimized: dicts, lists, modules. The learning rate may be a
schedule (``step -> rate``, see :mod:`micrograd.optim.schedules`), called with the count.
"""
from __future__ import annotations

import functools
import inspect
import math
from typing import Any

import numpy as np

from .. import numpy as mnp
from ..core import tree
from ..core.trace import Tracer
from ..nn.losses import l2_penalty
from ..tensor import Tensor

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "global_norm", "clip_by_global_norm"]

def _check_number(value: Any, name: str, what: str, low: float = 0.0, high: float = math.inf,
                  high_open: bool = False) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name}: {what} must be a number, got {value!r}") from None
    if math.isnan(v) or v < low or v > high or (high_open and v == high):
        interval = f"[{low}, {high}{')' if high_open else ']'}"
        raise ValueError(f"{name}: {what} must be in {interval}, got {value!r}")
    return v


def _check_learning_rate(lr: Any, name: str) -> Any:
    if callable(lr):
        return lr
    v = _check_number(lr, name, "learning_rate (a non-negative finite number, or a schedule)")
    if math.isinf(v):
        raise ValueError(f"{name}: learning_rate must be finite, got {lr!r}")
    return v


def _as_dtype(x: Any, dtype: Any) -> Any:
    """A hyperparameter in the parameter's dtype: Python numbers are weak (they take the
    array's dtype when combined), arrays (a schedule's value) are cast. NumPy scalars are cast
    too, although ``np.float64`` is a subclass of ``float``: they are not weak, so a bias
    correction computed as ``np.float64`` would turn a float32 update into float64 temporaries."""
    return x if type(x) in (int, float) else mnp.astype(x, dtype)


def _array(x: Any) -> Any:
    return x if isinstance(x, (Tracer, np.ndarray)) or not hasattr(x, "dtype") else np.asarray(x)


def _parameter_list(params: Any) -> list | None:
    """``params`` as a list of tensors if it is one tensor or an iterable of tensors, else None."""
    if isinstance(params, Tensor):
        return [params]
    if isinstance(params, (list, tuple)) or inspect.isgenerator(params):
        params = list(params)
        if params and all(isinstance(p, Tensor) for p in params):
            return params
    return None


_SHARED_UPDATES: dict = {}  # (optimizer class, its repr with the hyperparameters) -> jitted update


class Optimizer:
    """The base class: subclasses name their per-parameter state arrays in ``slots`` and define
    ``_update_leaf``; ``init`` and ``update`` handle the pytrees and the step count.

    Eagerly, an optimizer updates tensors in place from their ``.grad``, in the tutorial's form
    ``optimizer.step(model.parameters(), loss)`` or PyTorch's
    ``opt = mg.Adam(model.parameters(), learning_rate=...)``, ``opt.step()``, ``opt.zero_grad()``:

    >>> import micrograd as mg
    >>> w = mg.tensor([1.0, 2.0], requires_grad=True)
    >>> opt = mg.SGD([w], learning_rate=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> w
    tensor([0.8, 1.6], requires_grad=True)
    """
    slots: tuple[str, ...] = ()

    def __init_subclass__(cls, **kwargs: Any):
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is None:
            return

        @functools.wraps(init)
        def accept_parameters_first(self, *args, **kwargs):
            params = _parameter_list(args[0]) if args else None
            if params is not None:  # PyTorch's form: the tensors to update come first
                self._tensors, args = params, args[1:]
            init(self, *args, **kwargs)
        cls.__init__ = accept_parameters_first

    def __init__(self, learning_rate: Any):
        self.learning_rate = _check_learning_rate(learning_rate, type(self).__name__)

    def _initial_slot(self, name: str, p: Any) -> np.ndarray:
        return np.zeros(np.shape(p), mnp.asarray(p).dtype)

    def init(self, params: Any) -> dict:
        """The state before the first update: zeros shaped like ``params`` and ``count = 0``.

        >>> import numpy as np, micrograd as mg
        >>> mg.Adam().init({"w": np.zeros(2)})
        {'count': array(0), 'm': {'w': array([0., 0.])}, 'v': {'w': array([0., 0.])}}
        """
        leaves, treedef = tree.flatten(params)
        state = {"count": np.zeros((), np.int64)}
        for name in self.slots:
            state[name] = tree.unflatten(treedef, [self._initial_slot(name, p) for p in leaves])
        return state

    def _scalars(self, count: Any, lr: Any) -> dict:
        """Hyperparameters that depend on the step (bias corrections), computed once per update."""
        return {"lr": lr}

    def _update_leaf(self, p: Any, g: Any, slots: list, h: dict) -> tuple[Any, list]:
        raise NotImplementedError

    def update(self, params: Any, grads: Any, state: dict) -> tuple[Any, dict]:
        """``(new_params, new_state)`` after one step along ``grads`` (shaped like ``params``).

        >>> import numpy as np, micrograd as mg
        >>> opt = mg.Adam(learning_rate=0.1)
        >>> params, state = opt.update(np.array([1.0]), np.array([0.5]), opt.init(np.array([1.0])))
        >>> params, state["count"]
        (array([0.9]), array(1))
        """
        p_leaves, treedef = tree.flatten(params)
        p_leaves = [p.data if isinstance(p, Tensor) else p for p in p_leaves]  # results are arrays
        g_leaves, g_def = tree.flatten(grads)
        g_leaves = [g.data if isinstance(g, Tensor) else g for g in g_leaves]
        if g_def != treedef:
            raise ValueError(f"{type(self).__name__}.update: the gradients' structure {g_def} differs from the "
                             f"parameters' {treedef}")
        count = mnp.asarray(state["count"])
        lr = self.learning_rate(count) if callable(self.learning_rate) else self.learning_rate
        scalars = self._scalars(count + 1, lr)
        slot_leaves = [tree.leaves(state[name]) for name in self.slots]
        new_params, new_slots, by_dtype = [], [[] for _ in self.slots], {}
        for i, (p, g) in enumerate(zip(p_leaves, g_leaves)):
            dtype = mnp.asarray(p).dtype
            if dtype not in by_dtype:
                by_dtype[dtype] = {k: _as_dtype(v, dtype) for k, v in scalars.items()}
            new_p, slots = self._update_leaf(p, g, [s[i] for s in slot_leaves], by_dtype[dtype])
            new_params.append(_array(mnp.astype(new_p, dtype)))
            for acc, s in zip(new_slots, slots):
                acc.append(_array(mnp.astype(s, dtype)))
        new_state = {"count": _array(count + 1)}
        for name, leaves in zip(self.slots, new_slots):
            new_state[name] = tree.unflatten(treedef, leaves)
        return tree.unflatten(treedef, new_params), new_state

    # --- the eager form ---------------------------------------------------------------------------
    def step(self, params: Any = None, loss: Any = None) -> None:
        """Update tensors in place from their ``.grad``: those given here (the tutorial's
        ``optimizer.step(model.parameters(), loss)``, which also back-propagates ``loss`` if
        that has not been done and clears the gradients afterwards), or those given to the
        constructor (PyTorch's ``opt.step()``; clear them with ``zero_grad()``)."""
        given = params is not None
        tensors = _parameter_list(params) if given else getattr(self, "_tensors", None)
        if tensors is None:
            raise TypeError(
                f"{type(self).__name__}.step needs the tensors to update: optimizer.step(model.parameters()) "
                f"or {type(self).__name__}(model.parameters(), learning_rate=...); for arrays and other "
                "pytrees use the functional update(params, grads, state)")
        if isinstance(loss, Tensor) and loss._node is not None and not loss._node.freed:
            loss.backward()
        with_grads = [t for t in tensors if t.grad is not None]
        if with_grads:
            key = tuple(id(t) for t in with_grads)
            states = self.__dict__.setdefault("_eager_states", {})
            state = states.get(key) or self.init([t.data for t in with_grads])
            new, states[key] = self._compiled_update()([t.data for t in with_grads], [t.grad.data for t in with_grads],
                                                       state)
            for t, value in zip(with_grads, new):
                if value is not t.data:  # (compiled, the update wrote into the donated buffer)
                    t.data[...] = value
                t._version += 1
        if given:
            for t in tensors:
                t.grad = None

    def _compiled_update(self):
        """``update`` under ``jit``: one fused pass per parameter instead of an array per operation
        of the formula (the eager step's cost is mostly these temporaries). Optimizers with the
        same hyperparameters compute the same update, so they share one compiled function (a
        training loop that makes a new optimizer per epoch does not compile again)."""
        compiled = self.__dict__.get("_jitted_update")
        if compiled is None:
            from ..transforms.jit import jit
            key = (type(self), repr(self))
            compiled = _SHARED_UPDATES.get(key)
            if compiled is None:  # parameters and state are updated in place: their buffers are donated
                compiled = _SHARED_UPDATES[key] = jit(self.update, donate_argnums=(0, 2))
            self.__dict__["_jitted_update"] = compiled
        return compiled

    def zero_grad(self) -> None:
        """Clear the ``.grad`` of the tensors given to the constructor."""
        for t in getattr(self, "_tensors", ()):
            t.grad = None

    def __repr__(self) -> str:
        options = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({options})"


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum (Nesterov's too) and L2 weight
    decay, as PyTorch defines them: ``g += weight_decay * p``; with momentum
    ``b = momentum * b + g`` and the step is ``b`` (or ``g + momentum * b`` with Nesterov);
    ``p -= learning_rate * step``.

    >>> import micrograd as mg
    >>> mg.SGD(learning_rate=-0.1)
    Traceback (most recent call last):
    ...
    ValueError: SGD: learning_rate (a non-negative finite number, or a schedule) must be in [0.0, inf], got -0.1
    """

    def __init__(self, learning_rate: Any = 0.01, momentum: float = 0.0, nesterov: bool = False,
                 weight_decay: float = 0.0):
        super().__init__(learning_rate)
        self.momentum = _check_number(momentum, "SGD", "momentum")
        self.nesterov = bool(nesterov)
        self.weight_decay = _check_number(weight_decay, "SGD", "weight_decay")
        if self.nesterov and self.momentum == 0:
            raise ValueError("SGD: nesterov=True needs a momentum above 0")
        self.slots = ("momentum_buffer",) if self.momentum else ()

    def _update_leaf(self, p, g, slots, h):
        if self.weight_decay:
            g = g + self.weight_decay * p
        if not self.momentum:
            return p - h["lr"] * g, []
        buf = self.momentum * slots[0] + g
        step = g + self.momentum * buf if self.nesterov else buf
        return p - h["lr"] * step, [buf]


class Adam(Optimizer):
    """Adam (Kingma and Ba) as in PyTorch: ``m = b1 m + (1 - b1) g``, ``v = b2 v + (1 - b2) g^2``,
    ``p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)`` at step ``t``;
    ``weight_decay`` adds ``weight_decay * p`` to the gradient (L2; see :class:`AdamW`).

    >>> import micrograd as mg
    >>> mg.Adam(learning_rate=float("nan"))
    Traceback (most recent call last):
    ...
    ValueError: Adam: learning_rate (a non-negative finite number, or a schedule) must be in [0.0, inf], got nan
    """
    slots = ("m", "v")
    _decoupled = False

    def __init__(self, learning_rate: Any = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0):
        super().__init__(learning_rate)
        name = type(self).__name__
        self.betas = (_check_number(betas[0], name, "betas[0]", 0.0, 1.0, True),
                      _check_number(betas[1], name, "betas[1]", 0.0, 1.0, True))
        self.eps = _check_number(eps, name, "eps")
        self.weight_decay = _check_number(weight_decay, name, "weight_decay")

    def _scalars(self, t, lr):
        b1, b2 = self.betas
        return {"lr": lr, "bc1": 1.0 - mnp.power(b1, t), "sqrt_bc2": mnp.sqrt(1.0 - mnp.power(b2, t))}

    def _update_leaf(self, p, g, slots, h):
        b1, b2 = self.betas
        if self.weight_decay and self._decoupled:
            p = p * (1.0 - h["lr"] * self.weight_decay)
        elif self.weight_decay:
            g = g + self.weight_decay * p
        m = b1 * slots[0] + (1.0 - b1) * g
        v = b2 * slots[1] + (1.0 - b2) * g * g
        return p - (h["lr"] / h["bc1"]) * m / (mnp.sqrt(v) / h["sqrt_bc2"] + self.eps), [m, v]


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter), as in PyTorch: first
    ``p *= 1 - lr * weight_decay``, then the Adam step on the plain gradient.

    >>> import numpy as np, micrograd as mg
    >>> opt = mg.AdamW(learning_rate=0.1, weight_decay=0.5)
    >>> opt.update(np.array([2.0]), np.array([0.0]), opt.init(np.array([2.0])))[0]  # 2 * (1 - 0.05)
    array([1.9])
    """
    _decoupled = True

    def __init__(self, learning_rate: Any = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2):
        super().__init__(learning_rate, betas, eps, weight_decay)


class RMSprop(Optimizer):
    """RMSprop as in PyTorch: ``s = alpha s + (1 - alpha) g^2``; with ``centered`` the mean
    gradient ``a`` is tracked too and ``s - a^2`` replaces ``s``; ``d = sqrt(s) + eps``; the
    step is ``g / d``, or with momentum ``b = momentum b + g / d``; ``p -= lr * step``.

    >>> import numpy as np, micrograd as mg
    >>> opt = mg.RMSprop(learning_rate=0.01)
    >>> opt.update(np.array([1.0]), np.array([2.0]), opt.init(np.array([1.0])))[0].round(6)  # 1 - 0.01 / sqrt(0.01)
    array([0.9])
    """

    def __init__(self, learning_rate: Any = 1e-2, alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0.0,
                 momentum: float = 0.0, centered: bool = False):
        super().__init__(learning_rate)
        self.alpha = _check_number(alpha, "RMSprop", "alpha", 0.0, 1.0)
        self.eps = _check_number(eps, "RMSprop", "eps")
        self.weight_decay = _check_number(weight_decay, "RMSprop", "weight_decay")
        self.momentum = _check_number(momentum, "RMSprop", "momentum")
        self.centered = bool(centered)
        self.slots = ("square_avg",) + (("grad_avg",) if centered else ()) + (("momentum_buffer",) if momentum else ())

    def _update_leaf(self, p, g, slots, h):
        a = self.alpha
        if self.weight_decay:
            g = g + self.weight_decay * p
        slots = dict(zip(self.slots, slots))
        sq = a * slots["square_avg"] + (1.0 - a) * g * g
        new = [sq]
        if self.centered:
            ga = a * slots["grad_avg"] + (1.0 - a) * g
            new.append(ga)
            denom = mnp.sqrt(sq - ga * ga) + self.eps
        else:
            denom = mnp.sqrt(sq) + self.eps
        step = g / denom
        if self.momentum:
            step = self.momentum * slots["momentum_buffer"] + step
            new.append(step)
        return p - h["lr"] * step, new


class Adagrad(Optimizer):
    """Adagrad as in PyTorch: ``s += g^2``, ``p -= lr_t * g / (sqrt(s) + eps)`` with
    ``lr_t = lr / (1 + (t - 1) lr_decay)``; the sums start at ``initial_accumulator_value``.

    >>> import numpy as np, micrograd as mg
    >>> opt = mg.Adagrad(learning_rate=0.5)
    >>> opt.update(np.array([1.0]), np.array([4.0]), opt.init(np.array([1.0])))[0]  # 1 - 0.5 * 4 / 4
    array([0.5])
    """
    slots = ("sum",)

    def __init__(self, learning_rate: Any = 1e-2, lr_decay: float = 0.0, weight_decay: float = 0.0,
                 initial_accumulator_value: float = 0.0, eps: float = 1e-10):
        super().__init__(learning_rate)
        self.lr_decay = _check_number(lr_decay, "Adagrad", "lr_decay")
        self.weight_decay = _check_number(weight_decay, "Adagrad", "weight_decay")
        self.initial_accumulator_value = _check_number(initial_accumulator_value, "Adagrad", "initial_accumulator_value")
        self.eps = _check_number(eps, "Adagrad", "eps")

    def _initial_slot(self, name, p):
        return np.full(np.shape(p), self.initial_accumulator_value, mnp.asarray(p).dtype)

    def _scalars(self, t, lr):
        return {"lr": lr / (1.0 + (t - 1) * self.lr_decay) if self.lr_decay else lr}

    def _update_leaf(self, p, g, slots, h):
        if self.weight_decay:
            g = g + self.weight_decay * p
        s = slots[0] + g * g
        return p - h["lr"] * g / (mnp.sqrt(s) + self.eps), [s]


def global_norm(tree_: Any) -> Any:
    """The L2 norm of all leaves together, ``sqrt(sum of squares)``.

    >>> global_norm({"a": np.array([3.0]), "b": np.array([4.0])})
    np.float64(5.0)
    """
    return mnp.sqrt(l2_penalty(tree_))


def clip_by_global_norm(grads: Any, max_norm: float) -> Any:
    """``grads`` scaled by ``max_norm / global_norm(grads)`` when that norm exceeds ``max_norm``
    (unchanged otherwise), as ``torch.nn.utils.clip_grad_norm_`` and ``optax.clip_by_global_norm``.

    >>> clip_by_global_norm({"a": np.array([3.0]), "b": np.array([4.0])}, 1.0)
    {'a': array([0.6]), 'b': array([0.8])}
    """
    max_norm = _check_number(max_norm, "clip_by_global_norm", "max_norm")
    norm = global_norm(grads)
    scale = max_norm / mnp.maximum(norm, max_norm)
    return tree.map(lambda g: _array(g * mnp.astype(scale, mnp.asarray(g).dtype)), grads)
