"""What a fit leaves in its run directory, written the same way by every entry point.

``weights.csv`` (the solver's continuous ``W_``), ``edges.csv`` (the output DAG's
weighted edges), ``adjacency.csv`` (0/1 output DAG), ``history.csv`` (per epoch for
the mini-batch trainer, else per outer step) and ``run.json``. Each file is written
atomically.

``dagforge fit --out DIR`` also keeps ``manifest.json`` (:class:`RunManifest`), so a
reader can tell a finished run from an interrupted one::

    {"format": "dagforge-run", "version": 1, "command": "fit", "complete": false,
     "started": "...", "files": {"adjacency.csv": null, ...}}

is written before the fit starts; when every file is written it becomes
``"complete": true`` with each file's ``sha256`` and size (:func:`verify_run_dir`
checks them). A run killed in between leaves ``"complete": false``; a run that fails
with an error records it (``"error"``), or, when it wrote nothing, puts back the
manifest that was there before.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import platform
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from dagforge import __version__
from dagforge._io import atomic_open, write_json
from dagforge.errors import DataError
from dagforge.graph import is_dag, write_adjacency, write_cpdag, write_edge_list
from dagforge.train import write_history_csv

__all__ = ["FIT_FILES", "MANIFEST_FILE", "RunManifest", "verify_run_dir", "versions",
           "write_dataset", "write_fit"]

#: The files :func:`write_fit` writes (the probabilities after bootstrap refits).
FIT_FILES = ("weights.csv", "edges.csv", "adjacency.csv", "cpdag.csv", "history.csv",
             "run.json", "edge_probability.csv", "adjacency_probability.csv")
#: The manifest of a run directory (:class:`RunManifest`).
MANIFEST_FILE = "manifest.json"
MANIFEST_FORMAT = "dagforge-run"


#: Column of ``data.csv`` holding each row's regime label (interventional data).
REGIME_COLUMN = "regime"


def write_dataset(out: Path, X: np.ndarray, names: Sequence[str],
                  W_true: np.ndarray | None, regimes: np.ndarray | None = None,
                  targets: Mapping[str, Sequence[str]] | None = None,
                  levels: Sequence[Sequence[str] | None] | None = None) -> None:
    """Write ``data.csv`` (header = names) and, when the truth is known,
    ``true_edges.csv`` (each atomically). Interventional data add the column
    :data:`REGIME_COLUMN` to ``data.csv`` and write ``targets.json``, ready for
    ``dagforge fit data.csv --regime regime --targets targets.json``. Discrete columns
    (``levels``: their level names, None for continuous ones) are written by level
    name, so that reading the file back infers their types."""
    import pandas as pd

    frame = pd.DataFrame(np.asarray(X), columns=list(names))
    for j, lv in enumerate(levels or ()):
        if lv is not None:  # the column replaced whole: its values change type
            name = frame.columns[j]
            frame[name] = np.asarray(lv, dtype=object)[frame[name].to_numpy(int)]
    if regimes is not None:
        if REGIME_COLUMN in frame.columns:
            raise DataError(f"a variable is called {REGIME_COLUMN!r}, the regime column")
        frame[REGIME_COLUMN] = regimes
        write_json(out / "targets.json", {str(k): list(v) for k, v in (targets or {}).items()})
    with atomic_open(out / "data.csv", "w", encoding="utf-8", newline="") as fh:
        frame.to_csv(fh, index=False, float_format="%.10g")
    if W_true is not None:
        write_edge_list(out / "true_edges.csv", W_true, names)


def versions() -> dict[str, str]:
    """Versions of dagforge and of what its results depend on."""
    return {"dagforge": __version__, "python": platform.python_version(),
            "numpy": np.__version__, "torch": torch.__version__}


def _typed_columns(learner: Any, names: Sequence[str]) -> dict[str, Any]:
    """``types`` and ``levels`` of the discrete columns, for ``run.json`` (nothing for an
    all-continuous table)."""
    kinds = getattr(learner, "column_types_", None)
    if not kinds or all(k == "continuous" for k in kinds):
        return {}
    levels = learner.levels_
    return {"types": dict(zip(names, kinds, strict=True)),
            "levels": {n: list(lv) for n, lv in zip(names, levels, strict=True) if lv}}


def write_fit(out: Path, learner: Any, names: Sequence[str], info: Mapping[str, Any]) -> dict:
    """Write a fitted :class:`~dagforge.estimator.DagLearner`'s outputs to ``out``;
    ``info`` is merged into ``run.json`` (e.g. the command, data and config).
    Returns the ``run.json`` content."""
    write_adjacency(out / "weights.csv", learner.W_, names)
    write_edge_list(out / "edges.csv", learner.weights_, names)
    write_adjacency(out / "adjacency.csv", learner.adjacency_, names)
    write_cpdag(out / "cpdag.csv", learner.cpdag_, names)
    write_history_csv(out / "history.csv", learner.train_history_ or learner.history_)
    for name in ("edge_probability", "adjacency_probability"):
        if getattr(learner, f"{name}_", None) is not None:
            write_adjacency(out / f"{name}.csv", getattr(learner, f"{name}_"), names)
        else:  # not from an earlier fit into the same directory
            (out / f"{name}.csv").unlink(missing_ok=True)
    # the mini-batch trainer logs each step's gradient norm before clipping; the
    # solvers log per-term gradient norms at the end of every outer step
    step_norms = [r["grad_norm_max"] for r in learner.train_history_ if "grad_norm_max" in r]
    term_norms = [max(r["grad_fit"], r["grad_sparsity"], r["grad_acyclicity"])
                  for r in learner.history_]
    run = {
        **info,
        "versions": versions(),
        "seconds": round(learner.fit_seconds_, 3),
        "stop_reason": learner.stop_reason_,
        "h": learner.h_,
        "threshold": learner.threshold_,
        "n_edges": int(learner.adjacency_.sum()),
        "is_dag": is_dag(learner.adjacency_),
        "noise_model": learner.noise_model_,
        "residual_spread": learner.residual_spread_,
        "linear_noise_model": learner.linear_noise_model_,
        "refine": learner.refine_,
        "score": learner.score_,
        **_typed_columns(learner, names),
        "refine_scores": learner.refine_scores_,
        "max_grad_norm_before_clipping": max(step_norms) if step_norms else None,
        "max_term_grad_norm": max(term_norms) if term_norms else None,
        "history": learner.history_,
    }
    write_json(out / "run.json", run)
    return run


# --------------------------------------------------------------------------- manifest


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _stamp(path: Path) -> tuple[int, int] | None:
    """(mtime in ns, size) of ``path``, or None if it is not there: has it been rewritten?"""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_mtime_ns, st.st_size


class RunManifest:
    """``manifest.json`` of a run directory: which files belong to the run, and whether
    the run finished.

    Parameters
    ----------
    out : Path
        The run directory.
    command : str
        What wrote it (e.g. ``"fit"``).
    files : sequence of str
        The files the run writes (names inside ``out``); those missing at the end
        (e.g. no checkpoint) are left out of the finished manifest.

    Notes
    -----
    Use::

        manifest = RunManifest(out, "fit", FIT_FILES)
        manifest.start()                 # "complete": false
        try:
            ...                          # the work: write the files
        except BaseException as e:
            manifest.fail(str(e))        # recorded, or the old manifest put back
            raise
        manifest.finish()                # "complete": true, sha256 of each file
    """

    def __init__(self, out: Path, command: str, files: Sequence[str]) -> None:
        self.out = Path(out)
        self.path = self.out / MANIFEST_FILE
        self.command = command
        self.files = list(files)
        self._previous = self.path.read_bytes() if self.path.is_file() else None
        self._stamps = {f: _stamp(self.out / f) for f in self.files}
        self._started = _now()

    def _write(self, **fields: Any) -> dict[str, Any]:
        content = {"format": MANIFEST_FORMAT, "version": 1, "command": self.command,
                   "dagforge": __version__, "started": self._started, **fields}
        write_json(self.path, content)
        return content

    def start(self) -> None:
        """Write ``"complete": false`` (before the first file of the run is written)."""
        self._write(complete=False, files=dict.fromkeys(self.files))

    def finish(self) -> dict[str, Any]:
        """Write ``"complete": true`` with the sha256 and size of every file; returns it."""
        files = {f: {"sha256": _sha256(self.out / f), "bytes": (self.out / f).stat().st_size}
                 for f in self.files if (self.out / f).is_file()}
        return self._write(complete=True, finished=_now(), files=files)

    def fail(self, error: str) -> None:
        """The run stopped with ``error``: record it, or, if none of its files was
        (re)written, put the directory's manifest back as it was (or remove it)."""
        if any(_stamp(self.out / f) != self._stamps[f] for f in self.files):
            self._write(complete=False, stopped=_now(), error=error,
                        files=dict.fromkeys(self.files))
        elif self._previous is not None:
            with atomic_open(self.path, "wb") as fh:
                fh.write(self._previous)
        else:
            self.path.unlink(missing_ok=True)


def verify_run_dir(out: str | Path) -> list[str]:
    """Problems with a run directory's ``manifest.json``: missing or unreadable, the
    run not complete, a listed file missing or changed (sha256). Empty if it is sound."""
    out = Path(out)
    path = out / MANIFEST_FILE
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return [f"{path}: no manifest"]
    except (OSError, ValueError) as e:
        return [f"{path}: unreadable ({type(e).__name__})"]
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        return [f"{path}: not a dagforge run manifest"]
    problems = []
    if manifest.get("complete") is not True:
        reason = manifest.get("error") or "interrupted, or still running"
        problems.append(f"{out}: the run is not complete ({reason})")
    for name, entry in (manifest.get("files") or {}).items():
        if not isinstance(entry, dict):
            continue
        f = out / name
        if not f.is_file():
            problems.append(f"{f}: listed in the manifest but missing")
        elif _sha256(f) != entry.get("sha256"):
            problems.append(f"{f}: changed since the run wrote it (sha256 differs)")
    return problems
