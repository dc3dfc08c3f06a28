r"""Greedy hill climbing over DAGs on a registered score, with an optional tabu phase.

Starting from a DAG (typically the thresholded output of a continuous solver),
repeatedly apply the single edge change (add, delete or reverse) that lowers the
score (:mod:`dagforge.search.scores`) most while keeping the graph acyclic, until no
change lowers it. All changes of one variable's parent set are scored at once
(:meth:`ParentScore.add_stats`, :meth:`ParentScore.remove_stats`: in closed form for the
Gaussian BIC); a move touches one or two variables, so only their columns are recomputed.
"""

from __future__ import annotations

import logging
from collections import deque
from enum import IntEnum

import numpy as np

from dagforge.errors import GraphError
from dagforge.graph import is_dag, topological_order
from dagforge.search.scores.base import ParentScore
from dagforge.search.scores.gaussian import GaussianScore, NoiseModel
from dagforge.ties import improves, order_tied

log = logging.getLogger(__name__)

__all__ = ["climb", "hill_climb"]

#: Candidate moves checked by a refit per step, best closed-form deltas first.
_CHECKED_MOVES = 16


class Move(IntEnum):
    """Kind of an edge change ``i -> j``; the index into the stacked move deltas."""

    ADD = 0
    DELETE = 1
    REVERSE = 2


def _reachability(A: np.ndarray) -> np.ndarray:
    """``R[i, j]``: a directed path of length >= 1 leads from ``i`` to ``j`` in the DAG ``A``."""
    d = A.shape[0]
    if d <= 512:  # transitive closure by repeated squaring: a few BLAS calls
        R = A.astype(np.float32)
        for _ in range(max(1, int(np.ceil(np.log2(max(d, 2)))))):
            R_next = np.minimum(R + R @ R, 1.0)
            if np.array_equal(R_next, R):
                break
            R = R_next
        return R > 0
    R = np.zeros((d, d), dtype=bool)
    for i in reversed(topological_order(A)):
        kids = np.flatnonzero(A[i])
        if len(kids):
            R[i] = A[i] | R[kids].any(axis=0)
    return R


def _smallest(x: np.ndarray, k: int, tol: float) -> np.ndarray:
    """Indices of the ``k`` smallest finite entries of ``x``, ascending, entries within
    ``tol`` of each other in index order (:func:`dagforge.ties.order_tied`), without
    sorting all of ``x`` (the 3 d^2 move scores)."""
    finite = np.isfinite(x)
    n_finite = int(finite.sum())
    if n_finite == 0:
        return np.zeros(0, dtype=int)
    k = min(k, n_finite)
    kth = np.partition(np.where(finite, x, np.inf), k - 1)[k - 1]
    cand = np.flatnonzero(x <= kth + tol)  # ascending indices, every near-tie of the k-th
    return cand[order_tied(x[cand], tol)][:k]


class _Climb:
    """One climb's state: the graph, its reachability, and the statistics and penalty
    changes of every single-edge change, all asked of the score."""

    def __init__(self, score: ParentScore, A: np.ndarray, allow: np.ndarray,
                 req: np.ndarray) -> None:
        d = score.d
        self.score, self.A, self.allow, self.req = score, A, allow, req
        self.r = np.empty(d)  # [d] statistic of each variable on its parents
        self.r_add = np.full((d, d), np.nan)  # r_add[i, j]: ... of j if i -> j is added
        self.r_del = np.full((d, d), np.nan)  # r_del[i, j]: ... if the edge i -> j is removed
        self.c_add = np.zeros((d, d))  # [d, d] penalty change of adding i -> j
        self.c_del = np.zeros((d, d))  # [d, d] ... of removing i -> j
        for j in range(d):
            self.update(j)
        self.reach = _reachability(A)  # [d, d]

    def update(self, j: int) -> None:
        """Recompute column ``j`` after its parent set changed."""
        s = self.score
        pa = np.flatnonzero(self.A[:, j])
        self.r[j] = s.stat(j, pa)
        self.r_add[:, j] = s.add_stats(j, pa, floor_partial=False)
        self.r_add[pa, j] = np.nan
        self.r_add[j, j] = np.nan
        self.c_add[:, j] = s.add_costs(j, pa)
        self.r_del[:, j] = np.nan
        self.c_del[:, j] = 0.0
        if len(pa):
            self.r_del[pa, j] = s.remove_stats(j, pa)
            self.c_del[pa, j] = s.remove_costs(j, pa)

    def deltas(self) -> np.ndarray:
        """Score change of every move (closed form where the score has one), ``inf``
        where illegal; [3, d, d]."""
        s, r = self.score, self.r
        cols = np.arange(s.d)[None, :]  # [1, d]: the variable whose parents change
        with np.errstate(invalid="ignore"):
            d_add = s.fit_delta(r, (cols, self.r_add)) + self.c_add  # [d, d]
            d_del = s.fit_delta(r, (cols, self.r_del)) + self.c_del
            # reversal i -> j  =>  j -> i: j loses parent i, i gains parent j
            d_rev = (s.fit_delta(r, (cols, self.r_del), (cols.T, self.r_add.T))
                     + (self.c_del + self.c_add.T))
        A, R = self.A, self.reach
        # acyclicity: adding i -> j needs no path j ~> i; reversing i -> j needs no
        # path i ~> j other than the edge itself (through another child of i)
        ei, ej = np.nonzero(A)
        other_path = np.zeros_like(A)
        other_path[ei, ej] = np.any(A[ei] & R[:, ej].T, axis=1)
        d_add[~self.allow | A | R.T] = np.inf
        d_del[~A | self.req] = np.inf
        d_rev[~A | self.req | ~self.allow.T | other_path] = np.inf
        deltas = np.stack([d_add, d_del, d_rev])  # [3, d, d], indexed by Move
        deltas[np.isnan(deltas)] = np.inf
        return deltas

    def exact_delta(self, kind: Move, i: int, j: int) -> float:
        """Score change of a move, by refitting the one or two variables it changes."""
        s = self.score
        pa_j = self.A[:, j].copy()
        pa_j[i] = kind == Move.ADD
        changes = [(j, s.stat(j, np.flatnonzero(pa_j)))]
        costs = self.c_add[i, j] if kind == Move.ADD else self.c_del[i, j]
        if kind == Move.REVERSE:
            pa_i = self.A[:, i].copy()
            pa_i[j] = True
            changes.append((i, s.stat(i, np.flatnonzero(pa_i))))
            costs = costs + self.c_add[j, i]
        return float(s.fit_delta(self.r, *changes)) + float(costs)

    def choose(self, deltas: np.ndarray, must_improve: bool) -> tuple[Move, int, int,
                                                                       float] | None:
        """The best move whose refitted delta confirms it (improving, if ``must_improve``).

        The closed-form deltas can be off when a parent set is nearly collinear, so the
        best few are refitted in turn; returns ``(kind, i, j, delta)`` or None.
        """
        flat = deltas.ravel()
        for c in _smallest(flat, _CHECKED_MOVES, self.score.tol):
            if not np.isfinite(flat[c]):
                break
            kind, i, j = (int(v) for v in np.unravel_index(c, deltas.shape))
            delta = self.exact_delta(Move(kind), i, j)
            if must_improve and not improves(delta, 0.0, self.score.tol):
                continue
            return Move(kind), i, j, delta
        return None

    def apply(self, kind: Move, i: int, j: int) -> None:
        """Make the move and bring the residual variances and reachability up to date."""
        A, d = self.A, self.score.d
        if kind == Move.ADD:
            A[i, j] = True
            self.update(j)
            # new paths: everything reaching i (and i) now reaches j and what j reaches
            self.reach |= np.outer(self.reach[:, i] | (np.arange(d) == i),
                                   self.reach[j] | (np.arange(d) == j))
            return
        A[i, j] = False
        self.update(j)
        if kind == Move.REVERSE:
            A[j, i] = True
            self.update(i)
        self.reach = _reachability(A)


def climb(score: ParentScore, A_init: np.ndarray, *, allowed: np.ndarray | None = None,
          required: np.ndarray | None = None, tabu_steps: int = 0, tabu_length: int = 10,
          max_steps: int = 100_000) -> np.ndarray:
    """:func:`hill_climb` asking the score ``score`` (shared between searches so that
    its caches serve them all); returns the score's weights on the best DAG."""
    d = score.d
    req = np.zeros((d, d), bool) if required is None else np.asarray(required, bool)
    A = (np.asarray(A_init) != 0) | req
    if not is_dag(A):
        raise GraphError("hill_climb needs an acyclic starting graph (required edges included)")
    allow = np.ones((d, d), bool) if allowed is None else np.asarray(allowed, bool).copy()
    np.fill_diagonal(allow, False)
    state = _Climb(score, A, allow, req)
    current = score.score(A)
    best_score, best_A = current, A.copy()
    tabu: deque[tuple[int, int]] = deque(maxlen=tabu_length)
    stale = 0  # moves since the best graph was last improved
    step = 0
    for step in range(max_steps):  # noqa: B007
        deltas = state.deltas()
        if stale or not improves(float(deltas.min()), 0.0, score.tol):
            for i, j in tabu:  # tabu phase: never touch a pair changed by the last moves
                deltas[:, i, j] = deltas[:, j, i] = np.inf
        move = state.choose(deltas, must_improve=tabu_steps == 0)
        if move is None or (tabu_steps > 0 and stale >= tabu_steps):
            break
        kind, i, j, delta = move
        state.apply(kind, i, j)
        tabu.append((i, j))
        current += delta
        if improves(current, best_score, score.tol):
            best_score, best_A, stale = current, A.copy(), 0
        else:
            stale += 1
    else:
        log.warning("hill_climb stopped after max_steps=%d moves", max_steps)
    log.debug("hill_climb: %d moves, %d edges, score %.6g", step, int(best_A.sum()), best_score)
    return score.weights(best_A)


def hill_climb(
    S: np.ndarray,
    n: int,
    A_init: np.ndarray,
    *,
    noise: NoiseModel = "unequal",
    penalty: float = 1.0,
    gamma: float = 0.0,
    allowed: np.ndarray | None = None,
    required: np.ndarray | None = None,
    tabu_steps: int = 0,
    tabu_length: int = 10,
    max_steps: int = 100_000,
) -> np.ndarray:
    """Greedy BIC hill climbing over DAGs from ``A_init``; returns OLS weights on the result.

    With ``tabu_steps > 0`` the search goes on past a local optimum (tabu search):
    it takes the best move that does not touch one of the last ``tabu_length``
    changed pairs, even if it does not lower the score, and stops after
    ``tabu_steps`` moves without a new best graph, returning the best one seen.
    Under a score-equivalent score (``noise="unequal"``) this crosses the plateaus
    of covered-edge reversals that stop a plain hill climb.

    Parameters
    ----------
    S : ndarray of shape (d, d)
        Covariance of the (centred) data.
    n : int
        Number of rows the covariance was computed from.
    A_init : ndarray of shape (d, d)
        Starting DAG (non-zero = edge ``i -> j``); the ``required`` edges are added to it.
    noise : {"unequal", "equal"}
        Noise-variance model of the score.
    penalty : float
        Multiplier of the BIC penalty (1 = BIC).
    gamma : float
        Extended-BIC weight: each edge also costs ``gamma * log(d)``.
    allowed : bool ndarray of shape (d, d), optional
        Edges that may be added, or be the result of a reversal (default: all
        off-diagonal pairs). An edge of ``A_init`` outside it may be deleted, never added
        back.
    required : bool ndarray of shape (d, d), optional
        Edges that are in every graph visited: never deleted or reversed.
    tabu_steps : int
        Non-improving moves allowed after the last improvement (0: plain hill climbing).
    tabu_length : int
        Number of recently changed pairs that may not be changed again.
    max_steps : int
        Moves at most.

    Returns
    -------
    ndarray of shape (d, d)
        Weighted adjacency of the final DAG (OLS coefficients).

    Raises
    ------
    GraphError
        ``A_init`` with the required edges has a cycle.
    """
    score = GaussianScore(S, n, noise=noise, penalty=penalty, gamma=gamma)
    return climb(score, A_init, allowed=allowed, required=required, tabu_steps=tabu_steps,
                 tabu_length=tabu_length, max_steps=max_steps)
