"""dagforge.evaluation: baselines beside the model, the warnings, one fit's evaluation."""

from __future__ import annotations

import doctest
import math

import numpy as np

from dagforge import evaluation
from dagforge.evaluation import (
    VARSORTABILITY_WARNING,
    compute_baselines,
    evaluate_fit,
    random_dag,
    report_warnings,
    threshold_sweep,
)
from dagforge.graph import is_dag
from dagforge.metrics import evaluate
from helpers import FIVE_NODE, sample_five_node

# FIVE_NODE with one edge reversed and one extra
PRED = (FIVE_NODE != 0).astype(int)
PRED[0, 1], PRED[1, 0] = 0, 1
PRED[2, 4] = 1


def test_report_warnings() -> None:
    w = report_warnings({"shd": 4}, {"empty": {"shd": 4}, "random": {"shd": 9}},
                        adjacency=np.array([[0, 1], [1, 0]]))
    assert w[0].startswith("the output graph has a directed cycle")
    assert "does not beat the empty graph: SHD 4 vs 4" in w
    assert not any("random" in x for x in w)
    assert report_warnings({"shd": 1}, {"empty": {"shd": 4}}, varsortability=0.5) == []
    assert report_warnings(None, None, varsortability=math.nan) == []
    # NaN / null metrics (as read back from JSON) and bools are no value, not an error
    assert report_warnings({"shd": None}, {"empty": {"shd": 4}}) == []
    assert report_warnings({"shd": 5}, {"empty": {"shd": math.nan}, "x": {"shd": True}}) == []


def test_varsortability_warning_is_one_threshold() -> None:
    t = VARSORTABILITY_WARNING
    assert report_warnings(None, None, varsortability=t) == []  # strictly above warns
    (w,) = report_warnings(None, None, varsortability=min(t + 0.01, 1.0))
    assert f"> {t}:" in w and "try --standardize" in w


def test_random_dag_and_baselines() -> None:
    rng = np.random.default_rng(0)
    A = random_dag(6, 7, rng)
    assert A.sum() == 7 and is_dag(A) and not np.diag(A).any()
    assert random_dag(3, 10, rng).sum() == 3  # capped at d(d-1)/2
    X = sample_five_node(n=300)
    b = compute_baselines(X, FIVE_NODE, n_edges=5)
    assert list(b) == list(evaluation.BASELINE_METHODS)
    assert b["empty"]["shd"] == 5 and b["random"]["nnz"] == 5
    assert "auprc" in b["sortnregress"]
    # sortnregress needs n > d: skipped with a log message, not an error
    assert list(compute_baselines(X[:4], FIVE_NODE, n_edges=5)) == ["empty", "random"]


def test_evaluate_fit_puts_the_model_beside_the_baselines() -> None:
    X = sample_five_node(n=300)
    W = PRED * 0.8
    P = np.clip(W + 0.1, 0, 1)
    np.fill_diagonal(P, 0)
    m = evaluate_fit(X, FIVE_NODE, adjacency=PRED, W=W, seed=3, edge_probability=P)
    assert m["model"] == evaluate(true=FIVE_NODE, pred=PRED, scores=np.abs(W))
    assert m["baselines"] == compute_baselines(X, FIVE_NODE, n_edges=int(PRED.sum()), seed=3)
    assert m["beats_empty"] is (m["model"]["shd"] < m["baselines"]["empty"]["shd"])
    assert m["warnings"] == report_warnings(m["model"], m["baselines"], adjacency=PRED,
                                            varsortability=m["varsortability"])
    assert 0 <= m["varsortability"] <= 1 and 0 <= m["r2_sortability"] <= 1
    assert m["edge_probability"]["nnz"] == int((P >= 0.5).sum())
    assert "edge_probability" not in evaluate_fit(X, FIVE_NODE, adjacency=PRED, W=W)


def test_evaluate_fit_flags_a_model_no_better_than_the_empty_graph() -> None:
    X = sample_five_node(n=300)
    wrong = (FIVE_NODE.T != 0).astype(int)  # every edge reversed: SHD 5, as empty
    m = evaluate_fit(X, FIVE_NODE, adjacency=wrong, W=wrong.astype(float))
    assert m["beats_empty"] is False
    assert "does not beat the empty graph: SHD 5 vs 5" in m["warnings"]


def test_threshold_sweep_ends_at_the_empty_graph() -> None:
    W = FIVE_NODE * 0.9
    W[2, 0] = 0.05
    s = threshold_sweep(FIVE_NODE, W)
    assert len(set(map(len, s.values()))) == 1
    assert s["nnz"][0] == 6 and s["nnz"][-1] == 0 and s["shd"][-1] == 5
    assert s["threshold"] == sorted(s["threshold"])
    assert threshold_sweep(FIVE_NODE, W, n_points=3)["threshold"][-1] == s["threshold"][-1]


def test_docstring_examples() -> None:
    result = doctest.testmod(evaluation, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
