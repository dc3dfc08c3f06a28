r"""Decisions on floating-point scores that do not depend on the last bits.

The searches (hill climbing, order search, the multi-start and the kicks, the
noise-model choice) pick the best of many candidate moves by comparing scores
computed through BLAS and LAPACK. Different machines (OpenBLAS picks its kernel
per processor), thread counts or summation orders change those scores in their
last bits, and a near-tie broken one way on one machine and the other way on
another sends the search into a different local optimum. So every decision
goes through these functions:

* two scores closer than a tolerance are *tied*, and a tie is broken by a fixed
  rule: the lowest index (the first candidate in the caller's fixed order);
* a move *improves* only if it lowers the score by more than the tolerance.

Then inputs that differ by rounding take the same path, unless a score lies
within rounding of the tolerance boundary itself, which the tolerance makes
rare instead of routine (exact ties, as between score-equivalent moves, are
common).

The tolerance for BIC-type scores is :func:`score_tol`: the fit term is
:math:`\frac n2 \sum_j \log r_j`, so a relative error :math:`\epsilon` in one
residual variance moves it by :math:`n\epsilon / 2`.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "SCORE_RTOL",
    "VALUE_RTOL",
    "argmin_tied",
    "improves",
    "order_tied",
    "score_tol",
    "tied_ranks",
]

#: Score differences below ``SCORE_RTOL * n`` are ties. Residual variances carry a
#: relative error up to ~1e-7 where cancellation in ``S_jj - |z|^2`` is worst
#: (r ~ 1e-9 S_jj on raw scale-free data); one edge costs log(n) / 2, six orders
#: above the tolerance, so no statistically meaningful difference is lost.
SCORE_RTOL = 1e-7

#: Values (variances, edge weights) closer than this relative to their size are ties.
VALUE_RTOL = 1e-9


def score_tol(n: int) -> float:
    """Tolerance for differences of BIC-type scores of ``n`` rows (``SCORE_RTOL * n``)."""
    return SCORE_RTOL * max(int(n), 1)


def improves(new: float, old: float, tol: float) -> bool:
    """``new`` is lower than ``old`` by more than ``tol``."""
    return bool(new < old - tol)


def argmin_tied(x: np.ndarray, tol: float) -> int:
    """Index of the minimum of ``x``, ties within ``tol`` of it going to the lowest index.

    Non-finite entries are never the minimum unless all are (then index 0, or the
    first ``-inf``).

    Examples
    --------
    >>> argmin_tied(np.array([3.0, 1.0 + 1e-12, 1.0, 2.0]), 1e-9)
    1
    """
    x = np.asarray(x, dtype=float)
    m = float(np.min(x))
    if not np.isfinite(m):
        return int(np.argmin(x))
    return int(np.flatnonzero(x <= m + tol)[0])


def order_tied(x: np.ndarray, tol: float) -> np.ndarray:
    """Indices of ``x`` in ascending order of value, ties in index order.

    Repeatedly takes :func:`argmin_tied` of what is left: the entries within ``tol``
    of the smallest remaining value come next, lowest index first. Non-finite
    entries come last, in index order. ``O(k^2)`` for ``k`` entries: meant for short
    lists of candidates.
    """
    x = np.asarray(x, dtype=float)
    left = np.flatnonzero(np.isfinite(x))
    out: list[np.ndarray] = []
    while len(left):
        vals = x[left]
        take = vals <= vals.min() + tol
        out.append(left[take])
        left = left[~take]
    out.append(np.flatnonzero(~np.isfinite(x)))
    return np.concatenate(out).astype(int)


def tied_ranks(x: np.ndarray, rtol: float = VALUE_RTOL) -> np.ndarray:
    """Rank of each entry of ``x`` (0 = smallest), near-equal values sharing a rank.

    Sorted values whose gap to the previous one is at most ``rtol`` times its size
    join that one's rank, so ``np.lexsort((index, tied_ranks(x)))`` orders by value
    with near-ties in index order. ``O(k log k)``, for long arrays (edge weights).

    Examples
    --------
    >>> tied_ranks(np.array([0.5, 0.2, 0.5 + 1e-15, 0.9]))
    array([1, 0, 1, 2])
    """
    x = np.asarray(x, dtype=float)
    if x.size == 0:
        return np.zeros(0, dtype=int)
    idx = np.argsort(x, kind="stable")
    v = x[idx]
    new = np.ones(len(v), dtype=bool)
    new[1:] = np.diff(v) > rtol * np.maximum(np.abs(v[1:]), np.abs(v[:-1]))
    ranks = np.empty(len(v), dtype=int)
    ranks[idx] = np.cumsum(new) - 1
    return ranks
