"""``jit``: trace once per signature, optimize the program, fuse it into loop kernels compiled
with Numba, and call the compiled program on later calls with the same signature.

The signature is the pytree structure of the arguments, the shape and dtype of each array and
the values of static arguments. Under another transform's trace a jitted function simply runs
(its operations record into that trace), so ``grad(jit(f))`` and ``vmap(jit(f))`` work, as do
``jit(grad(f))`` and ``jit(vmap(f))``.
"""
from __future__ import annotations

import functools
import operator
import threading
import warnings
from typing import Any, Callable, Sequence

import numpy as np

from ..backend.blas import one_blas_thread
from ..backend.compile import COMPILER, CompileError, cache_dir
from ..backend.lower import Kernel, Lowered, lower
from ..backend.optimize import optimize
from ..config import all_finite, config, debug_nans
from ..core import tree
from ..core.errors import (parameters_of, argument_leaves, check_argnames, check_argnums, check_callable,
                           describe_value, join, join_arguments, name_of, traced_origin, with_location)
from ..core.ir import Var
from ..core.trace import _local, eval_program, trace_to_program
from ..primitives import indexing, shape
from .grad import NOT_NUMBERS, leaf_dtype


class _Static:
    """A static argument's value, hashed into the signature."""
    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __hash__(self):
        return hash(self.value)

    def __eq__(self, other):
        return isinstance(other, _Static) and self.value == other.value


# the signature of an array argument; compiled code takes C-contiguous arrays, and other ones
# take the slow path, which makes them contiguous
_array_key = operator.attrgetter("__class__", "shape", "dtype", "flags.c_contiguous")


def _structure(x: Any, leaves: list) -> Any:
    """The pytree structure of ``x`` as nested tuples (hashed in C, unlike TreeDef), appending
    its leaves to ``leaves``; only for the call's fast path."""
    kind = type(x)
    if kind is np.ndarray:
        leaves.append(x)
        return None
    if kind is tuple or kind is list:
        return kind, tuple([_structure(c, leaves) for c in x])
    if kind is dict:
        keys = sorted(x)
        return dict, tuple(keys), tuple([_structure(x[k], leaves) for k in keys])
    if x is None:
        return kind
    node = tree._node_type(x)
    if node is None:
        leaves.append(x)
        return None
    children, aux = node.flatten(x)
    return kind, aux, tuple([_structure(c, leaves) for c in children])


_VIEWS = {shape.reshape, shape.transpose, shape.broadcast_to, indexing.gather}


class CompiledProgram:
    """One signature's program: the glue function and its kernel table."""

    def __init__(self, lowered: Lowered, name: str, cache: str | None, strict: bool):
        self.lowered, self.name, self.cache, self.strict = lowered, name, cache, strict
        self.jobs: list = []
        self._warned = False
        self._pending: list = []  # compile failures not yet reported
        self._failures: list[CompileError] = []  # with strict=True: raised by the call that compiled
        self.numpy_kernels = [k.numpy_version() for k in lowered.kernels]
        self.dispatchers: list = [None] * len(lowered.kernels)  # Numba's, once compiled
        self.kernels: list = [self._first_call(i, k) for i, k in enumerate(lowered.kernels)]
        self.run = lowered.make_callable(self.kernels)
        if strict:
            self.run = self._checked(self.run)
        program = lowered.program
        producers = {e.out: e.prim for e in program.eqns}
        # outputs that may share memory with an input, a constant or another value get copied
        self.copy_out = [not isinstance(v, Var) or v in program.invars or producers.get(v) in _VIEWS
                         or v.aval.ndim == 0 for v in program.outvars]
        self.out_tree = program.out_tree
        outs = [v.aval for v in program.outvars]
        self.finish = tree.unflattener(self.out_tree, [
            (functools.partial(np.asarray, dtype=a.dtype) if a.ndim == 0 else np.array) if copy else None
            for a, copy in zip(outs, self.copy_out)])
        self.call_flat = self._fast_call()

    def _fast_call(self) -> Callable:
        """The call for flat array arguments, with the output handling decided once."""
        run, copy_out, out_tree, kernels = self.run, self.copy_out, self.out_tree, self.kernels
        if out_tree.num_leaves == 1 and out_tree.node_class is None and not copy_out[0]:
            if self.lowered.direct and not self.strict:  # skip the glue: call the piece (looked up: it is swapped when compiled)
                return lambda args: kernels[0](*args)[0]
            return lambda args: run(*args)[0]
        finish = self.finish
        return lambda args: finish(run(*args))

    def _first_call(self, i: int, kernel: Kernel) -> Callable:
        def first_call(*args):
            self.kernels[i] = self.numpy_kernels[i]
            self.jobs.append(COMPILER.submit(kernel, args, functools.partial(self._install, i, kernel), self.cache))
            return self.kernels[i](*args)
        return first_call

    def _checked(self, run: Callable) -> Callable:
        """``run``, for ``strict=True``: a call that started compiles waits for them (its kernels
        compile side by side, as they do without ``strict``) and raises :class:`CompileError`
        for the first kernel Numba could not compile."""
        def checked_run(*args):
            started = len(self.jobs)
            out = run(*args)
            if len(self.jobs) > started:
                for job in self.jobs[started:]:
                    job.done.wait()
                if self._failures:
                    raise self._failures[0]
            return out
        return checked_run

    def _install(self, i: int, kernel: Kernel, compiled, error: Exception | None) -> None:
        """Called by the compile thread. A failure is reported in the caller's thread, by the
        next call of the kernel (a warning from the compile thread would surface anywhere), or
        with ``strict=True`` raised by the call that compiled it."""
        if error is None:
            entry, self.dispatchers[i] = compiled
            self.kernels[i] = one_blas_thread(entry) if kernel.blas_in_loops else entry
            return
        if self.strict:
            failure = CompileError(self._describe(kernel, error))
            failure.__cause__ = error
            self._failures.append(failure)
            return
        numpy_version = self.numpy_kernels[i]
        message = self._describe(kernel, error) + " Running them with NumPy instead (jit(..., strict=True) raises instead)."

        def report_then_run(*args):
            self.kernels[i] = numpy_version
            self._report(message)
            return numpy_version(*args)

        self.kernels[i] = report_then_run
        self._pending.append((i, message))

    def _report(self, message: str) -> None:
        self._pending = [p for p in self._pending if p[1] != message]
        if not self._warned:
            self._warned = True
            warnings.warn(message, RuntimeWarning, stacklevel=4)

    def _describe(self, kernel: Kernel, error: Exception) -> str:
        eqns = "\n".join(f"    {e.out.aval} = {e.prim.name} ({e.source or 'unknown line'})" for e in kernel.eqns)
        reason = str(error).strip().splitlines()
        return (f"micrograd.jit: Numba could not compile {kernel.name} of {self.name}, which computes:\n{eqns}\n"
                f"  because: {type(error).__name__}: {' / '.join(reason[:6])}")

    def __call__(self, leaves: Sequence[Any]) -> Any:
        return self.finish(self.run(*leaves))

    def wait(self, timeout: float | None = None) -> bool:
        done = all(job.done.wait(timeout) for job in list(self.jobs))
        for i, message in list(self._pending):
            self.kernels[i] = self.numpy_kernels[i]
            self._report(message)
        return done


class Jitted:
    """A function compiled per signature; see :func:`jit`."""

    def __init__(self, f: Callable, static_argnums: Sequence[int], static_argnames: Sequence[str],
                 donate_argnums: Sequence[int], cache: str | bool | None, strict: bool):
        functools.update_wrapper(self, f)
        self.f = f
        self._given = tuple(static_argnums), tuple(static_argnames)  # as written, for messages
        self._params = parameters_of(f)
        # a static parameter is static however it is passed: by position or by name
        self.static_argnums, self.static_argnames = self._resolve_static(*self._given)
        # as in JAX: the arrays of these arguments may be overwritten by results (compiled loops
        # write a result into a donated input of its shape once nothing else reads it), so the
        # caller must not use them after the call
        self.donate_argnums = tuple(donate_argnums)
        self.cache = cache_dir(cache)
        self.strict = strict
        self.programs: dict[Any, CompiledProgram] = {}
        self._flat_programs: dict[tuple, CompiledProgram] = {}  # keyed by _array_key per argument
        self._tree_programs: dict[tuple, CompiledProgram] = {}  # keyed by _structure and _array_key
        self._flat_ok = not self.static_argnums and not self.static_argnames
        self.trace_count = 0
        self._lock = threading.Lock()

    def _resolve_static(self, nums: tuple, names: tuple) -> tuple[tuple, tuple]:
        """``static_argnums`` and ``static_argnames`` checked against ``f``'s signature (when it has
        one), each completed with the parameters the other names."""
        if self._params is None:
            return nums, names
        positional, by_keyword, params, var_positional, var_keyword = self._params
        fn = name_of(self.f)
        for i in nums:
            if not var_positional and not -len(positional) <= i < len(positional):
                raise ValueError(with_location(
                    f"jit({fn}): static_argnums names position {i}, but {fn} takes "
                    f"{len(positional)} positional argument{'s' if len(positional) != 1 else ''}"
                    f"{' (' + ', '.join(positional) + ')' if positional else ''}"))
        for name in names:
            param = params.get(name)
            if param is None and not var_keyword or param is not None and param.kind in (
                    param.VAR_POSITIONAL, param.VAR_KEYWORD):
                raise ValueError(with_location(
                    f"jit({fn}): static_argnames names {name!r}, which is not a parameter of "
                    f"{fn} (its parameters: {', '.join(params) or 'none'})"))
            if param is not None and param.kind is param.POSITIONAL_ONLY:
                raise ValueError(with_location(
                    f"jit({fn}): static_argnames names {name!r}, a positional-only parameter; "
                    f"use static_argnums={positional.index(name)}"))
        more_nums = tuple(positional.index(n) for n in names if n in by_keyword)
        more_names = tuple(positional[i] for i in nums if 0 <= i < len(positional) and positional[i] in by_keyword)
        return tuple(dict.fromkeys(nums + more_nums)), tuple(dict.fromkeys(names + more_names))

    def _split(self, args: tuple, kwargs: dict):
        """(the signature key, the leaves of the dynamic arguments as C-contiguous arrays)."""
        if not self.static_argnums and not self.static_argnames and not kwargs:
            static, dynamic = (), args
        else:
            n = len(args)
            nums = {i % n for i in self.static_argnums if -n <= i < n}
            static = tuple(_Static(args[i]) for i in sorted(nums)) + tuple(
                (k, _Static(v)) for k, v in sorted(kwargs.items()) if k in self.static_argnames)
            dynamic = (tuple(a for i, a in enumerate(args) if i not in nums),
                       {k: v for k, v in kwargs.items() if k not in self.static_argnames})
            try:
                hash(static)
            except TypeError:
                self._unhashable(args, kwargs, nums)
        leaves, treedef = tree.flatten(dynamic)
        leaves = [x if type(x) is np.ndarray and x.flags.c_contiguous else np.asarray(x, order="C") for x in leaves]
        return (treedef, static, tuple(map(_array_key, leaves))), leaves

    def _unhashable(self, args: tuple, kwargs: dict, nums: set) -> None:
        static = [(f"static argument {i}" + (f" ({self._params[0][i]})" if self._params and i < len(self._params[0])
                                             else ""), args[i]) for i in sorted(nums)]
        static += [(f"static argument {k}", v) for k, v in sorted(kwargs.items()) if k in self.static_argnames]
        for what, value in static:
            try:
                hash(value)
            except TypeError:
                advice = ("arrays are traced: leave it out of static_argnums and static_argnames (or pass a Python "
                          "number)" if isinstance(value, np.ndarray) else
                          "pass a tuple instead of a list, a tuple of (key, value) pairs instead of a dict")
                raise TypeError(with_location(
                    f"jit({name_of(self.f)}): {what} is {describe_value(value)}, which is not hashable, but static "
                    f"arguments must be: jit keeps one compiled version per value of its static arguments. "
                    f"{advice[0].upper()}{advice[1:]}.")) from None

    def _suggest_static(self, leaves: list) -> str:
        """``mg.jit(f, static_argnums=...)`` and/or ``mg.jit(f, static_argnames=...)`` that make
        these arguments static, keeping those already static."""
        fn = name_of(self.f)
        fn = fn if fn.isidentifier() else "f"
        given_nums, given_names = self._given
        keyword_names = self._params[1] if self._params else set()
        nums = list(dict.fromkeys(list(given_nums) + [l.position for l in leaves if l.position is not None]))
        names = list(dict.fromkeys(list(given_names) + [l.name for l in leaves if l.name and (
            l.keyword or l.name in keyword_names)]))

        def call(nums, names):
            show = (lambda v: repr(v[0]) if len(v) == 1 else repr(tuple(v)))
            return f"mg.jit({fn}" + (f", static_argnums={show(nums)}" if nums else "") + (
                f", static_argnames={show(names)}" if names else "") + ")"
        options = []
        if all(l.position is not None for l in leaves):
            options.append(call(nums, list(given_names)))
        if all(l.name and (l.keyword or l.name in keyword_names) for l in leaves):
            options.append(call(list(given_nums), names))
        named = leaves[0].name if len(leaves) == 1 and leaves[0].name else None
        note = ""
        for leaf in leaves:
            value = leaf.whole
            if isinstance(value, (np.ndarray, np.generic)):
                note = f"; pass {leaf.argument()} as a Python number: static arguments are not arrays"
                break
            try:
                hash(value)
            except TypeError:
                note = (f"; static arguments must be hashable, so pass {leaf.argument()} as a tuple rather than a "
                        f"{type(value).__name__}")
                break
        return (f"Mark {'it' if len(leaves) == 1 else 'them'} static: {' or '.join(options)} ({fn} is then traced "
                f"and compiled once for each value{' of ' + named if named else ''}{note}).")

    def _check_traceable(self, leaves: list) -> None:
        """Arguments jit traces are arrays and numbers (complex ones too)."""
        for leaf in leaves:
            if leaf_dtype(leaf.value).kind in NOT_NUMBERS:
                raise TypeError(with_location(
                    f"jit({name_of(self.f)}): {leaf} is {describe_value(leaf.value)}, which jit cannot trace: it "
                    f"traces arrays and numbers, or tuples, lists and dicts of them, and every argument not marked "
                    f"static. {self._suggest_static([leaf])}"))

    def _conversion_error(self, error: Exception, inputs: list, leaves: list) -> Exception | None:
        """``error``, raised while tracing, rewritten when a value computed from traced arguments was
        used where a Python value is needed (``range(n)``, ``np.zeros(n)``, ``if flag:``): it names
        the arguments, and says to make the ones given Python numbers static."""
        origin = traced_origin(error, inputs)
        if origin is None:
            return None
        fn = name_of(self.f)
        if origin.inputs is None:  # the value itself was not found: suspect the numbers jit traced
            message = str(error)
            suspects = [l for i, l in enumerate(leaves) if l.scalar and f"Tracer<{inputs[i].aval}>" in message]
            if not suspects:
                return None
            described = join(dict.fromkeys(str(l) for l in suspects))
            what = (f"it is computed from arguments of {fn} that jit traces (which ones is not known here; "
                    f"{described} {'is' if len(suspects) == 1 else 'are'} given Python numbers, which jit traces "
                    f"like every argument not marked static)")
            return origin.error(what, self._suggest_static(suspects))
        used = [leaves[i] for i in origin.inputs]
        if not used:
            return None
        arguments = join_arguments(used)
        scalars = [l for l in used if l.scalar]
        if len({str(l) for l in used}) == 1:
            what = (f"{origin.about(arguments)} of {fn}, {used[0].kind()} that jit traces like every argument not "
                    f"marked static")
        else:
            what = f"{origin.about(arguments)} of {fn}, which jit traces like every argument not marked static"
        if not scalars:
            return origin.error(what, origin.hint)
        advice = self._suggest_static(scalars)
        if any(not isinstance(l.value, (bool, int, float, complex)) for l in used):  # arrays: the usual hint first
            advice = f"{origin.hint} {advice}".strip()
        elif "where" in origin.hint:
            advice += f" Or keep it traced: {origin.hint[:1].lower()}{origin.hint[1:]}"
        return origin.error(what, advice)

    def _dynamic_function(self, args: tuple, kwargs: dict) -> Callable:
        if not self.static_argnums and not self.static_argnames and not kwargs:
            return self.f
        n = len(args)
        nums = sorted({i % n for i in self.static_argnums if -n <= i < n})

        def f_of_dynamic(dyn_args, dyn_kwargs):
            full, it = [], iter(dyn_args)
            for i in range(n):
                full.append(args[i] if i in nums else next(it))
            return self.f(*full, **dyn_kwargs, **{k: v for k, v in kwargs.items() if k in self.static_argnames})
        return f_of_dynamic

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if getattr(_local, "stack", None):  # inside another transform: run inline, recording into its trace
            return self.f(*args, **kwargs)
        if config.debug_nans:
            return self._call_hunting_nans(args, kwargs)
        if not kwargs and self._flat_ok:
            try:  # fast path 1: positional arrays
                program = self._flat_programs.get(tuple(map(_array_key, args)))
            except AttributeError:  # not all arrays
                program = None
            if program is not None:
                return program.call_flat(args)
            leaves: list = []
            try:  # fast path 2: containers of arrays, keyed by a structure of plain tuples
                program = self._tree_programs.get((_structure(args, leaves), tuple(map(_array_key, leaves))))
            except (AttributeError, TypeError):
                program = None
            if program is not None:
                return program(leaves)
        key, leaves = self._split(args, kwargs)
        program = self.programs.get(key)
        if program is None:
            program = self._compile(key, args, kwargs, leaves)
            if not kwargs and self._flat_ok:
                self._remember_fast_keys(args, program)
        return program(leaves)

    def _call_hunting_nans(self, args: tuple, kwargs: dict) -> Any:
        """Run compiled; if a result is not finite, run the program again one equation at a
        time (the interpreter checks each) to name the equation that made it."""
        key, leaves = self._split(args, kwargs)
        program = self.programs.get(key) or self._compile(key, args, kwargs, leaves)
        with debug_nans(False):
            result = program(leaves)
        if all(all_finite(r) for r in tree.leaves(result)) or not all(all_finite(x) for x in leaves):
            return result
        eval_program(program.lowered.program, leaves)  # raises at the culprit
        raise FloatingPointError(f"{getattr(self.f, '__name__', 'f')} (jitted) produced a NaN or infinity that "
                                 "the interpreter does not reproduce (different rounding in compiled code?)")

    def _remember_fast_keys(self, args: tuple, program: CompiledProgram) -> None:
        if all(type(a) is np.ndarray for a in args):
            self._flat_programs[tuple(map(_array_key, args))] = program
        leaves: list = []
        try:
            structure = _structure(args, leaves)
        except TypeError:  # an unhashable static part: no fast path
            return
        if all(type(x) is np.ndarray for x in leaves):
            self._tree_programs[(structure, tuple(map(_array_key, leaves)))] = program

    def _compile(self, key, args, kwargs, leaves) -> CompiledProgram:
        with self._lock:
            program = self.programs.get(key)
            if program is None:
                program = CompiledProgram(self.lower(*args, **kwargs), getattr(self.f, "__name__", "f"),
                                          self.cache, self.strict)
                self.programs[key] = program
        return program

    def lower(self, *args: Any, **kwargs: Any) -> Lowered:
        """Trace, optimize and lower for these arguments; ``.as_text()`` shows the generated code."""
        self.trace_count += 1
        key, leaves = self._split(args, kwargs)
        treedef = key[0]
        n = len(args)
        static = {i % n for i in self.static_argnums if -n <= i < n}
        described = argument_leaves(self.f, [(i, a) for i, a in enumerate(args) if i not in static],
                                    {k: v for k, v in kwargs.items() if k not in self.static_argnames})
        self._check_traceable(described)
        f_dyn = self._dynamic_function(args, kwargs)

        def explaining(*tracers):
            try:
                return f_dyn(*tracers)
            except TypeError as e:
                better = self._conversion_error(e, tree.leaves(tracers), described)
                if better is None:
                    raise
                raise better.with_traceback(e.__traceback__) from None

        name = f"jit({name_of(self.f)})"
        if f_dyn is self.f:
            program = trace_to_program(explaining, tuple(tree.unflatten(treedef, leaves)), name)
        else:
            program = trace_to_program(explaining, tree.unflatten(treedef, leaves), name)
        return lower(optimize(program), self._donated_inputs(args, program))

    def _donated_inputs(self, args: tuple, program) -> list:
        """The program inputs that are leaves of the arguments ``donate_argnums`` names."""
        if not self.donate_argnums:
            return []
        n = len(args)
        static = {i % n for i in self.static_argnums if -n <= i < n}
        donate = {i % n for i in self.donate_argnums if -n <= i < n}
        donated, start = [], 0
        for i, a in enumerate(args):
            if i in static:
                continue
            count = len(tree.leaves(a))
            if i in donate:
                donated += program.invars[start:start + count]
            start += count
        return donated

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every kernel submitted for compilation so far is compiled (or failed)."""
        return all(p.wait(timeout) for p in list(self.programs.values()))

    def __get__(self, obj, objtype=None):  # jit on a method binds like a function
        return self if obj is None else functools.partial(self, obj)


def wait_for_compiles(timeout: float | None = None) -> bool:
    """Block until every kernel handed to the background compiler so far, by any jitted
    function (the eager optimizers' compiled updates included), is compiled or has failed.
    Returns False if ``timeout`` seconds ran out first.

    >>> import micrograd as mg
    >>> mg.wait_for_compiles()
    True
    """
    return COMPILER.wait_idle(timeout)


def jit(f: Callable | None = None, *, static_argnums: int | Sequence[int] = (), static_argnames: str | Sequence[str] = (),
        donate_argnums: int | Sequence[int] = (), cache: str | bool | None = None, strict: bool = False):
    """Compile ``f``: trace it once per signature (pytree structure, shapes, dtypes, static
    argument values), optimize and fuse the program into loops compiled with Numba, and reuse
    the result on later calls with that signature.

    Kernels compile in a background thread; until each is ready its NumPy version runs, so the
    first call returns without waiting for the compiler (``.wait()`` blocks until all are
    compiled). ``cache`` is a folder for compiled kernels (default ``$MICROGRAD_CACHE_DIR``,
    else ~/.cache/micrograd/jit; ``False``: no disk cache). With ``strict=True`` the first call
    of a signature returns only once its kernels are compiled (its results come from their
    NumPy versions; they compile side by side meanwhile), and a kernel Numba cannot compile
    raises :class:`CompileError` instead of running with NumPy.

    Arguments are traced, except those ``static_argnums`` (positions) and ``static_argnames``
    (names) mark static: hashable values (a size, a flag, a string) that ``f`` may use as Python
    values, each new value tracing ``f`` again. A parameter either one names is static
    however it is passed, by position or by name.

    >>> import numpy as np, micrograd as mg
    >>> step = mg.jit(mg.grad(lambda w, x: np.sum(np.tanh(w * x))))
    >>> step(np.array([0.5, 1.0]), np.array([1.0, 2.0])).round(4)
    array([0.7864, 0.1413])
    """
    if f is not None:
        check_callable(f, "jit")
    fn = "jit" if f is None else f"jit({name_of(f)})"
    as_tuple = (lambda v: (v,) if isinstance(v, int) else v)
    static_argnums = as_tuple(check_argnums(static_argnums, fn, "static_argnums"))
    static_argnames = check_argnames(static_argnames, fn, "static_argnames")
    donate_argnums = as_tuple(check_argnums(donate_argnums, fn, "donate_argnums"))
    if f is None:
        return lambda f: jit(f, static_argnums=static_argnums, static_argnames=static_argnames,
                             donate_argnums=donate_argnums, cache=cache, strict=strict)
    return Jitted(f, static_argnums, static_argnames, donate_argnums, cache, strict)
