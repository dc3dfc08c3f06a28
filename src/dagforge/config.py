"""Typed configuration files (YAML or TOML) for ``dagforge fit``.

Every key is checked: an unknown key, a wrong type or a value outside its set is
a :class:`~dagforge.errors.ConfigError` naming the key, never silently ignored.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    ValidationError,
    field_validator,
    model_validator,
)

from dagforge.errors import ConfigError

__all__ = ["MAX_SEED", "FitConfig", "load_config", "parse_config", "parse_yaml",
           "read_config_file"]

#: The largest seed accepted (numpy and torch both take 0 .. 2**32 - 1).
MAX_SEED = 2**32 - 1


class FitConfig(BaseModel):
    """Settings of one fit; the fields are :class:`~dagforge.estimator.DagLearner`'s
    hyperparameters (see there for their meaning)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: A registered model, constraint and solver (the registries are read when a config
    #: is checked, so an entry registered by user code is accepted too).
    model: str = "linear"
    loss: Literal["auto", "ls", "nll"] = "auto"
    constraint: str = "logdet"
    solver: str = "path_following"
    lambda1: float = Field(0.02, ge=0, allow_inf_nan=False)
    threshold: Annotated[float, Field(ge=0, allow_inf_nan=False)] | Literal["auto"] = 0.3
    refine: Literal["auto", "hill_climb", "order", "none"] = "auto"
    #: A registered score (:mod:`dagforge.search.scores`) or ``"auto"``.
    score: str = "auto"
    penalty: float = Field(1.0, ge=0, allow_inf_nan=False)
    gamma: float = Field(1.0, ge=0, allow_inf_nan=False)
    standardize: bool = False
    device: Literal["auto", "cpu", "cuda"] = "auto"
    #: Seed of every random choice of the fit (0 to 2**32 - 1); ``random_state`` (the
    #: name in Python, ``DagLearner(random_state=...)``) is accepted for it.
    seed: Annotated[int, Strict()] | None = Field(None, ge=0, le=MAX_SEED)
    solver_options: dict[str, Any] = Field(default_factory=dict)
    model_options: dict[str, Any] = Field(default_factory=dict)
    inner: str | None = None
    train_options: dict[str, Any] = Field(default_factory=dict)
    #: Path of a prior-knowledge file (YAML or JSON, :mod:`dagforge.knowledge`); in a
    #: config file, relative to the file's folder.
    knowledge: str | None = None
    bootstrap: Annotated[int, Strict()] = Field(0, ge=0)
    bootstrap_jobs: Annotated[int, Strict()] = Field(1, ge=1)
    stability: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)] | None = None
    #: Rows with missing values: ``"error"`` (refuse the data) or ``"drop"`` them.
    missing: Literal["error", "drop"] = "error"
    #: Interventional data: the column of the data file holding each row's regime label,
    #: and a JSON or YAML file mapping each label to its intervened variables (in a
    #: config file, relative to the file's folder); both or neither.
    regime: str | None = None
    targets: str | None = None
    #: Column types over the inferred ones: name -> continuous, binary or categorical.
    types: dict[str, Literal["continuous", "binary", "categorical"]] | None = None
    interventions: Literal["perfect", "soft"] = "perfect"

    @model_validator(mode="before")
    @classmethod
    def _random_state_is_seed(cls, data: Any) -> Any:
        if isinstance(data, dict) and "random_state" in data:
            if "seed" in data:
                raise ValueError("give seed or random_state (the same setting), not both")
            data = {("seed" if k == "random_state" else k): v for k, v in data.items()}
        return data

    @field_validator("model")
    @classmethod
    def _registered_model(cls, name: str) -> str:
        from dagforge.models.registry import model_names

        return _registered(name, model_names())

    @field_validator("solver")
    @classmethod
    def _registered_solver(cls, name: str) -> str:
        from dagforge.solvers import SOLVERS

        return _registered(name, list(SOLVERS))

    @field_validator("score")
    @classmethod
    def _registered_score(cls, name: str) -> str:
        from dagforge.search.scores import score_names

        return _registered(name, ["auto", *score_names()])

    @field_validator("inner")
    @classmethod
    def _registered_inner(cls, name: str | None) -> str | None:
        from dagforge.inner_optimizers import INNER_OPTIMIZERS

        return None if name is None else _registered(name, list(INNER_OPTIMIZERS))

    @field_validator("constraint")
    @classmethod
    def _registered_constraint(cls, name: str) -> str:
        from dagforge.constraints import CONSTRAINTS

        return _registered(name, list(CONSTRAINTS))

    @model_validator(mode="after")
    def _stability_needs_bootstrap(self) -> FitConfig:
        if self.stability is not None and not self.bootstrap:
            raise ValueError("stability needs bootstrap refits (bootstrap > 0)")
        if (self.regime is None) != (self.targets is None):
            raise ValueError("regime and targets come together: the regime column and the "
                             "targets file")
        return self

    def learner_params(self) -> dict[str, Any]:
        """Keyword arguments for :class:`~dagforge.estimator.DagLearner`
        (``knowledge`` as the file path; ``missing``, ``regime`` and ``targets`` are the
        data loader's, as are the column ``types``)."""
        params = self.model_dump()
        for key in ("missing", "regime", "targets", "types"):
            params.pop(key)
        params["random_state"] = params.pop("seed")
        for key in ("solver_options", "model_options", "train_options"):
            params[key] = dict(params[key]) or None
        return params


def _registered(name: str, names: list[str]) -> str:
    if name not in names:
        raise ValueError(f"{name!r} is not one of {names}")
    return name


#: pydantic's names of the members of a union in an error's location (not keys)
_UNION_MEMBER = re.compile(r"^(constrained-\w+|literal\[.*\]|function-\w+)$")


def format_validation_error(err: ValidationError, source: str) -> str:
    """One line naming the first problem of a pydantic validation error; for a field
    that may be one of several types (``threshold``: a number or ``"auto"``), what
    each would have needed."""
    errors = err.errors()

    def where(e: Any) -> str:
        return ".".join(str(p) for p in e["loc"] if not _UNION_MEMBER.match(str(p)))

    first = errors[0]
    key = where(first) or "(top level)"
    if first["type"] == "extra_forbidden":
        return f"{source}: unknown key {key!r}"
    messages = dict.fromkeys(e["msg"].replace("Value error, ", "") for e in errors
                             if where(e) == where(first))
    return f"{source}: {key}: {' or '.join(messages)}"


def parse_config(data: Any, source: str = "config") -> FitConfig:
    """Validate a mapping (e.g. a parsed YAML document) as a :class:`FitConfig`."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: must be a mapping of keys to values")
    try:
        return FitConfig.model_validate(data)
    except ValidationError as e:
        raise ConfigError(format_validation_error(e, source)) from None


class _StrictLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a key given twice (it would keep the last one)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":  # ``<<: *defaults`` may be overridden
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:  # an unhashable key: the base class says so
                break
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} is given twice", key_node.start_mark)
        return super().construct_mapping(node, deep=deep)


def _refers_to_itself(data: Any, _path: frozenset[int] = frozenset()) -> bool:
    """True if a list or dict contains itself (``x: &a [*a]``): no config value can."""
    if not isinstance(data, list | dict):
        return False
    if id(data) in _path:
        return True
    inner = _path | {id(data)}
    values = data.values() if isinstance(data, dict) else data
    return any(_refers_to_itself(v, inner) for v in values)


def parse_yaml(text: str, source: str) -> Any:
    """Parse YAML text safely (plain data only; a key given twice is an error).

    Raises
    ------
    ConfigError
        One line: ``source: cannot parse (line L, column C): problem``.
    """
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # a SafeLoader: plain data only
        if _refers_to_itself(data):
            raise ConfigError(f"{source}: cannot parse: a YAML alias (*name) refers to the "
                              "value that contains it")
        return data
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(e, "problem", None) or str(e)
        context = getattr(e, "context", None)
        text = f"{context}: {problem}" if context else problem
        raise ConfigError(f"{source}: cannot parse{where}: {' '.join(str(text).split())}"
                          ) from None
    except RecursionError:
        raise ConfigError(f"{source}: cannot parse: nested too deeply") from None


def read_config_file(path: str | os.PathLike[str], what: str = "config file") -> Any:
    """The parsed content of a ``.toml`` file, or of a YAML file (any other suffix);
    a missing, unreadable or malformed file is a one-line :class:`ConfigError`."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{what} not found: {p}")
    try:
        text = p.read_text(encoding="utf-8")
        return tomllib.loads(text) if p.suffix.lower() == ".toml" else parse_yaml(text, str(p))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"{p}: cannot parse: {' '.join(str(e).split())}") from None


def load_config(path: str | os.PathLike[str]) -> FitConfig:
    """Read a ``.yaml``/``.yml`` or ``.toml`` fit config."""
    p = Path(path)
    if p.is_file() and p.suffix.lower() not in (".toml", ".yaml", ".yml"):
        raise ConfigError(f"{p}: config must be .yaml, .yml or .toml")
    config = parse_config(read_config_file(p), str(p))
    for key in ("knowledge", "targets"):  # files named in a config: relative to its folder
        value = getattr(config, key)
        if value is not None and not Path(value).is_absolute():
            config = config.model_copy(update={key: str(p.parent / value)})
    return config
