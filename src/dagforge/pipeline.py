"""``dagforge run CONFIG``: data sets x models -> fits, evaluation, reports, a summary.

A pipeline config (YAML or TOML, every key checked) names data sets (simulated,
shipped or the user's files), models (each a :class:`~dagforge.config.FitConfig`
bootstrap refits among its settings), and where to write. A run writes
``<out>/<timestamp>-<name>/``::

    manifest.json            steps and their state (written after every step)
    summary.html             all data sets x models, linking to each report
    <dataset>/data.csv       the data used (and true_edges.csv when known)
    <dataset>/<model>/       the fit (rundir.write_fit), edge_probability.csv when
                             bootstrapped, metrics.json, report/report.html

Every file is written atomically, and a step is marked done in the manifest only
after all its files are there; ``--resume`` (``run_pipeline(..., resume=True)``)
skips the steps marked done and redoes the rest.

The truth, when a data set has one, is used only after the fit: for the metrics,
beside the baselines (empty graph, random graph of the same density,
sortnregress, r2_sortnregress) and the data's varsortability / R2-sortability.
A model that does not beat the empty graph's SHD is flagged (``beats_empty:
false`` in ``metrics.json`` and a warning in the report); the metrics and the
warnings are :func:`dagforge.evaluation.evaluate_fit`'s.
"""

from __future__ import annotations

import datetime as _dt
import logging
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from dagforge._io import write_json
from dagforge.config import FitConfig, format_validation_error, read_config_file
from dagforge.errors import ConfigError, DagforgeError
from dagforge.evaluation import evaluate_fit
from dagforge.graph import read_edge_list

log = logging.getLogger(__name__)

__all__ = ["DatasetSpec", "ModelSpec", "PipelineConfig", "load_pipeline", "run_pipeline"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class SimulateSpec(BaseModel):
    """Arguments of :func:`dagforge.simulate.simulate` (its defaults otherwise)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    graph: Literal["er", "sf"] = "er"
    k: float = Field(2.0, gt=0)
    d: int = Field(10, ge=2)
    n: int = Field(1000, ge=3)
    sem: Literal["linear", "mlp", "additive", "index"] = "linear"
    noise: Literal["gauss", "exp", "gumbel", "uniform"] = "gauss"
    noise_scales: Literal["equal", "unequal"] = "equal"
    seed: int = 0
    #: Interventional data: this many regimes of ``n_per_regime`` rows, each with one
    #: random variable intervened on (``n`` rows stay observational).
    interventions: int = Field(0, ge=0)
    n_per_regime: int = Field(100, ge=2)
    intervention_kind: Literal["perfect", "shift"] = "perfect"


class DatasetSpec(BaseModel):
    """One data set: exactly one of ``simulate``, ``shipped`` or ``file``."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    simulate: SimulateSpec | None = None
    #: a name of :func:`dagforge.datasets.list_datasets` (``n`` rows for a Gaussian BN)
    shipped: str | None = None
    n: int | None = Field(None, ge=3)
    #: a CSV / TSV / Parquet file (relative to the config's folder)
    file: str | None = None
    columns: list[str] | None = None
    #: the true graph of ``file`` (edge list or adjacency CSV), if known
    truth: str | None = None
    #: interventional ``file``: its column of regime labels and a targets file (JSON or
    #: YAML, relative to the config's folder), both or neither
    regime: str | None = None
    targets: str | None = None
    missing: Literal["error", "drop"] = "error"
    #: the natural log of every column first (positive, log-normal data such as
    #: flow-cytometry intensities)
    log: bool = False
    standardize: bool = False
    #: how the experiments of interventional data act (a fact of the data set, so it
    #: overrides each model's own setting here)
    interventions: Literal["perfect", "soft"] | None = None
    #: the models (by name) to fit on this data set; default: every model
    models: list[str] | None = None

    @model_validator(mode="after")
    def _one_source(self) -> DatasetSpec:
        if not _NAME.match(self.name):
            raise ValueError(f"data set name {self.name!r}: use letters, digits, _ . -")
        sources = [k for k in ("simulate", "shipped", "file") if getattr(self, k) is not None]
        if len(sources) != 1:
            raise ValueError(f"data set {self.name!r} needs exactly one of simulate, shipped, "
                             f"file (got {sources or 'none'})")
        for key in ("truth", "regime", "targets"):
            if getattr(self, key) is not None and self.file is None:
                raise ValueError(f"data set {self.name!r}: {key} is only for a file")
        if (self.regime is None) != (self.targets is None):
            raise ValueError(f"data set {self.name!r}: regime and targets come together")
        return self


class ModelSpec(BaseModel):
    """One learner: a name and its settings (bootstrap refits among them)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    learner: FitConfig = Field(default_factory=FitConfig)

    @model_validator(mode="after")
    def _name_ok(self) -> ModelSpec:
        if not _NAME.match(self.name):
            raise ValueError(f"model name {self.name!r}: use letters, digits, _ . -")
        return self


class PipelineConfig(BaseModel):
    """A whole pipeline run."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = "pipeline"
    out: str = "runs"
    seed: int = 0
    datasets: list[DatasetSpec]
    models: list[ModelSpec]
    report: bool = True

    @model_validator(mode="after")
    def _unique(self) -> PipelineConfig:
        for what, items in (("data set", self.datasets), ("model", self.models)):
            names = [i.name for i in items]
            if not names:
                raise ValueError(f"at least one {what} is needed")
            dup = sorted({n for n in names if names.count(n) > 1})
            if dup:
                raise ValueError(f"duplicate {what} name(s): {dup}")
        known = {m.name for m in self.models}
        for ds in self.datasets:
            unknown = sorted(set(ds.models or ()) - known)
            if unknown:
                raise ValueError(f"data set {ds.name!r}: unknown model(s) {unknown}")
        for m in self.models:
            if m.learner.regime is not None or m.learner.targets is not None:
                raise ValueError(f"model {m.name!r}: regime and targets belong to a data set")
        return self


def load_pipeline(path: str | os.PathLike[str]) -> tuple[PipelineConfig, Path]:
    """Read and validate a pipeline config; returns it and its folder (for relative paths)."""
    p = Path(path)
    data = read_config_file(p, "pipeline config")
    if not isinstance(data, dict):
        raise ConfigError(f"{p}: must be a mapping of keys to values")
    try:
        config = PipelineConfig.model_validate(data)
    except ValidationError as e:
        raise ConfigError(format_validation_error(e, str(p))) from None
    base = p.resolve().parent
    # a model's knowledge file is relative to the config's folder, as in `fit --config`
    models = [m.model_copy(update={"learner": m.learner.model_copy(
                  update={"knowledge": str(base / m.learner.knowledge)})})
              if m.learner.knowledge is not None and not Path(m.learner.knowledge).is_absolute()
              else m for m in config.models]
    return config.model_copy(update={"models": models}), base


# --------------------------------------------------------------------------- steps


class _Manifest:
    """``manifest.json``: the state of every step, rewritten atomically after each."""

    def __init__(self, run_dir: Path, config: PipelineConfig, resume: bool) -> None:
        self.path = run_dir / "manifest.json"
        self.data: dict[str, Any] = {"name": config.name, "config": config.model_dump(),
                                     "steps": {}}
        if resume and self.path.is_file():
            import json

            try:
                old = json.loads(self.path.read_text(encoding="utf-8"))
            except json.JSONDecodeError:
                raise ConfigError(f"{self.path} is corrupt; cannot resume") from None
            if old.get("config") != self.data["config"]:
                raise ConfigError(f"{self.path}: the run was made with another config; "
                                  "start a new run instead of --resume")
            self.data["steps"] = old.get("steps", {})

    def done(self, step: str) -> bool:
        return self.data["steps"].get(step, {}).get("status") == "done"

    def mark(self, step: str, status: str, **info: Any) -> None:
        self.data["steps"][step] = {"status": status, **info}
        write_json(self.path, self.data)


@dataclass
class _Data:
    """One data set of a run, as fitted."""

    X: np.ndarray
    names: list[str]
    truth: np.ndarray | None
    info: dict[str, Any]
    regimes: np.ndarray | None = None
    targets: dict[str, list[str]] | None = None

    def target_indices(self) -> list[list[int]] | None:
        """The intervened variables of each regime, by index (None: observational)."""
        if self.targets is None:
            return None
        index = {name: j for j, name in enumerate(self.names)}
        return [[index[v] for v in t] for t in self.targets.values()]


def _simulated(s: SimulateSpec) -> _Data:
    from dagforge.simulate import InterventionDesign, random_targets, simulate

    design = None
    if s.interventions:
        rng = np.random.default_rng([s.seed, 1])  # the targets: apart from the data's draws
        design = InterventionDesign(random_targets(s.d, s.interventions, rng), n_obs=s.n,
                                    n_per_regime=s.n_per_regime, kind=s.intervention_kind)
    sim = simulate(graph=s.graph, k=s.k, d=s.d, n=s.n, sem=s.sem, noise=s.noise,
                   noise_scales=s.noise_scales, interventions=design,
                   rng=np.random.default_rng(s.seed))
    return _Data(sim.X, list(sim.names), sim.W, {"source": f"simulated {s.model_dump()}"},
                 sim.regimes, sim.targets)


def _load_data(spec: DatasetSpec, base: Path, seed: int) -> _Data:
    """One data set: values, names, truth (or None), info and regimes (if any)."""
    if spec.simulate is not None:
        data = _simulated(spec.simulate)
    elif spec.shipped is not None:
        from dagforge.datasets import load_shipped

        shipped = load_shipped(spec.shipped, n=spec.n, rng=seed)
        data = _Data(shipped.X.to_numpy(dtype=float), [str(c) for c in shipped.X.columns],
                     shipped.B, {"source": f"shipped {spec.shipped}"}, shipped.regimes,
                     shipped.targets)
    else:
        from dagforge.datasets import check_matrix, load_table
        from dagforge.regimes import read_targets

        def here(name: str) -> Path:
            p = Path(name)
            return p if p.is_absolute() else base / p

        path = here(spec.file)  # type: ignore[arg-type]
        targets = read_targets(here(spec.targets)) if spec.targets else None
        table = load_table(path, columns=spec.columns, missing=spec.missing,
                           regime=spec.regime)
        X, names = check_matrix(table.X, table.names)
        truth = read_edge_list(here(spec.truth), names)[0] if spec.truth else None
        data = _Data(X, names, truth, {"source": f"file {path}",
                                       "rows_dropped": table.n_dropped},
                     table.regimes, targets)
    if spec.log:
        if not (data.X > 0).all():
            raise ConfigError(f"data set {spec.name!r}: log needs positive values")
        data.X = np.log(data.X)
    if spec.standardize:
        data.X = (data.X - data.X.mean(axis=0)) / data.X.std(axis=0)
    data.X = np.asarray(data.X, dtype=float)
    return data


def _fit_step(spec: ModelSpec, data: _Data, out: Path, seed: int, write_report: bool,
              interventions: str | None = None) -> dict:
    """Fit one model on one data set and write everything of the step to ``out``."""
    from dagforge.estimator import DagLearner
    from dagforge.rundir import write_fit

    X, names, truth = data.X, data.names, data.truth
    params = spec.learner.learner_params()
    if params.get("random_state") is None:
        params["random_state"] = seed
    if interventions is not None:
        params["interventions"] = interventions
    learner = DagLearner(**params)
    learner.fit(X, names=names, regimes=data.regimes, targets=data.targets)
    run = write_fit(out, learner, names, {"command": "dagforge run", "model": spec.name,
                                          "config": spec.model_dump(), "data": data.info,
                                          "targets": data.targets})
    probability = learner.edge_probability_  # None unless the learner bootstraps
    summary: dict[str, Any] = {"n_edges": run["n_edges"], "is_dag": run["is_dag"],
                               "fit_seconds": run["seconds"]}
    warnings: list[str] = []
    if truth is not None:
        metrics = evaluate_fit(X, truth, adjacency=learner.adjacency_, W=learner.W_, seed=seed,
                               edge_probability=probability, targets=data.target_indices())
        warnings = metrics["warnings"]
        write_json(out / "metrics.json", metrics)
        summary.update(shd=metrics["model"]["shd"], beats_empty=metrics["beats_empty"])
        for w in warnings:
            log.warning("%s: %s", out.relative_to(out.parents[1]), w)
    if write_report:
        from dagforge.report import inputs_from_run_dir
        from dagforge.report import write_report as _write

        inputs = inputs_from_run_dir(out, true=truth, edge_probability=probability,
                                     baselines=metrics["baselines"] if truth is not None
                                     else None, warnings=warnings,
                                     title=f"{out.parent.name} / {spec.name}")
        inputs.dataset, inputs.model = out.parent.name, spec.name
        if truth is not None:
            inputs.varsortability = metrics["varsortability"]
        _write(out / "report", inputs)
    return summary


def _default_run_dir(config: PipelineConfig, base: Path) -> Path:
    parent = Path(config.out)
    parent = parent if parent.is_absolute() else Path.cwd() / parent
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return parent / f"{stamp}-{config.name}"


def latest_run_dir(config: PipelineConfig) -> Path | None:
    """The newest ``<out>/<timestamp>-<name>`` directory of this config, if any."""
    parent = Path(config.out)
    parent = parent if parent.is_absolute() else Path.cwd() / parent
    runs = sorted(p for p in parent.glob(f"*-{config.name}") if (p / "manifest.json").is_file())
    return runs[-1] if runs else None


def run_pipeline(config: PipelineConfig, base: Path | None = None, *,
                 run_dir: Path | None = None, resume: bool = False) -> Path:
    """Run every step of ``config`` (paths in it relative to ``base``); returns the run
    directory. With ``resume``, steps the manifest marks done are skipped."""
    base = base or Path.cwd()
    if config.report:
        from dagforge.extras import require

        require("report", "matplotlib", "a pipeline's HTML reports (or set report: false)")
    if run_dir is None:
        run_dir = (latest_run_dir(config) if resume else None) or _default_run_dir(config, base)
    run_dir.mkdir(parents=True, exist_ok=True)
    manifest = _Manifest(run_dir, config, resume)
    def models(ds: DatasetSpec) -> list[ModelSpec]:
        return [m for m in config.models if ds.models is None or m.name in ds.models]

    n_steps = sum(len(models(ds)) for ds in config.datasets)
    k = 0
    runs = []
    for ds in config.datasets:
        data = _load_data(ds, base, config.seed)
        ds_dir = run_dir / ds.name
        step = f"{ds.name}/data"
        if not manifest.done(step):
            from dagforge.rundir import write_dataset

            ds_dir.mkdir(parents=True, exist_ok=True)
            write_dataset(ds_dir, data.X, data.names, data.truth, data.regimes, data.targets)
            manifest.mark(step, "done", rows=int(data.X.shape[0]), variables=len(data.names),
                          **data.info)
        for spec in models(ds):
            k += 1
            step = f"{ds.name}/{spec.name}"
            out = ds_dir / spec.name
            if manifest.done(step):
                log.info("[%d/%d] %s: done before, skipped", k, n_steps, step)
            else:
                log.info("[%d/%d] %s: fitting %s (%d x %d)", k, n_steps, step,
                         spec.learner.model, *data.X.shape)
                manifest.mark(step, "running")
                t0 = time.perf_counter()
                try:
                    summary = _fit_step(spec, data, out, config.seed, config.report,
                                        ds.interventions)
                except DagforgeError as e:
                    manifest.mark(step, "failed", error=str(e))
                    raise
                manifest.mark(step, "done", seconds=round(time.perf_counter() - t0, 2),
                              **summary)
                log.info("[%d/%d] %s: %s", k, n_steps, step,
                         ", ".join(f"{a}={b}" for a, b in summary.items()))
            runs.append((ds.name, spec.name, out))
    if config.report:
        _summary(run_dir, runs)
    return run_dir


def _summary(run_dir: Path, runs: list[tuple[str, str, Path]]) -> Path:
    """``summary.html`` over all steps (from each step's report)."""
    from dagforge.report import render_summary, summary_run_from_report

    items = [summary_run_from_report(out / "report", dataset=ds, model=m)
             for ds, m, out in runs]
    return render_summary(run_dir / "summary.html", items,
                          title=f"dagforge run {run_dir.name}")
