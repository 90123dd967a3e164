"""Control flow that traced programs can hold: ``scan``, ``fori_loop``, ``while_loop``, ``cond``
and ``switch``, with JAX's signatures and semantics.

Each is a *higher-order primitive*: its parameters hold sub-programs (a loop body, the branches),
traced once from your function (shapes and dtypes of carries and branch outputs checked), and
each transform handles it by transforming the sub-program: the jvp of a loop is a loop of the
body's jvp; reverse mode runs a forward loop that saves each step's values, then a loop
backwards through the body's backward pass; vmap batches the body (a batched loop condition
runs until every member is done, a batched ``cond`` predicate computes both branches and
selects); ``jit`` compiles loops as loops. ``make_ir`` prints the sub-programs nested:

>>> import numpy as np, micrograd as mg
>>> def cumulative(xs):
...     def step(total, x):
...         total = total + x
...         return total, total  # (the new carry, this step's output)
...     return mg.lax.scan(step, 0.0, xs)[1]
>>> cumulative(np.array([1.0, 2.0, 3.0]))
array([1., 3., 6.])
>>> mg.grad(lambda xs: cumulative(xs).sum())(np.array([1.0, 2.0, 3.0]))
array([3., 2., 1.])
>>> print(mg.make_ir(cumulative)(np.zeros(3)))
{ lambda ; a:f64[3]. let
    b:f64[] c:f64[3] = scan[length=3 reverse=False num_consts=0 num_carry=1] 0.0:f64 a
      body={ lambda ; a:f64[] b:f64[]. let
            c:f64[] = add a b
          in (c c) }
  in (c) }
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from .core import tree
from .core.errors import NotDifferentiableError, ShapeError, with_location
from .core.ir import Aval, Program, Var, aval_of
from .core.primitive import Primitive
from .core.trace import Tracer, eval_program, trace_avals, trace_closed
from .primitives import elementwise as ew
from .primitives import shape as sh
from .transforms.subprograms import batch_program, jvp_program, residual_programs, vjp_program

__all__ = ["scan", "fori_loop", "while_loop", "cond", "switch"]


def _name(f: Callable) -> str:
    return getattr(f, "__name__", type(f).__name__)


def _describe(avals: Sequence[Aval], treedef) -> str:
    return f"{treedef} with {', '.join(map(repr, avals)) or 'no arrays'}"


def _permuted(program: Program, invars: Sequence[Var] | None = None, outvars: Sequence | None = None) -> Program:
    return Program(list(program.invars if invars is None else invars), program.eqns,
                   list(program.outvars if outvars is None else outvars))


def _zeros(aval: Aval, leading: tuple = ()) -> np.ndarray:
    return np.zeros(leading + aval.shape, aval.dtype)


# --- scan -------------------------------------------------------------------------------------------

def _scan_split(args, num_consts, num_carry):
    return list(args[:num_consts]), list(args[num_consts:num_consts + num_carry]), list(args[num_consts + num_carry:])


def _scan_impl(*args, body: Program, length: int, reverse: bool, num_consts: int, num_carry: int):
    consts, carry, xs = _scan_split(args, num_consts, num_carry)
    ys = [_zeros(v.aval, (length,)) for v in body.outvars[num_carry:]]
    for i in (range(length - 1, -1, -1) if reverse else range(length)):
        outs = eval_program(body, consts + carry + [x[i] for x in xs])
        carry = outs[:num_carry]
        for buffer, y in zip(ys, outs[num_carry:]):
            buffer[i] = y
    return [np.asarray(c) for c in carry] + ys


def _scan_shape(*avals, body: Program, length: int, reverse: bool, num_consts: int, num_carry: int):
    expected = body.in_avals[:num_consts + num_carry] + [Aval((length,) + a.shape, a.dtype)
                                                         for a in body.in_avals[num_consts + num_carry:]]
    if list(avals) != expected:
        raise ShapeError(with_location(f"scan: operands {list(avals)} do not fit the body, which takes {expected}"))
    outs = body.out_avals
    return outs[:num_carry] + [Aval((length,) + a.shape, a.dtype) for a in outs[num_carry:]]


def _scan_jvp(tangents, outs, *args, body, length, reverse, num_consts, num_carry):
    nc, nk = num_consts, num_carry
    nonzero = [t is not None for t in tangents]
    while True:  # a carry has a tangent if its start has one or the body gives it one: iterate to the fixpoint
        carry_nz = nonzero[nc:nc + nk]
        jbody, out_nz = jvp_program(body, nonzero, "jvp of a scan body", instantiate=carry_nz + [False] * (len(outs) - nk))
        grown = [a or b for a, b in zip(carry_nz, out_nz[:nk])]
        if grown == carry_nz:
            break
        nonzero = nonzero[:nc] + grown + nonzero[nc + nk:]
    # the jvp body's inputs are (consts, carry, xs, their tangents) and outputs (carry, ys, their
    # tangents): reorder them into the scan's layout, tangents beside their primals
    n_in, n_out = len(body.invars), len(body.outvars)
    primals, tangent_vars = jbody.invars[:n_in], iter(jbody.invars[n_in:])
    tangent_in = [next(tangent_vars) if nz else None for nz in nonzero]
    group = lambda vs, ts, lo, hi: vs[lo:hi] + [t for t in ts[lo:hi] if t is not None]  # noqa: E731
    invars = group(primals, tangent_in, 0, nc) + group(primals, tangent_in, nc, nc + nk) + group(primals, tangent_in, nc + nk, n_in)
    out_primals, tangent_outs = jbody.outvars[:n_out], iter(jbody.outvars[n_out:])
    tangent_out = [next(tangent_outs) if nz else None for nz in out_nz]
    outvars = group(out_primals, tangent_out, 0, nk) + group(out_primals, tangent_out, nk, n_out)
    operands = list(args)
    tangent_operands = [(t if t is not None else _zeros(aval_of(a))) for t, a, nz in zip(tangents, args, nonzero)]
    consts, carry, xs = _scan_split(operands, nc, nk)
    t_consts, t_carry, t_xs = _scan_split(tangent_operands, nc, nk)
    pick = lambda values, marks: [v for v, m in zip(values, marks) if m]  # noqa: E731
    results = scan_p(*consts, *pick(t_consts, nonzero[:nc]), *carry, *pick(t_carry, nonzero[nc:nc + nk]),
                     *xs, *pick(t_xs, nonzero[nc + nk:]), body=_permuted(jbody, invars, outvars), length=length,
                     reverse=reverse, num_consts=nc + sum(nonzero[:nc]), num_carry=nk + sum(nonzero[nc:nc + nk]))
    n_carry_tangents = sum(out_nz[:nk])
    carry_tangents = iter(results[nk:nk + n_carry_tangents])
    y_tangents = iter(results[nk + n_carry_tangents + n_out - nk:])
    return [next(carry_tangents) if nz else None for nz in out_nz[:nk]] + [next(y_tangents) if nz else None
                                                                            for nz in out_nz[nk:]]


def _scan_fwd(*args, body, length, reverse, num_consts, num_carry):
    """The forward loop of reverse mode: the body also returns, each step, the values its
    backward pass reads (loop invariants and per-step inputs excepted: the backward loop gets
    those as they are)."""
    nc, nk = num_consts, num_carry
    saved = [False] * nc + [True] * nk + [False] * (len(body.invars) - nc - nk)
    forward, _, n_res = residual_programs(body, saved, "scan body")
    outs = scan_p(*args, body=forward, length=length, reverse=reverse, num_consts=nc, num_carry=nk)
    n_out = len(body.outvars)
    return outs[:n_out], outs[n_out:]


def _scan_bwd(residuals, cts, *args, body, length, reverse, num_consts, num_carry):
    """The backward loop: in the opposite direction, the body's backward pass maps each step's
    output cotangents to its inputs' cotangents; the carry holds the carry's cotangent and the
    sum of the loop invariants' ones."""
    nc, nk = num_consts, num_carry
    consts, carry, xs = _scan_split(list(args), nc, nk)
    saved = [False] * nc + [True] * nk + [False] * len(xs)
    _, backward, n_res = residual_programs(body, saved, "scan body")
    out_avals = body.out_avals
    cts = [ct if ct is not None else _zeros(a, () if i < nk else (length,)) for i, (ct, a) in enumerate(zip(cts, out_avals))]
    in_avals = body.in_avals

    def step(*flat):
        c, ct_carry, acc, rest = flat[:nc], flat[nc:nc + nk], flat[nc + nk:2 * nc + nk], flat[2 * nc + nk:]
        res_t, x_t, ct_y = rest[:n_res], rest[n_res:n_res + len(xs)], rest[n_res + len(xs):]
        ct_in = eval_program(backward, list(res_t) + list(c) + list(x_t) + list(ct_carry) + list(ct_y))
        ct_consts, ct_carry_in, ct_x = ct_in[:nc], ct_in[nc:nc + nk], ct_in[nc + nk:]
        return list(ct_carry_in) + [a + b for a, b in zip(acc, ct_consts)] + list(ct_x)

    step_avals = (in_avals[:nc] + out_avals[:nk] + in_avals[:nc] + [v.aval for v in backward.invars[:n_res]]
                  + in_avals[nc + nk:] + out_avals[nk:])
    step_program = trace_avals(step, step_avals, "backward of a scan body")
    outs = scan_p(*consts, *cts[:nk], *[_zeros(a) for a in in_avals[:nc]], *residuals, *xs, *cts[nk:],
                  body=step_program, length=length, reverse=not reverse, num_consts=nc, num_carry=nk + nc)
    ct_init, ct_consts, ct_xs = outs[:nk], outs[nk:nk + nc], outs[nk + nc:]
    return list(ct_consts) + list(ct_init) + list(ct_xs)


def _scan_batch(args, dims, body, length, reverse, num_consts, num_carry):
    nc, nk = num_consts, num_carry
    size = sh.batch_size(args, dims)
    batched = [d is not None for d in dims]
    while True:
        carry_b = batched[nc:nc + nk]
        bbody, out_b = batch_program(body, batched, size, "vmap of a scan body",
                                     force=carry_b + [False] * (len(body.outvars) - nk))
        grown = [a or b for a, b in zip(carry_b, out_b[:nk])]
        if grown == carry_b:
            break
        batched = batched[:nc] + grown + batched[nc + nk:]
    operands = []
    for i, (a, d, b) in enumerate(zip(args, dims, batched)):
        if nc + nk <= i:  # xs: the loop runs over axis 0, so the batch goes to axis 1
            operands.append(a if d is None else sh.move_axis(a, d, 1))
        else:
            operands.append(sh.batch_to_front(a, d, size) if b else a)
    outs = scan_p(*operands, body=bbody, length=length, reverse=reverse, num_consts=nc, num_carry=nk)
    return outs, [0 if b else None for b in out_b[:nk]] + [1 if b else None for b in out_b[nk:]]


scan_p = Primitive("scan", _scan_impl, _scan_shape, jvp=_scan_jvp, fwd=_scan_fwd, bwd=_scan_bwd, batch=_scan_batch,
                   multiple_results=True)


def scan(f: Callable, init: Any, xs: Any = None, length: int | None = None, reverse: bool = False,
         unroll: int = 1) -> tuple[Any, Any]:
    """Loop ``f(carry, x) -> (carry, y)`` over the leading axis of ``xs``, returning the last
    carry and the ``y``s stacked on a new leading axis (JAX's ``lax.scan``). ``carry``, ``xs``
    and ``y`` are any pytrees; the carry must keep its structure, shapes and dtypes. ``xs=None``
    with ``length`` loops without inputs; ``reverse`` runs from the end. (``unroll`` is
    accepted for JAX's signature; compiled loops are not unrolled.)

    >>> import numpy as np, micrograd as mg
    >>> final, ys = mg.lax.scan(lambda c, x: (c * x, c), 1.0, np.array([2.0, 3.0, 4.0]))
    >>> float(final), ys
    (24.0, array([1., 2., 6.]))
    """
    init_leaves, init_tree = tree.flatten(init)
    xs_leaves, xs_tree = tree.flatten(xs)
    x_shapes = [np.shape(x) for x in xs_leaves]
    lengths = {s[0] if s else None for s in x_shapes}
    if None in lengths:
        raise ShapeError(with_location(f"scan of {_name(f)}: every leaf of xs needs a leading axis to loop over, got "
                                       f"shapes {x_shapes}"))
    if len(lengths) > 1 or (length is not None and lengths and lengths != {length}):
        raise ShapeError(with_location(f"scan of {_name(f)}: the leaves of xs disagree on the length to loop over: "
                                       f"shapes {x_shapes}" + (f", length={length}" if length is not None else "")))
    if length is None:
        if not lengths:
            raise ValueError(with_location(f"scan of {_name(f)}: give xs or length"))
        length = lengths.pop()
    carry_avals = [aval_of(x) for x in init_leaves]
    x_avals = [Aval(aval_of(x).shape[1:], aval_of(x).dtype) for x in xs_leaves]
    y_tree = []

    def body(*flat):
        carry = tree.unflatten(init_tree, flat[:len(carry_avals)])
        x = tree.unflatten(xs_tree, flat[len(carry_avals):])
        result = f(carry, x)
        if not (isinstance(result, tuple) and len(result) == 2):
            raise TypeError(with_location(f"scan: {_name(f)} must return a pair (carry, y), got {type(result).__name__}"
                                          + (f" of {len(result)}" if isinstance(result, tuple) else "")))
        new_carry, y = result
        carry_leaves, carry_tree = tree.flatten(new_carry)
        _check_carry(f"scan of {_name(f)}", carry_tree, [aval_of(c) for c in carry_leaves], init_tree, carry_avals)
        y_leaves, tree_of_y = tree.flatten(y)
        y_tree.append(tree_of_y)
        return carry_leaves + y_leaves

    program, consts = trace_closed(body, carry_avals + x_avals, f"scan of {_name(f)}")
    outs = scan_p(*consts, *init_leaves, *xs_leaves, body=program, length=length, reverse=reverse,
                  num_consts=len(consts), num_carry=len(carry_avals))
    return tree.unflatten(init_tree, outs[:len(carry_avals)]), tree.unflatten(y_tree[0], outs[len(carry_avals):])


def _check_carry(what: str, got_tree, got_avals, want_tree, want_avals) -> None:
    if got_tree != want_tree or [(a.shape, a.dtype) for a in got_avals] != [(a.shape, a.dtype) for a in want_avals]:
        raise TypeError(with_location(
            f"{what}: the body must return a carry like the one it was given: expected {_describe(want_avals, want_tree)}, "
            f"got {_describe(got_avals, got_tree)} (give the initial carry the dtype the body computes, e.g. "
            "np.float32(0) or np.zeros(n, np.float32))"))


def fori_loop(lower: int, upper: int, body_fun: Callable, init_val: Any) -> Any:
    """``body_fun(i, val)`` for ``i`` from ``lower`` to ``upper - 1``, returning the final
    ``val`` (JAX's ``lax.fori_loop``). With Python-int bounds it is a ``scan``, which reverse mode
    differentiates; with traced bounds a ``while_loop`` (forward mode only).

    >>> import micrograd as mg
    >>> float(mg.lax.fori_loop(0, 5, lambda i, x: x * 2.0, 1.0))
    32.0
    """
    if isinstance(lower, (int, np.integer)) and isinstance(upper, (int, np.integer)):
        steps = np.arange(int(lower), max(int(upper), int(lower)))
        if steps.size == 0:
            return init_val
        return scan(lambda val, i: (body_fun(i, val), None), init_val, steps)[0]
    i0 = np.asarray(lower) if not isinstance(lower, Tracer) else lower

    def step(state):
        i, val = state
        return i + 1, body_fun(i, val)

    return while_loop(lambda state: state[0] < upper, step, (i0, init_val))[1]


# --- while_loop -------------------------------------------------------------------------------------

def _while_split(args, num_cond_consts, num_body_consts):
    a, b = num_cond_consts, num_cond_consts + num_body_consts
    return list(args[:a]), list(args[a:b]), list(args[b:])


def _while_impl(*args, cond: Program, body: Program, num_cond_consts: int, num_body_consts: int):
    cond_consts, body_consts, carry = _while_split(args, num_cond_consts, num_body_consts)
    while bool(eval_program(cond, cond_consts + carry)[0]):
        carry = eval_program(body, body_consts + carry)
    return [np.asarray(c) for c in carry]


def _while_shape(*avals, cond, body, num_cond_consts, num_body_consts):
    return body.out_avals


def _while_jvp(tangents, outs, *args, cond, body, num_cond_consts, num_body_consts):
    nc, nb = num_cond_consts, num_body_consts
    _, body_tangents, carry_tangents = _while_split(tangents, nc, nb)
    carry_nz = [t is not None for t in carry_tangents]
    body_consts_nz = [t is not None for t in body_tangents]
    while True:
        jbody, out_nz = jvp_program(body, body_consts_nz + carry_nz, "jvp of a while_loop body", instantiate=carry_nz)
        grown = [a or b for a, b in zip(carry_nz, out_nz)]
        if grown == carry_nz:
            break
        carry_nz = grown
    n_in, n_out = len(body.invars), len(body.outvars)
    tangent_in = iter(jbody.invars[n_in:])
    t_consts = [next(tangent_in) for nz in body_consts_nz if nz]
    t_carry = [next(tangent_in) for nz in carry_nz if nz]
    body_program = _permuted(jbody, jbody.invars[:nb] + t_consts + jbody.invars[nb:n_in] + t_carry)
    tangent_avals = [v.aval for v in t_carry]
    cond_program = _permuted(cond, cond.invars + [Var(a) for a in tangent_avals])  # the condition reads the values only
    cond_consts, body_consts, carry = _while_split(list(args), nc, nb)
    results = while_p(*cond_consts, *body_consts, *[t for t in body_tangents if t is not None], *carry,
                      *[t if t is not None else _zeros(aval_of(c)) for t, c, nz in zip(carry_tangents, carry, carry_nz) if nz],
                      cond=cond_program, body=body_program, num_cond_consts=nc, num_body_consts=nb + len(t_consts))
    tangents_out = iter(results[n_out:])
    return [next(tangents_out) if nz else None for nz in carry_nz]


def _while_vjp(cts, outs, *args, cond, body, num_cond_consts, num_body_consts):
    raise NotDifferentiableError(
        "reverse-mode differentiation (grad, vjp, jacrev) through a while_loop is not supported: the number of steps is "
        "known only when it runs, so the steps to go back through are not known while tracing. Use "
        "mg.lax.fori_loop with Python-int bounds, or mg.lax.scan with a fixed length (stopping early with "
        "mg.lax.cond inside); forward mode (jvp, jacfwd) works through while_loop.")


def _while_batch(args, dims, cond, body, num_cond_consts, num_body_consts):
    nc, nb = num_cond_consts, num_body_consts
    size = sh.batch_size(args, dims)
    batched = [d is not None for d in dims]
    cond_b, body_b, carry_b = _while_split(batched, nc, nb)
    while True:
        bbody, out_b = batch_program(body, body_b + carry_b, size, "vmap of a while_loop body", force=carry_b)
        bcond, pred_b = batch_program(cond, cond_b + carry_b, size, "vmap of a while_loop condition")
        grown = [a or b for a, b in zip(carry_b, out_b)]
        if pred_b[0]:  # members stop at different steps: a stopped member's carry stays, so every carry is batched
            grown = [True] * len(carry_b)
        if grown == carry_b:
            break
        carry_b = grown
    operands = [sh.batch_to_front(a, d, size) if (d is not None or (i >= nc + nb and carry_b[i - nc - nb])) else a
                for i, (a, d) in enumerate(zip(args, dims))]
    if not pred_b[0]:
        outs = while_p(*operands, cond=bcond, body=bbody, num_cond_consts=nc, num_body_consts=nb)
        return outs, [0 if b else None for b in carry_b]
    # run until every member is done; members already done keep their carry
    n_carry = len(carry_b)

    def any_running(*flat):
        (running,) = eval_program(bcond, list(flat))
        return [ew.ne(sh.sum_to(ew.cast(running, dtype=np.dtype(np.int64)), ()), np.zeros((), np.int64))]

    def guarded_step(*flat):
        c_consts, b_consts, carry = flat[:nc], flat[nc:nc + nb], list(flat[nc + nb:])
        (running,) = eval_program(bcond, list(c_consts) + carry)
        new = eval_program(bbody, list(b_consts) + carry)
        return [ew.select(sh.reshape(running, shape=(size,) + (1,) * (n.ndim - 1)), n, c) for n, c in zip(new, carry)]

    carry_avals = [Aval((size,) + v.aval.shape, v.aval.dtype) for v in body.outvars]
    cond_avals, body_avals = bcond.in_avals[:nc], bbody.in_avals[:nb]
    any_program = trace_avals(any_running, cond_avals + carry_avals, "vmap of a while_loop condition")
    step_program = trace_avals(guarded_step, cond_avals + body_avals + carry_avals, "vmap of a while_loop body")
    cond_consts, body_consts, carry = _while_split(operands, nc, nb)
    outs = while_p(*cond_consts, *cond_consts, *body_consts, *carry, cond=any_program, body=step_program,
                   num_cond_consts=nc, num_body_consts=nc + nb)
    return outs, [0] * n_carry


while_p = Primitive("while", _while_impl, _while_shape, jvp=_while_jvp, vjp=_while_vjp, batch=_while_batch,
                    multiple_results=True)


def while_loop(cond_fun: Callable, body_fun: Callable, init_val: Any) -> Any:
    """``val = body_fun(val)`` while ``cond_fun(val)`` (JAX's ``lax.while_loop``). Forward mode,
    vmap and jit work through it; reverse mode cannot (the number of steps is not known while
    tracing): use ``fori_loop`` with Python-int bounds, or ``scan``.

    >>> import micrograd as mg
    >>> float(mg.lax.while_loop(lambda x: x < 100.0, lambda x: x * 3.0, 1.0))
    243.0
    """
    leaves, treedef = tree.flatten(init_val)
    avals = [aval_of(x) for x in leaves]

    def cond_body(*flat):
        pred = cond_fun(tree.unflatten(treedef, flat))
        pred_aval = aval_of(pred)
        if pred_aval.shape != () or pred_aval.dtype != np.bool_:
            raise TypeError(with_location(f"while_loop: {_name(cond_fun)} must return a boolean scalar, got {pred_aval}"))
        return [pred]

    def loop_body(*flat):
        new = body_fun(tree.unflatten(treedef, flat))
        new_leaves, new_tree = tree.flatten(new)
        _check_carry(f"while_loop of {_name(body_fun)}", new_tree, [aval_of(x) for x in new_leaves], treedef, avals)
        return new_leaves

    cond_program, cond_consts = trace_closed(cond_body, avals, f"while_loop condition {_name(cond_fun)}")
    body_program, body_consts = trace_closed(loop_body, avals, f"while_loop body {_name(body_fun)}")
    outs = while_p(*cond_consts, *body_consts, *leaves, cond=cond_program, body=body_program,
                   num_cond_consts=len(cond_consts), num_body_consts=len(body_consts))
    return tree.unflatten(treedef, outs)


# --- cond and switch ---------------------------------------------------------------------------------

def _cond_impl(index, *operands, branches: tuple):
    i = min(max(int(index), 0), len(branches) - 1)
    return [np.asarray(o) for o in eval_program(branches[i], list(operands))]


def _cond_shape(index, *avals, branches):
    return branches[0].out_avals


def _cond_jvp(tangents, outs, index, *operands, branches):
    nonzero = [t is not None for t in tangents[1:]]
    out_nz = [False] * len(outs)
    for b in branches:
        out_nz = [a or c for a, c in zip(out_nz, jvp_program(b, nonzero, "jvp of a cond branch")[1])]
    jvp_branches = tuple(jvp_program(b, nonzero, "jvp of a cond branch", instantiate=out_nz)[0] for b in branches)
    results = cond_p(index, *operands, *[t for t in tangents[1:] if t is not None], branches=jvp_branches)
    tangents_out = iter(results[len(outs):])
    return [next(tangents_out) if nz else None for nz in out_nz]


def _cond_vjp(cts, outs, index, *operands, branches):
    """A cond of the branches' vjps: the chosen branch's forward pass runs again, then its
    backward pass."""
    cts = [ct if ct is not None else _zeros(aval_of(o)) for ct, o in zip(cts, outs)]
    vjp_branches = tuple(vjp_program(b, "vjp of a cond branch") for b in branches)
    return [None] + list(cond_p(index, *operands, *cts, branches=vjp_branches))


def _cond_batch(args, dims, branches):
    size = sh.batch_size(args, dims)
    (index, *operands), (index_dim, *operand_dims) = args, dims
    batched = [d is not None for d in operand_dims]
    operands = [sh.move_axis(o, d, 0) if d is not None else o for o, d in zip(operands, operand_dims)]
    out_b = [False] * len(branches[0].outvars)
    for b in branches:
        out_b = [a or c for a, c in zip(out_b, batch_program(b, batched, size, "vmap of a cond branch")[1])]
    if index_dim is not None:  # each member its own branch: compute all, then select
        index = sh.move_axis(index, index_dim, 0)
        clamped = ew.minimum(ew.maximum(index, np.zeros((), index.dtype)), np.asarray(len(branches) - 1, index.dtype))
        results = [eval_program(batch_program(b, batched, size, "vmap of a cond branch", force=[True] * len(out_b))[0],
                                operands) for b in branches]
        outs = results[-1]
        for k in range(len(branches) - 2, -1, -1):
            chosen = ew.eq(clamped, np.asarray(k, index.dtype))
            outs = [ew.select(sh.reshape(chosen, shape=(size,) + (1,) * (o.ndim - 1)), r, o) for r, o in zip(results[k], outs)]
        return outs, [0] * len(outs)
    batched_branches = tuple(batch_program(b, batched, size, "vmap of a cond branch", force=out_b)[0] for b in branches)
    return cond_p(index, *operands, branches=batched_branches), [0 if b else None for b in out_b]


cond_p = Primitive("cond", _cond_impl, _cond_shape, jvp=_cond_jvp, vjp=_cond_vjp, batch=_cond_batch,
                   multiple_results=True)


def _branch_programs(branches: Sequence[Callable], operands: tuple, what: str, labels: Sequence[str]) -> tuple[tuple, list, Any]:
    """Each branch traced on the operands, all taking every branch's closed-over values (each
    ignores the others'), and checked to return the same structure, shapes and dtypes."""
    leaves, treedef = tree.flatten(operands)
    avals = [aval_of(x) for x in leaves]
    traced, out_trees = [], []
    for branch in branches:
        def flat_branch(*flat, branch=branch):
            out_leaves, out_tree = tree.flatten(branch(*tree.unflatten(treedef, flat)))
            out_trees.append(out_tree)
            return out_leaves
        traced.append(trace_closed(flat_branch, avals, f"{what} branch {_name(branch)}"))
    first = traced[0][0]
    for branch, label, (program, _), out_tree in zip(branches[1:], labels[1:], traced[1:], out_trees[1:]):
        if out_tree != out_trees[0] or program.out_avals != first.out_avals:
            raise TypeError(with_location(
                f"{what}: the branches must return the same structure, shapes and dtypes: {labels[0]} "
                f"({_name(branches[0])}) returns {_describe(first.out_avals, out_trees[0])}, {label} ({_name(branch)}) "
                f"returns {_describe(program.out_avals, out_tree)}"))
    all_consts = [c for _, consts in traced for c in consts]
    programs, start = [], 0
    for program, consts in traced:
        n_own = len(consts)
        others = [Var(aval_of(c)) for c in all_consts]  # stand-ins for the other branches' values
        own = program.invars[:n_own]
        invars = others[:start] + own + others[start + n_own:] + program.invars[n_own:]
        programs.append(_permuted(program, invars))
        start += n_own
    return tuple(programs), all_consts + leaves, out_trees[0]


def switch(index: Any, branches: Sequence[Callable], *operands: Any) -> Any:
    """``branches[index](*operands)``, the index clamped to the valid range as in JAX (below 0
    runs the first branch, beyond the end the last). Only the chosen branch runs; derivatives
    flow through it.

    >>> import numpy as np, micrograd as mg
    >>> mg.lax.switch(1, [np.sin, np.cos, np.tan], 0.0)
    array(1.)
    """
    index_aval = aval_of(index)
    if index_aval.shape != () or not np.issubdtype(index_aval.dtype, np.integer):
        raise TypeError(with_location(f"switch: the index must be an integer scalar, got {index_aval}"))
    if not branches:
        raise ValueError(with_location("switch needs at least one branch"))
    programs, flat_operands, out_tree = _branch_programs(branches, operands, "switch",
                                                         [f"branches[{k}]" for k in range(len(branches))])
    return tree.unflatten(out_tree, cond_p(index, *flat_operands, branches=programs))


def cond(pred: Any, true_fun: Callable, false_fun: Callable, *operands: Any) -> Any:
    """``true_fun(*operands)`` if ``pred`` else ``false_fun(*operands)`` (JAX's ``lax.cond``):
    ``pred`` is a boolean scalar (a traced one is fine); only the chosen branch runs. Both
    branches must return the same structure, shapes and dtypes.

    >>> import micrograd as mg
    >>> mg.grad(lambda x: mg.lax.cond(x > 0, lambda x: x ** 2, lambda x: -x, x))(3.0)
    array(6.)
    """
    pred_aval = aval_of(pred)
    if pred_aval.shape != () or pred_aval.dtype != np.bool_:
        raise TypeError(with_location(f"cond: the predicate must be a boolean scalar, got {pred_aval} (use x > 0, "
                                      "not x; for an array, reduce it with .any() or .all())"))
    index = ew.cast(pred, dtype=np.dtype(np.int32)) if isinstance(pred, Tracer) else np.asarray(int(bool(pred)), np.int32)
    programs, flat_operands, out_tree = _branch_programs([false_fun, true_fun], operands, "cond",
                                                         ["false_fun", "true_fun"])
    return tree.unflatten(out_tree, cond_p(index, *flat_operands, branches=programs))

