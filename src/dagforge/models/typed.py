r"""A structural model of mixed columns: one-hot inputs, one likelihood per variable.

Each variable :math:`j` is predicted from the others by a small network (``hidden``
widths) or, with ``hidden=()``, a linear predictor, and scored by the likelihood of its
type:

* continuous: Gaussian, its variance profiled out, :math:`\frac12\log\hat\sigma^2_j`;
* binary: Bernoulli with the logistic of the predictor (logistic regression);
* categorical with :math:`k` levels: softmax of :math:`k` predictors (multinomial
  logistic regression).

A categorical input with :math:`k` levels enters as :math:`k - 1` indicators (the first
level the reference), a binary one as its 0/1 code, a continuous one as its value
(:mod:`dagforge.embedding`), so the first layer ``fc1[j]`` of variable ``j`` has one
column per embedded input. The weighted adjacency is the group norm of a variable's
input block, :math:`W_{ij} = \|\mathrm{fc1}[j, :, B_i]\|_F`, and the L1 penalty is on
``fc1``'s entries (exact zeros from OWL-QN), so an edge is gone when its whole block is.
The per-sample loss is the sum over variables of their negative log-likelihoods.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor, nn

from dagforge.errors import ConfigError
from dagforge.models.mlp import ACTIVATIONS, Activation, _uniform, edge_mask, safe_sqrt

__all__ = ["TypedSEM"]

_KINDS = ("continuous", "binary", "categorical")


class TypedSEM(nn.Module):
    """Per-variable likelihoods over one-hot inputs (see the module docstring).

    Parameters
    ----------
    d : int
        Number of variables.
    kinds : sequence of {"continuous", "binary", "categorical"}
        Each variable's type.
    cards : sequence of int
        Levels of each variable (ignored for continuous ones).
    hidden : sequence of int
        Hidden widths; ``()`` is the linear (generalised linear) model.
    activation : str
        Hidden activation.
    lambda2 : float
        L2 weight on the layers after the first.
    mask : array of shape (d, d), optional
        Knowledge mask (1: ``i -> j`` allowed).
    random_state : int, optional
        Seed of the initial weights of the later layers (``fc1`` starts at 0).
    dtype : torch.dtype
    """

    def __init__(self, d: int, *, kinds: Sequence[str], cards: Sequence[int],
                 hidden: Sequence[int] = (10,), activation: Activation = "sigmoid",
                 lambda2: float = 0.005, mask: np.ndarray | Tensor | None = None,
                 random_state: int | None = None, dtype: torch.dtype = torch.float64) -> None:
        super().__init__()
        kinds = [str(k) for k in kinds]
        if len(kinds) != d or len(cards) != d or any(k not in _KINDS for k in kinds):
            raise ConfigError(f"TypedSEM needs one kind of {_KINDS} and one cardinality per "
                              f"variable ({d})")
        self.kinds, self.cards = kinds, [int(c) for c in cards]
        self.in_dims = [self.cards[j] - 1 if k == "categorical" else 1
                        for j, k in enumerate(kinds)]
        self.out_dims = [self.cards[j] if k == "categorical" else 1
                         for j, k in enumerate(kinds)]
        self.starts = np.concatenate([[0], np.cumsum(self.in_dims)])  # [d + 1]
        D, K = int(self.starts[-1]), max(self.out_dims)
        self.lambda2, self._act = float(lambda2), ACTIVATIONS[activation]
        gen = torch.Generator().manual_seed(0 if random_state is None else int(random_state))
        allowed = edge_mask(d, mask, dtype)  # [d, d] variable level
        blocks = torch.as_tensor(np.repeat(np.arange(d), self.in_dims))  # [D] owner of column
        self.register_buffer("input_mask", allowed[blocks, :].T.contiguous())  # [d(j), D]
        self.register_buffer("block_of", blocks)
        logits_mask = torch.tensor([[c < m for c in range(K)] for m in self.out_dims])
        self.register_buffer("logit_mask", logits_mask)  # [d, K]
        for name, kind in (("cont", "continuous"), ("binary", "binary"),
                           ("categ", "categorical")):  # each kind's variables, for the loss
            self.register_buffer(f"{name}_idx", torch.tensor(
                [j for j, k in enumerate(kinds) if k == kind], dtype=torch.long))
        widths = [int(m) for m in hidden]
        first = widths[0] if widths else K
        self.fc1 = nn.Parameter(torch.zeros(d, first, D, dtype=dtype))  # [d, m1 | K, D]
        self.b1 = nn.Parameter(torch.zeros(d, first, dtype=dtype))  # [d, m1 | K]
        self.weights, self.biases = nn.ParameterList(), nn.ParameterList()
        for m_in, m_out in itertools.pairwise([*widths, K] if widths else []):
            bound = 1.0 / math.sqrt(m_in)
            self.weights.append(nn.Parameter(_uniform((d, m_in, m_out), bound, gen, dtype)))
            self.biases.append(nn.Parameter(_uniform((d, m_out), bound, gen, dtype)))

    @property
    def d(self) -> int:
        return self.fc1.shape[0]

    def embed(self, X: Tensor) -> Tensor:
        """The inputs (n, D) of rows ``X`` (n, d): indicators for categorical columns."""
        parts = []
        for j, kind in enumerate(self.kinds):
            x = X[:, j]
            if kind == "categorical":
                levels = torch.arange(1, self.cards[j], device=X.device, dtype=X.dtype)
                parts.append((x[:, None] == levels[None, :]).to(X.dtype))  # [n, k-1]
            else:
                parts.append(x[:, None])
        return torch.cat(parts, dim=1)

    def first_layer(self) -> Tensor:
        return self.fc1 * self.input_mask[:, None, :]  # [d, m1 | K, D]

    def adjacency(self) -> Tensor:
        """:math:`W_{ij} = \\|\\mathrm{fc1}[j, :, B_i]\\|_F`, shape (d, d)."""
        sq = (self.first_layer() ** 2).sum(dim=1)  # [d(j), D]
        per_var = torch.zeros(self.d, self.d, dtype=sq.dtype, device=sq.device)
        per_var.index_add_(1, self.block_of, sq)  # [d(j), d(i)]
        return safe_sqrt(per_var).T  # [d(i), d(j)]

    def forward(self, X: Tensor) -> Tensor:
        """Each variable's predictors, (n, d, K): the mean of a continuous one, the logit
        of a binary one, the level logits of a categorical one (unused slots -inf)."""
        E = self.embed(X)  # [n, D]
        w1 = self.first_layer()  # [d, m1 | K, D]
        d, m, D = w1.shape
        h = (E @ w1.reshape(d * m, D).T).view(-1, d, m) + self.b1  # [n, d, m1 | K], one GEMM
        for W, b in zip(self.weights, self.biases, strict=True):
            h = torch.einsum("njm,jmk->njk", self._act(h), W) + b
        return h.masked_fill(~self.logit_mask, float("-inf"))

    def loss(self, X: Tensor) -> Tensor:
        """The per-sample negative log-likelihood summed over variables, plus the L2;
        each kind of variable in one vectorised term."""
        out = self.forward(X)  # [n, d, K]
        n = X.shape[0]
        total = X.new_zeros(())
        c, b, k = self.cont_idx, self.binary_idx, self.categ_idx
        if len(c):  # Gaussian, variance profiled out
            total = total + 0.5 * torch.log(((X[:, c] - out[:, c, 0]) ** 2).mean(dim=0)).sum()
        if len(b):  # Bernoulli: mean over rows, summed over variables
            total = total + nn.functional.binary_cross_entropy_with_logits(
                out[:, b, 0], X[:, b], reduction="sum") / n
        if len(k):  # softmax over each variable's own levels (unused logits are -inf);
            z = out[:, k, :]  # [n, m, K]; log-sum-exp by hand: torch's log_softmax is
            top = z.amax(dim=2, keepdim=True).detach()  # slow over a last axis this short
            lse = top.squeeze(2) + torch.log(torch.exp(z - top).sum(dim=2))  # [n, m]
            chosen = z.gather(2, X[:, k].long().unsqueeze(2)).squeeze(2)  # [n, m]
            total = total + (lse - chosen).sum() / n
        if self.lambda2 > 0 and len(self.weights):
            total = total + self.lambda2 * 0.5 * sum((W**2).sum() for W in self.weights)
        return total

    def predict(self, X: Tensor) -> Tensor:
        """The predicted mean of each variable, (n, d): the value, the probability of
        level 1, or the expected level code."""
        out = self.forward(X)
        pred = []
        for j, kind in enumerate(self.kinds):
            if kind == "continuous":
                pred.append(out[:, j, 0])
            elif kind == "binary":
                pred.append(torch.sigmoid(out[:, j, 0]))
            else:
                p = torch.softmax(out[:, j, : self.cards[j]], dim=1)
                pred.append(p @ torch.arange(self.cards[j], dtype=p.dtype, device=p.device))
        return torch.stack(pred, dim=1)

    def l1_parameters(self) -> list[Tensor]:
        return [self.fc1]

    def edge_l1_weights(self, required: Tensor) -> list[Tensor]:
        """0 on the input block of every required edge, else 1."""
        free = (~required.to(self.fc1.device, torch.bool)).to(self.fc1.dtype)  # [d(i), d(j)]
        per_input = free[self.block_of, :].T  # [d(j), D]
        return [per_input[:, None, :].expand_as(self.fc1).clone()]
