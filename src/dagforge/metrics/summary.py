"""All ground-truth metrics of a prediction in one flat dict: :func:`evaluate`."""

from __future__ import annotations

import logging
import math

import numpy as np

from dagforge.graph import is_dag
from dagforge.metrics._checks import check_pair
from dagforge.metrics.rates import (
    auprc,
    auroc,
    precision_recall_f1,
    skeleton_precision_recall_f1,
    tpr_fdr_fpr,
)
from dagforge.metrics.shd import count_edges, shd_cpdag

__all__ = ["evaluate"]

logger = logging.getLogger(__name__)


def evaluate(
    *, true: np.ndarray, pred: np.ndarray, scores: np.ndarray | None = None
) -> dict[str, float | int | bool]:
    """All ground-truth metrics of a prediction, as one flat dict.

    Parameters
    ----------
    true : ndarray of shape (d, d)
        The true graph (``true[i, j] != 0`` is ``i -> j``).
    pred : ndarray of shape (d, d)
        The predicted graph; weights are ignored, only the non-zero pattern counts.
    scores : ndarray of shape (d, d), optional
        Edge confidences (``|W|`` before thresholding, or edge probabilities);
        when given, ``auprc`` and ``auroc`` are added.

    Returns
    -------
    dict
        ``shd``, ``shd_double``, ``shd_cpdag`` (NaN if ``true`` or ``pred`` has
        a cycle), ``extra``, ``missing``, ``reversed``, ``tp``, ``fp``, ``fn``,
        ``precision``, ``recall``, ``f1``, ``skeleton_precision``,
        ``skeleton_recall``, ``skeleton_f1``, ``tpr``, ``fdr``, ``fpr``, ``nnz``,
        ``true_edges``, ``is_dag`` (of ``pred``); with ``scores`` also
        ``auprc`` and ``auroc``. Each is defined by the function of the same
        name in this module (:func:`edge_counts` for the counts).

    Examples
    --------
    The empty prediction of a 3-edge truth: SHD is the number of true edges,
    and every rate is 0.

    >>> true = np.array([[0, 1, 1], [0, 0, 1], [0, 0, 0]])
    >>> m = evaluate(true=true, pred=np.zeros((3, 3)))
    >>> m["shd"], m["missing"], m["precision"], m["f1"], m["is_dag"]
    (3, 3, 0.0, 0.0, True)
    """
    B, P = check_pair(true, pred)
    c = count_edges(B, P)
    pred_dag = is_dag(P)
    if pred_dag and is_dag(B):
        cpdag: float | int = shd_cpdag(true=B, pred=P)
    else:
        logger.debug("shd_cpdag undefined for a cyclic graph; reporting NaN")
        cpdag = math.nan
    precision, recall, f1 = precision_recall_f1(true=B, pred=P)
    sk_p, sk_r, sk_f1 = skeleton_precision_recall_f1(true=B, pred=P)
    tpr, fdr, fpr = tpr_fdr_fpr(true=B, pred=P)
    out: dict[str, float | int | bool] = {
        "shd": c.shd,
        "shd_double": c.shd_double,
        "shd_cpdag": cpdag,
        "extra": c.extra,
        "missing": c.missing,
        "reversed": c.reversed,
        "tp": c.tp,
        "fp": c.fp,
        "fn": c.fn,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "skeleton_precision": sk_p,
        "skeleton_recall": sk_r,
        "skeleton_f1": sk_f1,
        "tpr": tpr,
        "fdr": fdr,
        "fpr": fpr,
        "nnz": c.nnz,
        "true_edges": c.true_edges,
        "is_dag": pred_dag,
    }
    if scores is not None:
        out["auprc"] = auprc(true=B, scores=scores)
        out["auroc"] = auroc(true=B, scores=scores)
    return out
