"""Small known problems shared by several test modules (``pythonpath = tests``)."""

from __future__ import annotations

import numpy as np

#: Weights of a 5-node linear SEM: 0 -> 1 -> 2, 0 -> 3, 3 -> 4, 1 -> 4 (W[i, j]: i -> j).
FIVE_NODE = np.zeros((5, 5))
FIVE_NODE[0, 1], FIVE_NODE[1, 2], FIVE_NODE[0, 3], FIVE_NODE[3, 4], FIVE_NODE[1, 4] = (
    1.5, -1.2, 1.0, 0.8, -1.0,
)


def sample_five_node(n: int = 500, seed: int = 0) -> np.ndarray:
    """``n`` rows of the linear SEM :data:`FIVE_NODE` with standard normal noise."""
    rng = np.random.default_rng(seed)
    X = np.zeros((n, 5))
    for j in [0, 1, 3, 2, 4]:  # a topological order
        X[:, j] = X @ FIVE_NODE[:, j] + rng.normal(size=n)
    return X
