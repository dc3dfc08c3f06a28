"""Optional parts of dagforge and the extra that installs each.

==========  =====================  =========================================
extra       installs               needed for
==========  =====================  =========================================
report      matplotlib             HTML reports, ``plot()``, notebook drawings
parquet     pyarrow                reading ``.parquet`` data files
bench       peers of the benchmarks  ``benchmarks/`` only
==========  =====================  =========================================

:func:`require` turns a missing one into a one-line error naming the extra.
"""

from __future__ import annotations

import importlib

from dagforge.errors import ConfigError

__all__ = ["require"]


def require(extra: str, module: str, what: str) -> None:
    """Raise a one-line ConfigError unless ``module`` imports: ``what`` needs it, and
    ``pip install 'dagforge[extra]'`` installs it."""
    try:
        importlib.import_module(module)
    except ImportError:
        raise ConfigError(f"{what} needs {module}, which is not installed: "
                          f"pip install 'dagforge[{extra}]'") from None
