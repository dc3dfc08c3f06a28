"""One page comparing several runs: dataset x model tables linking to each run's report.

:func:`summary_run_from_report` reads a run back from its report directory
(``metrics.json``); :func:`render_summary` writes the page from
``templates/summary.html.j2``.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np

from dagforge._io import write_text
from dagforge.errors import DataError
from dagforge.evaluation import LOWER_IS_BETTER, NO_DIRECTION, finite_or_none
from dagforge.report.formatting import METRIC_COLUMNS
from dagforge.report.render import render_page

__all__ = ["SummaryRun", "render_summary", "summary_run_from_report"]

logger = logging.getLogger(__name__)


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
        seconds=finite_or_none(info.get("seconds")),
    )


def _link(target: str | os.PathLike[str], base: Path) -> str:
    """A relative, URL-quoted link from directory ``base`` to ``target``."""
    rel = os.path.relpath(Path(target).resolve(), base.resolve())
    return quote(Path(rel).as_posix())


def _metric_table(metric: str, runs: Sequence[SummaryRun], datasets: Sequence[str],
                  models: Sequence[str], anchor: dict[int, str]) -> dict[str, Any]:
    """One dataset x model table of ``metric``: per cell the mean over its runs, the
    number of runs and the anchor of the first; the best per dataset marked."""
    pick = None if metric in NO_DIRECTION else min if metric in LOWER_IS_BETTER else max
    rows = []
    for ds in datasets:
        cells: dict[str, dict[str, Any]] = {}
        for mo in models:
            cell = [r for r in runs if r.dataset == ds and r.model == mo]
            xs = [v for r in cell if (v := finite_or_none(r.metrics.get(metric))) is not None]
            if xs:
                cells[mo] = {"value": float(np.mean(xs)), "n": len(xs),
                             "anchor": anchor[id(cell[0])], "best": False}
        if cells and pick is not None:
            best = pick(c["value"] for c in cells.values())
            for c in cells.values():
                c["best"] = c["value"] == best
        rows.append({"dataset": ds, "cells": [cells.get(mo) for mo in models]})
    return {"metric": metric, "rows": rows}


def _run_rows(runs: Sequence[SummaryRun], columns: Sequence[str], base: Path,
              anchor: dict[int, str]) -> list[dict[str, Any]]:
    """The table of all runs: labels, metrics, seconds, warning count, report link."""
    return [{"anchor": anchor[id(r)], "dataset": r.dataset, "model": r.model,
             "metric_values": [r.metrics.get(c) for c in columns], "seconds": r.seconds,
             "n_warnings": len(r.warnings),
             "link": _link(r.report, base) if r.report is not None else None}
            for r in runs]


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
    shown = [m for m in metrics
             if any(finite_or_none(r.metrics.get(m)) is not None for r in runs)]
    columns = [c for c in METRIC_COLUMNS if any(c in r.metrics for r in runs)]
    page = render_page(
        "summary.html.j2", title=title, n_runs=len(runs), n_datasets=len(datasets),
        models=models,
        metric_tables=[_metric_table(m, runs, datasets, models, anchor) for m in shown],
        run_columns=columns, runs=_run_rows(runs, columns, base, anchor),
        warned=[{"anchor": anchor[id(r)], "dataset": r.dataset, "model": r.model, "text": w}
                for r in runs for w in r.warnings])
    write_text(out, page)
    logger.info("summary of %d runs written to %s", len(runs), out)
    return out
