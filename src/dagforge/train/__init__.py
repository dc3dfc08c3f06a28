"""The mini-batch trainer: an inner optimiser on ``torch.optim`` for the outer solvers.

* :mod:`~dagforge.train.trainer`: :class:`Trainer` (the algorithm: validation split,
  early stopping on held-out loss, NaN rollback, checkpointable state, progress bar);
* :mod:`~dagforge.train.epoch`: one epoch (per-term gradient norms logged before
  clipping, ``torch.optim.Adam`` and the proximal L1 step in its metric);
* :mod:`~dagforge.train.schedules`: learning-rate schedules on ``torch.optim.lr_scheduler``;
* :mod:`~dagforge.train.config`: :class:`TrainConfig`;
* :mod:`~dagforge.train.history`: :data:`HISTORY_FIELDS` and :func:`write_history_csv`.
"""

from dagforge.train.config import L1Mode, Schedule, TrainConfig
from dagforge.train.history import HISTORY_FIELDS, write_history_csv
from dagforge.train.trainer import Trainer

__all__ = [
    "HISTORY_FIELDS",
    "L1Mode",
    "Schedule",
    "TrainConfig",
    "Trainer",
    "write_history_csv",
]
