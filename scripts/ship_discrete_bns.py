"""Convert the discrete Bayesian networks dagforge ships from pgmpy's BIF files to JSON.

Usage (needs the ``bench`` extra, which brings pgmpy)::

    python scripts/ship_discrete_bns.py [asia sachs child insurance alarm]

Reads ``pgmpy/utils/example_models/NAME.bif.gz`` (the bnlearn repository's networks,
shipped inside pgmpy's wheel) and writes
``src/dagforge/datasets/data/discrete-bn/NAME.json``: ``nodes`` (in a topological
order), per node its ``states``, ``parents`` and ``cpt`` (a list of rows, one per state,
columns the parents' joint configurations with the first parent varying slowest), the
layout :func:`dagforge.simulate.discrete_bn_sample` reads.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import networkx as nx

OUT = Path(__file__).resolve().parents[1] / "src" / "dagforge" / "datasets" / "data" / \
    "discrete-bn"
DEFAULT = ("asia", "sachs", "child", "insurance", "alarm")


def convert(name: str) -> dict:
    import warnings

    from pgmpy.utils import get_example_model

    with warnings.catch_warnings():  # its successor fetches from a hub: offline here
        warnings.simplefilter("ignore", FutureWarning)
        model = get_example_model(name)
    order = list(nx.topological_sort(nx.DiGraph(model.edges())))
    order += [v for v in model.nodes() if v not in order]  # isolated nodes
    out = {"name": name, "source": "bnlearn repository via pgmpy's example models",
           "nodes": order, "cpds": {}}
    for v in order:
        cpd = model.get_cpds(v)
        parents = list(cpd.variables[1:])
        values = cpd.get_values()  # [r, prod of parent cards], first parent slowest
        out["cpds"][v] = {"states": [str(s) for s in cpd.state_names[v]],
                          "parents": parents,
                          "cpt": [[round(float(x), 10) for x in row] for row in values]}
    return out


def main(names: list[str]) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name in names or DEFAULT:
        (OUT / f"{name}.json").write_text(json.dumps(convert(name), separators=(",", ":")))
        print(f"wrote {OUT / f'{name}.json'}")


if __name__ == "__main__":
    main(sys.argv[1:])
