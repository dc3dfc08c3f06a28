"""Checking an in-memory data matrix: the rules of :mod:`dagforge.datasets.tables`.

:func:`check_matrix` applies them to arrays and DataFrames; :func:`load_table`
(:mod:`dagforge.datasets.tables`) reads a file and applies the same rules, with
the helpers here for its messages.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from dagforge.errors import DataError
from dagforge.graph import default_names

__all__ = ["MAX_VARIABLES", "MIN_COLUMNS", "MIN_ROWS", "check_matrix", "check_table"]

MIN_COLUMNS = 2
"""A structure needs at least two variables."""
MIN_ROWS = 3
"""Fewer samples than this cannot support any estimate."""
MAX_VARIABLES = 1000
"""More variables than this are refused (dense ``d x d`` weights, ``O(d^3)`` steps)."""
MAX_NAMED = 8
"""At most this many offending columns are named in a message."""


def one_line(text: str) -> str:
    """Collapse an exception text to one line."""
    return " ".join(str(text).split())


def quote_list(items: Sequence[str], limit: int = MAX_NAMED) -> str:
    """``'a', 'b', 'c'`` with at most ``limit`` items, then ``and N more``."""
    shown = ", ".join(repr(str(x)) for x in items[:limit])
    return shown if len(items) <= limit else f"{shown} and {len(items) - limit} more"


def duplicates(names: Sequence[str]) -> list[str]:
    """The names that occur more than once, each once, in order of first repetition."""
    seen: set[str] = set()
    dups: dict[str, None] = {}
    for name in names:
        if name in seen:
            dups.setdefault(name)
        seen.add(name)
    return list(dups)


def check_names(names: Sequence[str], source: str) -> None:
    """Refuse empty or duplicate column names, naming them."""
    empty = [k + 1 for k, name in enumerate(names) if not name.strip()]
    if empty:
        raise DataError(
            f"{source}: empty column name at position {', '.join(map(str, empty[:MAX_NAMED]))} "
            "(an unnamed index column written by pandas or R?)"
        )
    dups = duplicates(names)
    if dups:
        raise DataError(f"{source}: duplicate column names {quote_list(dups)}")


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
        shown = ", ".join(bad[:MAX_NAMED]) + (
            f" and {len(bad) - MAX_NAMED} more" if len(bad) > MAX_NAMED else ""
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
    """``'a' (3), 'c' (1)``: the columns with a non-zero count, at most :data:`MAX_NAMED`."""
    idx = np.flatnonzero(counts)
    parts = [f"{names[i]!r} ({int(counts[i])})" for i in idx[:MAX_NAMED]]
    more = f" and {idx.size - MAX_NAMED} more" if idx.size > MAX_NAMED else ""
    return ", ".join(parts) + more


def check_width(d: int, source: str) -> None:
    """Refuse more than :data:`MAX_VARIABLES` variables (cheap: before reading any data)."""
    if d > MAX_VARIABLES:
        raise DataError(
            f"{source}: {d} columns (variables); dagforge learns graphs of at most "
            f"{MAX_VARIABLES} variables; choose some with --columns (columns=)"
        )


def _check_shape(n: int, d: int, source: str) -> None:
    if d < MIN_COLUMNS:
        raise DataError(f"{source}: needs at least {MIN_COLUMNS} columns (variables), got {d}")
    check_width(d, source)
    if n < MIN_ROWS:
        raise DataError(f"{source}: needs at least {MIN_ROWS} rows (samples), got {n}")


def _check_finite(n_nan: np.ndarray, n_inf: np.ndarray, names: Sequence[str],
                  source: str) -> None:
    if n_nan.any() or n_inf.any():
        parts = []
        if n_nan.any():
            parts.append(f"{int(n_nan.sum())} missing/NaN in {_per_column(n_nan, names)}")
        if n_inf.any():
            parts.append(f"{int(n_inf.sum())} infinite in {_per_column(n_inf, names)}")
        raise DataError(
            f"{source}: non-finite values: {'; '.join(parts)}; remove or replace them first"
        )


def _check_values(X: np.ndarray, names: Sequence[str], source: str) -> None:
    """Shape, finiteness and non-constancy checks on a float matrix."""
    n, d = X.shape
    _check_shape(n, d, source)
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
            f"{source}: constant columns {quote_list([names[i] for i in const])} "
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


def check_table(
    X: Any, names: Sequence[str] | None = None, types: Mapping[str, Any] | None = None,
    source: str = "data",
) -> tuple[np.ndarray, list[str], tuple[Any, ...], tuple[tuple[str, ...] | None, ...]]:
    """Check a data table whose columns may be discrete: ``(values, names, types,
    levels)``, discrete columns encoded as codes (:mod:`dagforge.datasets.types`), then
    the checks of :func:`check_matrix` on the values.

    ``types`` maps column names to ``"continuous"``, ``"binary"`` or ``"categorical"``;
    unnamed columns get their inferred type.
    """
    from dagforge.datasets.types import encode_columns

    if isinstance(X, pd.DataFrame):
        final = _resolve_names(names, [str(c) for c in X.columns], X.shape[1], source)
        frame = X.set_axis(final, axis=1)
    else:
        arr = np.asarray(X)
        if arr.ndim != 2:
            raise DataError(
                f"{source}: needs a 2-D table (n samples x d variables), got {arr.ndim}-D "
                f"with shape {arr.shape}"
            )
        final = _resolve_names(names, default_names(arr.shape[1]), arr.shape[1], source)
        frame = pd.DataFrame(arr, columns=final)
    _check_shape(frame.shape[0], frame.shape[1], source)
    numeric = frame.apply(lambda c: pd.to_numeric(c, errors="coerce")
                          if pd.api.types.is_numeric_dtype(c.dtype) else
                          pd.Series(0.0, index=c.index))
    _check_finite(frame.isna().sum().to_numpy(), np.isinf(numeric.to_numpy(float)).sum(axis=0),
                  final, source)
    values, kinds, levels = encode_columns(frame, types, source)
    values = np.ascontiguousarray(values, dtype=np.float64)
    _check_values(values, final, source)
    return values, final, kinds, levels


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
    check_names(final, source)
    return final
