"""Tests for dagforge.checkpoint (the file format) and dagforge.resume (exact resume).

A checkpoint round-trips plain data; a corrupt, truncated, tampered, foreign or
missing file is a DataError with a one-line message naming the file; a pickle
that would run code is refused. An interrupted run, resumed, ends with exactly the
graph of an uninterrupted one, for both inner optimisers and both outer solvers,
whether it was stopped inside an inner call or between two; a resume with other
settings or other data is refused.
"""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest
import torch

import dagforge.resume as resume_mod
from dagforge.checkpoint import FORMAT, load_checkpoint, save_checkpoint
from dagforge.errors import ConfigError, DataError
from dagforge.nonlinear import fit_nonlinear
from dagforge.simulate import simulate


def write_example(path) -> None:
    save_checkpoint(
        path,
        model={"w": torch.arange(6.0).reshape(2, 3)},
        optimizer_state={"t": 3, "m": [torch.ones(2)], "best": float("inf")},
        solver_state={"stage": 2, "mu": 0.01, "calls": [{"l1": 0.1, "params": [torch.zeros(1)]}]},
        rng_states={"trainer": torch.Generator().manual_seed(1).get_state()},
        history=[{"epoch": 1, "h": float("nan"), "lr": 0.1}],
        config={"model": "mlp", "hidden": (10,), "x": np.float64(0.5), "a": np.arange(3)},
    )


# --------------------------------------------------------------------------- format


def test_round_trip(tmp_path) -> None:
    path = tmp_path / "ck" / "checkpoint.pt"
    write_example(path)
    ck = load_checkpoint(path)
    assert torch.equal(ck.model["w"], torch.arange(6.0).reshape(2, 3))
    assert ck.optimizer_state["t"] == 3 and ck.optimizer_state["best"] == float("inf")
    assert ck.solver_state["mu"] == 0.01 and ck.solver_state["stage"] == 2
    assert np.isnan(ck.history[0]["h"])
    assert ck.config["hidden"] == (10,) and ck.config["x"] == 0.5
    assert torch.equal(ck.config["a"], torch.arange(3))
    g = torch.Generator()
    g.set_state(ck.rng_states["trainer"])
    assert torch.equal(torch.rand(3, generator=g),
                       torch.rand(3, generator=torch.Generator().manual_seed(1)))
    # an ordinary torch file: readable without dagforge, without pickle
    raw = torch.load(path, weights_only=True)
    assert raw["format"] == FORMAT
    assert not [p for p in os.listdir(path.parent) if p.endswith(".tmp")]


def test_only_plain_data_can_be_saved(tmp_path) -> None:
    with pytest.raises(TypeError, match=r"config\.obj holds a object"):
        save_checkpoint(tmp_path / "c.pt", model={}, optimizer_state=None, solver_state={},
                        rng_states={}, history=[], config={"obj": object()})
    assert not (tmp_path / "c.pt").exists()


def one_line_data_error(path) -> str:
    with pytest.raises(DataError) as info:
        load_checkpoint(path)
    message = str(info.value)
    assert "\n" not in message and str(path) in message
    return message


def test_missing_file(tmp_path) -> None:
    assert "not found" in one_line_data_error(tmp_path / "nope.pt")


def test_truncated_file(tmp_path) -> None:
    path = tmp_path / "c.pt"
    write_example(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    assert "corrupt or truncated" in one_line_data_error(path)


def test_garbage_file(tmp_path) -> None:
    path = tmp_path / "c.pt"
    path.write_bytes(np.random.default_rng(0).bytes(4000))
    assert "corrupt" in one_line_data_error(path)


def test_tampered_payload(tmp_path) -> None:
    path = tmp_path / "c.pt"
    write_example(path)
    env = torch.load(path, weights_only=True)
    payload = env["payload"].clone()
    payload[len(payload) // 2] ^= 1  # one flipped bit, still a readable file
    env["payload"] = payload
    torch.save(env, path)
    assert "checksum mismatch" in one_line_data_error(path)


def test_not_a_dagforge_checkpoint(tmp_path) -> None:
    path = tmp_path / "c.pt"
    torch.save({"weights": torch.zeros(2)}, path)
    assert "not a dagforge checkpoint" in one_line_data_error(path)


class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_pickled_code_is_refused(tmp_path) -> None:
    path = tmp_path / "c.pt"
    with open(path, "wb") as fh:
        pickle.dump({"format": FORMAT, "evil": Evil()}, fh, protocol=2)
    assert "corrupt" in one_line_data_error(path)


# --------------------------------------------------------------------------- resume


class Interrupt(Exception):
    """Stands for a killed process."""


@pytest.fixture(scope="module")
def data() -> np.ndarray:
    return simulate(graph="er", k=1.5, d=4, n=200, sem="mlp", rng=np.random.default_rng(0)).X


def settings(inner: str, solver: str, model: str) -> dict:
    kw: dict = {"model": model, "inner": inner, "solver": solver, "random_state": 1}
    kw["model_options"] = ({"hidden": 6, "soft": True, "variational": True} if model == "gnn"
                           else {"hidden": (4,)})
    if inner == "adam":
        kw["train_config"] = {"max_epochs": 12, "batch_size": 64, "patience": 5}
    else:
        kw["lbfgs_options"] = {"max_iter": 30}
    kw["solver_options"] = ({"max_outer": 3, "rho_max": 1e3} if solver == "augmented_lagrangian"
                            else {"s": (1.0, 1.0), "max_extra_stages": 1})
    return kw


def interrupted_then_resumed(X, tmp_path, monkeypatch, after_saves: int, **kw):
    original = resume_mod.Checkpointer.save
    count = {"n": 0}

    def save_then_die(self):
        original(self)
        count["n"] += 1
        if count["n"] == after_saves:
            raise Interrupt

    monkeypatch.setattr(resume_mod.Checkpointer, "save", save_then_die)
    with pytest.raises(Interrupt):
        fit_nonlinear(X, checkpoint_dir=tmp_path, checkpoint_every=5, **kw)
    monkeypatch.setattr(resume_mod.Checkpointer, "save", original)
    return fit_nonlinear(X, checkpoint_dir=tmp_path, checkpoint_every=5, resume=True, **kw)


@pytest.mark.parametrize(("inner", "solver", "model", "after_saves"), [
    ("adam", "path_following", "mlp", 2),  # inside the first inner call (epoch 10)
    ("adam", "path_following", "mlp", 4),  # after the first inner call
    ("adam", "augmented_lagrangian", "gnn", 3),
    ("lbfgs", "path_following", "mlp", 2),
    ("lbfgs", "augmented_lagrangian", "mlp", 1),
])
def test_resume_gives_the_identical_graph(data, tmp_path, monkeypatch, inner, solver, model,
                                          after_saves) -> None:
    kw = settings(inner, solver, model)
    full = fit_nonlinear(data, **kw)
    resumed = interrupted_then_resumed(data, tmp_path, monkeypatch, after_saves, **kw)
    assert np.array_equal(resumed.result.W, full.result.W)
    assert resumed.result.stop_reason == full.result.stop_reason
    assert len(resumed.result.history) == len(full.result.history)
    assert len(resumed.train_history) == len(full.train_history)
    for a, b in zip(resumed.train_history, full.train_history, strict=True):
        assert a.keys() == b.keys()
        assert all(x == y or (x != x and y != y) for x, y in zip(a.values(), b.values(),
                                                                 strict=True))
    final = load_checkpoint(tmp_path / resume_mod.CHECKPOINT_FILE)
    assert final.solver_state["finished"]
    assert set(final.solver_state["final"]) == set(full.result.state)


def test_resume_refuses_other_settings_or_data(data, tmp_path) -> None:
    kw = settings("lbfgs", "path_following", "mlp")
    fit_nonlinear(data, checkpoint_dir=tmp_path, **kw)
    other = {**kw, "lbfgs_options": {"max_iter": 31}}
    with pytest.raises(ConfigError, match=r"lbfgs_options\.inner\.max_iter"):
        fit_nonlinear(data, checkpoint_dir=tmp_path, resume=True, **other)
    with pytest.raises(ConfigError, match="data_sha256"):
        fit_nonlinear(data + 1.0, checkpoint_dir=tmp_path, resume=True, **kw)


def test_resume_without_a_checkpoint(tmp_path, data) -> None:
    with pytest.raises(DataError, match="not found"):
        fit_nonlinear(data, checkpoint_dir=tmp_path, resume=True,
                      **settings("lbfgs", "path_following", "mlp"))
