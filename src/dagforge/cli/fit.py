"""``dagforge fit`` and ``dagforge report``: learn a graph from a data file, and the HTML
report of any fit directory."""

from __future__ import annotations

import argparse
import contextlib
import logging
from pathlib import Path
from typing import Any

from dagforge.cli.common import (
    columns,
    one_line,
    out_dir,
    registered_models,
    registered_scores,
)
from dagforge.errors import DataError

log = logging.getLogger("dagforge")

__all__ = ["add_parsers"]

#: command-line option -> FitConfig key, for the options that override a config file
_OVERRIDES = ("model", "score", "seed", "threshold", "lambda1", "device", "knowledge",
              "missing", "regime", "targets", "interventions", "bootstrap",
              "bootstrap_jobs", "stability")


def _config(args: argparse.Namespace) -> Any:
    """The fit's settings: the config file (or the defaults), then the command line's."""
    from dagforge.config import FitConfig, load_config, parse_config

    config = load_config(args.config) if args.config else FitConfig()
    overrides = {k: getattr(args, k) for k in _OVERRIDES if getattr(args, k) is not None}
    if args.standardize:
        overrides["standardize"] = True
    typed = {name: kind for kind in ("continuous", "binary", "categorical")
             for name in (columns(getattr(args, kind)) or [])}
    if typed:
        overrides["types"] = {**(config.types or {}), **typed}
    if overrides:  # checked like the file's values
        config = parse_config({**config.model_dump(), **overrides}, "command line")
    return config


def write_report(fit_dir: Path, true: str | None = None) -> Path:
    """Write ``fit_dir/report/report.html`` for a fit directory; returns its path."""
    from dagforge.extras import require

    require("report", "matplotlib", "an HTML report")
    from dagforge.report import inputs_from_run_dir
    from dagforge.report import write_report as write

    return write(fit_dir / "report", inputs_from_run_dir(fit_dir, true=true))


def cmd_fit(args: argparse.Namespace) -> int:
    from dagforge.checkpoint import load_checkpoint
    from dagforge.datasets import load_table
    from dagforge.estimator import DagLearner
    from dagforge.knowledge import load_knowledge
    from dagforge.models.registry import get_model
    from dagforge.nonlinear import PHASE_CHECKPOINTS
    from dagforge.progress import fit_progress
    from dagforge.regimes import read_targets
    from dagforge.resume import CHECKPOINT_FILE
    from dagforge.rundir import FIT_FILES, RunManifest, write_fit

    config = _config(args)
    nonlinear = get_model(config.model).learner == "nonlinear"  # fitted from rows, resumable
    if args.resume and not nonlinear:
        raise DataError("--resume applies to the mlp and gnn models (a linear fit takes seconds)")
    if args.checkpoint_every < 0:
        raise DataError(f"--checkpoint-every must be >= 0, got {args.checkpoint_every}")
    if args.report:
        from dagforge.extras import require

        require("report", "matplotlib", "--report")  # before any work
    # read the knowledge and targets before the data: a bad file fails fast
    knowledge = load_knowledge(config.knowledge) if config.knowledge else None
    targets = read_targets(config.targets) if config.targets else None
    table = load_table(args.data, columns=columns(args.columns), missing=config.missing,
                       regime=config.regime, types=config.types)
    if table.n_dropped:
        log.warning("dropped %d of %d rows with missing values (--missing drop)",
                    table.n_dropped, table.n + table.n_dropped)
    if knowledge is not None:
        knowledge.resolve(table.names)  # unknown names: an error before the fit
    if args.resume:  # a missing or damaged checkpoint: an error before anything is written
        load_checkpoint(Path(args.out) / CHECKPOINT_FILE)
    created = not Path(args.out).exists()
    out = out_dir(args.out)
    learner = DagLearner(**{**config.learner_params(), "knowledge": knowledge})
    manifest = RunManifest(out, "fit",
                           FIT_FILES + (tuple(PHASE_CHECKPOINTS.values()) if nonlinear else ()))
    manifest.start()
    try:
        with fit_progress(f"fit {config.model}"):
            learner.fit(table.dataset(), regimes=table.regimes, targets=targets,
                        checkpoint_dir=out if nonlinear else None,
                        checkpoint_every=args.checkpoint_every, resume=args.resume)
        write_fit(out, learner, table.names, {
            "command": "fit", "data": str(args.data), "n": int(table.X.shape[0]),
            "d": int(table.X.shape[1]), "dropped_rows": table.n_dropped,
            "config": config.model_dump(),
            "knowledge": knowledge.to_dict() if knowledge is not None else None,
            "targets": targets,
        })
    except BaseException as e:
        with contextlib.suppress(OSError):  # the first error is the one to report
            manifest.fail(one_line(str(e)) or type(e).__name__)
            if created and not any(out.iterdir()):
                out.rmdir()  # nothing was written: leave no trace
        raise
    manifest.finish()
    log.info("%s; written to %s (%.1fs)", learner.summary(), out, learner.fit_seconds_)
    if args.report:
        print(f"report: {write_report(out)}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    fit_dir = Path(args.fitdir)
    if not fit_dir.is_dir():
        raise DataError(f"fit directory not found: {fit_dir}")
    print(f"report: {write_report(fit_dir, args.true)}")
    return 0


def _add_fit(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    from dagforge.config import FitConfig

    default = FitConfig()  # the defaults the help texts name
    f = sub.add_parser("fit", help="learn a DAG from a data file", parents=parents)
    f.add_argument("data", help="CSV, TSV or Parquet file (header row = variable names)")
    f.add_argument("--out", required=True, help="output directory")
    f.add_argument("--config", help="YAML or TOML file of fit settings; the options below "
                                    "override it")
    g = f.add_argument_group("learner (defaults: DagLearner's, or the config file's)")
    g.add_argument("--model", choices=registered_models(), help=f"default: {default.model}")
    g.add_argument("--score", choices=registered_scores(),
                   help="score of the refinement's search (default: auto, from the data)")
    g.add_argument("--threshold", type=_threshold, metavar="T",
                   help="edge threshold on |W|, or 'auto' (chosen by held-out likelihood); "
                        f"default {default.threshold}")
    g.add_argument("--lambda1", type=float, metavar="L",
                   help=f"L1 weight; default {default.lambda1}")
    g.add_argument("--device", choices=["auto", "cpu", "cuda"],
                   help=f"default: {default.device}")
    g.add_argument("--standardize", action="store_true", help="standardise every column")
    g.add_argument("--seed", type=int, metavar="S",
                   help="seed of every random choice of the fit (0 to 2**32-1); default: "
                        "none")
    g.add_argument("--knowledge", metavar="FILE",
                   help="prior knowledge, YAML or JSON: required / forbidden edges, tiers, "
                        "roots, sinks")
    g.add_argument("--bootstrap", type=int, metavar="B",
                   help="refit on B row resamples: edge_probability.csv and "
                        "adjacency_probability.csv")
    g.add_argument("--bootstrap-jobs", type=int, metavar="J",
                   help=f"processes for the bootstrap refits; default {default.bootstrap_jobs}")
    g.add_argument("--stability", type=float, metavar="F",
                   help="with --bootstrap: keep the edges found in at least a share F of "
                        "the refits")
    d = f.add_argument_group("data")
    d.add_argument("--columns", help="comma-separated variables to use (default: all)")
    for kind in ("categorical", "binary", "continuous"):
        d.add_argument(f"--{kind}", metavar="A,B",
                       help=f"comma-separated columns to read as {kind} (default: "
                            "inferred: text is categorical, two-valued columns binary)")
    d.add_argument("--missing", choices=["error", "drop"],
                   help="rows with missing values: refuse the data (default) or drop them")
    d.add_argument("--regime", metavar="COLUMN",
                   help="interventional data: the column holding each row's regime label")
    d.add_argument("--targets", metavar="FILE",
                   help="with --regime: JSON or YAML mapping each regime label to the "
                        "variables intervened on in it ([] = observational)")
    d.add_argument("--interventions", choices=["perfect", "soft"],
                   help="perfect: an intervened variable's mechanism is replaced "
                        "(default); soft: it has its own parameters in its regime")
    r = f.add_argument_group("run")
    r.add_argument("--report", action="store_true",
                   help="also write OUT/report/report.html (needs dagforge[report])")
    r.add_argument("--checkpoint-every", type=int, default=0, metavar="K",
                   help="mlp/gnn with the Adam trainer: also checkpoint every K epochs")
    r.add_argument("--resume", action="store_true",
                   help="mlp/gnn: continue the interrupted fit whose checkpoint is in --out")
    f.set_defaults(func=cmd_fit)


def _threshold(text: str) -> float | str:
    if text == "auto":
        return text
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a number or 'auto', got {text!r}") from None


def add_parsers(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    """``fit`` and ``report`` on the subparsers ``sub``."""
    _add_fit(sub, parents)
    rep = sub.add_parser("report", help="write the HTML report of a fit directory",
                         parents=parents)
    rep.add_argument("fitdir", help="a directory written by 'dagforge fit'")
    rep.add_argument("--true", metavar="EDGES",
                     help="the true graph (edge list or adjacency CSV), to evaluate against")
    rep.set_defaults(func=cmd_report)
