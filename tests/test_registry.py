"""dagforge.registry: the one shape of every extension point's registry."""

from __future__ import annotations

import pytest

from dagforge.errors import ConfigError
from dagforge.registry import Registry


def test_register_get_and_replace() -> None:
    reg: Registry[int] = Registry("widget")
    assert reg.register("a", 1) == 1 and reg.get_entry("a") == 1 and list(reg) == ["a"]
    with pytest.raises(ConfigError, match="widget 'a' is already registered"):
        reg.register("a", 2)
    reg.register("a", 2, replace=True)
    assert reg["a"] == 2
    with pytest.raises(ConfigError, match=r"unknown widget 'b'; choose one of \['a'\]"):
        reg.get_entry("b")
    with pytest.raises(ConfigError, match="unknown widget"):
        reg.get_entry(["unhashable"])  # type: ignore[arg-type]
