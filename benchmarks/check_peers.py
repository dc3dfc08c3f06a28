"""Smoke check for the peer adapters in ``peers.py``: do they run here, is the output sane?

Runs every available peer on a tiny linear-Gaussian problem (d=5, n=500, simulated
with plain numpy below) and prints seconds, edge counts and SHD against the truth:
SHD against the true DAG for peers that return a DAG, and against the true CPDAG
for GES / PC. ``shd(W.T)`` is printed too: a peer whose output were transposed
(the wrong i -> j convention) would score clearly better transposed. A collider
``0 -> 2 <- 1`` checks the causal-learn CPDAG translation exactly.

By default the slow nonlinear peers run on small iteration budgets (plumbing and
conventions only; their SHD then says little). ``--full`` uses each library's
defaults: minutes per peer on 2 CPU cores (DAG-GNN and DagmaMLP the slowest).
The torch-based peers are many times faster with ``--torch-threads 1`` on a small,
busy machine (tiny tensors; thread hand-offs dominate).

    python benchmarks/check_peers.py                  # all available peers, quick
    python benchmarks/check_peers.py --peers ges pc   # a subset
    python benchmarks/check_peers.py --full           # library defaults
    python benchmarks/check_peers.py --torch-threads 1

Exit status 1 if an available peer fails or the collider check fails.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import peers

# Small budgets for the slow peers in quick mode (keys are adapter keyword arguments).
# gCastle's NotearsNonlinear has no budget that helps (its inner L-BFGS-B dominates):
# it runs with its defaults either way.
QUICK: dict[str, dict[str, Any]] = {
    "dagma_mlp": {"T": 2, "warm_iter": 2000, "max_iter": 4000},
    "gcastle_grandag": {"iterations": 2000},
    "gcastle_daggnn": {"epochs": 30},
}

# True DAG on 5 variables (B[i, j] = 1: i -> j): collider 0 -> 2 <- 1, then 2 -> 3,
# 2 -> 4, 3 -> 4. Its CPDAG: 0 -> 2 <- 1, 2 -> 3, 2 -> 4 directed; 3 - 4 undirected.
EDGES = [(0, 2, 1.5), (1, 2, -1.2), (2, 3, 1.0), (2, 4, -0.8), (3, 4, 1.3)]
TRUE_CPDAG = np.array(
    [
        [0, 0, 1, 0, 0],
        [0, 0, 1, 0, 0],
        [0, 0, 0, 1, 1],
        [0, 0, 0, 0, 1],
        [0, 0, 0, 1, 0],
    ]
)


def simulate_linear(W: np.ndarray, n: int, seed: int) -> np.ndarray:
    """``X = X W + E`` with standard normal noise: ``X = E (I - W)^{-1}``."""
    rng = np.random.default_rng(seed)
    d = W.shape[0]
    E = rng.standard_normal((n, d))
    return E @ np.linalg.inv(np.eye(d) - W)


def pair_shd(A: np.ndarray, B: np.ndarray) -> int:
    """Pairs {i, j} whose edge differs (missing, extra, reversed or (un)directed: 1 each).

    Works for DAGs and for CPDAG matrices alike (an undirected edge is both entries).
    """
    A, B = np.asarray(A) != 0, np.asarray(B) != 0
    iu = np.triu_indices(A.shape[0], 1)
    return int(np.sum((A[iu] != B[iu]) | (A.T[iu] != B.T[iu])))


def dag_counts(B: np.ndarray, P: np.ndarray) -> tuple[int, int, int]:
    """(correct, reversed, extra) directed edges of ``P`` against the DAG ``B``."""
    B, P = B != 0, P != 0
    correct = int(np.sum(P & B))
    reversed_ = int(np.sum(P & B.T & ~B))
    extra = int(np.sum(P & ~B & ~B.T))
    return correct, reversed_, extra


def check_collider(name: str) -> bool:
    """GES / PC must return exactly 0 -> 2 <- 1 on a strong collider."""
    W = np.zeros((3, 3))
    W[0, 2], W[1, 2] = 1.5, -1.5
    X = simulate_linear(W, 2000, seed=1)
    C = peers.run_peer(name, X)
    ok = np.array_equal(C, (W != 0).astype(int))
    print(f"  collider 0->2<-1: {'ok' if ok else 'WRONG'}: {C.tolist()}")
    return ok


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--peers", nargs="*", default=None, help="peer names (default: all)")
    ap.add_argument("--full", action="store_true", help="library defaults, no small budgets")
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--torch-threads",
        type=int,
        default=None,
        help="torch.set_num_threads(N) first (default: torch's own default)",
    )
    args = ap.parse_args(argv)
    # DAGMA and GraN-DAG draw tqdm bars with no switch; tqdm reads this when first
    # imported (by torch or lazily by the adapters), so it must come first.
    os.environ.setdefault("TQDM_DISABLE", "1")
    if args.torch_threads is not None:
        import torch

        torch.set_num_threads(args.torch_threads)

    names = args.peers or list(peers.PEERS)
    unknown = sorted(set(names) - set(peers.PEERS))
    if unknown:
        ap.error(f"unknown peers {unknown}; known: {sorted(peers.PEERS)}")

    d = 5
    W_true = np.zeros((d, d))
    for i, j, w in EDGES:
        W_true[i, j] = w
    B_true = (W_true != 0).astype(int)
    X = simulate_linear(W_true, args.n, args.seed)
    threads = "default" if args.torch_threads is None else args.torch_threads
    print(
        f"data: d={d} n={args.n} linear Gaussian, {len(EDGES)} edges; "
        f"mode={'full' if args.full else 'quick'}; torch threads: {threads}"
    )

    avail = peers.available_peers()
    failed: list[str] = []
    for name in names:
        spec = peers.PEERS[name]
        reason = avail[name]
        if reason is not None:
            print(f"{name:22s} UNAVAILABLE  {reason}")
            continue
        kwargs: dict[str, Any] = {"seed": args.seed}
        if not args.full:
            kwargs.update(QUICK.get(name, {}))
        t0 = time.perf_counter()
        try:
            out = peers.run_peer(name, X, **kwargs)
        except Exception:
            failed.append(name)
            print(f"{name:22s} FAILED")
            traceback.print_exc()
            continue
        secs = time.perf_counter() - t0
        if out.shape != (d, d):
            failed.append(name)
            print(f"{name:22s} FAILED  output shape {out.shape}")
            continue
        if spec.kind == "cpdag":
            n_dir = int(np.sum((out != 0) & (out.T == 0)))
            n_und = int(np.sum((out != 0) & (out.T != 0)) // 2)
            print(
                f"{name:22s} {secs:7.1f}s  CPDAG: {n_dir} directed, {n_und} undirected; "
                f"SHD vs true CPDAG = {pair_shd(TRUE_CPDAG, out)}"
            )
            if not check_collider(name):
                failed.append(name)
        else:
            correct, rev, extra = dag_counts(B_true, out)
            print(
                f"{name:22s} {secs:7.1f}s  DAG: {int(np.sum(out != 0))} edges "
                f"({correct} correct, {rev} reversed, {extra} extra); "
                f"SHD = {pair_shd(B_true, out)}, shd(W.T) = {pair_shd(B_true, out.T)}"
            )
    if failed:
        print(f"FAILED: {failed}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
