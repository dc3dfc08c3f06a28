"""Graphviz DOT: :func:`to_dot` writes it, :func:`from_dot` reads it with pydot's parser."""

from __future__ import annotations

import re
import threading
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from dagforge.errors import GraphError
from dagforge.export._common import prepare
from dagforge.graph._common import format_weight

__all__ = ["from_dot", "to_dot"]

_NUMERAL = re.compile(r"-?(?:\.\d+|\d+(?:\.\d*)?)")  # a DOT numeral: no exponent
_QUOTED = re.compile(r'"(?:\\.|[^"\\])*"', re.DOTALL)
_ESCAPES = {"n": "\n", "r": "\r", "l": "\n"}  # \l is Graphviz's left-justified line break
# strings, HTML strings and comments: where "--" is not an edge operator
_NOT_CODE = re.compile(r'"(?:\\.|[^"\\])*"|<[^<>]*(?:<[^<>]*>[^<>]*)*>|//[^\n]*|/\*.*?\*/|#[^\n]*',
                       re.DOTALL)
_DEFAULTS = ("node", "edge", "graph")  # pydot's names for default-attribute statements
_PARSE_LOCK = threading.Lock()  # pydot's parser keeps state while it parses


def _dot_quote(name: str) -> str:
    """A DOT double-quoted string: backslash, quote and line breaks escaped."""
    s = name.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + s.replace("\r", "\\r").replace("\n", "\\n") + '"'


def to_dot(W: np.ndarray, names: Sequence[str] | None = None, graph_name: str = "dagforge"
           ) -> str:
    """Graphviz DOT text of the digraph; every node is declared (isolated ones too).

    Names are double-quoted (``\\\\``, ``\\"``, ``\\n`` escaped, non-ASCII as UTF-8).
    An edge whose weight is not 1 gets ``coef=<weight>`` (exact; quoted when it
    needs an exponent, which a DOT numeral cannot hold) and a short ``label``;
    Graphviz's own ``weight`` attribute (a layout hint that must be a
    non-negative integer for ``dot``) is not used.
    """
    W, names = prepare(W, names)
    lines = [f"digraph {_dot_quote(graph_name)} {{"]
    lines += [f"  {_dot_quote(n)};" for n in names]
    for i, j in zip(*np.nonzero(W), strict=True):
        w = float(W[i, j])
        coef = format_weight(w)
        coef = coef if _NUMERAL.fullmatch(coef) else f'"{coef}"'
        attrs = "" if w == 1.0 else f' [coef={coef}, label="{w:.3g}"]'
        lines.append(f"  {_dot_quote(names[i])} -> {_dot_quote(names[j])}{attrs};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def from_dot(text: str) -> tuple[np.ndarray, list[str]]:
    """``(W, names)`` from DOT text of a ``digraph``, parsed by pydot.

    Reads what :func:`to_dot` writes and hand-written files: node and edge
    statements (edge chains ``a -> b -> c``), attribute lists, default-attribute
    statements (ignored), comments. Subgraphs and ports are not supported. Names
    are in order of first appearance; an edge's weight is its ``coef`` attribute,
    else a numeric ``weight``, else 1.0 (a repeated edge: the last one).

    Raises
    ------
    GraphError
        One line naming the problem: text that is not DOT (with the line and
        column), an undirected graph or edge, subgraphs, ports, self-loops,
        weights that are not numbers.
    """
    graph = _parse_digraph(text)
    names: dict[str, None] = {}
    edges: dict[tuple[str, str], float] = {}
    elements = graph.get_node_list() + graph.get_edge_list()
    for element in sorted(elements, key=lambda e: e.get_sequence()):
        if element.obj_dict.get("type") == "node":
            if element.get_name().lower() in _DEFAULTS:  # node [...] etc.: not a node
                continue
            if element.obj_dict.get("port"):
                raise GraphError("DOT: node ports are not supported")
            names.setdefault(_unquote(element.get_name()))
            continue
        a, b = _endpoint(element.get_source()), _endpoint(element.get_destination())
        names.setdefault(a)
        names.setdefault(b)
        if a == b:
            raise GraphError(f"DOT: self-loop on {a!r}")
        edges[(a, b)] = _edge_weight(element.get_attributes(), a, b)
    order = list(names)
    index = {n: i for i, n in enumerate(order)}
    W = np.zeros((len(order), len(order)))
    for (a, b), w in edges.items():
        W[index[a], index[b]] = w
    return W, order


def _parse_digraph(text: str) -> Any:
    """The one ``digraph`` of ``text`` as a pydot graph without subgraphs, or GraphError."""
    with warnings.catch_warnings():  # pydot 4.0 builds its grammar with names pyparsing
        warnings.simplefilter("ignore", DeprecationWarning)  # 3.3 deprecates
        from pydot import dot_parser  # pydot >= 4 builds its grammar once, at import
    from pyparsing import ParseBaseException

    try:
        with _PARSE_LOCK:
            graphs = list(dot_parser.GraphParser.parser.parse_string(text, parse_all=True))
    except ParseBaseException as e:
        raise GraphError(_parse_error(text, e)) from None
    if len(graphs) != 1:
        raise GraphError(f"DOT: expected one graph, found {len(graphs)}")
    graph = graphs[0]
    if graph.get_type() != "digraph":
        raise GraphError("DOT: expected a 'digraph' (dagforge reads directed graphs)")
    if "--" in _NOT_CODE.sub(" ", text):  # pydot accepts '--' in a digraph; Graphviz does not
        raise GraphError("DOT: undirected edge '--' in a digraph")
    if graph.get_subgraph_list():
        raise GraphError("DOT: subgraphs are not supported")
    return graph


def _parse_error(text: str, e: Any) -> str:
    """A one-line message for pyparsing's exception ``e`` on ``text``."""
    if not text[: e.loc].strip():
        return "DOT: expected a 'digraph' (dagforge reads directed graphs)"
    if e.loc >= len(text.rstrip()):
        return "DOT: missing closing '}' (the text ends inside the graph)"
    near = text[e.loc : e.loc + 20]
    return f"DOT: cannot parse near {near!r} (line {e.lineno}, column {e.col}): {e.msg}"


def _unquote(raw: str) -> str:
    """A DOT id as its text: a quoted string unescaped, anything else (plain ids,
    numerals, HTML strings ``<...>``) as written."""
    if not _QUOTED.fullmatch(raw):
        return raw
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), raw[1:-1],
                  flags=re.DOTALL)


def _endpoint(raw: Any) -> str:
    """An edge endpoint's node name; a subgraph or a port is a GraphError."""
    if not isinstance(raw, str):  # pydot gives a subgraph's attributes for a -> {b c}
        raise GraphError("DOT: subgraphs are not supported")
    if not _QUOTED.fullmatch(raw) and not raw.startswith("<") and ":" in raw:
        raise GraphError("DOT: node ports are not supported")
    return _unquote(raw)


def _edge_weight(attrs: dict[str, Any], a: str, b: str) -> float:
    """The ``coef`` attribute, else ``weight``, else 1.0, as a float."""
    raw = attrs.get("coef", attrs.get("weight", "1"))
    try:
        return float(_unquote(raw))
    except (TypeError, ValueError):
        raise GraphError(f"DOT: edge {a!r} -> {b!r}: weight {raw!r} is not a "
                         "number") from None
