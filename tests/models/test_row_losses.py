"""Data terms with interventional block codes (dagforge.models.row_losses)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dagforge.models import row_losses as rl


def _data(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(60, 3, generator=g, dtype=torch.float64),
            torch.randn(60, 3, generator=g, dtype=torch.float64))


def test_perfect_codes_leave_entries_out() -> None:
    X, Xh = _data()
    C = torch.ones(60, 3, dtype=torch.float64)
    C[:20, 1] = 0  # variable 1 intervened on in the first 20 rows
    res = (X - Xh).numpy()
    kept = [res[:, 0], res[20:, 1], res[:, 2]]
    ls = 0.5 * sum((r**2).sum() for r in kept) / 60
    nll = 0.5 * sum(len(r) * np.log((r**2).mean()) for r in kept) / 60
    assert float(rl.least_squares(X, Xh, C)) == pytest.approx(ls)
    assert float(rl.gaussian_nll(X, Xh, C)) == pytest.approx(nll)
    ones = torch.ones_like(C)  # no intervention: the plain formulas
    assert float(rl.gaussian_nll(X, Xh, ones)) == pytest.approx(float(rl.gaussian_nll(X, Xh)))


def test_soft_codes_give_a_block_its_own_intercept_and_variance() -> None:
    X, Xh = _data(1)
    C = torch.ones(60, 3, dtype=torch.float64)
    C[:30, 2] = 2  # variable 2's own mechanism in regime 0
    res = (X - Xh).numpy()
    own = res[:30, 2] - res[:30, 2].mean()
    parts = [(60, (res[:, 0] ** 2).mean()), (60, (res[:, 1] ** 2).mean()),
             (30, (res[30:, 2] ** 2).mean()), (30, (own**2).mean())]
    nll = 0.5 * sum(n * np.log(v) for n, v in parts) / 60
    assert float(rl.gaussian_nll(X, Xh, C)) == pytest.approx(nll)
    ls = 0.5 * ((res[:, :2] ** 2).sum() + (res[30:, 2] ** 2).sum() + (own**2).sum()) / 60
    assert float(rl.least_squares(X, Xh, C)) == pytest.approx(ls)


def test_block_codes_of_perfect_and_soft_designs() -> None:
    intervened = np.array([[False, True], [False, False], [True, False]])
    regime = np.array([1, 0, 2])
    assert rl.block_codes(intervened, regime, soft=False).tolist() == [[1, 0], [1, 1], [0, 1]]
    assert rl.block_codes(intervened, regime, soft=True).tolist() == [[1, 3], [1, 1], [4, 1]]
