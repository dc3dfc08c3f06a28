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
from pydantic import BaseModel, ConfigDict, Field, Strict, ValidationError

from dagforge.errors import ConfigError

__all__ = ["MAX_SEED", "FitConfig", "load_config", "parse_config"]

#: The largest seed accepted (numpy and torch both take 0 .. 2**32 - 1).
MAX_SEED = 2**32 - 1


class FitConfig(BaseModel):
    """Settings of one fit; the fields are :class:`~dagforge.estimator.DagLearner`'s
    hyperparameters (see there for their meaning)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: Literal["linear", "mlp", "gnn"] = "linear"
    loss: Literal["auto", "ls", "nll"] = "auto"
    constraint: Literal["logdet", "expm", "poly", "spectral"] = "logdet"
    solver: Literal["path_following", "augmented_lagrangian"] = "path_following"
    lambda1: float = Field(0.02, ge=0, allow_inf_nan=False)
    threshold: Annotated[float, Field(ge=0, allow_inf_nan=False)] | Literal["auto"] = 0.3
    refine: Literal["auto", "hill_climb", "none"] = "auto"
    penalty: float = Field(1.0, ge=0, allow_inf_nan=False)
    gamma: float = Field(1.0, ge=0, allow_inf_nan=False)
    standardize: bool = False
    device: Literal["auto", "cpu", "cuda"] = "auto"
    #: Seed of every random choice of the fit (0 to 2**32 - 1).
    seed: Annotated[int, Strict()] | None = Field(None, ge=0, le=MAX_SEED)
    solver_options: dict[str, Any] = Field(default_factory=dict)
    model_options: dict[str, Any] = Field(default_factory=dict)
    inner: Literal["lbfgs", "adam"] | None = None
    train_options: dict[str, Any] = Field(default_factory=dict)
    #: Path of a prior-knowledge file (YAML or JSON, :mod:`dagforge.knowledge`); in a
    #: config file, relative to the file's folder.
    knowledge: str | None = None
    #: Rows with missing values: ``"error"`` (refuse the data) or ``"drop"`` them.
    missing: Literal["error", "drop"] = "error"

    def learner_params(self) -> dict[str, Any]:
        """Keyword arguments for :class:`~dagforge.estimator.DagLearner`
        (``knowledge`` as the file path; ``missing`` is the data loader's)."""
        params = self.model_dump()
        params.pop("missing")
        params["random_state"] = params.pop("seed")
        for key in ("solver_options", "model_options", "train_options"):
            params[key] = dict(params[key]) or None
        return params


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


def load_config(path: str | os.PathLike[str]) -> FitConfig:
    """Read a ``.yaml``/``.yml`` or ``.toml`` fit config."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"config file not found: {p}")
    try:
        text = p.read_text(encoding="utf-8")
        if p.suffix.lower() == ".toml":
            data = tomllib.loads(text)
        elif p.suffix.lower() in (".yaml", ".yml"):
            data = yaml.safe_load(text)
        else:
            raise ConfigError(f"{p}: config must be .yaml, .yml or .toml")
    except (yaml.YAMLError, tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"{p}: cannot parse: {' '.join(str(e).split())}") from None
    config = parse_config(data, str(p))
    if config.knowledge is not None and not Path(config.knowledge).is_absolute():
        config = config.model_copy(update={"knowledge": str(p.parent / config.knowledge)})
    return config
