"""Loaders for the data sets shipped with dagforge (package data under ``data/``).

See :mod:`dagforge.datasets` for the sources and their attribution.
"""

from __future__ import annotations

import io
import json
import logging
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any, Literal, NamedTuple, get_args, overload

import numpy as np
import pandas as pd

from dagforge.errors import ConfigError, DataError
from dagforge.graph import is_dag, topological_order
from dagforge.simulate._util import check_int, check_rng

__all__ = [
    "BNName",
    "GaussianBN",
    "InterventionalData",
    "ShippedData",
    "gaussian_bn",
    "list_datasets",
    "load_dataset",
    "load_gaussian_bn",
    "load_sachs",
    "load_shipped",
]

logger = logging.getLogger(__name__)

BNName = Literal["ecoli70", "magic-niab", "magic-irri", "arth150"]
"""The shipped Gaussian Bayesian networks (bnlearn repository)."""

_BN_SIZE = {"ecoli70": (46, 70), "magic-niab": (44, 66), "magic-irri": (64, 102),
            "arth150": (107, 150)}  # fmt: skip
_SACHS_SHAPE, _SACHS_EDGES = (853, 11), 17
#: The usual interventional Sachs benchmark: two observational conditions and the five
#: inhibitors (5,846 cells); ``pma`` and ``b2camp`` change the baseline stimulation.
SACHS_STANDARD_CONDITIONS = ("cd3cd28", "cd3cd28+icam2", "cd3cd28+aktinhib", "cd3cd28+g0076",
                             "cd3cd28+psitect", "cd3cd28+u0126", "cd3cd28+ly")
_SACHS_ALL_CELLS = 7466
DEFAULT_N = 1000
"""Sample size :func:`load_dataset` draws from a Gaussian BN when ``n`` is not given."""


def _resource(*parts: str) -> Traversable:
    return resources.files("dagforge.datasets").joinpath("data", *parts)


def _corrupt(what: str) -> DataError:
    return DataError(f"packaged data set {what} is corrupt or incomplete; reinstall dagforge")


# --------------------------------------------------------------------------- Sachs


class InterventionalData(NamedTuple):
    """Interventional data with a known graph: ``X, regimes, targets, B = ...``."""

    X: pd.DataFrame  # (n, d) values
    regimes: np.ndarray  # (n,) each row's regime label
    targets: dict[str, list[str]]  # regime label -> intervened variables
    B: np.ndarray  # (d, d) 0/1 graph, B[i, j] = 1 for i -> j


def _sachs_graph(names: list[str]) -> np.ndarray:
    edges = _resource("sachs", "sachs_consensus_edges.csv").read_text(encoding="utf-8")
    E = pd.read_csv(io.StringIO(edges))
    index = {name: k for k, name in enumerate(names)}
    B = np.zeros((len(names), len(names)))
    for u, v in zip(E["source"], E["target"], strict=True):
        if u not in index or v not in index:
            raise _corrupt(f"sachs (edge {u} -> {v} names an unknown variable)")
        B[index[u], index[v]] = 1.0
    if int(B.sum()) != _SACHS_EDGES or not is_dag(B):
        raise _corrupt("sachs")
    return B


def _sachs_interventional(all_conditions: bool) -> InterventionalData:
    data = _resource("sachs", "sachs_interventional.csv").read_text(encoding="utf-8")
    frame = pd.read_csv(io.StringIO(data))
    targets = json.loads(_resource("sachs", "sachs_targets.json").read_text(encoding="utf-8"))
    if len(frame) != _SACHS_ALL_CELLS or set(frame["condition"]) != set(targets):
        raise _corrupt("sachs (interventional cells)")
    if not all_conditions:
        frame = frame[frame["condition"].isin(SACHS_STANDARD_CONDITIONS)]
        targets = {c: targets[c] for c in SACHS_STANDARD_CONDITIONS}
    regimes = frame.pop("condition").to_numpy(dtype=object)
    X = frame.astype(np.float64).reset_index(drop=True)
    return InterventionalData(X, regimes, {str(k): list(v) for k, v in targets.items()},
                              _sachs_graph([str(c) for c in X.columns]))


@overload
def load_sachs(interventional: Literal[False] = False, *, all_conditions: bool = False
               ) -> tuple[pd.DataFrame, np.ndarray]: ...


@overload
def load_sachs(interventional: Literal[True], *, all_conditions: bool = False
               ) -> InterventionalData: ...


def load_sachs(interventional: bool = False, *, all_conditions: bool = False
               ) -> tuple[pd.DataFrame, np.ndarray] | InterventionalData:
    """The Sachs et al. (2005) protein-signalling data and its 17-edge consensus graph.

    Flow-cytometry measurements of 11 phosphoproteins and phospholipids in
    human immune cells: the 853 cells of the observational condition
    (anti-CD3/CD28, no inhibitor), raw concentrations; the subset used by the
    NOTEARS, DAG-GNN, GraN-DAG and DAGMA papers. The graph is the consensus
    network of those papers and of the bnlearn repository.

    Source: K. Sachs, O. Perez, D. Pe'er, D. A. Lauffenburger, G. P. Nolan,
    "Causal protein-signaling networks derived from multiparameter single-cell
    data", *Science* 308 (5721), 523-529, 2005. The copy is the one
    distributed with GraN-DAG (Lachapelle et al. 2020).

    The empty graph has SHD 17 against it; published methods score about 11 to 22.

    With ``interventional=True``: the cells of the usual interventional benchmark, 5,846
    in 7 conditions (:data:`SACHS_STANDARD_CONDITIONS`: the two general stimulations,
    observational, and five inhibitors of Akt, PKC, PIP2, Mek and PIP3); with
    ``all_conditions`` also ``pma`` and ``b2camp`` (7,466 cells), which activate PKC
    and PKA on another baseline. The inhibitors change a protein's activity rather
    than fix its level: soft interventions (``DagLearner(interventions="soft")``). Cells
    from the pooled file of the Causal Discovery Toolbox, cut into Sachs et al.'s
    conditions (see ``data/ATTRIBUTION.md``).

    Returns
    -------
    X : DataFrame of shape (853, 11), float64
        Columns Raf, Mek, Plcg, PIP2, PIP3, Erk, Akt, PKA, PKC, P38, Jnk.
    B : ndarray of shape (11, 11), float64
        0/1 consensus graph in the column order of ``X``, ``B[i, j] = 1`` for ``i -> j``.

    or, with ``interventional=True``, :class:`InterventionalData` ``(X, regimes, targets,
    B)``: the cells, each cell's condition, condition -> inhibited variables, the graph.
    """
    if interventional:
        return _sachs_interventional(all_conditions)
    data = _resource("sachs", "sachs_observational.csv").read_text(encoding="utf-8")
    X = pd.read_csv(io.StringIO(data)).astype(np.float64)
    if X.shape != _SACHS_SHAPE:
        raise _corrupt("sachs")
    return X, _sachs_graph([str(c) for c in X.columns])


# --------------------------------------------------------------------------- Gaussian BNs


@dataclass(frozen=True, eq=False)
class GaussianBN:
    """A linear Gaussian Bayesian network.

    .. math:: X_j = c_j + \\sum_i W_{ij} X_i + e_j, \\qquad e_j \\sim N(0, \\sigma_j^2),

    i.e. ``X = c + X W + E`` for a row vector ``X``.

    Attributes
    ----------
    name : str
    names : list of str
        Node names; the order of every array here.
    W : ndarray of shape (d, d)
        Coefficients, ``W[parent, child]``.
    intercept : ndarray of shape (d,)
        :math:`c_j`.
    variance : ndarray of shape (d,)
        Residual variances :math:`\\sigma_j^2` (the noise standard deviation is the square root).
    """

    name: str
    names: list[str]
    W: np.ndarray
    intercept: np.ndarray
    variance: np.ndarray

    @property
    def d(self) -> int:
        """Number of nodes."""
        return len(self.names)

    def mean(self) -> np.ndarray:
        """Implied mean :math:`\\mu = c (I - W)^{-1}`."""
        return np.linalg.solve((np.eye(self.d) - self.W).T, self.intercept)

    def covariance(self) -> np.ndarray:
        """Implied covariance :math:`\\Sigma = (I - W)^{-T} \\operatorname{diag}(\\sigma^2)
        (I - W)^{-1}`."""
        A = np.linalg.inv(np.eye(self.d) - self.W)  # X = (c + E) A
        return A.T @ np.diag(self.variance) @ A

    def sample(self, n: int, rng: np.random.Generator) -> pd.DataFrame:
        """``n`` independent samples, drawn in topological order; columns are :attr:`names`."""
        n = check_int(n, "n (number of samples)", 1)
        check_rng(rng)
        X = rng.standard_normal((n, self.d)) * np.sqrt(self.variance) + self.intercept  # [n, d]
        for j in topological_order(self.W):
            pa = np.flatnonzero(self.W[:, j])
            if pa.size:
                X[:, j] += X[:, pa] @ self.W[pa, j]
        return pd.DataFrame(X, columns=self.names)


def _scalar(value: Any) -> float:
    """bnlearn's JSON stores numbers as one-element lists."""
    return float(value[0] if isinstance(value, list) else value)


def _check_bn_name(name: str) -> str:
    if name not in get_args(BNName):
        raise ConfigError(
            f"unknown Gaussian BN {name!r}; choose one of {', '.join(get_args(BNName))}"
        )
    return name


def gaussian_bn(name: BNName) -> GaussianBN:
    """The parameters of a shipped Gaussian BN (see :func:`load_gaussian_bn`)."""
    name = _check_bn_name(name)
    spec = json.loads(_resource("gaussian-bn", f"{name}.json").read_text(encoding="utf-8"))
    names = [str(v) for v in spec["nodes"]]
    index = {v: k for k, v in enumerate(names)}
    d = len(names)
    W, c, var = np.zeros((d, d)), np.zeros(d), np.zeros(d)
    for child, cpd in spec["cpds"].items():
        j = index[child]
        coef = cpd["coefficients"]
        c[j] = _scalar(coef["(Intercept)"])
        var[j] = _scalar(cpd["variance"])
        for parent in cpd["parents"]:
            W[index[parent], j] = _scalar(coef[parent])
    arcs = {(index[u], index[v]) for u, v in spec["arcs"]}
    if (
        (d, len(arcs)) != _BN_SIZE[name]
        or arcs != set(zip(*np.nonzero(W), strict=True))
        or not np.all(var > 0)
        or not is_dag(W)
    ):
        raise _corrupt(name)
    return GaussianBN(name=name, names=names, W=W, intercept=c, variance=var)


def load_gaussian_bn(
    name: BNName, n: int, rng: np.random.Generator
) -> tuple[pd.DataFrame, np.ndarray]:
    """Sample from a linear Gaussian Bayesian network of the bnlearn repository.

    ``X_j = c_j + sum_i W[i, j] X_i + e_j`` with ``e_j ~ N(0, variance_j)``: the
    intercepts, coefficients and residual variances were fitted by bnlearn to
    real data, so the noise variances are unequal and the data carry no
    "varsortability" shortcut by construction.

    ============  =====  ====  =========================================
    name          nodes  arcs  data the network was fitted to
    ============  =====  ====  =========================================
    ecoli70       46     70    E. coli gene expression
    magic-niab    44     66    wheat (MAGIC NIAB population) genetics
    magic-irri    64     102   rice (MAGIC IRRI population) genetics
    arth150       107    150   A. thaliana gene expression
    ============  =====  ====  =========================================

    Source: M. Scutari, bnlearn Bayesian network repository
    (https://www.bnlearn.com/bnrepository/).

    Parameters
    ----------
    name : {"ecoli70", "magic-niab", "magic-irri", "arth150"}
    n : int
        Number of samples.
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    X : DataFrame of shape (n, d)
        Samples; columns are the node names.
    W : ndarray of shape (d, d)
        True weighted graph, ``W[parent, child]`` = coefficient.
    """
    bn = gaussian_bn(name)
    X = bn.sample(n, rng)
    logger.debug("sampled %d rows from %s", n, name)
    return X, bn.W.copy()


# --------------------------------------------------------------------------- registry


class ShippedData(NamedTuple):
    """A shipped data set: values, the true graph, and regimes / targets if interventional."""

    X: pd.DataFrame
    B: np.ndarray
    regimes: np.ndarray | None = None
    targets: dict[str, list[str]] | None = None


def list_datasets() -> list[str]:
    """Names accepted by :func:`load_dataset` and :func:`load_shipped`."""
    from dagforge.datasets.discrete_bn import DiscreteBNName

    return ["sachs", "sachs-interventional", *get_args(BNName), *get_args(DiscreteBNName)]


def load_shipped(name: str, n: int | None = None,
                 rng: np.random.Generator | int | None = None) -> ShippedData:
    """Load a shipped data set by name, regimes included (see :func:`load_dataset`);
    ``"sachs-interventional"`` is :func:`load_sachs` with ``interventional=True``."""
    if name == "sachs-interventional":
        X, regimes, targets, B = load_sachs(interventional=True)
        return ShippedData(X, B, regimes, targets)
    return ShippedData(*load_dataset(name, n, rng))


def load_dataset(
    name: str, n: int | None = None, rng: np.random.Generator | int | None = None
) -> tuple[pd.DataFrame, np.ndarray]:
    """Load a shipped data set by name: ``(X, W_true)``.

    ``"sachs"`` returns the fixed 853 observational cells (``n`` and ``rng`` are
    ignored) and the 0/1 consensus graph. A discrete network
    (:mod:`dagforge.datasets.discrete_bn`) draws ``n`` rows of categorical columns. A
    Gaussian BN name draws ``n``
    samples (default :data:`DEFAULT_N` = 1000) with ``rng``, which may be a
    Generator, an integer seed, or ``None`` for seed 0 (so that the default
    call is reproducible); it returns the weighted true graph.
    """
    if name not in list_datasets():
        raise ConfigError(f"unknown data set {name!r}; choose one of {', '.join(list_datasets())}")
    if name == "sachs":
        return load_sachs()
    if name == "sachs-interventional":  # the values and graph; load_shipped adds regimes
        X, _, _, B = load_sachs(interventional=True)
        return X, B
    if rng is None or (isinstance(rng, int | np.integer) and not isinstance(rng, bool)):
        rng = np.random.default_rng(0 if rng is None else int(rng))
    if name in get_args(BNName):
        return load_gaussian_bn(name, DEFAULT_N if n is None else n, rng)  # type: ignore
    from dagforge.datasets.discrete_bn import load_discrete_bn

    return load_discrete_bn(name, DEFAULT_N if n is None else n, rng)  # type: ignore
