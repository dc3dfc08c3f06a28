"""Input checks and zero-safe ratios shared by the metrics (see :mod:`dagforge.metrics`)."""

from __future__ import annotations

import numpy as np

from dagforge.errors import GraphError

__all__ = ["as_graph", "check_pair", "f1_score", "ratio"]


def as_graph(W: np.ndarray, what: str) -> np.ndarray:
    """``W`` as a square boolean edge matrix; GraphError on a bad shape, NaN/inf or self-loop."""
    A = np.asarray(W)
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise GraphError(f"{what} must be a square (d x d) matrix, got shape {A.shape}")
    if A.dtype != bool:
        if not np.issubdtype(A.dtype, np.number):
            raise GraphError(f"{what} must be numeric or boolean, got dtype {A.dtype}")
        if not np.all(np.isfinite(A)):
            raise GraphError(f"{what} contains NaN or infinite entries")
    E = A != 0
    loops = np.flatnonzero(np.diag(E))
    if len(loops):
        raise GraphError(f"{what} has a self-loop on variable {int(loops[0])} (non-zero diagonal)")
    return E


def check_pair(
    true: np.ndarray, pred: np.ndarray, pred_name: str = "pred"
) -> tuple[np.ndarray, ...]:
    """Validate both graphs and check they have the same shape."""
    B = as_graph(true, "true")
    P = as_graph(pred, pred_name)
    if B.shape != P.shape:
        raise GraphError(f"true and {pred_name} differ in shape: {B.shape} vs {P.shape}")
    return B, P


def ratio(num: float, den: float) -> float:
    """``num / den``, or 0.0 when ``den == 0``."""
    return float(num) / float(den) if den else 0.0


def f1_score(tp: int, fp: int, fn: int) -> float:
    """:math:`2tp / (2tp + fp + fn)` (equal to the harmonic mean of precision and recall)."""
    return ratio(2 * tp, 2 * tp + fp + fn)
