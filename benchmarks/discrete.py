"""Discrete and mixed benchmark: dagforge beside pgmpy's hill climbing and causal-learn's
PC and GES.

Usage (peers need the ``bench`` extra: pgmpy, causal-learn)::

    python benchmarks/discrete.py run [--networks asia ...] [--n 1000 5000]
                                      [--seeds 0 1 2] [--methods ...] [--redo ...]
    python benchmarks/discrete.py mixed [--d 20 50] [--n 1000 5000] [--seeds 0 1 2]
    python benchmarks/discrete.py report

Networks: the discrete Bayesian networks shipped with dagforge (bnlearn's ``asia``,
``sachs``, ``child``, ``insurance``, ``alarm``), ``n`` rows drawn with our own seeds;
rows holding a level seen once in the sample are left out for every method (dagforge
refuses such a level: its effect cannot be estimated). Mixed data:
:func:`dagforge.simulate.simulate_mixed` (ER2, half the variables discrete with 2-4
levels), scored by dagforge with its column types, and with every column read as a
Gaussian number (the same learner, ``types`` all continuous).

Metrics: SHD between CPDAGs (the level PC and GES answer at), directed SHD for the
DAG learners, seconds of the method call. Methods run one after another in this
process, one thread each; every record carries the commit it ran on; ``report`` writes
``results/discrete.md`` from the records only.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("TQDM_DISABLE", "1")

import argparse
import logging
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from dagforge.data import Dataset, VarType
from dagforge.datasets.discrete_bn import DiscreteBNName, load_discrete_bn
from dagforge.estimator import DagLearner
from dagforge.graph import dag_to_cpdag
from dagforge.metrics import shd
from dagforge.simulate import simulate_mixed

torch.set_num_threads(1)
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import Records, fmt, median  # noqa: E402

JSONL = HERE / "results" / "discrete.jsonl"
REPORT = HERE / "results" / "discrete.md"
RECORDS = Records(JSONL, key=lambda r: (r["set"], r["method"]))
NETWORKS = ("asia", "sachs-discrete", "child", "insurance", "alarm")
log = logging.getLogger("bench.discrete")


def network_sample(name: DiscreteBNName, n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """``n`` rows of the network and its graph, cleaned the same for every method: rows
    with a level seen once left out, then columns with one level (no information in
    the sample; the truth is then the graph induced on the other nodes), until none."""
    frame, B = load_discrete_bn(name, n, np.random.default_rng([seed, 7]))
    names = list(frame.columns)
    while True:
        counts = {c: frame[c].value_counts() for c in frame.columns}
        constant = [c for c in frame.columns if (counts[c] > 0).sum() < 2]
        if constant:
            frame = frame.drop(columns=constant)
            continue
        keep = np.ones(len(frame), dtype=bool)
        for col in frame.columns:  # leaving rows out can leave another level seen once
            keep &= ~frame[col].isin(counts[col].index[counts[col] == 1]).to_numpy()
        if keep.all():
            idx = [names.index(c) for c in frame.columns]
            return frame.reset_index(drop=True), B[np.ix_(idx, idx)]
        frame = frame[keep]


def _codes(frame: pd.DataFrame) -> np.ndarray:
    return Dataset.from_matrix(frame).values.astype(int)


def _dagforge(**kw) -> Callable[[pd.DataFrame], np.ndarray]:
    return lambda frame: DagLearner(random_state=0, **kw).fit(frame).adjacency_


def _pgmpy_hc(score: str) -> Callable[[pd.DataFrame], np.ndarray]:
    def run(frame: pd.DataFrame) -> np.ndarray:
        from pgmpy.estimators import HillClimbSearch

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            dag = HillClimbSearch(frame.astype(str)).estimate(scoring_method=score,
                                                              show_progress=False)
        index = {v: k for k, v in enumerate(frame.columns)}
        A = np.zeros((frame.shape[1],) * 2, dtype=int)
        for u, v in dag.edges():
            A[index[u], index[v]] = 1
        return A
    return run


def _pc(test: str) -> Callable[[pd.DataFrame], np.ndarray]:
    def run(frame: pd.DataFrame) -> np.ndarray:
        from peers import run_pc

        return run_pc(_codes(frame).astype(float), alpha=0.05, indep_test=test)
    return run


def _ges_bdeu(frame: pd.DataFrame) -> np.ndarray:
    from peers import run_ges

    return run_ges(_codes(frame).astype(float), score_func="local_score_BDeu")


#: method -> (run, kind): "dag" answers a DAG, "cpdag" an equivalence class
METHODS: dict[str, tuple[Callable[[pd.DataFrame], np.ndarray], str]] = {
    "empty": (lambda frame: np.zeros((frame.shape[1],) * 2, dtype=int), "dag"),
    "dagforge": (_dagforge(), "dag"),
    "dagforge-bdeu": (_dagforge(score="bdeu"), "dag"),
    "pgmpy-hc-bic": (_pgmpy_hc("bic-d"), "dag"),
    "pgmpy-hc-bdeu": (_pgmpy_hc("bdeu"), "dag"),
    "pc-chisq": (_pc("chisq"), "cpdag"),
    "pc-gsq": (_pc("gsq"), "cpdag"),
    "ges-bdeu": (_ges_bdeu, "cpdag"),
}


def measure(set_name: str, frame: pd.DataFrame, B: np.ndarray, method: str,
            run: Callable[[pd.DataFrame], np.ndarray], kind: str, **extra) -> dict:
    rec = {"set": set_name, "method": method, "rows": len(frame), **extra}
    start = time.perf_counter()
    try:
        A = np.asarray(run(frame))
    except Exception as e:  # a peer that fails is recorded with its error
        rec["error"] = f"{type(e).__name__}: {e}"[:300]
        log.warning("%s on %s failed: %s", method, set_name, rec["error"])
        RECORDS.append(rec)
        return rec
    rec["seconds"] = round(time.perf_counter() - start, 3)
    T = dag_to_cpdag(B) != 0
    C = (A != 0) if kind == "cpdag" else dag_to_cpdag(A) != 0
    iu = np.triu_indices(len(B), 1)
    rec["shd_cpdag"] = int(np.sum((T[iu] != C[iu]) | (T.T[iu] != C.T[iu])))
    rec["shd"] = shd(true=B, pred=A) if kind == "dag" else None
    log.info("%s %s: %s", set_name, method, {k: rec[k] for k in ("shd_cpdag", "seconds")})
    RECORDS.append(rec)
    return rec


def run_networks(args: argparse.Namespace) -> None:
    done = RECORDS.done(args.redo, since=time.time())
    for name in args.networks:
        for n in args.n:
            for seed in args.seeds:
                set_name = f"{name}-n{n}-s{seed}"
                frame, B = network_sample(name, n, seed)
                for method in args.methods:
                    if (set_name, method) not in done:
                        run, kind = METHODS[method]
                        measure(set_name, frame, B, method, run, kind, network=name, n=n,
                                seed=seed)


def run_mixed(args: argparse.Namespace) -> None:
    done = RECORDS.done(args.redo, since=time.time())
    for d in args.d:
        for n in args.n:
            for seed in args.seeds:
                set_name = f"mixed-d{d}-n{n}-s{seed}"
                sim = simulate_mixed(graph="er", k=2, d=d, n=n, discrete=0.5,
                                     rng=np.random.default_rng(seed))
                frame = pd.DataFrame(sim.X, columns=sim.names)
                types = {name: t.value for name, t in zip(sim.names, sim.types, strict=True)}
                gaussian = dict.fromkeys(sim.names, VarType.CONTINUOUS.value)
                runs = {
                    "empty": METHODS["empty"][0],
                    "dagforge": lambda f, t=types: DagLearner(random_state=0).fit(
                        Dataset.from_matrix(f, types=t)).adjacency_,
                    "dagforge-all-gaussian": lambda f, t=gaussian: DagLearner(
                        random_state=0).fit(Dataset.from_matrix(f, types=t)).adjacency_,
                }
                for method, run in runs.items():
                    if (set_name, method) not in done:
                        measure(set_name, frame, sim.B, method, run, "dag", network="mixed",
                                d=d, n=n, seed=seed)


def report_text() -> str:
    """The Markdown report, from the records only."""
    records = [r for r in RECORDS.load() if "error" not in r]
    lines = ["# Discrete and mixed benchmark", "",
             "Written by `python benchmarks/discrete.py report` from `results/discrete.jsonl`; "
             "see the script's docstring for the data. Cells: median SHD between CPDAGs / "
             "median seconds (method call) over the seeds (count in brackets when not 3).",
             ""]
    sets = sorted({(r["network"], r.get("n"), r.get("d")) for r in records},
                  key=lambda t: (t[0] == "mixed", str(t)))
    methods = [m for m in [*METHODS, "dagforge-all-gaussian"]
               if any(r["method"] == m for r in records)]
    lines.append("| data | " + " | ".join(methods) + " |")
    lines.append("|---|" + "---|" * len(methods))
    for net, n, d in sets:
        row = []
        for m in methods:
            rs = [r for r in records if r["network"] == net and r.get("n") == n
                  and r.get("d") == d and r["method"] == m]
            row.append(f"{fmt(median([r['shd_cpdag'] for r in rs]))} / "
                       f"{fmt(median([r['seconds'] for r in rs]), 1)}"
                       + (f" ({len(rs)})" if len(rs) != 3 else "") if rs else "")
        label = f"{net} n={n}" + (f" d={d}" if d else "")
        lines.append(f"| {label} | " + " | ".join(row) + " |")
    errors = [r for r in RECORDS.load() if "error" in r]
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
    r.add_argument("--networks", nargs="+", default=list(NETWORKS), choices=list(NETWORKS))
    r.add_argument("--n", nargs="+", type=int, default=[1000, 5000])
    r.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    r.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    r.add_argument("--redo", nargs="*", default=[])
    m = sub.add_parser("mixed")
    m.add_argument("--d", nargs="+", type=int, default=[20, 50])
    m.add_argument("--n", nargs="+", type=int, default=[1000, 5000])
    m.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    m.add_argument("--redo", nargs="*", default=[])
    sub.add_parser("report")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    for name in ("dagforge", "pgmpy"):  # pgmpy logs every data type it infers
        logging.getLogger(name).setLevel(logging.WARNING)
    {"run": run_networks, "mixed": run_mixed, "report": lambda a: report()}[args.cmd](args)


if __name__ == "__main__":
    main()
