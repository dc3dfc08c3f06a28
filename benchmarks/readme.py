"""Rewrite the benchmark tables of README.md from the measured records.

Usage::

    python benchmarks/readme.py

The README's tables sit between ``<!-- bench:NAME -->`` and ``<!-- /bench:NAME -->``
markers; this script replaces what is between them with tables built from
``results/linear.jsonl`` (condensed: SHD and the time ratio) and the tables of
``results/nonlinear.md`` (as written by ``nonlinear.py report``), so the README
never holds a number typed by hand.
"""

from __future__ import annotations

import re
import sys
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import Records, fmt, median  # noqa: E402

README = HERE.parent / "README.md"
RESULTS = HERE / "results"


def _shd(rs: list[dict], key: str = "shd", n_expected: int = 3) -> str:
    rs = [r for r in rs if r.get("error") is None and r.get(key) is not None]
    if not rs:
        return "–"
    return fmt(median([r[key] for r in rs])) + f" (n={len(rs)})" * (len(rs) != n_expected)


def linear_tables() -> dict[str, str]:
    """The raw and standardised tables of the linear benchmark."""
    fams: dict[tuple, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    big = []
    for r in Records(RESULTS / "linear.jsonl").load():
        if r["d"] == 1000:
            big.append(r)
        else:
            fams[(r["scale"], r["graph"], r["d"], r["noise"])][r["method"]].append(r)
    out = {}
    raw = ["| family | empty | sortnregress | dagforge | DAGMA | dagforge time / DAGMA time |",
           "|---|---|---|---|---|---|"]
    std = ["| family | empty | dagforge | dagforge-nll | DAGMA | GES (SHD-CPDAG) |",
           "|---|---|---|---|---|---|"]
    for key in sorted(fams, key=lambda k: (k[1], k[2], k[3])):
        scale, graph, d, noise = key
        rows = fams[key]
        name = f"{graph} d={d} {noise}"
        if scale == "raw":
            dagma = {r["seed"]: r["seconds"] for r in rows.get("dagma", []) if not r["error"]}
            ratio = [r["seconds"] / dagma[r["seed"]] for r in rows.get("dagforge", [])
                     if r["seed"] in dagma]
            raw.append(f"| {name} | {_shd(rows['empty'])} | {_shd(rows['sortnregress'])} | "
                       f"{_shd(rows['dagforge'])} | {_shd(rows['dagma'])} | "
                       f"{fmt(median(ratio), 2)} |")
        else:
            both = {m: f"{_shd(rows[m])} / {_shd(rows[m], 'shd_cpdag')}"
                    for m in ("dagforge", "dagforge-nll", "dagma")}
            std.append(f"| {name} | {_shd(rows['empty'])} | {both['dagforge']} | "
                       f"{both['dagforge-nll']} | {both['dagma']} | "
                       f"{_shd(rows['ges'], 'shd_cpdag')} |")
    out["linear-raw"] = "\n".join(raw)
    out["linear-std"] = "\n".join(std)
    lines = ["| seed | seconds | torch threads | F1 | SHD | true edges |",
             "|---|---|---|---|---|---|"]
    for r in sorted(big, key=lambda r: r["seed"]):
        lines.append(f"| {r['seed']} | {r['seconds']:.0f} | {r.get('threads', '–')} | "
                     f"{r['f1']:.3f} | {r['shd']} | {r['true_edges']} |")
    out["linear-big"] = "\n".join(lines) if big else "(not measured yet)"
    return out


def nonlinear_tables() -> dict[str, str]:
    """The table and time ratios of ``results/nonlinear.md``, verbatim."""
    text = (RESULTS / "nonlinear.md").read_text(encoding="utf-8").splitlines()
    table = [ln for ln in text if ln.startswith("|")]
    ratios = [ln for ln in text if ln.startswith("- dagforge")]
    head = "Wall time ratios (median over data sets with both):"
    return {"nonlinear": "\n".join([*table, "", head, "", *ratios])}


def main() -> None:
    blocks = {**linear_tables(), **nonlinear_tables()}
    text = README.read_text(encoding="utf-8")
    for name, body in blocks.items():
        pattern = re.compile(rf"(<!-- bench:{name} -->\n).*?(<!-- /bench:{name} -->)", re.S)
        if not pattern.search(text):
            raise SystemExit(f"README.md has no <!-- bench:{name} --> block")
        text = pattern.sub(lambda m, body=body: m.group(1) + body + "\n" + m.group(2), text)
    README.write_text(text, encoding="utf-8")
    print(f"rewrote {len(blocks)} benchmark tables in {README}")


if __name__ == "__main__":
    main()
