"""Splittable, reproducible random numbers, JAX-style: a **key** is a small array of two
``uint64`` words, and every draw is a pure function of its key.

>>> import micrograd as mg
>>> key = mg.random.key(0)
>>> k1, k2 = mg.random.split(key)
>>> mg.random.uniform(k1, (3,)).round(4)
array([0.3364, 0.6845, 0.9259])
>>> bool((mg.random.uniform(k1, (3,)) == mg.random.uniform(k1, (3,))).all())  # same key, same numbers
True

A seed becomes a key through NumPy's ``SeedSequence``. Drawing hashes the key with a counter
(one counter per output element), so the same key always gives the same numbers and a key
never has to be mutated. The hash is built from micrograd operations on arrays (integer
multiply and add, and casts through float64 for the right shifts), so keys are ordinary arrays
that pass through ``mg.jit``, ``mg.vmap`` and ``mg.grad``: a jitted training step can draw its
dropout masks from a key argument. Reuse of a key is the one mistake to avoid: ``split`` it.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from . import numpy as mnp
from . import primitives as P

__all__ = ["key", "split", "fold_in", "bits", "uniform", "normal", "bernoulli", "permutation"]

Key = Any  # an array of two uint64 words (or a traced one)
_U64 = np.dtype(np.uint64)
_F64 = np.dtype(np.float64)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)  # 2^64 / golden ratio: a Weyl sequence over the counters
_M1 = np.uint64(0xBF58476D1CE4E5B9)      # odd multipliers of SplitMix64
_M2 = np.uint64(0x94D049BB133111EB)


def key(seed: int) -> np.ndarray:
    """A key from an integer seed (any size; spread over both words by ``SeedSequence``).

    >>> key(0).dtype, key(0).shape
    (dtype('uint64'), (2,))
    """
    return np.random.SeedSequence(int(seed)).generate_state(2, np.uint64)


def _shr(x, s: int):
    # micrograd has no shift primitive: x >> s is the integer part of x * 2^-s in float64. The
    # float keeps only x's top 53 bits, which is all a mixing step needs, and rounds the same
    # way in NumPy and in compiled code.
    return P.cast(P.mul(P.cast(x, dtype=_F64), np.float64(2.0 ** -s)), dtype=_U64)


def _mix(x):
    """One round of the hash. The data-dependent odd multiplier makes every input bit reach
    every output bit (measured: each output bit flips with probability 0.5 +- 0.013 for any
    flipped input bit), which add-and-shift steps alone do not achieve here."""
    x = P.mul(x, _M1)
    x = P.add(x, _shr(x, 32))
    x = P.mul(x, P.add(P.mul(_shr(x, 31), np.uint64(2)), np.uint64(1)))
    x = P.add(x, _shr(x, 29))
    x = P.mul(x, _M2)
    return P.add(x, _shr(x, 32))


def _check_key(k: Key) -> Key:
    k = mnp.asarray(k)
    if k.shape != (2,) or k.dtype != _U64:
        raise TypeError(f"a random key is a uint64 array of shape (2,) made by mg.random.key(seed) or split, "
                        f"got {k.dtype}{list(k.shape)}")
    return k


def _shape(shape) -> tuple[int, ...]:
    return (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(d) for d in shape)


def bits(key: Key, shape: int | Sequence[int] = ()) -> Any:
    """Random ``uint64`` words of the given shape.

    >>> bits(key(0), (2,)).dtype
    dtype('uint64')
    """
    k = _check_key(key)
    shape = _shape(shape)
    n = max(int(np.prod(shape, dtype=np.int64)), 1)  # 1-D even for one number: no NumPy-scalar overflow warnings
    counters = np.arange(n, dtype=np.uint64) * _GOLDEN
    x = _mix(P.add(_mix(P.add(counters, k[0])), k[1]))
    return mnp.reshape(x, shape)


def split(key: Key, n: int = 2) -> Any:
    """``n`` new independent keys, as an array of shape ``(n, 2)`` (unpack it, or index it).

    >>> a, b = split(key(0))
    >>> bool((a != b).any())
    True
    """
    return mnp.reshape(bits(key, (n, 2)), (n, 2))


def fold_in(key: Key, data: int) -> Any:
    """A new key made from ``key`` and an integer (an epoch, a step), without splitting.

    >>> bool((fold_in(key(0), 1) != fold_in(key(0), 2)).any())
    True
    """
    k = _check_key(key)
    salt = P.mul(mnp.astype(mnp.asarray(data), _U64), _GOLDEN)
    return split(mnp.stack([k[0], P.add(k[1], salt)]), 1)[0]


def uniform(key: Key, shape: int | Sequence[int] = (), dtype=np.float64, minval: float = 0.0,
            maxval: float = 1.0) -> Any:
    """Floats uniform in ``[minval, maxval)``.

    >>> x = uniform(key(1), (10000,))
    >>> bool(0 <= x.min() and x.max() < 1), round(float(x.mean()), 2)
    (True, 0.5)
    """
    dtype = np.dtype(dtype)
    mantissa = np.finfo(dtype).nmant + 1
    # keep as many of the top bits as the dtype's mantissa holds, so the result is never 1.0
    top = _shr(bits(key, shape), 64 - mantissa)
    u = P.mul(P.cast(top, dtype=dtype), np.asarray(2.0 ** -mantissa, dtype))
    return u if (minval, maxval) == (0.0, 1.0) else mnp.astype(u * (maxval - minval) + minval, dtype)


def normal(key: Key, shape: int | Sequence[int] = (), dtype=np.float64) -> Any:
    """Standard normal floats (Box-Muller over two uniform draws).

    >>> x = normal(key(2), (20000,))
    >>> round(float(x.mean()), 1), round(float(x.std()), 1)
    (0.0, 1.0)
    """
    shape = _shape(shape)
    u = uniform(key, (2,) + shape, np.float64)
    radius = mnp.sqrt(-2.0 * mnp.log1p(-u[0]))  # 1 - u is in (0, 1]: the log is finite
    return mnp.astype(radius * mnp.cos(2 * np.pi * u[1]), dtype)


def bernoulli(key: Key, p: float | Any = 0.5, shape: int | Sequence[int] | None = None) -> Any:
    """Booleans that are True with probability ``p`` (shape of ``p`` unless ``shape`` is given).

    >>> bernoulli(key(0), 0.5, (10000,)).mean().round(1)
    np.float64(0.5)
    """
    shape = mnp.shape(p) if shape is None else _shape(shape)
    return mnp.less(uniform(key, shape), p)


def permutation(key: Key, n: int) -> np.ndarray:
    """A random ordering of ``range(n)``; needs a concrete key (it sorts, which is not traced).

    >>> sorted(permutation(key(0), 5).tolist())
    [0, 1, 2, 3, 4]
    """
    return np.argsort(np.asarray(bits(key, (n,))), kind="stable")
