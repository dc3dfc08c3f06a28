"""Outer solvers that drive a problem's acyclicity to zero.

* :func:`path_following` (DAGMA's central path) and
* :func:`augmented_lagrangian` (NOTEARS' method),

both over a :class:`~dagforge.solvers.base.Problem`, with a full-batch
quasi-Newton inner optimiser by default (:mod:`dagforge.solvers.inner`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from dagforge.errors import ConfigError
from dagforge.registry import Registry
from dagforge.solvers.augmented_lagrangian import (
    AugmentedLagrangianConfig,
    augmented_lagrangian,
)
from dagforge.solvers.base import Problem, SolverResult, StopReason
from dagforge.solvers.path_following import PathFollowingConfig, path_following

__all__ = [
    "SOLVERS",
    "AugmentedLagrangianConfig",
    "PathFollowingConfig",
    "Problem",
    "SolverResult",
    "SolverSpec",
    "StopReason",
    "augmented_lagrangian",
    "get_solver",
    "make_solver_config",
    "path_following",
    "register_solver",
    "run_solver",
]


@dataclass(frozen=True)
class SolverSpec:
    """One registered outer solver.

    Attributes
    ----------
    name : str
        The name users choose it by (``DagLearner(solver=name)``).
    run : callable
        ``run(problem, config) -> SolverResult``.
    config : type
        The solver's config dataclass; its fields are the solver's options.
    one_stage : mapping
        Options that make the solver solve once, without tightening the constraint:
        for a refit on a mask that is already a DAG's (h is 0 there).
    description : str
        One line for the docs.
    """

    name: str
    run: Callable[[Problem, Any], SolverResult]
    config: type
    one_stage: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""


SOLVERS: Registry[SolverSpec] = Registry("solver")


def register_solver(spec: SolverSpec, *, replace: bool = False) -> SolverSpec:
    """Add ``spec`` to :data:`SOLVERS` (``replace=True`` to overwrite an entry)."""
    return SOLVERS.register(spec.name, spec, replace=replace)


def get_solver(name: str) -> SolverSpec:
    """The registered solver ``name``; an unknown name is a one-line ConfigError."""
    return SOLVERS.get_entry(name)


register_solver(SolverSpec(
    name="path_following", run=path_following, config=PathFollowingConfig,
    one_stage={"s": (1.0,)},
    description="DAGMA's central path: a decreasing fit weight mu, log-det barrier"))
register_solver(SolverSpec(
    name="augmented_lagrangian", run=augmented_lagrangian, config=AugmentedLagrangianConfig,
    description="NOTEARS' augmented Lagrangian: a growing penalty rho and multiplier"))


def make_solver_config(name: str, *, options: Mapping[str, Any], **settings: Any) -> Any:
    """The config dataclass of solver ``name`` from ``settings`` and extra ``options``;
    an option the config does not have is a :class:`~dagforge.errors.ConfigError`."""
    cls = get_solver(name).config
    fields = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(options) - fields)
    if unknown:
        raise ConfigError(f"unknown {name} option(s) {unknown}; known: {sorted(fields)}")
    values = {**settings, **options}
    if "s" in values:
        values["s"] = tuple(values["s"])
    return cls(**values)


def run_solver(name: str, problem: Problem, config: Any) -> SolverResult:
    """Run the registered solver ``name`` on ``problem`` with its ``config``."""
    return get_solver(name).run(problem, config)
