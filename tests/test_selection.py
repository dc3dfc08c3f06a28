"""Tests for dagforge.selection: threshold rules and bootstrap stability."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import dagforge.resampling as rs
import dagforge.selection as sel
from dagforge.errors import ConfigError
from dagforge.estimator import DagLearner
from dagforge.graph import is_dag
from dagforge.simulate import simulate

TRUTH_NAMES = {"true", "truth", "B", "W_true", "true_graph", "B_true"}


def test_no_selection_function_takes_the_truth() -> None:
    for name in sel.__all__:
        obj = getattr(sel, name)
        target = obj.__init__ if inspect.isclass(obj) else obj
        params = set(inspect.signature(target).parameters)
        assert not params & TRUTH_NAMES, (name, params & TRUTH_NAMES)


def test_smallest_dag_threshold_by_hand() -> None:
    # 0 <-> 1 with weights 0.5 / 0.2, and 1 -> 2 at 0.1: the 2-cycle goes at t = 0.5
    # (keeping >= 0.2 still has it), so the smallest DAG threshold is 0.5
    W = np.array([[0, 0.5, 0], [0.2, 0, 0.1], [0, 0, 0]])
    assert sel.smallest_dag_threshold(W) == 0.5
    assert sel.smallest_dag_threshold(np.triu(W)) == 0.0
    # two equal strongest entries forming a cycle: nothing but the empty graph is a DAG
    t = sel.smallest_dag_threshold(np.array([[0, 1.0], [1.0, 0]]))
    assert t > 1.0


def test_threshold_candidates_are_sorted_values_of_w() -> None:
    W = np.array([[0, 0.3, -0.1], [0, 0, 0.7], [0.05, 0, 0]])
    assert sel.threshold_candidates(W).tolist() == [0.0, 0.05, 0.1, 0.3, 0.7]
    assert len(sel.threshold_candidates(np.random.default_rng(0).normal(size=(30, 30)), 10)) <= 11


def _chain_data(n: int = 1000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x0 = rng.normal(size=n)
    x1 = 1.0 * x0 + rng.normal(size=n)
    x2 = -1.0 * x1 + rng.normal(size=n)
    x3 = rng.normal(size=n)
    X = np.column_stack([x0, x1, x2, x3])
    W = np.zeros((4, 4))
    W[0, 1], W[1, 2] = 1.0, -1.0
    W[3, 0], W[2, 3], W[0, 2] = 0.05, 0.08, 0.02  # weak spurious entries, one making a cycle
    return X, W


@pytest.mark.parametrize("kind", ["linear", "nonlinear"])
def test_heldout_rule_drops_weak_spurious_edges(kind: str) -> None:
    X, W = _chain_data()
    res = sel.select_threshold(W, X, rule="heldout", kind=kind, rng=np.random.default_rng(1))
    assert is_dag(res.weights)
    assert (res.weights != 0).astype(int).tolist() == [
        [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 0], [0, 0, 0, 0]]
    assert res.threshold in res.scores and res.rule == "heldout"


def test_dag_rule_and_bad_rules() -> None:
    X, W = _chain_data()
    res = sel.select_threshold(W, rule="dag")
    assert is_dag(res.weights) and res.threshold == sel.smallest_dag_threshold(W)
    with pytest.raises(ConfigError, match="rule"):
        sel.select_threshold(W, X, rule="oracle")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="needs the data"):
        sel.select_threshold(W)


def test_required_edges_survive_any_threshold() -> None:
    X, W = _chain_data()
    req = np.zeros((4, 4), bool)
    req[3, 0] = True  # weak, but required
    res = sel.select_threshold(W, X, required=req)
    assert res.weights[3, 0] != 0 and is_dag(res.weights)


def _small_problem() -> tuple[np.ndarray, np.ndarray]:
    sim = simulate(graph="er", k=1, d=5, n=300, sem="linear", rng=np.random.default_rng(2))
    return sim.X, sim.B


def test_bootstrap_probabilities_are_frequencies_and_reproducible() -> None:
    X, _ = _small_problem()
    learner = DagLearner(refine="none")
    a = rs.bootstrap_edge_probability(learner, X, n_boot=4, random_state=3, progress=False)
    b = rs.bootstrap_edge_probability(learner, X, n_boot=4, random_state=3, progress=False)
    assert a.probability.shape == (5, 5)
    assert np.all((a.probability >= 0) & (a.probability <= 1))
    np.testing.assert_array_equal(a.probability, a.adjacencies.mean(axis=0))
    np.testing.assert_array_equal(a.probability, b.probability)
    assert a.seeds == b.seeds
    assert all(is_dag(A) for A in a.adjacencies)
    stable = sel.stable_graph(a.probability, 0.5)
    assert is_dag(stable) and set(np.unique(stable)) <= {0, 1}


def test_bootstrap_in_a_process_pool_matches_serial() -> None:
    X, _ = _small_problem()
    learner = DagLearner(refine="none")
    serial = rs.bootstrap_edge_probability(learner, X, n_boot=2, random_state=5, progress=False)
    pooled = rs.bootstrap_edge_probability(learner, X, n_boot=2, n_jobs=2, random_state=5,
                                            progress=False)
    np.testing.assert_array_equal(serial.adjacencies, pooled.adjacencies)


def test_bootstrap_and_stability_reject_bad_settings() -> None:
    X, _ = _small_problem()
    with pytest.raises(ConfigError):
        rs.bootstrap_edge_probability(DagLearner(), X, n_boot=0)
    with pytest.raises(ConfigError):
        rs.bootstrap_edge_probability(DagLearner(), X, n_jobs=0)
    with pytest.raises(ConfigError):
        sel.stable_graph(np.zeros((3, 3)), 0.0)


def test_learner_edge_probability_and_stability_selection() -> None:
    X, B = _small_problem()
    plain = DagLearner(refine="none", random_state=1).fit(X)
    assert plain.edge_probability_ is None
    boot = DagLearner(refine="none", bootstrap=4, random_state=1).fit(X)
    # the bootstrap leaves the full-data graph alone and matches the selection function
    np.testing.assert_array_equal(boot.adjacency_, plain.adjacency_)
    direct = rs.bootstrap_edge_probability(DagLearner(refine="none", random_state=1), X,
                                            n_boot=4, random_state=1, progress=False)
    np.testing.assert_array_equal(boot.edge_probability_, direct.probability)
    assert boot.edge_probability_.shape == (5, 5)
    # a true edge found in every refit survives stability selection at frequency 1
    stable = DagLearner(refine="none", bootstrap=4, stability=1.0, random_state=1).fit(X)
    np.testing.assert_array_equal(stable.adjacency_, boot.edge_probability_ == 1.0)
    assert is_dag(stable.adjacency_)
    np.testing.assert_array_equal(stable.weights_ != 0, stable.adjacency_ != 0)
    # the stable graph is made of true edges: no extra edge, and most of the truth
    found = stable.adjacency_.astype(bool)
    assert not (found & ~(B + B.T).astype(bool)).any()
    assert found.sum() >= 0.6 * B.astype(bool).sum()


@pytest.mark.parametrize("params", [{"bootstrap": -1}, {"bootstrap": 2.5},
                                    {"bootstrap_jobs": 0}, {"stability": 0.5},
                                    {"bootstrap": 2, "stability": 1.5}])
def test_learner_rejects_bad_bootstrap_settings(params: dict) -> None:
    X, _ = _small_problem()
    with pytest.raises(ConfigError):
        DagLearner(**params).fit(X)
