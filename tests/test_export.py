"""Graph export: every format round-trips weights and names; other tools' encodings."""

from __future__ import annotations

import json
import re
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from dagforge import export
from dagforge.cli import main
from dagforge.errors import GraphError
from dagforge.graph import dag_to_cpdag, read_adjacency

#: Names that need quoting or escaping somewhere: quotes, backslash, line break, unicode,
#: DOT keywords, numbers, markup, and the strings DoWhy's format detection looks for.
NAMES = ['a "quoted" name', "α β", "x\\y", "line\nbreak", "node", "42", "c&d;<e>",
         "file.dot", "graph {1}", "日本", "plain"]


def _graph(d: int = len(NAMES), seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    W = np.triu(rng.normal(size=(d, d)) * (rng.random((d, d)) < 0.4), 1)
    W[0, 1], W[2, 3] = 1.0, -0.5  # a unit weight and a negative one
    W[:, -1] = W[-1, :] = 0.0  # an isolated node
    perm = rng.permutation(d)
    return W[np.ix_(perm, perm)]  # not upper-triangular in the names' order


TEXT_FORMATS = ["graphml", "gml", "dot", "json"]


@pytest.mark.parametrize("fmt", TEXT_FORMATS)
def test_text_formats_round_trip_weights_and_names(fmt: str) -> None:
    W = _graph()
    text = getattr(export, f"to_{fmt}")(W, NAMES)
    W2, names2 = getattr(export, f"from_{fmt}")(text)
    assert names2 == NAMES
    assert np.array_equal(W2, W)


@pytest.mark.parametrize("suffix", [".graphml", ".gml", ".dot", ".gv", ".json", ".csv"])
def test_write_graph_and_read_graph_by_suffix(tmp_path: Path, suffix: str) -> None:
    W = _graph()
    path = tmp_path / f"g{suffix}"
    fmt = export.write_graph(path, W, NAMES)
    assert fmt == export.format_for(path)
    W2, names2 = export.read_graph(path)
    if fmt == "edges":  # an edge list names only the nodes with edges, in order of use
        assert set(names2) <= set(NAMES)
        idx = [NAMES.index(n) for n in names2]
        assert np.array_equal(W2, W[np.ix_(idx, idx)])
    else:
        assert names2 == NAMES and np.array_equal(W2, W)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary files left


def test_adjacency_csv_format_and_format_errors(tmp_path: Path) -> None:
    W = _graph()
    path = tmp_path / "adj.csv"
    assert export.write_graph(path, W, NAMES, format="adjacency") == "adjacency"
    W2, names2 = export.read_graph(path)
    assert names2 == NAMES and np.array_equal(W2, W)
    with pytest.raises(GraphError, match="cannot tell the graph format"):
        export.write_graph(tmp_path / "g.xyz", W, NAMES)
    with pytest.raises(GraphError, match="unknown graph format"):
        export.write_graph(tmp_path / "g.gml", W, NAMES, format="pdf")
    with pytest.raises(GraphError, match="duplicate variable name"):
        export.write_graph(tmp_path / "g.gml", W[:2, :2], ["a", "a"])
    with pytest.raises(GraphError, match="graph file not found"):
        export.read_graph(tmp_path / "missing.gml")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(GraphError, match=r"bad\.json: cannot parse JSON"):
        export.read_graph(tmp_path / "bad.json")


# --------------------------------------------------------------------------- GML / DoWhy


def _dowhy_route(graph: str) -> str:
    """Which branch DoWhy's CausalGraph takes for a graph string (its regexes, in order)."""
    if re.match(r".*\.dot", graph):
        return "dot file"
    if re.match(r".*\.gml", graph):
        return "gml file"
    if re.match(r".*graph\s*\{.*\}\s*", graph):
        return "dot string"
    if re.match(r".*graph\s*\[.*\]\s*", graph):
        return "gml string"
    return "error"


def test_gml_is_what_dowhy_reads() -> None:
    W = _graph()
    text = export.to_gml(W, NAMES)
    assert text.count("\n") == 1  # one line: DoWhy's GML regex does not cross lines
    assert _dowhy_route(text) == "gml string"
    G = nx.DiGraph(nx.parse_gml(text))  # what DoWhy does with it
    assert list(G.nodes) == NAMES
    assert {(u, v) for u, v in G.edges} == {(NAMES[i], NAMES[j]) for i, j in np.argwhere(W)}


def test_gml_in_dowhy_causal_model() -> None:
    dowhy = pytest.importorskip("dowhy")
    import pandas as pd

    W = np.zeros((3, 3))
    W[0, 1] = W[1, 2] = W[0, 2] = 1.0
    names = ["z", "t", "y"]
    df = pd.DataFrame(np.random.default_rng(0).normal(size=(50, 3)), columns=names)
    model = dowhy.CausalModel(data=df, treatment="t", outcome="y",
                              graph=export.to_gml(W, names).strip())
    assert set(model._graph._graph.edges) >= {("z", "t"), ("t", "y"), ("z", "y")}


def test_gml_reads_dowhy_style_string_ids_and_plain_ids() -> None:
    W, names = export.from_gml('graph [directed 1 node [id "x" label "x"] '
                               'node [id "y" label "y"] edge [source "x" target "y"]]')
    assert names == ["x", "y"] and W[0, 1] == 1.0
    W, names = export.from_gml("graph [ directed 1 node [ id 3 ] node [ id 7 ] "
                               "edge [ source 7 target 3 weight 2.5 ] ]")
    assert names == ["3", "7"] and W[1, 0] == 2.5
    with pytest.raises(GraphError, match="undirected"):
        export.from_gml("graph [ node [ id 0 label \"a\" ] ]")


# --------------------------------------------------------------------------- DOT


def test_dot_reads_hand_written_files() -> None:
    text = """// a comment
    strict digraph "G" {
      graph [rankdir=LR]; node [shape=box]
      rankdir = TB
      /* block
         comment */
      a -> b -> "c d" [weight=2];
      e;
      "c d" -> a_1 [coef=-0.25, label="x"]
      # a preprocessor-style line
    }"""
    W, names = export.from_dot(text)
    assert names == ["a", "b", "c d", "e", "a_1"]
    assert W[0, 1] == W[1, 2] == 2.0 and W[2, 4] == -0.25 and np.count_nonzero(W) == 3


@pytest.mark.parametrize(("text", "message"), [
    ("graph { a -- b }", "expected a 'digraph'"),
    ("digraph { a -- b }", "undirected edge"),
    ("digraph { subgraph s { a } }", "subgraphs are not supported"),
    ("digraph { a -> a }", "self-loop"),
    ("digraph { a -> b [coef=x] }", "is not a number"),
    ("digraph { a -> b ", "missing closing"),
    ("digraph { a:p -> b }", "ports are not supported"),
    ('digraph { "a":p -> b }', "ports are not supported"),
    ("digraph { a -> {b c} }", "subgraphs are not supported"),
    ("", "expected a 'digraph'"),
    ("digraph { a } digraph { b }", "expected one graph, found 2"),
    ("digraph { a -> b } x", r"cannot parse near 'x' \(line 1, column 20\)"),
    ("digraph { a -> b [coef] }", "is not a number"),
])
def test_dot_errors(text: str, message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(GraphError, match=message):
        export.from_dot(text)
    assert capsys.readouterr().out == ""  # pydot's own helper prints parse errors; we do not


def test_dot_weights_that_need_an_exponent_round_trip() -> None:
    pydot = pytest.importorskip("pydot")
    W = np.zeros((3, 3))
    W[0, 1], W[1, 2], W[0, 2] = 1e-7, -3.5e20, 2.5e-5  # not DOT numerals: written quoted
    text = export.to_dot(W, ["a", "b", "c"])
    assert 'coef="1e-07"' in text
    W2, names = export.from_dot(text)
    assert names == ["a", "b", "c"] and np.array_equal(W2, W)
    (P,) = pydot.graph_from_dot_data(text)
    assert len(P.get_edges()) == 3


def test_dot_double_dash_in_strings_and_comments_is_not_an_edge() -> None:
    text = 'digraph { "a--b" -> c [label=<x--y>]; /* -- */ c -> d // --\n}'
    W, names = export.from_dot(text)
    assert names == ["a--b", "c", "d"] and np.count_nonzero(W) == 2


def test_dot_escapes_names() -> None:
    text = export.to_dot(np.array([[0, 1.0], [0, 0]]), ['say "hi"', "back\\slash"])
    assert '"say \\"hi\\"" -> "back\\\\slash";' in text


def test_dot_is_read_by_pydot() -> None:
    pydot = pytest.importorskip("pydot")
    W = _graph()
    (P,) = pydot.graph_from_dot_data(export.to_dot(W, NAMES))
    assert len(P.get_edges()) == np.count_nonzero(W)
    assert len(P.get_nodes()) == len(NAMES)


# --------------------------------------------------------------------------- JSON


def test_json_layout_and_errors() -> None:
    W = np.array([[0, 0.5], [0, 0]])
    data = json.loads(export.to_json(W, ["α", "b"]))
    assert data == {"directed": True, "nodes": [{"id": "α"}, {"id": "b"}],
                    "edges": [{"source": "α", "target": "b", "weight": 0.5}]}
    for bad, message in [
        ({"nodes": [{"id": "a"}], "edges": [{"source": "a", "target": "z"}]}, "unknown node"),
        ({"nodes": [{"id": "a"}], "edges": [{"source": "a", "target": "a"}]}, "self-loop"),
        ({"nodes": [{"id": "a"}, {"id": "a"}]}, "duplicate"),
        ({"directed": False, "nodes": []}, "undirected"),
        ({"edges": []}, "'nodes' list"),
        ({"nodes": [{"name": "a"}]}, "no string 'id'"),
        ({"nodes": ["a", "b"], "edges": [{"source": "a", "target": "b", "weight": "x"}]},
         "has weight"),
    ]:
        with pytest.raises(GraphError, match=message):
            export.from_json(json.dumps(bad))


# --------------------------------------------------------------------------- other libraries


def test_networkx_and_lingam_round_trips() -> None:
    W = _graph()
    G = export.to_networkx(W, NAMES)
    W2, names2 = export.from_networkx(G)
    assert names2 == NAMES and np.array_equal(W2, W)
    B = export.to_lingam(W)
    assert np.array_equal(B, W.T)  # row = child
    assert np.array_equal(export.from_lingam(B), W)


def test_causallearn_encoding_of_a_dag_and_its_cpdag() -> None:
    # 0 -> 2 <- 1 (a collider, compelled), 2 -> 3 (compelled by R1), 3 - 4 ... in a chain
    W = np.zeros((5, 5))
    W[0, 2] = W[1, 2] = W[2, 3] = W[4, 3] = 0.7
    G = export.to_causallearn(W)
    assert G[2, 0] == 1 and G[0, 2] == -1  # i -> j: G[j, i] = 1, G[i, j] = -1
    assert np.count_nonzero(G) == 2 * 4
    assert np.array_equal(export.from_causallearn(G), (W != 0).astype(int))
    W2 = np.zeros((3, 3))
    W2[0, 1] = W2[1, 2] = 1.0  # a chain: its CPDAG is all undirected
    C = dag_to_cpdag(W2)
    G2 = export.to_causallearn(C)
    assert G2[0, 1] == G2[1, 0] == -1 and G2[1, 2] == G2[2, 1] == -1 and G2[0, 2] == 0
    assert np.array_equal(export.from_causallearn(G2), C)


@pytest.mark.parametrize(("G", "message"), [
    ([[0, 1], [1, 0]], "bidirected"),
    ([[0, 2], [1, 0]], "circle endpoint"),
    ([[0, 1], [0, 0]], "invalid endpoint pair"),
    ([[0, 3], [0, 0]], "must be -1, 0, 1 or 2"),
    ([[1, 0], [0, 0]], "non-zero diagonal"),
])
def test_causallearn_encodings_a_dag_cannot_hold(G: list, message: str) -> None:
    with pytest.raises(GraphError, match=message):
        export.from_causallearn(np.array(G))


def test_causallearn_general_graph_object() -> None:
    pytest.importorskip("causallearn")
    W = np.zeros((3, 3))
    W[0, 1] = W[1, 2] = W[2, 1] = 1.0  # a -> β, β - c
    names = ["a", "β", "c"]
    graph = export.to_causallearn_graph(W, names)
    assert np.array_equal(graph.graph, export.to_causallearn(W))
    C, names2 = export.from_causallearn_graph(graph)
    assert names2 == names and np.array_equal(C, (W != 0).astype(int))


# --------------------------------------------------------------------------- command line


def test_cli_export_round_trip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    W = _graph()
    src = tmp_path / "adjacency.csv"
    export.write_graph(src, W, NAMES, format="adjacency")
    for suffix in (".gml", ".graphml", ".dot", ".json"):
        out = tmp_path / f"g{suffix}"
        assert main(["export", str(src), "--to", str(out)]) == 0
        back = tmp_path / f"back{suffix}.csv"
        assert main(["export", str(out), "--to", str(back), "--format", "adjacency"]) == 0
        W2, names2 = read_adjacency(back)
        assert names2 == NAMES and np.array_equal(W2, W)
    odd = tmp_path / "graph.txt"
    odd.write_text(export.to_dot(W, NAMES))
    assert main(["export", str(odd), "--from-format", "dot", "--to", str(tmp_path / "o.json")]) == 0
    code = main(["export", str(src), "--to", str(tmp_path / "g.pdf")])
    err = capsys.readouterr().err
    assert code == 2 and "cannot tell the graph format" in err and err.count("\n") == 1
    assert not (tmp_path / "g.pdf").exists()
