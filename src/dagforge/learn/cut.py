"""From a solver's continuous weights to a DAG: the threshold, fixed or chosen."""

from __future__ import annotations

import numpy as np

from dagforge.graph import threshold_to_dag
from dagforge.learn.result import FitParams

__all__ = ["cut_to_dag"]


def cut_to_dag(W: np.ndarray, X: np.ndarray, kind: str,
               params: FitParams) -> tuple[np.ndarray, float]:
    """The DAG of ``W`` (d x d) at ``params.threshold`` and that threshold; ``"auto"``
    chooses it without the truth by the held-out likelihood of the refitted graph
    (:func:`dagforge.selection.select_threshold`, ``kind`` "linear" or "nonlinear")."""
    if params.threshold == "auto":
        from dagforge.selection import select_threshold

        sel = select_threshold(W, X, rule="heldout", kind=kind,  # type: ignore[arg-type]
                               required=params.required,
                               rng=np.random.default_rng(params.random_state or 0))
        return sel.weights, float(sel.threshold)
    return threshold_to_dag(W, float(params.threshold), params.required), \
        float(params.threshold)
