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
        "data: {d: 4, k: 1, n: 500, sem: additive, seed: 1}\n"
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
    assert all(metrics["checks"].values())  # exit 0 only when every check holds
    text = capsys.readouterr().out
    assert "empty graph" in text and "run directory" in text


def test_train_full_bad_config(tmp_path, capsys) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("data: {d: 4, colour: red}\n")
    assert load_script().main(["--config", str(cfg), "--out", str(tmp_path / "r")]) == 2
    assert "colour" in capsys.readouterr().err


def test_a_failed_check_is_a_failed_run(tmp_path, capsys, monkeypatch) -> None:
    script = load_script()
    metrics = {"model": {"shd": 9, "f1": 0.1, "auprc": 0.2},
               "baselines": {"empty": {"shd": 8}, "sortnregress": {"shd": 4}},
               "checks": {"output_is_dag": True, "shd_well_below_empty": False},
               "max_grad_norm": 3.0, "max_grad_norm_source": "solver", "h": 0.0}
    monkeypatch.setattr(script, "train_full", lambda cfg, out, resume=False: metrics)
    monkeypatch.setattr(script, "load", lambda path: type("C", (), {"out": "x"})())
    assert script.main(["--out", str(tmp_path / "r")]) == 1
    captured = capsys.readouterr()
    assert "[FAILED] shd_well_below_empty" in captured.out
    assert "1 check(s) failed: shd_well_below_empty" in captured.err
    metrics["checks"]["shd_well_below_empty"] = True
    assert script.main(["--out", str(tmp_path / "r")]) == 0
