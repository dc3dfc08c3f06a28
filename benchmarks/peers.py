"""Adapters for peer structure learners used in benchmarks (never imported by dagforge).

Every adapter takes a data matrix ``X`` of shape ``(n, d)`` and returns a ``d x d``
numpy array in dagforge's convention (see :mod:`dagforge.graph`):

* ``kind == "dag"``: a (weighted) adjacency ``W`` with ``W[i, j] != 0`` meaning the
  edge ``i -> j``. DAGMA and gCastle's NOTEARS-MLP give weights; GraN-DAG and
  DAG-GNN only give a 0/1 matrix (returned as float).
* ``kind == "cpdag"``: GES and PC return an equivalence class, as a 0/1 int matrix
  ``C`` with ``C[i, j] = 1, C[j, i] = 0`` for ``i -> j`` and ``C[i, j] = C[j, i] = 1``
  for the undirected ``i - j`` (the format of :func:`dagforge.graph.dag_to_cpdag`).

The peers are optional (``pip install -e ".[bench]"``) and are imported lazily
inside each adapter; :func:`available_peers` says which can be imported here.

Conventions, checked on small known graphs (see ``check_peers.py``):

* DAGMA (linear and MLP): ``W[i, j]`` is ``i -> j`` (the model is ``X = X W + E``),
  the same as dagforge: returned as is.
* causal-learn (GES, PC): ``G.graph[a, b]`` is the endpoint mark at ``a`` of the
  edge ``a - b`` (-1 tail, 1 arrow), so ``graph[i, j] == -1 and graph[j, i] == 1``
  is ``i -> j`` and ``-1 / -1`` is ``i - j``: translated by :func:`cpdag_from_causallearn`.
* gCastle (NotearsNonlinear, GraNDAG, DAG_GNN): ``causal_matrix[i, j] == 1`` is
  ``i -> j``: returned as is.

Side effects of the peers that the adapters undo or contain:

* DAGMA's linear ``fit`` centres ``X`` in place: adapters pass a float64 copy.
* ``DagmaMLP`` and gCastle call ``torch.set_default_dtype(torch.float64)`` (gCastle
  even at import time); the adapters run peers under float64, as they expect, and
  restore the caller's default dtype afterwards.
* gCastle calls ``logging.basicConfig(level=INFO)`` on the root logger at import
  and logs INFO lines while running: the adapters keep it from configuring the root
  logger (see :func:`_quiet_root_logging`), so its INFO lines are dropped unless the
  caller configured logging at INFO itself.
* The peers use global RNGs (``torch``'s and ``numpy.random``'s legacy state), so the
  adapters seed those globals with ``seed`` (``torch.manual_seed`` /
  ``np.random.seed``). That is a side effect on the caller's global RNG state,
  accepted here because there is no other way to make the peers reproducible.
* Progress bars: DAGMA and GraN-DAG draw tqdm bars that cannot be turned off by an
  argument; set ``TQDM_DISABLE=1`` in the environment *before* anything imports
  tqdm (``import torch`` does) to silence them (``check_peers.py`` does).

Torch's thread count is left as the caller set it (no adapter changes it): set it
once, the same for dagforge and the peers. On a busy 2-core machine the torch-based
peers ran about 8x faster with ``torch.set_num_threads(1)`` than with torch's
default of 2 (tiny tensors: thread hand-offs dominate), with identical output.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "PEERS",
    "PeerSpec",
    "available_peers",
    "cpdag_from_causallearn",
    "run_dagma_linear",
    "run_dagma_mlp",
    "run_gcastle_daggnn",
    "run_gcastle_grandag",
    "run_gcastle_notears_mlp",
    "run_ges",
    "run_pc",
    "run_peer",
]


# --------------------------------------------------------------------------- helpers


def _as_data(X: np.ndarray) -> np.ndarray:
    """A fresh C-contiguous float64 copy of ``X`` (peers may modify their input)."""
    X = np.array(X, dtype=np.float64, copy=True, order="C")
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (n, d), got shape {X.shape}")
    if X.shape[1] < 2:
        raise ValueError(f"X needs at least 2 variables, got {X.shape[1]}")
    return X


@contextlib.contextmanager
def _torch_float64() -> Iterator[None]:
    """Run a block with torch's default dtype float64; restore the caller's after."""
    import torch

    saved = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        torch.set_default_dtype(saved)


@contextlib.contextmanager
def _quiet_root_logging() -> Iterator[None]:
    """Keep gCastle from configuring the root logger inside the block.

    gCastle calls ``logging.basicConfig(level=INFO)`` at import and module-level
    ``logging.info`` while running (which calls ``basicConfig()`` when the root logger
    has no handler). A temporary ``NullHandler`` makes those calls no-ops; the root
    logger's handlers and level are restored afterwards.
    """
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    null = logging.NullHandler()
    root.addHandler(null)
    try:
        yield
    finally:
        for h in list(root.handlers):
            if h not in handlers:
                root.removeHandler(h)
        root.setLevel(level)


def _import_castle() -> Any:
    """Import ``castle.algorithms`` with its global side effects contained."""
    os.environ.setdefault("CASTLE_BACKEND", "pytorch")
    with _quiet_root_logging(), _torch_float64():
        return importlib.import_module("castle.algorithms")


def _seed_globals(seed: int) -> None:
    """Seed the global RNGs that the peers draw from (see the module docstring)."""
    import torch

    np.random.seed(seed)  # noqa: NPY002 - the peers use numpy's legacy global RNG
    torch.manual_seed(seed)


def cpdag_from_causallearn(graph: np.ndarray) -> np.ndarray:
    """dagforge CPDAG matrix from a causal-learn ``GeneralGraph.graph`` endpoint matrix.

    ``graph[a, b]`` is the mark at ``a`` of the edge between ``a`` and ``b``: -1 tail,
    1 arrow. So ``graph[i, j] = -1, graph[j, i] = 1`` is ``i -> j`` and ``-1, -1`` is
    ``i - j``. PC can also leave a bidirected ``i <-> j`` (``1, 1``) when two
    v-structures conflict; no orientation is supported, so it becomes undirected
    ``i - j`` here. Circle or other marks (PAG output) raise ``ValueError``.

    >>> g = np.array([[0, 0, -1], [0, 0, -1], [1, 1, 0]])  # 0 -> 2 <- 1
    >>> cpdag_from_causallearn(g)
    array([[0, 0, 1],
           [0, 0, 1],
           [0, 0, 0]])
    """
    g = np.asarray(graph)
    if g.ndim != 2 or g.shape[0] != g.shape[1]:
        raise ValueError(f"graph must be square, got shape {g.shape}")
    d = g.shape[0]
    C = np.zeros((d, d), dtype=int)
    for i in range(d):
        for j in range(i + 1, d):
            a, b = int(g[i, j]), int(g[j, i])  # mark at i, mark at j
            if a == 0 and b == 0:
                continue
            if (a, b) == (-1, 1):
                C[i, j] = 1
            elif (a, b) == (1, -1):
                C[j, i] = 1
            elif (a, b) in ((-1, -1), (1, 1)):
                C[i, j] = C[j, i] = 1
            else:
                raise ValueError(f"unsupported endpoint marks ({a}, {b}) on edge {i} - {j}")
    return C


# --------------------------------------------------------------------------- DAGMA


def run_dagma_linear(
    X: np.ndarray,
    *,
    lambda1: float = 0.02,
    loss_type: str = "l2",
    w_threshold: float = 0.3,
    seed: int = 0,
    **fit_kwargs: Any,
) -> np.ndarray:
    """DAGMA linear (``dagma.linear.DagmaLinear``), as its README runs it.

    ``fit(X, lambda1=0.02)`` with every other setting at the library's default
    (dagma 1.1.1: ``T=5, mu_init=1, mu_factor=0.1, s=[1, .9, .8, .7, .6],
    warm_iter=3e4, max_iter=6e4, lr=3e-4``); ``fit_kwargs`` override them.
    DagmaLinear is deterministic (zero init, full-batch Adam): ``seed`` is accepted
    for a uniform signature and has no effect. Returns the weighted ``W`` (i -> j),
    entries with ``|w| < w_threshold`` set to 0.
    """
    del seed  # deterministic; nothing to seed
    from dagma.linear import DagmaLinear

    model = DagmaLinear(loss_type=loss_type)
    W = model.fit(_as_data(X), lambda1=lambda1, w_threshold=w_threshold, **fit_kwargs)
    return np.asarray(W, dtype=np.float64)


def run_dagma_mlp(
    X: np.ndarray,
    *,
    hidden: int = 10,
    lambda1: float = 0.02,
    lambda2: float = 0.005,
    w_threshold: float = 0.3,
    seed: int = 0,
    **fit_kwargs: Any,
) -> np.ndarray:
    """DAGMA nonlinear: ``DagmaNonlinear(DagmaMLP(dims=[d, hidden, 1]))``, as its README.

    ``fit(X, lambda1=0.02, lambda2=0.005)`` with the library's other defaults
    (dagma 1.1.1: ``T=4, mu_init=0.1, mu_factor=0.1, s=1, warm_iter=5e4,
    max_iter=8e4, lr=2e-4``), float64; ``fit_kwargs`` override them. The MLP's
    initial weights come from torch's global RNG, seeded with ``seed``.
    Returns the weighted ``W`` (i -> j) from the first layer's norms, thresholded.
    """
    import torch
    from dagma.nonlinear import DagmaMLP, DagmaNonlinear

    X = _as_data(X)
    d = X.shape[1]
    with _torch_float64():
        _seed_globals(seed)
        eq_model = DagmaMLP(dims=[d, hidden, 1], bias=True, dtype=torch.float64)
        model = DagmaNonlinear(eq_model, dtype=torch.float64)
        W = model.fit(X, lambda1=lambda1, lambda2=lambda2, w_threshold=w_threshold, **fit_kwargs)
    return np.asarray(W, dtype=np.float64)


# --------------------------------------------------------------------------- causal-learn


def run_ges(
    X: np.ndarray,
    *,
    score_func: str = "local_score_BIC",
    max_parents: int | None = None,
    seed: int = 0,
) -> np.ndarray:
    """causal-learn GES with the linear-Gaussian BIC score; returns a CPDAG matrix.

    ``max_parents`` is causal-learn's ``maxP`` (None: unbounded). Deterministic:
    ``seed`` is accepted for a uniform signature and has no effect.
    """
    del seed
    from causallearn.search.ScoreBased.GES import ges

    record = ges(_as_data(X), score_func=score_func, maxP=max_parents)
    return cpdag_from_causallearn(record["G"].graph)


def run_pc(
    X: np.ndarray,
    *,
    alpha: float = 0.01,
    indep_test: str = "fisherz",
    stable: bool = True,
    seed: int = 0,
) -> np.ndarray:
    """causal-learn PC (Fisher-z tests at level ``alpha``); returns a CPDAG matrix.

    causal-learn's defaults otherwise (``uc_rule=0, uc_priority=2``). Deterministic:
    ``seed`` is accepted for a uniform signature and has no effect.
    """
    del seed
    from causallearn.search.ConstraintBased.PC import pc

    cg = pc(_as_data(X), alpha, indep_test, stable=stable, show_progress=False)
    return cpdag_from_causallearn(cg.G.graph)


# --------------------------------------------------------------------------- gCastle


def run_gcastle_notears_mlp(
    X: np.ndarray,
    *,
    lambda1: float = 0.01,
    lambda2: float = 0.01,
    hidden: int = 10,
    w_threshold: float = 0.3,
    seed: int = 0,
    **kwargs: Any,
) -> np.ndarray:
    """gCastle ``NotearsNonlinear`` (NOTEARS-MLP, L-BFGS-B), gCastle's defaults.

    ``kwargs`` go to the constructor (e.g. ``max_iter``). The MLP's initial weights
    come from torch's global RNG, seeded with ``seed``. Returns the weighted ``W``
    (i -> j) with ``|w| <= w_threshold`` set to 0 (gCastle's own thresholding).
    """
    algos = _import_castle()
    X = _as_data(X)
    with _quiet_root_logging(), _torch_float64():
        _seed_globals(seed)
        model = algos.NotearsNonlinear(
            lambda1=lambda1,
            lambda2=lambda2,
            hidden_layers=(hidden, 1),
            w_threshold=w_threshold,
            device_type="cpu",
            **kwargs,
        )
        model.learn(X)
    W = np.asarray(model.weight_causal_matrix, dtype=np.float64)
    mask = np.asarray(model.causal_matrix) != 0
    return np.where(mask, W, 0.0)


def run_gcastle_grandag(
    X: np.ndarray,
    *,
    hidden_num: int = 2,
    hidden_dim: int = 10,
    iterations: int = 10000,
    seed: int = 0,
    **kwargs: Any,
) -> np.ndarray:
    """gCastle ``GraNDAG`` (NonLinGaussANM, gCastle's defaults); returns a 0/1 ``W``.

    ``seed`` is GraNDAG's ``random_seed`` (it seeds torch and numpy's globals itself).
    ``kwargs`` go to the constructor. GraN-DAG gives no edge weights.
    """
    algos = _import_castle()
    X = _as_data(X)
    with _quiet_root_logging(), _torch_float64(), warnings.catch_warnings():
        # GraNDAG calls the deprecated torch.set_default_tensor_type
        warnings.simplefilter("ignore", UserWarning)
        model = algos.GraNDAG(
            input_dim=X.shape[1],
            hidden_num=hidden_num,
            hidden_dim=hidden_dim,
            iterations=iterations,
            random_seed=seed,
            device_type="cpu",
            **kwargs,
        )
        model.learn(X)
    return (np.asarray(model.causal_matrix) != 0).astype(np.float64)


def run_gcastle_daggnn(
    X: np.ndarray,
    *,
    epochs: int = 300,
    graph_threshold: float = 0.3,
    seed: int = 0,
    **kwargs: Any,
) -> np.ndarray:
    """gCastle ``DAG_GNN`` (gCastle's defaults); returns a 0/1 ``W``.

    ``seed`` is DAG_GNN's ``seed`` (it seeds torch and numpy's globals itself, and
    sets ``PYTHONHASHSEED`` in ``os.environ``). Slow on CPU with the default
    ``epochs=300`` (minutes even for d=4). DAG-GNN gives no edge weights.
    """
    algos = _import_castle()
    X = _as_data(X)
    with _quiet_root_logging(), _torch_float64():
        model = algos.DAG_GNN(
            epochs=epochs,
            graph_threshold=graph_threshold,
            seed=seed,
            device_type="cpu",
            **kwargs,
        )
        model.learn(X)
    return (np.asarray(model.causal_matrix) != 0).astype(np.float64)


# --------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class PeerSpec:
    """One peer: its adapter, what it returns and the modules it needs."""

    fn: Callable[..., np.ndarray]
    kind: str  # "dag" (adjacency W, i -> j) or "cpdag" (dagforge CPDAG matrix)
    package: str  # the pip distribution in the bench extra
    modules: tuple[str, ...]  # imported by available_peers() to check
    nonlinear: bool
    description: str


PEERS: dict[str, PeerSpec] = {
    "dagma_linear": PeerSpec(
        run_dagma_linear, "dag", "dagma", ("dagma.linear",), False, "DAGMA linear (l2)"
    ),
    "dagma_mlp": PeerSpec(
        run_dagma_mlp, "dag", "dagma", ("dagma.nonlinear",), True, "DAGMA MLP (hidden 10)"
    ),
    "ges": PeerSpec(
        run_ges,
        "cpdag",
        "causal-learn",
        ("causallearn.search.ScoreBased.GES",),
        False,
        "GES, BIC score (causal-learn)",
    ),
    "pc": PeerSpec(
        run_pc,
        "cpdag",
        "causal-learn",
        ("causallearn.search.ConstraintBased.PC",),
        False,
        "PC, Fisher-z (causal-learn)",
    ),
    "gcastle_notears_mlp": PeerSpec(
        run_gcastle_notears_mlp, "dag", "gcastle", ("castle",), True, "NOTEARS-MLP (gCastle)"
    ),
    "gcastle_grandag": PeerSpec(
        run_gcastle_grandag, "dag", "gcastle", ("castle",), True, "GraN-DAG (gCastle)"
    ),
    "gcastle_daggnn": PeerSpec(
        run_gcastle_daggnn, "dag", "gcastle", ("castle",), True, "DAG-GNN (gCastle)"
    ),
}


def available_peers() -> dict[str, str | None]:
    """``{name: None}`` for each peer that imports here, else ``{name: reason}``."""
    out: dict[str, str | None] = {}
    for name, spec in PEERS.items():
        reason = None
        for mod in spec.modules:
            try:
                if mod == "castle":
                    _import_castle()
                else:
                    importlib.import_module(mod)
            except Exception as e:  # any import failure makes the peer unavailable
                reason = f"{spec.package}: {type(e).__name__}: {e}"
                break
        out[name] = reason
    return out


def run_peer(name: str, X: np.ndarray, **kwargs: Any) -> np.ndarray:
    """Run the peer ``name`` of :data:`PEERS` on ``X`` with adapter ``kwargs``."""
    try:
        spec = PEERS[name]
    except KeyError:
        raise KeyError(f"unknown peer {name!r}; known: {sorted(PEERS)}") from None
    return spec.fn(X, **kwargs)
