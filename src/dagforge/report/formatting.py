"""How values and metric columns are shown in the report's tables and figures."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from dagforge._io import to_json
from dagforge.evaluation import format_number

__all__ = ["HEADLINE_METRICS", "METRIC_COLUMNS", "format_value"]

#: Metric columns of the baseline and summary tables, in this order (those present).
METRIC_COLUMNS: tuple[str, ...] = ("shd", "shd_cpdag", "shd_icpdag", "extra", "missing",
                                   "reversed", "precision", "recall", "f1", "auprc", "auroc",
                                   "nnz", "is_dag")
#: Metrics on which a baseline better than the model is highlighted.
HEADLINE_METRICS = frozenset({"shd", "shd_cpdag", "shd_icpdag", "f1", "auprc", "auroc"})


def format_value(x: Any) -> str:
    """A compact display form of a table value (not escaped: the templates escape).

    Examples
    --------
    >>> [format_value(v) for v in (None, True, 3, 2.0, 0.123456, float("nan"), {"a": [1]})]
    ['n/a', 'yes', '3', '2', '0.1235', 'n/a', '{"a":[1]}']
    """
    if x is None:
        return "n/a"
    if isinstance(x, bool | np.bool_):
        return "yes" if x else "no"
    if isinstance(x, int | np.integer):
        return str(int(x))
    if isinstance(x, float | np.floating):
        v = float(x)
        return format_number(v) if math.isfinite(v) else "n/a"
    if isinstance(x, Mapping | list | tuple):
        # through to_json for its NaN -> null and numpy conversions, then compact
        return json.dumps(json.loads(to_json(x)), separators=(",", ":"))
    return str(x)
