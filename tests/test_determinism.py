"""Same answer on every machine: the searches and whole fits give the same graph on
inputs that differ only by rounding (what another BLAS kernel, thread count or
summation order produces), see :mod:`dagforge.ties`."""

from __future__ import annotations

import numpy as np
import pytest

from dagforge.datasets import load_gaussian_bn
from dagforge.estimator import DagLearner
from dagforge.search import equal_variance_order, hill_climb, order_search, refine
from dagforge.simulate import simulate


def rounding_variants(X: np.ndarray, seed: int = 0) -> list[np.ndarray]:
    """``X`` perturbed at the 1e-12 relative level, and ``X`` with its rows in another
    order (so every covariance sum runs in another order)."""
    rng = np.random.default_rng(seed)
    return [X * (1 + 1e-12 * rng.standard_normal(X.shape)), X[rng.permutation(len(X))]]


def covariances(X: np.ndarray) -> list[np.ndarray]:
    """The covariance of ``X``, of its rounding variants, and by another formula."""
    Xc = X - X.mean(0)
    return [np.cov(X.T, bias=True), *(np.cov(V.T, bias=True) for V in rounding_variants(X)),
            Xc.T @ Xc / len(X)]


def dense_standardised(seed: int) -> np.ndarray:
    """The dense standardised case of test_order_search (ER4 at d = 10, n = 2000)."""
    return simulate(graph="er", k=4, d=10, n=2000, standardize=True,
                    rng=np.random.default_rng(seed)).X


CASES = {
    "dense-std-0": lambda: dense_standardised(0),
    "dense-std-2": lambda: dense_standardised(2),
    "er2-d20-raw": lambda: simulate(graph="er", k=2, d=20, n=1000,
                                    rng=np.random.default_rng(3)).X,
    "sf4-d20-raw": lambda: simulate(graph="sf", k=4, d=20, n=1000,
                                    rng=np.random.default_rng(4)).X,
    "er2-d20-std": lambda: simulate(graph="er", k=2, d=20, n=1000, standardize=True,
                                    rng=np.random.default_rng(5)).X,
    "ecoli70-std": lambda: _zscore(load_gaussian_bn("ecoli70", 500,
                                                    np.random.default_rng(6))[0].to_numpy()),
}


def _zscore(X: np.ndarray) -> np.ndarray:
    return (X - X.mean(0)) / X.std(0)


def _same(results: list[np.ndarray]) -> None:
    for other in results[1:]:
        np.testing.assert_array_equal(other != 0, results[0] != 0)


@pytest.mark.parametrize("case", sorted(CASES))
def test_searches_take_the_same_path_on_rounding_variants(case: str) -> None:
    X = CASES[case]()
    n, d = X.shape
    Ss = covariances(X)
    _same([order_search(S, n, np.arange(d)[::-1])[0] for S in Ss])
    _same([hill_climb(S, n, np.zeros((d, d)), tabu_steps=10) for S in Ss])
    assert len({tuple(equal_variance_order(S)) for S in Ss}) == 1


@pytest.mark.parametrize("case", ["dense-std-0", "dense-std-2", "sf4-d20-raw"])
def test_refinement_with_kicks_is_the_same_on_rounding_variants(case: str) -> None:
    X = CASES[case]()
    n, d = X.shape
    W0 = np.triu(np.ones((d, d)), 1) * 0.5  # a complete DAG as the "solver" output
    _same([refine(S, n, [W0], 0.3, kicks=5, rng=np.random.default_rng(0))[0]
           for S in covariances(X)])


@pytest.mark.parametrize("case", ["dense-std-0", "er2-d20-raw", "er2-d20-std"])
def test_whole_linear_fit_is_the_same_on_rounding_variants(case: str) -> None:
    X = CASES[case]()
    fits = [DagLearner(random_state=0).fit(V) for V in [X, *rounding_variants(X)]]
    _same([f.adjacency_ for f in fits])
    assert len({f.noise_model_ for f in fits}) == 1
