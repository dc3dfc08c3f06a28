"""Discrete Bayesian networks of the bnlearn repository, shipped as conditional
probability tables: ``asia``, ``sachs``, ``child``, ``insurance`` and ``alarm``.

The tables come from the BIF files that pgmpy's wheel carries
(``scripts/ship_discrete_bns.py`` converts them; see ``data/ATTRIBUTION.md``).
:func:`load_discrete_bn` draws rows by ancestral sampling
(:func:`dagforge.simulate.discrete_bn_sample`) and returns them as a DataFrame of
categorical columns (the states by name) with the network's graph.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Literal, get_args

import numpy as np
import pandas as pd

from dagforge.errors import ConfigError, DataError
from dagforge.graph import is_dag

__all__ = ["DiscreteBN", "DiscreteBNName", "discrete_bn", "load_discrete_bn"]

DiscreteBNName = Literal["asia", "sachs-discrete", "child", "insurance", "alarm"]

_FILES = {"asia": "asia", "sachs-discrete": "sachs", "child": "child",
          "insurance": "insurance", "alarm": "alarm"}


@dataclass(frozen=True, eq=False)
class DiscreteBN:
    """A discrete Bayesian network: node names in a topological order, each node's
    states, parents (indices) and table (shape ``(r_j, q_j)``, the first parent varying
    slowest across the columns)."""

    name: str
    names: list[str]
    states: list[list[str]]
    parents: dict[int, list[int]]
    cpts: dict[int, np.ndarray]

    @property
    def B(self) -> np.ndarray:
        """The graph, 0/1 (d, d), ``B[i, j] = 1`` for ``i -> j``."""
        d = len(self.names)
        B = np.zeros((d, d))
        for j, pa in self.parents.items():
            B[pa, j] = 1.0
        return B

    def sample(self, n: int, rng: np.random.Generator) -> pd.DataFrame:
        """``n`` rows, one categorical column per node with its state names."""
        from dagforge.simulate import discrete_bn_sample

        codes = discrete_bn_sample(range(len(self.names)), self.parents, self.cpts,
                                   [len(s) for s in self.states], n, rng)
        return pd.DataFrame({name: pd.Categorical.from_codes(codes[:, j], self.states[j])
                             for j, name in enumerate(self.names)})


def discrete_bn(name: DiscreteBNName) -> DiscreteBN:
    """The shipped network ``name``."""
    if name not in _FILES:
        raise ConfigError(f"unknown discrete network {name!r}; choose one of "
                          f"{', '.join(get_args(DiscreteBNName))}")
    path = resources.files("dagforge.datasets").joinpath("data", "discrete-bn",
                                                           f"{_FILES[name]}.json")
    spec = json.loads(path.read_text(encoding="utf-8"))
    names = list(spec["nodes"])
    index = {v: k for k, v in enumerate(names)}
    states, parents, cpts = [], {}, {}
    for j, v in enumerate(names):
        cpd = spec["cpds"][v]
        states.append(list(cpd["states"]))
        parents[j] = [index[p] for p in cpd["parents"]]
        cpts[j] = np.asarray(cpd["cpt"], dtype=float)
        if not np.allclose(cpts[j].sum(axis=0), 1.0, atol=1e-6):
            raise DataError(f"packaged network {name}: the table of {v!r} does not sum to 1")
    bn = DiscreteBN(name, names, states, parents, cpts)
    if not is_dag(bn.B):
        raise DataError(f"packaged network {name} is not a DAG; reinstall dagforge")
    return bn


def load_discrete_bn(name: DiscreteBNName, n: int, rng: np.random.Generator
                     ) -> tuple[pd.DataFrame, np.ndarray]:
    """``n`` rows drawn from the network ``name`` and its 0/1 graph (in the columns'
    order)."""
    bn = discrete_bn(name)
    return bn.sample(n, rng), bn.B
