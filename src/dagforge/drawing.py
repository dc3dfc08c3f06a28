"""The drawing of a learned graph: layers of its causal order, no Graphviz needed.

:func:`draw_graph` draws a DAG on a matplotlib ``Axes``: the variables in rows by
their topological generation (causes above effects; networkx's
``topological_generations`` and ``multipartite_layout``), an edge's width by its weight
or bootstrap probability, the edges whose direction the data do not fix (undirected
in the equivalence class, :func:`dagforge.graph.dag_to_cpdag`) drawn without an
arrowhead, and, given the truth, each edge coloured correct / reversed / extra, the
missing ones dashed. The notebook drawing of a fitted learner
(:meth:`dagforge.estimator.DagLearner.plot`) and the report's graph figure are this
one function.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import networkx as nx
import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch

from dagforge.evaluation import edge_status
from dagforge.graph import is_dag

__all__ = ["EDGE_STYLE", "draw_graph", "layered_layout"]

EDGE_STYLE = {  # status -> (colour, line style)
    "correct": ("#2ca02c", "-"),
    "extra": ("#d62728", "-"),
    "reversed": ("#ff7f0e", "-"),
    "missing": ("#7f7f7f", "--"),
    "estimated": ("#1f77b4", "-"),
}

#: Line widths (points) of the weakest and the strongest edge.
_WIDTH = (0.8, 3.6)


def layered_layout(A: np.ndarray) -> np.ndarray:
    """Node positions (d, 2): one row per topological generation of the DAG ``A``
    (sources on top), nodes of a row spread evenly; a cyclic ``A`` (not a learner's
    output) gets one row."""
    d = A.shape[0]
    G = nx.DiGraph()
    G.add_nodes_from(range(d))
    G.add_edges_from(zip(*np.nonzero(A != 0), strict=True))
    layers = list(nx.topological_generations(G)) if is_dag(A != 0) else [list(range(d))]
    for k, layer in enumerate(layers):
        for v in layer:
            G.nodes[v]["layer"] = k
    pos = nx.multipartite_layout(G, subset_key="layer", align="horizontal")
    xy = np.array([pos[v] for v in range(d)], dtype=float).reshape(d, 2)
    xy[:, 1] = -xy[:, 1] if len(layers) > 1 else xy[:, 1]  # generation 0 on top
    return xy


def _widths(strength: np.ndarray | None, edges: Sequence[tuple[int, int, str]]) -> list[float]:
    """Line width of each edge from ``|strength|`` (scaled to the strongest), or the middle
    width when there is none."""
    if strength is None:
        return [1.6] * len(edges)
    s = np.abs(np.asarray(strength, dtype=float))
    top = max((s[i, j] for i, j, st in edges if st != "missing"), default=0.0)
    lo, hi = _WIDTH
    return [1.2 if st == "missing" or top <= 0 else lo + (hi - lo) * s[i, j] / top
            for i, j, st in edges]


def draw_graph(ax: Any, adjacency: np.ndarray, names: Sequence[str], *,
               weights: np.ndarray | None = None, probability: np.ndarray | None = None,
               cpdag: np.ndarray | None = None, truth: np.ndarray | None = None,
               title: str | None = None) -> Any:
    """Draw the DAG ``adjacency`` (``A[i, j] != 0``: ``i -> j``) on ``ax``; returns ``ax``.

    Parameters
    ----------
    ax : matplotlib Axes
    adjacency : ndarray of shape (d, d)
        The graph.
    names : sequence of str
        Variable names.
    weights, probability : ndarray of shape (d, d), optional
        Edge widths by ``|weight|``, or by bootstrap probability when given (preferred).
    cpdag : ndarray of shape (d, d), optional
        The equivalence class (:func:`dagforge.graph.dag_to_cpdag` or
        :func:`~dagforge.graph.dag_to_icpdag`): edges undirected there are drawn
        without an arrowhead.
    truth : ndarray of shape (d, d), optional
        The true graph: edges coloured by their status, missing ones dashed.
    title : str, optional
    """
    A = np.asarray(adjacency) != 0
    d = A.shape[0]
    edges = edge_status(A, truth)
    xy = layered_layout(A)
    undirected = (np.zeros_like(A) if cpdag is None
                  else (np.asarray(cpdag) != 0) & (np.asarray(cpdag).T != 0))
    node_pts = float(np.clip(26.0 - 0.3 * d, 10.0, 24.0))  # node diameter in points
    font = float(np.clip(11.0 - 0.08 * d, 5.5, 10.0))
    strength = probability if probability is not None else weights
    for (i, j, status), width in zip(edges, _widths(strength, edges), strict=True):
        colour, style = EDGE_STYLE[status]
        ax.add_patch(FancyArrowPatch(
            tuple(xy[i]), tuple(xy[j]), arrowstyle="-" if undirected[i, j] else "-|>",
            mutation_scale=11, shrinkA=node_pts / 2 + 1, shrinkB=node_pts / 2 + 1,
            connectionstyle="arc3,rad=0.08", color=colour, linestyle=style,
            linewidth=width, zorder=1))
    ax.scatter(xy[:, 0], xy[:, 1], s=node_pts ** 2, c="#e8eef7", edgecolors="#34495e",
               linewidths=1.0, zorder=2)
    for k, name in enumerate(names):
        ax.text(xy[k, 0], xy[k, 1], str(name), ha="center", va="center", fontsize=font,
                zorder=3, parse_math=False,
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.6})
    _legend(ax, edges, truth is not None, bool(undirected.any()))
    span = np.maximum(np.ptp(xy, axis=0), 0.5)  # [2]; one node or one row still gets room
    lo, hi = xy.min(axis=0) - 0.12 * span, xy.max(axis=0) + 0.12 * span
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=11)
    return ax


def _legend(ax: Any, edges: Sequence[tuple[int, int, str]], with_truth: bool,
            with_undirected: bool) -> None:
    counts = {s: sum(1 for *_, t in edges if t == s) for s in EDGE_STYLE}
    handles = [Line2D([], [], color=EDGE_STYLE[s][0], linestyle=EDGE_STYLE[s][1],
                      label=f"{s} ({counts[s]})")
               for s in EDGE_STYLE if counts[s] or (with_truth and s != "estimated")]
    if with_undirected:
        handles.append(Line2D([], [], color="black", linestyle="-",
                              label="no arrowhead: data do not fix it"))
    if handles:  # below the drawing, so that it covers no node
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0),
                  ncol=min(len(handles), 2), fontsize=8, frameon=False)
