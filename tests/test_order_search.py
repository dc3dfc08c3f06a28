"""Tests for dagforge.search.order: local search over causal orders."""

from __future__ import annotations

import numpy as np
import pytest

from dagforge.errors import GraphError
from dagforge.graph import is_dag
from dagforge.search import bic_score, hill_climb, order_search, refine
from dagforge.simulate import simulate
from dagforge.ties import score_tol


def dense_standardised(seed: int, d: int = 10, n: int = 2000) -> tuple[np.ndarray, int, np.ndarray]:
    """Covariance, rows and true graph of standardised linear ER data (ER4 at d=10)."""
    sim = simulate(graph="er", k=min(4, (d - 1) / 2), d=d, n=n, standardize=True,
                   rng=np.random.default_rng(seed))
    return np.cov(sim.X.T, bias=True), n, sim.B != 0


# seeds where greedy edge moves from the empty graph stop well above the truth's score
# (3.7 and 12.6 above it; on seed 2 they now end below it)
@pytest.mark.parametrize("seed", [0, 4])
@pytest.mark.parametrize("variant", ["as drawn", "perturbed", "rows permuted"])
def test_reaches_the_true_graphs_score_where_edge_moves_do_not(seed: int, variant: str) -> None:
    # the guarantee holds on any BLAS: rounding-level changes of the data (what another
    # kernel does to the covariance) take the search along the same path
    sim = simulate(graph="er", k=4, d=10, n=2000, standardize=True,
                   rng=np.random.default_rng(seed))
    X, rng = sim.X, np.random.default_rng(1)
    if variant == "perturbed":
        X = X * (1 + 1e-12 * rng.standard_normal(X.shape))
    elif variant == "rows permuted":
        X = X[rng.permutation(len(X))]
    S, n, B = np.cov(X.T, bias=True), len(X), sim.B != 0
    d = len(S)
    truth = bic_score(S, n, B, "unequal")
    climbed = bic_score(S, n, hill_climb(S, n, np.zeros((d, d))) != 0, "unequal")
    A, score = order_search(S, n, np.arange(d)[::-1])  # the reversed index order
    assert climbed > truth + 1.0  # greedy edge moves stop above the truth's score here ...
    assert score <= truth + score_tol(n)  # ... moving whole variables does not
    assert is_dag(A)


def test_returned_score_is_the_bic_of_the_returned_graph() -> None:
    S, n, _ = dense_standardised(1)
    for penalty, gamma in [(1.0, 0.0), (2.0, 0.5)]:
        A, score = order_search(S, n, np.arange(len(S)), penalty=penalty, gamma=gamma,
                                rng=np.random.default_rng(0))
        assert score == pytest.approx(bic_score(S, n, A, "unequal", penalty, gamma), rel=1e-10)


def test_higher_edge_cost_gives_no_more_edges() -> None:
    S, n, _ = dense_standardised(3)
    order = np.arange(len(S))
    A1, _ = order_search(S, n, order)
    A2, _ = order_search(S, n, order, penalty=20.0)
    assert A2.sum() <= A1.sum()


def test_reproducible_for_the_same_rng_seed() -> None:
    S, n, _ = dense_standardised(4)
    order = np.random.default_rng(1).permutation(len(S))
    a = order_search(S, n, order, rng=np.random.default_rng(7))
    b = order_search(S, n, order, rng=np.random.default_rng(7))
    np.testing.assert_array_equal(a[0], b[0])
    assert a[1] == b[1]


def test_respects_allowed_and_required() -> None:
    S, n, _ = dense_standardised(5, d=8)
    d = len(S)
    allowed = np.ones((d, d), bool)
    allowed[:, 3] = False  # nothing may point into 3 ...
    required = np.zeros((d, d), bool)
    required[3, 0] = True  # ... except the required 3 -> 0 ... which is allowed anyway
    required[6, 1] = True
    order = [3, 6, 0, 1, 2, 4, 5, 7]
    A, _ = order_search(S, n, order, allowed=allowed, required=required,
                        rng=np.random.default_rng(0))
    assert A[3, 0] and A[6, 1]
    assert not A[:, 3].any()
    assert is_dag(A)


def test_bad_orders_are_rejected() -> None:
    S, n, _ = dense_standardised(0, d=5)
    with pytest.raises(GraphError, match="permutation"):
        order_search(S, n, [0, 1, 2, 3, 3])
    required = np.zeros((5, 5), bool)
    required[4, 0] = True
    with pytest.raises(GraphError, match="backwards"):
        order_search(S, n, np.arange(5), required=required)


def test_refine_uses_order_search_starts_only_under_unequal_noise() -> None:
    S, n, _ = dense_standardised(0)
    W0 = np.triu(np.ones_like(S), 1) * 0.5  # a complete DAG in index order as "solver" output
    _, scores = refine(S, n, [W0], 0.3, noise="unequal")
    assert {"order_search@best", "order_search@solver"} <= set(scores)
    _, scores = refine(S, n, [W0], 0.3, noise="equal")
    assert not any(k.startswith("order_search") for k in scores)
