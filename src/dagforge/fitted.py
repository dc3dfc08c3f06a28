"""What a fitted learner shows: its equivalence class, named tables, and its drawing.

:class:`FittedGraph` is mixed into :class:`~dagforge.estimator.DagLearner` and
:class:`~dagforge.resampling.BootstrapDagLearner`; it reads their learned
``adjacency_``, ``weights_``, ``feature_names_in_`` (and ``edge_probability_``,
``intervention_targets_`` where they have them) and gives

* ``cpdag_``: the equivalence class of the output DAG: a direction is fixed only where
  the data fix it (v-structures and Meek's rules; with experiments, also the edges they
  cut: :func:`dagforge.graph.dag_to_icpdag`) or prior knowledge does (an edge whose
  reverse is forbidden, ``allowed_``). An edge undirected there could point
  either way without changing what the data show; the output DAG's direction for it
  is a choice, not a finding. (Stronger assumptions, such as the equal noise
  variances BIC picks as ``noise_model_ == "equal"``, orient more; the class says
  which directions rest on them.)
* ``adjacency_df_``, ``weights_df_`` (and ``cpdag_df_``): the matrices as pandas
  DataFrames, rows = parents, columns = children, named;
* :meth:`FittedGraph.plot` and, in Jupyter, the drawing with a one-line summary
  (``_repr_html_``, ``_repr_svg_``), no Graphviz needed (:mod:`dagforge.drawing`).
"""

from __future__ import annotations

import html
import io
from typing import Any

import numpy as np

from dagforge.graph import dag_to_cpdag, dag_to_icpdag, is_dag

__all__ = ["FittedGraph"]


class FittedGraph:
    """Views of a fitted learner's graph (see the module docstring)."""

    # -- the equivalence class and named tables -------------------------------------

    @property
    def cpdag_(self) -> np.ndarray:
        """The output DAG's (interventional) equivalence class: ``C[i, j] = 1, C[j, i] = 0``
        for a direction the data fix, both 1 for an edge they leave undirected."""
        A = np.asarray(self.adjacency_) != 0  # type: ignore[attr-defined]
        if not is_dag(A):  # never for a learner's output; kept honest for user edits
            return A.astype(int)
        targets = getattr(self, "intervention_targets_", None) or []
        allowed = getattr(self, "allowed_", None)
        known = None if allowed is None else A & ~np.asarray(allowed, bool).T
        if not targets and (known is None or not known.any()):
            return dag_to_cpdag(A)
        return dag_to_icpdag(A, targets, known)

    def _frame(self, M: np.ndarray) -> Any:
        import pandas as pd

        names = [str(n) for n in self.feature_names_in_]  # type: ignore[attr-defined]
        return pd.DataFrame(np.asarray(M), index=names, columns=names)

    @property
    def adjacency_df_(self) -> Any:
        """``adjacency_`` as a DataFrame (rows parents, columns children, named)."""
        return self._frame(self.adjacency_)  # type: ignore[attr-defined]

    @property
    def weights_df_(self) -> Any:
        """``weights_`` as a DataFrame (rows parents, columns children, named)."""
        return self._frame(self.weights_)  # type: ignore[attr-defined]

    @property
    def cpdag_df_(self) -> Any:
        """``cpdag_`` as a DataFrame (rows parents, columns children, named)."""
        return self._frame(self.cpdag_)

    # -- the drawing -----------------------------------------------------------------

    def plot(self, ax: Any = None, truth: np.ndarray | None = None, *,
             title: str | None = None) -> Any:
        """Draw the learned graph (:func:`dagforge.drawing.draw_graph`) on ``ax`` (a new
        figure's if None): layers of the causal order, edge width by weight or bootstrap
        probability, directions the data do not fix without arrowheads, and, with
        ``truth`` (d x d), edges coloured correct / reversed / extra / missing. Returns
        the Axes."""
        from dagforge.extras import require

        require("report", "matplotlib", "drawing a graph")
        from dagforge.drawing import draw_graph

        if ax is None:
            from matplotlib.figure import Figure

            d = len(self.feature_names_in_)  # type: ignore[attr-defined]
            size = float(np.clip(3.5 + 0.15 * d, 4.5, 11.0))
            ax = Figure(figsize=(size, size), layout="constrained").add_subplot()
        return draw_graph(ax, self.adjacency_, list(map(str, self.feature_names_in_)),  # type: ignore[attr-defined]
                          weights=self.weights_,  # type: ignore[attr-defined]
                          probability=getattr(self, "edge_probability_", None),
                          cpdag=self.cpdag_, truth=truth, title=title)

    def summary(self) -> str:
        """One line: variables, edges, how many directions the data (or the knowledge)
        fix, the model."""
        A = np.asarray(self.adjacency_) != 0  # type: ignore[attr-defined]
        C = self.cpdag_ != 0
        fixed = int((A & ~C.T).sum())
        parts = [f"{type(self).__name__}: {A.shape[0]} variables, {int(A.sum())} edges, "
                 f"{fixed} with a direction the data or knowledge fix"]
        for attr in ("noise_model_", "score_"):
            value = getattr(self, attr, None)
            if value is not None:
                parts.append(f"{attr.rstrip('_')} {value}")
        return "; ".join(parts)

    def _svg(self) -> str:
        ax = self.plot()
        buf = io.StringIO()
        ax.figure.savefig(buf, format="svg", bbox_inches="tight")
        return buf.getvalue()

    def _fitted(self) -> bool:
        return hasattr(self, "adjacency_")

    def _repr_svg_(self) -> str | None:
        return self._svg() if self._fitted() else None

    def _fitted_html(self) -> str:
        return (f"<div><p>{html.escape(self.summary())}</p>{self._svg()}</div>")

    @property
    def _repr_html_(self) -> Any:
        """Jupyter's HTML view: the drawing and summary once fitted, else scikit-learn's."""
        if self._fitted():
            return self._fitted_html
        return super()._repr_html_  # type: ignore[misc]

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, str]:
        if not self._fitted():
            return super()._repr_mimebundle_(**kwargs)  # type: ignore[misc]
        return {"text/plain": self.summary(), "text/html": self._fitted_html()}
