"""The outer solvers recover a known linear graph, agree, and report what they did."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from dagforge.errors import SolverError
from dagforge.graph import is_dag, threshold_to_dag
from dagforge.models.linear import LinearSEM, covariance, least_squares
from dagforge.solvers import (
    AugmentedLagrangianConfig,
    PathFollowingConfig,
    Problem,
    StopReason,
    augmented_lagrangian,
    make_solver_config,
    path_following,
)
from dagforge.solvers.inner import QuasiNewton
from dagforge.solvers.owlqn import OWLQNConfig
from helpers import FIVE_NODE, sample_five_node

# the default solves stages loosely (refinement follows in DagLearner); solved
# tightly, the last stage must give the graph by thresholding alone
TIGHT = QuasiNewton(OWLQNConfig(tol_change=1e-10, max_iter=2000))

# 0 -> 1 -> 2, 0 -> 3, 3 -> 4, 1 -> 4
TRUE = FIVE_NODE


def simulate(n: int = 500, seed: int = 0) -> np.ndarray:
    return sample_five_node(n, seed)


def problem(X: np.ndarray) -> Problem:
    S = covariance(X)
    model = LinearSEM(X.shape[1])
    return Problem(module=model, fit=lambda: least_squares(model.adjacency(), S),
                   adjacency=model.adjacency, l1_params=[model.weight])


@pytest.mark.parametrize(
    ("solve", "config"),
    [
        (path_following, PathFollowingConfig(final_inner=TIGHT)),
        (path_following, PathFollowingConfig(constraint="poly", final_inner=TIGHT)),
        (augmented_lagrangian, AugmentedLagrangianConfig()),
        (augmented_lagrangian, AugmentedLagrangianConfig(constraint="logdet")),
    ],
)
def test_solver_recovers_five_node_graph(solve, config) -> None:
    res = solve(problem(simulate()), config)
    W = threshold_to_dag(res.W, 0.3)
    np.testing.assert_array_equal(W != 0, TRUE != 0)
    np.testing.assert_allclose(W, TRUE, atol=0.25)  # L1-shrunk, stages solved loosely
    assert res.h < 1e-6 and is_dag(W)
    assert res.stop_reason in (StopReason.CONVERGED, StopReason.SCHEDULE_DONE)
    rec = res.history[-1]
    for v in (rec.loss, rec.h, rec.grad_fit, rec.grad_sparsity, rec.grad_acyclicity):
        assert math.isfinite(v)
    assert len(res.path) == len(res.history)


def test_solvers_agree() -> None:
    X = simulate(seed=1)
    a = threshold_to_dag(path_following(problem(X), PathFollowingConfig(final_inner=TIGHT)).W, 0.3)
    b = threshold_to_dag(augmented_lagrangian(problem(X)).W, 0.3)
    np.testing.assert_array_equal(a != 0, b != 0)


def test_augmented_lagrangian_reports_multipliers() -> None:
    res = augmented_lagrangian(problem(simulate()))
    assert res.state["rho"] >= 1 and res.state["alpha"] > 0
    assert res.stop_reason is StopReason.CONVERGED
    assert all(r.rho >= 1 for r in res.history)


def test_nan_loss_is_a_clear_error() -> None:
    X = simulate()
    p = problem(X)
    p.fit = lambda: torch.tensor(float("nan"), dtype=torch.float64) * p.adjacency().sum()
    with pytest.raises(SolverError, match="step 0"):
        path_following(p)


def test_make_solver_config_rejects_unknown_option() -> None:
    from dagforge.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown path_following option"):
        make_solver_config("path_following", options={"mu_start": 1.0})
    cfg = make_solver_config("path_following", options={"s": [1.0, 0.8]}, lambda1=0.1)
    assert cfg.s == (1.0, 0.8) and cfg.lambda1 == 0.1
