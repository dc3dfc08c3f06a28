r"""Self-contained HTML reports of a learned graph, and a summary of several runs.

:func:`write_report` turns a :class:`ReportInputs` into a report directory:

``report.html``
    One file that opens offline: inline CSS, no JavaScript, every image embedded
    as a base64 PNG data URI.
``adjacency.png``, ``graph.png``, ``training.png``, ``pr_curve.png``, ...
    The same figures as files (also ``threshold.png`` and
    ``edge_probability.png``), only those that apply: the curves over edge
    scores need the true graph, the probability heatmap needs bootstrapped
    edge probabilities, the graph drawing is skipped above
    :data:`MAX_GRAPH_NODES` variables.
``metrics.json``
    Strict JSON: the model's metrics against the truth (``null`` without one),
    the baselines' metrics, the warnings, the threshold sweep, config,
    versions and run information.

Everything is rendered in memory first and the files are then written
together, each atomically (:func:`dagforge._io.atomic_open`): if rendering or
writing fails, none of them is replaced.

:func:`inputs_from_run_dir` reads a run directory written by
:func:`dagforge.rundir.write_fit`; :func:`render_summary` writes one page
comparing several runs (dataset x model tables linking to each run's report).

Modules, each one concept:

* :mod:`~dagforge.report.inputs`: :class:`ReportInputs` and reading a run directory;
* :mod:`~dagforge.report.figures`: the matplotlib figures (Agg canvases, no pyplot);
* :mod:`~dagforge.report.render`: a report assembled from ``templates/report.html.j2``;
* :mod:`~dagforge.report.summary`: the summary page;
* :mod:`~dagforge.report.formatting`: how values and metric columns are shown.

The metrics, baselines and warnings themselves are :mod:`dagforge.evaluation`'s
(re-exported here: :func:`compute_baselines`, :func:`random_dag`,
:func:`report_warnings`, :func:`edge_status`, :func:`threshold_sweep`).

Convention: ``W[i, j] != 0`` is the edge ``i -> j``; heatmap rows are parents
(sources), columns children (targets).
"""

from dagforge.evaluation import (
    compute_baselines,
    edge_status,
    random_dag,
    report_warnings,
    threshold_sweep,
)
from dagforge.report.figures import (
    plot_adjacency,
    plot_edge_probability,
    plot_graph,
    plot_pr_curve,
    plot_threshold,
    plot_training,
    training_panels,
)
from dagforge.report.inputs import ReportInputs, inputs_from_run_dir
from dagforge.report.render import FIGURE_FILES, MAX_GRAPH_NODES, render_report, write_report
from dagforge.report.summary import SummaryRun, render_summary, summary_run_from_report

__all__ = [
    "FIGURE_FILES",
    "MAX_GRAPH_NODES",
    "ReportInputs",
    "SummaryRun",
    "compute_baselines",
    "edge_status",
    "inputs_from_run_dir",
    "plot_adjacency",
    "plot_edge_probability",
    "plot_graph",
    "plot_pr_curve",
    "plot_threshold",
    "plot_training",
    "random_dag",
    "render_report",
    "render_summary",
    "report_warnings",
    "summary_run_from_report",
    "threshold_sweep",
    "training_panels",
    "write_report",
]
