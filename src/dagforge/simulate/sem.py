"""Structural equation models (SEMs): sample data ``X`` from a DAG.

Every sampler draws the variables in a topological order of the graph, so
``X[:, j]`` is computed after all its parents. ``B`` / ``W`` follow the
dagforge convention ``W[i, j] != 0`` means ``i -> j`` (see :mod:`dagforge.graph`).

Linear SEM (:func:`linear_sem`)
    :math:`X_j = \\sum_i W_{ij} X_i + e_j`, i.e. ``X = X @ W + E``.

Nonlinear SEMs with additive Gaussian noise, :math:`X_j = f_j(X_{pa(j)}) + e_j`,
:math:`e_j \\sim N(0, s_j^2)`; a root node (no parents) is just its noise:

* :func:`mlp_sem`: :math:`f_j(x) = \\sigma(x W^{(1)}_j) \\, w^{(2)}_j`, one hidden
  layer of sigmoid units (NOTEARS-MLP experiments, ``sem_type="mlp"``);
* :func:`index_sem`: :math:`f_j(x) = \\tanh(x a_j) + \\cos(x b_j) + \\sin(x c_j)`,
  the NOTEARS "multiple index model" (``sem_type="mim"``);
* :func:`additive_sem`: :math:`f_j(x) = \\sum_{i \\in pa(j)} a_{ij} g_{ij}(z_i)`,
  one random function ``g`` per edge from :data:`ADDITIVE_FUNCTIONS`.

All random weights are drawn from ``U(-2, -0.5) ∪ U(0.5, 2)``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from types import MappingProxyType
from typing import Literal

import numpy as np
from scipy.special import expit

from dagforge.errors import ConfigError, GraphError
from dagforge.graph import topological_order
from dagforge.simulate._util import (
    check_choice,
    check_int,
    check_range,
    check_rng,
    signed_uniform,
)

__all__ = [
    "ADDITIVE_FUNCTIONS",
    "NoiseKind",
    "ScaleKind",
    "additive_sem",
    "index_sem",
    "linear_sem",
    "mlp_sem",
    "noise_scales",
]

logger = logging.getLogger(__name__)

NoiseKind = Literal["gauss", "exp", "gumbel", "uniform"]
"""Noise distributions of :func:`linear_sem`."""

ScaleKind = Literal["equal", "unequal"]
"""How :func:`noise_scales` sets the per-node noise scales."""

Mechanism = Callable[[np.ndarray, np.random.Generator], np.ndarray]

#: ``intervene(j, x, rng) -> x``: the column ``x`` (n,) of variable ``j`` as the regimes'
#: interventions leave it, applied right after ``j`` is sampled and before its children
#: read it (:class:`dagforge.simulate.interventions.InterventionDesign`).
Intervene = Callable[[int, np.ndarray, np.random.Generator], np.ndarray]


# --------------------------------------------------------------------------- checks


def _check_graph(W: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """``W`` as a float matrix and a topological order; raises on non-square / cycles."""
    W = np.asarray(W, dtype=float)
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise GraphError(f"graph must be a square (d x d) matrix, got shape {W.shape}")
    if not np.all(np.isfinite(W)):
        raise GraphError("graph weights contain NaN or infinite values")
    return W, topological_order(W)  # GraphError on a directed cycle


def _check_scale(noise_scale: float | np.ndarray, d: int) -> np.ndarray:
    """Broadcast ``noise_scale`` to shape ``(d,)`` and check it is finite and > 0."""
    s = np.asarray(noise_scale, dtype=float)
    if s.ndim == 0:
        s = np.full(d, float(s))
    if s.shape != (d,):
        raise ConfigError(f"noise_scale must be a number or have shape ({d},), got {s.shape}")
    if not np.all(np.isfinite(s) & (s > 0)):
        raise ConfigError("noise_scale must be finite and > 0 for every node")
    return s


# --------------------------------------------------------------------------- noise


def noise_scales(
    d: int,
    rng: np.random.Generator,
    kind: ScaleKind = "equal",
    low: float = 0.5,
    high: float = 2.0,
) -> np.ndarray:
    """Per-node noise scales ``s`` of shape ``(d,)``.

    ``"equal"`` gives ``s_j = 1`` for every node (``rng``, ``low`` and ``high``
    are unused); ``"unequal"`` draws ``s_j ~ U(low, high)`` independently.
    Unequal scales remove the "varsortability" shortcut of equal-variance
    linear data (the noise variance no longer grows along the causal order in
    a predictable way), which makes the benchmark harder and more honest.
    """
    d = check_int(d, "d (number of nodes)", 1)
    kind = check_choice(kind, ScaleKind, "noise scale kind")
    check_rng(rng)
    if kind == "equal":
        return np.ones(d)
    low, high = check_range(low, high, "noise_scales")
    return rng.uniform(low, high, size=d)


def _sample_noise(
    kind: str, n: int, scale: np.ndarray, rng: np.random.Generator, center: bool
) -> np.ndarray:
    """Noise matrix ``E`` of shape ``(n, d)``; column ``j`` has scale parameter ``scale[j]``."""
    shape = (n, scale.shape[0])
    if kind == "gauss":
        return rng.standard_normal(shape) * scale
    if kind == "exp":
        E = rng.exponential(1.0, shape) * scale  # mean s
        return E - scale if center else E
    if kind == "gumbel":
        E = rng.gumbel(0.0, 1.0, shape) * scale  # mean s * Euler-Mascheroni gamma
        return E - np.euler_gamma * scale if center else E
    return rng.uniform(-1.0, 1.0, shape) * scale  # "uniform"


# --------------------------------------------------------------------------- linear


def linear_sem(
    W: np.ndarray,
    n: int,
    rng: np.random.Generator,
    noise: NoiseKind = "gauss",
    noise_scale: float | np.ndarray = 1.0,
    *,
    center: bool = True,
    intervene: Intervene | None = None,
) -> np.ndarray:
    """Sample ``n`` rows from the linear SEM ``X = X W + E``.

    In topological order, :math:`X_j = X \\, W_{:, j} + e_j`. The noise ``e_j``
    has scale parameter :math:`s_j` (``noise_scale``), with the distributions of
    NOTEARS' ``simulate_linear_sem``:

    =========  ==========================  ==============================
    ``noise``  distribution                standard deviation
    =========  ==========================  ==============================
    gauss      :math:`N(0, s^2)`           :math:`s`
    exp        Exponential(scale ``s``)    :math:`s`
    gumbel     Gumbel(0, ``s``)            :math:`s \\pi / \\sqrt{6}`
    uniform    :math:`U(-s, s)`            :math:`s / \\sqrt{3}`
    =========  ==========================  ==============================

    With ``center=True`` (default) the exponential and Gumbel noise is shifted
    to mean 0 (by :math:`s` and :math:`s \\gamma`, :math:`\\gamma` the
    Euler–Mascheroni constant), so every variable has mean 0 and a model
    without intercept is not penalised; NOTEARS does not centre
    (``center=False`` reproduces it). Non-Gaussian noise makes the linear SEM
    identifiable (LiNGAM).

    Parameters
    ----------
    W : ndarray of shape (d, d)
        Weighted DAG, ``W[i, j]`` is the coefficient of ``X_i`` in ``X_j``.
    n : int
        Number of samples, ``n >= 1``.
    rng : numpy.random.Generator
        Source of randomness.
    noise : {"gauss", "exp", "gumbel", "uniform"}
        Noise distribution.
    noise_scale : float or ndarray of shape (d,)
        Scale parameter ``s`` (one for all nodes, or one per node).
    center : bool
        Shift exponential / Gumbel noise to mean 0.
    intervene : callable, optional
        Interventions (:data:`Intervene`), applied to each column once it is sampled.

    Returns
    -------
    ndarray of shape (n, d), float64
    """
    W, order = _check_graph(W)
    n = check_int(n, "n (number of samples)", 1)
    noise = check_choice(noise, NoiseKind, "noise")
    check_rng(rng)
    d = W.shape[0]
    scale = _check_scale(noise_scale, d)
    X = _sample_noise(noise, n, scale, rng, center)  # [n, d], noise first, parents added below
    for j in order:
        pa = np.flatnonzero(W[:, j])
        if pa.size:
            X[:, j] += X[:, pa] @ W[pa, j]
        if intervene is not None:
            X[:, j] = intervene(j, X[:, j], rng)
    logger.debug("linear_sem: n=%d, d=%d, noise=%s", n, d, noise)
    return X


# --------------------------------------------------------------------------- nonlinear


def _nonlinear_sem(
    B: np.ndarray,
    n: int,
    rng: np.random.Generator,
    noise_scale: float | np.ndarray,
    mechanism: Mechanism,
    intervene: Intervene | None = None,
) -> np.ndarray:
    """``X_j = mechanism(X[:, pa(j)]) + N(0, s_j^2)`` in topological order; roots are noise;
    ``intervene`` (:data:`Intervene`) then changes the intervened rows of ``X_j``."""
    B, order = _check_graph(B)
    n = check_int(n, "n (number of samples)", 1)
    check_rng(rng)
    scale = _check_scale(noise_scale, B.shape[0])
    X = rng.standard_normal((n, B.shape[0])) * scale  # [n, d]
    for j in order:
        pa = np.flatnonzero(B[:, j])
        if pa.size:
            X[:, j] += mechanism(X[:, pa], rng)  # X[:, pa]: [n, |pa|]
        if intervene is not None:
            X[:, j] = intervene(j, X[:, j], rng)
    return X


def mlp_sem(
    B: np.ndarray,
    n: int,
    rng: np.random.Generator,
    hidden: int = 100,
    noise_scale: float | np.ndarray = 1.0,
    intervene: Intervene | None = None,
) -> np.ndarray:
    """Sample from an SEM whose mechanisms are random one-hidden-layer MLPs.

    For each non-root node ``j`` with parents ``pa(j)`` (as in the NOTEARS-MLP
    experiments),

    .. math:: X_j = \\sigma\\big(X_{pa(j)} W^{(1)}_j\\big) \\, w^{(2)}_j + e_j,
              \\qquad e_j \\sim N(0, s_j^2),

    with :math:`\\sigma` the logistic sigmoid, :math:`W^{(1)}_j` of shape
    ``(|pa(j)|, hidden)`` and :math:`w^{(2)}_j` of shape ``(hidden,)``, all entries
    from ``U(-2, -0.5) ∪ U(0.5, 2)``. Root nodes are just their noise.

    Parameters
    ----------
    B : ndarray of shape (d, d)
        DAG; any non-zero ``B[i, j]`` is the edge ``i -> j``.
    n : int
        Number of samples.
    rng : numpy.random.Generator
        Source of randomness (mechanism weights and noise).
    hidden : int
        Hidden units per node.
    noise_scale : float or ndarray of shape (d,)
        Standard deviation of the Gaussian noise.
    intervene : callable, optional
        Interventions (:data:`Intervene`), applied to each column once it is sampled.

    Returns
    -------
    ndarray of shape (n, d), float64
    """
    hidden = check_int(hidden, "hidden", 1)

    def mechanism(x: np.ndarray, g: np.random.Generator) -> np.ndarray:
        W1 = signed_uniform(g, (x.shape[1], hidden))  # [|pa|, hidden]
        w2 = signed_uniform(g, hidden)  # [hidden]
        return expit(x @ W1) @ w2  # [n]

    return _nonlinear_sem(B, n, rng, noise_scale, mechanism, intervene)


def index_sem(
    B: np.ndarray,
    n: int,
    rng: np.random.Generator,
    noise_scale: float | np.ndarray = 1.0,
    intervene: Intervene | None = None,
) -> np.ndarray:
    """Sample from the NOTEARS "multiple index model" SEM.

    For each non-root node ``j``, three random projections of its parents pass
    through three different nonlinearities:

    .. math:: X_j = \\tanh(X_{pa(j)} a_j) + \\cos(X_{pa(j)} b_j)
              + \\sin(X_{pa(j)} c_j) + e_j, \\qquad e_j \\sim N(0, s_j^2),

    with :math:`a_j, b_j, c_j \\in \\mathbb{R}^{|pa(j)|}` drawn from
    ``U(-2, -0.5) ∪ U(0.5, 2)``. Root nodes are just their noise. The mechanism
    is bounded (each term in ``[-1, 1]``), so values never blow up in deep graphs.

    Parameters
    ----------
    B : ndarray of shape (d, d)
        DAG; any non-zero ``B[i, j]`` is the edge ``i -> j``.
    n : int
        Number of samples.
    rng : numpy.random.Generator
        Source of randomness.
    noise_scale : float or ndarray of shape (d,)
        Standard deviation of the Gaussian noise.
    intervene : callable, optional
        Interventions (:data:`Intervene`), applied to each column once it is sampled.

    Returns
    -------
    ndarray of shape (n, d), float64
    """

    def mechanism(x: np.ndarray, g: np.random.Generator) -> np.ndarray:
        a, b, c = signed_uniform(g, (3, x.shape[1]))  # each [|pa|]
        return np.tanh(x @ a) + np.cos(x @ b) + np.sin(x @ c)

    return _nonlinear_sem(B, n, rng, noise_scale, mechanism, intervene)


def _softplus(z: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, z)


ADDITIVE_FUNCTIONS: MappingProxyType[str, Callable[[np.ndarray], np.ndarray]] = MappingProxyType(
    {
        "tanh": np.tanh,  # monotone, saturating
        "sin": lambda z: np.sin(2.0 * z),  # non-monotone on the data range
        "quadratic": np.square,  # even: not invertible, hard to orient
        "softplus": _softplus,  # monotone, convex, grows linearly
    }
)
"""Functions ``g`` of :func:`additive_sem`, applied to a standardised parent ``z``:
``tanh(z)``, ``sin(2 z)``, ``z**2`` and ``softplus(z) = log(1 + exp(z))``."""


def additive_sem(
    B: np.ndarray,
    n: int,
    rng: np.random.Generator,
    noise_scale: float | np.ndarray = 1.0,
    functions: Sequence[str] = ("tanh", "sin", "quadratic", "softplus"),
    intervene: Intervene | None = None,
) -> np.ndarray:
    """Sample from an additive nonlinear SEM: one random function per edge.

    For each non-root node ``j``,

    .. math:: X_j = \\sum_{i \\in pa(j)} a_{ij} \\, g_{ij}(z_i) + e_j, \\qquad
              z_i = \\frac{X_i - \\bar X_i}{\\operatorname{sd}(X_i)}, \\qquad
              e_j \\sim N(0, s_j^2),

    where each :math:`g_{ij}` is picked uniformly at random from ``functions``
    (names in :data:`ADDITIVE_FUNCTIONS`: ``tanh(z)``, ``sin(2 z)``, ``z**2``,
    ``softplus(z)``) and :math:`a_{ij} \\sim U(-2, -0.5) \\cup U(0.5, 2)`.
    Each parent is standardised with its sample mean and standard deviation
    before ``g`` is applied, so every edge acts on a unit-scale input: the
    quadratic cannot blow up along a deep chain and ``tanh`` / ``sin`` neither
    saturate nor wrap around. (The mechanism is thus fixed given the sample's
    parent moments, not as a function of raw parent values.) Root nodes are
    just their noise. This is the additive-noise, additive-mechanism model
    (CAM, Bühlmann et al. 2014), identifiable for nonlinear ``g``.

    Parameters
    ----------
    B : ndarray of shape (d, d)
        DAG; any non-zero ``B[i, j]`` is the edge ``i -> j``.
    n : int
        Number of samples.
    rng : numpy.random.Generator
        Source of randomness.
    noise_scale : float or ndarray of shape (d,)
        Standard deviation of the Gaussian noise.
    functions : sequence of str
        Names from :data:`ADDITIVE_FUNCTIONS` to choose from.
    intervene : callable, optional
        Interventions (:data:`Intervene`), applied to each column once it is sampled.

    Returns
    -------
    ndarray of shape (n, d), float64
    """
    names = list(functions)
    if not names:
        raise ConfigError("additive_sem needs at least one function")
    for f in names:
        check_choice(f, tuple(ADDITIVE_FUNCTIONS), "additive function")

    def mechanism(x: np.ndarray, g: np.random.Generator) -> np.ndarray:
        sd = x.std(axis=0)
        z = (x - x.mean(axis=0)) / np.where(sd > 0, sd, 1.0)  # [n, |pa|]
        picks = g.integers(len(names), size=x.shape[1])
        a = signed_uniform(g, x.shape[1])
        return sum(a[c] * ADDITIVE_FUNCTIONS[names[p]](z[:, c]) for c, p in enumerate(picks))

    return _nonlinear_sem(B, n, rng, noise_scale, mechanism, intervene)
