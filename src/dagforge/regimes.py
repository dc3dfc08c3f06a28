r"""Interventional regimes: which rows come from which experiment, checked, and the
moments the interventional scores and the linear model fit on.

Each row carries a regime label; each regime names the variables intervened on in it
(an empty list: observational). Labels compare as text (:func:`as_label`), so a regime
column read as integers matches the keys of a JSON targets file.

Under a *perfect* intervention on :math:`j` in regime :math:`k`, :math:`j`'s own
mechanism is replaced there, so its rows in :math:`k` say nothing about how :math:`j`
depends on its parents: the mechanism of :math:`j` is fitted on the rows of the other
regimes, pooled (one intercept: the mechanism is the same in all of them). Variables
intervened on in the same regimes are fitted on the same rows and share one covariance
(:meth:`RegimeMoments.variable_groups`). Under a *soft* intervention :math:`j` keeps its
parents in regime :math:`k` but with its own parameters: its rows in :math:`k` are fitted
on their own, centred by their own mean (:meth:`RegimeMoments.regime_covariance`).

Interventions on unknown targets are not handled: every regime names its targets.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from dagforge.errors import DataError

__all__ = ["MIN_REGIME_ROWS", "RegimeMoments", "as_label", "check_regimes", "read_targets",
           "target_mask"]

#: Rows a regime needs at least: a regime of one row has no spread to fit.
MIN_REGIME_ROWS = 2


def as_label(value: Any) -> str:
    """A regime label as text; a whole float (``2.0``, from a column with gaps) as ``"2"``."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _label(value: Any, row: int) -> str:
    if value is None or (isinstance(value, float | np.floating) and np.isnan(value)):
        raise DataError(f"regime label missing in row {row + 1}")
    return as_label(value)


def _names(label: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Sequence | np.ndarray):
        raise DataError(f"targets of regime {label!r} must be a list of variable names, "
                        f"got {value!r}")
    return tuple(dict.fromkeys(str(v) for v in value))  # duplicates dropped, order kept


def check_regimes(regimes: Any, targets: Mapping[Any, Any], names: Sequence[str],
                  n: int) -> tuple[np.ndarray, dict[str, tuple[str, ...]]]:
    """Checked regime labels (text, shape (n,)) and targets (label -> variable names).

    Raises
    ------
    DataError
        One line: a label count that is not one per row, a missing label, a regime
        without an entry in ``targets``, an entry whose regime has no rows, an unknown
        variable name, a regime with fewer than :data:`MIN_REGIME_ROWS` rows, or a
        variable intervened on in every regime (no row shows its mechanism).
    """
    raw = list(np.asarray(regimes, dtype=object).ravel())
    if len(raw) != n:
        raise DataError(f"{len(raw)} regime labels for {n} rows")
    if not isinstance(targets, Mapping):
        raise DataError("targets must map each regime label to a list of variable names")
    labels = np.array([_label(v, i) for i, v in enumerate(raw)], dtype=object)
    given = {as_label(k): _names(as_label(k), v) for k, v in targets.items()}
    seen, counts = np.unique(labels.astype(str), return_counts=True)
    seen = [str(label) for label in seen]
    for label in seen:
        if label not in given:
            raise DataError(f"regime {label!r} has no entry in targets")
    for label in given:
        if label not in seen:
            raise DataError(f"targets name regime {label!r}, which has no rows")
    known = set(names)
    for label, vars_ in given.items():
        unknown = [v for v in vars_ if v not in known]
        if unknown:
            raise DataError(f"targets of regime {label!r} name unknown variable(s) "
                            f"{', '.join(map(repr, unknown))}")
    for label, count in zip(seen, counts, strict=True):
        if count < MIN_REGIME_ROWS:
            raise DataError(f"regime {label!r} has {count} row(s); each regime needs at "
                            f"least {MIN_REGIME_ROWS}")
    everywhere = set(names).intersection(*given.values())
    if everywhere:
        raise DataError(f"variable(s) {', '.join(map(repr, sorted(everywhere)))} are "
                        "intervened on in every regime: no row shows their mechanism")
    return labels, given


def read_targets(path: str | os.PathLike[str]) -> dict[str, list[str]]:
    """The targets file ``path`` (JSON or YAML: regime label -> list of variable names);
    a missing or malformed file is a one-line error."""
    from dagforge.config import read_config_file

    data = read_config_file(path, "targets file")
    if not isinstance(data, Mapping) or not data:
        raise DataError(f"{path}: a targets file maps each regime label to a list of "
                        "variable names")
    return {as_label(k): list(_names(as_label(k), v)) for k, v in data.items()}


def target_mask(regimes: np.ndarray, targets: Mapping[str, Sequence[str]],
                names: Sequence[str]) -> np.ndarray:
    """``M[r, j]``: variable ``j`` is intervened on in row ``r``'s regime; bool (n, d)."""
    index = {name: j for j, name in enumerate(names)}
    per_regime = {label: np.isin(np.arange(len(names)), [index[v] for v in vars_])
                  for label, vars_ in targets.items()}
    return np.stack([per_regime[label] for label in regimes]) if len(regimes) else \
        np.zeros((0, len(names)), bool)


@dataclass(frozen=True, eq=False)
class RegimeMoments:
    """Per-regime counts, means and scatter matrices of a data table.

    Attributes
    ----------
    labels : tuple of str
        The regimes, in order of first appearance.
    counts : ndarray of shape (R,)
        Rows per regime.
    means : ndarray of shape (R, d)
    scatters : ndarray of shape (R, d, d)
        :math:`\\sum_{r \\in k} (x_r - \\bar x_k)(x_r - \\bar x_k)^\\top` per regime.
    targets : bool ndarray of shape (R, d)
        ``targets[k, j]``: ``j`` is intervened on in regime ``k``.
    """

    labels: tuple[str, ...]
    counts: np.ndarray
    means: np.ndarray
    scatters: np.ndarray
    targets: np.ndarray

    @classmethod
    def from_rows(cls, X: np.ndarray, regimes: np.ndarray,
                  targets: Mapping[str, Sequence[str]], names: Sequence[str]
                  ) -> RegimeMoments:
        """The moments of ``X`` (n, d) split by the (checked) ``regimes`` labels."""
        labels = tuple(dict.fromkeys(str(r) for r in regimes))
        index = {name: j for j, name in enumerate(names)}
        counts, means, scatters, tmask = [], [], [], []
        for label in labels:
            rows = X[regimes == label]  # [n_k, d]
            mean = rows.mean(axis=0)  # [d]
            centred = rows - mean
            counts.append(len(rows))
            means.append(mean)
            scatters.append(centred.T @ centred)  # [d, d]
            mask = np.zeros(len(names), bool)
            mask[[index[v] for v in targets[label]]] = True
            tmask.append(mask)
        return cls(labels, np.asarray(counts, dtype=float), np.asarray(means),
                   np.asarray(scatters), np.asarray(tmask))

    def pooled(self, keep: np.ndarray) -> tuple[np.ndarray, float]:
        """Covariance (divided by the row count) of the rows of the regimes ``keep``
        (bool, shape (R,)), centred by their pooled mean, and that row count."""
        n = float(self.counts[keep].sum())
        mean = self.counts[keep] @ self.means[keep] / n  # [d]
        dev = self.means[keep] - mean  # [K, d] regime means about the pooled mean
        scatter = self.scatters[keep].sum(axis=0) + (dev.T * self.counts[keep]) @ dev
        return scatter / n, n

    def regime_covariance(self, k: int) -> tuple[np.ndarray, float]:
        """Covariance of regime ``k``'s rows about their own mean, and their count."""
        return self.scatters[k] / self.counts[k], float(self.counts[k])

    def variable_groups(self) -> tuple[list[np.ndarray], np.ndarray]:
        """Variables whose mechanisms are fitted on the same rows: a list of the regimes
        each group keeps (bool, shape (R,)), and the group of each variable (d,)."""
        keeps: list[np.ndarray] = []
        index: dict[bytes, int] = {}
        group = np.empty(self.targets.shape[1], dtype=np.intp)
        for j in range(self.targets.shape[1]):
            keep = ~self.targets[:, j]
            key = np.packbits(keep).tobytes()
            if key not in index:
                index[key] = len(keeps)
                keeps.append(keep)
            group[j] = index[key]
        return keeps, group
