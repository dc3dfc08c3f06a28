"""Learner strategies: ``run(data, params) -> FitResult``, one per kind of model.

:mod:`dagforge.learn.linear` fits a linear SEM from the covariance and refines it by
BIC; :mod:`dagforge.learn.nonlinear` fits a nonlinear model from the rows; every
``"auto"`` rule they follow is in :mod:`dagforge.learn.policy`. A model's registry
entry (:mod:`dagforge.models.registry`) names its strategy.
"""

from __future__ import annotations

from collections.abc import Callable

from dagforge.data import Dataset
from dagforge.learn.result import FitParams, FitResult

__all__ = ["FitParams", "FitResult", "run"]


def run(data: Dataset, params: FitParams) -> FitResult:
    """Fit ``data`` with the strategy of ``params.spec`` (its ``learner``)."""
    from dagforge.learn import linear, nonlinear

    strategies: dict[str, Callable[[Dataset, FitParams], FitResult]] = {
        "linear": linear.run, "nonlinear": nonlinear.run}
    return strategies[params.spec.learner](data, params)
