"""Reading delimited text (optionally compressed) and Parquet files into DataFrames.

Raw column names are returned beside the data (pandas would rename duplicates),
and a caller's ``check_header`` sees them before any data is read, so a file
that is too wide or badly named is refused at once.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import lzma
import re
import warnings
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import pandas as pd

from dagforge.datasets.validation import one_line
from dagforge.errors import DataError

__all__ = ["read_frame"]

_TEXT = {".csv": ",", ".tsv": "\t", ".txt": None}  # None: sniff the separator
_PARQUET = {".parquet", ".pq"}
_COMPRESSION = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}


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
        raise DataError(f"{path}: cannot read as UTF-8 text: {one_line(str(e))}") from e
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
        raise DataError(f"{path}: cannot parse the file: {one_line(str(e))}") from e
    return header, df


def _read_parquet(path: Path, check_header: Callable[[list[str]], None]
                  ) -> tuple[list[str], pd.DataFrame]:
    """Raw column names and the data of a Parquet file (pandas index columns dropped);
    ``check_header`` sees the names before the data is read."""
    from dagforge.extras import require

    require("parquet", "pyarrow", "reading a Parquet file")
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
        raise DataError(f"{path}: cannot read as Parquet: {one_line(str(e))}") from e
    df = table.to_pandas(ignore_metadata=True)
    return header, df


def read_frame(p: Path, check_header: Callable[[list[str]], None]
               ) -> tuple[list[str], pd.DataFrame]:
    """Raw header and data of the file ``p``, by its suffix (see
    :mod:`dagforge.datasets.tables` for the supported types)."""
    fmt, compression = _split_suffix(p)
    if fmt in _PARQUET and compression is None:
        return _read_parquet(p, check_header)
    if fmt in _TEXT:
        sep = _TEXT[fmt] or _sniff_separator(p, compression)
        return _read_text(p, sep, compression, check_header)
    raise DataError(
        f"{p}: unsupported file type {''.join(p.suffixes) or '(none)'!r}; use .csv, .tsv, "
        ".txt (optionally .gz/.bz2/.xz) or .parquet"
    )
