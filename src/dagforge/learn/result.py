"""What a learner strategy takes (:class:`FitParams`) and gives back (:class:`FitResult`)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from dagforge.models.registry import ModelSpec
from dagforge.solvers.base import SolverResult

__all__ = ["FitParams", "FitResult"]


@dataclass(frozen=True)
class FitParams:
    """The settings of one fit, checked and resolved (see :class:`~dagforge.DagLearner`
    for each hyperparameter's meaning).

    ``allowed`` / ``required`` are the prior knowledge as ``d x d`` bool masks (None: no
    knowledge); ``refine`` and ``score`` are already resolved from ``"auto"``
    (:func:`dagforge.learn.policy.refine_mode`, :func:`dagforge.learn.policy.score_name`);
    ``device`` is a torch device.
    """

    spec: ModelSpec
    loss: str = "auto"
    constraint: str = "logdet"
    solver: str = "path_following"
    lambda1: float = 0.02
    threshold: float | str = 0.3
    refine: str = "hill_climb"
    score: str = "gaussian"
    interventions: str = "perfect"
    penalty: float = 1.0
    gamma: float = 1.0
    solver_options: Mapping[str, Any] = field(default_factory=dict)
    model_options: Mapping[str, Any] = field(default_factory=dict)
    inner: str | None = None
    train_options: Mapping[str, Any] | None = None
    random_state: int | None = None
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    allowed: np.ndarray | None = None
    required: np.ndarray | None = None
    checkpoint_dir: str | os.PathLike[str] | None = None
    checkpoint_every: int = 0
    resume: bool = False

    @property
    def model(self) -> str:
        """The model's registered name."""
        return self.spec.name


@dataclass
class FitResult:
    """The outcome of a learner strategy.

    Attributes
    ----------
    solver : SolverResult
        The constrained solve behind the kept graph: continuous ``W``, ``h``, stop
        reason, per-step history, solver state.
    weights : ndarray of shape (d, d)
        The output DAG's weights (``weights[i, j] != 0``: ``i -> j``).
    threshold : float
        The threshold that cut ``solver.W`` (chosen when ``"auto"``).
    noise_model : {"equal", "unequal"}
        The noise-variance model of the kept fit.
    refine_scores, noise_scores : dict
        Score reached from each refinement start; BIC of each noise model's graph.
    residual_spread : float, optional
        Nonlinear ``loss="auto"``: spread of the least-squares fit's residual variances.
    linear_noise_model : str, optional
        Nonlinear ``loss="auto"`` past the spread cut: what a linear SEM's BIC prefers.
    W_refit : ndarray, optional
        The order refit's weights (``refine="order"``).
    train_history : list of dict
        The mini-batch trainer's rows, tagged with their ``phase``.
    """

    solver: SolverResult
    weights: np.ndarray
    threshold: float
    noise_model: str
    refine_scores: dict[str, float] = field(default_factory=dict)
    noise_scores: dict[str, float] = field(default_factory=dict)
    residual_spread: float | None = None
    linear_noise_model: str | None = None
    W_refit: np.ndarray | None = None
    train_history: list[dict[str, Any]] = field(default_factory=list)
