"""Missing values in a table read from a file: an error, or their rows dropped."""

from __future__ import annotations

import logging
from typing import Literal

import pandas as pd

from dagforge.errors import DataError

__all__ = ["MissingPolicy", "drop_missing"]

logger = logging.getLogger(__name__)

#: What :func:`~dagforge.datasets.load_table` does with a missing value: raise (the
#: matrix check names the columns) or drop its row.
MissingPolicy = Literal["error", "drop"]


def drop_missing(df: pd.DataFrame, missing: MissingPolicy, source: str
                 ) -> tuple[pd.DataFrame, int]:
    """``df`` without its incomplete rows if ``missing == "drop"`` (else unchanged), and
    how many rows were dropped; dropping every row is a :class:`DataError`."""
    if missing not in ("error", "drop"):
        raise DataError(f"missing must be 'error' or 'drop', got {missing!r}")
    if missing == "error":
        return df, 0
    incomplete = df.isna().to_numpy().any(axis=1)
    n_dropped = int(incomplete.sum())
    if n_dropped == df.shape[0]:
        raise DataError(f"{source}: every row has a missing value; nothing left after dropping")
    if n_dropped:
        df = df.loc[~incomplete]
        logger.info("%s: dropped %d of %d rows with missing values", source, n_dropped,
                    n_dropped + df.shape[0])
    return df, n_dropped
