r"""SDCD's spectral acyclicity function :math:`\rho(W \circ W)`, by power iteration.

:func:`spectral` is a pure function; :class:`SpectralRadius` is the one stateful
helper of :mod:`dagforge.constraints`: it carries the Perron vectors from one
call to the next, as SDCD does.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import torch
from scipy.sparse.csgraph import connected_components
from torch import Tensor

from dagforge.constraints.base import F64, as_f64
from dagforge.errors import ConfigError

__all__ = ["SpectralEstimate", "SpectralRadius", "spectral", "spectral_with_vectors"]


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
    fwd = torch.zeros(d, dtype=F64, device=dev)
    fwd[0] = 1.0
    bwd = fwd.clone()
    for _ in range(6):
        fwd = ((A.T @ fwd + fwd) > 0).to(F64)  # [d], nodes reachable from 0
        bwd = ((A @ bwd + bwd) > 0).to(F64)  # [d], nodes that reach 0
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
    return x / norm.clamp_min(torch.finfo(F64).tiny)[comp]  # [k]


def _start_vector(x0: Tensor | None, d: int, b: _Blocks, like: Tensor) -> Tensor:
    """Strictly positive start vector on the cyclic nodes, unit norm per component."""
    k = b.idx.shape[0]
    if x0 is None:
        x = torch.ones(k, dtype=F64, device=like.device)  # [k]
    else:
        if x0.shape != (d,):
            raise ConfigError(f"warm-start vector must have shape ({d},), got {tuple(x0.shape)}")
        x = x0.detach().to(device=like.device, dtype=F64)[b.idx]  # [k]
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
    W = as_f64(W)
    d = W.shape[0]
    with torch.no_grad():
        A = W.detach() * W.detach()  # [d, d]
        zero_d = torch.zeros(d, dtype=F64, device=W.device)
        b = _cyclic_blocks(A) if d else None
    if b is None:  # a DAG: rho = 0 exactly, zero gradient
        value = torch.zeros((), dtype=F64, device=W.device)
        return SpectralEstimate(_Spectral.apply(W, value, zero_d, zero_d), zero_d, zero_d)
    with torch.no_grad():
        if b.idx.shape[0] == d and b.m == 1:
            Ac = A  # one component holding every node, [d, d]
        else:
            same = b.comp[:, None] == b.comp[None, :]  # [k, k]
            Ac = A[b.idx][:, b.idx] * same  # block-diagonal, [k, k]
        u = _start_vector(u0, d, b, W)  # [k]
        v = _start_vector(v0, d, b, W)  # [k]
        u, v, rho = _power_iteration(Ac, u, v, b, n_iter, tol)
        top = int(torch.argmax(rho))
        u_full, u_top = _scatter(u, b, top, zero_d)
        v_full, v_top = _scatter(v, b, top, zero_d)
        value = rho[top]
    return SpectralEstimate(_Spectral.apply(W, value, u_top, v_top), u_full, v_full)


def _power_iteration(
    Ac: Tensor, u: Tensor, v: Tensor, b: _Blocks, n_iter: int, tol: float
) -> tuple[Tensor, Tensor, Tensor]:
    """Shifted two-sided power iteration on the block-diagonal ``Ac`` ([k, k]).

    Returns the left / right vectors ([k], unit norm per component) and the
    estimate of each component's radius ([m]).
    """
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
    return u, v, rho


def _scatter(x: Tensor, b: _Blocks, top: int, zero_d: Tensor) -> tuple[Tensor, Tensor]:
    """The cyclic nodes' vector ``x`` ([k]) on all ``d`` nodes, and on the dominant
    component ``top`` only (zero elsewhere), both [d]."""
    full = zero_d.clone()
    full[b.idx] = x
    in_top = b.comp == top  # [k]
    on_top = zero_d.clone()
    on_top[b.idx[in_top]] = x[in_top]
    return full, on_top


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

