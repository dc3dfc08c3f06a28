"""Tests for dagforge.pipeline and ``dagforge run``."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import dagforge.pipeline as pl
from dagforge.cli import main
from dagforge.errors import ConfigError
from dagforge.evaluation import report_warnings

CONFIG = """
name: tiny
out: {out}
datasets:
  - name: lin
    simulate: {{d: 5, n: 200, k: 1, seed: 1}}
  - name: mine
    file: data.csv
models:
  - name: linear
    learner: {{model: linear, refine: none}}
"""


def _setup(tmp_path: Path) -> Path:
    rows = ["a,b,c"] + [f"{i % 7},{(3 * i) % 11},{(i * i) % 5}" for i in range(60)]
    (tmp_path / "data.csv").write_text("\n".join(rows) + "\n")
    cfg = tmp_path / "p.yaml"
    cfg.write_text(CONFIG.format(out=tmp_path / "runs"))
    return cfg


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.hrefs += [v for k, v in attrs if k == "href" and v]


def test_run_writes_every_step_and_resume_skips_them(tmp_path: Path, capsys,
                                                     monkeypatch) -> None:
    cfg = _setup(tmp_path)
    assert main(["run", str(cfg)]) == 0
    run_dir = Path(capsys.readouterr().out.split("run directory: ")[1].split("\n")[0])
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert {k: v["status"] for k, v in manifest["steps"].items()} == {
        "lin/data": "done", "lin/linear": "done", "mine/data": "done", "mine/linear": "done"}
    # truth known: metrics beside the baselines; unknown: no metrics, still a report
    m = json.loads((run_dir / "lin/linear/metrics.json").read_text())
    assert {"empty", "random", "sortnregress", "r2_sortnregress"} <= set(m["baselines"])
    assert isinstance(m["beats_empty"], bool) and "varsortability" in m
    # one set of warnings: the evaluation's, shown once in the report
    assert m["warnings"] == report_warnings(m["model"], m["baselines"],
                                            varsortability=m["varsortability"])
    shown = json.loads((run_dir / "lin/linear/report/metrics.json").read_text())["warnings"]
    assert shown == m["warnings"]
    assert not (run_dir / "mine/linear/metrics.json").exists()
    for step in ("lin/linear", "mine/linear"):
        assert (run_dir / step / "report/report.html").is_file()
        assert (run_dir / step / "adjacency.csv").is_file()
    parser = _Links()
    parser.feed((run_dir / "summary.html").read_text())
    assert any(h.endswith("report.html") for h in parser.hrefs)

    calls = []
    monkeypatch.setattr(pl.run, "_fit_step", lambda *a, **k: calls.append(a) or {})
    assert main(["run", str(cfg), "--resume"]) == 0
    assert calls == []  # every step was done
    # a step not marked done is redone
    manifest["steps"]["mine/linear"]["status"] = "running"
    (run_dir / "manifest.json").write_text(json.dumps(manifest))
    assert main(["run", str(cfg), "--resume"]) == 0
    assert len(calls) == 1


@pytest.mark.parametrize("bad, message", [
    ("name: x\ndatasets: []\nmodels: [{name: m}]\n", "at least one data set"),
    ("datasets: [{name: a, shipped: sachs, file: f.csv}]\nmodels: [{name: m}]\n",
     "exactly one of"),
    ("datasets: [{name: a, shipped: sachs}]\nmodels: [{name: m, learner: {lambda: 1}}]\n",
     "unknown key"),
    ("datasets: [{name: a, shipped: sachs}]\nmodels: [{name: m}, {name: m}]\n", "duplicate"),
    ("datasets: [{name: 'a/b', shipped: sachs}]\nmodels: [{name: m}]\n", "data set name"),
    ("colour: blue\ndatasets: [{name: a, shipped: sachs}]\nmodels: [{name: m}]\n",
     "unknown key"),
    ("datasets: [{name: a, shipped: sachs, models: [z]}]\nmodels: [{name: m}]\n",
     "unknown model"),
    ("datasets: [{name: a, file: f.csv, regime: r}]\nmodels: [{name: m}]\n",
     "regime and targets come together"),
    ("datasets: [{name: a, shipped: sachs, targets: t.json}]\nmodels: [{name: m}]\n",
     "targets is only for a file"),
    ("datasets: [{name: a, shipped: sachs}]\nmodels: [{name: m, learner: "
     "{regime: r, targets: t.json}}]\n", "belong to a data set"),
])
def test_bad_pipeline_configs_are_one_line_errors(tmp_path: Path, bad: str, message: str,
                                                  capsys) -> None:
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(bad)
    with pytest.raises(ConfigError, match=message):
        pl.load_pipeline(cfg)
    assert main(["run", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_resume_without_an_earlier_run_or_with_another_config(tmp_path: Path, capsys) -> None:
    cfg = _setup(tmp_path)
    assert main(["run", str(cfg), "--resume"]) == 2
    assert "no earlier run" in capsys.readouterr().err
    run_dir = tmp_path / "r"
    (run_dir).mkdir()
    (run_dir / "manifest.json").write_text(json.dumps({"config": {"other": 1}, "steps": {}}))
    assert main(["run", str(cfg), "--resume", "--run-dir", str(run_dir)]) == 2
    assert "another config" in capsys.readouterr().err


def test_knowledge_paths_are_relative_to_the_config_and_duplicate_keys_fail(
        tmp_path: Path) -> None:
    sub = tmp_path / "cfg"
    sub.mkdir()
    (sub / "k.yaml").write_text("forbidden: [[x0, x1]]\n")
    (sub / "p.yaml").write_text(
        "datasets: [{name: a, simulate: {d: 3, n: 50}}]\n"
        "models: [{name: m, learner: {knowledge: k.yaml}}]\n")
    config, _ = pl.load_pipeline(sub / "p.yaml")
    assert Path(config.models[0].learner.knowledge) == sub.resolve() / "k.yaml"
    (sub / "dup.yaml").write_text("name: a\nname: b\ndatasets: []\nmodels: []\n")
    with pytest.raises(ConfigError, match="twice"):
        pl.load_pipeline(sub / "dup.yaml")


def test_interventional_data_sets_simulated_and_from_a_file(tmp_path: Path) -> None:
    from dagforge.simulate import InterventionDesign, simulate

    sim = simulate(d=4, k=1, n=300, rng=np.random.default_rng(3),
                   interventions=InterventionDesign([(1,), (2,)], n_obs=300, n_per_regime=80))
    frame = sim.to_frame()
    frame["cond"] = sim.regimes
    frame.to_csv(tmp_path / "exp.csv", index=False)
    (tmp_path / "t.json").write_text(json.dumps(sim.targets))
    pd.DataFrame({"source": [sim.names[i] for i, j in np.argwhere(sim.B)],
                  "target": [sim.names[j] for i, j in np.argwhere(sim.B)]}).to_csv(
        tmp_path / "truth.csv", index=False)
    cfg = tmp_path / "p.yaml"
    cfg.write_text(f"""
name: exp
out: {tmp_path / "runs"}
report: false
datasets:
  - {{name: sim, simulate: {{d: 5, n: 300, k: 1, seed: 2, interventions: 2,
                             n_per_regime: 60}}}}
  - {{name: file, file: exp.csv, regime: cond, targets: t.json, truth: truth.csv,
     models: [soft]}}
  - {{name: file2, file: exp.csv, regime: cond, targets: t.json, interventions: soft,
     models: [linear]}}
models:
  - {{name: linear, learner: {{model: linear}}}}
  - {{name: soft, learner: {{model: linear, interventions: soft}}}}
""")
    config, base = pl.load_pipeline(cfg)
    run_dir = pl.run_pipeline(config, base)
    steps = json.loads((run_dir / "manifest.json").read_text())["steps"]
    assert sorted(steps) == ["file/data", "file/soft", "file2/data", "file2/linear",
                             "sim/data", "sim/linear", "sim/soft"]
    assert steps["sim/data"]["rows"] == 300 + 2 * 60
    assert (run_dir / "sim" / "targets.json").is_file()
    assert "regime" in (run_dir / "sim" / "data.csv").read_text().splitlines()[0]
    metrics = json.loads((run_dir / "file" / "soft" / "metrics.json").read_text())
    assert "shd_icpdag" in metrics["model"] and "shd_icpdag" in metrics["baselines"]["empty"]
    assert metrics["model"]["shd"] < metrics["baselines"]["empty"]["shd"]
    run = json.loads((run_dir / "file" / "soft" / "run.json").read_text())
    assert run["score"] == "gaussian-soft" and run["targets"] == sim.targets
    run2 = json.loads((run_dir / "file2" / "linear" / "run.json").read_text())
    assert run2["score"] == "gaussian-soft"  # the data set's interventions win


def test_discrete_and_mixed_data_sets(tmp_path: Path) -> None:
    cfg = tmp_path / "p.yaml"
    cfg.write_text(f"""
name: typed
out: {tmp_path / "runs"}
report: false
datasets:
  - {{name: asia, shipped: asia, n: 600}}
  - {{name: mixed, simulate: {{d: 6, k: 1.5, n: 500, discrete: 0.5, seed: 1}}}}
models:
  - {{name: linear, learner: {{model: linear}}}}
""")
    config, base = pl.load_pipeline(cfg)
    run_dir = pl.run_pipeline(config, base)
    header, first = (run_dir / "asia" / "data.csv").read_text().splitlines()[:2]
    assert header.split(",")[0] == "asia" and set(first.split(",")) <= {"yes", "no"}
    run = json.loads((run_dir / "asia" / "linear" / "run.json").read_text())
    assert run["score"] == "discrete-bic" and run["levels"]["asia"] == ["yes", "no"]
    mixed = json.loads((run_dir / "mixed" / "linear" / "run.json").read_text())
    assert mixed["score"] == "degenerate-gaussian"
    metrics = json.loads((run_dir / "asia" / "linear" / "metrics.json").read_text())
    assert metrics["beats_empty"]
