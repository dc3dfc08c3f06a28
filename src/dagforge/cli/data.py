"""``dagforge simulate``, ``evaluate``, ``baseline``, ``export`` and ``datasets``: data and
graph files in and out."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from dagforge._io import to_json
from dagforge.cli.common import Parser, out_dir
from dagforge.errors import DataError

log = logging.getLogger("dagforge")

__all__ = ["add_parsers"]


def cmd_simulate(args: argparse.Namespace) -> int:
    from dagforge.rundir import write_dataset
    from dagforge.simulate import simulate

    out = out_dir(args.out)
    data = simulate(
        graph=args.graph,
        k=args.k,
        d=args.d,
        n=args.n,
        sem=args.sem,
        noise=args.noise,
        noise_scales=args.noise_scales,
        standardize=args.standardize,
        rng=np.random.default_rng(args.seed),
    )
    write_dataset(out, data.X, data.names, data.W)
    log.info("wrote %s/data.csv (%d x %d) and true_edges.csv (%d edges)",
             out, data.X.shape[0], data.X.shape[1], int(np.count_nonzero(data.B)))
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from dagforge.graph import align_graphs, read_graph
    from dagforge.metrics import evaluate

    W_true, n_true = read_graph(args.true)
    W_pred, n_pred = read_graph(args.pred)
    T, P, names = align_graphs(W_true, n_true, W_pred, n_pred)
    scores = None
    if args.scores:
        W_s, n_s = read_graph(args.scores)
        unknown = [n for n in n_s if n not in set(names)]
        if unknown:
            raise DataError(f"{args.scores}: unknown node name {unknown[0]!r}")
        _, S, _ = align_graphs(T, names, np.abs(W_s), n_s)
        scores = S
    result = evaluate(true=T, pred=P, scores=scores)
    if args.format == "json":
        sys.stdout.write(to_json(result))
    else:
        width = max(len(k) for k in result)
        for k, v in result.items():
            val = f"{v:.4f}" if isinstance(v, float) else str(v)
            sys.stdout.write(f"{k:<{width}}  {val}\n")
    return 0


def cmd_baseline(args: argparse.Namespace) -> int:
    from dagforge.baselines import run_baseline
    from dagforge.datasets import load_table
    from dagforge.graph import write_adjacency, write_edge_list

    table = load_table(args.data)
    out = out_dir(args.out)
    W = run_baseline(args.method, table.X)
    write_adjacency(out / "adjacency.csv", W, table.names)
    write_edge_list(out / "edges.csv", W, table.names)
    log.info("%s: %d edges written to %s", args.method, int(np.count_nonzero(W)), out)
    return 0


_DATASET_NOTES = {
    "sachs": "Sachs et al. 2005 flow cytometry, 853 x 11, 17-edge consensus graph",
    "sachs-interventional": "the same, 5,846 cells in 7 conditions (5 inhibitors): regimes",
    "ecoli70": "Gaussian BN (bnlearn), 46 nodes, 70 arcs; sampled, --n rows",
    "magic-niab": "Gaussian BN (bnlearn), 44 nodes, 66 arcs; sampled, --n rows",
    "magic-irri": "Gaussian BN (bnlearn), 64 nodes, 102 arcs; sampled, --n rows",
    "arth150": "Gaussian BN (bnlearn), 107 nodes, 150 arcs; sampled, --n rows",
    "asia": "discrete BN (bnlearn), 8 nodes, 8 arcs; sampled, --n rows",
    "sachs-discrete": "discrete BN (bnlearn), 11 nodes, 17 arcs; sampled, --n rows",
    "child": "discrete BN (bnlearn), 20 nodes, 25 arcs; sampled, --n rows",
    "insurance": "discrete BN (bnlearn), 27 nodes, 52 arcs; sampled, --n rows",
    "alarm": "discrete BN (bnlearn), 37 nodes, 46 arcs; sampled, --n rows",
}


def cmd_export(args: argparse.Namespace) -> int:
    from dagforge.export import read_graph, write_graph

    W, names = read_graph(args.graph, format=args.from_format)
    fmt = write_graph(args.to, W, names, format=args.format)
    log.info("wrote %s (%s, %d nodes, %d edges)", args.to, fmt, len(names),
             int(np.count_nonzero(W)))
    return 0


def cmd_datasets_list(args: argparse.Namespace) -> int:
    from dagforge.datasets import list_datasets

    for name in list_datasets():
        sys.stdout.write(f"{name:<20} {_DATASET_NOTES.get(name, '')}\n")
    return 0


def cmd_datasets_export(args: argparse.Namespace) -> int:
    from dagforge.datasets import load_shipped
    from dagforge.rundir import write_dataset

    data = load_shipped(args.name, n=args.n, rng=np.random.default_rng(args.seed))
    out = out_dir(args.dir)
    write_dataset(out, data.X.to_numpy(), list(data.X.columns), data.B, data.regimes,
                  data.targets)
    return 0


def add_parsers(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    """The data and graph subcommands, on the subparsers ``sub``."""
    def add(name: str, help_: str, func: Callable[[argparse.Namespace], int]) -> Any:
        cmd = sub.add_parser(name, help=help_, parents=parents)
        cmd.set_defaults(func=func)
        return cmd

    s = add("simulate", "simulate data from a random DAG", cmd_simulate)
    s.add_argument("--graph", choices=["er", "sf"], default="er")
    s.add_argument("--k", type=float, default=2, help="expected edges per node (default 2)")
    s.add_argument("--d", type=int, default=20, help="number of variables")
    s.add_argument("--n", type=int, default=1000, help="number of rows")
    s.add_argument("--sem", choices=["linear", "mlp", "additive", "index"], default="linear")
    s.add_argument("--noise", choices=["gauss", "exp", "gumbel", "uniform"], default="gauss")
    s.add_argument("--noise-scales", choices=["equal", "unequal"], default="equal")
    s.add_argument("--standardize", action="store_true", help="standardise every column")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--out", required=True, help="output directory")

    e = add("evaluate", "compare a predicted graph with the true graph", cmd_evaluate)
    e.add_argument("--true", required=True, help="true graph (edge list or adjacency CSV)")
    e.add_argument("--pred", required=True, help="predicted graph (edge list or adjacency CSV)")
    e.add_argument("--scores", help="edge scores (e.g. weights.csv) for AUPRC / AUROC")
    e.add_argument("--format", choices=["json", "table"], default="json")

    b = add("baseline", "run a baseline method on a data file", cmd_baseline)
    b.add_argument("method", choices=["empty", "sortnregress", "r2_sortnregress"])
    b.add_argument("data", help="CSV, TSV or Parquet file")
    b.add_argument("--out", required=True, help="output directory")

    x = add("export", "convert a graph file to another format", cmd_export)
    x.add_argument("graph", help="graph file: .csv (edge list or adjacency), .graphml, .gml, "
                                 ".dot, .json")
    x.add_argument("--to", required=True, metavar="FILE",
                   help="output file; the format follows its suffix (.graphml, .gml, .dot, "
                        ".json, .csv)")
    x.add_argument("--format", choices=["graphml", "gml", "dot", "json", "edges", "adjacency"],
                   help="output format (default: from the suffix of --to)")
    x.add_argument("--from-format", choices=["graphml", "gml", "dot", "json", "edges",
                                             "adjacency"],
                   help="input format (default: from the suffix of GRAPH)")

    ds = sub.add_parser("datasets", help="shipped data sets", parents=parents)
    dsub = ds.add_subparsers(dest="datasets_command", required=True, parser_class=Parser)
    dl = dsub.add_parser("list", help="list the shipped data sets", parents=parents)
    dl.set_defaults(func=cmd_datasets_list)
    dx = dsub.add_parser("export", help="write a data set's data.csv and true_edges.csv",
                         parents=parents)
    dx.add_argument("name")
    dx.add_argument("dir", help="output directory")
    dx.add_argument("--n", type=int, default=None, help="rows to sample (Gaussian BNs)")
    dx.add_argument("--seed", type=int, default=0)
    dx.set_defaults(func=cmd_datasets_export)
