"""A report assembled in memory from :class:`ReportInputs`: figures, ``metrics.json``,
and ``report.html`` from its Jinja2 template; then written, all files or none.

The templates live in ``dagforge/report/templates``; the environment escapes
every value put into a page (autoescape), so variable names and config
values are shown as text whatever characters they hold.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import matplotlib
import numpy as np
from matplotlib.figure import Figure

from dagforge._io import atomic_open, to_json
from dagforge.evaluation import (
    LOWER_IS_BETTER,
    edge_scores,
    edge_status,
    finite_or_none,
    report_warnings,
    threshold_sweep,
)
from dagforge.graph import dag_to_cpdag, is_dag
from dagforge.metrics import auprc, auroc, edge_counts, evaluate
from dagforge.report import figures
from dagforge.report.formatting import HEADLINE_METRICS, METRIC_COLUMNS, format_value
from dagforge.report.inputs import ReportInputs

__all__ = ["FIGURE_FILES", "MAX_GRAPH_NODES", "render_page", "render_report", "write_report"]

logger = logging.getLogger(__name__)

#: Above this many variables the graph drawing is skipped (it would be unreadable).
MAX_GRAPH_NODES = 60
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


# --------------------------------------------------------------------------- templates


@functools.cache
def _environment() -> jinja2.Environment:
    """The templates' environment: autoescaped, strict about undefined names."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("dagforge.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,  # a misspelt name fails instead of printing ""
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["fmt"] = format_value
    env.filters["json"] = to_json
    return env


def render_page(template: str, **context: Any) -> str:
    """Render the page template ``template`` (a file in ``templates/``) with ``context``."""
    return _environment().get_template(template).render(**context)


# --------------------------------------------------------------------------- evaluation


@dataclass
class _Judged:
    """What the report says about the fit, besides the figures."""

    metrics: dict[str, Any] | None
    prob_metrics: dict[str, float] | None
    baselines: dict[str, dict[str, Any]]
    warnings: list[str]
    threshold: float | None
    versions: dict[str, str]


def _judge(inp: ReportInputs) -> _Judged:
    """Metrics against the truth (if any), warnings, threshold and versions."""
    assert inp.adjacency is not None
    metrics = prob_metrics = None
    if inp.true is not None:
        metrics = evaluate(true=inp.true, pred=inp.adjacency, scores=edge_scores(inp.W))
        if inp.edge_probability is not None:
            prob_metrics = {"auprc": auprc(true=inp.true, scores=inp.edge_probability),
                            "auroc": auroc(true=inp.true, scores=inp.edge_probability)}
    baselines = dict(inp.baselines or {})
    auto = report_warnings(metrics, baselines, adjacency=inp.adjacency,
                           varsortability=inp.varsortability)
    threshold = inp.threshold
    if threshold is None and inp.info is not None:
        threshold = finite_or_none(inp.info.get("threshold"))
    versions = inp.versions
    if versions is None:
        from dagforge.rundir import versions as _versions

        versions = _versions()
    return _Judged(metrics=metrics, prob_metrics=prob_metrics, baselines=baselines,
                   warnings=[*inp.warnings, *(w for w in auto if w not in inp.warnings)],
                   threshold=threshold,
                   versions={**versions, "matplotlib": str(matplotlib.__version__)})


def _truth_usable(B: np.ndarray) -> bool:
    """Whether the off-diagonal labels of ``B`` have both classes (curves are defined)."""
    off = ~np.eye(B.shape[0], dtype=bool)
    y = B[off] != 0
    return bool(y.size and y.any() and not y.all())


def _figure_files(inp: ReportInputs, judged: _Judged
                  ) -> tuple[dict[str, bytes], dict[str, str], dict[str, list[float]] | None]:
    """The PNGs that apply, notes on those left out, and the threshold sweep."""
    files: dict[str, bytes] = {}
    notes: dict[str, str] = {}

    def add(name: str, make: Callable[[], Figure | None]) -> None:
        fig = make()
        if fig is not None:
            files[name] = figures.to_png(fig)

    add("adjacency.png", lambda: figures.plot_adjacency(inp))
    if inp.d <= MAX_GRAPH_NODES:
        add("graph.png", lambda: figures.plot_graph(inp))
    else:
        notes["graph"] = (f"{inp.d} variables: the graph drawing is skipped above "
                          f"{MAX_GRAPH_NODES} (see the heatmaps and the edge table).")
    if inp.history:
        history = inp.history
        add("training.png", lambda: figures.plot_training(history))
    sweep = None
    metrics, true = judged.metrics, inp.true
    if metrics is not None and true is not None:
        if _truth_usable(true):
            add("pr_curve.png", lambda: figures.plot_pr_curve(inp, metrics))
        else:
            notes["pr"] = "the true graph has no edge: no precision-recall curve."
        sweep = threshold_sweep(true, inp.W)
        empty_shd = float(edge_counts(true=true, pred=np.zeros((inp.d, inp.d))).shd)
        add("threshold.png",
            lambda: figures.plot_threshold(sweep, metrics, empty_shd, judged.threshold))
    if inp.edge_probability is not None:
        add("edge_probability.png", lambda: figures.plot_edge_probability(inp))
    return files, notes, sweep


def _metrics_json(inp: ReportInputs, judged: _Judged, figure_names: list[str],
                  sweep: dict[str, list[float]] | None) -> dict[str, Any]:
    """The content of ``metrics.json``."""
    assert inp.adjacency is not None
    has_truth = inp.true is not None
    return {
        "title": inp.title,
        "dataset": inp.dataset,
        "model": inp.model,
        "d": inp.d,
        "names": inp.names,
        "n_edges": int(inp.adjacency.sum()),
        "is_dag": is_dag(inp.adjacency),
        "has_truth": has_truth,
        "threshold": judged.threshold,
        "model_metrics_note": None if has_truth else "no true graph: no metrics",
        "model_metrics": judged.metrics,
        "edge_probability_metrics": judged.prob_metrics,
        "baselines": judged.baselines,
        "warnings": judged.warnings,
        "varsortability": inp.varsortability,
        "threshold_sweep": sweep,
        "info": inp.info or {},
        "config": inp.config or {},
        "versions": judged.versions,
        "figures": figure_names,
    }


# --------------------------------------------------------------------------- page


def _facts(inp: ReportInputs, judged: _Judged) -> dict[str, Any]:
    """The summary table: what was fitted, the output graph, the headline metrics."""
    assert inp.adjacency is not None
    info = inp.info or {}
    facts: dict[str, Any] = {}
    if inp.dataset:
        facts["dataset"] = inp.dataset
    if inp.model:
        facts["model"] = inp.model
    facts.update({"variables": inp.d, "edges in the output": int(inp.adjacency.sum()),
                  "output is a DAG": is_dag(inp.adjacency), "threshold": judged.threshold})
    facts.update({k: info[k] for k in ("seed", "seconds", "stop_reason", "h", "n") if k in info})
    if judged.metrics:
        for k in ("shd", "f1", "precision", "recall", "auprc", "shd_cpdag", "shd_icpdag",
                  "true_edges"):
            if k != "shd_icpdag" or k in judged.metrics:  # interventional data only
                facts[k] = judged.metrics.get(k)
    if inp.varsortability is not None:
        facts["varsortability"] = inp.varsortability
    return facts


def _baseline_table(metrics: Mapping[str, Any] | None,
                    baselines: Mapping[str, Mapping[str, Any]]) -> dict[str, Any] | None:
    """Model row first, then one row per baseline; a baseline cell better than the
    model's on a headline metric has the class ``beats``. None without either."""
    rows_src: list[tuple[str, Mapping[str, Any]]] = [("model", metrics)] if metrics else []
    rows_src.extend(baselines.items())
    if not rows_src:
        return None
    cols = [c for c in METRIC_COLUMNS if any(c in m for _, m in rows_src)]
    rows = []
    for name, m in rows_src:
        cells = [(name, "l")]
        for c in cols:
            a, b = finite_or_none(m.get(c)), finite_or_none((metrics or {}).get(c))
            beats = (name != "model" and c in HEADLINE_METRICS and a is not None
                     and b is not None and (a < b if c in LOWER_IS_BETTER else a > b))
            cells.append((m.get(c), "beats" if beats else ""))
        rows.append(cells)
    return {"header": ["", *cols], "rows": rows,
            "row_classes": ["model" if name == "model" else "" for name, _ in rows_src]}


def _direction(inp: ReportInputs, i: int, j: int) -> str:
    """What fixes the direction of the output's edge ``i -> j``: its equivalence class
    (``inp.cpdag``) against the observational one."""
    assert inp.cpdag is not None and inp.adjacency is not None
    if inp.cpdag[i, j] and inp.cpdag[j, i]:
        return "not fixed by the data"
    C = dag_to_cpdag(inp.adjacency) if is_dag(inp.adjacency) else inp.cpdag
    return "fixed by the experiments" if C[i, j] and C[j, i] else "fixed by the data"


def _edge_table(inp: ReportInputs) -> dict[str, Any]:
    """Edges by status (missing last) and score; at most :data:`MAX_EDGE_ROWS` rows."""
    assert inp.weights is not None
    edges = edge_status(inp.adjacency, inp.true)
    S = edge_scores(inp.W)
    edges.sort(key=lambda e: (e[2] == "missing", -S[e[0], e[1]]))
    header = ["source", "target", "weight", "|W| score"]
    if inp.cpdag is not None:
        header.append("direction")
    if inp.true is not None:
        header += ["true weight", "status"]
    if inp.edge_probability is not None:
        header.append("probability")
    rows = []
    for i, j, status in edges[:MAX_EDGE_ROWS]:
        weight = float(inp.weights[i, j]) if status != "missing" else None
        row = [(inp.names[i], "l"), (inp.names[j], "l"), (weight, ""), (float(S[i, j]), "")]
        if inp.cpdag is not None:
            row.append((_direction(inp, i, j) if status != "missing" else "", "l"))
        if inp.true is not None:
            row += [(float(inp.true[i, j]), ""), (status, "l")]
        if inp.edge_probability is not None:
            row.append((float(inp.edge_probability[i, j]), ""))
        rows.append(row)
    return {"header": header, "rows": rows, "more": max(len(edges) - MAX_EDGE_ROWS, 0)}


def _page_context(inp: ReportInputs, judged: _Judged, files: Mapping[str, bytes],
                  notes: Mapping[str, str]) -> dict[str, Any]:
    """Everything ``report.html.j2`` shows."""
    history = inp.history or []
    return {
        "title": inp.title,
        "facts": _facts(inp, judged),
        "has_metrics": bool(judged.metrics),
        "has_truth": inp.true is not None,
        "warnings": judged.warnings,
        "images": {name: figures.data_uri(png) for name, png in files.items()},
        "notes": notes,
        "has_history": bool(history),
        "training_x": "epoch" if any("epoch" in r for r in history) else "outer step",
        "prob_metrics": judged.prob_metrics,
        "baseline_table": _baseline_table(judged.metrics, judged.baselines),
        "has_baselines": bool(judged.baselines),
        "edge_table": _edge_table(inp),
        "info": dict(inp.info or {}),
        "versions": judged.versions,
        "config": inp.config,
    }


def render_report(inp: ReportInputs) -> dict[str, bytes]:
    """Render every file of a report in memory.

    Returns
    -------
    dict
        File name -> content: the PNGs that apply (of :data:`FIGURE_FILES`),
        ``metrics.json`` and ``report.html``. Nothing is written.
    """
    judged = _judge(inp)
    files, notes, sweep = _figure_files(inp, judged)
    context = _page_context(inp, judged, files, notes)
    summary = _metrics_json(inp, judged, [f for f in FIGURE_FILES if f in files], sweep)
    files["metrics.json"] = to_json(summary).encode("utf-8")
    files["report.html"] = render_page("report.html.j2", **context).encode("utf-8")
    return files


# --------------------------------------------------------------------------- writing


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
