"""Run SDCD (Nazaret et al. 2023) on one data file, inside its own venv.

SDCD pins numpy 1.26 and pandas 1.5, which clash with dagforge's, so it lives in
``.venv-sdcd`` (``make bench-sdcd``) and the interventional benchmark calls this
script there::

    .venv-sdcd/bin/python benchmarks/sdcd_runner.py IN.npz OUT.npz

``IN.npz`` holds ``X`` (n, d) and ``mask`` (n, d): 1 where a variable was *not*
intervened on in that row (SDCD's "regime" format), and ``seed``. ``OUT.npz`` gets
``adjacency`` (0/1, ``A[i, j]``: ``i -> j``, SDCD's own threshold and DAG cut) and
``seconds`` (the ``train`` call alone). SDCD's defaults throughout.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import torch


def main(src: str, dst: str) -> None:
    from sdcd.models import SDCD

    data = np.load(src)
    X = torch.as_tensor(data["X"], dtype=torch.float32)  # [n, d]
    mask = torch.as_tensor(data["mask"], dtype=torch.long)  # [n, d]
    n_regimes = (X.shape[1] - mask.sum(dim=1)).long()  # intervened variables per row
    torch.manual_seed(int(data["seed"]))
    dataset = torch.utils.data.TensorDataset(X, mask, n_regimes)
    model = SDCD()
    start = time.perf_counter()
    model.train(dataset, log_wandb=False)
    seconds = time.perf_counter() - start
    A = model.get_adjacency_matrix(threshold=True)
    np.savez(dst, adjacency=np.asarray(A, dtype=np.int8), seconds=seconds)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
