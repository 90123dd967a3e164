"""Plain NumPy on traced values: NumPy hands ufunc calls to ``__array_ufunc__`` and other
functions to ``__array_function__``, and these tables send them to :mod:`micrograd.numpy`.
Also the operators and methods of traced values and eager tensors (``x % 1.0``, ``x.prod()``).
"""
from __future__ import annotations

import numpy as np

from ..core import tree
from ..core.errors import with_location
from ..core.trace import Tracer
from . import contractions, creation, indexing, linalg, numerical, reductions, shape, ufuncs

FAMILIES = (ufuncs, reductions, shape, indexing, contractions, numerical, creation)

def _build_ufunc_table() -> dict:
    table = {}
    for family in FAMILIES:
        for name in family.__all__:
            numpy_object = getattr(np, name, None)
            if isinstance(numpy_object, np.ufunc):
                table[numpy_object] = getattr(family, name)
    table[np.matmul] = contractions.matmul
    table[np.divmod] = ufuncs.divmod
    return table


def _build_function_table() -> dict:
    table = {}
    for family in FAMILIES:
        for name in family.__all__:
            numpy_object = getattr(np, name, None)
            if numpy_object is not None and callable(numpy_object) and not isinstance(numpy_object, np.ufunc):
                table[numpy_object] = getattr(family, name)
    for name in linalg.__all__:
        numpy_object = getattr(np.linalg, name, None)
        if callable(numpy_object) and name != "LinAlgError":
            table[numpy_object] = getattr(linalg, name)
    for numpy_name, ours in (("trapz", numerical.trapezoid), ("round_", ufuncs.round),
                             ("cumulative_sum", reductions.cumsum), ("cumulative_prod", reductions.cumprod),
                             ("matrix_transpose", lambda x: shape.swapaxes(x, -1, -2))):
        if hasattr(np, numpy_name):
            table[getattr(np, numpy_name)] = ours
    return table


UFUNCS = _build_ufunc_table()
FUNCTIONS = _build_function_table()

# ufunc methods: np.add.reduce(x, axis=0), np.maximum.accumulate(x), np.multiply.outer(a, b)
_REDUCE = {np.add: reductions.sum, np.multiply: reductions.prod, np.maximum: reductions.max,
           np.minimum: reductions.min, np.logical_and: reductions.all, np.logical_or: reductions.any}
_ACCUMULATE_IDENTITY = {np.add: 0, np.multiply: 1, np.maximum: -np.inf, np.minimum: np.inf}


def _ufunc_method(ufunc, method: str, inputs, kwargs):
    fn = UFUNCS.get(ufunc)
    if method == "reduce" and ufunc in _REDUCE:
        return _REDUCE[ufunc](inputs[0], axis=kwargs.pop("axis", 0), **kwargs)
    if method == "accumulate" and ufunc in _ACCUMULATE_IDENTITY and not kwargs.keys() - {"axis"}:
        x = creation.asarray(inputs[0])
        axis = kwargs.get("axis", 0) % max(x.ndim, 1)
        if ufunc is np.add:
            return reductions.cumsum(x, axis=axis)
        identity = _ACCUMULATE_IDENTITY[ufunc]
        if not np.issubdtype(x.dtype, np.floating) and not np.isfinite(identity):
            info = np.iinfo(x.dtype)
            identity = info.min if identity < 0 else info.max
        return reductions.associative_scan(fn, x, axis, identity)
    if method == "outer" and fn is not None and len(inputs) == 2 and not kwargs:
        a, b = creation.asarray(inputs[0]), creation.asarray(inputs[1])
        return fn(shape.reshape(a, a.shape + (1,) * b.ndim), b)
    return None


def _install_ufunc_methods() -> None:
    """``mnp.add.outer(a, b)``, ``mnp.maximum.accumulate(x)``, ``mnp.multiply.reduce(x)``: the
    methods of NumPy's ufuncs, on micrograd's functions."""
    for ufunc, fn in UFUNCS.items():
        if ufunc.nin != 2 or hasattr(fn, "outer"):
            continue
        fn.outer = lambda a, b, _u=ufunc: _ufunc_method(_u, "outer", (a, b), {})
        if ufunc in _REDUCE:
            fn.reduce = lambda x, axis=0, _u=ufunc, **kw: _ufunc_method(_u, "reduce", (x,), dict(kw, axis=axis))
        if ufunc in _ACCUMULATE_IDENTITY:
            fn.accumulate = lambda x, axis=0, _u=ufunc: _ufunc_method(_u, "accumulate", (x,), {"axis": axis})


_install_ufunc_methods()


def _only_eager(args) -> bool:
    """Whether every micrograd value among ``args`` is an eager tensor (not a traced value)."""
    return all(x._trace.level == 0 for x in tree.leaves(args) if isinstance(x, Tracer))


def _with_data(args):
    """``args`` with eager tensors replaced by their arrays: NumPy functions micrograd does not
    define still work on tensors, as on arrays, without a gradient."""
    return tree.map(lambda x: x.data if isinstance(x, Tracer) else x, args)


def _numpy_name(func) -> str:
    module = getattr(func, "__module__", None) or "numpy"
    module = "numpy" if module.startswith("numpy") and "linalg" not in module and "fft" not in module else module
    return f"{module}.{func.__name__}"


def array_ufunc(self, ufunc, method, *inputs, **kwargs):
    fn = UFUNCS.get(ufunc)
    if method == "__call__" and fn is not None and not kwargs:
        return fn(*inputs)
    if method != "__call__" and not _only_eager((inputs, kwargs)):
        result = _ufunc_method(ufunc, method, inputs, dict(kwargs))
        if result is not None:
            return result
    if _only_eager((inputs, kwargs)):
        inputs, kwargs = _with_data((inputs, kwargs))
        return getattr(ufunc, method)(*inputs, **kwargs)
    what = f"numpy.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}")
    if method == "at":
        raise TypeError(with_location(f"{what} writes into an array in place, which traced values never are; build the "
                                      "result instead (x + mg.numpy.zeros_like(x) with scatter-style indexing, or "
                                      "mg.numpy.where)"))
    extra = f" with arguments {sorted(kwargs)}" if kwargs and fn is not None else ""
    raise TypeError(with_location(f"{what}{extra} is not supported on traced values; see micrograd.numpy.__all__ "
                                  "for what is"))


def array_function(self, func, types, args, kwargs):
    fn = FUNCTIONS.get(func)
    if fn is None:
        if _only_eager((args, kwargs)):
            args, kwargs = _with_data((args, kwargs))
            return func(*args, **kwargs)
        raise TypeError(with_location(f"{_numpy_name(func)} is not supported on traced values; see "
                                      "micrograd.numpy.__all__ for what is"))
    return fn(*args, **kwargs)


def _reflected(fn):
    return lambda self, other: fn(other, self)


def _logical(fn, name: str):
    def method(self, other=None):
        operands = (self,) if other is None else (self, other)
        if any(creation.asarray(x).dtype != np.bool_ for x in operands if not isinstance(x, bool)):
            raise TypeError(with_location(f"{name} on traced values works on booleans (as logical operations); "
                                          "bitwise operations on integers are not supported"))
        return fn(*operands)
    return method


def _sort(self, axis=-1, kind=None, order=None, *, stable=None):
    """``x.sort()`` returns the sorted array, as in JAX (a traced value is never changed in place)."""
    return reductions.sort(self, axis, kind, order, stable=stable)


def install_array_methods(cls: type) -> None:
    """Give ``cls`` (traced values, eager tensors) NumPy's operators and methods."""
    u, r, s = ufuncs, reductions, shape
    methods = {
        "__add__": u.add, "__radd__": _reflected(u.add), "__sub__": u.subtract, "__rsub__": _reflected(u.subtract),
        "__mul__": u.multiply, "__rmul__": _reflected(u.multiply), "__truediv__": u.divide,
        "__rtruediv__": _reflected(u.divide), "__floordiv__": u.floor_divide,
        "__rfloordiv__": _reflected(u.floor_divide), "__mod__": u.remainder, "__rmod__": _reflected(u.remainder),
        "__divmod__": u.divmod, "__rdivmod__": _reflected(u.divmod), "__pow__": u.power,
        "__rpow__": _reflected(u.power), "__matmul__": contractions.matmul,
        "__rmatmul__": _reflected(contractions.matmul), "__neg__": u.negative, "__pos__": u.positive,
        "__abs__": u.abs, "__round__": lambda self, ndigits=None: u.round(self, ndigits or 0),
        "__and__": _logical(u.logical_and, "&"), "__rand__": _logical(u.logical_and, "&"),
        "__or__": _logical(u.logical_or, "|"), "__ror__": _logical(u.logical_or, "|"),
        "__xor__": _logical(u.logical_xor, "^"), "__rxor__": _logical(u.logical_xor, "^"),
        "__invert__": _logical(u.logical_not, "~"),
        "__lt__": u.less, "__le__": u.less_equal, "__gt__": u.greater, "__ge__": u.greater_equal,
        "__eq__": u.equal, "__ne__": u.not_equal, "__getitem__": indexing.getitem,
        "__array_ufunc__": array_ufunc, "__array_function__": array_function,
        "sum": r.sum, "prod": r.prod, "mean": r.mean, "var": r.var, "std": r.std, "max": r.max, "min": r.min,
        "ptp": r.ptp, "argmax": r.argmax, "argmin": r.argmin, "argsort": r.argsort, "sort": _sort,
        "cumsum": r.cumsum, "cumprod": r.cumprod, "all": r.all, "any": r.any,
        "clip": u.clip, "round": u.round, "conj": u.conj, "conjugate": u.conj,
        "transpose": lambda self, *axes: s.transpose(self, axes[0] if len(axes) == 1 else axes or None),
        "reshape": s.reshape, "ravel": s.ravel, "flatten": s.ravel, "squeeze": s.squeeze, "repeat": s.repeat,
        "swapaxes": s.swapaxes, "diagonal": s.diagonal, "trace": s.trace, "take": indexing.take,
        "nonzero": indexing.nonzero, "astype": creation.astype, "copy": creation.copy, "dot": contractions.dot,
        "T": property(lambda self: s.transpose(self)), "mT": property(lambda self: s.swapaxes(self, -1, -2)),
        "real": property(lambda self: u.real(self)), "imag": property(lambda self: u.imag(self)),
        "__iter__": lambda self: (self[i] for i in range(len(self))),
    }
    for name, fn in methods.items():
        setattr(cls, name, fn)
