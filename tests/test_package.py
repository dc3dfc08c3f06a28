"""The package's front door: the names users import, and a cheap ``import dagforge``."""

from __future__ import annotations

import subprocess
import sys

import pytest


def test_the_main_names_import_from_the_package() -> None:
    from dagforge import DagLearner, Dataset
    from dagforge.data import Dataset as DataModel
    from dagforge.estimator import DagLearner as Estimator

    assert DagLearner is Estimator and Dataset is DataModel
    with pytest.raises(ImportError, match="Nope"):
        from dagforge import Nope  # noqa: F401


def test_import_dagforge_does_not_import_torch() -> None:
    code = "import sys, dagforge; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"
