r"""DAG-GNN style variational autoencoder around a linear SEM (Yu, Chen, Gao, Yu 2019).

DAG-GNN generalises the linear SEM :math:`X = A^\top X + Z` (rows of ``X`` are
variables there, so :math:`X_j = \sum_i A_{ij} X_i + Z_j` and ``A[i, j]`` is the
edge ``i -> j``: the dagforge convention) by nonlinear maps on either side:

.. math::

    Z = (I - A^\top)\, f_{\mathrm{enc}}(X) \quad \text{(encoder)}, \qquad
    \hat X = f_{\mathrm{dec}}\big((I - A^\top)^{-1} Z\big) \quad \text{(decoder)},

with :math:`f_{\mathrm{enc}}, f_{\mathrm{dec}}` small MLPs applied to every
variable with shared weights (a variable's value is a 1-dimensional feature,
its latent a ``latent``-dimensional one). With rows of ``X`` as samples
(``X`` of shape ``[n, d]``), the encoder map is, per sample ``r`` and variable ``j``,

.. math::  Z_{rj} = (H_{rj} + w) - \sum_i A_{ij} (H_{ri} + w) - w, \qquad H = f_{\mathrm{enc}}(X),

where ``w`` is DAG-GNN's learned shift ``Wa``; the decoder inverts it with a linear
solve (never an explicit inverse).

The loss is the negative evidence lower bound per sample:

.. math::

    -\mathrm{ELBO} = \underbrace{\tfrac12 \|X - \hat X\|^2}_{\text{reconstruction}}
    + \underbrace{\mathrm{KL}\big(q(Z \mid X) \,\|\, N(0, I)\big)}_{\text{latent}}
    \;[+\; \kappa\, \mathrm{KL}_{\text{edges}}],

averaged over samples, with unit decoder variance. By default
(``variational=False``, as in DAG-GNN's reference code) the posterior is
:math:`N(Z, I)` and the decoder sees its mean, so the latent KL is
:math:`\frac12\|Z\|^2` and the objective is deterministic. With
``variational=True`` the posterior has a learned log-variance per variable and
latent dimension, and training samples :math:`Z + \sigma \epsilon`.

``soft=True`` replaces the adjacency by edge probabilities times edge weights,
:math:`A = P \circ \Omega` with :math:`P = \operatorname{sigmoid}(\text{logits})`.
In training mode every forward pass samples a relaxed Bernoulli (Gumbel-sigmoid,
Maddison et al. 2017) edge mask
:math:`B = \operatorname{sigmoid}((\text{logits} + \log U - \log(1 - U)) / \tau)`,
:math:`U \sim U(0, 1)`, and uses :math:`B \circ \Omega`; in evaluation mode it
uses :math:`P \circ \Omega` (deterministic). The edge KL
:math:`\sum_{ij} \mathrm{KL}(\mathrm{Bern}(P_{ij}) \| \mathrm{Bern}(\pi))` with
prior ``edge_prior`` = :math:`\pi` is weighted by ``edge_kl_weight`` =
:math:`\kappa` (``1 / N`` for the ELBO of a data set of ``N`` rows, since the
graph is shared by all of them). :meth:`DAGGNN.edge_probabilities` gives
:math:`P` for selection; read it as a ranking, never through a fixed 0.5 cut.

Note what the deterministic objective implies: the decoder sees
:math:`(I - A^\top)^{-1} Z = f_{\mathrm{enc}}(X)`, so ``A`` cancels from the
reconstruction and acts only through the latent KL :math:`\frac12\|(I - A^\top)
H\|^2`, a least-squares linear SEM on the learned features ``H`` (as in DAG-GNN's
code). Left free, the encoder can shrink ``H`` (and the decoder scale it back) until
that term, and with it the graph, vanishes; ``standardize_latent=True`` (default)
standardises each variable's features over the rows of the batch,
:math:`H_{:j} \leftarrow (H_{:j} - \bar H_j) / \operatorname{sd}(H_{:j})`, which rules
that out (at the price of the variance hint that orients equal-variance models).

:meth:`DAGGNN.adjacency` is the weighted adjacency the acyclicity function sees:
``A`` (hard) or :math:`P \circ \Omega` (soft), always with a zero diagonal.
"""

from __future__ import annotations

import math
from typing import Literal, NamedTuple

import numpy as np
import torch
from torch import Tensor, nn

from dagforge.errors import ConfigError
from dagforge.models.mlp import ACTIVATIONS, edge_mask

__all__ = ["DAGGNN", "GNNOutput"]

GNNActivation = Literal["relu", "elu", "tanh", "sigmoid", "softplus"]


class GNNOutput(NamedTuple):
    """What :meth:`DAGGNN.forward` returns.

    Attributes
    ----------
    x_hat : Tensor of shape (n, d)
        Reconstruction.
    z_mean : Tensor of shape (n, d, latent)
        Posterior mean of the latent noise :math:`Z = (I - A^\\top) f_{enc}(X)`.
    z_logvar : Tensor of shape (d, latent), or None
        Posterior log-variance (``variational=True`` only).
    adjacency : Tensor of shape (d, d)
        The adjacency used in this pass (a Gumbel-sigmoid sample in soft training mode).
    """

    x_hat: Tensor
    z_mean: Tensor
    z_logvar: Tensor | None
    adjacency: Tensor


def _linear(m_in: int, m_out: int, gen: torch.Generator, dtype: torch.dtype) -> nn.Linear:
    """``nn.Linear(m_in, m_out)`` initialised ``U(-1/sqrt(m_in), 1/sqrt(m_in))`` from ``gen``."""
    layer = nn.Linear(m_in, m_out, dtype=dtype)
    bound = 1.0 / math.sqrt(m_in)
    with torch.no_grad():
        for p in (layer.weight, layer.bias):
            p.copy_((2.0 * torch.rand(p.shape, generator=gen, dtype=dtype) - 1.0) * bound)
    return layer


class DAGGNN(nn.Module):
    """DAG-GNN style model (see the module docstring for the math).

    Parameters
    ----------
    d : int
        Number of variables.
    hidden : int
        Width of the hidden layer of the encoder and of the decoder MLP (DAG-GNN: 64;
        16 here: the same results on MLP-SEM d=10 in less time).
    latent : int
        Latent dimension per variable (DAG-GNN: 1).
    activation : {"relu", "elu", "tanh", "sigmoid", "softplus"}
        Hidden activation of both MLPs (DAG-GNN: ReLU).
    soft : bool
        Adjacency of edge probabilities times weights, with Gumbel-sigmoid samples in
        training mode (see module docstring).
    temperature : float
        Gumbel-sigmoid temperature :math:`\\tau` (soft only).
    init_prob : float
        Initial edge probability (soft only).
    edge_prior : float
        Prior edge probability :math:`\\pi` of the edge KL (soft only).
    edge_kl_weight : float
        Weight :math:`\\kappa` of the edge KL per sample; ``1 / N`` for the ELBO of
        ``N`` rows; 0 switches it off (soft only).
    variational : bool
        Learned posterior variance and sampled latents in training mode.
    standardize_latent : bool
        Standardise the encoder features per variable over the batch's rows (see the
        module docstring).
    lambda2 : float
        Weight of :math:`\\frac{\\lambda_2}{2}\\sum\\theta^2` on the MLP weights.
    mask : array of shape (d, d), optional
        Knowledge mask (1: edge ``i -> j`` allowed, 0: forbidden); diagonal always 0.
    random_state : int, optional
        Seed of the initial weights and of the sampling generator (``None``: 0).
    dtype : torch.dtype
        Parameter dtype.
    """

    def __init__(
        self,
        d: int,
        *,
        hidden: int = 16,
        latent: int = 1,
        activation: GNNActivation = "relu",
        soft: bool = False,
        temperature: float = 0.5,
        init_prob: float = 0.5,
        edge_prior: float = 0.1,
        edge_kl_weight: float = 0.0,
        variational: bool = False,
        standardize_latent: bool = True,
        lambda2: float = 0.0,
        mask: np.ndarray | Tensor | None = None,
        random_state: int | None = None,
        dtype: torch.dtype = torch.float64,
    ) -> None:
        super().__init__()
        if d < 1 or hidden < 1 or latent < 1:
            raise ConfigError(f"d, hidden and latent must be >= 1, got {d}, {hidden}, {latent}")
        if activation not in ACTIVATIONS:
            raise ConfigError(f"unknown activation {activation!r}; choose one of "
                              f"{sorted(ACTIVATIONS)}")
        if not temperature > 0:
            raise ConfigError(f"temperature must be > 0, got {temperature}")
        for name, p in (("init_prob", init_prob), ("edge_prior", edge_prior)):
            if not 0 < p < 1:
                raise ConfigError(f"{name} must be in (0, 1), got {p}")
        if not (edge_kl_weight >= 0 and lambda2 >= 0):
            raise ConfigError("edge_kl_weight and lambda2 must be >= 0")
        seed = 0 if random_state is None else int(random_state)
        init_gen = torch.Generator().manual_seed(seed)
        #: Source of the Gumbel-sigmoid and latent samples (CPU; its state is checkpointed).
        self.generator = torch.Generator().manual_seed(seed + 1)
        self.soft = bool(soft)
        self.variational = bool(variational)
        self.standardize_latent = bool(standardize_latent)
        self.temperature = float(temperature)
        self.edge_prior = float(edge_prior)
        self.edge_kl_weight = float(edge_kl_weight)
        self.lambda2 = float(lambda2)
        self._act = ACTIVATIONS[activation]
        self.register_buffer("mask", edge_mask(d, mask, dtype))  # [d, d]
        if self.soft:
            logit = math.log(init_prob / (1.0 - init_prob))
            self.edge_logits = nn.Parameter(torch.full((d, d), logit, dtype=dtype))  # [d, d]
            self.edge_weight = nn.Parameter(torch.zeros(d, d, dtype=dtype))  # [d, d]
        else:
            self.adj = nn.Parameter(torch.zeros(d, d, dtype=dtype))  # [d, d]
        self.enc1 = _linear(1, hidden, init_gen, dtype)
        self.enc2 = _linear(hidden, latent, init_gen, dtype)
        self.dec1 = _linear(latent, hidden, init_gen, dtype)
        self.dec2 = _linear(hidden, 1, init_gen, dtype)
        self.shift = nn.Parameter(torch.zeros(latent, dtype=dtype))  # DAG-GNN's Wa, [latent]
        self.z_logvar = (nn.Parameter(torch.zeros(d, latent, dtype=dtype))  # [d, latent]
                         if self.variational else None)

    @property
    def d(self) -> int:
        """Number of variables."""
        return self.mask.shape[0]

    # ------------------------------------------------------------------ graph
    def edge_probabilities(self) -> Tensor:
        """Edge probabilities ``P[i, j]`` of ``i -> j`` (soft); for a hard model the
        indicator ``A != 0``. Shape (d, d), zero diagonal."""
        if self.soft:
            return torch.sigmoid(self.edge_logits) * self.mask
        return (self.adj * self.mask != 0).to(self.adj.dtype)

    def adjacency(self) -> Tensor:
        """Weighted adjacency for the acyclicity function: ``A`` (hard) or ``P * Omega``
        (soft, deterministic whatever the mode), shape (d, d), ``A[i, j]``: ``i -> j``."""
        if self.soft:
            return torch.sigmoid(self.edge_logits) * self.edge_weight * self.mask
        return self.adj * self.mask

    def _sampled_adjacency(self) -> Tensor:
        """The adjacency of this forward pass (Gumbel-sigmoid sample in soft training mode)."""
        if not (self.soft and self.training):
            return self.adjacency()
        u = torch.rand(self.edge_logits.shape, generator=self.generator,
                       dtype=self.edge_logits.dtype).to(self.edge_logits.device)  # [d, d]
        u = u.clamp(1e-12, 1.0 - 1e-12)
        noise = torch.log(u) - torch.log1p(-u)  # logistic, [d, d]
        sample = torch.sigmoid((self.edge_logits + noise) / self.temperature)  # [d, d]
        return sample * self.edge_weight * self.mask

    # ------------------------------------------------------------------ model
    def forward(self, X: Tensor) -> GNNOutput:
        """Encode, propagate through the graph, decode; ``X`` of shape (n, d)."""
        n, d = X.shape
        A = self._sampled_adjacency()  # [d, d]
        H = self.enc2(self._act(self.enc1(X.unsqueeze(-1))))  # [n, d, latent]
        if self.standardize_latent:
            H = (H - H.mean(dim=0)) / torch.sqrt(H.var(dim=0, unbiased=False) + 1e-8)
        Hs = H + self.shift  # [n, d, latent]
        # Z = (I - A^T)(H + w) - w: Z[r, j] = Hs[r, j] - sum_i A[i, j] Hs[r, i]
        z_mean = Hs - torch.einsum("ij,rik->rjk", A, Hs) - self.shift  # [n, d, latent]
        z = z_mean
        if self.variational and self.training:
            eps = torch.randn(z_mean.shape, generator=self.generator,
                              dtype=z_mean.dtype).to(z_mean.device)  # [n, d, latent]
            z = z_mean + torch.exp(0.5 * self.z_logvar) * eps  # type: ignore[operator]
        # Y = (I - A^T)^{-1} (Z + w) - w, solved on the variable axis for all rows at once
        m = z.shape[-1]
        rhs = (z + self.shift).permute(1, 0, 2).reshape(d, n * m)  # [d, n * latent]
        eye = torch.eye(d, dtype=A.dtype, device=A.device)
        Y = torch.linalg.solve(eye - A.T, rhs)  # [d, n * latent]
        Y = Y.reshape(d, n, m).permute(1, 0, 2) - self.shift  # [n, d, latent]
        x_hat = self.dec2(self._act(self.dec1(Y))).squeeze(-1)  # [n, d]
        return GNNOutput(x_hat=x_hat, z_mean=z_mean, z_logvar=self.z_logvar, adjacency=A)

    def kl_latent(self, out: GNNOutput) -> Tensor:
        r"""Latent KL per sample, :math:`\frac12\sum_{jk}(\mu^2 + e^{v} - v - 1)`, row mean."""
        n = out.z_mean.shape[0]
        kl = 0.5 * (out.z_mean**2).sum() / n
        if out.z_logvar is not None:
            lv = out.z_logvar  # [d, latent]
            kl = kl + 0.5 * (torch.exp(lv) - lv - 1.0).sum()
        return kl

    def kl_edges(self) -> Tensor:
        r""":math:`\sum_{ij} \mathrm{KL}(\mathrm{Bern}(P_{ij}) \| \mathrm{Bern}(\pi))` over
        allowed edges (0 for a hard model)."""
        if not self.soft:
            return torch.zeros((), dtype=self.adj.dtype, device=self.adj.device)
        logp = nn.functional.logsigmoid(self.edge_logits)  # [d, d]
        log1mp = nn.functional.logsigmoid(-self.edge_logits)  # [d, d]
        p = torch.exp(logp)
        pi = self.edge_prior
        kl = p * (logp - math.log(pi)) + (1 - p) * (log1mp - math.log1p(-pi))  # [d, d]
        return (kl * self.mask).sum()

    def l2_penalty(self) -> Tensor:
        r""":math:`\frac12\sum\theta^2` over the encoder and decoder weight matrices."""
        return 0.5 * sum((lin.weight**2).sum()
                         for lin in (self.enc1, self.enc2, self.dec1, self.dec2))  # type: ignore[return-value]

    def loss(self, X: Tensor) -> Tensor:
        """Negative ELBO per sample on rows ``X`` (n, d), plus the edge KL and L2 terms."""
        out = self(X)
        recon = 0.5 * ((X - out.x_hat) ** 2).sum() / X.shape[0]
        value = recon + self.kl_latent(out)
        if self.soft and self.edge_kl_weight > 0:
            value = value + self.edge_kl_weight * self.kl_edges()
        if self.lambda2 > 0:
            value = value + self.lambda2 * self.l2_penalty()
        return value

    def l1_parameters(self) -> list[Tensor]:
        """Parameters carrying the L1 penalty: ``[adj]`` (hard) or ``[edge_weight]`` (soft)."""
        return [self.edge_weight] if self.soft else [self.adj]
