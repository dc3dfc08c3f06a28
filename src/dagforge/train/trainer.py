r"""Mini-batch Adam inner optimiser with validation, early stopping and divergence recovery.

:class:`Trainer` implements the :class:`~dagforge.solvers.base.InnerOptimizer`
protocol, so the outer solvers (path following, augmented Lagrangian) drive it
exactly like the full-batch :class:`~dagforge.solvers.inner.QuasiNewton`. One
call minimises, from the parameters' current values,

.. math::  F(\theta) = c\, \ell(\theta) + p(W(\theta)) + \lambda \sum_{q \in Q} |q|,

with ``c = fit_weight``, ``p = penalty`` and :math:`\lambda` = ``l1`` chosen by the
outer solver, :math:`\ell` the data term, ``Q = problem.l1_params``. Each epoch
(:func:`~dagforge.train.epoch.run_epoch`):

1. the training rows are shuffled (the trainer's own ``torch.Generator``) and cut
   into mini-batches; for each batch ``B`` the smooth part
   :math:`c\,\ell_B + p(W)` (``problem.batch_fit(B)``) is differentiated, the
   fit and acyclicity gradients separately so their norms are logged;
2. the gradient's norm is recorded *before* clipping; with ``clip_grad_norm``
   set, a larger gradient is rescaled to that norm (``clip_grad_norm_``);
3. ``torch.optim.Adam`` takes a step, then the L1 term is applied (``l1_mode``):

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
(parameters, Adam's state and the schedule's), halves the learning rate and its
schedule (for the rest of the run) and retries; after ``max_retries`` consecutive
failures a :class:`~dagforge.errors.SolverError` names the epoch and step. All of
it is logged. Each call starts a new Adam and a new learning-rate schedule
(:mod:`dagforge.train.schedules`).

Every epoch appends a row to :attr:`Trainer.history` (see
:data:`~dagforge.train.history.HISTORY_FIELDS`). A tqdm progress bar (epoch, loss,
h, gradient norm, lr) is shown only when stderr is a terminal.
"""

from __future__ import annotations

import copy
import logging
import math
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor
from torch.optim import Adam
from torch.optim.lr_scheduler import LRScheduler
from tqdm import tqdm

from dagforge import progress
from dagforge.errors import ConfigError, DataError, SolverError
from dagforge.solvers.base import InnerResult, Problem
from dagforge.train.config import TrainConfig
from dagforge.train.epoch import EpochStats, EpochTerms, objective, run_epoch
from dagforge.train.schedules import make_scheduler, scale_lr, start_plateau, step_scheduler

log = logging.getLogger(__name__)

__all__ = ["Trainer"]

#: Keys of a mid-call state (:meth:`Trainer.state_dict`'s ``"call_state"``).
_CALL_KEYS = ("call", "fit_weight", "l1", "epoch", "steps", "best_val", "best_epoch",
              "best_params", "bad_epochs", "params", "optimizer", "scheduler")

#: What an epoch is rolled back to: parameters, optimiser state, scheduler state.
_Snapshot = tuple[list[Tensor], dict[str, Any], dict[str, Any] | None]


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
    retries: int = 0


def _improved(value: float, best: float, min_delta: float) -> bool:
    return value < best - min_delta * max(1.0, abs(best)) if math.isfinite(best) else True


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
        One row per epoch over the whole run (:data:`~dagforge.train.HISTORY_FIELDS`).
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
        self._lr_scale = 1.0  # 2^-k after k rollbacks
        self._n_calls = 0
        self._epoch = 0
        self._state: _CallState | None = None  # the running call
        self._optimizer: Adam | None = None
        self._scheduler: LRScheduler | None = None
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
        (parameters, Adam's and the scheduler's ``state_dict``, best parameters,
        counters) under ``"call_state"``.
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
            params, optimizer, scheduler = self._snapshot()
            out["call_state"] = {
                "call": st.call, "fit_weight": st.fit_weight, "l1": st.l1, "epoch": st.epoch,
                "steps": st.steps, "best_val": st.best_val, "best_epoch": st.best_epoch,
                "best_params": None if st.best_params is None
                else [t.detach().clone() for t in st.best_params],
                "bad_epochs": st.bad_epochs, "params": params, "optimizer": optimizer,
                "scheduler": scheduler,
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
            pending = state["call_state"]
            missing = [] if pending is None else [k for k in _CALL_KEYS if k not in pending]
        except (KeyError, TypeError, ValueError, RuntimeError, IndexError) as exc:
            raise DataError(f"trainer state in the checkpoint is malformed: {exc}") from None
        if missing:
            raise DataError(f"trainer state in the checkpoint is malformed: the inner call's "
                            f"state lacks {missing} (written by another dagforge version?)")
        self._pending = None if pending is None else dict(pending)

    # ------------------------------------------------------------------ helpers
    def _rows(self, data: Tensor) -> tuple[Tensor, Tensor | None]:
        """The training and validation rows; the split is drawn at the first call."""
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

    def _lr(self) -> float:
        assert self._optimizer is not None
        return float(self._optimizer.param_groups[0]["lr"])

    def _snapshot(self) -> _Snapshot:
        """Copies of the parameters and of Adam's and the scheduler's state."""
        assert self._optimizer is not None
        scheduler = (None if self._scheduler is None
                     else copy.deepcopy(self._scheduler.state_dict()))
        return ([p.detach().clone() for p in self._params],
                copy.deepcopy(self._optimizer.state_dict()), scheduler)

    def _restore(self, snapshot: _Snapshot) -> None:
        assert self._optimizer is not None
        params, optimizer, scheduler = snapshot
        with torch.no_grad():
            for p, v in zip(self._params, params, strict=True):
                p.copy_(v)
        self._optimizer.load_state_dict(optimizer)
        if self._scheduler is not None:
            self._scheduler.load_state_dict(scheduler)  # type: ignore[arg-type]

    def _start(self, problem: Problem, fit_weight: float, l1: float) -> _CallState:
        """A new Adam and schedule for this call; a pending mid-call state is loaded."""
        cfg = self.config
        self._params = [p for p in problem.module.parameters() if p.requires_grad]
        # the first Adam of a process imports torch._dynamo: about 2 s, once (docs/tuning.md)
        self._optimizer = Adam(self._params, lr=cfg.lr * self._lr_scale, betas=cfg.betas,
                               eps=cfg.eps)
        self._scheduler = make_scheduler(self._optimizer, cfg, self._lr_scale)
        st = _CallState(call=self._n_calls, fit_weight=float(fit_weight), l1=float(l1))
        pending, self._pending = self._pending, None
        if pending is not None:
            self._resume(st, pending)
        return st

    def _resume(self, st: _CallState, pending: Mapping[str, Any]) -> None:
        if int(pending["call"]) != self._n_calls or not (
                math.isclose(float(pending["fit_weight"]), st.fit_weight, rel_tol=1e-12)
                and math.isclose(float(pending["l1"]), st.l1, rel_tol=1e-12, abs_tol=1e-300)):
            raise DataError("the checkpoint's inner call does not match the resumed run "
                            f"(call {pending['call']} with fit_weight={pending['fit_weight']}, "
                            f"l1={pending['l1']}; the run is at call {self._n_calls} with "
                            f"fit_weight={st.fit_weight}, l1={st.l1})")
        try:
            self._restore((pending["params"], pending["optimizer"], pending["scheduler"]))
        except (KeyError, TypeError, ValueError, RuntimeError) as exc:
            raise DataError(f"the checkpoint's optimiser state does not fit this run: "
                            f"{exc}") from None
        for name in ("epoch", "steps", "best_epoch", "bad_epochs"):
            setattr(st, name, int(pending[name]))
        st.best_val = float(pending["best_val"])
        st.best_params = (None if pending["best_params"] is None
                          else [t.clone() for t in pending["best_params"]])
        log.info("resuming inner call %d at epoch %d", st.call, st.epoch)

    # ------------------------------------------------------------------ the call
    def __call__(
        self, problem: Problem, fit_weight: float, penalty: Callable[[Tensor], Tensor], l1: float
    ) -> InnerResult:
        """Minimise ``fit_weight * fit + penalty(W) + l1 * |l1_params|_1`` in place."""
        if problem.batch_fit is None or problem.data is None:
            raise ConfigError("the Adam trainer needs a problem with batch_fit and data")
        cfg = self.config
        train, val = self._rows(problem.data)
        val_rows = train if val is None else val
        resumed = self._pending is not None
        st = self._start(problem, fit_weight, l1)
        self._state = st
        terms = EpochTerms(st.fit_weight, penalty, st.l1)
        if not resumed:  # the warm start is the first candidate: a call never ends worse
            start_val, _ = objective(problem, val_rows, terms)
            if math.isfinite(start_val):
                st.best_val = start_val
                st.best_params = [p.detach().clone() for p in self._params]
            start_plateau(self._scheduler, st.best_val)
        problem.module.train()
        bar = tqdm(total=cfg.max_epochs, initial=st.epoch, desc=f"inner {st.call}", leave=False,
                   file=sys.stderr, disable=not (cfg.progress and progress.enabled()))
        try:
            stopped, lr = self._epochs(problem, train, val_rows, st, terms, bar)
        finally:
            bar.close()
        if st.best_params is not None:
            with torch.no_grad():
                for p, b in zip(self._params, st.best_params, strict=True):
                    p.copy_(b)
        problem.module.eval()
        reason = (f"validation objective did not improve for {cfg.patience} epochs"
                  if stopped else f"max_epochs={cfg.max_epochs} reached")
        log.info("inner call %d: %d epochs, %d steps, best validation objective %.6g at epoch "
                 "%d (%s)", st.call, st.epoch, st.steps, st.best_val, st.best_epoch, reason)
        self._n_calls += 1
        self._state = None
        self._optimizer = self._scheduler = None
        return InnerResult(n_iter=st.epoch, n_eval=st.steps, converged=stopped,
                           message=reason, lr=lr)

    def _epochs(self, problem: Problem, train: Tensor, val_rows: Tensor, st: _CallState,
                terms: EpochTerms, bar: tqdm) -> tuple[bool, float]:
        """Epochs until early stopping or ``max_epochs``: ``(stopped early, last lr)``."""
        cfg = self.config
        lr = self._lr()
        while st.epoch < cfg.max_epochs:
            if st.bad_epochs >= cfg.patience:  # checked first: a resumed call may be done
                return True, lr
            lr = self._lr()
            saved = self._snapshot()
            stats = run_epoch(problem, train, self._optimizer,  # type: ignore[arg-type]
                              config=cfg, terms=terms, generator=self._gen,
                              epoch=st.epoch + 1)
            val_obj, pen = math.nan, math.nan
            if stats.failure is None:
                val_obj, pen = objective(problem, val_rows, terms)
                if not math.isfinite(val_obj):
                    stats.failure = (f"validation objective {val_obj} after epoch "
                                     f"{st.epoch + 1} ({stats.steps} steps)")
            if stats.failure is not None:
                self._roll_back(st, saved, stats.failure)
                continue
            row = self._finish_epoch(problem, st, stats, lr, val_obj, pen)
            bar.update(1)
            bar.set_postfix(loss=f"{row['val_objective']:.4g}", h=f"{row['h']:.2g}",
                            gnorm=f"{row['grad_norm_max']:.3g}", lr=f"{lr:.2g}")
            if self.on_epoch_end is not None:
                self.on_epoch_end(self)
        return st.bad_epochs >= cfg.patience, lr

    def _roll_back(self, st: _CallState, saved: _Snapshot, failure: str) -> None:
        """Back to the epoch's start, with the learning rate halved (or give up)."""
        assert self._optimizer is not None
        self._restore(saved)
        st.retries += 1
        if st.retries > self.config.max_retries:
            raise SolverError(f"training diverged: non-finite {failure} of inner call {st.call}; "
                              f"still non-finite after {self.config.max_retries} rollbacks with "
                              f"the learning rate halved each time (now "
                              f"{self.config.lr * self._lr_scale:.3g})")
        self._lr_scale *= 0.5
        scale_lr(self._optimizer, self._scheduler, 0.5)
        log.warning("non-finite %s of inner call %d: rolled back to the start of the epoch, "
                    "learning rate halved to %.3g (retry %d of %d)", failure, st.call,
                    self._lr(), st.retries, self.config.max_retries)

    def _finish_epoch(self, problem: Problem, st: _CallState, stats: EpochStats, lr: float,
                      val_obj: float, pen: float) -> dict[str, float | int]:
        """Early-stopping bookkeeping, the schedule's step and the epoch's history row."""
        st.epoch += 1
        st.steps += stats.steps
        self._epoch += 1
        if _improved(val_obj, st.best_val, self.config.min_delta):
            st.best_val, st.best_epoch, st.bad_epochs = val_obj, st.epoch, 0
            st.best_params = [p.detach().clone() for p in self._params]
        else:
            st.bad_epochs += 1
        step_scheduler(self._scheduler, st.best_val)
        if self._lr() < lr and self.config.schedule == "plateau":
            log.info("inner call %d epoch %d: validation plateau, lr x %.3g", st.call,
                     st.epoch, self.config.plateau_factor)
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
        return row
