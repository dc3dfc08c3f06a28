"""Command-line round trips and bad input: exit codes, one-line errors, no partial output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dagforge.cli import main
from dagforge.graph import read_adjacency, read_edge_list, write_adjacency


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_simulate_then_evaluate_round_trip(tmp_path, capsys) -> None:
    out = tmp_path / "sim"
    code, _, err = run(capsys, "simulate", "--graph", "er", "--k", "1", "--d", "6", "--n", "50",
                       "--seed", "3", "--out", str(out))
    assert code == 0, err
    header = (out / "data.csv").read_text().splitlines()[0]
    assert header == "x0,x1,x2,x3,x4,x5"
    _, names = read_edge_list(out / "true_edges.csv")
    assert set(names) <= {f"x{i}" for i in range(6)}
    # evaluating the truth against itself is perfect
    code, text, err = run(capsys, "evaluate", "--true", str(out / "true_edges.csv"),
                          "--pred", str(out / "true_edges.csv"))
    assert code == 0, err
    metrics = json.loads(text)
    assert metrics["shd"] == 0 and metrics["f1"] == 1.0


def test_evaluate_union_of_names_and_empty_prediction(tmp_path, capsys) -> None:
    true = tmp_path / "true.csv"
    true.write_text("source,target\na,b\nb,c\n")
    pred = tmp_path / "pred.csv"
    pred.write_text("source,target\n")  # the empty graph is a valid prediction
    code, text, _ = run(capsys, "evaluate", "--true", str(true), "--pred", str(pred))
    assert code == 0
    m = json.loads(text)
    assert m["shd"] == 2 and m["missing"] == 2 and m["f1"] == 0.0 and m["nnz"] == 0
    pred.write_text("source,target\nc,b\nd,a\n")  # d is not in the truth: union of names
    code, text, _ = run(capsys, "evaluate", "--true", str(true), "--pred", str(pred),
                        "--format", "table")
    assert code == 0
    rows = dict(line.split()[:2] for line in text.splitlines())
    assert rows["shd"] == "3"  # one missing, one reversed, one extra


def test_evaluate_with_scores_and_adjacency_input(tmp_path, capsys) -> None:
    names = ["a", "b", "c"]
    true = tmp_path / "true.csv"
    write_adjacency(true, np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]]), names)
    scores = tmp_path / "weights.csv"
    write_adjacency(scores, np.array([[0, 0.9, 0.1], [0.2, 0, -0.8], [0, 0.05, 0]]), names)
    code, text, err = run(capsys, "evaluate", "--true", str(true), "--pred", str(true),
                          "--scores", str(scores))
    assert code == 0, err
    m = json.loads(text)
    assert m["auroc"] == 1.0 and m["auprc"] == 1.0


def test_baseline_writes_outputs(tmp_path, capsys) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=300)
    y = 2 * x + rng.normal(size=300)
    z = -y + 0.5 * rng.normal(size=300)
    data = tmp_path / "data.csv"
    data.write_text("x,y,z\n" + "\n".join(f"{a},{b},{c}" for a, b, c in zip(x, y, z, strict=True)))
    for method in ("empty", "sortnregress", "r2_sortnregress"):
        out = tmp_path / method
        code, _, err = run(capsys, "baseline", method, str(data), "--out", str(out))
        assert code == 0, err
        W, names = read_adjacency(out / "adjacency.csv")
        assert names == ["x", "y", "z"]
        assert (out / "edges.csv").exists()
        if method == "empty":
            assert not W.any()
        if method == "sortnregress":
            assert W[0, 1] != 0 and W[1, 2] != 0


def test_datasets_list_and_export(tmp_path, capsys) -> None:
    code, text, _ = run(capsys, "datasets", "list")
    assert code == 0
    assert "sachs" in text and "ecoli70" in text
    code, _, err = run(capsys, "datasets", "export", "sachs", str(tmp_path / "s"))
    assert code == 0, err
    assert len((tmp_path / "s" / "data.csv").read_text().splitlines()) == 854
    W, _ = read_edge_list(tmp_path / "s" / "true_edges.csv")
    assert W.sum() == 17
    code, _, _ = run(capsys, "datasets", "export", "ecoli70", str(tmp_path / "e"), "--n", "40")
    assert code == 0
    assert len((tmp_path / "e" / "data.csv").read_text().splitlines()) == 41


BAD_TABLES = {
    "missing.csv": None,
    "empty.csv": "",
    "header_only.csv": "a,b\n",
    "text.csv": "a,b\n1,x\n2,y\n3,z\n",
    "nan.csv": "a,b\n1,2\n,3\n4,5\n",
    "inf.csv": "a,b\n1,2\ninf,3\n4,5\n",
    "constant.csv": "a,b\n1,2\n1,3\n1,5\n",
    "duplicate.csv": "a,a\n1,2\n2,3\n4,5\n",
    "one_column.csv": "a\n1\n2\n3\n",
    "two_rows.csv": "a,b\n1,2\n3,4\n",
}


@pytest.mark.parametrize("name", sorted(BAD_TABLES))
def test_bad_data_exit_2_one_line_no_output(tmp_path, capsys, name: str) -> None:
    path = tmp_path / name
    if BAD_TABLES[name] is not None:
        path.write_text(BAD_TABLES[name])
    out = tmp_path / "out"
    code, _, err = run(capsys, "baseline", "sortnregress", str(path), "--out", str(out))
    assert code == 2
    assert err.startswith("dagforge: error: ") and err.count("\n") == 1
    assert "Traceback" not in err
    assert not (out / "adjacency.csv").exists() and not (out / "edges.csv").exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["simulate", "--d", "1", "--out", "{tmp}/o"],
        ["simulate", "--graph", "xx", "--out", "{tmp}/o"],
        ["simulate", "--n", "notanumber", "--out", "{tmp}/o"],
        ["evaluate", "--true", "{tmp}/nope.csv", "--pred", "{tmp}/nope.csv"],
        ["datasets", "export", "nosuchset", "{tmp}/o"],
        ["frobnicate"],
        [],
    ],
)
def test_bad_usage_exit_2(tmp_path, capsys, argv: list[str]) -> None:
    code, _, err = run(capsys, *[a.format(tmp=tmp_path) for a in argv])
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "o" / "data.csv").exists()


def test_output_path_is_a_file(tmp_path, capsys) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, _, err = run(capsys, "simulate", "--d", "4", "--n", "10", "--out", str(blocker))
    assert code == 2 and "not a directory" in err


def test_console_script_runs_as_a_process(tmp_path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "dagforge.cli", "evaluate", "--true", str(tmp_path / "x.csv"),
         "--pred", str(tmp_path / "x.csv")],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("dagforge: error: graph file not found")
    assert "Traceback" not in proc.stderr
    assert Path(tmp_path).exists()


def test_fit_round_trip(tmp_path, capsys) -> None:
    sim = tmp_path / "sim"
    assert main(["simulate", "--d", "5", "--k", "1", "--n", "300", "--seed", "1",
                 "--out", str(sim)]) == 0
    cfg = tmp_path / "fit.yaml"
    cfg.write_text("lambda1: 0.02\nsolver_options:\n  mu_factor: 0.1\n")
    out = tmp_path / "fit"
    code, _, err = run(capsys, "fit", str(sim / "data.csv"), "--config", str(cfg), "--seed", "0",
                       "--out", str(out))
    assert code == 0, err
    for f in ("adjacency.csv", "weights.csv", "edges.csv", "run.json", "history.csv"):
        assert (out / f).exists(), f
    info = json.loads((out / "run.json").read_text())
    assert info["is_dag"] is True and info["h"] < 1e-4 and info["config"]["seed"] == 0
    assert {"seconds", "stop_reason", "threshold", "n_edges", "versions"} <= set(info)
    code, text, _ = run(capsys, "evaluate", "--true", str(sim / "true_edges.csv"),
                        "--pred", str(out / "edges.csv"), "--scores", str(out / "weights.csv"))
    assert code == 0
    assert json.loads(text)["shd"] <= 1
    # bootstrap refits add edge_probability.csv (listed in the manifest); a plain refit
    # into the same directory removes it again
    code, _, err = run(capsys, "fit", str(sim / "data.csv"), "--bootstrap", "3",
                       "--stability", "0.6", "--out", str(out))
    assert code == 0, err
    P, _ = read_adjacency(out / "edge_probability.csv")
    assert P.shape == (5, 5) and np.all((P >= 0) & (P <= 1))
    A, _ = read_adjacency(out / "adjacency.csv")
    np.testing.assert_array_equal(A != 0, P >= 0.6)
    manifest = json.loads((out / "manifest.json").read_text())
    assert "edge_probability.csv" in manifest["files"]
    assert run(capsys, "fit", str(sim / "data.csv"), "--out", str(out))[0] == 0
    assert not (out / "edge_probability.csv").exists()


@pytest.mark.parametrize(
    ("config", "message"),
    [("lamda1: 0.1\n", "unknown key 'lamda1'"), ("solver_options:\n  foo: 1\n", "foo"),
     ("stability: 0.5\n", "stability needs bootstrap"), ("bootstrap: -1\n", "bootstrap")],
)
def test_fit_bad_config_exit_2(tmp_path, capsys, config: str, message: str) -> None:
    data = tmp_path / "d.csv"
    rng = np.random.default_rng(0)
    data.write_text("a,b\n" + "\n".join(f"{x},{y}" for x, y in rng.normal(size=(20, 2))))
    cfg = tmp_path / "c.yaml"
    cfg.write_text(config)
    out = tmp_path / "out"
    code, _, err = run(capsys, "fit", str(data), "--config", str(cfg), "--out", str(out))
    assert code == 2 and message in err and err.count("\n") == 1
    assert not (out / "run.json").exists()


def test_fit_mlp_checkpoint_and_resume(tmp_path, capsys) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=200)
    y = np.tanh(2 * x) + 0.3 * rng.normal(size=200)
    z = np.sin(2 * y) + 0.3 * rng.normal(size=200)
    data = tmp_path / "d.csv"
    data.write_text("x,y,z\n" + "\n".join(f"{a},{b},{c}" for a, b, c in zip(x, y, z, strict=True)))
    cfg = tmp_path / "c.yaml"
    cfg.write_text("model_options:\n  hidden: [4]\n")
    out = tmp_path / "out"
    args = ["fit", str(data), "--model", "mlp", "--config", str(cfg), "--seed", "0",
            "--out", str(out)]
    code, _, err = run(capsys, *args)
    assert code == 0, err
    assert (out / "checkpoint.pt").exists() and (out / "history.csv").exists()
    assert (out / "refit" / "checkpoint.pt").exists()  # the order refit's own checkpoint
    run_json = json.loads((out / "run.json").read_text())
    assert run_json["refine"] == "order"
    manifest = json.loads((out / "manifest.json").read_text())
    assert "refit/checkpoint.pt" in manifest["files"]
    first = (out / "edges.csv").read_text()
    code, _, err = run(capsys, *args, "--resume")
    assert code == 0, err
    assert (out / "edges.csv").read_text() == first
    code, _, err = run(capsys, "fit", str(data), "--resume", "--out", str(tmp_path / "lin"))
    assert code == 2 and "--resume" in err
