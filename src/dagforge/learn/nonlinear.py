"""The nonlinear learner (MLP, GNN, any registered nonlinear model).

``run(data, params) -> FitResult``: fit the model with the outer solver
(:func:`dagforge.nonlinear.fit_nonlinear`); under ``loss="auto"``, if the residual
variances spread and a linear SEM's BIC agrees that the noise variances differ,
fit again with one noise variance per variable on standardised columns
(:func:`dagforge.learn.policy.switches_to_likelihood`); cut the kept fit to a DAG;
then refit in the graph's causal order (``refine="order"``) or refine by BIC.

Each fit checkpoints into its own file of ``params.checkpoint_dir``
(:data:`dagforge.nonlinear.PHASE_CHECKPOINTS`); on resume, finished fits are
replayed and the interrupted one continues.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from dagforge.data import Dataset
from dagforge.errors import ConfigError
from dagforge.graph import threshold_to_dag
from dagforge.learn import linear, policy
from dagforge.learn.cut import cut_to_dag
from dagforge.learn.result import FitParams, FitResult
from dagforge.models.registry import get_model
from dagforge.models.row_losses import block_codes
from dagforge.nonlinear import PHASE_CHECKPOINTS, NonlinearFit, fit_nonlinear
from dagforge.search import build_score, order_dag, refine_graph
from dagforge.solvers import get_solver

log = logging.getLogger(__name__)

__all__ = ["run"]


def _continued(rows: Sequence[dict[str, Any]], before: Sequence[dict[str, Any]],
               phase: str) -> list[dict[str, Any]]:
    """Trainer history ``rows`` of a later fit, tagged with ``phase``, their ``epoch`` and
    ``call`` counters continuing those of ``before`` (one run, one time axis)."""
    shift = {"epoch": max((int(r["epoch"]) for r in before if "epoch" in r), default=0),
             "call": max((int(r["call"]) + 1 for r in before if "call" in r), default=0)}
    return [{**r, "phase": phase,
             **{k: int(r[k]) + shift[k] for k in shift if k in r}} for r in rows]


def block_codes_of(data: Dataset, soft: bool) -> np.ndarray | None:
    """Interventional block codes of ``data``'s entries (None: observational): which
    mechanism produces each (:func:`dagforge.models.row_losses.block_codes`)."""
    intervened = data.intervened()
    if intervened is None:
        return None
    index = {label: k for k, label in enumerate(dict.fromkeys(data.regimes))}  # type: ignore
    regime_index = np.array([index[label] for label in data.regimes])  # type: ignore
    return block_codes(intervened, regime_index, soft)


class _Phases:
    """Runs the fits of one nonlinear learner, each with its own checkpoint file."""

    def __init__(self, params: FitParams, model_options: dict[str, Any],
                 codes: np.ndarray | None = None) -> None:
        self.params, self.model_options, self.codes = params, model_options, codes
        self.options = {"constraint": params.constraint, "lambda1": params.lambda1,
                        **params.solver_options}
        self.root = Path(params.checkpoint_dir) if params.checkpoint_dir is not None else None
        if self.root is not None and not params.resume:
            for phase in ("nll", "refit"):  # an earlier run's later fits are not this run's
                (self.root / PHASE_CHECKPOINTS[phase]).unlink(missing_ok=True)

    def run(self, phase: str, data: np.ndarray, loss: str | None = None,
            mask: np.ndarray | None = None, solver_options: dict[str, Any] | None = None,
            lbfgs_options: dict[str, Any] | None = None) -> NonlinearFit:
        p = self.params
        opts = self.model_options if loss is None else {**self.model_options, "loss": loss}
        where: dict[str, Any] = {}
        if self.root is not None:
            file = self.root / PHASE_CHECKPOINTS[phase]
            # the first fit resumes as asked (no checkpoint: an error), a later one if it
            # had started
            where = {"checkpoint_dir": file.parent, "checkpoint_every": p.checkpoint_every,
                     "resume": p.resume and (phase == "solve" or file.is_file())}
        return fit_nonlinear(
            data, model=p.model, model_options=opts, solver=p.solver,
            solver_options=self.options if solver_options is None else solver_options,
            inner=p.inner, lbfgs_options=lbfgs_options, train_config=p.train_options,
            random_state=p.random_state, device=p.device,
            allowed=p.allowed if mask is None else mask, required=p.required,
            codes=self.codes, **where)


def residual_variances(model: nn.Module, X: np.ndarray | Tensor,
                       codes: np.ndarray | None = None) -> np.ndarray:
    """Mean squared residual of each variable, shape (d,), under the fitted ``model``
    (evaluation mode: deterministic predictions) on ``X`` of shape (n, d); with
    interventional ``codes``, over the entries a mechanism produces (code >= 1)."""
    param = next(model.parameters())
    Xt = torch.as_tensor(np.asarray(X, dtype=float), dtype=param.dtype, device=param.device)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            res = Xt - model.predict(Xt)  # type: ignore[operator]  # [n, d]
    finally:
        model.train(was_training)
    if codes is None:
        return (res**2).mean(dim=0).cpu().numpy()
    sq = (res**2).cpu().numpy()  # [n, d]
    kept = np.asarray(codes) >= 1
    return (sq * kept).sum(axis=0) / np.maximum(kept.sum(axis=0), 1)


def _model_options(params: FitParams) -> tuple[dict[str, Any], str | None]:
    """The model options with the learner's ``loss`` applied, and the fixed loss (None:
    ``loss="auto"`` decides)."""
    model_options = dict(params.model_options)
    fixed = model_options.get("loss")
    if fixed is not None and params.loss not in ("auto", fixed):
        raise ConfigError(f"loss={params.loss!r} contradicts model_options loss={fixed!r}")
    if fixed is None and params.loss != "auto":
        model_options["loss"] = fixed = params.loss
    return model_options, fixed


def _linear_witness(data: Dataset, params: FitParams) -> str:
    """The noise model a linear SEM's BIC prefers on ``data``, fitted with the user's
    constraint, L1 weight, score and knowledge."""
    witness = dataclasses.replace(params, spec=get_model("linear"), loss="auto",
                                  refine="hill_climb", solver_options={}, model_options={},
                                  inner=None, train_options=None, checkpoint_dir=None,
                                  resume=False)
    return linear.run(data, witness).noise_model


def _order_refit(phases: _Phases, weights: np.ndarray, data: np.ndarray,
                 loss: str | None) -> NonlinearFit:
    """Fit once more with each variable's inputs restricted to its predecessors in the
    causal order of ``weights`` (one stage, a lighter L1 weight)."""
    p = phases.params
    settings = p.spec.order_refit
    if settings is None:
        raise ConfigError(f"model {p.model!r} has no order refit settings")
    mask = order_dag(weights)  # [d, d] i -> j for i before j in the graph's order
    if p.allowed is not None:
        mask &= p.allowed
    options = {**phases.options, "lambda1": settings["l1_share"] * phases.options["lambda1"],
               **get_solver(p.solver).one_stage}  # one stage: h is 0 on an order's mask
    inner = p.inner or policy.default_inner(p.spec, phases.model_options)
    # one stage, solved to convergence (the solve's stages add up to more steps); the
    # trainer has its own epochs
    lbfgs = {"max_iter": int(settings["max_iter"])} if inner == "lbfgs" else None
    return phases.run("refit", data, loss, mask, options, lbfgs)


def run(data: Dataset, params: FitParams) -> FitResult:
    """Fit, switch the loss if asked, cut, and refit or refine; see the module docstring."""
    if not data.continuous:  # binary / categorical columns: the typed model
        from dagforge.learn import typed

        return typed.run(data, params)
    X = data.values
    model_options, fixed = _model_options(params)
    switch = fixed is None and params.spec.loss_choice_applies(model_options)
    codes = block_codes_of(data, params.interventions == "soft")
    phases = _Phases(params, model_options, codes)
    fit = phases.run("solve", X)
    fit_data, loss = X, None  # what the kept fit saw
    spread = witness = None
    if switch:
        spread = policy.residual_spread(residual_variances(fit.model, X, codes))
        if spread > policy.NONLINEAR_NLL_SPREAD:
            witness = _linear_witness(data, params)
            log.info("residual variances spread by %.3f > %.3f; the linear SEM's BIC "
                     "prefers %s noise variances", spread, policy.NONLINEAR_NLL_SPREAD,
                     witness)
        if policy.switches_to_likelihood(spread, witness):
            log.info("refitting with one noise variance per variable")
            # the likelihood ignores the columns' units, but the L1 term and the
            # threshold on the input weights then weigh every variable alike
            fit_data, loss = data.standardized().values, "nll"
            fit = phases.run("nll", fit_data, loss)
    history = [{**row, "phase": "solve"} for row in fit.train_history]
    weights, threshold = cut_to_dag(fit.result.W, X, "nonlinear", params)
    out = FitResult(solver=fit.result, weights=weights, threshold=threshold,
                    noise_model="unequal" if (loss or fixed) == "nll" else "equal",
                    residual_spread=spread, linear_noise_model=witness,
                    train_history=history)
    if params.refine == "order":
        refit = _order_refit(phases, weights, fit_data, loss)
        out.W_refit = refit.result.W
        out.train_history += _continued(refit.train_history, history, phase="refit")
        out.weights = threshold_to_dag(refit.result.W, params.spec.order_refit["threshold"],
                                       params.required)
    elif params.refine == "hill_climb":
        score = build_score(params.score, data, noise="unequal", penalty=params.penalty,
                            gamma=params.gamma)
        out.weights, out.refine_scores = refine_graph(
            score, fit.result.path, threshold, allowed=params.allowed,
            required=params.required)
    return out
