"""Image augmentation as pure functions of a PRNG key: the same key gives the same images.

They run with NumPy on concrete batches (inside a data loader, before the jitted step).

>>> import numpy as np, micrograd as mg
>>> image = np.zeros((1, 28, 28), np.float32); image[0, 10:18, 12:16] = 1.0
>>> moved = random_affine(mg.random.key(0), image)
>>> moved.shape, moved.dtype, bool(np.allclose(moved, random_affine(mg.random.key(0), image)))
((1, 28, 28), dtype('float32'), True)
>>> shift(image, 0, 2)[0, 10, 14:18]  # columns 12-15 moved right by 2 pixels
array([1., 1., 1., 1.], dtype=float32)
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import random

__all__ = ["affine", "shift", "random_affine"]


def _as_images(images: np.ndarray, image_shape: tuple[int, int]) -> tuple[np.ndarray, int]:
    """The images as ``(n * channels, h, w)``, and ``channels``: the planes of one NCHW image
    share its transform."""
    images = np.asarray(images)
    h, w = image_shape
    if images.ndim == 4 and images.shape[-2:] == (h, w):
        return images.reshape((-1, h, w)), images.shape[1]
    if images.ndim in (2, 3) and (images.shape[-2:] == (h, w) or images.shape[-1] == h * w):
        return images.reshape((-1, h, w)), 1
    raise ValueError(f"images of shape {images.shape} are neither (n, {h}, {w}), (n, {h * w}) nor NCHW "
                     f"(n, channels, {h}, {w})")


def affine(images: np.ndarray, dx: Any, dy: Any, angle: Any = 0.0, scale: Any = 1.0,
           image_shape: tuple[int, int] = (28, 28)) -> np.ndarray:
    """Each image rotated by ``angle`` degrees counterclockwise (as ``np.rot90`` turns it) and scaled by ``scale``
    about its centre, then moved ``dx`` pixels right and ``dy`` down; bilinear interpolation,
    zeros enter at the borders. Parameters are scalars or one value per image. Images are
    ``(n, 28, 28)``, flat ``(n, 784)`` or NCHW ``(n, channels, 28, 28)`` (all channels of an
    image move together); the result has the input's shape and dtype.

    >>> image = np.zeros((1, 3, 3)); image[0, 1, 1] = 1.0
    >>> affine(image, 1, 0, image_shape=(3, 3))[0]
    array([[0., 0., 0.],
           [0., 0., 1.],
           [0., 0., 0.]])
    """
    imgs, channels = _as_images(images, image_shape)
    n, h, w = imgs.shape
    col = lambda v: np.repeat(np.broadcast_to(np.asarray(v, np.float64), (n // channels,)), channels)[:, None, None]  # noqa: E731
    theta = np.deg2rad(col(angle))
    cos, sin, s = np.cos(theta), np.sin(theta), col(scale)
    cy, cx = (h - 1) / 2.0, (w - 1) / 2.0
    yy, xx = np.meshgrid(np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64), indexing="ij")
    # each output pixel reads the input at the inverse transform of its position
    u, v = xx - cx - col(dx), yy - cy - col(dy)
    src_x = (cos * u - sin * v) / s + cx
    src_y = (sin * u + cos * v) / s + cy
    x0, y0 = np.floor(src_x).astype(np.int64), np.floor(src_y).astype(np.int64)
    fx, fy = src_x - x0, src_y - y0
    flat = imgs.reshape(n, h * w)
    rows = np.arange(n)[:, None, None]
    out = np.zeros((n, h, w), np.float64)
    for oy, ox, weight in ((0, 0, (1 - fx) * (1 - fy)), (0, 1, fx * (1 - fy)), (1, 0, (1 - fx) * fy), (1, 1, fx * fy)):
        y, x = y0 + oy, x0 + ox
        inside = (y >= 0) & (y < h) & (x >= 0) & (x < w)
        values = flat[rows, np.clip(y, 0, h - 1) * w + np.clip(x, 0, w - 1)]
        out += np.where(inside, values, 0.0) * weight
    return out.astype(images.dtype if hasattr(images, "dtype") else np.float64).reshape(np.shape(images))


def shift(images: np.ndarray, dy: Any, dx: Any, image_shape: tuple[int, int] = (28, 28)) -> np.ndarray:
    """Images moved ``dy`` pixels down and ``dx`` right (zeros enter at the borders).

    >>> shift(np.eye(3)[None], 1, 0, image_shape=(3, 3))[0]
    array([[0., 0., 0.],
           [1., 0., 0.],
           [0., 1., 0.]])
    """
    return affine(images, dx, dy, image_shape=image_shape)


def random_affine(key: Any, images: np.ndarray, max_shift: float = 2.0, max_rotation: float = 10.0,
                  max_scale: float = 0.1, image_shape: tuple[int, int] = (28, 28)) -> np.ndarray:
    """Each image moved by up to ``max_shift`` pixels along each axis, rotated by up to
    ``max_rotation`` degrees and scaled by a factor within ``1 +- max_scale``, all drawn
    uniformly from ``key`` (one draw per image). Zero turns a part off.

    >>> import micrograd as mg
    >>> x = np.random.default_rng(0).random((4, 784)).astype(np.float32)
    >>> bool(np.allclose(random_affine(mg.random.key(0), x, 0, 0, 0), x, atol=1e-6))
    True
    """
    planes, channels = _as_images(images, image_shape)
    n = len(planes) // channels
    u = np.asarray(random.uniform(key, (4, n), np.float64, -1.0, 1.0))
    return affine(images, u[0] * max_shift, u[1] * max_shift, u[2] * max_rotation, 1.0 + u[3] * max_scale,
                  image_shape)
