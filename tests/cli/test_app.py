"""The command line as a user meets it: global flags anywhere, one error shape with a
usage hint, overrides of the config file, the config schema, reports of fit
directories, and the equivalence class in every fit directory."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from dagforge.cli import build_parser, main
from dagforge.graph import read_cpdag
from helpers import FIVE_NODE, sample_five_node


@pytest.fixture
def csv(tmp_path: Path) -> Path:
    X = sample_five_node(300)
    path = tmp_path / "data.csv"
    path.write_text("a,b,c,d,e\n" + "\n".join(",".join(f"{v:.6f}" for v in r) for r in X))
    return path


@pytest.fixture
def truth(tmp_path: Path) -> Path:
    names = "abcde"
    path = tmp_path / "truth.csv"
    path.write_text("source,target\n" + "\n".join(
        f"{names[i]},{names[j]}" for i, j in np.argwhere(FIVE_NODE != 0)) + "\n")
    return path


@pytest.mark.parametrize("argv", [["-v", "fit"], ["fit", "-v"], ["--quiet", "fit"],
                                  ["fit", "-q"], ["fit", "--debug"]])
def test_global_flags_before_or_after_the_subcommand(argv) -> None:
    args = build_parser().parse_args([*argv, "data.csv", "--out", "o"])
    assert args.verbose == ("-v" in argv) and args.quiet == any(
        f in argv for f in ("-q", "--quiet")) and args.debug == ("--debug" in argv)


def test_verbose_after_the_subcommand_logs_and_quiet_silences(csv, tmp_path, capsys) -> None:
    assert main(["fit", str(csv), "--seed", "0", "--out", str(tmp_path / "v"), "-v"]) == 0
    assert "edges" in capsys.readouterr().err
    # a warning (dropped rows) is shown by default, not with --quiet
    gap = tmp_path / "gap.csv"
    gap.write_text(csv.read_text() + "\n1,2,,4,5\n")
    assert main(["fit", str(gap), "--missing", "drop", "--out", str(tmp_path / "w")]) == 0
    assert "dropped 1" in capsys.readouterr().err
    assert main(["fit", str(gap), "--missing", "drop", "--out", str(tmp_path / "q"),
                 "--quiet"]) == 0
    assert capsys.readouterr().err == ""
    assert main(["fit", str(csv), "-v", "-q", "--out", str(tmp_path / "x")]) == 2


def test_one_error_prefix_with_a_usage_hint(capsys) -> None:
    assert main(["fit", "data.csv"]) == 2
    err = capsys.readouterr().err
    assert err == ("dagforge: error: fit: the following arguments are required: --out "
                   "(see 'dagforge fit --help')\n")
    assert main(["nonsense"]) == 2
    assert capsys.readouterr().err.startswith("dagforge: error: argument command")


def test_command_line_options_override_the_config_file(csv, tmp_path, capsys) -> None:
    cfg = tmp_path / "fit.yaml"
    cfg.write_text("threshold: 0.5\nlambda1: 0.1\nrandom_state: 3\ndevice: auto\n")
    out = tmp_path / "fit"
    assert main(["fit", str(csv), "--config", str(cfg), "--threshold", "0.2", "--lambda1",
                 "0.05", "--seed", "7", "--device", "cpu", "--out", str(out)]) == 0
    config = json.loads((out / "run.json").read_text())["config"]
    assert (config["threshold"], config["lambda1"], config["seed"], config["device"]) == (
        0.2, 0.05, 7, "cpu")
    assert main(["fit", str(csv), "--threshold", "auto", "--out", str(tmp_path / "a")]) == 0
    assert main(["fit", str(csv), "--threshold", "big", "--out", str(tmp_path / "b")]) == 2
    assert "a number or 'auto'" in capsys.readouterr().err


def test_fit_help_names_the_defaults(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["fit", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for expected in ("default 0.3", "default 0.02", "default: auto", "default: linear",
                     "(default: 0)"):  # --checkpoint-every
        assert expected in text


def test_config_schema_is_the_fit_configs(capsys) -> None:
    assert main(["config", "schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["additionalProperties"] is False
    assert {"threshold", "lambda1", "seed", "interventions"} <= set(schema["properties"])


def test_fit_writes_the_equivalence_class_and_a_report(csv, truth, tmp_path, capsys) -> None:
    out = tmp_path / "fit"
    assert main(["fit", str(csv), "--seed", "0", "--out", str(out), "--report"]) == 0
    assert "report: " in capsys.readouterr().out
    C = read_cpdag(out / "cpdag.csv", list("abcde"))
    A = np.loadtxt(out / "adjacency.csv", delimiter=",", skiprows=1,
                   usecols=range(1, 6))
    assert ((C != 0) | (C.T != 0)).sum() == 2 * A.sum()  # the same skeleton
    assert (C & C.T).any()  # this graph has reversible edges
    html = (out / "report" / "report.html").read_text()
    assert "not fixed by the data" in html
    assert main(["report", str(out), "--true", str(truth)]) == 0
    page = (out / "report" / "report.html").read_text()
    assert "true weight" in page and "shd" in page
    assert main(["report", str(tmp_path / "nowhere")]) == 2
    assert "fit directory not found" in capsys.readouterr().err


def test_a_missing_extra_is_named_in_one_line(csv, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now fails
    assert main(["fit", str(csv), "--out", str(tmp_path / "f"), "--report"]) == 2
    err = capsys.readouterr().err
    assert err == ("dagforge: error: --report needs matplotlib, which is not installed: "
                   "pip install 'dagforge[report]'\n")
    assert not (tmp_path / "f").exists()  # checked before any work


def test_column_types_from_the_table_and_the_command_line(tmp_path: Path, capsys) -> None:
    from dagforge.simulate import simulate_mixed

    sim = simulate_mixed(d=6, k=1.5, n=600, discrete=0.5, rng=np.random.default_rng(1))
    frame = sim.dataset()
    import pandas as pd

    table = pd.DataFrame(frame.values, columns=sim.names)
    for j, t in enumerate(sim.types):  # discrete columns as words, as a user's file has
        if t.value != "continuous":
            table[sim.names[j]] = [f"level{int(v)}" for v in frame.values[:, j]]
    table.to_csv(tmp_path / "mixed.csv", index=False)
    out = tmp_path / "fit"
    assert main(["fit", str(tmp_path / "mixed.csv"), "--seed", "0", "--out", str(out)]) == 0
    run = json.loads((out / "run.json").read_text())
    assert run["score"] == "degenerate-gaussian"
    assert {k: v for k, v in run["types"].items() if v != "continuous"} == {  # text:
        n: "categorical" for n, t in zip(sim.names, sim.types, strict=True)  # categorical
        if t.value != "continuous"}
    # a numeric column read as categorical; text forced continuous is a one-line error
    continuous = [n for n, t in zip(sim.names, sim.types, strict=True)
                  if t.value == "continuous"]
    text = [n for n in sim.names if n not in continuous]
    assert main(["fit", str(tmp_path / "mixed.csv"), "--continuous", text[0],
                 "--out", str(tmp_path / "bad")]) == 2
    assert f"column '{text[0]}' holds text" in capsys.readouterr().err
    cfg = tmp_path / "types.yaml"
    cfg.write_text(f"types: {{{text[0]}: categorical}}\nrandom_state: 0\n")
    assert main(["fit", str(tmp_path / "mixed.csv"), "--config", str(cfg),
                 "--out", str(tmp_path / "cfg")]) == 0
