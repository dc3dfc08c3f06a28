"""Prior knowledge: parsing, conflicts, masks in the models, and the learned graphs obeying it."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from dagforge.cli import main
from dagforge.constraints import acyclicity_fn
from dagforge.errors import ConfigError, GraphError, SolverError
from dagforge.estimator import DagLearner
from dagforge.graph import is_dag, read_adjacency, threshold_to_dag
from dagforge.knowledge import Knowledge, as_knowledge, load_knowledge
from dagforge.models.gnn import DAGGNN
from dagforge.models.linear import LinearSEM, covariance
from dagforge.models.mlp import MLPSEM
from dagforge.nonlinear import build_problem, edge_l1_weights, fit_nonlinear
from dagforge.search import hill_climb, refine
from dagforge.solvers.base import Problem
from helpers import FIVE_NODE, sample_five_node

NAMES = ["a", "b", "c", "d", "e"]  # the variables of FIVE_NODE: a->b->c, a->d->e, b->e


def _edges(A: np.ndarray, names: list[str] = NAMES) -> set[tuple[str, str]]:
    return {(names[i], names[j]) for i, j in np.argwhere(np.asarray(A) != 0)}


# --------------------------------------------------------------------------- parsing

FULL = {
    "required": [["a", "b"]],
    "forbidden": [["b", "a"], ["e", "a"]],
    "tiers": [["a"], ["b", "c", "d"], ["e"]],
    "roots": ["a"],
    "sinks": ["e"],
    "forbid_within_tiers": False,
}


def test_yaml_and_json_files_give_the_same_knowledge(tmp_path: Path) -> None:
    y = tmp_path / "k.yaml"
    y.write_text("required: [[a, b]]\nforbidden: [[b, a], [e, a]]\n"
                 "tiers:\n  - [a]\n  - [b, c, d]\n  - [e]\nroots: [a]\nsinks: [e]\n"
                 "forbid_within_tiers: false\n")
    j = tmp_path / "k.json"
    j.write_text(json.dumps(FULL))
    ky, kj = load_knowledge(y), load_knowledge(j)
    assert ky == kj == Knowledge.from_dict(FULL)
    assert ky.to_dict() == FULL
    assert Knowledge.from_dict(ky.to_dict()) == ky
    assert ky.required == (("a", "b"),) and ky.tiers[1] == ("b", "c", "d")
    assert load_knowledge(_write(tmp_path, "empty.yaml", "")).empty  # an empty file is no knowledge


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


@pytest.mark.parametrize(("name", "text", "message"), [
    ("k.yaml", "requird: [[a, b]]\n", "unknown key 'requird'"),
    ("k.yaml", "- [a, b]\n", "must be a mapping"),
    ("k.yaml", "required: [[a, b, c]]\n", "is not a [parent, child] pair"),
    ("k.yaml", "required: [a, b]\n", "is not a [parent, child] pair"),
    ("k.yaml", "required: a\n", "required must be a list"),
    ("k.yaml", "roots: [yes]\n", "is not a variable name"),
    ("k.yaml", "roots: a\n", "roots must be a list"),
    ("k.yaml", "tiers: [a, b]\n", "tiers[0] must be a list"),
    ("k.yaml", "forbid_within_tiers: 3\n", "forbid_within_tiers must be true or false"),
    ("k.yaml", "required: [[a, b\n", "cannot parse"),
    ("k.json", '{"required": [["a", "b"]],}', "cannot parse"),
    ("k.txt", "required: []\n", "must be .yaml, .yml or .json"),
])
def test_malformed_files_are_one_line_config_errors(tmp_path: Path, name: str, text: str,
                                                    message: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_knowledge(_write(tmp_path, name, text))
    assert message in str(err.value) and "\n" not in str(err.value)
    assert str(tmp_path) in str(err.value)  # names the file


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="knowledge file not found"):
        load_knowledge(tmp_path / "nope.yaml")


@pytest.mark.parametrize(("data", "message"), [
    ({"required": [["a", "a"]]}, "required edge 'a' -> 'a' is a self-loop"),
    ({"forbidden": [["b", "b"]]}, "forbidden edge 'b' -> 'b' is a self-loop"),
    ({"tiers": [["a", "b"], ["c", "a"]]}, "'a' is in two tiers (1 and 2)"),
    ({"tiers": [["a", "b", "a"]]}, "'a' is in tier 1 twice"),
    ({"required": [["a", "b"]], "forbidden": [["a", "b"]]},
     "required edge 'a' -> 'b' is forbidden: it is listed as forbidden"),
    ({"required": [["c", "a"]], "tiers": [["a"], ["b"], ["c"]]},
     "required edge 'c' -> 'a' is forbidden: it goes from tier 3 ('c') back to the earlier "
     "tier 1 ('a')"),
    ({"required": [["a", "b"]], "tiers": [["a", "b"]], "forbid_within_tiers": True},
     "both are in tier 1 and forbid_within_tiers is set"),
    ({"required": [["a", "b"]], "roots": ["b"]}, "forbidden: 'b' is a root"),
    ({"required": [["a", "b"]], "sinks": ["a"]}, "forbidden: 'a' is a sink"),
    ({"required": [["a", "b"], ["b", "c"], ["d", "e"], ["c", "a"]]},
     "required edges form a cycle: 'a' -> 'b' -> 'c' -> 'a'"),
    ({"required": [["a", "b"], ["b", "a"]]}, "required edges form a cycle: 'a' -> 'b' -> 'a'"),
])
def test_every_kind_of_conflict_is_rejected_naming_it(data: dict, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        Knowledge.from_dict(data)
    assert message in str(err.value), str(err.value)


def test_unknown_variable_names_are_rejected_by_resolve() -> None:
    k = Knowledge(forbidden=[("a", "zz")])
    with pytest.raises(ConfigError, match="unknown variable 'zz'; the data has 'a', 'b'"):
        k.resolve(NAMES)


def test_resolve_builds_the_masks() -> None:
    k = Knowledge.from_dict(FULL)
    allowed, required = k.resolve(NAMES)
    assert _edges(required) == {("a", "b")}
    assert not allowed.diagonal().any()
    assert not allowed[:, 0].any()  # a is a root
    assert not allowed[4, :].any()  # e is a sink
    assert allowed[1, 2] and allowed[2, 1]  # within a tier: allowed by default
    assert not allowed[3, 0] and allowed[0, 3]  # tier 2 -> tier 1 ruled out
    assert not (required & ~allowed).any()
    k2 = Knowledge(tiers=[["a"], ["b", "c", "d"], ["e"]], forbid_within_tiers=True)
    allowed2, _ = k2.resolve(NAMES)
    assert not allowed2[1, 2] and not allowed2[2, 1]
    # variables in no tier are unconstrained; the names' order follows the data
    allowed3, _ = Knowledge(tiers=[["e"], ["a"]]).resolve(NAMES[::-1])
    assert not allowed3[4, 0] and allowed3[0, 4] and allowed3[1:4, 1:4].sum() == 6


def test_as_knowledge_accepts_objects_mappings_and_paths(tmp_path: Path) -> None:
    k = Knowledge(required=[("a", "b")])
    assert as_knowledge(k) is k and as_knowledge(None) is None
    assert as_knowledge({"required": [["a", "b"]]}) == k
    assert as_knowledge(_write(tmp_path, "k.yml", "required: [[a, b]]\n")) == k
    with pytest.raises(ConfigError, match="Knowledge, a mapping or a file path"):
        as_knowledge(3)  # type: ignore[arg-type]
    assert Knowledge().empty and Knowledge(tiers=[["a", "b"]]).empty
    assert not Knowledge(tiers=[["a"], ["b"]]).empty


# --------------------------------------------------------------------------- graph helpers


def test_threshold_to_dag_keeps_required_edges() -> None:
    W = np.array([[0, 0.9, 0.0], [0.0, 0, 0.8], [0.5, 0, 0]])  # cycle 0 -> 1 -> 2 -> 0
    req = np.zeros((3, 3), bool)
    req[2, 0] = True  # the weakest edge of the cycle is required
    out = threshold_to_dag(W, 0.6, required=req)  # and below the threshold
    assert out[2, 0] == 0.5 and is_dag(out)
    assert out[1, 2] == 0.0 and out[0, 1] == 0.9  # the weakest free edge of the cycle went
    with pytest.raises(GraphError, match="required edges form a cycle"):
        threshold_to_dag(W, 0.0, required=W != 0)


def test_threshold_to_dag_random_required_sets() -> None:
    rng = np.random.default_rng(0)
    for _ in range(30):
        d = 8
        W = rng.normal(size=(d, d)) * (rng.random((d, d)) < 0.5)
        order = rng.permutation(d)
        rank = np.empty(d, int)
        rank[order] = np.arange(d)
        req = (rank[:, None] < rank[None, :]) & (W != 0) & (rng.random((d, d)) < 0.3)
        out = threshold_to_dag(W, 0.5, required=req)
        assert is_dag(out)
        assert np.all(out[req] == W[req])


def test_hill_climb_and_refine_respect_knowledge() -> None:
    X = sample_five_node(n=500, seed=1)
    S, n = covariance(X).numpy(), X.shape[0]
    k = Knowledge(required=[("c", "e")], forbidden=[("a", "b"), ("b", "a")],
                  tiers=[["a", "d"], ["b", "c", "e"]])
    allowed, required = k.resolve(NAMES)
    out = hill_climb(S, n, np.zeros((5, 5)), allowed=allowed, required=required, tabu_steps=5)
    assert not ((out != 0) & ~allowed).any() and (out[required] != 0).all()
    # from a start with a forbidden edge: the edge may go but never comes back reversed
    start = np.zeros((5, 5))
    start[1, 0] = 1.0  # b -> a: forbidden, and so is the reversal a -> b
    out = hill_climb(S, n, start, allowed=allowed, required=required)
    assert out[0, 1] == 0 and (out[required] != 0).all()
    rng = np.random.default_rng(0)
    path = [FIVE_NODE + rng.normal(scale=0.3, size=(5, 5)) for _ in range(3)]
    for noise in ("equal", "unequal"):
        W, _ = refine(S, n, path, 0.3, noise=noise, allowed=allowed, required=required, kicks=5,
                      rng=np.random.default_rng(1))
        assert is_dag(W) and not ((W != 0) & ~allowed).any() and (W[required] != 0).all()
    bad = required.copy()
    bad[0, 1] = True
    with pytest.raises(GraphError, match="not allowed"):
        refine(S, n, path, 0.3, allowed=allowed, required=bad)


def test_masked_entries_contribute_nothing_to_acyclicity() -> None:
    mask = np.ones((3, 3))
    mask[1, 0] = 0
    model = LinearSEM(3, mask=mask)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[0, 1.0, 0], [1.0, 0, 0], [0, 0, 0]]))
    for name in ("logdet", "expm", "poly"):
        h = float(acyclicity_fn(name)(model.adjacency()).detach())
        assert h == pytest.approx(0.0, abs=1e-12)


# --------------------------------------------------------------------------- L1 exemption


def test_problem_l1_weights_exempt_elements() -> None:
    p = nn.Parameter(torch.tensor([[1.0, -2.0], [3.0, 4.0]], dtype=torch.float64))
    w = torch.tensor([[1.0, 0.0], [1.0, 0.0]], dtype=torch.float64)
    m = nn.Module()
    m.p = p
    prob = Problem(module=m, fit=lambda: (p**2).sum(), adjacency=lambda: p, l1_params=[p],
                   l1_weights=[w])
    assert float(prob.l1_norm().detach()) == 4.0
    with pytest.raises(SolverError, match="match l1_params"):
        Problem(module=m, fit=lambda: p.sum(), adjacency=lambda: p, l1_params=[p],
                l1_weights=[w[0]])


@pytest.mark.parametrize("mode", ["proximal", "subgradient"])
def test_adam_trainer_honours_l1_weights(mode: str) -> None:
    from dagforge.train import TrainConfig, Trainer

    rng = np.random.default_rng(0)
    x0 = rng.standard_normal(200)
    X = np.column_stack([x0, 0.3 * x0 + rng.standard_normal(200), rng.standard_normal(200)])
    Xt = torch.as_tensor(X)
    out = {}
    for exempt in (False, True):
        model = LinearSEM(3)
        w = torch.ones(3, 3, dtype=torch.float64)
        if exempt:
            w[0, 1] = 0.0

        def batch_fit(rows: torch.Tensor, model: LinearSEM = model) -> torch.Tensor:
            return 0.5 * ((rows - rows @ model.adjacency()) ** 2).sum() / rows.shape[0]

        problem = Problem(module=model, fit=lambda bf=batch_fit: bf(Xt),
                          adjacency=model.adjacency, l1_params=[model.weight],
                          batch_fit=batch_fit, data=Xt, l1_weights=[w])
        Trainer(TrainConfig(lr=0.02, max_epochs=200, patience=200, l1_mode=mode,
                            progress=False))(problem, 1.0, lambda W: (W * 0.0).sum(), 1.0)
        out[exempt] = model.adjacency().detach()
    # a strong L1 shrinks the weak edge 0 -> 1 hard; exempt, it keeps its OLS size
    assert abs(float(out[True][0, 1])) > 0.2 > abs(float(out[False][0, 1])) + 0.1


def test_edge_l1_weights_for_each_model() -> None:
    req = torch.zeros(4, 4, dtype=torch.bool)
    req[0, 2] = True  # 0 -> 2
    mlp = MLPSEM(4, (3,))
    (w,) = edge_l1_weights(mlp, req)
    assert w.shape == mlp.fc1.shape and float(w.sum()) == 4 * 3 * 4 - 3
    assert not w[2, :, 0].any()  # fc1[j, :, i] of the required edge i -> j
    (w,) = edge_l1_weights(LinearSEM(4), req)
    assert w[0, 2] == 0 and float(w.sum()) == 15
    gnn = DAGGNN(4)
    for g in edge_l1_weights(gnn, req):  # the generic (d, d) layout
        assert g[0, 2] == 0 and float(g.sum()) == 15

    class Odd(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.q = nn.Parameter(torch.zeros(4, 2))

        def l1_parameters(self) -> list[torch.Tensor]:
            return [self.q]

    with pytest.raises(ConfigError, match="needs an edge_l1_weights"):
        edge_l1_weights(Odd(), req)
    X = torch.zeros(5, 4, dtype=torch.float64)
    assert build_problem(mlp, X).l1_weights is None
    assert build_problem(mlp, X, req.numpy()).l1_weights is not None


def test_required_edge_survives_an_l1_weight_that_kills_it() -> None:
    X = sample_five_node(n=500)
    common = dict(lambda1=3.0, threshold=0.0, refine="none", random_state=0)
    plain = DagLearner(**common).fit(X, names=NAMES)
    assert plain.W_[0, 1] == 0  # the penalty removes the true edge a -> b
    kept = DagLearner(**common, knowledge={"required": [["a", "b"]]}).fit(X, names=NAMES)
    assert abs(kept.W_[0, 1]) > 0.5 and kept.adjacency_[0, 1] == 1
    assert kept.required_[0, 1] and kept.weights_[0, 1] == kept.W_[0, 1]


def test_user_mask_cannot_remove_a_required_edge() -> None:
    X = sample_five_node(n=50)
    req = np.zeros((5, 5), bool)
    req[0, 1] = True
    mask = np.ones((5, 5))
    mask[0, 1] = 0
    with pytest.raises(ConfigError, match="masked out"):
        fit_nonlinear(X, model="mlp", model_options={"mask": mask}, required=req,
                      allowed=~np.eye(5, dtype=bool))


# --------------------------------------------------------------------------- learned graphs

#: Knowledge that contradicts the truth (a -> b forbidden, c -> e required) and tiers.
CONTRARY = Knowledge(required=[("c", "e")], forbidden=[("a", "b")],
                     tiers=[["a"], ["b", "c", "d"], ["e"]])


def _check_obeys(m: DagLearner, k: Knowledge) -> None:
    allowed, required = k.resolve(NAMES)
    A = m.adjacency_ != 0
    assert is_dag(A)
    assert not (A & ~allowed).any(), _edges(A & ~allowed)
    assert A[required].all()
    assert np.array_equal(m.allowed_, allowed) and np.array_equal(m.required_, required)
    for i, j in np.argwhere(A):  # tiers: never from a later tier into an earlier one
        ti, tj = k.tier_of(NAMES[i]), k.tier_of(NAMES[j])
        assert ti is None or tj is None or ti <= tj


@pytest.mark.parametrize("params", [
    {}, {"loss": "nll"}, {"refine": "none"}, {"solver": "augmented_lagrangian"},
    {"standardize": True},
])
def test_linear_output_obeys_knowledge(params: dict) -> None:
    X = sample_five_node(n=500)
    m = DagLearner(knowledge=CONTRARY, random_state=0, **params).fit(X, names=NAMES)
    _check_obeys(m, CONTRARY)
    assert ("a", "b") not in _edges(m.adjacency_) and ("c", "e") in _edges(m.adjacency_)


def test_linear_knowledge_from_the_truth_recovers_it() -> None:
    X = sample_five_node(n=500)
    k = Knowledge(tiers=[["a"], ["b", "d"], ["c", "e"]], required=[("a", "b")])
    m = DagLearner(knowledge=k, random_state=0).fit(X, names=NAMES)
    _check_obeys(m, k)
    assert _edges(m.adjacency_) == _edges(FIVE_NODE)


MLP_FAST = {"model": "mlp", "model_options": {"hidden": (4,)}, "random_state": 0,
            "solver_options": {"s": (1.0, 1.0)}}


@pytest.mark.parametrize("params", [
    MLP_FAST,
    {**MLP_FAST, "refine": "hill_climb"},
    {"model": "mlp", "model_options": {"hidden": (4,)}, "inner": "adam", "random_state": 0,
     "solver_options": {"s": (1.0, 1.0)}, "train_options": {"max_epochs": 30, "progress": False}},
])
def test_mlp_output_obeys_knowledge(params: dict) -> None:
    X = sample_five_node(n=200)
    m = DagLearner(knowledge=CONTRARY, **params).fit(X, names=NAMES)
    _check_obeys(m, CONTRARY)


def test_gnn_output_obeys_knowledge_through_the_generic_hooks() -> None:
    if "mask" not in inspect.signature(DAGGNN).parameters:  # pragma: no cover
        pytest.skip("DAGGNN has no knowledge mask argument")
    X = sample_five_node(n=200)
    m = DagLearner(model="gnn", knowledge=CONTRARY, random_state=0,
                   solver_options={"s": (1.0, 1.0)}).fit(X, names=NAMES)
    _check_obeys(m, CONTRARY)


# --------------------------------------------------------------------------- command line


def _data(tmp_path: Path) -> Path:
    X = sample_five_node(n=300)
    path = tmp_path / "data.csv"
    path.write_text(",".join(NAMES) + "\n"
                    + "\n".join(",".join(f"{v:.6g}" for v in row) for row in X) + "\n")
    return path


def test_cli_fit_with_knowledge(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _data(tmp_path)
    kfile = _write(tmp_path, "k.yaml", "required: [[c, e]]\nforbidden: [[a, b]]\n"
                                       "tiers: [[a], [b, c, d], [e]]\n")
    out = tmp_path / "fit"
    assert main(["fit", str(data), "--knowledge", str(kfile), "--out", str(out)]) == 0
    A, names = read_adjacency(out / "adjacency.csv")
    assert names == NAMES
    assert A[2, 4] == 1 and A[0, 1] == 0
    run = json.loads((out / "run.json").read_text())
    assert run["knowledge"]["required"] == [["c", "e"]]
    assert run["config"]["knowledge"] == str(kfile)
    # the same through a config file, the path relative to the config's folder
    cfg = _write(tmp_path, "fit.yaml", "knowledge: k.yaml\n")
    assert main(["fit", str(data), "--config", str(cfg), "--out", str(tmp_path / "f2")]) == 0
    A2, _ = read_adjacency(tmp_path / "f2" / "adjacency.csv")
    assert np.array_equal(A, A2)


@pytest.mark.parametrize(("text", "message"), [
    ("required: [[a, b], [b, a]]\n", "required edges form a cycle: 'a' -> 'b' -> 'a'"),
    ("requird: []\n", "unknown key 'requird'"),
    ("required: [[a, zz]]\n", "unknown variable 'zz'"),
    ("sinks: [a]\nrequired: [[a, b]]\n", "'a' is a sink"),
])
def test_cli_bad_knowledge_exits_2_with_one_line(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str],
                                                 text: str, message: str) -> None:
    data = _data(tmp_path)
    kfile = _write(tmp_path, "k.yaml", text)
    out = tmp_path / "fit"
    code = main(["fit", str(data), "--knowledge", str(kfile), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("dagforge: error: ") and err.count("\n") == 1 and message in err
    assert not out.exists()  # rejected before any output


def test_cli_missing_knowledge_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _data(tmp_path)
    code = main(["fit", str(data), "--knowledge", str(tmp_path / "no.yaml"), "--out",
                 str(tmp_path / "o")])
    assert code == 2 and "knowledge file not found" in capsys.readouterr().err
