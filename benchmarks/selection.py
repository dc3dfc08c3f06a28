"""Threshold selection benchmark: ``threshold="auto"`` rules against the fixed 0.3.

Usage::

    python benchmarks/selection.py run [--seeds 0 1 2] [--families ...] [--redo]
    python benchmarks/selection.py report

For each data set one fit (``DagLearner``, no refinement, so that the threshold
alone makes the graph), then the graph at the fixed threshold 0.3 and at the
thresholds chosen by :func:`dagforge.selection.select_threshold` (``heldout``
with the linear and the nonlinear regression, ``dag``) are scored against the
truth. The truth is used only for the scores. Records go to
``results/selection.jsonl`` as measured; ``report`` writes ``results/selection.md``.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import json
import logging
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch

from dagforge import __version__
from dagforge.estimator import DagLearner
from dagforge.graph import threshold_to_dag
from dagforge.metrics import evaluate
from dagforge.selection import select_threshold
from dagforge.simulate import simulate

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import COMMIT, DIRTY, RUN, SOURCE

torch.set_num_threads(1)
HERE = Path(__file__).resolve().parent
JSONL = HERE / "results" / "selection.jsonl"
REPORT = HERE / "results" / "selection.md"
log = logging.getLogger("bench.selection")

#: family -> (simulate kwargs, model, standardise)
FAMILIES = {
    "linear ER2 d=20 raw": (dict(graph="er", k=2, d=20, sem="linear"), "linear", False),
    "linear ER2 d=20 std": (dict(graph="er", k=2, d=20, sem="linear"), "linear", True),
    "linear ER4 d=20 raw": (dict(graph="er", k=4, d=20, sem="linear"), "linear", False),
    "linear SF4 d=20 raw": (dict(graph="sf", k=4, d=20, sem="linear"), "linear", False),
    "mlp ER2 d=10 raw": (dict(graph="er", k=2, d=10, sem="mlp"), "mlp", False),
}
RULES = {
    "fixed 0.3": None,
    "heldout linear": dict(rule="heldout", kind="linear"),
    "heldout nonlinear": dict(rule="heldout", kind="nonlinear"),
    "dag": dict(rule="dag"),
}


def done() -> set[tuple[str, int]]:
    if not JSONL.exists():
        return set()
    return {(r["family"], r["seed"]) for r in map(json.loads, JSONL.read_text().splitlines())}


def run(args: argparse.Namespace) -> None:
    finished = set() if args.redo else done()
    for family in args.families:
        sim_kw, model, std = FAMILIES[family]
        for seed in args.seeds:
            if (family, seed) in finished:
                continue
            sim = simulate(n=1000, rng=np.random.default_rng(seed), **sim_kw)
            X = (sim.X - sim.X.mean(0)) / sim.X.std(0) if std else sim.X
            t0 = time.perf_counter()
            m = DagLearner(model=model, refine="none", random_state=seed).fit(X)
            fit_s = time.perf_counter() - t0
            rec = {"family": family, "seed": seed, "fit_seconds": fit_s,
                   "true_edges": int(sim.B.sum()), "dagforge": __version__,
                   "source": SOURCE, "commit": COMMIT, "dirty": DIRTY, "run": RUN,
                   "measured_at": time.time(), "rules": {}}
            for name, kw in RULES.items():
                t0 = time.perf_counter()
                if kw is None:
                    weights, t = threshold_to_dag(m.W_, 0.3), 0.3
                else:
                    res = select_threshold(m.W_, X, rng=np.random.default_rng(seed), **kw)
                    weights, t = res.weights, res.threshold
                e = evaluate(true=sim.B, pred=weights)
                rec["rules"][name] = {"threshold": t, "shd": e["shd"], "f1": e["f1"],
                                      "nnz": e["nnz"], "seconds": time.perf_counter() - t0}
            JSONL.parent.mkdir(parents=True, exist_ok=True)
            with JSONL.open("a") as fh:
                fh.write(json.dumps(rec) + "\n")
            log.info("%s seed %d: %s", family, seed,
                     {k: v["shd"] for k, v in rec["rules"].items()})
    report()


def report() -> None:
    recs = [json.loads(x) for x in JSONL.read_text().splitlines()] if JSONL.exists() else []
    latest = {(r["family"], r["seed"]): r for r in recs}  # a --redo record replaces older ones
    by = defaultdict(list)
    for r in latest.values():
        by[r["family"]].append(r)
    lines = ["# Threshold selection", "",
             "Written by `python benchmarks/selection.py report` from `selection.jsonl`",
             "(measured by `python benchmarks/selection.py run`). One fit per data set",
             "(`DagLearner(model=..., refine=\"none\")`, n = 1000), then each rule picks the",
             "threshold without the truth. Cells: median SHD / median F1 over seeds",
             "(median chosen threshold).", "",
             "| family | seeds | edges | " + " | ".join(RULES) + " |",
             "|---|---|---|" + "---|" * len(RULES)]
    for fam in FAMILIES:
        rs = by.get(fam)
        if not rs:
            continue
        cells = []
        for rule in RULES:
            v = [r["rules"][rule] for r in rs]
            cells.append(f"{np.median([x['shd'] for x in v]):.0f} / "
                         f"{np.median([x['f1'] for x in v]):.2f} "
                         f"({np.median([x['threshold'] for x in v]):.2f})")
        lines.append(f"| {fam} | {len(rs)} | {np.median([r['true_edges'] for r in rs]):.0f} | "
                     + " | ".join(cells) + " |")
    commits = sorted({r.get("commit") or f"none recorded ({r['source'].split()[-1]})"
                      for r in latest.values()})
    lines += ["", f"Commits: {', '.join(commits)}."]
    REPORT.write_text("\n".join(lines) + "\n")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    r.add_argument("--families", nargs="+", default=list(FAMILIES), choices=list(FAMILIES))
    r.add_argument("--redo", action="store_true",
                   help="measure again where recorded (the latest record per data set wins)")
    sub.add_parser("report")
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("dagforge").setLevel(logging.WARNING)
    run(args) if args.cmd == "run" else report()


if __name__ == "__main__":
    main()
