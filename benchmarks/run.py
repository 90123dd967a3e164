"""Side-by-side timings: micrograd against hand-written NumPy, JAX, PyTorch and autograd, in one process.

    python benchmarks/run.py                      # every case (about 30 s on 2 cores)
    python benchmarks/run.py --cases a,tiny_grad  # some cases, by id or name
    python benchmarks/run.py --quick              # fewer, shorter rounds: a smoke test
    python -m benchmarks.run --help

Every case makes its inputs once (``setup``), then one zero-argument callable per
implementation doing the same work on them. Before any timing, each result is checked against
the hand-written NumPy one (values, shapes and dtypes), so the table never compares different
work; an implementation that disagrees is reported and not timed, and the run exits with 1.

Timing: every implementation is warmed up (JAX compiles on its first call), then sized so one
sample (that many calls in a row) lasts at least ``--min-sample-ms``; the samples are then taken
round-robin over the implementations for ``--rounds`` rounds (the starting implementation turns
each round), so drift of the machine hits all of them alike. The table gives the minimum time per
call over the samples, the median, and the ratio of minimums to NumPy (hand-written): 2.00x is
twice as slow as NumPy. The garbage collector stays on (its cost is part of the work) but is run
between samples, with everything loaded before the timing moved out of its reach (``gc.freeze``):
otherwise a collection would scan all of JAX's and PyTorch's objects, charging whichever
implementation happened to trigger it for the size of the process. Each sample also starts after
a pause of ``PAUSE`` (50 ms): the thread pools of OpenBLAS, XLA and PyTorch's OpenMP keep
spinning for a while after a call, and on a machine with few cores that steals the next
sample's cores (PyTorch's MNIST step measured up to 1.8x slower without it).

JAX, PyTorch and autograd (HIPS autograd) are optional and imported here only, never by
micrograd: a missing one is a row "skipped: not installed". JAX runs with ``jax_enable_x64`` so
the float64 cases are float64 (the float32 case passes float32 arrays, which stay float32).
PyTorch keeps its default number of threads. autograd has a row only in the case written for it,
(v): un-jitted gradients of a NumPy function, traced again at every call.

"micrograd jit" is each case's micrograd function under ``mg.jit``, timed once its kernels are
compiled (:meth:`Case.micrograd_jit`). In case (f), an eager training epoch, "micrograd eager"
is the tutorial's PyTorch-style loop on tensors (``loss.backward()``, ``opt.step()``), "micrograd
jit" the same epoch with a jitted functional step, and PyTorch its own eager loop; (t) is one
such step of a tiny MLP, all overhead. A case without a row for a framework says "skipped: not
written for this case". A case's targets (the most a micrograd row's time may be, as a multiple
of another row's) are printed under its table, met or MISSED. Case (e) is separate: the time from a fresh process's
first line (after ``import numpy``) to the first result of (a), with an empty compile cache and
with a warm one, for micrograd and JAX, plus when micrograd's compiled kernels took over.
"""
from __future__ import annotations

import argparse
import functools
import gc
import math
import os
import platform
import statistics
import sys
import time
from types import SimpleNamespace
from typing import Any, Callable

if __package__ in (None, ""):  # run as a script: benchmark this checkout's micrograd
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

import micrograd as mg  # noqa: E402
import micrograd.numpy as mnp  # noqa: E402

NUMPY = "NumPy (hand-written)"
MICROGRAD = "micrograd eager"
MICROGRAD_JIT = "micrograd jit"
JAX = "JAX jit"
TORCH = "PyTorch"
AUTOGRAD = "autograd"

# (row name, Case method that builds its callable, framework it needs or None); rows print in
# this order and every ratio is relative to the first.
IMPLEMENTATIONS = [
    (NUMPY, "numpy", None),
    (MICROGRAD, "micrograd", None),
    (MICROGRAD_JIT, "micrograd_jit", None),
    (JAX, "jax", "jax"),
    (TORCH, "torch", "torch"),
    (AUTOGRAD, "autograd", "autograd"),
]
OPTIONAL_ROWS = {AUTOGRAD}  # rows shown only in the cases that write them (autograd: the un-jitted calls)
FRAMEWORKS = ("jax", "torch", "autograd")

LR_MNIST = 0.01
EAGER_IMAGES, EAGER_BATCH, EAGER_LR = 5000, 64, 1e-3  # (f): the shared data's 5,000-image subset, the tutorial's batch
LR_MOONS = 0.1
ALPHA_MOONS = 1e-4
PAUSE = 0.05  # seconds idle before each sample: see the module's docstring
F32_TOL = dict(rtol=1e-4, atol=1e-5)
F64_TOL = dict(rtol=1e-7, atol=1e-9)


# --- optional frameworks --------------------------------------------------------------------------

def load_framework(name: str):
    """``(module, None)``, or ``(None, why it is skipped)``."""
    try:
        if name == "jax":
            import jax
            jax.config.update("jax_enable_x64", True)
            return jax, None
        if name == "torch":
            import torch  # noqa: F401  (default thread count: not changed)
            return torch, None
        if name == "autograd":  # HIPS autograd: the reference for un-jitted gradients of NumPy code
            import autograd
            return autograd, None
    except ImportError:
        return None, "skipped: not installed"
    except Exception as e:  # an installed but broken framework: say so, do not stop the run
        return None, f"skipped: import failed ({type(e).__name__}: {e})"
    raise ValueError(f"unknown framework {name!r}")


def jax_ready(jax, fn):
    """``fn`` with its result waited for: JAX dispatches asynchronously."""
    return lambda *args: jax.block_until_ready(fn(*args))


# --- the models, in micrograd ---------------------------------------------------------------------

def mlp_forward(params, x, activation):
    """Layers ``{"w", "b"}``; ``activation`` after every layer but the last."""
    for layer in params[:-1]:
        x = activation(x @ layer["w"] + layer["b"])
    return x @ params[-1]["w"] + params[-1]["b"]


def mnist_loss(params, x, labels):
    """Softmax cross-entropy of the tutorial's MLP (examples/mnist.py) with integer labels."""
    log_probs = mnp.log_softmax(mlp_forward(params, x, mnp.relu))
    return -mnp.mean(log_probs[np.arange(labels.shape[0]), labels])


_mnist_value_and_grad = mg.value_and_grad(mnist_loss)


def mnist_step(params, x, labels):
    """One plain-SGD step: ``(new params, loss)``."""
    loss, grads = _mnist_value_and_grad(params, x, labels)
    return mg.tree.map(lambda p, g: p - LR_MNIST * g, params, grads), loss


def mnist_numpy_loss_and_grads(params, x, labels):
    """:func:`mnist_loss` and its gradients by hand with NumPy: ``(loss, [(dw, db) per layer])``."""
    (l1, l2, l3), n = params, x.shape[0]
    z1 = x @ l1["w"] + l1["b"]
    h1 = np.maximum(z1, 0)
    z2 = h1 @ l2["w"] + l2["b"]
    h2 = np.maximum(z2, 0)
    logits = h2 @ l3["w"] + l3["b"]
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    sum_e = e.sum(axis=1, keepdims=True)
    rows = np.arange(n)
    loss = -np.mean(shifted[rows, labels] - np.log(sum_e[:, 0]))
    dlogits = e / sum_e  # softmax
    dlogits[rows, labels] -= 1
    dlogits /= n
    dz2 = (dlogits @ l3["w"].T) * (z2 > 0)
    dz1 = (dz2 @ l2["w"].T) * (z1 > 0)
    return loss, [(a.T @ dz, dz.sum(axis=0)) for a, dz in ((x, dz1), (h1, dz2), (h2, dlogits))]


def tiny_f(w, x, b):
    return mnp.sum(mnp.tanh(w * x + b))


tiny_grad = mg.grad(tiny_f)


def hessian_f(x, W):
    return mnp.sum(mnp.tanh(W @ x) ** 2)


hessian_100 = mg.hessian(hessian_f)  # with respect to x only


def moons_loss(params, x, y):
    """SVM hinge loss of the 2-16-16-1 ReLU MLP (as in the original micrograd's moons demo,
    whose neurons are ReLU) plus an L2 penalty on all parameters (that demo's
    ``sum(p * p for p in model.parameters())``, biases included)."""
    score = mnp.reshape(mlp_forward(params, x, mnp.relu), (-1,))
    data_loss = mnp.mean(mnp.relu(1.0 - y * score))
    reg = 0.0
    for p in mg.tree.leaves(params):
        reg = reg + mnp.sum(p * p)
    return data_loss + ALPHA_MOONS * reg


_moons_value_and_grad = mg.value_and_grad(moons_loss)


def moons_step(params, x, y):
    loss, grads = _moons_value_and_grad(params, x, y)
    return mg.tree.map(lambda p, g: p - LR_MOONS * g, params, grads), loss


def example_loss(params, x, y):
    """Squared error of a 10-32-1 tanh MLP on one example (x of shape (10,), y a scalar)."""
    h = mnp.tanh(x @ params["w1"] + params["b1"])
    return mnp.sum((h @ params["w2"] + params["b2"] - y) ** 2)


per_example_grads = mg.vmap(mg.grad(example_loss), in_axes=(None, 0, 0))


# --- the cases ------------------------------------------------------------------------------------

class Case:
    id: str
    name: str
    title: str
    unit: str | None = None  # fixed time unit ("us", "ms", "s"); None: chosen per value
    tol = F64_TOL
    # implementation -> the most micrograd jit's time may be, as a multiple of its; a key (micrograd
    # row, implementation) names the row the target is for (an eager one)
    targets: dict[str | tuple[str, str], float] = {}

    def summary(self, data: SimpleNamespace, times: dict[str, list[float]]) -> list[str]:
        """Lines printed below the case's table."""
        return []

    def setup(self) -> SimpleNamespace:
        raise NotImplementedError

    def micrograd_jit(self, d):
        """The eager micrograd function under ``mg.jit``, its kernels compiled before timing."""
        eager = self.micrograd(d)
        jitted = mg.jit(eager.func)
        jitted(*eager.args)
        jitted.wait()
        return functools.partial(jitted, *eager.args)


def init_layers(sizes, rng, dtype, bound=None):
    """Layers ``{"w": (fan_in, fan_out), "b": (fan_out,)}``, uniform in +-bound (default
    1/sqrt(fan_in), PyTorch's Linear initialization)."""
    layers = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        r = 1.0 / math.sqrt(fan_in) if bound is None else bound
        layers.append({"w": rng.uniform(-r, r, (fan_in, fan_out)).astype(dtype),
                       "b": rng.uniform(-r, r, fan_out).astype(dtype)})
    return layers


def to_torch(torch, tree, requires_grad=False):
    if isinstance(tree, dict):
        return {k: to_torch(torch, v, requires_grad) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return type(tree)(to_torch(torch, v, requires_grad) for v in tree)
    t = torch.tensor(np.asarray(tree))
    return t.requires_grad_(True) if requires_grad else t


class MnistStep(Case):
    """(a) One training step of the MNIST MLP: forward, backward and the SGD update."""
    tol = F32_TOL

    def __init__(self, id_, batch):
        self.id, self.batch = id_, batch
        self.name = f"mnist_mlp_step_b{batch}"
        self.title = (f"one SGD step (lr {LR_MNIST}) of the MNIST MLP 784-128-128-10, ReLU, softmax "
                      f"cross-entropy, batch {batch}, float32")

    def setup(self):
        rng = np.random.default_rng(0)
        return SimpleNamespace(params=init_layers([784, 128, 128, 10], rng, np.float32),
                               x=rng.random((self.batch, 784), dtype=np.float32),
                               labels=rng.integers(0, 10, self.batch))

    def numpy(self, d):
        def step(params, x, labels):
            loss, grads = mnist_numpy_loss_and_grads(params, x, labels)
            new = [{"w": layer["w"] - LR_MNIST * dw, "b": layer["b"] - LR_MNIST * db}
                   for layer, (dw, db) in zip(params, grads)]
            return new, loss
        return functools.partial(step, d.params, d.x, d.labels)

    def micrograd(self, d):
        return functools.partial(mnist_step, d.params, d.x, d.labels)

    def jax(self, d, jax):
        jnp = jax.numpy

        def loss(params, x, labels):
            logits = mlp_forward(params, x, jax.nn.relu)
            return -jnp.mean(jax.nn.log_softmax(logits)[jnp.arange(labels.shape[0]), labels])

        @jax.jit
        def step(params, x, labels):
            value, grads = jax.value_and_grad(loss)(params, x, labels)
            return jax.tree_util.tree_map(lambda p, g: p - LR_MNIST * g, params, grads), value

        args = jax.device_put((d.params, d.x, d.labels))
        return functools.partial(jax_ready(jax, step), *args)

    def torch(self, d, torch):
        params = to_torch(torch, d.params, requires_grad=True)
        x, labels = torch.from_numpy(d.x), torch.from_numpy(d.labels)

        def step(params, x, labels):
            flat = [layer[k] for layer in params for k in ("w", "b")]
            loss = torch.nn.functional.cross_entropy(mlp_forward(params, x, torch.relu), labels)
            grads = torch.autograd.grad(loss, flat)
            with torch.no_grad():
                new = [p - LR_MNIST * g for p, g in zip(flat, grads)]
            return [{"w": w, "b": b} for w, b in zip(new[::2], new[1::2])], loss.detach()
        return functools.partial(step, params, x, labels)


class TinyGrad(Case):
    """(b) The gradient of a 10-element function: nearly all overhead, no arithmetic."""
    id, name, unit = "b", "tiny_grad", "us"
    title = "gradient of f(w) = sum(tanh(w*x + b)), w, x, b of shape (10,), float64"

    def setup(self):
        rng = np.random.default_rng(1)
        return SimpleNamespace(w=rng.standard_normal(10), x=rng.standard_normal(10), b=rng.standard_normal(10))

    def numpy(self, d):
        def grad(w, x, b):
            t = np.tanh(w * x + b)
            return (1.0 - t * t) * x
        return functools.partial(grad, d.w, d.x, d.b)

    def micrograd(self, d):
        return functools.partial(tiny_grad, d.w, d.x, d.b)

    def jax(self, d, jax):
        jnp = jax.numpy
        grad = jax.jit(jax.grad(lambda w, x, b: jnp.sum(jnp.tanh(w * x + b))))
        return functools.partial(jax_ready(jax, grad), *jax.device_put((d.w, d.x, d.b)))

    def torch(self, d, torch):
        def grad(w, x, b):
            w = w.detach().requires_grad_(True)
            return torch.autograd.grad(torch.tanh(w * x + b).sum(), w)[0]
        return functools.partial(grad, *(torch.from_numpy(a) for a in (d.w, d.x, d.b)))


class Hessian100(Case):
    """(c) A 100x100 Hessian: micrograd's jacfwd(jacrev(f)) against the closed form."""
    id, name = "c", "hessian_100"
    title = "Hessian of f(x) = sum(tanh(W @ x) ** 2), W (100, 100) fixed, x (100,), float64"

    def setup(self):
        rng = np.random.default_rng(2)
        return SimpleNamespace(x=rng.standard_normal(100), W=rng.standard_normal((100, 100)) / 10)

    def numpy(self, d):
        def hessian(x, W):
            t = np.tanh(W @ x)
            s = 1.0 - t * t
            d2 = 2.0 * s * (1.0 - 3.0 * t * t)  # (tanh(z)^2)'' = 2 (1 - t^2)(1 - 3 t^2)
            return W.T @ (d2[:, None] * W)
        return functools.partial(hessian, d.x, d.W)

    def micrograd(self, d):
        return functools.partial(hessian_100, d.x, d.W)

    def jax(self, d, jax):
        jnp = jax.numpy
        hessian = jax.jit(jax.hessian(lambda x, W: jnp.sum(jnp.tanh(W @ x) ** 2)))
        return functools.partial(jax_ready(jax, hessian), *jax.device_put((d.x, d.W)))

    def torch(self, d, torch):
        hessian = torch.func.hessian(lambda x, W: torch.sum(torch.tanh(W @ x) ** 2))
        return functools.partial(hessian, torch.from_numpy(d.x), torch.from_numpy(d.W))


class MoonsStep(Case):
    """(d) The original micrograd's demo: a small MLP, SVM loss, one SGD step."""
    id, name = "d", "moons_mlp_step"
    title = (f"one SGD step (lr {LR_MOONS}) of a 2-16-16-1 ReLU MLP on 100 points, hinge loss "
             f"+ {ALPHA_MOONS:g} * L2, float64")

    def setup(self):
        rng = np.random.default_rng(3)
        x = rng.standard_normal((100, 2))
        y = np.where(x[:, 0] * x[:, 1] + 0.3 * rng.standard_normal(100) > 0, 1.0, -1.0)
        # uniform(-1, 1) as the original micrograd's Neuron
        return SimpleNamespace(params=init_layers([2, 16, 16, 1], rng, np.float64, bound=1.0), x=x, y=y)

    def numpy(self, d):
        def step(params, x, y):
            (l1, l2, l3), n = params, x.shape[0]
            z1 = x @ l1["w"] + l1["b"]
            h1 = np.maximum(z1, 0)
            z2 = h1 @ l2["w"] + l2["b"]
            h2 = np.maximum(z2, 0)
            score = (h2 @ l3["w"] + l3["b"])[:, 0]
            margin = 1.0 - y * score
            reg = sum(np.sum(p * p) for layer in params for p in layer.values())
            loss = np.mean(np.maximum(margin, 0)) + ALPHA_MOONS * reg
            dscore = np.where(margin > 0, -y, 0.0)[:, None] / n
            dz2 = (dscore @ l3["w"].T) * (z2 > 0)
            dz1 = (dz2 @ l2["w"].T) * (z1 > 0)
            grads = [(x, dz1), (h1, dz2), (h2, dscore)]
            new = [{"w": layer["w"] - LR_MOONS * (a.T @ dz + 2 * ALPHA_MOONS * layer["w"]),
                    "b": layer["b"] - LR_MOONS * (dz.sum(axis=0) + 2 * ALPHA_MOONS * layer["b"])}
                   for layer, (a, dz) in zip(params, grads)]
            return new, loss
        return functools.partial(step, d.params, d.x, d.y)

    def micrograd(self, d):
        return functools.partial(moons_step, d.params, d.x, d.y)

    def jax(self, d, jax):
        jnp = jax.numpy

        def loss(params, x, y):
            score = mlp_forward(params, x, jax.nn.relu)[:, 0]
            reg = sum(jnp.sum(p * p) for p in jax.tree_util.tree_leaves(params))
            return jnp.mean(jax.nn.relu(1.0 - y * score)) + ALPHA_MOONS * reg

        @jax.jit
        def step(params, x, y):
            value, grads = jax.value_and_grad(loss)(params, x, y)
            return jax.tree_util.tree_map(lambda p, g: p - LR_MOONS * g, params, grads), value

        return functools.partial(jax_ready(jax, step), *jax.device_put((d.params, d.x, d.y)))

    def torch(self, d, torch):
        params = to_torch(torch, d.params, requires_grad=True)

        def step(params, x, y):
            flat = [layer[k] for layer in params for k in ("w", "b")]
            score = mlp_forward(params, x, torch.relu)[:, 0]
            reg = sum(torch.sum(p * p) for p in flat)
            loss = torch.mean(torch.relu(1.0 - y * score)) + ALPHA_MOONS * reg
            grads = torch.autograd.grad(loss, flat)
            with torch.no_grad():
                new = [p - LR_MOONS * g for p, g in zip(flat, grads)]
            return [{"w": w, "b": b} for w, b in zip(new[::2], new[1::2])], loss.detach()
        return functools.partial(step, params, torch.from_numpy(d.x), torch.from_numpy(d.y))


class PerExampleGrads(Case):
    """(p) Per-example gradients: vmap of grad."""
    id, name = "p", "per_example_grads"
    title = "per-example gradients (vmap of grad) of a 10-32-1 tanh MLP's squared error, batch 64, float64"

    def setup(self):
        rng = np.random.default_rng(4)
        (l1, l2) = init_layers([10, 32, 1], rng, np.float64)
        return SimpleNamespace(params={"w1": l1["w"], "b1": l1["b"], "w2": l2["w"], "b2": l2["b"]},
                               x=rng.standard_normal((64, 10)), y=rng.standard_normal(64))

    def numpy(self, d):
        def grads(params, x, y):
            h = np.tanh(x @ params["w1"] + params["b1"])  # (B, 32)
            r2 = 2.0 * ((h @ params["w2"] + params["b2"])[:, 0] - y)  # d loss / d output, (B,)
            dz = np.einsum("b,h->bh", r2, params["w2"][:, 0]) * (1.0 - h * h)
            return {"w1": np.einsum("bi,bh->bih", x, dz), "b1": dz,
                    "w2": np.einsum("b,bh->bh", r2, h)[:, :, None], "b2": r2[:, None]}
        return functools.partial(grads, d.params, d.x, d.y)

    def micrograd(self, d):
        return functools.partial(per_example_grads, d.params, d.x, d.y)

    def jax(self, d, jax):
        jnp = jax.numpy

        def loss(params, x, y):
            h = jnp.tanh(x @ params["w1"] + params["b1"])
            return jnp.sum((h @ params["w2"] + params["b2"] - y) ** 2)

        grads = jax.jit(jax.vmap(jax.grad(loss), in_axes=(None, 0, 0)))
        return functools.partial(jax_ready(jax, grads), *jax.device_put((d.params, d.x, d.y)))

    def torch(self, d, torch):
        def loss(params, x, y):
            h = torch.tanh(x @ params["w1"] + params["b1"])
            return torch.sum((h @ params["w2"] + params["b2"] - y) ** 2)

        grads = torch.func.vmap(torch.func.grad(loss), in_dims=(None, 0, 0))
        return functools.partial(grads, to_torch(torch, d.params), torch.from_numpy(d.x), torch.from_numpy(d.y))


class EagerMnistEpoch(Case):
    """(f) One epoch of the tutorial's chapter-11 loop written eagerly: ``model(images)``,
    ``loss.backward()``, ``opt.step()``, ``opt.zero_grad()`` on tensors, against the same epoch
    written by hand with NumPy (forward, backward and Adam). Each call trains from the same
    initial parameters, so every call does the same work and the results can be compared. The
    data are random images of MNIST's shape (no files needed); the batches are made once."""
    id, name, unit = "f", "eager_mnist_epoch", "ms"
    targets = {(MICROGRAD, NUMPY): 1.5}
    # 79 Adam steps in float32 amplify rounding differences (the order of sums differs): the
    # parameters agree to about 1e-5, well inside this tolerance, and a wrong gradient is far outside
    tol = dict(rtol=1e-3, atol=1e-4)
    title = (f"one training epoch: {EAGER_IMAGES:,} random 28x28 images, batch {EAGER_BATCH} "
             f"({-(-EAGER_IMAGES // EAGER_BATCH)} steps), MNIST MLP 784-128-128-10, ReLU, cross-entropy, "
             f"Adam (lr {EAGER_LR}), float32; micrograd eager = tensors and backward()")

    def setup(self):
        rng = np.random.default_rng(5)
        images = rng.random((EAGER_IMAGES, 784), dtype=np.float32)
        labels = rng.integers(0, 10, EAGER_IMAGES)
        batches = [(images[i:i + EAGER_BATCH], labels[i:i + EAGER_BATCH])
                   for i in range(0, EAGER_IMAGES, EAGER_BATCH)]
        return SimpleNamespace(params=init_layers([784, 128, 128, 10], rng, np.float32), batches=batches)

    def numpy(self, d):
        b1, b2, eps = 0.9, 0.999, 1e-8

        def epoch(init, batches):
            params = [{"w": layer["w"].copy(), "b": layer["b"].copy()} for layer in init]
            flat = [layer[k] for layer in params for k in ("w", "b")]
            m, v = [np.zeros_like(p) for p in flat], [np.zeros_like(p) for p in flat]
            for t, (x, labels) in enumerate(batches, 1):
                loss, grads = mnist_numpy_loss_and_grads(params, x, labels)
                grads = [g for pair in grads for g in pair]
                step_size, sqrt_bc2 = EAGER_LR / (1 - b1 ** t), math.sqrt(1 - b2 ** t)
                for p, g, m_, v_ in zip(flat, grads, m, v):  # Adam, in place as PyTorch's
                    m_ *= b1
                    m_ += (1 - b1) * g
                    v_ *= b2
                    v_ += (1 - b2) * g * g
                    p -= step_size * m_ / (np.sqrt(v_) / sqrt_bc2 + eps)
            return params, loss
        return functools.partial(epoch, d.params, d.batches)

    @staticmethod
    def _model(init):
        """The tutorial's model, its parameters set to ``init`` (copies)."""
        model = mg.Sequential([mg.Linear(784, 128, key=mg.random.key(0)), mg.ReLU(),
                               mg.Linear(128, 128, key=mg.random.key(1)), mg.ReLU(),
                               mg.Linear(128, 10, key=mg.random.key(2))])
        for p, value in zip(model.parameters(), [layer[k] for layer in init for k in ("w", "b")]):
            p.data[...] = value
        return model

    def micrograd(self, d):
        model, loss_function = self._model(d.params), mg.CrossEntropyLoss()
        initial = [p.numpy().copy() for p in model.parameters()]
        batches = [(mg.tensor(x), mg.tensor(y)) for x, y in d.batches]  # as the loader yields them

        def epoch():
            with mg.no_grad():  # back to the initial parameters: every call does the same work
                for p, value in zip(model.parameters(), initial):
                    p.data[...] = value
            optimizer = mg.Adam(model.parameters(), learning_rate=EAGER_LR)
            for images, labels in batches:
                images, labels = images.to(mg.device), labels.to(mg.device)
                loss = loss_function(model(images), labels)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            ps = model.parameters()
            return [{"w": ps[i].numpy().copy(), "b": ps[i + 1].numpy().copy()} for i in (0, 2, 4)], loss.numpy()
        return epoch

    def micrograd_jit(self, d):
        loss_function, optimizer = mg.CrossEntropyLoss(), mg.Adam(learning_rate=EAGER_LR)
        model = mg.tree.map(np.asarray, self._model(d.params))  # a model of arrays: the functional form
        step = mg.optim.make_train_step(lambda m, x, y: loss_function(m(x), y), optimizer)

        def epoch():
            m, state = model, optimizer.init(model)
            for images, labels in d.batches:
                m, state, loss = step(m, state, images, labels)
            ps = m.parameters()
            return [{"w": ps[i], "b": ps[i + 1]} for i in (0, 2, 4)], loss
        epoch()
        step.wait()  # timed once its kernels are compiled (both batch shapes)
        return epoch

    # no JAX row: this case measures eager loops (PyTorch is the eager reference), and (a) already
    # compares JAX's jitted step
    jax = None

    def torch(self, d, torch):
        layers = []
        for i, layer in enumerate(d.params):
            linear = torch.nn.Linear(*layer["w"].shape)
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(layer["w"].T.copy()))  # PyTorch stores (out, in)
                linear.bias.copy_(torch.from_numpy(layer["b"]))
            layers += [linear, torch.nn.ReLU()] if i < 2 else [linear]
        model = torch.nn.Sequential(*layers)
        initial = [p.detach().clone() for p in model.parameters()]
        batches = [(torch.from_numpy(x), torch.from_numpy(y)) for x, y in d.batches]
        loss_function = torch.nn.CrossEntropyLoss()

        def epoch():
            with torch.no_grad():
                for p, value in zip(model.parameters(), initial):
                    p.copy_(value)
            optimizer = torch.optim.Adam(model.parameters(), lr=EAGER_LR)
            for images, labels in batches:
                loss = loss_function(model(images), labels)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            linears = [layer for layer in model if isinstance(layer, torch.nn.Linear)]
            return [{"w": l.weight.detach().numpy().T.copy(), "b": l.bias.detach().numpy().copy()}
                    for l in linears], loss.detach()
        return epoch


def attention_loss(q, k, v):
    """The two contractions of attention without the softmax: half the squared norm of
    ``(q k^T) v``, written with ``np.einsum`` (which micrograd traces through NumPy's dispatch)."""
    scores = np.einsum("bhqd,bhkd->bhqk", q, k)
    out = np.einsum("bhqk,bhkd->bhqd", scores, v)
    return 0.5 * np.sum(out * out)


attention_value_and_grad = mg.value_and_grad(attention_loss, argnums=(0, 1, 2))


class Attention(Case):
    """(g) einsum contractions of attention, forward and backward."""
    id, name = "g", "einsum_attention"
    title = ("value and gradients (q, k, v) of 0.5 * |einsum('bhqk,bhkd->bhqd', einsum('bhqd,bhkd->bhqk', q, k), v)|^2, "
             "batch 8, 4 heads, 64 positions, 32 dims, float32")
    tol = dict(rtol=2e-4, atol=1e-3)

    def setup(self):
        rng = np.random.default_rng(5)
        q, k, v = (rng.standard_normal((8, 4, 64, 32)).astype(np.float32) / 8 for _ in range(3))
        return SimpleNamespace(q=q, k=k, v=v)

    def numpy(self, d):
        def step(q, k, v):
            scores = q @ np.swapaxes(k, -1, -2)
            out = scores @ v
            d_scores = out @ np.swapaxes(v, -1, -2)
            return 0.5 * np.sum(out * out), (d_scores @ k, np.swapaxes(d_scores, -1, -2) @ q, np.swapaxes(scores, -1, -2) @ out)
        return functools.partial(step, d.q, d.k, d.v)

    def micrograd(self, d):
        return functools.partial(attention_value_and_grad, d.q, d.k, d.v)

    def jax(self, d, jax):
        jnp = jax.numpy

        def loss(q, k, v):
            out = jnp.einsum("bhqk,bhkd->bhqd", jnp.einsum("bhqd,bhkd->bhqk", q, k), v)
            return 0.5 * jnp.sum(out * out)
        step = jax.jit(jax.value_and_grad(loss, argnums=(0, 1, 2)))
        return functools.partial(jax_ready(jax, step), *jax.device_put((d.q, d.k, d.v)))

    def torch(self, d, torch):
        def step(q, k, v):
            q, k, v = (t.detach().requires_grad_(True) for t in (q, k, v))
            out = torch.einsum("bhqk,bhkd->bhqd", torch.einsum("bhqd,bhkd->bhqk", q, k), v)
            loss = 0.5 * torch.sum(out * out)
            return loss.detach(), torch.autograd.grad(loss, (q, k, v))
        return functools.partial(step, *(torch.from_numpy(a) for a in (d.q, d.k, d.v)))


def solve_slogdet_loss(a, b):
    return np.sum(np.linalg.solve(a, b)) + np.linalg.slogdet(a)[1]


solve_slogdet_value_and_grad = mg.value_and_grad(solve_slogdet_loss, argnums=(0, 1))


class SolveSlogdet(Case):
    """(h) Linear algebra, forward and backward: a solve and a log-determinant."""
    id, name = "h", "solve_slogdet_64"
    title = "value and gradients of sum(solve(a, b)) + slogdet(a)[1], a (64, 64), b (64, 8), float64"

    def setup(self):
        rng = np.random.default_rng(6)
        return SimpleNamespace(a=rng.standard_normal((64, 64)) + 8 * np.eye(64), b=rng.standard_normal((64, 8)))

    def numpy(self, d):
        def step(a, b):
            x = np.linalg.solve(a, b)
            logdet = np.linalg.slogdet(a)[1]
            inv_t = np.linalg.inv(a).T
            db = inv_t @ np.ones_like(b)
            return np.sum(x) + logdet, (inv_t - db @ x.T, db)
        return functools.partial(step, d.a, d.b)

    def micrograd(self, d):
        return functools.partial(solve_slogdet_value_and_grad, d.a, d.b)

    def jax(self, d, jax):
        jnp = jax.numpy
        step = jax.jit(jax.value_and_grad(lambda a, b: jnp.sum(jnp.linalg.solve(a, b)) + jnp.linalg.slogdet(a)[1],
                                          argnums=(0, 1)))
        return functools.partial(jax_ready(jax, step), *jax.device_put((d.a, d.b)))

    def torch(self, d, torch):
        def step(a, b):
            a, b = a.detach().requires_grad_(True), b.detach().requires_grad_(True)
            loss = torch.sum(torch.linalg.solve(a, b)) + torch.linalg.slogdet(a)[1]
            return loss.detach(), torch.autograd.grad(loss, (a, b))
        return functools.partial(step, torch.from_numpy(d.a), torch.from_numpy(d.b))


def sorted_cumsum_loss(x, w):
    """A weighted sum of the running sums of the sorted values (an ordered-weighted penalty)."""
    return np.sum(np.cumsum(np.sort(x)) * w)


sorted_cumsum_value_and_grad = mg.value_and_grad(sorted_cumsum_loss)


class SortCumsum(Case):
    """(i) Code built on np.sort and np.cumsum, forward and backward."""
    id, name = "i", "sort_cumsum"
    title = "value and gradient of sum(cumsum(sort(x)) * w), x and w of shape (10000,), float64"

    def setup(self):
        rng = np.random.default_rng(7)
        return SimpleNamespace(x=rng.standard_normal(10_000), w=rng.standard_normal(10_000))

    def numpy(self, d):
        def step(x, w):
            order = np.argsort(x)
            value = np.sum(np.cumsum(x[order]) * w)
            grad = np.empty_like(x)
            grad[order] = np.cumsum(w[::-1])[::-1]
            return value, grad
        return functools.partial(step, d.x, d.w)

    def micrograd(self, d):
        return functools.partial(sorted_cumsum_value_and_grad, d.x, d.w)

    def jax(self, d, jax):
        jnp = jax.numpy
        step = jax.jit(jax.value_and_grad(lambda x, w: jnp.sum(jnp.cumsum(jnp.sort(x)) * w)))
        return functools.partial(jax_ready(jax, step), *jax.device_put((d.x, d.w)))

    def torch(self, d, torch):
        def step(x, w):
            x = x.detach().requires_grad_(True)
            loss = torch.sum(torch.cumsum(torch.sort(x).values, 0) * w)
            return loss.detach(), torch.autograd.grad(loss, x)[0]
        return functools.partial(step, torch.from_numpy(d.x), torch.from_numpy(d.w))


LSTM_BATCH, LSTM_STEPS, LSTM_IN, LSTM_HIDDEN, LR_LSTM = 32, 50, 32, 128, 0.05


def lstm_loss(params, x, y):
    """Mean squared error of a linear readout of an LSTM's last output (x: time first)."""
    out, _ = params["lstm"](x)
    return mnp.mean((out[-1] @ params["w"] + params["b"] - y) ** 2)


_lstm_value_and_grad = mg.value_and_grad(lstm_loss)


def lstm_step(params, x, y):
    loss, grads = _lstm_value_and_grad(params, x, y)
    return mg.tree.map(lambda p, g: p - LR_LSTM * g, params, grads), loss


def _lstm_numpy_arrays(params):
    """The LSTM's parameters as plain arrays, in PyTorch's names and layouts."""
    lstm = params["lstm"]
    return {k: np.asarray(getattr(lstm, k)) for k in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")}


class LstmStep(Case):
    """(l) An LSTM training step: a loop over time, forward and backward."""
    id, name = "l", "lstm_step"
    title = (f"one SGD step of an LSTM ({LSTM_IN} inputs, hidden {LSTM_HIDDEN}) over {LSTM_STEPS} steps with a linear "
             f"readout of the last output, MSE, batch {LSTM_BATCH}, float32")
    tol = dict(rtol=2e-3, atol=2e-4)

    def setup(self):
        rng = np.random.default_rng(8)
        lstm = mg.LSTM(LSTM_IN, LSTM_HIDDEN, key=mg.random.key(8))
        params = {"lstm": mg.tree.map(np.asarray, lstm), "w": rng.normal(size=(LSTM_HIDDEN, 1)).astype(np.float32) / 10,
                  "b": np.zeros(1, np.float32)}
        return SimpleNamespace(params=params, x=rng.standard_normal((LSTM_STEPS, LSTM_BATCH, LSTM_IN)).astype(np.float32),
                               y=rng.standard_normal((LSTM_BATCH, 1)).astype(np.float32))

    def numpy(self, d):
        def step(params, x, y):
            p = _lstm_numpy_arrays(params)
            w_ih, w_hh, b = p["weight_ih_l0"], p["weight_hh_l0"], p["bias_ih_l0"] + p["bias_hh_l0"]
            steps, batch = x.shape[:2]
            hidden = w_hh.shape[1]
            pre = x @ w_ih.T + b
            h, c = np.zeros((batch, hidden), np.float32), np.zeros((batch, hidden), np.float32)
            saved = []
            for t in range(steps):
                gates = pre[t] + h @ w_hh.T
                i, f, g, o = (1 / (1 + np.exp(-gates[:, :hidden])), 1 / (1 + np.exp(-gates[:, hidden:2 * hidden])),
                              np.tanh(gates[:, 2 * hidden:3 * hidden]), 1 / (1 + np.exp(-gates[:, 3 * hidden:])))
                c_prev, h_prev = c, h
                c = f * c + i * g
                tanh_c = np.tanh(c)
                h = o * tanh_c
                saved.append((h_prev, c_prev, i, f, g, o, tanh_c))
            err = h @ params["w"] + params["b"] - y
            loss = np.mean(err ** 2)
            d_out = 2 * err / err.size
            grads = {"w": h.T @ d_out, "b": d_out.sum(axis=0)}
            dh, dc = d_out @ params["w"].T, np.zeros_like(c)
            d_w_ih, d_w_hh, d_b = np.zeros_like(w_ih), np.zeros_like(w_hh), np.zeros_like(b)
            for t in range(steps - 1, -1, -1):
                h_prev, c_prev, i, f, g, o, tanh_c = saved[t]
                do = dh * tanh_c
                dc = dc + dh * o * (1 - tanh_c ** 2)
                di, df, dg = dc * g, dc * c_prev, dc * i
                d_gates = np.concatenate([di * i * (1 - i), df * f * (1 - f), dg * (1 - g ** 2), do * o * (1 - o)], axis=1)
                d_w_ih += d_gates.T @ x[t]
                d_w_hh += d_gates.T @ h_prev
                d_b += d_gates.sum(axis=0)
                dh, dc = d_gates @ w_hh, dc * f
            new_lstm = {"weight_ih_l0": w_ih - LR_LSTM * d_w_ih, "weight_hh_l0": w_hh - LR_LSTM * d_w_hh,
                        "bias_hh_l0": p["bias_hh_l0"] - LR_LSTM * d_b, "bias_ih_l0": p["bias_ih_l0"] - LR_LSTM * d_b}
            return ({"b": params["b"] - LR_LSTM * grads["b"], "lstm": new_lstm, "w": params["w"] - LR_LSTM * grads["w"]},
                    loss)
        return functools.partial(step, d.params, d.x, d.y)

    def micrograd(self, d):
        def step(params, x, y):
            new, loss = lstm_step(params, x, y)
            return {"b": new["b"], "lstm": _lstm_numpy_arrays(new), "w": new["w"]}, loss
        return functools.partial(step, d.params, d.x, d.y)

    def micrograd_jit(self, d):
        jitted = mg.jit(lstm_step)
        jitted(d.params, d.x, d.y)
        jitted.wait()

        def step(params, x, y):
            new, loss = jitted(params, x, y)
            return {"b": new["b"], "lstm": _lstm_numpy_arrays(new), "w": new["w"]}, loss
        return functools.partial(step, d.params, d.x, d.y)

    def jax(self, d, jax):
        jnp = jax.numpy
        params = {"b": d.params["b"], "lstm": _lstm_numpy_arrays(d.params), "w": d.params["w"]}

        def loss(params, x, y):
            p = params["lstm"]
            pre = x @ p["weight_ih_l0"].T + p["bias_ih_l0"]
            w_hh_t, b_hh = p["weight_hh_l0"].T, p["bias_hh_l0"]

            def cell(carry, inputs):
                h, c = carry
                i, f, g, o = jnp.split(inputs + h @ w_hh_t + b_hh, 4, axis=-1)
                c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
                h = jax.nn.sigmoid(o) * jnp.tanh(c)
                return (h, c), h

            zeros = jnp.zeros((x.shape[1], w_hh_t.shape[0]), x.dtype)
            (h, _), _ = jax.lax.scan(cell, (zeros, zeros), pre)
            return jnp.mean((h @ params["w"] + params["b"] - y) ** 2)

        @jax.jit
        def step(params, x, y):
            value, grads = jax.value_and_grad(loss)(params, x, y)
            return jax.tree_util.tree_map(lambda p, g: p - LR_LSTM * g, params, grads), value

        return functools.partial(jax_ready(jax, step), *jax.device_put((params, d.x, d.y)))

    def torch(self, d, torch):
        lstm = torch.nn.LSTM(LSTM_IN, LSTM_HIDDEN)
        with torch.no_grad():
            for name, p in lstm.named_parameters():
                p.copy_(torch.from_numpy(_lstm_numpy_arrays(d.params)[name]))
        w, b = (torch.tensor(d.params[k], requires_grad=True) for k in ("w", "b"))
        x, y = torch.from_numpy(d.x), torch.from_numpy(d.y)
        names = [n for n, _ in lstm.named_parameters()]

        def step():
            out, _ = lstm(x)
            loss = torch.mean((out[-1] @ w + b - y) ** 2)
            flat = list(lstm.parameters()) + [w, b]
            grads = torch.autograd.grad(loss, flat)
            with torch.no_grad():
                new = [p - LR_LSTM * g for p, g in zip(flat, grads)]
            return {"b": new[-1], "lstm": dict(zip(names, new[:-2])), "w": new[-2]}, loss.detach()
        return step


CNN_BATCH, CNN_LR, CNN_ADAM_COUNT = 64, 1e-3, 10
CNN_SHAPES = {"conv1.weight": (32, 1, 3, 3), "conv1.bias": (32,), "conv2.weight": (64, 32, 3, 3), "conv2.bias": (64,),
              "fc1.weight": (128, 64 * 7 * 7), "fc1.bias": (128,), "fc2.weight": (10, 128), "fc2.bias": (10,)}


def cnn_model(params) -> mg.Sequential:
    """examples/mnist_cnn.py's model holding ``params`` (PyTorch's names and layouts)."""
    k = mg.random.split(mg.random.key(0), 4)
    model = mg.Sequential([mg.Conv2d(1, 32, 3, padding=1, key=k[0]), mg.ReLU(), mg.MaxPool2d(2),
                           mg.Conv2d(32, 64, 3, padding=1, key=k[1]), mg.ReLU(), mg.MaxPool2d(2), mg.Flatten(),
                           mg.Linear(64 * 7 * 7, 128, key=k[2]), mg.ReLU(), mg.Linear(128, 10, key=k[3])])
    layers = {"conv1": 0, "conv2": 3, "fc1": 7, "fc2": 9}
    for name, value in params.items():
        layer, kind = name.split(".")
        value = value.T if layer.startswith("fc") and kind == "weight" else value  # Linear keeps (in, out)
        setattr(model[layers[layer]], kind, np.ascontiguousarray(value))
    return model


def cnn_params(model: mg.Sequential) -> dict:
    """The inverse of :func:`cnn_model`."""
    layers = {"conv1": model[0], "conv2": model[3], "fc1": model[7], "fc2": model[9]}
    return {name: (np.asarray(getattr(layers[name.split(".")[0]], name.split(".")[1])).T
                   if name.startswith("fc") and name.endswith("weight")
                   else np.asarray(getattr(layers[name.split(".")[0]], name.split(".")[1])))
            for name in CNN_SHAPES}


def _cnn_numpy_conv(x, w, b):
    """3x3 convolution, padding 1, NCHW: the windows as rows, one product."""
    n, c, h, wd = x.shape
    cols = np.lib.stride_tricks.sliding_window_view(np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1))), (3, 3), axis=(2, 3))
    cols = cols.transpose(0, 2, 3, 1, 4, 5).reshape(n * h * wd, c * 9)  # (N H W, C 3 3)
    y = cols @ w.reshape(len(w), -1).T + b
    return y.reshape(n, h, wd, -1).transpose(0, 3, 1, 2), cols


def _cnn_numpy_conv_backward(dy, cols, w, x_shape):
    n, c, h, wd = x_shape
    dy_rows = dy.transpose(0, 2, 3, 1).reshape(n * h * wd, -1)
    dw = (dy_rows.T @ cols).reshape(w.shape)
    dcols = (dy_rows @ w.reshape(len(w), -1)).reshape(n, h, wd, c, 3, 3)
    dx = np.zeros((n, c, h + 2, wd + 2), dy.dtype)
    for i in range(3):
        for j in range(3):
            dx[:, :, i:i + h, j:j + wd] += dcols[..., i, j].transpose(0, 3, 1, 2)
    return dx[:, :, 1:-1, 1:-1], dw, dy_rows.sum(axis=0)


def _cnn_numpy_pool(x):
    n, c, h, w = x.shape
    tiles = x.reshape(n, c, h // 2, 2, w // 2, 2)
    y = tiles.max(axis=(3, 5))
    return y, tiles == y[:, :, :, None, :, None]


def cnn_numpy_loss_and_grads(p, x, labels):
    """The CNN's cross-entropy and its gradients, by hand."""
    a1, cols1 = _cnn_numpy_conv(x, p["conv1.weight"], p["conv1.bias"])
    r1 = np.maximum(a1, 0)
    p1, mask1 = _cnn_numpy_pool(r1)
    a2, cols2 = _cnn_numpy_conv(p1, p["conv2.weight"], p["conv2.bias"])
    r2 = np.maximum(a2, 0)
    p2, mask2 = _cnn_numpy_pool(r2)
    flat = p2.reshape(len(x), -1)
    h = np.maximum(flat @ p["fc1.weight"].T + p["fc1.bias"], 0)
    logits = h @ p["fc2.weight"].T + p["fc2.bias"]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    rows = np.arange(len(labels))
    loss = -log_probs[rows, labels].mean()
    d_logits = np.exp(log_probs)
    d_logits[rows, labels] -= 1
    d_logits /= len(labels)
    g = {"fc2.weight": d_logits.T @ h, "fc2.bias": d_logits.sum(axis=0)}
    dh = (d_logits @ p["fc2.weight"]) * (h > 0)
    g["fc1.weight"], g["fc1.bias"] = dh.T @ flat, dh.sum(axis=0)
    dp2 = (dh @ p["fc1.weight"]).reshape(p2.shape)
    dr2 = (mask2 * dp2[:, :, :, None, :, None]).reshape(r2.shape) * (a2 > 0)
    dp1, g["conv2.weight"], g["conv2.bias"] = _cnn_numpy_conv_backward(dr2, cols2, p["conv2.weight"], p1.shape)
    dr1 = (mask1 * dp1[:, :, :, None, :, None]).reshape(r1.shape) * (a1 > 0)
    _, g["conv1.weight"], g["conv1.bias"] = _cnn_numpy_conv_backward(dr1, cols1, p["conv1.weight"], x.shape)
    return loss, g


def _adam_numpy(p, g, m, v, count):
    t = count + 1
    m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g * g
    return p - (CNN_LR / (1 - 0.9 ** t)) * m / (np.sqrt(v) / math.sqrt(1 - 0.999 ** t) + 1e-8), m, v


class CnnStep(Case):
    """(m) A training step of examples/mnist_cnn.py's model: convolutions, pooling, Adam."""
    id, name = "m", "cnn_step"
    title = (f"one Adam step (lr {CNN_LR}, its state after {CNN_ADAM_COUNT} steps) of examples/mnist_cnn.py's CNN "
             f"(conv 3x3 32 - pool - conv 3x3 64 - pool - 3136-128-10), cross-entropy, batch {CNN_BATCH}, float32")
    tol = dict(rtol=1e-3, atol=1e-5)
    targets = {JAX: 1.0, TORCH: 1.5}

    def setup(self):
        rng = np.random.default_rng(9)
        params = {k: (rng.uniform(-1, 1, s) / math.sqrt(np.prod(s[1:]) if len(s) > 1 else 10)).astype(np.float32)
                  for k, s in CNN_SHAPES.items()}
        # a state some steps in, so that the update is not lr * sign(gradient), whose sign flips with rounding
        m = {k: (rng.standard_normal(v.shape) * 1e-3).astype(np.float32) for k, v in params.items()}
        v = {k: (rng.random(v.shape) * 1e-5 + 1e-7).astype(np.float32) for k, v in params.items()}
        return SimpleNamespace(params=params, m=m, v=v, x=rng.random((CNN_BATCH, 1, 28, 28), dtype=np.float32),
                               labels=rng.integers(0, 10, CNN_BATCH))

    def numpy(self, d):
        def step(params, m, v, x, labels):
            loss, grads = cnn_numpy_loss_and_grads(params, x, labels)
            return {k: _adam_numpy(params[k], grads[k], m[k], v[k], CNN_ADAM_COUNT)[0] for k in params}, loss
        return functools.partial(step, d.params, d.m, d.v, d.x, d.labels)

    def _micrograd_step(self, d, jit: bool):
        optimizer, loss_function = mg.Adam(learning_rate=CNN_LR), mg.CrossEntropyLoss()
        model = cnn_model(d.params)
        state = {"count": np.array(CNN_ADAM_COUNT), "m": cnn_model(d.m), "v": cnn_model(d.v)}
        train_step = mg.optim.make_train_step(lambda m, x, y: loss_function(m(x), y), optimizer, jit=jit)
        if jit:
            train_step(model, state, d.x, d.labels)
            train_step.wait()

        def step(model, state, x, labels):
            new, _, loss = train_step(model, state, x, labels)
            return cnn_params(new), loss
        return functools.partial(step, model, state, d.x, d.labels)

    def micrograd(self, d):
        return self._micrograd_step(d, jit=False)

    def micrograd_jit(self, d):
        return self._micrograd_step(d, jit=True)

    def jax(self, d, jax):
        jnp, lax = jax.numpy, jax.lax

        def conv(x, w, b):
            y = lax.conv_general_dilated(x, w, (1, 1), ((1, 1), (1, 1)), dimension_numbers=("NCHW", "OIHW", "NCHW"))
            return y + b[:, None, None]

        def pool(x):  # as flax.linen.max_pool
            return lax.reduce_window(x, -jnp.inf, lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")

        def loss(p, x, labels):
            x = pool(jax.nn.relu(conv(x, p["conv1.weight"], p["conv1.bias"])))
            x = pool(jax.nn.relu(conv(x, p["conv2.weight"], p["conv2.bias"]))).reshape(x.shape[0], -1)
            x = jax.nn.relu(x @ p["fc1.weight"].T + p["fc1.bias"])
            logits = x @ p["fc2.weight"].T + p["fc2.bias"]
            return -jnp.mean(jax.nn.log_softmax(logits)[jnp.arange(labels.shape[0]), labels])

        @jax.jit
        def step(p, m, v, x, labels):
            value, g = jax.value_and_grad(loss)(p, x, labels)
            t = CNN_ADAM_COUNT + 1
            m = jax.tree_util.tree_map(lambda m, g: 0.9 * m + 0.1 * g, m, g)
            v = jax.tree_util.tree_map(lambda v, g: 0.999 * v + 0.001 * g * g, v, g)
            new = jax.tree_util.tree_map(
                lambda p, m, v: p - (CNN_LR / (1 - 0.9 ** t)) * m / (jnp.sqrt(v) / math.sqrt(1 - 0.999 ** t) + 1e-8),
                p, m, v)
            return new, value

        return functools.partial(jax_ready(jax, step), *jax.device_put((d.params, d.m, d.v, d.x, d.labels)))

    def torch(self, d, torch):
        nn = torch.nn
        model = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                              nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))
        names = dict(zip(["0.weight", "0.bias", "3.weight", "3.bias", "7.weight", "7.bias", "9.weight", "9.bias"],
                         CNN_SHAPES))
        optimizer = torch.optim.Adam(model.parameters(), lr=CNN_LR)
        with torch.no_grad():
            for key, p in model.named_parameters():
                p.copy_(torch.from_numpy(d.params[names[key]]))
                optimizer.state[p] = {"step": torch.tensor(float(CNN_ADAM_COUNT)),
                                      "exp_avg": torch.from_numpy(d.m[names[key]].copy()),
                                      "exp_avg_sq": torch.from_numpy(d.v[names[key]].copy())}
        x, labels = torch.from_numpy(d.x), torch.from_numpy(d.labels)

        def step():  # PyTorch's own loop: the model and the optimizer's state change in place
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(x), labels)
            loss.backward()
            optimizer.step()
            return {names[k]: p.detach().clone() for k, p in model.named_parameters()}, loss.detach()
        return step


CONV_N, CONV_C, CONV_SIZE = 64, 64, 32


class Conv2dGrad(Case):
    """(n) One convolution forward and backward, against the BLAS floor."""
    id, name = "n", "conv2d_grad"
    title = (f"value and gradients (input, kernel) of sum(conv2d(x, w, padding=1) * g), x {CONV_N}x{CONV_C}x{CONV_SIZE}"
             f"x{CONV_SIZE}, w {CONV_C}x{CONV_C}x3x3, float32")
    tol = dict(rtol=1e-3, atol=5e-2)  # the kernel's gradient sums 65,536 products of order 1

    def setup(self):
        rng = np.random.default_rng(10)
        shape = (CONV_N, CONV_C, CONV_SIZE, CONV_SIZE)
        return SimpleNamespace(x=rng.standard_normal(shape, dtype=np.float32),
                               w=(rng.standard_normal((CONV_C, CONV_C, 3, 3), dtype=np.float32) / 24),
                               g=rng.standard_normal(shape, dtype=np.float32))

    def numpy(self, d):
        def step(x, w, g):
            y, cols = _cnn_numpy_conv(x, w, 0.0)
            dx, dw, _ = _cnn_numpy_conv_backward(g, cols, w, x.shape)
            return np.sum(y * g), (dx, dw)
        return functools.partial(step, d.x, d.w, d.g)

    def micrograd(self, d):
        value_and_grad = mg.value_and_grad(lambda x, w, g: mnp.sum(mg.nn.functional.conv2d(x, w, padding=1) * g),
                                           argnums=(0, 1))
        return functools.partial(value_and_grad, d.x, d.w, d.g)

    def jax(self, d, jax):
        def loss(x, w, g):
            y = jax.lax.conv_general_dilated(x, w, (1, 1), ((1, 1), (1, 1)), dimension_numbers=("NCHW", "OIHW", "NCHW"))
            return jax.numpy.sum(y * g)
        step = jax.jit(jax.value_and_grad(loss, argnums=(0, 1)))
        return functools.partial(jax_ready(jax, step), *jax.device_put((d.x, d.w, d.g)))

    def torch(self, d, torch):
        def step(x, w, g):
            x, w = x.detach().requires_grad_(True), w.detach().requires_grad_(True)
            loss = torch.sum(torch.nn.functional.conv2d(x, w, padding=1) * g)
            return loss.detach(), torch.autograd.grad(loss, (x, w))
        return functools.partial(step, *(torch.from_numpy(a) for a in (d.x, d.w, d.g)))

    def floor(self, d) -> float:
        """The three products of the convolution and its gradients at NumPy's matmul speed:
        ``rows x 9C @ 9C x C`` (forward), its transpose (kernel) and ``rows x C @ C x 9C`` (input)."""
        rows = d.x.shape[0] * d.x.shape[2] * d.x.shape[3]
        rng = np.random.default_rng(0)
        cols = rng.random((rows, 9 * CONV_C), dtype=np.float32)
        w, dy = rng.random((9 * CONV_C, CONV_C), dtype=np.float32), rng.random((rows, CONV_C), dtype=np.float32)
        products = lambda: (cols @ w, dy.T @ cols, dy @ w.T)  # noqa: E731
        products()
        return min(time_calls(products, 1) for _ in range(10))

    def summary(self, d, times) -> list[str]:
        floor = self.floor(d)
        flops = 3 * 2 * d.x.shape[0] * d.x.shape[2] * d.x.shape[3] * CONV_C * CONV_C * 9
        lines = [f"    BLAS floor: {flops / 1e9:.1f} GFLOP in three products at NumPy's measured rate "
                 f"({flops / floor / 1e9:.0f} GFLOP/s): {format_time(floor)}"]
        lines += [f"    {name:<22} {min(t) / floor:.2f}x the floor" for name, t in times.items()]
        return lines


TINY_SIZES, TINY_BATCH, LR_TINY = [8, 16, 16, 3], 16, 0.01


class TinyEagerStep(Case):
    """(t) A tiny eager training step, where the time is all per-operation overhead (the
    products are 16x16): the tutorial's loop on micrograd tensors against PyTorch's own loop.
    Both keep training from call to call, as a loop does; the check against NumPy is on the
    first step. The micrograd row is timed once a model of the same structure has trained a
    few steps and the kernels that made were compiled (its backward pass is then replayed
    compiled, and the optimizer's update is compiled)."""
    id, name, unit = "t", "tiny_eager_step", "us"
    title = (f"one SGD step (lr {LR_TINY}) of an MLP {'-'.join(map(str, TINY_SIZES))}, ReLU, cross-entropy, batch "
             f"{TINY_BATCH}, float64, written eagerly: loss_function(model(x), y), backward(), step()")
    targets = {(MICROGRAD, TORCH): 1.0}

    def setup(self):
        rng = np.random.default_rng(11)
        return SimpleNamespace(params=init_layers(TINY_SIZES, rng, np.float64),
                               x=rng.standard_normal((TINY_BATCH, TINY_SIZES[0])),
                               labels=rng.integers(0, TINY_SIZES[-1], TINY_BATCH))

    def numpy(self, d):
        def step(params, x, labels):
            loss, grads = mnist_numpy_loss_and_grads(params, x, labels)  # (any sizes of three layers)
            return [{"w": layer["w"] - LR_TINY * dw, "b": layer["b"] - LR_TINY * db}
                    for layer, (dw, db) in zip(params, grads)], loss
        return functools.partial(step, d.params, d.x, d.labels)

    @staticmethod
    def _model(d) -> mg.Sequential:
        layers = []
        for i, (fan_in, fan_out) in enumerate(zip(TINY_SIZES[:-1], TINY_SIZES[1:])):
            layers.append(mg.Linear(fan_in, fan_out, key=mg.random.key(i), dtype=np.float64))
            layers += [mg.ReLU()] if i < len(TINY_SIZES) - 2 else []
        model = mg.Sequential(layers)
        for p, value in zip(model.parameters(), [layer[k] for layer in d.params for k in ("w", "b")]):
            p.data[...] = value
        return model

    def _micrograd_step(self, d):
        model = self._model(d)
        optimizer, loss_function = mg.SGD(model.parameters(), learning_rate=LR_TINY), mg.CrossEntropyLoss()
        x, labels = mg.tensor(d.x), mg.tensor(d.labels)
        ps = model.parameters()

        def step():
            loss = loss_function(model(x), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            return [{"w": ps[i].numpy(), "b": ps[i + 1].numpy()} for i in (0, 2, 4)], loss  # (views: no copies)
        return step

    def micrograd(self, d):
        warm_up = self._micrograd_step(d)  # another model of the same structure
        for _ in range(10):
            warm_up()
        mg.wait_for_compiles()
        return self._micrograd_step(d)

    def micrograd_jit(self, d):
        loss_function = mg.CrossEntropyLoss()
        step = mg.optim.make_train_step(lambda m, x, y: loss_function(m(x), y), mg.SGD(learning_rate=LR_TINY))
        model = mg.tree.map(np.asarray, self._model(d))  # a model of arrays: the functional form
        state = mg.SGD(learning_rate=LR_TINY).init(model)
        step(model, state, d.x, d.labels)
        step.wait()

        def call():
            new, _, loss = step(model, state, d.x, d.labels)
            ps = new.parameters()
            return [{"w": ps[i], "b": ps[i + 1]} for i in (0, 2, 4)], loss
        return call

    # no JAX row: this case measures eager steps (PyTorch is the eager reference; (d) compares jitted steps)
    jax = None

    def torch(self, d, torch):
        layers = []
        for i, layer in enumerate(d.params):
            linear = torch.nn.Linear(*layer["w"].shape).double()
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(layer["w"].T.copy()))  # PyTorch stores (out, in)
                linear.bias.copy_(torch.from_numpy(layer["b"]))
            layers += [linear, torch.nn.ReLU()] if i < len(d.params) - 1 else [linear]
        model = torch.nn.Sequential(*layers)
        optimizer, loss_function = torch.optim.SGD(model.parameters(), lr=LR_TINY), torch.nn.CrossEntropyLoss()
        x, labels = torch.from_numpy(d.x), torch.from_numpy(d.labels)
        linears = [layer for layer in model if isinstance(layer, torch.nn.Linear)]

        def step():
            loss = loss_function(model(x), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            return [{"w": l.weight.detach().numpy().T, "b": l.bias.detach().numpy()} for l in linears], loss.detach()
        return step


def tiny_numpy_f(w, x, b):
    """(v)'s function, plain NumPy: micrograd traces it through NumPy's dispatch."""
    return np.sum(np.tanh(w * x + b))


tiny_value_and_grad = mg.value_and_grad(tiny_numpy_f)


class TinyValueAndGrad(Case):
    """(v) The design's first use: ``mg.value_and_grad(f)(x)`` un-jitted, on a function of 10
    numbers, so the time is all overhead. Every call traces ``f`` again (nothing is kept between
    calls: a function may close over values that change), as autograd traces every call."""
    id, name, unit = "v", "tiny_value_and_grad", "us"
    title = "value and gradient of np.sum(np.tanh(w * x + b)), w, x, b of shape (10,), float64, un-jitted"
    targets = {(MICROGRAD, AUTOGRAD): 1.0}
    setup = TinyGrad.setup  # (b)'s inputs

    def numpy(self, d):
        def value_and_grad(w, x, b):
            t = np.tanh(w * x + b)
            return np.sum(t), (1.0 - t * t) * x
        return functools.partial(value_and_grad, d.w, d.x, d.b)

    def micrograd(self, d):
        return functools.partial(tiny_value_and_grad, d.w, d.x, d.b)

    # no JAX row: JAX jit is (b); JAX without jit dispatches each operation to XLA (milliseconds)
    jax = None

    def torch(self, d, torch):
        grad_and_value = torch.func.grad_and_value(lambda w, x, b: torch.sum(torch.tanh(w * x + b)))

        def value_and_grad(w, x, b):
            grad, value = grad_and_value(w, x, b)
            return value, grad
        return functools.partial(value_and_grad, *(torch.from_numpy(a) for a in (d.w, d.x, d.b)))

    def autograd(self, d, autograd):
        import autograd.numpy as anp
        value_and_grad = autograd.value_and_grad(lambda w, x, b: anp.sum(anp.tanh(w * x + b)))
        return functools.partial(value_and_grad, d.w, d.x, d.b)


class ColdStart(Case):
    """(e) Time to the first result of (a) in a fresh process: see :func:`cold_start`."""
    id, name, title = "e", "cold_start", "time to the first result of (a) in a fresh process"


class DistributedScaling(Case):
    """(r) Data-parallel training over MPI: benchmarks/distributed.py, run as it is."""
    id, name, title = "r", "distributed_scaling", "weak scaling of the MNIST MLP and CNN steps on 1 and 2 processes"


def distributed_scaling() -> list[str]:
    """(r): ``benchmarks/distributed.py`` in a subprocess (it launches MPI jobs itself)."""
    import subprocess

    here = os.path.dirname(os.path.abspath(__file__))
    done = subprocess.run([sys.executable, os.path.join(here, "distributed.py")], capture_output=True, text=True,
                          timeout=1800)
    lines = [f"(r) distributed_scaling: {DistributedScaling.title} (python benchmarks/distributed.py)"]
    if done.returncode:
        return lines + [f"    FAILED: {(done.stderr.strip().splitlines() or ['?'])[-1]}"]
    return lines + ["    " + line for line in done.stdout.splitlines() if not line.startswith("  ")]


class ExampleColdWarm(Case):
    """(q) The MNIST example with an empty and with a warm compile cache: see :func:`example_cold_and_warm`."""
    id, name, title = "q", "mnist_example_cold_warm", "examples/mnist.py with an empty and a warm compile cache"


COLD_START = ColdStart()
EXAMPLE_COLD_WARM = ExampleColdWarm()
DISTRIBUTED_SCALING = DistributedScaling()
SEPARATE = {COLD_START: lambda frameworks: cold_start(frameworks),  # cases timing whole processes
            EXAMPLE_COLD_WARM: lambda frameworks: example_cold_and_warm(),
            DISTRIBUTED_SCALING: lambda frameworks: distributed_scaling()}
CASES: list[Case] = [MnistStep("a", 128), MnistStep("a", 1024), TinyGrad(), Hessian100(), MoonsStep(),
                     PerExampleGrads(), EagerMnistEpoch(), Attention(), SolveSlogdet(), SortCumsum(), LstmStep(),
                     CnnStep(), Conv2dGrad(), TinyEagerStep(), TinyValueAndGrad(), COLD_START, EXAMPLE_COLD_WARM,
                     DISTRIBUTED_SCALING]


def select_cases(spec: str | None) -> list[Case]:
    """Cases named by a comma-separated list of ids and names (``a`` selects both batch sizes)."""
    if not spec:
        return list(CASES)
    wanted = [s.strip() for s in spec.split(",") if s.strip()]
    unknown = [w for w in wanted if not any(w in (c.id, c.name) for c in CASES)]
    if unknown:
        known = ", ".join(f"{c.id}/{c.name}" for c in CASES)
        raise ValueError(f"unknown case(s) {', '.join(unknown)}; the cases are {known}")
    return [c for c in CASES if c.id in wanted or c.name in wanted]


# --- agreement ------------------------------------------------------------------------------------

def as_leaves(result) -> list[np.ndarray]:
    """The arrays of a result (dicts by sorted key), as NumPy arrays."""
    if isinstance(result, dict):
        return [leaf for k in sorted(result) for leaf in as_leaves(result[k])]
    if isinstance(result, (list, tuple)):
        return [leaf for v in result for leaf in as_leaves(v)]
    if hasattr(result, "detach"):  # a torch tensor
        result = result.detach().cpu().numpy()
    return [np.asarray(result)]


def disagreement(result, reference, rtol: float, atol: float) -> str | None:
    """Why ``result`` differs from ``reference`` (``None`` if it does not)."""
    got, want = as_leaves(result), as_leaves(reference)
    if len(got) != len(want):
        return f"{len(got)} arrays where NumPy gives {len(want)}"
    for i, (g, w) in enumerate(zip(got, want)):
        if g.shape != w.shape or g.dtype != w.dtype:
            return f"array {i} is {g.dtype}{list(g.shape)} where NumPy gives {w.dtype}{list(w.shape)}"
        if not np.allclose(g, w, rtol=rtol, atol=atol):
            err = np.abs(g.astype(np.float64) - w)
            return (f"array {i} {list(w.shape)} differs by up to {err.max():.3g} "
                    f"(rtol {rtol:g}, atol {atol:g})")
    return None


NOT_WRITTEN = "skipped: not written for this case"


def build_and_check(case: Case, names: list[str] | None = None, frameworks: dict | None = None):
    """Build the case's callables and check each once against NumPy.

    Returns ``(callables, notes, data)``: ``callables`` maps each implementation that agrees with NumPy
    to its callable; ``notes`` maps every other one to why it is not there ("skipped: ...",
    "FAILED: ...", "DISAGREES: ..."). ``frameworks`` maps "jax"/"torch" to ``(module, why
    skipped)`` as :func:`load_framework` returns them (loaded on demand when missing).
    """
    frameworks = {} if frameworks is None else frameworks
    data = case.setup()
    callables, notes, reference = {}, {}, None
    for name, method, framework in IMPLEMENTATIONS:
        if names is not None and name not in names:
            continue
        args = (data,)
        if getattr(case, method, None) is None:
            notes[name] = NOT_WRITTEN
            continue
        if framework is not None:
            if framework not in frameworks:
                frameworks[framework] = load_framework(framework)
            module, why = frameworks[framework]
            if module is None:
                notes[name] = why
                continue
            args = (data, module)
        try:
            fn = getattr(case, method)(*args)
            result = fn()  # JAX compiles here
        except Exception as e:
            notes[name] = f"FAILED: {type(e).__name__}: {e}".splitlines()[0]
            continue
        if name == NUMPY:
            reference = result
        else:
            why = disagreement(result, reference, **case.tol)
            if why is not None:
                notes[name] = f"DISAGREES with NumPy: {why}"
                continue
        callables[name] = fn
    return callables, notes, data


# --- timing ---------------------------------------------------------------------------------------

def time_calls(fn: Callable[[], Any], n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return time.perf_counter() - start


def calls_per_sample(fn: Callable[[], Any], min_time: float) -> int:
    """How many calls in a row last at least ``min_time`` (the calls made here warm up too)."""
    n = 1
    while True:
        t = time_calls(fn, n)
        if t >= min_time:
            return n
        n = max(n + 1, min(100 * n, math.ceil(n * 1.2 * min_time / max(t, 1e-9))))


def benchmark(callables: dict[str, Callable[[], Any]], rounds: int, min_time: float) -> dict[str, list[float]]:
    """Per implementation, the per-call times of ``rounds`` samples, taken round-robin."""
    names = list(callables)
    sizes = {}
    for name in names:
        callables[name]()  # warm-up, beyond the checking call
        sizes[name] = calls_per_sample(callables[name], min_time)
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        for k in range(len(names)):
            name = names[(r + k) % len(names)]
            gc.collect()
            time.sleep(PAUSE)
            times[name].append(time_calls(callables[name], sizes[name]) / sizes[name])
    return times


# --- report ---------------------------------------------------------------------------------------

_UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6}


def format_time(seconds: float, unit: str | None = None) -> str:
    if unit is None:
        unit = "us" if seconds < 1e-3 else "ms" if seconds < 1.0 else "s"
    value = seconds / _UNITS[unit]
    digits = 2 if value < 10 else 1 if value < 100 else 0
    return f"{value:.{digits}f} {unit}"


def format_ratio(r: float) -> str:
    return f"{r:.2f}x" if r < 10 else f"{r:.1f}x" if r < 100 else f"{r:.0f}x"


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.lower().startswith(("model name", "hardware", "cpu model")):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def load_average() -> str:
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except (AttributeError, OSError):
        return "unknown"


def machine_header(frameworks: dict) -> list[str]:
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    try:
        blas = np.__config__.CONFIG["Build Dependencies"]["blas"]
        blas = f", BLAS {blas['name']} {blas.get('version', '')}".rstrip()
    except Exception:
        blas = ""
    lines = [
        f"machine:   {cpu_model()}, {os.cpu_count()} logical cores ({usable} usable), "
        f"{platform.system()} {platform.release()}",
        f"Python:    {platform.python_version()} ({platform.python_implementation()})",
        f"NumPy:     {np.__version__}{blas}",
        f"micrograd: {mg.__version__} ({os.path.dirname(os.path.abspath(mg.__file__))})",
    ]
    threads = [f"{k}={os.environ[k]}" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                                                 "XLA_FLAGS") if k in os.environ]
    if threads:
        lines.append(f"env:       {' '.join(threads)}")
    jax, why = frameworks.get("jax", (None, "not requested"))
    if jax is not None:
        backend = jax.default_backend()
        lines.append(f"JAX:       {jax.__version__} (backend {backend}, {len(jax.devices())} device(s), x64 on)")
    else:
        lines.append(f"JAX:       {why}")
    torch, why = frameworks.get("torch", (None, "not requested"))
    if torch is not None:
        lines.append(f"PyTorch:   {torch.__version__} ({torch.get_num_threads()} threads, the default)")
    else:
        lines.append(f"PyTorch:   {why}")
    autograd, why = frameworks.get("autograd", (None, "not requested"))
    if autograd is not None:
        from importlib.metadata import PackageNotFoundError, version
        try:
            lines.append(f"autograd:  {version('autograd')}")
        except PackageNotFoundError:
            lines.append("autograd:  (version unknown)")
    else:
        lines.append(f"autograd:  {why}")
    return lines


def case_table(case: Case, times: dict[str, list[float]], notes: dict[str, str]) -> list[str]:
    lines = [f"({case.id}) {case.name}: {case.title}",
             f"    {'implementation':<22} {'min/call':>11} {'median/call':>12}  {'vs NumPy':>9}"]
    base = min(times[NUMPY]) if NUMPY in times else None
    for name, _, _ in IMPLEMENTATIONS:
        if name in times:
            best, med = min(times[name]), statistics.median(times[name])
            ratio = format_ratio(best / base) if base else "-"
            lines.append(f"    {name:<22} {format_time(best, case.unit):>11} {format_time(med, case.unit):>12}  "
                         f"{ratio:>9}")
        elif name in notes and not (name in OPTIONAL_ROWS and notes[name] == NOT_WRITTEN):
            lines.append(f"    {name:<22} {notes[name]}")
    for against, limit in case.targets.items():
        ours, theirs = against if isinstance(against, tuple) else (MICROGRAD_JIT, against)
        if ours in times and theirs in times:
            ratio = min(times[ours]) / min(times[theirs])
            lines.append(f"    target: {ours} <= {limit:.2f}x {theirs}: {format_ratio(ratio)}, "
                         f"{'met' if ratio <= limit else 'MISSED'}")
    return lines


COLD_START_SCRIPT = r"""
import sys, time
import numpy as np
t0 = time.perf_counter()
framework, cache = sys.argv[1], sys.argv[2]
rng = np.random.default_rng(0)
sizes = [784, 128, 128, 10]
params = [{"w": rng.uniform(-0.05, 0.05, (a, b)).astype(np.float32), "b": np.zeros(b, np.float32)}
          for a, b in zip(sizes[:-1], sizes[1:])]
x = rng.random((128, 784), dtype=np.float32)
labels = rng.integers(0, 10, 128)
if framework == "micrograd":
    import micrograd as mg, micrograd.numpy as mnp
    def loss(params, x, labels):
        for layer in params[:-1]:
            x = mnp.relu(x @ layer["w"] + layer["b"])
        logits = x @ params[-1]["w"] + params[-1]["b"]
        return -mnp.mean(mnp.log_softmax(logits)[np.arange(len(labels)), labels])
    def step(params, x, labels):
        value, grads = mg.value_and_grad(loss)(params, x, labels)
        return mg.tree.map(lambda p, g: p - 0.01 * g, params, grads), value
    step = mg.jit(step, cache=cache)
    new, value = step(params, x, labels)
    first = time.perf_counter() - t0
    program = next(iter(step.programs.values()))
    while not all(job.done.is_set() for job in program.jobs):  # keep training meanwhile
        params, value = step(params, x, labels)
    step.wait()
    compiled = time.perf_counter() - t0
else:
    import jax, jax.numpy as jnp
    def loss(params, x, labels):
        for layer in params[:-1]:
            x = jax.nn.relu(x @ layer["w"] + layer["b"])
        logits = x @ params[-1]["w"] + params[-1]["b"]
        return -jnp.mean(jax.nn.log_softmax(logits)[jnp.arange(labels.shape[0]), labels])
    @jax.jit
    def step(params, x, labels):
        value, grads = jax.value_and_grad(loss)(params, x, labels)
        return jax.tree_util.tree_map(lambda p, g: p - 0.01 * g, params, grads), value
    if cache:
        jax.config.update("jax_compilation_cache_dir", cache)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    new, value = step(params, x, labels)
    value.block_until_ready()
    first = compiled = time.perf_counter() - t0
print(f"{first} {compiled} {float(value)}")
"""


def cold_start(frameworks: dict) -> list[str]:
    """(e): seconds from a fresh process's first line (after import numpy) to the first result
    of (a) at batch 128, with an empty and with a warm compile cache."""
    import subprocess
    import tempfile

    lines = ["(e) cold_start: time to the first result of (a) batch 128 in a fresh process (import numpy not counted), "
             "then to compiled code while the process keeps stepping",
             f"    {'implementation':<22} {'empty cache':>12} {'warm cache':>12}   compiled code took over (empty / warm)"]
    env = {k: v for k, v in os.environ.items() if k != "MICROGRAD_CACHE_DIR"}
    for name, framework in ((MICROGRAD_JIT, "micrograd"), (JAX, "jax")):
        if framework == "jax" and frameworks.get("jax", (None,))[0] is None:
            lines.append(f"    {name:<22} skipped: not installed")
            continue
        with tempfile.TemporaryDirectory() as cache:
            runs = []
            for _ in range(2):
                done = subprocess.run([sys.executable, "-c", COLD_START_SCRIPT, framework, cache],
                                      capture_output=True, text=True, env=env, timeout=600)
                if done.returncode:
                    lines.append(f"    {name:<22} FAILED: {done.stderr.strip().splitlines()[-1]}")
                    break
                runs.append([float(v) for v in done.stdout.split()[:2]])
            if len(runs) == 2:
                extra = (f"   {runs[0][1]:.2f} s / {runs[1][1]:.2f} s" if framework == "micrograd" else "")
                lines.append(f"    {name:<22} {runs[0][0]:>10.2f} s {runs[1][0]:>10.2f} s{extra}")
                if framework == "micrograd":
                    lines.append(f"    target: compiled code within {TAKEOVER_TARGET:g} s of the start while stepping: "
                                 f"{runs[0][1]:.2f} s, {'met' if runs[0][1] <= TAKEOVER_TARGET else 'MISSED'}")
    return lines


TAKEOVER_TARGET = 3.0  # seconds
EXAMPLE_TARGET = 1.3  # the MNIST example with an empty compile cache, at most this many times its warm time


def example_cold_and_warm() -> list[str]:
    """(q): ``examples/mnist.py`` (its defaults: 20 epochs, augmentation) run twice in fresh
    processes, first with an empty compile cache and then with the cache it filled, as it runs
    by default (compiling before training, for repeatable numbers) and with ``--no-repeatable``
    (training at once with NumPy while the kernels compile)."""
    import subprocess
    import tempfile

    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    lines = ["(q) mnist_example_cold_warm: python examples/mnist.py (20 epochs, augmentation), wall time of the whole "
             "process, with an empty compile cache and then a warm one",
             f"    {'flags':<22} {'empty cache':>12} {'warm cache':>12}  {'ratio':>6}"]
    data = os.path.join(os.environ.get("MICROGRAD_DATA") or os.path.join(os.path.dirname(repo), "shared", "data"), "mnist")
    for flags in ([], ["--no-repeatable"]):
        with tempfile.TemporaryDirectory() as cache:
            env = dict(os.environ, MICROGRAD_CACHE_DIR=cache)
            times = []
            for _ in range(2):
                start = time.perf_counter()
                done = subprocess.run([sys.executable, os.path.join(repo, "examples", "mnist.py"), "--data", data,
                                       "--plot", "", *flags], capture_output=True, text=True, env=env, timeout=900)
                times.append(time.perf_counter() - start)
                if done.returncode:
                    lines.append(f"    {' '.join(flags) or '(defaults)':<22} FAILED: "
                                 f"{(done.stderr.strip().splitlines() or ['?'])[-1]}")
                    break
            else:
                ratio = times[0] / times[1]
                lines.append(f"    {' '.join(flags) or '(defaults)':<22} {times[0]:>10.1f} s {times[1]:>10.1f} s  "
                             f"{ratio:>5.2f}x")
                if not flags:
                    lines.append(f"    target: empty cache <= {EXAMPLE_TARGET:g}x warm: {ratio:.2f}x, "
                                 f"{'met' if ratio <= EXAMPLE_TARGET else 'MISSED'}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="cases: " + ", ".join(f"{c.id}/{c.name}" for c in CASES))
    parser.add_argument("--cases", help="comma-separated case ids or names (default: all)")
    parser.add_argument("--quick", action="store_true", help="2 rounds of 5 ms samples: a smoke test")
    parser.add_argument("--rounds", type=int, help="samples per implementation (default 15; 2 with --quick)")
    parser.add_argument("--min-sample-ms", type=float, help="shortest sample (default 20; 5 with --quick)")
    args = parser.parse_args(argv)
    try:
        cases = select_cases(args.cases)
    except ValueError as e:
        parser.error(str(e))
    rounds = args.rounds or (2 if args.quick else 15)
    min_time = (args.min_sample_ms or (5.0 if args.quick else 20.0)) / 1000

    frameworks = {name: load_framework(name) for name in FRAMEWORKS}
    print("\n".join(machine_header(frameworks)))
    print(f"timing:    per call; min and median over {rounds} round-robin samples of >= {min_time * 1000:g} ms "
          f"each; 'vs NumPy' = min time / NumPy (hand-written) min time (lower is faster)")
    print(f"load:      {load_average()} (1-minute load average before timing: other processes "
          f"competing for the {os.cpu_count()} cores make the times noisier)")
    print(flush=True)
    start, failed = time.perf_counter(), False
    for case in cases:
        if case in SEPARATE:
            print("\n".join(SEPARATE[case](frameworks)), flush=True)
            print()
            continue
        callables, notes, data = build_and_check(case, frameworks=frameworks)
        gc.collect()
        gc.freeze()  # what is loaded so far (JAX and PyTorch are large) is never scanned while timing
        failed |= any(not n.startswith("skipped") for n in notes.values())
        times = benchmark(callables, rounds, min_time) if callables else {}
        print("\n".join(case_table(case, times, notes) + case.summary(data, times)), flush=True)
        print()
    print(f"total {time.perf_counter() - start:.0f} s, load average {load_average()} at the end" + ("; some implementations FAILED or DISAGREE (see above)"
                                                          if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
