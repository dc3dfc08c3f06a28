"""The model registry: every structural equation model dagforge can fit, with its defaults.

An entry (:class:`ModelSpec`) says which learner strategy fits the model
(``"linear"``: from the covariance, :mod:`dagforge.learn.linear`; ``"nonlinear"``:
from the rows, :mod:`dagforge.learn.nonlinear`), how to build it, and the solver and
inner-optimiser settings it uses unless the user overrides them. Adding a model is
one class plus one :func:`register_model` call; the estimator, the config files and
the command line read the registry.

The settings below were measured; ``docs/tuning.md`` has what was compared, on which
data and with which command.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

from dagforge.errors import ConfigError
from dagforge.registry import Registry

if TYPE_CHECKING:
    from torch import nn

__all__ = ["MODELS", "ModelSpec", "get_model", "model_names", "register_model"]

LearnerKind = Literal["linear", "nonlinear"]


def _always(options: Mapping[str, Any]) -> bool:
    return True


def _frozen(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType({k: _frozen(v) if isinstance(v, Mapping) else v
                             for k, v in mapping.items()})


@dataclass(frozen=True)
class ModelSpec:
    """One registered model.

    Attributes
    ----------
    name : str
        The name users choose it by (``DagLearner(model=name)``, ``--model name``).
    learner : {"linear", "nonlinear"}
        The strategy that fits it.
    build : callable or str, optional
        ``build(d, **options, random_state=..., dtype=...) -> nn.Module`` for a
        nonlinear model: a module with ``adjacency()``, ``loss(X)``,
        ``l1_parameters()`` and ``predict(X)`` (:class:`dagforge.nonlinear.StructureModel`);
        or its import path ``"package.module:Name"``, imported on first use (so that
        listing the models does not import torch).
    description : str
        One line for the docs and ``--help``.
    solver_defaults : mapping
        Per solver name, the solver settings used unless overridden (``constraint``,
        ``lambda1``, schedule fields).
    lbfgs_defaults : mapping
        Per inner slot of the solver config (``"inner"``, ``"final_inner"``), OWL-QN
        settings of the ``"lbfgs"`` inner optimiser.
    order_refit : mapping, optional
        Settings of the order refit (``l1_share``, ``threshold``, ``max_iter``;
        :func:`dagforge.learn.policy.order_refit_default` decides when it runs); None:
        the model has none.
    sampling_options : tuple of str
        Model options that make the training objective stochastic; with any of them
        set the default inner optimiser is the mini-batch trainer.
    order_refit_applies : callable
        ``f(model_options) -> bool``: whether the order refit suits this configuration.
    loss_choice_applies : callable
        ``f(model_options) -> bool``: whether the configuration fits a choice of data
        loss (``"ls"`` / ``"nll"``), so that ``loss="auto"`` may switch between them.
    """

    name: str
    learner: LearnerKind
    build: Callable[..., nn.Module] | str | None = None
    description: str = ""
    solver_defaults: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    lbfgs_defaults: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    order_refit: Mapping[str, float] | None = None
    sampling_options: tuple[str, ...] = ()
    order_refit_applies: Callable[[Mapping[str, Any]], bool] = _always
    loss_choice_applies: Callable[[Mapping[str, Any]], bool] = _always

    def __post_init__(self) -> None:
        if self.learner not in ("linear", "nonlinear"):
            raise ConfigError(f"model {self.name!r}: learner must be 'linear' or "
                              f"'nonlinear', got {self.learner!r}")
        if self.learner == "nonlinear" and self.build is None:
            raise ConfigError(f"nonlinear model {self.name!r} needs a build function")
        for name in ("solver_defaults", "lbfgs_defaults"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))
        if self.order_refit is not None:
            object.__setattr__(self, "order_refit", _frozen(self.order_refit))

    def factory(self) -> Callable[..., nn.Module]:
        """The model's constructor (imported from ``build`` if given as a path)."""
        if self.build is None:
            raise ConfigError(f"model {self.name!r} has no build function")
        if isinstance(self.build, str):
            module, _, attr = self.build.partition(":")
            return getattr(importlib.import_module(module), attr)
        return self.build

    def solver_options(self, solver: str) -> dict[str, Any]:
        """The model's default settings for ``solver`` (a fresh, mutable copy)."""
        return {k: tuple(v) if isinstance(v, list) else v
                for k, v in self.solver_defaults.get(solver, {}).items()}

    def replace(self, **changes: Any) -> ModelSpec:
        """A copy with ``changes`` (e.g. other defaults for an experiment)."""
        return dataclasses.replace(self, **changes)


MODELS: Registry[ModelSpec] = Registry("model")


def register_model(spec: ModelSpec, *, replace: bool = False) -> ModelSpec:
    """Add ``spec`` to :data:`MODELS` (``replace=True`` to overwrite an entry)."""
    return MODELS.register(spec.name, spec, replace=replace)


def get_model(name: str) -> ModelSpec:
    """The registered model ``name``; an unknown name is a one-line ConfigError."""
    _register_builtin()
    return MODELS.get_entry(name)


def model_names() -> list[str]:
    """Registered model names, built-in ones first."""
    _register_builtin()
    return list(MODELS)


def _register_builtin() -> None:
    """Register the shipped models on first use (importing them pulls in torch modules
    that a plain ``dagforge --help`` should not pay for)."""
    if "linear" in MODELS:
        return
    from dagforge.models import builtin  # noqa: F401  (registers on import)
