"""Mixed data and discrete networks (dagforge.simulate.mixed)."""

from __future__ import annotations

import numpy as np
import pytest

from dagforge.data import VarType
from dagforge.datasets.discrete_bn import discrete_bn
from dagforge.errors import ConfigError
from dagforge.simulate import discrete_bn_sample, simulate_mixed


def test_mixed_data_have_their_types_levels_and_dependence() -> None:
    sim = simulate_mixed(d=12, k=2, n=4000, discrete=0.5, rng=np.random.default_rng(0))
    data = sim.dataset()
    for j, t in enumerate(sim.types):
        if t is VarType.CONTINUOUS:
            assert data.levels[j] is None
        else:
            codes = np.unique(sim.X[:, j])
            assert set(codes) <= set(range(len(data.levels[j])))
    # a parent of any type moves its child: the mean of the child differs by parent level
    i, j = np.argwhere(sim.B)[0]
    x, y = sim.X[:, i], sim.X[:, j]
    groups = [y[x == v] for v in np.unique(x)] if sim.types[i] is not VarType.CONTINUOUS \
        else [y[x < np.median(x)], y[x >= np.median(x)]]
    assert max(g.mean() for g in groups) - min(g.mean() for g in groups) > 0.05
    again = simulate_mixed(d=12, k=2, n=4000, discrete=0.5, rng=np.random.default_rng(0))
    assert np.array_equal(again.X, sim.X)
    with pytest.raises(ConfigError, match="discrete must lie in"):
        simulate_mixed(d=5, k=1, discrete=2.0, rng=np.random.default_rng(0))


def test_discrete_network_sampling_follows_its_tables() -> None:
    bn = discrete_bn("asia")
    X = discrete_bn_sample(range(8), bn.parents, bn.cpts, [len(s) for s in bn.states],
                           100_000, np.random.default_rng(1))
    root = next(j for j, pa in bn.parents.items() if not pa)
    freq = np.bincount(X[:, root], minlength=len(bn.states[root])) / len(X)
    assert np.allclose(freq, bn.cpts[root][:, 0], atol=0.01)
    child = next(j for j, pa in bn.parents.items() if pa == [root])
    for a in range(len(bn.states[root])):
        rows = X[:, root] == a
        freq = np.bincount(X[rows, child], minlength=len(bn.states[child])) / rows.sum()
        assert np.allclose(freq, bn.cpts[child][:, a], atol=0.03)
