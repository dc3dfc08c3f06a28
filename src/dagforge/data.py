"""The data model every learner takes: a :class:`Dataset`.

A dataset is the checked table of values (one column per variable), the
variables' names, a type per column and, per row, an optional regime label with
the variables intervened on in each regime. Learners read only this object, so
that new kinds of data (interventional regimes, categorical columns) arrive
through it without changing the learners' signatures.

Regimes (:mod:`dagforge.regimes`): :meth:`Dataset.with_regimes` checks a label per row
and the targets of each regime; the learners fit interventional data by leaving an
intervened variable's own mechanism out of the rows where it was intervened on (or, for
soft interventions, giving it its own parameters there). Continuous columns only so
far: a learner that cannot use a dataset says so in one line
(:meth:`Dataset.require_continuous`).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from dagforge.errors import DataError

if TYPE_CHECKING:
    from dagforge.regimes import RegimeMoments

__all__ = ["Dataset", "VarType"]


class VarType(enum.StrEnum):
    """What kind of values a column holds."""

    CONTINUOUS = "continuous"
    BINARY = "binary"
    CATEGORICAL = "categorical"


@dataclass(frozen=True, eq=False)
class Dataset:
    """A checked data table.

    Attributes
    ----------
    values : ndarray of shape (n, d), float64
        One row per sample, one column per variable.
    names : tuple of str
        Variable names, one per column.
    types : tuple of VarType
        Type of each column (default: all continuous).
    levels : tuple
        Per column, the names of its levels (a discrete column's values are the codes
        ``0 .. k-1``), or None for a continuous column.
    regimes : ndarray of shape (n,), optional
        Regime label of each row (None: every row is observational).
    targets : mapping, optional
        Regime label -> the names of the variables intervened on in it (an empty
        tuple: observational); required with ``regimes``. Build both with
        :meth:`with_regimes`, which checks them.
    """

    values: np.ndarray
    names: tuple[str, ...]
    types: tuple[VarType, ...] = ()
    levels: tuple[tuple[str, ...] | None, ...] = ()
    regimes: np.ndarray | None = None
    targets: Mapping[Any, tuple[str, ...]] | None = field(default=None)

    def __post_init__(self) -> None:
        n, d = self.values.shape
        if len(self.names) != d:
            raise DataError(f"dataset: {len(self.names)} names for {d} columns")
        if not self.types:
            object.__setattr__(self, "types", (VarType.CONTINUOUS,) * d)
        elif len(self.types) != d:
            raise DataError(f"dataset: {len(self.types)} column types for {d} columns")
        if not self.levels:
            object.__setattr__(self, "levels", tuple(
                None if t is VarType.CONTINUOUS
                else tuple(str(v) for v in np.unique(self.values[:, j]).astype(int))
                for j, t in enumerate(self.types)))
        elif len(self.levels) != d:
            raise DataError(f"dataset: {len(self.levels)} level lists for {d} columns")
        if (self.regimes is None) != (self.targets is None):
            raise DataError("dataset: regime labels and targets come together")
        if self.regimes is not None and len(self.regimes) != n:
            raise DataError(f"dataset: {len(self.regimes)} regime labels for {n} rows")

    # ------------------------------------------------------------------ builders
    @classmethod
    def from_matrix(cls, X: Any, names: Sequence[str] | None = None,
                    types: Mapping[str, VarType | str] | Sequence[VarType | str] | None = None
                    ) -> Dataset:
        """Check an array or DataFrame and wrap it: column types inferred or given
        (``types``: a mapping name -> type, or one type per column), discrete columns
        encoded as codes (:func:`dagforge.datasets.validation.check_table`)."""
        from dagforge.datasets.validation import check_table

        if types is not None and not isinstance(types, Mapping):
            given = list(types)
            col_names = (list(names) if names is not None else
                         [str(c) for c in X.columns] if hasattr(X, "columns") else
                         [f"x{j}" for j in range(np.shape(X)[1])])
            if len(given) != len(col_names):
                raise DataError(f"dataset: {len(given)} column types for {len(col_names)} "
                                "columns")
            types = dict(zip(col_names, given, strict=True))
        values, checked, kinds, levels = check_table(X, names, types)
        return cls(values=values, names=tuple(checked), types=kinds, levels=levels)

    @property
    def discrete(self) -> bool:
        """Every column is binary or categorical."""
        return all(t is not VarType.CONTINUOUS for t in self.types)

    def cardinalities(self) -> np.ndarray:
        """Levels of each column (0 for a continuous one); shape (d,)."""
        return np.array([0 if lv is None else len(lv) for lv in self.levels])

    def with_regimes(self, regimes: Any, targets: Mapping[Any, Sequence[str]]) -> Dataset:
        """The same table with a regime label per row and the targets of each regime,
        checked (:func:`dagforge.regimes.check_regimes`: labels compare as text)."""
        from dagforge.regimes import check_regimes

        labels, checked = check_regimes(regimes, targets, self.names, self.n)
        return replace(self, regimes=labels, targets=checked)

    def with_values(self, values: np.ndarray) -> Dataset:
        """The same variables and rows with other values (e.g. standardised)."""
        if values.shape != self.values.shape:
            raise DataError(f"dataset: values of shape {values.shape} for "
                            f"{self.values.shape}")
        return replace(self, values=values)

    def standardized(self) -> Dataset:
        """Every continuous column centred and scaled to unit variance (population sd);
        discrete columns keep their codes."""
        X = self.values
        if self.continuous:  # the whole matrix at once (the summation order users get)
            return self.with_values((X - X.mean(axis=0)) / X.std(axis=0))
        cont = np.array([t is VarType.CONTINUOUS for t in self.types])
        Z = X.copy()
        Z[:, cont] = (X[:, cont] - X[:, cont].mean(axis=0)) / X[:, cont].std(axis=0)
        return self.with_values(Z)

    def rows(self, index: np.ndarray) -> Dataset:
        """The rows ``index`` (e.g. a bootstrap resample), regime labels kept."""
        regimes = None if self.regimes is None else self.regimes[index]
        return replace(self, values=self.values[index], regimes=regimes)

    # ------------------------------------------------------------------ views
    @property
    def n(self) -> int:
        """Number of rows."""
        return int(self.values.shape[0])

    @property
    def d(self) -> int:
        """Number of variables."""
        return int(self.values.shape[1])

    @property
    def observational(self) -> bool:
        """No row comes from an intervention."""
        return self.regimes is None or not any(self.targets.values())  # type: ignore[union-attr]

    @property
    def continuous(self) -> bool:
        """Every column is continuous."""
        return all(t is VarType.CONTINUOUS for t in self.types)

    def intervened(self) -> np.ndarray | None:
        """``M[r, j]``: variable ``j`` is intervened on in row ``r``'s regime, bool (n, d);
        None for observational data."""
        if self.observational:
            return None
        from dagforge.regimes import target_mask

        return target_mask(self.regimes, self.targets, self.names)  # type: ignore[arg-type]

    def regime_moments(self) -> RegimeMoments:
        """Counts, means and scatter matrices per regime (one regime if observational)."""
        from dagforge.regimes import RegimeMoments

        if self.regimes is None or self.targets is None:
            return RegimeMoments.from_rows(self.values, np.full(self.n, "all", dtype=object),
                                           {"all": ()}, self.names)
        return RegimeMoments.from_rows(self.values, self.regimes, self.targets, self.names)

    def require_continuous(self, who: str) -> None:
        """One-line DataError unless every column is continuous."""
        if not self.continuous:
            other = [f"{n} ({t})" for n, t in zip(self.names, self.types, strict=True)
                     if t is not VarType.CONTINUOUS]
            raise DataError(f"{who} fits continuous columns only; not continuous: "
                            f"{', '.join(other)}")

    def require_observational_continuous(self, who: str) -> None:
        """One-line DataError unless every column is continuous and no row is interventional."""
        self.require_continuous(who)
        if not self.observational:
            raise DataError(f"{who} fits observational data only; the data have "
                            "interventional regimes")
