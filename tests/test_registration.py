"""Extension points, proved from outside ``src/``: a toy model, a toy acyclicity
constraint and a toy score registered in this file run through ``DagLearner`` and
``dagforge fit``."""

from __future__ import annotations

import json
from collections.abc import Iterator

import numpy as np
import pytest
import torch
from torch import Tensor, nn

from dagforge.cli import main
from dagforge.constraints import ConstraintSpec, register_constraint
from dagforge.constraints.registry import CONSTRAINT_SPECS
from dagforge.errors import ConfigError
from dagforge.estimator import DagLearner
from dagforge.metrics import shd
from dagforge.models.registry import MODELS, ModelSpec, register_model
from dagforge.search import SCORES, FitTermScore, ScoreSpec, register_score

# chain 0 -> 1 -> 2 -> 3
TRUE = np.zeros((4, 4))
TRUE[0, 1], TRUE[1, 2], TRUE[2, 3] = 1.5, -1.2, 1.0


def chain(n: int = 400, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    X = np.zeros((n, 4))
    for j in range(4):
        X[:, j] = X @ TRUE[:, j] + rng.normal(size=n)
    return X


class ToyLinear(nn.Module):
    """A linear SEM fitted from the rows: the smallest model the nonlinear learner takes."""

    def __init__(self, d: int, mask: np.ndarray | None = None, random_state: int | None = None,
                 dtype: torch.dtype = torch.float64) -> None:
        super().__init__()
        m = torch.ones(d, d, dtype=dtype) if mask is None else torch.as_tensor(mask, dtype=dtype)
        self.register_buffer("mask", m * (1 - torch.eye(d, dtype=dtype)))  # [d, d]
        self.weight = nn.Parameter(torch.zeros(d, d, dtype=dtype))  # [d, d]

    def adjacency(self) -> Tensor:
        return self.weight * self.mask

    def predict(self, X: Tensor) -> Tensor:
        return X @ self.adjacency()  # [n, d]

    def loss(self, X: Tensor) -> Tensor:
        return 0.5 * ((X - self.predict(X)) ** 2).sum(dim=1).mean()

    def l1_parameters(self) -> list[Tensor]:
        return [self.weight]


def toy_expm(W: Tensor) -> Tensor:
    """NOTEARS' h(W) = tr exp(W∘W) - d in plain torch (autograd does the gradient)."""
    W = W.to(torch.float64)
    return torch.linalg.matrix_exp(W * W).trace() - W.shape[0]


class ToyAIC(FitTermScore):
    """Gaussian AIC fitted by least squares on the rows themselves: a score built without
    any of dagforge's covariance machinery (statistic: n/2 log RSS/n; an edge costs 1)."""

    def __init__(self, X: np.ndarray) -> None:
        self.X = X - X.mean(axis=0)  # [n, d]
        self.n, self.d = X.shape
        self.tol, self.edge_cost = 1e-7 * self.n, 1.0

    def _ols(self, j: int, parents) -> tuple[np.ndarray, float]:
        P = self.X[:, list(parents)]  # [n, p]
        beta = np.linalg.lstsq(P, self.X[:, j], rcond=None)[0] if len(parents) else np.zeros(0)
        rss = float(((self.X[:, j] - P @ beta) ** 2).sum())
        return beta, 0.5 * self.n * np.log(max(rss, 1e-300) / self.n)

    def stat(self, j, parents) -> float:
        return self._ols(j, parents)[1]

    def add_stats(self, j, parents, *, floor_partial=True) -> np.ndarray:
        return np.array([self.stat(j, [*parents, i]) if i != j and i not in parents
                         else np.nan for i in range(self.d)])

    def remove_stats(self, j, parents) -> np.ndarray:
        return np.array([self.stat(j, [p for p in parents if p != k]) for k in parents])

    def weights(self, A: np.ndarray) -> np.ndarray:
        W = np.zeros((self.d, self.d))
        for j in range(self.d):
            pa = np.flatnonzero(A[:, j])
            W[pa, j] = self._ols(j, pa)[0]
        return W


@pytest.fixture
def registered() -> Iterator[None]:
    register_model(ModelSpec(
        name="toy-linear", learner="nonlinear", build=ToyLinear,
        description="a linear SEM fitted from the rows (test)",
        solver_defaults={"path_following": {"mu_init": 1.0, "mu_factor": 0.1,
                                            "s": (1.0, 1.0, 1.0)}}))
    register_constraint("toy-expm", ConstraintSpec(toy_expm, barrier=False,
                                                   description="tr exp(W∘W) - d (test)"))
    register_score(ScoreSpec(
        name="toy-aic", build=lambda data, *, noise, penalty, gamma: ToyAIC(data.values),
        fits=lambda data: None if data.continuous else "continuous columns only",
        description="Gaussian AIC by least squares on the rows (test)"))
    yield
    MODELS.pop("toy-linear")
    CONSTRAINT_SPECS.pop("toy-expm")
    SCORES.pop("toy-aic")


@pytest.mark.parametrize("solver", ["path_following", "augmented_lagrangian"])
def test_a_toy_model_and_constraint_run_through_the_estimator(registered, solver) -> None:
    X = chain()
    m = DagLearner(model="toy-linear", constraint="toy-expm", solver=solver,
                   random_state=0).fit(X)
    assert m.refine_ == "none" and m.h_ < 1e-6  # no order-refit settings: nothing after
    assert shd(true=TRUE != 0, pred=m.adjacency_) <= 1  # the empty graph is 3 away


def test_a_toy_model_and_constraint_run_through_the_cli(registered, tmp_path) -> None:
    data = tmp_path / "chain.csv"
    np.savetxt(data, chain(), delimiter=",", header="a,b,c,d", comments="")
    cfg = tmp_path / "fit.yaml"
    cfg.write_text("constraint: toy-expm\n")
    out = tmp_path / "fit"
    assert main(["fit", str(data), "--model", "toy-linear", "--config", str(cfg),
                 "--seed", "0", "--out", str(out)]) == 0
    run = json.loads((out / "run.json").read_text())
    assert run["config"]["model"] == "toy-linear" and run["config"]["constraint"] == "toy-expm"
    assert run["is_dag"] and 2 <= run["n_edges"] <= 4


def test_a_toy_score_drives_the_refinement(registered) -> None:
    X = chain()
    m = DagLearner(score="toy-aic", random_state=0).fit(X)
    assert m.score_ == "toy-aic" and m.noise_model_ == "unequal"  # no equal-variance model
    # the order search and the climbs ran on the toy score, which scores the result best
    assert "order_search@best" in m.refine_scores_
    best = min(m.refine_scores_.values())
    assert ToyAIC(X).score(m.adjacency_) == pytest.approx(best)
    assert shd(true=TRUE != 0, pred=m.adjacency_ + m.adjacency_.T) <= 3  # the skeleton


def test_a_toy_score_is_chosen_on_the_cli(registered, tmp_path) -> None:
    data = tmp_path / "chain.csv"
    np.savetxt(data, chain(), delimiter=",", header="a,b,c,d", comments="")
    out = tmp_path / "fit"
    assert main(["fit", str(data), "--score", "toy-aic", "--out", str(out)]) == 0
    run = json.loads((out / "run.json").read_text())
    assert run["config"]["score"] == "toy-aic" and run["is_dag"]


def test_unregistered_names_are_one_line_errors() -> None:
    with pytest.raises(ConfigError, match="unknown model 'toy-linear'"):
        DagLearner(model="toy-linear").fit(chain(50))
    with pytest.raises(ConfigError, match="already registered"):
        register_model(MODELS["mlp"])
    with pytest.raises(ConfigError, match="unknown score 'toy-aic'"):
        DagLearner(score="toy-aic").fit(chain(50))


def test_the_architecture_doc_lists_every_registered_entry() -> None:
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "scripts" / "registry_docs.py"
    out = subprocess.run([sys.executable, str(script), "--check"], capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stdout + out.stderr
