"""Progress bars: on a terminal only, off inside :func:`quiet`, and one for any fit.

Every bar dagforge draws (the mini-batch trainer's epochs, the bootstrap refits, and
the :func:`fit_progress` bar of a whole fit) goes to stderr, only when stderr is a
terminal and :func:`enabled` says so. :func:`quiet` turns them off for the code it
wraps (a context variable, so nothing global changes). :func:`fit_progress` shows how
far a fit is by counting the steps the solvers and searches log (their INFO records:
outer stages, inner solves, refinement starts), with the latest as the bar's text, so
that a fit of a nonlinear model that runs for a minute says what it is doing.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import sys
from collections.abc import Iterator

from tqdm import tqdm

__all__ = ["enabled", "fit_progress", "quiet"]

_ENABLED: contextvars.ContextVar[bool] = contextvars.ContextVar("dagforge_progress",
                                                                default=True)


def enabled() -> bool:
    """Whether a progress bar may be drawn now: not inside :func:`quiet`, and stderr is
    a terminal."""
    return _ENABLED.get() and sys.stderr.isatty()


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """No progress bars inside the block."""
    token = _ENABLED.set(False)
    try:
        yield
    finally:
        _ENABLED.reset(token)


class _BarHandler(logging.Handler):
    """Advances a bar by one for every INFO record, its text the record's message."""

    def __init__(self, bar: tqdm) -> None:
        super().__init__(level=logging.INFO)
        self.bar = bar

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno != logging.INFO:
            return
        text = record.getMessage()
        self.bar.set_postfix_str(text[:60], refresh=False)
        self.bar.update()


@contextlib.contextmanager
def fit_progress(desc: str) -> Iterator[None]:
    """A bar for the block (a fit) counting the steps dagforge logs at INFO; nothing
    when :func:`enabled` is False. The ``dagforge`` logger's level is lowered to INFO
    for the block if needed, so the bar sees the steps; what is printed is up to the
    handlers, whose levels are left alone."""
    if not enabled():
        yield
        return
    logger = logging.getLogger("dagforge")
    bar = tqdm(desc=desc, unit="step", file=sys.stderr, leave=False,
               bar_format="{desc}: {n} steps [{elapsed}]{postfix}")
    handler = _BarHandler(bar)
    old_level = logger.level
    if logger.getEffectiveLevel() > logging.INFO:
        logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
        bar.close()
