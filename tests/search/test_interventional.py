"""The interventional scores (dagforge.search.scores.interventional) against their
definitions, and what the experiments add: orientations the observational BIC cannot
tell apart."""

from __future__ import annotations

import numpy as np
import pytest

from dagforge.data import Dataset
from dagforge.search import build_score, hill_climb, refine_graph
from helpers import FIVE_NODE, sample_five_node, sample_five_node_interventional


def _data(**kw) -> Dataset:
    X, regimes, targets = sample_five_node_interventional(**kw)
    return Dataset.from_matrix(X).with_regimes(regimes, targets)


def _ols_rss(X: np.ndarray, j: int, parents: list[int]) -> float:
    Xc = X - X.mean(0)
    P = Xc[:, parents]
    beta = np.linalg.lstsq(P, Xc[:, j], rcond=None)[0] if parents else np.zeros(0)
    return float(((Xc[:, j] - P @ beta) ** 2).mean())


def test_gies_scores_an_intervened_variable_on_the_other_regimes_rows() -> None:
    data = _data(seed=3)
    s = build_score("gaussian-interventional", data)
    kept = data.values[data.regimes != "do-x1"]  # x1's mechanism is cut in do-x1
    assert s.stat(1, [0]) == pytest.approx(_ols_rss(kept, 1, [0]), rel=1e-10)
    assert s.n_node[1] == len(kept) and s.n_node[0] == data.n
    want = 0.5 * len(kept) * np.log(_ols_rss(kept, 1, [0])) + s.edge_cost
    assert s.local(1, [0]) == pytest.approx(want)


def test_gies_on_observational_data_is_the_gaussian_bic() -> None:
    X = sample_five_node(300)
    obs = Dataset.from_matrix(X)
    one = obs.with_regimes(np.zeros(len(X)), {0: []})
    A = FIVE_NODE != 0
    for noise in ("unequal", "equal"):
        assert build_score("gaussian-interventional", one, noise=noise).score(A) == \
            pytest.approx(build_score("gaussian", obs, noise=noise).score(A), rel=1e-12)


def test_soft_score_gives_an_intervened_variable_its_own_mechanism() -> None:
    data = _data(seed=4)
    s = build_score("gaussian-soft", data)
    kept, own = data.values[data.regimes != "do-x3"], data.values[data.regimes == "do-x3"]
    want = (0.5 * len(kept) * np.log(_ols_rss(kept, 3, [0]))
            + 0.5 * len(own) * np.log(_ols_rss(own, 3, [0])))
    assert s.stat(3, [0]) == pytest.approx(want, rel=1e-10)
    assert s.penalty(3, [0]) == pytest.approx(2 * s.edge_cost)  # two mechanisms
    assert s.penalty(2, [1]) == pytest.approx(s.edge_cost)


def test_experiments_orient_what_observation_leaves_reversible() -> None:
    # 0 -> 1 -> 2 and 0 -> 3 -> 4 <- 1: x1 and x3 are intervened on; reversing 0 -> 1
    # or 0 -> 3 keeps the Markov class (the BIC of observational data ties) but the
    # interventional score tells them apart
    data = _data(n_obs=2000, n_int=600, seed=5)
    A = FIVE_NODE != 0
    B = A.copy()
    B[0, 1], B[1, 0] = False, True  # 1 -> 0: same skeleton, no new v-structure? 0->3, 1->0
    obs = build_score("gaussian", Dataset.from_matrix(data.values[data.regimes == "obs"]))
    assert obs.score(B) == pytest.approx(obs.score(A), abs=1e-6)
    gies = build_score("gaussian-interventional", data)
    assert gies.score(A) < gies.score(B) - 10


def test_the_refinement_finds_the_true_dag_from_a_reversed_start() -> None:
    data = _data(n_obs=2000, n_int=600, seed=6)
    A = FIVE_NODE != 0
    for name in ("gaussian-interventional", "gaussian-soft"):
        score = build_score(name, data)
        W, _ = refine_graph(score, [A.T.astype(float)], 0.0)  # every edge backwards
        assert ((W != 0) == A).all(), name


def test_hill_climb_on_observational_data_may_reverse_what_gies_orients() -> None:
    data = _data(n_obs=2000, n_int=600, seed=6)
    obs = data.values[data.regimes == "obs"]
    S = np.cov(obs.T, bias=True)
    W = hill_climb(S, len(obs), (FIVE_NODE != 0).T.astype(float), tabu_steps=10)
    assert ((W != 0) != (FIVE_NODE != 0)).any()  # the reversed start stays in its class
