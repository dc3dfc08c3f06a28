r"""DAG-GNN style models: a graph-propagation SEM with learned encoder and decoder MLPs.

Convention (as everywhere in dagforge): ``A[i, j] != 0`` is the edge ``i -> j``.
Rows of ``X`` (shape ``[n, d]``) are samples.

Two propagations share one adjacency parametrisation (hard or soft, below):

``propagation="message"`` (default): message passing along the edges
--------------------------------------------------------------------

Every variable sends an ``m``-dimensional message (``m`` = ``latent``) computed by
its own encoder MLP, a child sums its parents' messages weighted by the edge
weights, and its own decoder MLP turns the sum into its prediction:

.. math::

    H_i = \operatorname{std}\big(f_i(\tilde X_i)\big) \in \mathbb{R}^m, \qquad
    S_j = \sum_i A_{ij} H_i, \qquad
    \hat X_j = g_j(S_j), \qquad X_j = \hat X_j + Z_j,

with :math:`\tilde X_i` the column standardised over the rows of the batch,
:math:`f_i: \mathbb{R} \to \mathbb{R}^m` (one hidden layer of ``hidden`` units),
:math:`\operatorname{std}` the standardisation of each message component over
the rows, and :math:`g_j: \mathbb{R}^m \to \mathbb{R}` (one hidden layer). This is
the nonlinear form of DAG-GNN's propagation: there the encoder computes the noise
:math:`Z = (I - A^\top) H` and the decoder inverts it; here the encoder computes
the noise :math:`Z_j = X_j - g_j(\sum_i A_{ij} H_i)` (the nonlinear analogue of
:math:`(I - A^\top)`) and the decoder is its inverse, solved along a topological
order. Because that inverse reproduces ``X`` exactly, the negative ELBO with a
standard normal prior on ``Z`` (equal noise variances) reduces, up to constants,
to DAG-GNN's latent term :math:`\frac12\|Z\|^2` per sample, i.e.
:math:`\frac{1}{2n}\|X - \hat X\|_F^2` (``loss="ls"``; ``"nll"``: one profiled noise
variance per variable, :func:`~dagforge.models.mlp.gaussian_nll`). Measured on MLP-SEM
ER2 data: ``docs/tuning.md#gnn-defaults``.

With ``variational=True`` the messages are latent codes with posterior
:math:`q(H_i \mid X_i) = N(\operatorname{std}(f_i(\tilde X_i)), \operatorname{diag}
\sigma_i^2)` (one learned log-variance per variable and component) and prior
:math:`N(0, I)`; training mode samples :math:`H_i + \sigma_i \epsilon` and the loss
adds :math:`\mathrm{KL}(q \| N(0, I))` per sample (a noisy, capacity-limited channel
along the edges; evaluation mode uses the means).

Why the two standardisations: the messages' scale would otherwise trade against
``A`` (halve ``A[i, :]``, double :math:`f_i`), and the L1 penalty on ``A`` would
drive ``A`` to zero and the messages to infinity; the input standardisation lets
one initialisation fit any data scale (the target :math:`X_j` stays raw, so the
equal-variance loss keeps its hint on the order). The remaining trade between
``A[:, j]`` and the first decoder layer of :math:`g_j` is fixed by the L2 penalty
:math:`\frac{\lambda_2}{2}\sum\theta^2` on the decoder weights (as for
:class:`~dagforge.models.mlp.MLPSEM`).

``propagation="linear"``: DAG-GNN's variational autoencoder (Yu et al. 2019), see
:mod:`dagforge.models.gnn_linear`.

Hard and soft adjacency
-----------------------

``soft=False``: ``A`` is a free parameter (``adj``), zero at the start (the empty
graph). ``soft=True``: edge probabilities times edge weights,
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
:math:`P` on the edges whose weight the L1 penalty has not set to 0 (0 elsewhere);
read it, or :math:`|P \circ \Omega|`, as a ranking, or select a graph from it without
the truth, never through a fixed 0.5 cut. Soft edges need the mini-batch trainer
(``inner="adam"``, the default for ``soft=True``): their objective is stochastic.

:meth:`DAGGNN.adjacency` is the weighted adjacency the acyclicity function sees:
``A`` (hard) or :math:`P \circ \Omega` (soft), always with a zero diagonal and
zeros where the knowledge ``mask`` forbids an edge. The L1 penalty (the
optimiser's) is on ``adj`` (hard) or :math:`\Omega` (soft).
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import torch
from torch import Tensor, nn

from dagforge.errors import ConfigError
from dagforge.models.gnn_linear import linear_autoencoder
from dagforge.models.gnn_parts import GNNOutput, init_linear, standardize_rows, uniform_parameter
from dagforge.models.mlp import ACTIVATIONS, MLP_LOSSES, edge_mask
from dagforge.models.row_losses import least_squares

__all__ = ["DAGGNN", "GNNActivation", "GNNOutput", "Propagation"]  # GNNOutput: gnn_parts

GNNActivation = Literal["relu", "elu", "tanh", "sigmoid", "softplus"]
Propagation = Literal["message", "linear"]

class DAGGNN(nn.Module):
    r"""DAG-GNN style structure model (see the module docstring for the math).

    Parameters
    ----------
    d : int
        Number of variables.
    propagation : {"message", "linear"}
        ``"message"``: message passing :math:`\hat X_j = g_j(\sum_i A_{ij} H_i)` with
        per-variable encoders and decoders (default; learns nonlinear SEMs).
        ``"linear"``: DAG-GNN's autoencoder around :math:`(I - A^\top)` and its inverse.
    hidden : int, optional
        Hidden width of every encoder and decoder MLP; default 8 (``"message"``) or 16
        (``"linear"``; DAG-GNN: 64, the same results on MLP-SEM d=10 in more time).
    latent : int, optional
        Message dimension ``m`` (``"message"``, default 4) or latent dimension per
        variable (``"linear"``, default 1 as DAG-GNN).
    activation : {"relu", "elu", "tanh", "sigmoid", "softplus"}
        Hidden activation of the MLPs; default ``"sigmoid"`` (``"message"``) or
        ``"relu"`` (``"linear"``, as DAG-GNN).
    loss : {"ls", "nll"}
        ``"message"`` only: equal noise variances (least squares) or one profiled
        noise variance per variable.
    soft : bool
        Adjacency of edge probabilities times weights, with Gumbel-sigmoid samples in
        training mode (see module docstring).
    temperature : float
        Gumbel-sigmoid temperature :math:`\tau` (soft only).
    init_prob : float
        Initial edge probability (soft only).
    edge_prior : float
        Prior edge probability :math:`\pi` of the edge KL (soft only).
    edge_kl_weight : float
        Weight :math:`\kappa` of the edge KL per sample; ``1 / N`` for the ELBO of
        ``N`` rows; 0 switches it off (soft only).
    variational : bool
        Learned posterior variance and sampled latents (``"linear"``) or messages
        (``"message"``) in training mode, with the latent KL in the loss.
    standardize_latent : bool
        ``"linear"`` only: standardise the encoder features per variable over the rows.
    lambda2 : float, optional
        Weight of :math:`\frac{\lambda_2}{2}\sum\theta^2`: on the decoder weights
        (``"message"``, default 0.005) or on all MLP weights (``"linear"``, default 0).
    init_scale : float, optional
        Initial edge weights (``adj``, or :math:`\Omega` when soft) are drawn from
        ``U(-init_scale, init_scale)`` on the allowed edges. Default
        :math:`0.6/\sqrt{d}` (``"message"``: :math:`E\,\rho(A \circ A) \approx
        0.12`, inside the log-det domain) or 0 (``"linear"``, as DAG-GNN). At zero
        weights the decoders receive no input, their first-layer weights no data
        gradient, and the L2 and L1 penalties together make the empty graph a
        stationary point that L-BFGS can settle in.
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
        propagation: Propagation = "message",
        hidden: int | None = None,
        latent: int | None = None,
        activation: GNNActivation | None = None,
        loss: Literal["ls", "nll"] = "ls",
        soft: bool = False,
        temperature: float = 0.5,
        init_prob: float = 0.5,
        edge_prior: float = 0.1,
        edge_kl_weight: float = 0.0,
        variational: bool = False,
        standardize_latent: bool = True,
        lambda2: float | None = None,
        init_scale: float | None = None,
        mask: np.ndarray | Tensor | None = None,
        random_state: int | None = None,
        dtype: torch.dtype = torch.float64,
    ) -> None:
        super().__init__()
        if propagation not in ("message", "linear"):
            raise ConfigError(f"unknown propagation {propagation!r}; choose message or linear")
        message = propagation == "message"
        hidden = (8 if message else 16) if hidden is None else int(hidden)
        latent = (4 if message else 1) if latent is None else int(latent)
        activation = activation or ("sigmoid" if message else "relu")
        lambda2 = (0.005 if message else 0.0) if lambda2 is None else float(lambda2)
        if d < 1 or hidden < 1 or latent < 1:
            raise ConfigError(f"d, hidden and latent must be >= 1, got {d}, {hidden}, {latent}")
        if activation not in ACTIVATIONS:
            raise ConfigError(f"unknown activation {activation!r}; choose one of "
                              f"{sorted(ACTIVATIONS)}")
        if loss not in MLP_LOSSES:
            raise ConfigError(f"unknown loss {loss!r}; choose one of {sorted(MLP_LOSSES)}")
        if not temperature > 0:
            raise ConfigError(f"temperature must be > 0, got {temperature}")
        for name, p in (("init_prob", init_prob), ("edge_prior", edge_prior)):
            if not 0 < p < 1:
                raise ConfigError(f"{name} must be in (0, 1), got {p}")
        if not (edge_kl_weight >= 0 and lambda2 >= 0):
            raise ConfigError("edge_kl_weight and lambda2 must be >= 0")
        if init_scale is not None and not init_scale >= 0:
            raise ConfigError(f"init_scale must be >= 0, got {init_scale}")
        if not message and loss != "ls":
            raise ConfigError("loss applies to propagation='message' only")
        seed = 0 if random_state is None else int(random_state)
        init_gen = torch.Generator().manual_seed(seed)
        #: Source of the Gumbel-sigmoid and latent samples (CPU; its state is checkpointed).
        self.generator = torch.Generator().manual_seed(seed + 1)
        self.propagation: Propagation = propagation
        self.loss_name = loss
        self.soft = bool(soft)
        self.variational = bool(variational)
        self.standardize_latent = bool(standardize_latent)
        self.temperature = float(temperature)
        self.edge_prior = float(edge_prior)
        self.edge_kl_weight = float(edge_kl_weight)
        self.lambda2 = lambda2
        self._act = ACTIVATIONS[activation]
        self.register_buffer("mask", edge_mask(d, mask, dtype))  # [d, d]
        # initial edge weights U(-a, a) on allowed edges: E[rho(A o A)] ~ d a^2 / 3
        scale = (0.6 / math.sqrt(d) if message else 0.0) if init_scale is None else init_scale
        weights0 = (2.0 * torch.rand(d, d, generator=init_gen, dtype=dtype) - 1.0) * scale
        weights0 = weights0 * self.mask  # [d, d]
        if self.soft:
            logit = math.log(init_prob / (1.0 - init_prob))
            self.edge_logits = nn.Parameter(torch.full((d, d), logit, dtype=dtype))  # [d, d]
            self.edge_weight = nn.Parameter(weights0)  # Omega, [d, d]
        else:
            self.adj = nn.Parameter(weights0)  # [d, d]
        if message:
            h, m = hidden, latent
            # encoder f_i: R -> R^h -> R^m, one per variable (no output bias: standardised)
            self.enc_w1 = uniform_parameter((d, h), 1, init_gen, dtype)  # [d, h]
            self.enc_b1 = uniform_parameter((d, h), 1, init_gen, dtype)  # [d, h]
            self.enc_w2 = uniform_parameter((d, h, m), h, init_gen, dtype)  # [d, h, m]
            # decoder g_j: R^m -> R^h -> R, one per variable
            self.dec_w1 = uniform_parameter((d, m, h), m, init_gen, dtype)  # [d, m, h]
            self.dec_b1 = uniform_parameter((d, h), m, init_gen, dtype)  # [d, h]
            self.dec_w2 = uniform_parameter((d, h), h, init_gen, dtype)  # [d, h]
            self.dec_b2 = uniform_parameter((d,), h, init_gen, dtype)  # [d]
            self.z_logvar = (nn.Parameter(torch.zeros(d, m, dtype=dtype))  # [d, m]
                             if self.variational else None)
        else:
            self.enc1 = init_linear(1, hidden, init_gen, dtype)
            self.enc2 = init_linear(hidden, latent, init_gen, dtype)
            self.dec1 = init_linear(latent, hidden, init_gen, dtype)
            self.dec2 = init_linear(hidden, 1, init_gen, dtype)
            self.shift = nn.Parameter(torch.zeros(latent, dtype=dtype))  # DAG-GNN's Wa, [latent]
            self.z_logvar = (nn.Parameter(torch.zeros(d, latent, dtype=dtype))  # [d, latent]
                             if self.variational else None)

    @property
    def d(self) -> int:
        """Number of variables."""
        return self.mask.shape[0]

    # ------------------------------------------------------------------ graph
    def edge_probabilities(self) -> Tensor:
        r"""Probability ``P[i, j]`` that the edge ``i -> j`` is present and active, shape
        (d, d), values in [0, 1], zero diagonal.

        Soft: :math:`\operatorname{sigmoid}(\text{logits}_{ij})` where the edge weight
        :math:`\Omega_{ij} \ne 0`, and 0 where the L1 penalty has set it to exactly 0
        (the edge then has no effect whatever its mask sample, and its logit no
        gradient: the logit keeps whatever value it had when the weight vanished).
        Hard: the indicator ``A != 0``.
        """
        if self.soft:
            active = (self.edge_weight != 0).to(self.edge_logits.dtype)  # [d, d]
            return torch.sigmoid(self.edge_logits) * active * self.mask
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
    def messages(self, X: Tensor) -> Tensor:
        """The standardised messages ``H`` (n, d, latent) of ``X`` (n, d) (``"message"``)."""
        Xs = standardize_rows(X)  # [n, d]
        hid = self._act(Xs.unsqueeze(-1) * self.enc_w1 + self.enc_b1)  # [n, d, h]
        H = torch.einsum("ndh,dhm->ndm", hid, self.enc_w2)  # [n, d, m]
        return standardize_rows(H)  # [n, d, m]

    def forward(self, X: Tensor) -> GNNOutput:
        """Predict or reconstruct ``X`` of shape (n, d) through the graph."""
        A = self._sampled_adjacency()  # [d, d]
        if self.propagation == "message":
            H = self.messages(X)  # [n, d, m]
            Hs = H
            if self.variational and self.training:
                eps = torch.randn(H.shape, generator=self.generator,
                                  dtype=H.dtype).to(H.device)  # [n, d, m]
                Hs = H + torch.exp(0.5 * self.z_logvar) * eps  # type: ignore[operator]
            S = torch.einsum("ij,nim->njm", A, Hs)  # S[:, j] = sum_i A[i, j] Hs[:, i], [n, d, m]
            hid = self._act(torch.einsum("njm,jmh->njh", S, self.dec_w1) + self.dec_b1)  # [n, d, h]
            x_hat = (hid * self.dec_w2).sum(dim=-1) + self.dec_b2  # [n, d]
            return GNNOutput(x_hat=x_hat, z_mean=H if self.variational else None,
                             z_logvar=self.z_logvar, adjacency=A)
        return linear_autoencoder(self, X, A)

    def predict(self, X: Tensor) -> Tensor:
        """Predictions (reconstructions) of ``X`` (n, d), shape (n, d): ``self(X).x_hat``."""
        return self(X).x_hat

    # ------------------------------------------------------------------ loss
    def kl_latent(self, out: GNNOutput) -> Tensor:
        r"""Latent KL per sample, :math:`\frac12\sum_{jk}(\mu^2 + e^{v} - v - 1)`, row mean
        (0 for a deterministic ``"message"`` model, whose noise term is the likelihood)."""
        if out.z_mean is None:
            return torch.zeros((), dtype=out.x_hat.dtype, device=out.x_hat.device)
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
        r""":math:`\frac12\sum\theta^2` over the decoder weights (``"message"``) or the
        encoder and decoder weight matrices (``"linear"``)."""
        if self.propagation == "message":
            return 0.5 * ((self.dec_w1**2).sum() + (self.dec_w2**2).sum())
        return 0.5 * sum((lin.weight**2).sum()  # type: ignore[return-value]
                         for lin in (self.enc1, self.enc2, self.dec1, self.dec2))

    def loss(self, X: Tensor, C: Tensor | None = None) -> Tensor:
        r"""The smooth data term on rows ``X`` (n, d), per sample; ``C``: interventional
        block codes (:mod:`dagforge.models.row_losses`).

        ``"message"``: :math:`\frac{1}{2n}\|X - \hat X\|_F^2` (``"ls"``) or the profiled
        Gaussian NLL (``"nll"``); ``"linear"``: the negative ELBO (reconstruction plus
        latent KL). Plus ``edge_kl_weight`` times :meth:`kl_edges` (soft) and
        ``lambda2`` times :meth:`l2_penalty`. The L1 term is the optimiser's.
        """
        out = self(X)
        if self.propagation == "message":
            value = MLP_LOSSES[self.loss_name](X, out.x_hat, C)
            if self.variational:
                value = value + self.kl_latent(out)
        else:
            value = least_squares(X, out.x_hat, C) + self.kl_latent(out)
        if self.soft and self.edge_kl_weight > 0:
            value = value + self.edge_kl_weight * self.kl_edges()
        if self.lambda2 > 0:
            value = value + self.lambda2 * self.l2_penalty()
        return value

    def l1_parameters(self) -> list[Tensor]:
        """Parameters carrying the L1 penalty: ``[adj]`` (hard) or ``[edge_weight]`` (soft)."""
        return [self.edge_weight] if self.soft else [self.adj]
