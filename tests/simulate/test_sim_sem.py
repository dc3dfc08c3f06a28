"""Tests for dagforge.simulate.sem: linear and nonlinear SEMs, noise."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from dagforge.errors import ConfigError, GraphError
from dagforge.simulate import (
    ADDITIVE_FUNCTIONS,
    additive_sem,
    edge_weights,
    erdos_renyi,
    index_sem,
    linear_sem,
    mlp_sem,
    noise_scales,
)

CHAIN2 = np.array([[0.0, 1.0], [0.0, 0.0]])  # x0 -> x1
NONLINEAR = [mlp_sem, additive_sem, index_sem]


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def _r2(x: np.ndarray, y: np.ndarray) -> float:
    """R^2 of a flexible (degree-7 polynomial) regression of y on x."""
    z = (x - x.mean()) / x.std()
    design = np.vander(np.clip(z, -4, 4), 8)
    resid = y - design @ np.linalg.lstsq(design, y, rcond=None)[0]
    return 1.0 - resid.var() / y.var()


# --------------------------------------------------------------------------- linear


def test_linear_sem_matches_structural_equations() -> None:
    W = np.array([[0, 1.5, 0], [0, 0, -2.0], [0, 0, 0]])  # x0 -> x1 -> x2
    X = linear_sem(W, 50_000, _rng(0))
    # regression of each child on its parent recovers the weight
    assert np.polyfit(X[:, 0], X[:, 1], 1)[0] == pytest.approx(1.5, abs=0.02)
    assert np.polyfit(X[:, 1], X[:, 2], 1)[0] == pytest.approx(-2.0, abs=0.02)
    # residuals are the unit noise
    assert np.std(X[:, 1] - 1.5 * X[:, 0]) == pytest.approx(1.0, abs=0.02)


def test_linear_sem_permuted_graph_order() -> None:
    # x2 -> x0: parents need not have smaller indices
    W = np.zeros((3, 3))
    W[2, 0] = 2.0
    X = linear_sem(W, 20_000, _rng(1))
    assert np.var(X[:, 0]) == pytest.approx(5.0, rel=0.05)
    assert np.var(X[:, 2]) == pytest.approx(1.0, rel=0.05)


@pytest.mark.parametrize(
    ("noise", "std", "skew"),
    [
        ("gauss", 1.0, 0.0),
        ("exp", 1.0, 2.0),
        ("gumbel", np.pi / np.sqrt(6), 1.1395),
        ("uniform", 1 / np.sqrt(3), 0.0),
    ],
)
def test_noise_moments(noise: str, std: float, skew: float) -> None:
    s = 1.7
    X = linear_sem(np.zeros((2, 2)), 100_000, _rng(2), noise=noise, noise_scale=s)
    e = X[:, 0]
    assert e.mean() == pytest.approx(0.0, abs=0.03)  # centred
    assert e.std() == pytest.approx(s * std, rel=0.02)
    assert stats.skew(e) == pytest.approx(skew, abs=0.1)
    if noise == "uniform":
        assert np.abs(e).max() <= s


@pytest.mark.parametrize(("noise", "mean"), [("exp", 1.0), ("gumbel", np.euler_gamma)])
def test_uncentred_noise_as_in_notears(noise: str, mean: float) -> None:
    X = linear_sem(np.zeros((2, 2)), 100_000, _rng(3), noise=noise, center=False)
    assert X[:, 0].mean() == pytest.approx(mean, abs=0.03)


def test_per_node_noise_scale() -> None:
    X = linear_sem(np.zeros((3, 3)), 50_000, _rng(4), noise_scale=np.array([0.5, 1.0, 2.0]))
    np.testing.assert_allclose(X.std(axis=0), [0.5, 1.0, 2.0], rtol=0.03)


def test_linear_sem_deterministic() -> None:
    W = edge_weights(erdos_renyi(10, 2, _rng(0)), _rng(0))
    assert np.array_equal(linear_sem(W, 100, _rng(5)), linear_sem(W, 100, _rng(5)))
    assert not np.array_equal(linear_sem(W, 100, _rng(5)), linear_sem(W, 100, _rng(6)))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"W": np.array([[0, 1], [1, 0]])}, GraphError, "cycle"),
        ({"W": np.zeros((2, 3))}, GraphError, "square"),
        ({"W": np.array([[0, np.nan], [0, 0]])}, GraphError, "NaN"),
        ({"n": 0}, ConfigError, "n"),
        ({"noise": "cauchy"}, ConfigError, "unknown noise"),
        ({"noise_scale": -1.0}, ConfigError, "noise_scale"),
        ({"noise_scale": np.ones(3)}, ConfigError, "shape"),
    ],
)
def test_linear_sem_bad_arguments(kwargs: dict, error: type, match: str) -> None:
    args = {"W": CHAIN2, "n": 10, "rng": _rng()} | kwargs
    with pytest.raises(error, match=match):
        linear_sem(**args)


def test_noise_scales() -> None:
    assert np.array_equal(noise_scales(4, _rng(), "equal"), np.ones(4))
    s = noise_scales(1000, _rng(), "unequal", low=0.5, high=2.0)
    assert s.shape == (1000,) and s.min() >= 0.5 and s.max() <= 2.0 and s.std() > 0.3
    with pytest.raises(ConfigError, match="unknown noise scale kind"):
        noise_scales(4, _rng(), "random")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- nonlinear


@pytest.mark.parametrize("sampler", NONLINEAR)
def test_nonlinear_child_depends_on_parent(sampler) -> None:
    r2 = []
    for seed in range(5):
        X = sampler(CHAIN2, 2000, _rng(seed))
        assert X.shape == (2000, 2) and np.all(np.isfinite(X))
        r2.append(_r2(X[:, 0], X[:, 1]))
    # most random mechanisms explain a clear share of the child's variance
    assert np.median(r2) > 0.3, r2
    assert min(r2) > 0.01, r2


@pytest.mark.parametrize("sampler", NONLINEAR)
def test_nonlinear_roots_are_noise(sampler) -> None:
    X = sampler(np.zeros((3, 3)), 20_000, _rng(0), noise_scale=np.array([0.5, 1.0, 2.0]))
    np.testing.assert_allclose(X.std(axis=0), [0.5, 1.0, 2.0], rtol=0.03)
    assert abs(np.corrcoef(X.T)[0, 1]) < 0.05


@pytest.mark.parametrize("sampler", NONLINEAR)
def test_nonlinear_finite_on_larger_graph(sampler) -> None:
    B = erdos_renyi(20, 2, _rng(0))
    X = sampler(B, 500, _rng(1))
    assert X.shape == (500, 20) and np.all(np.isfinite(X))
    assert np.array_equal(X, sampler(B, 500, _rng(1)))
    assert not np.array_equal(X, sampler(B, 500, _rng(2)))


def test_mlp_hidden_units() -> None:
    X = mlp_sem(CHAIN2, 100, _rng(), hidden=3)
    assert X.shape == (100, 2)
    with pytest.raises(ConfigError, match="hidden"):
        mlp_sem(CHAIN2, 100, _rng(), hidden=0)


@pytest.mark.parametrize("name", sorted(ADDITIVE_FUNCTIONS))
def test_additive_each_function(name: str) -> None:
    X = additive_sem(CHAIN2, 5000, _rng(0), noise_scale=0.3, functions=[name])
    assert _r2(X[:, 0], X[:, 1]) > 0.3


def test_additive_unknown_function() -> None:
    with pytest.raises(ConfigError, match="unknown additive function"):
        additive_sem(CHAIN2, 10, _rng(), functions=["exp"])
    with pytest.raises(ConfigError, match="at least one"):
        additive_sem(CHAIN2, 10, _rng(), functions=[])


@pytest.mark.parametrize("sampler", NONLINEAR)
def test_nonlinear_rejects_cycle(sampler) -> None:
    with pytest.raises(GraphError, match="cycle"):
        sampler(np.array([[0, 1], [1, 0]]), 10, _rng())
