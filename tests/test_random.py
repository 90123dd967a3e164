"""Splittable random keys: reproducible, independent after split, correct distributions, and the
same numbers under jit and vmap as at top level."""
import numpy as np
import pytest

import micrograd as mg


def test_keys_are_reproducible_and_split_apart():
    assert np.array_equal(mg.random.key(7), mg.random.key(7))
    assert not np.array_equal(mg.random.key(7), mg.random.key(8))
    keys = mg.random.split(mg.random.key(0), 100)
    assert keys.shape == (100, 2) and keys.dtype == np.uint64
    assert len({tuple(k) for k in keys.tolist()}) == 100
    a, b = mg.random.split(mg.random.key(0))
    ua, ub = mg.random.uniform(a, 50000), mg.random.uniform(b, 50000)
    assert abs(np.corrcoef(ua, ub)[0, 1]) < 0.02
    assert abs(np.corrcoef(ua[:-1], ua[1:])[0, 1]) < 0.02
    assert not np.array_equal(mg.random.fold_in(a, 1), mg.random.fold_in(a, 2))


def test_distributions():
    key = mg.random.key(42)
    u = mg.random.uniform(key, (100000,))
    assert 0 <= u.min() and u.max() < 1
    counts, _ = np.histogram(u, 20, (0, 1))
    assert ((counts - 5000) ** 2 / 5000).sum() < 45  # chi-square, 19 degrees of freedom: p ~ 0.001
    u32 = mg.random.uniform(key, (1000,), np.float32, -2.0, 3.0)
    assert u32.dtype == np.float32 and -2 <= u32.min() and u32.max() < 3
    z = mg.random.normal(key, (200000,))
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1) < 0.01 and abs(np.mean(z ** 3)) < 0.03
    assert abs(np.mean(np.abs(z) < 1.96) - 0.95) < 0.003
    b = mg.random.bernoulli(key, 0.2, (100000,))
    assert b.dtype == np.bool_ and abs(b.mean() - 0.2) < 0.005
    assert sorted(mg.random.permutation(key, 10).tolist()) == list(range(10))


def test_random_under_jit_and_vmap_matches_top_level():
    key = mg.random.key(3)
    f = mg.jit(lambda k: (mg.random.normal(k, (3, 4)), mg.random.split(k, 3)), strict=True)
    for got, want in zip(f(key), (mg.random.normal(key, (3, 4)), mg.random.split(key, 3))):
        np.testing.assert_array_equal(got, want)
    keys = mg.random.split(key, 4)
    batched = mg.vmap(lambda k: mg.random.uniform(k, (5,)))(keys)
    np.testing.assert_array_equal(batched, np.stack([mg.random.uniform(k, (5,)) for k in keys]))


def test_bad_key():
    with pytest.raises(TypeError, match="uint64 array of shape"):
        mg.random.uniform(np.array([1, 2]), (3,))
