"""Tests for dagforge.train: the mini-batch Adam inner optimiser.

Small problems built by hand (a linear SEM or a single parameter) so every number
the trainer logs can be checked: early stopping on a validation plateau with the
best parameters restored, NaN recovery and its limit, pre-clip gradient norms,
the learning-rate schedules as documented (a rollback halves a schedule's floor too),
exact zeros from the proximal L1 step in torch Adam's own metric, mini-batches, a split
kept across calls, determinism, a mid-call state that resumes exactly through a
checkpoint file, and a quiet progress bar.
"""

from __future__ import annotations

import csv
import logging
import math

import numpy as np
import pytest
import torch
from torch import Tensor, nn

from dagforge.checkpoint import load_checkpoint, save_checkpoint
from dagforge.constraints import acyclicity_fn
from dagforge.errors import ConfigError, DataError, SolverError
from dagforge.models.linear import LinearSEM
from dagforge.solvers import PathFollowingConfig, path_following
from dagforge.solvers.base import Problem
from dagforge.train import HISTORY_FIELDS, TrainConfig, Trainer, write_history_csv
from dagforge.train.epoch import adam_metric

F64 = torch.float64



def zero_penalty(W: Tensor) -> Tensor:
    return (W * 0.0).sum()


def linear_problem(n: int = 200, seed: int = 0) -> tuple[Problem, LinearSEM]:
    """x1 = 2 x0 + e, x2 independent: a 3-variable linear SEM fitted row-wise."""
    rng = np.random.default_rng(seed)
    x0 = rng.standard_normal(n)
    X = np.column_stack([x0, 2.0 * x0 + 0.5 * rng.standard_normal(n), rng.standard_normal(n)])
    Xt = torch.as_tensor(X, dtype=F64)
    model = LinearSEM(3)

    def batch_fit(rows: Tensor) -> Tensor:
        R = rows - rows @ model.adjacency()  # [b, d]
        return 0.5 * (R**2).sum() / rows.shape[0]

    return Problem(module=model, fit=lambda: batch_fit(Xt), adjacency=model.adjacency,
                   l1_params=[model.weight], batch_fit=batch_fit, data=Xt), model


class Scalar(nn.Module):
    """One parameter ``p``; its 'adjacency' is a 1 x 1 zero matrix."""

    def __init__(self, init: float = 0.0) -> None:
        super().__init__()
        self.p = nn.Parameter(torch.tensor([init], dtype=F64))

    def adjacency(self) -> Tensor:
        return self.p.reshape(1, 1) * 0.0


def scalar_problem(batch_fit, X: Tensor, init: float = 0.0) -> tuple[Problem, Scalar]:
    module = Scalar(init)
    return Problem(module=module, fit=lambda: batch_fit(module, X), adjacency=module.adjacency,
                   l1_params=[], batch_fit=lambda rows: batch_fit(module, rows), data=X), module


# --------------------------------------------------------------------------- config


def test_config_rejects_bad_values_and_unknown_keys() -> None:
    with pytest.raises(ConfigError, match="val_fraction"):
        TrainConfig(val_fraction=1.0)
    with pytest.raises(ConfigError, match="schedule"):
        TrainConfig(schedule="linear")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="clip_grad_norm"):
        TrainConfig(clip_grad_norm=0.0)
    with pytest.raises(ConfigError, match="unknown train option"):
        TrainConfig.from_dict({"lr": 0.1, "learning_rate": 0.1})
    cfg = TrainConfig.from_dict({"betas": [0.8, 0.9]})
    assert cfg.betas == (0.8, 0.9)
    assert TrainConfig.from_dict(cfg.as_dict()) == cfg


def test_trainer_needs_rows() -> None:
    problem, _ = linear_problem()
    problem.batch_fit = None
    with pytest.raises(ConfigError, match="batch_fit"):
        Trainer()(problem, 1.0, zero_penalty, 0.0)


# --------------------------------------------------------------------------- early stopping


def test_early_stopping_on_a_validation_plateau() -> None:
    X = torch.zeros(50, 1, dtype=F64)
    problem, _ = scalar_problem(lambda m, rows: (m.p * 0.0).sum() + 1.0, X)
    trainer = Trainer(TrainConfig(max_epochs=100, patience=4))
    res = trainer(problem, 1.0, zero_penalty, 0.0)
    assert res.converged
    assert res.n_iter == 4  # the starting point is the best; epochs 1-4 do not improve
    assert "did not improve for 4 epochs" in res.message
    assert [r["inner_epoch"] for r in trainer.history] == [1, 2, 3, 4]


def test_a_call_never_ends_worse_than_it_started() -> None:
    """Adam's first step overshoots a warm start at the optimum; the start is restored."""
    X = torch.zeros(20, 1, dtype=F64)
    problem, module = scalar_problem(lambda m, rows: ((m.p - 1.0) ** 2).sum(), X, init=1.0)
    trainer = Trainer(TrainConfig(lr=0.5, max_epochs=5, patience=3))
    res = trainer(problem, 1.0, zero_penalty, 0.0)
    assert float(module.p.detach()) == 1.0
    assert res.n_iter == 3


def test_best_validation_parameters_are_restored() -> None:
    # two rows: the one held out pulls p to its value, the training row elsewhere
    X = torch.tensor([[0.4], [1.0]], dtype=F64)
    cfg = TrainConfig(lr=0.05, val_fraction=0.5, max_epochs=60, patience=100, seed=0)
    trainer = Trainer(cfg)
    problem, module = scalar_problem(lambda m, rows: ((m.p - rows[:, 0]) ** 2).mean(), X)
    res = trainer(problem, 1.0, zero_penalty, 0.0)
    train_idx, val_idx = trainer.state_dict()["split"]
    target_train, target_val = float(X[train_idx, 0]), float(X[val_idx, 0])
    vals = [r["val_objective"] for r in trainer.history]
    best = int(np.argmin(vals))
    p = float(module.p.detach())
    assert not res.converged  # ran to max_epochs
    assert (p - target_val) ** 2 == pytest.approx(min(vals), abs=1e-15)
    assert (target_train, target_val) == (1.0, 0.4)  # the split of seed 0
    # p runs from 0 towards 1, passing the validation optimum 0.4 on its way
    assert best < len(vals) - 1
    assert abs(p - target_val) < 0.1 and abs(p - target_train) > 0.3


# --------------------------------------------------------------------------- divergence


def test_nan_once_is_rolled_back_with_half_the_learning_rate(caplog) -> None:
    problem, model = linear_problem()
    good = problem.batch_fit
    calls = {"n": 0}

    def flaky(rows: Tensor) -> Tensor:
        calls["n"] += 1
        value = good(rows)  # type: ignore[misc]
        return value * math.nan if calls["n"] == 4 else value  # 1: start, 2-3: epoch 1

    problem.batch_fit = flaky
    trainer = Trainer(TrainConfig(lr=0.02, max_epochs=5, patience=50))
    with caplog.at_level(logging.WARNING, logger="dagforge.train"):
        res = trainer(problem, 1.0, zero_penalty, 0.0)
    rows = trainer.history
    assert res.n_iter == 5 and len(rows) == 5
    assert [r["retries"] for r in rows] == [0, 1, 0, 0, 0]
    assert rows[0]["lr"] == 0.02 and all(r["lr"] == 0.01 for r in rows[1:])
    assert "rolled back" in caplog.text and "epoch 2, step 1" in caplog.text
    assert torch.isfinite(model.weight).all()


def test_persistent_nan_raises_a_clear_solver_error() -> None:
    problem, _ = linear_problem()
    good = problem.batch_fit
    calls = {"n": 0}

    def broken(rows: Tensor) -> Tensor:
        calls["n"] += 1
        value = good(rows)  # type: ignore[misc]
        return value * math.inf if calls["n"] >= 4 else value

    problem.batch_fit = broken
    trainer = Trainer(TrainConfig(max_epochs=5, max_retries=2))
    with pytest.raises(SolverError, match=r"epoch 2, step 1.*after 2 rollbacks"):
        trainer(problem, 1.0, zero_penalty, 0.0)


# --------------------------------------------------------------------------- clipping


@pytest.mark.parametrize("clip", [None, 1.0])
def test_gradient_norms_are_logged_before_clipping(clip) -> None:
    X = torch.zeros(10, 1, dtype=F64)
    problem, _ = scalar_problem(lambda m, rows: 500.0 * ((m.p - 3.0) ** 2).sum(), X)
    trainer = Trainer(TrainConfig(lr=0.1, max_epochs=3, val_fraction=0.0, patience=10,
                                  clip_grad_norm=clip))
    trainer(problem, 1.0, zero_penalty, 0.0)
    first = trainer.history[0]
    assert first["grad_norm_max"] == pytest.approx(3000.0)  # |d/dp| at p = 0, pre-clip
    assert first["grad_fit"] == pytest.approx(3000.0)
    assert first["clipped"] == (1 if clip else 0)


# --------------------------------------------------------------------------- schedules


def constant_run(**settings) -> list[float]:
    X = torch.zeros(20, 1, dtype=F64)
    problem, _ = scalar_problem(lambda m, rows: (m.p * 0.0).sum() + 1.0, X)
    trainer = Trainer(TrainConfig(max_epochs=8, patience=100, **settings))
    trainer(problem, 1.0, zero_penalty, 0.0)
    return [r["lr"] for r in trainer.history]


def test_schedule_none_is_constant() -> None:
    assert constant_run(lr=0.3) == [0.3] * 8


def test_schedule_exponential() -> None:
    lrs = constant_run(lr=0.4, schedule="exponential", gamma=0.5, min_lr=0.01)
    assert lrs == pytest.approx([max(0.01, 0.4 * 0.5**e) for e in range(8)])


def test_schedule_cosine() -> None:
    lrs = constant_run(lr=0.4, schedule="cosine", min_lr=0.1)
    expected = [0.1 + 0.3 * 0.5 * (1 + math.cos(math.pi * e / 8)) for e in range(8)]
    assert lrs == pytest.approx(expected)
    assert lrs[0] == pytest.approx(0.4)


def test_schedule_plateau() -> None:
    lrs = constant_run(lr=0.4, schedule="plateau", plateau_patience=2, plateau_factor=0.5)
    # no epoch improves on the start; after every 2 epochs without improvement the lr halves
    assert lrs == pytest.approx([0.4, 0.4, 0.2, 0.2, 0.1, 0.1, 0.05, 0.05])


def test_a_rollback_halves_the_schedule_floor_included() -> None:
    X = torch.zeros(20, 1, dtype=F64)
    calls = {"n": 0}

    def flaky(m, rows: Tensor) -> Tensor:
        calls["n"] += 1  # 1: the start; epoch e: 2e (its step), 2e + 1 (validation)
        return (m.p * 0.0).sum() + (math.nan if calls["n"] == 8 else 1.0)

    problem, _ = scalar_problem(flaky, X)
    trainer = Trainer(TrainConfig(lr=0.4, schedule="exponential", gamma=0.5, min_lr=0.1,
                                  max_epochs=6, patience=100))
    trainer(problem, 1.0, zero_penalty, 0.0)
    lrs = [r["lr"] for r in trainer.history]
    assert [r["retries"] for r in trainer.history] == [0, 0, 0, 1, 0, 0]
    assert lrs == pytest.approx([0.4, 0.2, 0.1, 0.05, 0.05, 0.05])  # the floor 0.1 halved


# --------------------------------------------------------------------------- L1


def test_proximal_step_uses_adams_own_metric() -> None:
    """adam_metric is the D that torch.optim.Adam divides its step by."""
    p = nn.Parameter(torch.tensor([0.5, -2.0, 3.0], dtype=F64))
    opt = torch.optim.Adam([p], lr=0.1, betas=(0.8, 0.9), eps=1e-3)
    for g in ([1.0, -4.0, 0.01], [0.5, 2.0, -0.02]):
        before = p.detach().clone()
        p.grad = torch.tensor(g, dtype=F64)
        opt.step()
        state = opt.state[p]
        m_hat = state["exp_avg"] / (1 - 0.8 ** float(state["step"]))
        assert torch.allclose(before - p.detach(), 0.1 * m_hat / adam_metric(opt, p),
                              rtol=1e-12, atol=0.0)


def test_proximal_l1_gives_exact_zeros_subgradient_does_not() -> None:
    zeros = {}
    for mode in ("proximal", "subgradient"):
        problem, model = linear_problem()
        trainer = Trainer(TrainConfig(lr=0.02, max_epochs=300, patience=300, l1_mode=mode))
        trainer(problem, 1.0, zero_penalty, 0.2)
        W = model.adjacency().detach()
        zeros[mode] = int((W == 0).sum()) - 3  # off-diagonal exact zeros
        assert abs(float(W[0, 1])) + abs(float(W[1, 0])) > 0.5  # the real dependence stays
    assert zeros["proximal"] >= 3
    assert zeros["subgradient"] == 0


def test_proximal_zero_is_stationary() -> None:
    """A coordinate left at zero has |gradient| <= l1 (the optimality condition)."""
    problem, model = linear_problem()
    trainer = Trainer(TrainConfig(lr=0.01, max_epochs=400, patience=400, val_fraction=0.0))
    l1 = 0.2
    trainer(problem, 1.0, zero_penalty, l1)
    W = model.weight
    g = torch.autograd.grad(problem.fit(), W)[0] * model.mask
    at_zero = (W.detach() == 0) & (model.mask == 1)
    assert bool(at_zero.any())
    assert float(g[at_zero].abs().max()) <= l1 * 1.05


# --------------------------------------------------------------------------- batches, split


def test_mini_batches_and_a_split_kept_across_calls() -> None:
    problem, _ = linear_problem(n=200)
    trainer = Trainer(TrainConfig(batch_size=32, val_fraction=0.25, max_epochs=3, patience=10))
    trainer(problem, 1.0, zero_penalty, 0.0)
    assert all(r["steps"] == math.ceil(150 / 32) for r in trainer.history)
    split = trainer.state_dict()["split"]
    assert split[0].numel() == 150 and split[1].numel() == 50
    assert not set(split[0].tolist()) & set(split[1].tolist())
    trainer(problem, 0.5, acyclicity_fn("expm"), 0.01)
    later = trainer.state_dict()["split"]
    assert torch.equal(split[0], later[0]) and torch.equal(split[1], later[1])
    assert [r["call"] for r in trainer.history] == [0, 0, 0, 1, 1, 1]
    assert [r["epoch"] for r in trainer.history] == [1, 2, 3, 4, 5, 6]


def test_same_seed_same_history() -> None:
    runs = []
    for _ in range(2):
        problem, model = linear_problem()
        trainer = Trainer(TrainConfig(batch_size=16, max_epochs=4, seed=3))
        trainer(problem, 1.0, acyclicity_fn("logdet"), 0.01)
        runs.append((trainer.history, model.weight.detach().clone()))
    assert runs[0][0] == runs[1][0]
    assert torch.equal(runs[0][1], runs[1][1])


@pytest.mark.parametrize("settings", [
    {}, {"schedule": "exponential", "gamma": 0.9, "min_lr": 0.01},
    {"schedule": "cosine", "min_lr": 0.005},
    {"schedule": "plateau", "plateau_patience": 2, "min_delta": 0.003},  # lr halved at 13
    {"clip_grad_norm": 0.5},
])
def test_a_mid_call_state_resumes_exactly_through_a_checkpoint(tmp_path, settings) -> None:
    cfg = TrainConfig(lr=0.05, batch_size=32, max_epochs=25, patience=8, **settings)
    penalty = acyclicity_fn("logdet")
    problem, model = linear_problem()
    full = Trainer(cfg, h_fn=penalty)  # h logged: no NaN in the rows compared
    full(problem, 1.0, penalty, 0.05)

    def save_at_epoch_15(trainer: Trainer) -> None:
        if trainer.epoch == 15:
            save_checkpoint(tmp_path / "c.pt", model={}, optimizer_state=trainer.state_dict(),
                            solver_state={}, rng_states={}, history=[], config={})

    Trainer(cfg, h_fn=penalty, on_epoch_end=save_at_epoch_15)(linear_problem()[0], 1.0, penalty,
                                                             0.05)
    state = load_checkpoint(tmp_path / "c.pt").optimizer_state  # read with weights_only
    assert state is not None and state["call_state"]["epoch"] == 15
    problem, resumed_model = linear_problem()  # a fresh model: the state brings the weights
    resumed = Trainer(cfg, h_fn=penalty)
    resumed.load_state_dict(state)
    resumed(problem, 1.0, penalty, 0.05)
    assert resumed.history == full.history
    assert torch.equal(resumed_model.weight, model.weight)


def test_a_call_state_of_another_format_is_refused() -> None:
    trainer = Trainer(TrainConfig(max_epochs=2))
    state = trainer.state_dict()
    state["call_state"] = {"call": 0, "optimizer": {"t": 1, "m": [], "v": []}}
    with pytest.raises(DataError, match=r"lacks.*scheduler"):
        Trainer().load_state_dict(state)


def test_inside_an_outer_solver_with_diagnostics(capsys) -> None:
    problem, _ = linear_problem()
    trainer = Trainer(TrainConfig(lr=0.02, max_epochs=100, patience=10),
                      h_fn=acyclicity_fn("logdet"))
    cfg = PathFollowingConfig(lambda1=0.05, s=(1.0, 1.0), max_extra_stages=0, inner=trainer,
                              final_inner=trainer)
    result = path_following(problem, cfg)
    assert result.n_outer == 2
    rows = trainer.history
    assert set(HISTORY_FIELDS) == set(rows[0])
    assert {r["call"] for r in rows} == {0, 1}
    assert all(math.isfinite(r["h"]) and r["grad_norm_max"] >= r["grad_norm"] for r in rows)
    assert rows[-1]["fit_weight"] == pytest.approx(0.1)  # mu of the second stage
    assert capsys.readouterr().err == ""  # no progress bar when stderr is not a terminal


def test_write_history_csv(tmp_path) -> None:
    rows = [{"epoch": 1, "lr": 0.1, "extra": "x"}, {"epoch": 2, "lr": 0.05}]
    path = tmp_path / "history.csv"
    write_history_csv(path, rows)
    with open(path, newline="") as fh:
        read = list(csv.DictReader(fh))
    assert list(read[0]) == ["epoch", "lr", "extra"]
    assert read[1] == {"epoch": "2", "lr": "0.05", "extra": ""}
