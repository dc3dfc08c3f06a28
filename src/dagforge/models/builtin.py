"""The shipped models' registry entries (see :mod:`dagforge.models.registry`).

Each default's reason is one line here; the measurements behind it are in
``docs/tuning.md`` under the same name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dagforge.models.registry import ModelSpec, register_model

# The DAGMA-style central path with four stages of s = 1; the log-det constraint's
# domain is what it follows (docs/tuning.md#solver-schedules).
_PATH = {"constraint": "logdet", "lambda1": 0.02, "mu_init": 0.1, "mu_factor": 0.1,
         "s": (1.0, 1.0, 1.0, 1.0)}

register_model(ModelSpec(
    name="linear",
    learner="linear",
    description="linear SEM fitted from the covariance, refined by BIC local search",
))

register_model(ModelSpec(
    name="mlp",
    learner="nonlinear",
    build="dagforge.models.mlp:MLPSEM",
    description="one MLP per variable; adjacency from the first layer's input norms",
    solver_defaults={"path_following": _PATH,
                     "augmented_lagrangian": {"constraint": "expm", "lambda1": 0.02}},
    # warm-up stages solved tightly: loose ones lost accuracy (docs/tuning.md#mlp-inner)
    lbfgs_defaults={"inner": {"max_iter": 1000}, "final_inner": {"max_iter": 1000}},
    # half the L1 weight and a cut of 0.5 (docs/tuning.md#order-refit)
    order_refit={"l1_share": 0.5, "threshold": 0.5, "max_iter": 1000},
))

register_model(ModelSpec(
    name="typed",
    learner="nonlinear",
    build="dagforge.models.typed:TypedSEM",
    description="one-hot inputs and a likelihood per variable (Gaussian, Bernoulli, "
                "softmax): what linear (hidden=()) and mlp fit on discrete or mixed columns",
    solver_defaults={"path_following": _PATH,
                     "augmented_lagrangian": {"constraint": "expm", "lambda1": 0.02}},
    # its iterates only start the typed score's search: 30 steps a stage left the graphs
    # as they were at 300, in half the time (docs/tuning.md#typed-inner)
    lbfgs_defaults={"inner": {"max_iter": 30}, "final_inner": {"max_iter": 30}},
    loss_choice_applies=lambda options: False,  # each type has its one likelihood
))


def _message_passing(options: Mapping[str, Any]) -> bool:
    """DAG-GNN's linear autoencoder (``propagation="linear"``) has its own ELBO."""
    return options.get("propagation", "message") == "message"


def _hard_message_passing(options: Mapping[str, Any]) -> bool:
    """The order refit was measured on the message-passing GNN with a hard adjacency."""
    return _message_passing(options) and not options.get("soft")


register_model(ModelSpec(
    name="gnn",
    learner="nonlinear",
    build="dagforge.models.gnn:DAGGNN",
    description="DAG-GNN style message passing over a weighted adjacency",
    # lambda1 0.02 beat 0.01 and 0.05 (docs/tuning.md#gnn-lambda1)
    solver_defaults={"path_following": _PATH,
                     "augmented_lagrangian": {"constraint": "poly", "lambda1": 0.02}},
    # 600 steps did no better than 300 in 1.8x the time (docs/tuning.md#gnn-inner)
    lbfgs_defaults={"inner": {"max_iter": 300}, "final_inner": {"max_iter": 300}},
    # half the L1 weight and a cut of 0.3 (docs/tuning.md#order-refit)
    order_refit={"l1_share": 0.5, "threshold": 0.3, "max_iter": 1000},
    sampling_options=("soft", "variational"),
    order_refit_applies=_hard_message_passing,
    loss_choice_applies=_message_passing,
))
