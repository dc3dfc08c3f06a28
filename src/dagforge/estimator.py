"""scikit-learn style estimator: ``DagLearner(...).fit(X)`` learns a DAG.

Hyperparameters live in ``__init__`` and are stored unchanged; ``fit`` returns
``self`` and sets the learned attributes (ending in ``_``). Every output graph
is a DAG: the solver's continuous ``W_`` is thresholded and any remaining cycle
broken by :func:`dagforge.graph.threshold_to_dag`, then optionally refined by
a local search that only ever moves between DAGs (:mod:`dagforge.refine`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

import networkx as nx
import numpy as np
import torch
from sklearn.base import BaseEstimator
from threadpoolctl import threadpool_limits

from dagforge.datasets.tables import check_matrix
from dagforge.errors import ConfigError
from dagforge.graph import threshold_to_dag, to_networkx
from dagforge.knowledge import Knowledge, as_knowledge
from dagforge.models.linear import LinearSEM, covariance, get_loss
from dagforge.refine import choose_noise_model, order_dag, refine, total_bic
from dagforge.solvers import SOLVERS, make_solver_config
from dagforge.solvers.base import Problem, SolverResult
from dagforge.ties import improves, score_tol

log = logging.getLogger(__name__)

__all__ = ["DagLearner", "resolve_device"]

Device = Literal["auto", "cpu", "cuda"]
Refine = Literal["auto", "none", "hill_climb", "order"]

#: Problems with at most this many variables run torch single-threaded (see ``n_threads``).
SMALL_PROBLEM = 200


def resolve_device(device: str) -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU; ``"cuda"`` without a GPU is an error."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device='cuda' was asked for but no CUDA device is available")
    if device not in ("cpu", "cuda"):
        raise ConfigError(f"unknown device {device!r}; choose auto, cpu or cuda")
    return torch.device(device)


@contextlib.contextmanager
def _threads(n: int | None) -> Iterator[None]:
    """Run the block with ``n`` torch intra-op threads and ``n`` BLAS threads for numpy,
    restoring the previous settings after (``None``: leave both alone)."""
    if n is None:
        yield
        return
    old = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        with threadpool_limits(limits=n):
            yield
    finally:
        torch.set_num_threads(old)


def _continued(rows: Sequence[dict[str, Any]], before: Sequence[dict[str, Any]],
               phase: str) -> list[dict[str, Any]]:
    """Trainer history ``rows`` of a later fit, tagged with ``phase``, their ``epoch`` and
    ``call`` counters continuing those of ``before`` (one run, one time axis)."""
    shift = {"epoch": max((int(r["epoch"]) for r in before if "epoch" in r), default=0),
             "call": max((int(r["call"]) + 1 for r in before if "call" in r), default=0)}
    return [{**r, "phase": phase,
             **{k: int(r[k]) + shift[k] for k in shift if k in r}} for r in rows]


class DagLearner(BaseEstimator):
    """Learn a causal DAG from a data matrix.

    Parameters
    ----------
    model : {"linear", "mlp", "gnn"}
        The structural equation model: linear SEM, one MLP per variable
        (:mod:`dagforge.models.mlp`), or DAG-GNN (:mod:`dagforge.models.gnn`).
    loss : {"auto", "ls", "nll"}
        ``"ls"``: least squares, assumes equal noise variances (NOTEARS, DAGMA);
        ``"nll"``: Gaussian likelihood with one noise variance per variable.
        ``"auto"``: solve with least squares and refine under equal variances; if BIC
        says the residual variances of that graph are not equal, solve and refine
        again with the likelihood of one variance per variable, and keep the graph
        whose model has the better BIC (``noise_model_`` says which; ``W_``,
        ``history_`` and ``h_`` belong to that solve). Without refinement it is ``"ls"``.
        For ``"mlp"`` and ``"gnn"`` (message passing) the loss of the model:
        ``"auto"`` fits with least squares and, if the residual variances of that fit
        spread widely (``residual_spread_`` above ``NONLINEAR_NLL_SPREAD``) and the
        linear SEM's BIC also prefers one noise variance per variable
        (``linear_noise_model_``), fits again with one variance per variable, on
        standardised columns, and keeps that fit; a ``"loss"`` in ``model_options``
        fixes it.
    constraint : {"logdet", "expm", "poly", "spectral"}
        Acyclicity function, see :mod:`dagforge.constraints`.
    solver : {"path_following", "augmented_lagrangian"}
        Outer solver, see :mod:`dagforge.solvers`.
    lambda1 : float
        L1 weight on the edge weights.
    threshold : float or "auto"
        Edges with ``|W_[i, j]| < threshold`` are dropped before cycles are broken.
        ``"auto"``: chosen without the truth by :func:`dagforge.selection.select_threshold`
        (the held-out likelihood of the refitted graph, random-feature regression);
        the chosen value is ``threshold_``. Measured on the benchmark families
        (``benchmarks/results/selection.md``) the fixed 0.3 is as good (MLP ER2) or
        better (linear ER2 raw / standardised, ER4, SF4) in all 5 families, hence the
        default. With the linear refinement the
        threshold only shapes the search's starting graphs; with the order refit it
        picks the graph whose causal order the refit keeps.
    refine : {"auto", "hill_climb", "order", "none"}
        ``"auto"``: ``"hill_climb"`` for the linear model, ``"order"`` for the MLP and
        the message-passing GNN with a hard adjacency fitted by L-BFGS (where it was
        measured), ``"none"`` otherwise.
        ``"hill_climb"``: local search on the extended BIC from several starts built
        from the solver's iterates (:func:`dagforge.refine.refine`; under the
        unequal-variance model also from :func:`dagforge.order_search.order_search`),
        with the noise model of ``loss``; above ``REFINE_MULTISTART_MAX_D`` variables
        from the final solve's graph only (its score is linear-Gaussian).
        ``"order"`` (nonlinear models): fit the model once more with every variable's
        inputs restricted to the variables before it in the thresholded graph's causal
        order (so no acyclicity term), with a lighter L1 weight, and cut that fit's
        adjacency (``W_refit_``) at its own threshold
        (:data:`dagforge.nonlinear.ORDER_REFIT`).
    penalty, gamma : float
        Score cost of an edge in the refinement: ``penalty * log(n) / 2 + gamma * log(d)``.
    standardize : bool
        Standardise every column before fitting.
    solver_options : dict, optional
        Further settings of the solver's config dataclass (e.g. ``{"mu_init": 0.5}``).
    model_options : dict, optional
        Keyword arguments of a nonlinear model (e.g. ``{"hidden": (10,)}``).
    inner : {"lbfgs", "adam"}, optional
        Inner optimiser of a nonlinear model: full-batch OWL-QN, or the mini-batch
        Adam trainer (:mod:`dagforge.train`); default per model.
    train_options : dict, optional
        :class:`~dagforge.train.TrainConfig` fields for ``inner="adam"``.
    knowledge : Knowledge, dict or path, optional
        Prior knowledge as hard constraints (:mod:`dagforge.knowledge`), on the
        variable names: forbidden edges (also those ruled out by tiers, roots and
        sinks) are masked out of the model's parameters; required edges are exempt
        from the L1 penalty, kept by thresholding and cycle breaking and never removed
        or reversed by the refinement. A dict or a YAML / JSON file path is read with
        :meth:`Knowledge.from_dict` / :func:`~dagforge.knowledge.load_knowledge`.
    bootstrap : int
        Number of bootstrap refits (0: none). Each refits a clone of this learner on a
        resample of the rows; the share of refits holding each edge is
        ``edge_probability_`` (:func:`dagforge.selection.bootstrap_edge_probability`).
    bootstrap_jobs : int
        Processes for the refits (``spawn``); the result does not depend on it.
    stability : float, optional
        With ``bootstrap``: keep the edges found in at least this share of the refits
        (stability selection, :func:`dagforge.selection.stable_graph`) instead of the
        full-data graph; its weights are refitted (least squares for the linear model,
        the full-data edge strengths of ``W_`` otherwise).
    random_state : int, optional
        Seed of the fit's own ``torch.Generator`` (parameter initialisation) and of the
        bootstrap resamples.
    device : {"auto", "cpu", "cuda"}
    n_threads : int, "auto" or None
        torch and BLAS threads during ``fit`` (restored afterwards). ``"auto"`` uses
        one thread for problems of at most 200 variables, where thread start-up
        costs more than it saves; ``None`` leaves the settings alone.
    """

    #: Rounds of iterated local search after the linear refinement's multi-start
    #: search (:func:`dagforge.refine.refine`), drawn from ``random_state`` (0 when None,
    #: so a fit is reproducible).
    REFINE_KICKS = 20
    #: Above this many variables the refinement climbs from the final solve's
    #: thresholded graph alone, without kicks: each climb from a far-off start (empty
    #: graph, order-restricted) costs minutes there, while the solver's graph is
    #: already close (measured: ER2 d = 500, n = 5000: F1 0.91 thresholded, 0.995
    #: after one climb of 10 s).
    REFINE_MULTISTART_MAX_D = 200
    #: ``loss="auto"`` with a nonlinear model refits with the per-variable likelihood when
    #: the least-squares fit's residual variances :math:`r_j` spread by more than this:
    #: :math:`\log(\bar r) - \overline{\log r}` (log of their arithmetic over their
    #: geometric mean; 0 when all are equal). Measured with the MLP on MLP-SEM ER2
    #: (equal noise variances), seeds 0-2: 0.006-0.02 (d=10) and 0.006-0.014 (d=20) on
    #: the raw data, where least squares is the right loss (d=10 median SHD 5 against 14
    #: with the likelihood), and 0.19-0.52 (d=10) and 0.12-0.27 (d=20) once the columns
    #: are standardised, where the likelihood is (d=20 median SHD 22 against 29). The
    #: GNN's spread on the raw data: 0.002-0.013 (d=10 and 20). A misfit spreads them
    #: too: on a raw linear ER2 SEM (d=10, variances up to 415) the MLP's and GNN's
    #: spread 0.12 / 0.14, and the likelihood refit gave SHD 23 / 22 where least squares
    #: gave 14 / 16 (empty graph 18). So the refit also needs the linear SEM's BIC to
    #: prefer one variance per variable (``linear_noise_model_``, fitted only past the
    #: cut, in 0.4-1.2 s): it does on all 12 MLP-SEM files above and on Sachs, and
    #: prefers equal variances on that linear SEM.
    NONLINEAR_NLL_SPREAD = 0.05

    def __init__(
        self,
        model: Literal["linear", "mlp", "gnn"] = "linear",
        loss: Literal["auto", "ls", "nll"] = "auto",
        constraint: str = "logdet",
        solver: Literal["path_following", "augmented_lagrangian"] = "path_following",
        lambda1: float = 0.02,
        threshold: float | Literal["auto"] = 0.3,
        refine: Refine = "auto",
        penalty: float = 1.0,
        gamma: float = 1.0,
        standardize: bool = False,
        solver_options: dict[str, Any] | None = None,
        model_options: dict[str, Any] | None = None,
        inner: Literal["lbfgs", "adam"] | None = None,
        train_options: dict[str, Any] | None = None,
        knowledge: Knowledge | dict[str, Any] | str | os.PathLike[str] | None = None,
        bootstrap: int = 0,
        bootstrap_jobs: int = 1,
        stability: float | None = None,
        random_state: int | None = None,
        device: Device = "auto",
        n_threads: int | Literal["auto"] | None = "auto",
    ) -> None:
        self.model = model
        self.loss = loss
        self.constraint = constraint
        self.solver = solver
        self.lambda1 = lambda1
        self.threshold = threshold
        self.refine = refine
        self.penalty = penalty
        self.gamma = gamma
        self.standardize = standardize
        self.solver_options = solver_options
        self.model_options = model_options
        self.inner = inner
        self.train_options = train_options
        self.knowledge = knowledge
        self.bootstrap = bootstrap
        self.bootstrap_jobs = bootstrap_jobs
        self.stability = stability
        self.random_state = random_state
        self.device = device
        self.n_threads = n_threads

    # ------------------------------------------------------------------ checks
    def _check_params(self) -> None:
        if self.model not in ("linear", "mlp", "gnn"):
            raise ConfigError(f"unknown model {self.model!r}; choose linear, mlp or gnn")
        if self.model == "linear" and self.loss != "auto":
            get_loss(self.loss)
        elif self.model != "linear" and self.loss not in ("auto", "ls", "nll"):
            raise ConfigError(f"unknown loss {self.loss!r} for model {self.model!r}; choose "
                              "auto, ls or nll")
        if self.solver not in SOLVERS:
            raise ConfigError(f"unknown solver {self.solver!r}; choose one of {sorted(SOLVERS)}")
        if not self.lambda1 >= 0:
            raise ConfigError(f"lambda1 must be >= 0, got {self.lambda1}")
        if self.threshold != "auto" and not (
                isinstance(self.threshold, int | float) and self.threshold >= 0):
            raise ConfigError(f"threshold must be a number >= 0 or 'auto', got "
                              f"{self.threshold!r}")
        if self.refine not in ("auto", "none", "hill_climb", "order"):
            raise ConfigError(f"unknown refine {self.refine!r}; choose auto, hill_climb, "
                              "order or none")
        if self.refine == "order" and self.model == "linear":
            raise ConfigError("refine='order' refits a nonlinear model; the linear model "
                              "refines with hill_climb")
        if not (isinstance(self.bootstrap, int) and self.bootstrap >= 0):
            raise ConfigError(f"bootstrap must be an integer >= 0, got {self.bootstrap!r}")
        if not (isinstance(self.bootstrap_jobs, int) and self.bootstrap_jobs >= 1):
            raise ConfigError(f"bootstrap_jobs must be an integer >= 1, got "
                              f"{self.bootstrap_jobs!r}")
        if self.stability is not None:
            if not self.bootstrap:
                raise ConfigError("stability needs bootstrap refits (bootstrap > 0)")
            if not 0.0 < self.stability <= 1.0:
                raise ConfigError(f"stability must lie in (0, 1], got {self.stability}")

    def _n_threads(self, d: int) -> int | None:
        if self.n_threads == "auto":
            return 1 if d <= SMALL_PROBLEM else None
        return self.n_threads

    # ------------------------------------------------------------------ fit
    def fit(
        self,
        X: Any,
        y: None = None,
        names: Sequence[str] | None = None,
        *,
        checkpoint_dir: str | os.PathLike[str] | None = None,
        checkpoint_every: int = 0,
        resume: bool = False,
    ) -> DagLearner:
        """Learn the DAG of ``X`` (array or DataFrame of shape (n, d)); returns ``self``.

        ``names`` overrides the variable names (default: DataFrame columns or x0..).
        For the nonlinear models, ``checkpoint_dir`` receives a checkpoint after every
        inner solve (and every ``checkpoint_every`` epochs of the mini-batch trainer),
        and ``resume=True`` continues from it: same settings and data give the same
        graph as an uninterrupted fit (CPU, same ``random_state``).
        """
        self._check_params()
        if isinstance(X, torch.Tensor):
            X = X.detach().cpu().numpy()
        Xc, feature_names = check_matrix(X, names)
        X_in = Xc  # [n, d] as given: bootstrap refits standardise their resamples themselves
        knowledge = as_knowledge(self.knowledge)
        allowed = required = None
        if knowledge is not None and not knowledge.empty:
            allowed, required = knowledge.resolve(feature_names)
        if self.standardize:
            Xc = (Xc - Xc.mean(axis=0)) / Xc.std(axis=0)
        d = Xc.shape[1]
        device = resolve_device(self.device)
        start = time.perf_counter()
        self.refine_scores_: dict[str, float] = {}
        self.noise_scores_: dict[str, float] = {}
        self.residual_spread_: float | None = None
        self.linear_noise_model_: str | None = None
        self.W_refit_: np.ndarray | None = None
        self.refine_ = self._refine_mode()  # what refine="auto" means for this model
        self.train_history_: list[dict[str, Any]] = []
        self._threshold = self.threshold
        with _threads(self._n_threads(d)):
            if self.model == "linear":
                result, weights = self._fit_linear(Xc, device, allowed, required)
            else:
                result, weights = self._fit_nonlinear(
                    Xc, device, allowed, required, checkpoint_dir=checkpoint_dir,
                    checkpoint_every=checkpoint_every, resume=resume)
        adjacency = weights != 0
        if required is not None:
            if (required & ~adjacency).any():  # a required edge of weight exactly 0
                log.warning("%d required edge(s) have weight 0; kept in adjacency_",
                            int((required & ~adjacency).sum()))
            adjacency |= required
            assert not (adjacency & ~allowed).any()  # forbidden edges are masked out
        self.W_ = result.W
        self.weights_ = weights
        self.adjacency_ = adjacency.astype(int)
        self.allowed_ = ~np.eye(d, dtype=bool) if allowed is None else allowed
        self.required_ = np.zeros((d, d), dtype=bool) if required is None else required
        self.feature_names_in_ = np.asarray(feature_names, dtype=object)
        self.n_features_in_ = d
        self.threshold_ = float(self._threshold)
        self.h_ = float(result.h)
        self.stop_reason_ = result.stop_reason.value
        self.history_ = [r.as_dict() for r in result.history]
        self.solver_state_ = dict(result.state)
        self.edge_probability_: np.ndarray | None = None
        if self.bootstrap:
            self._bootstrap(X_in, Xc, feature_names, required)
        self.fit_seconds_ = time.perf_counter() - start
        log.info("fit: %d edges, h=%.3g, %s, %.2fs", int(self.adjacency_.sum()), self.h_,
                 self.stop_reason_, self.fit_seconds_)
        return self

    def _fit_linear(
        self, X: np.ndarray, device: torch.device, allowed: np.ndarray | None = None,
        required: np.ndarray | None = None,
    ) -> tuple[SolverResult, np.ndarray]:
        """Solve, threshold, refine; for ``loss="auto"`` choose the noise model by BIC.

        ``allowed`` / ``required`` (bool, d x d) are the knowledge constraints.
        Returns the solver result behind the chosen graph and the graph's weights.
        """
        n = X.shape[0]
        S_t = covariance(X, device=device)  # [d, d]
        S = S_t.detach().cpu().numpy()
        first = {"auto": "ls", "ls": "ls", "nll": "nll"}[self.loss]
        self.noise_model_ = "equal" if first == "ls" else "unequal"
        result = self._solve_linear(S_t, first, allowed, required)
        weights = self._select(result.W, X, "linear", required)
        if self.refine_ == "none":
            return result, weights
        small = X.shape[1] <= self.REFINE_MULTISTART_MAX_D
        kw = dict(penalty=self.penalty, gamma=self.gamma, allowed=allowed, required=required,
                  kicks=self.REFINE_KICKS if small else 0, multistart=small,
                  rng=np.random.default_rng(self.random_state or 0))

        def path(res: SolverResult) -> list[np.ndarray]:
            return list(res.path) if small else [res.path[-1]]

        fits = {self.noise_model_: (result, *refine(S, n, path(result), self._threshold,
                                                     noise=self.noise_model_, **kw))}
        if self.loss == "auto":
            # Do equal variances fit the least-squares graph as well as one variance per
            # variable (by BIC)? Then keep it. Otherwise solve and refine again under the
            # unequal-variance likelihood and let BIC choose between the two graphs.
            A_ev = fits["equal"][1] != 0
            if improves(total_bic(S, n, A_ev, "unequal", self.penalty, self.gamma),
                        total_bic(S, n, A_ev, "equal", self.penalty, self.gamma),
                        score_tol(n)):
                res_nv = self._solve_linear(S_t, "nll", allowed, required)
                fits["unequal"] = (res_nv, *refine(S, n, path(res_nv), self._threshold,
                                                   noise="unequal", **kw))
        self.noise_model_, self.noise_scores_ = choose_noise_model(
            S, n, {nm: w for nm, (_, w, _) in fits.items()}, self.penalty, self.gamma)
        result, weights, self.refine_scores_ = fits[self.noise_model_]
        return result, weights

    def _fit_nonlinear(
        self, X: np.ndarray, device: torch.device, allowed: np.ndarray | None = None,
        required: np.ndarray | None = None, *,
        checkpoint_dir: str | os.PathLike[str] | None = None, checkpoint_every: int = 0,
        resume: bool = False,
    ) -> tuple[SolverResult, np.ndarray]:
        """Fit the MLP or GNN model (twice under ``loss="auto"`` when the residual
        variances spread), threshold its adjacency, then refit in the graph's causal
        order or refine, as ``refine`` says.

        Each fit checkpoints into its own file of ``checkpoint_dir``
        (:data:`dagforge.nonlinear.PHASE_CHECKPOINTS`); on resume, finished fits are
        replayed and the interrupted one continues.
        """
        from dagforge.nonlinear import (
            ORDER_REFIT,
            PHASE_CHECKPOINTS,
            default_inner,
            fit_nonlinear,
            residual_variances,
        )

        options = {"constraint": self.constraint, "lambda1": self.lambda1,
                   **(self.solver_options or {})}
        model_options = dict(self.model_options or {})
        fixed = model_options.get("loss")
        if fixed is not None and self.loss not in ("auto", fixed):
            raise ConfigError(f"loss={self.loss!r} contradicts model_options loss={fixed!r}")
        if fixed is None and self.loss != "auto":
            model_options["loss"] = fixed = self.loss
        # DAG-GNN's linear autoencoder has its ELBO, not a choice of loss
        switch = fixed is None and model_options.get("propagation") != "linear"
        root = Path(checkpoint_dir) if checkpoint_dir is not None else None
        if root is not None and not resume:
            for phase in ("nll", "refit"):  # an earlier run's later fits are not this run's
                (root / PHASE_CHECKPOINTS[phase]).unlink(missing_ok=True)

        def run(phase: str, data: np.ndarray, loss: str | None = None,
                mask: np.ndarray | None = allowed, solver_options: dict[str, Any] = options,
                lbfgs_options: dict[str, Any] | None = None) -> Any:
            opts = model_options if loss is None else {**model_options, "loss": loss}
            where: dict[str, Any] = {}
            if root is not None:
                file = root / PHASE_CHECKPOINTS[phase]
                # the first fit resumes as asked (no checkpoint: an error), a later one
                # if it had started
                where = {"checkpoint_dir": file.parent, "checkpoint_every": checkpoint_every,
                         "resume": resume and (phase == "solve" or file.is_file())}
            return fit_nonlinear(
                data, model=self.model, model_options=opts, solver=self.solver,
                solver_options=solver_options, inner=self.inner, lbfgs_options=lbfgs_options,
                train_config=self.train_options, random_state=self.random_state,
                device=device, allowed=mask, required=required, **where)

        fit = run("solve", X)
        data, loss = X, None  # what the kept fit saw
        if switch:
            r = np.maximum(residual_variances(fit.model, X), 1e-300)  # [d]
            self.residual_spread_ = float(np.log(r.mean()) - np.log(r).mean())
            if self.residual_spread_ > self.NONLINEAR_NLL_SPREAD:
                # a misfit spreads the residuals too (a sigmoid MLP on a linear chain
                # whose variances grow to 10^2): the linear SEM's BIC must agree that the
                # noise variances differ
                self.linear_noise_model_ = DagLearner(
                    model="linear", random_state=self.random_state, n_threads=None,
                    device=self.device).fit(X).noise_model_
                log.info("residual variances spread by %.3f > %.3f; the linear SEM's BIC "
                         "prefers %s noise variances", self.residual_spread_,
                         self.NONLINEAR_NLL_SPREAD, self.linear_noise_model_)
            if self.linear_noise_model_ == "unequal":
                log.info("refitting with one noise variance per variable")
                # the likelihood does not care about the columns' units, but the L1 term
                # and the threshold on the input weights then weigh every variable alike
                # (Sachs' columns differ in variance by 10^3)
                data, loss = (X - X.mean(0)) / X.std(0), "nll"
                fit = run("nll", data, loss)
        self.noise_model_ = "unequal" if (loss or fixed) == "nll" else "equal"
        self.train_history_ = [{**row, "phase": "solve"} for row in fit.train_history]
        weights = self._select(fit.result.W, X, "nonlinear", required)
        if self.refine_ == "order":
            settings = ORDER_REFIT[self.model]
            mask = order_dag(weights)  # [d, d] i -> j for i before j in the graph's order
            if allowed is not None:
                mask &= allowed
            refit_options = {**options, "lambda1": settings["l1_share"] * options["lambda1"]}
            if self.solver == "path_following":
                refit_options["s"] = (1.0,)  # one stage: h is 0 on an order's mask
            # one stage, solved to convergence (the solve's stages add up to more steps)
            lbfgs = ({"max_iter": int(settings["max_iter"])}
                     if (self.inner or default_inner(self.model, model_options)) == "lbfgs"
                     else None)  # the trainer has its own epochs
            refit = run("refit", data, loss, mask, refit_options, lbfgs)
            self.W_refit_ = refit.result.W
            self.train_history_ += _continued(refit.train_history, self.train_history_,
                                              phase="refit")
            weights = threshold_to_dag(refit.result.W, settings["threshold"], required)
        elif self.refine_ == "hill_climb":
            S = covariance(X).numpy()
            weights, self.refine_scores_ = refine(
                S, X.shape[0], fit.result.path, self._threshold, noise="unequal",
                penalty=self.penalty, gamma=self.gamma, allowed=allowed, required=required)
        return fit.result, weights

    def _refine_mode(self) -> str:
        """``refine`` with ``"auto"`` resolved for the model."""
        if self.refine != "auto":
            return self.refine
        if self.model == "linear":
            return "hill_climb"
        from dagforge.nonlinear import order_refit_default

        return ("order" if order_refit_default(self.model, self.model_options, self.inner)
                else "none")

    def _select(self, W: np.ndarray, X: np.ndarray, kind: str,
                required: np.ndarray | None) -> np.ndarray:
        """The DAG of ``W`` at the threshold (chosen first when ``"auto"``; the choice
        is stored in ``self._threshold``)."""
        if self.threshold == "auto":
            from dagforge.selection import select_threshold

            sel = select_threshold(W, X, rule="heldout", kind=kind,  # type: ignore[arg-type]
                                   required=required,
                                   rng=np.random.default_rng(self.random_state or 0))
            self._threshold = sel.threshold
            return sel.weights
        return threshold_to_dag(W, self.threshold, required)

    def _bootstrap(self, X_in: np.ndarray, X: np.ndarray, names: Sequence[str],
                   required: np.ndarray | None) -> None:
        """Set ``edge_probability_`` from bootstrap refits of ``X_in``; with ``stability``,
        replace the graph by the stable one (weights refitted on ``X``, the data the
        full fit saw)."""
        from dagforge.refine import ols_weights
        from dagforge.selection import bootstrap_edge_probability, stable_graph

        boot = bootstrap_edge_probability(self, X_in, names=names, n_boot=self.bootstrap,
                                          n_jobs=self.bootstrap_jobs,
                                          random_state=self.random_state or 0)
        self.edge_probability_ = boot.probability  # [d, d], share of refits with i -> j
        if self.stability is None:
            return
        A = stable_graph(boot.probability, self.stability, required) != 0
        if self.model == "linear":
            self.weights_ = ols_weights(covariance(X).numpy(), A)
        else:
            self.weights_ = np.where(A, self.W_, 0.0)
        self.adjacency_ = A.astype(int)
        log.info("stability selection at %.2f: %d edges", self.stability, int(A.sum()))

    def _solve_linear(self, S: torch.Tensor, loss_name: str, allowed: np.ndarray | None = None,
                      required: np.ndarray | None = None) -> SolverResult:
        """Run the solver on the linear SEM with covariance ``S`` and loss ``loss_name``;
        edges outside ``allowed`` are masked out, ``required`` ones carry no L1 penalty."""
        d = S.shape[0]
        model = LinearSEM(d, mask=allowed).to(S.device)
        loss = get_loss(loss_name)
        l1_weights = None
        if required is not None and required.any():
            l1_weights = [torch.as_tensor(~required, dtype=model.weight.dtype,
                                          device=S.device)]
        problem = Problem(
            module=model,
            fit=lambda: loss(model.adjacency(), S),
            adjacency=model.adjacency,
            l1_params=[model.weight],
            l1_weights=l1_weights,
        )
        config = make_solver_config(
            self.solver, constraint=self.constraint, lambda1=self.lambda1,
            options=self.solver_options or {},
        )
        return SOLVERS[self.solver](problem, config)

    # ------------------------------------------------------------------ outputs
    @property
    def graph_(self) -> nx.DiGraph:
        """The learned DAG as a networkx DiGraph with variable names and edge weights."""
        return to_networkx(self.weights_, [str(n) for n in self.feature_names_in_])
