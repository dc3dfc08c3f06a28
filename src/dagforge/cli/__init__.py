"""The ``dagforge`` command line: a thin layer over the library (see
:mod:`dagforge.cli.app` for the exit codes and the global flags).

* :mod:`~dagforge.cli.common`: the parser class, global flags, output directories;
* :mod:`~dagforge.cli.data`: ``simulate``, ``evaluate``, ``baseline``, ``export``,
  ``datasets``;
* :mod:`~dagforge.cli.fit`: ``fit`` and ``report``;
* :mod:`~dagforge.cli.app`: ``run``, ``config schema``, the parser and :func:`main`.
"""

from dagforge.cli.app import build_parser, main

__all__ = ["build_parser", "main"]
