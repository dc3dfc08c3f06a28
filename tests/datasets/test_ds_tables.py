"""Tests for dagforge.datasets.tables: load_table and check_matrix."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dagforge.datasets import Table, check_matrix, load_table
from dagforge.errors import DataError

GOOD = pd.DataFrame({"a": [1.0, 2.0, 3.5, 4.0], "b": [0.5, -1.0, 2.0, 7.0], "c": [1, 0, 1, 1]})


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


# --------------------------------------------------------------------------- valid files


@pytest.mark.parametrize(
    ("name", "writer"),
    [
        ("data.csv", lambda df, p: df.to_csv(p, index=False)),
        ("data.tsv", lambda df, p: df.to_csv(p, index=False, sep="\t")),
        ("data.txt", lambda df, p: df.to_csv(p, index=False, sep="\t")),
        ("data.txt", lambda df, p: df.to_csv(p, index=False)),
        ("data.txt", lambda df, p: df.to_csv(p, index=False, sep=" ")),
        ("data.csv.gz", lambda df, p: df.to_csv(p, index=False)),
        ("data.parquet", lambda df, p: df.to_parquet(p)),
        ("data.pq", lambda df, p: df.to_parquet(p, index=False)),
    ],
)
def test_round_trip(tmp_path: Path, name: str, writer: Callable) -> None:
    p = tmp_path / name
    writer(GOOD, p)
    t = load_table(p)
    assert isinstance(t, Table)
    assert t.names == ["a", "b", "c"]
    assert t.X.dtype == np.float64 and t.X.shape == (4, 3) and (t.n, t.d) == (4, 3)
    np.testing.assert_array_equal(t.X, GOOD.to_numpy(dtype=float))
    assert t.path == p
    pd.testing.assert_frame_equal(t.to_frame(), GOOD.astype(float))


def test_parquet_with_named_index(tmp_path: Path) -> None:
    p = tmp_path / "idx.parquet"
    GOOD.set_axis(["r1", "r2", "r3", "r4"]).rename_axis("row").to_parquet(p)
    assert load_table(p).names == ["a", "b", "c"]


def test_columns_selects_and_orders(tmp_path: Path) -> None:
    p = _write(tmp_path, "ids.csv", "id,a,b,c\nx,1,2,3\ny,4,5,7\nz,6,8,9\n")
    t = load_table(p, columns=["c", "a"])
    assert t.names == ["c", "a"]
    np.testing.assert_array_equal(t.X[:, 0], [3, 7, 9])


def test_whitespace_and_bom_in_header(tmp_path: Path) -> None:
    p = tmp_path / "bom.csv"
    p.write_bytes("\ufeffa, b\n1, 2\n3, 4\n5, 7\n".encode())
    t = load_table(p)
    assert t.names == ["a", "b"]
    np.testing.assert_array_equal(t.X, [[1, 2], [3, 4], [5, 7]])


def test_booleans_are_binary_codes(tmp_path: Path) -> None:
    p = _write(tmp_path, "bool.csv", "a,b\nTrue,1\nFalse,2\nTrue,3\nFalse,5\n")
    table = load_table(p)
    np.testing.assert_array_equal(table.X[:, 0], [1, 0, 1, 0])
    assert table.types[0].value == "binary" and table.levels[0] == ("False", "True")


def test_text_columns_are_categorical_and_types_override(tmp_path: Path) -> None:
    p = _write(tmp_path, "t.csv", "a,colour,b\n1,red,2\n2,blue,3\n3,red,5\n4,blue,1\n"
                                  "5,green,0\n6,green,2\n")
    table = load_table(p)
    assert [t.value for t in table.types] == ["continuous", "categorical", "continuous"]
    assert table.levels[1] == ("blue", "green", "red")
    np.testing.assert_array_equal(table.X[:, 1], [2, 0, 2, 0, 1, 1])
    with pytest.raises(DataError, match="level '0' of 'b' appears in one row only"):
        forced = load_table(p, types={"b": "categorical"})
    paired = _write(tmp_path, "p.csv", "a,b\n1,2\n2,2\n3,5\n4,5\n")
    forced = load_table(paired, types={"b": "categorical"})
    assert forced.types[1].value == "categorical" and forced.levels[1] == ("2", "5")


# --------------------------------------------------------------------------- bad files


def _make_bad(kind: str, tmp_path: Path) -> tuple[Path, dict]:
    """A file (and load_table kwargs) exhibiting one kind of bad input."""
    csv = {
        "header only": "a,b,c\n",
        "text level seen once": "a,name,b\n1,x,2\n2,y,3\n3,x,5\n4,y,1\n5,z,0\n",
        "one level": "a,name,b\n1,x,2\n2,x,3\n3,x,5\n",
        "text forced continuous": "a,name,b\n1,x,2\n2,y,3\n3,x,5\n4,y,1\n",
        "binary with three values": "a,b\n1,2\n2,3\n3,5\n",
        "NaN": "a,b\n1,2\n,3\n4,nan\n5,6\n",
        "inf": "a,b\n1,inf\n2,3\n4,-inf\n5,6\n",
        "constant column": "a,b,c\n1,2,7\n3,2,8\n5,2,9\n",
        "duplicate names": "a,b,a\n1,2,3\n4,5,6\n7,8,0\n",
        "empty name": "a,,c\n1,2,3\n4,5,6\n7,8,0\n",
        "1 column": "a\n1\n2\n3\n",
        "2 rows": "a,b\n1,2\n3,4\n",
        "unknown columns name": "a,b\n1,2\n3,4\n5,7\n",
        "ragged rows": "a,b\n1,2\n3,4,5\n6,7\n",
        "extra fields everywhere": "a,b\n1,2,3\n4,5,6\n7,8,0\n",
        "blank lines only": "\n\n\n",
    }
    if kind == "missing file":
        return tmp_path / "nope.csv", {}
    if kind == "directory":
        d = tmp_path / "dir.csv"
        d.mkdir()
        return d, {}
    if kind == "empty file":
        return _write(tmp_path, "empty.csv", ""), {}
    if kind == "garbled bytes":
        p = tmp_path / "garbled.csv"
        p.write_bytes(b"\xff\xfe\x00\x81\x9f garbage \x00\xc3\x28\n\x8f\x90,\x91\n")
        return p, {}
    if kind == "garbled parquet":
        return _write(tmp_path, "bad.parquet", "this is not parquet\n"), {}
    if kind == "garbled gzip":
        return _write(tmp_path, "bad.csv.gz", "not gzip at all\n"), {}
    if kind == "unsupported suffix":
        return _write(tmp_path, "data.xlsx", "a,b\n1,2\n"), {}
    if kind == "duplicate names parquet":
        p = tmp_path / "dup.parquet"
        table = pa.Table.from_arrays([pa.array([1.0, 2, 3]), pa.array([4.0, 5, 7])], ["x", "x"])
        pq.write_table(table, p)
        return p, {}
    if kind == "string column parquet":
        p = tmp_path / "str.parquet"
        pd.DataFrame({"a": [1.0, 2, 3], "s": ["u", "v", "w"]}).to_parquet(p)
        return p, {}
    p = _write(tmp_path, "bad.csv", csv[kind])
    kwargs = {"unknown columns name": {"columns": ["a", "zz"]},
              "text forced continuous": {"types": {"name": "continuous"}},
              "binary with three values": {"types": {"a": "binary"}}}
    return p, kwargs.get(kind, {})


BAD = {
    "missing file": "not found",
    "directory": "directory",
    "empty file": "empty",
    "blank lines only": "empty",
    "header only": "no data rows",
    "text level seen once": r"level 'z' of 'name' appears in one row only",
    "one level": r"categorical column 'name' has one level \('x'\)",
    "text forced continuous": r"column 'name' holds text \(e.g. 'x'\); it cannot be continuous",
    "binary with three values": r"binary column 'a' has 3 values; declare it categorical",
    "NaN": r"2 missing/NaN in 'a' \(1\), 'b' \(1\)",
    "inf": r"2 infinite in 'b' \(2\)",
    "constant column": "constant columns 'b'",
    "duplicate names": "duplicate column names 'a'",
    "duplicate names parquet": "duplicate column names 'x'",
    "empty name": "empty column name at position 2",
    "1 column": "at least 2 columns",
    "2 rows": "at least 3 rows",
    "unknown columns name": "unknown columns 'zz'",
    "ragged rows": "line 3 has 3 fields, the header has 2",
    "extra fields everywhere": "more fields than the header",
    "garbled bytes": "not UTF-8",
    "garbled parquet": "cannot read as Parquet",
    "garbled gzip": "cannot",
    "unsupported suffix": "unsupported file type",
    "string column parquet": r"level 'u' of 's' appears in one row only",
}


@pytest.mark.parametrize("kind", sorted(BAD))
def test_bad_input_is_one_line_data_error(tmp_path: Path, kind: str) -> None:
    path, kwargs = _make_bad(kind, tmp_path)
    with pytest.raises(DataError, match=BAD[kind]) as info:
        load_table(path, **kwargs)
    message = str(info.value)
    assert "\n" not in message and message.strip() == message and len(message) < 400
    if kind not in ("missing file", "directory"):
        assert str(path) in message  # says which file


def test_many_bad_columns_are_summarised(tmp_path: Path) -> None:
    cols = [f"s{i}" for i in range(20)]
    df = pd.DataFrame({c: [1.0, np.nan, 2.0, 3.0] for c in cols})
    df.to_csv(tmp_path / "s.csv", index=False)
    with pytest.raises(DataError, match="and 12 more") as info:
        load_table(tmp_path / "s.csv")
    assert "\n" not in str(info.value)


def test_too_many_levels(tmp_path: Path) -> None:
    from dagforge.datasets.types import MAX_LEVELS

    values = [f"v{k}" for k in range(MAX_LEVELS + 1)] * 2
    pd.DataFrame({"a": range(len(values)), "c": values}).to_csv(tmp_path / "l.csv",
                                                                  index=False)
    with pytest.raises(DataError, match=f"has {MAX_LEVELS + 1} levels, more than {MAX_LEVELS}"):
        load_table(tmp_path / "l.csv")


def test_gzip_round_trip_with_tabs(tmp_path: Path) -> None:
    p = tmp_path / "d.txt.gz"
    with gzip.open(p, "wt") as fh:
        fh.write("a\tb\n1\t2\n3\t4\n5\t7\n")
    assert load_table(p).names == ["a", "b"]


# --------------------------------------------------------------------------- check_matrix


def test_check_matrix_array_defaults() -> None:
    X = np.arange(12).reshape(4, 3) ** 2
    out, names = check_matrix(X)
    assert out.dtype == np.float64 and out.flags.c_contiguous
    assert names == ["x0", "x1", "x2"]
    out[0, 0] = 99
    assert X[0, 0] == 0  # a copy


def test_check_matrix_dataframe_and_names() -> None:
    out, names = check_matrix(GOOD)
    assert names == ["a", "b", "c"]
    np.testing.assert_array_equal(out, GOOD.to_numpy(dtype=float))
    _, names = check_matrix(GOOD.to_numpy(), names=["p", "q", "r"])
    assert names == ["p", "q", "r"]
    nullable = GOOD.astype({"c": "Int64"})
    np.testing.assert_array_equal(check_matrix(nullable)[0], out)


@pytest.mark.parametrize(
    ("X", "kwargs", "match"),
    [
        (np.ones(5), {}, "2-D"),
        (np.array([[1.0, 2], [3, np.nan], [4, 5]]), {}, r"missing/NaN in 'x1' \(1\)"),
        (np.array([[1.0, 2], [3, np.inf], [4, 5]]), {}, r"infinite in 'x1'"),
        (np.array([[1.0, 2], [1, 3], [1, 5]]), {}, "constant columns 'x0'"),
        (np.array([[1.0], [2], [3]]), {}, "at least 2 columns"),
        (np.array([[1.0, 2], [3, 4]]), {}, "at least 3 rows"),
        (np.array([[1.0, 2], [3, 4], [5, 7]]), {"names": ["a"]}, "1 names given for 2"),
        (np.array([[1.0, 2], [3, 4], [5, 7]]), {"names": ["a", "a"]}, "duplicate column names"),
        (np.array([["1", "u"], ["2", "v"], ["3", "w"]]), {}, "non-numeric columns 'x1'"),
        (pd.DataFrame({"t": pd.date_range("2020", periods=3), "a": [1, 2, 4]}), {}, "'t'"),
        (pd.DataFrame({"k": pd.Categorical(["u", "v", "u"]), "a": [1, 2, 4]}), {}, "'k'"),
        (pd.DataFrame([[1, 2, 3], [4, 5, 6], [7, 8, 0]], columns=["a", "b", "a"]), {}, "'a'"),
        (np.array([[1 + 1j, 2], [3, 4], [5, 7]]), {}, "non-numeric"),
    ],
)
def test_check_matrix_rejects(X, kwargs: dict, match: str) -> None:
    with pytest.raises(DataError, match=match) as info:
        check_matrix(X, source="input", **kwargs)
    assert str(info.value).startswith("input")
    assert "\n" not in str(info.value)


def test_check_matrix_accepts_numeric_strings_and_objects() -> None:
    out, _ = check_matrix(np.array([["1", "2.5"], ["3", "4"], ["5", "-1e3"]], dtype=object))
    np.testing.assert_array_equal(out, [[1, 2.5], [3, 4], [5, -1000]])
