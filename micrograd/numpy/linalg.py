"""``micrograd.numpy.linalg``: NumPy's ``numpy.linalg`` on stacks of matrices (leading axes),
differentiable in both modes. ``solve``, ``slogdet``, ``cholesky``, ``eigh``, ``svd`` and ``qr``
are primitives (their derivative rules, with references, are in
:mod:`micrograd.primitives.linalg`); the rest are compositions of them.

Conventions, as in JAX: ``eigh`` and ``cholesky`` read the lower triangle of a symmetric matrix
and their derivatives treat the input as symmetric (a perturbation of one triangle is a
perturbation of both); eigenvector and singular-vector derivatives need distinct eigenvalues
and singular values (equal ones make them infinite); a singular matrix in ``inv``, ``solve``
and ``det``'s derivative raises NumPy's ``LinAlgError``. The 2-norm of a zero vector has
derivative 0 (a subgradient, as in PyTorch).

>>> import numpy as np, micrograd as mg
>>> a = np.array([[2.0, 1.0], [1.0, 3.0]])
>>> mg.grad(lambda a: np.linalg.slogdet(a)[1])(a)  # inv(a).T
array([[ 0.6, -0.2],
       [-0.2,  0.4]])
"""
from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np

from .. import primitives as P
from ..core.errors import ShapeError, with_location
from ._core import ArrayLike, asarray, normalize_axes, promote_float
from .contractions import matmul
from .reductions import max, min, sum
from .shape import broadcast_to, moveaxis, reshape
from .ufuncs import abs, equal, exp, greater, power, sqrt, where

__all__ = ["inv", "pinv", "solve", "det", "slogdet", "cholesky", "eigh", "eigvalsh", "svd", "svdvals", "qr", "norm",
           "vector_norm", "matrix_norm", "lstsq", "matrix_power", "matrix_rank", "multi_dot", "LinAlgError"]

LinAlgError = np.linalg.LinAlgError


class SlogdetResult(NamedTuple):
    sign: ArrayLike
    logabsdet: ArrayLike


class EighResult(NamedTuple):
    eigenvalues: ArrayLike
    eigenvectors: ArrayLike


class SVDResult(NamedTuple):
    U: ArrayLike
    S: ArrayLike
    Vh: ArrayLike


class QRResult(NamedTuple):
    Q: ArrayLike
    R: ArrayLike


def _matrices(a: ArrayLike, name: str, square: bool = True):
    a = promote_float(a)[0]
    if a.ndim < 2 or (square and a.shape[-1] != a.shape[-2]):
        raise LinAlgError(with_location(f"{name}: needs {'square ' if square else ''}matrices in the last two axes, "
                                        f"got shape {a.shape}"))
    return a


def _swap(x):
    return moveaxis(x, -1, -2)


def solve(a: ArrayLike, b: ArrayLike) -> ArrayLike:
    """The solution ``x`` of ``a @ x = b``: ``b`` is one vector when 1-D, else a stack of
    matrices; leading axes broadcast.

    >>> solve(np.array([[2.0, 0.0], [0.0, 4.0]]), np.array([2.0, 2.0]))
    array([1. , 0.5])
    """
    a = _matrices(a, "solve")
    a, b = promote_float(a, b)
    n = a.shape[-1]
    vector = b.ndim == 1
    b2 = reshape(b, (n, 1)) if vector else b
    if b2.shape[-2] != n:
        raise ShapeError(with_location(f"solve: a right-hand side of shape {b.shape} does not fit matrices of shape "
                                       f"{a.shape}: it needs {n} rows"))
    try:
        batch = np.broadcast_shapes(a.shape[:-2], b2.shape[:-2])
    except ValueError:
        raise ShapeError(with_location(f"solve: leading axes of {a.shape} and {b.shape} do not broadcast")) from None
    x = P.solve(broadcast_to(a, batch + a.shape[-2:]), broadcast_to(b2, batch + b2.shape[-2:]))
    return reshape(x, batch + (n,)) if vector else x


def inv(a: ArrayLike) -> ArrayLike:
    """The inverse of each matrix (``solve`` against the identity).

    >>> inv(np.array([[2.0, 0.0], [0.0, 4.0]]))
    array([[0.5 , 0.  ],
           [0.  , 0.25]])
    """
    a = _matrices(a, "inv")
    return P.solve(a, broadcast_to(np.eye(a.shape[-1], dtype=a.dtype), a.shape))


def slogdet(a: ArrayLike) -> SlogdetResult:
    """The sign and the log of the absolute value of each determinant.

    >>> sign, logabsdet = slogdet(np.array([[-2.0, 0.0], [0.0, 3.0]]))
    >>> float(sign), float(logabsdet)  # log 6
    (-1.0, 1.791759469228055)
    """
    sign, logabsdet = P.slogdet(_matrices(a, "slogdet"))
    return SlogdetResult(sign, logabsdet)


def det(a: ArrayLike) -> ArrayLike:
    """The determinant of each matrix, ``sign * exp(logabsdet)``.

    >>> round(float(det(np.array([[1.0, 2.0], [3.0, 4.0]]))), 12)
    -2.0
    """
    sign, logabsdet = slogdet(a)
    return sign * exp(logabsdet)


def cholesky(a: ArrayLike, upper: bool = False) -> ArrayLike:
    """The lower-triangular ``L`` with ``L @ L.T = a`` (``upper``: its transpose) of a symmetric
    positive-definite ``a``, from its lower triangle.

    >>> cholesky(np.array([[4.0, 2.0], [2.0, 2.0]]))
    array([[2., 0.],
           [1., 1.]])
    """
    L = P.cholesky(_matrices(a, "cholesky"))
    return _swap(L) if upper else L


def eigh(a: ArrayLike, UPLO: str = "L") -> EighResult:  # noqa: N803 - NumPy's name
    """Eigenvalues (ascending) and eigenvectors (columns) of a symmetric matrix, from its lower
    (``UPLO='U'``: upper) triangle.

    >>> w, v = eigh(np.array([[2.0, 1.0], [1.0, 2.0]]))
    >>> w
    array([1., 3.])
    """
    a = _matrices(a, "eigh")
    if UPLO not in ("L", "U"):
        raise ValueError(with_location(f"eigh: UPLO must be 'L' or 'U', got {UPLO!r}"))
    w, v = P.eigh(a if UPLO == "L" else _swap(a))
    return EighResult(w, v)


def eigvalsh(a: ArrayLike, UPLO: str = "L") -> ArrayLike:  # noqa: N803
    """The eigenvalues (ascending) of a symmetric matrix.

    >>> eigvalsh(np.array([[2.0, 1.0], [1.0, 2.0]]))
    array([1., 3.])
    """
    return eigh(a, UPLO)[0]


def svd(a: ArrayLike, full_matrices: bool = True, compute_uv: bool = True, hermitian: bool = False):
    """The singular value decomposition ``a = U @ diag(S) @ Vh`` (singular values descending).
    Only the thin form is computed (``full_matrices=False``); the full one differs for
    non-square matrices by basis vectors that no function of ``a`` determines.

    >>> svd(np.array([[3.0, 0.0], [0.0, -2.0]]), compute_uv=False)
    array([3., 2.])
    """
    a = _matrices(a, "svd", square=False)
    u, s, vh = P.svd(a)
    if not compute_uv:
        return s
    if full_matrices and a.shape[-1] != a.shape[-2]:
        raise NotImplementedError(with_location(
            f"svd of a {a.shape[-2]}x{a.shape[-1]} matrix with full_matrices=True: the extra singular vectors are not "
            "determined by the matrix, so they have no derivative; pass full_matrices=False"))
    return SVDResult(u, s, vh)


def svdvals(x: ArrayLike) -> ArrayLike:
    """The singular values, descending.

    >>> svdvals(np.array([[3.0, 0.0], [0.0, -2.0]]))
    array([3., 2.])
    """
    return svd(x, compute_uv=False)


def qr(a: ArrayLike, mode: str = "reduced"):
    """The QR decomposition ``a = Q @ R`` (``mode='reduced'``, or ``'r'`` for R alone); its
    derivative needs at least as many rows as columns.

    >>> q, r = qr(np.array([[3.0, 1.0], [4.0, 2.0]]))
    >>> np.allclose(q @ r, [[3.0, 1.0], [4.0, 2.0]])
    True
    """
    a = _matrices(a, "qr", square=False)
    if mode not in ("reduced", "r", "complete"):
        raise NotImplementedError(with_location(f"qr: mode {mode!r}; 'reduced', 'r' and 'complete' (for m <= n) are supported"))
    if mode == "complete" and a.shape[-2] > a.shape[-1]:
        raise NotImplementedError(with_location("qr: mode='complete' of a tall matrix adds basis vectors that have no "
                                                "derivative; use mode='reduced'"))
    q, r = P.qr(a)
    return r if mode == "r" else QRResult(q, r)


def _pseudo_inverse(u, s, vh, cutoff):
    large = greater(s, cutoff)
    s_inv = where(large, 1 / where(large, s, 1.0), 0.0)
    return matmul(_swap(vh) * reshape(s_inv, s_inv.shape[:-1] + (1,) + s_inv.shape[-1:]), _swap(u)), large


def pinv(a: ArrayLike, rcond: float | None = None, hermitian: bool = False, *, rtol: float | None = None) -> ArrayLike:
    """The Moore-Penrose pseudo-inverse, from the SVD, singular values at most ``rcond`` times
    the largest treated as zero (default 1e-15).

    >>> pinv(np.array([[1.0, 0.0], [0.0, 0.0]]))
    array([[1., 0.],
           [0., 0.]])
    """
    a = _matrices(a, "pinv", square=False)
    u, s, vh = P.svd(a)
    rcond = rtol if rtol is not None else (1e-15 if rcond is None else rcond)
    return _pseudo_inverse(u, s, vh, max(s, axis=-1, keepdims=True) * rcond)[0]


def lstsq(a: ArrayLike, b: ArrayLike, rcond: float | None = None):
    """The least-squares solution ``x`` of ``a @ x = b``, with the residual sums of squares
    (when ``a`` has more rows than columns; NumPy leaves them out when ``a`` is rank-deficient,
    micrograd computes them anyway: their shape must not depend on values), the rank and the
    singular values of ``a``. ``rcond`` defaults to eps times the larger dimension.

    >>> x, residuals, rank, s = lstsq(np.array([[1.0, 0.0], [1.0, 1.0], [1.0, 2.0]]), np.array([1.0, 2.0, 2.0]))
    >>> x.round(4), residuals.round(4), int(rank)
    (array([1.1667, 0.5   ]), array([0.1667]), 2)
    """
    a, b = promote_float(a, b)
    if a.ndim != 2:
        raise LinAlgError(with_location(f"lstsq: needs a matrix, got shape {a.shape}"))
    m, n = a.shape
    u, s, vh = P.svd(a)
    rcond = float(np.finfo(a.dtype).eps * np.maximum(m, n)) if rcond is None else rcond
    pseudo_inverse, large = _pseudo_inverse(u, s, vh, max(s, axis=-1, keepdims=True) * rcond)
    x = matmul(pseudo_inverse, b)
    if m > n:
        residual = b - matmul(a, x)
        residuals = sum(residual * residual, axis=0)
        residuals = reshape(residuals, (1,)) if b.ndim == 1 else residuals
    else:
        residuals = np.zeros((0,), a.dtype)
    return x, residuals, sum(large), s


def matrix_rank(A: ArrayLike, tol: float | None = None, hermitian: bool = False, *, rtol: float | None = None):  # noqa: N803
    """The number of singular values above ``tol`` (default: the largest times eps times the
    larger dimension); no derivative.

    >>> int(matrix_rank(np.array([[1.0, 2.0], [2.0, 4.0]])))
    1
    """
    a = asarray(A)
    if a.ndim < 2:
        return sum(greater(abs(a), 0)) if a.ndim == 1 else (greater(abs(a), 0) * 1)
    s = svd(a, compute_uv=False)
    if tol is None:
        relative = float(np.finfo(s.dtype).eps * np.maximum(*a.shape[-2:])) if rtol is None else rtol
        tol = max(s, axis=-1, keepdims=True) * relative
    limit = tol
    return sum(greater(s, limit), axis=-1)


def matrix_power(a: ArrayLike, n: int) -> ArrayLike:
    """``a`` multiplied by itself ``n`` times (by repeated squaring; the inverse's powers for
    negative ``n``).

    >>> matrix_power(np.array([[1.0, 1.0], [0.0, 1.0]]), 3)
    array([[1., 3.],
           [0., 1.]])
    """
    a = _matrices(a, "matrix_power")
    if not isinstance(n, (int, np.integer)):
        raise TypeError(with_location(f"matrix_power: the exponent must be an int, got {n!r}"))
    if n < 0:
        a, n = inv(a), -n
    result = None
    while n:
        if n & 1:
            result = a if result is None else matmul(result, a)
        n >>= 1
        if n:
            a = matmul(a, a)
    return broadcast_to(np.eye(a.shape[-1], dtype=a.dtype), a.shape) if result is None else result


def multi_dot(arrays: Sequence[ArrayLike]) -> ArrayLike:
    """The product of several matrices (the first may be a row vector, the last a column).

    >>> multi_dot([np.ones(2), np.eye(2), np.ones(2)])
    array(2.)
    """
    result = arrays[0]
    for x in arrays[1:]:
        result = matmul(result, x)
    return result


def _safe_2norm(sum_of_squares):
    """sqrt, with derivative 0 (not infinite) where the sum is 0."""
    zero = equal(sum_of_squares, 0)
    return where(zero, 0.0, sqrt(where(zero, 1.0, sum_of_squares)))


def _vector_norm(x, ord, axes, keepdims):
    if ord is None or ord == 2:
        return _safe_2norm(sum(x * x, axis=axes, keepdims=keepdims))
    if ord == np.inf:
        return max(abs(x), axis=axes, keepdims=keepdims)
    if ord == -np.inf:
        return min(abs(x), axis=axes, keepdims=keepdims)
    if ord == 0:
        return sum(P.cast(P.ne(x, np.zeros((), x.dtype)), dtype=x.dtype), axis=axes, keepdims=keepdims)
    if ord == 1:
        return sum(abs(x), axis=axes, keepdims=keepdims)
    if isinstance(ord, str):
        raise ValueError(with_location(f"norm: ord={ord!r} is a matrix norm; vectors take numbers"))
    return power(sum(power(abs(x), ord), axis=axes, keepdims=keepdims), 1.0 / ord)


def _matrix_norm(x, ord, axes, keepdims):
    row, col = axes
    if ord in (None, "fro"):
        return _safe_2norm(sum(x * x, axis=axes, keepdims=keepdims))
    if ord in ("nuc", 2, -2):
        s = svd(moveaxis(x, (row, col), (-2, -1)), compute_uv=False)
        value = sum(s, axis=-1) if ord == "nuc" else max(s, axis=-1) if ord == 2 else min(s, axis=-1)
        if keepdims:
            value = reshape(value, tuple(1 if i in axes else d for i, d in enumerate(x.shape)))
        return value
    if ord in (1, -1, np.inf, -np.inf):
        summed, over = (row, col) if ord in (1, -1) else (col, row)
        sums = sum(abs(x), axis=summed, keepdims=True)
        value = (max if ord > 0 else min)(sums, axis=over, keepdims=True)
        return value if keepdims else reshape(value, tuple(d for i, d in enumerate(x.shape) if i not in axes))
    raise ValueError(with_location(f"norm: ord={ord!r} is not a matrix norm (use None, 'fro', 'nuc', 1, -1, 2, -2, inf "
                                   "or -inf)"))


def norm(x: ArrayLike, ord=None, axis=None, keepdims: bool = False) -> ArrayLike:
    """Vector norms (``ord`` None/2, 1, inf, -inf, 0 or any p) along one axis, matrix norms
    (None/'fro', 'nuc', 2, -2, 1, -1, inf, -inf) over two; without ``axis``, the 2-norm of the
    flattened array, or ``ord``'s norm of a vector or matrix.

    >>> float(norm(np.array([3.0, 4.0])))
    5.0
    >>> float(norm(np.array([[1.0, -2.0], [3.0, 4.0]]), ord=1))
    6.0
    """
    x = promote_float(x)[0]
    if axis is None:
        if ord is None:
            return _vector_norm(reshape(x, (-1,)), None, (0,), False) if not keepdims else reshape(
                _vector_norm(reshape(x, (-1,)), None, (0,), False), (1,) * x.ndim)
        if x.ndim not in (1, 2):
            raise ValueError(with_location(f"norm: ord={ord!r} needs a vector or a matrix (or axis=), got shape {x.shape}"))
        axis = tuple(range(x.ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    if len(axes) == 1:
        return _vector_norm(x, ord, normalize_axes(axes, x.ndim, "norm"), keepdims)
    if len(axes) == 2:
        row, col = (a % x.ndim for a in axes)
        if row == col:
            raise ValueError(with_location("norm: the two axes must differ"))
        return _matrix_norm(x, ord, (row, col), keepdims)
    raise ValueError(with_location(f"norm: axis={axis!r} names more than two axes"))


def vector_norm(x: ArrayLike, /, *, axis=None, keepdims: bool = False, ord=2) -> ArrayLike:
    """The vector norm over ``axis`` (all axes, flattened, by default).

    >>> float(vector_norm(np.array([[3.0], [4.0]])))
    5.0
    """
    x = promote_float(x)[0]
    axes = normalize_axes(axis, x.ndim, "vector_norm")
    return _vector_norm(x, ord, axes, keepdims)


def matrix_norm(x: ArrayLike, /, *, keepdims: bool = False, ord="fro") -> ArrayLike:
    """The matrix norm of each matrix in the last two axes.

    >>> float(matrix_norm(np.array([[3.0, 0.0], [0.0, 4.0]])))
    5.0
    """
    x = _matrices(x, "matrix_norm", square=False)
    return _matrix_norm(x, ord, (x.ndim - 2, x.ndim - 1), keepdims)
