"""Outer solvers that drive a problem's acyclicity to zero.

* :func:`path_following` (DAGMA's central path) and
* :func:`augmented_lagrangian` (NOTEARS' method),

both over a :class:`~dagforge.solvers.base.Problem`, with a full-batch
quasi-Newton inner optimiser by default (:mod:`dagforge.solvers.inner`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from dagforge.errors import ConfigError
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
    "StopReason",
    "augmented_lagrangian",
    "make_solver_config",
    "path_following",
]

SOLVERS: dict[str, Callable[..., SolverResult]] = {
    "path_following": path_following,
    "augmented_lagrangian": augmented_lagrangian,
}
_CONFIGS: dict[str, type] = {
    "path_following": PathFollowingConfig,
    "augmented_lagrangian": AugmentedLagrangianConfig,
}


def make_solver_config(name: str, *, options: dict[str, Any], **settings: Any) -> Any:
    """The config dataclass of solver ``name`` from ``settings`` and extra ``options``;
    an option the config does not have is a :class:`~dagforge.errors.ConfigError`."""
    cls = _CONFIGS.get(name)
    if cls is None:
        raise ConfigError(f"unknown solver {name!r}; choose one of {sorted(_CONFIGS)}")
    fields = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(options) - fields)
    if unknown:
        raise ConfigError(f"unknown {name} option(s) {unknown}; known: {sorted(fields)}")
    values = {**settings, **options}
    if "s" in values:
        values["s"] = tuple(values["s"])
    return cls(**values)
