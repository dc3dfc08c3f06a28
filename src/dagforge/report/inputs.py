"""What a report shows (:class:`ReportInputs`), and reading it from a run directory.

:func:`inputs_from_run_dir` reads a run directory written by
:func:`dagforge.rundir.write_fit` (and, if present, ``true_edges.csv``,
``edge_probability.csv``, ``data.csv`` and ``metrics.json``).

Convention: ``W[i, j] != 0`` is the edge ``i -> j``.
"""

from __future__ import annotations

import csv
import json
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dagforge.errors import DagforgeError, DataError, GraphError
from dagforge.evaluation import compute_baselines, finite_or_none
from dagforge.graph import dag_to_cpdag, is_dag, read_adjacency, read_cpdag, read_edge_list
from dagforge.metrics import varsortability

__all__ = ["ReportInputs", "inputs_from_run_dir"]

logger = logging.getLogger(__name__)


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
        returns; see :func:`dagforge.evaluation.compute_baselines`).
    warnings : list of str
        Warnings to show; :func:`dagforge.evaluation.report_warnings` adds the automatic ones.
    varsortability : float, optional
        Varsortability of the data under the truth; a value above
        :data:`dagforge.evaluation.VARSORTABILITY_WARNING` adds a warning.
    threshold : float, optional
        The threshold that produced the output graph (marked on the threshold
        curve).
    cpdag : ndarray of shape (d, d), optional
        The output's equivalence class (:func:`dagforge.graph.dag_to_cpdag`, or with
        experiments :func:`~dagforge.graph.dag_to_icpdag`): an edge undirected there is
        a direction the data do not fix. Default: the CPDAG of ``adjacency``.
    config, versions, info : dict, optional
        Shown as tables; ``info`` holds e.g. the seed, timings, stop reason.
    title, dataset, model : str, optional
        Page title; the dataset and model names used by :func:`dagforge.report.render_summary`.
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
    cpdag: np.ndarray | None = None
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
        if self.cpdag is not None:
            self.cpdag = (_square(self.cpdag, d, "cpdag") != 0).astype(int)
        elif is_dag(self.adjacency):
            self.cpdag = dag_to_cpdag(self.adjacency)
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


def _read_run_json(run: Path) -> dict[str, Any]:
    """``run.json`` of a run directory (empty if there is none)."""
    if not (run / "run.json").is_file():
        return {}
    try:
        return json.loads((run / "run.json").read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise DataError(f"{run / 'run.json'} is not valid JSON: {e}") from None


def _read_saved_metrics(run: Path, baselines: Mapping[str, Mapping[str, Any]] | None,
                        info: dict[str, Any]) -> dict[str, dict[str, Any]] | None:
    """The baselines to show: ``baselines`` if given, else those of ``metrics.json``.

    ``metrics.json``'s ``checks`` go into ``info`` (unless already there).
    """
    known = {k: dict(v) for k, v in baselines.items()} if baselines is not None else None
    if not (run / "metrics.json").is_file():
        return known
    try:
        saved = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        logger.warning("%s is not valid JSON; ignored", run / "metrics.json")
        saved = {}
    if known is None and isinstance(saved.get("baselines"), dict):
        known = {k: dict(v) for k, v in saved["baselines"].items() if isinstance(v, dict)}
    if isinstance(saved.get("checks"), dict):
        info.setdefault("checks", saved["checks"])
    return known


def _evaluate_data(run: Path, names: Sequence[str], true: np.ndarray, adjacency: np.ndarray,
                   known: dict[str, dict[str, Any]] | None, compute: bool, seed: Any
                   ) -> tuple[float | None, dict[str, dict[str, Any]] | None]:
    """Varsortability of ``data.csv`` under ``true``, and the baselines (computed on
    ``data.csv`` when none are ``known`` and ``compute`` is set)."""
    import pandas as pd

    X = pd.read_csv(run / "data.csv")[list(names)].to_numpy(dtype=float)
    vs = None
    try:
        vs = varsortability(X, true) if is_dag(true) else None
    except DagforgeError as e:
        logger.warning("varsortability not computed: %s", e)
    if known is None and compute:
        known = compute_baselines(X, true, n_edges=int((adjacency != 0).sum()),
                                  seed=int(seed) if isinstance(seed, int) else 0)
    return vs, known


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
    varsortability and, when no baselines are known,
    :func:`dagforge.evaluation.compute_baselines`).

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
    meta = _read_run_json(run)
    config = meta.get("config") if isinstance(meta.get("config"), dict) else None
    info = {k: v for k, v in meta.items() if k not in ("config", "versions", "history")}
    seed = _nested_get(config, "seed") if config else None
    if seed is not None:
        info.setdefault("seed", seed)
    B = _matrix_input(true, run / "true_edges.csv", names)
    cpdag = read_cpdag(run / "cpdag.csv", names) if (run / "cpdag.csv").is_file() else None
    known = _read_saved_metrics(run, baselines, info)
    vs = None
    if B is not None and (run / "data.csv").is_file():
        vs, known = _evaluate_data(run, names, B, adjacency, known, compute_baseline_graphs,
                                   seed)
    model = _nested_get(config, "model") if config else None
    data = meta.get("data")
    return ReportInputs(
        names=names, W=W, adjacency=adjacency, weights=weights, true=B, history=history,
        edge_probability=_matrix_input(edge_probability, run / "edge_probability.csv", names),
        baselines=known, warnings=list(warnings), varsortability=vs,
        threshold=finite_or_none(meta.get("threshold")), cpdag=cpdag, config=config,
        versions=meta.get("versions") if isinstance(meta.get("versions"), dict) else None,
        info=info, title=title or f"dagforge report: {run.resolve().name}",
        dataset=data if isinstance(data, str) else run.resolve().name,
        model=model if isinstance(model, str) else None,
    )
