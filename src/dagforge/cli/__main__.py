"""``python -m dagforge.cli``: the ``dagforge`` command."""

import sys

from dagforge.cli.app import main

sys.exit(main())
