"""The contract every registered score keeps with the searches (dagforge.search.scores):
its one-call add / remove statistics, gains and move deltas agree with refitting and
rescoring from scratch. A new score joins by adding a factory to SCORE_CASES."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from dagforge.data import Dataset
from dagforge.errors import ConfigError, DataError
from dagforge.graph import is_dag
from dagforge.search import (
    SCORES,
    GaussianScore,
    ParentScore,
    build_score,
    get_score,
    sample_covariance,
)
from helpers import FIVE_NODE, sample_five_node, sample_five_node_interventional


def _gaussian(noise: str) -> Callable[[], ParentScore]:
    def make() -> ParentScore:
        data = Dataset.from_matrix(sample_five_node(400, seed=1))
        return build_score("gaussian", data, noise=noise, penalty=1.0, gamma=0.5)
    return make


def _interventional(name: str, noise: str = "unequal") -> Callable[[], ParentScore]:
    def make() -> ParentScore:
        X, regimes, targets = sample_five_node_interventional(seed=2)
        data = Dataset.from_matrix(X).with_regimes(regimes, targets)
        return build_score(name, data, noise=noise, penalty=1.0, gamma=0.5)
    return make


def _typed(name: str, discrete: float) -> Callable[[], ParentScore]:
    def make() -> ParentScore:
        from dagforge.simulate import simulate_mixed

        sim = simulate_mixed(d=5, k=1.5, n=400, discrete=discrete,
                             rng=np.random.default_rng(4))
        return build_score(name, sim.dataset(), penalty=1.0, gamma=0.5)
    return make


#: name -> a factory of a score on a small problem
SCORE_CASES: dict[str, Callable[[], ParentScore]] = {
    "gaussian-unequal": _gaussian("unequal"),
    "gaussian-equal": _gaussian("equal"),
    "interventional-unequal": _interventional("gaussian-interventional"),
    "interventional-equal": _interventional("gaussian-interventional", "equal"),
    "soft": _interventional("gaussian-soft"),
    "discrete-bic": _typed("discrete-bic", 1.0),
    "bdeu": _typed("bdeu", 1.0),
    "degenerate-gaussian": _typed("degenerate-gaussian", 0.5),
}


def _random_dag(d: int, rng: np.random.Generator) -> np.ndarray:
    A = np.triu(rng.random((d, d)) < 0.4, k=1)
    perm = rng.permutation(d)
    return A[np.ix_(perm, perm)]


@pytest.fixture(params=sorted(SCORE_CASES))
def score(request) -> ParentScore:
    return SCORE_CASES[request.param]()


def test_add_and_remove_statistics_agree_with_refits(score: ParentScore) -> None:
    d = score.d
    for j in range(d):
        parents = [p for p in range(d) if p != j][:2]
        add = score.add_stats(j, parents)
        for i in range(d):
            if i != j and i not in parents:
                assert add[i] == pytest.approx(score.stat(j, [*parents, i]), rel=1e-9)
        remove = score.remove_stats(j, parents)
        for k, p in enumerate(parents):
            assert remove[k] == pytest.approx(score.stat(j, [q for q in parents if q != p]),
                                              rel=1e-9)


def test_gains_are_local_score_differences(score: ParentScore) -> None:
    if not score.decomposable:
        pytest.skip("local terms belong to decomposable scores")
    j, parents = 2, [1]
    base = score.local(j, parents)
    gains = score.add_gains(j, parents)
    for i in (0, 3, 4):
        assert gains[i] == pytest.approx(score.local(j, [*parents, i]) - base, abs=1e-8)
    assert score.remove_gains(j, parents)[0] == pytest.approx(score.local(j, []) - base,
                                                              abs=1e-8)


def test_move_deltas_agree_with_rescoring(score: ParentScore) -> None:
    rng = np.random.default_rng(0)
    for _ in range(10):
        A = _random_dag(score.d, rng)
        stats = score.stats(A)
        i, j = (int(v) for v in rng.choice(score.d, 2, replace=False))
        B = A.copy()
        B[i, j] = not A[i, j]
        B[j, i] = False
        if not is_dag(B):
            continue
        changes = [(k, score.stat(k, np.flatnonzero(B[:, k]))) for k in (i, j)]
        cost = sum(score.penalty(k, np.flatnonzero(B[:, k]))
                   - score.penalty(k, np.flatnonzero(A[:, k])) for k in (i, j))
        delta = float(score.fit_delta(stats, *changes)) + cost
        assert delta == pytest.approx(score.score(B) - score.score(A), abs=1e-7)


def test_decomposable_scores_are_sums_of_local_terms(score: ParentScore) -> None:
    if not score.decomposable:
        pytest.skip("not a sum of local terms")
    A = FIVE_NODE != 0
    local = sum(score.local(j, np.flatnonzero(A[:, j])) for j in range(score.d))
    assert score.score(A) == pytest.approx(local)


def test_weights_live_on_the_graph(score: ParentScore) -> None:
    A = FIVE_NODE != 0
    W = score.weights(A)
    assert W.shape == A.shape and not (W[~A] != 0).any()


def test_the_gaussian_bic_is_the_closed_form() -> None:
    X = sample_five_node(400, seed=1)
    n, A = len(X), FIVE_NODE != 0
    s = GaussianScore(sample_covariance(X), n, noise="unequal")
    resid = X - X.mean(0) - (X - X.mean(0)) @ s.weights(A)
    r = (resid**2).mean(0)
    want = 0.5 * n * np.log(r).sum() + 0.5 * np.log(n) * A.sum()
    assert s.score(A) == pytest.approx(want, rel=1e-10)
    ev = s.with_noise("equal")
    assert ev.score(A) == pytest.approx(0.5 * n * 5 * np.log(r.mean()) + 0.5 * np.log(n) * 5)
    assert ev.total(A) - ev.score(A) == pytest.approx(0.5 * np.log(n))  # one variance
    assert s.total(A) - s.score(A) == pytest.approx(5 * 0.5 * np.log(n))  # five


def test_registry_refuses_data_a_score_cannot_score() -> None:
    assert "gaussian" in SCORES and get_score("gaussian").noise_models[0] == "unequal"
    X = sample_five_node(20)
    X[:, 0] = np.arange(20) % 3  # a column of three levels
    text = Dataset.from_matrix(X, types=["categorical"] + ["continuous"] * 4)
    with pytest.raises(DataError, match="score 'gaussian' cannot score these data: not every"):
        build_score("gaussian", text)
    with pytest.raises(DataError, match="no 'both' noise model"):
        build_score("gaussian", Dataset.from_matrix(sample_five_node(20)), noise="both")
    with pytest.raises(ConfigError, match="unknown score"):
        get_score("bdeu-typo")


def test_the_multinomial_bic_is_the_closed_form() -> None:
    from dagforge.simulate import simulate_mixed

    data = simulate_mixed(d=4, k=1, n=300, discrete=1.0, rng=np.random.default_rng(2)).dataset()
    s = build_score("discrete-bic", data)
    X, r = data.values.astype(int), data.cardinalities()
    j, p = 2, 0
    ll = 0.0
    for a in range(r[p]):
        rows = X[:, p] == a
        counts = np.bincount(X[rows, j], minlength=r[j])
        nz = counts > 0
        ll += (counts[nz] * np.log(counts[nz] / rows.sum())).sum()
    assert s.stat(j, [p]) == pytest.approx(-ll)
    assert s.penalty(j, [p]) == pytest.approx(0.5 * np.log(300) * (r[j] - 1) * r[p])


def test_the_block_score_of_continuous_data_is_the_gaussian_bic() -> None:
    data = Dataset.from_matrix(sample_five_node(400, seed=3))
    dg = build_score("degenerate-gaussian", data, gamma=0.5)
    g = build_score("gaussian", data, gamma=0.5)
    A = FIVE_NODE != 0
    assert dg.score(A) == pytest.approx(g.score(A), rel=1e-9)
