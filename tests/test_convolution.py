"""Convolution and pooling (``micrograd.nn.convolution``, ``nn.functional`` and the modules of
``nn.spatial``).

* References written here from the definitions, with explicit Python loops over every output
  element (no im2col, no library), and a table of cases covering every option. Each case is
  checked: values against its reference; ``check_grads`` (second order, forward and reverse
  mode) with respect to every argument; ``vmap`` against stacking per-example results; eager
  tensors' ``backward`` against ``mg.grad``. A representative subset runs under ``mg.jit``
  (compiling with Numba takes seconds, so there are only a few compiled programs in this file).
* The modules against PyTorch (skipped where it is not installed): outputs and gradients with
  the same weights, default initialization, parameter names and shapes, float32, checkpoints.
* Bad input: the error type, a message naming the numbers involved, and the user's line.

Shapes are tiny: the references and the numerical derivatives loop in Python.
"""
from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import pytest

import micrograd as mg
import micrograd.numpy as mnp
from micrograd.core.errors import ShapeError
from micrograd.nn import convolution
from micrograd.nn import functional as F
from micrograd.testing import check_grads

THIS_FILE = __file__
_rng = np.random.default_rng(20240917)


def normal(*shape):
    return _rng.standard_normal(shape)


def distinct(*shape):
    """Pairwise distinct values 0.5 apart (plus a common offset): no ties in a max pool's
    windows, so central differences with a small step never cross a kink."""
    n = int(np.prod(shape))
    return ((_rng.permutation(n) - n / 2) * 0.5 + 0.123).reshape(shape)


# --- references, from the definitions ----------------------------------------------------------

def _per_axis(value, d):
    return (value,) * d if isinstance(value, int) else tuple(value)


def _padding_pairs(padding, kernel, dilation):
    """(before, after) per axis; 'same' puts the odd cell of padding after, as PyTorch does."""
    d = len(kernel)
    if padding == "valid":
        return [(0, 0)] * d
    if padding == "same":
        total = [dl * (k - 1) for k, dl in zip(kernel, dilation)]
        return [(t // 2, t - t // 2) for t in total]
    return [(p, p) if isinstance(p, int) else tuple(p) for p in _per_axis(padding, d)]


def ref_conv(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """y[n, o, *i] = b[o] + sum over the channels c of o's group and kernel places k of
    w[o, c, *k] * x[n, c, *(i * stride + k * dilation - padding_before)], zero outside x."""
    kernel = w.shape[2:]
    d = len(kernel)
    stride, dilation = _per_axis(stride, d), _per_axis(dilation, d)
    pads = _padding_pairs(padding, kernel, dilation)
    size = x.shape[2:]
    out = [(n + lo + hi - dl * (k - 1) - 1) // s + 1
           for n, (lo, hi), dl, k, s in zip(size, pads, dilation, kernel, stride)]
    c_group, out_per_group = w.shape[1], w.shape[0] // groups
    y = np.zeros((x.shape[0], w.shape[0], *out))
    for n, o in itertools.product(range(x.shape[0]), range(w.shape[0])):
        first_channel = (o // out_per_group) * c_group
        for pos in itertools.product(*map(range, out)):
            total = 0.0 if b is None else b[o]
            for c in range(c_group):
                for kpos in itertools.product(*map(range, kernel)):
                    src = [i * s + k * dl - lo for i, s, k, dl, (lo, _) in zip(pos, stride, kpos, dilation, pads)]
                    if all(0 <= j < m for j, m in zip(src, size)):
                        total += x[(n, first_channel + c, *src)] * w[(o, c, *kpos)]
            y[(n, o, *pos)] = total
    return y


def ref_conv_transpose(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Each input element times the kernel, added into the output at ``i * stride + k *
    dilation``; then ``padding`` cells cropped from both ends, and ``output_padding`` cells
    (zeros where nothing was added) kept at the end."""
    kernel = w.shape[2:]
    d = len(kernel)
    stride, dilation = _per_axis(stride, d), _per_axis(dilation, d)
    padding, output_padding = _per_axis(padding, d), _per_axis(output_padding, d)
    size = x.shape[2:]
    full = [(m - 1) * s + dl * (k - 1) + 1 for m, s, dl, k in zip(size, stride, dilation, kernel)]
    out = [f - 2 * p + e for f, p, e in zip(full, padding, output_padding)]
    group_out, in_per_group = w.shape[1], x.shape[1] // groups
    scattered = np.zeros((x.shape[0], group_out * groups, *[max(f, p + o) for f, p, o in zip(full, padding, out)]))
    for n, c in itertools.product(range(x.shape[0]), range(x.shape[1])):
        first_out = (c // in_per_group) * group_out
        for pos in itertools.product(*map(range, size)):
            for j in range(group_out):
                for kpos in itertools.product(*map(range, kernel)):
                    dst = [i * s + k * dl for i, s, k, dl in zip(pos, stride, kpos, dilation)]
                    scattered[(n, first_out + j, *dst)] += x[(n, c, *pos)] * w[(c, j, *kpos)]
    y = scattered[(slice(None), slice(None), *[slice(p, p + o) for p, o in zip(padding, out)])]
    return y if b is None else y + np.reshape(b, (-1,) + (1,) * d)


def _pool_size(n, k, s, p, dl, ceil_mode):
    span = dl * (k - 1) + 1
    if not ceil_mode:
        return (n + 2 * p - span) // s + 1
    size = -(-(n + 2 * p - span) // s) + 1
    if (size - 1) * s >= n + p:  # PyTorch: the last window must start inside the input or the left padding
        size -= 1
    return size


def ref_max_pool(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    d = x.ndim - 2
    kernel = _per_axis(kernel_size, d)
    stride = kernel if stride is None else _per_axis(stride, d)
    padding, dilation = _per_axis(padding, d), _per_axis(dilation, d)
    size = x.shape[2:]
    out = [_pool_size(*a, ceil_mode) for a in zip(size, kernel, stride, padding, dilation)]
    y = np.empty(x.shape[:2] + tuple(out))
    for n, c in itertools.product(*map(range, x.shape[:2])):
        for pos in itertools.product(*map(range, out)):
            best = -np.inf  # padding never wins
            for kpos in itertools.product(*map(range, kernel)):
                src = [i * s - p + k * dl for i, s, p, k, dl in zip(pos, stride, padding, kpos, dilation)]
                if all(0 <= j < m for j, m in zip(src, size)):
                    best = max(best, x[(n, c, *src)])
            y[(n, c, *pos)] = best
    return y


def ref_avg_pool(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
    """The sum over each window's cells inside x, divided by ``divisor_override``, or the
    window's size counting the padding (``count_include_pad``; cells past the padding, which
    only ``ceil_mode`` windows reach, never count), or the number of cells inside x."""
    d = x.ndim - 2
    kernel = _per_axis(kernel_size, d)
    stride = kernel if stride is None else _per_axis(stride, d)
    padding = _per_axis(padding, d)
    size = x.shape[2:]
    out = [_pool_size(n, k, s, p, 1, ceil_mode) for n, k, s, p in zip(size, kernel, stride, padding)]
    y = np.empty(x.shape[:2] + tuple(out))
    for n, c in itertools.product(*map(range, x.shape[:2])):
        for pos in itertools.product(*map(range, out)):
            with_padding, inside, ranges = 1, 1, []
            for i, s, p, k, m in zip(pos, stride, padding, kernel, size):
                start = i * s - p
                end = min(start + k, m + p)
                with_padding *= end - start
                start, end = max(start, 0), min(end, m)
                inside *= end - start
                ranges.append(range(start, end))
            total = sum(x[(n, c, *src)] for src in itertools.product(*ranges))
            y[(n, c, *pos)] = total / (divisor_override or (with_padding if count_include_pad else inside))
    return y


def ref_adaptive_avg_pool(x, output_size):
    """Window i of an axis of n cells and ``out`` windows: [floor(i n / out), ceil((i + 1) n / out))."""
    out = tuple(m if o is None else o for m, o in zip(x.shape[2:], _per_axis(output_size, x.ndim - 2)))
    y = np.empty(x.shape[:2] + out)
    for n, c in itertools.product(*map(range, x.shape[:2])):
        for pos in itertools.product(*map(range, out)):
            ranges = [range(i * m // o, -(-(i + 1) * m // o)) for i, m, o in zip(pos, x.shape[2:], out)]
            cells = [x[(n, c, *src)] for src in itertools.product(*ranges)]
            y[(n, c, *pos)] = sum(cells) / len(cells)
    return y


def test_references_on_hand_computed_examples():
    """The references themselves, on cases small enough to work out by hand."""
    x = np.arange(1.0, 5.0).reshape(1, 1, 4)
    # [1 2 3 4] padded by (1, 0), kernel [1, 10], stride 2: windows [0 1], [2 3] -> 10, 2 + 30
    np.testing.assert_array_equal(ref_conv(x, np.array([[[1.0, 10.0]]]), padding=[(1, 0)], stride=2), [[[10, 32]]])
    # two groups: each output channel sees only its own input channel
    x2 = np.array([[[1.0, 2.0], [3.0, 4.0]]])
    np.testing.assert_array_equal(ref_conv(x2, np.array([[[1.0]], [[2.0]]]), groups=2), [[[1, 2], [6, 8]]])
    # transposed: [1 2] scattered with kernel [1, 1] at stride 2 -> [1 1 2 2]; padding 1 crops
    # one cell each side and output_padding 1 keeps one more at the end -> [1 2 2]
    np.testing.assert_array_equal(ref_conv_transpose(np.array([[[1.0, 2.0]]]), np.ones((1, 1, 2)), stride=2),
                                  [[[1, 1, 2, 2]]])
    np.testing.assert_array_equal(ref_conv_transpose(np.array([[[1.0, 2.0]]]), np.ones((1, 1, 2)), stride=2,
                                                     padding=1, output_padding=1), [[[1, 2, 2]]])
    # ceil_mode: 5 cells, kernel 2, stride 2 -> a third window over the last cell alone
    x5 = np.arange(1.0, 6.0).reshape(1, 1, 5)
    np.testing.assert_array_equal(ref_max_pool(x5, 2, ceil_mode=True), [[[2, 4, 5]]])
    np.testing.assert_array_equal(ref_avg_pool(x5, 2, ceil_mode=True), [[[1.5, 3.5, 5.0]]])
    # padding 1 counts in the divisor; the ceil_mode cell beyond it does not: windows
    # [pad 1] [2 3] [4 5] -> 1/2 with count_include_pad, 1/1 without
    np.testing.assert_array_equal(ref_avg_pool(x5, 2, padding=1), [[[0.5, 2.5, 4.5]]])
    np.testing.assert_array_equal(ref_avg_pool(x5, 2, padding=1, count_include_pad=False), [[[1.0, 2.5, 4.5]]])
    # 5 cells, kernel 2, stride 3, padding 1: a third ceil_mode window would start at cell 5, in
    # the right padding, so there are two windows
    np.testing.assert_array_equal(ref_max_pool(x5, 2, stride=3, padding=1, ceil_mode=True), [[[1, 4]]])
    # adaptive: 5 cells into 3 windows [0, 2) [1, 4) [3, 5)
    np.testing.assert_allclose(ref_adaptive_avg_pool(x5, 3), [[[1.5, 3.0, 4.5]]])


# --- the table of cases ------------------------------------------------------------------------

class Case(NamedTuple):
    id: str
    f: Callable  # micrograd, of the array arguments
    ref: Callable  # the loops above, of the same arguments
    args: tuple


CASES: list[Any] = []


def case(id: str, f: Callable, ref: Callable, *args: Any, marks: Any = ()) -> None:
    CASES.append(pytest.param(Case(id, f, ref, args), id=id, marks=marks))


def conv_case(id, fn, x_shape, w_shape, bias=True, **options):
    """A convolution with weights and (optionally) a bias as arguments."""
    args = (normal(*x_shape), normal(*w_shape)) + ((normal(w_shape[0]),) if bias else ())
    case(id, lambda x, w, b=None: fn(x, w, b, **options), lambda x, w, b=None: ref_conv(x, w, b, **options), *args)


def transpose_case(id, x_shape, w_shape, bias=True, fn=F.conv_transpose2d, **options):
    groups = options.get("groups", 1)
    args = (normal(*x_shape), normal(*w_shape)) + ((normal(w_shape[1] * groups),) if bias else ())
    case(id, lambda x, w, b=None: fn(x, w, b, **options), lambda x, w, b=None: ref_conv_transpose(x, w, b, **options),
         *args)


# convolutions: every padding form, stride, dilation, groups, bias or not, 1-d to 3-d
conv_case("conv1d", F.conv1d, (2, 3, 7), (4, 3, 3))
conv_case("conv1d_stride_padding_dilation", F.conv1d, (2, 2, 7), (3, 2, 2), stride=2, padding=1, dilation=2)
conv_case("conv1d_same_even_kernel", F.conv1d, (2, 2, 6), (2, 2, 4), bias=False, padding="same")  # (1, 2)
conv_case("conv1d_pairs", F.conv1d, (1, 2, 5), (2, 2, 3), padding=[(2, 0)])
conv_case("conv2d", F.conv2d, (2, 3, 5, 5), (4, 3, 3, 3))
conv_case("conv2d_no_bias", F.conv2d, (2, 2, 4, 5), (3, 2, 2, 3), bias=False)
conv_case("conv2d_stride_per_axis_padding", F.conv2d, (2, 2, 6, 5), (3, 2, 3, 3), stride=(2, 1), padding=(1, 2))
conv_case("conv2d_asymmetric_pairs", F.conv2d, (2, 2, 5, 6), (3, 2, 3, 2), stride=2, padding=((1, 0), (0, 2)))
conv_case("conv2d_dilation", F.conv2d, (2, 2, 6, 6), (2, 2, 3, 2), padding=1, dilation=(2, 3))
conv_case("conv2d_same_dilated", F.conv2d, (2, 2, 5, 5), (2, 2, 3, 3), padding="same", dilation=2)
conv_case("conv2d_same_even_kernel", F.conv2d, (2, 2, 4, 5), (3, 2, 2, 4), padding="same")  # (0, 1), (1, 2)
conv_case("conv2d_valid", F.conv2d, (2, 2, 5, 4), (2, 2, 3, 3), padding="valid")
conv_case("conv2d_groups", F.conv2d, (2, 4, 5, 5), (4, 2, 3, 3), groups=2)
conv_case("conv2d_depthwise", F.conv2d, (2, 3, 5, 5), (6, 1, 3, 3), bias=False, groups=3, padding=1)
conv_case("conv2d_groups_stride_dilation", F.conv2d, (2, 4, 7, 6), (6, 2, 2, 2), groups=2, stride=2, dilation=2,
          padding=((2, 1), (0, 1)))
conv_case("conv2d_1x1", F.conv2d, (2, 3, 4, 4), (2, 3, 1, 1), stride=2)
conv_case("conv3d", F.conv3d, (2, 2, 4, 4, 4), (2, 2, 2, 2, 2))
conv_case("conv3d_stride_padding_groups", F.conv3d, (1, 2, 5, 4, 4), (4, 1, 3, 2, 2), stride=(2, 1, 1),
          padding=(1, 0, 1), groups=2)
conv_case("conv3d_same_dilation", F.conv3d, (1, 2, 4, 4, 5), (2, 2, 2, 2, 2), bias=False, padding="same",
          dilation=(1, 2, 1))

# transposed convolutions: output_padding may be as large as max(stride, dilation) - 1
transpose_case("conv_transpose2d", (2, 3, 3, 3), (3, 2, 3, 3))
transpose_case("conv_transpose2d_stride_padding_output_padding", (2, 2, 3, 4), (2, 3, 3, 3), stride=2, padding=1,
               output_padding=1)
transpose_case("conv_transpose2d_per_axis", (2, 2, 3, 3), (2, 2, 2, 3), bias=False, stride=(3, 2), padding=(2, 1),
               output_padding=(2, 0))
transpose_case("conv_transpose2d_groups", (2, 4, 3, 3), (4, 1, 2, 2), groups=2, stride=2)
transpose_case("conv_transpose2d_dilation", (2, 2, 3, 3), (2, 2, 2, 3), dilation=2, stride=(2, 1), padding=(1, 0),
               output_padding=(1, 0))
transpose_case("conv_transpose2d_output_padding_from_dilation", (1, 2, 3, 3), (2, 2, 2, 2), dilation=2, padding=1,
               output_padding=1)
transpose_case("conv_transpose1d", (2, 2, 4), (2, 3, 3), fn=convolution.conv_transpose, stride=2, padding=1)

# max pooling: distinct inputs, so every window has one maximum
MAX_POOLS = {
    "max_pool2d": {"kernel_size": 2},
    "max_pool2d_remainder": {"kernel_size": 2},  # on 5 rows: the last is in no window
    "max_pool2d_stride_padding": {"kernel_size": 3, "stride": 2, "padding": 1},
    "max_pool2d_ceil_mode": {"kernel_size": 2, "ceil_mode": True},
    "max_pool2d_ceil_mode_last_window_rule": {"kernel_size": 2, "stride": 3, "padding": 1, "ceil_mode": True},
    "max_pool2d_dilation": {"kernel_size": 2, "stride": 1, "padding": 1, "dilation": 2},
    "max_pool2d_rectangular": {"kernel_size": (2, 3), "stride": (1, 2), "padding": (1, 0), "dilation": (1, 2),
                               "ceil_mode": True},
}
for id_, options in MAX_POOLS.items():
    shape = (2, 2, 4, 6) if id_ == "max_pool2d" else (2, 2, 5, 6)
    case(id_, lambda x, o=options: F.max_pool2d(x, **o), lambda x, o=options: ref_max_pool(x, **o), distinct(*shape))

# average pooling
AVG_POOLS = {
    "avg_pool2d": {"kernel_size": 2},  # non-overlapping tiles without padding: a reshape
    "avg_pool2d_stride_padding": {"kernel_size": 3, "stride": 2, "padding": 1},
    "avg_pool2d_exclude_padding": {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False},
    # the last window of 6 columns reaches one cell past the right padding: not in the divisor
    "avg_pool2d_ceil_mode": {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True},
    "avg_pool2d_ceil_mode_no_padding": {"kernel_size": 2, "ceil_mode": True},
    "avg_pool2d_ceil_mode_exclude_padding": {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True,
                                             "count_include_pad": False},
    "avg_pool2d_divisor_override": {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True,
                                    "divisor_override": 5},
    "avg_pool2d_rectangular": {"kernel_size": (3, 2), "stride": (2, 1), "padding": (1, 1), "ceil_mode": True},
}
for id_, options in AVG_POOLS.items():
    case(id_, lambda x, o=options: F.avg_pool2d(x, **o), lambda x, o=options: ref_avg_pool(x, **o), normal(2, 2, 5, 6))

# adaptive average pooling: equal windows (one average pool) and overlapping uneven ones
for id_, shape, size in [("adaptive_avg_pool2d_divisible", (2, 2, 6, 6), (3, 2)),
                         ("adaptive_avg_pool2d_uneven", (2, 2, 5, 7), (3, 4)),
                         ("adaptive_avg_pool2d_global", (2, 3, 5, 4), 1),
                         ("adaptive_avg_pool2d_keep_axis", (2, 2, 5, 4), (None, 3)),
                         ("adaptive_avg_pool2d_larger_than_input", (1, 2, 3, 4), (4, 6))]:
    case(id_, lambda x, s=size: F.adaptive_avg_pool2d(x, s), lambda x, s=size: ref_adaptive_avg_pool(x, s),
         normal(*shape))


def _case(param) -> Case:
    return param.values[0]


# --- each case: values, derivatives, vmap, eager tensors ---------------------------------------

@pytest.mark.parametrize("c", CASES)
def test_values_match_the_reference(c):
    got = c.f(*c.args)
    expected = c.ref(*c.args)
    assert got.shape == expected.shape
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("c", CASES)
def test_derivatives_check_to_second_order(c):
    # with respect to every argument: input, weights and bias
    check_grads(c.f, c.args, order=2, modes=("fwd", "rev"))


@pytest.mark.parametrize("c", CASES)
def test_vmap_equals_stacked_examples(c):
    # three examples made from the case's arguments (sign flips and shifts keep maxima distinct)
    batches = [tuple(s * a + t for a in c.args) for s, t in ((1.0, 0.0), (-1.0, 0.0), (2.0, 0.25))]
    expected = np.stack([c.f(*args) for args in batches])
    stacked = [np.stack(column) for column in zip(*batches)]
    # only the input mapped (the same weights for every example), and every argument mapped
    x_only = mg.vmap(lambda x: c.f(x, *c.args[1:]))(stacked[0])
    x_only_expected = np.stack([c.f(args[0], *c.args[1:]) for args in batches])
    np.testing.assert_allclose(x_only, x_only_expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(mg.vmap(c.f)(*stacked), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("c", CASES)
def test_eager_backward_equals_grad(c):
    cotangent = normal(*c.f(*c.args).shape)

    def loss(*args):
        return mnp.sum(c.f(*args) * cotangent)

    tensors = [mg.tensor(a, requires_grad=True) for a in c.args]
    out = loss(*tensors)
    assert isinstance(out, mg.Tensor)
    out.backward()
    grads = mg.grad(loss, argnums=tuple(range(len(c.args))))(*c.args)
    for t, g in zip(tensors, grads):
        assert t.grad.shape == g.shape
        np.testing.assert_allclose(t.grad.data, g, rtol=1e-12, atol=1e-12)
    assert np.abs(grads[0]).sum() > 0  # the input gets a gradient


# output_padding larger than padding: the last cells lie outside every window (a regression test)
def test_conv_transpose_output_padding_larger_than_padding():
    x, w = normal(1, 2, 3, 3), normal(2, 2, 2, 2)
    f = lambda x, w: F.conv_transpose2d(x, w, stride=2, output_padding=1)
    expected = ref_conv_transpose(x, w, stride=2, output_padding=1)
    assert expected.shape == (1, 2, 7, 7)
    got = f(x, w)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    check_grads(f, (x, w), order=1, modes=("rev",))


def test_max_pool_ties_give_the_derivative_to_the_first_maximum():
    # as in PyTorch: the first maximum of a window, in row-major order, takes its derivative
    x = np.array([[[[1.0, 1.0], [0.0, -1.0]]]])
    g = mg.grad(lambda x: mnp.sum(F.max_pool2d(x, 2, stride=1, padding=1)))(x)
    # 9 windows over the padded 4x4: the four that hold x[0, 0] go to it (two of them tie with
    # x[0, 1]), x[0, 1] wins the two windows without x[0, 0], x[1, 0] two and x[1, 1] its corner
    np.testing.assert_array_equal(g, [[[[4.0, 2.0], [2.0, 1.0]]]])
    tangent = np.arange(1.0, 5.0).reshape(1, 1, 2, 2)
    _, pushed = mg.jvp(lambda x: F.max_pool2d(x, 2), (np.ones((1, 1, 2, 2)),), (tangent,))
    np.testing.assert_array_equal(pushed, [[[[1.0]]]])


def test_vmap_of_grad_gives_per_example_gradients():
    xs, w = normal(3, 2, 2, 5, 6), normal(3, 2, 3, 3)

    def loss(w, x):
        return mnp.sum(F.max_pool2d(F.conv2d(x, w, stride=(1, 2), padding=1), 3, 2, 1, ceil_mode=True) ** 2)

    per_example = mg.vmap(mg.grad(loss, argnums=(0, 1)), in_axes=(None, 0))(w, xs)
    for i, x in enumerate(xs):
        for got, expected in zip(per_example, mg.grad(loss, argnums=(0, 1))(w, x)):
            np.testing.assert_allclose(got[i], expected, rtol=1e-12, atol=1e-12)


# --- under jit: a few compiled programs (each takes seconds to compile) --------------------------

_BY_ID = {_case(p).id: _case(p) for p in CASES}
# one program per new compiled statement (windows in 2-d and 3-d, unwindows, max_pool) and the
# average pool's windows and divisors; the adaptive pool is slices and means, compiled elsewhere
JIT_IDS = ["conv2d_groups_stride_dilation", "conv3d_stride_padding_groups",
           "conv_transpose2d_stride_padding_output_padding", "max_pool2d_rectangular",
           "avg_pool2d_ceil_mode_exclude_padding"]


@pytest.mark.parametrize("id_", JIT_IDS)
def test_jit_equals_uncompiled(id_):
    c = _BY_ID[id_]

    def f(*args):  # an elementwise step after the operation: a lone primitive would run with NumPy
        return c.f(*args) * 2.0

    lowered = mg.jit(f).lower(*c.args)
    # the operation runs inside a compiled kernel, not as a NumPy call from the glue
    assert lowered.kernels and not any(name in lowered.glue_source for name in ("windows", "max_pool"))
    compiled = mg.jit(f, strict=True)  # strict: a kernel Numba cannot compile raises
    expected = f(*c.args)
    for _ in range(2):  # the first call compiles, the second runs the cached program
        got = compiled(*c.args)
        assert got.shape == expected.shape
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got, 2.0 * c.ref(*c.args), rtol=1e-12, atol=1e-12)


def test_jit_of_gradient_equals_uncompiled():
    # one training-style program: the gradient of a conv -> max pool -> avg pool loss
    x, w, b = normal(2, 4, 6, 6), normal(4, 2, 3, 3), normal(4)

    def loss(x, w, b):
        y = F.conv2d(x, w, b, stride=1, padding=((1, 0), (0, 1)), dilation=(1, 2), groups=2)
        return mnp.sum(F.avg_pool2d(F.max_pool2d(y, 2, ceil_mode=True), 2, padding=1) ** 2)

    grad = mg.grad(loss, argnums=(0, 1, 2))
    expected = grad(x, w, b)
    got = mg.jit(grad, strict=True)(x, w, b)
    for g, e in zip(got, expected):
        assert g.shape == e.shape
        np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-12)


# --- modules against PyTorch ---------------------------------------------------------------------

def _copy_into_torch(ours, theirs, torch):
    """Our parameters and buffers into the PyTorch module (same names and shapes)."""
    with torch.no_grad():
        for name, value in theirs.state_dict().items():
            if name != "num_batches_tracked":
                value.copy_(torch.from_numpy(np.array(getattr(ours, name), np.float64)))


def _compare_module(ours, theirs, x, torch, rtol=1e-10):
    """Outputs, then the gradients of sum(output * cotangent) for every parameter and the input."""
    _copy_into_torch(ours, theirs, torch)
    t_x = torch.from_numpy(x.copy()).requires_grad_(True)
    t_out = theirs(t_x)
    out = ours(x)
    assert out.shape == tuple(t_out.shape)
    np.testing.assert_allclose(out, t_out.detach().numpy(), rtol=rtol, atol=1e-12)
    cotangent = normal(*out.shape)
    (t_out * torch.from_numpy(cotangent)).sum().backward()
    g_model, g_x = mg.grad(lambda m, x: mnp.sum(m(x) * cotangent), argnums=(0, 1))(ours, x)
    np.testing.assert_allclose(g_x, t_x.grad.numpy(), rtol=rtol, atol=1e-12)
    for name, p in theirs.named_parameters():
        np.testing.assert_allclose(getattr(g_model, name), p.grad.numpy(), rtol=rtol, atol=1e-12, err_msg=name)


MODULES = [  # (name, our module, PyTorch's constructor arguments, input shape)
    ("Conv1d", lambda k: mg.Conv1d(3, 4, 3, stride=2, padding=1, key=k, dtype=np.float64),
     ("Conv1d", (3, 4, 3), {"stride": 2, "padding": 1}), (2, 3, 7)),
    ("Conv2d", lambda k: mg.Conv2d(3, 4, 3, key=k, dtype=np.float64), ("Conv2d", (3, 4, 3), {}), (2, 3, 5, 6)),
    ("Conv2d_options", lambda k: mg.Conv2d(4, 6, (3, 2), stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2,
                                           bias=False, key=k, dtype=np.float64),
     ("Conv2d", (4, 6, (3, 2)), {"stride": (2, 1), "padding": (1, 2), "dilation": (1, 2), "groups": 2, "bias": False}),
     (2, 4, 6, 5)),
    ("Conv2d_same", lambda k: mg.Conv2d(2, 3, 4, padding="same", dilation=(1, 2), key=k, dtype=np.float64),
     ("Conv2d", (2, 3, 4), {"padding": "same", "dilation": (1, 2)}), (2, 2, 5, 6)),
    ("ConvTranspose2d", lambda k: mg.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2,
                                                     dilation=(1, 2), key=k, dtype=np.float64),
     ("ConvTranspose2d", (4, 6, 3), {"stride": 2, "padding": 1, "output_padding": 1, "groups": 2, "dilation": (1, 2)}),
     (2, 4, 3, 4)),
    ("MaxPool2d", lambda k: mg.MaxPool2d(3, stride=2, padding=1, ceil_mode=True),
     ("MaxPool2d", (3,), {"stride": 2, "padding": 1, "ceil_mode": True}), (2, 2, 6, 7)),
    ("AvgPool2d", lambda k: mg.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
     ("AvgPool2d", (3,), {"stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False}), (2, 2, 6, 7)),
    ("AdaptiveAvgPool2d", lambda k: mg.AdaptiveAvgPool2d((3, 4)), ("AdaptiveAvgPool2d", ((3, 4),), {}), (2, 2, 7, 5)),
    ("Flatten", lambda k: mg.Flatten(), ("Flatten", (), {}), (2, 3, 2, 2)),
    ("Flatten_dims", lambda k: mg.Flatten(0, 2), ("Flatten", (0, 2), {}), (2, 3, 2, 2)),
]


@pytest.mark.filterwarnings("ignore:Using padding='same'")  # PyTorch's note about a padded copy
@pytest.mark.parametrize("name, make, torch_spec, shape", MODULES, ids=[m[0] for m in MODULES])
def test_module_matches_pytorch(name, make, torch_spec, shape):
    torch = pytest.importorskip("torch")
    cls, args, kwargs = torch_spec
    theirs = getattr(torch.nn, cls)(*args, **kwargs).double()
    ours = make(mg.random.key(7))
    x = distinct(*shape) if "Max" in name else normal(*shape)
    _compare_module(ours, theirs, x, torch)


def test_batchnorm2d_matches_pytorch_in_training_and_evaluation():
    torch = pytest.importorskip("torch")
    x = normal(4, 3, 3, 5) * 2 + 1
    ours, theirs = mg.BatchNorm2d(3, momentum=0.2, dtype=np.float64), torch.nn.BatchNorm2d(3, momentum=0.2).double()
    assert (ours.eps, ours.momentum) == (theirs.eps, theirs.momentum)
    # non-trivial affine parameters and running statistics, the same on both sides
    ours = ours.replace(weight=mg.tensor(normal(3), requires_grad=True), bias=mg.tensor(normal(3), requires_grad=True),
                        running_mean=normal(3), running_var=np.abs(normal(3)) + 0.5)
    # training: batch statistics, gradients through them, and the running statistics after one step
    _compare_module(ours, theirs, x, torch)
    _, updated = ours.apply(x)
    for name in ("running_mean", "running_var"):
        np.testing.assert_allclose(getattr(updated, name), getattr(theirs, name).numpy(), rtol=1e-12, err_msg=name)
        assert not np.allclose(getattr(updated, name), getattr(ours, name))  # they moved
    # evaluation: the running statistics, which do not change
    ours_eval, theirs_eval = updated.eval(), theirs.eval()
    theirs_eval.zero_grad()
    _compare_module(ours_eval, theirs_eval, x, torch)
    y, same = ours_eval.apply(x)
    assert same is ours_eval
    np.testing.assert_allclose(y, theirs_eval(torch.from_numpy(x)).detach().numpy(), rtol=1e-12)


# --- modules: layouts, initialization, dtypes, eager training, checkpoints ----------------------

def _state(module):
    """Name -> shape of the parameters and buffers (PyTorch's state_dict entries)."""
    names = ("weight", "bias", "running_mean", "running_var")
    return {k: tuple(np.shape(v)) for k, v in vars(module).items() if k in names and v is not None}


def test_parameter_names_and_shapes_equal_pytorchs_state_dict():
    torch = pytest.importorskip("torch")
    pairs = [(mg.Conv1d(3, 5, 4), torch.nn.Conv1d(3, 5, 4)),
             (mg.Conv2d(4, 6, (3, 2), groups=2), torch.nn.Conv2d(4, 6, (3, 2), groups=2)),
             (mg.Conv2d(4, 6, 3, bias=False), torch.nn.Conv2d(4, 6, 3, bias=False)),
             (mg.ConvTranspose2d(4, 6, 3, groups=2), torch.nn.ConvTranspose2d(4, 6, 3, groups=2)),
             (mg.BatchNorm2d(5), torch.nn.BatchNorm2d(5))]
    for ours, theirs in pairs:
        # PyTorch's BatchNorm also counts batches (num_batches_tracked); micrograd does not
        expected = {k: tuple(v.shape) for k, v in theirs.state_dict().items() if k != "num_batches_tracked"}
        assert _state(ours) == expected, type(ours).__name__
        assert len(ours.parameters()) == len(list(theirs.parameters()))


@pytest.mark.parametrize("make, fan_in", [(lambda k: mg.Conv2d(8, 16, 3, key=k), 8 * 9),
                                          (lambda k: mg.Conv1d(6, 32, 5, key=k), 6 * 5),
                                          (lambda k: mg.Conv2d(8, 16, 3, groups=4, key=k), 2 * 9),
                                          (lambda k: mg.ConvTranspose2d(8, 12, 3, groups=2, key=k), 6 * 9)],
                         ids=["Conv2d", "Conv1d", "Conv2d_groups", "ConvTranspose2d_groups"])
def test_default_initialization_is_pytorchs_uniform(make, fan_in):
    # PyTorch: weights kaiming_uniform(a=sqrt(5)) = U(+-1/sqrt(fan_in)), biases U(+-1/sqrt(fan_in)),
    # fan_in = weight.shape[1] * kernel size (for transposed convolutions: out_channels / groups)
    layer = make(mg.random.key(0))
    w, b = np.asarray(layer.weight), np.asarray(layer.bias)
    bound = 1 / np.sqrt(fan_in)
    assert w.dtype == np.float32 and b.dtype == np.float32
    assert fan_in == w.shape[1] * np.prod(w.shape[2:])
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound  # the whole range is used
    assert abs(w.std() - bound / np.sqrt(3)) < 0.1 * bound / np.sqrt(3)  # uniform, not normal
    assert abs(w.mean()) < 0.15 * bound
    assert np.abs(b).max() <= bound and len(np.unique(b)) == b.size
    # the same key gives the same layer, another key another
    assert np.array_equal(np.asarray(make(mg.random.key(0)).weight), w)
    assert not np.array_equal(np.asarray(make(mg.random.key(1)).weight), w)


def test_default_initialization_spread_equals_pytorchs():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    ours, theirs = mg.Conv2d(16, 32, 3, key=mg.random.key(0)), torch.nn.Conv2d(16, 32, 3)
    for name in ("weight", "bias"):
        a, t = np.asarray(getattr(ours, name)), getattr(theirs, name).detach().numpy()
        assert a.shape == t.shape and a.dtype == t.dtype
        assert np.abs(a).max() <= 1 / np.sqrt(16 * 9) and np.abs(t).max() <= 1 / np.sqrt(16 * 9)
    # 4608 weights each: sample standard deviations within 5% (their spread is about 1%)
    w, t = np.asarray(ours.weight), theirs.weight.detach().numpy()
    assert abs(w.std() / t.std() - 1) < 0.05


def _cnn(key=0, dtype=np.float32):
    k1, k2, k3 = mg.random.split(mg.random.key(key), 3)
    return mg.Sequential([mg.Conv2d(1, 4, 3, padding=1, key=k1, dtype=dtype), mg.ReLU(), mg.MaxPool2d(2),
                          mg.Conv2d(4, 4, 3, stride=2, padding="valid", groups=2, key=k2, dtype=dtype),
                          mg.AdaptiveAvgPool2d(1), mg.Flatten(), mg.Linear(4, 3, key=k3, dtype=dtype)])


def test_float32_modules_stay_float32():
    x = normal(2, 1, 8, 8).astype(np.float32)
    model = _cnn()
    y = model(x)
    assert y.dtype == np.float32 and y.shape == (2, 3)
    grads = mg.grad(lambda m: mnp.sum(m(x) ** 2))(model)
    assert all(g.dtype == np.float32 for g in mg.tree.leaves(grads))
    # the same computation in float64 agrees to float32 precision
    model64 = mg.tree.map(lambda p: np.asarray(p, np.float64), model)
    np.testing.assert_allclose(y, model64(x.astype(np.float64)), rtol=1e-5, atol=1e-6)
    for name, layer in [("ConvTranspose2d", mg.ConvTranspose2d(1, 2, 2, stride=2)),
                        ("AvgPool2d", mg.AvgPool2d(3, 1, 1)), ("BatchNorm2d", mg.BatchNorm2d(1)),
                        ("MaxPool2d", mg.MaxPool2d(3, 2, 1, ceil_mode=True))]:
        assert layer(x).dtype == np.float32, name


def test_cnn_trains_eagerly_with_the_gradients_of_grad():
    x, labels = normal(4, 1, 8, 8), np.array([0, 2, 1, 2])
    model = _cnn(dtype=np.float64)

    def loss(m, x):
        return mg.CrossEntropyLoss()(m(x), labels)

    expected = mg.grad(loss)(model, x)
    out = loss(model, mg.tensor(x))
    out.backward()
    for p, g in zip(model.parameters(), expected.parameters()):
        assert p.grad is not None
        np.testing.assert_allclose(p.grad.data, g, rtol=1e-10, atol=1e-12)
    # a plain SGD step by hand lowers the loss (optimizer.step() would compile its update with Numba)
    with mg.no_grad():
        for p in model.parameters():
            p -= 0.1 * p.grad
    assert float(loss(model, x)) < float(out.item())


def test_dropout2d_zeroes_whole_channels():
    x = normal(3, 8, 4, 4) + 5.0
    y = np.asarray(mg.Dropout2d(0.5)(x, key=mg.random.key(1)))
    dropped = (y == 0).all(axis=(2, 3))
    assert 0 < dropped.sum() < dropped.size  # some channels, not all
    np.testing.assert_allclose(y[~dropped], 2 * x[~dropped], rtol=1e-12)
    assert mg.Dropout2d(0.5).eval()(x) is x


def test_conv_model_round_trips_through_a_checkpoint(tmp_path):
    model = _cnn(0)
    mg.save(tmp_path / "cnn.safetensors", model)
    restored = mg.load(tmp_path / "cnn.safetensors", like=_cnn(1))
    assert repr(restored) == repr(model)
    for a, b in zip(restored.parameters(), model.parameters()):
        assert isinstance(a, mg.Tensor) and a.requires_grad and a.dtype == b.dtype
        np.testing.assert_array_equal(a.data, b.data)
    x = normal(2, 1, 8, 8).astype(np.float32)
    np.testing.assert_array_equal(np.asarray(restored(x)), np.asarray(model(x)))
    assert not np.array_equal(np.asarray(_cnn(1)(x)), np.asarray(model(x)))  # the weights came from the file


# --- bad input -----------------------------------------------------------------------------------

X = np.ones((2, 3, 5, 5))


def _message(error_type, f, *args, **kwargs):
    with pytest.raises(error_type) as info:
        f(*args, **kwargs)
    return str(info.value)


def test_channel_mismatch_names_both_counts_and_the_users_line():
    message = _message(ShapeError, lambda: F.conv2d(X, np.ones((4, 2, 3, 3))))  # the bad call
    assert "the input has 3 channels (shape (2, 3, 5, 5))" in message and "expects 2" in message
    assert THIS_FILE in message and "the bad call" in message
    with pytest.raises(ShapeError, match=r"input has 3 channels.*expects 4 \(2 per group, 2 groups\)"):
        F.conv2d(X, np.ones((4, 2, 3, 3)), groups=2)
    with pytest.raises(ShapeError, match=r"conv_transpose2d: the input has 3 channels .* expects 2"):
        F.conv_transpose2d(X, np.ones((2, 2, 3, 3)))
    with pytest.raises(ShapeError, match=r"Conv2d: the input has 3 channels.*expects 2"):
        mg.Conv2d(2, 4, 3)(X.astype(np.float32))
    # shapes are known while tracing: the same error under grad and jit, pointing at this file
    for transform in (lambda f: mg.grad(lambda x: mnp.sum(f(x))), mg.jit):
        message = _message(ShapeError, transform(lambda x: F.conv2d(x, np.ones((4, 2, 3, 3)))), X)
        assert "the input has 3 channels" in message and THIS_FILE in message


def test_kernel_larger_than_the_padded_input():
    with pytest.raises(ShapeError, match=r"conv2d: the kernel \(7, 3\) \(dilation \(1, 1\)\) is larger than the padded "
                                         r"input \(5, 5\)") as info:
        F.conv2d(X, np.ones((4, 3, 7, 3)))
    assert THIS_FILE in str(info.value)
    with pytest.raises(ShapeError, match=r"kernel \(3, 3\) \(dilation \(3, 3\)\) is larger than the padded "
                                         r"input \(5, 7\)"):
        F.conv2d(X, np.ones((4, 3, 3, 3)), padding=(0, 1), dilation=3)
    assert F.conv2d(X, np.ones((4, 3, 7, 3)), padding=(1, 0)).shape == (2, 4, 1, 3)  # padding makes it fit


@pytest.mark.parametrize("call, pattern", [
    (lambda: F.conv2d(X, np.ones((4, 3, 3, 3)), stride=0),
     r"conv2d: stride must be a positive int or 2 of them, got 0"),
    (lambda: F.conv2d(X, np.ones((4, 3, 3, 3)), stride=(1, -1)), r"stride must be a positive int.*got \(1, -1\)"),
    (lambda: F.conv1d(X[0], np.ones((4, 5, 3)), dilation=0), r"conv1d: dilation must be a positive int or 1 of them"),
    (lambda: F.conv_transpose2d(X, np.ones((3, 1, 2, 2)), stride=(2, 0)),
     r"conv_transpose2d: stride must be a positive"),
    (lambda: F.max_pool2d(X, 2, stride=0), r"max_pool2d: stride must be a positive int"),
    (lambda: F.max_pool2d(X, 2, dilation=(1, 0)), r"max_pool2d: dilation must be a positive int"),
    (lambda: mg.Conv2d(3, 4, 3, stride=0), r"Conv2d: stride must be a positive int"),
    (lambda: mg.Conv2d(3, 4, 3, dilation=-2), r"Conv2d: dilation must be a positive int"),
], ids=["stride", "stride_pair", "dilation", "transpose_stride", "pool_stride", "pool_dilation", "module_stride",
        "module_dilation"])
def test_non_positive_stride_or_dilation(call, pattern):
    message = _message(ValueError, call)
    assert re.search(pattern, message), message


def test_non_positive_stride_error_points_at_the_users_line():
    message = _message(ValueError, lambda: F.conv2d(X, np.ones((4, 3, 3, 3)), stride=0))  # stride zero here
    assert THIS_FILE in message and "stride zero here" in message


def test_groups_must_divide_the_channels():
    with pytest.raises(ValueError, match=r"conv2d: groups=3 must be positive and divide the 4 output channels"):
        F.conv2d(X, np.ones((4, 1, 3, 3)), groups=3)
    with pytest.raises(ValueError, match=r"groups=0 must be positive"):
        F.conv2d(X, np.ones((4, 1, 3, 3)), groups=0)
    with pytest.raises(ValueError, match=r"conv_transpose2d: groups=2 must be positive and divide the 3 input "
                                         r"channels"):
        F.conv_transpose2d(X, np.ones((3, 2, 3, 3)), groups=2)
    # the output channels divide but the input's 3 do not: named as a channel mismatch
    with pytest.raises(ShapeError, match=r"the input has 3 channels .* expects 2 \(1 per group, 2 groups\)"):
        F.conv2d(X, np.ones((4, 1, 3, 3)), groups=2)
    with pytest.raises(ValueError, match=r"Conv2d: groups=2 must divide in_channels=3 and out_channels=4"):
        mg.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match=r"ConvTranspose2d: groups=3 must divide in_channels=6 and out_channels=4"):
        mg.ConvTranspose2d(6, 4, 3, groups=3)


@pytest.mark.parametrize("call, layout", [
    (lambda x: F.conv2d(x[0], np.ones((4, 3, 3, 3))), r"conv2d expects a batch \(N, C, H, W\), got shape \(3, 5, 5\)"),
    (lambda x: F.conv1d(x[0, 0], np.ones((4, 5, 3))), r"conv1d expects a batch \(N, C, W\), got shape \(5, 5\)"),
    (lambda x: F.conv3d(x, np.ones((4, 3, 1, 1, 1))),
     r"conv3d expects a batch \(N, C, D, H, W\), got shape \(2, 3, 5, 5\)"),
    (lambda x: F.conv_transpose2d(x[0], np.ones((3, 1, 2, 2))), r"conv_transpose2d expects a batch \(N, C, H, W\)"),
    (lambda x: F.max_pool2d(x[0], 2), r"max_pool2d expects a batch \(N, C, H, W\)"),
    (lambda x: F.avg_pool2d(x[0], 2), r"avg_pool2d expects a batch \(N, C, H, W\)"),
    (lambda x: F.adaptive_avg_pool2d(x[0], 2), r"adaptive_avg_pool2d expects a batch \(N, C, H, W\)"),
    (lambda x: mg.Conv2d(3, 4, 3)(x[0]), r"Conv2d expects a batch \(N, C, H, W\), got shape \(3, 5, 5\)"),
], ids=["conv2d", "conv1d", "conv3d", "conv_transpose2d", "max_pool2d", "avg_pool2d", "adaptive", "Conv2d"])
def test_missing_batch_axis_says_how_to_add_it(call, layout):
    message = _message(ShapeError, call, X)
    assert re.search(layout, message), message
    assert "the batch axis is missing; add it with x[None]" in message
    assert THIS_FILE in message


def test_wrong_number_of_axes():
    with pytest.raises(ShapeError, match=r"conv2d expects inputs with 4 axes \(N, C, 2 spatial\), got shape "
                                         r"\(1, 2, 3, 5, 5\)"):
        F.conv2d(X[None], np.ones((4, 3, 3, 3)))
    with pytest.raises(ShapeError, match=r"BatchNorm2d\(3\) expects inputs of shape \(N, 3, H, W\).*batch axis "
                                         r"is missing"):
        mg.BatchNorm2d(3)(X[0])


def test_same_padding_needs_stride_one():
    message = _message(ValueError, lambda: F.conv2d(X, np.ones((4, 3, 3, 3)), stride=2, padding="same"))  # same, 2
    assert "conv2d: padding='same' needs stride 1, got stride (2, 2)" in message
    assert THIS_FILE in message and "same, 2" in message
    with pytest.raises(ValueError, match=r"padding='same' needs stride 1, got stride \(1, 2\)"):
        F.conv2d(X, np.ones((4, 3, 3, 3)), stride=(1, 2), padding="same")
    # the module refuses in its constructor, as PyTorch does
    with pytest.raises(ValueError, match=r"Conv2d: padding='same' needs stride 1"):
        mg.Conv2d(3, 4, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match=r"ConvTranspose2d: padding must be an int or 2 ints"):
        mg.ConvTranspose2d(3, 4, 3, padding="same")
    with pytest.raises(ShapeError, match=r"conv2d: the bias must have shape \(4,\), one per output channel, got \(3,\)"):
        F.conv2d(X, np.ones((4, 3, 3, 3)), np.ones(3))


def test_other_bad_arguments():
    with pytest.raises(ValueError, match=r"conv2d: padding must not be negative, got \(-1, -1\)"):
        F.conv2d(X, np.ones((4, 3, 3, 3)), padding=-1)
    with pytest.raises(ValueError, match=r"padding must be an int, 2 ints, 2 \(before, after\) pairs, 'valid' or "
                                         r"'same'"):
        F.conv2d(X, np.ones((4, 3, 3, 3)), padding=(1, 2, 3))
    with pytest.raises(ValueError, match=r"max_pool2d: padding \(2, 2\) must be at most half the kernel \(2, 2\)"):
        F.max_pool2d(X, 2, padding=2)
    with pytest.raises(ValueError, match=r"output_padding \(2, 2\) must be smaller than the stride \(2, 2\) or the "
                                         r"dilation \(1, 1\)"):
        F.conv_transpose2d(X, np.ones((3, 2, 3, 3)), stride=2, output_padding=2)
    with pytest.raises(ValueError, match=r"adaptive_avg_pool2d: output_size must be 2 positive ints"):
        F.adaptive_avg_pool2d(X, (2, 0))
    with pytest.raises(NotImplementedError, match="return_indices"):
        F.max_pool2d(X, 2, return_indices=True)
    with pytest.raises(NotImplementedError, match="padding_mode='reflect'"):
        mg.Conv2d(3, 4, 3, padding_mode="reflect")


def test_adaptive_pool_output_size_of_the_wrong_length_is_an_error():
    with pytest.raises(ValueError, match="output_size must be 2 positive ints"):
        F.adaptive_avg_pool2d(X, (2, 3, 4))


def test_pool_window_larger_than_the_input_is_an_error():
    # PyTorch: "Output size is too small"; here the window's and the input's sizes are named
    for call in (lambda: F.max_pool2d(X, 6), lambda: F.max_pool2d(X, 6, stride=1), lambda: F.avg_pool2d(X, 7, 1)):
        with pytest.raises(ShapeError, match=r"(max|avg)_pool2d: a window of \((6, 6|7, 7)\).* does not fit the input's spatial shape \(5, 5\)"):
            call()


# (stride == kernel takes a reshape path, which checks the sizes too)
def test_avg_pool_window_larger_than_the_input_is_an_error():
    with pytest.raises(ShapeError, match="does not fit"):
        F.avg_pool2d(X, 6)
