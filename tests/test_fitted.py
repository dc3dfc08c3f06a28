"""What a fitted learner shows (dagforge.fitted, dagforge.drawing): its equivalence class,
named tables, its drawing and its notebook view."""

from __future__ import annotations

import numpy as np
import pytest

from dagforge import BootstrapDagLearner, DagLearner
from dagforge.drawing import draw_graph, layered_layout
from dagforge.graph import dag_to_cpdag
from helpers import FIVE_NODE, sample_five_node, sample_five_node_interventional

NAMES = list("abcde")


@pytest.fixture(scope="module")
def fitted() -> DagLearner:
    return DagLearner(random_state=0).fit(sample_five_node(500), names=NAMES)


def test_cpdag_is_the_class_of_the_output(fitted) -> None:
    assert (fitted.cpdag_ == dag_to_cpdag(fitted.adjacency_)).all()
    C = fitted.cpdag_
    # 0 -> 1, 0 -> 3, 1 -> 2 are reversible here; 1 -> 4 <- 3 is a v-structure
    assert C[0, 1] == C[1, 0] == 1 and C[1, 2] == C[2, 1] == 1
    assert C[1, 4] == 1 and C[4, 1] == 0 and C[3, 4] == 1 and C[4, 3] == 0
    assert list(fitted.cpdag_df_.index) == NAMES


def test_experiments_orient_the_class() -> None:
    X, regimes, targets = sample_five_node_interventional(seed=1)
    m = DagLearner(random_state=0).fit(X, regimes=regimes, targets=targets)
    assert m.intervention_targets_ == [[1], [3]]
    C = m.cpdag_
    assert not (C & C.T).any()  # cuts at x1 and x3 orient every edge of this graph
    assert DagLearner(random_state=0).fit(X).intervention_targets_ is None


def test_named_tables(fitted) -> None:
    A, W = fitted.adjacency_df_, fitted.weights_df_
    assert list(A.index) == list(A.columns) == NAMES
    assert A.loc["a", "b"] == fitted.adjacency_[0, 1]
    assert W.loc["b", "c"] == pytest.approx(fitted.weights_[1, 2])


def test_plot_draws_every_edge_and_marks_the_reversible_ones(fitted) -> None:
    ax = fitted.plot(truth=FIVE_NODE)
    arrows = [p for p in ax.patches if p.get_arrowstyle() is not None]
    assert len(arrows) == int(fitted.adjacency_.sum())
    heads = sum(type(p.get_arrowstyle()).__name__ != "Curve" for p in arrows)
    C = fitted.cpdag_
    assert heads == int((fitted.adjacency_ & (1 - C.T)).sum())  # only fixed directions
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(label.startswith("correct (5)") for label in labels)


def test_layers_put_causes_above_effects() -> None:
    xy = layered_layout(FIVE_NODE != 0)
    assert xy[0, 1] > xy[1, 1] > xy[2, 1]  # a above b above c
    assert xy[1, 1] == xy[3, 1]  # b and d in one layer


def test_draw_graph_colours_missing_edges(fitted) -> None:
    from matplotlib.figure import Figure

    ax = Figure().add_subplot()
    draw_graph(ax, np.zeros((5, 5)), NAMES, truth=FIVE_NODE)
    assert all(p.get_linestyle() == "--" for p in ax.patches)  # every edge is missing


def test_notebook_view_of_fitted_and_unfitted_learners(fitted) -> None:
    html = fitted._repr_html_()
    assert "<svg" in html and "5 variables, 5 edges" in html
    assert fitted._repr_svg_().lstrip().startswith("<?xml")
    bundle = fitted._repr_mimebundle_()
    assert "text/html" in bundle and bundle["text/plain"] == fitted.summary()
    unfitted = DagLearner()
    assert "<svg" not in unfitted._repr_html_() and unfitted._repr_svg_() is None


def test_bootstrap_learner_has_the_same_views() -> None:
    boot = BootstrapDagLearner(DagLearner(random_state=0), n_resamples=3).fit(
        sample_five_node(300), names=NAMES)
    assert boot.cpdag_.shape == (5, 5) and list(boot.weights_df_.columns) == NAMES
    assert "BootstrapDagLearner: 5 variables" in boot.summary()
    assert len(boot.plot().patches) == int(boot.adjacency_.sum())


def test_knowledge_fixes_directions_too() -> None:
    from dagforge.knowledge import Knowledge

    X = sample_five_node(500)
    m = DagLearner(random_state=0, knowledge=Knowledge(
        tiers=[["a"], ["b", "d"], ["c", "e"]])).fit(X, names=NAMES)
    C = m.cpdag_
    assert not (C & C.T).any()  # the tiers forbid every reverse direction
    assert "5 with a direction the data or knowledge fix" in m.summary()
