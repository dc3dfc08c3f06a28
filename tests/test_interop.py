"""dagforge's exports read by the real libraries: DoWhy's CausalModel from the GML,
pydot from the DOT, causal-learn's GeneralGraph both ways.

These need the ``interop`` extra; they skip without it, except where
``DAGFORGE_REQUIRE_INTEROP=1`` (CI's second step installs the extra and sets it), where
a missing library is a failure, so that they cannot pass by skipping."""

from __future__ import annotations

import importlib
import os
import warnings
from types import ModuleType

import numpy as np
import pandas as pd
import pytest

from dagforge import export
from dagforge.graph import dag_to_cpdag

pytestmark = pytest.mark.interop


def need(module: str) -> ModuleType:
    """The module; a skip without it, a failure under DAGFORGE_REQUIRE_INTEROP=1."""
    if os.environ.get("DAGFORGE_REQUIRE_INTEROP") == "1":
        return importlib.import_module(module)
    return pytest.importorskip(module)


def test_dowhy_builds_its_model_from_the_gml_and_finds_the_backdoor_set() -> None:
    dowhy = need("dowhy")
    W = np.zeros((4, 4))
    W[0, 1] = W[0, 2] = W[1, 2] = W[2, 3] = 1.0  # z -> t, z -> y, t -> y, y -> w
    names = ["z", "t", "y", "w"]
    df = pd.DataFrame(np.random.default_rng(0).normal(size=(200, 4)), columns=names)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = dowhy.CausalModel(data=df, treatment="t", outcome="y",
                                  graph=export.to_gml(W, names).strip())
        estimand = model.identify_effect(proceed_when_unidentifiable=True)
    assert set(estimand.get_backdoor_variables()) == {"z"}


def test_pydot_reads_the_dot() -> None:
    pydot = need("pydot")
    W = np.zeros((3, 3))
    W[0, 1], W[1, 2] = 0.5, -1.25
    (graph,) = pydot.graph_from_dot_data(export.to_dot(W, ["a", "b c", "d"]))
    edges = {(e.get_source().strip('"'), e.get_destination().strip('"'))
             for e in graph.get_edges()}
    assert edges == {("a", "b c"), ("b c", "d")}


def test_causallearn_general_graph_round_trip() -> None:
    need("causallearn")
    W = np.zeros((4, 4))
    W[0, 2] = W[1, 2] = W[2, 3] = 1.0  # a collider, then a compelled edge
    for C in (W, dag_to_cpdag(np.triu(np.ones((3, 3)), k=1))):
        G = export.to_causallearn_graph(C, [f"v{k}" for k in range(len(C))])
        assert [n.get_name() for n in G.get_nodes()] == [f"v{k}" for k in range(len(C))]
        np.testing.assert_array_equal(export.from_causallearn(G.graph), (C != 0).astype(int))
