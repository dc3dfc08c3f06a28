"""One-call simulation of a benchmark data set: graph, weights, noise, data."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from dagforge.errors import ConfigError, DataError

if TYPE_CHECKING:
    from dagforge.data import Dataset
from dagforge.graph import default_names
from dagforge.simulate import sem as _sem
from dagforge.simulate._util import check_choice, check_int, check_rng
from dagforge.simulate.graphs import GraphKind, edge_weights, simulate_graph
from dagforge.simulate.interventions import InterventionDesign

__all__ = ["SemKind", "SimulatedData", "simulate", "standardize"]

logger = logging.getLogger(__name__)

SemKind = Literal["linear", "mlp", "additive", "index"]
"""Structural equation models of :func:`simulate`."""


@dataclass(frozen=True, eq=False)
class SimulatedData:
    """A simulated data set and the truth that generated it.

    Attributes
    ----------
    X : ndarray of shape (n, d), float64
        The samples (standardised if requested).
    B : ndarray of shape (d, d), int
        The true DAG, 0/1, ``B[i, j] = 1`` for ``i -> j``.
    W : ndarray of shape (d, d), float64
        True edge weights for a linear SEM; ``B`` as float for nonlinear SEMs.
    names : list of str
        Variable names ``x0 .. x{d-1}``.
    noise_scale : ndarray of shape (d,)
        The per-node noise scale parameters used (before any standardisation).
    regimes : ndarray of shape (n,), optional
        Interventional data: each row's regime label.
    targets : dict, optional
        Interventional data: regime label -> the names of its intervened variables.
    types, levels : tuple, optional
        Mixed data (:func:`dagforge.simulate.mixed.simulate_mixed`): each column's
        :class:`~dagforge.data.VarType` and, for discrete ones, their level names.
    """

    X: np.ndarray
    B: np.ndarray
    W: np.ndarray
    names: list[str]
    noise_scale: np.ndarray
    regimes: np.ndarray | None = None
    targets: dict[str, list[str]] | None = None
    types: tuple | None = None
    levels: tuple | None = None

    def dataset(self) -> Dataset:
        """The data as a :class:`~dagforge.data.Dataset` (types, levels, regimes kept)."""
        from dagforge.data import Dataset

        data = Dataset(values=self.X, names=tuple(self.names), types=self.types or (),
                       levels=self.levels or ())
        return data if self.regimes is None else data.with_regimes(self.regimes,
                                                                   self.targets or {})

    @property
    def n(self) -> int:
        """Number of samples."""
        return int(self.X.shape[0])

    @property
    def d(self) -> int:
        """Number of variables."""
        return int(self.X.shape[1])

    def to_frame(self) -> pd.DataFrame:
        """The samples as a DataFrame with columns ``names``."""
        return pd.DataFrame(self.X, columns=self.names)


def standardize(X: np.ndarray) -> np.ndarray:
    """Columns shifted to mean 0 and scaled to standard deviation 1 (``ddof=0``).

    .. math:: Z_{:, j} = (X_{:, j} - \\bar X_j) / \\operatorname{sd}(X_{:, j})

    Standardising removes the marginal-variance hint ("varsortability") that
    raw-scale simulated data give about the causal order.

    Raises
    ------
    DataError
        If ``X`` is not 2-D, not finite, or has a constant column.
    """
    X = np.asarray(X, dtype=float)
    if X.ndim != 2:
        raise DataError(f"standardize needs a 2-D array (n x d), got {X.ndim}-D")
    if not np.all(np.isfinite(X)):
        raise DataError("standardize: data contain NaN or infinite values")
    sd = X.std(axis=0)
    const = np.flatnonzero(sd == 0)
    if const.size:
        raise DataError(f"standardize: constant columns {const.tolist()} cannot be scaled")
    return (X - X.mean(axis=0)) / sd


def simulate(
    *,
    graph: GraphKind = "er",
    k: float = 2,
    d: int = 20,
    n: int = 1000,
    sem: SemKind = "linear",
    noise: _sem.NoiseKind = "gauss",
    noise_scales: _sem.ScaleKind = "equal",
    standardize: bool = False,
    interventions: InterventionDesign | None = None,
    rng: np.random.Generator,
) -> SimulatedData:
    """Simulate a DAG and data from it in one call.

    1. ``B = simulate_graph(graph, d, k, rng)`` (:mod:`dagforge.simulate.graphs`);
    2. per-node noise scales ``noise_scales(d, rng, kind=noise_scales)``
       (all 1, or ``U(0.5, 2)``);
    3. for ``sem="linear"``: weights ``W = edge_weights(B, rng)`` in
       ``±[0.5, 2]`` and ``X = linear_sem(W, n, rng, noise, scales)``; for the
       nonlinear SEMs (``"mlp"``, ``"additive"``, ``"index"``, Gaussian noise
       only): ``X = mlp_sem / additive_sem / index_sem(B, n, rng, ...)``;
    4. optionally standardise each column (mean 0, sd 1), over all rows.

    With ``interventions`` (:class:`~dagforge.simulate.interventions.InterventionDesign`)
    the design lays out the rows (``n`` is not used) and acts on the intervened
    variables of each regime as the SEM samples them; the result carries the regime
    labels and targets.

    Parameters
    ----------
    graph : {"er", "sf"}
        Erdős–Rényi or scale-free graph.
    k : float
        Expected edges per node (``ER2`` is ``k=2``).
    d, n : int
        Number of variables (``>= 2``) and samples (``>= 1``).
    sem : {"linear", "mlp", "additive", "index"}
        Structural equation model.
    noise : {"gauss", "exp", "gumbel", "uniform"}
        Noise distribution; nonlinear SEMs support ``"gauss"`` only.
    noise_scales : {"equal", "unequal"}
        Equal (1) or unequal (``U(0.5, 2)``) noise scales.
    standardize : bool
        Standardise the columns of ``X``.
    interventions : InterventionDesign, optional
        An interventional design (rows per regime, targets, kind).
    rng : numpy.random.Generator
        The only source of randomness: the same seed gives the same data.

    Returns
    -------
    SimulatedData

    Raises
    ------
    ConfigError
        For an unknown option or an out-of-range ``d``, ``n`` or ``k``.

    Examples
    --------
    >>> data = simulate(d=10, n=200, rng=np.random.default_rng(0))
    >>> data.X.shape, int(data.B.sum()) > 0
    ((200, 10), True)
    """
    check_rng(rng)
    sem = check_choice(sem, SemKind, "sem")
    noise = check_choice(noise, _sem.NoiseKind, "noise")
    n = check_int(n, "n (number of samples)", 1)
    if sem != "linear" and noise != "gauss":
        raise ConfigError(f"sem={sem!r} supports noise='gauss' only, got noise={noise!r}")
    B = simulate_graph(graph, d, k, rng)
    scale = _sem.noise_scales(B.shape[0], rng, kind=noise_scales)
    hook = None if interventions is None else interventions.intervener(B.shape[0])
    if interventions is not None:
        n = interventions.n
    if sem == "linear":
        W = edge_weights(B, rng)
        X = _sem.linear_sem(W, n, rng, noise=noise, noise_scale=scale, intervene=hook)
    else:
        W = B.astype(float)
        sampler = {"mlp": _sem.mlp_sem, "additive": _sem.additive_sem, "index": _sem.index_sem}
        X = sampler[sem](B, n, rng, noise_scale=scale, intervene=hook)
    if standardize:
        X = _standardize(X)
    logger.info(
        "simulated %s graph (d=%d, %d edges), %s sem, %s noise, n=%d",
        graph,
        d,
        int(B.sum()),
        sem,
        noise,
        n,
    )
    names = default_names(B.shape[0])
    regimes = targets = None
    if interventions is not None:
        regimes, targets = interventions.labels(names)
    return SimulatedData(X=X, B=B, W=W, names=names, noise_scale=scale, regimes=regimes,
                         targets=targets)


_standardize = standardize  # the function, reachable inside simulate() despite its argument
