"""Simulation of benchmark data: random DAGs and structural equation models.

Every function takes an explicit ``rng: numpy.random.Generator``; nothing here
seeds or reads global random state, so ``np.random.default_rng(seed)`` makes a
run reproducible. Graphs follow the dagforge convention ``B[i, j] != 0`` means
the edge ``i -> j`` (see :mod:`dagforge.graph`).

* :mod:`~dagforge.simulate.graphs`: :func:`erdos_renyi`, :func:`scale_free`,
  :func:`simulate_graph`, :func:`edge_weights`;
* :mod:`~dagforge.simulate.sem`: :func:`linear_sem`, :func:`mlp_sem`,
  :func:`additive_sem`, :func:`index_sem`, :func:`noise_scales`;
* :mod:`~dagforge.simulate.interventions`: :class:`InterventionDesign` (perfect or
  shift interventions on chosen or :func:`random_targets`, rows per regime);
* :mod:`~dagforge.simulate.mixed`: :func:`simulate_mixed` (continuous, binary and
  categorical variables, each a parent of any type), :func:`discrete_bn_sample`;
* :func:`simulate`: all of it in one call, returning :class:`SimulatedData`;
  :func:`standardize` for unit-variance columns.

Bad arguments raise :class:`dagforge.errors.ConfigError`; a cyclic or
malformed graph raises :class:`dagforge.errors.GraphError`.
"""

from __future__ import annotations

from dagforge.simulate.core import SemKind, SimulatedData, simulate, standardize
from dagforge.simulate.graphs import (
    GraphKind,
    edge_weights,
    erdos_renyi,
    scale_free,
    simulate_graph,
)
from dagforge.simulate.interventions import InterventionDesign, InterventionKind, random_targets
from dagforge.simulate.mixed import discrete_bn_sample, mixed_sem, simulate_mixed
from dagforge.simulate.sem import (
    ADDITIVE_FUNCTIONS,
    NoiseKind,
    ScaleKind,
    additive_sem,
    index_sem,
    linear_sem,
    mlp_sem,
    noise_scales,
)

__all__ = [
    "ADDITIVE_FUNCTIONS",
    "GraphKind",
    "InterventionDesign",
    "InterventionKind",
    "NoiseKind",
    "ScaleKind",
    "SemKind",
    "SimulatedData",
    "additive_sem",
    "discrete_bn_sample",
    "edge_weights",
    "erdos_renyi",
    "index_sem",
    "linear_sem",
    "mixed_sem",
    "mlp_sem",
    "noise_scales",
    "random_targets",
    "scale_free",
    "simulate",
    "simulate_graph",
    "simulate_mixed",
    "standardize",
]
