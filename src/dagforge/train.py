r"""Mini-batch Adam inner optimiser with validation, early stopping and divergence recovery.

:class:`Trainer` implements the :class:`~dagforge.solvers.base.InnerOptimizer`
protocol, so the outer solvers (path following, augmented Lagrangian) drive it
exactly like the full-batch :class:`~dagforge.solvers.inner.QuasiNewton`. One
call minimises, from the parameters' current values,

.. math::  F(\theta) = c\, \ell(\theta) + p(W(\theta)) + \lambda \sum_{q \in Q} |q|,

with ``c = fit_weight``, ``p = penalty`` and :math:`\lambda` = ``l1`` chosen by the
outer solver, :math:`\ell` the data term, ``Q = problem.l1_params``. Each epoch:

1. the training rows are shuffled (the trainer's own ``torch.Generator``) and cut
   into mini-batches; for each batch ``B`` the smooth part
   :math:`c\,\ell_B + p(W)` (``problem.batch_fit(B)``) is differentiated, the
   fit and acyclicity gradients separately so their norms are logged;
2. the gradient's norm is recorded *before* clipping; with ``clip_grad_norm``
   set, a larger gradient is rescaled to that norm;
3. Adam takes a step, then the L1 term is applied (``l1_mode``):

   * ``"proximal"`` (default): a soft-threshold in Adam's own metric. With
     :math:`D = \operatorname{diag}(\sqrt{\hat v} + \epsilon)` the step solves
     :math:`\min_q \langle \hat m, q \rangle + \frac{1}{2\eta}\|q - q_t\|_D^2
     + \lambda\|q\|_1`, i.e. :math:`q \leftarrow S_{\eta\lambda/D}(q_t - \eta\hat m / D)`
     with :math:`S_\tau(x) = \operatorname{sign}(x)\max(|x| - \tau, 0)`. It produces
     exact zeros, and a coordinate stays at zero iff its gradient is below
     :math:`\lambda` (a plain threshold :math:`\eta\lambda` would not: Adam's
     steps are about :math:`\eta` whatever the gradient's size);
   * ``"subgradient"``: :math:`\lambda \operatorname{sign}(q)` is added to the
     gradient before clipping; no exact zeros.

4. the *validation* objective :math:`F` with :math:`\ell` on the held-out rows
   (evaluation mode: no sampling) decides early stopping: after ``patience``
   epochs without a relative improvement of ``min_delta`` the call stops, and
   the parameters of the best validation epoch are restored (also at
   ``max_epochs``). The starting point counts as epoch 0, so a call never hands
   back parameters with a worse validation objective than it was given (Adam's
   first steps, about ``lr`` in every coordinate, can throw a warm start off).
   The true graph is never seen.

A non-finite objective, gradient or validation value (e.g. an Adam step that
left the log-det domain) rolls the epoch back to the state at its start
(parameters and Adam moments), halves the learning rate (for the rest of the
run) and retries; after ``max_retries`` consecutive failures a
:class:`~dagforge.errors.SolverError` names the epoch and step. All of it is logged.

Learning-rate schedules, with ``e`` the epoch within the current inner call
(each call restarts the schedule and Adam's moments) and :math:`\eta_0` = ``lr``
times the divergence halvings so far:

* ``"none"``: :math:`\eta_0`;
* ``"exponential"``: :math:`\max(\eta_{min}, \eta_0 \gamma^e)`;
* ``"cosine"``: :math:`\eta_{min} + (\eta_0 - \eta_{min})(1 + \cos(\pi e / E)) / 2`,
  ``E = max_epochs``;
* ``"plateau"``: :math:`\eta_0` times ``plateau_factor`` for every
  ``plateau_patience`` epochs in a row without validation improvement, at least
  :math:`\eta_{min}` (use ``patience`` > ``plateau_patience``).

Every epoch appends a row to :attr:`Trainer.history` (see :data:`HISTORY_FIELDS`),
which :func:`write_history_csv` writes as ``history.csv``. A tqdm progress bar
(epoch, loss, h, gradient norm, lr) is shown only when stderr is a terminal.
"""

from __future__ import annotations

import copy
import csv
import logging
import math
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import torch
from torch import Tensor
from tqdm import tqdm

from dagforge._io import atomic_open
from dagforge.errors import ConfigError, DataError, SolverError
from dagforge.solvers.base import InnerResult, Problem

log = logging.getLogger(__name__)

__all__ = [
    "HISTORY_FIELDS",
    "L1Mode",
    "Schedule",
    "TrainConfig",
    "Trainer",
    "write_history_csv",
]

Schedule = Literal["none", "exponential", "cosine", "plateau"]
L1Mode = Literal["proximal", "subgradient"]

#: Columns of a :attr:`Trainer.history` row.
HISTORY_FIELDS: tuple[str, ...] = (
    "call",  # index of the inner call (outer step, retries included)
    "epoch",  # epoch counter over the whole run
    "inner_epoch",  # epoch within this inner call, from 1
    "steps",  # optimiser steps in this epoch
    "lr",  # learning rate used in this epoch
    "fit_weight",  # c, from the outer solver
    "l1",  # lambda, from the outer solver
    "train_objective",  # mean over the epoch's batches of c*l_B + p + lambda*|Q|_1
    "val_objective",  # F with l on the validation rows (training rows if none held out)
    "best_val",  # best validation objective of this call so far
    "penalty",  # p(W) at the end of the epoch
    "h",  # the monitored acyclicity h(W) at the end of the epoch (NaN without h_fn)
    "grad_fit",  # epoch mean of the mini-batch gradient norms of c*l_B
    "grad_acyclicity",  # epoch mean of the gradient norms of p(W)
    "grad_sparsity",  # lambda * sqrt(nnz(Q)): norm of the L1 subgradient at the epoch's end
    "grad_norm",  # epoch mean of the total smooth gradient norm, before clipping
    "grad_norm_max",  # epoch maximum of the same, before clipping
    "clipped",  # steps whose gradient was clipped
    "nnz",  # non-zeros of the L1 parameters
    "retries",  # rollbacks before this epoch succeeded
)


@dataclass(frozen=True)
class TrainConfig:
    """Settings of :class:`Trainer` (see the module docstring for the algorithm).

    Attributes
    ----------
    lr : float
        Adam's learning rate :math:`\\eta_0`.
    betas : tuple of float
        Adam's moment decay rates.
    eps : float
        Adam's :math:`\\epsilon`.
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
        checks = [
            (self.lr > 0, f"lr must be > 0, got {self.lr}"),
            (len(self.betas) == 2 and all(0 <= b < 1 for b in self.betas),
             f"betas must be two numbers in [0, 1), got {self.betas}"),
            (self.eps > 0, f"eps must be > 0, got {self.eps}"),
            (self.batch_size is None or self.batch_size >= 1,
             f"batch_size must be >= 1 or None, got {self.batch_size}"),
            (0 <= self.val_fraction < 1, f"val_fraction must be in [0, 1), got "
                                         f"{self.val_fraction}"),
            (self.max_epochs >= 1, f"max_epochs must be >= 1, got {self.max_epochs}"),
            (self.schedule in ("none", "exponential", "cosine", "plateau"),
             f"unknown schedule {self.schedule!r}; choose none, exponential, cosine or "
             "plateau"),
            (0 < self.gamma <= 1, f"gamma must be in (0, 1], got {self.gamma}"),
            (0 <= self.min_lr <= self.lr, f"min_lr must be in [0, lr], got {self.min_lr}"),
            (0 < self.plateau_factor < 1, f"plateau_factor must be in (0, 1), got "
                                          f"{self.plateau_factor}"),
            (self.plateau_patience >= 1, "plateau_patience must be >= 1"),
            (self.l1_mode in ("proximal", "subgradient"),
             f"unknown l1_mode {self.l1_mode!r}; choose proximal or subgradient"),
            (self.clip_grad_norm is None or self.clip_grad_norm > 0,
             f"clip_grad_norm must be > 0 or None, got {self.clip_grad_norm}"),
            (self.patience >= 1, f"patience must be >= 1, got {self.patience}"),
            (self.min_delta >= 0, f"min_delta must be >= 0, got {self.min_delta}"),
            (self.max_retries >= 0, f"max_retries must be >= 0, got {self.max_retries}"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(f"TrainConfig: {message}")

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


@dataclass
class _CallState:
    """Bookkeeping of one inner call (checkpointed mid-call)."""

    call: int
    fit_weight: float
    l1: float
    epoch: int = 0
    steps: int = 0
    best_val: float = math.inf
    best_epoch: int = 0
    best_params: list[Tensor] | None = None
    bad_epochs: int = 0
    plateau_scale: float = 1.0
    plateau_best: float = math.inf
    plateau_bad: int = 0
    retries: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class _EpochStats:
    steps: int = 0
    objective: float = 0.0
    grad_fit: float = 0.0
    grad_pen: float = 0.0
    grad_norm: float = 0.0
    grad_max: float = 0.0
    clipped: int = 0
    failure: str | None = None  # "what at step k" when something was not finite


def _improved(value: float, best: float, min_delta: float) -> bool:
    return value < best - min_delta * max(1.0, abs(best)) if math.isfinite(best) else True


def _norm(grads: Sequence[Tensor | None]) -> Tensor:
    """Euclidean norm of a list of gradients (``None`` entries skipped), a 0-d tensor."""
    parts = [torch.linalg.vector_norm(g) for g in grads if g is not None]
    if not parts:
        return torch.zeros((), dtype=torch.float64)
    return torch.linalg.vector_norm(torch.stack([p.to(torch.float64) for p in parts]))


class _Adam:
    r"""Adam (Kingma & Ba 2015) over a fixed list of parameters, with its state exposed.

    For gradient :math:`g_t`: :math:`m_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t`,
    :math:`v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2`, and
    :math:`\theta_t = \theta_{t-1} - \eta \hat m_t / D_t` with
    :math:`\hat m_t = m_t / (1 - \beta_1^t)`, :math:`D_t = \sqrt{v_t / (1 - \beta_2^t)} +
    \epsilon` (:meth:`metric`), as ``torch.optim.Adam`` computes it. Own code rather than
    ``torch.optim`` so the proximal step can use :math:`D_t`, the state is plain
    tensors, and no optimiser machinery (seconds of imports) is loaded.
    """

    def __init__(self, params: Sequence[Tensor], betas: tuple[float, float], eps: float) -> None:
        self.params = list(params)
        self.betas = betas
        self.eps = eps
        self.t = 0
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]

    def step(self, grads: Sequence[Tensor | None], lr: float) -> None:
        """One Adam step with ``grads`` (``None``: no gradient, the parameter is left alone)."""
        b1, b2 = self.betas
        self.t += 1
        c1 = 1.0 - b1**self.t
        with torch.no_grad():
            for p, g, m, v in zip(self.params, grads, self.m, self.v, strict=True):
                if g is None:
                    continue
                m.mul_(b1).add_(g, alpha=1.0 - b1)
                v.mul_(b2).addcmul_(g, g, value=1.0 - b2)
                p.addcdiv_(m, self._metric(v), value=-lr / c1)

    def _metric(self, v: Tensor) -> Tensor:
        return (v / (1.0 - self.betas[1] ** self.t)).sqrt_().add_(self.eps)

    def metric(self, p: Tensor) -> Tensor:
        """:math:`D_t` of parameter ``p`` (the diagonal of Adam's metric)."""
        i = next(k for k, q in enumerate(self.params) if q is p)
        return self._metric(self.v[i])

    def state_dict(self) -> dict[str, Any]:
        """Copies of the moments and the step count."""
        return {"t": self.t, "m": [x.clone() for x in self.m], "v": [x.clone() for x in self.v]}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict` (copied into the existing buffers)."""
        self.t = int(state["t"])
        with torch.no_grad():
            for dst, src in zip(self.m + self.v, list(state["m"]) + list(state["v"]), strict=True):
                dst.copy_(src)


class Trainer:
    """Mini-batch Adam inner optimiser (see the module docstring).

    Parameters
    ----------
    config : TrainConfig, optional
    h_fn : callable (Tensor) -> Tensor, optional
        Acyclicity function monitored every epoch (column ``h``); the optimised
        penalty is the outer solver's and is logged as ``penalty``.
    on_epoch_end : callable (Trainer) -> None, optional
        Called after every epoch's history row (e.g. to write a checkpoint; the
        trainer's :meth:`state_dict` is then mid-call and resumable).

    Attributes
    ----------
    history : list of dict
        One row per epoch over the whole run (:data:`HISTORY_FIELDS`).
    """

    def __init__(
        self,
        config: TrainConfig | None = None,
        *,
        h_fn: Callable[[Tensor], Tensor] | None = None,
        on_epoch_end: Callable[[Trainer], None] | None = None,
    ) -> None:
        self.config = config or TrainConfig()
        self.h_fn = h_fn
        self.on_epoch_end = on_epoch_end
        self.history: list[dict[str, float | int]] = []
        self._gen = torch.Generator().manual_seed(self.config.seed)
        self._split: tuple[Tensor, Tensor] | None = None  # train, val row indices
        self._lr_scale = 1.0
        self._n_calls = 0
        self._epoch = 0
        self._state: _CallState | None = None  # the running call
        self._optimizer: _Adam | None = None
        self._params: list[Tensor] = []
        self._pending: dict[str, Any] | None = None  # a mid-call state to resume

    # ------------------------------------------------------------------ public state
    @property
    def epoch(self) -> int:
        """Epochs finished over the whole run."""
        return self._epoch

    @property
    def n_calls(self) -> int:
        """Inner calls finished."""
        return self._n_calls

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue exactly: plain tensors, numbers, lists, dicts.

        Inside a call (from ``on_epoch_end``) it includes that call's state
        (parameters, Adam moments, best parameters, counters) under ``"call_state"``.
        """
        out: dict[str, Any] = {
            "n_calls": self._n_calls,
            "epoch": self._epoch,
            "lr_scale": self._lr_scale,
            "generator": self._gen.get_state(),
            "split": None if self._split is None else [t.clone() for t in self._split],
            "history": copy.deepcopy(self.history),
            "call_state": None,
        }
        st = self._state
        if st is not None and self._optimizer is not None:
            out["call_state"] = {
                "call": st.call, "fit_weight": st.fit_weight, "l1": st.l1, "epoch": st.epoch,
                "steps": st.steps, "best_val": st.best_val, "best_epoch": st.best_epoch,
                "best_params": None if st.best_params is None
                else [t.detach().clone() for t in st.best_params],
                "bad_epochs": st.bad_epochs, "plateau_scale": st.plateau_scale,
                "plateau_best": st.plateau_best, "plateau_bad": st.plateau_bad,
                "params": [p.detach().clone() for p in self._params],
                "optimizer": self._optimizer.state_dict(),
            }
        return out

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict`; a saved mid-call state resumes at the next call."""
        try:
            self._n_calls = int(state["n_calls"])
            self._epoch = int(state["epoch"])
            self._lr_scale = float(state["lr_scale"])
            self._gen.set_state(state["generator"])
            split = state["split"]
            self._split = None if split is None else (split[0].long(), split[1].long())
            self.history = [dict(r) for r in state["history"]]
            self._pending = state["call_state"]
        except (KeyError, TypeError, ValueError, RuntimeError, IndexError) as exc:
            raise DataError(f"trainer state in the checkpoint is malformed: {exc}") from None

    # ------------------------------------------------------------------ helpers
    def _rows(self, data: Tensor) -> tuple[Tensor, Tensor | None]:
        n = data.shape[0]
        if self._split is None:
            n_val = round(self.config.val_fraction * n)
            if self.config.val_fraction > 0 and not 1 <= n_val < n:
                raise ConfigError(f"val_fraction={self.config.val_fraction} leaves no "
                                  f"training or no validation rows out of {n}")
            perm = torch.randperm(n, generator=self._gen)
            self._split = (perm[n_val:].sort().values, perm[:n_val].sort().values)
            log.info("validation split: %d training rows, %d held out", n - n_val, n_val)
        train_idx, val_idx = self._split
        covered = int(train_idx.numel() + val_idx.numel())
        if covered != n:
            raise DataError(f"the saved validation split covers {covered} rows but the data "
                            f"have {n}")
        train = data[train_idx.to(data.device)]  # [n_train, d]
        val = data[val_idx.to(data.device)] if val_idx.numel() else None  # [n_val, d]
        return train, val

    def _lr(self, st: _CallState) -> float:
        cfg = self.config
        base = cfg.lr * self._lr_scale
        e = st.epoch
        if cfg.schedule == "exponential":
            return max(cfg.min_lr, base * cfg.gamma**e)
        if cfg.schedule == "cosine":
            floor = min(cfg.min_lr, base)
            return floor + (base - floor) * 0.5 * (1.0 + math.cos(math.pi * e / cfg.max_epochs))
        if cfg.schedule == "plateau":
            return max(min(cfg.min_lr, base), base * st.plateau_scale)
        return base

    def _objective(self, problem: Problem, rows: Tensor, st: _CallState,
                   penalty: Callable[[Tensor], Tensor]) -> tuple[float, float]:
        """``(F on rows, penalty)`` in evaluation mode without gradients."""
        module = problem.module
        was_training = module.training
        module.eval()
        try:
            with torch.no_grad():
                pen = float(penalty(problem.adjacency()))
                fit = float(problem.batch_fit(rows))  # type: ignore[misc]
                l1 = float(problem.l1_norm()) if st.l1 else 0.0
        finally:
            module.train(was_training)
        return st.fit_weight * fit + pen + st.l1 * l1, pen

    def _prox(self, problem: Problem, lr: float, l1: float) -> None:
        """Soft-threshold in Adam's metric (module docstring), in place."""
        assert self._optimizer is not None
        with torch.no_grad():
            for p, w in zip(problem.l1_params, problem.l1_weight_list(), strict=True):
                thr = (lr * l1) / self._optimizer.metric(p)
                if w is not None:  # per-element weights (0: exempt, e.g. required edges)
                    thr = thr * w
                p.copy_(torch.sign(p) * torch.clamp(p.abs() - thr, min=0.0))

    def _epoch_pass(self, problem: Problem, train: Tensor, st: _CallState,
                    penalty: Callable[[Tensor], Tensor], lr: float) -> _EpochStats:
        """One pass over the training rows; stops at the first non-finite value."""
        assert self._optimizer is not None
        cfg = self.config
        params = self._params
        l1_params = list(problem.l1_params)
        n = train.shape[0]
        bs = n if cfg.batch_size is None else min(cfg.batch_size, n)
        order = (torch.randperm(n, generator=self._gen).to(train.device) if bs < n
                 else None)
        stats = _EpochStats()
        for start in range(0, n, bs):
            rows = train if order is None else train[order[start:start + bs]]  # [b, d]
            step = stats.steps + 1
            fit = st.fit_weight * problem.batch_fit(rows)  # type: ignore[misc]
            pen = penalty(problem.adjacency())
            value = float(fit.detach()) + float(pen.detach())
            if not math.isfinite(value):
                stats.failure = f"objective {value} at epoch {st.epoch + 1}, step {step}"
                return stats
            g_fit = torch.autograd.grad(fit, params, allow_unused=True)
            g_pen = (torch.autograd.grad(pen, params, allow_unused=True) if pen.requires_grad
                     else [None] * len(params))
            grads = [a if b is None else (b.to(p.dtype) if a is None else a + b.to(p.dtype))
                     for a, b, p in zip(g_fit, g_pen, params, strict=True)]
            if st.l1 and cfg.l1_mode == "subgradient":
                l1_of = {id(q): (1.0 if w is None else w)
                         for q, w in zip(l1_params, problem.l1_weight_list(), strict=True)}
                grads = [g if id(p) not in l1_of else
                         (torch.zeros_like(p) if g is None else g)
                         + st.l1 * l1_of[id(p)] * p.detach().sign()
                         for g, p in zip(grads, params, strict=True)]
            total = float(_norm(grads))
            if not math.isfinite(total):
                stats.failure = f"gradient norm {total} at epoch {st.epoch + 1}, step {step}"
                return stats
            scale = 1.0
            if cfg.clip_grad_norm is not None and total > cfg.clip_grad_norm:
                scale = cfg.clip_grad_norm / (total + 1e-12)
                stats.clipped += 1
            if scale != 1.0:
                grads = [None if g is None else g * scale for g in grads]
            self._optimizer.step(grads, lr)
            if st.l1 and cfg.l1_mode == "proximal":
                self._prox(problem, lr, st.l1)
            stats.steps = step
            stats.objective += value
            stats.grad_fit += float(_norm(g_fit))
            stats.grad_pen += float(_norm(g_pen))
            stats.grad_norm += total
            stats.grad_max = max(stats.grad_max, total)
        return stats

    def _start(self, problem: Problem, fit_weight: float, l1: float) -> _CallState:
        cfg = self.config
        self._params = [p for p in problem.module.parameters() if p.requires_grad]
        self._optimizer = _Adam(self._params, cfg.betas, cfg.eps)
        st = _CallState(call=self._n_calls, fit_weight=float(fit_weight), l1=float(l1))
        pending, self._pending = self._pending, None
        if pending is None:
            return st
        if int(pending["call"]) != self._n_calls or not (
                math.isclose(float(pending["fit_weight"]), st.fit_weight, rel_tol=1e-12)
                and math.isclose(float(pending["l1"]), st.l1, rel_tol=1e-12, abs_tol=1e-300)):
            raise DataError("the checkpoint's inner call does not match the resumed run "
                            f"(call {pending['call']} with fit_weight={pending['fit_weight']}, "
                            f"l1={pending['l1']}; the run is at call {self._n_calls} with "
                            f"fit_weight={fit_weight}, l1={l1})")
        with torch.no_grad():
            for p, v in zip(self._params, pending["params"], strict=True):
                p.copy_(v)
        self._optimizer.load_state_dict(pending["optimizer"])
        for name in ("epoch", "steps", "best_epoch", "bad_epochs", "plateau_bad"):
            setattr(st, name, int(pending[name]))
        for name in ("best_val", "plateau_scale", "plateau_best"):
            setattr(st, name, float(pending[name]))
        st.best_params = (None if pending["best_params"] is None
                          else [t.clone() for t in pending["best_params"]])
        log.info("resuming inner call %d at epoch %d", st.call, st.epoch)
        return st

    # ------------------------------------------------------------------ the call
    def __call__(
        self, problem: Problem, fit_weight: float, penalty: Callable[[Tensor], Tensor], l1: float
    ) -> InnerResult:
        """Minimise ``fit_weight * fit + penalty(W) + l1 * |l1_params|_1`` in place."""
        if problem.batch_fit is None or problem.data is None:
            raise ConfigError("the Adam trainer needs a problem with batch_fit and data")
        cfg = self.config
        train, val = self._rows(problem.data)
        resumed = self._pending is not None
        st = self._start(problem, fit_weight, l1)
        self._state = st
        module = problem.module
        if not resumed:  # the warm start is the first candidate: a call never ends worse
            start_val, _ = self._objective(problem, train if val is None else val, st, penalty)
            if math.isfinite(start_val):
                st.best_val = st.plateau_best = start_val
                st.best_params = [p.detach().clone() for p in self._params]
        module.train()
        bar = tqdm(total=cfg.max_epochs, initial=st.epoch, desc=f"inner {st.call}", leave=False,
                   file=sys.stderr, disable=not (cfg.progress and sys.stderr.isatty()))
        stopped = False
        lr = self._lr(st)
        try:
            while st.epoch < cfg.max_epochs:
                if st.bad_epochs >= cfg.patience:  # checked first: a resumed call may be done
                    stopped = True
                    break
                lr = self._lr(st)
                saved = ([p.detach().clone() for p in self._params],
                         self._optimizer.state_dict())  # type: ignore[union-attr]
                stats = self._epoch_pass(problem, train, st, penalty, lr)
                val_obj, pen = math.nan, math.nan
                if stats.failure is None:
                    val_obj, pen = self._objective(problem, train if val is None else val, st,
                                                   penalty)
                    if not math.isfinite(val_obj):
                        stats.failure = (f"validation objective {val_obj} after epoch "
                                         f"{st.epoch + 1} ({stats.steps} steps)")
                if stats.failure is not None:
                    self._roll_back(st, saved, stats.failure)
                    continue
                self._finish_epoch(problem, st, stats, lr, val_obj, pen)
                bar.update(1)
                row = self.history[-1]
                bar.set_postfix(loss=f"{row['val_objective']:.4g}", h=f"{row['h']:.2g}",
                                gnorm=f"{row['grad_norm_max']:.3g}", lr=f"{lr:.2g}")
                if self.on_epoch_end is not None:
                    self.on_epoch_end(self)
            else:
                stopped = st.bad_epochs >= cfg.patience
        finally:
            bar.close()
        if st.best_params is not None:
            with torch.no_grad():
                for p, b in zip(self._params, st.best_params, strict=True):
                    p.copy_(b)
        module.eval()
        reason = (f"validation objective did not improve for {cfg.patience} epochs"
                  if stopped else f"max_epochs={cfg.max_epochs} reached")
        log.info("inner call %d: %d epochs, %d steps, best validation objective %.6g at epoch "
                 "%d (%s)", st.call, st.epoch, st.steps, st.best_val, st.best_epoch, reason)
        self._n_calls += 1
        self._state = None
        self._optimizer = None
        return InnerResult(n_iter=st.epoch, n_eval=st.steps, converged=stopped,
                           message=reason, lr=lr)

    def _roll_back(self, st: _CallState, saved: tuple[list[Tensor], dict[str, Any]],
                   failure: str) -> None:
        assert self._optimizer is not None
        with torch.no_grad():
            for p, v in zip(self._params, saved[0], strict=True):
                p.copy_(v)
        self._optimizer.load_state_dict(saved[1])
        st.retries += 1
        if st.retries > self.config.max_retries:
            raise SolverError(f"training diverged: non-finite {failure} of inner call {st.call}; "
                              f"still non-finite after {self.config.max_retries} rollbacks with "
                              f"the learning rate halved each time (now "
                              f"{self.config.lr * self._lr_scale:.3g})")
        self._lr_scale *= 0.5
        log.warning("non-finite %s of inner call %d: rolled back to the start of the epoch, "
                    "learning rate halved to %.3g (retry %d of %d)", failure, st.call,
                    self.config.lr * self._lr_scale, st.retries, self.config.max_retries)

    def _finish_epoch(self, problem: Problem, st: _CallState, stats: _EpochStats, lr: float,
                      val_obj: float, pen: float) -> None:
        cfg = self.config
        st.epoch += 1
        st.steps += stats.steps
        self._epoch += 1
        if _improved(val_obj, st.best_val, cfg.min_delta):
            st.best_val, st.best_epoch, st.bad_epochs = val_obj, st.epoch, 0
            st.best_params = [p.detach().clone() for p in self._params]
        else:
            st.bad_epochs += 1
        if cfg.schedule == "plateau":
            if _improved(val_obj, st.plateau_best, cfg.min_delta):
                st.plateau_best, st.plateau_bad = val_obj, 0
            else:
                st.plateau_bad += 1
                if st.plateau_bad >= cfg.plateau_patience:
                    st.plateau_scale *= cfg.plateau_factor
                    st.plateau_bad = 0
                    log.info("inner call %d epoch %d: validation plateau, lr x %.3g", st.call,
                             st.epoch, cfg.plateau_factor)
        with torch.no_grad():
            W = problem.adjacency()
            h = float(self.h_fn(W)) if self.h_fn is not None else math.nan
            nnz = sum(int((q != 0).sum()) for q in problem.l1_params)
        k = max(stats.steps, 1)
        row: dict[str, float | int] = {
            "call": st.call, "epoch": self._epoch, "inner_epoch": st.epoch,
            "steps": stats.steps, "lr": lr, "fit_weight": st.fit_weight, "l1": st.l1,
            "train_objective": stats.objective / k + st.l1 * float(problem.l1_norm().detach()),
            "val_objective": val_obj, "best_val": st.best_val, "penalty": pen, "h": h,
            "grad_fit": stats.grad_fit / k, "grad_acyclicity": stats.grad_pen / k,
            "grad_sparsity": st.l1 * math.sqrt(nnz), "grad_norm": stats.grad_norm / k,
            "grad_norm_max": stats.grad_max, "clipped": stats.clipped, "nnz": nnz,
            "retries": st.retries,
        }
        st.retries = 0
        self.history.append(row)
        log.debug("call %d epoch %d: lr=%.3g train=%.6g val=%.6g h=%.3g |g|max=%.3g nnz=%d",
                  st.call, st.epoch, lr, row["train_objective"], val_obj, h, stats.grad_max, nnz)


def write_history_csv(path: str | os.PathLike[str], rows: Sequence[Mapping[str, Any]]) -> None:
    """Write history rows (e.g. :attr:`Trainer.history`) as CSV, atomically.

    Columns: :data:`HISTORY_FIELDS` first (those present), then any others in order of
    appearance.
    """
    keys: list[str] = [k for k in HISTORY_FIELDS if any(k in r for r in rows)]
    for r in rows:
        keys.extend(k for k in r if k not in keys)
    with atomic_open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=keys, extrasaction="ignore")
        writer.writeheader()
        for r in rows:
            writer.writerow({k: r.get(k, "") for k in keys})
