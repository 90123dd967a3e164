"""Data-parallel training: every rank holds the whole model, trains on its shard of each batch,
and the ranks average their gradients before every update, so each rank applies the same update
to the same parameters (PyTorch's DistributedDataParallel and Horovod work so).

>>> import numpy as np, micrograd as mg
>>> from micrograd import distributed as dist
>>> model = dist.broadcast_parameters(mg.Linear(2, 1, key=mg.random.key(0)))  # rank 0's values everywhere
>>> optimizer = dist.DistributedOptimizer(mg.Adam(learning_rate=1e-2))        # averages the gradients
>>> step = mg.optim.make_train_step(lambda m, x, y: mg.MSELoss()(m(x), y), optimizer)
>>> model, state, loss = step(model, optimizer.init(model), np.ones((4, 2), np.float32), np.zeros((4, 1), np.float32))
>>> dist.assert_replicated(model)  # every rank holds the same parameters
"""
from __future__ import annotations

import hashlib
import pickle
from typing import Any

import numpy as np

from ..core import tree
from ..tensor import Tensor
from ..transforms.jit import wait_for_compiles
from . import runtime
from .collectives import allreduce, broadcast

__all__ = ["DEFAULT_BUCKET_BYTES", "average_gradients", "broadcast_parameters", "DistributedOptimizer",
           "assert_replicated", "save", "load", "barrier"]

DEFAULT_BUCKET_BYTES = 25 * 2 ** 20
"""Gradients of one dtype are averaged in buffers of at most this size (PyTorch's default
bucket): one MPI call per bucket, and packing never needs more memory than one bucket more."""


def average_gradients(grads: Any, *, comm: Any = None, bucket_bytes: int | None = DEFAULT_BUCKET_BYTES) -> Any:
    """The mean over ranks of a pytree of gradients: the leaves are packed into one flat buffer
    per dtype (per bucket of ``bucket_bytes`` for large models) and averaged with one allreduce
    each. Traced inside ``jit``, the allreduce runs between the compiled pieces of the step.

    >>> average_gradients({"w": np.array([1.0, 2.0])})  # one process: unchanged
    {'w': array([1., 2.])}
    """
    return allreduce(grads, "mean", comm=comm, bucket_bytes=bucket_bytes)


def _structure_signature(treedef: Any, leaves: list) -> tuple:
    return (repr(treedef), tuple((np.dtype(v.dtype).name, tuple(np.shape(v))) for v in leaves))


def _check_same_structure(comm: Any, treedef: Any, leaves: list, what: str) -> None:
    """Raise on every rank, naming the ranks and the first difference, unless all ranks hold
    pytrees of one structure with leaves of the same shapes and dtypes (one small allgather)."""
    mine = _structure_signature(treedef, leaves)
    with runtime.watched(f"the structure check of {what}"):
        everyone = comm.allgather(mine)
    for other_rank, other in enumerate(everyone):
        if other == everyone[0]:
            continue
        if other[0] != everyone[0][0]:
            raise ValueError(f"{what}: the ranks hold different structures: rank 0 {everyone[0][0]}, rank "
                             f"{other_rank} {other[0]}")
        for i, (a, b) in enumerate(zip(everyone[0][1], other[1])):
            if a != b:
                raise ValueError(f"{what}: leaf {i} of {len(other[1])} differs between ranks: rank 0 has {a[0]}{list(a[1])}, "
                                 f"rank {other_rank} has {b[0]}{list(b[1])}")


def broadcast_parameters(params: Any, root: int = 0, *, comm: Any = None) -> Any:
    """``params`` (a model, a list of tensors, any pytree of arrays) with rank ``root``'s values
    on every rank: call it once before training so that every replica starts alike. Eager
    tensors are overwritten in place and returned (an optimizer holding them keeps working);
    arrays are returned anew. The ranks must hold the same structure and shapes, else a
    ``ValueError`` names the first difference.

    >>> import micrograd as mg
    >>> w = mg.tensor([1.0, 2.0], requires_grad=True)
    >>> broadcast_parameters([w])[0] is w
    True
    """
    if runtime.size(comm) == 1:
        return params
    leaves, treedef = tree.flatten(params)
    values = [leaf.data if isinstance(leaf, Tensor) else np.asarray(leaf) for leaf in leaves]
    _check_same_structure(runtime._as_comm(comm), treedef, values, "broadcast_parameters")
    received = broadcast(values, root, comm=comm, bucket_bytes=DEFAULT_BUCKET_BYTES)
    out = []
    for leaf, value in zip(leaves, received):
        if isinstance(leaf, Tensor):
            leaf.data[...] = value
            leaf._version += 1  # (a tape that recorded the old value notices, as after any in-place change)
            out.append(leaf)
        else:
            out.append(value)
    return tree.unflatten(treedef, out)


class DistributedOptimizer:
    """``optimizer`` with the gradients averaged over ranks before each update, in all of its
    forms:

    - functional, ``update(params, grads, state)``: the average is traced with the update, so
      ``mg.optim.make_train_step(loss, DistributedOptimizer(mg.Adam(...)))`` compiles forward,
      backward, the allreduce and the update as one step;
    - eager, ``step(model.parameters(), loss)`` or ``step()`` for an optimizer built on the
      tensors (whose values rank 0 then broadcasts at once): the ``.grad`` of the tensors are
      averaged in one buffer before the update. A tensor without a gradient on some rank counts
      as a zero gradient there.

    Every rank must call it at the same steps. ``bucket_bytes`` bounds the size of one allreduce.

    >>> import micrograd as mg
    >>> opt = DistributedOptimizer(mg.SGD(learning_rate=0.1))
    >>> opt.update(np.array([1.0]), np.array([2.0]), opt.init(np.array([1.0])))[0]
    array([0.8])
    """

    def __init__(self, optimizer: Any, *, comm: Any = None, bucket_bytes: int | None = DEFAULT_BUCKET_BYTES):
        self.optimizer, self.comm, self.bucket_bytes = optimizer, comm, bucket_bytes
        tensors = getattr(optimizer, "_tensors", None)
        if tensors:  # PyTorch's form: the replicas must start from the same values
            broadcast_parameters(tensors, comm=comm)

    def init(self, params: Any) -> Any:
        return self.optimizer.init(params)

    def update(self, params: Any, grads: Any, state: Any) -> tuple[Any, Any]:
        """The wrapped optimizer's update along the gradients averaged over ranks."""
        return self.optimizer.update(params, average_gradients(grads, comm=self.comm, bucket_bytes=self.bucket_bytes),
                                     state)

    def step(self, params: Any = None, loss: Any = None) -> None:
        """The eager update (see the class): back-propagate ``loss`` if that has not been done,
        average the gradients, then the wrapped optimizer's ``step``."""
        from ..optim.optimizers import _parameter_list
        if runtime.size(self.comm) == 1:
            return self.optimizer.step(params, loss)
        tensors = _parameter_list(params) if params is not None else getattr(self.optimizer, "_tensors", None)
        if tensors is None:
            return self.optimizer.step(params, loss)  # (which says what it needs)
        if isinstance(loss, Tensor) and loss._node is not None and not loss._node.freed:
            loss.backward()
        grads = [np.zeros_like(t.data) if t.grad is None else np.asarray(t.grad.data) for t in tensors]
        for t, g in zip(tensors, average_gradients(grads, comm=self.comm, bucket_bytes=self.bucket_bytes)):
            t.grad = Tensor._wrap(g)
        # The update is compiled in the background, and each rank would switch from its NumPy
        # version to the compiled one at a step of its own: they round differently in the last bits,
        # and the replicas would drift apart. Waiting for compiles in flight (at once when there are
        # none) makes every rank switch at the same step.
        wait_for_compiles()
        self.optimizer.step(None if params is None else tensors)
        wait_for_compiles()

    def zero_grad(self) -> None:
        self.optimizer.zero_grad()

    def __getattr__(self, name: str) -> Any:  # learning_rate, betas, ... of the wrapped optimizer
        optimizer = self.__dict__.get("optimizer")
        if optimizer is None:
            raise AttributeError(name)
        return getattr(optimizer, name)

    def __repr__(self) -> str:
        return f"DistributedOptimizer({self.optimizer!r})"


def _digest(x: Any) -> str:
    x = np.ascontiguousarray(x.data if isinstance(x, Tensor) else x)
    return hashlib.blake2b(x.tobytes() + str((x.dtype, x.shape)).encode(), digest_size=8).hexdigest()


def assert_replicated(x: Any, what: str = "parameters", *, comm: Any = None) -> None:
    """Raise ``AssertionError`` unless every rank holds bit-for-bit the same ``x`` (a model, an
    optimizer state, any pytree), naming the first leaf that differs, the ranks and by how much.
    One small allgather of a digest per leaf; a debugging aid for data-parallel training.

    >>> assert_replicated({"w": np.zeros(3)})
    """
    if runtime.size(comm) == 1:
        return
    comm = runtime._as_comm(comm)
    leaves, treedef = tree.flatten(x)
    _check_same_structure(comm, treedef, [np.asarray(v.data if isinstance(v, Tensor) else v) for v in leaves], what)
    with runtime.watched(f"assert_replicated({what})"):
        digests = comm.allgather([_digest(v) for v in leaves])
    differing = [i for i in range(len(leaves)) if any(d[i] != digests[0][i] for d in digests)]
    if not differing:
        return
    i = differing[0]
    leaf = np.asarray(leaves[i].data if isinstance(leaves[i], Tensor) else leaves[i])
    reference = broadcast(leaf, 0, comm=comm)
    gaps = comm.allgather(float(np.max(np.abs(leaf.astype(np.float64) - reference))) if leaf.size else 0.0)
    ranks = [r for r, d in enumerate(digests) if d[i] != digests[0][i]]
    raise AssertionError(
        f"{what} differ between ranks: leaf {i} of {len(leaves)} ({leaf.dtype}{list(leaf.shape)}) differs from rank "
        f"0's on rank(s) {ranks}, by up to {max(gaps):.3g}; {len(differing)} leaf(s) differ in all")


def save(path: Any, tree_: Any, *, comm: Any = None) -> None:
    """``mg.save(path, tree_)`` on rank 0 only (atomic, as ever); the other ranks write nothing.
    Every rank holds the same replica, so rank 0's is the model."""
    from ..saving import save as save_file
    if runtime.rank(comm) == 0:
        save_file(path, tree_)


def load(path: Any, like: Any = None, *, root: int = 0, comm: Any = None) -> Any:
    """``mg.load(path, like)`` on rank ``root``, whose result every rank receives: the file need
    only be on that rank's machine. An error loading it (no such file, a mismatch with ``like``)
    is raised on every rank, so no rank is left waiting for the others. With ``like`` (a model's
    checkpoint needs it) only the arrays travel, and every rank rebuilds ``like``'s structure;
    without it, what the file holds is pickled to the other ranks."""
    from ..saving import load as load_file
    if runtime.size(comm) == 1:
        return load_file(path, like=like)
    comm = runtime._as_comm(comm)
    mine = comm.Get_rank() == root
    message = None
    if mine:
        try:
            value = load_file(path, like=like)
            payload = value if like is None else [leaf.data if isinstance(leaf, Tensor) else leaf
                                                  for leaf in tree.leaves(value)]
            message = pickle.dumps((True, payload))
        except Exception as e:  # handed to every rank, raised there
            value, message = e, pickle.dumps((False, e))
    with runtime.watched(f"load({str(path)!r})"):
        message = comm.bcast(message, root=root)
    ok, payload = pickle.loads(message)
    if mine:
        if not ok:
            raise value
        return value
    if not ok:
        raise payload
    if like is None:
        return payload
    like_leaves, treedef = tree.flatten(like)
    return tree.unflatten(treedef, [Tensor(v, requires_grad=leaf.requires_grad) if isinstance(leaf, Tensor) else v
                                    for leaf, v in zip(like_leaves, payload)])


def barrier(*, comm: Any = None) -> None:
    """Wait until every rank has reached this call (under the watchdog's timeout)."""
    if runtime.size(comm) > 1:
        with runtime.watched("barrier"):
            runtime._as_comm(comm).Barrier()
