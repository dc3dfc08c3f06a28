"""Tests for dagforge.simulate.simulate / SimulatedData / standardize."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from dagforge.errors import ConfigError, DataError
from dagforge.graph import is_dag
from dagforge.simulate import SimulatedData, simulate, standardize


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


@pytest.mark.parametrize("graph", ["er", "sf"])
@pytest.mark.parametrize("sem", ["linear", "mlp", "additive", "index"])
def test_shapes_and_truth(graph: str, sem: str) -> None:
    data = simulate(graph=graph, sem=sem, d=12, n=300, k=2, rng=_rng(1))
    assert isinstance(data, SimulatedData)
    assert data.X.shape == (300, 12) and data.X.dtype == np.float64
    assert data.n == 300 and data.d == 12
    assert np.all(np.isfinite(data.X))
    assert data.B.shape == (12, 12) and set(np.unique(data.B)) <= {0, 1}
    assert is_dag(data.B)
    assert np.array_equal(data.W != 0, data.B != 0)
    assert data.names == [f"x{i}" for i in range(12)]
    assert data.noise_scale.shape == (12,)
    assert list(data.to_frame().columns) == data.names
    if sem == "linear":
        w = np.abs(data.W[data.B != 0])
        assert np.all((w >= 0.5) & (w <= 2.0))
    else:
        assert np.array_equal(data.W, data.B.astype(float))


def test_frozen() -> None:
    data = simulate(d=5, n=10, k=1, rng=_rng())
    with pytest.raises(dataclasses.FrozenInstanceError):
        data.X = np.zeros((1, 1))  # type: ignore[misc]


def test_deterministic_per_seed() -> None:
    a = simulate(d=10, n=50, rng=_rng(3))
    b = simulate(d=10, n=50, rng=_rng(3))
    c = simulate(d=10, n=50, rng=_rng(4))
    assert np.array_equal(a.X, b.X) and np.array_equal(a.W, b.W)
    assert not np.array_equal(a.X, c.X)


def test_standardize_option() -> None:
    data = simulate(d=10, n=500, standardize=True, rng=_rng(5))
    np.testing.assert_allclose(data.X.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(data.X.std(axis=0), 1.0, rtol=1e-12)


def test_unequal_noise_scales() -> None:
    data = simulate(d=30, n=10, noise_scales="unequal", rng=_rng(6))
    assert data.noise_scale.min() >= 0.5 and data.noise_scale.max() <= 2.0
    assert data.noise_scale.std() > 0
    assert np.array_equal(simulate(d=30, n=10, rng=_rng(6)).noise_scale, np.ones(30))


def test_raw_linear_data_are_varsortable() -> None:
    # equal-variance raw data: marginal variance tends to grow along the causal order,
    # which is exactly why benchmarks should also run on standardised data
    data = simulate(d=20, n=2000, k=2, rng=_rng(7))
    var = data.X.var(axis=0)
    i, j = np.nonzero(data.B)
    assert np.mean(var[j] > var[i]) > 0.7


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"d": 1}, "d"),
        ({"n": 0}, "n"),
        ({"k": 0}, "k"),
        ({"k": -2}, "k"),
        ({"graph": "ws"}, "unknown graph kind"),
        ({"sem": "gp"}, "unknown sem"),
        ({"noise": "cauchy"}, "unknown noise"),
        ({"noise_scales": "big"}, "unknown noise scale kind"),
        ({"sem": "mlp", "noise": "exp"}, "gauss"),
        ({"rng": 42}, "Generator"),
    ],
)
def test_bad_arguments(kwargs: dict, match: str) -> None:
    args = {"d": 5, "n": 10, "k": 1, "rng": _rng()} | kwargs
    with pytest.raises(ConfigError, match=match):
        simulate(**args)


def test_standardize_function() -> None:
    X = _rng(0).normal(3.0, 5.0, size=(200, 4))
    Z = standardize(X)
    np.testing.assert_allclose(Z.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(Z.std(axis=0), 1.0)
    assert X.mean() > 1  # input untouched


@pytest.mark.parametrize(
    ("X", "match"),
    [
        (np.ones(5), "2-D"),
        (np.array([[1.0, np.nan], [2.0, 3.0]]), "NaN"),
        (np.array([[1.0, 2.0], [1.0, 3.0]]), "constant"),
    ],
)
def test_standardize_rejects(X: np.ndarray, match: str) -> None:
    with pytest.raises(DataError, match=match):
        standardize(X)
