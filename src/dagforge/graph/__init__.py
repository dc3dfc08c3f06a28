"""Adjacency-matrix helpers: DAG checks, thresholding, CPDAGs, converters, graph files.

Convention (used everywhere in dagforge)
----------------------------------------
A graph on ``d`` variables is a ``d x d`` matrix ``W``; ``W[i, j] != 0`` means
the directed edge ``i -> j`` (variable ``i`` is a parent of variable ``j``).
This is the NOTEARS / DAGMA convention of the linear SEM ``X = X W + E``: column
``j`` of ``W`` holds the coefficients of ``X_j`` on its parents. A weighted
matrix is a graph with edge weights; a boolean or 0/1 matrix is a plain graph.

Other tools use other conventions; the converters here are the only places that
translate: networkx (edge ``u -> v``), and lingam's ``B`` (``B[child, parent]``,
i.e. the transpose; see :func:`to_lingam`).

A CPDAG (see :func:`dag_to_cpdag`) is a 0/1 matrix ``C`` where ``C[i, j] = 1``
and ``C[j, i] = 0`` is the directed edge ``i -> j``, and ``C[i, j] = C[j, i] = 1``
is the undirected edge ``i - j``.

Modules
-------
* :mod:`dagforge.graph.dag`: :func:`is_dag`, :func:`topological_order`,
  :func:`threshold_to_dag`;
* :mod:`dagforge.graph.cpdag`: :func:`dag_to_cpdag` (v-structures, Meek's rules),
  :func:`dag_to_icpdag` (the class the experiments leave);
* :mod:`dagforge.graph.convert`: networkx and lingam converters, :func:`align_graphs`;
* :mod:`dagforge.graph.files`: edge-list, adjacency and CPDAG CSV files
  (:func:`read_graph` tells edge lists and adjacencies apart by the header).

Every name is importable from :mod:`dagforge.graph` itself.
"""

from __future__ import annotations

from dagforge.graph._common import default_names
from dagforge.graph.convert import (
    align_graphs,
    from_lingam,
    from_networkx,
    to_lingam,
    to_networkx,
)
from dagforge.graph.cpdag import dag_to_cpdag, dag_to_icpdag
from dagforge.graph.dag import is_dag, threshold_to_dag, topological_order
from dagforge.graph.files import (
    read_adjacency,
    read_cpdag,
    read_edge_list,
    read_graph,
    write_adjacency,
    write_cpdag,
    write_edge_list,
)

__all__ = [
    "align_graphs",
    "dag_to_cpdag",
    "dag_to_icpdag",
    "default_names",
    "from_lingam",
    "from_networkx",
    "is_dag",
    "read_adjacency",
    "read_cpdag",
    "read_edge_list",
    "read_graph",
    "threshold_to_dag",
    "to_lingam",
    "to_networkx",
    "topological_order",
    "write_adjacency",
    "write_cpdag",
    "write_edge_list",
]
