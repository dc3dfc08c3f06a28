"""Tests for dagforge.simulate.graphs: ER / SF samplers and edge weights."""

from __future__ import annotations

import numpy as np
import pytest

from dagforge.errors import ConfigError
from dagforge.graph import is_dag
from dagforge.simulate import edge_weights, erdos_renyi, scale_free, simulate_graph

SAMPLERS = [erdos_renyi, scale_free]


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


@pytest.mark.parametrize("sampler", SAMPLERS)
@pytest.mark.parametrize(("d", "k"), [(2, 0.5), (10, 1), (20, 2), (50, 4)])
def test_acyclic_binary_no_self_loops(sampler, d: int, k: float) -> None:
    for seed in range(10):
        B = sampler(d, k, _rng(seed))
        assert B.shape == (d, d)
        assert B.dtype.kind == "i"
        assert set(np.unique(B)) <= {0, 1}
        assert not np.diag(B).any()
        assert is_dag(B)


@pytest.mark.parametrize(("d", "k"), [(20, 1), (20, 2), (50, 4), (30, 1.5)])
def test_er_expected_edge_count(d: int, k: float) -> None:
    counts = [erdos_renyi(d, k, _rng(seed)).sum() for seed in range(200)]
    # mean of 200 binomial draws: sd of the mean is well below 1 edge
    assert np.mean(counts) == pytest.approx(k * d, rel=0.05)


@pytest.mark.parametrize(("d", "k"), [(20, 1), (20, 2), (50, 4)])
def test_sf_edge_count_integer_k(d: int, k: int) -> None:
    # integer k: node t attaches to min(t, k) earlier nodes, so the count is exact
    expected = k * d - k * (k + 1) // 2
    for seed in range(5):
        assert scale_free(d, k, _rng(seed)).sum() == expected


def test_sf_edge_count_fractional_k() -> None:
    d, k = 40, 1.5
    counts = [scale_free(d, k, _rng(seed)).sum() for seed in range(200)]
    assert np.mean(counts) == pytest.approx(k * d, rel=0.08)


def test_sf_has_hubs() -> None:
    # preferential attachment: the busiest node is far above the average degree
    B = scale_free(200, 2, _rng(3))
    degree = B.sum(axis=0) + B.sum(axis=1)
    assert degree.max() > 4 * degree.mean()
    er = erdos_renyi(200, 2, _rng(3))
    assert degree.max() > (er.sum(axis=0) + er.sum(axis=1)).max()


@pytest.mark.parametrize("sampler", SAMPLERS)
def test_nodes_are_permuted(sampler) -> None:
    # index order is not a topological order: edges go both "up" and "down"
    for seed in range(5):
        B = sampler(20, 2, _rng(seed))
        assert np.triu(B, 1).any() and np.tril(B, -1).any()


@pytest.mark.parametrize("sampler", SAMPLERS)
def test_same_seed_same_graph_different_seed_differs(sampler) -> None:
    assert np.array_equal(sampler(30, 2, _rng(7)), sampler(30, 2, _rng(7)))
    assert not np.array_equal(sampler(30, 2, _rng(7)), sampler(30, 2, _rng(8)))


def test_simulate_graph_dispatches() -> None:
    assert np.array_equal(simulate_graph("er", 15, 2, _rng(1)), erdos_renyi(15, 2, _rng(1)))
    assert np.array_equal(simulate_graph("sf", 15, 2, _rng(1)), scale_free(15, 2, _rng(1)))


@pytest.mark.parametrize(
    ("kind", "d", "k", "match"),
    [
        ("er", 1, 1, "d"),
        ("er", 2.5, 1, "integer"),
        ("sf", 10, 0, "k"),
        ("sf", 10, -1, "k"),
        ("er", 10, float("nan"), "k"),
        ("er", 10, 5, "too dense"),
        ("tree", 10, 1, "unknown graph kind"),
    ],
)
def test_bad_arguments(kind: str, d, k, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        simulate_graph(kind, d, k, _rng())


def test_rng_must_be_generator() -> None:
    with pytest.raises(ConfigError, match="Generator"):
        erdos_renyi(10, 1, 0)  # type: ignore[arg-type]


def test_edge_weights_range_and_signs() -> None:
    B = erdos_renyi(40, 4, _rng(0))
    W = edge_weights(B, _rng(1))
    assert np.array_equal(W != 0, B != 0)
    w = W[B != 0]
    assert np.all((np.abs(w) >= 0.5) & (np.abs(w) <= 2.0))
    assert 0.35 < np.mean(w > 0) < 0.65
    W2 = edge_weights(B, _rng(1), low=1.0, high=1.0)
    assert np.all(np.abs(W2[B != 0]) == 1.0)


def test_edge_weights_bad_range() -> None:
    with pytest.raises(ConfigError, match="low"):
        edge_weights(np.zeros((3, 3)), _rng(), low=2.0, high=1.0)
    with pytest.raises(ConfigError, match="square"):
        edge_weights(np.zeros((3, 2)), _rng())
