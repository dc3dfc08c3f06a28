r"""Acyclicity functions :math:`h(W)`: zero exactly on DAGs, positive on every cyclic graph.

Every function here takes the weighted adjacency ``W`` (a ``d x d`` tensor,
``W[i, j] != 0`` is the edge ``i -> j``, see :mod:`dagforge.graph`) and works on
:math:`A = W \circ W` (entrywise square), so the sign of a weight never hides a
cycle. All of them

* compute in float64, whatever the input dtype, and return a float64 scalar
  tensor; gradients flow back to ``W`` in its own dtype;
* are exact: :math:`h(W) = 0` iff the graph of ``W`` is acyclic (in exact
  arithmetic; what float64 can and cannot resolve is stated per function);
* hold no state (the one exception is :class:`SpectralRadius`, a warm-start
  helper) and never change global torch settings.

The functions (:math:`A = W \circ W`):

* ``logdet`` (DAGMA): :math:`-\log\det(sI - A) + d\log s`, defined where
  :math:`\rho(A) < s` (a barrier: +inf outside);
* ``expm`` (NOTEARS): :math:`\operatorname{tr} e^{A} - d`, defined everywhere;
* ``poly`` (DAG-GNN): :math:`\operatorname{tr}(I + A/d)^d - d`, defined everywhere;
* ``spectral`` (SDCD): :math:`\rho(A)`, the spectral radius, defined everywhere.

Why not :math:`\operatorname{ReLU}(\operatorname{tr}(I + A/d)^n - d)` with the
matrix renormalised inside the power loop (the project's origin)? Dividing by
any matrix norm :math:`\|\cdot\| \ge \rho(\cdot)` makes
:math:`|\operatorname{tr} P| \le d\,\rho(P) \le d`, so the ReLU is 0 on every
graph, cyclic or not; and with :math:`A = W` instead of :math:`W \circ W`
negative weights cancel positive ones. Neither can happen here; the tests pin
both failures.

One module per function; :mod:`dagforge.constraints.registry` holds the one
registry (:data:`CONSTRAINT_SPECS`, with a barrier flag per entry) that the solvers
read. Use :func:`get_constraint` (or :data:`CONSTRAINTS`) to pick one by name,
:func:`acyclicity_fn` to get one with its options bound, :func:`domain_ok`
to ask whether a point is inside a function's domain, and
:func:`register_constraint` to add one.
"""

from __future__ import annotations

from dagforge.constraints.base import Constraint
from dagforge.constraints.expm import expm
from dagforge.constraints.logdet import logdet, logdet_domain_ok
from dagforge.constraints.poly import poly
from dagforge.constraints.registry import (
    CONSTRAINT_SPECS,
    CONSTRAINTS,
    ConstraintName,
    ConstraintSpec,
    acyclicity_fn,
    constraint_options,
    describe_domains,
    domain_ok,
    get_constraint,
    get_spec,
    register_constraint,
)
from dagforge.constraints.spectral import (
    SpectralEstimate,
    SpectralRadius,
    spectral,
    spectral_with_vectors,
)

__all__ = [
    "CONSTRAINTS",
    "CONSTRAINT_SPECS",
    "Constraint",
    "ConstraintName",
    "ConstraintSpec",
    "SpectralEstimate",
    "SpectralRadius",
    "acyclicity_fn",
    "constraint_options",
    "describe_domains",
    "domain_ok",
    "expm",
    "get_constraint",
    "get_spec",
    "logdet",
    "logdet_domain_ok",
    "poly",
    "register_constraint",
    "spectral",
    "spectral_with_vectors",
]
