"""The ``dagforge`` command: its parser, the pipeline and config commands, and ``main``.

Exit codes: 0 on success, 2 on bad input or usage (one line on stderr starting
``dagforge: error:``, no traceback, no partial output), 1 on an unexpected internal
error (one line; ``--debug`` shows the traceback), 130 when interrupted, 141 (quietly)
when the reader of stdout goes away (``dagforge evaluate ... | head``).

``-v`` / ``--quiet`` / ``--debug`` work before and after the subcommand.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence

from dagforge import __version__
from dagforge.cli import data, fit
from dagforge.cli.common import Parser, global_flags, one_line, out_dir
from dagforge.errors import DagforgeError, DataError

log = logging.getLogger("dagforge")

__all__ = ["build_parser", "main"]


def cmd_run(args: argparse.Namespace) -> int:
    from dagforge.pipeline import load_pipeline, run_pipeline

    config, base = load_pipeline(args.config)
    run_dir = None
    if args.run_dir is not None:
        run_dir = out_dir(args.run_dir)
    if args.resume and run_dir is None:
        from dagforge.pipeline import latest_run_dir

        run_dir = latest_run_dir(config)
        if run_dir is None:
            raise DataError(f"--resume: no earlier run of {config.name!r} under {config.out}")
    if not args.quiet:  # the pipeline's progress lines are shown even without --verbose
        logging.getLogger("dagforge.pipeline").setLevel(logging.INFO)
    out = run_pipeline(config, base, run_dir=run_dir, resume=args.resume)
    print(f"run directory: {out}")
    if config.report:
        print(f"report: {out / 'summary.html'}")
    return 0


def cmd_config_schema(args: argparse.Namespace) -> int:
    from dagforge.config import FitConfig

    sys.stdout.write(json.dumps(FitConfig.model_json_schema(), indent=2) + "\n")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog="dagforge", description="Learn causal DAGs from data, honestly evaluated.")
    p.add_argument("--version", action="version", version=f"dagforge {__version__}")
    global_flags(p, top=True)
    common = argparse.ArgumentParser(add_help=False)
    global_flags(common, top=False)
    parents = [common]
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)
    data.add_parsers(sub, parents)
    fit.add_parsers(sub, parents)
    r = sub.add_parser("run", help="run a pipeline config: data sets x models, reports",
                       parents=parents)
    r.add_argument("config", help="pipeline config (YAML or TOML)")
    r.add_argument("--resume", action="store_true",
                   help="continue the latest run of this config (or --run-dir), skipping "
                        "finished steps")
    r.add_argument("--run-dir", help="run directory (default: <out>/<timestamp>-<name>)")
    r.set_defaults(func=cmd_run)
    c = sub.add_parser("config", help="the settings of 'dagforge fit --config'",
                       parents=parents)
    csub = c.add_subparsers(dest="config_command", required=True, parser_class=Parser)
    schema = csub.add_parser("schema", help="print the JSON schema of a fit config",
                             parents=parents)
    schema.set_defaults(func=cmd_config_schema)
    return p


#: Loggers whose INFO lines are shown without ``--verbose`` (a pipeline's progress).
_ALWAYS_SHOWN = ("dagforge.pipeline",)


def _logging(args: argparse.Namespace) -> logging.Handler:
    """A stderr handler on the ``dagforge`` logger showing what the flags ask for: errors
    only (``--quiet``), warnings (the default; plus a pipeline's progress), INFO
    (``-v``) or everything (``--debug``). The handler filters, so a progress bar may
    lower the logger's level to see the fit's steps without printing them."""
    if args.debug:
        level = logging.DEBUG
    elif args.quiet:
        level = logging.ERROR
    else:
        level = logging.INFO if args.verbose else logging.WARNING
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.addFilter(lambda r: r.levelno >= level or (
        not args.quiet and r.levelno >= logging.INFO and r.name in _ALWAYS_SHOWN))
    log.addHandler(handler)
    log.setLevel(level)
    return handler


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``dagforge`` console script; returns the exit code."""
    argv = list(argv) if argv is not None else sys.argv[1:]
    debug = "--debug" in argv
    try:
        args = build_parser().parse_args(argv)
        if args.verbose and args.quiet:
            raise DataError("--verbose and --quiet contradict each other")
        handler = _logging(args)
        func: Callable[[argparse.Namespace], int] = args.func
        try:
            if args.quiet:
                from dagforge.progress import quiet

                with quiet():
                    return func(args)
            return func(args)
        finally:
            log.removeHandler(handler)
            log.setLevel(logging.NOTSET)
    except DagforgeError as e:
        sys.stderr.write(f"dagforge: error: {one_line(str(e))}\n")
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
            f"dagforge: internal error: {type(e).__name__}: {one_line(str(e))} "
            "(run with --debug for the traceback)\n"
        )
        return 1
