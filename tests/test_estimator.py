"""DagLearner: the scikit-learn style estimator."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from dagforge.errors import ConfigError, DataError
from dagforge.estimator import DagLearner, resolve_device
from dagforge.graph import is_dag, threshold_to_dag, topological_order
from dagforge.learn.policy import NONLINEAR_NLL_SPREAD, refine_mode
from dagforge.models.registry import get_model
from helpers import FIVE_NODE, sample_five_node

TRUE = FIVE_NODE


def simulate(n: int = 400, seed: int = 0) -> np.ndarray:
    return sample_five_node(n, seed)


@pytest.mark.parametrize("refine", ["hill_climb", "none"])
def test_recovers_known_graph(refine: str) -> None:
    m = DagLearner(refine=refine, random_state=0).fit(simulate())
    np.testing.assert_array_equal(m.adjacency_, (TRUE != 0).astype(int))
    assert is_dag(m.adjacency_)
    assert m.h_ < 1e-4  # the continuous solution; the output itself is a DAG
    assert m.stop_reason_ in ("converged", "schedule_done")
    assert m.history_ and {"loss", "h", "grad_fit", "grad_acyclicity", "lr"} <= set(m.history_[0])
    if refine == "hill_climb":  # OLS weights on the refined graph
        np.testing.assert_allclose(m.weights_[TRUE != 0], TRUE[TRUE != 0], atol=0.15)


def test_large_graphs_refine_from_the_final_solve_only(monkeypatch) -> None:
    from dagforge.learn import policy

    monkeypatch.setattr(policy, "REFINE_MULTISTART_MAX_D", 4)  # the 5-node problem is large
    m = DagLearner(random_state=0).fit(simulate())
    assert set(m.refine_scores_) == {"threshold@0"}  # no empty / order starts, no kicks
    np.testing.assert_array_equal(m.adjacency_, (TRUE != 0).astype(int))


def test_dataframe_names_are_kept_and_graph_has_weights() -> None:
    names = ["Raf", "Mek", "Erk", "PKA", "Akt"]
    m = DagLearner().fit(pd.DataFrame(simulate(), columns=names))
    assert list(m.feature_names_in_) == names and m.n_features_in_ == 5
    G = m.graph_
    assert set(G.nodes) == set(names)
    assert G.has_edge("Raf", "Mek") and G["Raf"]["Mek"]["weight"] == pytest.approx(1.5, abs=0.15)


def test_same_random_state_same_result() -> None:
    X = simulate(seed=3)
    a = DagLearner(random_state=1).fit(X)
    b = DagLearner(random_state=1).fit(X)
    np.testing.assert_array_equal(a.W_, b.W_)
    np.testing.assert_array_equal(a.weights_, b.weights_)


def test_nll_loss_and_other_solver() -> None:
    X = simulate(seed=2)
    m = DagLearner(loss="nll", solver="augmented_lagrangian", constraint="expm").fit(X)
    assert is_dag(m.adjacency_)
    skeleton = (m.adjacency_ + m.adjacency_.T) > 0
    np.testing.assert_array_equal(skeleton, (TRUE + TRUE.T) != 0)


def test_output_is_always_a_dag_even_without_acyclicity() -> None:
    # one outer stage with a huge mu leaves cycles in W_; the output is still a DAG
    X = simulate()
    m = DagLearner(refine="none", threshold=0.0,
                   solver_options={"s": [1.0], "max_extra_stages": 0, "mu_init": 100.0}).fit(X)
    assert is_dag(m.adjacency_)


def test_sklearn_clone_and_params() -> None:
    m = DagLearner(lambda1=0.05)
    c = clone(m)
    assert c.get_params()["lambda1"] == 0.05


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"model": "xgboost"}, "unknown model"),
        ({"loss": "huber"}, "unknown linear loss"),
        ({"solver": "sgd"}, "unknown solver"),
        ({"lambda1": -1.0}, "lambda1"),
        ({"threshold": -0.1}, "threshold"),
        ({"refine": "tabu"}, "unknown refine"),
        ({"solver_options": {"bogus": 1}}, "unknown path_following option"),
        ({"constraint": "trace"}, "unknown acyclicity constraint"),
    ],
)
def test_bad_parameters(params: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        DagLearner(**params).fit(simulate(n=50))


@pytest.mark.parametrize(
    "X",
    [
        np.array([[1.0, np.nan], [2.0, 3.0], [4.0, 5.0]]),
        np.ones((10, 3)),
        np.zeros((2, 3)),
        np.arange(10.0),
    ],
)
def test_bad_data(X: np.ndarray) -> None:
    with pytest.raises(DataError):
        DagLearner().fit(X)


def test_device() -> None:
    assert resolve_device("cpu").type == "cpu"
    with pytest.raises(ConfigError):
        resolve_device("tpu")


def test_auto_noise_model_follows_the_data() -> None:
    X = simulate(n=1000, seed=4)
    raw = DagLearner().fit(X)
    assert raw.noise_model_ == "equal"
    scores = raw.noise_scores_
    assert "unequal" not in scores or scores["equal"] <= scores["unequal"]
    std = DagLearner(standardize=True).fit(X)
    assert std.noise_model_ == "unequal"
    assert std.noise_scores_["unequal"] < std.noise_scores_["equal"]
    assert is_dag(std.adjacency_)


@pytest.mark.parametrize("model", ["mlp", "gnn"])
def test_nonlinear_models_through_the_estimator(model: str) -> None:
    rng = np.random.default_rng(0)
    x0 = rng.normal(size=300)
    x1 = np.tanh(2 * x0) + 0.3 * rng.normal(size=300)
    x2 = np.sin(x1) + 0.3 * rng.normal(size=300)
    X = np.column_stack([x0, x1, x2])
    m = DagLearner(model=model, random_state=0, model_options={"hidden": (8,)} if model == "mlp"
                   else None).fit(X)
    assert is_dag(m.adjacency_) and m.adjacency_.shape == (3, 3)
    assert m.noise_model_ in ("equal", "unequal") and m.refine_scores_ == {}
    assert m.history_
    # recovery, not only shapes: the chain's two edges (directions aside), nothing else
    skeleton = (m.adjacency_ + m.adjacency_.T) > 0
    np.testing.assert_array_equal(skeleton, [[0, 1, 0], [1, 0, 1], [0, 1, 0]])


def dispersed_chain(n: int = 300, seed: int = 0) -> np.ndarray:
    """Standardised x0 -> x1 -> x2 with little noise below the root: after
    standardising, the residual variances are about 1, 0.01 and 0.01."""
    rng = np.random.default_rng(seed)
    x0 = rng.normal(size=n)
    x1 = np.tanh(2 * x0) + 0.1 * rng.normal(size=n)
    x2 = np.sin(2 * x1) + 0.1 * rng.normal(size=n)
    X = np.column_stack([x0, x1, x2])
    return (X - X.mean(0)) / X.std(0)


SMALL_MLP = {"model": "mlp", "random_state": 0, "model_options": {"hidden": (4,)},
             "solver_options": {"s": (1.0, 1.0), "max_extra_stages": 1}}


@dataclass(frozen=True)
class _Fitted:
    learner: DagLearner
    checkpoints: Path


@pytest.fixture(scope="module")
def mlp_fit(tmp_path_factory) -> _Fitted:
    """``DagLearner(**SMALL_MLP)`` fitted once on :func:`dispersed_chain` (all three fits:
    solve, likelihood, order refit) with its checkpoints: shared by the tests below,
    which only read it (a checkpointed fit is the same computation as a plain one)."""
    where = tmp_path_factory.mktemp("mlp-fit")
    return _Fitted(DagLearner(**SMALL_MLP).fit(dispersed_chain(), checkpoint_dir=where), where)


def test_nonlinear_auto_loss_switches_to_the_likelihood_when_variances_spread(mlp_fit) -> None:
    X = dispersed_chain()
    auto = mlp_fit.learner
    assert auto.residual_spread_ > NONLINEAR_NLL_SPREAD
    assert auto.noise_model_ == "unequal" and is_dag(auto.adjacency_)
    ls = DagLearner(loss="ls", **SMALL_MLP).fit(X)
    assert ls.noise_model_ == "equal" and ls.residual_spread_ is None
    # the switched fit is the likelihood fit on the standardised columns
    nll = DagLearner(loss="nll", **SMALL_MLP).fit((X - X.mean(0)) / X.std(0))
    np.testing.assert_array_equal(nll.W_, auto.W_)
    # equal noise, not standardised: the spread stays small and least squares stays
    rng = np.random.default_rng(1)
    x0 = rng.normal(size=300)
    X_eq = np.column_stack([x0, np.tanh(2 * x0) + rng.normal(size=300)])
    eq = DagLearner(**SMALL_MLP).fit(X_eq)
    assert eq.residual_spread_ < NONLINEAR_NLL_SPREAD and eq.noise_model_ == "equal"
    assert eq.linear_noise_model_ is None  # not asked below the cut
    assert auto.linear_noise_model_ == "unequal"


def test_nonlinear_auto_loss_keeps_least_squares_when_a_linear_sem_has_equal_noise() -> None:
    """A linear chain with equal noise whose variances grow (1, 5, 22, 92): the small
    MLP fits the large ones worse, so its residuals spread past the cut, but the linear
    SEM's BIC prefers equal variances, and least squares stays."""
    rng = np.random.default_rng(0)
    cols = [rng.normal(size=300)]
    for _ in range(3):
        cols.append(2.0 * cols[-1] + rng.normal(size=300))
    X = np.column_stack(cols)
    m = DagLearner(**SMALL_MLP).fit(X)
    assert m.residual_spread_ > NONLINEAR_NLL_SPREAD
    assert m.linear_noise_model_ == "equal" and m.noise_model_ == "equal"
    np.testing.assert_array_equal(m.W_, DagLearner(loss="ls", **SMALL_MLP).fit(X).W_)


def test_nonlinear_loss_settings_are_checked() -> None:
    X = dispersed_chain(n=100)
    with pytest.raises(ConfigError, match="contradicts"):
        DagLearner(model="mlp", loss="ls", model_options={"loss": "nll"}).fit(X)
    with pytest.raises(ConfigError, match="unknown loss"):
        DagLearner(model="gnn", loss="l1").fit(X)


@pytest.mark.parametrize("phase", ["nll", "refit"])
def test_nonlinear_fit_resumes_in_each_later_fit(tmp_path, monkeypatch, phase, mlp_fit) -> None:
    """Interrupted in the likelihood fit of ``loss="auto"`` or in the order refit, a
    resumed fit replays the finished fits and ends with the uninterrupted graph."""
    import dagforge.resume as resume_mod
    from dagforge.checkpoint import load_checkpoint
    from dagforge.nonlinear import PHASE_CHECKPOINTS

    X = dispersed_chain()
    full = mlp_fit.learner
    configs = {p: load_checkpoint(mlp_fit.checkpoints / f).config
               for p, f in PHASE_CHECKPOINTS.items()}
    assert "loss" not in configs["solve"]["model_options"]
    assert configs["nll"]["model_options"]["loss"] == "nll"
    assert configs["refit"]["solver_options"]["lambda1"] < configs["nll"]["solver_options"][
        "lambda1"]
    assert full.W_refit_ is not None and is_dag(np.asarray(configs["refit"]["model_options"][
        "mask"]))

    class Interrupted(Exception):
        pass

    target = tmp_path / "cut" / PHASE_CHECKPOINTS[phase]
    original = resume_mod.Checkpointer.save

    def save_then_interrupt(self):
        original(self)
        if self.path == target:
            raise Interrupted

    with monkeypatch.context() as m:
        m.setattr(resume_mod.Checkpointer, "save", save_then_interrupt)
        with pytest.raises(Interrupted):
            DagLearner(**SMALL_MLP).fit(X, checkpoint_dir=tmp_path / "cut")
    again = DagLearner(**SMALL_MLP).fit(X, checkpoint_dir=tmp_path / "cut", resume=True)
    np.testing.assert_array_equal(again.W_, full.W_)
    np.testing.assert_array_equal(again.W_refit_, full.W_refit_)
    np.testing.assert_array_equal(again.adjacency_, full.adjacency_)
    assert again.noise_model_ == "unequal" and again.residual_spread_ == full.residual_spread_


def test_order_refit_keeps_the_solved_order_and_is_the_nonlinear_default(mlp_fit) -> None:
    X = dispersed_chain()
    m = mlp_fit.learner  # refine="auto": the order refit for the MLP
    assert m.refine_ == "order" and m.W_refit_ is not None and is_dag(m.adjacency_)
    # the refit's inputs are those before each variable in the order of the solve's
    # graph: its adjacency has no entry against that order
    solved = threshold_to_dag(m.W_, m.threshold_) != 0
    order = topological_order(solved)
    rank = np.empty(len(order), dtype=int)
    rank[order] = np.arange(len(order))
    assert not (m.W_refit_[rank[:, None] >= rank[None, :]]).any()
    cut = get_model("mlp").order_refit["threshold"]
    np.testing.assert_array_equal(m.adjacency_, threshold_to_dag(m.W_refit_, cut) != 0)
    none = DagLearner(refine="none", **SMALL_MLP).fit(X)
    assert none.W_refit_ is None and none.refine_ == "none"
    np.testing.assert_array_equal(none.W_, m.W_)  # the solve itself is the same
    # the soft GNN was not measured with the refit: opt-in only
    assert refine_mode("auto", get_model("gnn"), {"soft": True}, None) == "none"
    with pytest.raises(ConfigError, match="order"):
        DagLearner(refine="order").fit(X)
    with pytest.raises(ConfigError, match="refine"):
        DagLearner(model="mlp", refine="prune").fit(X)  # type: ignore[arg-type]


def test_order_refit_with_the_trainer_continues_its_history() -> None:
    m = DagLearner(model="mlp", refine="order", inner="adam", random_state=0,
                   model_options={"hidden": (4,)}, solver_options={"s": (1.0,)},
                   train_options={"max_epochs": 3, "batch_size": 64}).fit(dispersed_chain(n=200))
    rows = m.train_history_
    phases = [r["phase"] for r in rows]
    assert phases[0] == "solve" and phases[-1] == "refit"
    assert phases == sorted(phases, key=["solve", "refit"].index)  # solve rows, then refit
    for key in ("epoch", "call"):  # one time axis over both fits
        values = [r[key] for r in rows if key in r]
        assert values == sorted(values)
    assert is_dag(m.adjacency_)


def test_a_fresh_nonlinear_fit_drops_an_earlier_runs_later_checkpoints(tmp_path,
                                                                       mlp_fit) -> None:
    from dagforge.nonlinear import PHASE_CHECKPOINTS

    tmp_path = tmp_path / "run"
    shutil.copytree(mlp_fit.checkpoints, tmp_path)  # an earlier run's three checkpoints
    assert (tmp_path / PHASE_CHECKPOINTS["nll"]).is_file()
    # equal noise variances: no likelihood fit, so no nll checkpoint may be left behind
    rng = np.random.default_rng(1)
    x0 = rng.normal(size=300)
    X_eq = np.column_stack([x0, np.tanh(2 * x0) + rng.normal(size=300)])
    DagLearner(**SMALL_MLP).fit(X_eq, checkpoint_dir=tmp_path)
    assert not (tmp_path / PHASE_CHECKPOINTS["nll"]).exists()
    assert (tmp_path / PHASE_CHECKPOINTS["refit"]).is_file()


def test_threshold_auto_is_chosen_without_the_truth_and_recorded() -> None:
    from dagforge.config import parse_config

    X = sample_five_node(n=800, seed=4)
    m = DagLearner(threshold="auto", refine="none", random_state=0).fit(X)
    assert is_dag(m.adjacency_) and isinstance(m.threshold_, float)
    assert m.threshold_ >= 0
    assert parse_config({"threshold": "auto"}).threshold == "auto"
    with pytest.raises(ConfigError):
        parse_config({"threshold": "high"})
    with pytest.raises(ConfigError, match="threshold"):
        DagLearner(threshold="high").fit(X)  # type: ignore[arg-type]
