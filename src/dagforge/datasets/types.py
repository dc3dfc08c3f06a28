"""Column types of a data table: inferred, or set by the user, checked and encoded.

A column is *continuous*, *binary* or *categorical* (:class:`dagforge.data.VarType`).
Inferred from the table: text, pandas ``category`` columns are categorical, ``bool``
columns and numeric columns with exactly two distinct values (each seen at least twice)
are binary, other numeric columns continuous. ``types`` (a mapping name -> type)
overrides the inference for the
columns it names. Ordinal columns are categorical: their order is not used.

Binary and categorical columns are stored as integer codes ``0 .. k-1`` (as float64, in
the data matrix), their level names kept beside them: numbers in numeric order, text in
alphabetical order, a pandas category in its own order.

One-line :class:`~dagforge.errors.DataError` for: a discrete column with one level, a
categorical column with more than :data:`MAX_LEVELS` levels, a level seen in one row
only, a binary column with more than two values, and a continuous column forced on
text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from dagforge.data import VarType
from dagforge.errors import DataError

__all__ = ["MAX_LEVELS", "encode_columns", "infer_type"]

#: Levels a categorical column may have: a child with ``k`` levels and parents with ``q``
#: joint configurations has ``(k - 1) q`` parameters, so past 20 levels even one parent
#: of the same size asks for ~400 cells per configuration of the rest, more than the
#: tables people fit have rows for; recode such a column or declare it continuous.
MAX_LEVELS = 20


def _is_text(col: pd.Series) -> bool:
    if isinstance(col.dtype, pd.CategoricalDtype):
        return True
    if pd.api.types.is_bool_dtype(col.dtype) or pd.api.types.is_numeric_dtype(col.dtype):
        return False
    converted = pd.to_numeric(col, errors="coerce")
    return bool((converted.isna() & col.notna()).any())


def infer_type(col: pd.Series) -> VarType:
    """The type a column gets unless one is set (module docstring): a numeric column is
    binary only if both its values are seen at least twice (a value seen once is more
    likely an odd measurement than a level)."""
    if _is_text(col):
        return VarType.CATEGORICAL
    if pd.api.types.is_bool_dtype(col.dtype):
        return VarType.BINARY
    counts = col.value_counts()
    if len(counts) == 2 and counts.min() >= 2:
        return VarType.BINARY
    return VarType.CONTINUOUS


def _levels(col: pd.Series) -> list[Any]:
    """The distinct present values of ``col`` in their level order."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        present = set(col.dropna())
        return [c for c in col.cat.categories if c in present]
    values = pd.unique(col.dropna())
    numeric = pd.to_numeric(pd.Series(values), errors="coerce")
    if numeric.notna().all():
        return [values[k] for k in np.argsort(numeric.to_numpy(), kind="stable")]
    return sorted(values, key=str)


def _encode_discrete(col: pd.Series, kind: VarType, name: str, source: str
                     ) -> tuple[np.ndarray, tuple[str, ...]]:
    levels = _levels(col)
    if len(levels) < 2:
        raise DataError(f"{source}: {kind.value} column {name!r} has one level "
                        f"({str(levels[0]) if levels else 'none'!r}); it carries no "
                        "information: drop it")
    if kind is VarType.BINARY and len(levels) > 2:
        raise DataError(f"{source}: binary column {name!r} has {len(levels)} values; "
                        "declare it categorical")
    if len(levels) > MAX_LEVELS:
        raise DataError(f"{source}: categorical column {name!r} has {len(levels)} levels, "
                        f"more than {MAX_LEVELS} (its parameters would outnumber the rows); "
                        "merge levels or declare it continuous")
    raw = pd.Categorical(col, categories=levels).codes  # [n], -1 where missing
    codes = np.where(raw < 0, np.nan, raw).astype(float)
    counts = np.bincount(codes[~np.isnan(codes)].astype(int), minlength=len(levels))
    once = [str(levels[k]) for k in np.flatnonzero(counts == 1)]
    if once:
        raise DataError(f"{source}: level {once[0]!r} of {name!r} appears in one row only; "
                        "its effect cannot be estimated: merge it with another level or "
                        "drop the row")
    return codes, tuple(str(v) for v in levels)


def encode_columns(df: pd.DataFrame, types: Mapping[str, VarType | str] | None = None,
                   source: str = "data"
                   ) -> tuple[np.ndarray, tuple[VarType, ...], tuple[tuple[str, ...] | None, ...]]:
    """The table as float64 values (discrete columns as codes), a type per column and
    the level names of each discrete column (None for continuous ones).

    Raises
    ------
    DataError
        A type for an unknown column or of an unknown kind, or one of the module
        docstring's problems.
    """
    given = dict(types or {})
    unknown = [k for k in given if k not in set(map(str, df.columns))]
    if unknown:
        raise DataError(f"{source}: types name unknown column(s) "
                        f"{', '.join(map(repr, unknown))}")
    columns, kinds, levels = [], [], []
    for name in df.columns:
        col = df[name]
        try:
            kind = VarType(given[str(name)]) if str(name) in given else infer_type(col)
        except ValueError:
            raise DataError(f"{source}: unknown type {given[str(name)]!r} for {name!r}; "
                            f"choose one of {[t.value for t in VarType]}") from None
        if kind is VarType.CONTINUOUS:
            if _is_text(col):
                example = col[pd.to_numeric(col, errors="coerce").isna() & col.notna()]
                raise DataError(f"{source}: column {name!r} holds text (e.g. "
                                f"{str(example.iloc[0])[:20]!r}); it cannot be continuous")
            columns.append(pd.to_numeric(col).to_numpy(dtype=float, na_value=np.nan))
            levels.append(None)
        else:
            codes, names = _encode_discrete(col, kind, str(name), source)
            columns.append(codes)
            levels.append(names)
        kinds.append(kind)
    values = np.column_stack(columns) if columns else np.empty((len(df), 0))
    return values, tuple(kinds), tuple(levels)


def type_names(types: Sequence[VarType]) -> dict[str, int]:
    """How many columns of each type: ``{"continuous": 3, "binary": 1}``."""
    out: dict[str, int] = {}
    for t in types:
        out[t.value] = out.get(t.value, 0) + 1
    return out
