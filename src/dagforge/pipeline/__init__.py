"""``dagforge run CONFIG``: data sets x models -> fits, evaluation, reports, a summary.

A pipeline config (YAML or TOML, every key checked) names data sets (simulated,
shipped or the user's files), models (each a :class:`~dagforge.config.FitConfig`
bootstrap refits among its settings), and where to write. A run writes
``<out>/<timestamp>-<name>/``::

    manifest.json            steps and their state (written after every step)
    summary.html             all data sets x models, linking to each report
    <dataset>/data.csv       the data used (and true_edges.csv when known)
    <dataset>/<model>/       the fit (rundir.write_fit), edge_probability.csv when
                             bootstrapped, metrics.json, report/report.html

Every file is written atomically, and a step is marked done in the manifest only
after all its files are there; ``--resume`` (``run_pipeline(..., resume=True)``)
skips the steps marked done and redoes the rest.

The truth, when a data set has one, is used only after the fit: for the metrics,
beside the baselines (empty graph, random graph of the same density,
sortnregress, r2_sortnregress) and the data's varsortability / R2-sortability.
A model that does not beat the empty graph's SHD is flagged (``beats_empty:
false`` in ``metrics.json`` and a warning in the report); the metrics and the
warnings are :func:`dagforge.evaluation.evaluate_fit`'s.

The package: :mod:`~dagforge.pipeline.specs` (the config), :mod:`~dagforge.pipeline.data`
(loading each data set), :mod:`~dagforge.pipeline.run` (the steps and the manifest).
"""

from dagforge.pipeline.run import latest_run_dir, run_pipeline
from dagforge.pipeline.specs import DatasetSpec, ModelSpec, PipelineConfig, load_pipeline

__all__ = ["DatasetSpec", "ModelSpec", "PipelineConfig", "latest_run_dir", "load_pipeline",
           "run_pipeline"]
