"""Tests for the acyclicity functions of dagforge.constraints: exact on DAGs, positive
on cycles (including the counterexamples that broke the origin system's penalty),
float64 limits pinned, gradients checked, logdet's domain, dtypes. The registry is
tested in test_registry.py."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch.autograd import gradcheck

from dagforge.constraints import (
    SpectralRadius,
    expm,
    get_constraint,
    logdet,
    logdet_domain_ok,
    poly,
    spectral,
    spectral_with_vectors,
)
from dagforge.errors import ConfigError, GraphError
from dagforge.graph import is_dag

F64 = torch.float64
NAMES = ("logdet", "expm", "poly", "spectral")


# --------------------------------------------------------------------------- helpers


def random_dag(d: int, p: float, rng: np.random.Generator, lo: float = 0.5, hi: float = 2.0):
    """Permuted strictly upper-triangular W, |weights| in [lo, hi], random signs."""
    B = np.triu(rng.random((d, d)) < p, 1)
    W = B * rng.uniform(lo, hi, (d, d)) * rng.choice([-1.0, 1.0], (d, d))
    perm = rng.permutation(d)
    return torch.tensor(W[np.ix_(perm, perm)], dtype=F64)


def cycle(d: int, nodes: list[int], weights: float | list[float]) -> torch.Tensor:
    """W (d x d) holding one directed cycle nodes[0] -> nodes[1] -> ... -> nodes[0]."""
    k = len(nodes)
    ws = [weights] * k if isinstance(weights, float | int) else list(weights)
    W = torch.zeros(d, d, dtype=F64)
    for i in range(k):
        W[nodes[i], nodes[(i + 1) % k]] = ws[i]
    return W


def rho(W: torch.Tensor) -> float:
    """Reference spectral radius of W∘W (LAPACK eigenvalues)."""
    return float(torch.linalg.eigvals(W.detach() * W.detach()).abs().max())


def closed_forms(d: int, k: int, p: float, s: float = 1.0) -> dict[str, float]:
    """Exact h for a graph whose only cycle has length k and A = W∘W weight product p.

    tr(A^m) = k p^(m/k) if k divides m, else 0; det(sI - A) = s^d (1 - p / s^k).
    """
    poly_v = sum(math.comb(d, j * k) * k * p**j / d ** (j * k) for j in range(1, d // k + 1))
    expm_v = sum(k * p**j / math.factorial(j * k) for j in range(1, 150 // k + 1))
    return {
        "poly": poly_v,
        "expm": expm_v,
        "logdet": -math.log1p(-p / s**k),
        "spectral": p ** (1.0 / k),
    }


def origin_penalty(
    W: torch.Tensor, n: int | None = None, square: bool = True, renormalise: bool = True
) -> float:
    """The origin system's penalty ReLU(tr((I + A/d)^n) - d), renormalised in the power loop.

    Dividing P by its Frobenius norm each step gives |tr P| <= sqrt(d) ||P||_F = sqrt(d) < d
    (Schur: sum |lambda_i| <= sqrt(d) ||P||_F), so the ReLU is 0 for EVERY W; any norm
    >= the spectral radius gives tr P <= d likewise. With square=False it uses A = W,
    where negative weights make traces negative.
    """
    d = W.shape[0]
    n = d if n is None else n
    A = W * W if square else W
    M = torch.eye(d, dtype=F64) + A / d
    P = torch.eye(d, dtype=F64)
    for _ in range(n):
        P = P @ M
        if renormalise:
            P = P / torch.linalg.matrix_norm(P)
    return float(torch.relu(torch.trace(P) - d))


def call(name: str, W: torch.Tensor, s: float = 1.0) -> torch.Tensor:
    return logdet(W, s) if name == "logdet" else get_constraint(name)(W)


# --------------------------------------------------------------------------- exact zero on DAGs


@pytest.mark.parametrize(
    ("d", "p", "lo", "hi"),
    [
        (2, 1.0, 0.5, 2.0),
        (5, 0.5, 0.5, 2.0),
        (20, 0.2, 0.5, 2.0),
        (60, 0.1, 0.5, 2.0),
        # heavy paths: torch.linalg.slogdet (partial pivoting) is far from 0 here
        (100, 0.5, 1.5, 2.0),
    ],
)
@pytest.mark.parametrize("name", NAMES)
def test_zero_value_and_gradient_on_dags(name: str, d: int, p: float, lo: float, hi: float):
    rng = np.random.default_rng(d)
    for _ in range(3):
        W = random_dag(d, p, rng, lo, hi)
        assert is_dag(W.numpy())
        W.requires_grad_()
        h = call(name, W)
        h.backward()
        assert h.dtype == F64 and h.shape == ()
        assert abs(h.item()) <= 1e-12
        # grad h = 2 W ∘ G with G_ij != 0 only if j reaches i: zero on every DAG edge
        assert float(W.grad.abs().max()) <= 1e-12
        if name != "expm":  # exact by construction (expm relies on torch's matrix_exp)
            assert h.item() == 0.0
    assert logdet_domain_ok(W, 1.0)


# --------------------------------------------------------------------------- cycles: h > 0


def test_three_cycle_weight_one_in_d10():
    # the origin system's counterexample: true polynomial value ~ 0.36
    W = cycle(10, [0, 1, 2], 1.0)
    exact = closed_forms(10, k=3, p=1.0, s=2.0)
    # 3 * (C(10,3)/10^3 + C(10,6)/10^6 + C(10,9)/10^9) = 0.36063003
    assert exact["poly"] == pytest.approx(0.36063003, rel=1e-12)
    assert float(poly(W)) == pytest.approx(exact["poly"], rel=1e-12)
    assert float(poly(W)) == pytest.approx(0.36, abs=1e-3)
    assert float(expm(W)) == pytest.approx(exact["expm"], rel=1e-12)
    assert float(logdet(W, 2.0)) == pytest.approx(exact["logdet"], rel=1e-12)  # -log(7/8)
    assert float(spectral(W)) == pytest.approx(1.0, rel=1e-12)
    # rho = 1 = s: on the boundary, outside logdet's domain
    assert not logdet_domain_ok(W, 1.0)
    assert float(logdet(W, 1.0)) == math.inf
    # and the origin system's renormalised ReLU penalty does not see the cycle at all
    assert origin_penalty(W) == 0.0
    assert origin_penalty(W, n=3) == 0.0


def test_two_cycle_with_opposite_signs():
    W = torch.zeros(10, 10, dtype=F64)
    W[0, 1], W[1, 0] = 1.0, -1.0
    exact = closed_forms(10, k=2, p=1.0, s=2.0)
    assert float(poly(W)) == pytest.approx(exact["poly"], rel=1e-12)
    assert float(expm(W)) == pytest.approx(2 * (math.cosh(1.0) - 1), rel=1e-12)
    assert float(logdet(W, 2.0)) == pytest.approx(-math.log(0.75), rel=1e-12)
    assert float(spectral(W)) == pytest.approx(1.0, rel=1e-12)
    for name in NAMES:
        assert float(call(name, W, s=2.0)) > 0.1
    # with A = W the signs cancel: tr((I + W/10)^10) - 10 = 2 Re (1 + i/10)^10 - 2 < 0
    signed = float(torch.trace(torch.linalg.matrix_power(torch.eye(10, dtype=F64) + W / 10, 10)))
    assert signed - 10 == pytest.approx(2 * ((1 + 0.1j) ** 10).real - 2, rel=1e-12)
    assert signed - 10 < -0.8
    assert origin_penalty(W, square=False, renormalise=False) == 0.0
    assert origin_penalty(W, square=False) == 0.0
    assert origin_penalty(W) == 0.0


@pytest.mark.parametrize("seed", range(6))
def test_positive_on_random_cyclic_graphs(seed: int):
    rng = np.random.default_rng(100 + seed)
    d = int(rng.integers(3, 30))
    W = torch.tensor(
        (rng.random((d, d)) < 3.0 / d) * rng.normal(size=(d, d)) * (1 - np.eye(d)), dtype=F64
    )
    i, j = rng.choice(d, 2, replace=False)  # make sure there is a cycle
    W[i, j], W[j, i] = 0.7, -0.4
    assert not is_dag(W.numpy())
    r = rho(W)
    for name in NAMES:
        assert float(call(name, W, s=1.5 * r + 0.1)) > 0
    assert float(spectral(W, n_iter=2000)) == pytest.approx(r, rel=1e-8)
    assert origin_penalty(W) == 0.0  # blind, as proven in its docstring


@pytest.mark.parametrize("name", NAMES)
def test_invariant_to_relabelling_and_sign(name: str):
    # h depends on the graph and |weights| only: h(P W P^T) = h(-W) = h(W)
    rng = np.random.default_rng(7)
    W = torch.tensor(rng.normal(size=(9, 9)) * (rng.random((9, 9)) < 0.3), dtype=F64)
    s = 1.5 * rho(W) + 0.1
    perm = torch.as_tensor(rng.permutation(9))
    h = call(name, W, s=s).item()
    assert h > 0
    assert call(name, W[perm][:, perm], s=s).item() == pytest.approx(h, rel=1e-9)
    assert call(name, -W, s=s).item() == pytest.approx(h, rel=1e-12)


# --------------------------------------------------------------------------- float64 limits


def test_ten_cycle_in_d100_what_float64_resolves():
    d = 100
    # weight 0.5: A = 0.25 on each of the 10 edges, cycle product p = 0.25^10 = 2^-20
    W = cycle(d, list(range(10)), 0.5)
    exact = closed_forms(d, k=10, p=2.0**-20)
    # exact values: logdet 9.54e-7, spectral 0.25, expm 2.63e-12, poly 1.65e-12
    assert exact["expm"] == pytest.approx(2.628e-12, rel=1e-3)
    assert exact["poly"] == pytest.approx(1.651e-12, rel=1e-3)
    # all four dagforge functions stay > 0 here:
    assert float(logdet(W)) == pytest.approx(exact["logdet"], rel=1e-9)
    assert float(spectral(W)) == pytest.approx(0.25, rel=1e-12)
    # poly sums non-negative terms only (no "- d"): full relative accuracy
    assert float(poly(W)) == pytest.approx(exact["poly"], rel=1e-12)
    # expm's diagonal entries are 1 + 2.6e-13, a few ulps of error each: positive, ~1 % accurate
    assert float(expm(W)) > 0
    assert float(expm(W)) == pytest.approx(exact["expm"], rel=5e-2)
    # the textbook "trace minus d" formulas also stay > 0 here, to ~1e-3..1e-2 accuracy
    A = W * W
    I = torch.eye(d, dtype=F64)
    naive_poly = float(torch.trace(torch.linalg.matrix_power(I + A / d, d))) - d
    naive_expm = float(torch.trace(torch.linalg.matrix_exp(A))) - d
    assert naive_poly == pytest.approx(exact["poly"], rel=5e-2)
    assert naive_expm == pytest.approx(exact["expm"], rel=5e-2)

    # weight 0.1: p = 0.01^10 = 1e-20 is below float64's resolution next to 1
    W = cycle(d, list(range(10)), 0.1)
    exact = closed_forms(d, k=10, p=1e-20)
    assert float(logdet(W)) == 0.0  # last pivot 1 - 1e-20 rounds to 1 (true h = 1e-20)
    assert float(expm(W)) == 0.0  # diagonal 1 + 2.8e-27 rounds to 1 (true h = 2.8e-26)
    assert float(torch.trace(torch.linalg.matrix_power(I + W * W / d, d))) - d == 0.0
    # ...but poly (non-negative terms, true h = 1.7e-26) and spectral still see the cycle
    assert float(poly(W)) == pytest.approx(exact["poly"], rel=1e-12)
    assert float(poly(W)) > 1e-26
    assert float(spectral(W)) == pytest.approx(0.01, rel=1e-12)


# --------------------------------------------------------------------------- gradients


def _inside(d: int, seed: int, radius: float) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    W = torch.randn(d, d, generator=g, dtype=F64)
    return (W * math.sqrt(radius / rho(W))).requires_grad_()


def _multi_component() -> torch.Tensor:
    W = torch.zeros(7, 7, dtype=F64)
    W[0, 1], W[1, 2], W[2, 0], W[1, 0] = 1.0, 0.8, 1.2, 0.5  # component {0, 1, 2}
    W[3, 4], W[4, 3] = 0.6, 0.7  # component {3, 4}
    W[2, 3], W[4, 5], W[6, 0] = 0.9, 1.1, 0.3  # edges on no cycle
    return W.requires_grad_()


def test_gradcheck():
    W = _inside(5, 0, radius=0.7)
    assert gradcheck(lambda w: logdet(w, 1.0), (W,))
    assert gradcheck(lambda w: logdet(w, 3.0), (_inside(6, 1, radius=2.5),))
    assert gradcheck(expm, (W,))
    assert gradcheck(poly, (W,))
    assert gradcheck(poly, (_inside(6, 2, radius=3.0),))
    # spectral: positive matrix, simple dominant eigenvalue, iterate to convergence
    g = torch.Generator().manual_seed(3)
    Wp = (torch.rand(5, 5, generator=g, dtype=F64) + 0.2).requires_grad_()
    assert gradcheck(lambda w: spectral(w, n_iter=500, tol=1e-13), (Wp,))
    Wm = _multi_component()
    assert gradcheck(lambda w: spectral(w, n_iter=3000, tol=1e-13), (Wm,))
    assert gradcheck(lambda w: logdet(w, 2.0), (Wm,))
    assert gradcheck(expm, (Wm,))
    assert gradcheck(poly, (Wm,))


def test_gradients_match_textbook_autograd():
    d = 8
    I = torch.eye(d, dtype=F64)
    refs = {
        "logdet": lambda w: -torch.linalg.slogdet(I - w * w).logabsdet,
        "expm": lambda w: torch.trace(torch.linalg.matrix_exp(w * w)) - d,
        "poly": lambda w: torch.trace(torch.linalg.matrix_power(I + w * w / d, d)) - d,
        "spectral": lambda w: torch.linalg.eigvals(w * w).abs().max(),
    }
    for name, ref in refs.items():
        W1 = _inside(d, 4, radius=0.6)
        W2 = W1.detach().clone().requires_grad_()
        h1, h2 = call(name, W1), ref(W2)
        h1.backward()
        h2.backward()
        assert h1.item() == pytest.approx(h2.item(), rel=1e-10)
        torch.testing.assert_close(W1.grad, W2.grad, rtol=1e-7, atol=1e-9)


def test_finite_gradients_at_spectral_radius_10():
    for name, s in (("expm", 1.0), ("poly", 1.0), ("spectral", 1.0), ("logdet", 11.0)):
        W = _inside(12, 5, radius=10.0)
        h = call(name, W, s=s)
        h.backward()
        assert math.isfinite(h.item()) and h.item() > 0
        assert bool(torch.isfinite(W.grad).all())
    assert spectral(_inside(12, 5, radius=10.0)).item() == pytest.approx(10.0, rel=1e-9)


def test_spectral_gradient_does_not_grow_with_the_radius():
    # d rho / dA is homogeneous of degree 0: grad_W(cW) = 2 cW ∘ G(A) = c grad_W(W)
    g = torch.Generator().manual_seed(6)
    base = torch.rand(6, 6, generator=g, dtype=F64) + 0.1
    grads = []
    for c in (1.0, 10.0, 1000.0):
        W = (c * base).requires_grad_()
        spectral(W, n_iter=500).backward()
        grads.append(W.grad / c)
    torch.testing.assert_close(grads[1], grads[0], rtol=1e-8, atol=0)
    torch.testing.assert_close(grads[2], grads[0], rtol=1e-8, atol=0)
    # symmetric A: u = v, so every entry of d rho / dA = u u^T is at most 1
    A = base + base.T
    W = (1e3 * A.sqrt()).requires_grad_()  # rho ~ 1e7
    spectral(W, n_iter=500).backward()
    dA = W.grad / (2 * W.detach())
    assert float(dA.max()) <= 1.0 + 1e-12
    # expm's gradient at the same scale (rho ~ 10) is already ~ e^10 times larger
    W = _inside(6, 7, radius=10.0)
    expm(W).backward()
    assert float(W.grad.abs().max()) > 1e3


def test_spectral_periodic_and_reducible():
    # a 2-cycle with very unequal weights: rho = sqrt(1 * 1e-4) = 1e-2
    W = cycle(4, [0, 1], [1.0, 1e-2])
    assert float(spectral(W)) == pytest.approx(1e-2, rel=1e-12)
    # a 10-cycle with unequal weights: rho = geometric mean of A's weights
    w = [0.3 + 0.2 * i for i in range(10)]
    W = cycle(12, list(range(10)), w)
    geo = math.exp(np.mean(np.log(np.square(w))))
    assert float(spectral(W, n_iter=1000)) == pytest.approx(geo, rel=1e-10)
    # several components linked by acyclic edges: rho is the largest component radius
    Wm = _multi_component().detach()
    assert float(spectral(Wm, n_iter=1000)) == pytest.approx(rho(Wm), rel=1e-10)


def test_spectral_warm_start():
    w = [0.3 + 0.1 * i for i in range(30)]
    W = cycle(35, list(range(30)), w)  # a long periodic cycle converges slowly
    truth = math.exp(np.mean(np.log(np.square(w))))
    cold = float(spectral(W, n_iter=3))
    assert abs(cold / truth - 1) > 1e-3
    est = spectral_with_vectors(W, n_iter=5000)
    assert est.u.shape == (35,) and float(est.u[30:].abs().max()) == 0.0
    warm = float(spectral(W, n_iter=3, u0=est.u, v0=est.v))
    assert warm == pytest.approx(truth, rel=1e-9)

    h = SpectralRadius(n_iter=3, first_n_iter=5000)
    assert float(h(W)) == pytest.approx(truth, rel=1e-9)
    assert float(h(W * 1.0001)) == pytest.approx(truth * 1.0001**2, rel=1e-7)
    state = h.state_dict()
    h2 = SpectralRadius(n_iter=3)
    h2.load_state_dict(state)
    assert float(h2(W)) == pytest.approx(truth, rel=1e-9)
    assert float(h(cycle(3, [0, 1, 2], 2.0))) == pytest.approx(4.0)  # new d: resets itself
    assert h.u is not None and h.u.shape == (3,)
    with pytest.raises(ConfigError):
        spectral(W, u0=torch.ones(3))


# --------------------------------------------------------------------------- logdet domain


def test_logdet_domain():
    W = cycle(10, [0, 1], [1.0, -1.0])  # rho(W∘W) = 1
    assert not logdet_domain_ok(W, 1.0)  # boundary
    assert not logdet_domain_ok(W, 0.99)
    assert logdet_domain_ok(W, 1.001)
    assert logdet_domain_ok(torch.zeros(4, 4), 1e-3)
    assert logdet_domain_ok(random_dag(30, 0.5, np.random.default_rng(0), 1.5, 2.0), 0.5)
    selfloop = torch.zeros(3, 3, dtype=F64)
    selfloop[1, 1] = 2.0  # A_11 = 4 > s
    assert not logdet_domain_ok(selfloop, 3.0)
    assert logdet_domain_ok(selfloop, 5.0)
    nan = torch.zeros(3, 3, dtype=F64)
    nan[0, 1] = math.nan
    assert not logdet_domain_ok(nan, 1.0)
    assert math.isnan(float(logdet(nan)))
    for s in (0.0, -1.0, math.inf, math.nan):
        with pytest.raises(ConfigError):
            logdet_domain_ok(W, s)
        with pytest.raises(ConfigError):
            logdet(W, s)


def test_logdet_domain_agrees_with_eigenvalues():
    g = torch.Generator().manual_seed(8)
    for d in (3, 10, 40):
        for _ in range(4):
            mask = torch.rand(d, d, generator=g) < min(1.0, 3.0 / d)
            W = torch.randn(d, d, generator=g, dtype=F64) * mask
            r = rho(W)
            if r == 0:
                continue
            for ratio in (0.5, 0.999, 1.001, 2.0):
                inside = ratio < 1
                assert logdet_domain_ok(W, r / ratio) is inside
                assert math.isfinite(float(logdet(W, r / ratio))) is inside


def test_logdet_outside_domain_is_inf_with_nan_gradient():
    W = cycle(3, [0, 1, 2], 1.2).requires_grad_()
    h = logdet(W, 1.0)
    assert h.item() == math.inf
    h.backward()
    assert bool(torch.isnan(W.grad).all())


# --------------------------------------------------------------------------- dtypes


@pytest.mark.parametrize("name", NAMES)
def test_float32_input_float64_output(name: str):
    W = cycle(5, [0, 1, 2], 0.5).to(torch.float32).requires_grad_()
    h = call(name, W)
    assert h.dtype == F64
    h.backward()
    assert W.grad is not None and W.grad.dtype == torch.float32
    assert bool(torch.isfinite(W.grad).all())
    with pytest.raises(GraphError):
        call(name, torch.zeros(2, 3))
    assert float(call(name, np.zeros((3, 3)))) == 0.0  # array-likes are accepted
    assert float(call(name, torch.zeros(0, 0))) == 0.0
