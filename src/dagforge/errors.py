"""Exception types raised by dagforge for problems the user can fix.

Every error a user can cause (a bad file, a bad option, contradictory input)
is a :class:`DagforgeError`. The command line turns it into one line on stderr
and exit code 2; library users can catch it, or the more specific subclasses.
"""

from __future__ import annotations


class DagforgeError(Exception):
    """Base class of every user-facing dagforge error."""


class DataError(DagforgeError, ValueError):
    """The data cannot be used as given (missing file, NaN, constant column, ...)."""


class GraphError(DagforgeError, ValueError):
    """A graph or graph file is malformed (unknown node, self-loop, not square, ...)."""


class ConfigError(DagforgeError, ValueError):
    """A configuration file or option is invalid (unknown key, wrong type, ...)."""


class SolverError(DagforgeError, RuntimeError):
    """Optimisation failed in a way that cannot be recovered (NaN after retries, ...)."""
