"""dagforge: differentiable causal structure learning in PyTorch, honestly evaluated.

Graphs are ``d x d`` matrices with ``W[i, j] != 0`` meaning the edge ``i -> j``
(see :mod:`dagforge.graph`).

>>> from dagforge import DagLearner  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

__version__ = "0.1.0"

__all__ = ["BootstrapDagLearner", "DagLearner", "Dataset", "__version__"]

# Library code logs through "dagforge.*" loggers and never configures logging.
logging.getLogger("dagforge").addHandler(logging.NullHandler())

#: The names users import, each from its module; loaded on first use so that
#: ``import dagforge`` (and ``dagforge --version``) does not import torch.
_LAZY = {"DagLearner": "dagforge.estimator", "BootstrapDagLearner": "dagforge.resampling",
         "Dataset": "dagforge.data"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'dagforge' has no attribute {name!r}")
