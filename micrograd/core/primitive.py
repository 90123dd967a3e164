"""The primitive table: every operation micrograd knows is a :class:`Primitive` with its rules.

=========  ================================================================================
``impl``   compute it with NumPy
``shape``  output :class:`Aval` from input avals (abstract evaluation while tracing)
``jvp``    forward mode: one linear map per input, ``rule(tangent, out, *args, **params)``,
           whose results are summed; or one callable ``rule(tangents, out, *args, **params)``
           taking all tangents (``None`` for zero) when the inputs do not separate
``vjp``    reverse mode: one map per input, ``rule(cotangent, out, *args, **params)``
``batch``  vmap: ``rule(args, dims, **params) -> (out, out_dim)`` where ``dims[i]`` is the batch
           axis of ``args[i]`` (``None``: not batched); it moves the batch into the primitive
``lower``  for elementwise primitives, the scalar code one element becomes inside a compiled
           loop: a template (``"({0} + {1})"``, ``{dt}`` names the dtype's constructor) or
           ``rule(dt, *operand_code, **params)``; other primitives run their ``impl`` between loops
=========  ================================================================================

A primitive with several results (``multiple_results=True``: a decomposition such as ``eigh``)
has a ``shape`` rule returning a list of avals, an ``impl`` returning a tuple, one ``jvp``
callable ``rule(tangents, outs, *args) -> out tangents`` and one ``vjp`` callable
``rule(cotangents, outs, *args) -> input cotangents`` (``None`` for zero, in and out), and a
``batch`` rule returning lists of results and batch axes.

A primitive may also give reverse mode a pair of rules that keep values between the passes:
``fwd(*args) -> (outs, residuals)`` computes the results and what the backward pass needs, and
``bwd(residuals, cotangents, *args) -> input cotangents``. Loops use them (the forward loop saves
each step's values for the backward loop), as do ``custom_vjp`` and ``checkpoint``. Without a
``vjp`` rule, one is made from them, running ``fwd`` again when the cotangents arrive.

A rule of ``None`` means the input has no derivative (integer indices, a condition) and a rule
that returns ``None`` means a zero contribution. Rules are written with micrograd's own
operations, so derived programs can be traced and differentiated again.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

from .trace import bind

Rule = Callable[..., Any]

PRIMITIVES: dict[str, "Primitive"] = {}


class PerOperand:
    """Rules for a primitive with any number of operands: ``PerOperand(lambda i: rule_for_i)``."""

    def __init__(self, rule_for: Callable[[int], Rule | None]):
        self.rule_for = rule_for

    def __getitem__(self, i: int) -> Rule | None:
        return self.rule_for(i)


class Primitive:
    def __init__(self, name: str, impl: Callable, shape: Callable, *,
                 jvp: Sequence[Rule | None] | PerOperand | Rule | None = None,
                 vjp: Sequence[Rule | None] | PerOperand | None = None,
                 batch: Rule | None = None, lower: str | Rule | None = None, multiple_results: bool = False,
                 fwd: Rule | None = None, bwd: Rule | None = None, in_table: bool = True):
        self.name, self.impl, self.shape = name, impl, shape
        self.jvp, self.vjp, self.batch, self.lower = jvp, vjp, batch, lower
        self.multiple_results = multiple_results
        self.fwd, self.bwd = fwd, bwd
        if vjp is None and fwd is not None:
            self.vjp = lambda cts, outs, *args, **params: bwd(fwd(*args, **params)[1], cts, *args, **params)
        if in_table:  # (the compiler's own operations, which only jit's optimizer writes, are not)
            PRIMITIVES[name] = self

    # applying a primitive is binding it: ``bind`` itself, without a frame in between (the hot path
    # of eager code and of tracing)
    __call__ = bind

    def __repr__(self):
        return f"Primitive({self.name})"
