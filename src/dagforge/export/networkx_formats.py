"""GraphML and GML text, through networkx's writers and parsers.

GML is written on one line so that DoWhy's ``CausalModel(graph=...)`` reads it
(see :func:`to_gml`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import networkx as nx
import numpy as np

from dagforge.errors import GraphError
from dagforge.export._common import from_nx_graph, prepare
from dagforge.graph import from_networkx, to_networkx
from dagforge.graph._common import check_names

__all__ = ["from_gml", "from_graphml", "to_gml", "to_graphml"]


def to_graphml(W: np.ndarray, names: Sequence[str] | None = None) -> str:
    """GraphML text: node ids are the names, edges carry a ``weight`` (double) attribute."""
    W, names = prepare(W, names)
    return "\n".join(nx.generate_graphml(to_networkx(W, names))) + "\n"


def from_graphml(text: str) -> tuple[np.ndarray, list[str]]:
    """``(W, names)`` from GraphML text (node ids as names, ``weight`` or 1.0)."""
    try:
        G = nx.parse_graphml(text)
    except Exception as e:  # networkx / ElementTree raise many kinds
        raise GraphError(f"cannot parse GraphML: {' '.join(str(e).split())}") from None
    return from_nx_graph(G, "GraphML")


_DOWHY_FILE = re.compile(r".*\.(dot|gml)")  # DoWhy takes a string matching this for a path
_DOWHY_DOT = re.compile(r".*graph\s*\{.*\}\s*")  # ... and this for a DOT string


def to_gml(W: np.ndarray, names: Sequence[str] | None = None) -> str:
    """GML text on one line, which DoWhy's ``CausalModel(graph=...)`` and networkx read.

    ``graph [ directed 1 node [ id 0 label "x" ] ... edge [ source 0 target 1 weight 0.5 ] ]``:
    integer ids, the names as labels (networkx's escaping: ``"``, ``&`` and non-ASCII
    characters as ``&#NNN;``, which ``networkx.parse_gml`` decodes). One line because
    DoWhy recognises a GML string with a single-line regular expression; for the same
    reason a ``.dot`` / ``.gml`` or ``graph {...}`` inside a name is written with the
    dot or the braces as character references, so DoWhy does not take the string for a
    file name or a DOT graph.
    """
    W, names = prepare(W, names)
    text = " ".join(line.strip() for line in nx.generate_gml(to_networkx(W, names)))
    if _DOWHY_FILE.match(text):
        text = re.sub(r"\.(?=dot|gml)", "&#46;", text)
    if _DOWHY_DOT.match(text):
        text = text.replace("{", "&#123;").replace("}", "&#125;")
    return text + "\n"


def from_gml(text: str) -> tuple[np.ndarray, list[str]]:
    """``(W, names)`` from GML text; nodes are named by ``label`` (by ``id`` if they have
    no labels), ``weight`` or 1.0."""
    try:
        G = nx.parse_gml(text, label=None)  # nodes by id; labels stay attributes
    except Exception as e:
        raise GraphError(f"cannot parse GML: {' '.join(str(e).split())}") from None
    if not G.is_directed():
        raise GraphError("GML: the graph is undirected (no 'directed 1'); dagforge reads "
                         "directed graphs")
    ids = list(G.nodes)
    names = [str(G.nodes[v].get("label", v)) for v in ids]
    check_names(names, len(names))
    return from_networkx(nx.relabel_nodes(nx.DiGraph(G), dict(zip(ids, names, strict=True))),
                         names)
