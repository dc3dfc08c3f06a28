"""The trainer's per-epoch history: its columns and the ``history.csv`` writer."""

from __future__ import annotations

import csv
import os
from collections.abc import Mapping, Sequence
from typing import Any

from dagforge._io import atomic_open

__all__ = ["HISTORY_FIELDS", "write_history_csv"]

#: Columns of a :attr:`~dagforge.train.Trainer.history` row.
HISTORY_FIELDS: tuple[str, ...] = (
    "call",  # index of the inner call (outer step, retries included)
    "epoch",  # epoch counter over the whole run
    "inner_epoch",  # epoch within this inner call, from 1
    "steps",  # optimiser steps in this epoch
    "lr",  # learning rate used in this epoch
    "fit_weight",  # c, from the outer solver
    "l1",  # lambda, from the outer solver
    "train_objective",  # mean over the epoch's batches of c*l_B + p + lambda*|Q|_1
    "val_objective",  # F with l on the validation rows (training rows if none held out)
    "best_val",  # best validation objective of this call so far
    "penalty",  # p(W) at the end of the epoch
    "h",  # the monitored acyclicity h(W) at the end of the epoch (NaN without h_fn)
    "grad_fit",  # epoch mean of the mini-batch gradient norms of c*l_B
    "grad_acyclicity",  # epoch mean of the gradient norms of p(W)
    "grad_sparsity",  # lambda * sqrt(nnz(Q)): norm of the L1 subgradient at the epoch's end
    "grad_norm",  # epoch mean of the total smooth gradient norm, before clipping
    "grad_norm_max",  # epoch maximum of the same, before clipping
    "clipped",  # steps whose gradient norm exceeded clip_grad_norm (and was clipped)
    "nnz",  # non-zeros of the L1 parameters
    "retries",  # rollbacks before this epoch succeeded
)


def write_history_csv(path: str | os.PathLike[str], rows: Sequence[Mapping[str, Any]]) -> None:
    """Write history rows (e.g. :attr:`~dagforge.train.Trainer.history`) as CSV, atomically.

    Columns: :data:`HISTORY_FIELDS` first (those present), then any others in order of
    appearance.
    """
    keys: list[str] = [k for k in HISTORY_FIELDS if any(k in r for r in rows)]
    for r in rows:
        keys.extend(k for k in r if k not in keys)
    with atomic_open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=keys, extrasaction="ignore")
        writer.writeheader()
        for r in rows:
            writer.writerow({k: r.get(k, "") for k in keys})
