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


# ----------------------------------------------------------------- small graphs for metric tests

def graph(d: int, *edges: tuple[int, int]) -> np.ndarray:
    """0/1 matrix with ``M[i, j] = 1`` for each edge ``(i, j)``, i.e. ``i -> j``."""
    M = np.zeros((d, d), dtype=int)
    for i, j in edges:
        M[i, j] = 1
    return M


CHAIN = graph(3, (0, 1), (1, 2))  # 0 -> 1 -> 2
CHAIN_REV = graph(3, (1, 0), (2, 1))  # 0 <- 1 <- 2
FORK = graph(3, (1, 0), (1, 2))  # 0 <- 1 -> 2
COLLIDER = graph(3, (0, 1), (2, 1))  # 0 -> 1 <- 2
TRIANGLE = graph(3, (0, 1), (0, 2), (1, 2))
EMPTY3 = np.zeros((3, 3))

EVALUATE_KEYS = {
    "shd", "shd_double", "shd_cpdag", "extra", "missing", "reversed", "tp", "fp", "fn",
    "precision", "recall", "f1", "skeleton_precision", "skeleton_recall", "skeleton_f1",
    "tpr", "fdr", "fpr", "nnz", "true_edges", "is_dag",
}  # fmt: skip


def counts(true: np.ndarray, pred: np.ndarray) -> tuple[int, ...]:
    """``(tp, fp, fn, extra, missing, reversed)`` of :func:`dagforge.metrics.edge_counts`."""
    from dagforge.metrics import edge_counts

    c = edge_counts(true=true, pred=pred)
    return (c.tp, c.fp, c.fn, c.extra, c.missing, c.reversed)


def sample_five_node_interventional(n_obs: int = 300, n_int: int = 100, seed: int = 0
                                    ) -> tuple[np.ndarray, np.ndarray, dict[str, list[str]]]:
    """Rows of :data:`FIVE_NODE`: ``n_obs`` observational, then ``n_int`` with node 1 and
    ``n_int`` with node 3 set by a perfect intervention (``N(2, 1)``, parents cut);
    returns ``(X, regime labels, targets)`` with variables named ``x0..x4``."""
    rng = np.random.default_rng(seed)
    parts, labels = [], []
    for label, target, rows in (("obs", None, n_obs), ("do-x1", 1, n_int),
                                ("do-x3", 3, n_int)):
        X = np.zeros((rows, 5))
        for j in [0, 1, 3, 2, 4]:
            X[:, j] = (rng.normal(2.0, 1.0, rows) if j == target
                       else X @ FIVE_NODE[:, j] + rng.normal(size=rows))
        parts.append(X)
        labels += [label] * rows
    targets = {"obs": [], "do-x1": ["x1"], "do-x3": ["x3"]}
    return np.vstack(parts), np.array(labels), targets
