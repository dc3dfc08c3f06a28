"""Nonlinear benchmark: dagforge's MLP and GNN models beside DAGMA-MLP and gCastle.

Usage (peers need the ``bench`` extra: ``make bench-setup``)::

    python benchmarks/nonlinear.py run [--d 10 20] [--seeds 0 1 2] [--scales raw std]
                                       [--methods ...] [--redo ...]
    python benchmarks/nonlinear.py sachs [--methods ...]
    python benchmarks/nonlinear.py report

Data: MLP-SEM (``simulate(sem="mlp")``, NOTEARS' random one-hidden-layer MLPs),
ER2 graphs, n = 1000, Gaussian noise; simulated once into ``benchmarks/data/
nonlinear/`` (not committed) so every method reads the same file. Sachs: the
shipped 853 x 11 observational data and its 17-edge consensus graph.

Methods run one after another in this process with one BLAS / torch thread;
every (data set, method) record is appended to ``results/nonlinear.jsonl`` as
soon as it is measured (an interrupted run continues where it stopped), and
``report`` writes ``results/nonlinear.md`` from those records only. A peer that
fails is recorded with its error.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("TQDM_DISABLE", "1")

import argparse
import logging
import platform
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from dagforge import __version__
from dagforge.baselines import empty, sortnregress
from dagforge.datasets import load_sachs
from dagforge.estimator import DagLearner
from dagforge.metrics import varsortability
from dagforge.simulate import simulate

torch.set_num_threads(1)
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import Records, cell, fmt, median, peer_version, score, side_by_side  # noqa: E402

DATA = HERE / "data" / "nonlinear"
JSONL = HERE / "results" / "nonlinear.jsonl"
REPORT = HERE / "results" / "nonlinear.md"
RECORDS = Records(JSONL)
log = logging.getLogger("bench.nonlinear")

Method = Callable[[np.ndarray, int], tuple[np.ndarray, np.ndarray | None, str]]


def _dagforge(**params) -> Method:
    def run(X: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray | None, str]:
        m = DagLearner(random_state=seed, **params).fit(X)
        return m.weights_, np.abs(m.W_), "dag"

    return run


PEER_OF = {"dagma-mlp": "dagma_mlp", "notears-mlp": "gcastle_notears_mlp",
           "grandag": "gcastle_grandag", "dag-gnn": "gcastle_daggnn"}


def _peer(name: str, weighted: bool = True) -> Method:
    def run(X: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray | None, str]:
        import peers

        W = peers.run_peer(name, X, seed=seed)
        return W, (np.abs(W) if weighted else None), peers.PEERS[name].kind

    return run


def _baseline(fn) -> Method:
    def run(X: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray | None, str]:
        W = fn(X)
        return W, np.abs(W), "dag"

    return run


METHODS: dict[str, Method] = {
    "empty": _baseline(empty),
    "sortnregress": _baseline(sortnregress),
    "dagforge-linear": _dagforge(model="linear"),
    "dagforge-mlp": _dagforge(model="mlp"),
    "dagforge-gnn": _dagforge(model="gnn"),
    **{method: _peer(peer, weighted=method in ("dagma-mlp", "notears-mlp"))
       for method, peer in PEER_OF.items()},
}
DEFAULT_METHODS = list(METHODS)


def dataset(d: int, seed: int, n: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    name = f"MLP_ER2_d{d}_n{n}_s{seed}"
    xp, bp = DATA / f"{name}_X.npy", DATA / f"{name}_B.npy"
    if not xp.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        sim = simulate(graph="er", k=2, d=d, n=n, sem="mlp", noise="gauss",
                       rng=np.random.default_rng(1000 * seed + d))
        np.save(bp, sim.B)
        np.save(xp, sim.X)
    return np.load(xp), np.load(bp)


def measure(X: np.ndarray, B: np.ndarray, method: str, seed: int, base: dict) -> dict:
    t0 = time.perf_counter()
    try:
        pred, sc, kind = METHODS[method](X.copy(), seed)
        error = None
    except Exception as e:  # a peer failing is recorded, not fatal
        pred, sc, kind, error = None, None, None, f"{type(e).__name__}: {e}"
    rec = {**base, "method": method, "seconds": time.perf_counter() - t0,
           "true_edges": int((B != 0).sum()), "error": error}
    if pred is not None:
        rec.update(score((B != 0).astype(int), pred, sc, kind))
    if method in PEER_OF:
        import peers

        rec["package_version"] = peer_version(peers.PEERS[PEER_OF[method]].package)
    RECORDS.append(rec)
    log.info("%s %s: shd=%s f1=%s %.1fs %s", method, {k: base[k] for k in ("d", "seed",
             "scale")}, rec.get("shd"), rec.get("f1"), rec["seconds"], error or "")
    return rec


def run_grid(args: argparse.Namespace) -> None:
    done = RECORDS.done(args.redo, time.time())
    for d in args.d:
        for seed in args.seeds:
            X_raw, B = dataset(d, seed)
            for scale in args.scales:
                X = (X_raw - X_raw.mean(0)) / X_raw.std(0) if scale == "std" else X_raw
                base = {"graph": "ER2", "d": d, "n": X.shape[0], "noise": "gauss",
                        "seed": seed, "scale": scale, "varsortability": varsortability(X, B)}
                for method in args.methods:
                    if (base["graph"], d, "gauss", seed, scale, method, X.shape[0]) in done:
                        continue
                    measure(X, B, method, seed, base)
    write_report()


def run_sachs(args: argparse.Namespace) -> None:
    done = RECORDS.done(args.redo, time.time())
    frame, B = load_sachs()
    X = frame.to_numpy(dtype=float)
    base = {"graph": "sachs", "d": X.shape[1], "n": X.shape[0], "noise": "real", "seed": 0,
            "scale": "raw", "varsortability": varsortability(X, B)}
    for method in args.methods:
        if ("sachs", X.shape[1], "real", 0, "raw", method, X.shape[0]) in done:
            continue
        measure(X, B, method, 0, base)
    write_report()


def report_text() -> str:
    """The Markdown report, from the records only."""
    records = RECORDS.load()
    by_family: dict[tuple, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for r in records:
        by_family[(r["graph"], r["scale"], r["d"])][r["method"]].append(r)
    methods = [m for m in DEFAULT_METHODS if any(m in v for v in by_family.values())]
    lines = [
        "# Nonlinear benchmark", "",
        "Written by `python benchmarks/nonlinear.py report` from `nonlinear.jsonl`, which",
        "`python benchmarks/nonlinear.py run ...` and `... sachs` append to as they measure.",
        f"dagforge {__version__}, Python {platform.python_version()}, torch {torch.__version__};",
        "one thread per method, methods one after another in one process on the same",
        "data files. MLP-SEM data (ER2, n = 1000, Gaussian noise), 3 seeds per family unless",
        "a cell says (n=k); Sachs: 853 observational cells, 17-edge consensus graph.", "",
        "Cells are medians over seeds: SHD (a reversal counts 1) / SHD between CPDAGs /",
        "F1 / AUPRC / seconds. GraN-DAG and DAG-GNN (gCastle) give no edge weights, so no",
        "AUPRC. dagforge models run with their defaults (`DagLearner(model=...)`).", "",
        "| data | edges | varsort. | " + " | ".join(methods) + " |",
        "|---|---|---|" + "---|" * len(methods),
    ]
    for fam in sorted(by_family, key=lambda k: (k[0] == "sachs", k[2], k[1])):
        rows = by_family[fam]
        cells = []
        for m in methods:
            rs = [r for r in rows.get(m, []) if r.get("error") is None]
            if not rs:
                cells.append("failed" if rows.get(m) else "")
                continue
            cells.append(cell(rs, 1 if fam[0] == "sachs" else 3))
        edges = median([r["true_edges"] for rs in rows.values() for r in rs])
        vs = median([r["varsortability"] for rs in rows.values() for r in rs])
        label = "Sachs" if fam[0] == "sachs" else f"MLP ER2 d={fam[2]} {fam[1]}"
        lines.append(f"| {label} | {fmt(edges)} | {fmt(vs, 2)} | " + " | ".join(cells) + " |")
    ratios = defaultdict(list)
    for fam, rows in by_family.items():
        for ours, peer in (("dagforge-mlp", "dagma-mlp"), ("dagforge-gnn", "dag-gnn")):
            ratios[(ours, peer, fam[2])] += side_by_side(rows.get(ours, []), rows.get(peer, []),
                                                         key=lambda r: r["seed"])
    ratios = {k: v for k, v in ratios.items() if v}
    if ratios:
        lines += ["", "Wall time ratios (median over data sets measured side by side: one "
                  "process, the same file, back to back):", ""]
        for (ours, peer, d), xs in sorted(ratios.items()):
            lines.append(f"- {ours} / {peer}, d={d}: {median(xs):.2f} ({len(xs)} data sets)")
    errors = sorted({(r["method"], r["error"]) for r in records if r.get("error")})
    if errors:
        lines += ["", "## Failures", ""] + [f"- {m}: {e}" for m, e in errors]
    return "\n".join(lines) + "\n"


def write_report() -> None:
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(report_text())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--d", type=int, nargs="+", default=[10, 20])
    r.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    r.add_argument("--scales", nargs="+", default=["raw", "std"], choices=["raw", "std"])
    r.add_argument("--methods", nargs="+", default=DEFAULT_METHODS, choices=list(METHODS))
    r.add_argument("--redo", nargs="+", default=[], choices=list(METHODS))
    s = sub.add_parser("sachs")
    s.add_argument("--methods", nargs="+", default=DEFAULT_METHODS, choices=list(METHODS))
    s.add_argument("--redo", nargs="+", default=[], choices=list(METHODS))
    sub.add_parser("report")
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("dagforge").setLevel(logging.WARNING)
    {"run": run_grid, "sachs": run_sachs, "report": lambda a: write_report()}[args.cmd](args)


if __name__ == "__main__":
    main()
