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
* every column numeric (booleans count as 0/1);
* no missing (NaN) or infinite values (:func:`load_table` can drop the rows with
  missing values instead: ``missing="drop"``);
* no constant column (it carries no information and breaks standardisation).

Supported files: ``.csv``, ``.tsv``, ``.txt`` (tab-, comma- or
whitespace-separated, told apart from the first line), each optionally
compressed (``.gz``, ``.bz2``, ``.xz``), and ``.parquet`` / ``.pq``. Text files
have a header row of column names and are read as UTF-8.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import logging
import lzma
import os
import re
import warnings
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal

import numpy as np
import pandas as pd

from dagforge.errors import DataError
from dagforge.graph import default_names

__all__ = ["MAX_VARIABLES", "MIN_COLUMNS", "MIN_ROWS", "Table", "check_matrix", "load_table"]

logger = logging.getLogger(__name__)

MIN_COLUMNS = 2
"""A structure needs at least two variables."""
MIN_ROWS = 3
"""Fewer samples than this cannot support any estimate."""
MAX_VARIABLES = 1000
"""More variables than this are refused (dense ``d x d`` weights, ``O(d^3)`` steps)."""

_TEXT = {".csv": ",", ".tsv": "\t", ".txt": None}  # None: sniff the separator
_PARQUET = {".parquet", ".pq"}
_COMPRESSION = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}
_MAX_NAMED = 8


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
    """

    X: np.ndarray
    names: list[str]
    path: Path
    n_dropped: int = 0

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


# --------------------------------------------------------------------------- messages


def _one_line(text: str) -> str:
    """Collapse an exception text to one line."""
    return " ".join(str(text).split())


def _quote_list(items: Sequence[str], limit: int = _MAX_NAMED) -> str:
    """``'a', 'b', 'c'`` with at most ``limit`` items, then ``and N more``."""
    shown = ", ".join(repr(str(x)) for x in items[:limit])
    return shown if len(items) <= limit else f"{shown} and {len(items) - limit} more"


def _duplicates(names: Sequence[str]) -> list[str]:
    seen: set[str] = set()
    dups: dict[str, None] = {}
    for name in names:
        if name in seen:
            dups.setdefault(name)
        seen.add(name)
    return list(dups)


def _check_names(names: Sequence[str], source: str) -> None:
    empty = [k + 1 for k, name in enumerate(names) if not name.strip()]
    if empty:
        raise DataError(
            f"{source}: empty column name at position {', '.join(map(str, empty[:_MAX_NAMED]))} "
            "(an unnamed index column written by pandas or R?)"
        )
    dups = _duplicates(names)
    if dups:
        raise DataError(f"{source}: duplicate column names {_quote_list(dups)}")


# --------------------------------------------------------------------------- checks


def _frame_to_float(df: pd.DataFrame, source: str) -> np.ndarray:
    """Convert every column to float64, or raise naming the non-numeric columns."""
    columns: list[np.ndarray] = []
    bad: list[str] = []
    for k in range(df.shape[1]):
        col = df.iloc[:, k]
        name = str(df.columns[k])
        values = _column_to_float(col)
        if values is None:
            example = _non_numeric_example(col)
            bad.append(f"{name!r} ({example})")
        else:
            columns.append(values)
    if bad:
        shown = ", ".join(bad[:_MAX_NAMED]) + (
            f" and {len(bad) - _MAX_NAMED} more" if len(bad) > _MAX_NAMED else ""
        )
        raise DataError(f"{source}: non-numeric columns {shown}; all columns must be numbers")
    if not columns:
        return np.empty((df.shape[0], 0))
    return np.column_stack(columns)


def _column_to_float(col: pd.Series) -> np.ndarray | None:
    """The column as float64 (missing -> NaN), or ``None`` if it is not numeric."""
    dtype = col.dtype
    if pd.api.types.is_bool_dtype(dtype) or (
        pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(dtype)
    ):
        return col.to_numpy(dtype=np.float64, na_value=np.nan)
    if isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_datetime64_any_dtype(dtype):
        return None
    if pd.api.types.is_timedelta64_dtype(dtype) or pd.api.types.is_complex_dtype(dtype):
        return None
    # object / string columns: accept only if every present value is a number
    converted = pd.to_numeric(col, errors="coerce")
    if (converted.isna() & col.notna()).any():
        return None
    return converted.to_numpy(dtype=np.float64, na_value=np.nan)


def _non_numeric_example(col: pd.Series) -> str:
    """A short reason why ``col`` is not numeric: an offending value, or the dtype."""
    if col.dtype == object or pd.api.types.is_string_dtype(col.dtype):
        bad = col[pd.to_numeric(col, errors="coerce").isna() & col.notna()]
        if len(bad):
            value = str(bad.iloc[0])
            return f"e.g. {value if len(value) <= 20 else value[:17] + '...'!r}"
    return f"dtype {col.dtype}"


def _per_column(counts: np.ndarray, names: Sequence[str]) -> str:
    idx = np.flatnonzero(counts)
    parts = [f"{names[i]!r} ({int(counts[i])})" for i in idx[:_MAX_NAMED]]
    more = f" and {idx.size - _MAX_NAMED} more" if idx.size > _MAX_NAMED else ""
    return ", ".join(parts) + more


def _check_width(d: int, source: str) -> None:
    """Refuse more than :data:`MAX_VARIABLES` variables (cheap: before reading any data)."""
    if d > MAX_VARIABLES:
        raise DataError(
            f"{source}: {d} columns (variables); dagforge learns graphs of at most "
            f"{MAX_VARIABLES} variables; choose some with --columns (columns=)"
        )


def _check_values(X: np.ndarray, names: Sequence[str], source: str) -> None:
    """Shape, finiteness and non-constancy checks on a float matrix."""
    n, d = X.shape
    if d < MIN_COLUMNS:
        raise DataError(f"{source}: needs at least {MIN_COLUMNS} columns (variables), got {d}")
    _check_width(d, source)
    if n < MIN_ROWS:
        raise DataError(f"{source}: needs at least {MIN_ROWS} rows (samples), got {n}")
    n_nan = np.isnan(X).sum(axis=0)
    n_inf = np.isinf(X).sum(axis=0)
    if n_nan.any() or n_inf.any():
        parts = []
        if n_nan.any():
            parts.append(f"{int(n_nan.sum())} missing/NaN in {_per_column(n_nan, names)}")
        if n_inf.any():
            parts.append(f"{int(n_inf.sum())} infinite in {_per_column(n_inf, names)}")
        raise DataError(
            f"{source}: non-finite values: {'; '.join(parts)}; remove or replace them first"
        )
    const = np.flatnonzero(np.all(X == X[0], axis=0))
    if const.size:
        raise DataError(
            f"{source}: constant columns {_quote_list([names[i] for i in const])} "
            "carry no information; drop them"
        )


def check_matrix(
    X: Any, names: Sequence[str] | None = None, source: str = "data"
) -> tuple[np.ndarray, list[str]]:
    """Check an in-memory data matrix and return it as ``(float64 array, names)``.

    Applies the rules of this module (see the module docstring) to a numpy
    array, a pandas DataFrame or anything :func:`numpy.asarray` accepts.

    Parameters
    ----------
    X : array-like of shape (n, d) or DataFrame
        The data, one row per sample, one column per variable.
    names : sequence of str, optional
        Column names; default: the DataFrame's columns, or ``x0 .. x{d-1}``.
    source : str
        What to call the data in error messages (e.g. a file name).

    Returns
    -------
    X : ndarray of shape (n, d), float64
        A new C-contiguous array (the input is never modified).
    names : list of str

    Raises
    ------
    DataError
        With a one-line message naming the problem and the offending columns.
    """
    if isinstance(X, pd.DataFrame):
        final = _resolve_names(names, [str(c) for c in X.columns], X.shape[1], source)
        out = _frame_to_float(X.set_axis(final, axis=1), source)
    else:
        arr = np.asarray(X)
        if arr.ndim != 2:
            raise DataError(
                f"{source}: needs a 2-D table (n samples x d variables), got {arr.ndim}-D "
                f"with shape {arr.shape}"
            )
        final = _resolve_names(names, default_names(arr.shape[1]), arr.shape[1], source)
        if arr.dtype.kind in "biuf":
            out = np.array(arr, dtype=np.float64, copy=True)
        else:  # object, strings, complex, ...: per column, naming the bad ones
            out = _frame_to_float(pd.DataFrame(arr, columns=final), source)
    out = np.ascontiguousarray(out, dtype=np.float64)
    _check_values(out, final, source)
    return out, final


def _resolve_names(
    names: Sequence[str] | None, default: list[str], d: int, source: str
) -> list[str]:
    """The caller's ``names`` (checked against ``d``) or ``default``; unique and non-empty."""
    if names is None:
        final = default
    elif isinstance(names, str):
        raise DataError(f"{source}: names must be a sequence of strings, not one string")
    else:
        final = [str(x) for x in names]
        if len(final) != d:
            raise DataError(f"{source}: {len(final)} names given for {d} columns")
    _check_names(final, source)
    return final


# --------------------------------------------------------------------------- files


def _split_suffix(path: Path) -> tuple[str, str | None]:
    """(format suffix, compression suffix or None), both lower case."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in _COMPRESSION:
        return (suffixes[-2] if len(suffixes) > 1 else ""), suffixes[-1]
    return (suffixes[-1] if suffixes else ""), None


def _open_text(path: Path, compression: str | None) -> IO[str]:
    if compression is None:
        return open(path, encoding="utf-8-sig")  # closed by the caller
    return _COMPRESSION[compression](path, "rt", encoding="utf-8-sig")


def _sniff_separator(path: Path, compression: str | None) -> str:
    """Tab if the first non-empty line has a tab, else comma if it has one, else whitespace."""
    try:
        with _open_text(path, compression) as fh:
            line = next((ln for ln in fh if ln.strip()), "")
    except (UnicodeDecodeError, OSError, EOFError, lzma.LZMAError, zlib.error) as e:
        raise DataError(f"{path}: cannot read as UTF-8 text: {_one_line(str(e))}") from e
    if "\t" in line:
        return "\t"
    return "," if "," in line else r"\s+"


def _short_row(path: Path, compression: str | None, sep: str, n_fields: int
               ) -> tuple[int, int] | None:
    """(line number, fields) of the first non-blank row with fewer than ``n_fields``
    fields, or None. pandas pads such rows with NaN; a truncated row is not a missing value.
    """
    with _open_text(path, compression) as fh:
        if sep == r"\s+":
            rows: Any = ((k, line.split()) for k, line in enumerate(fh, 1))
        else:
            reader = csv.reader(fh, delimiter=sep, skipinitialspace=True)
            rows = ((reader.line_num, row) for row in reader)
        for line, row in rows:
            if row and len(row) < n_fields and any(f.strip() for f in row):
                return line, len(row)
    return None


_TOKENIZING = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


def _read_text(path: Path, sep: str, compression: str | None,
               check_header: Callable[[list[str]], None]) -> tuple[list[str], pd.DataFrame]:
    """Raw header (pandas would rename duplicates) and the data of a delimited text file;
    ``check_header`` sees the header before the data is read."""
    options: dict[str, Any] = {"sep": sep, "encoding": "utf-8-sig", "skipinitialspace": True}
    try:
        head = pd.read_csv(path, header=None, nrows=1, dtype=str, keep_default_na=False, **options)
        header = [str(h).strip() for h in head.iloc[0].tolist()]
        check_header(header)
        with warnings.catch_warnings():
            # rows longer than the header: an error, never a silent index column
            warnings.simplefilter("error", pd.errors.ParserWarning)
            df = pd.read_csv(path, header=0, index_col=False, **options)
        if df.isna().to_numpy().any():  # rare: only then look for rows cut short
            short = _short_row(path, compression, sep, len(header))
            if short is not None:
                raise DataError(f"{path}: line {short[0]} has {short[1]} fields, the header "
                                f"has {len(header)} (a ragged or truncated row)")
    except DataError:
        raise
    except pd.errors.EmptyDataError as e:
        raise DataError(f"{path}: file is empty") from e
    except pd.errors.ParserWarning as e:
        raise DataError(
            f"{path}: some rows have more fields than the header ({len(header)} names)"
        ) from e
    except UnicodeDecodeError as e:
        raise DataError(
            f"{path}: not UTF-8 text (byte {e.object[e.start : e.start + 1]!r} at position "
            f"{e.start}); save it as UTF-8"
        ) from e
    except (pd.errors.ParserError, ValueError, OSError, EOFError, csv.Error, lzma.LZMAError,
            zlib.error) as e:
        ragged = _TOKENIZING.search(str(e))
        if ragged is not None:
            expected, line, saw = ragged.groups()
            raise DataError(f"{path}: line {line} has {saw} fields, the header has {expected} "
                            "(a ragged row)") from e
        raise DataError(f"{path}: cannot parse the file: {_one_line(str(e))}") from e
    return header, df


def _read_parquet(path: Path, check_header: Callable[[list[str]], None]
                  ) -> tuple[list[str], pd.DataFrame]:
    """Raw column names and the data of a Parquet file (pandas index columns dropped);
    ``check_header`` sees the names before the data is read."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        # page checksums, where the writer stored them, catch damaged data pages
        with pq.ParquetFile(path, page_checksum_verification=True) as pfile:
            schema = pfile.schema_arrow
            meta = schema.pandas_metadata or {}
            index_cols = {c for c in meta.get("index_columns", []) if isinstance(c, str)}
            header = [str(c) for c in schema.names if c not in index_cols]
            check_header(header)  # before reading: duplicates break pyarrow
            table = pfile.read(columns=header)
    except DataError:
        raise
    except (pa.ArrowException, OSError) as e:
        raise DataError(f"{path}: cannot read as Parquet: {_one_line(str(e))}") from e
    df = table.to_pandas(ignore_metadata=True)
    return header, df


def load_table(path: str | os.PathLike[str], columns: Sequence[str] | None = None,
               missing: Literal["error", "drop"] = "error") -> Table:
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
    fmt, compression = _split_suffix(p)

    def check_header(header: list[str]) -> None:
        _check_names(header, str(p))
        _check_width(len(header) if columns is None else len(columns), str(p))

    if fmt in _PARQUET and compression is None:
        header, df = _read_parquet(p, check_header)
    elif fmt in _TEXT:
        sep = _TEXT[fmt] or _sniff_separator(p, compression)
        header, df = _read_text(p, sep, compression, check_header)
    else:
        raise DataError(
            f"{p}: unsupported file type {''.join(p.suffixes) or '(none)'!r}; use .csv, .tsv, "
            ".txt (optionally .gz/.bz2/.xz) or .parquet"
        )
    _check_names(header, str(p))
    if len(header) != df.shape[1]:
        raise DataError(f"{p}: header has {len(header)} names but rows have {df.shape[1]} fields")
    df = df.set_axis(header, axis=1)
    if df.shape[0] == 0:
        raise DataError(f"{p}: no data rows (only a header)")
    if columns is not None:
        df = _select(df, columns, str(p))
    if missing not in ("error", "drop"):
        raise DataError(f"missing must be 'error' or 'drop', got {missing!r}")
    n_dropped = 0
    if missing == "drop":
        incomplete = df.isna().to_numpy().any(axis=1)
        n_dropped = int(incomplete.sum())
        if n_dropped == df.shape[0]:
            raise DataError(f"{p}: every row has a missing value; nothing left after dropping")
        if n_dropped:
            df = df.loc[~incomplete]
            logger.info("%s: dropped %d of %d rows with missing values", p, n_dropped,
                        n_dropped + df.shape[0])
    X, names = check_matrix(df, source=str(p))
    logger.info("loaded %s: %d rows x %d columns", p, X.shape[0], X.shape[1])
    if X.shape[0] < X.shape[1]:
        logger.warning("%s: fewer rows (%d) than variables (%d): the graph is poorly "
                       "determined by the data", p, X.shape[0], X.shape[1])
    return Table(X=X, names=names, path=p, n_dropped=n_dropped)


def _select(df: pd.DataFrame, columns: Sequence[str], source: str) -> pd.DataFrame:
    if isinstance(columns, str):
        raise DataError(f"{source}: columns must be a list of names, not one string {columns!r}")
    wanted = [str(c) for c in columns]
    dups = _duplicates(wanted)
    if dups:
        raise DataError(f"{source}: columns {_quote_list(dups)} requested more than once")
    unknown = [c for c in wanted if c not in df.columns]
    if unknown:
        raise DataError(
            f"{source}: unknown columns {_quote_list(unknown)}; the file has "
            f"{_quote_list([str(c) for c in df.columns])}"
        )
    return df[wanted]
