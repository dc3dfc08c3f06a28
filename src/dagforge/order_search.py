r"""Local search over causal orders for the decomposable (unequal-variance) BIC.

An order :math:`\pi` of the variables defines a DAG: each variable :math:`j`
takes, among its predecessors in :math:`\pi`, the parents :math:`P_j` that lower
its score term

.. math::  s_j(P) = \frac n2 \log r_j(P) + c\,|P|, \qquad
           c = \kappa\,\frac{\log n}{2} + \gamma \log d,

with :math:`r_j(P)` the residual variance of :math:`j` regressed on :math:`P`
(the terms of :func:`dagforge.refine.bic_score` under ``noise="unequal"``). The
score of the order is :math:`\sum_j s_j(P_j)`. Each :math:`P_j` is kept *locally
optimal* among its candidates (grow-shrink: no single added candidate or removed
parent lowers :math:`s_j`), not globally: that is what makes the search cheap.

A move takes one variable :math:`v` out of the order and puts it back where the
total is lowest (the move of best order score search, BOSS: Andrews, Ramsey &
Cooper 2023). Sweeping the insertion point from the front to the back changes one
candidate set at a time: :math:`v` gains one candidate, and the variable it
passes loses :math:`v`. So every position is scored with a few cheap checks
(whether :math:`v` would be added to a parent set is read off the partial
covariances of that set) and a regression only where a parent set changes.
Rounds over all variables repeat until no move lowers the total, which falls
strictly with every accepted move, so the search ends.

Why: on standardised data (unequal noise variances, no variance ordering to
exploit) greedy edge-by-edge hill climbing from a continuous solver's graph
ends in dense local optima with many reversals, far above the true graph's
score; moving whole variables through the order crosses those barriers. Started
from the order of a continuous solve it reaches the true graph's score on such
data; random starts are much less reliable.
"""

from __future__ import annotations

import logging

import numpy as np

from dagforge.errors import GraphError
from dagforge.regression import R_FLOOR, edge_penalty, regress
from dagforge.ties import argmin_tied, improves, score_tol

log = logging.getLogger(__name__)

__all__ = ["order_search"]

class _ParentSets:
    """Locally optimal parent sets and their score terms, for one covariance."""

    def __init__(self, S: np.ndarray, n: int, pen: float, allowed: np.ndarray,
                 required: np.ndarray) -> None:
        self.S, self.n, self.pen = S, n, pen
        self.tol = score_tol(n)  # smaller score changes are ties (dagforge.ties)
        self.diag = np.diag(S).copy()  # [d]
        self.allowed, self.required = allowed, required

    def term(self, r: float, p: int) -> float:
        return 0.5 * self.n * float(np.log(r)) + self.pen * p

    def gain(self, r_new: float, r: float, dp: int) -> float:
        """Change of the score term when the residual variance goes ``r -> r_new``
        and the number of parents by ``dp``."""
        return 0.5 * self.n * float(np.log(r_new / r)) + self.pen * dp

    def context(self, j: int, P: list[int]) -> tuple[float, np.ndarray]:
        """Residual variance ``r`` of ``j`` on ``P`` and ``r_add[i]``: its residual
        variance if ``i`` were added to ``P`` (meaningless for ``i`` in ``P``)."""
        pa = np.asarray(P, dtype=int)
        _, r, R = regress(self.S, pa, j)
        if len(pa):
            Z = R @ self.S[pa, :]  # [p, d]
            cov = self.S[:, j] - Z.T @ Z[:, j]  # [d] partial covariances with j given P
            var = self.diag - (Z * Z).sum(0)  # [d] partial variances given P
        else:
            cov, var = self.S[:, j], self.diag
        floor = R_FLOOR * self.diag
        r_add = r - cov**2 / np.maximum(var, floor)
        return r, np.maximum(r_add, R_FLOOR * self.diag[j])

    def grow_shrink(self, j: int, P: list[int], cand: np.ndarray) -> tuple[list[int], float]:
        """From ``P``, add the best candidate while that lowers ``s_j``, then remove
        the parent whose removal lowers it most, and again until neither helps. The
        required parents of ``j`` among ``cand`` are always kept."""
        req = [int(i) for i in np.flatnonzero(self.required[:, j] & cand)]
        P = list(dict.fromkeys([*req, *P]))
        while True:
            while True:  # grow
                r, r_add = self.context(j, P)
                m = cand.copy()
                m[P] = False
                if not m.any():
                    break
                # in score units, so that near-equal candidates tie by index
                gains = np.where(m, 0.5 * self.n * np.log(r_add / r), np.inf)
                c = argmin_tied(gains, self.tol)
                if self.gain(r_add[c], r, 1) >= -self.tol:
                    break
                P.append(c)
            removed = False
            while P:  # shrink
                pa = np.asarray(P, dtype=int)
                beta, r, R = regress(self.S, pa, j)
                r_del = r + beta**2 / (R * R).sum(0)  # [p] residual variance without P[k]
                gains = 0.5 * self.n * np.log(r_del / r)
                gains[self.required[pa, j]] = np.inf
                k = argmin_tied(gains, self.tol)
                if self.gain(r_del[k], r, -1) >= -self.tol:
                    break
                P.pop(k)
                removed = True
            if not removed:
                break
        _, r, _ = regress(self.S, np.asarray(P, dtype=int), j)
        return P, self.term(r, len(P))


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
        :func:`dagforge.refine.bic_score`.
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
    S = np.asarray(S, dtype=float)
    d = S.shape[0]
    order = [int(i) for i in order]
    if sorted(order) != list(range(d)):
        raise GraphError("order_search: the order is not a permutation of the variables")
    allow = np.ones((d, d), bool) if allowed is None else np.asarray(allowed, bool).copy()
    np.fill_diagonal(allow, False)
    req = np.zeros((d, d), bool) if required is None else np.asarray(required, bool)
    allow |= req
    rank = np.empty(d, dtype=int)
    rank[order] = np.arange(d)
    if (req & (rank[:, None] > rank[None, :])).any():
        raise GraphError("order_search: the starting order puts a required edge backwards")
    ps = _ParentSets(S, n, edge_penalty(n, d, penalty, gamma), allow, req)

    P: list[list[int]] = [[] for _ in range(d)]
    score = np.empty(d)
    pred = np.zeros(d, bool)
    for u in order:
        P[u], score[u] = ps.grow_shrink(u, [], pred & allow[:, u])
        pred[u] = True
    r_cur = np.empty(d)
    r_add = np.empty((d, d))  # r_add[i, u]: residual variance of u if i joined P[u]

    def refresh(u: int) -> None:
        r_cur[u], r_add[:, u] = ps.context(u, P[u])

    for u in range(d):
        refresh(u)
    total = float(score.sum())
    visit = np.arange(d)
    for rnd in range(max_rounds):
        moved = 0
        for v in (rng.permutation(visit) if rng is not None else visit):
            v = int(v)
            others = [u for u in order if u != v]
            idx = {u: k for k, u in enumerate(others)}
            # s_after[k]: score of others[k] when v comes after it (v not a candidate);
            # s_before[k]: ... when v comes before it (v a candidate).
            s_after = score[others].copy()
            s_before = score[others].copy()
            P_after: dict[int, list[int]] = {}
            P_before: dict[int, list[int]] = {}
            pred = np.zeros(d, bool)
            for k, u in enumerate(others):
                if v in P[u]:
                    if not req[v, u]:
                        P_after[u], s_after[k] = ps.grow_shrink(
                            u, [p for p in P[u] if p != v], pred & allow[:, u])
                    else:
                        s_after[k] = np.inf
                elif allow[v, u] and ps.gain(r_add[v, u], r_cur[u], 1) < -ps.tol:
                    cand = pred & allow[:, u]
                    cand[v] = True
                    P_before[u], s_before[k] = ps.grow_shrink(u, P[u] + [v], cand)
                pred[u] = True
            # v's own parents for every insertion point i (predecessors others[:i])
            cand = np.zeros(d, bool)
            Pv: list[int] = []
            rv, rv_add = ps.context(v, Pv)
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
                        if req[c, v] or ps.gain(rv_add[c], rv, 1) < -ps.tol:
                            Pv, _ = ps.grow_shrink(v, [*Pv, c], cand)
                            rv, rv_add = ps.context(v, Pv)
                sv[i] = ps.term(rv, len(Pv))
                Pvs.append(Pv)
            head = np.concatenate([[0.0], np.cumsum(s_after)])  # [d] sum over others[:i]
            tail = np.concatenate([np.cumsum(s_before[::-1])[::-1], [0.0]])  # [d] over others[i:]
            tot = sv + head + tail
            tot[:lo] = np.inf
            tot[hi + 1:] = np.inf
            i = argmin_tied(tot, ps.tol)  # tied insertion points: the earliest
            if not improves(float(tot[i]), total, ps.tol):
                continue
            order = [*others[:i], v, *others[i:]]
            P[v], score[v] = Pvs[i], sv[i]
            changed = [v]
            for u, Pu in P_after.items():
                if idx[u] < i:
                    P[u], score[u] = Pu, s_after[idx[u]]
                    changed.append(u)
            for u, Pu in P_before.items():
                if idx[u] >= i:
                    P[u], score[u] = Pu, s_before[idx[u]]
                    changed.append(u)
            for u in changed:
                refresh(u)
            total = float(score.sum())
            moved += 1
        log.debug("order search round %d: %d moves, score %.3f", rnd, moved, total)
        if moved == 0:
            break
    A = np.zeros((d, d), bool)
    for u in range(d):
        A[P[u], u] = True
    return A, total
