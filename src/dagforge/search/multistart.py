"""Refinement of a continuous solver's output by score-based search from several starts,
iterated local search ("kicks"), and the choice between the noise models.

Different starts end in different local optima of the greedy search; the score
decides among them, no ground truth involved.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from dagforge.errors import GraphError
from dagforge.graph import is_dag, threshold_to_dag, topological_order
from dagforge.search.hill_climb import climb
from dagforge.search.order import equal_variance_order, order_dag, order_mask, search_orders
from dagforge.search.scores.base import ParentScore
from dagforge.search.scores.gaussian import GaussianScore, NoiseModel
from dagforge.ties import argmin_tied, improves

__all__ = ["choose_noise_model", "refine", "refine_graph"]

#: Share of the free edges a kick deletes (half of those reversed where acyclic).
_KICK_SHARE = 6


class _Best:
    """The best-scoring result so far, and the score reached from each start."""

    def __init__(self, score: ParentScore, allow: np.ndarray, req: np.ndarray,
                 tabu_steps: int) -> None:
        self.score, self.allow, self.req, self.tabu_steps = score, allow, req, tabu_steps
        self.W: np.ndarray | None = None  # [d, d] the score's weights of the best graph
        self.value = np.inf
        self.scores: dict[str, float] = {}

    def climb(self, A0: np.ndarray, allowed: np.ndarray | None = None) -> np.ndarray:
        """Hill climb (with the tabu phase) from ``A0``; the score's weights of the result."""
        return climb(self.score, A0, allowed=self.allow if allowed is None else allowed,
                     required=self.req, tabu_steps=self.tabu_steps)

    def offer(self, name: str, A0: np.ndarray) -> None:
        """Climb from ``A0``; keep the result if it is the best so far."""
        W = self.climb(A0)
        self.scores[name] = self.score.score(W != 0)
        if improves(self.scores[name], self.value, self.score.tol):
            self.W, self.value = W, self.scores[name]


def _knowledge(d: int, allowed: np.ndarray | None,
               required: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """The ``allowed`` and ``required`` masks, checked against each other."""
    allow = np.ones((d, d), bool) if allowed is None else np.asarray(allowed, bool)
    req = np.zeros((d, d), bool) if required is None else np.asarray(required, bool)
    if (req & ~allow).any():
        i, j = np.argwhere(req & ~allow)[0]
        raise GraphError(f"required edge {i} -> {j} is not allowed")
    if not is_dag(req):
        raise GraphError("the required edges form a cycle")
    return allow, req


def _starts(best: _Best, path: Sequence[np.ndarray], threshold: float,
            multistart: bool) -> dict[str, np.ndarray]:
    """The starting DAGs (see :func:`refine`), by name."""
    allow, req = best.allow, best.req
    starts: dict[str, np.ndarray] = {"empty": req.copy()} if multistart else {}
    for k, W in enumerate(path):
        starts[f"threshold@{k}"] = threshold_to_dag(W * allow, threshold, req) != 0
        if multistart:
            starts[f"order@{k}"] = best.climb(req, allow & order_dag(W)) != 0
    if isinstance(best.score, GaussianScore) and best.score.noise == "equal" and multistart:
        eqvar = order_mask(equal_variance_order(best.score.S))
        starts["eqvar_order"] = best.climb(req, allow & eqvar) != 0
    return starts


def refine(
    S: np.ndarray,
    n: int,
    path: Sequence[np.ndarray],
    threshold: float,
    *,
    noise: NoiseModel = "unequal",
    penalty: float = 1.0,
    gamma: float = 0.0,
    **options: object,
) -> tuple[np.ndarray, dict[str, float]]:
    """:func:`refine_graph` on the linear-Gaussian BIC of the covariance ``S`` of ``n``
    rows (``noise``, ``penalty``, ``gamma`` as in :func:`~dagforge.search.bic_score`);
    ``options`` are :func:`refine_graph`'s."""
    score = GaussianScore(S, n, noise=noise, penalty=penalty, gamma=gamma)
    return refine_graph(score, path, threshold, **options)  # type: ignore[arg-type]


def refine_graph(
    score: ParentScore,
    path: Sequence[np.ndarray],
    threshold: float,
    *,
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
    ``W`` (hill climbing restricted to :func:`~dagforge.search.order_dag`), then
    released; plus the empty graph; under the equal-variance Gaussian BIC also the best
    DAG in the order of :func:`~dagforge.search.equal_variance_order`
    (``"eqvar_order"``), which that model identifies.

    Under a decomposable score (e.g. ``noise="unequal"``) two more starts: the DAGs
    that :func:`~dagforge.search.order_search` reaches from the causal order
    of the best graph so far and from the order of the last ``W`` in ``path``,
    each then climbed. Moving whole variables through the order leaves the dense
    local optima that edge moves get stuck in on standardised data.

    Then ``kicks`` rounds of iterated local search: perturb the best graph (delete
    a random sixth of its free edges, reversing half of those where that stays
    acyclic), climb again, keep the result if it scores better. Greedy search on
    dense graphs stops far from the best-scoring DAG; the kicks move it across.

    Parameters
    ----------
    score : ParentScore
        The score to climb (:mod:`dagforge.search.scores`).
    path : sequence of ndarray of shape (d, d)
        The solver's iterates (weighted adjacencies).
    threshold : float
        Edge threshold of the ``"threshold@k"`` starts.
    allowed, required : bool ndarray of shape (d, d), optional
        Prior knowledge, as in :func:`~dagforge.search.hill_climb`.
    tabu_steps : int
        Tabu phase of every climb.
    kicks : int
        Perturbation rounds after the multi-start search (0: none).
    rng : numpy.random.Generator, optional
        Source of the perturbations (required when ``kicks > 0``) and of the order
        search's visiting order.
    multistart : bool
        False: start only from ``threshold_to_dag`` of each ``W`` in ``path`` (no
        order, empty or eqvar starts): for large graphs, where each climb from a
        far-off start costs minutes.

    Returns
    -------
    W : ndarray of shape (d, d)
        The best DAG, weighted by the score's fit (:meth:`ParentScore.weights`).
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
    allow, req = _knowledge(score.d, allowed, required)
    best = _Best(score, allow, req, tabu_steps)
    seen: set[bytes] = set()
    for name, A0 in _starts(best, path, threshold, multistart).items():
        A0 = A0 | req
        key = np.packbits(A0).tobytes()
        if key in seen or not is_dag(A0):
            continue
        seen.add(key)
        best.offer(name, A0)
    assert best.W is not None  # the empty start, or threshold_to_dag's, is acyclic
    if score.decomposable and multistart:
        orders = {"order_search@best": topological_order(best.W != 0),
                  "order_search@solver": topological_order(
                      threshold_to_dag(path[-1] * allow, 0.0, req) != 0)}
        for name, order in orders.items():
            best.offer(name, search_orders(score, order, allowed=allow, required=req,
                                           rng=rng)[0])
    if kicks > 0:
        if rng is None:
            raise ValueError("refine: kicks > 0 needs an rng")
        A, best.scores["kicks"] = _kick_search(best, best.W != 0, best.value, kicks, rng)
        return score.weights(A), best.scores
    return best.W, best.scores


def _kick(A: np.ndarray, allow: np.ndarray, req: np.ndarray,
          rng: np.random.Generator) -> np.ndarray | None:
    """``A`` with a random sixth of its free edges deleted, half of those reversed
    where that is allowed and stays acyclic; None if ``A`` has no free edge."""
    ei, ej = np.nonzero(A & ~req)
    if len(ei) == 0:
        return None
    P = A.copy()
    for a in rng.choice(len(ei), max(1, len(ei) // _KICK_SHARE), replace=False):
        i, j = ei[a], ej[a]
        P[i, j] = False
        if rng.random() < 0.5 and allow[j, i]:
            P[j, i] = True
            if not is_dag(P):
                P[j, i] = False
    return P


def _kick_search(best: _Best, A: np.ndarray, value: float, kicks: int,
                 rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """Iterated local search from the DAG ``A`` scoring ``value`` (see :func:`refine`);
    returns the best DAG found and its score."""
    for _ in range(kicks):
        P = _kick(A, best.allow, best.req, rng)
        if P is None:
            break
        cand = best.climb(P) != 0
        cand_value = best.score.score(cand)
        if improves(cand_value, value, best.score.tol):
            A, value = cand, cand_value
    return A, value


def choose_noise_model(
    scores: Mapping[str, ParentScore], candidates: Mapping[str, np.ndarray],
    penalty: float = 1.0,
) -> tuple[str, dict[str, float]]:
    """Pick between DAGs fitted under the equal- and unequal-variance models by their
    :meth:`~dagforge.search.ParentScore.total` (each under its own model's score in
    ``scores``); returns the winner and both totals.

    With equal noise variances the equal-variance model explains the data as well
    with ``d - 1`` fewer parameters and wins; when the variances differ (e.g. after
    standardising the columns) its likelihood drops and the unequal model wins.
    """
    totals = {noise: scores[noise].total(A != 0, penalty) for noise, A in candidates.items()}
    names = list(totals)  # a tie goes to the first candidate
    tol = next(iter(scores.values())).tol
    return names[argmin_tied(np.array(list(totals.values())), tol)], totals
