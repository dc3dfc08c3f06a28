r"""What the searches ask of a score: :class:`ParentScore`.

A score is lower-is-better and (for the searches' purposes) made of one term per
variable: the *fit term* of variable :math:`j` on its parent set :math:`P`, read off a
statistic of that fit (a residual variance, a log-likelihood), plus the *penalty* of
the parent set. The searches never fit anything themselves; they ask the score for

* the statistic of ``j`` on ``P`` (:meth:`ParentScore.stat`), and in one call the
  statistics after adding any one variable to ``P`` (:meth:`ParentScore.add_stats`) or
  removing any one parent (:meth:`ParentScore.remove_stats`);
* what those changes cost in penalty (:meth:`ParentScore.add_costs`,
  :meth:`ParentScore.remove_costs`);
* the change of the graph score when some variables' statistics change
  (:meth:`ParentScore.fit_delta`): a sum of per-variable changes for a decomposable
  score, something else for a score that is not (the equal-variance Gaussian BIC).

Greedy hill climbing (:mod:`dagforge.search.hill_climb`) works with any score; the order
search (:mod:`dagforge.search.order`) needs a decomposable one
(:attr:`ParentScore.decomposable`).

:class:`FitTermScore` is the base of the decomposable scores whose statistic *is* the fit
term, in score units (the negative log-likelihood of the variable's rows): a change of
the graph score is then the sum of the changes of the statistics.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable, Sequence
from typing import Any

import numpy as np

__all__ = ["BoundedCache", "FitTermScore", "ParentScore", "frozen"]


class BoundedCache:
    """A dict holding at most ``budget`` floats; the oldest entries leave first."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self._data: dict[Hashable, tuple[Any, int]] = {}
        self._size = 0

    def get(self, key: Hashable, make: Callable[[], tuple[Any, int]]) -> Any:
        """The value stored under ``key``, or ``make()``'s ``(value, n_floats)`` stored now."""
        hit = self._data.get(key)
        if hit is not None:
            return hit[0]
        value, size = make()
        self._data[key] = (value, size)
        self._size += size
        while self._size > self.budget and self._data:
            oldest = next(iter(self._data))  # dicts keep insertion order
            self._size -= self._data.pop(oldest)[1]
        return value


def frozen(a: np.ndarray) -> np.ndarray:
    """``a`` made read-only: a cached array is shared by every caller."""
    a.flags.writeable = False
    return a


def parent_key(parents: Sequence[int] | np.ndarray) -> tuple[np.ndarray, bytes]:
    """``parents`` as an index array and the bytes that key a cache entry on it."""
    pa = np.asarray(parents, dtype=np.intp)  # [p]
    return pa, pa.tobytes()


class ParentScore(ABC):
    """A lower-is-better score of DAGs, asked one parent set at a time.

    Attributes
    ----------
    d : int
        Number of variables.
    n : int
        Number of rows of the data.
    tol : float
        Score differences below it are ties (:func:`dagforge.ties.score_tol`).
    edge_cost : float
        The penalty of one edge where that is a constant (the BIC's); scores whose
        penalty depends on the variables (discrete levels) give their typical cost,
        which the searches use only for messages.
    """

    d: int
    n: int
    tol: float
    edge_cost: float

    @property
    def decomposable(self) -> bool:
        """The graph score is the sum of one local term per variable."""
        return True

    # -- statistics of one parent set ---------------------------------------------------

    @abstractmethod
    def stat(self, j: int, parents: Sequence[int] | np.ndarray) -> float:
        """The statistic of ``j`` fitted on ``parents``."""

    @abstractmethod
    def add_stats(self, j: int, parents: Sequence[int] | np.ndarray, *,
                  floor_partial: bool = True) -> np.ndarray:
        """The statistic of ``j`` on ``parents`` plus ``i``, for every ``i``; shape (d,),
        meaningless for ``i`` in ``parents`` or ``i == j``. ``floor_partial`` is a
        Gaussian detail (see :meth:`dagforge.search.GaussianScore.add_stats`); other
        scores ignore it."""

    @abstractmethod
    def remove_stats(self, j: int, parents: Sequence[int] | np.ndarray) -> np.ndarray:
        """The statistic of ``j`` on ``parents`` without ``parents[k]``, for every ``k``;
        shape (p,)."""

    # -- penalties ----------------------------------------------------------------------

    def penalty(self, j: int, parents: Sequence[int] | np.ndarray) -> float:
        """Penalty of the parent set ``parents`` of ``j`` (default: ``edge_cost`` each)."""
        return self.edge_cost * len(parents)

    def add_costs(self, j: int, parents: Sequence[int] | np.ndarray) -> float | np.ndarray:
        """Change of the penalty when ``i`` joins ``parents``: a float or shape (d,)."""
        return self.edge_cost

    def remove_costs(self, j: int, parents: Sequence[int] | np.ndarray) -> float | np.ndarray:
        """Change of the penalty (negative) when ``parents[k]`` leaves: a float or (p,)."""
        return -self.edge_cost

    # -- fit terms ----------------------------------------------------------------------

    @abstractmethod
    def fit_term(self, j: int, stat: float) -> float:
        """The fit term of ``j`` whose statistic is ``stat`` (decomposable scores)."""

    @abstractmethod
    def fit_changes(self, j: int, new: np.ndarray | float, old: float) -> Any:
        """Change of ``j``'s fit term for each candidate statistic ``new``."""

    @abstractmethod
    def fit_delta(self, stats: np.ndarray,
                  *changes: tuple[np.ndarray | int, np.ndarray | float]) -> Any:
        """Change of the graph score's fit part when statistics change.

        Parameters
        ----------
        stats : ndarray of shape (d,)
            Current statistics.
        *changes : (nodes, new) pairs
            Variables ``nodes`` get statistics ``new`` (broadcast together, so one call
            scores a whole matrix of candidate moves); a reversal passes two pairs.
        """

    def add_gains(self, j: int, parents: Sequence[int] | np.ndarray) -> np.ndarray:
        """Change of ``j``'s local term when ``i`` joins ``parents``, for every ``i``;
        shape (d,), meaningless for ``i`` in ``parents`` or ``i == j``."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return (self.fit_changes(j, self.add_stats(j, parents), self.stat(j, parents))
                    + self.add_costs(j, parents))

    def remove_gains(self, j: int, parents: Sequence[int] | np.ndarray) -> np.ndarray:
        """Change of ``j``'s local term when ``parents[k]`` leaves, for every ``k``; (p,)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return (self.fit_changes(j, self.remove_stats(j, parents), self.stat(j, parents))
                    + self.remove_costs(j, parents))

    def local(self, j: int, parents: Sequence[int] | np.ndarray,
              stat: float | None = None) -> float:
        """Local term of ``j`` on ``parents``: fit term plus penalty (``stat`` if known)."""
        s = self.stat(j, parents) if stat is None else stat
        return self.fit_term(j, s) + self.penalty(j, parents)

    # -- whole graphs -------------------------------------------------------------------

    def stats(self, A: np.ndarray) -> np.ndarray:
        """Statistic of every variable on its parents in ``A``; shape (d,)."""
        return np.array([self.stat(j, np.flatnonzero(A[:, j])) for j in range(self.d)])

    def score(self, A: np.ndarray) -> float:
        """The score of the graph ``A`` (non-zero ``A[i, j]``: ``i -> j``)."""
        return float(sum(self.local(j, np.flatnonzero(A[:, j])) for j in range(self.d)))

    def total(self, A: np.ndarray, penalty: float = 1.0) -> float:
        """:meth:`score` plus the penalty of the parameters its terms leave out (the
        Gaussian BIC's noise variances), so that models of one family compare; default:
        :meth:`score`. ``penalty`` is the BIC multiplier."""
        return self.score(A)

    @abstractmethod
    def weights(self, A: np.ndarray) -> np.ndarray:
        """Edge weights of the graph ``A`` fitted under this score's model; shape (d, d),
        non-zero exactly on the edges of ``A`` (up to an exact-zero fit)."""


class FitTermScore(ParentScore):
    """A decomposable score whose statistic is the fit term itself (score units)."""

    def fit_term(self, j: int, stat: float) -> float:
        return float(stat)

    def fit_changes(self, j: int, new: np.ndarray | float, old: float) -> Any:
        return np.asarray(new) - old

    def fit_delta(self, stats: np.ndarray,
                  *changes: tuple[np.ndarray | int, np.ndarray | float]) -> Any:
        diff: Any = 0.0
        for nodes, new in changes:
            diff = diff + (np.asarray(new) - stats[nodes])
        return diff
