"""The learner of discrete and mixed columns (dagforge.learn.typed): recovery on a
discrete network and on mixed data, beside the empty graph and reading every column as
Gaussian; the model choices; one-line errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dagforge import DagLearner
from dagforge.data import Dataset
from dagforge.datasets import load_dataset
from dagforge.errors import ConfigError, DataError
from dagforge.graph import is_dag
from dagforge.metrics import shd_cpdag
from dagforge.simulate import simulate_mixed


@pytest.fixture(scope="module")
def asia() -> tuple[pd.DataFrame, np.ndarray]:
    return load_dataset("asia", n=3000, rng=0)


def test_a_discrete_network_is_found_by_its_multinomial_bic(asia) -> None:
    X, B = asia
    m = DagLearner(random_state=0).fit(X)
    assert m.score_ == "discrete-bic" and set(m.column_types_) == {"categorical"}
    assert m.stop_reason_ == "no_solve"  # the score's search alone (learn.policy)
    assert shd_cpdag(true=B, pred=m.adjacency_) <= 2  # the empty graph is 8 away
    bdeu = DagLearner(random_state=0, score="bdeu").fit(X)
    assert shd_cpdag(true=B, pred=bdeu.adjacency_) <= 2


def test_mixed_data_beat_the_empty_graph_and_the_all_gaussian_reading() -> None:
    sim = simulate_mixed(d=10, k=2, n=2000, discrete=0.5, rng=np.random.default_rng(3))
    frame = pd.DataFrame(sim.X, columns=sim.names)
    typed = {n: t.value for n, t in zip(sim.names, sim.types, strict=True)}
    m = DagLearner(random_state=0).fit(frame, types=typed)
    assert m.score_ == "degenerate-gaussian"
    gaussian = DagLearner(random_state=0).fit(frame, types=dict.fromkeys(sim.names,
                                                                        "continuous"))
    ours, naive = (shd_cpdag(true=sim.B, pred=f.adjacency_) for f in (m, gaussian))
    empty = shd_cpdag(true=sim.B, pred=np.zeros_like(sim.B))
    assert ours <= empty / 3 and ours < naive


def test_the_mlp_fits_typed_heads_and_the_gnn_says_it_cannot(asia) -> None:
    X, B = asia
    mlp = DagLearner(model="mlp", random_state=0, model_options={"hidden": (4,)}).fit(
        X.iloc[:800])
    assert mlp.refine_ == "hill_climb"
    assert shd_cpdag(true=B, pred=mlp.adjacency_) < shd_cpdag(true=B, pred=0 * B)
    with pytest.raises(ConfigError, match="the gnn model fits continuous columns only"):
        DagLearner(model="gnn").fit(X.iloc[:200])


def test_experiments_on_discrete_data_are_refused(asia) -> None:
    X, _ = asia
    regimes = np.where(np.arange(len(X)) < 100, "a", "b")
    with pytest.raises(DataError, match="interventional regimes need continuous columns"):
        DagLearner().fit(X, regimes=regimes, targets={"a": [], "b": ["asia"]})


def test_a_dataset_keeps_its_types_and_types_only_with_a_table(asia) -> None:
    X, _ = asia
    data = Dataset.from_matrix(X)
    with pytest.raises(DataError, match="a Dataset has its column types"):
        DagLearner().fit(data, types={"asia": "categorical"})
    m = DagLearner(random_state=0, refine="none").fit(data)
    assert m.levels_[0] == ("yes", "no")  # a pandas category keeps its own order


def test_without_refinement_the_typed_models_graph_is_the_answer(asia) -> None:
    X, _ = asia
    m = DagLearner(random_state=0, refine="none").fit(X.iloc[:1500])
    assert m.stop_reason_ == "converged" and m.refine_scores_ == {} and m.h_ < 1e-8
    # the logistic fit finds the strong links (smoke - bronc, either - xray, ...); alone it
    # is a weak estimator of this network, which is why the search is the default
    assert m.adjacency_.sum() >= 3 and is_dag(m.adjacency_)
