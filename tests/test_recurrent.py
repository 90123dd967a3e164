"""RNN, LSTM and GRU: PyTorch's conventions and results (checked against PyTorch where it is
installed, and against a loop over time written here otherwise), functionally, eagerly and
under jit."""
import numpy as np
import pytest

import micrograd as mg
import micrograd.numpy as mnp
from micrograd.testing import check_grads

rng = np.random.default_rng(5)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def reference(layer, x, h0=None, c0=None):
    """One layer, one direction, time first, written directly from the equations."""
    p = {k: np.asarray(v, np.float64) for k, v in vars(layer).items() if k.startswith(("weight_", "bias_"))}
    hidden = layer.hidden_size
    h = np.zeros((x.shape[1], hidden)) if h0 is None else h0
    c = np.zeros_like(h) if c0 is None else c0
    outputs = []
    for x_t in x:
        gi, gh = x_t @ p["weight_ih_l0"].T + p["bias_ih_l0"], h @ p["weight_hh_l0"].T + p["bias_hh_l0"]
        if isinstance(layer, mg.LSTM):
            i, f, g, o = np.split(gi + gh, 4, axis=-1)
            c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
            h = sigmoid(o) * np.tanh(c)
        elif isinstance(layer, mg.GRU):
            (ir, iz, in_), (hr, hz, hn) = np.split(gi, 3, axis=-1), np.split(gh, 3, axis=-1)
            r, z = sigmoid(ir + hr), sigmoid(iz + hz)
            h = (1 - z) * np.tanh(in_ + r * hn) + z * h
        else:
            h = np.tanh(gi + gh)
        outputs.append(h)
    return np.stack(outputs), h, c


@pytest.mark.parametrize("cls", [mg.RNN, mg.LSTM, mg.GRU])
def test_one_layer_matches_the_equations_and_its_gradients_check(cls):
    layer = cls(3, 4, key=mg.random.key(1), dtype=np.float64)
    x = rng.normal(size=(5, 2, 3))
    h0 = rng.normal(size=(1, 2, 4))
    state = (h0, rng.normal(size=(1, 2, 4))) if cls is mg.LSTM else h0
    output, final = layer(x, state)
    out_ref, h_ref, c_ref = reference(layer, x, h0[0], state[1][0] if cls is mg.LSTM else None)
    np.testing.assert_allclose(output, out_ref, rtol=1e-12, atol=1e-12)
    h_n = final[0] if cls is mg.LSTM else final
    np.testing.assert_allclose(h_n[0], h_ref, rtol=1e-12, atol=1e-12)
    if cls is mg.LSTM:
        np.testing.assert_allclose(final[1][0], c_ref, rtol=1e-12, atol=1e-12)
    check_grads(lambda m, x: m(x)[0], (layer, x[:3, :1]), order=1)
    check_grads(lambda x: layer(x)[0], (x[:3, :1],), order=2, modes=("rev",))


def test_parameter_names_layouts_and_what_calls_return():
    lstm = mg.LSTM(3, 5, num_layers=2, bidirectional=True, batch_first=True, key=mg.random.key(0))
    names = sorted(k for k in vars(lstm) if k.startswith(("weight_", "bias_")))
    expected = sorted(f"{kind}_{m}_l{layer}{suffix}" for kind, m in (("weight", "ih"), ("weight", "hh"), ("bias", "ih"),
                                                                       ("bias", "hh"))
                      for layer in range(2) for suffix in ("", "_reverse"))
    assert names == expected
    assert lstm.weight_ih_l0.shape == (20, 3) and lstm.weight_ih_l1.shape == (20, 10) and lstm.weight_hh_l1_reverse.shape == (20, 5)
    assert lstm.weight_ih_l0.dtype == np.float32 and np.abs(lstm.weight_hh_l0.data).max() <= 1 / np.sqrt(5)
    output, (h_n, c_n) = lstm(np.zeros((4, 7, 3), np.float32))
    assert output.shape == (4, 7, 10) and h_n.shape == (4, 4, 5) and c_n.shape == (4, 4, 5)
    rnn = mg.RNN(3, 2, nonlinearity="relu", bias=False, key=mg.random.key(0))
    out, h = rnn(np.ones((6, 3), np.float32))  # unbatched: (L, H_in)
    assert out.shape == (6, 2) and h.shape == (1, 2) and not hasattr(rnn, "bias_ih_l0")
    assert np.all(np.asarray(out) >= 0)
    assert repr(mg.GRU(3, 4, num_layers=2, batch_first=True)) == "GRU(3, 4, num_layers=2, batch_first=True)"


def test_eager_functional_and_jit_agree():
    gru = mg.GRU(3, 4, num_layers=2, key=mg.random.key(2))
    x = rng.normal(size=(6, 2, 3)).astype(np.float32)

    def loss(model, x):
        out, h_n = model(x)
        return mnp.mean(out ** 2) + mnp.sum(h_n)

    value, grads = mg.value_and_grad(loss)(gru, x)
    jitted = mg.jit(mg.value_and_grad(loss), strict=True)
    j_value, j_grads = jitted(gru, x)
    np.testing.assert_allclose(j_value, value, rtol=1e-5)
    for a, b in zip(mg.tree.leaves(j_grads), mg.tree.leaves(grads)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    eager = loss(gru, mg.tensor(x))
    eager.backward()
    np.testing.assert_allclose(eager.item(), value, rtol=1e-6)
    for name in ("weight_ih_l0", "weight_hh_l1", "bias_hh_l0"):
        np.testing.assert_allclose(getattr(gru, name).grad.data, getattr(grads, name), rtol=1e-5, atol=1e-7)
    assert "# scan" in jitted.lower(gru, x).as_text()


def test_matches_pytorch_where_installed():
    torch = pytest.importorskip("torch")
    for cls, kwargs in [(mg.LSTM, dict(num_layers=2, bidirectional=True, batch_first=True)),
                        (mg.GRU, dict(num_layers=2)), (mg.RNN, dict(nonlinearity="relu", bidirectional=True))]:
        ours = cls(3, 4, key=mg.random.key(3), dtype=np.float64, **kwargs)
        theirs = getattr(torch.nn, cls.__name__)(3, 4, dtype=torch.float64, **kwargs)
        with torch.no_grad():
            for name, p in theirs.named_parameters():
                p.copy_(torch.from_numpy(np.asarray(getattr(ours, name))))
        x = rng.normal(size=(2, 5, 3) if kwargs.get("batch_first") else (5, 2, 3))
        out, _ = ours(x)
        t_out, _ = theirs(torch.from_numpy(x))
        np.testing.assert_allclose(out, t_out.detach().numpy(), rtol=1e-10, atol=1e-12)
        grads = mg.grad(lambda m: mnp.sum(m(x)[0] ** 2))(ours)
        (t_out ** 2).sum().backward()
        for name, p in theirs.named_parameters():
            np.testing.assert_allclose(getattr(grads, name), p.grad.numpy(), rtol=1e-9, atol=1e-11, err_msg=name)


def test_bad_input_is_named():
    lstm = mg.LSTM(3, 4, key=mg.random.key(0))
    with pytest.raises(mg.ShapeError, match=r"LSTM\(input_size=3\) got inputs with 2 features \(shape \(5, 1, 2\)\)"):
        lstm(np.zeros((5, 1, 2), np.float32))
    with pytest.raises(mg.ShapeError, match=r"expects a sequence of shape \(L, 3\) or a batch \(L, N, 3\)"):
        lstm(np.zeros(3, np.float32))
    with pytest.raises(TypeError, match=r"initial state is a pair \(h_0, c_0\)"):
        lstm(np.zeros((5, 1, 3), np.float32), np.zeros((1, 1, 4), np.float32))
    with pytest.raises(mg.ShapeError, match=r"h_0 must have shape \(1, 2, 4\)"):
        mg.GRU(3, 4)(np.zeros((5, 2, 3), np.float32), np.zeros((1, 3, 4), np.float32))
    with pytest.raises(ValueError, match="nonlinearity must be 'tanh' or 'relu'"):
        mg.RNN(3, 4, nonlinearity="sigmoid")
