"""Rows with missing values: refused by default, dropped (and counted) on request."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from dagforge.cli import main
from dagforge.datasets import load_table
from dagforge.errors import DataError
from helpers import sample_five_node

NAMES = ["a", "b", "c", "d", "e"]


def _csv(tmp_path: Path, holes: dict[int, int], n: int = 200, extra: bool = False) -> Path:
    """The five-node data as CSV with empty fields at ``{row: column}``."""
    X = sample_five_node(n=n)
    rows = []
    for r, row in enumerate(X):
        cells = [f"{v:.6g}" for v in row]
        if r in holes:
            cells[holes[r]] = "" if r % 2 else "NA"
        if extra:
            cells.append("" if r == 0 else "id")  # a column left out by --columns
        rows.append(",".join(cells))
    path = tmp_path / "data.csv"
    path.write_text(",".join(NAMES + (["note"] if extra else [])) + "\n" + "\n".join(rows) + "\n")
    return path


def test_load_table_drops_and_counts_incomplete_rows(tmp_path: Path) -> None:
    path = _csv(tmp_path, {3: 0, 10: 4, 11: 2})
    with pytest.raises(DataError, match="3 missing/NaN"):
        load_table(path)
    table = load_table(path, missing="drop")
    assert table.n_dropped == 3 and table.n == 197
    full = sample_five_node(n=200)
    keep = np.setdiff1d(np.arange(200), [3, 10, 11])
    assert np.allclose(table.X, full[keep], rtol=1e-5)
    assert load_table(_csv(tmp_path, {}), missing="drop").n_dropped == 0


def test_only_the_used_columns_count(tmp_path: Path) -> None:
    path = _csv(tmp_path, {5: 1}, extra=True)
    table = load_table(path, columns=NAMES, missing="drop")
    assert table.n_dropped == 1  # row 0's empty 'note' is not used


def test_nothing_left_and_bad_mode(tmp_path: Path) -> None:
    path = _csv(tmp_path, dict.fromkeys(range(4), 0), n=4)
    with pytest.raises(DataError, match="every row has a missing value"):
        load_table(path, missing="drop")
    with pytest.raises(DataError, match="missing must be"):
        load_table(path, missing="fill")  # type: ignore[arg-type]


def test_cli_missing_drop_reports_the_count(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    path = _csv(tmp_path, {3: 0, 10: 4})
    out = tmp_path / "fit"
    code = main(["fit", str(path), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and "2 missing/NaN" in err and not out.exists()
    assert main(["fit", str(path), "--missing", "drop", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "dropped 2 of 200 rows with missing values" in err
    run = json.loads((out / "run.json").read_text())
    assert run["dropped_rows"] == 2 and run["n"] == 198 and run["config"]["missing"] == "drop"
    cfg = tmp_path / "fit.yaml"
    cfg.write_text("missing: drop\n")
    assert main(["fit", str(path), "--config", str(cfg), "--out", str(tmp_path / "f2")]) == 0
    assert json.loads((tmp_path / "f2" / "run.json").read_text())["dropped_rows"] == 2
