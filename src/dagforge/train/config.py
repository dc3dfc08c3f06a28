"""Settings of the mini-batch trainer: :class:`TrainConfig` and its closed option sets."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal, get_args

from dagforge.errors import ConfigError

__all__ = ["L1Mode", "Schedule", "TrainConfig"]

Schedule = Literal["none", "exponential", "cosine", "plateau"]
L1Mode = Literal["proximal", "subgradient"]


@dataclass(frozen=True)
class TrainConfig:
    r"""Settings of :class:`~dagforge.train.Trainer` (the algorithm is in
    :mod:`dagforge.train.trainer`).

    Attributes
    ----------
    lr : float
        Adam's learning rate :math:`\eta_0`.
    betas : tuple of float
        Adam's moment decay rates.
    eps : float
        Adam's :math:`\epsilon`.
    batch_size : int or None
        Rows per mini-batch; ``None`` (or at least the number of training rows):
        full batch, one step per epoch, no shuffling.
    val_fraction : float
        Fraction of rows held out for validation, in ``[0, 1)``. Split once, at the
        first call, and kept for the whole run. 0: no hold-out, the objective on the
        training rows decides early stopping.
    max_epochs : int
        Epochs per inner call at most.
    schedule : {"none", "exponential", "cosine", "plateau"}
        Learning-rate schedule within an inner call.
    gamma : float
        Per-epoch factor of ``"exponential"``.
    min_lr : float
        Floor of the ``"exponential"``, ``"cosine"`` and ``"plateau"`` schedules.
    plateau_factor : float
        Factor of ``"plateau"`` after ``plateau_patience`` epochs without improvement.
    plateau_patience : int
        See ``plateau_factor``.
    l1_mode : {"proximal", "subgradient"}
        How the L1 term is applied.
    clip_grad_norm : float or None
        Clip the smooth gradient to this Euclidean norm; ``None``: no clipping.
    patience : int
        Epochs without validation improvement before an inner call stops.
    min_delta : float
        Relative improvement that counts: ``val < best - min_delta * max(1, |best|)``.
    max_retries : int
        Consecutive rollbacks (non-finite values) before :class:`SolverError`.
    seed : int
        Seed of the trainer's generator (validation split and shuffling).
    progress : bool
        Show a progress bar (only ever when stderr is a terminal).
    """

    lr: float = 1e-2
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    batch_size: int | None = None
    val_fraction: float = 0.2
    max_epochs: int = 500
    schedule: Schedule = "none"
    gamma: float = 0.99
    min_lr: float = 0.0
    plateau_factor: float = 0.5
    plateau_patience: int = 10
    l1_mode: L1Mode = "proximal"
    clip_grad_norm: float | None = None
    patience: int = 30
    min_delta: float = 1e-6
    max_retries: int = 5
    seed: int = 0
    progress: bool = True

    def __post_init__(self) -> None:
        for ok, message in self._checks():
            if not ok:
                raise ConfigError(f"TrainConfig: {message}")

    def _checks(self) -> list[tuple[bool, str]]:
        """``(holds, message)`` for every constraint on the settings."""
        return [
            (self.lr > 0, f"lr must be > 0, got {self.lr}"),
            (len(self.betas) == 2 and all(0 <= b < 1 for b in self.betas),
             f"betas must be two numbers in [0, 1), got {self.betas}"),
            (self.eps > 0, f"eps must be > 0, got {self.eps}"),
            (self.batch_size is None or self.batch_size >= 1,
             f"batch_size must be >= 1 or None, got {self.batch_size}"),
            (0 <= self.val_fraction < 1, f"val_fraction must be in [0, 1), got "
                                         f"{self.val_fraction}"),
            (self.max_epochs >= 1, f"max_epochs must be >= 1, got {self.max_epochs}"),
            (self.schedule in get_args(Schedule),
             f"unknown schedule {self.schedule!r}; choose none, exponential, cosine or "
             "plateau"),
            (0 < self.gamma <= 1, f"gamma must be in (0, 1], got {self.gamma}"),
            (0 <= self.min_lr <= self.lr, f"min_lr must be in [0, lr], got {self.min_lr}"),
            (0 < self.plateau_factor < 1, f"plateau_factor must be in (0, 1), got "
                                          f"{self.plateau_factor}"),
            (self.plateau_patience >= 1, "plateau_patience must be >= 1"),
            (self.l1_mode in get_args(L1Mode),
             f"unknown l1_mode {self.l1_mode!r}; choose proximal or subgradient"),
            (self.clip_grad_norm is None or self.clip_grad_norm > 0,
             f"clip_grad_norm must be > 0 or None, got {self.clip_grad_norm}"),
            (self.patience >= 1, f"patience must be >= 1, got {self.patience}"),
            (self.min_delta >= 0, f"min_delta must be >= 0, got {self.min_delta}"),
            (self.max_retries >= 0, f"max_retries must be >= 0, got {self.max_retries}"),
        ]

    @classmethod
    def from_dict(cls, options: Mapping[str, Any]) -> TrainConfig:
        """The config from a mapping; an unknown key is a :class:`ConfigError`."""
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(options) - known)
        if unknown:
            raise ConfigError(f"unknown train option(s) {unknown}; known: {sorted(known)}")
        values = dict(options)
        if "betas" in values:
            values["betas"] = tuple(values["betas"])
        return cls(**values)

    def as_dict(self) -> dict[str, Any]:
        """Plain dict of the settings (for checkpoints and run records)."""
        out = asdict(self)
        out["betas"] = list(self.betas)
        return out
