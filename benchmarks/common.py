"""Shared pieces of the benchmark scripts: results records, scoring, formatting.

Every script appends one JSON record per (data set, method) to its ``.jsonl`` as
soon as it is measured, and writes its Markdown report from those records only.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

import dagforge
from dagforge.graph import dag_to_cpdag
from dagforge.metrics import evaluate

KEY_FIELDS = ("graph", "d", "noise", "seed", "scale", "method", "n")


def source_id() -> str:
    """Path and content hash of the dagforge package under test (long runs use a
    frozen copy of the source, so that edits during the run do not mix into it)."""
    root = Path(dagforge.__file__).resolve().parent
    h = hashlib.sha256()
    for f in sorted(root.rglob("*.py")):
        h.update(f.read_bytes())
    return f"{root} sha256:{h.hexdigest()[:12]}"


SOURCE = source_id()


def commit() -> tuple[str, bool]:
    """The commit the source is at, and whether ``src/`` or ``benchmarks/*.py`` has
    uncommitted changes (then the record says ``dirty`` and the README refuses it)."""
    import subprocess

    root = Path(__file__).resolve().parents[1]
    head = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=root,
                          capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--",
                            "src", "benchmarks/*.py"], cwd=root,
                           capture_output=True, text=True).stdout.strip() != ""
    return head, dirty


COMMIT, DIRTY = commit()
# One id per benchmark process: a time ratio is quoted only between records of one
# run (same process, same file, one after the other), never across runs.
RUN = f"{int(time.time())}-{os.getpid()}"


def peer_version(package: str) -> str | None:
    """The installed version of a peer's distribution (records name it, so that a
    peer's slow run is reused only while its package is unchanged)."""
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def side_by_side(ours: list[dict], theirs: list[dict],
                 key: Callable[[dict], tuple]) -> list[float]:
    """Per-data-set wall-time ratios ours / theirs, only for pairs measured in the same
    run (see :data:`RUN`) without error."""
    by_key = {(key(r), r.get("run")): r["seconds"] for r in theirs
              if not r.get("error") and r.get("run")}
    return [r["seconds"] / by_key[(key(r), r["run"])] for r in ours
            if not r.get("error") and (key(r), r.get("run")) in by_key]


def record_key(r: dict, fields: Iterable[str] = KEY_FIELDS) -> tuple:
    return tuple(r[f] for f in fields)


class Records:
    """The records of one ``.jsonl`` file; the latest record per key wins, so a
    method measured again (``--redo``) replaces its older records."""

    def __init__(self, path: Path, key: Callable[[dict], tuple] = record_key) -> None:
        self.path = path
        self.key = key

    def load(self) -> list[dict]:
        latest: dict[tuple, dict] = {}
        if self.path.exists():
            for line in self.path.read_text().splitlines():
                r = json.loads(line)
                latest[self.key(r)] = r
        return list(latest.values())

    def done(self, redo: Iterable[str] = (), since: float = 0.0) -> set[tuple]:
        """Keys measured already; those of methods in ``redo`` count only if appended
        at or after ``since`` (the start of this invocation)."""
        redo = set(redo)
        return {self.key(r) for r in self.load()
                if r["method"] not in redo or r.get("measured_at", 0.0) >= since}

    def append(self, record: dict) -> None:
        record.setdefault("measured_at", time.time())
        record.setdefault("dagforge", dagforge.__version__)
        record.setdefault("source", SOURCE)
        record.setdefault("commit", COMMIT)
        record.setdefault("dirty", DIRTY)
        record.setdefault("run", RUN)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a") as fh:
            fh.write(json.dumps(record) + "\n")


def _shd_cpdag_from(true: np.ndarray, C: np.ndarray) -> int:
    T = dag_to_cpdag(true)
    iu = np.triu_indices(T.shape[0], 1)
    return int(np.sum((T[iu] != C[iu]) | (T.T[iu] != C.T[iu])))


def score(true: np.ndarray, pred: np.ndarray, scores: np.ndarray | None, kind: str) -> dict:
    """Metrics; for a CPDAG prediction only the CPDAG-level ones are defined."""
    if kind == "cpdag":
        C = (pred != 0).astype(int)
        directed = C * (1 - C.T)
        undirected = C * C.T
        skel = ((C + C.T) > 0)[np.triu_indices(C.shape[0], 1)]
        tskel = ((true + true.T) > 0)[np.triu_indices(C.shape[0], 1)]
        tp = int(np.sum(skel & tskel))
        prec = tp / max(int(skel.sum()), 1)
        rec = tp / max(int(tskel.sum()), 1)
        return {"shd": None, "shd_cpdag": _shd_cpdag_from(true, C), "f1": None,
                "skeleton_f1": 0.0 if tp == 0 else 2 * prec * rec / (prec + rec),
                "auprc": None, "nnz": int(directed.sum() + undirected.sum() / 2),
                "is_dag": None}
    e = evaluate(true=true, pred=pred, scores=scores)
    return {k: e.get(k) for k in ("shd", "shd_cpdag", "f1", "skeleton_f1", "auprc", "nnz",
                                  "is_dag")}


def median(xs: list) -> float | None:
    xs = [x for x in xs if x is not None]
    return float(np.median(xs)) if xs else None


def fmt(x: float | None, digits: int = 0) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def cell(rs: list[dict], n_expected: int) -> str:
    """``SHD / SHD-CPDAG / F1 / AUPRC / seconds`` medians of records ``rs``."""
    return " / ".join([
        fmt(median([r["shd"] for r in rs])),
        fmt(median([r["shd_cpdag"] for r in rs])),
        fmt(median([r["f1"] for r in rs]), 2),
        fmt(median([r["auprc"] for r in rs]), 2),
        fmt(median([r["seconds"] for r in rs]), 1),
    ]) + f" (n={len(rs)})" * (len(rs) != n_expected)
