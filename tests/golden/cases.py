"""Golden results: the default learner's graphs on a fixed set of small and medium
cases, recorded before a refactor so that the refactor can show it changed nothing.

``python tests/golden/cases.py record`` writes ``tests/golden/results.json`` (run it
only when a change is *meant* to move results, and say so in the commit);
``tests/test_golden.py`` compares against it on any machine: the graphs and the resolved
choices must be equal (the threshold to 1e-6 relative; for linear fits under one noise
variance per variable, whose BIC is score-equivalent, the equivalence class: under the
Haswell kernel the standardised SF4 case ends at another DAG of its class, same score).
The solver's continuous ``W_`` is not compared there: its iterates move with the BLAS
kernel (under OpenBLAS's Haswell kernel instead of SkylakeX, by up to 0.5 on the raw SF4
case, with the same graphs).
``python tests/golden/cases.py check --exact`` asks, on the machine that recorded them,
for a bit-identical ``W_`` and threshold too: what a refactor must keep.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

RESULTS = Path(__file__).with_name("results.json")

Case = tuple[Callable[[], np.ndarray], dict[str, Any]]


def _sim(graph: str, k: float, d: int, n: int, seed: int, *, sem: str = "linear",
         noise: str = "gauss", standardize: bool = False) -> Callable[[], np.ndarray]:
    def make() -> np.ndarray:
        from dagforge.simulate import simulate

        return simulate(graph=graph, k=k, d=d, n=n, sem=sem, noise=noise,  # type: ignore
                        standardize=standardize, rng=np.random.default_rng(seed)).X
    return make


def _sachs() -> np.ndarray:
    from dagforge.datasets import load_sachs

    return load_sachs()[0].to_numpy(dtype=float)


def _bn(name: str, n: int, seed: int, standardize: bool) -> Callable[[], np.ndarray]:
    def make() -> np.ndarray:
        from dagforge.datasets import load_gaussian_bn

        X = load_gaussian_bn(name, n, np.random.default_rng(seed))[0].to_numpy(dtype=float)
        return (X - X.mean(0)) / X.std(0) if standardize else X
    return make


_MLP = {"model": "mlp", "model_options": {"hidden": (8,)}}
_GNN = {"model": "gnn"}

#: name -> (data, DagLearner settings); random_state 0 everywhere.
CASES: dict[str, Case] = {
    "linear-er2-d10-gauss-raw": (_sim("er", 2, 10, 1000, 0), {}),
    "linear-er2-d20-exp-raw": (_sim("er", 2, 20, 1000, 1, noise="exp"), {}),
    "linear-er4-d20-gumbel-raw": (_sim("er", 4, 20, 1000, 2, noise="gumbel"), {}),
    "linear-sf4-d20-gauss-raw": (_sim("sf", 4, 20, 1000, 3), {}),
    "linear-er2-d20-gauss-std": (_sim("er", 2, 20, 1000, 4, standardize=True), {}),
    "linear-er4-d10-gauss-std": (_sim("er", 4, 10, 2000, 5, standardize=True), {}),
    "linear-sf4-d20-exp-std": (_sim("sf", 4, 20, 1000, 6, noise="exp", standardize=True), {}),
    "linear-er2-d10-nll": (_sim("er", 2, 10, 500, 7), {"loss": "nll"}),
    "linear-er1-d6-augmented-lagrangian": (
        _sim("er", 1, 6, 500, 8), {"solver": "augmented_lagrangian", "constraint": "expm"}),
    "linear-er2-d10-no-refine": (_sim("er", 2, 10, 500, 9), {"refine": "none"}),
    "linear-er2-d10-threshold-auto": (_sim("er", 2, 10, 500, 10), {"threshold": "auto"}),
    "linear-er2-d10-standardize": (_sim("er", 2, 10, 500, 11), {"standardize": True}),
    "linear-sachs": (_sachs, {}),
    "linear-ecoli70-n500-raw": (_bn("ecoli70", 500, 12, False), {}),
    "linear-magic-niab-n500-std": (_bn("magic-niab", 500, 13, True), {}),
    "mlp-er2-d5-raw": (_sim("er", 2, 5, 300, 14, sem="mlp"), _MLP),
    "mlp-er2-d5-std": (_sim("er", 2, 5, 300, 15, sem="mlp", standardize=True), _MLP),
    "gnn-er2-d5-raw": (_sim("er", 2, 5, 300, 16, sem="mlp"), _GNN),
    "gnn-er2-d5-adam": (_sim("er", 2, 5, 300, 17, sem="mlp"),
                        {"model": "gnn", "inner": "adam", "train_options": {"max_epochs": 30}}),
    "gnn-er2-d5-linear-autoencoder": (
        _sim("er", 2, 5, 300, 18), {"model": "gnn", "model_options": {"propagation": "linear"},
                                    "inner": "adam", "train_options": {"max_epochs": 150}}),
}


def run_case(name: str) -> dict[str, Any]:
    """The fitted graph of case ``name``: adjacency, ``W_`` and the resolved choices."""
    from dagforge.estimator import DagLearner

    make, settings = CASES[name]
    fit = DagLearner(random_state=0, **settings).fit(make())
    return {"adjacency": fit.adjacency_.tolist(), "W": fit.W_.tolist(),
            "noise_model": fit.noise_model_, "refine": fit.refine_,
            "threshold": fit.threshold_}


def compare(name: str, got: dict[str, Any], want: dict[str, Any], exact: bool) -> list[str]:
    """What differs between a fresh result and the recorded one (empty: nothing)."""
    from dagforge.graph import dag_to_cpdag

    problems = []
    A, B = np.array(got["adjacency"]), np.array(want["adjacency"])
    if not exact and want["refine"] == "hill_climb" and want["noise_model"] == "unequal":
        # one noise variance per variable: the BIC is score-equivalent, and a solver path
        # that moved with the BLAS kernel may end at another DAG of the same class (same
        # score); the class is what must not move
        A, B = dag_to_cpdag(A), dag_to_cpdag(B)
        what = "equivalence class (CPDAG)"
    else:
        what = "adjacency"
    if not np.array_equal(A, B):
        problems.append(f"{name}: {what} differs in {int((A != B).sum())} entries")
    for key in ("noise_model", "refine"):
        if got[key] != want[key]:
            problems.append(f"{name}: {key} {got[key]!r} != recorded {want[key]!r}")
    t, t0 = got["threshold"], want["threshold"]
    if (t != t0) if exact else not np.isclose(t, t0, rtol=1e-6, atol=0.0):
        problems.append(f"{name}: threshold {t!r} != recorded {t0!r}")
    W, W0 = np.array(got["W"]), np.array(want["W"])
    if exact and not np.array_equal(W, W0):
        problems.append(f"{name}: W_ not bit-identical (max diff {np.abs(W - W0).max():.3g})")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["record", "check"])
    parser.add_argument("--exact", action="store_true", help="check: W_ bit-identical")
    args = parser.parse_args(argv)
    if args.action == "record":
        RESULTS.write_text(json.dumps({name: run_case(name) for name in CASES}) + "\n")
        return 0
    want = json.loads(RESULTS.read_text())
    problems = [p for name in CASES for p in compare(name, run_case(name), want[name],
                                                       args.exact)]
    for p in problems:
        print(p)
    print(f"{len(CASES) - len({p.split(':')[0] for p in problems})} of {len(CASES)} cases "
          "as recorded")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
