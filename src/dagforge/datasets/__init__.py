"""Data sets: the real data shipped with dagforge, and user data files.

Shipped data (package data under ``dagforge/datasets/data/``, see its
``ATTRIBUTION.md``):

* **Sachs** (:func:`load_sachs`): flow-cytometry measurements of 11
  phosphoproteins and phospholipids in human immune cells, the 853 cells of the
  observational condition, with the 17-edge consensus graph; with
  ``interventional=True`` the 5,846 cells of the usual interventional benchmark
  (two observational conditions and five inhibitors), with regimes and targets. K. Sachs,
  O. Perez, D. Pe'er, D. A. Lauffenburger, G. P. Nolan, "Causal
  protein-signaling networks derived from multiparameter single-cell data",
  *Science* 308 (5721), 523-529, 2005. The copy is the one distributed with
  GraN-DAG (Lachapelle et al. 2020).
* **Gaussian Bayesian networks** (:func:`load_gaussian_bn`): ``ecoli70``,
  ``magic-niab``, ``magic-irri`` and ``arth150`` from the bnlearn Bayesian
  network repository (M. Scutari, https://www.bnlearn.com/bnrepository/),
  linear Gaussian networks fitted to real gene-expression and plant-genetics
  data; sampling them gives data on real graph structures with unequal noise
  variances.

User data: :func:`load_table` reads CSV / TSV / text / Parquet files and
:func:`check_matrix` checks arrays and DataFrames, both with the same rules
(:mod:`dagforge.datasets.tables`), raising :class:`dagforge.errors.DataError`;
reading files (:mod:`~dagforge.datasets.files`), missing values
(:mod:`~dagforge.datasets.missing`) and the matrix checks
(:mod:`~dagforge.datasets.validation`) each have their module.

Graphs follow the dagforge convention ``W[i, j] != 0`` means ``i -> j``.
"""

from __future__ import annotations

from dagforge.datasets.shipped import (
    DEFAULT_N,
    BNName,
    GaussianBN,
    InterventionalData,
    ShippedData,
    gaussian_bn,
    list_datasets,
    load_dataset,
    load_gaussian_bn,
    load_sachs,
    load_shipped,
)
from dagforge.datasets.tables import Table, check_matrix, load_table

__all__ = [
    "DEFAULT_N",
    "BNName",
    "GaussianBN",
    "InterventionalData",
    "ShippedData",
    "Table",
    "check_matrix",
    "gaussian_bn",
    "list_datasets",
    "load_dataset",
    "load_gaussian_bn",
    "load_sachs",
    "load_shipped",
    "load_table",
]
