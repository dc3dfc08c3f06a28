"""Fit a nonlinear model (MLP SEM or DAG-GNN) with an outer solver: one call.

:func:`fit_nonlinear` builds the model, wraps it in a
:class:`~dagforge.solvers.base.Problem` (data term ``model.loss``, adjacency
``model.adjacency``, L1 on ``model.l1_parameters()``), picks the inner optimiser
(full-batch OWL-QN ``"lbfgs"``, or the mini-batch Adam :class:`~dagforge.train.Trainer`
``"adam"``), runs the outer solver, and optionally checkpoints and resumes the run
(:mod:`dagforge.resume`). Thresholding and DAG-ification are the caller's
(:func:`dagforge.graph.threshold_to_dag`).

Every model used here provides ``adjacency() -> Tensor [d, d]``,
``loss(X [n, d]) -> Tensor`` (the smooth data term, per sample) and
``l1_parameters() -> list[Tensor]`` (:class:`StructureModel`).

Prior knowledge (:mod:`dagforge.knowledge`) reaches a model through two hooks:

* forbidden edges: the constructor's ``mask`` argument (``d x d``, 1 where ``i -> j``
  may exist, 0 where not), which the model must apply to its parameters so that a
  forbidden edge neither enters the fit nor the adjacency (MLP: the first-layer
  weights of the input; DAG-GNN: the adjacency matrix);
* required edges: exempt from the L1 penalty by per-element weights of the
  :class:`~dagforge.solvers.base.Problem` (:func:`edge_l1_weights`). A model with
  L1 parameters that are not laid out like the adjacency (``[i, j]``: ``i -> j``)
  defines ``edge_l1_weights(required: bool Tensor [d, d]) -> list[Tensor]``, one
  multiplier tensor per L1 parameter (the MLP does); otherwise every L1 parameter
  must have shape ``(d, d)`` in the adjacency's layout (DAG-GNN's ``adj`` or
  ``edge_weight``).
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import logging
import os
from collections.abc import Mapping
from typing import Any, Literal, NamedTuple, Protocol

import numpy as np
import torch
from torch import Tensor, nn

from dagforge.checkpoint import load_checkpoint
from dagforge.constraints import acyclicity_fn
from dagforge.errors import ConfigError, DataError
from dagforge.inner_optimizers import InnerRequest, get_inner
from dagforge.models.registry import ModelSpec, get_model
from dagforge.resume import CHECKPOINT_FILE, CallRecorder, Checkpointer, data_fingerprint
from dagforge.solvers import get_solver, make_solver_config, run_solver
from dagforge.solvers.base import Problem, SolverResult
from dagforge.train import TrainConfig

log = logging.getLogger(__name__)

__all__ = [
    "CHECKPOINT_FILE",
    "INNER_FIELDS",
    "PHASE_CHECKPOINTS",
    "InnerName",
    "ModelName",
    "NonlinearFit",
    "StructureModel",
    "build_model",
    "build_problem",
    "edge_l1_weights",
    "fit_nonlinear",
]

ModelName = str  # a registered nonlinear model (dagforge.models.registry)
InnerName = Literal["lbfgs", "adam"]

#: Solver config fields that hold an inner optimiser (path following has a separate one
#: for its last stages).
INNER_FIELDS = ("inner", "final_inner")

#: Checkpoint file of each fit of a nonlinear ``DagLearner`` inside its
#: ``checkpoint_dir``: the first solve, the likelihood solve of ``loss="auto"`` when the
#: residual variances spread, and the order refit. Each resumes on its own (a finished
#: one is replayed in moments, see :mod:`dagforge.resume`).
PHASE_CHECKPOINTS: dict[str, str] = {
    "solve": CHECKPOINT_FILE,
    "nll": f"nll/{CHECKPOINT_FILE}",
    "refit": f"refit/{CHECKPOINT_FILE}",
}


class StructureModel(Protocol):
    """What :func:`build_problem` needs from a model."""

    def adjacency(self) -> Tensor: ...

    def loss(self, X: Tensor) -> Tensor: ...

    def l1_parameters(self) -> list[Tensor]: ...

    def predict(self, X: Tensor) -> Tensor: ...


class NonlinearFit(NamedTuple):
    """Outcome of :func:`fit_nonlinear`."""

    result: SolverResult  # W, h, stop reason, outer history, solver state
    model: nn.Module  # the fitted model (evaluation mode)
    train_history: list[dict[str, Any]]  # the trainer's per-epoch rows ([] for lbfgs)


def build_model(name: ModelName | str, d: int, options: Mapping[str, Any] | None = None, *,
                random_state: int | None = None, dtype: torch.dtype = torch.float64
                ) -> nn.Module:
    """The model ``name`` (``"mlp"``: :class:`MLPSEM`, ``"gnn"``: :class:`DAGGNN`) for ``d``
    variables; ``options`` are its keyword arguments (an unknown one is a ConfigError)."""
    spec = _nonlinear_spec(name)
    opts = dict(options or {})
    for reserved in ("random_state", "dtype"):
        if reserved in opts:
            raise ConfigError(f"model option {reserved!r} is set by fit_nonlinear's own "
                              "argument")
    try:
        return spec.factory()(d, **opts, random_state=random_state, dtype=dtype)
    except TypeError as exc:
        raise ConfigError(f"bad option for model {name!r}: {exc}") from None


def edge_l1_weights(model: nn.Module, required: np.ndarray | Tensor) -> list[Tensor]:
    """Per-element L1 multipliers of ``model.l1_parameters()`` that exempt the
    required edges (``required[i, j]``: ``i -> j`` must stay), 1 elsewhere.

    Uses the model's own ``edge_l1_weights(required)`` if it has one; otherwise every
    L1 parameter must be a ``(d, d)`` matrix laid out like the adjacency.

    Raises
    ------
    ConfigError
        The model has neither.
    """
    m: Any = model
    params = list(m.l1_parameters())
    req = torch.as_tensor(np.asarray(required) if not isinstance(required, Tensor)
                          else required).to(torch.bool)
    d = req.shape[0]
    hook = getattr(m, "edge_l1_weights", None)
    if hook is not None:
        weights = [w.to(device=p.device, dtype=p.dtype) for w, p in
                   zip(hook(req.to(params[0].device)), params, strict=True)]
        return weights
    out = []
    for p in params:
        if tuple(p.shape) != (d, d):
            raise ConfigError(
                f"model {type(model).__name__} cannot exempt required edges from the L1 "
                f"penalty: its L1 parameter of shape {tuple(p.shape)} is not a ({d}, {d}) "
                "adjacency; it needs an edge_l1_weights(required) method")
        out.append((~req).to(device=p.device, dtype=p.dtype))
    return out


def build_problem(model: nn.Module, X: Tensor, required: np.ndarray | None = None,
                  codes: Tensor | None = None) -> Problem:
    """The :class:`Problem` of ``model`` on data ``X`` of shape (n, d) (already on device);
    ``required`` (bool, d x d) edges are exempt from the L1 penalty. Interventional
    ``codes`` (n, d; :mod:`dagforge.models.row_losses`) travel with their rows: the
    problem's data are ``[X | codes]`` (n, 2d), so mini-batches keep them together."""
    m: Any = model
    weights = (edge_l1_weights(model, required)
               if required is not None and np.asarray(required).any() else None)
    if codes is None:
        fit, batch_fit, data = (lambda: m.loss(X)), m.loss, X
    else:
        if "C" not in inspect.signature(m.loss).parameters:
            raise ConfigError(f"model {type(model).__name__} cannot fit interventional data: "
                              "its loss(X, C) takes no block codes")
        d = X.shape[1]
        data = torch.cat([X, codes.to(X)], dim=1)  # [n, 2d]
        fit = lambda: m.loss(X, codes)  # noqa: E731
        batch_fit = lambda rows: m.loss(rows[:, :d], rows[:, d:])  # noqa: E731
    return Problem(
        module=model,
        fit=fit,
        adjacency=m.adjacency,
        l1_params=list(m.l1_parameters()),
        batch_fit=batch_fit,
        data=data,
        l1_weights=weights,
    )


def _with_mask(model: str, opts: dict[str, Any], allowed: np.ndarray | None,
               required: np.ndarray | None) -> dict[str, Any]:
    """Model options with the knowledge mask ``allowed`` added (and-ed with a user mask)."""
    if allowed is None:
        mask = opts.get("mask")
    else:
        build = _nonlinear_spec(model).factory()
        if "mask" not in inspect.signature(build).parameters:
            raise ConfigError(f"model {model!r} takes no knowledge mask (its constructor has "
                              "no mask argument)")
        mask = np.asarray(allowed, dtype=float)
        if opts.get("mask") is not None:
            user = opts["mask"]
            user = user.detach().cpu().numpy() if isinstance(user, Tensor) else np.asarray(user)
            mask = mask * user
        opts = {**opts, "mask": mask}
    if required is not None and mask is not None:
        m = mask.detach().cpu().numpy() if isinstance(mask, Tensor) else np.asarray(mask)
        if (np.asarray(required, bool) & (m == 0)).any():
            raise ConfigError("a required edge is masked out by model_options['mask']")
    return opts


def _solver_config(spec: ModelSpec, solver: str, options: Mapping[str, Any] | None) -> Any:
    get_solver(solver)  # an unknown solver: a one-line error
    opts = {**spec.solver_options(solver), **dict(options or {})}
    if set(opts) & set(INNER_FIELDS):
        raise ConfigError("choose the inner optimiser with fit_nonlinear(inner=...)")
    return make_solver_config(solver, options=opts)


def _nonlinear_spec(name: str) -> ModelSpec:
    """The registered model ``name``, which must be fitted from rows (not the linear one)."""
    spec = get_model(str(name))
    if spec.learner != "nonlinear":
        raise ConfigError(f"model {name!r} is not a nonlinear model")
    return spec


def _monitor_fn(config: Any) -> Any:
    """The solver's acyclicity function with default options (``s = 1`` for log-det)."""
    return acyclicity_fn(config.constraint)


def fit_nonlinear(
    X: np.ndarray | Tensor,
    *,
    model: ModelName = "mlp",
    model_options: Mapping[str, Any] | None = None,
    solver: Literal["path_following", "augmented_lagrangian"] = "path_following",
    solver_options: Mapping[str, Any] | None = None,
    inner: InnerName | None = None,
    lbfgs_options: Mapping[str, Any] | None = None,
    train_config: TrainConfig | Mapping[str, Any] | None = None,
    random_state: int | None = None,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float64,
    checkpoint_dir: str | os.PathLike[str] | None = None,
    checkpoint_every: int = 0,
    resume: bool = False,
    allowed: np.ndarray | None = None,
    required: np.ndarray | None = None,
    codes: np.ndarray | None = None,
) -> NonlinearFit:
    """Learn a weighted adjacency with a nonlinear model.

    Parameters
    ----------
    X : array of shape (n, d)
        Data (used as given: standardise beforehand if wanted).
    model : str
        A registered nonlinear model (:mod:`dagforge.models.registry`), e.g. ``"mlp"``
        (:class:`~dagforge.models.mlp.MLPSEM`) or ``"gnn"`` (:class:`~dagforge.models.gnn.DAGGNN`).
    model_options : dict, optional
        Keyword arguments of the model (e.g. ``{"hidden": (10,), "loss": "nll"}``).
        For a soft GNN, ``edge_kl_weight`` defaults to ``1 / n``.
    solver : {"path_following", "augmented_lagrangian"}
    solver_options : dict, optional
        Fields of the solver's config, over the model's registered ``solver_defaults``.
    inner : {"lbfgs", "adam"}, optional
        ``"lbfgs"``: full-batch OWL-QN (:class:`~dagforge.solvers.inner.QuasiNewton`),
        the model in evaluation mode (deterministic: soft GNN edges at their
        probabilities, no latent sampling). ``"adam"``: :class:`~dagforge.train.Trainer`
        (mini-batches, validation, early stopping, sampling in training mode).
        Default: :func:`dagforge.learn.policy.default_inner`.
    lbfgs_options : dict, optional
        :class:`~dagforge.solvers.owlqn.OWLQNConfig` fields (``"lbfgs"`` only), over
        the model's registered ``lbfgs_defaults`` for every inner optimiser of the solver.
    train_config : TrainConfig or dict, optional
        Trainer settings (``"adam"`` only).
    random_state : int, optional
        Seed of the model's initialisation and sampling generators (the trainer's
        generator is seeded by ``train_config.seed``).
    device : torch.device or str
        Where to compute (``"cpu"``, ``"cuda"``; resolve ``"auto"`` before calling).
    dtype : torch.dtype
        Parameter and data dtype.
    checkpoint_dir : path-like, optional
        Write ``checkpoint.pt`` there after every inner call (and every
        ``checkpoint_every`` epochs with ``"adam"``) and at the end.
    checkpoint_every : int
        See ``checkpoint_dir``; 0: only after inner calls.
    resume : bool
        Continue from ``checkpoint_dir``'s checkpoint (same settings and data required).
    allowed : bool ndarray of shape (d, d), optional
        Prior knowledge: edges that may exist; the others are masked out of the model
        (its ``mask`` argument, see the module docstring).
    required : bool ndarray of shape (d, d), optional
        Prior knowledge: edges that must exist; exempt from the L1 penalty (keeping
        them in the output is the caller's, e.g. ``threshold_to_dag(..., required=)``).
    codes : ndarray of shape (n, d), optional
        Interventional block codes of the entries (:func:`dagforge.models.row_losses.block_codes`):
        which entries each variable's mechanisms produce.

    Returns
    -------
    NonlinearFit
        ``(result, model, train_history)``; ``result.W`` is the continuous weighted
        adjacency (``W[i, j]``: ``i -> j``).

    Raises
    ------
    ConfigError
        Unknown model, solver, inner optimiser or option; resume with other settings.
    DataError
        A missing, corrupt or mismatching checkpoint.
    SolverError
        Training diverged beyond recovery.
    """
    from dagforge.learn.policy import default_inner

    spec = _nonlinear_spec(model)
    inner_name = inner or default_inner(spec, model_options)
    inner_spec = get_inner(inner_name)
    if resume and checkpoint_dir is None:
        raise ConfigError("resume needs checkpoint_dir")
    data = np.asarray(X.detach().cpu().numpy() if isinstance(X, Tensor) else X, dtype=float)
    if data.ndim != 2 or not np.all(np.isfinite(data)):
        raise DataError("X must be a finite 2-D array (n x d)")
    n, d = data.shape
    dev = torch.device(device)
    Xt = torch.as_tensor(data, dtype=dtype, device=dev)  # [n, d]

    opts = dict(model_options or {})
    if model == "gnn" and opts.get("soft") and "edge_kl_weight" not in opts:
        opts["edge_kl_weight"] = 1.0 / n
    for what, M in (("allowed", allowed), ("required", required)):
        if M is not None and np.shape(M) != (d, d):
            raise ConfigError(f"{what} must have shape ({d}, {d}), got {np.shape(M)}")
    opts = _with_mask(model, opts, allowed, required)
    net = build_model(model, d, opts, random_state=random_state, dtype=dtype).to(dev)
    Ct = None if codes is None else torch.as_tensor(codes, dtype=dtype, device=dev)  # [n, d]
    problem = build_problem(net, Xt, required, Ct)
    base_config = _solver_config(spec, solver, solver_options)

    slots = [f.name for f in dataclasses.fields(base_config) if f.name in INNER_FIELDS]
    inner_setup = inner_spec.build(InnerRequest(spec, slots, lbfgs_options, train_config,
                                                _monitor_fn(base_config)))
    trainer, real = inner_setup.trainer, inner_setup.optimizers
    if inner_setup.eval_mode:
        net.eval()
    recorder = CallRecorder()
    config = dataclasses.replace(base_config,
                                 **{slot: recorder.wrap(real[slot]) for slot in slots})

    checkpointer: Checkpointer | None = None
    if checkpoint_dir is not None:
        run_config = {
            "model": model, "model_options": _plain_options(opts), "solver": solver,
            "solver_options": {f.name: getattr(base_config, f.name)
                               for f in dataclasses.fields(base_config) if f.name not in slots},
            "inner": inner_name,
            **inner_setup.record,
            "random_state": random_state, "dtype": str(dtype), "n": n, "d": d,
            "data_sha256": data_fingerprint(data if codes is None
                                            else np.hstack([data, codes])),
        }
        if required is not None and np.asarray(required).any():
            run_config["required"] = np.asarray(required, bool).astype(int).tolist()
        checkpointer = Checkpointer(checkpoint_dir, model=net, recorder=recorder, trainer=trainer,
                                    config=run_config, every_epochs=checkpoint_every)
        if resume:
            checkpointer.restore(load_checkpoint(checkpointer.path))
    elif checkpoint_every:
        raise ConfigError("checkpoint_every needs checkpoint_dir")

    result = run_solver(solver, problem, config)
    net.eval()
    if checkpointer is not None:
        checkpointer.finish(result.state)
    history = copy.deepcopy(trainer.history) if trainer is not None else []
    return NonlinearFit(result=result, model=net, train_history=history)


def _plain_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """Model options with arrays as nested lists (for the run record)."""
    out: dict[str, Any] = {}
    for k, v in options.items():
        if isinstance(v, Tensor):
            v = v.detach().cpu().numpy()
        out[k] = v.tolist() if isinstance(v, np.ndarray) else v
    return out

