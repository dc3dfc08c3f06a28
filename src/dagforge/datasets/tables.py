"""Reading and checking user data tables: one place for the rules data must meet.

:func:`load_table` reads a file, :func:`check_matrix` checks an in-memory array
or DataFrame; both apply the same rules and raise
:class:`dagforge.errors.DataError` with a one-line message naming the problem
(and the offending columns) when the data cannot be used:

* at least 2 columns (variables) and 3 rows (samples), and at most
  :data:`MAX_VARIABLES` variables (the learners hold dense ``d x d`` matrices and
  the acyclicity terms cost ``O(d^3)`` per step: a wider table would run for days
  or run out of memory, so it is refused at once, from the header alone, before
  the data is read; pick variables with ``columns``);
* unique, non-empty column names;
* a type per column (:mod:`dagforge.datasets.types`): text and categorical columns
  are categorical, booleans and two-valued numbers binary, others continuous, unless
  ``types`` says otherwise; discrete columns are stored as codes;
* no missing (NaN) or infinite values (:func:`load_table` can drop the rows with
  missing values instead: ``missing="drop"``);
* no constant column (it carries no information and breaks standardisation).

Supported files: ``.csv``, ``.tsv``, ``.txt`` (tab-, comma- or
whitespace-separated, told apart from the first line), each optionally
compressed (``.gz``, ``.bz2``, ``.xz``), and ``.parquet`` / ``.pq``. Text files
have a header row of column names and are read as UTF-8.

The work is split by concept: :mod:`~dagforge.datasets.files` reads a file,
:mod:`~dagforge.datasets.missing` handles missing values,
:mod:`~dagforge.datasets.validation` checks the matrix (:func:`check_matrix`);
every name is importable from here as before.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from dagforge.datasets.files import read_frame
from dagforge.datasets.missing import MissingPolicy, drop_missing
from dagforge.datasets.validation import (
    MAX_VARIABLES,
    MIN_COLUMNS,
    MIN_ROWS,
    check_matrix,
    check_names,
    check_table,
    check_width,
    duplicates,
    quote_list,
)
from dagforge.errors import DataError

if TYPE_CHECKING:
    from dagforge.data import Dataset
from dagforge.regimes import as_label

__all__ = ["MAX_VARIABLES", "MIN_COLUMNS", "MIN_ROWS", "Table", "check_matrix", "load_table"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class Table:
    """A checked numeric data table.

    Attributes
    ----------
    X : ndarray of shape (n, d), float64
        The data, finite, no constant column.
    names : list of str
        Column names, unique, in file order (or the order of ``columns``).
    path : Path
        The file it was read from.
    n_dropped : int
        Rows left out because they had missing values (``missing="drop"``).
    regimes : ndarray of shape (n,), optional
        Each row's regime label (text), from the ``regime`` column.
    types, levels : tuple
        Each column's type and, for discrete ones, its level names (``X`` holds codes).
    """

    X: np.ndarray
    names: list[str]
    path: Path
    n_dropped: int = 0
    regimes: np.ndarray | None = None
    types: tuple = ()
    levels: tuple = ()

    def dataset(self) -> Dataset:
        """The table as a :class:`~dagforge.data.Dataset` (types and levels kept; regimes
        are added with their targets by :meth:`~dagforge.data.Dataset.with_regimes`)."""
        from dagforge.data import Dataset

        return Dataset(values=self.X, names=tuple(self.names), types=self.types,
                       levels=self.levels)

    @property
    def n(self) -> int:
        """Number of rows (samples)."""
        return int(self.X.shape[0])

    @property
    def d(self) -> int:
        """Number of columns (variables)."""
        return int(self.X.shape[1])

    def to_frame(self) -> pd.DataFrame:
        """The data as a DataFrame with columns ``names``."""
        return pd.DataFrame(self.X, columns=self.names)


def load_table(path: str | os.PathLike[str], columns: Sequence[str] | None = None,
               missing: MissingPolicy = "error", regime: str | None = None,
               types: Mapping[str, str] | None = None) -> Table:
    """Read a numeric data table from a CSV, TSV, text or Parquet file, and check it.

    Parameters
    ----------
    path : str or path-like
        ``.csv``, ``.tsv``, ``.txt`` (optionally ``.gz`` / ``.bz2`` / ``.xz``)
        or ``.parquet`` / ``.pq``. Text files need a header row.
    columns : sequence of str, optional
        Keep only these columns, in this order (the other columns are not
        checked, so a file may hold e.g. an ID column that is left out).
    missing : {"error", "drop"}
        A missing value (an empty field, ``NA``, ``NaN``, ...) in the used columns is
        an error, or its row is dropped (counted in :attr:`Table.n_dropped`).
    regime : str, optional
        A column holding each row's regime label (text or numbers, not a variable):
        read into :attr:`Table.regimes` and left out of the variables.
    types : mapping, optional
        Column name -> ``"continuous"``, ``"binary"`` or ``"categorical"``, over the
        inferred types.

    Returns
    -------
    Table

    Raises
    ------
    DataError
        One line naming the problem: missing file, a directory, an empty or
        unreadable file, unknown or duplicate names, non-numeric, NaN or
        infinite values, constant columns, too few columns or rows.
    """
    p = Path(path)
    if not p.exists():
        raise DataError(f"data file not found: {p}")
    if p.is_dir():
        raise DataError(f"data path is a directory, not a file: {p}")
    if p.stat().st_size == 0:
        raise DataError(f"{p}: file is empty")

    def check_header(header: list[str]) -> None:
        check_names(header, str(p))
        width = len(header) - (regime in header) if columns is None else len(columns)
        check_width(width, str(p))

    header, df = read_frame(p, check_header)
    check_names(header, str(p))
    if len(header) != df.shape[1]:
        raise DataError(f"{p}: header has {len(header)} names but rows have {df.shape[1]} fields")
    df = df.set_axis(header, axis=1)
    if df.shape[0] == 0:
        raise DataError(f"{p}: no data rows (only a header)")
    if regime is not None and regime not in df.columns:
        raise DataError(f"{p}: no regime column {regime!r}; the file has "
                        f"{quote_list([str(c) for c in df.columns])}")
    if columns is not None:
        df = _select(df, [*columns, *([regime] if regime and regime not in columns else [])],
                     str(p))
    df, n_dropped = drop_missing(df, missing, str(p))
    labels = None
    if regime is not None:
        labels = np.array([as_label(v) for v in df[regime]], dtype=object)
        df = df.drop(columns=[regime])
    X, names, kinds, levels = check_table(df, types=types, source=str(p))
    logger.info("loaded %s: %d rows x %d columns", p, X.shape[0], X.shape[1])
    if X.shape[0] < X.shape[1]:
        logger.warning("%s: fewer rows (%d) than variables (%d): the graph is poorly "
                       "determined by the data", p, X.shape[0], X.shape[1])
    return Table(X=X, names=names, path=p, n_dropped=n_dropped, regimes=labels, types=kinds,
                 levels=levels)


def _select(df: pd.DataFrame, columns: Sequence[str], source: str) -> pd.DataFrame:
    if isinstance(columns, str):
        raise DataError(f"{source}: columns must be a list of names, not one string {columns!r}")
    wanted = [str(c) for c in columns]
    dups = duplicates(wanted)
    if dups:
        raise DataError(f"{source}: columns {quote_list(dups)} requested more than once")
    unknown = [c for c in wanted if c not in df.columns]
    if unknown:
        raise DataError(
            f"{source}: unknown columns {quote_list(unknown)}; the file has "
            f"{quote_list([str(c) for c in df.columns])}"
        )
    return df[wanted]
