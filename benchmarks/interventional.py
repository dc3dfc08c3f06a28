"""Interventional benchmark: what experiments add, dagforge beside GIES and SDCD.

Usage (GIES needs the ``bench`` extra, SDCD its own venv: ``make bench-sdcd``)::

    python benchmarks/interventional.py run [--sems linear mlp] [--d 20 50]
                                            [--seeds 0 1 2] [--methods ...] [--redo ...]
    python benchmarks/interventional.py sachs [--methods ...] [--redo ...]
    python benchmarks/interventional.py report

Simulated data: ER2 graphs, linear (weights ``±[0.5, 2]``) or MLP SEMs, Gaussian noise
with unequal scales (``U(0.5, 2)``), 1000 observational rows plus 100 rows for each of
``d/2`` single-variable perfect interventions (value ``N(2, 1)``) on distinct random
variables, every column z-scored over all rows so that the scale gives nothing away;
3 seeds. Each data set is drawn once into ``benchmarks/data/interventional/`` (not
committed) and every method reads that file.

Sachs: the shipped 5,846 cells (two observational conditions, five inhibitors) and the
17-edge consensus graph. The inhibitors are soft interventions (they change a protein's
activity, not its measured level; ``datasets/data/ATTRIBUTION.md``) and flow-cytometry
intensities are log-normal, so dagforge's Sachs default is ``interventions="soft"`` on
log values, chosen from that alone; the other combinations are shown beside it.

Metrics: directed SHD, and the SHD between interventional essential graphs under the
data's targets (``shd_icpdag``), the level at which GIES answers; the empty graph and
sortnregress beside. Methods run one after another in this process, one thread each;
``dagforge`` and ``dagforge-noregimes`` run back to back on the same file, so their
time ratio is side by side. Every record carries the commit it ran on (and ``dirty``
when ``src/`` had uncommitted changes); ``report`` writes
``results/interventional.md`` from the records only.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("TQDM_DISABLE", "1")

import argparse
import logging
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from dagforge.baselines import sortnregress
from dagforge.data import Dataset
from dagforge.datasets import load_sachs
from dagforge.estimator import DagLearner
from dagforge.graph import dag_to_icpdag
from dagforge.metrics import shd, shd_cpdag, shd_icpdag
from dagforge.metrics.shd import count_edges
from dagforge.simulate import InterventionDesign, random_targets, simulate

torch.set_num_threads(1)
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from common import Records, fmt, median  # noqa: E402

DATA = HERE / "data" / "interventional"
JSONL = HERE / "results" / "interventional.jsonl"
REPORT = HERE / "results" / "interventional.md"
SDCD_PYTHON = ROOT / ".venv-sdcd" / "bin" / "python"
RECORDS = Records(JSONL, key=lambda r: (r["set"], r["method"]))
log = logging.getLogger("bench.interventional")




# --------------------------------------------------------------------------- data


def simulated(sem: str, d: int, seed: int) -> tuple[Dataset, np.ndarray]:
    """The data set ``sem``-ER2-``d``-seed and its true graph (drawn once, then read from
    its file)."""
    path = DATA / f"{sem}-er2-d{d}-s{seed}.npz"
    if not path.exists():
        design = InterventionDesign(random_targets(d, d // 2, np.random.default_rng([seed, 1])),
                                    n_obs=1000, n_per_regime=100, kind="perfect")
        sim = simulate(graph="er", k=2, d=d, sem=sem, noise="gauss", noise_scales="unequal",
                       standardize=True, interventions=design, rng=np.random.default_rng(seed))
        path.parent.mkdir(parents=True, exist_ok=True)
        labels = list(sim.targets)  # type: ignore[arg-type]
        np.savez(path, X=sim.X, B=sim.B, names=np.array(sim.names),
                 regimes=np.array([labels.index(r) for r in sim.regimes]),  # type: ignore
                 labels=np.array(labels),
                 targets=np.array([",".join(sim.targets[lab]) for lab in labels]))  # type: ignore
    f = np.load(path)
    labels = [str(s) for s in f["labels"]]
    targets = {lab: [v for v in str(t).split(",") if v]
               for lab, t in zip(labels, f["targets"], strict=True)}
    data = Dataset.from_matrix(f["X"], [str(s) for s in f["names"]])
    return data.with_regimes(np.array(labels)[f["regimes"]], targets), f["B"]


def sachs(log_values: bool) -> tuple[Dataset, np.ndarray]:
    """The 5,846 Sachs cells (log or raw values) with their regimes, and the graph."""
    X, reg, targets, B = load_sachs(interventional=True)
    values = np.log(X.to_numpy()) if log_values else X.to_numpy()
    return Dataset.from_matrix(values, list(X.columns)).with_regimes(reg, targets), B


def target_sets(data: Dataset) -> list[list[int]]:
    index = {name: j for j, name in enumerate(data.names)}
    return [[index[v] for v in t] for t in (data.targets or {}).values() if t]


# --------------------------------------------------------------------------- methods


def _dagforge(model: str, use_regimes: bool, **kw) -> Callable[[Dataset], np.ndarray]:
    def run(data: Dataset) -> np.ndarray:
        X = data if use_regimes else Dataset.from_matrix(data.values, list(data.names))
        return DagLearner(model=model, random_state=0, **kw).fit(X).adjacency_
    return run


def _gies(data: Dataset) -> np.ndarray:
    import gies

    labels = list(dict.fromkeys(data.regimes))  # type: ignore[arg-type]
    index = {name: j for j, name in enumerate(data.names)}
    parts = [data.values[data.regimes == lab] for lab in labels]
    targets = [[index[v] for v in data.targets[lab]] for lab in labels]  # type: ignore
    return (gies.fit_bic(parts, targets)[0] != 0).astype(int)  # an I-essential graph


def _sdcd(data: Dataset) -> np.ndarray:
    if not SDCD_PYTHON.exists():
        raise RuntimeError(f"{SDCD_PYTHON} missing: make bench-sdcd")
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.npz", Path(tmp) / "out.npz"
        np.savez(src, X=data.values, mask=(~data.intervened()).astype(np.int8), seed=0)
        subprocess.run([str(SDCD_PYTHON), str(HERE / "sdcd_runner.py"), str(src), str(dst)],
                       check=True, capture_output=True)
        return np.load(dst)["adjacency"].astype(int)


#: method -> (run, kind): "dag" answers a DAG, "icpdag" an interventional essential graph
METHODS: dict[str, tuple[Callable[[Dataset], np.ndarray], str]] = {
    "empty": (lambda data: np.zeros((data.d, data.d), int), "dag"),
    "sortnregress": (lambda data: (sortnregress(data.values) != 0).astype(int), "dag"),
    "dagforge": (_dagforge("linear", True), "dag"),
    "dagforge-noregimes": (_dagforge("linear", False), "dag"),
    "dagforge-mlp": (_dagforge("mlp", True), "dag"),
    "dagforge-mlp-noregimes": (_dagforge("mlp", False), "dag"),
    "gies": (_gies, "icpdag"),
    "sdcd": (_sdcd, "dag"),
}


def measure(set_name: str, data: Dataset, B: np.ndarray, method: str,
            run: Callable[[Dataset], np.ndarray], kind: str, **extra) -> dict:
    """Run one method on one data set (true graph ``B``) and append its record."""
    targets = target_sets(data)
    rec = {"set": set_name, "method": method, **extra}
    start = time.perf_counter()
    try:
        A = run(data)
    except Exception as e:  # a peer that fails is recorded with its error
        rec["error"] = f"{type(e).__name__}: {e}"[:300]
        log.warning("%s on %s failed: %s", method, set_name, rec["error"])
        RECORDS.append(rec)
        return rec
    rec["seconds"] = round(time.perf_counter() - start, 3)
    if kind == "icpdag":
        truth = dag_to_icpdag(B, targets) != 0
        rec.update(shd=None, shd_icpdag=count_edges(truth, A != 0).shd,
                   nnz=int(((A + A.T) > 0).sum() // 2))
    else:
        rec.update(shd=shd(true=B, pred=A), shd_icpdag=shd_icpdag(true=B, pred=A,
                                                                   targets=targets),
                   shd_cpdag=shd_cpdag(true=B, pred=A), nnz=int((A != 0).sum()))
    log.info("%s %s: %s", set_name, method, {k: rec.get(k) for k in ("shd", "shd_icpdag",
                                                                      "seconds")})
    RECORDS.append(rec)
    return rec


def run_simulated(args: argparse.Namespace) -> None:
    done = RECORDS.done(args.redo, since=time.time())
    for sem in args.sems:
        for d in args.d:
            for seed in args.seeds:
                name = f"{sem}-er2-d{d}-s{seed}"
                data, B = simulated(sem, d, seed)
                for method in args.methods:
                    if (name, method) in done or (method.startswith("dagforge-mlp")
                                                  and sem != "mlp"):
                        continue
                    run, kind = METHODS[method]
                    measure(name, data, B, method, run, kind, sem=sem, d=d, seed=seed)


#: Sachs rows: name -> (log values?, regimes?, method, DagLearner settings)
SACHS_RUNS = {
    "dagforge (log, soft)": (True, True, "dagforge", {"interventions": "soft"}),
    "dagforge (log, perfect)": (True, True, "dagforge", {}),
    "dagforge (raw, soft)": (False, True, "dagforge", {"interventions": "soft"}),
    "dagforge (raw, perfect)": (False, True, "dagforge", {}),
    "dagforge, regimes ignored (log)": (True, False, "dagforge", {}),
    "dagforge-mlp (log, soft)": (True, True, "dagforge-mlp", {"interventions": "soft"}),
    "gies (log)": (True, True, "gies", {}),
    "gies (raw)": (False, True, "gies", {}),
    "sdcd (log)": (True, True, "sdcd", {}),
    "empty": (True, True, "empty", {}),
}


def run_sachs(args: argparse.Namespace) -> None:
    done = RECORDS.done(args.redo, since=time.time())
    for name, (log_values, regimes, method, settings) in SACHS_RUNS.items():
        if ("sachs", name) in done or method not in args.methods:
            continue
        data, B = sachs(log_values)
        if method.startswith("dagforge"):
            model = "mlp" if method == "dagforge-mlp" else "linear"
            run = _dagforge(model, regimes, **settings)
        else:
            run = METHODS[method][0]
        measure("sachs", data, B, name, run, METHODS[method][1], sem="sachs")


# --------------------------------------------------------------------------- report


def report_text() -> str:
    """The Markdown report, from the records only."""
    records = [r for r in RECORDS.load() if "error" not in r]
    errors = [r for r in RECORDS.load() if "error" in r]
    lines = ["# Interventional benchmark", "",
             "Written by `python benchmarks/interventional.py report` from "
             "`results/interventional.jsonl`; see the script's docstring for the data.",
             "Cells: median directed SHD / SHD between interventional essential graphs / "
             "seconds (method call) over the seeds; GIES answers an I-essential graph, so "
             "only its second number exists.", ""]
    sims = sorted({(r["sem"], r["d"]) for r in records if r.get("sem") != "sachs"})
    methods = [m for m in METHODS if any(r["method"] == m for r in records)]
    lines.append("| data | " + " | ".join(methods) + " |")
    lines.append("|---|" + "---|" * len(methods))
    for sem, d in sims:
        row = []
        for m in methods:
            rs = [r for r in records if r.get("sem") == sem and r.get("d") == d
                  and r["method"] == m]
            row.append(" / ".join([fmt(median([r["shd"] for r in rs])),
                                   fmt(median([r["shd_icpdag"] for r in rs])),
                                   fmt(median([r["seconds"] for r in rs]), 1)])
                       + f" ({len(rs)})" if rs else "")
        lines.append(f"| {sem} ER2 d={d} | " + " | ".join(row) + " |")
    lines += ["", "Per seed (directed SHD): " + "; ".join(
        f"{sem} d={d} {m} " + "/".join(str(r["shd"]) for r in sorted(
            (r for r in records if r.get("sem") == sem and r.get("d") == d
             and r["method"] == m), key=lambda r: r["seed"]))
        for sem, d in sims for m in ("dagforge", "dagforge-noregimes")), ""]
    pairs = [(a["seconds"], b["seconds"]) for a in records for b in records
             if a["method"] == "dagforge" and b["method"] == "dagforge-noregimes"
             and a["set"] == b["set"] and a["set"] != "sachs"
             and a.get("run", a["commit"]) == b.get("run", b["commit"])]
    if pairs:
        ratios = [a / b for a, b in pairs]
        lines.append(f"Time with regimes / without (linear, same file, back to back): "
                     f"median {np.median(ratios):.2f}, max {max(ratios):.2f} over "
                     f"{len(ratios)} sets.")
    lines += ["", "## Sachs (5,846 cells, 17 consensus edges)", "",
              "| method | SHD | SHD I-essential | edges | seconds |", "|---|---|---|---|---|"]
    for r in (r for r in records if r["set"] == "sachs"):
        lines.append(f"| {r['method']} | {fmt(r['shd'])} | {r['shd_icpdag']} | {r['nnz']} | "
                     f"{r['seconds']:.1f} |")
    commits = sorted({f"{r['commit']}{' (dirty)' if r['dirty'] else ''}"
                      for r in RECORDS.load()})
    lines += ["", f"Commits: {', '.join(commits)}."]
    if errors:
        lines += ["", "Failures: " + "; ".join(f"{r['method']} on {r['set']}: {r['error']}"
                                              for r in errors)]
    return "\n".join(lines) + "\n"


def report() -> None:
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(report_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--sems", nargs="+", default=["linear", "mlp"])
    r.add_argument("--d", nargs="+", type=int, default=[20, 50])
    r.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    r.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    r.add_argument("--redo", nargs="*", default=[])
    s = sub.add_parser("sachs")
    s.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    s.add_argument("--redo", nargs="*", default=[])
    sub.add_parser("report")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    {"run": run_simulated, "sachs": run_sachs, "report": lambda a: report()}[args.cmd](args)


if __name__ == "__main__":
    main()
