"""The score registry: every parent-set score the BIC searches can climb.

An entry (:class:`ScoreSpec`) says how to build the score of a
:class:`~dagforge.data.Dataset` (``build(data, noise=..., penalty=..., gamma=...)``), which
data it can score (``fits(data)``: None, or the reason why not) and which noise models
it has. Adding a score is one :class:`~dagforge.search.scores.base.ParentScore` subclass
plus one :func:`register_score` call; ``DagLearner(score=...)``, the config files and
``dagforge fit --score`` read the registry, and ``score="auto"`` is
:func:`dagforge.learn.policy.score_name`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dagforge.errors import DataError
from dagforge.registry import Registry

if TYPE_CHECKING:
    from dagforge.data import Dataset
    from dagforge.search.scores.base import ParentScore

# Light on purpose: ``dagforge fit --help`` lists the scores without importing numpy's
# linear algebra; a built-in score's module is imported when it is first built.

__all__ = ["SCORES", "ScoreSpec", "build_score", "get_score", "register_score",
           "score_names"]


@dataclass(frozen=True)
class ScoreSpec:
    """One registered score.

    Attributes
    ----------
    name : str
        The name users choose it by (``DagLearner(score=name)``, ``--score name``).
    build : callable or str
        ``build(data, *, noise, penalty, gamma) -> ParentScore``, or its import path
        ``"package.module:name"``, imported on first use.
    fits : callable
        ``fits(data) -> str | None``: None if the score can score ``data``, else one
        line saying why not.
    noise_models : tuple of str
        The noise models ``build`` accepts; the first is the one a decomposable search
        (the order search) uses. Scores without a noise model list ``("unequal",)``:
        one set of parameters per variable.
    description : str
        One line for the docs and ``--help``.
    """

    name: str
    build: Callable[..., ParentScore] | str
    fits: Callable[[Dataset], str | None]
    noise_models: tuple[str, ...] = ("unequal",)
    description: str = ""

    def builder(self) -> Callable[..., ParentScore]:
        """The build function (imported from ``build`` if given as a path)."""
        if isinstance(self.build, str):
            module, _, attr = self.build.partition(":")
            return getattr(importlib.import_module(module), attr)
        return self.build


SCORES: Registry[ScoreSpec] = Registry("score")


def register_score(spec: ScoreSpec, *, replace: bool = False) -> ScoreSpec:
    """Add ``spec`` to :data:`SCORES` (``replace=True`` to overwrite an entry)."""
    return SCORES.register(spec.name, spec, replace=replace)


def get_score(name: str) -> ScoreSpec:
    """The registered score ``name``; an unknown name is a one-line ConfigError."""
    return SCORES.get_entry(name)


def score_names() -> list[str]:
    """Registered score names, built-in ones first."""
    return list(SCORES)


def build_score(name: str, data: Dataset, *, noise: str = "unequal", penalty: float = 1.0,
                gamma: float = 0.0) -> ParentScore:
    """The score ``name`` of ``data``; a score that cannot score these data, or lacks
    the noise model, is a one-line DataError."""
    spec = get_score(name)
    why = spec.fits(data)
    if why is not None:
        raise DataError(f"score {name!r} cannot score these data: {why}")
    if noise not in spec.noise_models:
        raise DataError(f"score {name!r} has no {noise!r} noise model; it has "
                        f"{list(spec.noise_models)}")
    return spec.builder()(data, noise=noise, penalty=penalty, gamma=gamma)


def _continuous(data: Dataset) -> str | None:
    return None if data.continuous else "not every column is continuous"


def _continuous_observational(data: Dataset) -> str | None:
    if not data.continuous:
        return "not every column is continuous"
    if not data.observational:
        return "the data have interventional regimes (choose an interventional score)"
    return None


register_score(ScoreSpec(
    name="gaussian", build="dagforge.search.scores.gaussian:from_data",
    fits=_continuous_observational,
    noise_models=("unequal", "equal"),
    description="linear-Gaussian (extended) BIC from the covariance, equal or unequal "
                "noise variances"))

register_score(ScoreSpec(
    name="gaussian-interventional",
    build="dagforge.search.scores.interventional:perfect_from_data", fits=_continuous,
    noise_models=("unequal", "equal"),
    description="GIES: the Gaussian BIC of perfect interventions (an intervened "
                "variable's term left out of its regime's rows)"))

register_score(ScoreSpec(
    name="gaussian-soft",
    build="dagforge.search.scores.interventional:soft_from_data", fits=_continuous,
    description="Gaussian BIC of soft interventions (an intervened variable gets its own "
                "mechanism in its regime)"))


def _discrete(data: Dataset) -> str | None:
    return None if data.discrete else "not every column is binary or categorical"


def _observational(data: Dataset) -> str | None:
    return None if data.observational else "the data have interventional regimes"


register_score(ScoreSpec(
    name="discrete-bic", build="dagforge.search.scores.discrete:bic_from_data",
    fits=lambda data: _discrete(data) or _observational(data),
    description="multinomial BIC of discrete (binary and categorical) columns"))

register_score(ScoreSpec(
    name="bdeu", build="dagforge.search.scores.discrete:bdeu_from_data",
    fits=lambda data: _discrete(data) or _observational(data),
    description="BDeu (equivalent sample size 1) of discrete columns"))

register_score(ScoreSpec(
    name="degenerate-gaussian", build="dagforge.search.scores.mixed:from_data",
    fits=_observational,
    description="Gaussian BIC of the one-hot embedding: mixed continuous and discrete "
                "columns (Andrews, Ramsey & Cooper 2019)"))
