"""Graphs in the formats other tools read, and back.

Every function takes or returns dagforge's ``W`` (``W[i, j] != 0``: edge ``i -> j``
with weight ``W[i, j]``) and the variable ``names``; names are kept exactly,
unicode and quotes included.

=============  ===========================  ==========================================
format         functions                    read by
=============  ===========================  ==========================================
networkx       :func:`to_networkx`,         networkx, DoWhy (``graph=`` a DiGraph)
               :func:`from_networkx`
GraphML        :func:`to_graphml`,          networkx, igraph, Gephi, yEd, Cytoscape
               :func:`from_graphml`
GML            :func:`to_gml`,              DoWhy's ``CausalModel(graph=...)`` (one
               :func:`from_gml`             line, see :func:`to_gml`), networkx
DOT            :func:`to_dot`,              Graphviz, pydot, DAGitty-style tools
               :func:`from_dot`
JSON           :func:`to_json`,             anything: nodes and weighted edges
               :func:`from_json`
edge list CSV  :func:`dagforge.graph.write_edge_list`   spreadsheets, Gephi
adjacency CSV  :func:`dagforge.graph.write_adjacency`   spreadsheets, R
causal-learn   :func:`to_causallearn`,      causal-learn's ``GeneralGraph.graph``
               :func:`from_causallearn`     encoding (and the object itself)
lingam         :func:`to_lingam`,           lingam's ``B`` (``B[child, parent]``)
               :func:`from_lingam`
=============  ===========================  ==========================================

:func:`write_graph` and :func:`read_graph` pick the format from the file suffix
(``.graphml``, ``.gml``, ``.dot`` / ``.gv``, ``.json``, ``.csv``); files are
written atomically (:mod:`dagforge._io`).

One module per family: :mod:`~dagforge.export.networkx_formats` (GraphML, GML),
:mod:`~dagforge.export.dot`, :mod:`~dagforge.export.json_format`,
:mod:`~dagforge.export.causallearn`, :mod:`~dagforge.export.files`; every name is
importable from :mod:`dagforge.export`.
"""

from __future__ import annotations

from dagforge.export.causallearn import (
    from_causallearn,
    from_causallearn_graph,
    to_causallearn,
    to_causallearn_graph,
)
from dagforge.export.dot import from_dot, to_dot
from dagforge.export.files import FORMATS, format_for, read_graph, write_graph
from dagforge.export.json_format import from_json, to_json
from dagforge.export.networkx_formats import from_gml, from_graphml, to_gml, to_graphml
from dagforge.graph import from_lingam, from_networkx, to_lingam, to_networkx

__all__ = [
    "FORMATS",
    "format_for",
    "from_causallearn",
    "from_causallearn_graph",
    "from_dot",
    "from_gml",
    "from_graphml",
    "from_json",
    "from_lingam",
    "from_networkx",
    "read_graph",
    "to_causallearn",
    "to_causallearn_graph",
    "to_dot",
    "to_gml",
    "to_graphml",
    "to_json",
    "to_lingam",
    "to_networkx",
    "write_graph",
]
