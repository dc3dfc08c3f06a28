"""Running a pipeline: one fit step per data set x model, the manifest, the summary."""

from __future__ import annotations

import datetime as _dt
import logging
import time
from pathlib import Path
from typing import Any

from dagforge._io import write_json
from dagforge.errors import ConfigError, DagforgeError
from dagforge.evaluation import evaluate_fit
from dagforge.pipeline.data import PipelineData, load_data
from dagforge.pipeline.specs import DatasetSpec, ModelSpec, PipelineConfig

log = logging.getLogger("dagforge.pipeline")

__all__ = ["latest_run_dir", "run_pipeline"]


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


def _fit_step(spec: ModelSpec, data: PipelineData, out: Path, seed: int, write_report: bool,
              interventions: str | None = None) -> dict:
    """Fit one model on one data set and write everything of the step to ``out``."""
    from dagforge.estimator import DagLearner
    from dagforge.rundir import write_fit

    names, truth = list(data.data.names), data.truth
    params = spec.learner.learner_params()
    if params.get("random_state") is None:
        params["random_state"] = seed
    if interventions is not None:
        params["interventions"] = interventions
    learner = DagLearner(**params)
    learner.fit(data.data)
    run = write_fit(out, learner, names, {"command": "dagforge run", "model": spec.name,
                                          "config": spec.model_dump(), "data": data.info,
                                          "targets": data.data.targets})
    probability = learner.edge_probability_  # None unless the learner bootstraps
    summary: dict[str, Any] = {"n_edges": run["n_edges"], "is_dag": run["is_dag"],
                               "fit_seconds": run["seconds"]}
    warnings: list[str] = []
    if truth is not None:
        metrics = evaluate_fit(data.data.values, truth, adjacency=learner.adjacency_,
                               W=learner.W_, seed=seed, edge_probability=probability,
                               targets=data.target_indices())
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
        data = load_data(ds, base, config.seed)
        ds_dir = run_dir / ds.name
        step = f"{ds.name}/data"
        if not manifest.done(step):
            from dagforge.rundir import write_dataset

            ds_dir.mkdir(parents=True, exist_ok=True)
            write_dataset(ds_dir, data.data.values, list(data.data.names), data.truth,
                          data.data.regimes, data.data.targets, data.data.levels)
            manifest.mark(step, "done", rows=data.data.n, variables=data.data.d,
                          **data.info)
        for spec in models(ds):
            k += 1
            step = f"{ds.name}/{spec.name}"
            out = ds_dir / spec.name
            if manifest.done(step):
                log.info("[%d/%d] %s: done before, skipped", k, n_steps, step)
            else:
                log.info("[%d/%d] %s: fitting %s (%d x %d)", k, n_steps, step,
                         spec.learner.model, data.data.n, data.data.d)
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
