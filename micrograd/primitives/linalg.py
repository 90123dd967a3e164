"""Matrix products and decompositions. ``matmul`` takes (..., m, k) @ (..., k, n) with equal
batch dimensions; :func:`micrograd.numpy.matmul` reshapes 1-D operands and broadcasts batch
dimensions first. The decompositions work on stacks of matrices (leading axes) as NumPy's
``linalg`` does; each is a primitive because no composition of the others computes it, and
their derivative rules are the standard matrix-calculus results, cited in each docstring.
``inv``, ``det``, ``pinv``, ``lstsq``, ``norm`` and the rest of ``micrograd.numpy.linalg``
are compositions of these."""
from __future__ import annotations

import numpy as np

from ..core.errors import ShapeError, with_location
from ..core.ir import Aval
from ..core.primitive import Primitive
from . import elementwise as _ew
from . import reductions as _red
from . import shape as _shape


def _swap_last(x):
    perm = tuple(range(x.ndim - 2)) + (x.ndim - 1, x.ndim - 2)
    return _shape.transpose(x, perm=perm)


def _matmul_shape(x, y):
    if x.ndim < 2 or x.ndim != y.ndim or x.shape[:-2] != y.shape[:-2] or x.shape[-1] != y.shape[-2]:
        raise ShapeError(with_location(
            f"matmul: shapes {x.shape} and {y.shape} do not fit: the last axis of the first "
            f"({x.shape[-1] if x.ndim else '-'}) must equal the second-to-last of the second "
            f"({y.shape[-2] if y.ndim >= 2 else '-'})"))
    if x.dtype != y.dtype:
        raise TypeError(f"matmul: operands must share a dtype, got {x.dtype} and {y.dtype}")
    return Aval(x.shape[:-1] + y.shape[-1:], x.dtype)


matmul = Primitive(
    "matmul", np.matmul, _matmul_shape,
    jvp=(lambda t, out, x, y: matmul(t, y), lambda t, out, x, y: matmul(x, t)),
    vjp=(lambda ct, out, x, y: matmul(ct, _swap_last(y)), lambda ct, out, x, y: matmul(_swap_last(x), ct)))


def _matmul_batch(args, dims):
    (x, y), (xd, yd) = args, dims
    if yd is None and y.ndim == 2:  # a batch of (m, k) rows against one matrix: one product
        x = _shape.move_axis(x, xd, 0)
        rows = _shape.reshape(x, shape=(int(np.prod(x.shape[:-1])), x.shape[-1]))
        return _shape.reshape(matmul(rows, y), shape=x.shape[:-1] + y.shape[-1:]), 0
    if xd is None and x.ndim == 2:  # one matrix against a batch of (k, n): fold the batch into columns
        y = _shape.move_axis(y, yd, y.ndim - 2)  # (..., k, B, n) with the batch beside the columns
        cols = _shape.reshape(y, shape=y.shape[:-3] + (y.shape[-3], y.shape[-2] * y.shape[-1]))
        out = matmul(x, cols)
        return _shape.reshape(out, shape=out.shape[:-1] + y.shape[-2:]), x.ndim - 1
    size = _shape.batch_size(args, dims)
    return matmul(_shape.batch_to_front(x, xd, size), _shape.batch_to_front(y, yd, size)), 0


matmul.batch = _matmul_batch


# --- helpers for the rules (stacks of matrices: the last two axes) -----------------------------

def _eye(n: int, dtype) -> np.ndarray:
    return np.eye(n, dtype=dtype)


def _diagonal(x):
    """The diagonals of a stack of square matrices, (..., n, n) -> (..., n)."""
    return _red.reduce_sum(x * _eye(x.shape[-1], x.dtype), axes=(x.ndim - 1,))


def _trace(x):
    return _red.reduce_sum(x * _eye(x.shape[-1], x.dtype), axes=(x.ndim - 2, x.ndim - 1))


def _as_rows(v):
    """(..., k) -> (..., 1, k): multiplying a matrix by it scales column j by v[j]."""
    return _shape.reshape(v, shape=v.shape[:-1] + (1,) + v.shape[-1:])


def _as_cols(v):
    """(..., k) -> (..., k, 1): multiplying a matrix by it scales row i by v[i]."""
    return _shape.reshape(v, shape=v.shape + (1,))


def _symmetric_part(x):
    return (x + _swap_last(x)) * 0.5


def _inverse_gaps(w):
    """F[i, j] = 1 / (w[j] - w[i]) off the diagonal, 0 on it (the eigenvector and singular
    vector rules' coefficients; equal values make them infinite)."""
    n = w.shape[-1]
    diagonal = np.eye(n, dtype=bool)
    gaps = _as_rows(w) - _as_cols(w)
    safe = _ew.select(diagonal, np.ones((), w.dtype), gaps)
    return _ew.select(diagonal, np.zeros((), w.dtype), 1 / safe)


def _square_shape(name):
    def check(a):
        if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
            raise ShapeError(with_location(f"{name}: needs a square matrix (or a stack of them) in the last two axes, "
                                           f"got shape {a.shape}"))
        _float_dtype(name, a)
    return check


def _float_dtype(name, *avals):
    for a in avals:
        if a.dtype.kind != "f":
            raise TypeError(f"{name}: needs float matrices, got dtype {a.dtype}")


def _batch_one_operand(prim):
    """The batch rule of a decomposition of one stack of matrices: the batch axis joins the stack."""
    def batch(args, dims, **params):
        outs = prim(_shape.move_axis(args[0], dims[0], 0), **params)
        return (outs, [0] * len(outs)) if prim.multiple_results else (outs, 0)
    return batch


# --- solve ---------------------------------------------------------------------------------------

def _solve_shape(a, b):
    _square_shape("solve")(a)
    if b.ndim != a.ndim or b.shape[:-1] != a.shape[:-1]:
        raise ShapeError(with_location(f"solve: a right-hand side of shape {b.shape} does not fit a matrix of shape "
                                       f"{a.shape}: its second-to-last axis must be {a.shape[-1]}"))
    if a.dtype != b.dtype:
        raise TypeError(f"solve: operands must share a dtype, got {a.dtype} and {b.dtype}")
    return Aval(b.shape, b.dtype)


# x = a^-1 b: dx = a^-1 (db - da x); the cotangent of b is a^-T x_bar, that of a is -b_bar x^T.
# A singular matrix raises NumPy's LinAlgError, in the forward and the backward pass alike.
solve = Primitive(
    "solve", np.linalg.solve, _solve_shape,
    jvp=(lambda t, out, a, b: solve(a, -matmul(t, out)), lambda t, out, a, b: solve(a, t)),
    vjp=(lambda ct, out, a, b: -matmul(solve(_swap_last(a), ct), _swap_last(out)),
         lambda ct, out, a, b: solve(_swap_last(a), ct)))


def _solve_batch(args, dims):
    size = _shape.batch_size(args, dims)
    return solve(*(_shape.batch_to_front(x, d, size) for x, d in zip(args, dims))), 0


solve.batch = _solve_batch


# --- slogdet -------------------------------------------------------------------------------------

def _slogdet_impl(a):
    sign, logabsdet = np.linalg.slogdet(a)
    return np.asarray(sign, a.dtype), np.asarray(logabsdet, a.dtype)


def _slogdet_jvp(tangents, outs, a):
    """d log|det a| = trace(a^-1 da) (Jacobi's formula); the sign is locally constant."""
    return [None, _trace(solve(a, tangents[0]))]


def _slogdet_vjp(cts, outs, a):
    ct = cts[1]
    if ct is None:
        return [None]
    inverse_t = solve(_swap_last(a), _shape.broadcast_to(_eye(a.shape[-1], a.dtype), shape=a.shape))
    return [_shape.reshape(ct, shape=ct.shape + (1, 1)) * inverse_t]


def _slogdet_shape(a):
    _square_shape("slogdet")(a)
    return [Aval(a.shape[:-2], a.dtype), Aval(a.shape[:-2], a.dtype)]


slogdet = Primitive("slogdet", _slogdet_impl, _slogdet_shape, jvp=_slogdet_jvp, vjp=_slogdet_vjp,
                    multiple_results=True)
slogdet.batch = _batch_one_operand(slogdet)


# --- cholesky ------------------------------------------------------------------------------------

def _lower_half_diagonal(x):
    """Phi(x): the lower triangle of x with its diagonal halved."""
    n = x.shape[-1]
    return x * (np.tril(np.ones((n, n), x.dtype)) - 0.5 * _eye(n, x.dtype))


def _cholesky_jvp(t, L, a):
    """dL = L Phi(L^-1 da L^-T) (Murray, "Differentiation of the Cholesky decomposition", 2016);
    the input is symmetric, so is its tangent."""
    inner = solve(L, _swap_last(solve(L, _symmetric_part(t))))
    return matmul(L, _lower_half_diagonal(inner))


def _cholesky_vjp(ct, L, a):
    """a_bar = L^-T Phi(L^T L_bar) L^-1, symmetrized (Murray 2016)."""
    left = solve(_swap_last(L), _lower_half_diagonal(matmul(_swap_last(L), ct)))
    return _symmetric_part(_swap_last(solve(_swap_last(L), _swap_last(left))))


def _cholesky_shape(a):
    _square_shape("cholesky")(a)
    return a


cholesky = Primitive("cholesky", np.linalg.cholesky, _cholesky_shape, jvp=(_cholesky_jvp,), vjp=(_cholesky_vjp,))
cholesky.batch = _batch_one_operand(cholesky)


# --- eigh ----------------------------------------------------------------------------------------

def _eigh_impl(a):
    w, v = np.linalg.eigh(a)
    return w, v


def _eigh_jvp(tangents, outs, a):
    """With S = V^T da V: dw = diag(S), dV = V (F o S), F[i, j] = 1 / (w[j] - w[i]) (Magnus,
    "On differentiating eigenvalues and eigenvectors", 1985). Distinct eigenvalues only."""
    w, v = outs
    s = matmul(_swap_last(v), matmul(_symmetric_part(tangents[0]), v))
    return [_diagonal(s), matmul(v, _inverse_gaps(w) * s)]


def _eigh_vjp(cts, outs, a):
    """a_bar = V (diag(w_bar) + F o (V^T V_bar)) V^T, symmetrized (the transpose of the jvp)."""
    (ct_w, ct_v), (w, v) = cts, outs
    inner = None
    if ct_w is not None:
        inner = _as_cols(ct_w) * _eye(w.shape[-1], w.dtype)
    if ct_v is not None:
        term = _inverse_gaps(w) * matmul(_swap_last(v), ct_v)
        inner = term if inner is None else inner + term
    return [_symmetric_part(matmul(v, matmul(inner, _swap_last(v))))]


def _eigh_shape(a):
    _square_shape("eigh")(a)
    return [Aval(a.shape[:-1], a.dtype), a]


eigh = Primitive("eigh", _eigh_impl, _eigh_shape, jvp=_eigh_jvp, vjp=_eigh_vjp, multiple_results=True)
eigh.batch = _batch_one_operand(eigh)


# --- svd -----------------------------------------------------------------------------------------

def _svd_impl(a):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return u, s, vh


def _svd_jvp(tangents, outs, a):
    """Thin SVD a = U S V^T, m x n, k = min(m, n), dP = U^T da V (Townsend, "Differentiating
    the singular value decomposition", 2016): dS = diag(dP); dU = U (F o (dP S + S dP^T)) +
    (I - U U^T) da V S^-1; dV = V (F o (S dP + dP^T S)) + (I - V V^T) da^T U S^-1, with
    F[i, j] = 1 / (s[j]^2 - s[i]^2). Distinct, nonzero singular values only."""
    u, s, vh = outs
    t = tangents[0]
    v = _swap_last(vh)
    m, n, k = a.shape[-2], a.shape[-1], s.shape[-1]
    dp = matmul(_swap_last(u), matmul(t, v))
    f = _inverse_gaps(s * s)
    du = matmul(u, f * (dp * _as_rows(s) + _as_cols(s) * _swap_last(dp)))
    dv = matmul(v, f * (_as_cols(s) * dp + _swap_last(dp) * _as_rows(s)))
    if m > k:
        du = du + (matmul(t, v) - matmul(u, dp)) / _as_rows(s)
    if n > k:
        dv = dv + (matmul(_swap_last(t), u) - matmul(v, _swap_last(dp))) / _as_rows(s)
    return [du, _diagonal(dp), _swap_last(dv)]


def _svd_vjp(cts, outs, a):
    """The transpose of the jvp: a_bar = U (diag(s_bar) + (J + J^T) S + S (K + K^T)) V^T
    + (I - U U^T) U_bar S^-1 V^T + U S^-1 V_bar^T (I - V V^T), J = F o (U^T U_bar),
    K = F o (V^T V_bar) (Townsend 2016)."""
    (ct_u, ct_s, ct_vh), (u, s, vh) = cts, outs
    v = _swap_last(vh)
    m, n, k = a.shape[-2], a.shape[-1], s.shape[-1]
    f = _inverse_gaps(s * s)
    inner = None if ct_s is None else _as_cols(ct_s) * _eye(k, s.dtype)
    extra = None
    if ct_u is not None:
        j = f * matmul(_swap_last(u), ct_u)
        term = (j + _swap_last(j)) * _as_rows(s)
        inner = term if inner is None else inner + term
        if m > k:
            extra = matmul((ct_u - matmul(u, matmul(_swap_last(u), ct_u))) / _as_rows(s), vh)
    if ct_vh is not None:
        ct_v = _swap_last(ct_vh)
        kk = f * matmul(vh, ct_v)
        term = _as_cols(s) * (kk + _swap_last(kk))
        inner = term if inner is None else inner + term
        if n > k:
            term = matmul(u / _as_rows(s), ct_vh - matmul(matmul(ct_vh, v), vh))
            extra = term if extra is None else extra + term
    out = None if inner is None else matmul(u, matmul(inner, vh))
    out = extra if out is None else out if extra is None else out + extra
    return [out]


def _svd_shape(a):
    if a.ndim < 2:
        raise ShapeError(with_location(f"svd: needs a matrix (or a stack of them), got shape {a.shape}"))
    _float_dtype("svd", a)
    m, n = a.shape[-2:]
    k = min(m, n)
    return [Aval(a.shape[:-2] + (m, k), a.dtype), Aval(a.shape[:-2] + (k,), a.dtype), Aval(a.shape[:-2] + (k, n), a.dtype)]


svd = Primitive("svd", _svd_impl, _svd_shape, jvp=_svd_jvp, vjp=_svd_vjp, multiple_results=True)
svd.batch = _batch_one_operand(svd)


# --- qr ------------------------------------------------------------------------------------------

def _strictly_lower(x):
    n = x.shape[-1]
    return x * np.tril(np.ones((n, n), x.dtype), -1)


def _right_divide(x, r):
    """x r^-1 for an upper-triangular r: (r^-T x^T)^T."""
    return _swap_last(solve(_swap_last(r), _swap_last(x)))


def _qr_check_tall(a):
    if a.shape[-2] < a.shape[-1]:
        raise NotImplementedError(with_location(
            f"the derivative of qr needs at least as many rows as columns, got shape {a.shape} (a wide matrix's "
            "Q and R are not differentiable functions of it); differentiate the qr of its transpose instead"))


def _qr_jvp(tangents, outs, a):
    """Reduced QR of a tall a (m >= n): with X = da R^-1, C = Q^T X and the skew-symmetric
    O = tril(C, -1) - tril(C, -1)^T: dQ = Q (O - C) + X, dR = (C - O) R (Walter and Lehmann,
    "Algorithmic differentiation of linear algebra functions", 2018)."""
    _qr_check_tall(a)
    q, r = outs
    x = _right_divide(tangents[0], r)
    c = matmul(_swap_last(q), x)
    lower = _strictly_lower(c)
    o = lower - _swap_last(lower)
    return [matmul(q, o - c) + x, matmul(c - o, r)]


def _qr_vjp(cts, outs, a):
    """The transpose of the jvp: with M = Q^T Q_bar - R_bar R^T,
    a_bar = (Q (tril(M - M^T, -1) + R_bar R^T) + (I - Q Q^T) Q_bar) R^-T."""
    _qr_check_tall(a)
    (ct_q, ct_r), (q, r) = cts, outs
    m = None
    g = None
    if ct_q is not None:
        m = matmul(_swap_last(q), ct_q)
    if ct_r is not None:
        rr = matmul(ct_r, _swap_last(r))
        m = -rr if m is None else m - rr
        g = rr
    lower = _strictly_lower(m - _swap_last(m))
    g = lower if g is None else lower + g
    x_bar = matmul(q, g)
    if ct_q is not None:
        x_bar = x_bar + ct_q - matmul(q, matmul(_swap_last(q), ct_q))
    return [_swap_last(solve(r, _swap_last(x_bar)))]


def _qr_impl(a):
    q, r = np.linalg.qr(a, mode="reduced")
    return q, r


def _qr_shape(a):
    if a.ndim < 2:
        raise ShapeError(with_location(f"qr: needs a matrix (or a stack of them), got shape {a.shape}"))
    _float_dtype("qr", a)
    m, n = a.shape[-2:]
    k = min(m, n)
    return [Aval(a.shape[:-2] + (m, k), a.dtype), Aval(a.shape[:-2] + (k, n), a.dtype)]


qr = Primitive("qr", _qr_impl, _qr_shape, jvp=_qr_jvp, vjp=_qr_vjp, multiple_results=True)
qr.batch = _batch_one_operand(qr)
