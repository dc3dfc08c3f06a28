"""scripts/train_full_model.py writes a complete, honest run directory."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "train_full_model.py"


def load_script():
    spec = importlib.util.spec_from_file_location("train_full_model", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_train_full_run_directory(tmp_path, capsys) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "data: {d: 4, k: 1, n: 200, sem: additive, seed: 1}\n"
        "learner: {model: mlp, seed: 0, model_options: {hidden: [4]}}\n"
    )
    out = tmp_path / "run"
    assert load_script().main(["--config", str(cfg), "--out", str(out)]) == 0
    for name in ("data.csv", "true_edges.csv", "edges.csv", "adjacency.csv", "weights.csv",
                 "history.csv", "run.json", "metrics.json", "checkpoint.pt"):
        assert (out / name).exists(), name
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics["baselines"]) == {"empty", "sortnregress"}
    assert set(metrics["checks"]) == {"max_grad_norm_below_100", "final_h_below_1e-8",
                                      "output_is_dag", "shd_well_below_empty"}
    assert metrics["checks"]["output_is_dag"]
    text = capsys.readouterr().out
    assert "empty graph" in text and "run directory" in text


def test_train_full_bad_config(tmp_path, capsys) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("data: {d: 4, colour: red}\n")
    assert load_script().main(["--config", str(cfg), "--out", str(tmp_path / "r")]) == 2
    assert "colour" in capsys.readouterr().err
