"""Tests for dagforge.resampling: bootstrap edge probabilities, BootstrapDagLearner."""

from __future__ import annotations

import inspect

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

import dagforge.resampling as rs
from dagforge.data import Dataset
from dagforge.errors import ConfigError
from dagforge.estimator import DagLearner
from dagforge.graph import is_dag
from dagforge.resampling import BootstrapDagLearner
from dagforge.simulate import simulate

TRUTH_NAMES = {"true", "truth", "B", "W_true", "true_graph", "B_true"}


@pytest.fixture(scope="module")
def problem() -> tuple[np.ndarray, np.ndarray]:
    sim = simulate(graph="er", k=1, d=5, n=300, sem="linear", rng=np.random.default_rng(2))
    return sim.X, sim.B


@pytest.fixture(scope="module")
def boot(problem: tuple[np.ndarray, np.ndarray]) -> BootstrapDagLearner:
    X, _ = problem
    return BootstrapDagLearner(DagLearner(refine="none", random_state=1), n_resamples=4).fit(X)


def test_no_resampling_function_takes_the_truth() -> None:
    for name in rs.__all__:
        obj = getattr(rs, name)
        target = obj.__init__ if inspect.isclass(obj) else obj
        assert not set(inspect.signature(target).parameters) & TRUTH_NAMES, name


def test_result_has_both_probabilities(problem: tuple[np.ndarray, np.ndarray]) -> None:
    X, _ = problem
    res = rs.bootstrap_edge_probability(DagLearner(refine="none"), X, n_boot=3,
                                        random_state=4, progress=False)
    A = res.adjacencies.astype(bool)
    np.testing.assert_array_equal(res.probability, A.mean(axis=0))
    np.testing.assert_array_equal(res.adjacency_probability,
                                  (A | A.transpose(0, 2, 1)).mean(axis=0))
    with pytest.raises(ConfigError, match="n_jobs"):
        rs.bootstrap_edge_probability(DagLearner(), X, n_jobs=0)


def test_matches_the_learners_own_bootstrap(problem: tuple[np.ndarray, np.ndarray],
                                            boot: BootstrapDagLearner) -> None:
    X, _ = problem
    own = DagLearner(refine="none", bootstrap=4, random_state=1).fit(X)
    np.testing.assert_array_equal(boot.edge_probability_, own.edge_probability_)
    # without stability the output is the full-data fit
    np.testing.assert_array_equal(boot.adjacency_, own.adjacency_)
    np.testing.assert_array_equal(boot.weights_, own.weights_)
    np.testing.assert_array_equal(boot.adjacency_, boot.learner_.adjacency_)
    assert boot.feature_names_in_.tolist() == [f"x{i}" for i in range(5)]
    assert boot.n_features_in_ == 5 and boot.adjacencies_.shape == (4, 5, 5)
    assert len(boot.seeds_) == 4 and boot.graph_.number_of_edges() == boot.adjacency_.sum()
    # an explicit seed for the resamples overrides the base's
    other = BootstrapDagLearner(DagLearner(refine="none", random_state=1), n_resamples=4,
                                random_state=9).fit(X)
    assert other.seeds_ != boot.seeds_


def test_adjacency_probability_is_symmetric_and_bounds_edges(
        boot: BootstrapDagLearner) -> None:
    P, Q = boot.edge_probability_, boot.adjacency_probability_
    np.testing.assert_array_equal(Q, Q.T)
    assert np.all(Q >= P) and np.all(Q >= P.T) and np.all(Q <= P + P.T + 1e-12)
    assert np.all((Q >= 0) & (Q <= 1)) and np.all(np.diag(Q) == 0)


def test_workers_give_the_serial_result(problem: tuple[np.ndarray, np.ndarray],
                                        boot: BootstrapDagLearner) -> None:
    X, _ = problem
    pooled = BootstrapDagLearner(DagLearner(refine="none", random_state=1), n_resamples=4,
                                 n_jobs=2).fit(X)
    np.testing.assert_array_equal(pooled.adjacencies_, boot.adjacencies_)
    np.testing.assert_array_equal(pooled.adjacency_probability_, boot.adjacency_probability_)


@pytest.mark.parametrize("standardize", [False, True])
def test_stability_selection_matches_the_learner(problem: tuple[np.ndarray, np.ndarray],
                                                 standardize: bool) -> None:
    X, B = problem
    base = DagLearner(refine="none", standardize=standardize, random_state=1)
    stable = BootstrapDagLearner(base, n_resamples=4, stability=1.0).fit(X)
    own = clone(base).set_params(bootstrap=4, stability=1.0).fit(X)
    np.testing.assert_array_equal(stable.adjacency_, own.adjacency_)
    np.testing.assert_array_equal(stable.weights_, own.weights_)
    np.testing.assert_array_equal(stable.adjacency_, stable.edge_probability_ == 1.0)
    assert is_dag(stable.adjacency_)
    np.testing.assert_array_equal(stable.weights_ != 0, stable.adjacency_ != 0)
    assert (stable.adjacency_ & B.astype(bool)).sum() >= 1


def test_dataframe_and_dataset_inputs(problem: tuple[np.ndarray, np.ndarray],
                                      boot: BootstrapDagLearner) -> None:
    X, _ = problem
    names = ["a", "b", "c", "d", "e"]
    base = DagLearner(refine="none", random_state=1)
    frame = BootstrapDagLearner(base, n_resamples=4).fit(pd.DataFrame(X, columns=names))
    assert frame.feature_names_in_.tolist() == names
    np.testing.assert_array_equal(frame.edge_probability_, boot.edge_probability_)
    data = BootstrapDagLearner(base, n_resamples=4).fit(Dataset.from_matrix(X, names))
    np.testing.assert_array_equal(data.edge_probability_, boot.edge_probability_)


def test_is_a_scikit_learn_meta_estimator() -> None:
    est = BootstrapDagLearner(DagLearner(lambda1=0.1), n_resamples=3, n_jobs=-1)
    assert est.get_params()["base__lambda1"] == 0.1
    copy = clone(est)
    assert copy.base is not est.base and copy.get_params()["n_jobs"] == -1


@pytest.mark.parametrize("params", [{"n_resamples": 0}, {"n_resamples": 2.5},
                                    {"n_jobs": 0}, {"stability": 0.0},
                                    {"stability": 1.5}, {"base": "linear"}])
def test_rejects_bad_settings(problem: tuple[np.ndarray, np.ndarray], params: dict) -> None:
    X, _ = problem
    est = BootstrapDagLearner(DagLearner(), n_resamples=2).set_params(**params)
    with pytest.raises(ConfigError):
        est.fit(X)
