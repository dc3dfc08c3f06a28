"""The one registry of acyclicity functions: name -> :class:`ConstraintSpec`.

The solvers find a constraint by name here, and read from its entry whether it
is a *barrier* (defined only on a domain that depends on an option ``s``, so
that path following must choose ``s`` per stage) and which options it takes.
Adding a constraint is one function plus one :func:`register_constraint` call,
from any package::

    import torch
    from dagforge.constraints import ConstraintSpec, register_constraint

    def trace_expm(W):  # NOTEARS' h in plain torch; autograd does the backward
        return torch.trace(torch.linalg.matrix_exp(W * W)) - W.shape[0]

    register_constraint("trace_expm", ConstraintSpec(
        trace_expm, barrier=False, description="tr exp(W∘W) - d, autograd backward"))

after which ``PathFollowingConfig(constraint="trace_expm")`` and
``AugmentedLagrangianConfig(constraint="trace_expm")`` use it.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

import torch
from torch import Tensor

from dagforge.constraints.base import Constraint, as_f64
from dagforge.constraints.expm import expm
from dagforge.constraints.logdet import check_s, logdet, logdet_domain_ok
from dagforge.constraints.poly import poly
from dagforge.constraints.spectral import spectral
from dagforge.errors import ConfigError

__all__ = [
    "CONSTRAINTS",
    "CONSTRAINT_SPECS",
    "ConstraintName",
    "ConstraintSpec",
    "acyclicity_fn",
    "constraint_options",
    "describe_domains",
    "domain_ok",
    "finite_domain",
    "get_constraint",
    "get_spec",
    "register_constraint",
]

#: The built-in constraints (a user may register more, see :func:`register_constraint`).
ConstraintName = Literal["logdet", "expm", "poly", "spectral"]


def finite_domain(W: Tensor, **options: Any) -> bool:
    """Domain test of a function defined everywhere: True for any finite ``W``."""
    return bool(torch.isfinite(as_f64(W).detach()).all())


def _check_logdet_options(s: float = 1.0, **_: Any) -> None:
    check_s(s)


_VARIADIC = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)


@dataclass(frozen=True)
class ConstraintSpec:
    """A registry entry: an acyclicity function and what a solver must know about it.

    Attributes
    ----------
    fn : Callable
        ``fn(W, **options) -> float64 scalar tensor``, zero exactly on DAGs.
    barrier : bool
        Whether ``fn`` is a barrier: finite only on a domain set by its option
        ``s`` (``+inf`` outside), as log-det. Path following then gives it each
        stage's ``s`` (raised until the warm start is inside); the augmented
        Lagrangian uses ``defaults["s"]`` and needs a start inside the domain.
        A barrier must take the option ``s``.
    description : str
        One line, for listings (``dagforge`` CLI help, docs).
    defaults : Mapping
        Options bound by :func:`acyclicity_fn` unless the caller gives them
        (stored read-only); every key must be an option of ``fn``.
    domain : str
        Where ``fn`` is finite and smooth, in words.
    domain_ok : Callable
        ``domain_ok(W, **options) -> bool``, taking the same keyword options as ``fn``.
    reference : str
        Where the function comes from.
    check_options : Callable, optional
        ``check_options(**options)`` raises :class:`~dagforge.errors.ConfigError`
        for invalid values, so :func:`acyclicity_fn` fails before any solve.
    """

    fn: Callable[..., Tensor]
    barrier: bool
    description: str
    defaults: Mapping[str, Any] = field(default_factory=dict)
    domain: str = "every finite W"
    domain_ok: Callable[..., bool] = finite_domain
    reference: str = ""
    check_options: Callable[..., None] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "defaults", MappingProxyType(dict(self.defaults)))

    @property
    def options(self) -> list[str]:
        """Names of the keyword options ``fn`` takes (every parameter but ``W``)."""
        params = inspect.signature(self.fn).parameters.values()
        return [p.name for p in params if p.name != "W" and p.kind not in _VARIADIC]

#: Name -> entry; the one registry. Extend it with :func:`register_constraint`.
CONSTRAINT_SPECS: dict[str, ConstraintSpec] = {
    "logdet": ConstraintSpec(
        logdet,
        barrier=True,
        description="DAGMA's -log det(sI - W∘W) + d log s, a barrier",
        defaults={"s": 1.0},
        domain="rho(W∘W) < s (sI - W∘W a nonsingular M-matrix); +inf outside",
        domain_ok=logdet_domain_ok,
        reference="Bello, Aragam, Ravikumar 2022 (DAGMA)",
        check_options=_check_logdet_options,
    ),
    "expm": ConstraintSpec(
        expm,
        barrier=False,
        description="NOTEARS' tr exp(W∘W) - d",
        domain="every W (float64 overflow once rho(W∘W) > ~709)",
        reference="Zheng, Aragam, Ravikumar, Xing 2018 (NOTEARS)",
    ),
    "poly": ConstraintSpec(
        poly,
        barrier=False,
        description="DAG-GNN's tr (I + W∘W / d)^d - d, without renormalisation",
        domain="every W (float64 overflow once (1 + rho(W∘W)/d)^d > ~1e308)",
        reference="Yu, Chen, Gao, Yu 2019 (DAG-GNN)",
    ),
    "spectral": ConstraintSpec(
        spectral,
        barrier=False,
        description="SDCD's spectral radius rho(W∘W), by power iteration",
        defaults={"n_iter": 100, "tol": 1e-10},
        domain="every W (not differentiable on DAGs or with tied dominant components)",
        reference="Nazaret, Hong, Azizi, Blei 2024 (SDCD)",
    ),
}


class _FunctionView(Mapping[str, Constraint]):
    """Read-only name -> function view of :data:`CONSTRAINT_SPECS` (follows registrations)."""

    def __getitem__(self, name: str) -> Constraint:
        return CONSTRAINT_SPECS[name].fn

    def __iter__(self) -> Iterator[str]:
        return iter(CONSTRAINT_SPECS)

    def __len__(self) -> int:
        return len(CONSTRAINT_SPECS)

    def __repr__(self) -> str:
        return f"CONSTRAINTS({sorted(CONSTRAINT_SPECS)})"


#: Name -> acyclicity function (a view of :data:`CONSTRAINT_SPECS`).
CONSTRAINTS: Mapping[str, Constraint] = _FunctionView()


def register_constraint(name: str, spec: ConstraintSpec, *, replace: bool = False) -> None:
    """Add the constraint ``name`` to the registry, so every solver can use it by name.

    Parameters
    ----------
    name : str
        The name configs refer to (``constraint="name"``).
    spec : ConstraintSpec
        The function, its barrier flag and defaults.
    replace : bool
        Allow replacing an existing entry (a built-in one included).

    Raises
    ------
    ConfigError
        For an empty or taken name, a default that is not an option of the
        function, or a barrier without the option ``s``.
    """
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"a constraint name must be a non-empty string, got {name!r}")
    if not isinstance(spec, ConstraintSpec):
        raise ConfigError(f"register a ConstraintSpec, got {type(spec).__name__}")
    if name in CONSTRAINT_SPECS and not replace:
        raise ConfigError(f"constraint {name!r} is already registered (pass replace=True)")
    options = set(spec.options)
    unknown = sorted(set(spec.defaults) - options)
    if unknown:
        raise ConfigError(f"constraint {name!r}: defaults {unknown} are not options of its "
                          f"function, which takes {sorted(options) or 'no options'}")
    if spec.barrier and "s" not in options:
        raise ConfigError(f"constraint {name!r} is a barrier, so its function must take "
                          "the option s (the domain's scale)")
    CONSTRAINT_SPECS[name] = spec


def get_spec(name: ConstraintName | str) -> ConstraintSpec:
    """The registry entry of ``name``, or :class:`ConfigError` naming the known ones."""
    try:
        return CONSTRAINT_SPECS[name]
    except (KeyError, TypeError):
        known = ", ".join(sorted(CONSTRAINT_SPECS))
        msg = f"unknown acyclicity constraint {name!r}; choose one of: {known}"
        raise ConfigError(msg) from None


def get_constraint(name: ConstraintName | str) -> Constraint:
    """The acyclicity function called ``name`` (see :data:`ConstraintName`).

    Raises
    ------
    ConfigError
        If ``name`` is not registered.
    """
    return get_spec(name).fn


def constraint_options(name: ConstraintName | str) -> list[str]:
    """Names of the keyword options the constraint ``name`` takes (``["s"]`` for ``logdet``)."""
    return get_spec(name).options


def acyclicity_fn(name: ConstraintName | str, **options: Any) -> Constraint:
    """The function ``name`` with its options bound: ``h = acyclicity_fn("logdet", s=0.9)``.

    Parameters
    ----------
    name : str
        Registered constraint (``"logdet"``, ``"expm"``, ``"poly"``, ``"spectral"``
        or one added with :func:`register_constraint`).
    **options
        Keyword options of that function (``s`` for ``logdet``; ``n_iter``,
        ``u0``, ``v0``, ``tol`` for ``spectral``; none for ``expm``, ``poly``);
        the entry's :attr:`~ConstraintSpec.defaults` fill the others.

    Returns
    -------
    Constraint
        ``h(W) -> float64 scalar tensor`` (the function itself when nothing is bound).

    Raises
    ------
    ConfigError
        For an unknown ``name``, or an option the function does not take (an
        option is never silently ignored: ``s`` means nothing to ``expm``).
    """
    spec = get_spec(name)
    if options:
        params = spec.options
        unknown = sorted(set(options) - set(params))
        if unknown:
            takes = ", ".join(params) if params else "no options"
            raise ConfigError(f"constraint {name!r} takes no option {unknown}; it takes: {takes}")
    bound = {**spec.defaults, **options}
    if not bound:
        return spec.fn
    if spec.check_options is not None:
        spec.check_options(**bound)
    return functools.partial(spec.fn, **bound)


def domain_ok(name: ConstraintName | str, W: Tensor, **options: Any) -> bool:
    """Whether constraint ``name`` is defined at ``W`` (``options`` as for the function).

    ``logdet`` is defined only where ``rho(W∘W) < s`` (:func:`logdet_domain_ok`);
    ``expm``, ``poly`` and ``spectral`` at every finite ``W`` (their options are
    accepted and ignored).
    """
    return get_spec(name).domain_ok(W, **options)


def describe_domains() -> dict[str, str]:
    """Name -> where that constraint is defined, in words."""
    return {name: spec.domain for name, spec in CONSTRAINT_SPECS.items()}
