"""mg.viz.draw: DOT text for programs and eager tapes (checked without Graphviz), the .dot
fallback and its advice when Graphviz is missing, and real rendering when ``dot`` is installed."""
import re
import shutil

import numpy as np
import pytest

import micrograd as mg
import micrograd.numpy as mnp
from micrograd import viz

NODE = re.compile(r'^  (n\d+) \[shape=(record|ellipse), label="((?:[^"\\]|\\.)*)"(.*)\];$')
EDGE = re.compile(r"^  (n\d+) -> (n\d+);$")


def parse(text):
    """(nodes {id: (shape, label, attrs)}, edges [(a, b)]), checking every line is DOT we write."""
    lines = text.splitlines()
    assert lines[0] in ("digraph tape {", "digraph program {") and lines[-1] == "}"
    assert lines[1:3] == ["  rankdir=LR;", '  node [fontname="Helvetica", fontsize=11];']
    nodes, edges = {}, []
    for line in lines[3:-1]:
        if m := NODE.match(line):
            assert m.group(1) not in nodes
            nodes[m.group(1)] = (m.group(2), m.group(3), m.group(4))
        elif m := EDGE.match(line):
            edges.append((m.group(1), m.group(2)))
        else:
            pytest.fail(f"not a node or an edge: {line!r}")
    assert all(a in nodes and b in nodes for a, b in edges), "an edge to an undeclared node"
    return nodes, edges


def karpathy_expression():
    """The original micrograd's README example (its test_sanity_check)."""
    x = mg.tensor(-4.0, requires_grad=True)
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    y = h + q + q * x
    return x, y


def test_tape_of_scalars_shows_data_grad_and_op_per_node():
    x, y = karpathy_expression()
    y.backward(retain_graph=True)  # keep the tape to draw it with the leaf's gradient
    nodes, edges = parse(viz.draw(y))
    ops = [label for shape, label, _ in nodes.values() if shape == "ellipse"]
    assert sorted(ops) == sorted(["mul", "add", "add", "select", "mul", "add", "mul", "select", "add", "mul", "add"])
    records = {k: label for k, (shape, label, _) in nodes.items() if shape == "record"}
    assert "{ f64[] | data -4.0000 | grad 46.0000 }" in records.values()  # the leaf, with its gradient
    root = next(k for k, (_, label, attrs) in nodes.items() if "penwidth=2.5" in attrs)
    assert records[root] == "{ f64[] | data -20.0000 }"
    leaf = next(k for k, v in records.items() if "grad 46" in v)
    assert "#cfe2f3" in nodes[leaf][2]  # styled as an input
    constants = [k for k, (_, _, attrs) in nodes.items() if "dashed" in attrs]
    assert len(constants) == 6  # 2, 2, and the relu's condition and zero, twice
    # each op has one outgoing edge to its result; x feeds mul (2x), add (+ x), mul (z * x), mul (q * x)
    for k in (k for k, (shape, _, _) in nodes.items() if shape == "ellipse"):
        assert sum(a == k for a, _ in edges) == 1
    assert sum(a == leaf for a, _ in edges) == 4
    # 12 tensors and 6 constants; 9 two-operand ops and 2 selects (condition, value, 0) -> 9 * 3 + 2 * 4 edges
    assert len(records) == 18 and len(edges) == 35


def test_tape_of_arrays_shows_shapes_and_gradient_shapes():
    model = mg.Sequential([mg.Linear(3, 2, key=mg.random.key(0))])
    loss = (model(mg.tensor(np.ones((4, 3), np.float32))) ** 2).mean()
    loss.backward(retain_graph=True)
    nodes, edges = parse(viz.draw(loss))
    labels = [label for _, label, _ in nodes.values()]
    assert "{ f32[3,2] | grad f32[3,2] }" in labels and "{ f32[2] | grad f32[2] }" in labels
    assert "{ f32[4,3] }" in labels  # the input batch: a constant, no gradient
    assert {label for shape, label, _ in nodes.values() if shape == "ellipse"} >= {"matmul", "add", "reduce_sum[axes=(0, 1)]"}


def test_a_freed_tape_says_so():
    x = mg.tensor(2.0, requires_grad=True)
    y = x * x
    y.backward()
    nodes, edges = parse(viz.draw(y))
    assert ("ellipse", "mul\\n(inputs freed by backward)") in [(s, label) for s, label, _ in nodes.values()]
    assert len(nodes) == 2 and len(edges) == 1


def test_program_has_a_node_per_variable_and_per_equation():
    f = lambda x: mnp.sum(np.tanh(x) ** 2)  # noqa: E731
    program = mg.make_ir(mg.grad(f))(np.zeros(3))
    nodes, edges = parse(viz.draw(program))
    ellipses = [label for shape, label, _ in nodes.values() if shape == "ellipse"]
    assert ellipses == [e.prim.name + ("[" + " ".join(f"{k}={v}" for k, v in e.params.items()) + "]" if e.params else "")
                        for e in program.eqns]
    records = [label for shape, label, _ in nodes.values() if shape == "record"]
    # the names and types of print(program), one record per variable; constants: 2.0, k0, 1.0
    assert records == ["{ a | f64[3] }", "{ b | f64[3] }", "{ c | f64[3] }", "{ d | f64[] }", "{ 2.0:f64 }",
                       "{ e | f64[3] }", "{ k0 | f64[3] }", "{ f | f64[3] }", "{ g | f64[3] }", "{ 1.0:f64 }",
                       "{ h | f64[3] }", "{ i | f64[3] }"]
    assert str(program).splitlines()[-1] == "  in (i) }"
    output = next(k for k, (_, label, _) in nodes.items() if label == "{ i | f64[3] }")
    assert "penwidth=2.5" in nodes[output][2]
    # every equation: an edge per operand into its ellipse and one out to its variable
    assert len(edges) == sum(len(e.inputs) + 1 for e in program.eqns)


def test_labels_are_escaped():
    assert viz._escape('a{b}|<c>"d') == 'a\\{b\\}\\|\\<c\\>\\"d'
    assert viz._quote('say "hi"\nnow') == 'say \\"hi\\"\\nnow'
    program = mg.make_ir(lambda x: x[1:, None] * 2.0)(np.zeros((3, 2)))
    nodes, _ = parse(viz.draw(program))
    assert any(label.startswith("gather[") for _, label, _ in nodes.values())


def test_draw_rejects_other_values():
    with pytest.raises(TypeError, match=r"draw\(\) takes a Program \(mg.make_ir\(f\)\(\*args\)\) or an eager tensor, "
                                        r"got ndarray"):
        viz.draw(np.zeros(2))
    with pytest.raises(ValueError, match="format must be one of"):
        viz.draw(mg.tensor(1.0), "graph.svg", format="jpeg")


def test_without_graphviz_the_dot_file_is_written_with_advice(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    x, y = karpathy_expression()
    with pytest.warns(RuntimeWarning) as record:
        text = viz.draw(y, tmp_path / "graph.svg")
    message = str(record[0].message)
    dot_file = tmp_path / "graph.dot"
    assert dot_file.read_text() == text and not (tmp_path / "graph.svg").exists()
    assert f"dot -Tsvg {dot_file} -o {tmp_path / 'graph.svg'}" in message
    assert "apt-get install graphviz" in message and "brew install graphviz" in message
    with pytest.warns(RuntimeWarning, match="-Tpng"):  # a path without a suffix, format given
        viz.draw(y, tmp_path / "other", format="png")
    assert (tmp_path / "other.dot").exists()


def test_format_dot_writes_the_text_only(tmp_path):
    text = viz.draw(mg.tensor(1.0, requires_grad=True) * 3, tmp_path / "g.dot")
    assert (tmp_path / "g.dot").read_text() == text


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_rendering_with_graphviz(tmp_path):
    x, y = karpathy_expression()
    text = viz.draw(y, tmp_path / "graph.svg")
    svg = (tmp_path / "graph.svg").read_text()
    assert "<svg" in svg and "data &#45;20.0000" in svg and text.startswith("digraph tape")
    viz.draw(mg.make_ir(lambda x: mnp.sum(x * x))(np.ones(2)), tmp_path / "program", format="png")
    assert (tmp_path / "program.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not (tmp_path / "graph.dot").exists()
