"""The report's figures: matplotlib figures on an Agg canvas of their own, and their PNGs.

Every figure is a :class:`matplotlib.figure.Figure` with its own
:class:`~matplotlib.backends.backend_agg.FigureCanvasAgg`, never ``pyplot``'s
global state, so figures can be made from any thread or program without
touching the matplotlib backend. :func:`to_png` encodes one, :func:`data_uri`
embeds the PNG in a page.

Convention: ``W[i, j] != 0`` is the edge ``i -> j``; heatmap rows are parents
(sources), columns children (targets).
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from dagforge.drawing import draw_graph
from dagforge.evaluation import edge_scores, finite_or_none
from dagforge.metrics import auprc
from dagforge.report.formatting import format_value
from dagforge.report.inputs import ReportInputs

__all__ = [
    "data_uri",
    "plot_adjacency",
    "plot_edge_probability",
    "plot_graph",
    "plot_pr_curve",
    "plot_threshold",
    "plot_training",
    "to_png",
    "training_panels",
]

#: Resolution of every figure (dots per inch); keeps a d = 50 report near 1 MB.
DPI = 100
#: At most this many names are written on a heatmap axis (every k-th above it).
MAX_TICK_LABELS = 60

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


def data_uri(png: bytes) -> str:
    """A PNG as a base64 ``data:`` URI, for an ``<img>`` that needs no other file."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _column(rows: Sequence[Mapping[str, Any]], key: str) -> np.ndarray | None:
    """History column ``key`` as floats (NaN where missing); None if it has no finite value."""
    if not any(key in r for r in rows):
        return None
    vals = np.array([math.nan if (v := finite_or_none(r.get(key))) is None else v
                     for r in rows], dtype=float)
    return vals if np.isfinite(vals).any() else None


def _figure(width: float, height: float) -> Figure:
    """A figure with its own Agg canvas (no pyplot, no global backend)."""
    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def to_png(fig: Figure) -> bytes:
    """The figure as PNG bytes."""
    buf = io.BytesIO()
    # no "Software" tag: the bytes then depend on the figure only, not the matplotlib version
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


def plot_graph(inp: ReportInputs) -> Figure:
    """The graph with variable names in layers of its causal order
    (:func:`dagforge.drawing.draw_graph`); with a truth, edges coloured by their
    status; directions the data do not fix without arrowheads."""
    assert inp.adjacency is not None
    size = float(np.clip(4.0 + 0.16 * inp.d, 5.0, 11.0))
    fig = _figure(size, size)
    draw_graph(fig.add_subplot(), inp.adjacency, inp.names, weights=inp.weights,
               probability=inp.edge_probability, cpdag=inp.cpdag, truth=inp.true,
               title="estimated graph" + (" against the truth" if inp.true is not None
                                          else ""))
    return fig


def _set_scale(ax: Any, arrays: Sequence[np.ndarray]) -> None:
    """Log y scale when every finite value is positive and they span more than a factor
    20, symlog when they are >= 0 with some zeros (the positive ones spanning that much),
    else linear."""
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


def plot_pr_curve(inp: ReportInputs, metrics: Mapping[str, Any]) -> Figure:
    """Precision-recall curve of ``|W|`` (and of the edge probabilities, if any)."""
    from sklearn.metrics import precision_recall_curve

    assert inp.true is not None
    off = ~np.eye(inp.d, dtype=bool)
    y = (inp.true != 0)[off]
    fig = _figure(5.2, 4.4)
    ax = fig.add_subplot()
    curves = [("|W|", edge_scores(inp.W)[off], metrics.get("auprc"))]
    if inp.edge_probability is not None:
        curves.append(("edge probability", inp.edge_probability[off],
                       auprc(true=inp.true, scores=inp.edge_probability)))
    for label, s, ap in curves:
        prec, rec, _ = precision_recall_curve(y, s)
        ax.plot(rec, prec, drawstyle="steps-post", linewidth=1.5,
                label=f"{label} (AUPRC {format_value(ap)})")
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
               label=f"SHD of the empty graph ({format_value(empty_shd)})")
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
                   label=f"chosen threshold ({format_value(threshold)}): "
                         f"SHD {format_value(metrics.get('shd'))}")
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
