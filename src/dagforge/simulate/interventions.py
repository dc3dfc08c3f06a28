"""Interventional designs: which rows come from which experiment, and what it does.

An :class:`InterventionDesign` lays out the rows (``n_obs`` observational rows, then
``n_per_regime`` rows per interventional regime) and acts on each intervened
variable of a regime right after the SEM samples it, before its children read it
(so any SEM of :mod:`dagforge.simulate.sem` works unchanged):

* ``"perfect"``: the variable's mechanism is replaced: its value is drawn from
  :math:`N(\\mathrm{loc}, \\mathrm{scale}^2)`, whatever its parents (a do-intervention,
  as in the simulations of GIES, DCDI and SDCD);
* ``"shift"``: a soft intervention: the mechanism is kept and its output shifted by
  ``loc`` (the variable keeps its parents, with another intercept).

:func:`random_targets` draws single- (or multi-) variable targets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from dagforge.errors import ConfigError
from dagforge.simulate._util import check_choice, check_int
from dagforge.simulate.sem import Intervene

__all__ = ["InterventionDesign", "InterventionKind", "random_targets"]

InterventionKind = Literal["perfect", "shift"]

#: Label of the observational regime.
OBSERVATIONAL = "obs"


def random_targets(d: int, n_regimes: int, rng: np.random.Generator, size: int = 1
                   ) -> list[tuple[int, ...]]:
    """``n_regimes`` target sets of ``size`` distinct variables each, the sets drawn
    without repeating a variable across regimes while there are enough variables."""
    n_regimes, size = check_int(n_regimes, "n_regimes", 0), check_int(size, "size", 1)
    if size > d:
        raise ConfigError(f"cannot intervene on {size} of {d} variables at once")
    out: list[tuple[int, ...]] = []
    pool = list(rng.permutation(d))
    for _ in range(n_regimes):
        if len(pool) < size:
            pool = list(rng.permutation(d))
        out.append(tuple(sorted(int(v) for v in pool[:size])))
        pool = pool[size:]
    return out


@dataclass(frozen=True)
class InterventionDesign:
    """Rows and interventions of an interventional data set.

    Attributes
    ----------
    targets : sequence of tuple of int
        The variables intervened on in each interventional regime.
    n_obs : int
        Observational rows (first).
    n_per_regime : int
        Rows of each interventional regime (after the observational ones, in order).
    kind : {"perfect", "shift"}
        What an intervention does (module docstring).
    loc, scale : float
        Perfect: the intervened value is ``N(loc, scale^2)``; shift: the shift ``loc``.
    """

    targets: Sequence[tuple[int, ...]]
    n_obs: int = 1000
    n_per_regime: int = 100
    kind: InterventionKind = "perfect"
    loc: float = 2.0
    scale: float = 1.0

    def __post_init__(self) -> None:
        check_int(self.n_obs, "n_obs", 0)
        check_int(self.n_per_regime, "n_per_regime", 1)
        check_choice(self.kind, InterventionKind, "intervention kind")
        if not self.scale > 0:
            raise ConfigError(f"intervention scale must be > 0, got {self.scale}")
        if self.n_obs == 0 and not self.targets:
            raise ConfigError("an interventional design needs rows: n_obs > 0 or targets")

    @property
    def n(self) -> int:
        """All rows."""
        return self.n_obs + self.n_per_regime * len(self.targets)

    def regime_index(self) -> np.ndarray:
        """Regime of each row: -1 observational, ``k`` the ``k``-th targets; (n,)."""
        return np.concatenate([np.full(self.n_obs, -1)] + [
            np.full(self.n_per_regime, k) for k in range(len(self.targets))]).astype(int)

    def labels(self, names: Sequence[str]) -> tuple[np.ndarray, dict[str, list[str]]]:
        """Regime label of each row and the targets of each label, by variable name:
        ``"obs"`` and e.g. ``"do(x3)"`` / ``"shift(x3)"``."""
        tag = "do" if self.kind == "perfect" else "shift"
        names_k = [f"{tag}({'+'.join(names[v] for v in t)})" for t in self.targets]
        if len(set(names_k)) < len(names_k):  # the same targets twice: number them
            names_k = [f"{lab}#{k}" for k, lab in enumerate(names_k)]
        labels = np.array([OBSERVATIONAL if k < 0 else names_k[k]
                           for k in self.regime_index()], dtype=object)
        targets = {lab: [names[v] for v in t] for lab, t in zip(names_k, self.targets,
                                                                 strict=True)}
        if self.n_obs:
            targets = {OBSERVATIONAL: [], **targets}
        return labels, targets

    def intervener(self, d: int) -> Intervene:
        """The ``intervene(j, x, rng)`` hook of the SEM samplers for ``d`` variables."""
        for t in self.targets:
            if any(not 0 <= v < d for v in t):
                raise ConfigError(f"intervention target {t} outside 0..{d - 1}")
        regime = self.regime_index()
        rows = {j: np.flatnonzero(np.isin(regime, [k for k, t in enumerate(self.targets)
                                                   if j in t])) for j in range(d)}

        def intervene(j: int, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
            r = rows[j]
            if not len(r):
                return x
            x = x.copy()
            if self.kind == "perfect":
                x[r] = rng.normal(self.loc, self.scale, size=len(r))
            else:
                x[r] += self.loc
            return x

        return intervene
