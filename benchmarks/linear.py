"""Linear benchmark: dagforge beside DAGMA, GES and the baselines, on the same files.

Usage (peers need the ``bench`` extra: ``make bench-setup``)::

    python benchmarks/linear.py run [--d 20 50 100] [--graphs ER2 ER4 SF4]
                                    [--noises gauss exp gumbel] [--seeds 0 1 2]
                                    [--scales raw std] [--methods ...]
    python benchmarks/linear.py big        # d = 1000, ER2, n = 10000, dagforge alone
    python benchmarks/linear.py report     # rewrite results/linear.md from results/linear.jsonl

Every (data set, method) result is appended to ``results/linear.jsonl`` as soon as
it is measured, so an interrupted run continues where it stopped; ``report``
turns the records into ``results/linear.md``. Data sets are simulated once and
saved under ``benchmarks/data/`` (not committed); every method reads the same file.

Timing: all methods run one after another in this process with one BLAS / torch
thread (set below, before numpy is imported), so that the shared 2-core machine's
noise hits them alike; speed is quoted as the per-data-set ratio of wall times,
median over data sets.
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
from dagforge.estimator import DagLearner
from dagforge.metrics import varsortability
from dagforge.simulate import simulate

torch.set_num_threads(1)
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import Records, cell, fmt, median, peer_version, score, side_by_side  # noqa: E402

DATA = HERE / "data" / "linear"
RESULTS = HERE / "results"
JSONL = RESULTS / "linear.jsonl"
REPORT = RESULTS / "linear.md"
RECORDS = Records(JSONL)
GRAPHS = {"ER2": ("er", 2), "ER4": ("er", 4), "SF4": ("sf", 4)}
log = logging.getLogger("bench.linear")


# --------------------------------------------------------------------------- methods


def _dagforge(**params) -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray, str]]:
    def run(X: np.ndarray) -> tuple[np.ndarray, np.ndarray, str]:
        m = DagLearner(**params).fit(X)
        return m.weights_, np.abs(m.W_), "dag"

    return run


def _peer(name: str, **kwargs) -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray, str]]:
    def run(X: np.ndarray) -> tuple[np.ndarray, np.ndarray, str]:
        import peers

        W = peers.run_peer(name, X, **kwargs)
        kind = peers.PEERS[name].kind
        return W, np.abs(W), kind

    return run


def _package_version(method: str) -> str | None:
    import peers

    return peer_version(peers.PEERS[PEER_OF[method]].package)


def _baseline(fn) -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray, str]]:
    def run(X: np.ndarray) -> tuple[np.ndarray, np.ndarray, str]:
        W = fn(X)
        return W, np.abs(W), "dag"

    return run


PEER_OF = {"dagma": "dagma_linear", "ges": "ges"}
METHODS: dict[str, Callable[[np.ndarray], tuple[np.ndarray, np.ndarray, str]]] = {
    "dagforge": _dagforge(),
    "dagforge-nll": _dagforge(loss="nll"),
    **{method: _peer(peer) for method, peer in PEER_OF.items()},
    "empty": _baseline(empty),
    "sortnregress": _baseline(sortnregress),
}
DEFAULT_METHODS = ["empty", "sortnregress", "dagforge", "dagforge-nll", "dagma", "ges"]


# --------------------------------------------------------------------------- data


def dataset(graph: str, d: int, noise: str, seed: int, n: int = 1000) -> tuple[Path, Path]:
    """Simulate (once) and save one raw data set; returns (data.npy, true.npy) paths."""
    name = f"{graph}_d{d}_n{n}_{noise}_s{seed}"
    xp, bp = DATA / f"{name}_X.npy", DATA / f"{name}_B.npy"
    if not xp.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        kind, k = GRAPHS[graph]
        sim = simulate(graph=kind, k=k, d=d, n=n, sem="linear", noise=noise,
                       rng=np.random.default_rng(1000 * seed + d))
        np.save(bp, sim.B)
        np.save(xp, sim.X)
    return xp, bp


def standardise(X: np.ndarray) -> np.ndarray:
    return (X - X.mean(0)) / X.std(0)


# --------------------------------------------------------------------------- run


def run_grid(args: argparse.Namespace) -> None:
    done = RECORDS.done(args.redo, args.since if args.since is not None else time.time())
    for d in args.d:
        for graph in args.graphs:
            for noise in args.noises:
                for seed in args.seeds:
                    xp, bp = dataset(graph, d, noise, seed, args.n)
                    B = np.load(bp)
                    for scale in args.scales:
                        X = np.load(xp)
                        X = standardise(X) if scale == "std" else X
                        vs = varsortability(X, B)
                        for method in args.methods:
                            key = (graph, d, noise, seed, scale, method, args.n)
                            if key in done:
                                continue
                            t0 = time.perf_counter()
                            try:
                                pred, sc, kind = METHODS[method](X.copy())
                                error = None
                            except Exception as e:  # a peer failing is recorded, not fatal
                                pred, sc, kind, error = None, None, None, f"{type(e).__name__}: {e}"
                            seconds = time.perf_counter() - t0
                            rec = {"graph": graph, "d": d, "n": args.n, "noise": noise,
                                   "seed": seed, "scale": scale, "method": method,
                                   "seconds": seconds, "true_edges": int(B.sum()),
                                   "varsortability": vs, "error": error}
                            if method in PEER_OF:
                                rec["package_version"] = _package_version(method)
                            if pred is not None:
                                rec.update(score(B, pred, sc, kind))
                            RECORDS.append(rec)
                            log.info("%s %s d=%d %s seed=%d %s: shd=%s shd_cpdag=%s %.1fs",
                                     method, graph, d, noise, seed, scale, rec.get("shd"),
                                     rec.get("shd_cpdag"), seconds)
    write_report()


def run_big(args: argparse.Namespace) -> None:
    done = RECORDS.done(["dagforge"] if args.redo else [], time.time())
    for seed in args.seeds:
        key = ("ER2", 1000, "gauss", seed, "raw", "dagforge", 10000)
        if key in done:
            continue
        xp, bp = dataset("ER2", 1000, "gauss", seed, n=10000)
        X, B = np.load(xp), np.load(bp)
        t0 = time.perf_counter()
        m = DagLearner(n_threads=None).fit(X)
        seconds = time.perf_counter() - t0
        rec = {"graph": "ER2", "d": 1000, "n": 10000, "noise": "gauss", "seed": seed,
               "scale": "raw", "method": "dagforge", "seconds": seconds,
               "true_edges": int(B.sum()), "varsortability": None, "error": None,
               "threads": torch.get_num_threads(), "h": m.h_,
               **score(B, m.weights_, np.abs(m.W_), "dag")}
        RECORDS.append(rec)
        log.info("d=1000 seed=%d: f1=%.3f shd=%s %.0fs", seed, rec["f1"], rec["shd"], seconds)
    write_report()


# --------------------------------------------------------------------------- report


def report_text() -> str:
    """The Markdown report, from the records only."""
    records = RECORDS.load()
    by_family: dict[tuple, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for r in records:
        if r["d"] == 1000:
            continue
        by_family[(r["scale"], r["graph"], r["d"], r["noise"])][r["method"]].append(r)
    lines = [
        "# Linear benchmark",
        "",
        "Written by `python benchmarks/linear.py report` from `linear.jsonl`, which",
        "`python benchmarks/linear.py run ...` and `... big` append to as they measure.",
        f"dagforge {__version__}, Python {platform.python_version()}, torch {torch.__version__},",
        "one thread per method, methods run one after another in one process on the",
        "same data files (n = 1000, 3 seeds per family unless noted: a cell marked (n=k)",
        "has k seeds so far).",
        "",
        "Cells are medians over seeds: SHD (a reversal counts 1) / SHD between CPDAGs /",
        "F1 / AUPRC / seconds. GES returns an equivalence class, so only its SHD-CPDAG is",
        "shown. `dagforge` is the default (`DagLearner()`: least squares, log-det path",
        "following, BIC refinement); `dagforge-nll` uses the non-equal-variance likelihood.",
        "`x DAGMA` is the median over data sets of dagforge's wall time / DAGMA's, counting",
        "only pairs measured in the same run (one process, the same file, back to back).",
        "",
    ]
    methods_seen = [m for m in DEFAULT_METHODS if any(m in v for v in by_family.values())]
    for scale in ("raw", "std"):
        fams = sorted(k for k in by_family if k[0] == scale)
        if not fams:
            continue
        lines += [f"## {'Raw' if scale == 'raw' else 'Standardised'} data", ""]
        header = "| family | edges | varsort. | " + " | ".join(methods_seen) + " | x DAGMA |"
        lines += [header, "|" + "---|" * (4 + len(methods_seen))]
        for fam in fams:
            cells = []
            rows = by_family[fam]
            for m in methods_seen:
                rs = [r for r in rows.get(m, []) if r.get("error") is None]
                if not rs:
                    errs = [r["error"] for r in rows.get(m, []) if r.get("error")]
                    cells.append("failed" if errs else "")
                    continue
                cells.append(cell(rs, 3))
            ratio = side_by_side(rows.get("dagforge", []), rows.get("dagma", []),
                                 key=lambda r: r["seed"])
            edges = median([r["true_edges"] for rs in rows.values() for r in rs])
            vs = median([r["varsortability"] for rs in rows.values() for r in rs])
            lines.append(f"| {fam[1]} d={fam[2]} {fam[3]} | {fmt(edges)} | {fmt(vs, 2)} | "
                         + " | ".join(cells) + f" | {fmt(median(ratio), 2)} |")
        lines.append("")
    big = [r for r in records if r["d"] == 1000]
    if big:
        lines += ["## d = 1000 (ER2, n = 10000, raw, gauss), dagforge alone", "",
                  "| seed | seconds | F1 | SHD | edges | final h | torch threads |",
                  "|---|---|---|---|---|---|---|"]
        for r in big:
            lines.append(f"| {r['seed']} | {r['seconds']:.0f} | {r['f1']:.3f} | {r['shd']} | "
                         f"{r['true_edges']} | {r.get('h', float('nan')):.1e} | "
                         f"{r.get('threads', '')} |")
        lines.append("")
    errors = sorted({(r["method"], r["error"]) for r in records if r.get("error")})
    if errors:
        lines += ["## Failures", ""] + [f"- {m}: {e}" for m, e in errors] + [""]
    return "\n".join(lines) + "\n"


def write_report() -> None:
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(report_text())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--d", type=int, nargs="+", default=[20, 50, 100])
    r.add_argument("--graphs", nargs="+", default=list(GRAPHS), choices=list(GRAPHS))
    r.add_argument("--noises", nargs="+", default=["gauss", "exp", "gumbel"])
    r.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    r.add_argument("--scales", nargs="+", default=["raw", "std"], choices=["raw", "std"])
    r.add_argument("--methods", nargs="+", default=DEFAULT_METHODS, choices=list(METHODS))
    r.add_argument("--n", type=int, default=1000)
    r.add_argument("--redo", nargs="+", default=[], choices=list(METHODS),
                   help="measure these methods again even where recorded (latest record wins)")
    r.add_argument("--since", type=float, default=None,
                   help="with --redo: keep records measured at or after this Unix time "
                        "(to continue an interrupted --redo run); default: now")
    b = sub.add_parser("big")
    b.add_argument("--seeds", type=int, nargs="+", default=[0])
    b.add_argument("--redo", action="store_true", help="measure recorded seeds again")
    sub.add_parser("report")
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("dagforge").setLevel(logging.WARNING)
    {"run": run_grid, "big": run_big, "report": lambda a: write_report()}[args.cmd](args)


if __name__ == "__main__":
    main()
