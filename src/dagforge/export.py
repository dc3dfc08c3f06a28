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
"""

from __future__ import annotations

import itertools
import json
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

from dagforge._io import to_json as _json_text
from dagforge._io import write_text
from dagforge.errors import GraphError
from dagforge.graph import (
    _as_square,
    _check_names,
    _fmt,
    default_names,
    from_lingam,
    from_networkx,
    to_lingam,
    to_networkx,
    write_adjacency,
    write_edge_list,
)
from dagforge.graph import read_graph as _read_csv_graph

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

#: Formats of :func:`write_graph` / :func:`read_graph`: ``"edges"`` is the edge list
#: CSV, ``"adjacency"`` the adjacency CSV.
FORMATS = ("graphml", "gml", "dot", "json", "edges", "adjacency")
_SUFFIXES = {".graphml": "graphml", ".gml": "gml", ".dot": "dot", ".gv": "dot",
             ".json": "json", ".csv": "edges"}


def _prepare(W: np.ndarray, names: Sequence[str] | None) -> tuple[np.ndarray, list[str]]:
    W = np.asarray(_as_square(W), dtype=float)
    if not np.all(np.isfinite(W)):
        raise GraphError("adjacency contains NaN or infinite values")
    names = [str(n) for n in names] if names is not None else default_names(W.shape[0])
    _check_names(names, W.shape[0])
    return W, names


def _from_nx_graph(G: Any, what: str) -> tuple[np.ndarray, list[str]]:
    if not G.is_directed():
        raise GraphError(f"{what}: the graph is undirected; dagforge reads directed graphs")
    return from_networkx(G)


# --------------------------------------------------------------------------- GraphML


def to_graphml(W: np.ndarray, names: Sequence[str] | None = None) -> str:
    """GraphML text: node ids are the names, edges carry a ``weight`` (double) attribute."""
    W, names = _prepare(W, names)
    return "\n".join(nx.generate_graphml(to_networkx(W, names))) + "\n"


def from_graphml(text: str) -> tuple[np.ndarray, list[str]]:
    """``(W, names)`` from GraphML text (node ids as names, ``weight`` or 1.0)."""
    try:
        G = nx.parse_graphml(text)
    except Exception as e:  # networkx / ElementTree raise many kinds
        raise GraphError(f"cannot parse GraphML: {' '.join(str(e).split())}") from None
    return _from_nx_graph(G, "GraphML")


# --------------------------------------------------------------------------- GML

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
    W, names = _prepare(W, names)
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
    _check_names(names, len(names))
    return from_networkx(nx.relabel_nodes(nx.DiGraph(G), dict(zip(ids, names, strict=True))),
                         names)


# --------------------------------------------------------------------------- DOT


def _dot_quote(name: str) -> str:
    """A DOT double-quoted string: backslash, quote and line breaks escaped."""
    s = name.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + s.replace("\r", "\\r").replace("\n", "\\n") + '"'


def to_dot(W: np.ndarray, names: Sequence[str] | None = None, graph_name: str = "dagforge"
           ) -> str:
    """Graphviz DOT text of the digraph; every node is declared (isolated ones too).

    Names are double-quoted (``\\\\``, ``\\"``, ``\\n`` escaped, non-ASCII as UTF-8).
    An edge whose weight is not 1 gets ``coef=<weight>`` (exact) and a short
    ``label``; Graphviz's own ``weight`` attribute (a layout hint that must be a
    non-negative integer for ``dot``) is not used.
    """
    W, names = _prepare(W, names)
    lines = [f"digraph {_dot_quote(graph_name)} {{"]
    lines += [f"  {_dot_quote(n)};" for n in names]
    for i, j in zip(*np.nonzero(W), strict=True):
        w = float(W[i, j])
        attrs = "" if w == 1.0 else f' [coef={_fmt(w)}, label="{w:.3g}"]'
        lines.append(f"  {_dot_quote(names[i])} -> {_dot_quote(names[j])}{attrs};")
    lines.append("}")
    return "\n".join(lines) + "\n"


_DOT_TOKEN = re.compile(r"""
    (?P<ws>\s+|//[^\n]*|/\*.*?\*/|\#[^\n]*)
  | (?P<str>"(?:\\.|[^"\\])*")
  | (?P<html><[^<>]*(?:<[^<>]*>[^<>]*)*>)
  | (?P<arrow>->|--)
  | (?P<id>-?(?:\.\d+|\d+(?:\.\d*)?)|[A-Za-z_\u0080-\U0010ffff][\w\u0080-\U0010ffff]*)
  | (?P<punct>[{}\[\];,=:])
""", re.VERBOSE | re.DOTALL)


def _dot_tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(text):
        m = _DOT_TOKEN.match(text, pos)
        if m is None:
            raise GraphError(f"cannot parse DOT near {text[pos:pos + 20]!r}")
        pos = m.end()
        kind = m.lastgroup
        if kind == "ws":
            continue
        value = m.group()
        if kind == "str":  # a quoted id: never a keyword
            value = re.sub(r"\\(.)", lambda g: {"n": "\n", "r": "\r", "l": "\n"}.get(
                g.group(1), g.group(1)), value[1:-1], flags=re.DOTALL)
        elif kind == "html":
            kind = "str"
        out.append((kind, value))  # type: ignore[arg-type]
    return out


def from_dot(text: str) -> tuple[np.ndarray, list[str]]:
    """``(W, names)`` from DOT text of a ``digraph``.

    Reads what :func:`to_dot` writes and simple hand-written files: node and edge
    statements (edge chains ``a -> b -> c``), attribute lists, default-attribute
    statements (ignored), comments. Subgraphs and ports are not supported. An edge's
    weight is its ``coef`` attribute, else a numeric ``weight``, else 1.0.
    """
    toks = _dot_tokens(text)
    k = 0

    def peek(offset: int = 0) -> tuple[str, str]:
        return toks[k + offset] if k + offset < len(toks) else ("eof", "")

    def at(char: str, offset: int = 0) -> bool:
        return peek(offset) == ("punct", char)

    if peek()[1].lower() == "strict":
        k += 1
    if peek()[1].lower() != "digraph":
        raise GraphError("DOT: expected a 'digraph' (dagforge reads directed graphs)")
    k += 1
    if peek()[0] in ("id", "str"):
        k += 1
    if not at("{"):
        raise GraphError("DOT: expected '{' after the graph name")
    k += 1
    names: dict[str, None] = {}
    edges: dict[tuple[str, str], float] = {}

    def attr_list() -> dict[str, str]:
        nonlocal k
        attrs: dict[str, str] = {}
        while at("["):
            k += 1
            while not at("]"):
                if peek()[0] not in ("id", "str"):
                    raise GraphError(f"DOT: unexpected {peek()[1]!r} in an attribute list")
                key = peek()[1]
                k += 1
                if at("="):
                    k += 1
                    attrs[key] = peek()[1]
                    k += 1
                if at(",") or at(";"):
                    k += 1
            k += 1
        return attrs

    while True:
        kind, value = peek()
        if kind == "eof":
            raise GraphError("DOT: missing closing '}'")
        if at("}"):
            break
        if at(";"):
            k += 1
            continue
        if at("{"):
            raise GraphError("DOT: subgraphs are not supported")
        if kind not in ("id", "str"):
            raise GraphError(f"DOT: unexpected {value!r}")
        keyword = value.lower() if kind == "id" else ""
        if keyword in ("graph", "node", "edge") and at("[", 1):
            k += 1
            attr_list()
            continue
        if keyword == "subgraph":
            raise GraphError("DOT: subgraphs are not supported")
        if at("=", 1):  # graph attribute a = b
            k += 3
            continue
        chain = [value]
        k += 1
        if at(":"):
            raise GraphError("DOT: node ports are not supported")
        while peek()[0] == "arrow":
            if peek()[1] == "--":
                raise GraphError("DOT: undirected edge '--' in a digraph")
            k += 1
            if peek()[0] not in ("id", "str"):
                raise GraphError(f"DOT: expected a node after '->', got {peek()[1]!r}")
            chain.append(peek()[1])
            k += 1
        attrs = attr_list()
        for n in chain:
            names.setdefault(n)
        for a, b in itertools.pairwise(chain):
            if a == b:
                raise GraphError(f"DOT: self-loop on {a!r}")
            raw = attrs.get("coef", attrs.get("weight", "1"))
            try:
                edges[(a, b)] = float(raw)
            except ValueError:
                raise GraphError(f"DOT: edge {a!r} -> {b!r}: weight {raw!r} is not a "
                                 "number") from None
    order = list(names)
    index = {n: i for i, n in enumerate(order)}
    W = np.zeros((len(order), len(order)))
    for (a, b), w in edges.items():
        W[index[a], index[b]] = w
    return W, order


# --------------------------------------------------------------------------- JSON


def to_json(W: np.ndarray, names: Sequence[str] | None = None) -> str:
    """JSON text ``{"directed": true, "nodes": [{"id": name}, ...],
    "edges": [{"source": a, "target": b, "weight": w}, ...]}`` (UTF-8, names as is)."""
    W, names = _prepare(W, names)
    data = {
        "directed": True,
        "nodes": [{"id": n} for n in names],
        "edges": [{"source": names[i], "target": names[j], "weight": float(W[i, j])}
                  for i, j in zip(*np.nonzero(W), strict=True)],
    }
    return _json_text(data)


def from_json(text: str) -> tuple[np.ndarray, list[str]]:
    """``(W, names)`` from the JSON of :func:`to_json` (``weight`` optional, 1.0)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise GraphError(f"cannot parse JSON: {e}") from None
    if not isinstance(data, dict) or not isinstance(data.get("nodes"), list):
        raise GraphError("JSON graph must be an object with a 'nodes' list")
    if data.get("directed", True) is not True:
        raise GraphError("JSON graph is undirected; dagforge reads directed graphs")
    names = []
    for node in data["nodes"]:
        name = node.get("id") if isinstance(node, dict) else node
        if not isinstance(name, str):
            raise GraphError(f"JSON graph: node {node!r} has no string 'id'")
        names.append(name)
    _check_names(names, len(names))
    index = {n: i for i, n in enumerate(names)}
    W = np.zeros((len(names), len(names)))
    for e in data.get("edges", []):
        if not isinstance(e, dict) or "source" not in e or "target" not in e:
            raise GraphError(f"JSON graph: edge {e!r} needs 'source' and 'target'")
        a, b = e["source"], e["target"]
        for n in (a, b):
            if n not in index:
                raise GraphError(f"JSON graph: edge names unknown node {n!r}")
        if a == b:
            raise GraphError(f"JSON graph: self-loop on {a!r}")
        w = e.get("weight", 1.0)
        if isinstance(w, bool) or not isinstance(w, int | float) or not np.isfinite(w):
            raise GraphError(f"JSON graph: edge {a!r} -> {b!r} has weight {w!r}")
        W[index[a], index[b]] = float(w)
    return W, names


# --------------------------------------------------------------------------- causal-learn


def to_causallearn(C: np.ndarray) -> np.ndarray:
    """causal-learn's ``GeneralGraph.graph`` encoding of a DAG or CPDAG.

    ``C[i, j] != 0`` and ``C[j, i] == 0`` (the edge ``i -> j``) becomes
    ``G[j, i] = 1, G[i, j] = -1`` (arrowhead at ``j``, tail at ``i``); an undirected
    edge of a CPDAG (``C[i, j]`` and ``C[j, i]`` both non-zero, as
    :func:`dagforge.graph.dag_to_cpdag` writes it) becomes ``G[i, j] = G[j, i] = -1``.

    Returns
    -------
    ndarray of int of shape (d, d)
    """
    A = np.asarray(_as_square(C)) != 0
    if np.any(np.diag(A)):
        raise GraphError("self-loop: causal-learn graphs have none")
    directed = A & ~A.T
    undirected = A & A.T
    G = np.zeros(A.shape, dtype=int)
    G[directed.T] = 1
    G[directed] = -1
    G[undirected] = -1
    return G


def from_causallearn(G: np.ndarray) -> np.ndarray:
    """dagforge's 0/1 matrix (DAG, or CPDAG with symmetric undirected pairs) from
    causal-learn's ``GeneralGraph.graph`` encoding (inverse of :func:`to_causallearn`).

    Raises
    ------
    GraphError
        Bidirected edges (``1, 1``) or circle endpoints (``2``, from FCI's PAGs),
        which a DAG or CPDAG cannot express, or entries that are not an endpoint pair.
    """
    G = np.asarray(_as_square(G, "causal-learn graph"))
    if not np.all(np.isin(G, (-1, 0, 1, 2))):
        raise GraphError("causal-learn graph entries must be -1, 0, 1 or 2")
    if np.any(np.diag(G) != 0):
        raise GraphError("causal-learn graph has a non-zero diagonal")
    C = np.zeros(G.shape, dtype=int)
    for i, j in zip(*np.triu_indices(G.shape[0], 1), strict=True):
        pair = (int(G[i, j]), int(G[j, i]))
        if pair == (0, 0):
            continue
        if pair == (-1, 1):
            C[i, j] = 1
        elif pair == (1, -1):
            C[j, i] = 1
        elif pair == (-1, -1):
            C[i, j] = C[j, i] = 1
        elif pair == (1, 1):
            raise GraphError(f"bidirected edge between {i} and {j}: not a DAG or CPDAG")
        elif 2 in pair:
            raise GraphError(f"circle endpoint between {i} and {j} (a PAG): not a DAG or "
                             "CPDAG")
        else:
            raise GraphError(f"invalid endpoint pair {pair} between {i} and {j}")
    return C


def to_causallearn_graph(C: np.ndarray, names: Sequence[str] | None = None) -> Any:
    """causal-learn's ``GeneralGraph`` object (nodes named ``names``) of a DAG or CPDAG;
    needs causal-learn installed (``pip install causal-learn``)."""
    C, names = _prepare(C, names)
    try:
        from causallearn.graph.Edge import Edge
        from causallearn.graph.Endpoint import Endpoint
        from causallearn.graph.GeneralGraph import GeneralGraph
        from causallearn.graph.GraphNode import GraphNode
    except ImportError as e:
        raise GraphError("causal-learn is not installed (pip install causal-learn)") from e
    nodes = [GraphNode(n) for n in names]
    graph = GeneralGraph(nodes)
    G = to_causallearn(C)
    for i, j in zip(*np.triu_indices(len(names), 1), strict=True):
        pair = (int(G[i, j]), int(G[j, i]))
        if pair == (-1, 1):
            graph.add_edge(Edge(nodes[i], nodes[j], Endpoint.TAIL, Endpoint.ARROW))
        elif pair == (1, -1):
            graph.add_edge(Edge(nodes[j], nodes[i], Endpoint.TAIL, Endpoint.ARROW))
        elif pair == (-1, -1):
            graph.add_edge(Edge(nodes[i], nodes[j], Endpoint.TAIL, Endpoint.TAIL))
    return graph


def from_causallearn_graph(graph: Any) -> tuple[np.ndarray, list[str]]:
    """``(C, names)`` from a causal-learn ``GeneralGraph`` (see :func:`from_causallearn`)."""
    names = [str(n.get_name()) for n in graph.get_nodes()]
    return from_causallearn(np.asarray(graph.graph)), names


# --------------------------------------------------------------------------- files


def format_for(path: str | os.PathLike[str], format: str | None = None) -> str:
    """The format of ``path``: ``format`` if given, else from the suffix
    (``.graphml``, ``.gml``, ``.dot``/``.gv``, ``.json``, ``.csv``: edge list)."""
    if format is not None:
        if format not in FORMATS:
            raise GraphError(f"unknown graph format {format!r}; choose one of "
                             f"{', '.join(FORMATS)}")
        return format
    suffix = Path(path).suffix.lower()
    if suffix not in _SUFFIXES:
        raise GraphError(f"{path}: cannot tell the graph format from the suffix "
                         f"{suffix or '(none)'!r}; use {', '.join(_SUFFIXES)}")
    return _SUFFIXES[suffix]


_WRITERS = {"graphml": to_graphml, "gml": to_gml, "dot": to_dot, "json": to_json}
_READERS = {"graphml": from_graphml, "gml": from_gml, "dot": from_dot, "json": from_json}


def write_graph(path: str | os.PathLike[str], W: np.ndarray,
                names: Sequence[str] | None = None, format: str | None = None) -> str:
    """Write the graph ``W`` with variable ``names`` to ``path`` atomically, in
    ``format`` (default: from the suffix, see :func:`format_for`); returns the format."""
    fmt = format_for(path, format)
    W, names = _prepare(W, names)
    if fmt == "edges":
        write_edge_list(path, W, names)
    elif fmt == "adjacency":
        write_adjacency(path, W, names)
    else:
        write_text(path, _WRITERS[fmt](W, names))
    return fmt


def read_graph(path: str | os.PathLike[str], format: str | None = None
               ) -> tuple[np.ndarray, list[str]]:
    """Read ``(W, names)`` from a graph file in any format of :data:`FORMATS`
    (default: from the suffix; a ``.csv`` may be an edge list or an adjacency matrix,
    told apart by its header as in :func:`dagforge.graph.read_graph`)."""
    fmt = format_for(path, format)
    if fmt in ("edges", "adjacency"):
        return _read_csv_graph(path)
    p = Path(path)
    if not p.is_file():
        raise GraphError(f"graph file not found: {p}")
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise GraphError(f"graph file is not UTF-8 text: {p}") from e
    try:
        return _READERS[fmt](text)
    except GraphError as e:
        raise GraphError(f"{p}: {e}") from None

