"""Discrete columns as indicator columns: the numeric embedding of a typed table.

A continuous or binary column stays one column (a binary one as its 0/1 code); a
categorical column with ``k`` levels becomes ``k - 1`` indicators, the first level the
reference (all ``k`` would sum to one, a singular covariance). Each variable owns a
*block* of columns; a learner that fits the embedding reads a variable-level edge
strength as the norm of a block of weights (:func:`block_norms`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from dagforge.data import Dataset

__all__ = ["block_mask", "block_norms", "embed"]


def embed(data: Dataset) -> tuple[np.ndarray, list[np.ndarray]]:
    """The embedding ``E`` (n, D) of ``data`` and each variable's columns in it."""
    from dagforge.data import VarType

    parts: list[np.ndarray] = []
    blocks: list[np.ndarray] = []
    start = 0
    for j, kind in enumerate(data.types):
        x = data.values[:, j]
        if kind is VarType.CATEGORICAL:
            k = len(data.levels[j])  # type: ignore[arg-type]
            cols = (x[:, None] == np.arange(1, k)[None, :]).astype(float)  # [n, k-1]
        else:
            cols = x[:, None]
        parts.append(cols)
        blocks.append(np.arange(start, start + cols.shape[1]))
        start += cols.shape[1]
    return np.hstack(parts), blocks


def block_norms(W: np.ndarray, blocks: list[np.ndarray]) -> np.ndarray:
    """``V[i, j] = ||W[block_i, block_j]||_F``: a variable-level matrix; (d, d)."""
    d = len(blocks)
    V = np.zeros((d, d))
    for i, bi in enumerate(blocks):
        for j, bj in enumerate(blocks):
            if i != j:
                V[i, j] = float(np.sqrt((W[np.ix_(bi, bj)] ** 2).sum()))
    return V


def block_mask(allowed: np.ndarray | None, blocks: list[np.ndarray]) -> np.ndarray:
    """The embedding-level mask of the variable-level ``allowed`` (d, d): no weight
    inside a variable's own block, and none where ``allowed`` forbids; (D, D) bool."""
    D = sum(len(b) for b in blocks)
    M = np.zeros((D, D), dtype=bool)
    for i, bi in enumerate(blocks):
        for j, bj in enumerate(blocks):
            if i != j and (allowed is None or allowed[i, j]):
                M[np.ix_(bi, bj)] = True
    return M
