# ruff: noqa: E501  (the table of cases below is meant to be copied whole)
"""Bad-input corpus for ``dagforge fit``: every case exits 2 with one line, no output.

Each case runs ``dagforge fit`` in-process (``dagforge.cli.main``; three of them
also as real processes) and must give exit code 2, exactly one line on stderr,
no traceback, no Python warning, and no output: ``--out`` is not created, or
stays empty. ``F`` stands for the data file's path, ``C`` / ``K`` for the config /
knowledge file's, ``O`` for ``--out``. Every line starts with ``dagforge: error:``.

=============================  ==============================  =====================================================================================
case                           input                           stderr (after ``dagforge: error:``)
=============================  ==============================  =====================================================================================
text-column                    a word seen in one row          F: level 'x' of 'b' appears in one row only; its effect cannot be estimated: ...
empty-file                     0 bytes                         F: file is empty
blank-lines-only               only newlines and spaces        F: file is empty
header-only                    ``a,b`` and nothing else        F: no data rows (only a header)
nan-empty-field                an empty field                  F: non-finite values: 1 missing/NaN in 'a' (1); remove or replace them first
nan-literal                    ``NaN`` in a cell               F: non-finite values: 1 missing/NaN in 'a' (1); remove or replace them first
inf                            ``inf`` in a cell               F: non-finite values: 1 infinite in 'a' (1); remove or replace them first
overflow                       ``1e400`` (inf as a float)      F: non-finite values: 1 infinite in 'a' (1); remove or replace them first
constant-column                a column of 1s                  F: constant columns 'a' carry no information; drop them
single-row                     a header and one row            F: needs at least 3 rows (samples), got 1
one-column                     a single variable               F: needs at least 2 columns (variables), got 1
10000-columns                  10,000 columns x 5 rows         F: 10000 columns (variables); dagforge learns graphs of at most 1000 variables; choose some with --columns (columns=)
duplicate-names                header ``a,a``                  F: duplicate column names 'a'
empty-name                     header ``,b`` (index column)    F: empty column name at position 1 (an unnamed index column written by pandas or R?)
directory                      a folder as the data            data path is a directory, not a file: F
missing-file                   no such file                    data file not found: F
binary-file                    random bytes named .csv         F: not UTF-8 text (byte b'\\xff' at position 0); save it as UTF-8
latin-1                        ``é`` in Latin-1, not UTF-8     F: not UTF-8 text (byte b'\\xe9' at position 0); save it as UTF-8
unsupported-type               ``data.xlsx``                   F: unsupported file type '.xlsx'; use .csv, .tsv, .txt (optionally .gz/.bz2/.xz) or .parquet
corrupt-gzip                   gzip magic, then random bytes   F: cannot parse the file: Unknown compression method
parquet-truncated              half a Parquet file             F: cannot read as Parquet: Parquet magic bytes not found in footer. Either the file is corrupted or this is not a parquet file.
parquet-damaged-page           flipped bytes, page checksums   F: cannot read as Parquet: could not verify page integrity, CRC checksum verification failed for page_ordinal 0
tsv-ragged-long                a row with 4 of 3 fields        F: line 3 has 4 fields, the header has 3 (a ragged row)
tsv-ragged-short               a row with 2 of 3 fields        F: line 3 has 2 fields, the header has 3 (a ragged or truncated row)
unwritable-out                 ``--out`` in a read-only dir    cannot write to output directory O: Permission denied (as root: under /sys)
out-inside-a-file              ``--out file.csv/sub``          cannot write to output directory O: Not a directory
config-unknown-key             ``lamda1: 0.1``                 C: unknown key 'lamda1'
config-bad-value               ``lambda1: -1``                 C: lambda1: Input should be greater than or equal to 0
config-wrong-type              ``threshold: abc``              C: threshold: Input should be a valid number, unable to parse string as a number or Input should be 'auto'
config-not-yaml                ``lambda1: [``                  C: cannot parse (line 2, column 1): while parsing a flow node: expected the node content, but found '<stream end>'
config-duplicate-key           ``lambda1`` given twice         C: cannot parse (line 2, column 1): key 'lambda1' is given twice
config-unknown-solver-option   ``solver_options: {foo: 1}``    unknown path_following option(s) ['foo']; known: ['constraint', 'final_inner', 'h_tol', 'inner', 'lambda1', 'max_extra_stages', 'mu_factor', 'mu_init', 's', 's_step']
knowledge-unknown-key          ``requried: [[a, b]]``          K: unknown key 'requried'; the keys are required, forbidden, tiers, roots, sinks, forbid_within_tiers
knowledge-unknown-variable     ``required: [[a, zz]]``         K: unknown variable 'zz'; the data has 'a', 'b', 'c'
knowledge-required-cycle       a -> b -> c -> a required       K: required edges form a cycle: 'a' -> 'b' -> 'c' -> 'a'
columns-unknown                ``--columns a,zz``              F: unknown columns 'zz'; the file has 'a', 'b', 'c'
columns-empty-name             ``--columns a,,b``              --columns 'a,,b': empty column name (give names separated by commas)
columns-repeated               ``--columns a,a``               F: columns 'a' requested more than once
seed-not-an-integer            ``--seed abc``                  dagforge fit: argument --seed: invalid int value: 'abc'
seed-negative                  ``--seed -1``                   command line: seed: Input should be greater than or equal to 0
model-unknown                  ``--model xgb``                 dagforge fit: argument --model: invalid choice: 'xgb' (choose from 'linear', 'mlp', 'gnn')
resume-linear                  ``--resume`` (linear model)     --resume applies to the mlp and gnn models (a linear fit takes seconds)
resume-without-checkpoint      ``--model mlp --resume``        checkpoint O/checkpoint.pt not found
=============================  ==============================  =====================================================================================

Positive case: ``unicode-names`` (``température,压力,Δx,"a b"``) fits, and the
names come back unchanged in ``adjacency.csv``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dagforge.cli import main
from dagforge.graph import read_adjacency

RNG = np.random.default_rng(0)
GOOD = "a,b,c\n" + "\n".join(",".join(f"{v:.5f}" for v in row)
                             for row in RNG.normal(size=(40, 3))) + "\n"


def write(path: Path, content: str | bytes) -> Path:
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def good(tmp: Path) -> str:
    return str(write(tmp / "good.csv", GOOD))


def data(name: str, content: str | bytes) -> Callable[[Path], list[str]]:
    return lambda tmp: [str(write(tmp / name, content))]


def with_file(option: str, name: str, content: str, *extra: str
              ) -> Callable[[Path], list[str]]:
    return lambda tmp: [good(tmp), option, str(write(tmp / name, content)), *extra]


def options(*extra: str) -> Callable[[Path], list[str]]:
    return lambda tmp: [good(tmp), *extra]


def wide(tmp: Path) -> list[str]:
    d = 10_000
    rows = [",".join(f"v{i}" for i in range(d))]
    rows += [",".join(f"{v:.3f}" for v in RNG.normal(size=d)) for _ in range(5)]
    return [str(write(tmp / "wide.csv", "\n".join(rows) + "\n"))]


def parquet_truncated(tmp: Path) -> list[str]:
    path = tmp / "data.parquet"
    pd.DataFrame(RNG.normal(size=(50, 3)), columns=list("abc")).to_parquet(path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return [str(path)]


def parquet_damaged(tmp: Path) -> list[str]:
    path = tmp / "data.parquet"
    frame = pd.DataFrame(RNG.normal(size=(50, 3)), columns=list("abc"))
    pq.write_table(pa.Table.from_pandas(frame), path, write_page_checksum=True)
    raw = bytearray(path.read_bytes())
    for i in range(100, 400):  # inside the first data page
        raw[i] ^= 0xFF
    path.write_bytes(bytes(raw))
    return [str(path)]


def unwritable(tmp: Path) -> list[str]:
    if os.geteuid() == 0:  # root writes into read-only directories, but not into /sys
        if not Path("/sys").is_dir():
            pytest.skip("running as root and there is no /sys to refuse it")
        return [good(tmp), "--out", "/sys/dagforge-unwritable/out"]
    locked = tmp / "locked"
    locked.mkdir(mode=0o500)
    return [good(tmp), "--out", str(locked / "out")]


def directory(tmp: Path) -> list[str]:
    (tmp / "folder.csv").mkdir()
    return [str(tmp / "folder.csv")]


def resume_without_checkpoint(tmp: Path) -> list[str]:
    (tmp / "out").mkdir()
    return [good(tmp), "--model", "mlp", "--resume"]


#: case -> (builder of the arguments after ``fit``, text the one line must contain)
CASES: dict[str, tuple[Callable[[Path], list[str]], str]] = {
    "text-column": (data("d.csv", "a,b\n1,x\n2,y\n3,z\n"),
                    "level 'x' of 'b' appears in one row only"),
    "empty-file": (data("d.csv", ""), "file is empty"),
    "blank-lines-only": (data("d.csv", "\n\n  \n"), "file is empty"),
    "header-only": (data("d.csv", "a,b\n"), "no data rows (only a header)"),
    "nan-empty-field": (data("d.csv", "a,b\n1,2\n,3\n4,5\n"), "1 missing/NaN in 'a'"),
    "nan-literal": (data("d.csv", "a,b\n1,2\nNaN,3\n4,5\n"), "1 missing/NaN in 'a'"),
    "inf": (data("d.csv", "a,b\n1,2\ninf,3\n4,5\n"), "1 infinite in 'a'"),
    "overflow": (data("d.csv", "a,b\n1e400,2\n2,3\n4,5\n"), "1 infinite in 'a'"),
    "constant-column": (data("d.csv", "a,b\n1,2\n1,3\n1,5\n"), "constant columns 'a'"),
    "single-row": (data("d.csv", "a,b\n1,2\n"), "needs at least 3 rows (samples), got 1"),
    "one-column": (data("d.csv", "a\n1\n2\n3\n"), "needs at least 2 columns"),
    "10000-columns": (wide, "10000 columns (variables); dagforge learns graphs of at most "
                            "1000 variables"),
    "duplicate-names": (data("d.csv", "a,a\n1,2\n2,3\n4,5\n"), "duplicate column names 'a'"),
    "empty-name": (data("d.csv", ",b\n1,2\n2,3\n4,5\n"), "empty column name at position 1"),
    "directory": (directory, "data path is a directory, not a file"),
    "missing-file": (lambda tmp: [str(tmp / "nope.csv")], "data file not found"),
    "binary-file": (data("d.csv", np.random.default_rng(1).bytes(4096)), "not UTF-8 text"),
    "latin-1": (data("d.csv", "é,b\n1,2\n3,4\n5,7\n".encode("latin-1")), "not UTF-8 text"),
    "unsupported-type": (data("data.xlsx", b"PK\x03\x04"), "unsupported file type '.xlsx'"),
    "corrupt-gzip": (data("d.csv.gz", b"\x1f\x8b" + np.random.default_rng(2).bytes(300)),
                     "cannot parse the file"),
    "parquet-truncated": (parquet_truncated, "cannot read as Parquet"),
    "parquet-damaged-page": (parquet_damaged, "CRC checksum verification failed"),
    "tsv-ragged-long": (data("d.tsv", "a\tb\tc\n1\t2\t3\n4\t5\t6\t7\n8\t9\t1\n"),
                        "line 3 has 4 fields, the header has 3"),
    "tsv-ragged-short": (data("d.tsv", "a\tb\tc\n1\t2\t3\n4\t5\n8\t9\t1\n"),
                         "line 3 has 2 fields, the header has 3"),
    "unwritable-out": (unwritable, "cannot write to output directory"),
    "out-inside-a-file": (lambda tmp: [good(tmp), "--out", str(tmp / "good.csv" / "sub")],
                          "cannot write to output directory"),
    "config-unknown-key": (with_file("--config", "c.yaml", "lamda1: 0.1\n"),
                           "unknown key 'lamda1'"),
    "config-bad-value": (with_file("--config", "c.yaml", "lambda1: -1\n"),
                         "lambda1: Input should be greater than or equal to 0"),
    "config-wrong-type": (with_file("--config", "c.yaml", "threshold: abc\n"),
                          "threshold: Input should be a valid number"),
    "config-not-yaml": (with_file("--config", "c.yaml", "lambda1: [\n"),
                        "cannot parse (line 2, column 1): while parsing a flow node"),
    "config-duplicate-key": (with_file("--config", "c.yaml", "lambda1: 0.1\nlambda1: 0.5\n"),
                             "key 'lambda1' is given twice"),
    "config-unknown-solver-option": (with_file("--config", "c.yaml",
                                               "solver_options:\n  foo: 1\n"),
                                     "unknown path_following option(s) ['foo']"),
    "knowledge-unknown-key": (with_file("--knowledge", "k.yaml", "requried: [[a, b]]\n"),
                              "unknown key 'requried'"),
    "knowledge-unknown-variable": (with_file("--knowledge", "k.yaml", "required: [[a, zz]]\n"),
                                   "unknown variable 'zz'"),
    "knowledge-required-cycle": (with_file("--knowledge", "k.yaml",
                                           "required: [[a, b], [b, c], [c, a]]\n"),
                                 "required edges form a cycle: 'a' -> 'b' -> 'c' -> 'a'"),
    "columns-unknown": (options("--columns", "a,zz"), "unknown columns 'zz'"),
    "columns-empty-name": (options("--columns", "a,,b"), "empty column name"),
    "columns-repeated": (options("--columns", "a,a"), "columns 'a' requested more than once"),
    "seed-not-an-integer": (options("--seed", "abc"), "invalid int value: 'abc'"),
    "seed-negative": (options("--seed", "-1"), "seed: Input should be greater than or equal"),
    "model-unknown": (options("--model", "xgb"), "invalid choice: 'xgb'"),
    "resume-linear": (options("--resume"), "--resume applies to the mlp and gnn models"),
    "resume-without-checkpoint": (resume_without_checkpoint, "checkpoint.pt not found"),
}


def fit_argv(tmp: Path, case: str) -> tuple[list[str], Path]:
    argv = CASES[case][0](tmp)
    if "--out" not in argv:
        argv += ["--out", str(tmp / "out")]
    return ["fit", *argv], Path(argv[argv.index("--out") + 1])


def outputs(out: Path) -> list[str]:
    """Files under ``out`` (none if it is not a directory)."""
    return sorted(str(p.relative_to(out)) for p in out.rglob("*")) if out.is_dir() else []


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input(tmp_path: Path, capsys, case: str) -> None:
    argv, out = fit_argv(tmp_path, case)
    before = outputs(out)
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code = main(argv)
    seconds = time.perf_counter() - t0
    _, err = capsys.readouterr()
    assert code == 2, err
    assert err.startswith("dagforge: error: ") and err.count("\n") == 1 and err.endswith("\n")
    assert "Traceback" not in err
    assert CASES[case][1] in err, err
    assert [str(w.message) for w in caught] == []  # a process would print them on stderr
    assert outputs(out) == before == []  # no partial output
    assert seconds < 15  # fails fast (10,000 columns: from the header alone)


@pytest.mark.parametrize("case", ["binary-file", "10000-columns", "tsv-ragged-short"])
def test_bad_input_in_a_real_process(tmp_path: Path, case: str) -> None:
    argv, out = fit_argv(tmp_path, case)
    proc = subprocess.run([sys.executable, "-m", "dagforge.cli", *argv], capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("dagforge: error: ") and proc.stderr.count("\n") == 1
    assert CASES[case][1] in proc.stderr
    assert outputs(out) == []


def test_unicode_names_work(tmp_path: Path, capsys) -> None:
    names = ["température", "压力", "Δx", "a b"]
    X = RNG.normal(size=(100, 4))
    X[:, 1] += 2 * X[:, 0]
    X[:, 2] -= X[:, 1]
    path = tmp_path / "données.csv"
    pd.DataFrame(X, columns=names).to_csv(path, index=False)
    out = tmp_path / "sortie"
    code = main(["fit", str(path), "--columns", ",".join(names), "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    W, read_names = read_adjacency(out / "adjacency.csv")
    assert read_names == names and W.sum() >= 2


def test_the_docstring_lists_every_case() -> None:
    listed = {line.split()[0] for line in __doc__.splitlines()
              if line[:1].isalnum() and "  " in line}
    assert set(CASES) <= listed, set(CASES) - listed
