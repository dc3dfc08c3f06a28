"""Extension points, proved from outside ``src/``: a toy model and a toy acyclicity
constraint registered in this file run through ``DagLearner`` and ``dagforge fit``."""

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


@pytest.fixture
def registered() -> Iterator[None]:
    register_model(ModelSpec(
        name="toy-linear", learner="nonlinear", build=ToyLinear,
        description="a linear SEM fitted from the rows (test)",
        solver_defaults={"path_following": {"mu_init": 1.0, "mu_factor": 0.1,
                                            "s": (1.0, 1.0, 1.0)}}))
    register_constraint("toy-expm", ConstraintSpec(toy_expm, barrier=False,
                                                   description="tr exp(W∘W) - d (test)"))
    yield
    MODELS.pop("toy-linear")
    CONSTRAINT_SPECS.pop("toy-expm")


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


def test_unregistered_names_are_one_line_errors() -> None:
    with pytest.raises(ConfigError, match="unknown model 'toy-linear'"):
        DagLearner(model="toy-linear").fit(chain(50))
    with pytest.raises(ConfigError, match="already registered"):
        register_model(MODELS["mlp"])


def test_the_architecture_doc_lists_every_registered_entry() -> None:
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "scripts" / "registry_docs.py"
    out = subprocess.run([sys.executable, str(script), "--check"], capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stdout + out.stderr
