"""Progress bars (dagforge.progress): drawn on a terminal only, counting a fit's logged
steps, and off inside quiet()."""

from __future__ import annotations

import io
import logging
import sys
import time

from dagforge import progress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_fit_progress_counts_the_logged_steps(monkeypatch) -> None:
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)  # in the test body: pytest's capture
    logger = logging.getLogger("dagforge.solvers.test")  # re-sets stderr between phases
    with progress.fit_progress("fit linear"):
        for k in range(3):
            time.sleep(0.12)  # past tqdm's 0.1 s refresh interval
            logger.info("stage %d", k)
        logger.debug("not a step")
    text = terminal.getvalue()
    assert "fit linear: 3 steps" in text and "stage 2" in text
    assert logging.getLogger("dagforge").level == logging.NOTSET  # restored


def test_no_bar_inside_quiet_or_off_a_terminal(monkeypatch) -> None:
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert progress.enabled()
    with progress.quiet():
        assert not progress.enabled()
        with progress.fit_progress("fit"):
            logging.getLogger("dagforge.x").info("step")
    assert terminal.getvalue() == "" and progress.enabled()
    monkeypatch.setattr(sys, "stderr", io.StringIO())  # not a terminal
    assert not progress.enabled()
