"""Recurrent layers with PyTorch's conventions: ``RNN`` (tanh or ReLU), ``LSTM`` and ``GRU``.

Arguments, parameter names and layouts are PyTorch's (``weight_ih_l0`` of shape
``(gates * hidden_size, input_size)``, ``weight_hh_l0``, ``bias_ih_l0``, ``bias_hh_l0``, then
``_l1``, ... and ``_reverse`` for the second direction; LSTM gates in the order i, f, g, o, GRU's
r, z, n), as is what a call returns: ``output, h_n`` (``output, (h_n, c_n)`` for an LSTM), with
the sequence first unless ``batch_first``. Each layer is one ``mg.lax.scan`` over time, after one
matrix product computes every step's input contribution, so the program holds one loop per
layer whatever the sequence length, and ``jit`` compiles it as a loop.

>>> import numpy as np, micrograd as mg
>>> lstm = mg.LSTM(input_size=3, hidden_size=5, num_layers=2, batch_first=True, key=mg.random.key(0))
>>> output, (h_n, c_n) = lstm(np.zeros((4, 7, 3), np.float32))  # 4 sequences of 7 steps
>>> output.shape, h_n.shape, c_n.shape
((4, 7, 5), (2, 4, 5), (2, 4, 5))
>>> lstm.weight_ih_l0.shape, lstm.weight_hh_l1.shape
((20, 3), (20, 5))
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import lax
from .. import numpy as mnp
from .. import random
from ..core.errors import ShapeError, with_location
from . import init as initializers
from .layers import _positive_int, parameter
from .module import Module

__all__ = ["RNN", "LSTM", "GRU"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _split(x, parts: int):
    size = x.shape[-1] // parts
    return [x[..., k * size:(k + 1) * size] for k in range(parts)]


class _Recurrent(Module):
    mode = "RNN_TANH"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, *, key: Any = None,
                 dtype: Any = np.float32):
        name = type(self).__name__
        self.input_size = _positive_int(input_size, "input_size", name)
        self.hidden_size = _positive_int(hidden_size, "hidden_size", name)
        self.num_layers = _positive_int(num_layers, "num_layers", name)
        if not 0.0 <= float(dropout) < 1.0:
            raise ValueError(f"{name}: dropout must be in [0, 1), got {dropout}")
        self.bias, self.batch_first, self.dropout = bool(bias), bool(batch_first), float(dropout)
        self.bidirectional = bool(bidirectional)
        gates, directions = _GATES[self.mode], 2 if bidirectional else 1
        bound = 1.0 / math.sqrt(hidden_size)  # PyTorch: every parameter uniform in +-1/sqrt(hidden_size)
        draw = initializers.uniform(-bound, bound)
        keys = iter(random.split(initializers.default_key() if key is None else key, 4 * num_layers * directions))
        dtype = np.dtype(dtype)
        for layer in range(num_layers):
            for direction in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                fan_in = input_size if layer == 0 else hidden_size * directions
                setattr(self, "weight_ih" + suffix, parameter(draw(next(keys), (gates * hidden_size, fan_in), dtype)))
                setattr(self, "weight_hh" + suffix, parameter(draw(next(keys), (gates * hidden_size, hidden_size), dtype)))
                bias_keys = (next(keys), next(keys))
                if self.bias:
                    setattr(self, "bias_ih" + suffix, parameter(draw(bias_keys[0], (gates * hidden_size,), dtype)))
                    setattr(self, "bias_hh" + suffix, parameter(draw(bias_keys[1], (gates * hidden_size,), dtype)))

    # --- one step of one layer ------------------------------------------------------------------
    def _cell(self, inputs, h, c, w_hh_t, b_hh):
        """``inputs`` is this step's ``x @ W_ih^T + b_ih`` (computed for all steps at once)."""
        hidden = mnp.matmul(h, w_hh_t)
        if b_hh is not None:
            hidden = hidden + b_hh
        if self.mode == "LSTM":
            i, f, g, o = _split(inputs + hidden, 4)
            c = mnp.sigmoid(f) * c + mnp.sigmoid(i) * mnp.tanh(g)
            return mnp.sigmoid(o) * mnp.tanh(c), c
        if self.mode == "GRU":
            (x_r, x_z, x_n), (h_r, h_z, h_n) = _split(inputs, 3), _split(hidden, 3)
            r, z = mnp.sigmoid(x_r + h_r), mnp.sigmoid(x_z + h_z)
            n = mnp.tanh(x_n + r * h_n)
            return (1 - z) * n + z * h, c
        total = inputs + hidden
        return (mnp.tanh(total) if self.mode == "RNN_TANH" else mnp.relu(total)), c

    def _run(self, x, h0, c0, suffix: str, reverse: bool):
        """One layer in one direction over the whole sequence (time first): its outputs and final state."""
        w_ih, w_hh = getattr(self, "weight_ih" + suffix), getattr(self, "weight_hh" + suffix)
        b_ih = getattr(self, "bias_ih" + suffix) if self.bias else None
        b_hh = getattr(self, "bias_hh" + suffix) if self.bias else None
        inputs = mnp.matmul(x, mnp.transpose(w_ih))  # every step's input contribution: one product
        if b_ih is not None:
            inputs = inputs + b_ih
        w_hh_t = mnp.transpose(w_hh)

        def step(carry, step_inputs):
            h, c = self._cell(step_inputs, carry[0], carry[1], w_hh_t, b_hh)
            return (h, c), h

        (h, c), outputs = lax.scan(step, (h0, c0), inputs, reverse=reverse)
        return outputs, h, c

    def __call__(self, x: Any, hx: Any = None, *, key: Any = None) -> tuple[Any, Any]:
        name = type(self).__name__
        x = mnp.asarray(x)
        if x.ndim not in (2, 3):
            raise ShapeError(with_location(f"{name} expects a sequence of shape (L, {self.input_size}) or a batch "
                                           f"({'N, L' if self.batch_first else 'L, N'}, {self.input_size}), got {x.shape}"))
        if x.shape[-1] != self.input_size:
            raise ShapeError(with_location(f"{name}(input_size={self.input_size}) got inputs with {x.shape[-1]} features "
                                           f"(shape {x.shape})"))
        unbatched = x.ndim == 2
        if unbatched:
            x = mnp.expand_dims(x, 1)
        elif self.batch_first:
            x = mnp.swapaxes(x, 0, 1)
        directions = 2 if self.bidirectional else 1
        batch = x.shape[1]
        state_shape = (self.num_layers * directions, batch, self.hidden_size)
        h0, c0 = self._initial_state(hx, state_shape, unbatched, x.dtype)
        keys = None if key is None or not self.dropout or not self.training else random.split(key, self.num_layers)
        final_h, final_c = [], []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(directions):
                k = layer * directions + direction
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                out, h, c = self._run(x, h0[k], c0[k], suffix, reverse=bool(direction))
                outputs.append(out)
                final_h.append(h)
                final_c.append(c)
            x = outputs[0] if directions == 1 else mnp.concatenate(outputs, axis=-1)
            if keys is not None and layer < self.num_layers - 1:  # dropout between layers, as in PyTorch
                keep = random.bernoulli(keys[layer], 1.0 - self.dropout, x.shape)
                x = mnp.where(keep, x / (1.0 - self.dropout), 0.0)
        h_n, c_n = mnp.stack(final_h), mnp.stack(final_c)
        if unbatched:
            x, h_n, c_n = x[:, 0], h_n[:, 0], c_n[:, 0]
        elif self.batch_first:
            x = mnp.swapaxes(x, 0, 1)
        return x, ((h_n, c_n) if self.mode == "LSTM" else h_n)

    def _initial_state(self, hx, shape, unbatched: bool, dtype):
        zeros = np.zeros(shape, dtype)
        if hx is None:
            return zeros, zeros
        if self.mode == "LSTM":
            if not (isinstance(hx, tuple) and len(hx) == 2):
                raise TypeError(with_location("LSTM: the initial state is a pair (h_0, c_0)"))
            h0, c0 = (mnp.asarray(v) for v in hx)
        else:
            h0, c0 = mnp.asarray(hx), zeros
        expected = shape[:1] + shape[2:] if unbatched else shape
        for what, v in (("h_0", h0), ("c_0", c0)):
            if tuple(v.shape) != expected:
                raise ShapeError(with_location(f"{type(self).__name__}: {what} must have shape {expected} (layers x "
                                               f"directions, batch, hidden_size), got {v.shape}"))
        if unbatched:
            h0, c0 = mnp.expand_dims(h0, 1), mnp.expand_dims(c0, 1)
        return h0, c0

    def __repr__(self) -> str:
        extra = "".join([f", num_layers={self.num_layers}" if self.num_layers != 1 else "",
                         "" if self.bias else ", bias=False", ", batch_first=True" if self.batch_first else "",
                         f", dropout={self.dropout}" if self.dropout else "",
                         ", bidirectional=True" if self.bidirectional else "",
                         ", nonlinearity='relu'" if self.mode == "RNN_RELU" else ""])
        return f"{type(self).__name__}({self.input_size}, {self.hidden_size}{extra})"


class RNN(_Recurrent):
    """An Elman RNN, ``h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)`` (``nonlinearity``
    'tanh' or 'relu'); returns ``(output, h_n)``.

    >>> import numpy as np, micrograd as mg
    >>> rnn = mg.RNN(2, 4, key=mg.random.key(0))
    >>> output, h_n = rnn(np.ones((6, 3, 2), np.float32))  # 6 steps, batch of 3
    >>> output.shape, h_n.shape
    ((6, 3, 4), (1, 3, 4))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, *,
                 key: Any = None, dtype: Any = np.float32):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, key=key,
                         dtype=dtype)


class LSTM(_Recurrent):
    """A long short-term memory layer: gates ``i, f, g, o`` from ``x_t W_ih^T + b_ih + h_{t-1}
    W_hh^T + b_hh``, ``c_t = sigmoid(f) c_{t-1} + sigmoid(i) tanh(g)``, ``h_t = sigmoid(o)
    tanh(c_t)``; returns ``(output, (h_n, c_n))``. The initial state is ``(h_0, c_0)``.
    """
    mode = "LSTM"


class GRU(_Recurrent):
    """A gated recurrent unit: ``r, z = sigmoid(...)``, ``n = tanh(x_n + r (h W_hn^T + b_hn))``,
    ``h_t = (1 - z) n + z h_{t-1}`` (gates ``r, z, n``); returns ``(output, h_n)``.
    """
    mode = "GRU"
