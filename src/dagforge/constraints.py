r"""Acyclicity functions :math:`h(W)`: zero exactly on DAGs, positive on every cyclic graph.

Every function here takes the weighted adjacency ``W`` (a ``d x d`` tensor,
``W[i, j] != 0`` is the edge ``i -> j``, see :mod:`dagforge.graph`) and works on
:math:`A = W \circ W` (entrywise square), so the sign of a weight never hides a
cycle. All of them

* compute in float64, whatever the input dtype, and return a float64 scalar
  tensor; gradients flow back to ``W`` in its own dtype;
* are exact: :math:`h(W) = 0` iff the graph of ``W`` is acyclic (in exact
  arithmetic; what float64 can and cannot resolve is stated per function);
* hold no state (the one exception is :class:`SpectralRadius`, a warm-start
  helper) and never change global torch settings.

The functions (:math:`A = W \circ W`):

* ``logdet`` (DAGMA): :math:`-\log\det(sI - A) + d\log s`, defined where
  :math:`\rho(A) < s`;
* ``expm`` (NOTEARS): :math:`\operatorname{tr} e^{A} - d`, defined everywhere;
* ``poly`` (DAG-GNN): :math:`\operatorname{tr}(I + A/d)^d - d`, defined everywhere;
* ``spectral`` (SDCD): :math:`\rho(A)`, the spectral radius, defined everywhere.

Why not :math:`\operatorname{ReLU}(\operatorname{tr}(I + A/d)^n - d)` with the
matrix renormalised inside the power loop (the project's origin)? Dividing by
any matrix norm :math:`\|\cdot\| \ge \rho(\cdot)` makes
:math:`|\operatorname{tr} P| \le d\,\rho(P) \le d`, so the ReLU is 0 on every
graph, cyclic or not; and with :math:`A = W` instead of :math:`W \circ W`
negative weights cancel positive ones. Neither can happen here; the tests pin
both failures.

Use :func:`get_constraint` (or :data:`CONSTRAINTS`) to pick one by name,
:func:`acyclicity_fn` to get one with its options bound, and :func:`domain_ok`
to ask whether a point is inside a function's domain.
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple, Protocol

import numpy as np
import torch
from scipy.sparse.csgraph import connected_components
from torch import Tensor

from dagforge.errors import ConfigError, GraphError

__all__ = [
    "CONSTRAINTS",
    "CONSTRAINT_SPECS",
    "Constraint",
    "ConstraintName",
    "ConstraintSpec",
    "SpectralEstimate",
    "SpectralRadius",
    "acyclicity_fn",
    "constraint_options",
    "describe_domains",
    "domain_ok",
    "expm",
    "get_constraint",
    "logdet",
    "logdet_domain_ok",
    "poly",
    "spectral",
    "spectral_with_vectors",
]

ConstraintName = Literal["logdet", "expm", "poly", "spectral"]

_F64 = torch.float64
_EPS = float(np.finfo(np.float64).eps)


class Constraint(Protocol):
    """An acyclicity function: ``h(W) -> float64 scalar tensor`` (extra options by keyword)."""

    def __call__(self, W: Tensor, /) -> Tensor: ...


# --------------------------------------------------------------------------- helpers


def _as_f64(W: Tensor | np.ndarray) -> Tensor:
    """``W`` as a float64 tensor (differentiable cast), or :class:`GraphError` if not square."""
    if not isinstance(W, Tensor):
        W = torch.as_tensor(np.asarray(W))
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise GraphError(f"W must be a square (d x d) matrix, got shape {tuple(W.shape)}")
    if W.dtype.is_complex:
        raise GraphError("W must be real, got a complex tensor")
    return W.to(_F64)


def _check_s(s: float) -> float:
    s = float(s)
    if not math.isfinite(s) or s <= 0:
        raise ConfigError(f"logdet needs a finite s > 0, got s={s}")
    return s


def _eye(d: int, like: Tensor) -> Tensor:
    return torch.eye(d, dtype=_F64, device=like.device)


# --------------------------------------------------------------------------- logdet (DAGMA)

_LU_LEAF = 128  # block size below which the no-pivot LU is done unblocked


def _no_swaps(piv: Tensor) -> bool:
    """Whether LAPACK's 1-based pivot vector is the identity (no row was swapped)."""
    return bool(torch.equal(piv, torch.arange(1, piv.shape[0] + 1, dtype=piv.dtype)))


def _lu_leaf_(M: Tensor) -> None:
    """In-place LU without pivoting of a CPU block (CUDA has its own no-pivot LU, see
    :func:`_lu_nopivot`): LAPACK if it did not pivot, else unblocked elimination."""
    n = M.shape[0]
    LU, piv, info = torch.linalg.lu_factor_ex(M)  # LAPACK; usable when it did not pivot
    if int(info) == 0 and _no_swaps(piv):
        M.copy_(LU)
        return
    A = M.detach().numpy()  # [n, n], shares M's memory; a tenth of torch's per-op overhead
    with np.errstate(all="ignore"):  # a zero / NaN pivot: caught by the caller
        for k in range(n - 1):
            A[k + 1 :, k] /= A[k, k]
            A[k + 1 :, k + 1 :] -= np.multiply.outer(A[k + 1 :, k], A[k, k + 1 :])


def _column_dominant(M: Tensor) -> bool:
    """Whether the Z-matrix ``M`` is column diagonally dominant with a positive diagonal.

    Then partial pivoting never swaps rows (Schur complements stay dominant), so
    LAPACK's pivoted LU *is* the LU without pivoting (still verified on the pivots).
    """
    diag = torch.diagonal(M)  # [n]
    off = M.abs().sum(dim=0) - diag.abs()  # [n]
    return bool(torch.all(diag > 0)) and bool(torch.all(diag >= off))


def _lu_nopivot_(M: Tensor) -> None:
    """In-place recursive (blocked) LU without pivoting: ``M = L U`` packed in ``M``."""
    n = M.shape[0]
    if n <= _LU_LEAF:
        _lu_leaf_(M)
        return
    h = n // 2
    _lu_nopivot_(M[:h, :h])
    M[:h, h:] = torch.linalg.solve_triangular(  # U12 = L11^{-1} M12, [h, n-h]
        M[:h, :h], M[:h, h:], upper=False, unitriangular=True
    )
    M[h:, :h] = torch.linalg.solve_triangular(  # L21 = M21 U11^{-1}, [n-h, h]
        M[:h, :h], M[h:, :h], upper=True, left=False
    )
    M[h:, h:].addmm_(M[h:, :h], M[:h, h:], alpha=-1.0)  # Schur complement, [n-h, n-h]
    _lu_nopivot_(M[h:, h:])


def _lu_nopivot(M: Tensor) -> Tensor:
    """Packed LU factors of ``M`` (float64) by Gaussian elimination without pivoting.

    For a Z-matrix ``M = sI - A`` (``A >= 0``) this is the right algorithm: every
    step subtracts a non-negative quantity from a non-positive off-diagonal entry,
    so off-diagonals carry no cancellation, and structural zeros stay exact zeros
    (on a DAG every pivot is exactly ``s``). Partial pivoting (LAPACK ``getrf``)
    mixes rows, loses both properties, and on DAGs with heavy paths returns
    ``log det`` values far from 0 (even a negative determinant).
    """
    if M.is_cuda:
        LU, _, _ = torch.linalg.lu_factor_ex(M, pivot=False)  # [d, d]
        return LU
    if _column_dominant(M):  # common case (small weights): one LAPACK call, no copies
        LU, piv, info = torch.linalg.lu_factor_ex(M)  # [d, d]
        if int(info) == 0 and _no_swaps(piv):
            return LU
    LU = M.clone()  # [d, d]
    _lu_nopivot_(LU)
    return LU


def _logdet_factor(W: Tensor, s: float) -> tuple[Tensor, bool]:
    """No-pivot LU of ``sI - W∘W`` and whether all its pivots are positive."""
    d = W.shape[0]
    M = s * _eye(d, W) - W * W  # [d, d]
    LU = _lu_nopivot(M)  # [d, d]
    ok = bool(torch.all(torch.diagonal(LU) > 0))  # NaN pivots compare False
    return LU, ok


class _LogDet(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, W: Tensor, s: float) -> Tensor:  # W: [d, d] float64
        ctx.ok = False
        if not bool(torch.isfinite(W).all()):
            ctx.save_for_backward(W, W)
            return torch.full((), math.nan, dtype=_F64, device=W.device)
        LU, ok = _logdet_factor(W, s)
        ctx.ok = ok
        ctx.save_for_backward(W, LU)
        if not ok:
            return torch.full((), math.inf, dtype=_F64, device=W.device)
        piv = torch.diagonal(LU)  # [d], all > 0
        # -log det(sI - A) + d log s = -sum_k log(piv_k / s); log1p keeps small deficits
        return 0.0 - torch.log1p((piv - s) / s).sum()  # 0.0 - x: no -0.0 on DAGs

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> tuple[Tensor, None]:
        W, LU = ctx.saved_tensors
        if not ctx.ok:
            return torch.full_like(W, math.nan), None
        d = W.shape[0]
        I = _eye(d, W)  # [d, d]
        Linv = torch.linalg.solve_triangular(LU, I, upper=False, unitriangular=True)  # [d, d]
        Minv = torch.linalg.solve_triangular(LU, Linv, upper=True)  # (sI - A)^{-1}, [d, d]
        return g * 2.0 * W * Minv.T, None


def logdet(W: Tensor, s: float = 1.0) -> Tensor:
    r"""DAGMA's log-determinant acyclicity function.

    .. math::

        h_s(W) = -\log\det(sI - W \circ W) + d \log s,

    defined on :math:`\{W : \rho(W \circ W) < s\}`, where :math:`sI - W\circ W`
    is a nonsingular M-matrix. There :math:`h_s(W) \ge 0` with equality iff
    ``W`` is a DAG, since
    :math:`h_s = \sum_{k \ge 1} \operatorname{tr}(A^k) / (k s^k)` with
    :math:`A = W \circ W`. The gradient (Bello et al. 2022) is

    .. math::

        \nabla h_s(W) = 2\, W \circ (sI - W \circ W)^{-\top}.

    Parameters
    ----------
    W : Tensor of shape (d, d)
        Weighted adjacency, ``W[i, j]`` is the weight of ``i -> j``; any real dtype.
    s : float
        Scale, ``s > 0`` (:class:`~dagforge.errors.ConfigError` otherwise).

    Returns
    -------
    Tensor
        Float64 scalar. Outside the domain (:math:`\rho(W\circ W) \ge s`) it is
        ``+inf`` and its gradient is all NaN, so a solver's non-finite checks
        fire; it never raises there. A non-finite ``W`` gives NaN. Use
        :func:`logdet_domain_ok` to test a point without computing ``h``.

    Notes
    -----
    Computed with one LU factorisation of :math:`M = sI - A` *without
    pivoting* (custom blocked algorithm on CPU, cuSOLVER ``pivot=False`` on
    CUDA): for this Z-matrix the elimination is sign-preserving off the
    diagonal, the pivots are all positive iff ``M`` is a nonsingular M-matrix
    (the domain test comes for free), and on a DAG every pivot is exactly
    ``s``, so ``h`` is exactly 0. ``torch.linalg.slogdet`` (partial pivoting)
    is badly wrong on DAGs with heavy paths (e.g. ``|W|`` in [1, 2], d = 100).
    The backward solves two triangular systems with the saved factors to form
    :math:`M^{-1}`.

    Float64 resolution: each pivot is stored relative to ``s``, so a cycle
    whose weight product :math:`\prod A_{ij}` is below about
    :math:`10^{-16} s^k` (``k`` its length) is absorbed and ``h`` reads 0
    (e.g. a 10-cycle of ``|w| = 0.1`` at ``s = 1``); :func:`poly` and
    :func:`spectral` still see it.
    """
    s = _check_s(s)
    W = _as_f64(W)
    if W.shape[0] == 0:
        return W.sum()
    return _LogDet.apply(W, s)


def logdet_domain_ok(W: Tensor, s: float = 1.0) -> bool:
    r"""Whether ``W`` lies in the domain of :func:`logdet`: :math:`\rho(W \circ W) < s`.

    Equivalently, the Z-matrix :math:`M = sI - W \circ W` is a nonsingular
    M-matrix, which holds iff all pivots of Gaussian elimination on ``M``
    *without pivoting* are positive (all leading principal minors positive;
    Berman & Plemmons, *Nonnegative Matrices in the Mathematical Sciences*,
    ch. 6, Thm. 2.3). Checked as:

    1. ``W`` finite, else False;
    2. a sufficient bound, :math:`O(d^2)`: :math:`\rho(A) \le \min(\|A\|_\infty,
       \|A\|_1)` (largest row / column sum), so a bound below ``s`` means True;
    3. otherwise the pivot signs of one no-pivot LU, :math:`O(d^3)`, the same
       factorisation :func:`logdet` uses (so calling :func:`logdet` and testing
       ``isfinite`` costs the same and also gives the value).

    Exact up to rounding: only points within about machine precision times the
    conditioning of ``M`` of the boundary :math:`\rho = s` can be misjudged.

    Parameters
    ----------
    W : Tensor of shape (d, d)
        Weighted adjacency.
    s : float
        Scale, ``s > 0``.

    Returns
    -------
    bool
    """
    s = _check_s(s)
    with torch.no_grad():
        W = _as_f64(W).detach()
        d = W.shape[0]
        if d == 0:
            return True
        if not bool(torch.isfinite(W).all()):
            return False
        A = W * W  # [d, d]
        bound = min(float(A.sum(dim=1).max()), float(A.sum(dim=0).max()))
        if bound * (1.0 + 4.0 * d * _EPS) < s:
            return True
        return _logdet_factor(W, s)[1]


# --------------------------------------------------------------------------- expm (NOTEARS)


class _Expm(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, W: Tensor) -> Tensor:  # W: [d, d] float64
        E = torch.linalg.matrix_exp(W * W)  # [d, d]
        ctx.save_for_backward(W, E)
        # sum of (E_ii - 1) rather than tr(E) - d: no rounding against d
        return (torch.diagonal(E) - 1.0).sum()

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Tensor:
        W, E = ctx.saved_tensors
        return g * 2.0 * W * E.T


def expm(W: Tensor) -> Tensor:
    r"""NOTEARS' matrix-exponential acyclicity function.

    .. math::

        h(W) = \operatorname{tr}\, e^{W \circ W} - d
             = \sum_{k \ge 1} \frac{\operatorname{tr}(A^k)}{k!}, \qquad A = W \circ W,

    zero iff ``W`` is a DAG (Zheng et al. 2018), with gradient

    .. math::

        \nabla h(W) = 2\, W \circ \left(e^{W \circ W}\right)^{\top}.

    Parameters
    ----------
    W : Tensor of shape (d, d)
        Weighted adjacency; any real dtype.

    Returns
    -------
    Tensor
        Float64 scalar.

    Notes
    -----
    ``torch.linalg.matrix_exp`` forward; the backward reuses :math:`e^{A}`
    (autograd through ``matrix_exp`` would evaluate a :math:`2d \times 2d`
    exponential). Defined everywhere, but :math:`e^{\rho(A)}` overflows float64
    once :math:`\rho(A) \gtrsim 709`; gradients grow like :math:`e^{\rho(A)}`.
    The value is :math:`\sum_i ((e^{A})_{ii} - 1)`, and each diagonal entry
    carries an error of a few units in the last place of 1 (about
    :math:`10^{-15}`): a 10-cycle of ``|w| = 0.5`` in d = 100
    (:math:`h \approx 2.6 \cdot 10^{-12}`) comes out positive but only to
    about 1 % relative accuracy, one of ``|w| = 0.1``
    (:math:`h \approx 2.8 \cdot 10^{-26}`) reads exactly 0. Exactly 0 on DAGs.
    """
    W = _as_f64(W)
    if W.shape[0] == 0:
        return W.sum()
    return _Expm.apply(W)


# --------------------------------------------------------------------------- poly (DAG-GNN)


def _power_minus_identity(X: Tensor, n: int) -> Tensor:
    """``(I + X)^n - I`` by binary exponentiation, never forming ``I + X``.

    With ``C_m = (I + X)^m - I``: ``C_{2m} = 2 C_m + C_m C_m`` and
    ``C_{a+b} = C_a + C_b + C_a C_b``. For ``X >= 0`` every operation adds
    non-negative numbers, so there is no cancellation and no renormalisation.
    """
    result: Tensor | None = None  # C for the bits consumed so far
    base = X  # C_{2^j}, [d, d]
    while n > 0:
        if n & 1:
            result = base if result is None else result + base + result @ base  # [d, d]
        n >>= 1
        if n:
            base = 2.0 * base + base @ base  # [d, d]
    return torch.zeros_like(X) if result is None else result


class _Poly(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, W: Tensor) -> Tensor:  # W: [d, d] float64
        d = W.shape[0]
        X = W * W / d  # [d, d]
        C = _power_minus_identity(X, d - 1)  # (I + X)^{d-1} - I, [d, d]
        ctx.save_for_backward(W, C)
        # tr((I + C)(I + X)) - d = tr C + tr X + sum(C ∘ X^T): all terms >= 0
        return torch.diagonal(C).sum() + torch.diagonal(X).sum() + (C * X.T).sum()

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Tensor:
        W, C = ctx.saved_tensors
        B = C + _eye(W.shape[0], W)  # (I + A/d)^{d-1}, [d, d]
        return g * 2.0 * W * B.T


def poly(W: Tensor) -> Tensor:
    r"""DAG-GNN's polynomial acyclicity function (Yu et al. 2019).

    .. math::

        h(W) = \operatorname{tr}\left(I + \tfrac{1}{d}\, W \circ W\right)^{d} - d
             = \sum_{k=1}^{d} \binom{d}{k} \frac{\operatorname{tr}(A^k)}{d^k},
             \qquad A = W \circ W,

    zero iff ``W`` is a DAG (a cycle has length at most ``d``), with gradient

    .. math::

        \nabla h(W) = 2\, W \circ \left[\left(I + \tfrac{1}{d} A\right)^{d-1}\right]^{\top}.

    Parameters
    ----------
    W : Tensor of shape (d, d)
        Weighted adjacency; any real dtype.

    Returns
    -------
    Tensor
        Float64 scalar.

    Notes
    -----
    :math:`(I + A/d)^{d-1} - I` is computed by binary exponentiation in about
    :math:`2\log_2 d` matrix products, *without* renormalisation and without
    ever forming ``I`` (see :func:`_power_minus_identity`); the value is then
    :math:`\operatorname{tr} C + \operatorname{tr} X + \sum_{ij} C_{ij} X_{ji}`
    with :math:`X = A/d`. Every term is a sum of non-negative numbers, so ``h``
    has small *relative* error even when it is tiny (no subtraction of ``d``):
    it is exactly 0 on DAGs and stays positive on any cycle whose contribution
    does not underflow below :math:`10^{-308}`. The backward reuses the saved
    power. Overflows only when :math:`(1 + \rho(A)/d)^d` does.
    """
    W = _as_f64(W)
    if W.shape[0] == 0:
        return W.sum()
    return _Poly.apply(W)


# --------------------------------------------------------------------------- spectral (SDCD)


class SpectralEstimate(NamedTuple):
    """Result of :func:`spectral_with_vectors`.

    Attributes
    ----------
    value : Tensor
        Float64 scalar, the estimate of :math:`\\rho(W \\circ W)` (differentiable).
    u, v : Tensor of shape (d,)
        Left and right Perron vectors per strongly connected component (each
        component's block has unit norm; zero on nodes on no cycle), detached,
        float64. Pass them back as ``u0`` / ``v0`` to warm-start the next call.
    """

    value: Tensor
    u: Tensor
    v: Tensor


class _Blocks(NamedTuple):
    idx: Tensor  # [k] nodes lying on a cycle, grouped by component
    comp: Tensor  # [k] component id of each, in 0..m-1
    m: int  # number of cyclic components


def _cyclic_blocks(A: Tensor) -> _Blocks | None:
    """Strongly connected components of ``A != 0`` that contain a cycle (None if a DAG)."""
    if bool((A.sum(dim=0) > 0).all()) and bool((A.sum(dim=1) > 0).all()):
        b = _one_block(A)
        if b is not None:
            return b
    return _scc_blocks(A)


def _one_block(A: Tensor) -> _Blocks | None:
    """The single component holding every node, if a few frontier steps prove there is one."""
    d = A.shape[0]
    dev = A.device
    # Fast path for dense graphs: one SCC iff node 0 reaches every node and every
    # node reaches node 0; a few boolean-frontier matvecs settle it when the
    # diameter is small. Otherwise fall back to Tarjan/Pearce on the CPU.
    fwd = torch.zeros(d, dtype=_F64, device=dev)
    fwd[0] = 1.0
    bwd = fwd.clone()
    for _ in range(6):
        fwd = ((A.T @ fwd + fwd) > 0).to(_F64)  # [d], nodes reachable from 0
        bwd = ((A @ bwd + bwd) > 0).to(_F64)  # [d], nodes that reach 0
        if bool(fwd.all()) and bool(bwd.all()):
            zeros = torch.zeros(d, dtype=torch.long, device=dev)
            return _Blocks(torch.arange(d, device=dev), zeros, 1)
    return None


def _scc_blocks(A: Tensor) -> _Blocks | None:
    """Cyclic strongly connected components via scipy (CPU)."""
    dev = A.device
    support = (A != 0).cpu().numpy()  # [d, d] bool
    n_comp, labels = connected_components(support, directed=True, connection="strong")
    sizes = np.bincount(labels, minlength=n_comp)
    cyclic = (sizes[labels] > 1) | np.diag(support)  # [d]
    nodes = np.flatnonzero(cyclic)
    if nodes.size == 0:
        return None
    order = nodes[np.argsort(labels[nodes], kind="stable")]
    _, comp = np.unique(labels[order], return_inverse=True)
    return _Blocks(
        torch.as_tensor(order, dtype=torch.long, device=dev),
        torch.as_tensor(comp, dtype=torch.long, device=dev),
        int(comp.max()) + 1,
    )


def _seg_sum(x: Tensor, comp: Tensor, m: int) -> Tensor:
    return x.new_zeros(m).index_add_(0, comp, x)  # [m]


def _seg_normalise(x: Tensor, comp: Tensor, m: int) -> Tensor:
    norm = _seg_sum(x * x, comp, m).sqrt()  # [m]
    return x / norm.clamp_min(torch.finfo(_F64).tiny)[comp]  # [k]


def _start_vector(x0: Tensor | None, d: int, b: _Blocks, like: Tensor) -> Tensor:
    """Strictly positive start vector on the cyclic nodes, unit norm per component."""
    k = b.idx.shape[0]
    if x0 is None:
        x = torch.ones(k, dtype=_F64, device=like.device)  # [k]
    else:
        if x0.shape != (d,):
            raise ConfigError(f"warm-start vector must have shape ({d},), got {tuple(x0.shape)}")
        x = x0.detach().to(device=like.device, dtype=_F64)[b.idx]  # [k]
        x = torch.nan_to_num(x, 0.0, 0.0, 0.0).abs()
        # entries that are 0 (e.g. nodes new to a cycle) get 1e-3 of their component's
        # largest entry (1 if it has none): positive start, the rest left untouched
        top = x.new_zeros(b.m).scatter_reduce(0, b.comp, x, reduce="amax")  # [m]
        fill = torch.where(top > 0, 1e-3 * top, torch.ones_like(top))  # [m]
        x = torch.where(x > 0, x, fill[b.comp])  # [k]
    return _seg_normalise(x, b.comp, b.m)


class _Spectral(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, W: Tensor, value: Tensor, u: Tensor, v: Tensor) -> Tensor:
        ctx.save_for_backward(W, u, v)  # u, v: [d] Perron vectors of the top component
        return value.clone()

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> tuple[Tensor, None, None, None]:
        W, u, v = ctx.saved_tensors
        uv = torch.dot(u, v)
        if not bool(uv > 0):  # acyclic: rho = 0, zero gradient by convention
            return torch.zeros_like(W), None, None, None
        G = torch.outer(u, v) / uv  # d rho / d A, [d, d]
        return g * 2.0 * W * G, None, None, None


def spectral_with_vectors(
    W: Tensor,
    n_iter: int = 100,
    u0: Tensor | None = None,
    v0: Tensor | None = None,
    tol: float = 1e-10,
) -> SpectralEstimate:
    r"""Spectral radius of :math:`W \circ W` by power iteration, with its Perron vectors.

    See :func:`spectral` for the mathematics; this form also returns the left
    and right Perron vectors, to warm-start the next call (``u0``, ``v0``).

    Parameters
    ----------
    W : Tensor of shape (d, d)
        Weighted adjacency; any real dtype.
    n_iter : int
        Maximum number of power-iteration steps (each: two matrix-vector products).
    u0, v0 : Tensor of shape (d,), optional
        Warm-start left / right vectors (e.g. from the previous call); their
        absolute values are used, zero entries replaced by a small positive
        value. Default: all ones.
    tol : float
        Stop early once no entry of the (unit-norm per component) vectors
        changes by more than ``tol`` in a step; 0 runs all ``n_iter`` steps.
        The value's error is roughly the square of the vectors' error.

    Returns
    -------
    SpectralEstimate
        ``(value, u, v)``.
    """
    if n_iter < 0:
        raise ConfigError(f"n_iter must be >= 0, got {n_iter}")
    if tol < 0:
        raise ConfigError(f"tol must be >= 0, got {tol}")
    W = _as_f64(W)
    d = W.shape[0]
    with torch.no_grad():
        A = W.detach() * W.detach()  # [d, d]
        zero_d = torch.zeros(d, dtype=_F64, device=W.device)
        b = _cyclic_blocks(A) if d else None
    if b is None:  # a DAG: rho = 0 exactly, zero gradient
        value = torch.zeros((), dtype=_F64, device=W.device)
        return SpectralEstimate(_Spectral.apply(W, value, zero_d, zero_d), zero_d, zero_d)
    with torch.no_grad():
        if b.idx.shape[0] == d and b.m == 1:
            Ac = A  # one component holding every node, [d, d]
        else:
            same = b.comp[:, None] == b.comp[None, :]  # [k, k]
            Ac = A[b.idx][:, b.idx] * same  # block-diagonal, [k, k]
        u = _start_vector(u0, d, b, W)  # [k]
        v = _start_vector(v0, d, b, W)  # [k]
        Av = Ac @ v  # [k]
        rho = _seg_sum(u * Av, b.comp, b.m) / _seg_sum(u * v, b.comp, b.m)  # [m]
        for _ in range(n_iter):
            # shift by the current estimate: same Perron vectors, and a periodic
            # component (a pure k-cycle) becomes primitive, so the iteration converges
            sigma = rho[b.comp]  # [k]
            v_new = _seg_normalise(Av + sigma * v, b.comp, b.m)  # [k]
            u_new = _seg_normalise(Ac.T @ u + sigma * u, b.comp, b.m)  # [k]
            change = torch.maximum((v_new - v).abs().max(), (u_new - u).abs().max())
            u, v = u_new, v_new
            Av = Ac @ v  # [k]
            rho = _seg_sum(u * Av, b.comp, b.m) / _seg_sum(u * v, b.comp, b.m)  # [m]
            if tol > 0 and bool(change <= tol):
                break
        top = int(torch.argmax(rho))
        in_top = b.comp == top  # [k]
        u_full = zero_d.clone()
        v_full = zero_d.clone()
        u_full[b.idx] = u
        v_full[b.idx] = v
        u_top = zero_d.clone()
        v_top = zero_d.clone()
        u_top[b.idx[in_top]] = u[in_top]
        v_top[b.idx[in_top]] = v[in_top]
        value = rho[top]
    return SpectralEstimate(_Spectral.apply(W, value, u_top, v_top), u_full, v_full)


def spectral(
    W: Tensor,
    n_iter: int = 100,
    u0: Tensor | None = None,
    v0: Tensor | None = None,
    tol: float = 1e-10,
) -> Tensor:
    r"""SDCD's spectral acyclicity function: the spectral radius of :math:`W \circ W`.

    .. math::

        h(W) = \rho(A), \qquad A = W \circ W,

    zero iff ``W`` is a DAG (``A`` nilpotent). For a simple Perron root with
    right / left eigenvectors :math:`A v = \rho v`, :math:`u^\top A = \rho u^\top`,

    .. math::

        \frac{\partial \rho}{\partial A} = \frac{u v^\top}{u^\top v}, \qquad
        \nabla h(W) = 2\, W \circ \frac{u v^\top}{u^\top v}.

    Parameters
    ----------
    W : Tensor of shape (d, d)
        Weighted adjacency; any real dtype.
    n_iter, u0, v0, tol
        As in :func:`spectral_with_vectors` (which also returns the vectors).

    Returns
    -------
    Tensor
        Float64 scalar :math:`\hat\rho = u^\top A v / u^\top v` for the final
        vectors of the dominant component; the backward is the formula above
        with those vectors (the exact gradient of :math:`\hat\rho` at fixed
        ``u``, ``v``, and of :math:`\rho` once converged).

    Notes
    -----
    *Components.* :math:`\rho(A)` is the largest spectral radius over the
    strongly connected components of the graph (``A`` is block triangular),
    each of which is irreducible with a positive, simple Perron root. The
    components are found on the CPU (a quick dense test, else
    ``scipy.sparse.csgraph``; one host sync on GPU); nodes on no cycle are
    dropped, so the value and gradient are exactly 0 on a DAG (where
    :math:`\rho` is not differentiable; 0 is the convention). The
    power iteration runs on all cyclic components at once, normalised per
    component, with the shift :math:`A + \hat\rho I` (same Perron vectors,
    makes a periodic component such as a plain k-cycle primitive; without it
    the iterates of a cycle with unequal weights never converge and the
    two-sided estimate can be off by orders of magnitude). The gradient on
    edges outside the dominant component is 0, which is exact: an edge
    outside it lies on no cycle through it.

    *Bounded gradient.* :math:`\partial\rho/\partial A` is homogeneous of
    degree 0: scaling ``A`` by ``c`` leaves it unchanged, so unlike
    :func:`expm` (:math:`\sim e^{\rho}`) or :func:`poly` it does not grow with
    the radius. With unit :math:`u, v \ge 0` every entry is at most
    :math:`1/(u^\top v)`, the eigenvalue condition number; that is 1 for a
    normal (e.g. symmetric) ``A`` and large only for a strongly non-normal
    component (a 2-cycle with weights ``a``, ``b`` gives entries
    :math:`\tfrac12\sqrt{a/b}`). The gradient w.r.t. ``W`` grows only through the
    factor ``2 W``.

    *Accuracy.* Converges like :math:`|\lambda_2 + \hat\rho| / (2\rho)` per
    step (:math:`\cos(\pi/k)` for a k-cycle). With a fixed ``n_iter`` it is an
    estimate; pass ``u0``, ``v0`` (or use :class:`SpectralRadius`) to
    carry the vectors between optimisation steps, as SDCD does. Two
    components with the same radius make :math:`\rho` non-differentiable; the
    first is used.
    """
    return spectral_with_vectors(W, n_iter=n_iter, u0=u0, v0=v0, tol=tol).value


class SpectralRadius:
    """Warm-started :func:`spectral`: keeps the last Perron vectors between calls.

    The only stateful object in this module. Each call runs ``n_iter`` power
    iterations starting from the previous call's vectors, which is how SDCD
    keeps the per-step cost at a few matrix-vector products.

    Parameters
    ----------
    n_iter : int
        Power-iteration steps per call (after the first call, which uses
        ``first_n_iter``).
    first_n_iter : int
        Steps for the first call (no vectors to start from yet).
    tol : float
        Early-stopping tolerance, as in :func:`spectral_with_vectors`.

    Examples
    --------
    >>> h = SpectralRadius(n_iter=5)
    >>> W = torch.tensor([[0.0, 2.0], [0.5, 0.0]])
    >>> round(float(h(W)), 6)  # rho([[0, 4], [0.25, 0]]) = 1
    1.0
    """

    def __init__(self, n_iter: int = 10, first_n_iter: int = 100, tol: float = 1e-10) -> None:
        self.n_iter = n_iter
        self.first_n_iter = first_n_iter
        self.tol = tol
        self.u: Tensor | None = None
        self.v: Tensor | None = None

    def reset(self) -> None:
        """Forget the stored vectors."""
        self.u = None
        self.v = None

    def __call__(self, W: Tensor) -> Tensor:
        """:math:`\\rho(W \\circ W)` (float64 scalar, differentiable), updating the vectors."""
        d = W.shape[0]
        if self.u is not None and self.u.shape != (d,):
            self.reset()
        warm = self.u is not None
        est = spectral_with_vectors(
            W,
            n_iter=self.n_iter if warm else self.first_n_iter,
            u0=self.u,
            v0=self.v,
            tol=self.tol,
        )
        self.u, self.v = est.u, est.v
        return est.value

    def state_dict(self) -> dict[str, Tensor | None]:
        """The stored vectors (for checkpoints)."""
        return {"u": self.u, "v": self.v}

    def load_state_dict(self, state: dict[str, Tensor | None]) -> None:
        """Restore vectors saved by :meth:`state_dict`."""
        self.u, self.v = state["u"], state["v"]


# --------------------------------------------------------------------------- registry


def _finite(W: Tensor, **kwargs: Any) -> bool:
    """Domain test of a function defined everywhere: True for any finite ``W``."""
    return bool(torch.isfinite(_as_f64(W).detach()).all())


@dataclass(frozen=True)
class ConstraintSpec:
    """A registry entry: the function and where it is defined.

    Attributes
    ----------
    fn : Callable
        ``fn(W, **options) -> float64 scalar tensor``.
    domain : str
        Where ``fn`` is defined (finite and smooth), in words.
    domain_ok : Callable
        ``domain_ok(W, **options) -> bool``; takes the same keyword options as ``fn``.
    reference : str
        Where the function comes from.
    """

    fn: Callable[..., Tensor]
    domain: str
    domain_ok: Callable[..., bool]
    reference: str


CONSTRAINT_SPECS: dict[str, ConstraintSpec] = {
    "logdet": ConstraintSpec(
        logdet,
        "rho(W∘W) < s (sI - W∘W a nonsingular M-matrix); +inf outside",
        logdet_domain_ok,
        "Bello, Aragam, Ravikumar 2022 (DAGMA)",
    ),
    "expm": ConstraintSpec(
        expm,
        "every W (float64 overflow once rho(W∘W) > ~709)",
        _finite,
        "Zheng, Aragam, Ravikumar, Xing 2018 (NOTEARS)",
    ),
    "poly": ConstraintSpec(
        poly,
        "every W (float64 overflow once (1 + rho(W∘W)/d)^d > ~1e308)",
        _finite,
        "Yu, Chen, Gao, Yu 2019 (DAG-GNN)",
    ),
    "spectral": ConstraintSpec(
        spectral,
        "every W (not differentiable on DAGs or with tied dominant components)",
        _finite,
        "Nazaret, Hong, Azizi, Blei 2024 (SDCD)",
    ),
}

#: Name -> acyclicity function.
CONSTRAINTS: dict[str, Constraint] = {name: spec.fn for name, spec in CONSTRAINT_SPECS.items()}


def _spec(name: str) -> ConstraintSpec:
    try:
        return CONSTRAINT_SPECS[name]
    except (KeyError, TypeError):
        known = ", ".join(sorted(CONSTRAINT_SPECS))
        msg = f"unknown acyclicity constraint {name!r}; choose one of: {known}"
        raise ConfigError(msg) from None


def get_constraint(name: ConstraintName | str) -> Constraint:
    """The acyclicity function called ``name`` (see :data:`ConstraintName`).

    Raises
    ------
    ConfigError
        If ``name`` is not registered.
    """
    return _spec(name).fn


def constraint_options(name: ConstraintName | str) -> list[str]:
    """Names of the keyword options the constraint ``name`` takes (``["s"]`` for ``logdet``)."""
    return [p for p in inspect.signature(_spec(name).fn).parameters if p != "W"]


def acyclicity_fn(name: ConstraintName | str, **options: Any) -> Constraint:
    """The function ``name`` with keyword ``options`` bound: ``h = acyclicity_fn("logdet", s=0.9)``.

    Parameters
    ----------
    name : {"logdet", "expm", "poly", "spectral"}
        Registered constraint.
    **options
        Keyword options of that function (``s`` for ``logdet``; ``n_iter``,
        ``u0``, ``v0``, ``tol`` for ``spectral``; none for ``expm``, ``poly``).

    Returns
    -------
    Constraint
        ``h(W) -> float64 scalar tensor``.

    Raises
    ------
    ConfigError
        For an unknown ``name``, or an option the function does not take (an
        option is never silently ignored: ``s`` means nothing to ``expm``).
    """
    fn = _spec(name).fn
    if not options:
        return fn
    params = constraint_options(name)
    unknown = sorted(set(options) - set(params))
    if unknown:
        takes = ", ".join(params) if params else "no options"
        raise ConfigError(f"constraint {name!r} takes no option {unknown}; it takes: {takes}")
    if "s" in options:
        _check_s(options["s"])
    return functools.partial(fn, **options)


def domain_ok(name: ConstraintName | str, W: Tensor, **options: Any) -> bool:
    """Whether constraint ``name`` is defined at ``W`` (``options`` as for the function).

    ``logdet`` is defined only where ``rho(W∘W) < s`` (:func:`logdet_domain_ok`);
    ``expm``, ``poly`` and ``spectral`` at every finite ``W`` (their options are
    accepted and ignored).
    """
    return _spec(name).domain_ok(W, **options)


def describe_domains() -> dict[str, str]:
    """Name -> where that constraint is defined, in words."""
    return {name: spec.domain for name, spec in CONSTRAINT_SPECS.items()}
