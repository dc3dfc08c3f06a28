"""A tool that never loses work or lies: run manifests, kill and resume, checkpoints.

* ``dagforge fit --out DIR`` keeps ``DIR/manifest.json``: ``complete: false`` while
  it runs (and after a kill), ``complete: true`` with the sha256 of every file at the
  end; a fit that fails having written nothing leaves the directory as it was.
* A real ``dagforge fit`` process, SIGKILLed after its first checkpoint and run
  again with ``--resume``, ends with the graph of an uninterrupted run; two
  processes with the same seed and data give the same graph (CPU).
* Checkpoints are only ever read with ``torch.load(weights_only=True)``; a
  truncated, tampered or pickled checkpoint is one line and exit code 2.
"""

from __future__ import annotations

import ast
import json
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

import dagforge.resume as resume_mod
from dagforge.checkpoint import FORMAT, save_checkpoint
from dagforge.cli import main
from dagforge.rundir import FIT_FILES, MANIFEST_FILE, verify_run_dir

ROOT = Path(__file__).resolve().parents[1]

#: The same CPU and thread settings for every process, so runs are comparable bit for bit.
ENV = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1",
       "MKL_NUM_THREADS": "1"}

#: MLP on the Adam trainer: a checkpoint every 10 epochs, about 25 in all (seconds).
ADAM = "inner: adam\nmodel_options:\n  hidden: [8]\ntrain_options:\n  max_epochs: 80\n" \
       "  batch_size: 64\n"


def chain_csv(path: Path, n: int = 300, seed: int = 0) -> Path:
    """A 5-node nonlinear chain x0 -> x1 -> x2 -> x3 -> x4 (tanh and sin links)."""
    rng = np.random.default_rng(seed)
    X = np.zeros((n, 5))
    X[:, 0] = rng.normal(size=n)
    for j in range(1, 5):
        link = np.tanh if j % 2 else np.sin
        X[:, j] = link(2 * X[:, j - 1]) + 0.3 * rng.normal(size=n)
    rows = "\n".join(",".join(f"{v:.8g}" for v in row) for row in X)
    path.write_text("x0,x1,x2,x3,x4\n" + rows + "\n")
    return path


def manifest(out: Path) -> dict:
    return json.loads((out / MANIFEST_FILE).read_text())


def run(capsys, *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().err


# --------------------------------------------------------------------------- manifest


@pytest.fixture
def small_csv(tmp_path) -> Path:
    from helpers import sample_five_node

    X = sample_five_node(n=200)
    path = tmp_path / "data.csv"
    path.write_text("a,b,c,d,e\n" + "\n".join(",".join(f"{v:.6f}" for v in r) for r in X))
    return path


def test_manifest_of_a_finished_fit(tmp_path, capsys, small_csv) -> None:
    out = tmp_path / "fit"
    code, err = run(capsys, "fit", str(small_csv), "--seed", "0", "--out", str(out))
    assert code == 0, err
    m = manifest(out)
    assert m["complete"] is True and m["command"] == "fit" and m["format"] == "dagforge-run"
    assert set(m["files"]) == set(FIT_FILES) - {"edge_probability.csv",
                                                "adjacency_probability.csv"}  # no bootstrap
    assert all(len(e["sha256"]) == 64 and e["bytes"] > 0 for e in m["files"].values())
    assert verify_run_dir(out) == []
    (out / "edges.csv").write_text("source,target,weight\n")  # edited afterwards
    assert verify_run_dir(out) == [f"{out / 'edges.csv'}: changed since the run wrote it "
                                   "(sha256 differs)"]
    (out / "edges.csv").unlink()
    assert "missing" in verify_run_dir(out)[0]


def test_failed_fit_leaves_the_directory_as_it_was(tmp_path, capsys, small_csv) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("solver_options:\n  foo: 1\n")  # only caught once the fit starts
    fresh = tmp_path / "fresh"
    code, err = run(capsys, "fit", str(small_csv), "--config", str(bad), "--out", str(fresh))
    assert code == 2 and err.count("\n") == 1 and "foo" in err
    assert not fresh.exists()  # created for the run, removed again: nothing was written
    # a finished run in the directory stays as it was, manifest and all
    out = tmp_path / "fit"
    assert main(["fit", str(small_csv), "--seed", "0", "--out", str(out)]) == 0
    before = files(out)
    code, err = run(capsys, "fit", str(small_csv), "--config", str(bad), "--out", str(out))
    assert code == 2
    assert files(out) == before
    assert verify_run_dir(out) == []


def files(out: Path) -> dict[str, bytes]:
    """Every file under ``out`` (the later fits' checkpoints are in subdirectories)."""
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file()}


def test_interrupted_fit_is_marked_incomplete(tmp_path, capsys, monkeypatch) -> None:
    data = chain_csv(tmp_path / "chain.csv", n=100)
    original = resume_mod.Checkpointer.save

    def save_then_interrupt(self):
        original(self)
        raise KeyboardInterrupt

    monkeypatch.setattr(resume_mod.Checkpointer, "save", save_then_interrupt)
    cfg = tmp_path / "adam.yaml"
    cfg.write_text(ADAM)
    out = tmp_path / "fit"
    code, err = run(capsys, "fit", str(data), "--model", "mlp", "--config", str(cfg),
                    "--checkpoint-every", "1", "--out", str(out))
    assert code == 130 and err == "dagforge: interrupted\n"
    m = manifest(out)
    assert m["complete"] is False and m["error"] == "KeyboardInterrupt"
    assert sorted(p.name for p in out.iterdir()) == ["checkpoint.pt", MANIFEST_FILE]
    assert "not complete (KeyboardInterrupt)" in verify_run_dir(out)[0]


# --------------------------------------------------------------------------- processes


def fit_command(data: Path, cfg: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "dagforge.cli", "fit", str(data), "--model", "mlp",
            "--config", str(cfg), "--seed", "0", "--checkpoint-every", "10", "--out", str(out),
            *extra]


def setup_chain(tmp: Path) -> tuple[Path, Path]:
    data = chain_csv(tmp / "chain.csv")
    cfg = tmp / "adam.yaml"
    cfg.write_text(ADAM)
    return data, cfg


def start(argv: list[str]) -> subprocess.Popen:
    return subprocess.Popen(argv, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)


def finish(proc: subprocess.Popen) -> None:
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err


RESULTS = ("adjacency.csv", "weights.csv", "edges.csv", "history.csv")


def test_same_seed_same_graph_in_two_processes(tmp_path) -> None:
    data, cfg = setup_chain(tmp_path)
    a, b = tmp_path / "run1", tmp_path / "run2"
    for proc in [start(fit_command(data, cfg, a)), start(fit_command(data, cfg, b))]:
        finish(proc)
    for name in RESULTS:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    # a graph was learned: edges in the matrix (its header and names are not counted)
    A = np.loadtxt(a / "adjacency.csv", delimiter=",", skiprows=1, usecols=range(1, 6))
    assert A.sum() >= 4


def test_sigkill_then_resume_gives_the_uninterrupted_graph(tmp_path, capsys) -> None:
    data, cfg = setup_chain(tmp_path)
    reference, out = tmp_path / "reference", tmp_path / "killed"
    uninterrupted = start(fit_command(data, cfg, reference))  # alongside, for the comparison
    proc = start(fit_command(data, cfg, out))
    deadline = time.monotonic() + 90
    while not (out / "checkpoint.pt").exists():  # the first checkpoint: epoch 10 of 80
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL  # killed mid-run, not finished
    assert manifest(out)["complete"] is False
    assert sorted(p.name for p in out.iterdir()) == ["checkpoint.pt", MANIFEST_FILE]

    finish(start(fit_command(data, cfg, out, "--resume")))
    finish(uninterrupted)
    for name in RESULTS:
        assert (out / name).read_bytes() == (reference / name).read_bytes(), name
    assert manifest(out)["complete"] is True and verify_run_dir(out) == []

    # resuming with other settings is refused, and the finished run stays as it was
    before = files(out)
    argv = fit_command(data, cfg, out, "--resume")[3:]
    argv[argv.index("--seed") + 1] = "1"
    code, err = run(capsys, *argv)
    assert code == 2 and err.count("\n") == 1 and "different settings" in err
    assert files(out) == before


# --------------------------------------------------------------------------- checkpoints


def test_torch_load_is_always_weights_only() -> None:
    """Every torch.load in the code passes weights_only=True; nothing uses pickle.load."""
    calls = []
    for folder in ("src", "scripts", "benchmarks"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call):
                    continue
                name = ast.unparse(node.func)
                if name.endswith(("pickle.load", "pickle.loads", "joblib.load")):
                    pytest.fail(f"{path}:{node.lineno}: {name} can run code from a file")
                if name == "torch.load":
                    calls.append(node)
                    kw = {k.arg: k.value for k in node.keywords}
                    ok = isinstance(kw.get("weights_only"), ast.Constant) and \
                        kw["weights_only"].value is True
                    assert ok, f"{path}:{node.lineno}: torch.load without weights_only=True"
    assert calls  # the checkpoint reader is among them


class _Plant:
    """Unpickling this creates a file: proof that code from the file ran."""

    def __init__(self, target: Path) -> None:
        self.target = target

    def __reduce__(self):
        return (open, (str(self.target), "w"))


def _valid_checkpoint(path: Path) -> None:
    save_checkpoint(path, model={"w": torch.zeros(2, 2)}, optimizer_state=None,
                    solver_state={"calls": []}, rng_states={}, history=[], config={})


@pytest.mark.parametrize("damage", ["truncated", "tampered", "pickle", "empty"])
def test_damaged_checkpoint_is_one_line_exit_2(tmp_path, capsys, damage: str) -> None:
    data = chain_csv(tmp_path / "chain.csv", n=50)
    out = tmp_path / "fit"
    out.mkdir()
    ckpt = out / "checkpoint.pt"
    _valid_checkpoint(ckpt)
    if damage == "truncated":
        ckpt.write_bytes(ckpt.read_bytes()[:-100])
    elif damage == "tampered":
        env = torch.load(ckpt, weights_only=True)
        env["payload"][len(env["payload"]) // 2] ^= 1
        torch.save(env, ckpt)
    elif damage == "pickle":
        with open(ckpt, "wb") as fh:
            pickle.dump({"format": FORMAT, "x": _Plant(tmp_path / "planted")}, fh)
    else:
        ckpt.write_bytes(b"")
    before = files(out)
    code, err = run(capsys, "fit", str(data), "--model", "mlp", "--resume", "--out", str(out))
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"dagforge: error: checkpoint {ckpt} ")
    expected = {"truncated": "corrupt or truncated", "tampered": "checksum mismatch",
                "pickle": "corrupt", "empty": "corrupt"}[damage]
    assert expected in err
    assert not (tmp_path / "planted").exists()
    assert files(out) == before  # no manifest, no output
