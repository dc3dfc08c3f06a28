"""Graph files in any format of :data:`FORMATS`, the format told by the suffix."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from dagforge._io import write_text
from dagforge.errors import GraphError
from dagforge.export._common import prepare
from dagforge.export.dot import from_dot, to_dot
from dagforge.export.json_format import from_json, to_json
from dagforge.export.networkx_formats import from_gml, from_graphml, to_gml, to_graphml
from dagforge.graph import read_graph as _read_csv_graph
from dagforge.graph import write_adjacency, write_edge_list

__all__ = ["FORMATS", "format_for", "read_graph", "write_graph"]

#: Formats of :func:`write_graph` / :func:`read_graph`: ``"edges"`` is the edge list
#: CSV, ``"adjacency"`` the adjacency CSV.
FORMATS = ("graphml", "gml", "dot", "json", "edges", "adjacency")
_SUFFIXES = {".graphml": "graphml", ".gml": "gml", ".dot": "dot", ".gv": "dot",
             ".json": "json", ".csv": "edges"}


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


_WRITERS: dict[str, Callable[[np.ndarray, list[str]], str]] = {
    "graphml": to_graphml, "gml": to_gml, "dot": to_dot, "json": to_json}
_READERS: dict[str, Callable[[str], tuple[np.ndarray, list[str]]]] = {
    "graphml": from_graphml, "gml": from_gml, "dot": from_dot, "json": from_json}


def write_graph(path: str | os.PathLike[str], W: np.ndarray,
                names: Sequence[str] | None = None, format: str | None = None) -> str:
    """Write the graph ``W`` with variable ``names`` to ``path`` atomically, in
    ``format`` (default: from the suffix, see :func:`format_for`); returns the format."""
    fmt = format_for(path, format)
    W, names = prepare(W, names)
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
