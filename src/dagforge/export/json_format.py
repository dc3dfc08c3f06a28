"""JSON graphs: ``{"directed": true, "nodes": [...], "edges": [...]}``."""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np

from dagforge._io import to_json as _json_text
from dagforge.errors import GraphError
from dagforge.export._common import prepare
from dagforge.graph._common import check_names

__all__ = ["from_json", "to_json"]


def to_json(W: np.ndarray, names: Sequence[str] | None = None) -> str:
    """JSON text ``{"directed": true, "nodes": [{"id": name}, ...],
    "edges": [{"source": a, "target": b, "weight": w}, ...]}`` (UTF-8, names as is)."""
    W, names = prepare(W, names)
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
    check_names(names, len(names))
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
