"""HTML run reports: sections, embedded PNGs, strict metrics.json, atomic writes, summary.

The metrics, baselines and warnings a report shows are tested in test_evaluation.py.
"""

from __future__ import annotations

import base64
import io
import json
import math
import os
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from matplotlib.image import imread

from dagforge import evaluation, report
from dagforge.errors import GraphError
from dagforge.report import (
    ReportInputs,
    SummaryRun,
    edge_status,
    figures,
    inputs_from_run_dir,
    render,
    render_summary,
    summary_run_from_report,
    write_report,
)
from helpers import FIVE_NODE, sample_five_node

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
NAMES = ["a", "b", "c", "d", "e"]

# estimate of FIVE_NODE: 0->1, 1->2, 0->3 right; 4->3 reversed (true 3->4); 2->4 extra;
# 1->4 missing; small noise elsewhere in W
W_EST = FIVE_NODE * 0.9
W_EST[3, 4], W_EST[1, 4] = 0.0, 0.05
W_EST[4, 3], W_EST[2, 4] = 0.7, 0.4
W_EST[2, 0] = 0.02
ADJ = (np.abs(W_EST) >= 0.3).astype(int)

SOLVER_HISTORY = [
    {"step": k, "inner_iters": 50, "loss": 2.0 / (k + 1), "sparsity": 0.5, "h": 10.0 ** -k,
     "grad_fit": 1.0 / (k + 1), "grad_sparsity": 0.1, "grad_acyclicity": 0.0 if k == 0 else 0.5,
     "lr": 0.01, "mu": 0.1**k, "s": 1.0, "rho": math.nan, "alpha": math.nan, "nnz": 9 - k}
    for k in range(5)
]
# trainer rows as read back from history.csv: strings, empty cells, NaN h, no "loss"
TRAINER_HISTORY = [
    {"call": str(c), "epoch": str(e), "lr": "0.001", "train_objective": str(3.0 / e),
     "val_objective": "", "h": "nan", "grad_fit": "0.5", "grad_norm_max": str(e)}
    for e, c in zip(range(1, 9), [0, 0, 0, 1, 1, 2, 2, 2], strict=True)
]


class _Page(HTMLParser):
    """Headings, <img> sources and whether any external resource is referenced."""

    def __init__(self) -> None:
        super().__init__()
        self.headings: list[str] = []
        self.images: list[str] = []
        self.external: list[str] = []
        self.ids: set[str] = set()
        self.links: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(str(a["id"]))
        if tag in ("h1", "h2", "h3"):
            self._in = tag
            self.headings.append("")
        elif tag == "img":
            self.images.append(str(a.get("src")))
        elif tag in ("script", "link"):
            self.external.append(tag)
        elif tag == "a" and a.get("href"):
            self.links.append(str(a["href"]))

    def handle_endtag(self, tag: str) -> None:
        if tag == self._in:
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in:
            self.headings[-1] += data


def parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def decode_png(src: str) -> bytes:
    prefix = "data:image/png;base64,"
    assert src.startswith(prefix)
    data = base64.b64decode(src[len(prefix):], validate=True)
    assert data.startswith(PNG_SIGNATURE)
    img = imread(io.BytesIO(data), format="png")
    assert img.ndim == 3 and img.shape[0] > 50 and img.shape[1] > 50
    return data


def strict_json(path: Path) -> Any:
    def reject(x: str) -> None:
        raise ValueError(f"non-strict JSON constant {x}")

    return json.loads(path.read_text(encoding="utf-8"), parse_constant=reject)


def full_inputs(**kw: Any) -> ReportInputs:
    args: dict[str, Any] = dict(
        names=NAMES, W=W_EST, adjacency=ADJ, true=FIVE_NODE, history=SOLVER_HISTORY,
        edge_probability=np.clip(np.abs(W_EST), 0, 1),
        baselines={"empty": {"shd": 5, "f1": 0.0, "nnz": 0},
                   "sortnregress": {"shd": 1, "f1": 0.9, "nnz": 5}},
        warnings=["custom warning <b>"], varsortability=0.97, threshold=0.3,
        config={"model": "linear", "lambda1": 0.1}, info={"seed": 3, "seconds": 1.5},
        versions={"dagforge": "test"}, title="five <nodes>", dataset="five", model="linear")
    args.update(kw)
    return ReportInputs(**args)


@pytest.fixture(scope="module")
def full_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("full")
    return write_report(out, full_inputs())


# --------------------------------------------------------------------------- with truth


def test_full_report_files_and_sections(full_report: Path) -> None:
    out = full_report.parent
    assert full_report.name == "report.html"
    expected = {"report.html", "metrics.json", *report.FIGURE_FILES}
    assert {p.name for p in out.iterdir()} == expected
    page = parse(full_report)
    for h in ("Summary", "Warnings", "Adjacency", "Graph", "Training", "Edge scores",
              "Edge probabilities", "Baselines", "Edges", "Run", "Config", "Versions"):
        assert h in page.headings, h
    assert page.headings[0] == "five <nodes>"  # unescaped by the parser: it was escaped
    assert not page.external
    assert len(page.images) == len(report.FIGURE_FILES)
    embedded = {decode_png(src) for src in page.images}
    on_disk = {(out / f).read_bytes() for f in report.FIGURE_FILES}
    assert embedded == on_disk
    assert all((out / f).read_bytes().startswith(PNG_SIGNATURE) for f in report.FIGURE_FILES)
    assert all(link.startswith("#") for link in page.links)  # only in-page navigation


def test_full_report_text_is_escaped_and_warns(full_report: Path) -> None:
    text = full_report.read_text(encoding="utf-8")
    assert "<nodes>" not in text and "custom warning <b>" not in text
    assert "custom warning &lt;b&gt;" in text
    assert "varsortability 0.97 &gt; 0.9" in text and "try --standardize" in text
    assert "sortnregress beats the model" in text
    assert '<td class="beats">1</td>' in text  # sortnregress's SHD, better than the model's


def test_metrics_json_is_strict_and_matches_evaluate(full_report: Path) -> None:
    from dagforge.metrics import evaluate

    m = strict_json(full_report.parent / "metrics.json")
    ref = evaluate(true=FIVE_NODE, pred=ADJ, scores=np.abs(W_EST))
    assert m["model_metrics"]["shd"] == ref["shd"] == 3  # reversed, extra, missing
    assert m["model_metrics"]["auprc"] == pytest.approx(ref["auprc"])
    assert m["has_truth"] is True and m["n_edges"] == int(ADJ.sum())
    assert m["baselines"]["empty"]["shd"] == 5
    assert m["varsortability"] == 0.97 and m["threshold"] == 0.3
    assert m["info"]["seed"] == 3 and m["versions"]["dagforge"] == "test"
    assert "matplotlib" in m["versions"]
    assert m["figures"] == list(report.FIGURE_FILES)
    assert m["edge_probability_metrics"]["auprc"] > 0
    sweep = m["threshold_sweep"]
    assert sweep["nnz"][-1] == 0 and sweep["shd"][-1] == 5  # last threshold: empty graph
    assert len(set(map(len, sweep.values()))) == 1


def test_edge_status_classes() -> None:
    status = {(i, j): s for i, j, s in edge_status(ADJ, FIVE_NODE)}
    assert status == {(0, 1): "correct", (1, 2): "correct", (0, 3): "correct",
                      (4, 3): "reversed", (2, 4): "extra", (1, 4): "missing"}
    assert {s for *_, s in edge_status(ADJ, None)} == {"estimated"}
    # a predicted 2-cycle over a true edge: one correct, one extra, nothing missing
    two = np.array([[0, 1], [1, 0]])
    assert edge_status(two, np.array([[0, 1], [0, 0]])) == [(0, 1, "correct"),
                                                           (1, 0, "extra")]


# --------------------------------------------------------------------------- no truth


def test_report_without_truth(tmp_path: Path) -> None:
    inp = ReportInputs(names=NAMES, W=W_EST, history=TRAINER_HISTORY)
    path = write_report(tmp_path, inp)
    files = {p.name for p in tmp_path.iterdir()}
    assert files == {"report.html", "metrics.json", "adjacency.png", "graph.png",
                     "training.png"}
    page = parse(path)
    for h in ("Summary", "Warnings", "Adjacency", "Graph", "Training", "Edge scores",
              "Baselines", "Edges", "Run"):
        assert h in page.headings, h
    assert "Edge probabilities" not in page.headings
    assert len(page.images) == 3
    for src in page.images:
        decode_png(src)
    text = path.read_text(encoding="utf-8")
    assert "Needs the true graph" in text
    m = strict_json(tmp_path / "metrics.json")
    assert m["model_metrics"] is None and m["has_truth"] is False
    assert m["threshold_sweep"] is None
    # default adjacency: the non-zero pattern of W (the small entries included)
    assert m["n_edges"] == int(np.count_nonzero(W_EST))


def test_report_without_history_or_anything_optional(tmp_path: Path) -> None:
    W = np.zeros((3, 3))
    W[0, 1] = 1.0
    path = write_report(tmp_path, ReportInputs(names=["x", "y", "z"], W=W))
    text = path.read_text(encoding="utf-8")
    assert "No training history given." in text
    assert not (tmp_path / "training.png").exists()
    strict_json(tmp_path / "metrics.json")


def test_names_with_markup_and_dollars(tmp_path: Path) -> None:
    names = ["<script>alert(1)</script>", "$x$", "a&b", 'q"uote', "50%$"]
    path = write_report(tmp_path, ReportInputs(names=names, W=W_EST, true=FIVE_NODE))
    text = path.read_text(encoding="utf-8")
    assert "<script" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert not parse(path).external


def test_user_strings_are_escaped_by_the_templates(tmp_path: Path) -> None:
    evil = "<script>x</script>"
    esc = "&lt;script&gt;x&lt;/script&gt;"
    inp = ReportInputs(
        names=[evil, *NAMES[1:]], W=W_EST, adjacency=ADJ, true=FIVE_NODE, title=evil,
        dataset=evil, model=evil, warnings=[evil], baselines={evil: {"shd": 9}},
        config={"model": evil}, info={"stop_reason": evil}, versions={evil: evil})
    path = write_report(tmp_path / "rep", inp)
    text = path.read_text(encoding="utf-8")
    assert "<script" not in text and not parse(path).external
    assert parse(path).headings[0] == evil  # shown as text
    assert f"<title>{esc}</title>" in text
    assert f'<div class="warn">{esc}</div>' in text
    assert f'<td class="l">{esc}</td>' in text  # edge table and baseline row
    assert f'<th class="l">{esc}</th><td class="l">{esc}</td>' in text  # versions
    assert f"&#34;model&#34;: &#34;{esc}&#34;" in text  # config, as JSON
    runs = [summary_run_from_report(tmp_path / "rep"),
            SummaryRun(dataset="d", model=evil, metrics={"shd": 1}, warnings=[evil])]
    out = render_summary(tmp_path / "summary.html", runs)
    text = out.read_text(encoding="utf-8")
    assert "<script" not in text
    assert f"<th>{esc}</th>" in text and f": {esc}</li>" in text


def test_training_panels_handle_both_histories() -> None:
    titles = [t for t, _ in report.training_panels(SOLVER_HISTORY)]
    assert titles == ["loss terms", "acyclicity h(W)", "gradient norms (per term, total)",
                      "learning rate", "solver parameters", "non-zero weights"]
    panels = dict(report.training_panels(TRAINER_HISTORY))
    assert "acyclicity h(W)" not in panels  # all NaN
    assert list(panels["loss terms"]) == ["train_objective"]  # val_objective empty
    assert list(panels["gradient norms (per term, total)"]) == ["grad_fit", "grad_norm_max"]
    assert report.plot_training([{"note": "x"}]) is None


def test_large_graph_skips_drawing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(render, "MAX_GRAPH_NODES", 4)
    path = write_report(tmp_path, ReportInputs(names=NAMES, W=W_EST))
    assert not (tmp_path / "graph.png").exists()
    assert "the graph drawing is skipped above 4" in path.read_text(encoding="utf-8")


def test_bad_inputs_raise() -> None:
    with pytest.raises(GraphError, match="shape"):
        ReportInputs(names=["a", "b"], W=np.zeros((3, 3)))
    with pytest.raises(GraphError, match="unique"):
        ReportInputs(names=["a", "a"], W=np.zeros((2, 2)))
    with pytest.raises(GraphError, match=r"\[0, 1\]"):
        ReportInputs(names=["a", "b"], W=np.zeros((2, 2)), edge_probability=2 * np.eye(2))
    with pytest.raises(GraphError, match="NaN"):
        ReportInputs(names=["a", "b"], W=np.array([[0, np.nan], [0, 0]]))


# --------------------------------------------------------------------------- atomicity


def test_failed_render_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("renderer broke")

    monkeypatch.setattr(figures, "plot_threshold", boom)
    out = tmp_path / "rep"
    with pytest.raises(RuntimeError, match="renderer broke"):
        write_report(out, full_inputs())
    assert not out.exists() or not any(out.iterdir())


def test_failed_write_keeps_previous_report(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    write_report(tmp_path, ReportInputs(names=NAMES, W=W_EST))
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    real = render.atomic_open
    calls = {"n": 0}

    def flaky(path: Any, *args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("disk full")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(render, "atomic_open", flaky)
    with pytest.raises(OSError, match="disk full"):
        write_report(tmp_path, full_inputs())
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert after == before  # nothing replaced, no temporary file left


# --------------------------------------------------------------------------- helpers


def _fake_run_dir(out: Path, *, trainer: bool) -> None:
    """A run directory as write_fit and write_dataset leave it (no fit needed)."""
    from dagforge.graph import dag_to_cpdag
    from dagforge.rundir import write_dataset, write_fit

    learner = SimpleNamespace(
        W_=W_EST, weights_=np.where(ADJ != 0, W_EST * 1.1, 0.0), adjacency_=ADJ,
        train_history_=[{k: float(v) if v else math.nan for k, v in r.items()}
                        for r in TRAINER_HISTORY] if trainer else [],
        history_=[{k: v for k, v in r.items() if k != "s"} for r in SOLVER_HISTORY],
        fit_seconds_=2.5, stop_reason_="converged", h_=1e-10, threshold_=0.3,
        noise_model_="equal", residual_spread_=None, linear_noise_model_=None,
        refine_="hill_climb", score_="gaussian", refine_scores_={},
        cpdag_=dag_to_cpdag(ADJ))
    write_fit(out, learner, NAMES, {"command": "fit", "data": "five.csv", "n": 300, "d": 5,
                                    "config": {"model": "linear", "seed": 7}})
    write_dataset(out, sample_five_node(n=300), NAMES, FIVE_NODE)


@pytest.mark.parametrize("trainer", [False, True])
def test_inputs_from_run_dir(tmp_path: Path, trainer: bool) -> None:
    _fake_run_dir(tmp_path, trainer=trainer)
    inp = inputs_from_run_dir(tmp_path)
    assert inp.names == NAMES
    np.testing.assert_allclose(inp.W, W_EST)
    np.testing.assert_array_equal(inp.adjacency, ADJ)
    assert inp.weights is not None
    np.testing.assert_allclose(inp.weights, np.where(ADJ != 0, W_EST * 1.1, 0.0))
    np.testing.assert_allclose(inp.true, FIVE_NODE)
    assert inp.threshold == 0.3 and inp.model == "linear" and inp.dataset == "five.csv"
    assert inp.info is not None and inp.info["seed"] == 7 and inp.info["seconds"] == 2.5
    assert "history" not in inp.info and inp.config == {"model": "linear", "seed": 7}
    assert inp.baselines is not None and set(inp.baselines) >= {"empty", "random"}
    assert inp.varsortability is not None and 0 <= inp.varsortability <= 1
    assert inp.history is not None
    assert ("epoch" in inp.history[0]) is trainer
    assert report.training_panels(inp.history)
    if trainer:  # end to end: run directory -> report
        path = write_report(tmp_path / "report", inp)
        assert (tmp_path / "report" / "training.png").is_file()
        assert "Per epoch" in path.read_text(encoding="utf-8")
        assert strict_json(tmp_path / "report" / "metrics.json")["info"]["seed"] == 7


def test_run_dir_metrics_json_baselines_are_reused(tmp_path: Path) -> None:
    _fake_run_dir(tmp_path, trainer=False)
    (tmp_path / "metrics.json").write_text(json.dumps(
        {"baselines": {"empty": {"shd": 5}}, "checks": {"output_is_dag": True}}))
    inp = inputs_from_run_dir(tmp_path, compute_baseline_graphs=False)
    assert inp.baselines == {"empty": {"shd": 5}}
    assert inp.info is not None and inp.info["checks"] == {"output_is_dag": True}
    os.remove(tmp_path / "true_edges.csv")
    inp = inputs_from_run_dir(tmp_path)
    assert inp.true is None and inp.varsortability is None


# --------------------------------------------------------------------------- summary


def test_summary_links_and_tables(tmp_path: Path, full_report: Path) -> None:
    runs = [
        summary_run_from_report(full_report.parent),
        SummaryRun(dataset="five", model="mlp", metrics={"shd": 2, "f1": 0.8}, seconds=3.0,
                   warnings=["w <1>"]),
        SummaryRun(dataset="sachs", model="linear", metrics={"shd": 12, "f1": 0.3}),
        SummaryRun(dataset="sachs", model="linear", metrics={"shd": 14, "f1": 0.5}),
        SummaryRun(dataset="no truth", model="mlp"),
    ]
    assert runs[0].dataset == "five" and runs[0].model == "linear"
    assert runs[0].metrics["shd"] == 3 and runs[0].seconds == 1.5
    out = render_summary(tmp_path / "sub" / "summary.html", runs)
    page = parse(out)
    assert {"shd", "f1", "auprc", "Runs", "Warnings"} <= set(page.headings)
    assert {f"run-{k}" for k in range(len(runs))} <= page.ids
    in_page = [h for h in page.links if h.startswith("#")]
    assert in_page and all(h[1:] in page.ids for h in in_page)
    reports = [h for h in page.links if not h.startswith("#")]
    assert len(reports) == 1
    assert (out.parent / reports[0]).resolve() == full_report.resolve()
    text = out.read_text(encoding="utf-8")
    assert "13 (n=2)" in text  # mean SHD of the two sachs / linear runs
    assert "w &lt;1&gt;" in text and "w <1>" not in text
    assert not page.external


def test_summary_without_runs_or_truth(tmp_path: Path) -> None:
    out = render_summary(tmp_path / "s.html", [])
    assert "no runs" in out.read_text(encoding="utf-8")
    out = render_summary(tmp_path / "t.html", [SummaryRun(dataset="d", model="m")])
    assert "No run has ground-truth metrics" in out.read_text(encoding="utf-8")


def test_public_names_stay_importable_from_dagforge_report() -> None:
    for name in report.__all__:
        assert getattr(report, name) is not None, name
    # the evaluation's functions are re-exported, not copied
    assert report.compute_baselines is evaluation.compute_baselines
    assert report.report_warnings is evaluation.report_warnings
    assert report.random_dag is evaluation.random_dag


def test_docstring_examples() -> None:
    import doctest

    from dagforge.report import formatting, inputs, summary

    attempted = 0
    for module in (report, inputs, figures, formatting, render, summary):
        result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert result.failed == 0, module.__name__
        attempted += result.attempted
    assert attempted > 0
