"""Exact resume of an interrupted solve, without any support from the outer solver.

An outer solver (path following, augmented Lagrangian) is a deterministic
function of the parameters its inner optimiser hands back: its multipliers
(``mu``, ``s``, ``rho``, ``alpha``), retries and stopping all follow from the
values of ``h`` and the loss at the end of each inner call. So a run can be
continued exactly by *replaying* it:

1. a :class:`CallRecorder` wraps the inner optimiser(s) and records, for every
   inner call, the parameters it ended with and its :class:`InnerResult`;
2. a checkpoint (:class:`Checkpointer`) holds these records, the model, the
   inner optimiser's state (mid-call for the Adam trainer: its epoch, the
   ``state_dict`` of its ``torch.optim`` Adam and learning-rate scheduler, best
   parameters, ...), every generator's state and the histories;
3. on resume the outer solver is simply started again: the recorded calls are
   answered from the records (the solver recomputes the same multipliers, the
   same history), and the first unrecorded call goes to the real inner
   optimiser, which continues where the checkpoint left it.

On CPU with the same seed and thread count, a resumed run therefore ends with the
same parameters, bit for bit, as an uninterrupted one. Checkpoints are written
after every inner call and, with the trainer, every ``every_epochs`` epochs.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from dagforge._io import _plain as _json_plain
from dagforge.checkpoint import Checkpoint, save_checkpoint
from dagforge.errors import ConfigError, DataError
from dagforge.solvers.base import InnerOptimizer, InnerResult, Problem
from dagforge.train import Trainer

log = logging.getLogger(__name__)

__all__ = ["CHECKPOINT_FILE", "CallRecorder", "Checkpointer", "ReplayInner", "data_fingerprint"]

#: File name of the checkpoint inside a checkpoint directory.
CHECKPOINT_FILE = "checkpoint.pt"

#: Config keys that may differ between an interrupted run and its resumption.
VOLATILE_KEYS = ("progress", "checkpoint_every")


def data_fingerprint(X: np.ndarray | Tensor) -> str:
    """SHA-256 of the data's shape and float64 bytes (to check a resume uses the same data)."""
    arr = X.detach().cpu().numpy() if isinstance(X, Tensor) else np.asarray(X)
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    h = hashlib.sha256(repr(arr.shape).encode())
    h.update(arr.tobytes())
    return h.hexdigest()


class CallRecorder:
    """Records every inner call of a run and answers recorded calls on a replay.

    One recorder serves every inner optimiser of a solver (e.g. path following's
    ``inner`` and ``final_inner``): :meth:`wrap` each, and the calls are counted
    in the order the solver makes them.

    Parameters
    ----------
    on_call_end : callable () -> None, optional
        Called after every real (not replayed) call, e.g. to write a checkpoint.
    """

    def __init__(self, on_call_end: Callable[[], None] | None = None) -> None:
        self.on_call_end = on_call_end
        self.records: list[dict[str, Any]] = []
        self._n = 0  # calls made in this process (replayed or real)

    @property
    def n_calls(self) -> int:
        """Inner calls recorded."""
        return len(self.records)

    def wrap(self, inner: InnerOptimizer) -> ReplayInner:
        """``inner`` wrapped so its calls are recorded here (and replayed on a resume)."""
        return ReplayInner(inner, self)

    def load_records(self, records: Sequence[Mapping[str, Any]]) -> None:
        """Calls to answer from records on the next run of the outer solver."""
        self.records = [dict(r) for r in records]
        self._n = 0

    def call(self, inner: InnerOptimizer, problem: Problem, fit_weight: float,
             penalty: Callable[[Tensor], Tensor], l1: float) -> InnerResult:
        """Replay call number ``k`` if it is recorded, else run ``inner`` and record it."""
        params = [p for p in problem.module.parameters() if p.requires_grad]
        k = self._n
        self._n += 1
        if k < len(self.records):
            rec = self.records[k]
            if not (math.isclose(rec["fit_weight"], fit_weight, rel_tol=1e-12)
                    and math.isclose(rec["l1"], l1, rel_tol=1e-12, abs_tol=1e-300)
                    and len(rec["params"]) == len(params)):
                raise DataError(f"checkpoint does not match this run: inner call {k} was made "
                                f"with fit_weight={rec['fit_weight']}, l1={rec['l1']}, now "
                                f"with fit_weight={fit_weight}, l1={l1}")
            with torch.no_grad():
                for p, v in zip(params, rec["params"], strict=True):
                    p.copy_(v)
            problem.module.eval()
            log.debug("inner call %d replayed from the checkpoint", k)
            return InnerResult(**rec["result"])
        result = inner(problem, fit_weight, penalty, l1)
        self.records.append({
            "fit_weight": float(fit_weight),
            "l1": float(l1),
            "params": [p.detach().cpu().clone() for p in params],
            "result": {"n_iter": int(result.n_iter), "n_eval": int(result.n_eval),
                       "converged": bool(result.converged), "message": str(result.message),
                       "lr": float(result.lr)},
        })
        if self.on_call_end is not None:
            self.on_call_end()
        return result


class ReplayInner:
    """An inner optimiser whose calls go through a :class:`CallRecorder`."""

    def __init__(self, inner: InnerOptimizer, recorder: CallRecorder) -> None:
        self.inner = inner
        self.recorder = recorder

    def __call__(self, problem: Problem, fit_weight: float,
                 penalty: Callable[[Tensor], Tensor], l1: float) -> InnerResult:
        return self.recorder.call(self.inner, problem, fit_weight, penalty, l1)


def _normalised(config: Mapping[str, Any]) -> dict[str, Any]:
    """``config`` as JSON-normalised plain data, volatile keys removed (recursively)."""

    def strip(obj: Any) -> Any:
        if isinstance(obj, dict):
            return {k: strip(v) for k, v in obj.items() if k not in VOLATILE_KEYS}
        if isinstance(obj, list):
            return [strip(v) for v in obj]
        return obj

    return strip(json.loads(json.dumps(_json_plain(dict(config)))))


def _differences(a: Any, b: Any, where: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[str] = []
        for k in sorted(set(a) | set(b)):
            out += _differences(a.get(k), b.get(k), f"{where}.{k}" if where else k)
        return out
    return [] if a == b else [where or "<root>"]


class Checkpointer:
    """Writes resumable checkpoints of a run and restores them.

    Parameters
    ----------
    directory : path-like
        The checkpoint directory; the file is ``directory / CHECKPOINT_FILE``.
    model : nn.Module
        The model (its ``generator`` attribute, if any, is checkpointed too).
    recorder : CallRecorder
        Records the inner calls.
    trainer : Trainer, optional
        The Adam trainer when it is the inner optimiser.
    config : mapping
        Plain description of the run; a resume with different settings is refused.
    every_epochs : int
        With a trainer, also checkpoint every that many epochs (0: only after inner calls).
    """

    def __init__(self, directory: str | os.PathLike[str], *, model: nn.Module,
                 recorder: CallRecorder, trainer: Trainer | None, config: Mapping[str, Any],
                 every_epochs: int = 0) -> None:
        if every_epochs < 0:
            raise ConfigError(f"checkpoint_every must be >= 0, got {every_epochs}")
        self.path = Path(directory) / CHECKPOINT_FILE
        self.model = model
        self.recorder = recorder
        self.trainer = trainer
        self.config = dict(config)
        self.every_epochs = int(every_epochs)
        self.final_state: dict[str, Any] | None = None
        # the solver replays from the starting point, so that is what a resume loads
        self.initial_model = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
        recorder.on_call_end = self.save
        if trainer is not None:
            trainer.on_epoch_end = self._epoch_end

    def _epoch_end(self, trainer: Trainer) -> None:
        if self.every_epochs and trainer.epoch % self.every_epochs == 0:
            self.save()

    def _rng_states(self) -> dict[str, Tensor]:
        out: dict[str, Tensor] = {}
        gen = getattr(self.model, "generator", None)
        if isinstance(gen, torch.Generator):
            out["model"] = gen.get_state()
        return out

    def save(self) -> None:
        """Write the current state (atomically replacing the previous checkpoint)."""
        optimizer_state = None
        rng = self._rng_states()
        history: list[dict[str, Any]] = []
        if self.trainer is not None:
            optimizer_state = self.trainer.state_dict()
            rng["trainer"] = optimizer_state.pop("generator")
            history = optimizer_state.pop("history")
        last = self.recorder.records[-1] if self.recorder.records else None
        solver_state: dict[str, Any] = {
            "initial_model": self.initial_model,
            "n_calls": self.recorder.n_calls,
            "calls": self.recorder.records,
            "fit_weight": None if last is None else last["fit_weight"],  # = mu in path following
            "l1": None if last is None else last["l1"],
            "finished": self.final_state is not None,
            "final": self.final_state,  # the solver's state (multipliers) once it returned
        }
        save_checkpoint(self.path, model=self.model, optimizer_state=optimizer_state,
                        solver_state=solver_state, rng_states=rng, history=history,
                        config=self.config)
        log.debug("checkpoint written: %s (%d inner calls)", self.path, self.recorder.n_calls)

    def finish(self, solver_state: Mapping[str, Any]) -> None:
        """Write the final checkpoint with the solver's returned state (multipliers)."""
        self.final_state = {k: v for k, v in solver_state.items()
                            if isinstance(v, int | float | str | bool)}
        self.save()

    def restore(self, ckpt: Checkpoint) -> None:
        """Load ``ckpt`` into the model, trainer and replay wrapper; refuse other settings.

        Raises
        ------
        ConfigError
            If the checkpoint was written by a run with different settings or data.
        DataError
            If its contents do not fit this model or inner optimiser.
        """
        diff = _differences(_normalised(ckpt.config), _normalised(self.config))
        if diff:
            raise ConfigError(f"checkpoint {self.path} was written by a run with different "
                              f"settings (differing: {', '.join(diff[:8])}); resume with the "
                              "same settings or start a new run")
        initial = ckpt.solver_state.get("initial_model")
        if not isinstance(initial, dict):
            raise DataError(f"checkpoint {self.path} holds no initial model state")
        try:
            self.model.load_state_dict(initial)
        except (RuntimeError, KeyError) as exc:
            first = str(exc).splitlines()[0]
            raise DataError(f"checkpoint {self.path} does not fit the model: {first}") from None
        gen = getattr(self.model, "generator", None)
        if isinstance(gen, torch.Generator) and "model" in ckpt.rng_states:
            gen.set_state(ckpt.rng_states["model"])
        if self.trainer is not None:
            if ckpt.optimizer_state is None or "trainer" not in ckpt.rng_states:
                raise DataError(f"checkpoint {self.path} holds no trainer state")
            state = dict(ckpt.optimizer_state)
            state["generator"] = ckpt.rng_states["trainer"]
            state["history"] = ckpt.history
            self.trainer.load_state_dict(state)
        calls = ckpt.solver_state.get("calls")
        if not isinstance(calls, list):
            raise DataError(f"checkpoint {self.path} holds no record of inner calls")
        self.recorder.load_records(calls)
        log.info("resuming from %s: %d inner calls to replay", self.path, len(calls))
