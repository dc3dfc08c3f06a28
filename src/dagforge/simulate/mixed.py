"""Mixed continuous, binary and categorical data from a random DAG.

Every variable has a type; in a topological order each is drawn from its parents:

* a parent enters a child as its *effect*: a continuous parent (standardised) times a
  weight, a discrete parent through one random effect per level (centred over its
  levels), so a discrete parent can shift a continuous child and the reverse;
* a continuous child is the sum of its parents' effects plus Gaussian noise;
* a binary child is Bernoulli with the logistic of that sum (plus an intercept);
* a categorical child with ``k`` levels draws from the softmax of ``k`` such sums, one
  per level (each with its own weights and effects).

Weights and level effects are drawn from ``±[0.5, 2]``, the same range as the linear
SEMs of :mod:`dagforge.simulate.sem`. :func:`simulate_mixed` puts graph, types and data
together; :func:`discrete_bn_sample` draws from a discrete Bayesian network given as
conditional probability tables.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from dagforge.data import VarType
from dagforge.errors import ConfigError
from dagforge.graph import default_names, topological_order
from dagforge.simulate._util import check_int, check_rng, signed_uniform
from dagforge.simulate.core import SimulatedData
from dagforge.simulate.graphs import GraphKind, simulate_graph

__all__ = ["discrete_bn_sample", "mixed_sem", "simulate_mixed"]


def _effect(x: np.ndarray, kind: VarType, card: int, width: int,
            rng: np.random.Generator) -> np.ndarray:
    """A parent's contribution to a child with ``width`` outputs, (n, width)."""
    if kind is VarType.CONTINUOUS:
        z = (x - x.mean()) / max(float(x.std()), 1e-12)
        return z[:, None] * signed_uniform(rng, (1, width))
    effects = signed_uniform(rng, (card, width))  # [card, width], one per level
    effects -= effects.mean(axis=0)  # centred over levels
    return effects[x.astype(int)]


def mixed_sem(B: np.ndarray, types: Sequence[VarType], n: int, rng: np.random.Generator,
              cards: Sequence[int] | None = None) -> np.ndarray:
    """Sample ``n`` rows of mixed data on the DAG ``B`` (module docstring); discrete
    columns as codes ``0 .. k-1``. ``cards``: levels of each column (2 for binary)."""
    check_rng(rng)
    n = check_int(n, "n (number of samples)", 1)
    d = B.shape[0]
    kinds = [VarType(t) for t in types]
    k = np.array([c if kinds[j] is VarType.CATEGORICAL else 2
                  for j, c in enumerate(cards if cards is not None else [3] * d)])
    X = np.zeros((n, d))
    for j in topological_order(B != 0):
        width = int(k[j]) if kinds[j] is VarType.CATEGORICAL else 1
        eta = np.zeros((n, width))
        for p in np.flatnonzero(B[:, j]):
            eta += _effect(X[:, p], kinds[p], int(k[p]), width, rng)
        if kinds[j] is VarType.CONTINUOUS:
            X[:, j] = eta[:, 0] + rng.normal(size=n)
        elif kinds[j] is VarType.BINARY:
            logit = eta[:, 0] + rng.uniform(-0.5, 0.5)
            X[:, j] = rng.random(n) < 1.0 / (1.0 + np.exp(-logit))
        else:
            logits = eta + rng.uniform(-0.5, 0.5, size=width)
            prob = np.exp(logits - logits.max(axis=1, keepdims=True))
            prob /= prob.sum(axis=1, keepdims=True)
            X[:, j] = (rng.random((n, 1)) > np.cumsum(prob, axis=1)).sum(axis=1)
    return X


def simulate_mixed(*, graph: GraphKind = "er", k: float = 2, d: int = 20, n: int = 1000,
                   discrete: float = 0.5, levels: Sequence[int] = (2, 3, 4),
                   rng: np.random.Generator) -> SimulatedData:
    """A random DAG with a random ``discrete`` share of discrete variables (binary when
    their drawn number of ``levels`` is 2, else categorical) and data from
    :func:`mixed_sem`; the result carries ``types`` and ``levels``."""
    check_rng(rng)
    if not 0.0 <= discrete <= 1.0:
        raise ConfigError(f"discrete must lie in [0, 1], got {discrete}")
    B = simulate_graph(graph, d, k, rng)
    is_discrete = rng.random(d) < discrete
    cards = rng.choice(np.asarray(levels, dtype=int), size=d)
    types = [VarType.CONTINUOUS if not is_discrete[j] else
             VarType.BINARY if cards[j] == 2 else VarType.CATEGORICAL for j in range(d)]
    X = mixed_sem(B, types, n, rng, cards)
    names = default_names(d)
    return SimulatedData(X=X, B=B, W=B.astype(float), names=names, noise_scale=np.ones(d),
                         types=tuple(types), levels=tuple(
                             None if t is VarType.CONTINUOUS else
                             tuple(str(v) for v in range(int(cards[j])))
                             for j, t in enumerate(types)))


def discrete_bn_sample(order: Sequence[int], parents: Mapping[int, Sequence[int]],
                       cpts: Mapping[int, np.ndarray], cards: Sequence[int], n: int,
                       rng: np.random.Generator) -> np.ndarray:
    """Ancestral sampling of a discrete Bayesian network: variable ``j``'s table
    ``cpts[j]`` has shape ``(r_j, q_j)`` (columns: its parents' configurations, the
    first parent varying slowest); returns codes, (n, d)."""
    X = np.zeros((n, len(cards)), dtype=np.int64)
    for j in order:
        config = np.zeros(n, dtype=np.int64)
        for p in parents[j]:
            config = config * cards[p] + X[:, p]
        prob = np.asarray(cpts[j])[:, config].T  # [n, r_j]
        X[:, j] = (rng.random((n, 1)) > np.cumsum(prob, axis=1)).sum(axis=1)
    return np.minimum(X, np.asarray(cards)[None, :] - 1)  # rounding at the top
