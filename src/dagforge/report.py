r"""Self-contained HTML reports of a learned graph, and a summary of several runs.

:func:`write_report` turns a :class:`ReportInputs` into a report directory:

``report.html``
    One file that opens offline: inline CSS, no JavaScript, every image embedded
    as a base64 PNG data URI.
``adjacency.png``, ``graph.png``, ``training.png``, ``pr_curve.png``, ...
    The same figures as files (also ``threshold.png`` and
    ``edge_probability.png``), only those that apply: the curves over edge
    scores need the true graph, the probability heatmap needs bootstrapped
    edge probabilities, the graph drawing is skipped above
    :data:`MAX_GRAPH_NODES` variables.
``metrics.json``
    Strict JSON: the model's metrics against the truth (``null`` without one),
    the baselines' metrics, the warnings, the threshold sweep, config,
    versions and run information.

Everything is rendered in memory first and the files are then written
together, each atomically (:func:`dagforge._io.atomic_open`): if rendering or
writing fails, none of them is replaced. Figures use
:class:`matplotlib.figure.Figure` with an Agg canvas of their own, never
``pyplot``'s global state, so a report can be made from any thread or program
without touching the matplotlib backend.

:func:`inputs_from_run_dir` reads a run directory written by
:func:`dagforge.rundir.write_fit` (and, if present, ``true_edges.csv``,
``data.csv`` and ``metrics.json``); :func:`render_summary` writes one page
comparing several runs (dataset x model tables linking to each run's report).

Convention: ``W[i, j] != 0`` is the edge ``i -> j``; heatmap rows are parents
(sources), columns children (targets).
"""

from __future__ import annotations

import base64
import contextlib
import csv
import html
import io
import json
import logging
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch

from dagforge._io import atomic_open, to_json, write_text
from dagforge.errors import DagforgeError, DataError, GraphError
from dagforge.graph import is_dag, read_adjacency, read_edge_list, topological_order
from dagforge.metrics import auprc, auroc, edge_counts, evaluate, varsortability

__all__ = [
    "FIGURE_FILES",
    "MAX_GRAPH_NODES",
    "ReportInputs",
    "SummaryRun",
    "compute_baselines",
    "edge_status",
    "inputs_from_run_dir",
    "random_dag",
    "render_report",
    "render_summary",
    "report_warnings",
    "summary_run_from_report",
    "threshold_sweep",
    "training_panels",
    "write_report",
]

logger = logging.getLogger(__name__)

#: Resolution of every figure (dots per inch); keeps a d = 50 report near 1 MB.
DPI = 100
#: Above this many variables the graph drawing is skipped (it would be unreadable).
MAX_GRAPH_NODES = 60
#: At most this many names are written on a heatmap axis (every k-th above it).
MAX_TICK_LABELS = 60
#: At most this many rows in the report's edge table.
MAX_EDGE_ROWS = 500
#: Figure files a report may contain, in the order the sections show them.
FIGURE_FILES: tuple[str, ...] = (
    "adjacency.png",
    "graph.png",
    "training.png",
    "pr_curve.png",
    "threshold.png",
    "edge_probability.png",
)
#: Varsortability above which the report warns that the scale may do the work.
VARSORTABILITY_WARN = 0.9

# metric columns of the baseline and summary tables, in this order (those present)
_METRIC_COLUMNS = ("shd", "shd_cpdag", "extra", "missing", "reversed", "precision",
                   "recall", "f1", "auprc", "auroc", "nnz", "is_dag")
# metrics where lower is better (the rest of the numeric ones: higher is better)
_LOWER_IS_BETTER = frozenset({"shd", "shd_double", "shd_cpdag", "extra", "missing",
                              "reversed", "fp", "fn", "fdr", "fpr"})
# metrics on which a baseline better than the model is highlighted
_HEADLINE = frozenset({"shd", "shd_cpdag", "f1", "auprc", "auroc"})
# metrics with no better direction (no best in the summary)
_NEUTRAL = frozenset({"nnz", "true_edges", "tp", "is_dag", "seconds"})

_EDGE_STYLE = {  # status -> (colour, line style)
    "correct": ("#2ca02c", "-"),
    "extra": ("#d62728", "-"),
    "reversed": ("#ff7f0e", "-"),
    "missing": ("#7f7f7f", "--"),
    "estimated": ("#1f77b4", "-"),
}

# history columns grouped into the panels of the training figure
_TRAINING_PANELS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("loss terms", ("loss", "sparsity", "train_objective", "val_objective", "best_val",
                    "penalty")),
    ("acyclicity h(W)", ("h",)),
    ("gradient norms (per term, total)", ("grad_fit", "grad_sparsity", "grad_acyclicity",
                                          "grad_norm", "grad_norm_max")),
    ("learning rate", ("lr",)),
    ("solver parameters", ("mu", "s", "rho", "alpha", "fit_weight", "l1")),
    ("non-zero weights", ("nnz",)),
)

# panels whose title does not name their one column
_LEGEND_PANELS = frozenset({"loss terms", "gradient norms (per term, total)",
                            "solver parameters"})


# --------------------------------------------------------------------------- inputs


def _square(M: Any, d: int, what: str) -> np.ndarray:
    """``M`` as a finite float ``d x d`` array, else GraphError."""
    A = np.array(M, dtype=float, copy=True)
    if A.shape != (d, d):
        raise GraphError(f"{what} must have shape ({d}, {d}) for {d} names, got {A.shape}")
    if not np.all(np.isfinite(A)):
        raise GraphError(f"{what} contains NaN or infinite values")
    return A


@dataclass(eq=False)
class ReportInputs:
    """Everything a report shows; only ``names`` and ``W`` are required.

    Attributes
    ----------
    names : list of str
        Variable names, in the order of the matrices' rows and columns.
    W : ndarray of shape (d, d)
        The learned continuous weighted adjacency (the solver's ``W_``); its
        absolute values are the edge scores of the precision-recall and
        threshold curves. The diagonal is ignored.
    adjacency : ndarray of shape (d, d), optional
        The 0/1 output graph. Default: the non-zero pattern of ``weights`` if
        given, else of ``W``.
    weights : ndarray of shape (d, d), optional
        The output graph's weights (``DagLearner.weights_``, ``edges.csv``),
        shown in the estimated heatmap and the edge table. Default: ``W`` on
        the output's edges.
    true : ndarray of shape (d, d), optional
        The true graph (weights or 0/1). Without it, only what needs no truth
        is shown.
    history : list of dict, optional
        Training history rows: the outer steps of a solver (``step``, ``loss``,
        ``h``, ``grad_*``, ``lr``, ``mu``, ...) or the epochs of the mini-batch
        trainer (:data:`dagforge.train.HISTORY_FIELDS`). Missing columns and
        non-numeric values are skipped.
    edge_probability : ndarray of shape (d, d), optional
        Bootstrap edge probabilities in [0, 1].
    baselines : dict, optional
        Baseline name -> metrics dict (as :func:`dagforge.metrics.evaluate`
        returns; see :func:`compute_baselines`).
    warnings : list of str
        Warnings to show; :func:`report_warnings` adds the automatic ones.
    varsortability : float, optional
        Varsortability of the data under the truth; a value above
        :data:`VARSORTABILITY_WARN` adds a warning.
    threshold : float, optional
        The threshold that produced the output graph (marked on the threshold
        curve).
    config, versions, info : dict, optional
        Shown as tables; ``info`` holds e.g. the seed, timings, stop reason.
    title, dataset, model : str, optional
        Page title; the dataset and model names used by :func:`render_summary`.
    """

    names: list[str]
    W: np.ndarray
    adjacency: np.ndarray | None = None
    weights: np.ndarray | None = None
    true: np.ndarray | None = None
    history: list[dict[str, Any]] | None = None
    edge_probability: np.ndarray | None = None
    baselines: dict[str, dict[str, Any]] | None = None
    warnings: list[str] = field(default_factory=list)
    varsortability: float | None = None
    threshold: float | None = None
    config: dict[str, Any] | None = None
    versions: dict[str, str] | None = None
    info: dict[str, Any] | None = None
    title: str = "dagforge report"
    dataset: str | None = None
    model: str | None = None

    def __post_init__(self) -> None:
        self.names = [str(n) for n in self.names]
        d = len(self.names)
        if d == 0:
            raise GraphError("a report needs at least one variable")
        if len(set(self.names)) != d:
            raise GraphError("variable names must be unique")
        self.W = _square(self.W, d, "W")
        np.fill_diagonal(self.W, 0.0)
        if self.weights is not None:
            self.weights = _square(self.weights, d, "weights")
        if self.adjacency is None:
            source = self.weights if self.weights is not None else self.W
            self.adjacency = (source != 0).astype(int)
        else:
            self.adjacency = (_square(self.adjacency, d, "adjacency") != 0).astype(int)
        if np.any(np.diag(self.adjacency)):
            raise GraphError("adjacency has a self-loop (non-zero diagonal)")
        if self.weights is None:
            self.weights = np.where(self.adjacency != 0, self.W, 0.0)
        if self.true is not None:
            self.true = _square(self.true, d, "true")
        if self.edge_probability is not None:
            P = _square(self.edge_probability, d, "edge_probability")
            if np.any(P < 0) or np.any(P > 1):
                raise GraphError("edge_probability must lie in [0, 1]")
            self.edge_probability = P
        self.warnings = [str(w) for w in self.warnings]

    @property
    def d(self) -> int:
        """Number of variables."""
        return len(self.names)


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


def compute_baselines(
    X: np.ndarray,
    true: np.ndarray,
    *,
    n_edges: int,
    seed: int = 0,
    methods: Sequence[str] = ("empty", "random", "sortnregress", "r2_sortnregress"),
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
        ``"random"`` (a random DAG, :func:`random_dag`) and names of
        :data:`dagforge.baselines.BASELINES`. A baseline that cannot run on
        ``X`` (e.g. sortnregress with n <= d) is logged and left out.

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
                out[name] = evaluate(true=B, pred=pred)
            elif name == "empty":
                out[name] = evaluate(true=B, pred=np.zeros_like(B, dtype=float))
            else:
                Wb = run_baseline(name, X, random_state=seed)
                out[name] = evaluate(true=B, pred=Wb, scores=np.abs(Wb))
        except DagforgeError as e:
            logger.warning("baseline %s skipped: %s", name, e)
    return out


def report_warnings(
    metrics: Mapping[str, Any] | None,
    baselines: Mapping[str, Mapping[str, Any]] | None,
    *,
    adjacency: np.ndarray | None = None,
    varsortability: float | None = None,
) -> list[str]:
    """The automatic warnings of a report.

    * the output graph has a directed cycle;
    * the model does not beat the empty graph (SHD not lower);
    * a baseline has a lower SHD than the model;
    * varsortability above :data:`VARSORTABILITY_WARN` (sorting by variance
      alone would recover much of the order).

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
    shd = _finite(metrics.get("shd")) if metrics else None
    if shd is not None and baselines:
        empty_shd = _finite(baselines.get("empty", {}).get("shd"))
        if empty_shd is not None and shd >= empty_shd:
            out.append(f"does not beat the empty graph: SHD {_fmt(shd)} vs {_fmt(empty_shd)}")
        for name, m in baselines.items():
            b = _finite(m.get("shd")) if name != "empty" else None
            if b is not None and b < shd:
                out.append(f"{name} beats the model: SHD {_fmt(b)} vs {_fmt(shd)}")
    v = _finite(varsortability)
    if v is not None and v > VARSORTABILITY_WARN:
        out.append(f"varsortability {v:.2f} > {VARSORTABILITY_WARN}: the scale of the "
                   "variables may be doing the work; try --standardize")
    return out


# --------------------------------------------------------------------------- small helpers


def _finite(x: Any) -> float | None:
    """``x`` as a finite float, or None (missing, NaN, bool or not a number)."""
    if x is None or isinstance(x, bool):
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _fmt(x: Any) -> str:
    """A compact display form of a table value."""
    if x is None:
        return "n/a"
    if isinstance(x, bool | np.bool_):
        return "yes" if x else "no"
    if isinstance(x, int | np.integer):
        return str(int(x))
    if isinstance(x, float | np.floating):
        v = float(x)
        if not math.isfinite(v):
            return "n/a"
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else f"{v:.4g}"
    if isinstance(x, Mapping | list | tuple):
        return json.dumps(json.loads(to_json(x)), separators=(",", ":"))
    return str(x)


def _esc(x: Any) -> str:
    """``x`` formatted and escaped for HTML text or attribute values."""
    return html.escape(_fmt(x), quote=True)


def _scores(W: np.ndarray) -> np.ndarray:
    """Edge scores: ``|W|`` with an empty diagonal."""
    S = np.abs(np.asarray(W, dtype=float))
    np.fill_diagonal(S, 0.0)
    return S


def _truth_usable(B: np.ndarray) -> bool:
    """Whether the off-diagonal labels of ``B`` have both classes (curves are defined)."""
    off = ~np.eye(B.shape[0], dtype=bool)
    y = B[off] != 0
    return bool(y.size and y.any() and not y.all())


def _column(rows: Sequence[Mapping[str, Any]], key: str) -> np.ndarray | None:
    """History column ``key`` as floats (NaN where missing); None if it has no finite value."""
    if not any(key in r for r in rows):
        return None
    vals = np.array([math.nan if (v := _finite(r.get(key))) is None else v for r in rows],
                    dtype=float)
    return vals if np.isfinite(vals).any() else None


# --------------------------------------------------------------------------- figures


def _figure(width: float, height: float) -> Figure:
    """A figure with its own Agg canvas (no pyplot, no global backend)."""
    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _png(fig: Figure) -> bytes:
    """The figure as PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()


def _short(name: str, width: int = 20) -> str:
    """``name`` cut to ``width`` characters (with "...") for an axis label."""
    return name if len(name) <= width else name[: width - 3] + "..."


def _name_ticks(ax: Any, names: Sequence[str]) -> None:
    """Variable names on both axes of a heatmap (every k-th above MAX_TICK_LABELS)."""
    d = len(names)
    step = max(1, math.ceil(d / MAX_TICK_LABELS))
    idx = np.arange(0, d, step)
    labels = [_short(names[k]) for k in idx]
    size = float(np.clip(300.0 / max(d, 1), 4.5, 9.0))
    ax.set_xticks(idx, labels, rotation=90, fontsize=size, parse_math=False)
    ax.set_yticks(idx, labels, fontsize=size, parse_math=False)
    ax.set_xlabel("child (target)")
    ax.set_ylabel("parent (source)")


def _heatmap(fig: Figure, ax: Any, M: np.ndarray, names: Sequence[str], title: str, *,
             cmap: str = "RdBu_r", limits: tuple[float, float] | None = None,
             marks: np.ndarray | None = None) -> None:
    """One heatmap; ``marks`` (boolean d x d) outlines cells, e.g. the true edges."""
    if limits is None:
        vmax = float(np.max(np.abs(M))) or 1.0
        limits = (-vmax, vmax)
    im = ax.imshow(M, cmap=cmap, vmin=limits[0], vmax=limits[1], interpolation="nearest")
    if marks is not None and marks.any():
        ii, jj = np.nonzero(marks)
        size = float(np.clip(2000.0 / len(names) ** 2, 2.0, 60.0))
        ax.scatter(jj, ii, s=size, marker="s", facecolors="none", edgecolors="black",
                   linewidths=0.6)  # explained in the caption: a legend would hide cells
    _name_ticks(ax, names)
    ax.set_title(title, fontsize=10)
    fig.colorbar(im, ax=ax, shrink=0.8)


def plot_adjacency(inp: ReportInputs) -> Figure:
    """True and estimated adjacency heatmaps side by side, then ``W`` before thresholding."""
    d = inp.d
    panel = float(np.clip(2.0 + 0.09 * d, 3.0, 6.5))
    true_marks = None if inp.true is None else inp.true != 0
    panels: list[tuple[np.ndarray, str, np.ndarray | None]] = []
    if inp.true is not None:
        panels.append((inp.true, "true graph", None))
    assert inp.weights is not None and inp.adjacency is not None
    est = inp.weights if np.any(inp.weights) else inp.adjacency.astype(float)
    panels.append((est, f"estimated graph ({int(inp.adjacency.sum())} edges)", true_marks))
    panels.append((inp.W, "W before thresholding (edge scores)", true_marks))
    fig = _figure(len(panels) * (panel + 1.2), panel + 0.8)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (M, title, marks) in zip(axes, panels, strict=True):
        _heatmap(fig, ax, M, inp.names, title, marks=marks)
    return fig


def edge_status(adjacency: np.ndarray, true: np.ndarray | None) -> list[tuple[int, int, str]]:
    """Every edge to draw, as ``(i, j, status)``.

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
    out: list[tuple[int, int, str]] = []
    if true is None:
        return [(int(i), int(j), "estimated") for i, j in zip(*np.nonzero(P), strict=True)]
    B = np.asarray(true) != 0
    np.fill_diagonal(B, False)
    for i, j in zip(*np.nonzero(P), strict=True):
        if B[i, j]:
            status = "correct"
        elif B[j, i] and not P[j, i]:
            status = "reversed"
        else:
            status = "extra"
        out.append((int(i), int(j), status))
    for i, j in zip(*np.nonzero(B & ~P), strict=True):
        if not (P[j, i] and not B[j, i]):  # else already drawn as reversed
            out.append((int(i), int(j), "missing"))
    return out


def _layout(d: int, edges: Sequence[tuple[int, int, str]]) -> np.ndarray:
    """Node positions (d x 2) on a circle, clockwise in a topological order of the
    drawn edges that are not missing ones (ties by index), so that edges of the
    estimate run forward around the circle; readable for any d up to the limit
    and for disconnected graphs (a spring layout piles the nodes of a small
    component into a dot)."""
    A = np.zeros((d, d), dtype=bool)
    for i, j, status in edges:
        if status != "missing":
            A[i, j] = True
    order = topological_order(A) if is_dag(A) else list(range(d))
    angle = np.pi / 2 - 2 * np.pi * np.arange(d) / max(d, 1)
    xy = np.empty((d, 2))
    xy[np.asarray(order, dtype=int)] = np.column_stack([np.cos(angle), np.sin(angle)])
    return xy


def plot_graph(inp: ReportInputs) -> Figure:
    """The graph with variable names; with a truth, edges coloured by their status."""
    d = inp.d
    assert inp.adjacency is not None
    edges = edge_status(inp.adjacency, inp.true)
    xy = _layout(d, edges)
    size = float(np.clip(4.0 + 0.16 * d, 5.0, 11.0))
    fig = _figure(size, size)
    ax = fig.add_subplot()
    node_pts = float(np.clip(26.0 - 0.3 * d, 10.0, 24.0))  # node diameter in points
    font = float(np.clip(11.0 - 0.08 * d, 5.5, 10.0))
    for i, j, status in edges:
        colour, style = _EDGE_STYLE[status]
        ax.add_patch(FancyArrowPatch(
            tuple(xy[i]), tuple(xy[j]), arrowstyle="-|>", mutation_scale=11,
            shrinkA=node_pts / 2 + 1, shrinkB=node_pts / 2 + 1,
            connectionstyle="arc3,rad=0.08", color=colour, linestyle=style,
            linewidth=1.6 if status != "missing" else 1.2, zorder=1))
    ax.scatter(xy[:, 0], xy[:, 1], s=node_pts ** 2, c="#e8eef7", edgecolors="#34495e",
               linewidths=1.0, zorder=2)
    for k, name in enumerate(inp.names):
        ax.text(xy[k, 0], xy[k, 1], name, ha="center", va="center", fontsize=font, zorder=3,
                parse_math=False,
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.6})
    counts = {s: sum(1 for *_, t in edges if t == s) for s in _EDGE_STYLE}
    handles = [Line2D([], [], color=_EDGE_STYLE[s][0], linestyle=_EDGE_STYLE[s][1],
                      label=f"{s} ({counts[s]})")
               for s in _EDGE_STYLE if counts[s] or (inp.true is not None and s != "estimated")]
    if handles:
        ax.legend(handles=handles, loc="upper left", fontsize=8, framealpha=0.85)
    ax.set_aspect("equal")
    ax.margins(0.08)
    ax.set_axis_off()
    ax.set_title("estimated graph" + (" against the truth" if inp.true is not None else ""),
                 fontsize=11)
    return fig


def _set_scale(ax: Any, arrays: Sequence[np.ndarray]) -> None:
    """Log y scale when every finite value is positive, symlog when they are >= 0 with
    some zeros, else linear."""
    vals = np.concatenate([a[np.isfinite(a)] for a in arrays]) if arrays else np.array([])
    if vals.size == 0:
        return
    if np.all(vals > 0) and vals.max() / vals.min() > 20:
        ax.set_yscale("log")
    elif np.all(vals >= 0) and np.any(vals > 0) and np.any(vals == 0):
        pos = vals[vals > 0]
        if pos.max() / pos.min() > 20:
            ax.set_yscale("symlog", linthresh=float(pos.min()))


def training_panels(
    history: Sequence[Mapping[str, Any]],
) -> list[tuple[str, dict[str, np.ndarray]]]:
    """The training figure's panels that have data: ``(title, {column: values})``."""
    panels = []
    for title, keys in _TRAINING_PANELS:
        cols = {k: c for k in keys if (c := _column(history, k)) is not None}
        if cols:
            panels.append((title, cols))
    return panels


def plot_training(history: Sequence[Mapping[str, Any]]) -> Figure | None:
    """Loss terms, h, per-term gradient norms, learning rate, ... against the step or
    epoch; None when the history has no usable column."""
    panels = training_panels(history)
    if not panels:
        return None
    if (x := _column(history, "epoch")) is not None:
        xlabel = "epoch"
    elif (x := _column(history, "step")) is not None:
        xlabel = "outer step"
    else:
        x, xlabel = None, "record"
    if x is None or not np.all(np.isfinite(x)):
        x = np.arange(1, len(history) + 1, dtype=float)
    calls = _column(history, "call")
    bounds = []
    if calls is not None and xlabel == "epoch":
        change = np.flatnonzero(np.diff(calls) != 0) + 1
        bounds = [float(x[k]) for k in change]
    ncol = 2 if len(panels) > 1 else 1
    nrow = math.ceil(len(panels) / ncol)
    fig = _figure(5.2 * ncol, 3.0 * nrow)
    axes = fig.subplots(nrow, ncol, squeeze=False).ravel()
    for ax, (title, cols) in zip(axes, panels, strict=False):
        for b in bounds:
            ax.axvline(b, color="0.85", linewidth=0.6, zorder=0)
        for name, y in cols.items():
            ax.plot(x, y, marker="." if len(x) <= 60 else None, markersize=3, linewidth=1.2,
                    label=name)
        _set_scale(ax, list(cols.values()))
        ax.set_title(title, fontsize=10)
        ax.set_xlabel(xlabel, fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(True, alpha=0.3)
        if len(cols) > 1 or title in _LEGEND_PANELS:
            ax.legend(fontsize=7)
    for ax in axes[len(panels):]:
        ax.set_axis_off()
    return fig


def threshold_sweep(true: np.ndarray, W: np.ndarray, n_points: int = 200) -> dict[str, list[float]]:
    """SHD, precision, recall and F1 of ``|W| >= t`` (no cycle breaking) over thresholds ``t``.

    The thresholds are up to ``n_points`` quantiles of the distinct non-zero
    scores, plus one above the largest (the empty graph).
    """
    S = _scores(W)
    vals = np.unique(S[S > 0])
    if vals.size > n_points:
        vals = np.unique(np.quantile(vals, np.linspace(0.0, 1.0, n_points)))
    top = float(vals[-1]) * 1.05 if vals.size else 1.0
    ts = [*vals.tolist(), top]
    out: dict[str, list[float]] = {"threshold": [], "shd": [], "precision": [], "recall": [],
                                   "f1": [], "nnz": []}
    for t in ts:
        c = edge_counts(true=true, pred=(S >= t) & (S > 0))
        p = c.tp / c.nnz if c.nnz else 0.0
        r = c.tp / c.true_edges if c.true_edges else 0.0
        f = 2 * c.tp / (2 * c.tp + c.fp + c.fn) if (2 * c.tp + c.fp + c.fn) else 0.0
        for k, v in (("threshold", t), ("shd", c.shd), ("precision", p), ("recall", r),
                     ("f1", f), ("nnz", c.nnz)):
            out[k].append(float(v))
    return out


def plot_pr_curve(inp: ReportInputs, metrics: Mapping[str, Any]) -> Figure:
    """Precision-recall curve of ``|W|`` (and of the edge probabilities, if any)."""
    from sklearn.metrics import precision_recall_curve

    assert inp.true is not None
    off = ~np.eye(inp.d, dtype=bool)
    y = (inp.true != 0)[off]
    fig = _figure(5.2, 4.4)
    ax = fig.add_subplot()
    curves = [("|W|", _scores(inp.W)[off], metrics.get("auprc"))]
    if inp.edge_probability is not None:
        curves.append(("edge probability", inp.edge_probability[off],
                       auprc(true=inp.true, scores=inp.edge_probability)))
    for label, s, ap in curves:
        prec, rec, _ = precision_recall_curve(y, s)
        ax.plot(rec, prec, drawstyle="steps-post", linewidth=1.5,
                label=f"{label} (AUPRC {_fmt(ap)})")
    ax.axhline(float(y.mean()), color="0.5", linestyle=":", linewidth=1,
               label=f"random ranking ({y.mean():.3f})")
    ax.scatter([metrics.get("recall", math.nan)], [metrics.get("precision", math.nan)],
               color="black", zorder=3, label="output graph")
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.05)
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_title("precision-recall over edge scores", fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, loc="lower left")
    return fig


def plot_threshold(sweep: Mapping[str, Sequence[float]], metrics: Mapping[str, Any],
                   empty_shd: float, threshold: float | None) -> Figure:
    """SHD and F1 of the thresholded ``|W|`` against the threshold."""
    t = np.asarray(sweep["threshold"], dtype=float)
    fig = _figure(6.0, 4.0)
    ax = fig.add_subplot()
    # the graph of a threshold in (t[k-1], t[k]] is that of t[k]: "steps-pre"
    ax.plot(t, sweep["shd"], color="#1f77b4", drawstyle="steps-pre", label="SHD")
    ax.axhline(empty_shd, color="#1f77b4", linestyle=":", linewidth=1,
               label=f"SHD of the empty graph ({_fmt(empty_shd)})")
    ax.set_xlabel("threshold on |W|")
    ax.set_ylabel("SHD", color="#1f77b4")
    if t.size and t.min() > 0 and t.max() / t.min() > 100:
        ax.set_xscale("log")
    ax2 = ax.twinx()
    ax2.plot(t, sweep["f1"], color="#d62728", drawstyle="steps-pre", label="F1")
    ax2.set_ylim(-0.02, 1.02)
    ax2.set_ylabel("F1", color="#d62728")
    if threshold is not None and threshold > 0:
        ax.axvline(threshold, color="black", linestyle="--", linewidth=1,
                   label=f"chosen threshold ({_fmt(threshold)}): SHD {_fmt(metrics.get('shd'))}")
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, fontsize=7, loc="best")
    ax.grid(True, alpha=0.3)
    ax.set_title("SHD and F1 against the threshold (no cycle breaking)", fontsize=10)
    return fig


def plot_edge_probability(inp: ReportInputs) -> Figure:
    """Heatmap of bootstrap edge probabilities, true edges outlined."""
    assert inp.edge_probability is not None
    panel = float(np.clip(2.0 + 0.09 * inp.d, 3.0, 6.0))
    fig = _figure(panel + 1.4, panel + 0.8)
    ax = fig.add_subplot()
    _heatmap(fig, ax, inp.edge_probability, inp.names, "edge probability", cmap="viridis",
             limits=(0.0, 1.0), marks=None if inp.true is None else inp.true != 0)
    return fig


# --------------------------------------------------------------------------- HTML


_CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:1.5em auto;
max-width:1250px;padding:0 1em;color:#222;line-height:1.4}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;
margin-top:1.6em}
table{border-collapse:collapse;margin:.6em 0;font-size:.9em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}
th{background:#f2f4f7}td.l,th.l{text-align:left}
tr.model td{font-weight:bold}td.beats{background:#fde2e1}td.best{font-weight:bold}
img{max-width:100%;height:auto;border:1px solid #eee}
figure{margin:.8em 0}figcaption{font-size:.85em;color:#555}
.warn{background:#fff4e5;border-left:4px solid #f0a030;padding:.3em .8em;margin:.3em 0}
.ok{color:#2a7a2a}.note{color:#666;font-style:italic}
nav a{margin-right:1em}pre{background:#f7f7f7;padding:.6em;overflow:auto;font-size:.85em}
"""


def _img(png: bytes, alt: str) -> str:
    """An ``<img>`` with the PNG embedded as a base64 data URI."""
    data = base64.b64encode(png).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt, quote=True)}">'


def _figure_html(png: bytes, alt: str, caption: str) -> str:
    return (f"<figure>{_img(png, alt)}<figcaption>{html.escape(caption)}</figcaption>"
            "</figure>")


def _note(text: str) -> str:
    return f'<p class="note">{html.escape(text)}</p>'


def _kv_table(items: Mapping[str, Any]) -> str:
    rows = "".join(f'<tr><th class="l">{html.escape(str(k))}</th><td class="l">{_esc(v)}</td>'
                   "</tr>" for k, v in items.items())
    return f"<table>{rows}</table>"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], *,
           row_class: Sequence[str] | None = None) -> str:
    """A table from already escaped cell HTML (``<td ...>`` given whole when a cell
    starts with ``<td``)."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = []
    for k, r in enumerate(rows):
        cls = f' class="{row_class[k]}"' if row_class and row_class[k] else ""
        cells = "".join(c if c.startswith("<td") else f"<td>{c}</td>" for c in r)
        body.append(f"<tr{cls}>{cells}</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _baseline_table(metrics: Mapping[str, Any] | None,
                    baselines: Mapping[str, Mapping[str, Any]]) -> str:
    """Model row first, then one row per baseline; a baseline cell better than the
    model's is highlighted."""
    rows_src: list[tuple[str, Mapping[str, Any]]] = []
    if metrics:
        rows_src.append(("model", metrics))
    rows_src.extend(baselines.items())
    cols = [c for c in _METRIC_COLUMNS if any(c in m for _, m in rows_src)]
    rows, classes = [], []
    for name, m in rows_src:
        cells = [f'<td class="l">{html.escape(name)}</td>']
        for c in cols:
            v, mine = m.get(c), (metrics or {}).get(c)
            beats = False
            if name != "model" and c in _HEADLINE:
                a, b = _finite(v), _finite(mine)
                if a is not None and b is not None:
                    beats = a < b if c in _LOWER_IS_BETTER else a > b
            cells.append(f'<td class="beats">{_esc(v)}</td>' if beats else _esc(v))
        rows.append(cells)
        classes.append("model" if name == "model" else "")
    return _table(["", *cols], rows, row_class=classes)


def _edge_table(inp: ReportInputs) -> str:
    assert inp.weights is not None and inp.adjacency is not None
    edges = edge_status(inp.adjacency, inp.true)
    S = _scores(inp.W)
    edges.sort(key=lambda e: (e[2] == "missing", -S[e[0], e[1]]))
    shown = edges[:MAX_EDGE_ROWS]
    header = ["source", "target", "weight", "|W| score"]
    if inp.true is not None:
        header += ["true weight", "status"]
    if inp.edge_probability is not None:
        header.append("probability")
    rows = []
    for i, j, status in shown:
        r = [f'<td class="l">{html.escape(inp.names[i])}</td>',
             f'<td class="l">{html.escape(inp.names[j])}</td>',
             _esc(float(inp.weights[i, j]) if status != "missing" else None),
             _esc(float(S[i, j]))]
        if inp.true is not None:
            r += [_esc(float(inp.true[i, j])), f'<td class="l">{html.escape(status)}</td>']
        if inp.edge_probability is not None:
            r.append(_esc(float(inp.edge_probability[i, j])))
        rows.append(r)
    more = (_note(f"{len(edges) - len(shown)} more edges not listed")
            if len(edges) > len(shown) else "")
    return _table(header, rows) + more if rows else _note("no edges")


def _section(sid: str, title: str, body: str) -> str:
    return f'<section id="{sid}"><h2>{html.escape(title)}</h2>{body}</section>'


def render_report(inp: ReportInputs) -> dict[str, bytes]:
    """Render every file of a report in memory.

    Returns
    -------
    dict
        File name -> content: ``report.html``, ``metrics.json`` and the PNGs
        that apply (see the module docstring). Nothing is written.
    """
    assert inp.adjacency is not None
    has_truth = inp.true is not None
    metrics: dict[str, Any] | None = None
    prob_metrics: dict[str, float] | None = None
    if has_truth:
        metrics = evaluate(true=inp.true, pred=inp.adjacency, scores=_scores(inp.W))
        if inp.edge_probability is not None:
            prob_metrics = {"auprc": auprc(true=inp.true, scores=inp.edge_probability),
                            "auroc": auroc(true=inp.true, scores=inp.edge_probability)}
    baselines = dict(inp.baselines or {})
    auto = report_warnings(metrics, baselines, adjacency=inp.adjacency,
                           varsortability=inp.varsortability)
    warnings = [*inp.warnings, *(w for w in auto if w not in inp.warnings)]
    threshold = inp.threshold
    if threshold is None and inp.info is not None:
        threshold = _finite(inp.info.get("threshold"))
    versions = inp.versions
    if versions is None:
        from dagforge.rundir import versions as _versions

        versions = _versions()
    versions = {**versions, "matplotlib": _matplotlib_version()}

    files: dict[str, bytes] = {}
    notes: dict[str, str] = {}

    def add(name: str, make: Callable[[], Figure | None]) -> None:
        fig = make()
        if fig is not None:
            files[name] = _png(fig)

    add("adjacency.png", lambda: plot_adjacency(inp))
    if inp.d <= MAX_GRAPH_NODES:
        add("graph.png", lambda: plot_graph(inp))
    else:
        notes["graph"] = (f"{inp.d} variables: the graph drawing is skipped above "
                          f"{MAX_GRAPH_NODES} (see the heatmaps and the edge table).")
    if inp.history:
        history = inp.history
        add("training.png", lambda: plot_training(history))
    sweep: dict[str, list[float]] | None = None
    if has_truth and metrics is not None:
        assert inp.true is not None
        if _truth_usable(inp.true):
            add("pr_curve.png", lambda: plot_pr_curve(inp, metrics))
        else:
            notes["pr"] = "the true graph has no edge: no precision-recall curve."
        sweep = threshold_sweep(inp.true, inp.W)
        empty_shd = float(edge_counts(true=inp.true, pred=np.zeros((inp.d, inp.d))).shd)
        add("threshold.png", lambda: plot_threshold(sweep, metrics, empty_shd, threshold))
    if inp.edge_probability is not None:
        add("edge_probability.png", lambda: plot_edge_probability(inp))

    summary = {
        "title": inp.title,
        "dataset": inp.dataset,
        "model": inp.model,
        "d": inp.d,
        "names": inp.names,
        "n_edges": int(inp.adjacency.sum()),
        "is_dag": is_dag(inp.adjacency),
        "has_truth": has_truth,
        "threshold": threshold,
        "model_metrics_note": None if has_truth else "no true graph: no metrics",
        "model_metrics": metrics,
        "edge_probability_metrics": prob_metrics,
        "baselines": baselines,
        "warnings": warnings,
        "varsortability": inp.varsortability,
        "threshold_sweep": sweep,
        "info": inp.info or {},
        "config": inp.config or {},
        "versions": versions,
        "figures": [f for f in FIGURE_FILES if f in files],
    }
    files["metrics.json"] = to_json(summary).encode("utf-8")
    page = _report_html(inp, files, notes, metrics, prob_metrics, baselines, warnings,
                        threshold, versions)
    files["report.html"] = page.encode("utf-8")
    return files


def _matplotlib_version() -> str:
    import matplotlib

    return str(matplotlib.__version__)


def _report_html(inp: ReportInputs, files: Mapping[str, bytes], notes: Mapping[str, str],
                 metrics: Mapping[str, Any] | None, prob_metrics: Mapping[str, float] | None,
                 baselines: Mapping[str, Mapping[str, Any]], warnings: Sequence[str],
                 threshold: float | None, versions: Mapping[str, str]) -> str:
    assert inp.adjacency is not None
    info = dict(inp.info or {})
    sections: list[tuple[str, str, str]] = []

    # summary
    facts: dict[str, Any] = {}
    if inp.dataset:
        facts["dataset"] = inp.dataset
    if inp.model:
        facts["model"] = inp.model
    facts.update({"variables": inp.d, "edges in the output": int(inp.adjacency.sum()),
                  "output is a DAG": is_dag(inp.adjacency), "threshold": threshold})
    for k in ("seed", "seconds", "stop_reason", "h", "n"):
        if k in info:
            facts[k] = info[k]
    if metrics:
        for k in ("shd", "f1", "precision", "recall", "auprc", "shd_cpdag", "true_edges"):
            facts[k] = metrics.get(k)
    if inp.varsortability is not None:
        facts["varsortability"] = inp.varsortability
    body = _kv_table(facts)
    if not metrics:
        body += _note("No true graph given: metrics, the precision-recall curve and the "
                      "threshold curve need one; everything else is shown.")
    sections.append(("summary", "Summary", body))

    # warnings
    if warnings:
        body = "".join(f'<div class="warn">{html.escape(w)}</div>' for w in warnings)
    else:
        body = '<p class="ok">No warnings.</p>'
    sections.append(("warnings", "Warnings", body))

    # adjacency
    caption = ("Rows are parents, columns children (W[i, j] is the edge i -> j). "
               + ("Outlined cells are the true edges. " if inp.true is not None else "")
               + "Colour: edge weight (red positive, blue negative).")
    sections.append(("adjacency", "Adjacency",
                     _figure_html(files["adjacency.png"], "adjacency heatmaps", caption)))

    # graph
    if "graph.png" in files:
        caption = ("Green: correct, red: extra, orange: reversed (drawn in the estimated "
                   "direction), grey dashed: missing." if inp.true is not None
                   else "The estimated graph (no true graph to compare with).")
        body = _figure_html(files["graph.png"], "estimated graph", caption)
    else:
        body = _note(notes.get("graph", "graph drawing not available"))
    sections.append(("graph", "Graph", body))

    # training
    if "training.png" in files:
        x = "epoch" if any("epoch" in r for r in inp.history or []) else "outer step"
        body = _figure_html(files["training.png"], "training curves",
                            f"Per {x}; log scale where all values are positive and span "
                            "more than a factor 20. Columns missing from the history are "
                            "left out.")
    else:
        body = _note("No training history given." if not inp.history
                     else "The history has no numeric column to plot.")
    sections.append(("training", "Training", body))

    # edge scores
    if metrics:
        parts = []
        if "pr_curve.png" in files:
            parts.append(_figure_html(files["pr_curve.png"], "precision-recall curve",
                                      "Every ordered pair i != j ranked by |W[i, j]|; the "
                                      "dot is the output graph."))
        else:
            parts.append(_note(notes.get("pr", "no precision-recall curve")))
        if "threshold.png" in files:
            parts.append(_figure_html(
                files["threshold.png"], "SHD and F1 against the threshold",
                "Graph |W| >= t for each threshold t, without breaking cycles, so the "
                "output graph (cycles broken, maybe refined) can differ at its threshold."))
        body = "".join(parts)
    else:
        body = _note("Needs the true graph.")
    sections.append(("edge-scores", "Edge scores", body))

    # edge probabilities
    if "edge_probability.png" in files:
        cap = "Bootstrap edge probabilities"
        if prob_metrics:
            cap += (f"; AUPRC {_fmt(prob_metrics['auprc'])}, "
                    f"AUROC {_fmt(prob_metrics['auroc'])} against the truth")
        sections.append(("edge-probability", "Edge probabilities",
                         _figure_html(files["edge_probability.png"], "edge probabilities",
                                      cap + ".")))

    # baselines
    if baselines or metrics:
        body = _baseline_table(metrics, baselines)
        if baselines:
            body += _note("Shaded: a baseline better than the model on SHD, SHD of the "
                          "CPDAGs, F1, AUPRC or AUROC.")
        else:
            body += _note("No baselines given.")
    else:
        body = _note("No baselines given (they need the true graph).")
    sections.append(("baselines", "Baselines", body))

    # edges
    sections.append(("edges", "Edges", _edge_table(inp)))

    # run
    body = "<h3>Information</h3>" + (_kv_table(info) if info else _note("no run information"))
    body += "<h3>Versions</h3>" + _kv_table(versions)
    body += "<h3>Config</h3>" + (f"<pre>{html.escape(to_json(inp.config))}</pre>"
                                 if inp.config else _note("no config"))
    sections.append(("run", "Run", body))

    nav = " ".join(f'<a href="#{sid}">{html.escape(t)}</a>' for sid, t, _ in sections)
    content = "".join(_section(*s) for s in sections)
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(inp.title)}</title><style>{_CSS}</style></head><body>"
            f"<h1>{html.escape(inp.title)}</h1><nav>{nav}</nav>{content}</body></html>\n")


def _write_files(out_dir: Path, files: Mapping[str, bytes]) -> None:
    """Write all ``files`` into ``out_dir``: none replaced unless all were written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        handles = [(stack.enter_context(atomic_open(out_dir / name, "wb")), data)
                   for name, data in files.items()]
        for fh, data in handles:
            fh.write(data)
    # figures of an earlier report that this one does not have
    for name in FIGURE_FILES:
        if name not in files and (out_dir / name).is_file():
            logger.debug("removing stale %s", out_dir / name)
            (out_dir / name).unlink()


def write_report(out_dir: str | os.PathLike[str], inputs: ReportInputs) -> Path:
    """Render a report and write it to ``out_dir``.

    Parameters
    ----------
    out_dir : path
        Directory to write to (created if needed). Use a directory of its own,
        e.g. ``run_dir / "report"``: ``metrics.json`` there is replaced.
    inputs : ReportInputs
        What to show.

    Returns
    -------
    Path
        The path of ``report.html``.

    Notes
    -----
    Everything is rendered in memory first; each file is then written to a
    temporary file and the temporaries are renamed onto their names only once
    all were written. A failure leaves the directory as it was (figures of an
    earlier report that the new one lacks are removed after a success).
    """
    out = Path(out_dir)
    files = render_report(inputs)
    _write_files(out, files)
    size = sum(len(b) for b in files.values())
    logger.info("report written to %s (%d files, %.1f kB)", out, len(files), size / 1e3)
    return out / "report.html"


# --------------------------------------------------------------------------- run directories


def _read_history_csv(path: Path) -> list[dict[str, Any]]:
    """Rows of ``history.csv``; numbers parsed, empty cells dropped."""
    rows: list[dict[str, Any]] = []
    with path.open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            row: dict[str, Any] = {}
            for k, v in r.items():
                if k is None or v is None or v == "":
                    continue
                try:
                    row[k] = float(v)
                except ValueError:
                    row[k] = v
            rows.append(row)
    return rows


def _read_matrix(path: Path, names: Sequence[str]) -> np.ndarray:
    """An adjacency-format CSV (or edge list) on ``names``' order."""
    with path.open(encoding="utf-8-sig") as fh:
        head = fh.readline().lower()
    if head.startswith("source,target"):
        return read_edge_list(path, names)[0]
    M, nm = read_adjacency(path)
    if list(nm) != list(names):
        index = {n: k for k, n in enumerate(nm)}
        missing = [n for n in names if n not in index]
        if missing:
            raise GraphError(f"{path}: variable {missing[0]!r} is not in the file")
        idx = [index[n] for n in names]
        M = M[np.ix_(idx, idx)]
    return M


def _nested_get(cfg: Mapping[str, Any], key: str) -> Any:
    """``cfg[key]``, else ``cfg[<section>][key]`` of the first dict section that has it."""
    if key in cfg:
        return cfg[key]
    for v in cfg.values():
        if isinstance(v, Mapping) and key in v:
            return v[key]
    return None


def _matrix_input(value: np.ndarray | str | os.PathLike[str] | None, default: Path,
                  names: Sequence[str]) -> np.ndarray | None:
    """A matrix given as an array or a file, else read from ``default`` if it exists."""
    if isinstance(value, str | os.PathLike):
        return _read_matrix(Path(value), names)
    if value is not None:
        return np.asarray(value, dtype=float)
    return _read_matrix(default, names) if default.is_file() else None


def inputs_from_run_dir(
    run_dir: str | os.PathLike[str],
    *,
    true: np.ndarray | str | os.PathLike[str] | None = None,
    edge_probability: np.ndarray | str | os.PathLike[str] | None = None,
    baselines: Mapping[str, Mapping[str, Any]] | None = None,
    compute_baseline_graphs: bool = True,
    warnings: Sequence[str] = (),
    title: str | None = None,
) -> ReportInputs:
    """Build :class:`ReportInputs` from a run directory written by
    :func:`dagforge.rundir.write_fit`.

    Reads ``weights.csv`` (``W``), ``adjacency.csv``, ``edges.csv`` (output
    weights), ``history.csv`` and ``run.json`` (config, versions, seconds, stop
    reason, threshold, ...); if present also ``true_edges.csv`` (the truth, as
    :func:`dagforge.rundir.write_dataset` writes it), ``edge_probability.csv``,
    ``metrics.json`` (its ``baselines`` and ``checks``) and ``data.csv`` (for
    varsortability and, when no baselines are known, :func:`compute_baselines`).

    Parameters
    ----------
    run_dir : path
        The run directory.
    true, edge_probability : ndarray or path, optional
        Override the files of the run directory (a path is an adjacency CSV or
        an edge list).
    baselines : dict, optional
        Baseline metrics to show (else those of ``metrics.json``, else computed).
    compute_baseline_graphs : bool
        Whether to run the baselines on ``data.csv`` when none are known.
    warnings : sequence of str
        Extra warnings.
    title : str, optional
        Page title (default: ``"dagforge report: <run dir name>"``).

    Raises
    ------
    DataError
        If a required file is missing or ``run.json`` is not valid JSON.
    """
    run = Path(run_dir)
    for req in ("weights.csv", "adjacency.csv"):
        if not (run / req).is_file():
            raise DataError(f"{run}: no {req}; is this a run directory written by write_fit?")
    W, names = read_adjacency(run / "weights.csv")
    adjacency = _read_matrix(run / "adjacency.csv", names)
    weights = _read_matrix(run / "edges.csv", names) if (run / "edges.csv").is_file() else None
    history = _read_history_csv(run / "history.csv") if (run / "history.csv").is_file() else None
    meta: dict[str, Any] = {}
    if (run / "run.json").is_file():
        try:
            meta = json.loads((run / "run.json").read_text(encoding="utf-8"))
        except json.JSONDecodeError as e:
            raise DataError(f"{run / 'run.json'} is not valid JSON: {e}") from None
    config = meta.get("config") if isinstance(meta.get("config"), dict) else None
    info = {k: v for k, v in meta.items() if k not in ("config", "versions", "history")}
    seed = _nested_get(config, "seed") if config else None
    if seed is not None:
        info.setdefault("seed", seed)

    B = _matrix_input(true, run / "true_edges.csv", names)
    P = _matrix_input(edge_probability, run / "edge_probability.csv", names)

    known: dict[str, dict[str, Any]] | None = (
        {k: dict(v) for k, v in baselines.items()} if baselines is not None else None)
    if (run / "metrics.json").is_file():
        try:
            saved = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            logger.warning("%s is not valid JSON; ignored", run / "metrics.json")
            saved = {}
        if known is None and isinstance(saved.get("baselines"), dict):
            known = {k: dict(v) for k, v in saved["baselines"].items() if isinstance(v, dict)}
        if isinstance(saved.get("checks"), dict):
            info.setdefault("checks", saved["checks"])
    vs = None
    if B is not None and (run / "data.csv").is_file():
        import pandas as pd

        X = pd.read_csv(run / "data.csv")[names].to_numpy(dtype=float)
        try:
            vs = varsortability(X, B) if is_dag(B) else None
        except DagforgeError as e:
            logger.warning("varsortability not computed: %s", e)
        if known is None and compute_baseline_graphs:
            known = compute_baselines(X, B, n_edges=int((adjacency != 0).sum()),
                                      seed=int(seed) if isinstance(seed, int) else 0)
    model = _nested_get(config, "model") if config else None
    data = meta.get("data")
    return ReportInputs(
        names=names, W=W, adjacency=adjacency, weights=weights, true=B, history=history,
        edge_probability=P, baselines=known, warnings=list(warnings), varsortability=vs,
        threshold=_finite(meta.get("threshold")), config=config,
        versions=meta.get("versions") if isinstance(meta.get("versions"), dict) else None,
        info=info, title=title or f"dagforge report: {run.resolve().name}",
        dataset=data if isinstance(data, str) else run.resolve().name,
        model=model if isinstance(model, str) else None,
    )


# --------------------------------------------------------------------------- summary


@dataclass(frozen=True)
class SummaryRun:
    """One row of a summary: a run's dataset, model and metrics.

    Attributes
    ----------
    dataset, model : str
        Labels of the run (the summary tables are dataset x model).
    metrics : dict
        The model's metrics (empty without a truth).
    report : path, optional
        The run's ``report.html``, linked from the summary.
    warnings : sequence of str
        The run's warnings (their count is shown, the text listed below).
    seconds : float, optional
        Fit time.
    """

    dataset: str
    model: str
    metrics: Mapping[str, Any] = field(default_factory=dict)
    report: str | os.PathLike[str] | None = None
    warnings: Sequence[str] = ()
    seconds: float | None = None


def summary_run_from_report(
    report_dir: str | os.PathLike[str], *, dataset: str | None = None, model: str | None = None
) -> SummaryRun:
    """A :class:`SummaryRun` from a directory written by :func:`write_report`
    (its ``metrics.json``); ``dataset`` and ``model`` override the stored names."""
    d = Path(report_dir)
    try:
        m = json.loads((d / "metrics.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"{d}: no metrics.json; not a report directory") from None
    except json.JSONDecodeError as e:
        raise DataError(f"{d / 'metrics.json'} is not valid JSON: {e}") from None
    info = m.get("info") or {}
    return SummaryRun(
        dataset=dataset or m.get("dataset") or d.name,
        model=model or m.get("model") or "model",
        metrics=m.get("model_metrics") or {},
        report=d / "report.html",
        warnings=tuple(m.get("warnings") or ()),
        seconds=_finite(info.get("seconds")),
    )


def _link(target: str | os.PathLike[str], base: Path) -> str:
    """A relative, URL-quoted link from directory ``base`` to ``target``."""
    rel = os.path.relpath(Path(target).resolve(), base.resolve())
    return quote(Path(rel).as_posix())


def render_summary(
    out_path: str | os.PathLike[str],
    runs: Sequence[SummaryRun],
    *,
    metrics: Sequence[str] = ("shd", "f1", "auprc", "shd_cpdag"),
    title: str = "dagforge summary",
) -> Path:
    """Write one HTML page comparing several runs (atomically).

    For each metric a dataset x model table (the mean over runs sharing a
    cell, the best model per dataset in bold), each cell linking to its run's
    row; then a table of all runs (anchors ``#run-<k>``) linking to their
    ``report.html``; then each run's warnings.

    Parameters
    ----------
    out_path : path
        The HTML file to write; links to reports are relative to its folder.
    runs : sequence of SummaryRun
        The runs, e.g. from :func:`summary_run_from_report`.
    metrics : sequence of str
        Metrics of the dataset x model tables (those no run has are left out).
    title : str
        Page title.

    Returns
    -------
    Path
        ``out_path``.
    """
    out = Path(out_path)
    base = out.parent if out.parent != Path("") else Path(".")
    datasets = list(dict.fromkeys(r.dataset for r in runs))
    models = list(dict.fromkeys(r.model for r in runs))
    anchor = {id(r): f"run-{k}" for k, r in enumerate(runs)}
    parts = [f"<h1>{html.escape(title)}</h1>",
             f"<p>{len(runs)} runs, {len(datasets)} datasets, {len(models)} models.</p>"]
    shown = [m for m in metrics if any(_finite(r.metrics.get(m)) is not None for r in runs)]
    if not runs:
        parts.append(_note("no runs"))
    for metric in shown:
        better = (None if metric in _NEUTRAL
                  else "low" if metric in _LOWER_IS_BETTER else "high")
        rows = []
        for ds in datasets:
            vals: dict[str, tuple[float, int, str]] = {}
            for mo in models:
                cell = [r for r in runs if r.dataset == ds and r.model == mo]
                xs = [v for r in cell if (v := _finite(r.metrics.get(metric))) is not None]
                if xs:
                    vals[mo] = (float(np.mean(xs)), len(xs), anchor[id(cell[0])])
            best = None
            if vals and better:
                pick = min if better == "low" else max
                best = pick(v[0] for v in vals.values())
            cells = [f'<td class="l">{html.escape(ds)}</td>']
            for mo in models:
                if mo not in vals:
                    cells.append("n/a")
                    continue
                v, n, a = vals[mo]
                text = _esc(v) + (f" (n={n})" if n > 1 else "")
                cls = ' class="best"' if best is not None and v == best else ""
                cells.append(f'<td{cls}><a href="#{a}">{text}</a></td>')
            rows.append(cells)
        parts.append(f"<h2>{html.escape(metric)}</h2>" + _table(["dataset", *models], rows))
    if runs and not shown:
        parts.append(_note("No run has ground-truth metrics (no true graphs)."))

    cols = [c for c in _METRIC_COLUMNS if any(c in r.metrics for r in runs)]
    rows = []
    for r in runs:
        link = (f'<a href="{html.escape(_link(r.report, base), quote=True)}">report</a>'
                if r.report is not None else "n/a")
        rows.append([f'<td class="l" id="{anchor[id(r)]}">{html.escape(r.dataset)}</td>',
                     f'<td class="l">{html.escape(r.model)}</td>',
                     *(_esc(r.metrics.get(c)) for c in cols), _esc(r.seconds),
                     _esc(len(r.warnings)), f'<td class="l">{link}</td>'])
    if runs:
        parts.append("<h2>Runs</h2>" + _table(
            ["dataset", "model", *cols, "seconds", "warnings", "report"], rows))
    warned = [(r, w) for r in runs for w in r.warnings]
    if warned:
        items = "".join(f'<li><a href="#{anchor[id(r)]}">{html.escape(r.dataset)} / '
                        f"{html.escape(r.model)}</a>: {html.escape(w)}</li>" for r, w in warned)
        parts.append(f"<h2>Warnings</h2><ul>{items}</ul>")
    page = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
            + "".join(parts) + "</body></html>\n")
    write_text(out, page)
    logger.info("summary of %d runs written to %s", len(runs), out)
    return out
