"""Tests for dagforge.metrics.shd: every expected value below is worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dagforge.errors import GraphError
from dagforge.metrics import (
    evaluate,
    precision_recall_f1,
    shd,
    shd_cpdag,
    shd_double,
    skeleton_precision_recall_f1,
    tpr_fdr_fpr,
)
from helpers import CHAIN, CHAIN_REV, COLLIDER, EMPTY3, EVALUATE_KEYS, FORK, TRIANGLE, counts, graph


def test_mixed_example_from_docstrings() -> None:
    # truth 0 -> 1 -> 2; prediction 1 -> 0 (reversed), 0 -> 2 (extra); 1 -> 2 missing
    pred = graph(3, (1, 0), (0, 2))
    assert counts(CHAIN, pred) == (0, 2, 2, 1, 1, 1)
    assert shd(true=CHAIN, pred=pred) == 3
    assert shd_double(true=CHAIN, pred=pred) == 4


def test_precision_recall_example() -> None:
    # prediction 0 -> 1 (right), 2 -> 1 (reversed): tp 1, fp 1, fn 1
    pred = graph(3, (0, 1), (2, 1))
    assert precision_recall_f1(true=CHAIN, pred=pred) == (0.5, 0.5, 0.5)


def test_skeleton_example() -> None:
    # skeleton tp {0,1} {1,2}, fp {0,2}, fn none -> 2/3, 1, 2*2/(4+1) = 0.8
    pred = graph(3, (0, 1), (2, 1), (0, 2))
    p, r, f = skeleton_precision_recall_f1(true=CHAIN, pred=pred)
    assert p == pytest.approx(2 / 3)
    assert r == 1.0
    assert f == pytest.approx(0.8)


def test_tpr_fdr_fpr_example() -> None:
    # d = 4, truth 0->1->2, prediction 0->1, 2->1 (reversed), 0->3 (extra)
    true = graph(4, (0, 1), (1, 2))
    pred = graph(4, (0, 1), (2, 1), (0, 3))
    tpr, fdr, fpr = tpr_fdr_fpr(true=true, pred=pred)
    assert tpr == 0.5  # 1 of 2 true edges, the reversed one excluded
    assert fdr == pytest.approx(2 / 3)  # (1 reversed + 1 extra) / 3 predicted
    assert fpr == 0.5  # 2 / (4*3/2 - 2)


# --------------------------------------------------------------------------- edge cases


def test_empty_prediction() -> None:
    m = evaluate(true=TRIANGLE, pred=EMPTY3)
    assert set(m) == EVALUATE_KEYS
    assert (m["shd"], m["shd_double"], m["missing"], m["extra"], m["reversed"]) == (3, 3, 3, 0, 0)
    assert (m["tp"], m["fp"], m["fn"], m["nnz"], m["true_edges"]) == (0, 0, 3, 0, 3)
    for key in ("precision", "recall", "f1", "skeleton_precision", "skeleton_recall",
                "skeleton_f1", "tpr", "fdr", "fpr"):  # fmt: skip
        assert m[key] == 0.0, key
    assert m["is_dag"] is True
    # the complete DAG has no v-structure: its CPDAG is 3 undirected edges, all missing
    assert m["shd_cpdag"] == 3


def test_empty_truth() -> None:
    pred = graph(3, (0, 1))
    m = evaluate(true=EMPTY3, pred=pred)
    assert (m["shd"], m["extra"], m["tp"], m["fp"], m["fn"]) == (1, 1, 0, 1, 0)
    # 0/0 recall is defined as 0, and so is F1
    assert (m["precision"], m["recall"], m["f1"]) == (0.0, 0.0, 0.0)
    assert m["tpr"] == 0.0
    assert m["fdr"] == 1.0  # 1 wrong / 1 predicted
    assert m["fpr"] == pytest.approx(1 / 3)  # 1 / (3 - 0)
    assert m["shd_cpdag"] == 1


def test_both_empty() -> None:
    m = evaluate(true=EMPTY3, pred=EMPTY3)
    assert m["shd"] == m["shd_double"] == m["shd_cpdag"] == 0
    assert m["precision"] == m["recall"] == m["f1"] == 0.0
    assert not any(isinstance(v, float) and math.isnan(v) for v in m.values())


def test_identical_graphs() -> None:
    m = evaluate(true=TRIANGLE, pred=TRIANGLE * 0.7)
    assert m["shd"] == m["shd_double"] == m["shd_cpdag"] == 0
    assert m["precision"] == m["recall"] == m["f1"] == 1.0
    assert m["skeleton_f1"] == 1.0
    assert (m["tpr"], m["fdr"], m["fpr"]) == (1.0, 0.0, 0.0)


def test_fully_reversed_chain() -> None:
    m = evaluate(true=CHAIN, pred=CHAIN_REV)
    assert (m["shd"], m["reversed"], m["extra"], m["missing"]) == (2, 2, 0, 0)
    assert m["shd_double"] == 4
    assert (m["tp"], m["fp"], m["fn"]) == (0, 2, 2)
    assert (m["precision"], m["recall"], m["f1"]) == (0.0, 0.0, 0.0)
    assert m["skeleton_f1"] == 1.0
    assert m["fdr"] == 1.0
    assert m["fpr"] == 2.0  # NOTEARS: (2 reversed + 0 extra) / max(3 - 2, 1)
    assert m["shd_cpdag"] == 0  # a reversed chain is Markov equivalent


def test_fully_reversed_collider() -> None:
    # 0 -> 1 <- 2 reversed is the fork 0 <- 1 -> 2: not equivalent
    m = evaluate(true=COLLIDER, pred=FORK)
    assert (m["shd"], m["reversed"], m["shd_double"]) == (2, 2, 4)
    assert m["shd_cpdag"] == 2


def test_two_cycle_over_a_true_edge_is_extra() -> None:
    pred = graph(3, (0, 1), (1, 0))
    true = graph(3, (0, 1))
    assert counts(true, pred) == (1, 1, 0, 1, 0, 0)
    m = evaluate(true=true, pred=pred)
    assert (m["shd"], m["shd_double"]) == (1, 1)
    assert (m["precision"], m["recall"]) == (0.5, 1.0)
    assert m["f1"] == pytest.approx(2 / 3)
    assert m["fdr"] == 0.5
    assert m["is_dag"] is False
    assert math.isnan(m["shd_cpdag"])
    with pytest.raises(GraphError, match="cycle"):
        shd_cpdag(true=true, pred=pred)


def test_two_cycle_on_a_non_edge() -> None:
    pred = graph(3, (1, 2), (2, 1))
    true = graph(3, (0, 1))
    # pair {1,2}: extra (one pair); pair {0,1}: missing; two wrong directed edges
    assert counts(true, pred) == (0, 2, 1, 1, 1, 0)
    assert shd(true=true, pred=pred) == 2
    assert shd_double(true=true, pred=pred) == 3
    _, fdr, fpr = tpr_fdr_fpr(true=true, pred=pred)
    assert fdr == 1.0  # 2 wrong / 2 predicted (not (0 + 1) / 2)
    assert fpr == 1.0  # 2 / (3 - 1)


def test_true_two_cycle_predicted_one_way_is_missing() -> None:
    true = graph(2, (0, 1), (1, 0))
    assert counts(true, graph(2, (0, 1))) == (1, 0, 1, 0, 1, 0)
    m = evaluate(true=true, pred=graph(2, (0, 1)))
    assert m["shd"] == 1
    assert m["is_dag"] is True
    assert math.isnan(m["shd_cpdag"])  # the truth has no CPDAG


def test_reversed_alone() -> None:
    assert counts(graph(2, (0, 1)), graph(2, (1, 0))) == (0, 1, 1, 0, 0, 1)


def test_weights_and_signs_are_ignored() -> None:
    pred = np.array([[0.0, -0.01, 0.0], [0.0, 0.0, 3.5], [0.0, 0.0, 0.0]])
    assert shd(true=CHAIN, pred=pred) == 0
    assert shd(true=CHAIN.astype(bool), pred=pred) == 0


# --------------------------------------------------------------------------- CPDAG


@pytest.mark.parametrize(
    ("true", "pred", "expected_shd", "expected_cpdag"),
    [
        (CHAIN, FORK, 1, 0),  # both are 0 - 1 - 2
        (CHAIN, CHAIN_REV, 2, 0),
        (CHAIN, COLLIDER, 1, 2),  # 0 - 1 - 2 vs 0 -> 1 <- 2: both pairs differ
        (COLLIDER, COLLIDER, 0, 0),
        (FORK, COLLIDER, 2, 2),
        (COLLIDER, graph(3, (0, 1)), 1, 2),  # pred CPDAG 0 - 1: {0,1} differs, {1,2} missing
    ],
)
def test_shd_cpdag_small(
    true: np.ndarray, pred: np.ndarray, expected_shd: int, expected_cpdag: int
) -> None:
    assert shd(true=true, pred=pred) == expected_shd
    assert shd_cpdag(true=true, pred=pred) == expected_cpdag


def test_shd_cpdag_compelled_edge() -> None:
    # 0 -> 2 <- 1 and 2 -> 3: all compelled (R1 orients 2 -> 3). Flipping 2 -> 3 makes
    # the new v-structures 0 -> 2 <- 3, 1 -> 2 <- 3: one mark differs ({2, 3}).
    true = graph(4, (0, 2), (1, 2), (2, 3))
    pred = graph(4, (0, 2), (1, 2), (3, 2))
    assert shd_cpdag(true=true, pred=pred) == 1
    # dropping the edge 0 -> 2 leaves 1 - 2 - 3 undirected: {0,2} missing, {1,2}, {2,3} marks
    assert shd_cpdag(true=true, pred=graph(4, (1, 2), (2, 3))) == 3



# --------------------------------------------------------------------------- properties


def _reference_counts(B: np.ndarray, P: np.ndarray) -> dict[str, float]:
    """Independent loop implementation: pair marks and NOTEARS' count_accuracy formulas."""
    d = B.shape[0]
    extra = missing = rev = 0
    for i in range(d):
        for j in range(i + 1, d):
            t = {e for e, on in (("f", B[i, j]), ("b", B[j, i])) if on}
            p = {e for e, on in (("f", P[i, j]), ("b", P[j, i])) if on}
            if t == p:
                continue
            if t < p:
                extra += 1
            elif p < t:
                missing += 1
            else:
                rev += 1
    true_edges = [(i, j) for i in range(d) for j in range(d) if B[i, j]]
    pred_edges = [(i, j) for i in range(d) for j in range(d) if P[i, j]]
    tp = sum(1 for e in pred_edges if e in true_edges)
    wrong = len(pred_edges) - tp  # NOTEARS' reverse + false_pos
    return {
        "shd": extra + missing + rev,
        "extra": extra,
        "missing": missing,
        "reversed": rev,
        "tpr": tp / max(len(true_edges), 1),
        "fdr": wrong / max(len(pred_edges), 1),
        "fpr": wrong / max(d * (d - 1) / 2 - len(true_edges), 1),
    }


@st.composite
def graph_pairs(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    d = draw(st.integers(1, 6))
    cells = st.lists(st.booleans(), min_size=d * d, max_size=d * d)
    B = np.array(draw(cells), dtype=bool).reshape(d, d)
    P = np.array(draw(cells), dtype=bool).reshape(d, d)
    np.fill_diagonal(B, False)
    np.fill_diagonal(P, False)
    return B.astype(int), P.astype(float)


@settings(max_examples=150, deadline=None)
@given(graph_pairs())
def test_counts_match_reference(pair: tuple[np.ndarray, np.ndarray]) -> None:
    B, P = pair
    m = evaluate(true=B, pred=P)
    ref = _reference_counts(B, P)
    for key, value in ref.items():
        assert m[key] == pytest.approx(value), key
    assert m["tp"] + m["fn"] == m["true_edges"]
    assert m["tp"] + m["fp"] == m["nnz"]
    assert m["shd_double"] == int(np.sum(B != (P != 0)))
    assert m["shd"] <= m["shd_double"] <= 2 * m["shd"]
    assert m["tpr"] == m["recall"]
    assert m["fdr"] == pytest.approx(1 - m["precision"] if m["nnz"] else 0.0)
    # swapping the roles swaps extra and missing, keeps the SHDs
    s = evaluate(true=P, pred=B)
    assert (s["shd"], s["shd_double"]) == (m["shd"], m["shd_double"])
    assert (s["extra"], s["missing"]) == (m["missing"], m["extra"])
    assert shd(true=B, pred=B) == 0


# --------------------------------------------------------------------------- interventional


def _class_by_enumeration(B: np.ndarray, targets: list[list[int]]) -> np.ndarray:
    """The I-essential graph from its definition: every DAG of B's Markov class that
    orients each edge cut by a target set as B does; an edge is directed iff all agree."""
    import itertools

    from dagforge.graph import dag_to_cpdag, is_dag

    C = dag_to_cpdag(B)
    und = [(i, j) for i, j in zip(*np.nonzero(np.triu(C & C.T)), strict=True)]
    base = (C == 1) & (C.T == 0)
    cut = np.zeros_like(base)
    for T in targets:
        inside = np.isin(np.arange(len(B)), T)
        cut |= (B != 0) & (inside[:, None] != inside[None, :])
    members = []
    for bits in itertools.product([0, 1], repeat=len(und)):
        D = base.copy()
        for (i, j), b in zip(und, bits, strict=True):
            D[(i, j) if b else (j, i)] = True
        if is_dag(D) and (dag_to_cpdag(D) == C).all() and (D[cut] == 1).all():
            members.append(D)
    # i -> j in every member: directed; in some, j -> i in others: undirected
    return np.any(members, axis=0).astype(int)


@settings(max_examples=60, deadline=None)
@given(st.integers(4, 7), st.integers(0, 2**31 - 1), st.integers(0, 3))
def test_icpdag_matches_the_class_enumerated(d: int, seed: int, n_targets: int) -> None:
    from dagforge.graph import dag_to_icpdag

    rng = np.random.default_rng(seed)
    B = np.triu(rng.random((d, d)) < 0.5, k=1).astype(int)
    perm = rng.permutation(d)
    B = B[np.ix_(perm, perm)]
    targets = [list(rng.choice(d, size=int(rng.integers(1, 3)), replace=False))
               for _ in range(n_targets)]
    want = _class_by_enumeration(B, targets)
    assert (dag_to_icpdag(B, targets) == want).all()


def test_shd_icpdag_counts_what_the_experiments_orient() -> None:
    from dagforge.metrics import shd_icpdag

    assert shd_icpdag(true=CHAIN, pred=CHAIN_REV, targets=[]) == 0  # one class
    assert shd_icpdag(true=CHAIN, pred=CHAIN_REV, targets=[[1]]) == 2
    # target 2 cuts 1 - 2; in the reversal 2 -> 1 - 0 then orients 1 -> 0 (R1), in the
    # chain 0 - 1 stays undirected: both pairs differ
    assert shd_icpdag(true=CHAIN, pred=CHAIN_REV, targets=[[2]]) == 2
    assert shd_icpdag(true=CHAIN, pred=CHAIN, targets=[[0], [2]]) == 0
