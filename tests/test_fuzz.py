"""Property-based fuzzing of everything that reads user input.

Whatever the input, the data loader either returns a valid :class:`Table`
(finite float64, at least 2 x 3, unique names, no constant column) or raises
:class:`DataError`; the config and knowledge readers either return a valid
object or raise :class:`ConfigError`. Any other exception is a bug: the command
line would call it an internal error.
"""

from __future__ import annotations

import json
import math
import os
import string
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dagforge.config import FitConfig, load_config, parse_config
from dagforge.datasets import Table, load_table
from dagforge.errors import ConfigError, DataError
from dagforge.knowledge import KNOWLEDGE_KEYS, Knowledge, load_knowledge

#: Examples per property (``DAGFORGE_FUZZ_EXAMPLES=5000`` for a deeper run).
EXAMPLES = int(os.environ.get("DAGFORGE_FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


_DIR = tempfile.TemporaryDirectory(prefix="dagforge-fuzz-")  # removed when Python exits


def in_file(suffix: str, content: str | bytes) -> Path:
    """``content`` in the file ``data<suffix>`` (rewritten for every example)."""
    path = Path(_DIR.name) / f"data{suffix}"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- tables

NAMES = st.one_of(
    st.sampled_from(["a", "b", "c", "x1", "température", "压力", "Δx", "a b", " ", "",
                     "NaN", "1", "'q'", "\"q\"", "a,b", "\t"]),
    st.text(min_size=0, max_size=6),
)
CELLS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-10**30, 10**30).map(str),
    st.sampled_from(["", " ", "nan", "NaN", "NA", "N/A", "null", "inf", "-inf", "Infinity",
                     "1e400", "-1e-400", "0x10", "1,5", "1.5.2", "True", "false", "abc", "\"3\"",
                     "\"", "#", "1_000", "١٢"]),
    st.text(max_size=5),
)


@st.composite
def delimited_text(draw: Any) -> tuple[str, str]:
    """(suffix, text): a header and rows of cells, sometimes ragged, sometimes valid."""
    suffix, sep = draw(st.sampled_from([(".csv", ","), (".tsv", "\t"), (".txt", " "),
                                        (".txt", ","), (".csv", ";")]))
    d = draw(st.integers(1, 5))
    header = draw(st.lists(NAMES, min_size=d, max_size=d))
    n = draw(st.integers(0, 8))
    numeric = draw(st.booleans())  # mostly-good tables reach the later checks
    cell = st.floats(-1e6, 1e6).map(lambda v: f"{v:.6g}") if numeric else CELLS
    rows = []
    for _ in range(n):
        width = d if draw(st.integers(0, 9)) else draw(st.integers(0, d + 2))
        rows.append(sep.join(draw(st.lists(cell, min_size=width, max_size=width))))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    return suffix, newline.join([sep.join(header), *rows]) + draw(st.sampled_from(["", newline]))


def check_table_or_data_error(path: Path, **kwargs: Any) -> None:
    try:
        table = load_table(path, **kwargs)
    except DataError as e:
        assert "\n" not in str(e)
        return
    assert isinstance(table, Table)
    X = table.X
    assert X.dtype == np.float64 and X.ndim == 2 and X.shape == (table.n, table.d)
    assert table.n >= 3 and table.d >= 2
    assert np.isfinite(X).all()
    assert len(table.names) == table.d == len(set(table.names))
    assert all(isinstance(n, str) and n.strip() for n in table.names)
    assert (X.max(axis=0) > X.min(axis=0)).all()  # no constant column


@FUZZ
@given(delimited_text(), st.sampled_from(["error", "drop"]))
def test_load_table_on_delimited_text(case: tuple[str, str], missing: str) -> None:
    suffix, text = case
    check_table_or_data_error(in_file(suffix, text), missing=missing)


@FUZZ
@given(st.sampled_from([".csv", ".tsv", ".txt", ".parquet", ".csv.gz", ".csv.xz"]),
       st.one_of(st.binary(max_size=400), st.text(max_size=300).map(str.encode)))
def test_load_table_on_random_bytes(suffix: str, content: bytes) -> None:
    check_table_or_data_error(in_file(suffix, content))


@FUZZ
@given(delimited_text(), st.lists(NAMES, max_size=4))
def test_load_table_with_columns(case: tuple[str, str], columns: list[str]) -> None:
    suffix, text = case
    check_table_or_data_error(in_file(suffix, text), columns=columns)


# --------------------------------------------------------------------------- config

PLAIN = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70),
              st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8)),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=10,
)
FIELD_VALUES = {
    "model": st.sampled_from(["linear", "mlp", "gnn", "xgb"]),
    "threshold": st.one_of(st.floats(), st.just("auto"), st.just("0.3")),
    "seed": st.one_of(st.integers(-5, 2**33), st.booleans(), st.floats()),
    "lambda1": st.floats(),
    "solver_options": st.dictionaries(st.sampled_from(["mu_init", "foo", "s"]), PLAIN,
                                      max_size=2),
}
CONFIG_KEYS = st.sampled_from([*FitConfig.model_fields, "lamda1", "", "Model"])


@st.composite
def config_dicts(draw: Any) -> dict[Any, Any]:
    keys = draw(st.lists(CONFIG_KEYS, max_size=5, unique=True))
    return {k: draw(FIELD_VALUES.get(k, PLAIN)) for k in keys}


def check_config(load: Any) -> None:
    try:
        config = load()
    except ConfigError as e:
        assert "\n" not in str(e)
        return
    assert isinstance(config, FitConfig)
    params = config.learner_params()
    assert params["lambda1"] >= 0 and math.isfinite(params["lambda1"])
    seed = params["random_state"]
    assert seed is None or (type(seed) is int and 0 <= seed < 2**32)


@FUZZ
@given(st.one_of(config_dicts(), PLAIN))
def test_parse_config(data: Any) -> None:
    check_config(lambda: parse_config(data))


def yaml_or_toml(suffix: str, data: Any) -> str:
    if suffix == ".toml":
        if not isinstance(data, dict):
            return str(data)
        return "\n".join(f"{k} = {json.dumps(v)}" for k, v in data.items()
                         if isinstance(k, str) and k.isidentifier())
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


@FUZZ
@given(st.sampled_from([".yaml", ".toml"]),
       st.one_of(config_dicts().map(lambda d: ("dict", d)), st.text(max_size=200)
                 .map(lambda t: ("text", t))),
       st.integers(0, 400))
def test_load_config(suffix: str, case: tuple[str, Any], cut: int) -> None:
    kind, value = case
    text = yaml_or_toml(suffix, value) if kind == "dict" else value
    if cut % 3 == 0:  # sometimes a truncated file
        text = text[: cut % (len(text) + 1)]
    check_config(lambda: load_config(in_file(suffix, text)))


# --------------------------------------------------------------------------- knowledge

VARS = st.sampled_from(["a", "b", "c", "d", 1, True, None, "", 2.5, "é"])
EDGES = st.lists(st.one_of(st.lists(VARS, min_size=0, max_size=3), VARS), max_size=4)
KNOWLEDGE_VALUES = {
    "required": EDGES, "forbidden": EDGES,
    "tiers": st.one_of(st.lists(st.lists(VARS, max_size=3), max_size=3), PLAIN),
    "roots": st.one_of(st.lists(VARS, max_size=3), PLAIN),
    "sinks": st.one_of(st.lists(VARS, max_size=3), PLAIN),
    "forbid_within_tiers": st.one_of(st.booleans(), PLAIN),
}


@st.composite
def knowledge_dicts(draw: Any) -> dict[Any, Any]:
    keys = draw(st.lists(st.sampled_from([*KNOWLEDGE_KEYS, "requried", 3]), max_size=4,
                         unique=True))
    return {k: draw(KNOWLEDGE_VALUES.get(k, PLAIN)) for k in keys}


def check_knowledge(load: Any) -> None:
    try:
        knowledge = load()
    except ConfigError as e:
        assert "\n" not in str(e)
        return
    assert isinstance(knowledge, Knowledge)
    names = [*knowledge.variables(), "zz"]
    allowed, required = knowledge.resolve(names)
    assert not (required & ~allowed).any() and not np.diag(allowed).any()
    # the required edges form a DAG: repeatedly remove nodes without required parents
    left = np.ones(len(names), bool)
    while left.any():
        free = left & ~required[left].any(axis=0)
        assert free.any(), "required edges with a cycle were accepted"
        left &= ~free
    assert Knowledge.from_dict(knowledge.to_dict()) == knowledge  # round trip


@FUZZ
@given(st.one_of(knowledge_dicts(), PLAIN))
def test_knowledge_from_dict(data: Any) -> None:
    check_knowledge(lambda: Knowledge.from_dict(data))


@FUZZ
@given(st.sampled_from([".yaml", ".json"]),
       st.one_of(knowledge_dicts().map(lambda d: ("dict", d)),
                 st.text(alphabet=string.printable + "é压", max_size=120)
                 .map(lambda t: ("text", t))))
def test_load_knowledge(suffix: str, case: tuple[str, Any]) -> None:
    kind, value = case
    if kind == "dict":
        text = (json.dumps(value) if suffix == ".json"
                else yaml.safe_dump(value, allow_unicode=True, sort_keys=False))
    else:
        text = value
    check_knowledge(lambda: load_knowledge(in_file(suffix, text)))


# --------------------------------------------------------------------------- valid inputs
# The properties above pass if every input is refused; these check that valid inputs
# load, and round-trip.

SAFE_NAMES = st.text(alphabet=string.ascii_letters + "_é", min_size=1, max_size=6)


@st.composite
def valid_tables(draw: Any) -> tuple[list[str], np.ndarray]:
    d = draw(st.integers(2, 5))
    n = draw(st.integers(3, 8))
    names = draw(st.lists(SAFE_NAMES, min_size=d, max_size=d, unique=True))
    columns = [draw(st.lists(st.integers(-10**6, 10**6), min_size=n, max_size=n,
                             unique=True)) for _ in range(d)]  # distinct: continuous
    return names, np.array(columns, dtype=float).T / 1000.0


@FUZZ
@given(valid_tables(), st.sampled_from([(".csv", ","), (".tsv", "\t"), (".parquet", None)]))
def test_valid_tables_load_and_round_trip(case: tuple[list[str], np.ndarray],
                                          fmt: tuple[str, str | None]) -> None:
    import pandas as pd

    names, X = case
    suffix, sep = fmt
    path = Path(_DIR.name) / f"valid{suffix}"
    frame = pd.DataFrame(X, columns=names)
    if sep is None:
        frame.to_parquet(path)
    else:
        frame.to_csv(path, sep=sep, index=False)
    table = load_table(path)
    assert table.names == names and all(t.value == "continuous" for t in table.types)
    np.testing.assert_allclose(table.X, X, rtol=1e-12)


VALID_CONFIG = st.fixed_dictionaries({}, optional={
    "model": st.sampled_from(["linear", "mlp", "gnn"]),
    "threshold": st.one_of(st.floats(0, 5), st.just("auto")),
    "lambda1": st.floats(0, 1),
    "seed": st.integers(0, 2**32 - 1),
    "refine": st.sampled_from(["auto", "hill_climb", "none"]),
    "standardize": st.booleans(),
    "bootstrap": st.integers(0, 5),
    "interventions": st.sampled_from(["perfect", "soft"]),
    "types": st.dictionaries(SAFE_NAMES, st.sampled_from(["continuous", "binary",
                                                           "categorical"]), max_size=3),
})


@FUZZ
@given(VALID_CONFIG)
def test_valid_configs_load_and_round_trip(data: dict[str, Any]) -> None:
    config = parse_config(data)
    for key, value in data.items():
        assert getattr(config, key) == value
    assert parse_config(config.model_dump()) == config
    path = in_file(".yaml", yaml.safe_dump(data, allow_unicode=True))
    assert load_config(path) == config


@st.composite
def valid_knowledge(draw: Any) -> dict[str, Any]:
    names = draw(st.lists(SAFE_NAMES, min_size=2, max_size=6, unique=True))
    cut = draw(st.integers(1, len(names) - 1))
    tiers = [names[:cut], names[cut:]]
    early, late = names[:cut], names[cut:]
    required = draw(st.lists(st.tuples(st.sampled_from(early), st.sampled_from(late)),
                             max_size=3, unique=True))
    return {"tiers": tiers, "required": [list(e) for e in required],
            "roots": names[:1]}


@FUZZ
@given(valid_knowledge())
def test_valid_knowledge_loads_and_round_trips(data: dict[str, Any]) -> None:
    knowledge = Knowledge.from_dict(data)
    names = [v for tier in data["tiers"] for v in tier]
    allowed, required = knowledge.resolve(names)
    index = {v: k for k, v in enumerate(names)}
    for a, b in data["required"]:
        assert required[index[a], index[b]] and allowed[index[a], index[b]]
    late, early = data["tiers"][1][0], data["tiers"][0][0]
    assert not allowed[index[late], index[early]]  # against the tiers' order
    assert Knowledge.from_dict(knowledge.to_dict()) == knowledge
    path = in_file(".json", json.dumps(data))
    assert load_knowledge(path) == knowledge
