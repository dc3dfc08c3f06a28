"""Argument checks and small random helpers shared by the simulators (private)."""

from __future__ import annotations

import numbers
from typing import Any, get_args

import numpy as np

from dagforge.errors import ConfigError

__all__ = ["check_choice", "check_int", "check_range", "check_rng", "signed_uniform"]


def check_rng(rng: Any) -> np.random.Generator:
    """``rng`` if it is a :class:`numpy.random.Generator`, else raise :class:`ConfigError`."""
    if not isinstance(rng, np.random.Generator):
        raise ConfigError(
            f"rng must be a numpy.random.Generator (e.g. np.random.default_rng(0)), "
            f"got {type(rng).__name__}"
        )
    return rng


def check_int(value: Any, name: str, minimum: int) -> int:
    """Return ``value`` as ``int`` if it is an integer ``>= minimum``, else raise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ConfigError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ConfigError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def check_choice(value: Any, choices: Any, name: str) -> str:
    """Check ``value`` against a ``Literal[...]`` alias (or a tuple of strings)."""
    allowed = get_args(choices) or tuple(choices)
    if value not in allowed:
        raise ConfigError(
            f"unknown {name} {value!r}; choose one of {', '.join(map(repr, allowed))}"
        )
    return str(value)


def check_range(low: float, high: float, what: str) -> tuple[float, float]:
    """Check ``0 < low <= high < inf`` for a magnitude range."""
    if not (np.isfinite(low) and np.isfinite(high) and 0 < low <= high):
        raise ConfigError(f"{what} needs 0 < low <= high (finite), got low={low}, high={high}")
    return float(low), float(high)


def signed_uniform(
    rng: np.random.Generator, size: int | tuple[int, ...], low: float = 0.5, high: float = 2.0
) -> np.ndarray:
    """Draws from ``U(-high, -low) ∪ U(low, high)``: a magnitude ``U(low, high)``, random sign."""
    magnitude = rng.uniform(low, high, size=size)
    sign = np.where(rng.random(size=size) < 0.5, -1.0, 1.0)
    return magnitude * sign
