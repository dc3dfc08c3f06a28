"""Train the GNN learner on the default nonlinear problem and check the run honestly.

    python scripts/train_full_model.py [--config configs/train-full.yaml] [--out DIR] [--resume]

Simulates the data set of the config (a nonlinear SEM with a known graph), fits
``DagLearner`` with the config's settings (checkpointing into the run directory),
and writes the run directory: ``data.csv``, ``true_edges.csv``, the fit's outputs
(``edges.csv``, ``adjacency.csv``, ``weights.csv``, ``history.csv``, ``run.json``,
``checkpoint.pt``) and ``metrics.json`` with the learned graph's metrics against
the truth beside the empty graph and sortnregress. The truth is used for these
metrics only, after the fit; nothing is chosen with it.

The four checks of the run are printed and stored in ``metrics.json``: largest
gradient norm (before clipping) < 100, final h < 1e-8, output is a DAG, SHD well
below the empty graph's (at most 60 % of it).

The gradient norm: with the mini-batch Adam trainer (``learner.inner: adam``, as
``configs/train-full.yaml`` has it) it is the largest Euclidean norm of the smooth
objective's gradient over *every* optimiser step of the run, taken before clipping
(``grad_norm_max`` in ``history.csv``). With full-batch L-BFGS there are no logged
steps, and the largest per-term gradient norm (fit, sparsity, acyclicity) at the end
of an outer step is used instead; ``metrics.json`` names which (``max_grad_norm_source``).
"""


import argparse
import logging
import sys
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dagforge._io import write_json
from dagforge.baselines import empty, sortnregress
from dagforge.config import FitConfig
from dagforge.errors import ConfigError, DagforgeError
from dagforge.estimator import DagLearner
from dagforge.graph import is_dag
from dagforge.metrics import evaluate
from dagforge.rundir import write_dataset, write_fit
from dagforge.simulate import simulate

log = logging.getLogger("train_full")
ROOT = Path(__file__).resolve().parents[1]


class DataConfig(BaseModel):
    """The simulated data set (see :func:`dagforge.simulate.simulate`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    graph: str = "er"
    k: float = 1.0
    d: int = Field(12, ge=2)
    n: int = Field(2000, ge=3)
    sem: str = "mlp"
    noise: str = "gauss"
    noise_scales: str = "equal"
    standardize: bool = False
    seed: int = 0


class TrainFullConfig(BaseModel):
    """``configs/train-full.yaml``: the data, the learner and the run directory."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = "train-full"
    out: str = "runs/train-full"
    checkpoint_every: int = Field(10, ge=0)
    data: DataConfig = Field(default_factory=DataConfig)
    learner: FitConfig = Field(default_factory=lambda: FitConfig(model="gnn", seed=0))


def load(path: Path) -> TrainFullConfig:
    try:
        return TrainFullConfig.model_validate(yaml.safe_load(path.read_text()) or {})
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except (ValidationError, yaml.YAMLError) as e:
        raise ConfigError(f"{path}: {' '.join(str(e).split())}") from None


def train_full(cfg: TrainFullConfig, out: Path, resume: bool = False) -> dict[str, Any]:
    """Run the whole job; returns the content of ``metrics.json``."""
    out.mkdir(parents=True, exist_ok=True)
    data = simulate(graph=cfg.data.graph, k=cfg.data.k, d=cfg.data.d, n=cfg.data.n,
                    sem=cfg.data.sem, noise=cfg.data.noise,
                    noise_scales=cfg.data.noise_scales, standardize=cfg.data.standardize,
                    rng=np.random.default_rng(cfg.data.seed))
    write_dataset(out, data.X, data.names, data.W)
    learner = DagLearner(**cfg.learner.learner_params())
    learner.fit(data.X, names=data.names, checkpoint_dir=out,
                checkpoint_every=cfg.checkpoint_every, resume=resume)
    run = write_fit(out, learner, data.names, {
        "command": "train-full", "config": cfg.model_dump(), "n": data.n, "d": data.d})
    B = data.B
    model = evaluate(true=B, pred=learner.adjacency_, scores=np.abs(learner.W_))
    baselines = {
        "empty": evaluate(true=B, pred=empty(data.X)),
        "sortnregress": evaluate(true=B, pred=sortnregress(data.X)),
    }
    grad = run["max_grad_norm_before_clipping"]
    source = "largest per-step gradient norm before clipping (Adam trainer)"
    if grad is None:
        grad = run["max_term_grad_norm"]
        source = "largest per-term gradient norm at the end of an outer step (no trainer)"
    checks = {
        "max_grad_norm_below_100": bool(grad is not None and grad < 100),
        "final_h_below_1e-8": bool(learner.h_ < 1e-8),
        "output_is_dag": bool(is_dag(learner.adjacency_)),
        "shd_well_below_empty": bool(model["shd"] <= 0.6 * baselines["empty"]["shd"]),
    }
    metrics = {
        "note": "metrics against the simulated truth, computed after the fit; "
                "the truth was not used to fit, stop or select",
        "model": model, "baselines": baselines, "max_grad_norm": grad,
        "max_grad_norm_source": source, "h": learner.h_,
        "checks": checks, "beats_empty": model["shd"] < baselines["empty"]["shd"],
    }
    write_json(out / "metrics.json", metrics)
    return metrics


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--config", type=Path, default=ROOT / "configs" / "train-full.yaml")
    p.add_argument("--out", type=Path, default=None, help="run directory (default: config's)")
    p.add_argument("--resume", action="store_true", help="continue from the run's checkpoint")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        cfg = load(args.config)
        out = args.out or ROOT / cfg.out
        m = train_full(cfg, out, resume=args.resume)
    except DagforgeError as e:
        print(f"train-full: error: {' '.join(str(e).split())}", file=sys.stderr)
        return 2
    print(f"run directory: {out}")
    print(f"SHD {m['model']['shd']} (empty graph {m['baselines']['empty']['shd']}, "
          f"sortnregress {m['baselines']['sortnregress']['shd']}), "
          f"F1 {m['model']['f1']:.2f}, AUPRC {m['model']['auprc']:.2f}")
    for name, ok in m["checks"].items():
        print(f"  [{'ok' if ok else 'FAILED'}] {name}")
    print(f"  largest gradient norm {m['max_grad_norm']:.3g} ({m['max_grad_norm_source']}), "
          f"final h {m['h']:.2e}")
    failed = [name for name, ok in m["checks"].items() if not ok]
    if failed:
        print(f"train-full: {len(failed)} check(s) failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
