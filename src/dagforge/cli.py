"""The ``dagforge`` command line: a thin layer over the library.

Exit codes: 0 on success, 2 on bad input or usage (one line on stderr, no
traceback, no partial output), 1 on an unexpected internal error (one line;
``--debug`` shows the traceback), 130 when interrupted, 141 (quietly) when the
reader of stdout goes away (``dagforge evaluate ... | head``).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

import numpy as np

from dagforge import __version__
from dagforge._io import to_json
from dagforge.errors import DagforgeError, DataError

log = logging.getLogger("dagforge")


class _UsageError(DagforgeError):
    """Bad command-line usage."""


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line and exit code 2."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(f"{self.prog}: {message}")


def _out_dir(path: str) -> Path:
    """Create (if needed) and check an output directory before any work is written."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise DataError(f"output path exists and is not a directory: {p}")
    try:
        p.mkdir(parents=True, exist_ok=True)
        probe = p / ".dagforge-write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as e:
        raise DataError(f"cannot write to output directory {p}: {e.strerror}") from e
    return p


# --------------------------------------------------------------------------- commands


def cmd_simulate(args: argparse.Namespace) -> int:
    from dagforge.rundir import write_dataset
    from dagforge.simulate import simulate

    out = _out_dir(args.out)
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
    out = _out_dir(args.out)
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
}


def _columns(text: str | None) -> list[str] | None:
    """The names of ``--columns a,b,c``; an empty name is an error."""
    if text is None:
        return None
    names = [c.strip() for c in text.split(",")]
    if not all(names):
        raise DataError(f"--columns {text!r}: empty column name (give names separated by "
                        "commas)")
    return names


def cmd_fit(args: argparse.Namespace) -> int:
    from dagforge.checkpoint import load_checkpoint
    from dagforge.config import FitConfig, load_config, parse_config
    from dagforge.datasets import load_table
    from dagforge.estimator import DagLearner
    from dagforge.knowledge import load_knowledge
    from dagforge.nonlinear import PHASE_CHECKPOINTS
    from dagforge.regimes import read_targets
    from dagforge.resume import CHECKPOINT_FILE
    from dagforge.rundir import FIT_FILES, RunManifest, write_fit

    config = load_config(args.config) if args.config else FitConfig()
    overrides = {"model": args.model, "score": args.score, "seed": args.seed,
                 "standardize": True if args.standardize else None,
                 "knowledge": args.knowledge, "missing": args.missing,
                 "regime": args.regime, "targets": args.targets,
                 "interventions": args.interventions,
                 "bootstrap": args.bootstrap, "bootstrap_jobs": args.bootstrap_jobs,
                 "stability": args.stability}
    overrides = {k: v for k, v in overrides.items() if v is not None}
    if overrides:  # checked like the file's values
        config = parse_config({**config.model_dump(), **overrides}, "command line")
    from dagforge.models.registry import get_model

    nonlinear = get_model(config.model).learner == "nonlinear"  # fitted from rows, resumable
    if args.resume and not nonlinear:
        raise DataError("--resume applies to the mlp and gnn models (a linear fit takes seconds)")
    if args.checkpoint_every < 0:
        raise DataError(f"--checkpoint-every must be >= 0, got {args.checkpoint_every}")
    # read the knowledge and targets before the data: a bad file fails fast
    knowledge = load_knowledge(config.knowledge) if config.knowledge else None
    targets = read_targets(config.targets) if config.targets else None
    table = load_table(args.data, columns=_columns(args.columns), missing=config.missing,
                       regime=config.regime)
    if table.n_dropped:
        log.warning("dropped %d of %d rows with missing values (--missing drop)",
                    table.n_dropped, table.n + table.n_dropped)
    if knowledge is not None:
        knowledge.resolve(table.names)  # unknown names: an error before the fit
    if args.resume:  # a missing or damaged checkpoint: an error before anything is written
        load_checkpoint(Path(args.out) / CHECKPOINT_FILE)
    created = not Path(args.out).exists()
    out = _out_dir(args.out)
    learner = DagLearner(**{**config.learner_params(), "knowledge": knowledge})
    manifest = RunManifest(out, "fit",
                           FIT_FILES + (tuple(PHASE_CHECKPOINTS.values()) if nonlinear else ()))
    manifest.start()
    try:
        learner.fit(table.X, names=table.names, regimes=table.regimes, targets=targets,
                    checkpoint_dir=out if nonlinear else None,
                    checkpoint_every=args.checkpoint_every, resume=args.resume)
        write_fit(out, learner, table.names, {
            "command": "fit",
            "data": str(args.data),
            "n": int(table.X.shape[0]),
            "d": int(table.X.shape[1]),
            "dropped_rows": table.n_dropped,
            "config": config.model_dump(),
            "knowledge": knowledge.to_dict() if knowledge is not None else None,
            "targets": targets,
        })
    except BaseException as e:
        with contextlib.suppress(OSError):  # the first error is the one to report
            manifest.fail(_one_line(str(e)) or type(e).__name__)
            if created and not any(out.iterdir()):
                out.rmdir()  # nothing was written: leave no trace
        raise
    manifest.finish()
    log.info("%d edges written to %s (%.1fs)", int(learner.adjacency_.sum()), out,
             learner.fit_seconds_)
    return 0


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
    out = _out_dir(args.dir)
    write_dataset(out, data.X.to_numpy(), list(data.X.columns), data.B, data.regimes,
                  data.targets)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from dagforge.pipeline import load_pipeline, run_pipeline

    config, base = load_pipeline(args.config)
    run_dir = None
    if args.run_dir is not None:
        run_dir = _out_dir(args.run_dir)
    if args.resume and run_dir is None:
        from dagforge.pipeline import latest_run_dir

        run_dir = latest_run_dir(config)
        if run_dir is None:
            raise DataError(f"--resume: no earlier run of {config.name!r} under {config.out}")
    # the pipeline's progress lines are shown even without --verbose
    logging.getLogger("dagforge.pipeline").setLevel(logging.INFO)
    out = run_pipeline(config, base, run_dir=run_dir, resume=args.resume)
    print(f"run directory: {out}")
    if config.report:
        print(f"report: {out / 'summary.html'}")
    return 0


# --------------------------------------------------------------------------- parser


def _registered_models() -> list[str]:
    """The models of the registry (built-in and user-registered), for ``--model``."""
    from dagforge.models.registry import model_names

    return model_names()


def _registered_scores() -> list[str]:
    """The scores of the registry, for ``--score``."""
    from dagforge.search.scores import score_names

    return ["auto", *score_names()]



def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="dagforge", description="Learn causal DAGs from data, honestly evaluated.")
    p.add_argument("--version", action="version", version=f"dagforge {__version__}")
    p.add_argument("-v", "--verbose", action="store_true", help="log progress (INFO)")
    p.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    s = sub.add_parser("simulate", help="simulate data from a random DAG")
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
    s.set_defaults(func=cmd_simulate)

    e = sub.add_parser("evaluate", help="compare a predicted graph with the true graph")
    e.add_argument("--true", required=True, help="true graph (edge list or adjacency CSV)")
    e.add_argument("--pred", required=True, help="predicted graph (edge list or adjacency CSV)")
    e.add_argument("--scores", help="edge scores (e.g. weights.csv) for AUPRC / AUROC")
    e.add_argument("--format", choices=["json", "table"], default="json")
    e.set_defaults(func=cmd_evaluate)

    b = sub.add_parser("baseline", help="run a baseline method on a data file")
    b.add_argument("method", choices=["empty", "sortnregress", "r2_sortnregress"])
    b.add_argument("data", help="CSV, TSV or Parquet file")
    b.add_argument("--out", required=True, help="output directory")
    b.set_defaults(func=cmd_baseline)

    f = sub.add_parser("fit", help="learn a DAG from a data file")
    f.add_argument("data", help="CSV, TSV or Parquet file (header row = variable names)")
    f.add_argument("--model", choices=_registered_models(), default=None,
                   help="default: linear")
    f.add_argument("--score", choices=_registered_scores(), default=None,
                   help="score of the refinement's search (default: auto, from the data)")
    f.add_argument("--config", help="YAML or TOML file of fit settings")
    f.add_argument("--seed", type=int, default=None)
    f.add_argument("--standardize", action="store_true", help="standardise every column")
    f.add_argument("--columns", help="comma-separated variables to use (default: all)")
    f.add_argument("--knowledge", metavar="FILE",
                   help="prior knowledge, YAML or JSON: required / forbidden edges, tiers, "
                        "roots, sinks")
    f.add_argument("--regime", metavar="COLUMN",
                   help="interventional data: the column holding each row's regime label")
    f.add_argument("--targets", metavar="FILE",
                   help="with --regime: JSON or YAML mapping each regime label to the "
                        "variables intervened on in it ([] = observational)")
    f.add_argument("--interventions", choices=["perfect", "soft"], default=None,
                   help="perfect: an intervened variable's mechanism is replaced "
                        "(default); soft: it has its own parameters in its regime")
    f.add_argument("--missing", choices=["error", "drop"], default=None,
                   help="rows with missing values: refuse the data (default) or drop them")
    f.add_argument("--bootstrap", type=int, default=None, metavar="B",
                   help="refit on B row resamples: edge frequencies in edge_probability.csv")
    f.add_argument("--bootstrap-jobs", type=int, default=None, metavar="J",
                   help="processes for the bootstrap refits (default 1)")
    f.add_argument("--stability", type=float, default=None, metavar="F",
                   help="with --bootstrap: keep the edges found in at least a share F of "
                        "the refits")
    f.add_argument("--out", required=True, help="output directory")
    f.add_argument("--checkpoint-every", type=int, default=0, metavar="K",
                   help="mlp/gnn with the Adam trainer: also checkpoint every K epochs")
    f.add_argument("--resume", action="store_true",
                   help="mlp/gnn: continue the interrupted fit whose checkpoint is in --out")
    f.set_defaults(func=cmd_fit)

    x = sub.add_parser("export", help="convert a graph file to another format")
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
    x.set_defaults(func=cmd_export)

    r = sub.add_parser("run", help="run a pipeline config: data sets x models, reports")
    r.add_argument("config", help="pipeline config (YAML or TOML)")
    r.add_argument("--resume", action="store_true",
                   help="continue the latest run of this config (or --run-dir), skipping "
                        "finished steps")
    r.add_argument("--run-dir", default=None, help="run directory (default: "
                   "<out>/<timestamp>-<name>)")
    r.set_defaults(func=cmd_run)

    ds = sub.add_parser("datasets", help="shipped data sets")
    dsub = ds.add_subparsers(dest="datasets_command", required=True, parser_class=_Parser)
    dl = dsub.add_parser("list", help="list the shipped data sets")
    dl.set_defaults(func=cmd_datasets_list)
    dx = dsub.add_parser("export", help="write a data set's data.csv and true_edges.csv")
    dx.add_argument("name")
    dx.add_argument("dir", help="output directory")
    dx.add_argument("--n", type=int, default=None, help="rows to sample (Gaussian BNs)")
    dx.add_argument("--seed", type=int, default=0)
    dx.set_defaults(func=cmd_datasets_export)
    return p


def _one_line(msg: str) -> str:
    return " ".join(str(msg).split())


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``dagforge`` console script; returns the exit code."""
    parser = build_parser()
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        args = parser.parse_args(argv)
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO if args.verbose else logging.WARNING)
        func: Callable[[argparse.Namespace], int] = args.func
        try:
            return func(args)
        finally:
            log.removeHandler(handler)
    except DagforgeError as e:
        sys.stderr.write(f"dagforge: error: {_one_line(str(e))}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("dagforge: interrupted\n")
        return 130
    except BrokenPipeError:  # the reader went away (``dagforge evaluate ... | head``)
        with contextlib.suppress(OSError, ValueError):  # no second error at exit
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, as a shell reports a process killed by it
    except Exception as e:  # an internal error: one line, traceback with --debug
        if debug:
            raise
        sys.stderr.write(
            f"dagforge: internal error: {type(e).__name__}: {_one_line(str(e))} "
            "(run with --debug for the traceback)\n"
        )
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
