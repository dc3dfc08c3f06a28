"""Graph files: edge-list and adjacency CSVs (written atomically, read with
one-line :class:`~dagforge.errors.GraphError` messages).

* edge list CSV: header ``source,target`` or ``source,target,weight``, one edge
  a row, variables named;
* adjacency CSV: a header row and a first column of variable names, row =
  parent, column = child, entries are weights (0 = no edge);
* CPDAG CSV: header ``source,target,kind``, ``kind`` ``directed`` (the direction is
  fixed) or ``undirected`` (either direction fits the data; listed once).

:func:`read_graph` tells them apart by the header.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from dagforge._io import write_text
from dagforge.errors import GraphError
from dagforge.graph._common import as_square, check_names, default_names, format_weight

__all__ = ["read_adjacency", "read_cpdag", "read_edge_list", "read_graph", "write_adjacency",
           "write_cpdag", "write_edge_list"]


def write_edge_list(
    path: str | os.PathLike[str],
    W: np.ndarray,
    names: Sequence[str] | None = None,
    weights: bool = True,
) -> None:
    """Write ``source,target[,weight]`` rows for every ``W[i, j] != 0`` (atomically)."""
    W = as_square(W)
    names = list(names) if names is not None else default_names(W.shape[0])
    check_names(names, W.shape[0])
    buf = io.StringIO()
    wr = csv.writer(buf, lineterminator="\n")
    wr.writerow(["source", "target", "weight"] if weights else ["source", "target"])
    for i, j in zip(*np.nonzero(W), strict=True):
        row = [names[i], names[j]]
        wr.writerow([*row, format_weight(W[i, j])] if weights else row)
    write_text(path, buf.getvalue())


def write_adjacency(
    path: str | os.PathLike[str], W: np.ndarray, names: Sequence[str] | None = None
) -> None:
    """Write the adjacency CSV (header and first column = names; row parent, column child)."""
    W = as_square(W)
    names = list(names) if names is not None else default_names(W.shape[0])
    check_names(names, W.shape[0])
    buf = io.StringIO()
    wr = csv.writer(buf, lineterminator="\n")
    wr.writerow(["", *names])
    for i, n in enumerate(names):
        wr.writerow([n, *(format_weight(x) for x in W[i])])
    write_text(path, buf.getvalue())


def _read_rows(path: str | os.PathLike[str]) -> list[list[str]]:
    p = Path(path)
    if not p.exists():
        raise GraphError(f"graph file not found: {p}")
    if p.is_dir():
        raise GraphError(f"graph path is a directory, not a file: {p}")
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise GraphError(f"graph file is not UTF-8 text: {p}") from e
    rows = [
        [c.strip() for c in r] for r in csv.reader(io.StringIO(text)) if any(c.strip() for c in r)
    ]
    if not rows:
        raise GraphError(f"graph file is empty: {p}")
    return rows


def _parse_float(s: str, where: str) -> float:
    try:
        x = float(s)
    except ValueError as e:
        raise GraphError(f"{where}: {s!r} is not a number") from e
    if not np.isfinite(x):
        raise GraphError(f"{where}: weight {s!r} is not finite")
    return x


def write_cpdag(path: str | os.PathLike[str], C: np.ndarray,
                names: Sequence[str] | None = None) -> None:
    """Write the CPDAG ``C`` (:func:`dagforge.graph.dag_to_cpdag`'s format) as
    ``source,target,kind`` rows: each directed edge, then each undirected one once."""
    C = as_square(C) != 0
    names = list(names) if names is not None else default_names(C.shape[0])
    check_names(names, C.shape[0])
    buf = io.StringIO()
    wr = csv.writer(buf, lineterminator="\n")
    wr.writerow(["source", "target", "kind"])
    for i, j in zip(*np.nonzero(C & ~C.T), strict=True):
        wr.writerow([names[i], names[j], "directed"])
    for i, j in zip(*np.nonzero(np.triu(C & C.T)), strict=True):
        wr.writerow([names[i], names[j], "undirected"])
    write_text(path, buf.getvalue())


def read_cpdag(path: str | os.PathLike[str], names: Sequence[str]) -> np.ndarray:
    """Read a CPDAG CSV (:func:`write_cpdag`) over the variables ``names``: ``C[i, j] = 1,
    C[j, i] = 0`` for ``i -> j`` and both 1 for ``i - j``."""
    rows = _read_rows(path)
    if [h.lower() for h in rows[0]] != ["source", "target", "kind"]:
        raise GraphError(f"{path}: a CPDAG file needs the header 'source,target,kind'")
    index = {n: k for k, n in enumerate(names)}
    C = np.zeros((len(names), len(names)), dtype=int)
    for k, r in enumerate(rows[1:], start=2):
        if len(r) != 3 or r[2] not in ("directed", "undirected"):
            raise GraphError(f"{path}, line {k}: expected source,target,directed|undirected")
        if r[0] not in index or r[1] not in index:
            raise GraphError(f"{path}, line {k}: unknown variable in {r[0]!r}, {r[1]!r}")
        i, j = index[r[0]], index[r[1]]
        C[i, j] = 1
        if r[2] == "undirected":
            C[j, i] = 1
    return C


def read_edge_list(
    path: str | os.PathLike[str], names: Sequence[str] | None = None
) -> tuple[np.ndarray, list[str]]:
    """Read a ``source,target[,weight]`` CSV into ``(W, names)``.

    Without ``names`` the nodes are those named by the edges, in order of first
    appearance; with ``names``, every edge must use them (unknown names are an
    error) and ``W`` follows their order. A missing weight column gives weight 1.
    Self-loops, duplicate edges and malformed rows are errors.
    """
    rows = _read_rows(path)
    header = [h.lower() for h in rows[0]]
    if header[:2] != ["source", "target"] or len(header) not in (2, 3) or (
        len(header) == 3 and header[2] != "weight"
    ):
        raise GraphError(
            f"{path}: an edge list needs the header 'source,target' or "
            f"'source,target,weight', got {','.join(rows[0])!r}"
        )
    has_w = len(header) == 3
    edges: list[tuple[str, str, float]] = []
    seen: set[tuple[str, str]] = set()
    for k, r in enumerate(rows[1:], start=2):
        if len(r) != len(header):
            raise GraphError(f"{path}, line {k}: expected {len(header)} fields, got {len(r)}")
        u, v = r[0], r[1]
        if not u or not v:
            raise GraphError(f"{path}, line {k}: empty node name")
        if u == v:
            raise GraphError(f"{path}, line {k}: self-loop on {u!r}")
        if (u, v) in seen:
            raise GraphError(f"{path}, line {k}: duplicate edge {u} -> {v}")
        seen.add((u, v))
        w = _parse_float(r[2], f"{path}, line {k}") if has_w else 1.0
        edges.append((u, v, w))
    if names is None:
        order: dict[str, None] = {}
        for u, v, _ in edges:
            order.setdefault(u)
            order.setdefault(v)
        names = list(order)
    names = list(names)
    check_names(names, len(names))
    index = {n: k for k, n in enumerate(names)}
    W = np.zeros((len(names), len(names)))
    for u, v, w in edges:
        for n in (u, v):
            if n not in index:
                raise GraphError(f"{path}: edge names unknown node {n!r}")
        W[index[u], index[v]] = w
    return W, names


def read_adjacency(path: str | os.PathLike[str]) -> tuple[np.ndarray, list[str]]:
    """Read an adjacency CSV (row = parent, column = child) into ``(W, names)``.

    The header row (after its first cell) and the first column must list the
    same names in the same order; the matrix must be square with a zero diagonal.
    """
    rows = _read_rows(path)
    cols = rows[0][1:]
    body = rows[1:]
    if len(body) != len(cols):
        raise GraphError(
            f"{path}: adjacency matrix is not square ({len(body)} rows, {len(cols)} columns)"
        )
    check_names(cols, len(cols))
    W = np.zeros((len(cols), len(cols)))
    for i, r in enumerate(body):
        if len(r) != len(cols) + 1:
            raise GraphError(
                f"{path}: adjacency row {i + 1} has {len(r) - 1} entries, expected {len(cols)}"
            )
        if r[0] != cols[i]:
            raise GraphError(
                f"{path}: row {i + 1} is named {r[0]!r} but column {i + 1} is {cols[i]!r}; "
                "rows and columns must list the same variables in the same order"
            )
        W[i] = [_parse_float(x, f"{path}, row {r[0]!r}") for x in r[1:]]
    bad = np.flatnonzero(np.diag(W))
    if len(bad):
        raise GraphError(f"{path}: self-loop on {cols[bad[0]]!r} (non-zero diagonal)")
    return W, list(cols)


def read_graph(
    path: str | os.PathLike[str], names: Sequence[str] | None = None
) -> tuple[np.ndarray, list[str]]:
    """Read an edge-list or adjacency CSV, telling them apart by the header.

    A header starting with ``source,target`` is an edge list; anything else is
    read as an adjacency matrix. ``names`` applies to edge lists only.
    """
    rows = _read_rows(path)
    head = [h.lower() for h in rows[0][:2]]
    if head == ["source", "target"]:
        return read_edge_list(path, names)
    W, nm = read_adjacency(path)
    if names is not None:
        unknown = [n for n in nm if n not in set(names)]
        if unknown:
            raise GraphError(f"{path}: unknown node name {unknown[0]!r}")
    return W, nm
