"""Typed fit configs: YAML / TOML, unknown keys and bad values are errors."""

from __future__ import annotations

import pytest

from dagforge.config import FitConfig, load_config, parse_config
from dagforge.errors import ConfigError


def test_yaml_and_toml(tmp_path) -> None:
    y = tmp_path / "c.yaml"
    y.write_text("loss: nll\nlambda1: 0.05\nsolver_options:\n  mu_init: 0.5\n")
    cfg = load_config(y)
    assert cfg.loss == "nll" and cfg.lambda1 == 0.05 and cfg.solver_options == {"mu_init": 0.5}
    t = tmp_path / "c.toml"
    t.write_text('loss = "nll"\nseed = 3\n')
    assert load_config(t).learner_params()["random_state"] == 3


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"lamda1": 0.1}, "unknown key 'lamda1'"),
        ({"loss": "huber"}, "loss"),
        ({"lambda1": -1}, "lambda1"),
        ({"threshold": "high"}, "threshold"),
        ([1, 2], "mapping"),
    ],
)
def test_bad_configs(data, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config(data)


def test_bad_files(tmp_path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "none.yaml")
    bad = tmp_path / "c.yaml"
    bad.write_text("loss: [unclosed\n")
    with pytest.raises(ConfigError, match="cannot parse"):
        load_config(bad)
    other = tmp_path / "c.json"
    other.write_text("{}")
    with pytest.raises(ConfigError, match="yaml"):
        load_config(other)


def test_defaults_match_learner() -> None:
    from dagforge.estimator import DagLearner

    params = FitConfig().learner_params()
    defaults = DagLearner().get_params()
    for key, value in params.items():
        if key not in ("solver_options",):
            assert defaults[key] == value, key
