"""The constraint registry: lookups, options, the barrier flag, and a constraint
registered from outside the package that both outer solvers then use."""

from __future__ import annotations

import inspect
import math
from collections.abc import Iterator
from typing import get_args

import numpy as np
import pytest
import torch

from dagforge.constraints import (
    CONSTRAINT_SPECS,
    CONSTRAINTS,
    ConstraintName,
    ConstraintSpec,
    acyclicity_fn,
    constraint_options,
    describe_domains,
    domain_ok,
    expm,
    get_constraint,
    get_spec,
    logdet,
    register_constraint,
    spectral,
)
from dagforge.errors import ConfigError, SolverError
from dagforge.graph import is_dag, threshold_to_dag
from dagforge.models.linear import LinearSEM, covariance, least_squares
from dagforge.solvers import (
    AugmentedLagrangianConfig,
    PathFollowingConfig,
    Problem,
    augmented_lagrangian,
    path_following,
)
from dagforge.solvers.inner import QuasiNewton
from dagforge.solvers.owlqn import OWLQNConfig
from helpers import FIVE_NODE, sample_five_node

F64 = torch.float64
NAMES = ("logdet", "expm", "poly", "spectral")
TOY = ("toy_expm", "toy_logdet", "toy_with_s")
TIGHT = QuasiNewton(OWLQNConfig(tol_change=1e-10, max_iter=2000))


@pytest.fixture(autouse=True)
def _clean_registry() -> Iterator[None]:
    """Registrations made by a test do not leak into the next one."""
    yield
    for name in TOY:
        CONSTRAINT_SPECS.pop(name, None)


def cycle(d: int, nodes: list[int], w: float) -> torch.Tensor:
    """W (d x d) holding one directed cycle nodes[0] -> nodes[1] -> ... -> nodes[0]."""
    W = torch.zeros(d, d, dtype=F64)
    for i in range(len(nodes)):
        W[nodes[i], nodes[(i + 1) % len(nodes)]] = w
    return W


def five_node_problem() -> Problem:
    X = sample_five_node(500, 0)
    S = covariance(X)
    model = LinearSEM(X.shape[1])
    return Problem(module=model, fit=lambda: least_squares(model.adjacency(), S),
                   adjacency=model.adjacency, l1_params=[model.weight])


# Toy constraints written in plain torch, as a user outside src/ would (autograd backward).


def toy_expm(W: torch.Tensor) -> torch.Tensor:
    """NOTEARS' h(W) = tr(expm(W∘W)) - d."""
    W = W.to(F64)
    return torch.trace(torch.linalg.matrix_exp(W * W)) - W.shape[0]


def toy_logdet(W: torch.Tensor, s: float = 1.0) -> torch.Tensor:
    """DAGMA's h_s(W) = -log det(sI - W∘W) + d log s; +inf outside rho(W∘W) < s."""
    W = W.to(F64)
    d = W.shape[0]
    sign, logabsdet = torch.linalg.slogdet(s * torch.eye(d, dtype=F64) - W * W)
    if float(sign.detach()) <= 0:
        return W.sum() * 0.0 + math.inf
    return d * math.log(s) - logabsdet


def toy_with_s(W: torch.Tensor, s: float = 1.0) -> torch.Tensor:
    """Not a barrier although it takes an option called ``s`` (a plain scale)."""
    return s * toy_expm(W)


# --------------------------------------------------------------------------- lookups


def test_registry_lookups_and_options() -> None:
    assert set(CONSTRAINTS) == set(get_args(ConstraintName)) == set(NAMES)
    assert set(CONSTRAINT_SPECS) == set(describe_domains()) == set(NAMES)
    W = cycle(4, [0, 1, 2], 0.5)
    for name in NAMES:
        f = get_constraint(name)
        assert f is CONSTRAINTS[name]
        h = f(W)
        assert h.dtype == F64 and h.shape == () and float(h) > 0
        assert domain_ok(name, W)
    assert not domain_ok("logdet", cycle(4, [0, 1], 2.0), s=1.0)
    assert domain_ok("logdet", cycle(4, [0, 1], 2.0), s=5.0)
    assert domain_ok("expm", cycle(4, [0, 1], 2.0), s=1.0)  # options ignored: defined everywhere
    assert not domain_ok("poly", torch.full((2, 2), math.inf))
    assert "rho" in describe_domains()["logdet"]
    with pytest.raises(ConfigError, match="choose one of"):
        get_constraint("notears")
    # options bound by name; an option the function does not take is an error
    assert acyclicity_fn("expm") is expm
    assert acyclicity_fn("logdet", s=2.0)(W).item() == pytest.approx(logdet(W, 2.0).item())
    assert acyclicity_fn("spectral", n_iter=5)(W).item() == pytest.approx(spectral(W).item())
    with pytest.raises(ConfigError, match="takes no option"):
        acyclicity_fn("expm", s=1.0)
    with pytest.raises(ConfigError):
        acyclicity_fn("logdet", s=-1.0)
    with pytest.raises(ConfigError):
        acyclicity_fn("lgdet")
    with pytest.raises(ConfigError):
        domain_ok("trace", W)


def test_barrier_flags_and_defaults_of_the_built_ins() -> None:
    assert {n for n in NAMES if get_spec(n).barrier} == {"logdet"}
    assert constraint_options("logdet") == ["s"]
    for name in NAMES:
        spec = get_spec(name)
        assert spec.description and spec.reference
        signature = inspect.signature(spec.fn).parameters
        for key, value in spec.defaults.items():  # the entry's defaults are the function's
            assert signature[key].default == value
    with pytest.raises(TypeError):
        get_spec("logdet").defaults["s"] = 2.0  # type: ignore[index]  # read-only
    W = cycle(4, [0, 1, 2], 0.5)
    # defaults bound when the caller gives none: the same numbers as the bare function
    assert acyclicity_fn("logdet")(W).item() == logdet(W).item()
    assert acyclicity_fn("spectral")(W).item() == spectral(W).item()


def test_register_constraint_checks_the_entry() -> None:
    spec = ConstraintSpec(toy_expm, barrier=False, description="toy")
    register_constraint("toy_expm", spec)
    assert get_constraint("toy_expm") is toy_expm and "toy_expm" in CONSTRAINTS
    with pytest.raises(ConfigError, match="already registered"):
        register_constraint("toy_expm", spec)
    register_constraint("toy_expm", spec, replace=True)
    with pytest.raises(ConfigError, match="must take the option s"):
        register_constraint("toy_logdet", ConstraintSpec(toy_expm, barrier=True, description="x"))
    with pytest.raises(ConfigError, match="not options of its function"):
        register_constraint("toy_logdet", ConstraintSpec(
            toy_logdet, barrier=True, description="x", defaults={"t": 1.0}))
    with pytest.raises(ConfigError, match="non-empty string"):
        register_constraint(" ", spec)
    assert "toy_logdet" not in CONSTRAINT_SPECS


# --------------------------------------------------------------------------- solvers use it


@pytest.mark.parametrize("solver", ["path_following", "augmented_lagrangian"])
def test_solvers_use_a_constraint_registered_from_outside(solver: str) -> None:
    register_constraint("toy_expm", ConstraintSpec(
        toy_expm, barrier=False, description="tr(expm(W∘W)) - d in plain torch"))
    W_cycle = cycle(3, [0, 1, 2], 0.5)
    assert toy_expm(W_cycle).item() == pytest.approx(expm(W_cycle).item(), rel=1e-12)
    if solver == "path_following":
        res = path_following(five_node_problem(),
                             PathFollowingConfig(constraint="toy_expm", final_inner=TIGHT))
        assert all(math.isnan(r.s) for r in res.history)  # not a barrier: no s
    else:
        res = augmented_lagrangian(five_node_problem(),
                                   AugmentedLagrangianConfig(constraint="toy_expm"))
    W = threshold_to_dag(res.W, 0.3)
    np.testing.assert_array_equal(W != 0, FIVE_NODE != 0)
    assert res.h < 1e-6 and is_dag(W)


def test_path_following_reads_the_barrier_flag_not_the_option_name() -> None:
    register_constraint("toy_logdet", ConstraintSpec(
        toy_logdet, barrier=True, description="log-det via slogdet", defaults={"s": 1.0}))
    register_constraint("toy_with_s", ConstraintSpec(
        toy_with_s, barrier=False, description="expm scaled by s"))
    schedule = (1.0, 0.9, 0.8, 0.7)
    res = path_following(five_node_problem(), PathFollowingConfig(
        constraint="toy_logdet", s=schedule, final_inner=TIGHT))
    assert [r.s for r in res.history[: len(schedule)]] == list(schedule)
    W = threshold_to_dag(res.W, 0.3)
    np.testing.assert_array_equal(W != 0, FIVE_NODE != 0)
    res = path_following(five_node_problem(), PathFollowingConfig(
        constraint="toy_with_s", final_inner=TIGHT))
    assert all(math.isnan(r.s) for r in res.history)


def test_barrier_raises_s_when_the_warm_start_is_outside() -> None:
    problem = five_node_problem()
    with torch.no_grad():
        problem.module.weight.copy_(2.0 * cycle(5, [0, 1], 1.0))  # rho(W∘W) = 4
    res = path_following(problem, PathFollowingConfig(s=(1.0, 0.9), max_extra_stages=0))
    assert res.history[0].s > 4.0


def test_augmented_lagrangian_refuses_a_start_outside_a_barrier() -> None:
    problem = five_node_problem()
    with torch.no_grad():
        problem.module.weight.copy_(2.0 * cycle(5, [0, 1], 1.0))
    with pytest.raises(SolverError, match="outside the domain of the barrier"):
        augmented_lagrangian(problem, AugmentedLagrangianConfig(constraint="logdet"))
