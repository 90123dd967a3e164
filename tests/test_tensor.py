"""Eager tensors: the tape's gradients equal the functional transforms' on every primitive, and
the PyTorch-style surface (``backward``, ``.grad``, ``no_grad``, in-place rules, modules and
optimizers used eagerly) behaves and fails as documented.

The primitive cases are the table of ``test_primitives.py``: each function is run once on
tensors that require grad and back-propagated with random output weights, and compared with
``mg.vjp`` of the same function; second order (``create_graph=True``) is compared with
``mg.grad`` of a gradient on a subset.
"""
from __future__ import annotations

import re
import sys

import numpy as np
import pytest

import micrograd as mg
import micrograd.numpy as mnp
from test_primitives import CASES, THIRD_ORDER

_rng = np.random.default_rng(7)


def as_array(grad, like):
    """A leaf's ``.grad`` as an array; a leaf the cotangent never reached has None (zero)."""
    return np.zeros(np.shape(like)) if grad is None else np.asarray(grad.data)


def weights_like(out):
    return _rng.standard_normal(np.shape(out))


# --- eager and functional gradients on every primitive ------------------------------------------

REVERSE = [c for c in CASES if "rev" in c.grad_kw.get("modes", ("rev",))]  # (no reverse mode through while_loop)


@pytest.mark.parametrize("c", REVERSE, ids=[c.id for c in REVERSE])
def test_eager_gradients_equal_vjp(c):
    out, pullback = mg.vjp(c.f, *c.args)
    w = weights_like(out)
    expected = pullback(w)
    tensors = [mg.tensor(a, requires_grad=True) for a in c.args]
    eager_out = c.f(*tensors)
    assert isinstance(eager_out, mg.Tensor) and eager_out.requires_grad
    np.testing.assert_allclose(eager_out.numpy(), out, rtol=1e-12, atol=1e-12)
    (eager_out * w).sum().backward()
    for i, (t, e) in enumerate(zip(tensors, expected)):
        got = as_array(t.grad, e)
        assert got.shape == np.shape(e) and got.dtype == np.asarray(e).dtype, f"argument {i}"
        np.testing.assert_allclose(got, e, rtol=1e-10, atol=1e-12, err_msg=f"argument {i}")


SECOND_ORDER = sorted(set(THIRD_ORDER) | {"exp-2x3", "mul-3x1_1x4", "pow_scalar_cube-2x3", "relu", "softmax",
                                          "log_softmax", "matmul-2x3_3x2", "gather_array_repeated",
                                          "mean", "where_bcast", "chain_arith"})


@pytest.mark.parametrize("c", [c for c in CASES if c.id in SECOND_ORDER], ids=lambda c: c.id)
def test_create_graph_second_order_equals_grad_of_grad(c):
    n = len(c.args)
    w = weights_like(c.ref(*c.args))
    v = [_rng.standard_normal(np.shape(a)) for a in c.args]

    def first(*xs):
        return mnp.sum(c.f(*xs) * w)

    def directional(*xs):  # sum_i <d first / d x_i, v_i>
        grads = mg.grad(first, argnums=tuple(range(n)))(*xs)
        total = 0.0
        for g, vi in zip(grads, v):
            total = total + mnp.sum(g * vi)
        return total

    expected = mg.grad(directional, argnums=tuple(range(n)))(*c.args)

    tensors = [mg.tensor(a, requires_grad=True) for a in c.args]
    (c.f(*tensors) * w).sum().backward(create_graph=True)
    grads = [t.grad for t in tensors]
    for t in tensors:
        t.grad = None
    total = None
    for g, vi in zip(grads, v):
        if g is not None and g.requires_grad:
            term = (g * vi).sum()
            total = term if total is None else total + term
    if total is not None:
        total.backward()
    for i, (t, e) in enumerate(zip(tensors, expected)):
        np.testing.assert_allclose(as_array(t.grad, e), e, rtol=1e-9, atol=1e-12, err_msg=f"argument {i}")
    assert len(SECOND_ORDER) > 25


def test_an_input_reached_by_two_paths_gets_both_contributions():
    # regression: the tape's topological order once let x be visited before sum(x) had passed
    # its share back, so x - x.sum(axis=1, keepdims=True) lost the second path
    x0 = np.array([[1.0, 2.0, 4.0], [0.5, -1.0, 3.0]])
    x = mg.tensor(x0, requires_grad=True)
    w = np.arange(3.0)
    ((x - x.sum(axis=1, keepdims=True)) * w).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.broadcast_to(w - w.sum(), (2, 3)))
    x = mg.tensor(x0, requires_grad=True)
    mg.nn.losses.cross_entropy(x, np.array([2, 0])).backward()
    np.testing.assert_allclose(x.grad.numpy(), mg.grad(mg.nn.losses.cross_entropy)(x0, np.array([2, 0])))


# --- bad input: each a clear error ------------------------------------------------------------------

def test_backward_on_a_non_scalar_needs_gradient():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    with pytest.raises(RuntimeError, match=re.escape("backward() without gradient= needs a tensor with one "
                                                     "element, this one has shape (2,); pass gradient=")):
        y.backward()
    y.backward(gradient=np.array([1.0, 10.0]))  # the vector-Jacobian product
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 30.0])
    with pytest.raises(ValueError, match=r"gradient has shape \(3,\) but the tensor has shape \(2,\)"):
        (x * 3).backward(gradient=np.ones(3))
    assert mg.tensor([[5.0]], requires_grad=True).sum().requires_grad  # shape (1, 1) is fine:
    z = mg.tensor([[5.0]], requires_grad=True)
    (z * z).backward()
    assert z.grad.item() == 10.0


def test_second_backward_through_a_freed_graph_says_to_retain_it():
    x = mg.tensor(2.0, requires_grad=True)
    y = x * x
    y.backward()
    with pytest.raises(RuntimeError, match="freed by the first backward\\(\\). Pass retain_graph=True"):
        y.backward()
    # with retain_graph the tape survives, and the second pass accumulates
    x = mg.tensor(2.0, requires_grad=True)
    y = x * x
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.item() == 8.0


def test_backward_on_a_tensor_without_a_tape_says_why():
    with pytest.raises(RuntimeError, match="does not require grad"):
        mg.tensor(3.0).backward()
    w = mg.tensor(3.0, requires_grad=True)
    with mg.no_grad():
        y = w * 2
    with pytest.raises(RuntimeError, match="mg.no_grad"):
        y.backward()


def test_in_place_change_of_a_value_the_tape_needs_is_detected():
    a = mg.tensor([1.0, 2.0])  # does not require grad, so += is allowed ...
    w = mg.tensor([3.0, 4.0], requires_grad=True)
    y = (w * a).sum()  # ... but mul's gradient for w is a
    a += 1
    with pytest.raises(RuntimeError, match=r"a tensor of shape \(2,\) that mul needs for its gradient was modified "
                                           r"in place after it was used \(version 0, now 1\)"):
        y.backward()
    # a parameter changed under no_grad (as an optimizer does) between forward and backward
    y = (w * w).sum()
    with mg.no_grad():
        w -= 0.1
    with pytest.raises(RuntimeError, match="modified in place"):
        y.backward()
    # item assignment counts as a modification too
    b = mg.tensor([1.0, 2.0])
    y = (w * b).sum()
    b[0] = 5.0
    with pytest.raises(RuntimeError, match=r"version 0, now 1"):
        y.backward()


def test_in_place_on_a_tensor_that_requires_grad_is_refused():
    w = mg.tensor([1.0], requires_grad=True)
    for op in ("__iadd__", "__isub__", "__imul__", "__itruediv__"):
        with pytest.raises(RuntimeError, match=r"in-place operation on a tensor that requires grad.*x = x \+ y"):
            getattr(w, op)(1.0)
    with pytest.raises(RuntimeError, match="item assignment on a tensor that requires grad"):
        w[0] = 2.0
    with mg.no_grad():
        w += 1.0
        w[0] = w[0] * 2
    assert w.item() == 4.0 and w.requires_grad and w.grad is None


def test_requires_grad_with_an_integer_dtype_is_an_error_but_integer_data_becomes_float():
    with pytest.raises(TypeError, match="only float tensors can require gradients, but dtype=int32 was asked for"):
        mg.tensor([1, 2], requires_grad=True, dtype=np.int32)
    with pytest.raises(TypeError, match="only float tensors can require gradients, this one is int64"):
        mg.tensor([1, 2]).requires_grad_()
    t = mg.tensor([[1], [2], [3]], requires_grad=True)  # the tutorial's chapter 8 data
    assert t.dtype == np.float64 and t.shape == (3, 1) and t.requires_grad
    assert mg.tensor([1, 2]).dtype == np.int64  # without requires_grad integers stay integers
    assert mg.tensor([1.0], requires_grad=True, dtype=np.float32).dtype == np.float32


def test_item_and_float_need_one_element():
    with pytest.raises(ValueError, match=r"item\(\) needs a tensor with one element, this one has shape \(2,\)"):
        mg.tensor([1.0, 2.0]).item()
    assert float(mg.tensor([[2.5]])) == 2.5 and int(mg.tensor([3])) == 3
    with pytest.raises(TypeError, match="only 0-d tensors take one"):
        f"{mg.tensor([1.0, 2.0]):.2f}"


# --- the PyTorch-style surface ---------------------------------------------------------------------

def test_item_numpy_shape_size_and_format():
    t = mg.tensor(np.arange(6.0).reshape(2, 3))
    assert t.shape == (2, 3) and t.size() == (2, 3) and t.size(0) == 2 and t.size(-1) == 3 and t.numel() == 6
    assert t.ndim == 2 and len(t) == 2 and t.dtype == np.float64
    assert isinstance(t.numpy(), np.ndarray) and t.numpy() is t.data  # shared, as torch's numpy()
    assert mg.tensor(2.5).item() == 2.5 and type(mg.tensor([7]).item()) is int
    assert t.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert f"{mg.tensor(1 / 3):.3f}" == "0.333" and f"{mg.tensor(0.5)}" == "0.5"  # as PyTorch
    assert mnp.size(t) == 6 and np.size(t) == 6  # NumPy's count, through micrograd.numpy
    assert t.round().shape == (2, 3)  # array methods micrograd lacks act on the data


def test_repr():
    assert repr(mg.tensor(3.5)) == "tensor(3.5)"
    assert repr(mg.tensor([1, 2])) == "tensor([1, 2])"
    assert repr(mg.tensor([1.0, 2.0], requires_grad=True)) == "tensor([1., 2.], requires_grad=True)"
    assert repr(mg.tensor([1.0], requires_grad=True) * 2) == "tensor([2.], grad_fn=<mul>)"
    assert repr(mg.tensor(np.float32(1.0))) == "tensor(1., dtype=float32)"
    assert repr(mg.tensor(np.eye(2))) == "tensor([[1., 0.],\n        [0., 1.]])"
    assert repr(mg.device) == "device(type='cpu')"


def test_grad_accumulates_over_repeated_use_and_across_backward_calls():
    x = mg.tensor(3.0, requires_grad=True)
    y = x * x * x + x  # x used four times: 3x^2 + 1 = 28
    y.backward()
    assert x.grad.item() == 28.0 and x.grad.shape == ()
    (x * 2).backward()  # a second graph: accumulates
    assert x.grad.item() == 30.0
    x.grad.zero_()  # in place, as torch's
    assert x.grad.item() == 0.0
    (x * 5).backward()
    assert x.grad.item() == 5.0
    x.grad = None
    (x * 7).backward()
    assert x.grad.item() == 7.0
    assert not x.grad.requires_grad and x.grad.is_leaf


def test_grad_of_a_broadcast_operand_has_its_shape_and_dtype():
    w = mg.tensor(np.ones(3, np.float32), requires_grad=True)
    x = mg.tensor(np.arange(6.0).reshape(2, 3))  # float64
    (x * w).sum().backward()
    assert w.grad.shape == (3,) and w.grad.dtype == np.float32
    np.testing.assert_array_equal(w.grad.numpy(), [3.0, 5.0, 7.0])


def test_detach_zero_and_to():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    y = w * 2
    d = y.detach()
    assert not d.requires_grad and d.is_leaf and np.shares_memory(d.numpy(), y.numpy())
    assert (d * w).requires_grad and not (d * 3).requires_grad
    assert w.to(mg.device) is w and w.to("cpu") is w and w.cpu() is w and w.device == mg.device
    assert w.to(np.float32).dtype == np.float32
    with pytest.raises(ValueError, match="micrograd runs on the CPU; there is no device 'cuda'"):
        mg.Device("cuda")
    z = mg.tensor([1.0, 2.0])
    assert z.zero_() is z and z.tolist() == [0.0, 0.0]


def test_in_place_add_on_a_tensor_that_does_not_require_grad():
    t = mg.tensor([1.0, 2.0])
    same = t
    t += 1
    t *= mg.tensor([2.0, 3.0])
    t -= 1
    t /= 2
    assert t is same and t.tolist() == [1.5, 4.0]
    counts = mg.tensor(0)
    counts += 3  # an integer tensor stays integer
    assert counts.item() == 3 and counts.dtype == np.int64


def test_no_grad_as_context_manager_and_decorator():
    w = mg.tensor([1.0], requires_grad=True)
    assert mg.is_grad_enabled()
    with mg.no_grad():
        assert not mg.is_grad_enabled()
        assert not (w * 2).requires_grad
        with mg.enable_grad():
            assert (w * 2).requires_grad
        assert not mg.is_grad_enabled()
    assert mg.is_grad_enabled() and (w * 2).requires_grad

    @mg.no_grad()
    def predict(x):
        """Doc kept."""
        return x * 2

    assert not predict(w).requires_grad and predict.__name__ == "predict" and predict.__doc__ == "Doc kept."
    assert mg.is_grad_enabled()
    with pytest.raises(ZeroDivisionError):  # the mode is restored when the block raises
        with mg.no_grad():
            1 / 0
    assert mg.is_grad_enabled()


def test_comparisons_and_integer_results_do_not_require_grad():
    w = mg.tensor([1.0, -2.0, 3.0], requires_grad=True)
    for t in (w > 0, w == 1.0, mg.argmax(w), w.argmax(dim=0)):
        assert isinstance(t, mg.Tensor) and not t.requires_grad
    assert (w > 0).sum().item() == 2 and mg.argmax(mg.tensor([[1.0, 3.0], [4.0, 2.0]]), dim=1).tolist() == [1, 0]
    assert (w.relu().sum() + w.tanh().sum() + w.sigmoid().sum() + w.exp().sum() + (w * w).log().sum()).requires_grad


def test_tensors_are_accepted_by_transforms_and_micrograd_numpy():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    f = lambda v: mnp.sum(mnp.tanh(v) ** 2)  # noqa: E731
    expected = mg.grad(f)(np.array([1.0, 2.0]))
    for result in (mg.grad(f)(w), mg.jit(mg.grad(f))(w), mg.value_and_grad(f)(w)[1]):
        assert type(result) is np.ndarray  # transforms are functional: arrays out
        np.testing.assert_allclose(result, expected)
    np.testing.assert_allclose(mg.vmap(lambda v: v * 2)(w), [2.0, 4.0])
    np.testing.assert_allclose(mg.jit(lambda v: v * 3)(w), [3.0, 6.0])
    np.testing.assert_allclose(mg.vjp(lambda v: v * 2, w)[1](np.ones(2))[0], [2.0, 2.0])
    np.testing.assert_allclose(mg.jacrev(lambda v: v ** 2)(w), np.diag([2.0, 4.0]))
    assert w.grad is None  # transforms never touch .grad
    # micrograd.numpy and NumPy's own functions on tensors record the tape
    y = mnp.sum(mnp.exp(w)) + np.sum(np.sin(w))
    assert isinstance(y, mg.Tensor) and y.requires_grad
    y.backward()
    np.testing.assert_allclose(w.grad.numpy(), np.exp([1.0, 2.0]) + np.cos([1.0, 2.0]))
    # a tensor closed over by a traced function is a constant of it
    np.testing.assert_allclose(mg.grad(lambda v: mnp.sum(v * w))(np.zeros(2)), [1.0, 2.0])


# --- modules and optimizers, eagerly and functionally --------------------------------------------

def small_model():
    k1, k2 = mg.random.split(mg.random.key(0))
    return mg.Sequential([mg.Linear(3, 4, key=k1), mg.ReLU(), mg.Linear(4, 2, key=k2)])


DATA = (np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32), np.array([0, 1, 1, 0, 1]))


def test_parameters_of_a_sequential_of_linear_layers_are_tensors_that_require_grad():
    model = small_model()
    params = model.parameters()
    assert [p.shape for p in params] == [(3, 4), (4,), (4, 2), (2,)]
    assert all(isinstance(p, mg.Tensor) and p.requires_grad and p.is_leaf for p in params)
    assert params[0] is model[0].weight and params[3] is model[2].bias  # the model's own tensors, not copies


def test_one_model_eagerly_and_with_grad_and_jit():
    model, (x, y) = small_model(), DATA
    loss_function = mg.CrossEntropyLoss()
    loss = loss_function(model(x), y)
    loss.backward()
    grads = mg.grad(lambda m: loss_function(m(x), y))(model)
    for p, g in zip(model.parameters(), grads.parameters()):
        assert type(g) is np.ndarray and g.dtype == p.dtype == np.float32
        np.testing.assert_allclose(p.grad.numpy(), g, rtol=1e-5, atol=1e-7)
    jitted = mg.jit(lambda m, x, y: loss_function(m(x), y))
    np.testing.assert_allclose(jitted(model, x, y), loss.item(), rtol=1e-6)
    with mg.no_grad():
        predicted = mg.argmax(model(x), dim=1)
    assert not predicted.requires_grad and predicted.shape == (5,)


def functional_steps(opt, n):
    """``n`` functional updates of small_model() with ``opt``; the parameters as arrays."""
    model, (x, y) = small_model(), DATA
    state = opt.init(model)
    for _ in range(n):
        grads = mg.grad(lambda m: mg.CrossEntropyLoss()(m(x), y))(model)
        model, state = opt.update(model, grads, state)
    return [np.asarray(p) for p in model.parameters()]


@pytest.mark.parametrize("cls, options", [(mg.Adam, {"learning_rate": 0.05}),
                                          (mg.SGD, {"learning_rate": 0.1, "momentum": 0.9})], ids=["Adam", "SGD"])
def test_eager_optimizer_forms_equal_the_functional_update(cls, options):
    expected = functional_steps(cls(**options), 3)
    (x, y), loss_function = DATA, mg.CrossEntropyLoss()

    model, optimizer = small_model(), cls(**options)  # the tutorial's form
    for _ in range(3):
        loss = loss_function(model(x), y)
        optimizer.step(model.parameters(), loss)  # back-propagates, updates, clears the gradients
        assert all(p.grad is None for p in model.parameters())
    for p, e in zip(model.parameters(), expected):
        np.testing.assert_allclose(p.numpy(), e, rtol=1e-5, atol=1e-6)

    model = small_model()  # PyTorch's form
    optimizer = cls(model.parameters(), **options)
    for _ in range(3):
        optimizer.zero_grad()
        loss = loss_function(model(x), y)
        loss.backward()
        optimizer.step()
        assert all(p.grad is not None for p in model.parameters())  # kept until zero_grad, as in PyTorch
    for p, e in zip(model.parameters(), expected):
        np.testing.assert_allclose(p.numpy(), e, rtol=1e-5, atol=1e-6)
    assert all(p.requires_grad and p.is_leaf for p in model.parameters())


def test_eager_step_errors_and_skips():
    with pytest.raises(TypeError, match=r"Adam.step needs the tensors to update: optimizer.step\(model.parameters\(\)\)"):
        mg.Adam(learning_rate=0.1).step()
    w = mg.tensor([1.0], requires_grad=True)
    opt = mg.SGD([w], learning_rate=0.5)
    opt.step()  # no gradient yet: nothing moves
    assert w.item() == 1.0
    loss = (w * w).sum()
    loss.backward()
    opt.step(w, loss)  # already back-propagated: not again (the tape is freed)
    assert w.item() == 0.0 and w.grad is None


def test_eager_adam_computes_in_the_parameters_dtype():
    # regression: the bias corrections were np.float64 scalars, which (a float subclass) were not cast,
    # so each float32 update ran through float64 temporaries of the parameters' size
    seen = []
    opt = mg.Adam(learning_rate=0.1)
    leaf = opt._update_leaf

    def spy(p, g, slots, h):
        seen.append({k: np.dtype(getattr(v, "dtype", type(v))) for k, v in h.items()})  # (traced under jit)
        return leaf(p, g, slots, h)

    opt._update_leaf = spy
    w = mg.tensor(np.ones(3, np.float32), requires_grad=True)
    (w * w).sum().backward()
    opt.step([w])
    # the learning rate stays a (weak) Python float; the bias corrections are cast to float32
    assert seen == [{"lr": np.float64, "bc1": np.float32, "sqrt_bc2": np.float32}]
    assert w.dtype == np.float32


def test_leaf_gradients_never_alias_other_arrays():
    # a leaf's first gradient is taken without a copy when nothing else holds it: check the cases where
    # something does (the gradient= argument, a cotangent shared by two leaves, a view)
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = mg.tensor([3.0, 4.0], requires_grad=True)
    (x + y).backward(gradient=np.ones(2))
    assert not np.shares_memory(x.grad.numpy(), y.grad.numpy())
    g = np.ones(2)
    for f in (lambda t: t * 1, lambda t: t + 0):
        x.grad = None
        f(x).backward(gradient=g)
        assert not np.shares_memory(x.grad.numpy(), g)
    w = mg.tensor(np.ones((2, 2)), requires_grad=True)
    v = mg.tensor(np.ones(4), requires_grad=True)
    (w.reshape(4) * v).sum().backward()
    assert not np.shares_memory(w.grad.numpy(), v.grad.numpy())
    x.grad.zero_()
    assert g.tolist() == [1.0, 1.0] and y.grad.tolist() == [1.0, 1.0]


# --- a backward pass that repeats is replayed, compiled ------------------------------------------

TAPE = sys.modules["micrograd.tensor"]


def _small_step():
    """A small MLP's loss on tensors, and its parameters: the same tape structure at every call."""
    rng = np.random.default_rng(3)
    model = mg.Sequential([mg.Linear(3, 5, key=mg.random.key(0), dtype=np.float64), mg.ReLU(),
                           mg.Linear(5, 2, key=mg.random.key(1), dtype=np.float64)])
    x, labels = mg.tensor(rng.standard_normal((4, 3))), mg.tensor(np.array([0, 1, 1, 0]))
    loss_function = mg.CrossEntropyLoss()
    return (lambda: loss_function(model(x), labels)), model.parameters()


def _entry(loss):
    key, _ = TAPE._signature(TAPE._topological_order(loss))
    return TAPE._replays.get(key)


def _until_replayed(loss_fn, params):
    """Backward through the same structure until its compiled replay runs; the gradients of the
    first (interpreted) pass, and of the replayed one."""
    grads = []
    for i in range(TAPE.REPLAY_AFTER + 20):
        for p in params:
            p.grad = None
        loss = loss_fn()
        entry = _entry(loss)
        before = entry.replayed if entry is not None else 0
        loss.backward()
        grads.append([p.grad.numpy().copy() for p in params])
        if entry is not None and entry.replayed > before and entry.compiled:  # (the first replay traces)
            return grads[0], grads[-1], entry
        if entry is not None and entry.program is not None:
            mg.wait_for_compiles()
    raise AssertionError("the backward pass was never replayed")


def test_a_repeated_backward_pass_is_replayed_compiled_with_the_same_gradients():
    loss_fn, params = _small_step()
    interpreted, replayed, entry = _until_replayed(loss_fn, params)
    assert entry.failed is None and entry.compiled
    for a, b in zip(interpreted, replayed):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-15)


def test_replay_keeps_retain_graph_accumulation_freeing_and_version_checks():
    loss_fn, params = _small_step()
    first, _, entry = _until_replayed(loss_fn, params)
    w = params[0]
    # accumulation, and a second backward through a retained tape
    for p in params:
        p.grad = None
    loss, count = loss_fn(), entry.replayed
    loss.backward(retain_graph=True)
    loss.backward()
    assert entry.replayed == count + 2
    np.testing.assert_allclose(w.grad.numpy(), 2 * first[0], rtol=1e-12)
    # the tape is freed: a third backward says so (the interpreter raises, as without replay)
    with pytest.raises(RuntimeError, match="a second time"):
        loss.backward()
    # a value the tape needs, changed in place, is detected
    loss = loss_fn()
    with mg.no_grad():
        w += 1.0
    with pytest.raises(RuntimeError, match="modified in place"):
        loss.backward()
    with mg.no_grad():
        w -= 1.0
    # and .grad keeps accumulating across replayed passes, without aliasing
    for p in params:
        p.grad = None
    loss_fn().backward()
    loss_fn().backward()
    np.testing.assert_allclose(w.grad.numpy(), 2 * first[0], rtol=1e-12)
    assert not any(np.shares_memory(a.grad.numpy(), b.grad.numpy()) for a in params for b in params if a is not b)


def test_a_tape_whose_rules_cannot_be_traced_is_left_to_the_interpreter():
    from micrograd.core.ir import Aval
    from micrograd.core.primitive import Primitive
    # a rule that needs a value (float() of an array): it runs on arrays, not traced
    scale = Primitive("scale_by_total", lambda x: x * np.sum(x), lambda x: Aval(x.shape, x.dtype),
                      vjp=(lambda ct, out, x: ct * float(np.sum(x)),), in_table=False)
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    for _ in range(TAPE.REPLAY_AFTER + 3):
        x.grad = None
        loss = (scale(x) * 2.0).sum()
        entry_key = TAPE._signature(TAPE._topological_order(loss))[0]
        loss.backward()
        assert x.grad.tolist() == [6.0, 6.0]
    entry = TAPE._replays[entry_key]
    assert isinstance(entry.failed, mg.TracerConversionError) and entry.replayed == 0


def test_stop_gradient_of_a_tensor_is_detached():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    assert not mnp.stop_gradient(x).requires_grad
    (x * mnp.stop_gradient(x)).sum().backward()
    assert x.grad.tolist() == [1.0, 2.0]
