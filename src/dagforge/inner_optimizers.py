"""The inner-optimiser registry: what minimises each stage of an outer solver.

An entry (:class:`InnerSpec`) builds, for one fit of a nonlinear model, the inner
optimiser of every inner slot of the solver's config (path following has a separate
one for its last stages) and says what the run record keeps of its settings. Adding
one is a builder plus one :func:`register_inner` call; ``DagLearner(inner=name)``,
config files and checkpoints read the registry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from dagforge.errors import ConfigError
from dagforge.models.registry import ModelSpec
from dagforge.registry import Registry

__all__ = ["INNER_OPTIMIZERS", "InnerRequest", "InnerSetup", "InnerSpec", "get_inner",
           "register_inner"]


class InnerRequest(NamedTuple):
    """What a builder gets: the model's registry entry, the solver config's inner slots,
    the user's settings for either optimiser, and the solver's acyclicity function
    (for the trainer's monitoring)."""

    spec: ModelSpec
    slots: Sequence[str]
    lbfgs_options: Mapping[str, Any] | None
    train_config: Any
    h_fn: Callable[..., Any]


class InnerSetup(NamedTuple):
    """What a builder returns: an optimiser per slot, the settings the run record and
    the checkpoint keep (``lbfgs_options`` / ``train_config``), the trainer whose
    mid-call state a checkpoint saves (None for a full-batch optimiser), and whether the
    model is fitted in evaluation mode (a deterministic objective)."""

    optimizers: dict[str, Any]
    record: dict[str, Any]
    trainer: Any
    eval_mode: bool


@dataclass(frozen=True)
class InnerSpec:
    """One registered inner optimiser: ``build(request) -> InnerSetup``."""

    name: str
    build: Callable[[InnerRequest], InnerSetup]
    description: str = ""


INNER_OPTIMIZERS: Registry[InnerSpec] = Registry("inner optimiser")


def register_inner(spec: InnerSpec, *, replace: bool = False) -> InnerSpec:
    """Add ``spec`` to :data:`INNER_OPTIMIZERS` (``replace=True`` to overwrite)."""
    return INNER_OPTIMIZERS.register(spec.name, spec, replace=replace)


def get_inner(name: str) -> InnerSpec:
    """The registered inner optimiser ``name``; an unknown name is a one-line ConfigError."""
    return INNER_OPTIMIZERS.get_entry(name)


def _lbfgs(req: InnerRequest) -> InnerSetup:
    """Full-batch OWL-QN per slot, over the model's registered ``lbfgs_defaults``."""
    from dagforge.solvers.inner import QuasiNewton
    from dagforge.solvers.owlqn import OWLQNConfig

    if req.train_config is not None:
        raise ConfigError("train_config applies to inner='adam' only")
    options = {slot: {**req.spec.lbfgs_defaults.get(slot, {}),
                      **dict(req.lbfgs_options or {})} for slot in req.slots}
    try:
        optimizers = {slot: QuasiNewton(OWLQNConfig(**options[slot])) for slot in req.slots}
    except TypeError as exc:
        raise ConfigError(f"bad lbfgs option: {exc}") from None
    return InnerSetup(optimizers, {"lbfgs_options": options, "train_config": None}, None,
                      eval_mode=True)


def _adam(req: InnerRequest) -> InnerSetup:
    """The mini-batch trainer (:class:`dagforge.train.Trainer`), one for every slot."""
    from dagforge.train import TrainConfig, Trainer

    if req.lbfgs_options is not None:
        raise ConfigError("lbfgs_options apply to inner='lbfgs' only")
    config = (req.train_config if isinstance(req.train_config, TrainConfig)
              else TrainConfig.from_dict(req.train_config or {}))
    trainer = Trainer(config, h_fn=req.h_fn)
    return InnerSetup({slot: trainer for slot in req.slots},
                      {"lbfgs_options": None, "train_config": trainer.config.as_dict()},
                      trainer, eval_mode=False)


register_inner(InnerSpec("lbfgs", _lbfgs, "full-batch OWL-QN (exact zeros from the L1 term)"))
register_inner(InnerSpec("adam", _adam, "mini-batch Adam trainer with validation and "
                                        "early stopping (torch.optim)"))
