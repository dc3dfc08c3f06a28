"""Tests for dagforge.metrics.rates: AUPRC / AUROC worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dagforge.metrics import (
    auprc,
    auroc,
    evaluate,
)
from helpers import CHAIN, EMPTY3, EVALUATE_KEYS, graph

# --------------------------------------------------------------------------- AUPRC / AUROC


SCORES = np.array([[0, 0.9, 0.1], [0.2, 0, 0.5], [0.3, 0.6, 0]])


def test_auroc_hand() -> None:
    # positives 0->1 (0.9) beats all 4 negatives, 1->2 (0.5) beats 3 of 4: 7/8
    assert auroc(true=CHAIN, scores=SCORES) == pytest.approx(0.875)


def test_auprc_hand() -> None:
    # ranking: 0.9 (+), 0.6 (-), 0.5 (+), ...: AP = 1/2 * 1 + 1/2 * 2/3 = 5/6
    assert auprc(true=CHAIN, scores=SCORES) == pytest.approx(5 / 6)


def test_scores_use_absolute_values() -> None:
    assert auprc(true=CHAIN, scores=-SCORES) == pytest.approx(5 / 6)
    assert auroc(true=CHAIN, scores=-SCORES) == pytest.approx(0.875)


def test_tied_scores() -> None:
    flat = np.ones((3, 3))
    assert auroc(true=CHAIN, scores=flat) == 0.5
    assert auprc(true=CHAIN, scores=flat) == pytest.approx(2 / 6)  # the positive rate


def test_two_node_auprc_docstring() -> None:
    true = graph(2, (0, 1))
    assert auprc(true=true, scores=np.array([[0, 0.9], [0.1, 0]])) == 1.0
    assert auprc(true=true, scores=np.array([[0, 0.1], [0.9, 0]])) == 0.5


def test_scores_with_no_true_edge_are_nan() -> None:
    assert math.isnan(auprc(true=EMPTY3, scores=SCORES))
    assert math.isnan(auroc(true=EMPTY3, scores=SCORES))
    full = np.ones((2, 2)) - np.eye(2)
    assert math.isnan(auroc(true=full, scores=np.ones((2, 2))))


def test_evaluate_with_scores() -> None:
    m = evaluate(true=CHAIN, pred=CHAIN, scores=SCORES)
    assert set(m) == EVALUATE_KEYS | {"auprc", "auroc"}
    assert m["auroc"] == pytest.approx(0.875)


def test_scores_diagonal_ignored() -> None:
    s = SCORES.copy()
    np.fill_diagonal(s, 100.0)
    assert auroc(true=CHAIN, scores=s) == pytest.approx(0.875)
