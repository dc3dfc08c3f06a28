"""Tests for the shipped data sets: Sachs and the bnlearn Gaussian BNs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dagforge.datasets import (
    DEFAULT_N,
    GaussianBN,
    gaussian_bn,
    list_datasets,
    load_dataset,
    load_gaussian_bn,
    load_sachs,
)
from dagforge.errors import ConfigError
from dagforge.graph import is_dag

SACHS_NAMES = ["Raf", "Mek", "Plcg", "PIP2", "PIP3", "Erk", "Akt", "PKA", "PKC", "P38", "Jnk"]
BN_SIZES = {"ecoli70": (46, 70), "magic-niab": (44, 66), "magic-irri": (64, 102),
            "arth150": (107, 150)}  # fmt: skip


def test_sachs() -> None:
    X, B = load_sachs()
    assert isinstance(X, pd.DataFrame)
    assert X.shape == (853, 11)
    assert list(X.columns) == SACHS_NAMES
    assert all(X.dtypes == np.float64)
    assert np.all(np.isfinite(X.to_numpy()))
    assert B.shape == (11, 11) and B.dtype == np.float64
    assert set(np.unique(B)) == {0.0, 1.0}
    assert B.sum() == 17
    assert is_dag(B)
    # spot-check edges of the consensus network in column order (W[parent, child])
    idx = {n: i for i, n in enumerate(SACHS_NAMES)}
    for u, v in [("Raf", "Mek"), ("Mek", "Erk"), ("Plcg", "PIP2"), ("PKA", "Akt")]:
        assert B[idx[u], idx[v]] == 1 and B[idx[v], idx[u]] == 0


def test_sachs_returns_fresh_copies() -> None:
    X, B = load_sachs()
    X.iloc[0, 0] = -1.0
    B[0, 0] = 5.0
    X2, B2 = load_sachs()
    assert X2.iloc[0, 0] != -1.0 and B2[0, 0] == 0


@pytest.mark.parametrize("name", sorted(BN_SIZES))
def test_gaussian_bn_structure(name: str) -> None:
    d, arcs = BN_SIZES[name]
    X, W = load_gaussian_bn(name, 200, np.random.default_rng(0))
    assert X.shape == (200, d)
    assert W.shape == (d, d)
    assert int((W != 0).sum()) == arcs
    assert is_dag(W)
    bn = gaussian_bn(name)
    assert isinstance(bn, GaussianBN)
    assert list(X.columns) == bn.names and len(set(bn.names)) == d
    assert np.array_equal(W, bn.W)
    assert np.all(bn.variance > 0)
    assert np.all(np.isfinite(X.to_numpy()))


@pytest.mark.parametrize("name", sorted(BN_SIZES))
def test_gaussian_bn_moments(name: str) -> None:
    bn = gaussian_bn(name)
    X, _ = load_gaussian_bn(name, 20_000, np.random.default_rng(1))
    # a root node is intercept + noise: mean c, variance = the JSON 'variance'
    roots = np.flatnonzero((bn.W != 0).sum(axis=0) == 0)
    r = roots[0]
    col = X.iloc[:, r].to_numpy()
    assert col.var() == pytest.approx(bn.variance[r], rel=0.05)
    assert col.mean() == pytest.approx(bn.intercept[r], abs=4 * np.sqrt(bn.variance[r] / 2e4))
    # every node: sample variance matches the model-implied one
    np.testing.assert_allclose(X.var(axis=0, ddof=0), np.diag(bn.covariance()), rtol=0.06)
    np.testing.assert_allclose(X.mean(axis=0), bn.mean(), atol=0.1 * np.sqrt(bn.variance).max())


def test_gaussian_bn_child_regression_recovers_coefficients() -> None:
    bn = gaussian_bn("ecoli70")
    X, W = load_gaussian_bn("ecoli70", 20_000, np.random.default_rng(2))
    j = int(np.argmax((W != 0).sum(axis=0)))  # child with the most parents
    pa = np.flatnonzero(W[:, j])
    design = np.column_stack([np.ones(len(X)), X.iloc[:, pa].to_numpy()])
    coef = np.linalg.lstsq(design, X.iloc[:, j].to_numpy(), rcond=None)[0]
    np.testing.assert_allclose(coef[1:], W[pa, j], atol=0.05)
    assert coef[0] == pytest.approx(bn.intercept[j], abs=0.2)


def test_gaussian_bn_deterministic_per_seed() -> None:
    a, _ = load_gaussian_bn("magic-niab", 50, np.random.default_rng(3))
    b, _ = load_gaussian_bn("magic-niab", 50, np.random.default_rng(3))
    c, _ = load_gaussian_bn("magic-niab", 50, np.random.default_rng(4))
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)


def test_gaussian_bn_bad_arguments() -> None:
    with pytest.raises(ConfigError, match="unknown Gaussian BN"):
        load_gaussian_bn("alarm", 10, np.random.default_rng())  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="n"):
        load_gaussian_bn("ecoli70", 0, np.random.default_rng())
    with pytest.raises(ConfigError, match="Generator"):
        load_gaussian_bn("ecoli70", 10, 0)  # type: ignore[arg-type]


def test_list_and_load_dataset() -> None:
    assert list_datasets() == ["sachs", "sachs-interventional", "ecoli70", "magic-niab",
                               "magic-irri", "arth150", "asia", "sachs-discrete", "child",
                               "insurance", "alarm"]
    X, B = load_dataset("sachs", n=5)  # n is ignored for Sachs
    assert X.shape == (853, 11) and B.sum() == 17
    X1, W = load_dataset("arth150")
    assert X1.shape == (DEFAULT_N, 107) and (W != 0).sum() == 150
    X2, _ = load_dataset("arth150", rng=0)  # None means seed 0
    pd.testing.assert_frame_equal(X1, X2)
    X3, _ = load_dataset("arth150", n=30, rng=np.random.default_rng(0))
    assert X3.shape == (30, 107)
    X4, _ = load_dataset("arth150", n=30, rng=1)
    assert not X4.equals(X3)
    with pytest.raises(ConfigError, match="unknown data set"):
        load_dataset("asian")
    X5, B5 = load_dataset("asia", n=50, rng=0)  # a discrete network: categorical columns
    assert X5.shape == (50, 8) and B5.sum() == 8
    assert all(isinstance(X5[c].dtype, pd.CategoricalDtype) for c in X5.columns)


def test_sachs_interventional_cells_regimes_and_targets() -> None:
    X, regimes, targets, B = load_sachs(interventional=True)
    assert X.shape == (5846, 11) and len(regimes) == 5846 and int(B.sum()) == 17
    assert list(targets) == ["cd3cd28", "cd3cd28+icam2", "cd3cd28+aktinhib", "cd3cd28+g0076",
                             "cd3cd28+psitect", "cd3cd28+u0126", "cd3cd28+ly"]
    assert targets["cd3cd28+u0126"] == ["Mek"] and targets["cd3cd28"] == []
    obs, B_obs = load_sachs()
    assert np.array_equal(X.to_numpy()[:853], obs.to_numpy()) and np.array_equal(B, B_obs)
    assert (regimes[:853] == "cd3cd28").all()
    everything = load_sachs(interventional=True, all_conditions=True)
    assert everything.X.shape == (7466, 11) and everything.targets["pma"] == ["PKC"]


def test_load_shipped_carries_regimes() -> None:
    from dagforge.datasets import load_shipped

    data = load_shipped("sachs-interventional")
    assert data.regimes is not None and len(data.regimes) == len(data.X)
    assert load_shipped("sachs").regimes is None
    X, B = load_dataset("sachs-interventional")
    assert X.shape == (5846, 11) and int(B.sum()) == 17
