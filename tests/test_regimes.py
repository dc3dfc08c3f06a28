"""Regime labels and targets (dagforge.regimes, Dataset.with_regimes): one-line errors
for every bad input, and the moments the interventional scores fit on."""

from __future__ import annotations

import numpy as np
import pytest

from dagforge.data import Dataset
from dagforge.errors import DataError
from dagforge.regimes import RegimeMoments, target_mask
from helpers import sample_five_node_interventional


@pytest.fixture
def data() -> Dataset:
    X, regimes, targets = sample_five_node_interventional(n_obs=60, n_int=20)
    return Dataset.from_matrix(X).with_regimes(regimes, targets)


def test_labels_compare_as_text_and_the_mask_follows_the_targets() -> None:
    X = np.random.default_rng(0).normal(size=(6, 3))
    data = Dataset.from_matrix(X, names=["a", "b", "c"]).with_regimes(
        [0, 0, 1, 1, 2, 2], {"0": [], "1": ["b"], 2: ("a", "c", "a")})
    assert list(data.regimes) == ["0", "0", "1", "1", "2", "2"]
    assert data.targets == {"0": (), "1": ("b",), "2": ("a", "c")}
    M = data.intervened()
    assert M.tolist() == [[False] * 3] * 2 + [[False, True, False]] * 2 \
        + [[True, False, True]] * 2
    assert not data.observational
    assert Dataset.from_matrix(X).intervened() is None


@pytest.mark.parametrize(("regimes", "targets", "message"), [
    (["a"] * 5, {"a": []}, "5 regime labels for 6 rows"),
    (["a", "a", "b", "b", "c", "c"], {"a": [], "b": ["x"]}, "regime 'c' has no entry"),
    (["a"] * 6, {"a": [], "z": ["x"]}, "targets name regime 'z', which has no rows"),
    (["a"] * 3 + ["b"] * 3, {"a": [], "b": ["q"]}, "unknown variable\\(s\\) 'q'"),
    (["a"] * 5 + ["b"], {"a": [], "b": ["x"]}, "regime 'b' has 1 row\\(s\\)"),
    (["a"] * 3 + [None] * 3, {"a": []}, "regime label missing in row 4"),
    (["a"] * 3 + ["b"] * 3, {"a": ["x"], "b": ["x"]}, "'x' are intervened on in every"),
    (["a"] * 6, {"a": "x"}, "must be a list of variable names"),
    (["a"] * 6, [("a", [])], "targets must map"),
])
def test_bad_regimes_are_one_line_errors(regimes, targets, message) -> None:
    X = np.random.default_rng(0).normal(size=(6, 2))
    with pytest.raises(DataError, match=message) as info:
        Dataset.from_matrix(X, names=["x", "y"]).with_regimes(regimes, targets)
    assert "\n" not in str(info.value)


def test_pooled_moments_are_the_covariance_of_the_kept_rows(data: Dataset) -> None:
    m = data.regime_moments()
    assert m.labels == ("obs", "do-x1", "do-x3") and m.counts.tolist() == [60, 20, 20]
    keep = np.array([True, False, True])
    S, n = m.pooled(keep)
    rows = data.values[np.isin(data.regimes, ["obs", "do-x3"])]
    assert n == 80 and np.allclose(S, np.cov(rows.T, bias=True))
    C, n1 = m.regime_covariance(1)
    assert n1 == 20 and np.allclose(C, np.cov(data.values[data.regimes == "do-x1"].T,
                                                 bias=True))


def test_variables_intervened_on_in_the_same_regimes_share_a_group(data: Dataset) -> None:
    keeps, group = data.regime_moments().variable_groups()
    assert group.tolist() == [0, 1, 0, 2, 0]  # x1 and x3 each have their own rows
    assert keeps[1].tolist() == [True, False, True]


def test_observational_data_are_one_regime() -> None:
    X = np.random.default_rng(1).normal(size=(10, 3))
    m = Dataset.from_matrix(X).regime_moments()
    assert isinstance(m, RegimeMoments) and m.counts.tolist() == [10]
    assert np.allclose(m.pooled(np.ones(1, bool))[0], np.cov(X.T, bias=True))
    assert target_mask(np.array([], dtype=object), {}, ["a"]).shape == (0, 1)
