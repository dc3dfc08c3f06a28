"""Tests for dagforge.graph: DAG checks, threshold_to_dag, CPDAGs, converters, files."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from dagforge.errors import GraphError
from dagforge.graph import (
    align_graphs,
    dag_to_cpdag,
    from_lingam,
    from_networkx,
    is_dag,
    read_adjacency,
    read_edge_list,
    read_graph,
    threshold_to_dag,
    to_lingam,
    to_networkx,
    topological_order,
    write_adjacency,
    write_edge_list,
)

CHAIN = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]])  # 0 -> 1 -> 2
FORK = np.array([[0, 1, 1], [0, 0, 0], [0, 0, 0]])  # 1 <- 0 -> 2
COLLIDER = np.array([[0, 0, 1], [0, 0, 1], [0, 0, 0]])  # 0 -> 2 <- 1


def test_convention_row_is_parent() -> None:
    W = np.zeros((3, 3))
    W[0, 2] = 1.5  # 0 -> 2
    G = to_networkx(W, ["a", "b", "c"])
    assert list(G.edges(data="weight")) == [("a", "c", 1.5)]
    assert topological_order(W).index(0) < topological_order(W).index(2)


def test_is_dag() -> None:
    assert is_dag(CHAIN)
    assert is_dag(np.zeros((4, 4)))
    assert is_dag(np.zeros((0, 0)))
    assert not is_dag(CHAIN + CHAIN.T)
    assert not is_dag(np.eye(3))  # self-loops are cycles
    three_cycle = np.array([[0, 1, 0], [0, 0, 1], [1, 0, 0]])
    assert not is_dag(three_cycle)


def test_topological_order() -> None:
    assert topological_order(CHAIN) == [0, 1, 2]
    assert topological_order(CHAIN.T) == [2, 1, 0]
    with pytest.raises(GraphError, match="cycle"):
        topological_order(CHAIN + CHAIN.T)


def test_not_square_is_an_error() -> None:
    with pytest.raises(GraphError, match="square"):
        is_dag(np.zeros((2, 3)))


def test_threshold_to_dag_removes_weakest_edge_of_cycle() -> None:
    W = np.array([[0.0, 2.0, 0.0], [0.0, 0.0, 1.0], [0.5, 0.0, 0.0]])  # 3-cycle
    out = threshold_to_dag(W, 0.0)
    expected = W.copy()
    expected[2, 0] = 0.0  # |0.5| is the weakest on the cycle
    np.testing.assert_array_equal(out, expected)


def test_threshold_to_dag_threshold_and_diagonal() -> None:
    W = np.array([[3.0, 0.2, -0.4], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    out = threshold_to_dag(W, 0.3)
    np.testing.assert_array_equal(out, [[0, 0, -0.4], [0, 0, 0], [0, 0, 0]])
    assert W[0, 0] == 3.0  # input untouched


def test_threshold_to_dag_keeps_acyclic_input() -> None:
    rng = np.random.default_rng(0)
    W = np.triu(rng.normal(size=(6, 6)), k=1)
    np.testing.assert_array_equal(threshold_to_dag(W, 0.0), W)


def test_threshold_to_dag_rejects_nan() -> None:
    with pytest.raises(GraphError, match="NaN"):
        threshold_to_dag(np.array([[0, np.nan], [0, 0]]), 0.1)


@settings(max_examples=150, deadline=None)
@given(
    arrays(
        np.float64,
        st.integers(1, 9).map(lambda d: (d, d)),
        elements=st.floats(-3, 3, allow_nan=False, allow_subnormal=False),
    ),
    st.floats(0, 2),
)
def test_threshold_to_dag_always_returns_dag(W: np.ndarray, thr: float) -> None:
    out = threshold_to_dag(W, thr)
    assert is_dag(out)
    kept = out != 0
    assert np.all(np.abs(W[kept]) >= thr)  # only edges above the threshold survive
    assert np.all(out[kept] == W[kept])  # with their weights unchanged


def test_cpdag_textbook_cases() -> None:
    sym = lambda M: ((M + M.T) > 0).astype(int)  # noqa: E731
    np.testing.assert_array_equal(dag_to_cpdag(CHAIN), sym(CHAIN))  # chain: undirected
    np.testing.assert_array_equal(dag_to_cpdag(FORK), sym(FORK))  # fork: undirected
    np.testing.assert_array_equal(dag_to_cpdag(COLLIDER), COLLIDER)  # v-structure kept


def test_cpdag_meek_rule_1() -> None:
    # 0 -> 2 <- 1 and 2 -> 3: the collider forces 2 -> 3 (R1).
    B = np.zeros((4, 4), dtype=int)
    B[0, 2] = B[1, 2] = B[2, 3] = 1
    np.testing.assert_array_equal(dag_to_cpdag(B), B)


def test_cpdag_meek_rule_2() -> None:
    # 0 -> 1, 1 -> 2, 0 -> 2, 3 -> 1 with 3 not adjacent to 0: collider 0 -> 1 <- 3,
    # then R2 orients 0 -> 2 via 0 -> 1 -> 2 after R1 gives 1 -> 2.
    B = np.zeros((4, 4), dtype=int)
    B[0, 1] = B[1, 2] = B[0, 2] = B[3, 1] = 1
    C = dag_to_cpdag(B)
    np.testing.assert_array_equal(C, B)


def test_cpdag_meek_rule_3() -> None:
    # Kite: a - c, a - e, c -> b <- e (c, e non-adjacent), a - b  =>  a -> b.
    a, b, c, e = 0, 1, 2, 3
    B = np.zeros((4, 4), dtype=int)
    B[a, c] = B[a, e] = B[c, b] = B[e, b] = B[a, b] = 1
    C = dag_to_cpdag(B)
    assert C[c, b] == 1 and C[b, c] == 0
    assert C[e, b] == 1 and C[b, e] == 0
    assert C[a, b] == 1 and C[b, a] == 0  # R3
    assert C[a, c] == 1 and C[c, a] == 1  # reversible
    assert C[a, e] == 1 and C[e, a] == 1


def test_cpdag_is_invariant_within_class() -> None:
    # Reversing a covered edge of a chain keeps the class (0 <- 1 -> 2 vs 0 -> 1 -> 2).
    other = np.array([[0, 0, 0], [1, 0, 1], [0, 0, 0]])
    np.testing.assert_array_equal(dag_to_cpdag(CHAIN), dag_to_cpdag(other))


def test_networkx_round_trip() -> None:
    W = np.array([[0, 0.7, 0], [0, 0, -1.2], [0, 0, 0]])
    names = ["a", "b", "c"]
    G = to_networkx(W, names)
    assert set(G.nodes) == set(names)
    W2, names2 = from_networkx(G, names)
    np.testing.assert_array_equal(W, W2)
    assert names2 == names
    G2 = nx.DiGraph([("b", "a")])
    W3, names3 = from_networkx(G2, ["a", "b"])
    assert W3[1, 0] == 1.0 and names3 == ["a", "b"]


def test_lingam_round_trip() -> None:
    W = np.array([[0, 2.0], [0, 0]])  # x0 -> x1
    B = to_lingam(W)
    assert B[1, 0] == 2.0  # lingam: B[child, parent]
    np.testing.assert_array_equal(from_lingam(B), W)


def test_align_graphs_union_of_names() -> None:
    W1 = np.array([[0, 1], [0, 0]])
    W2 = np.array([[0, 1], [0, 0]])
    A, B, names = align_graphs(W1, ["a", "b"], W2, ["b", "c"])
    assert names == ["a", "b", "c"]
    assert A[0, 1] == 1 and A.sum() == 1
    assert B[1, 2] == 1 and B.sum() == 1


def test_edge_list_round_trip(tmp_path) -> None:
    W = np.array([[0, 0.5, 0], [0, 0, -2.0], [0, 0, 0]])
    names = ["Raf", "Mek", "Erk"]
    p = tmp_path / "edges.csv"
    write_edge_list(p, W, names)
    assert p.read_text().splitlines()[0] == "source,target,weight"
    W2, n2 = read_edge_list(p)
    np.testing.assert_array_equal(W2, W)
    assert n2 == names
    W3, n3 = read_graph(p, names=["Erk", "Mek", "Raf"])
    assert n3 == ["Erk", "Mek", "Raf"] and W3[2, 1] == 0.5


def test_adjacency_round_trip(tmp_path) -> None:
    W = np.array([[0, 1.5], [0, 0]])
    p = tmp_path / "adj.csv"
    write_adjacency(p, W, ["a b", "c,d"])  # names needing quotes
    W2, n2 = read_graph(p)
    np.testing.assert_array_equal(W2, W)
    assert n2 == ["a b", "c,d"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("source,target\na,a\n", "self-loop"),
        ("source,target\na,b\na,b\n", "duplicate edge"),
        ("source,target,weight\na,b,x\n", "not a number"),
        ("source,target\na\n", "expected 2 fields"),
        ("from,to\na,b\n", None),  # not an edge list: read as a (bad) adjacency
        (",a,b\na,0,1\n", "not square"),
        (",a,b\na,0,1\nc,0,0\n", "same variables"),
        (",a,b\na,1,1\nb,0,0\n", "self-loop"),
        ("", "empty"),
    ],
)
def test_bad_graph_files(tmp_path, content: str, message: str | None) -> None:
    p = tmp_path / "g.csv"
    p.write_text(content)
    with pytest.raises(GraphError, match=message):
        read_graph(p)


def test_unknown_node_name(tmp_path) -> None:
    p = tmp_path / "g.csv"
    p.write_text("source,target\na,zz\n")
    with pytest.raises(GraphError, match="unknown node 'zz'"):
        read_edge_list(p, names=["a", "b"])


def test_missing_graph_file(tmp_path) -> None:
    with pytest.raises(GraphError, match="not found"):
        read_graph(tmp_path / "nope.csv")
    with pytest.raises(GraphError, match="directory"):
        read_adjacency(tmp_path)
