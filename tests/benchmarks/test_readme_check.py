"""benchmarks/readme.py --check: the README's tables trace to records of named commits."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture(scope="module")
def readme():
    sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location("bench_readme", BENCH / "readme.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]
    sys.path.remove(str(BENCH))


def _record(method: str, **kw) -> dict:
    return {"method": method, "seed": 0, "measured_at": 1.8e9, "commit": "abc123", **kw}


def _readme(module, tables: dict) -> str:
    blocks = "".join(f"<!-- bench:{k} -->\nold\n<!-- /bench:{k} -->\n" for k in tables)
    return module.rewrite("# Title\n\n" + blocks, tables)


def test_a_rewritten_readme_passes_and_names_the_commit(readme):
    tables = {"t": readme.Table("| a |\n|---|\n| 1 |",
                                [_record("dagforge"), _record("dagma", commit=None)])}
    text = _readme(readme, tables)
    assert readme.problems(text, tables) == []
    assert "`abc123`" in text and "dagma reused from earlier runs" in text


def test_a_record_without_commit_fails(readme):
    tables = {"t": readme.Table("| a |", [_record("dagforge", commit=None)])}
    found = readme.problems(_readme(readme, tables), tables)
    assert found == ["table t: 1 dagforge record(s) name no commit: measure them again"]


def test_a_dirty_record_fails(readme):
    tables = {"t": readme.Table("| a |", [_record("dagforge-mlp", dirty=True)])}
    assert "uncommitted changes" in readme.problems(_readme(readme, tables), tables)[0]


def test_a_new_record_or_an_edited_number_fails(readme):
    tables = {"t": readme.Table("| a |\n| 1 |", [_record("dagforge")])}
    text = _readme(readme, tables)
    edited = text.replace("| 1 |", "| 0 |")
    assert any("differs from its records" in p for p in readme.problems(edited, tables))
    newer = {"t": readme.Table("| a |\n| 1 |", [_record("dagforge", commit="def456")])}
    found = readme.problems(text, newer)
    assert any("from commit def456, which the table does not name" in p for p in found)


def test_a_missing_block_fails(readme):
    tables = {"t": readme.Table("| a |", [_record("dagforge")])}
    assert readme.problems("# no tables\n", tables) == ["README.md has no <!-- bench:t --> block"]


def test_side_by_side_pairs_only_records_of_one_run(readme):
    import common

    ours = [{"seed": s, "seconds": 1.0, "run": "a"} for s in (0, 1)]
    theirs = [{"seed": 0, "seconds": 4.0, "run": "a"}, {"seed": 1, "seconds": 2.0, "run": "b"}]
    assert common.side_by_side(ours, theirs, key=lambda r: r["seed"]) == [0.25]
