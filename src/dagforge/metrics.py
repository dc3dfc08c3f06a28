r"""Ground-truth metrics for a learned graph, and sortability diagnostics of data.

Convention: a graph is a ``d x d`` array ``W`` with ``W[i, j] != 0`` meaning the
edge ``i -> j`` (see :mod:`dagforge.graph`). Every metric accepts weighted
matrices (only the non-zero pattern counts), boolean or 0/1 matrices alike, and
takes keyword-only arguments, ``shd(true=B, pred=B_hat)``, so the truth and the
estimate cannot be swapped by accident. Both graphs must have the same square
shape, finite entries and an empty diagonal, else :class:`~dagforge.errors.GraphError`.

Counting edges
--------------
Write :math:`B` for the 0/1 truth and :math:`\hat B` for the 0/1 prediction.
Two levels of counting are used, and every docstring says which:

*Directed (ordered pairs).* ``tp`` :math:`= |B \wedge \hat B|`, ``fp``
:math:`= |\neg B \wedge \hat B|`, ``fn`` :math:`= |B \wedge \neg\hat B|`. A
predicted edge that is the reverse of a true edge is therefore both a false
positive (the wrong direction was predicted) and a false negative (the right one
was not).

*Structural (unordered pairs).* For each pair :math:`\{i, j\}`, ``i < j``, a
graph has a *mark*: the set of its edges between ``i`` and ``j``, one of
:math:`\emptyset`, :math:`\{i \to j\}`, :math:`\{j \to i\}` or both (a 2-cycle).
A pair whose true and predicted marks differ is exactly one of

* **extra**: the predicted edges strictly contain the true ones (no true edge
  but a predicted one, or a true ``i -> j`` predicted as the 2-cycle ``i <-> j``);
* **missing**: the predicted edges are strictly contained in the true ones (a
  true edge not predicted at all, or a true 2-cycle predicted as one direction);
* **reversed**: neither contains the other (true ``i -> j``, predicted only
  ``j -> i``).

The structural Hamming distance is ``shd = extra + missing + reversed``: a
reversed edge counts once. This is cdt's ``SHD(..., double_for_anticausal=False)``
and, for acyclic predictions, NOTEARS' ``count_accuracy`` SHD.

Zero divisions
--------------
Ratios whose denominator is zero are 0.0, never NaN (as scikit-learn's
``zero_division=0``): the precision of an empty prediction is 0, and so are the
recall and F1 against an empty truth, whatever is predicted. Use ``shd`` or
``fp`` to judge a prediction against an empty truth. The threshold-free scores
(:func:`auprc`, :func:`auroc`) are NaN when the truth leaves only one class, as
no ranking can be scored then.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

from dagforge.errors import DataError, GraphError
from dagforge.graph import dag_to_cpdag, is_dag

__all__ = [
    "EdgeCounts",
    "auprc",
    "auroc",
    "edge_counts",
    "evaluate",
    "precision_recall_f1",
    "r2_coefficients",
    "r2_sortability",
    "shd",
    "shd_cpdag",
    "shd_double",
    "skeleton_precision_recall_f1",
    "tpr_fdr_fpr",
    "varsortability",
]

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------- validation


def _as_graph(W: np.ndarray, what: str) -> np.ndarray:
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


def _pair(true: np.ndarray, pred: np.ndarray, pred_name: str = "pred") -> tuple[np.ndarray, ...]:
    """Validate both graphs and check they have the same shape."""
    B = _as_graph(true, "true")
    P = _as_graph(pred, pred_name)
    if B.shape != P.shape:
        raise GraphError(f"true and {pred_name} differ in shape: {B.shape} vs {P.shape}")
    return B, P


def _ratio(num: float, den: float) -> float:
    """``num / den``, or 0.0 when ``den == 0``."""
    return float(num) / float(den) if den else 0.0


def _f1(tp: int, fp: int, fn: int) -> float:
    """:math:`2tp / (2tp + fp + fn)` (equal to the harmonic mean of precision and recall)."""
    return _ratio(2 * tp, 2 * tp + fp + fn)


# --------------------------------------------------------------------------- edge counts


@dataclass(frozen=True)
class EdgeCounts:
    """Edge counts of a prediction against the truth (see the module docstring).

    Attributes
    ----------
    d : int
        Number of variables.
    true_edges, nnz : int
        Directed edges in the truth and in the prediction.
    tp, fp, fn : int
        Directed (ordered-pair) true positives, false positives, false negatives.
    extra, missing, reversed : int
        Structural (unordered-pair) differences; ``shd = extra + missing + reversed``.
    """

    d: int
    true_edges: int
    nnz: int
    tp: int
    fp: int
    fn: int
    extra: int
    missing: int
    reversed: int

    @property
    def shd(self) -> int:
        """Structural Hamming distance, a reversed edge counting once."""
        return self.extra + self.missing + self.reversed

    @property
    def shd_double(self) -> int:
        """Number of differing entries of the 0/1 matrices, a reversed edge counting twice."""
        return self.fp + self.fn


def _counts(B: np.ndarray, P: np.ndarray) -> EdgeCounts:
    """Count on validated boolean matrices (the one place the counting logic lives)."""
    d = B.shape[0]
    iu = np.triu_indices(d, k=1)
    # per unordered pair i < j: does the graph have i -> j, j -> i?
    bf, bb = B[iu], B.T[iu]
    pf, pb = P[iu], P.T[iu]
    differ = (bf != pf) | (bb != pb)
    pred_sup = (pf >= bf) & (pb >= bb)  # predicted edges contain the true ones
    pred_sub = (pf <= bf) & (pb <= bb)  # predicted edges contained in the true ones
    extra = int(np.sum(differ & pred_sup))
    missing = int(np.sum(differ & pred_sub))
    rev = int(np.sum(differ & ~pred_sup & ~pred_sub))
    return EdgeCounts(
        d=d,
        true_edges=int(B.sum()),
        nnz=int(P.sum()),
        tp=int(np.sum(B & P)),
        fp=int(np.sum(~B & P)),
        fn=int(np.sum(B & ~P)),
        extra=extra,
        missing=missing,
        reversed=rev,
    )


def edge_counts(*, true: np.ndarray, pred: np.ndarray) -> EdgeCounts:
    """Directed and structural edge counts of ``pred`` against ``true``.

    Parameters
    ----------
    true, pred : ndarray of shape (d, d)
        Graphs, ``M[i, j] != 0`` is the edge ``i -> j``; weights are ignored.

    Returns
    -------
    EdgeCounts
        ``tp, fp, fn`` over ordered pairs; ``extra, missing, reversed`` over
        unordered pairs (see the module docstring).

    Examples
    --------
    Truth ``0 -> 1 -> 2``; prediction ``1 -> 0`` (reversed), ``0 -> 2`` (extra),
    ``1 -> 2`` missing:

    >>> true = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]])
    >>> pred = np.array([[0, 0, 1], [1, 0, 0], [0, 0, 0]])
    >>> c = edge_counts(true=true, pred=pred)
    >>> (c.tp, c.fp, c.fn, c.extra, c.missing, c.reversed)
    (0, 2, 2, 1, 1, 1)

    A 2-cycle over a true edge is one extra pair (and one directed false positive):

    >>> c = edge_counts(true=np.array([[0, 1], [0, 0]]), pred=np.array([[0, 1], [1, 0]]))
    >>> (c.tp, c.fp, c.fn, c.extra, c.missing, c.reversed)
    (1, 1, 0, 1, 0, 0)
    """
    return _counts(*_pair(true, pred))


# --------------------------------------------------------------------------- SHD


def shd(*, true: np.ndarray, pred: np.ndarray) -> int:
    r"""Structural Hamming distance, a reversed edge counting once.

    .. math::

        \mathrm{SHD} = \#\{\{i, j\} : i < j,\ (B_{ij}, B_{ji}) \ne (\hat B_{ij}, \hat B_{ji})\}
                     = \text{extra} + \text{missing} + \text{reversed},

    the number of unordered pairs whose edges differ: edge insertions, deletions
    and reversals needed to turn ``pred`` into ``true`` (a 2-cycle over a true
    edge counts once, as an extra edge).

    Examples
    --------
    Truth ``0 -> 1 -> 2``, prediction ``1 -> 0`` (reversed) and ``0 -> 2``
    (extra), ``1 -> 2`` missing: ``1 + 1 + 1 = 3``.

    >>> true = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]])
    >>> pred = np.array([[0, 0, 1], [1, 0, 0], [0, 0, 0]])
    >>> shd(true=true, pred=pred)
    3
    """
    return edge_counts(true=true, pred=pred).shd


def shd_double(*, true: np.ndarray, pred: np.ndarray) -> int:
    r"""Structural Hamming distance with a reversed edge counting twice.

    .. math:: \mathrm{SHD}_2 = \sum_{i, j} |B_{ij} - \hat B_{ij}| = fp + fn,

    the number of differing entries of the 0/1 matrices; this is cdt's
    ``SHD(..., double_for_anticausal=True)``.

    Examples
    --------
    Same graphs as :func:`shd`: the reversal counts 2, so ``2 + 1 + 1 = 4``.

    >>> true = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]])
    >>> pred = np.array([[0, 0, 1], [1, 0, 0], [0, 0, 0]])
    >>> shd_double(true=true, pred=pred)
    4
    """
    return edge_counts(true=true, pred=pred).shd_double


def shd_cpdag(*, true: np.ndarray, pred: np.ndarray) -> int:
    r"""SHD between the CPDAGs (Markov equivalence classes) of two DAGs.

    Both graphs are mapped to their CPDAG with :func:`dagforge.graph.dag_to_cpdag`;
    the result is the number of unordered pairs ``{i, j}`` whose mark differs
    among *none*, ``i -> j``, ``j -> i`` and *undirected* ``i - j``. Every
    difference counts 1, so a DAG in the true equivalence class scores 0.

    Raises
    ------
    GraphError
        If either graph has a directed cycle (the CPDAG of a cyclic graph is not
        defined; :func:`evaluate` reports NaN instead).

    Examples
    --------
    The chain ``0 -> 1 -> 2`` and the fork ``0 <- 1 -> 2`` are Markov
    equivalent (both CPDAGs are ``0 - 1 - 2``), though their SHD is 1; the
    collider ``0 -> 1 <- 2`` is not (CPDAG ``0 -> 1 <- 2``, both marks differ):

    >>> chain = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]])
    >>> fork = np.array([[0, 0, 0], [1, 0, 1], [0, 0, 0]])
    >>> collider = np.array([[0, 1, 0], [0, 0, 0], [0, 1, 0]])
    >>> shd_cpdag(true=chain, pred=fork), shd(true=chain, pred=fork)
    (0, 1)
    >>> shd_cpdag(true=chain, pred=collider)
    2
    """
    B, P = _pair(true, pred)
    for M, name in ((B, "true"), (P, "pred")):
        if not is_dag(M):
            raise GraphError(f"shd_cpdag needs DAGs; {name} has a directed cycle")
    # the CPDAG matrices encode the four marks as (C[i, j], C[j, i]); a pair's mark
    # differs iff the unordered pair differs, which is what the structural count does
    return _counts(dag_to_cpdag(B) != 0, dag_to_cpdag(P) != 0).shd


# --------------------------------------------------------------------------- rates


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
    return _ratio(c.tp, c.nnz), _ratio(c.tp, c.true_edges), _f1(c.tp, c.fp, c.fn)


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
    B, P = _pair(true, pred)
    iu = np.triu_indices(B.shape[0], k=1)
    sb, sp = (B | B.T)[iu], (P | P.T)[iu]
    tp, fp, fn = int(np.sum(sb & sp)), int(np.sum(~sb & sp)), int(np.sum(sb & ~sp))
    return _ratio(tp, tp + fp), _ratio(tp, tp + fn), _f1(tp, fp, fn)


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


# --------------------------------------------------------------------------- threshold-free


def _labels_scores(true: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Off-diagonal labels and |scores|; None when the labels are of one class only."""
    B = _as_graph(true, "true")
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


# --------------------------------------------------------------------------- evaluate


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
    B, P = _pair(true, pred)
    c = _counts(B, P)
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


# --------------------------------------------------------------------------- sortability


def _check_data(X: np.ndarray, d: int | None = None) -> np.ndarray:
    """``X`` as a finite float (n, d) array with n >= 2 and no constant column."""
    X = np.asarray(X, dtype=float)
    if X.ndim != 2:
        raise DataError(f"X must be a 2-D (n, d) array, got {X.ndim} dimension(s)")
    if d is not None and X.shape[1] != d:
        raise DataError(f"X has {X.shape[1]} columns but the graph has {d} variables")
    if X.shape[0] < 2:
        raise DataError(f"X needs at least 2 rows, got {X.shape[0]}")
    if not np.all(np.isfinite(X)):
        raise DataError("X contains NaN or infinite values")
    const = np.flatnonzero(np.ptp(X, axis=0) == 0)
    if len(const):
        raise DataError(f"column {int(const[0])} of X is constant")
    return X


def r2_coefficients(X: np.ndarray) -> np.ndarray:
    r"""Coefficient of determination of each variable regressed on all the others.

    .. math::

        R^2_j = 1 - \frac{\mathrm{RSS}_j}{\mathrm{TSS}_j}
              = 1 - \frac{1}{(\Sigma^{-1})_{jj}},

    for OLS with intercept of column ``j`` on the other columns, where
    :math:`\Sigma` is the correlation matrix (the second form). When
    :math:`\Sigma` is (near) singular the regressions are solved one by one
    with least squares instead. It is invariant to rescaling any column.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Data, n >= 2, no constant column.

    Returns
    -------
    ndarray of shape (d,)
        Values in [0, 1].

    Examples
    --------
    With mutually orthogonal zero-mean ``u, v, w`` of equal norm and columns
    ``u, u + v, u + v + w``: :math:`R^2 = (1/2, 3/4, 2/3)`.

    >>> u, v, w = np.array([[1, 1, -1, -1], [1, -1, 1, -1], [1, -1, -1, 1]], dtype=float)
    >>> X = np.column_stack([u, u + v, u + v + w])
    >>> np.round(r2_coefficients(X), 4)
    array([0.5   , 0.75  , 0.6667])
    """
    X = _check_data(X)
    d = X.shape[1]
    Xc = X - X.mean(axis=0)  # [n, d]
    Z = Xc / np.linalg.norm(Xc, axis=0)  # unit-norm columns  [n, d]
    corr = Z.T @ Z  # [d, d]
    r2: np.ndarray | None = None
    if np.linalg.cond(corr) < 1e10:
        r2 = 1.0 - 1.0 / np.diag(np.linalg.inv(corr))
    if r2 is None or not np.all(np.isfinite(r2)):
        logger.debug("correlation matrix near singular; R^2 by per-variable least squares")
        r2 = np.empty(d)
        for j in range(d):
            others = np.arange(d) != j
            coef, *_ = np.linalg.lstsq(Z[:, others], Z[:, j], rcond=None)
            resid = Z[:, j] - Z[:, others] @ coef
            r2[j] = 1.0 - float(resid @ resid)  # TSS of a unit-norm centred column is 1
    return np.clip(r2, 0.0, 1.0)


def _order_alignment(B: np.ndarray, increase: np.ndarray, tie: np.ndarray) -> float:
    r"""Share of (pair, length) path counts along which a score increases, ties 1/2.

    ``increase[i, j]`` / ``tie[i, j]``: the score of ``j`` is larger than / equal
    to that of ``i``. For k = 1 .. d-1, every pair ``(i, j)`` joined by a
    directed path of exactly k edges counts once (the boolean k-step
    reachability :math:`B^k \ne 0`), as in the reference implementation of
    Reisach et al. (2021).
    """
    d = B.shape[0]
    Bi = B.astype(np.int64)
    Ek = B.copy()
    n_paths = 0
    n_right = 0.0
    for _ in range(d - 1):
        if not Ek.any():
            break
        n_paths += int(Ek.sum())
        n_right += float(np.sum(Ek & increase)) + 0.5 * float(np.sum(Ek & tie))
        Ek = (Ek.astype(np.int64) @ Bi) > 0
    if n_paths == 0:
        logger.debug("graph has no edge; sortability is NaN")
        return math.nan
    return n_right / n_paths


def _dag_for_sortability(B: np.ndarray) -> np.ndarray:
    E = _as_graph(B, "B")
    if not is_dag(E):
        raise GraphError("sortability needs a DAG; B has a directed cycle")
    return E


def varsortability(X: np.ndarray, B: np.ndarray, *, tol: float = 1e-9) -> float:
    r"""Var-sortability (Reisach, Seiler & Weichwald 2021, "Beware of the simulated DAG!").

    The fraction of directed paths along which the marginal variance strictly
    increases, a tie counting 1/2:

    .. math::

        v = \frac{\sum_{k=1}^{d-1} \sum_{i \to_k j}
                  \left(\mathbb 1[\sigma^2_j > \sigma^2_i (1 + \mathrm{tol})]
                  + \tfrac12 \mathbb 1[|\sigma^2_j / \sigma^2_i - 1| \le \mathrm{tol}]\right)}
                 {\sum_{k=1}^{d-1} \#\{i \to_k j\}},

    where :math:`i \to_k j` ranges over the pairs joined by a directed path of
    exactly ``k`` edges (:math:`(B^k)_{ij} \ne 0`; a pair joined by paths of
    several lengths counts once per length, as in the authors' code). ``v = 1``:
    sorting by variance recovers a causal order; ``v = 1/2``: variance carries no
    hint; ``v = 0``: variance decreases along every path. NaN for a graph
    without edges.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Data (population variances ``ddof=0`` are used; ratios do not depend on it).
    B : ndarray of shape (d, d)
        A DAG, ``B[i, j] != 0`` is ``i -> j``.
    tol : float
        Relative tolerance under which two variances are a tie.

    Examples
    --------
    Chain ``0 -> 1 -> 2``; paths (0,1), (1,2) (length 1) and (0,2) (length 2).
    Variances 1, 4, 9 increase along all three; reversed, along none:

    >>> X = np.array([[1.0, 2.0, 3.0], [-1.0, -2.0, -3.0]])
    >>> chain = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]])
    >>> varsortability(X, chain), varsortability(X, chain.T)
    (1.0, 0.0)

    With variances 1, 1, 4 the pair (0, 1) is a tie: (1/2 + 1 + 1) / 3.

    >>> X = np.array([[1.0, 1.0, 2.0], [-1.0, -1.0, -2.0]])
    >>> round(varsortability(X, chain), 4)
    0.8333
    """
    if not tol >= 0:
        raise DataError(f"tol must be >= 0, got {tol}")
    E = _dag_for_sortability(B)
    X = _check_data(X, d=E.shape[0])
    var = X.var(axis=0)  # [d], all > 0 (no constant column)
    ratio = var[None, :] / var[:, None]  # [i, j] = var_j / var_i
    increase = ratio > 1.0 + tol
    tie = (ratio <= 1.0 + tol) & (ratio >= 1.0 - tol)
    return _order_alignment(E, increase, tie)


def r2_sortability(X: np.ndarray, B: np.ndarray, *, tol: float = 1e-9) -> float:
    r"""R²-sortability (Reisach, Tami, Seiler, Chambaz & Weichwald 2023).

    As :func:`varsortability`, with the marginal variance replaced by
    :math:`R^2_j`, the coefficient of determination of variable ``j`` regressed
    on all the others (:func:`r2_coefficients`); a tie is
    :math:`|R^2_j - R^2_i| \le \mathrm{tol}`. Unlike var-sortability it is
    invariant to rescaling the variables, so standardising the data does not
    change it. NaN for a graph without edges.

    Examples
    --------
    Columns ``u, u + v, u + v + w`` (``u, v, w`` orthogonal, zero mean, equal
    norm) have :math:`R^2 = (1/2, 3/4, 2/3)`. Along the chain ``0 -> 1 -> 2``,
    R² rises on (0, 1) and (0, 2) and falls on (1, 2): 2/3. With two variables
    both R² equal the squared correlation, so every edge is a tie: 1/2.

    >>> u, v, w = np.array([[1, 1, -1, -1], [1, -1, 1, -1], [1, -1, -1, 1]], dtype=float)
    >>> X = np.column_stack([u, u + v, u + v + w])
    >>> chain = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]])
    >>> round(r2_sortability(X, chain), 4)
    0.6667
    >>> r2_sortability(np.column_stack([u, u + v]), np.array([[0, 1], [0, 0]]))
    0.5
    """
    if not tol >= 0:
        raise DataError(f"tol must be >= 0, got {tol}")
    E = _dag_for_sortability(B)
    X = _check_data(X, d=E.shape[0])
    r2 = r2_coefficients(X)  # [d]
    diff = r2[None, :] - r2[:, None]  # [i, j] = R2_j - R2_i
    return _order_alignment(E, diff > tol, np.abs(diff) <= tol)
