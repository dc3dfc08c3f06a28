"""Tests for dagforge.metrics.summary and the input checks; the docstrings' worked examples."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import numpy as np
import pytest

import dagforge.metrics
from dagforge.errors import GraphError
from dagforge.metrics import (
    auprc,
    auroc,
    evaluate,
    shd,
)
from helpers import CHAIN

# --------------------------------------------------------------------------- validation


def test_keyword_only() -> None:
    with pytest.raises(TypeError):
        shd(CHAIN, CHAIN)  # type: ignore[misc]
    with pytest.raises(TypeError):
        evaluate(CHAIN, CHAIN)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("true", "pred", "match"),
    [
        (CHAIN, np.zeros((4, 4)), "differ in shape"),
        (np.zeros((2, 3)), np.zeros((2, 3)), "square"),
        (np.zeros(3), np.zeros(3), "square"),
        (CHAIN, np.array([[0, np.nan, 0], [0, 0, 1], [0, 0, 0]]), "NaN"),
        (CHAIN, np.eye(3), "self-loop"),
        (np.array([["a", "b"], ["c", "d"]]), np.zeros((2, 2)), "numeric"),
    ],
)
def test_bad_graphs(true: np.ndarray, pred: np.ndarray, match: str) -> None:
    with pytest.raises(GraphError, match=match):
        evaluate(true=true, pred=pred)


def test_bad_scores() -> None:
    with pytest.raises(GraphError, match="shape"):
        auprc(true=CHAIN, scores=np.zeros((2, 2)))
    with pytest.raises(GraphError, match="finite"):
        auroc(true=CHAIN, scores=np.full((3, 3), np.inf))





def test_docstring_examples() -> None:
    """The worked examples in the docstrings stay true (the tests above re-derive them)."""
    attempted = 0
    for info in pkgutil.iter_modules(dagforge.metrics.__path__, "dagforge.metrics."):
        module = importlib.import_module(info.name)
        result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert result.failed == 0, info.name
        attempted += result.attempted
    assert attempted > 0
