"""dagforge: differentiable causal structure learning in PyTorch, honestly evaluated.

Graphs are ``d x d`` matrices with ``W[i, j] != 0`` meaning the edge ``i -> j``
(see :mod:`dagforge.graph`).
"""

from __future__ import annotations

import logging

__version__ = "0.1.0"

# Library code logs through "dagforge.*" loggers and never configures logging.
logging.getLogger("dagforge").addHandler(logging.NullHandler())
