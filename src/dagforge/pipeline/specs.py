"""The pipeline config: data sets, models, where to write; every key checked."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from dagforge.config import FitConfig, format_validation_error, read_config_file
from dagforge.errors import ConfigError

__all__ = ["DatasetSpec", "ModelSpec", "PipelineConfig", "SimulateSpec", "load_pipeline"]

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
    #: Mixed data: this share of the variables discrete (2-4 levels; the mixed
    #: simulator, :func:`dagforge.simulate.simulate_mixed`), 0: none.
    discrete: float = Field(0.0, ge=0, le=1)


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
    #: column types of ``file`` over the inferred ones (name -> type)
    types: dict[str, Literal["continuous", "binary", "categorical"]] | None = None
    #: the natural log of every (continuous) column first (positive, log-normal data such as
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
        for key in ("truth", "regime", "targets", "types"):
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
            if (m.learner.regime, m.learner.targets, m.learner.types) != (None, None, None):
                raise ValueError(f"model {m.name!r}: regime, targets and types belong to a "
                                 "data set")
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
