"""Shared test set-up."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_torch_thread() -> Iterator[None]:
    """Run every test with one torch thread (small problems; two pytest workers on two
    cores), restoring the setting afterwards."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture(autouse=True)
def _torch_seed_per_test() -> None:
    """Tests that draw from torch's global generator (``torch.randn`` without a
    generator) get the same values whichever tests ran before them in the same worker
    (pytest-xdist spreads tests over processes in no fixed order)."""
    torch.manual_seed(0)
