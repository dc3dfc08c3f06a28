r"""Learning-rate schedules of the trainer, on ``torch.optim.lr_scheduler``.

With ``e`` the epoch within the current inner call (each call starts a new
schedule), :math:`\eta_0` = ``lr`` and ``k`` the divergence rollbacks of the run so
far, the learning rate of epoch ``e`` is :math:`2^{-k}\eta_e` with

* ``"none"``: :math:`\eta_e = \eta_0` (no scheduler);
* ``"exponential"``: :math:`\eta_e = \max(\eta_{min}, \eta_0 \gamma^e)`
  (``LambdaLR``; ``ExponentialLR`` has no floor);
* ``"cosine"``: :math:`\eta_e = \eta_{min} + (\eta_0 - \eta_{min})(1 + \cos(\pi e / E)) / 2`,
  ``E = max_epochs`` (``CosineAnnealingLR``, which reaches it by its recurrence);
* ``"plateau"``: :math:`\eta_e = \max(\eta_{min}, \eta_0 f^j)`, ``f = plateau_factor``,
  ``j`` the number of times ``plateau_patience`` epochs in a row ended without an
  improvement of the validation objective by early stopping's rule (``min_delta``);
  use ``patience`` > ``plateau_patience`` (``ReduceLROnPlateau``).

A rollback halves the whole schedule, its floor :math:`\eta_{min}` included
(:func:`scale_lr`), so that it always shortens the step.
"""

from __future__ import annotations

from torch.optim import Optimizer
from torch.optim.lr_scheduler import CosineAnnealingLR, LambdaLR, LRScheduler, ReduceLROnPlateau

from dagforge.train.config import TrainConfig

__all__ = ["make_scheduler", "scale_lr", "start_plateau", "step_scheduler"]


def make_scheduler(optimizer: Optimizer, config: TrainConfig,
                   scale: float) -> LRScheduler | None:
    """The scheduler of ``config.schedule`` on ``optimizer`` (whose lr is ``config.lr * scale``).

    ``scale`` is :math:`2^{-k}` after ``k`` rollbacks; ``None`` for ``"none"``.
    """
    if config.schedule == "exponential":
        floor = config.min_lr / config.lr  # LambdaLR multiplies the lr by the factor
        return LambdaLR(optimizer, lambda e: max(floor, config.gamma**e))
    if config.schedule == "cosine":
        return CosineAnnealingLR(optimizer, T_max=config.max_epochs,
                                 eta_min=config.min_lr * scale)
    if config.schedule == "plateau":
        # it sees the best objective so far (step_scheduler): a plain decrease is early
        # stopping's improvement; it reduces after more than `patience` bad epochs; eps=0:
        # every reduction above the floor is applied
        return ReduceLROnPlateau(optimizer, mode="min", factor=config.plateau_factor,
                                 patience=config.plateau_patience - 1, threshold=0.0,
                                 threshold_mode="abs", min_lr=config.min_lr * scale, eps=0.0)
    return None


def start_plateau(scheduler: LRScheduler | None, best: float) -> None:
    """Count bad epochs from the call's starting point, whose objective is ``best``."""
    if isinstance(scheduler, ReduceLROnPlateau):
        scheduler.best = best


def step_scheduler(scheduler: LRScheduler | None, best: float) -> None:
    """Advance the schedule after an epoch; ``best``: the best validation objective so far."""
    if isinstance(scheduler, ReduceLROnPlateau):
        scheduler.step(best)
    elif scheduler is not None:
        scheduler.step()


def scale_lr(optimizer: Optimizer, scheduler: LRScheduler | None, factor: float) -> None:
    """Multiply the current learning rate and the whole schedule (base and floor) by ``factor``."""
    for group in optimizer.param_groups:
        group["lr"] *= factor
    if isinstance(scheduler, ReduceLROnPlateau):
        scheduler.min_lrs = [m * factor for m in scheduler.min_lrs]
    elif scheduler is not None:
        scheduler.base_lrs = [b * factor for b in scheduler.base_lrs]
        if isinstance(scheduler, CosineAnnealingLR):  # its recurrence runs towards eta_min
            scheduler.eta_min *= factor
