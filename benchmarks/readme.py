"""Rewrite (or check) the benchmark tables of README.md from the measured records.

Usage::

    python benchmarks/readme.py           # rewrite the tables
    python benchmarks/readme.py --check   # exit 1 if a table is stale (run by make test)

The README's tables sit between ``<!-- bench:NAME -->`` and ``<!-- /bench:NAME -->``
markers. Each is built from the records of one script (``results/*.jsonl``) and ends
with the commit(s) that measured it, so the README never holds a number typed by hand
and never shows a number without saying which source gave it.

``--check`` fails when

- a table differs from what its records give now (a record was added or redone and
  the README not rewritten, or the table was edited by hand);
- a dagforge record (or a baseline of ours) names no commit (measured before records
  named one: re-run it), or was measured on a tree with uncommitted changes;
- a table does not name the commit of every dagforge record it shows.

Peers' records may come from earlier runs (their slow runs are reused while their
package and data are unchanged); the table says so. A time ratio is only ever
computed between records of one run (``common.side_by_side``).
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import Records, fmt, median, side_by_side  # noqa: E402

README = HERE.parent / "README.md"
RESULTS = HERE / "results"
OURS = ("empty", "sortnregress")  # baselines of dagforge's own code


@dataclass
class Table:
    """One README block: its Markdown and the records it shows."""

    body: str
    records: list[dict] = field(default_factory=list)


def is_ours(method: str) -> bool:
    """Whether a record's method is dagforge's code (it must name its commit)."""
    return method.startswith("dagforge") or method in OURS


def _day(r: dict) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(r.get("measured_at", 0)))


def provenance(records: list[dict]) -> str:
    """The line under a table that says which source measured it, and when."""
    def commits(rs: list[dict]) -> str:
        days: dict[str, set[str]] = defaultdict(set)
        for r in rs:
            days[r["commit"]].add(_day(r))
        return ", ".join(f"`{c}` ({', '.join(sorted(d))})" for c, d in sorted(days.items()))

    ours = [r for r in records if is_ours(r["method"]) and r.get("commit")]
    peers = [r for r in records if not is_ours(r["method"])]
    text = f"Measured at commit {commits(ours)}" if ours else "No dagforge record"
    with_commit = [r for r in peers if r.get("commit")]
    if with_commit and {r["commit"] for r in with_commit} != {r["commit"] for r in ours}:
        text += f"; peers at {commits(with_commit)}"
    reused = sorted({r["method"] for r in peers if not r.get("commit")})
    if reused:
        text += (f"; {', '.join(reused)} reused from earlier runs on the same data files "
                 "(records from before they named a commit)")
    return f"<sub>{text}.</sub>"


def render(table: Table) -> str:
    return table.body.rstrip("\n") + "\n\n" + provenance(table.records)


# --------------------------------------------------------------------------- tables


def _shd(rs: list[dict], key: str = "shd", n_expected: int = 3) -> str:
    rs = [r for r in rs if r.get("error") is None and r.get(key) is not None]
    if not rs:
        return "–"
    return fmt(median([r[key] for r in rs])) + f" (n={len(rs)})" * (len(rs) != n_expected)


def linear_tables() -> dict[str, Table]:
    """The raw, standardised and d = 1000 tables of the linear benchmark."""
    fams: dict[tuple, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    records = Records(RESULTS / "linear.jsonl").load()
    big = sorted((r for r in records if r["d"] == 1000), key=lambda r: r["seed"])
    for r in records:
        if r["d"] != 1000:
            fams[(r["scale"], r["graph"], r["d"], r["noise"])][r["method"]].append(r)
    raw = ["| family | empty | sortnregress | dagforge | DAGMA | dagforge time / DAGMA time |",
           "|---|---|---|---|---|---|"]
    std = ["| family | empty | dagforge | dagforge-nll | DAGMA | GES (SHD-CPDAG) |",
           "|---|---|---|---|---|---|"]
    shown: dict[str, list[dict]] = {"raw": [], "std": []}
    for key in sorted(fams, key=lambda k: (k[1], k[2], k[3])):
        scale, graph, d, noise = key
        rows = fams[key]
        name = f"{graph} d={d} {noise}"
        if scale == "raw":
            ratio = side_by_side(rows["dagforge"], rows["dagma"], key=lambda r: r["seed"])
            raw.append(f"| {name} | {_shd(rows['empty'])} | {_shd(rows['sortnregress'])} | "
                       f"{_shd(rows['dagforge'])} | {_shd(rows['dagma'])} | "
                       f"{fmt(median(ratio), 2)} |")
            methods = ("empty", "sortnregress", "dagforge", "dagma")
        else:
            both = {m: f"{_shd(rows[m])} / {_shd(rows[m], 'shd_cpdag')}"
                    for m in ("dagforge", "dagforge-nll", "dagma")}
            std.append(f"| {name} | {_shd(rows['empty'])} | {both['dagforge']} | "
                       f"{both['dagforge-nll']} | {both['dagma']} | "
                       f"{_shd(rows['ges'], 'shd_cpdag')} |")
            methods = ("empty", "dagforge", "dagforge-nll", "dagma", "ges")
        shown[scale] += [r for m in methods for r in rows.get(m, [])]
    lines = ["| seed | seconds | torch threads | F1 | SHD | true edges |",
             "|---|---|---|---|---|---|"]
    for r in big:
        lines.append(f"| {r['seed']} | {r['seconds']:.0f} | {r.get('threads', '–')} | "
                     f"{r['f1']:.3f} | {r['shd']} | {r['true_edges']} |")
    return {"linear-raw": Table("\n".join(raw), shown["raw"]),
            "linear-std": Table("\n".join(std), shown["std"]),
            "linear-big": Table("\n".join(lines) if big else "(not measured yet)", big)}


def _tables_of(text: str, first: int = 0, count: int | None = None) -> str:
    """Markdown tables ``first .. first + count`` of a report, one blank line apart."""
    blocks: list[list[str]] = []
    previous = ""
    for line in text.splitlines():
        if line.startswith("|"):
            if not previous.startswith("|"):
                blocks.append([])
            blocks[-1].append(line)
        previous = line
    chosen = blocks[first:None if count is None else first + count]
    return "\n\n".join("\n".join(b) for b in chosen)


def script_tables() -> dict[str, Table]:
    """The tables the nonlinear, interventional and discrete scripts report."""
    import discrete
    import interventional
    import nonlinear

    text = nonlinear.report_text()
    ratios = [ln for ln in text.splitlines() if ln.startswith("- dagforge")]
    body = _tables_of(text)
    if ratios:
        body += "\n\nWall time ratios, measured side by side:\n\n" + "\n".join(ratios)
    return {
        "nonlinear": Table(body, nonlinear.RECORDS.load()),
        "interventional": Table(_tables_of(interventional.report_text()),
                                interventional.RECORDS.load()),
        "discrete": Table(_tables_of(discrete.report_text()), discrete.RECORDS.load()),
    }


BUILDERS: tuple[Callable[[], dict[str, Table]], ...] = (linear_tables, script_tables)


# --------------------------------------------------------------------------- check


def _block(text: str, name: str) -> re.Match | None:
    return re.search(rf"(<!-- bench:{name} -->\n)(.*?)\n?(<!-- /bench:{name} -->)", text, re.S)


def problems(readme: str, tables: dict[str, Table]) -> list[str]:
    """Why the README's benchmark tables cannot be trusted (empty: they can)."""
    out = []
    for name, table in tables.items():
        m = _block(readme, name)
        if m is None:
            out.append(f"README.md has no <!-- bench:{name} --> block")
            continue
        shown = m.group(2)
        if shown != render(table):
            out.append(f"table {name}: README differs from its records "
                       "(run `python benchmarks/readme.py`)")
        stale: dict[tuple[str, str], int] = defaultdict(int)
        for r in table.records:
            if is_ours(r["method"]) and not r.get("commit"):
                stale[(r["method"], "name no commit: measure them again")] += 1
            elif r.get("dirty"):
                stale[(r["method"], "were measured with uncommitted changes: measure "
                                    "them again")] += 1
            elif is_ours(r["method"]) and f"`{r['commit']}`" not in shown:
                stale[(r["method"], f"are from commit {r['commit']}, which the table "
                                    "does not name")] += 1
        out += [f"table {name}: {k} {method} record(s) {why}"
                for (method, why), k in stale.items()]
    return sorted(set(out))


def rewrite(readme: str, tables: dict[str, Table]) -> str:
    for name, table in tables.items():
        if _block(readme, name) is None:
            raise SystemExit(f"README.md has no <!-- bench:{name} --> block")
        readme = re.sub(rf"(<!-- bench:{name} -->\n).*?(<!-- /bench:{name} -->)",
                        lambda m, t=table: m.group(1) + render(t) + "\n" + m.group(2),
                        readme, flags=re.S)
    return readme


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 and say why if a table is stale")
    args = parser.parse_args(argv)
    tables = {k: v for build in BUILDERS for k, v in build().items()}
    text = README.read_text(encoding="utf-8")
    if args.check:
        found = problems(text, tables)
        for p in found:
            print(f"readme check: {p}", file=sys.stderr)
        return 1 if found else 0
    README.write_text(rewrite(text, tables), encoding="utf-8")
    print(f"rewrote {len(tables)} benchmark tables in {README}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
