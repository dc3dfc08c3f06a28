"""Loading a pipeline's data sets: simulated, shipped or files, typed and with regimes."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from dagforge.data import Dataset
from dagforge.errors import ConfigError
from dagforge.graph import read_edge_list
from dagforge.pipeline.specs import DatasetSpec, SimulateSpec

__all__ = ["PipelineData", "load_data"]


@dataclass
class PipelineData:
    """One data set of a run, as fitted: the data (types, levels and regimes with it),
    the true graph if known, and where it came from."""

    data: Dataset
    truth: np.ndarray | None
    info: dict[str, Any]

    def target_indices(self) -> list[list[int]] | None:
        """The intervened variables of each regime, by index (None: observational)."""
        if self.data.targets is None:
            return None
        index = {name: j for j, name in enumerate(self.data.names)}
        return [[index[v] for v in t] for t in self.data.targets.values()]


def _simulated(s: SimulateSpec) -> PipelineData:
    from dagforge.simulate import (
        InterventionDesign,
        random_targets,
        simulate,
        simulate_mixed,
    )

    info = {"source": f"simulated {s.model_dump()}"}
    if s.discrete > 0:
        sim = simulate_mixed(graph=s.graph, k=s.k, d=s.d, n=s.n, discrete=s.discrete,
                             rng=np.random.default_rng(s.seed))
        return PipelineData(sim.dataset(), sim.B.astype(float), info)
    design = None
    if s.interventions:
        rng = np.random.default_rng([s.seed, 1])  # the targets: apart from the data's draws
        design = InterventionDesign(random_targets(s.d, s.interventions, rng), n_obs=s.n,
                                    n_per_regime=s.n_per_regime, kind=s.intervention_kind)
    sim = simulate(graph=s.graph, k=s.k, d=s.d, n=s.n, sem=s.sem, noise=s.noise,
                   noise_scales=s.noise_scales, interventions=design,
                   rng=np.random.default_rng(s.seed))
    return PipelineData(sim.dataset(), sim.W, info)


def _file(spec: DatasetSpec, base: Path) -> PipelineData:
    from dagforge.datasets import load_table
    from dagforge.regimes import read_targets

    def here(name: str) -> Path:
        p = Path(name)
        return p if p.is_absolute() else base / p

    path = here(spec.file)  # type: ignore[arg-type]
    targets = read_targets(here(spec.targets)) if spec.targets else None
    table = load_table(path, columns=spec.columns, missing=spec.missing, regime=spec.regime,
                       types=spec.types)
    data = table.dataset()
    if table.regimes is not None:
        data = data.with_regimes(table.regimes, targets or {})
    truth = read_edge_list(here(spec.truth), list(data.names))[0] if spec.truth else None
    return PipelineData(data, truth, {"source": f"file {path}",
                                      "rows_dropped": table.n_dropped})


def load_data(spec: DatasetSpec, base: Path, seed: int) -> PipelineData:
    """One data set: typed values, truth (or None), info, and regimes (if any)."""
    if spec.simulate is not None:
        out = _simulated(spec.simulate)
    elif spec.shipped is not None:
        from dagforge.datasets import load_shipped

        shipped = load_shipped(spec.shipped, n=spec.n, rng=seed)
        data = Dataset.from_matrix(shipped.X)
        if shipped.regimes is not None:
            data = data.with_regimes(shipped.regimes, shipped.targets or {})
        out = PipelineData(data, shipped.B, {"source": f"shipped {spec.shipped}"})
    else:
        out = _file(spec, base)
    continuous = np.array([t.value == "continuous" for t in out.data.types])
    X = out.data.values.copy()
    if spec.log and continuous.any():
        if not (X[:, continuous] > 0).all():
            raise ConfigError(f"data set {spec.name!r}: log needs positive values")
        X[:, continuous] = np.log(X[:, continuous])
    out.data = replace(out.data, values=X)
    if spec.standardize:
        out.data = out.data.standardized()
    return out
