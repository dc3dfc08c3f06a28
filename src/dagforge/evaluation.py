r"""A learned graph judged against the truth, beside the graphs it should beat.

A metric alone says little: an SHD of 13 on 13 true edges is the empty graph's.
So every evaluation here puts the model's metrics (:func:`dagforge.metrics.evaluate`)
beside *baselines* (:func:`compute_baselines`): the empty graph, a random DAG of
the same density (:func:`random_dag`) and the variance / R2 sorting baselines of
:mod:`dagforge.baselines`. :func:`report_warnings` turns the comparison into
sentences, each warning threshold one named constant below;
:func:`evaluate_fit` bundles it all for one fit, as ``dagforge run`` stores it.

The truth is used only here, after the fit: never to fit, stop or select.

Convention: ``W[i, j] != 0`` is the edge ``i -> j``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from dagforge.errors import DagforgeError
from dagforge.graph import is_dag
from dagforge.metrics import (
    edge_counts,
    evaluate,
    r2_sortability,
    shd_icpdag,
    varsortability,
)

__all__ = [
    "BASELINE_METHODS",
    "LOWER_IS_BETTER",
    "NO_DIRECTION",
    "VARSORTABILITY_WARNING",
    "compute_baselines",
    "edge_scores",
    "edge_status",
    "evaluate_fit",
    "finite_or_none",
    "format_number",
    "random_dag",
    "report_warnings",
    "threshold_sweep",
]

logger = logging.getLogger(__name__)

#: Varsortability above which a warning says the scale may do the work: sorting by
#: marginal variance alone then recovers most of the causal order (Reisach et al. 2021).
VARSORTABILITY_WARNING = 0.9

#: The baselines of :func:`compute_baselines`, in the order the tables show them.
BASELINE_METHODS: tuple[str, ...] = ("empty", "random", "sortnregress", "r2_sortnregress")

#: Metrics where lower is better (the other numeric ones: higher is better).
LOWER_IS_BETTER = frozenset({"shd", "shd_double", "shd_cpdag", "shd_icpdag", "extra", "missing",
                             "reversed", "fp", "fn", "fdr", "fpr"})
#: Metrics with no better direction (counts and flags that describe, not judge).
NO_DIRECTION = frozenset({"nnz", "true_edges", "tp", "is_dag", "seconds"})

_NOTE = ("against the known true graph, computed after the fit; the truth was not "
         "used to fit, stop or select")


# --------------------------------------------------------------------------- values


def finite_or_none(x: Any) -> float | None:
    """``x`` as a finite float, or None (missing, NaN, bool or not a number).

    Metric dicts read back from JSON hold ``null`` for NaN, and a bool is a
    flag, not a score; both are "no value" when comparing.

    Examples
    --------
    >>> finite_or_none(3), finite_or_none("0.5"), finite_or_none(float("nan")), finite_or_none(True)
    (3.0, 0.5, None, None)
    """
    if x is None or isinstance(x, bool):
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def format_number(v: float) -> str:
    """A compact display form of a finite number: integers without ``.0``, else 4 digits.

    Examples
    --------
    >>> format_number(5.0), format_number(0.123456), format_number(2e20)
    ('5', '0.1235', '2e+20')
    """
    return str(int(v)) if v.is_integer() and abs(v) < 1e15 else f"{v:.4g}"


def edge_scores(W: np.ndarray) -> np.ndarray:
    """Edge scores of the threshold-free metrics: ``|W|`` with an empty diagonal."""
    S = np.abs(np.asarray(W, dtype=float))
    np.fill_diagonal(S, 0.0)
    return S


# --------------------------------------------------------------------------- baselines


def random_dag(d: int, n_edges: int, rng: np.random.Generator) -> np.ndarray:
    """A uniformly random DAG on ``d`` nodes with ``n_edges`` edges (0/1 int matrix).

    A random order of the nodes, then ``n_edges`` of the ``d(d-1)/2`` pairs
    chosen without replacement, each directed along the order (capped at
    ``d(d-1)/2``).

    Examples
    --------
    >>> A = random_dag(5, 4, np.random.default_rng(0))
    >>> int(A.sum()), is_dag(A)
    (4, True)
    """
    iu, ju = np.triu_indices(d, k=1)
    k = min(max(int(n_edges), 0), len(iu))
    pick = rng.choice(len(iu), size=k, replace=False)
    order = rng.permutation(d)
    A = np.zeros((d, d), dtype=int)
    A[order[iu[pick]], order[ju[pick]]] = 1
    return A


def scored(true: np.ndarray, pred: np.ndarray, scores: np.ndarray | None = None,
           targets: Sequence[Sequence[int]] | None = None) -> dict[str, Any]:
    """:func:`dagforge.metrics.evaluate`, plus for interventional data (``targets``: the
    variables intervened on in each regime) the SHD between interventional essential
    graphs, ``shd_icpdag`` (NaN for a cyclic prediction)."""
    out = evaluate(true=true, pred=pred, scores=scores)
    if targets is not None:
        out["shd_icpdag"] = (shd_icpdag(true=true, pred=pred, targets=targets)
                             if is_dag(np.asarray(pred) != 0) else float("nan"))
    return out


def compute_baselines(
    X: np.ndarray,
    true: np.ndarray,
    *,
    n_edges: int,
    seed: int = 0,
    methods: Sequence[str] = BASELINE_METHODS,
    targets: Sequence[Sequence[int]] | None = None,
) -> dict[str, dict[str, Any]]:
    """Metrics against ``true`` of the reference graphs a model should beat.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        The data the model was fitted on.
    true : ndarray of shape (d, d)
        The true graph.
    n_edges : int
        Edges of the ``"random"`` baseline (use the model's, for the same density).
    seed : int
        Seed of the random graph.
    methods : sequence of str
        ``"random"`` (a random DAG, :func:`random_dag`), ``"empty"`` and names of
        :data:`dagforge.baselines.BASELINES`. A baseline that cannot run on
        ``X`` (e.g. sortnregress with n <= d) is logged and left out.
    targets : sequence of sequences of int, optional
        Interventional data: the variables intervened on in each regime; adds
        ``shd_icpdag`` (:func:`scored`).

    Returns
    -------
    dict
        Name -> :func:`dagforge.metrics.evaluate` dict (with ``auprc`` and
        ``auroc`` for the weighted baselines).
    """
    from dagforge.baselines import run_baseline

    B = np.asarray(true)
    out: dict[str, dict[str, Any]] = {}
    for name in methods:
        try:
            if name == "random":
                pred = random_dag(B.shape[0], n_edges, np.random.default_rng(seed))
                out[name] = scored(B, pred, targets=targets)
            elif name == "empty":
                out[name] = scored(B, np.zeros_like(B, dtype=float), targets=targets)
            else:
                Wb = run_baseline(name, X, random_state=seed)
                out[name] = scored(B, Wb, np.abs(Wb), targets)
        except DagforgeError as e:
            logger.warning("baseline %s skipped: %s", name, e)
    return out


# --------------------------------------------------------------------------- warnings


def report_warnings(
    metrics: Mapping[str, Any] | None,
    baselines: Mapping[str, Mapping[str, Any]] | None,
    *,
    adjacency: np.ndarray | None = None,
    varsortability: float | None = None,
) -> list[str]:
    """The automatic warnings of an evaluation.

    * the output graph has a directed cycle;
    * the model does not beat the empty graph (SHD not lower);
    * a baseline has a lower SHD than the model;
    * varsortability above :data:`VARSORTABILITY_WARNING`.

    Examples
    --------
    >>> report_warnings({"shd": 5}, {"empty": {"shd": 4}, "sortnregress": {"shd": 2}})
    ['does not beat the empty graph: SHD 5 vs 4', 'sortnregress beats the model: SHD 2 vs 5']
    >>> report_warnings(None, None, varsortability=0.97)[0][:35]
    'varsortability 0.97 > 0.9: the scal'
    """
    out: list[str] = []
    if adjacency is not None and not is_dag(np.asarray(adjacency)):
        out.append("the output graph has a directed cycle (it is not a DAG)")
    shd = finite_or_none(metrics.get("shd")) if metrics else None
    if shd is not None and baselines:
        empty_shd = finite_or_none(baselines.get("empty", {}).get("shd"))
        if empty_shd is not None and shd >= empty_shd:
            out.append(f"does not beat the empty graph: SHD {format_number(shd)} "
                       f"vs {format_number(empty_shd)}")
        for name, m in baselines.items():
            b = finite_or_none(m.get("shd")) if name != "empty" else None
            if b is not None and b < shd:
                out.append(f"{name} beats the model: SHD {format_number(b)} "
                           f"vs {format_number(shd)}")
    v = finite_or_none(varsortability)
    if v is not None and v > VARSORTABILITY_WARNING:
        out.append(f"varsortability {v:.2f} > {VARSORTABILITY_WARNING}: the scale of the "
                   "variables may be doing the work; try --standardize")
    return out


# --------------------------------------------------------------------------- one fit


def evaluate_fit(
    X: np.ndarray,
    true: np.ndarray,
    *,
    adjacency: np.ndarray,
    W: np.ndarray,
    seed: int = 0,
    edge_probability: np.ndarray | None = None,
    targets: Sequence[Sequence[int]] | None = None,
) -> dict[str, Any]:
    """A fit's metrics beside the baselines, the data's sortability, and the warnings.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        The data the model was fitted on.
    true : ndarray of shape (d, d)
        The true graph.
    adjacency : ndarray of shape (d, d)
        The output graph (0/1).
    W : ndarray of shape (d, d)
        The continuous weights before thresholding; ``|W|`` are the edge scores.
    seed : int
        Seed of the random baseline.
    edge_probability : ndarray of shape (d, d), optional
        Bootstrap edge probabilities; when given, evaluated at 0.5 as
        ``edge_probability``.
    targets : sequence of sequences of int, optional
        Interventional data: the variables intervened on in each regime; every
        evaluation then also has ``shd_icpdag`` (:func:`scored`).

    Returns
    -------
    dict
        ``note``, ``model`` (:func:`dagforge.metrics.evaluate`), ``baselines``
        (:func:`compute_baselines`), ``varsortability``, ``r2_sortability``,
        ``beats_empty`` (SHD lower than the empty graph's), ``warnings``
        (:func:`report_warnings`) and, with probabilities, ``edge_probability``.
    """
    B = np.asarray(true)
    model = scored(B, adjacency, np.abs(W), targets)
    baselines = compute_baselines(X, B, n_edges=int(np.asarray(adjacency).sum()), seed=seed,
                                  targets=targets)
    vs, r2s = float(varsortability(X, B)), float(r2_sortability(X, B))
    metrics: dict[str, Any] = {
        "note": _NOTE, "model": model, "baselines": baselines, "varsortability": vs,
        "r2_sortability": r2s, "beats_empty": bool(model["shd"] < baselines["empty"]["shd"]),
        "warnings": report_warnings(model, baselines, adjacency=adjacency, varsortability=vs),
    }
    if edge_probability is not None:
        metrics["edge_probability"] = evaluate(
            true=B, pred=(edge_probability >= 0.5).astype(int), scores=edge_probability)
    return metrics


# --------------------------------------------------------------------------- edges


def edge_status(adjacency: np.ndarray, true: np.ndarray | None) -> list[tuple[int, int, str]]:
    """Every edge to show, as ``(i, j, status)``.

    Status of a predicted ``i -> j``: ``correct`` (a true edge), ``reversed``
    (only ``j -> i`` is true and ``j -> i`` is not predicted) or ``extra``;
    a true ``i -> j`` neither predicted nor predicted reversed is ``missing``.
    Without a truth every edge is ``estimated``.

    Examples
    --------
    >>> true = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]])
    >>> pred = np.array([[0, 1, 1], [0, 0, 0], [0, 1, 0]])
    >>> edge_status(pred, true)
    [(0, 1, 'correct'), (0, 2, 'extra'), (2, 1, 'reversed')]
    >>> edge_status(np.zeros((3, 3)), true)
    [(0, 1, 'missing'), (1, 2, 'missing')]
    """
    P = np.asarray(adjacency) != 0
    np.fill_diagonal(P, False)
    if true is None:
        return [(int(i), int(j), "estimated") for i, j in zip(*np.nonzero(P), strict=True)]
    B = np.asarray(true) != 0
    np.fill_diagonal(B, False)
    out: list[tuple[int, int, str]] = []
    for i, j in zip(*np.nonzero(P), strict=True):
        if B[i, j]:
            status = "correct"
        elif B[j, i] and not P[j, i]:
            status = "reversed"
        else:
            status = "extra"
        out.append((int(i), int(j), status))
    for i, j in zip(*np.nonzero(B & ~P), strict=True):
        if not (P[j, i] and not B[j, i]):  # else already shown as reversed
            out.append((int(i), int(j), "missing"))
    return out


def threshold_sweep(true: np.ndarray, W: np.ndarray, n_points: int = 200) -> dict[str, list[float]]:
    """SHD, precision, recall and F1 of ``|W| >= t`` (no cycle breaking) over thresholds ``t``.

    The thresholds are up to ``n_points`` quantiles of the distinct non-zero
    scores, plus one above the largest (the empty graph).
    """
    S = edge_scores(W)
    vals = np.unique(S[S > 0])
    if vals.size > n_points:
        vals = np.unique(np.quantile(vals, np.linspace(0.0, 1.0, n_points)))
    top = float(vals[-1]) * 1.05 if vals.size else 1.0
    out: dict[str, list[float]] = {"threshold": [], "shd": [], "precision": [], "recall": [],
                                   "f1": [], "nnz": []}
    for t in [*vals.tolist(), top]:
        c = edge_counts(true=true, pred=(S >= t) & (S > 0))
        p = c.tp / c.nnz if c.nnz else 0.0
        r = c.tp / c.true_edges if c.true_edges else 0.0
        f = 2 * c.tp / (2 * c.tp + c.fp + c.fn) if (2 * c.tp + c.fp + c.fn) else 0.0
        for k, v in (("threshold", t), ("shd", c.shd), ("precision", p), ("recall", r),
                     ("f1", f), ("nnz", c.nnz)):
            out[k].append(float(v))
    return out
