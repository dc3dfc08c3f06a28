r"""Causal orders: local search over orders for the decomposable BIC, the
equal-variance order, and the complete DAG of an order.

An order :math:`\pi` of the variables defines a DAG: each variable :math:`j` takes,
among its predecessors in :math:`\pi`, the parents :math:`P_j` that lower its local
score :math:`s_j(P)` (:meth:`dagforge.search.scores.ParentScore.local` of a decomposable
score, e.g. the ``noise="unequal"`` BIC). The score of the order is :math:`\sum_j s_j(P_j)`. Each
:math:`P_j` is kept *locally optimal* among its candidates (:func:`grow_shrink`: no
single added candidate or removed parent lowers :math:`s_j`), not globally: that is
what makes the search cheap.

A move takes one variable :math:`v` out of the order and puts it back where the total
is lowest (the move of best order score search, BOSS: Andrews, Ramsey & Cooper 2023).
Sweeping the insertion point from the front to the back changes one candidate set at a
time: :math:`v` gains one candidate, and the variable it passes loses :math:`v`. So
every position is scored with a few cheap checks (whether :math:`v` would be added to a
parent set is read off the score's add-one statistics, for the Gaussian BIC the partial
covariances of that set) and a regression only where
a parent set changes. Rounds over all variables repeat until no move lowers the total,
which falls strictly with every accepted move, so the search ends.

Why: on standardised data (unequal noise variances, no variance ordering to exploit)
greedy edge-by-edge hill climbing from a continuous solver's graph ends in dense local
optima with many reversals, far above the true graph's score; moving whole variables
through the order crosses those barriers. Started from the order of a continuous solve
it reaches the true graph's score on such data; random starts are much less reliable.
"""

from __future__ import annotations

import logging

import numpy as np

from dagforge.errors import GraphError
from dagforge.graph import threshold_to_dag, topological_order
from dagforge.search.scores.base import ParentScore
from dagforge.search.scores.gaussian import GaussianScore
from dagforge.ties import VALUE_RTOL, argmin_tied, improves

log = logging.getLogger(__name__)

__all__ = ["equal_variance_order", "grow_shrink", "order_dag", "order_mask", "order_search",
           "search_orders"]


def order_mask(order: np.ndarray) -> np.ndarray:
    """``M[i, j]``: ``i`` comes before ``j`` in ``order``; bool, shape (d, d)."""
    rank = np.empty(len(order), dtype=int)
    rank[order] = np.arange(len(order))
    return rank[:, None] < rank[None, :]


def order_dag(W: np.ndarray) -> np.ndarray:
    """The complete DAG of the causal order read off ``W``: ``i -> j`` for every ``i``
    before ``j`` in a topological order of ``threshold_to_dag(W, 0)`` (cycles of
    ``W`` broken at their weakest edge). Used as the ``allowed`` mask of a search."""
    return order_mask(np.asarray(topological_order(threshold_to_dag(W, 0.0))))


def equal_variance_order(S: np.ndarray) -> np.ndarray:
    r"""Causal order of an equal-noise-variance linear SEM, top down (Chen, Drton &
    Wang 2019): repeatedly take the variable with the smallest variance given the
    variables already taken.

    Under equal noise variances :math:`\sigma^2`, a source given the earlier
    variables has conditional variance :math:`\sigma^2` and any other variable more,
    so from the population covariance this order is a causal order. The conditional
    variances come from the Schur complement :math:`S \leftarrow S - S_{:j} S_{j:} /
    S_{jj}` after each pick; :math:`O(d^3)` in all.

    Parameters
    ----------
    S : ndarray of shape (d, d)
        Sample covariance.

    Returns
    -------
    ndarray of shape (d,)
        Variable indices, earliest first.
    """
    R = np.array(S, dtype=float, copy=True)  # [d, d] covariance given the taken ones
    left = np.ones(R.shape[0], dtype=bool)
    order = []
    for _ in range(R.shape[0]):
        var = np.where(left, np.diag(R), np.inf)
        # standardised columns all have variance 1 up to rounding: ties by index
        j = argmin_tied(var, VALUE_RTOL * abs(float(np.min(var))))
        order.append(j)
        left[j] = False
        if R[j, j] > 0:
            R -= np.outer(R[:, j], R[j, :]) / R[j, j]
    return np.asarray(order)


def grow_shrink(score: ParentScore, j: int, P: list[int], cand: np.ndarray,
                required: np.ndarray) -> tuple[list[int], float]:
    """A locally optimal parent set of ``j`` among ``cand``, from ``P``, and its ``s_j``.

    Add the best candidate while that lowers ``s_j``, then remove the parent whose
    removal lowers it most, and again until neither helps. The required parents of
    ``j`` (``required[:, j]``) among ``cand`` are always kept.
    """
    req = [int(i) for i in np.flatnonzero(required[:, j] & cand)]
    P = list(dict.fromkeys([*req, *P]))
    while True:
        _grow(score, j, P, cand)
        if not _shrink(score, j, P, required):
            break
    return P, score.local(j, P)


def _grow(score: ParentScore, j: int, P: list[int], cand: np.ndarray) -> None:
    """Append to ``P`` the best candidate while that lowers ``s_j``."""
    while True:
        m = cand.copy()
        m[P] = False
        if not m.any():
            return
        gains = np.where(m, score.add_gains(j, P), np.inf)  # [d] change of s_j
        c = argmin_tied(gains, score.tol)
        if gains[c] >= -score.tol:
            return
        P.append(c)


def _shrink(score: ParentScore, j: int, P: list[int], required: np.ndarray) -> bool:
    """Remove from ``P`` the parent whose removal lowers ``s_j`` most, while one does;
    True if any was removed."""
    removed = False
    while P:
        gains = np.array(score.remove_gains(j, P), dtype=float)  # [p] change of s_j
        gains[required[np.asarray(P, dtype=int), j]] = np.inf
        k = argmin_tied(gains, score.tol)
        if gains[k] >= -score.tol:
            break
        P.pop(k)
        removed = True
    return removed


def _masks(d: int, order: list[int], allowed: np.ndarray | None,
           required: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """The ``allowed`` (required edges included, no self-loops) and ``required`` masks,
    checked against the starting order."""
    if sorted(order) != list(range(d)):
        raise GraphError("order_search: the order is not a permutation of the variables")
    allow = np.ones((d, d), bool) if allowed is None else np.asarray(allowed, bool).copy()
    np.fill_diagonal(allow, False)
    req = np.zeros((d, d), bool) if required is None else np.asarray(required, bool)
    allow |= req
    if (req & order_mask(np.asarray(order)).T).any():  # i -> j required, i after j
        raise GraphError("order_search: the starting order puts a required edge backwards")
    return allow, req


class _Orders:
    """State of the order search: the order, each variable's parent set and local
    score, and the local-score change of adding any one variable to each parent set."""

    def __init__(self, score: ParentScore, order: list[int], allow: np.ndarray,
                 req: np.ndarray) -> None:
        d = score.d
        self.score, self.order, self.allow, self.req = score, order, allow, req
        self.P: list[list[int]] = [[] for _ in range(d)]
        self.local = np.empty(d)  # [d] s_u(P[u])
        pred = np.zeros(d, bool)
        for u in order:
            self.P[u], self.local[u] = grow_shrink(score, u, [], pred & allow[:, u], req)
            pred[u] = True
        self.g_add = np.empty((d, d))  # g_add[i, u]: change of s_u if i joined P[u]
        for u in range(d):
            self.refresh(u)
        self.total = float(self.local.sum())

    def refresh(self, u: int) -> None:
        self.g_add[:, u] = self.score.add_gains(u, self.P[u])

    def others_scores(self, v: int, others: list[int]) -> tuple[np.ndarray, np.ndarray,
                                                                 dict, dict]:
        """``s_after[k]``: score of ``others[k]`` when ``v`` comes after it (``v`` not a
        candidate); ``s_before[k]``: when ``v`` comes before it (``v`` a candidate);
        and the parent sets that change."""
        s, allow, req = self.score, self.allow, self.req
        s_after, s_before = self.local[others].copy(), self.local[others].copy()
        P_after: dict[int, list[int]] = {}
        P_before: dict[int, list[int]] = {}
        pred = np.zeros(s.d, bool)
        for k, u in enumerate(others):
            if v in self.P[u]:
                if not req[v, u]:
                    P_after[u], s_after[k] = grow_shrink(
                        s, u, [p for p in self.P[u] if p != v], pred & allow[:, u], req)
                else:
                    s_after[k] = np.inf
            elif allow[v, u] and self.g_add[v, u] < -s.tol:
                cand = pred & allow[:, u]
                cand[v] = True
                P_before[u], s_before[k] = grow_shrink(s, u, self.P[u] + [v], cand, req)
            pred[u] = True
        return s_after, s_before, P_after, P_before

    def own_scores(self, v: int, others: list[int]) -> tuple[np.ndarray, list[list[int]],
                                                             int, int]:
        """``v``'s parents and score for every insertion point ``i`` (predecessors
        ``others[:i]``), and the range ``lo..hi`` the required edges leave."""
        s, allow, req, d = self.score, self.allow, self.req, self.score.d
        cand = np.zeros(d, bool)
        Pv: list[int] = []
        gv = s.add_gains(v, Pv)  # [d] change of s_v if c joined Pv
        sv = np.empty(d)
        Pvs: list[list[int]] = []
        lo, hi = 0, d - 1
        for i in range(d):
            if i > 0:
                c = others[i - 1]
                if req[c, v]:
                    lo = i
                if req[v, c] and hi == d - 1:
                    hi = i - 1
                if allow[c, v]:
                    cand[c] = True
                    if req[c, v] or gv[c] < -s.tol:
                        Pv, _ = grow_shrink(s, v, [*Pv, c], cand, req)
                        gv = s.add_gains(v, Pv)
            sv[i] = s.local(v, Pv)
            Pvs.append(Pv)
        return sv, Pvs, lo, hi

    def move(self, v: int) -> bool:
        """Put ``v`` where the total score is lowest; True if that lowered it."""
        others = [u for u in self.order if u != v]
        idx = {u: k for k, u in enumerate(others)}
        s_after, s_before, P_after, P_before = self.others_scores(v, others)
        sv, Pvs, lo, hi = self.own_scores(v, others)
        head = np.concatenate([[0.0], np.cumsum(s_after)])  # [d] sum over others[:i]
        tail = np.concatenate([np.cumsum(s_before[::-1])[::-1], [0.0]])  # [d] over others[i:]
        tot = sv + head + tail
        tot[:lo] = np.inf
        tot[hi + 1:] = np.inf
        i = argmin_tied(tot, self.score.tol)  # tied insertion points: the earliest
        if not improves(float(tot[i]), self.total, self.score.tol):
            return False
        self.order = [*others[:i], v, *others[i:]]
        self.P[v], self.local[v] = Pvs[i], sv[i]
        changed = [v]
        for u, Pu in P_after.items():
            if idx[u] < i:
                self.P[u], self.local[u] = Pu, s_after[idx[u]]
                changed.append(u)
        for u, Pu in P_before.items():
            if idx[u] >= i:
                self.P[u], self.local[u] = Pu, s_before[idx[u]]
                changed.append(u)
        for u in changed:
            self.refresh(u)
        self.total = float(self.local.sum())
        return True

    def graph(self) -> np.ndarray:
        A = np.zeros((self.score.d, self.score.d), bool)
        for u, Pu in enumerate(self.P):
            A[Pu, u] = True
        return A


def search_orders(score: ParentScore, order: np.ndarray, *, allowed: np.ndarray | None = None,
                  required: np.ndarray | None = None, rng: np.random.Generator | None = None,
                  max_rounds: int = 50) -> tuple[np.ndarray, float]:
    """:func:`order_search` asking the decomposable score ``score`` (shared between
    searches so that its caches serve them all)."""
    if not score.decomposable:
        raise GraphError("order_search needs a decomposable score (noise='unequal')")
    d = score.d
    start = [int(i) for i in order]
    allow, req = _masks(d, start, allowed, required)
    state = _Orders(score, start, allow, req)
    visit = np.arange(d)
    for rnd in range(max_rounds):
        moved = sum(state.move(int(v))
                    for v in (rng.permutation(visit) if rng is not None else visit))
        log.debug("order search round %d: %d moves, score %.3f", rnd, moved, state.total)
        if moved == 0:
            break
    return state.graph(), state.total


def order_search(
    S: np.ndarray,
    n: int,
    order: np.ndarray,
    *,
    penalty: float = 1.0,
    gamma: float = 0.0,
    allowed: np.ndarray | None = None,
    required: np.ndarray | None = None,
    rng: np.random.Generator | None = None,
    max_rounds: int = 50,
) -> tuple[np.ndarray, float]:
    """Best-order local search (BOSS-style moves) from ``order``; see the module docstring.

    Parameters
    ----------
    S : ndarray of shape (d, d)
        Covariance of the (centred) data.
    n : int
        Number of rows the covariance was computed from.
    order : ndarray of shape (d,)
        Starting order, earliest first; must put every required edge forwards.
    penalty, gamma : float
        Edge cost ``penalty * log(n) / 2 + gamma * log(d)``, as in
        :func:`dagforge.search.bic_score`.
    allowed : bool ndarray of shape (d, d), optional
        Edges that may be chosen (default: all off-diagonal pairs).
    required : bool ndarray of shape (d, d), optional
        Edges in every graph: their order is kept and they are never removed.
    rng : numpy.random.Generator, optional
        Order in which variables are moved in each round (default: index order).
    max_rounds : int
        Rounds over all variables at most.

    Returns
    -------
    A : bool ndarray of shape (d, d)
        The DAG of the final order (``A[i, j]``: ``i -> j``).
    score : float
        Its unequal-variance BIC (equal to ``bic_score(S, n, A, "unequal", penalty, gamma)``).

    Raises
    ------
    GraphError
        ``order`` is not a permutation, or puts a required edge backwards.
    """
    score = GaussianScore(S, n, noise="unequal", penalty=penalty, gamma=gamma)
    return search_orders(score, order, allowed=allowed, required=required, rng=rng,
                         max_rounds=max_rounds)
