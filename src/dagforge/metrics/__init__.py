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

Modules
-------
:mod:`~dagforge.metrics.shd` (edge counts, SHD, CPDAG SHD),
:mod:`~dagforge.metrics.rates` (precision / recall / F1, TPR / FDR / FPR, AUPRC,
AUROC), :mod:`~dagforge.metrics.summary` (:func:`evaluate`, all of them at once),
:mod:`~dagforge.metrics.sortability` (var- and R²-sortability of data). Every
name is importable from :mod:`dagforge.metrics`.
"""

from __future__ import annotations

from dagforge.metrics.rates import (
    auprc,
    auroc,
    precision_recall_f1,
    skeleton_precision_recall_f1,
    tpr_fdr_fpr,
)
from dagforge.metrics.shd import (
    EdgeCounts,
    edge_counts,
    shd,
    shd_cpdag,
    shd_double,
    shd_icpdag,
)
from dagforge.metrics.sortability import r2_coefficients, r2_sortability, varsortability
from dagforge.metrics.summary import evaluate

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
    "shd_icpdag",
    "skeleton_precision_recall_f1",
    "tpr_fdr_fpr",
    "varsortability",
]
