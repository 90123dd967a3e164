"""Modules are pytrees (as in Equinox): a layer is an object whose array fields are the pytree's
children and whose other fields (sizes, names, flags) are static data. ``model(x)`` is a pure
function of those fields, so ``mg.grad(loss)(model, x, y)`` returns a gradient shaped like the
model, optimizers update models like any pytree, and ``mg.jit`` compiles a step that takes a
model (static fields become part of its signature).

>>> import numpy as np, micrograd as mg
>>> class Scale(mg.nn.Module):
...     def __init__(self, n):
...         self.w = np.ones(n)   # an array: a child, differentiated and updated
...         self.name = "scale"  # anything else: static data
...     def __call__(self, x, *, key=None):
...         return self.w * x
>>> g = mg.grad(lambda m, x: np.sum(m(x) ** 2))(Scale(2), np.array([1.0, 2.0]))
>>> g
Scale(w=f64[2], name='scale')
>>> g.w
array([2., 8.])
"""
from __future__ import annotations

from typing import Any, Callable


from ..core import tree
from ..core.ir import aval_of

__all__ = ["Module", "copy_buffers"]


def _is_array(v: Any) -> bool:
    return hasattr(v, "shape") and hasattr(v, "dtype")


def _is_child(v: Any) -> bool:
    """Arrays, modules and containers holding them are children; everything else is static."""
    if isinstance(v, Module) or _is_array(v):
        return True
    if isinstance(v, (list, tuple)):
        return any(_is_child(x) for x in v)
    if isinstance(v, dict):
        return any(_is_child(x) for x in v.values())
    return False


def _fields(obj: "Module") -> dict:
    fields = dict(vars(obj))
    fields.setdefault("training", True)  # a flag set or not set must give one structure
    return fields


def _flatten(obj: "Module"):
    children, aux = [], []
    for name, value in _fields(obj).items():
        if _is_child(value):
            children.append(value)
            aux.append((name, True, None))
        else:
            try:
                hash(value)
            except TypeError:
                raise TypeError(f"{type(obj).__name__}.{name} = {value!r}: a module's non-array fields are static "
                                f"data and must be hashable (use a tuple instead of a list)") from None
            aux.append((name, False, value))
    return children, tuple(aux)


def _unflatten(cls: type, aux: tuple, children: list) -> "Module":
    obj = object.__new__(cls)
    it = iter(children)
    for name, is_child, value in aux:
        obj.__dict__[name] = next(it) if is_child else value
    return obj


def _map_modules(value: Any, fn: Callable[["Module"], "Module"]) -> Any:
    if isinstance(value, Module):
        return fn(value)
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        return type(value)(_map_modules(v, fn) for v in value)
    if isinstance(value, dict):
        return {k: _map_modules(v, fn) for k, v in value.items()}
    return value


class Module:
    """Base class of layers and losses. Subclasses set fields in ``__init__`` and define
    ``__call__(self, x, *, key=None)``; the key is for layers that draw random numbers
    (Dropout). Modules are never mutated by micrograd: ``train``/``eval``/``replace`` and
    optimizers return new modules.

    Layers whose forward pass also computes new state (BatchNorm1d's running statistics)
    return it from :meth:`apply` as a new module: ``y, model = model.apply(x, key=key)``.
    Fields named in ``_buffers`` hold such state: they are leaves (so a jitted step carries
    them) but :meth:`parameters` leaves them out.
    """
    training: bool = True
    _buffers: tuple[str, ...] = ()

    def __init_subclass__(cls, **kwargs: Any):
        super().__init_subclass__(**kwargs)
        tree.register(cls, _flatten, lambda aux, children: _unflatten(cls, aux, children))

    def __call__(self, x: Any, *, key: Any = None) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not define __call__")

    def apply(self, x: Any, *, key: Any = None) -> tuple[Any, "Module"]:
        """``(self(x), new_module)``: the output and the module with any state its forward pass
        updates (running statistics). Stateless modules return themselves.

        >>> import micrograd as mg
        >>> y, same = mg.ReLU().apply(-1.0)
        >>> float(y)
        0.0
        """
        return self(x, key=key), self

    def replace(self, **changes: Any) -> "Module":
        """A copy with some fields replaced.

        >>> import micrograd as mg
        >>> mg.Dropout(0.5).replace(p=0.1)
        Dropout(p=0.1)
        """
        fields = _fields(self)
        unknown = set(changes) - set(fields)
        if unknown:
            raise AttributeError(f"{type(self).__name__} has no field {sorted(unknown)[0]!r}")
        new = object.__new__(type(self))
        new.__dict__.update({**fields, **changes})
        return new

    def train(self, mode: bool = True) -> "Module":
        """A copy of the model (and every module inside it) in training mode, or in evaluation
        mode with ``mode=False``: Dropout drops and BatchNorm uses batch statistics only in
        training mode. Modules start in training mode, as in PyTorch.

        >>> import micrograd as mg
        >>> mg.Sequential([mg.Dropout(0.5)]).eval().layers[0].training
        False
        """
        fields = {name: _map_modules(v, lambda m: m.train(mode)) for name, v in vars(self).items()}
        fields["training"] = bool(mode)
        return self.replace(**fields)

    def eval(self) -> "Module":
        """``train(False)``: a copy in evaluation mode (see :meth:`train`).

        >>> import micrograd as mg
        >>> mg.Dropout(0.5).eval().training
        False
        """
        return self.train(False)

    def parameters(self) -> list:
        """The trainable arrays, in a fixed order (buffers such as running statistics excluded).

        >>> import micrograd as mg
        >>> [p.shape for p in mg.Linear(3, 2, key=mg.random.key(0)).parameters()]
        [(3, 2), (2,)]
        """
        params: list = []
        for name, value in vars(self).items():
            if name in self._buffers:
                continue
            leaves, _ = tree.flatten(value, is_leaf=lambda v: isinstance(v, Module))
            for leaf in leaves:
                if isinstance(leaf, Module):
                    params.extend(leaf.parameters())
                elif _is_array(leaf):
                    params.append(leaf)
        return params

    def __repr__(self) -> str:
        parts = []
        for name, value in _fields(self).items():
            if name == "training":
                if not value:
                    parts.append("training=False")
            elif _is_array(value):
                parts.append(f"{name}={aval_of(value)!r}")
            else:
                parts.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(parts)})"



def copy_buffers(model: Any, source: Any) -> Any:
    """``model`` with every buffer (a field a module lists in ``_buffers``, such as BatchNorm1d's
    running statistics) taken from ``source``, a model of the same structure.

    >>> import numpy as np, micrograd as mg
    >>> model = mg.Sequential([mg.BatchNorm1d(1)])
    >>> _, stats = model.apply(np.array([[1.0], [3.0]]))
    >>> mg.nn.copy_buffers(model, stats)[0].running_mean
    array([0.2], dtype=float32)
    """
    if isinstance(model, Module):
        theirs = vars(source)
        return model.replace(**{name: theirs[name] if name in model._buffers else copy_buffers(value, theirs[name])
                                for name, value in vars(model).items()})
    if isinstance(model, (list, tuple)) and not hasattr(model, "_fields"):
        return type(model)(copy_buffers(m, s) for m, s in zip(model, source))
    if isinstance(model, dict):
        return {k: copy_buffers(v, source[k]) for k, v in model.items()}
    return model
