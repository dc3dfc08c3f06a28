r"""Local search refinement of a linear-Gaussian DAG by greedy hill climbing on BIC.

Starting from a DAG (typically the thresholded output of a continuous solver),
repeatedly apply the single edge change (add, delete or reverse) that lowers the
score most while keeping the graph acyclic, until no change lowers it.

Scores (lower is better), with :math:`r_j` the residual variance of variable
:math:`j` regressed (OLS) on its parents, computed from the covariance :math:`S`:

* ``"unequal"`` noise variances (BIC of the Gaussian linear SEM, decomposable)

  .. math::  \mathrm{BIC}(G) = \frac n2 \sum_j \log r_j + \kappa\,\frac{\log n}{2}\,|E|

* ``"equal"`` noise variance (the model NOTEARS / DAGMA's least squares assumes)

  .. math::
     \mathrm{BIC}(G) = \frac{nd}2 \log\Big(\frac1d\sum_j r_j\Big)
                      + \kappa\,\frac{\log n}{2}\,|E|

where :math:`\kappa` is ``penalty`` (1 is BIC). With ``gamma > 0`` each edge also
costs :math:`\gamma \log d`, the extended BIC of Chen & Chen (2008) / Foygel &
Drton (2010), which keeps the score from adding spurious edges when each
variable has many candidate parents. All changes of one variable's
parent set are scored at once in closed form: adding :math:`i` to the parents
:math:`P` of :math:`j` gives :math:`r_j - S_{ij\cdot P}^2 / S_{ii\cdot P}` (partial
covariances), and removing parent :math:`p` gives :math:`r_j + \beta_p^2 /
[S_{PP}^{-1}]_{pp}`. A move touches one or two variables, so only their scores
are recomputed.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Sequence
from typing import Literal

import numpy as np

from dagforge.errors import GraphError
from dagforge.graph import is_dag, threshold_to_dag, topological_order
from dagforge.order_search import order_search
from dagforge.regression import R_FLOOR, edge_penalty, regress
from dagforge.ties import VALUE_RTOL, argmin_tied, improves, order_tied, score_tol

log = logging.getLogger(__name__)

__all__ = [
    "NoiseModel",
    "bic_score",
    "choose_noise_model",
    "edge_penalty",
    "equal_variance_order",
    "hill_climb",
    "ols_weights",
    "refine",
    "total_bic",
]

NoiseModel = Literal["equal", "unequal"]


def ols_weights(S: np.ndarray, A: np.ndarray) -> np.ndarray:
    """Weights of the linear SEM on the graph ``A`` fitted by OLS from the covariance ``S``."""
    W = np.zeros_like(S, dtype=float)
    for j in range(S.shape[0]):
        pa = np.flatnonzero(A[:, j])
        if len(pa):
            W[pa, j] = regress(S, pa, j)[0]
    return W


def bic_score(S: np.ndarray, n: int, A: np.ndarray, noise: NoiseModel = "unequal",
              penalty: float = 1.0, gamma: float = 0.0) -> float:
    """The (extended) BIC of graph ``A`` (lower is better); see the module docstring."""
    d = S.shape[0]
    r = np.array([regress(S, np.flatnonzero(A[:, j]), j)[1] for j in range(d)])
    r = np.maximum(r, 1e-300)
    fit = 0.5 * n * np.log(r).sum() if noise == "unequal" else 0.5 * n * d * np.log(r.mean())
    return float(fit + edge_penalty(n, d, penalty, gamma) * np.count_nonzero(A))


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
    sorting all of ``x`` (a full sort of the 3 d^2 move scores was half of a climb)."""
    finite = np.isfinite(x)
    n_finite = int(finite.sum())
    if n_finite == 0:
        return np.zeros(0, dtype=int)
    k = min(k, n_finite)
    kth = np.partition(np.where(finite, x, np.inf), k - 1)[k - 1]
    cand = np.flatnonzero(x <= kth + tol)  # ascending indices, every near-tie of the k-th
    return cand[order_tied(x[cand], tol)][:k]


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
    """
    S = np.asarray(S, dtype=float)
    d = S.shape[0]
    req = np.zeros((d, d), bool) if required is None else np.asarray(required, bool)
    A = (np.asarray(A_init) != 0) | req
    if not is_dag(A):
        raise GraphError("hill_climb needs an acyclic starting graph (required edges included)")
    allow = np.ones((d, d), bool) if allowed is None else np.asarray(allowed, bool).copy()
    np.fill_diagonal(allow, False)
    pen = edge_penalty(n, d, penalty, gamma)
    tol = score_tol(n)
    diagS = np.diag(S).copy()

    r = np.empty(d)
    r_add = np.full((d, d), np.nan)  # r_add[i, j]: residual variance of j if i -> j is added
    r_del = np.full((d, d), np.nan)  # r_del[i, j]: ... if the edge i -> j is removed

    def update(j: int) -> None:
        pa = np.flatnonzero(A[:, j])
        beta, r[j], R = regress(S, pa, j)
        if len(pa):
            Z = R @ S[pa, :]  # [p, d]; Z^T Z = S_:P inv(S_PP) S_P:
            cov_ij = S[:, j] - Z.T @ Z[:, j]  # partial covariance of i and j given P
            var_i = diagS - np.sum(Z * Z, axis=0)  # partial variance of i given P
        else:
            cov_ij, var_i = S[:, j].copy(), diagS.copy()
        with np.errstate(divide="ignore", invalid="ignore"):
            col = np.maximum(r[j] - cov_ij**2 / var_i, R_FLOOR * diagS[j])
        col[pa] = np.nan
        col[j] = np.nan
        r_add[:, j] = col
        r_del[:, j] = np.nan
        if len(pa):
            r_del[pa, j] = r[j] + beta**2 / np.sum(R * R, axis=0)  # / diag(inv(S_PP))

    for j in range(d):
        update(j)

    def fit_delta(new_r: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Change of the fit term when variables ``cols`` get residual variances ``new_r``."""
        new_r = np.maximum(new_r, 1e-300)
        if noise == "unequal":
            return 0.5 * n * (np.log(new_r) - np.log(np.maximum(r[cols], 1e-300)))
        total = r.sum()
        return 0.5 * n * d * (np.log(np.maximum(total - r[cols] + new_r, 1e-300)) - np.log(total))

    def exact_delta(kind: int, i: int, j: int) -> float:
        """Score change of a move, by refitting the one or two nodes it changes."""
        changed = {}
        pa_j = set(np.flatnonzero(A[:, j]).tolist())
        pa_j = pa_j | {i} if kind == 0 else pa_j - {i}
        changed[j] = regress(S, np.array(sorted(pa_j), dtype=int), j)[1]
        if kind == 2:
            pa_i = set(np.flatnonzero(A[:, i]).tolist()) | {j}
            changed[i] = regress(S, np.array(sorted(pa_i), dtype=int), i)[1]
        nodes = np.array(list(changed))
        new_r = np.maximum(np.array(list(changed.values())), 1e-300)
        if noise == "unequal":
            fit = 0.5 * n * float(np.sum(np.log(new_r) - np.log(np.maximum(r[nodes], 1e-300))))
        else:
            total = r.sum()
            fit = 0.5 * n * d * float(np.log(max(total - r[nodes].sum() + new_r.sum(), 1e-300))
                                      - np.log(total))
        return fit + {0: pen, 1: -pen, 2: 0.0}[kind]

    cols = np.arange(d)[None, :]
    R = _reachability(A)
    current = bic_score(S, n, A, noise, penalty, gamma)
    best_score, best_A = current, A.copy()
    tabu: deque[tuple[int, int]] = deque(maxlen=tabu_length)
    stale = 0  # moves since the best graph was last improved
    step = 0
    for step in range(max_steps):  # noqa: B007
        with np.errstate(invalid="ignore"):
            d_add = fit_delta(r_add, cols) + pen  # [d, d]
            d_del = fit_delta(r_del, cols) - pen
            # reversal i -> j  =>  j -> i: j loses parent i, i gains parent j
            if noise == "unequal":
                d_rev = fit_delta(r_del, cols) + fit_delta(r_add.T, cols.T)
            else:
                total = r.sum()
                new_total = total - r[None, :] + r_del - r[:, None] + r_add.T
                d_rev = 0.5 * n * d * (np.log(np.maximum(new_total, 1e-300)) - np.log(total))
        # acyclicity: adding i -> j needs no path j ~> i; reversing i -> j needs no
        # path i ~> j other than the edge itself (through another child of i)
        ei, ej = np.nonzero(A)
        other_path = np.zeros((d, d), dtype=bool)
        other_path[ei, ej] = np.any(A[ei] & R[:, ej].T, axis=1)
        d_add[~allow | A | R.T] = np.inf
        d_del[~A | req] = np.inf
        d_rev[~A | req | ~allow.T | other_path] = np.inf
        deltas = np.stack([d_add, d_del, d_rev])  # [3, d, d]
        deltas[np.isnan(deltas)] = np.inf
        improving = improves(float(deltas.min()), 0.0, tol)
        if not improving or stale:
            # tabu phase: never touch a pair changed by the last moves
            for i, j in tabu:
                deltas[:, i, j] = deltas[:, j, i] = np.inf
        # The closed-form deltas can be off when a parent set is nearly collinear;
        # check the chosen move by refitting the nodes it changes.
        flat = deltas.ravel()
        order = _smallest(flat, 16, tol)
        best, delta = -1, np.inf
        for c in order:
            if not np.isfinite(flat[c]):
                break
            kind, i, j = (int(v) for v in np.unravel_index(c, deltas.shape))
            true_delta = exact_delta(kind, i, j)
            if tabu_steps == 0 and not improves(true_delta, 0.0, tol):
                continue
            best, delta = int(c), true_delta
            break
        if best < 0 or (tabu_steps > 0 and stale >= tabu_steps):
            break
        kind, i, j = (int(v) for v in np.unravel_index(best, deltas.shape))
        if kind == 0:
            A[i, j] = True
            update(j)
            R |= np.outer(R[:, i] | (np.arange(d) == i), R[j] | (np.arange(d) == j))
        elif kind == 1:
            A[i, j] = False
            update(j)
            R = _reachability(A)
        else:
            A[i, j], A[j, i] = False, True
            update(j)
            update(i)
            R = _reachability(A)
        tabu.append((i, j))
        current += delta
        if improves(current, best_score, tol):
            best_score, best_A, stale = current, A.copy(), 0
        else:
            stale += 1
    else:
        log.warning("hill_climb stopped after max_steps=%d moves", max_steps)
    log.debug("hill_climb: %d moves, %d edges, score %.6g", step, int(best_A.sum()), best_score)
    return ols_weights(S, best_A)


def order_dag(W: np.ndarray) -> np.ndarray:
    """The complete DAG of the causal order read off ``W``: ``i -> j`` for every ``i``
    before ``j`` in a topological order of ``threshold_to_dag(W, 0)`` (cycles of
    ``W`` broken at their weakest edge). Used as the ``allowed`` mask of a search."""
    return _order_mask(np.asarray(topological_order(threshold_to_dag(W, 0.0))))


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


def _order_mask(order: np.ndarray) -> np.ndarray:
    """``M[i, j]``: ``i`` comes before ``j`` in ``order``."""
    rank = np.empty(len(order), dtype=int)
    rank[order] = np.arange(len(order))
    return rank[:, None] < rank[None, :]


def refine(
    S: np.ndarray,
    n: int,
    path: Sequence[np.ndarray],
    threshold: float,
    *,
    noise: NoiseModel = "unequal",
    penalty: float = 1.0,
    gamma: float = 0.0,
    allowed: np.ndarray | None = None,
    required: np.ndarray | None = None,
    tabu_steps: int = 10,
    kicks: int = 0,
    rng: np.random.Generator | None = None,
    multistart: bool = True,
) -> tuple[np.ndarray, dict[str, float]]:
    """Hill climbing (with a short tabu phase) from several starts built from a
    solver's iterates; the result with the best score wins (no ground truth involved).

    For each ``W`` in ``path`` (e.g. the solution after every outer step) two starts:
    ``threshold_to_dag(W, threshold)``, and the best DAG in the causal order of
    ``W`` (hill climbing restricted to :func:`order_dag`), then released; plus the
    empty graph; under ``noise="equal"`` also the best DAG in the order of
    :func:`equal_variance_order` (``"eqvar_order"``), which that model identifies.
    Different starts end in different local optima of the greedy search; the
    score decides among them.

    Under ``noise="unequal"`` (a decomposable score) two more starts: the DAGs
    that :func:`dagforge.order_search.order_search` reaches from the causal order
    of the best graph so far and from the order of the last ``W`` in ``path``,
    each then climbed. Moving whole variables through the order leaves the dense
    local optima that edge moves get stuck in on standardised data.

    Then ``kicks`` rounds of iterated local search: perturb the best graph (delete
    a random sixth of its free edges, reversing half of those where that stays
    acyclic), climb again, keep the result if it scores better. Greedy search on
    dense graphs stops far from the best-scoring DAG; the kicks move it across.

    Parameters
    ----------
    kicks : int
        Perturbation rounds after the multi-start search (0: none).
    rng : numpy.random.Generator, optional
        Source of the perturbations (required when ``kicks > 0``).
    multistart : bool
        False: start only from ``threshold_to_dag`` of each ``W`` in ``path`` (no
        order, empty or eqvar starts): for large graphs, where each climb from a
        far-off start costs minutes.

    Returns
    -------
    W : ndarray of shape (d, d)
        OLS-weighted best DAG.
    scores : dict
        Final score reached from each start (``"threshold@k"``, ``"order@k"``,
        ``"empty"``, ``"order_search@best"``, ...), and ``"kicks"`` after the perturbation rounds.

    Raises
    ------
    GraphError
        The required edges have a cycle or are not all allowed.

    Notes
    -----
    Prior knowledge (:mod:`dagforge.knowledge`): every start and every move stays
    inside ``allowed`` and keeps every ``required`` edge, so the result has no edge
    outside ``allowed`` and all the required ones.
    """
    d = S.shape[0]
    kw = dict(noise=noise, penalty=penalty, gamma=gamma, required=required,
              tabu_steps=tabu_steps)
    allow = np.ones((d, d), bool) if allowed is None else np.asarray(allowed, bool)
    req = np.zeros((d, d), bool) if required is None else np.asarray(required, bool)
    if (req & ~allow).any():
        i, j = np.argwhere(req & ~allow)[0]
        raise GraphError(f"required edge {i} -> {j} is not allowed")
    if not is_dag(req):
        raise GraphError("the required edges form a cycle")
    starts: dict[str, np.ndarray] = {"empty": req.copy()} if multistart else {}
    for k, W in enumerate(path):
        starts[f"threshold@{k}"] = threshold_to_dag(W * allow, threshold, req) != 0
        if multistart:
            starts[f"order@{k}"] = hill_climb(S, n, req, allowed=allow & order_dag(W),
                                              **kw) != 0
    if noise == "equal" and multistart:
        eqvar = _order_mask(equal_variance_order(S))
        starts["eqvar_order"] = hill_climb(S, n, req, allowed=allow & eqvar, **kw) != 0
    best, best_score, scores = None, np.inf, {}

    def climb(name: str, A0: np.ndarray) -> None:
        """Hill climb from ``A0``; keep the result if it is the best so far."""
        nonlocal best, best_score
        Wr = hill_climb(S, n, A0, allowed=allow, **kw)
        scores[name] = bic_score(S, n, Wr != 0, noise, penalty, gamma)
        if improves(scores[name], best_score, score_tol(n)):
            best, best_score = Wr, scores[name]

    seen: set[bytes] = set()
    for name, A0 in starts.items():
        A0 = A0 | req
        key = np.packbits(A0).tobytes()
        if key in seen or not is_dag(A0):
            continue
        seen.add(key)
        climb(name, A0)
    assert best is not None  # the empty start, or threshold_to_dag's, is acyclic
    if noise == "unequal" and multistart:
        orders = {"order_search@best": topological_order(best != 0),
                  "order_search@solver": topological_order(
                      threshold_to_dag(path[-1] * allow, 0.0, req) != 0)}
        for name, order in orders.items():
            climb(name, order_search(S, n, order, penalty=penalty, gamma=gamma, allowed=allow,
                                     required=req, rng=rng)[0])
    if kicks > 0:
        if rng is None:
            raise ValueError("refine: kicks > 0 needs an rng")
        best, best_score = _kick_search(S, n, best != 0, best_score, kicks, rng, allow, req,
                                        kw)
        scores["kicks"] = best_score
        best = ols_weights(S, best)
    return best, scores


def _kick_search(S: np.ndarray, n: int, A: np.ndarray, score: float, kicks: int,
                 rng: np.random.Generator, allow: np.ndarray, req: np.ndarray,
                 kw: dict) -> tuple[np.ndarray, float]:
    """Iterated local search from the DAG ``A`` (see :func:`refine`); returns the
    best DAG found and its score."""
    noise, penalty, gamma = kw["noise"], kw["penalty"], kw["gamma"]
    for _ in range(kicks):
        ei, ej = np.nonzero(A & ~req)
        if len(ei) == 0:
            break
        P = A.copy()
        for a in rng.choice(len(ei), max(1, len(ei) // 6), replace=False):
            i, j = ei[a], ej[a]
            P[i, j] = False
            if rng.random() < 0.5 and allow[j, i]:
                P[j, i] = True
                if not is_dag(P):
                    P[j, i] = False
        cand = hill_climb(S, n, P, allowed=allow, **kw) != 0
        cand_score = bic_score(S, n, cand, noise, penalty, gamma)
        if improves(cand_score, score, score_tol(n)):
            A, score = cand, cand_score
    return A, score


def total_bic(S: np.ndarray, n: int, A: np.ndarray, noise: NoiseModel, penalty: float = 1.0,
              gamma: float = 0.0) -> float:
    """Score of graph ``A`` that can be compared across noise models: :func:`bic_score`
    plus the BIC cost of the noise variances (one for ``"equal"``, ``d`` for ``"unequal"``)."""
    n_var = 1 if noise == "equal" else S.shape[0]
    return bic_score(S, n, A, noise, penalty, gamma) + penalty * 0.5 * float(np.log(n)) * n_var


def choose_noise_model(
    S: np.ndarray, n: int, candidates: dict[str, np.ndarray], penalty: float = 1.0,
    gamma: float = 0.0,
) -> tuple[str, dict[str, float]]:
    """Pick between DAGs fitted under the equal- and unequal-variance models by their
    :func:`total_bic` (each under its own model); returns the winner and both scores.

    With equal noise variances the equal-variance model explains the data as well
    with ``d - 1`` fewer parameters and wins; when the variances differ (e.g. after
    standardising the columns) its likelihood drops and the unequal model wins.
    """
    scores = {noise: total_bic(S, n, A != 0, noise, penalty, gamma)  # type: ignore[arg-type]
              for noise, A in candidates.items()}
    names = list(scores)  # a tie goes to the first candidate
    return names[argmin_tied(np.array(list(scores.values())), score_tol(n))], scores
