"""docs/user-guide.md works as written: its examples are run, in order, in an empty folder.

The guide's fenced blocks, by language:

* ``bash``: every line starting with ``dagforge`` is run in-process
  (:func:`dagforge.cli.main`) and must exit 0; the other lines are the install
  commands (``make``, ``pip``, ``python -m venv``, ``source``), not run;
* ``python``: run with :func:`exec`, all blocks sharing one namespace;
* ``yaml title="NAME"``: written to the file ``NAME`` (configs, knowledge);
* ``text`` right after a ``python`` block: what that block prints, compared;
* ``text`` starting with ``$ ``: a transcript; each command is run and its
  output (stdout and stderr) compared with the lines below it;
* ``console``: commands shown but not run (nonlinear fits take minutes); each
  must parse with the real argument parser.
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
from pathlib import Path

import pytest

from dagforge.cli import build_parser, main

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "user-guide.md"
FENCE = re.compile(r"^```(\w*)([^\n]*)\n(.*?)^```\s*$", re.S | re.M)
INSTALL = ("make ", "pip ", "python -m venv ", "source ")


def blocks() -> list[tuple[str, str, str]]:
    """(language, info after it, body) of every fenced block, in order."""
    return [(m[1], m[2].strip(), m[3]) for m in FENCE.finditer(GUIDE.read_text("utf-8"))]


def shell_lines(body: str) -> list[str]:
    """Logical lines (backslash continuations joined), without comments and blanks."""
    text = body.replace("\\\n", " ")
    return [line.strip() for line in text.splitlines()
            if line.strip() and not line.strip().startswith("#")]


def run_cli(line: str) -> tuple[int, str]:
    """Run ``dagforge ...`` in-process; (exit code, stdout + stderr)."""
    argv = shlex.split(line, comments=True)
    assert argv[0] == "dagforge", line
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = main(argv[1:])
    return code, out.getvalue()


def check_transcript(body: str) -> None:
    lines = body.rstrip("\n").splitlines()
    starts = [k for k, line in enumerate(lines) if line.startswith("$ ")]
    for k, start in enumerate(starts):
        end = starts[k + 1] if k + 1 < len(starts) else len(lines)
        _, output = run_cli(lines[start][2:])
        assert output.rstrip("\n").splitlines() == lines[start + 1:end], lines[start]


def test_every_example_of_the_user_guide_works(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "user_guide"}
    parser = build_parser()
    last_python_output: str | None = None
    counts = {"dagforge": 0, "python": 0, "file": 0, "compared": 0}
    for k, (lang, info, body) in enumerate(blocks()):
        where = f"{GUIDE.name} block {k + 1} ({lang})"
        printed, last_python_output = last_python_output, None
        if lang == "bash":
            for line in shell_lines(body):
                if line.startswith(INSTALL):
                    continue
                code, output = run_cli(line)
                assert code == 0, f"{where}: {line}\n{output}"
                counts["dagforge"] += 1
        elif lang == "python":
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                exec(compile(body, where, "exec"), namespace)
            last_python_output = out.getvalue()
            counts["python"] += 1
        elif lang == "yaml":
            name = re.fullmatch(r'title="([^"]+)"', info)
            assert name, f"{where}: a yaml block needs title=\"FILE\""
            Path(name[1]).write_text(body, encoding="utf-8")
            counts["file"] += 1
        elif lang == "text" and body.startswith("$ "):
            check_transcript(body)
            counts["compared"] += 1
        elif lang == "text":
            assert printed is not None, f"{where}: a text block follows a python block"
            assert printed.rstrip() == body.rstrip(), f"{where}: the output differs"
            counts["compared"] += 1
        elif lang == "console":
            for line in shell_lines(body):
                argv = shlex.split(line.removeprefix("$ "))
                assert argv[0] == "dagforge", line
                parser.parse_args(argv[1:])  # a usage error raises
        else:
            pytest.fail(f"{where}: unknown block language {lang!r}")
    assert counts["dagforge"] >= 10 and counts["python"] >= 6 and counts["compared"] >= 3
