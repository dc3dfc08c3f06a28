"""What a fit leaves in its run directory, written the same way by every entry point.

``weights.csv`` (the solver's continuous ``W_``), ``edges.csv`` (the output DAG's
weighted edges), ``adjacency.csv`` (0/1 output DAG), ``history.csv`` (per epoch for
the mini-batch trainer, else per outer step) and ``run.json``. Each file is written
atomically.
"""

from __future__ import annotations

import platform
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from dagforge import __version__
from dagforge._io import atomic_open, write_json
from dagforge.graph import is_dag, write_adjacency, write_edge_list
from dagforge.train import write_history_csv

__all__ = ["versions", "write_dataset", "write_fit"]


def write_dataset(out: Path, X: np.ndarray, names: Sequence[str],
                  W_true: np.ndarray | None) -> None:
    """Write ``data.csv`` (header = names) and, when the truth is known,
    ``true_edges.csv`` (each atomically)."""
    import pandas as pd

    frame = pd.DataFrame(np.asarray(X), columns=list(names))
    with atomic_open(out / "data.csv", "w", encoding="utf-8", newline="") as fh:
        frame.to_csv(fh, index=False, float_format="%.10g")
    if W_true is not None:
        write_edge_list(out / "true_edges.csv", W_true, names)


def versions() -> dict[str, str]:
    """Versions of dagforge and of what its results depend on."""
    return {"dagforge": __version__, "python": platform.python_version(),
            "numpy": np.__version__, "torch": torch.__version__}


def write_fit(out: Path, learner: Any, names: Sequence[str], info: Mapping[str, Any]) -> dict:
    """Write a fitted :class:`~dagforge.estimator.DagLearner`'s outputs to ``out``;
    ``info`` is merged into ``run.json`` (e.g. the command, data and config).
    Returns the ``run.json`` content."""
    write_adjacency(out / "weights.csv", learner.W_, names)
    write_edge_list(out / "edges.csv", learner.weights_, names)
    write_adjacency(out / "adjacency.csv", learner.adjacency_, names)
    write_history_csv(out / "history.csv", learner.train_history_ or learner.history_)
    # the mini-batch trainer logs each step's gradient norm before clipping; the
    # solvers log per-term gradient norms at the end of every outer step
    step_norms = [r["grad_norm_max"] for r in learner.train_history_ if "grad_norm_max" in r]
    term_norms = [max(r["grad_fit"], r["grad_sparsity"], r["grad_acyclicity"])
                  for r in learner.history_]
    run = {
        **info,
        "versions": versions(),
        "seconds": round(learner.fit_seconds_, 3),
        "stop_reason": learner.stop_reason_,
        "h": learner.h_,
        "threshold": learner.threshold_,
        "n_edges": int(learner.adjacency_.sum()),
        "is_dag": is_dag(learner.adjacency_),
        "noise_model": learner.noise_model_,
        "refine_scores": learner.refine_scores_,
        "max_grad_norm_before_clipping": max(step_norms) if step_norms else None,
        "max_term_grad_norm": max(term_norms) if term_norms else None,
        "history": learner.history_,
    }
    write_json(out / "run.json", run)
    return run
