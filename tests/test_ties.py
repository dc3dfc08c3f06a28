"""Tests for dagforge.ties: tolerant decisions on floating-point scores."""

from __future__ import annotations

import numpy as np
import pytest

from dagforge.ties import argmin_tied, improves, order_tied, score_tol, tied_ranks


def test_argmin_tied_takes_the_lowest_index_within_the_tolerance() -> None:
    x = np.array([5.0, 2.0 + 1e-10, 2.0, 2.0 - 1e-10, 7.0])
    assert argmin_tied(x, 1e-9) == 1
    assert argmin_tied(x, 0.0) == 3  # no tolerance: the exact minimum
    assert argmin_tied(np.array([np.inf, 3.0, np.inf]), 1e-9) == 1
    assert argmin_tied(np.array([np.inf, np.inf]), 1e-9) == 0


@pytest.mark.parametrize("seed", range(5))
def test_argmin_tied_is_stable_under_rounding_noise(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 4, size=30).astype(float) * 10.0  # many exact ties
    first = argmin_tied(x, 1e-6)
    for _ in range(20):
        noisy = x * (1 + 1e-13 * rng.standard_normal(x.size))
        assert argmin_tied(noisy, 1e-6) == first
        assert np.array_equal(order_tied(noisy, 1e-6), order_tied(x, 0.0))


def test_order_tied_by_hand() -> None:
    x = np.array([3.0, 1.0, np.inf, 1.0 + 1e-12, 0.5, 3.0 - 1e-12])
    np.testing.assert_array_equal(order_tied(x, 1e-9), [4, 1, 3, 0, 5, 2])


def test_improves_needs_more_than_the_tolerance() -> None:
    assert improves(9.0, 10.0, 0.5)
    assert not improves(9.6, 10.0, 0.5)
    assert not improves(10.0, 10.0, 0.0)
    assert score_tol(1000) == pytest.approx(1e-4)


def test_tied_ranks_share_ranks_of_near_equal_values() -> None:
    x = np.array([0.5, 0.2, 0.5 * (1 + 1e-13), 0.9, 0.2])
    np.testing.assert_array_equal(tied_ranks(x), [1, 0, 1, 2, 0])
    np.testing.assert_array_equal(tied_ranks(x, 0.0), [1, 0, 2, 3, 0])  # exact ties only
    assert tied_ranks(np.zeros(0)).size == 0
