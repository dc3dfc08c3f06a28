"""scikit-learn style estimator: ``DagLearner(...).fit(X)`` learns a DAG.

A thin layer: hyperparameters live in ``__init__`` and are stored unchanged;
``fit`` checks them, builds the :class:`~dagforge.data.Dataset` and the resolved
:class:`~dagforge.learn.FitParams`, hands both to the model's learner strategy
(:mod:`dagforge.learn`), and copies the :class:`~dagforge.learn.FitResult` into the
learned attributes (ending in ``_``). Every output graph is a DAG.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Literal

import networkx as nx
import numpy as np
import torch
from sklearn.base import BaseEstimator
from threadpoolctl import threadpool_limits

from dagforge.data import Dataset
from dagforge.errors import ConfigError, DataError
from dagforge.fitted import FittedGraph
from dagforge.graph import to_networkx
from dagforge.inner_optimizers import get_inner
from dagforge.knowledge import Knowledge, as_knowledge
from dagforge.learn import FitParams, FitResult, policy
from dagforge.learn import run as run_learner
from dagforge.learn.policy import resolve_device
from dagforge.models.linear import get_loss
from dagforge.models.registry import get_model
from dagforge.search import get_score
from dagforge.solvers import get_solver

log = logging.getLogger(__name__)

__all__ = ["DagLearner", "resolve_device"]

Device = Literal["auto", "cpu", "cuda"]
Refine = Literal["auto", "none", "hill_climb", "order"]


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


def _with_regimes(data: Dataset, regimes: Any, targets: Any) -> Dataset:
    """``data`` with the regime labels and targets given to ``fit``, checked."""
    if regimes is None and targets is None:
        return data
    if regimes is None:
        raise DataError("targets were given without regimes: pass each row's regime label")
    if targets is None:
        raise DataError("regimes were given without targets: map each regime label to "
                        "the variables intervened on in it ([] for observational)")
    if data.regimes is not None:
        raise DataError("the Dataset already has regimes; pass regimes only with an array")
    return data.with_regimes(regimes, targets)


class DagLearner(FittedGraph, BaseEstimator):
    """Learn a causal DAG from a data matrix.

    Parameters
    ----------
    model : str
        A registered model (:mod:`dagforge.models.registry`): ``"linear"`` (linear SEM
        from the covariance), ``"mlp"`` (one MLP per variable), ``"gnn"`` (DAG-GNN).
    loss : {"auto", "ls", "nll"}
        ``"ls"``: least squares (equal noise variances, as NOTEARS / DAGMA);
        ``"nll"``: Gaussian likelihood with one noise variance per variable;
        ``"auto"``: least squares, switching to the likelihood where BIC (linear) or
        the residuals' spread and a linear SEM's BIC (nonlinear) say the noise
        variances differ (:mod:`dagforge.learn.policy`); ``noise_model_`` says which.
    constraint : str
        Acyclicity function (:mod:`dagforge.constraints`), e.g. ``"logdet"``.
    solver : str
        Outer solver (:mod:`dagforge.solvers`): ``"path_following"`` or
        ``"augmented_lagrangian"``.
    lambda1 : float
        L1 weight on the edge weights.
    threshold : float or "auto"
        Edges with ``|W_[i, j]| < threshold`` are dropped before cycles are broken;
        ``"auto"`` chooses it without the truth (:func:`dagforge.selection.select_threshold`).
    refine : {"auto", "hill_climb", "order", "none"}
        ``"hill_climb"``: BIC local search from several starts (:func:`dagforge.search.refine`);
        ``"order"`` (nonlinear): refit in the causal order of the cut graph;
        ``"auto"``: :func:`dagforge.learn.policy.refine_mode`.
    score : str
        The refinement's score, a registered one (:mod:`dagforge.search.scores`);
        ``"auto"``: :func:`dagforge.learn.policy.score_name` (the linear-Gaussian BIC for
        continuous observational data).
    interventions : {"perfect", "soft"}
        How the experiments of interventional data (``fit(..., regimes=, targets=)``)
        act: ``"perfect"`` replaces an intervened variable's mechanism in its regime
        (its term is left out there); ``"soft"`` gives it its own mechanism there (own
        intercept and noise variance; in the score also its own coefficients).
    penalty, gamma : float
        Score cost of an edge in the refinement: ``penalty * log(n) / 2 + gamma * log(d)``.
    standardize : bool
        Standardise every column before fitting.
    solver_options, model_options : dict, optional
        Fields of the solver's config; keyword arguments of a nonlinear model.
    inner : str, optional
        Inner optimiser of a nonlinear model (:mod:`dagforge.inner_optimizers`: ``"lbfgs"``
        or ``"adam"``; default: :func:`dagforge.learn.policy.default_inner`).
    train_options : dict, optional
        :class:`~dagforge.train.TrainConfig` fields for ``inner="adam"``.
    knowledge : Knowledge, dict or path, optional
        Prior knowledge as hard constraints on the variable names (:mod:`dagforge.knowledge`).
    bootstrap : int
        Number of bootstrap refits for ``edge_probability_`` (0: none).
    bootstrap_jobs : int
        Processes for the refits; the result does not depend on it.
    stability : float, optional
        With ``bootstrap``: keep the edges found in at least this share of the refits.
    random_state : int, optional
        Seed of the fit's own generators and of the bootstrap resamples.
    device : {"auto", "cpu", "cuda"}
    n_threads : int, "auto" or None
        torch and BLAS threads during ``fit`` (:func:`dagforge.learn.policy.n_threads`).

    Attributes
    ----------
    W_ : ndarray (d, d)
        The constrained solve's continuous weights; ``weights_`` / ``adjacency_`` are
        the output DAG's weights and 0/1 matrix; ``graph_`` the named networkx DiGraph;
        ``cpdag_`` its equivalence class (the directions the data fix) and
        ``adjacency_df_`` / ``weights_df_`` named tables (:mod:`dagforge.fitted`);
        ``plot()`` draws it. ``intervention_targets_``: the intervened variables of each
        interventional regime, by index (None for observational data).
        ``column_types_`` / ``levels_``: each column's type and, for discrete ones, the
        names of its levels (its values are their codes).
    """

    def __init__(
        self,
        model: str = "linear",
        loss: Literal["auto", "ls", "nll"] = "auto",
        constraint: str = "logdet",
        solver: str = "path_following",
        lambda1: float = 0.02,
        threshold: float | Literal["auto"] = 0.3,
        refine: Refine = "auto",
        score: str = "auto",
        interventions: Literal["perfect", "soft"] = "perfect",
        penalty: float = 1.0,
        gamma: float = 1.0,
        standardize: bool = False,
        solver_options: dict[str, Any] | None = None,
        model_options: dict[str, Any] | None = None,
        inner: str | None = None,
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
        self.score = score
        self.interventions = interventions
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
        spec = get_model(self.model)
        if spec.learner == "linear" and self.loss != "auto":
            get_loss(self.loss)
        elif spec.learner != "linear" and self.loss not in ("auto", "ls", "nll"):
            raise ConfigError(f"unknown loss {self.loss!r} for model {self.model!r}; choose "
                              "auto, ls or nll")
        get_solver(self.solver)
        if self.score != "auto":
            get_score(self.score)
        if self.interventions not in ("perfect", "soft"):
            raise ConfigError(f"unknown interventions {self.interventions!r}; choose perfect "
                              "or soft")
        if self.inner is not None:
            get_inner(self.inner)
        if not self.lambda1 >= 0:
            raise ConfigError(f"lambda1 must be >= 0, got {self.lambda1}")
        if self.threshold != "auto" and not (
                isinstance(self.threshold, int | float) and self.threshold >= 0):
            raise ConfigError(f"threshold must be a number >= 0 or 'auto', got "
                              f"{self.threshold!r}")
        if self.refine not in ("auto", "none", "hill_climb", "order"):
            raise ConfigError(f"unknown refine {self.refine!r}; choose auto, hill_climb, "
                              "order or none")
        if self.refine == "order" and spec.learner == "linear":
            raise ConfigError("refine='order' refits a nonlinear model; the linear model "
                              "refines with hill_climb")
        self._check_bootstrap()

    def _check_bootstrap(self) -> None:
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

    def _params(self, data: Dataset, **where: Any) -> FitParams:
        """The checked settings of a fit of ``data``, ``"auto"`` choices resolved."""
        spec = get_model(self.model)
        knowledge = as_knowledge(self.knowledge)
        allowed = required = None
        if knowledge is not None and not knowledge.empty:
            allowed, required = knowledge.resolve(list(data.names))
        return FitParams(
            spec=spec, loss=self.loss, constraint=self.constraint, solver=self.solver,
            lambda1=self.lambda1, threshold=self.threshold, penalty=self.penalty,
            gamma=self.gamma,
            refine=policy.refine_mode(self.refine, spec, self.model_options, self.inner,
                                      data.continuous),
            score=policy.score_name(self.score, data, self.interventions),
            interventions=self.interventions,
            solver_options=dict(self.solver_options or {}),
            model_options=dict(self.model_options or {}), inner=self.inner,
            train_options=self.train_options, random_state=self.random_state,
            device=resolve_device(self.device), allowed=allowed, required=required, **where)

    # ------------------------------------------------------------------ fit
    def fit(
        self,
        X: Any,
        y: None = None,
        names: Sequence[str] | None = None,
        *,
        regimes: Any = None,
        targets: Mapping[Any, Sequence[str]] | None = None,
        types: Mapping[str, str] | None = None,
        checkpoint_dir: str | os.PathLike[str] | None = None,
        checkpoint_every: int = 0,
        resume: bool = False,
    ) -> DagLearner:
        """Learn the DAG of ``X`` (array, DataFrame or :class:`~dagforge.data.Dataset` of
        shape (n, d)); returns ``self``.

        ``names`` overrides the variable names (default: DataFrame columns or x0..).
        Interventional data: ``regimes`` gives each row's regime label and ``targets``
        maps each label to the names of the variables intervened on in it (``[]``:
        observational); see :mod:`dagforge.regimes` and ``interventions``. ``types``
        maps column names to ``"continuous"``, ``"binary"`` or ``"categorical"`` over
        the inferred types (:mod:`dagforge.datasets.types`: text is categorical,
        two-valued columns binary).
        For the nonlinear models, ``checkpoint_dir`` receives a checkpoint after every
        inner solve (and every ``checkpoint_every`` epochs of the mini-batch trainer),
        and ``resume=True`` continues from it: same settings and data give the same
        graph as an uninterrupted fit (CPU, same ``random_state``).
        """
        self._check_params()
        if isinstance(X, torch.Tensor):
            X = X.detach().cpu().numpy()
        if isinstance(X, Dataset) and types is not None:
            raise DataError("a Dataset has its column types; pass types only with a table")
        given = X if isinstance(X, Dataset) else Dataset.from_matrix(X, names, types)
        given = _with_regimes(given, regimes, targets)
        data = given.standardized() if self.standardize else given
        params = self._params(data, checkpoint_dir=checkpoint_dir,
                              checkpoint_every=checkpoint_every, resume=resume)
        start = time.perf_counter()
        with _threads(policy.n_threads(self.n_threads, data.d)):
            result = run_learner(data, params)
        self._set_result(result, data, params)
        if self.bootstrap:
            # the resamples are drawn from the data as given: each refit standardises
            # its own resample
            self._bootstrap(given, data.values, params.required)
        self.fit_seconds_ = time.perf_counter() - start
        log.info("fit: %d edges, h=%.3g, %s, %.2fs", int(self.adjacency_.sum()), self.h_,
                 self.stop_reason_, self.fit_seconds_)
        return self

    def _set_result(self, result: FitResult, data: Dataset, params: FitParams) -> None:
        """Copy a learner's result into the fitted attributes."""
        d = data.d
        adjacency = result.weights != 0
        if params.required is not None:
            if (params.required & ~adjacency).any():  # a required edge of weight exactly 0
                log.warning("%d required edge(s) have weight 0; kept in adjacency_",
                            int((params.required & ~adjacency).sum()))
            adjacency |= params.required
            assert not (adjacency & ~params.allowed).any()  # forbidden edges are masked out
        solve = result.solver
        self.refine_ = params.refine
        self.score_ = params.score
        self.noise_model_ = result.noise_model
        self.noise_scores_ = result.noise_scores
        self.refine_scores_ = result.refine_scores
        self.residual_spread_ = result.residual_spread
        self.linear_noise_model_ = result.linear_noise_model
        self.W_refit_ = result.W_refit
        self.train_history_ = result.train_history
        self.W_ = solve.W
        self.weights_ = result.weights
        self.adjacency_ = adjacency.astype(int)
        self.allowed_ = ~np.eye(d, dtype=bool) if params.allowed is None else params.allowed
        self.required_ = (np.zeros((d, d), dtype=bool) if params.required is None
                          else params.required)
        self.feature_names_in_ = np.asarray(data.names, dtype=object)
        self.n_features_in_ = d
        self.column_types_ = tuple(t.value for t in data.types)
        self.levels_ = data.levels
        index = {name: j for j, name in enumerate(data.names)}
        self.intervention_targets_ = (None if data.observational else  # type: ignore[union-attr]
                                      [[index[v] for v in t] for t in data.targets.values() if t])
        self.threshold_ = float(result.threshold)
        self.h_ = float(solve.h)
        self.stop_reason_ = solve.stop_reason.value
        self.history_ = [r.as_dict() for r in solve.history]
        self.solver_state_ = dict(solve.state)
        self.edge_probability_: np.ndarray | None = None
        self.adjacency_probability_: np.ndarray | None = None

    def _bootstrap(self, given: Dataset, X: np.ndarray, required: np.ndarray | None) -> None:
        """Set ``edge_probability_`` / ``adjacency_probability_`` from bootstrap refits of
        the data as ``given``; with ``stability``, replace the graph by the stable one
        (weights refitted on ``X``, the data the full fit saw)."""
        from dagforge.resampling import bootstrap_edge_probability, stable_weights
        from dagforge.selection import stable_graph

        boot = bootstrap_edge_probability(self, given, n_boot=self.bootstrap,
                                          n_jobs=self.bootstrap_jobs,
                                          random_state=self.random_state or 0)
        self.edge_probability_ = boot.probability  # [d, d], share of refits with i -> j
        self.adjacency_probability_ = boot.adjacency_probability  # [d, d], i - j either way
        if self.stability is None:
            return
        A = stable_graph(boot.probability, self.stability, required) != 0
        self.weights_ = stable_weights(self, X, A)
        self.adjacency_ = A.astype(int)
        log.info("stability selection at %.2f: %d edges", self.stability, int(A.sum()))

    # ------------------------------------------------------------------ outputs
    @property
    def graph_(self) -> nx.DiGraph:
        """The learned DAG as a networkx DiGraph with variable names and edge weights."""
        return to_networkx(self.weights_, [str(n) for n in self.feature_names_in_])
