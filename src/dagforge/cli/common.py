"""Shared pieces of the command line: the parser class, the global flags, output
directories, and the registries' choices."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, NoReturn

from dagforge.errors import DagforgeError, DataError

__all__ = [
    "Parser",
    "UsageError",
    "columns",
    "global_flags",
    "one_line",
    "out_dir",
    "registered_models",
    "registered_scores",
]


class UsageError(DagforgeError):
    """Bad command-line usage."""


class HelpFormatter(argparse.HelpFormatter):
    """Help texts that end with the option's default, where it has a meaningful one."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        meaningful = not (default is None or isinstance(default, bool)
                          or default == argparse.SUPPRESS)
        if "%(default)" not in text and meaningful and action.option_strings:
            text += " (default: %(default)s)"
        return text


class Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line naming the command, with a usage hint."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        command = self.prog.removeprefix("dagforge").strip()
        where = f"{command}: " if command else ""
        raise UsageError(f"{where}{message} (see '{self.prog} --help')")


def global_flags(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """``-v`` / ``--quiet`` / ``--debug``, accepted before and after the subcommand: the
    subcommands' copies default to SUPPRESS, so a flag given before the subcommand
    is not overwritten by the subcommand's default."""
    default: Any = False if top else argparse.SUPPRESS
    group = parser.add_argument_group("output")
    group.add_argument("-v", "--verbose", action="store_true", default=default,
                       help="log progress (INFO)")
    group.add_argument("-q", "--quiet", action="store_true", default=default,
                       help="only errors: no warnings, no progress bars")
    group.add_argument("--debug", action="store_true", default=default,
                       help="log everything and show tracebacks of internal errors")


def one_line(msg: str) -> str:
    return " ".join(str(msg).split())


def out_dir(path: str) -> Path:
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


def columns(text: str | None) -> list[str] | None:
    """The names of ``--columns a,b,c``; an empty name is an error."""
    if text is None:
        return None
    names = [c.strip() for c in text.split(",")]
    if not all(names):
        raise DataError(f"--columns {text!r}: empty column name (give names separated by "
                        "commas)")
    return names


def registered_models() -> list[str]:
    """The models of the registry (built-in and user-registered), for ``--model``."""
    from dagforge.models.registry import model_names

    return model_names()


def registered_scores() -> list[str]:
    """The scores of the registry, for ``--score``."""
    from dagforge.search.scores import score_names

    return ["auto", *score_names()]
