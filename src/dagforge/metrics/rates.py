"""Rates of a thresholded prediction (precision, recall, F1, NOTEARS' TPR / FDR /
FPR) and threshold-free scores of a ranking (AUPRC, AUROC)."""

from __future__ import annotations

import logging
import math

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

from dagforge.errors import GraphError
from dagforge.metrics._checks import as_graph, check_pair, f1_score, ratio
from dagforge.metrics.shd import edge_counts

__all__ = ["auprc", "auroc", "precision_recall_f1", "skeleton_precision_recall_f1",
           "tpr_fdr_fpr"]

logger = logging.getLogger(__name__)


def precision_recall_f1(*, true: np.ndarray, pred: np.ndarray) -> tuple[float, float, float]:
    r"""Directed-edge precision, recall and F1.

    .. math::

        \mathrm{precision} = \frac{tp}{tp + fp}, \quad
        \mathrm{recall} = \frac{tp}{tp + fn}, \quad
        F_1 = \frac{2\,tp}{2\,tp + fp + fn},

    over ordered pairs, so a reversed edge is a false positive and a false
    negative. A zero denominator gives 0.0: an empty prediction has precision,
    recall and F1 of 0; against an empty truth, recall and F1 are 0.

    Examples
    --------
    Truth ``0 -> 1 -> 2``; prediction ``0 -> 1`` (right) and ``2 -> 1`` (reversed):
    tp = 1, fp = 1, fn = 1.

    >>> true = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]])
    >>> pred = np.array([[0, 1, 0], [0, 0, 0], [0, 1, 0]])
    >>> precision_recall_f1(true=true, pred=pred)
    (0.5, 0.5, 0.5)
    >>> precision_recall_f1(true=true, pred=np.zeros((3, 3)))
    (0.0, 0.0, 0.0)
    """
    c = edge_counts(true=true, pred=pred)
    return ratio(c.tp, c.nnz), ratio(c.tp, c.true_edges), f1_score(c.tp, c.fp, c.fn)


def skeleton_precision_recall_f1(
    *, true: np.ndarray, pred: np.ndarray
) -> tuple[float, float, float]:
    r"""Precision, recall and F1 of the skeletons (edges taken as undirected).

    An unordered pair ``{i, j}`` is an edge of the skeleton if ``i -> j`` or
    ``j -> i`` (or both) is an edge; precision, recall and F1 are then counted
    over unordered pairs, with 0.0 for a zero denominator. A reversed edge is
    a skeleton true positive.

    Examples
    --------
    Truth ``0 -> 1 -> 2``; prediction ``0 -> 1``, ``2 -> 1`` and ``0 -> 2``:
    skeleton tp = 2 ({0,1}, {1,2}), fp = 1 ({0,2}), fn = 0.

    >>> true = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]])
    >>> pred = np.array([[0, 1, 1], [0, 0, 0], [0, 1, 0]])
    >>> p, r, f = skeleton_precision_recall_f1(true=true, pred=pred)
    >>> round(p, 4), r, f
    (0.6667, 1.0, 0.8)
    """
    B, P = check_pair(true, pred)
    iu = np.triu_indices(B.shape[0], k=1)
    sb, sp = (B | B.T)[iu], (P | P.T)[iu]
    tp, fp, fn = int(np.sum(sb & sp)), int(np.sum(~sb & sp)), int(np.sum(sb & ~sp))
    return ratio(tp, tp + fp), ratio(tp, tp + fn), f1_score(tp, fp, fn)


def tpr_fdr_fpr(*, true: np.ndarray, pred: np.ndarray) -> tuple[float, float, float]:
    r"""NOTEARS-style true positive, false discovery and false positive rates.

    As ``count_accuracy`` in NOTEARS (Zheng et al. 2018):

    .. math::

        \mathrm{TPR} = \frac{tp}{\max(|B|, 1)}, \quad
        \mathrm{FDR} = \frac{\text{reversed} + \text{extra}}{\max(\mathrm{nnz}, 1)}, \quad
        \mathrm{FPR} = \frac{\text{reversed} + \text{extra}}{\max(d(d-1)/2 - |B|, 1)},

    where ``tp`` excludes reversed edges. Here ``reversed + extra`` is counted
    per predicted directed edge, i.e. it is ``fp`` (every predicted edge not in
    the truth); for a prediction without 2-cycles it equals the structural
    ``reversed + extra``, while a 2-cycle on a non-edge counts 2 (two wrong
    edges). So TPR equals recall and FDR equals 1 - precision (0 for an empty
    prediction). The FPR denominator is NOTEARS' "condition negative" size,
    the non-adjacent pairs of a DAG truth.

    Examples
    --------
    Truth ``0 -> 1 -> 2`` on 4 variables; prediction ``0 -> 1``, ``2 -> 1``
    (reversed), ``0 -> 3`` (extra): TPR = 1/2, FDR = 2/3,
    FPR = 2 / (6 - 2) = 1/2.

    >>> true = np.zeros((4, 4)); true[0, 1] = true[1, 2] = 1
    >>> pred = np.zeros((4, 4)); pred[0, 1] = pred[2, 1] = pred[0, 3] = 1
    >>> tpr, fdr, fpr = tpr_fdr_fpr(true=true, pred=pred)
    >>> tpr, round(fdr, 4), fpr
    (0.5, 0.6667, 0.5)
    """
    c = edge_counts(true=true, pred=pred)
    cond_neg = c.d * (c.d - 1) / 2 - c.true_edges
    return (
        c.tp / max(c.true_edges, 1),
        c.fp / max(c.nnz, 1),
        c.fp / max(cond_neg, 1),
    )


def _labels_scores(true: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Off-diagonal labels and |scores|; None when the labels are of one class only."""
    B = as_graph(true, "true")
    S = np.asarray(scores)
    if S.shape != B.shape:
        raise GraphError(f"true and scores differ in shape: {B.shape} vs {S.shape}")
    if not np.issubdtype(S.dtype, np.number) or not np.all(np.isfinite(S)):
        raise GraphError("scores must be finite numbers")
    off = ~np.eye(B.shape[0], dtype=bool)
    y, s = B[off], np.abs(S[off]).astype(float)
    if y.size == 0 or y.all() or not y.any():
        logger.debug("truth has only one class among off-diagonal pairs; score is NaN")
        return None
    return y, s


def auprc(*, true: np.ndarray, scores: np.ndarray) -> float:
    r"""Area under the precision-recall curve of ranking edges by ``|scores|``.

    Every ordered pair ``(i, j)``, ``i != j`` (``d(d-1)`` of them) is one item
    with label ``B[i, j]`` (true directed edge) and score ``|scores[i, j]|``
    (the absolute value, so a signed weight matrix can be passed directly;
    probabilities are unchanged); the value is scikit-learn's
    ``average_precision_score``,
    :math:`\sum_k (R_k - R_{k-1}) P_k`. A random ranking scores about the edge
    density :math:`|B| / (d(d-1))`. NaN when the truth has no edge (or every
    pair is an edge).

    Examples
    --------
    Truth ``0 -> 1`` on 2 variables: the pairs are (0, 1) label 1 and (1, 0)
    label 0. Ranking the true edge first gives 1; last gives AP = 1/2 (the only
    positive is found at precision 1/2).

    >>> true = np.array([[0, 1], [0, 0]])
    >>> auprc(true=true, scores=np.array([[0, 0.9], [0.1, 0]]))
    1.0
    >>> auprc(true=true, scores=np.array([[0, 0.1], [0.9, 0]]))
    0.5
    """
    ys = _labels_scores(true, scores)
    if ys is None:
        return math.nan
    return float(average_precision_score(*ys))


def auroc(*, true: np.ndarray, scores: np.ndarray) -> float:
    r"""Area under the ROC curve of ranking edges by ``|scores|``.

    Items and labels as in :func:`auprc` (all ``d(d-1)`` ordered off-diagonal
    pairs, label = true directed edge, score = ``|scores[i, j]|``); the value is
    scikit-learn's ``roc_auc_score``: the probability that a true edge outranks
    a non-edge, ties counting 1/2. A random ranking scores 1/2. NaN when the
    truth has no edge (or every pair is an edge).

    Examples
    --------
    Truth ``0 -> 1 -> 2``: 2 positives, 4 negatives. Scores rank edge ``0 -> 1``
    above everything, but ``1 -> 2`` below the non-edge ``2 -> 1``
    (and above the other three): AUROC = (4 + 3) / 8.

    >>> true = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]])
    >>> scores = np.array([[0, 0.9, 0.1], [0.2, 0, 0.5], [0.3, 0.6, 0]])
    >>> auroc(true=true, scores=scores)
    0.875
    """
    ys = _labels_scores(true, scores)
    if ys is None:
        return math.nan
    return float(roc_auc_score(*ys))
