"""Checkpoint files: written atomically, read without unpickling arbitrary objects.

A checkpoint is one ``torch.save`` file holding only plain data (tensors, dicts,
lists, tuples, numbers, strings, booleans, ``None``)::

    {"format": "dagforge-checkpoint", "version": 1,
     "sha256": <hex digest of payload>, "payload": <uint8 tensor>}

where ``payload`` is itself the ``torch.save`` bytes of::

    {"model": state dict, "optimizer_state": ..., "solver_state": ...,
     "rng_states": {name: uint8 tensor}, "history": [row dicts], "config": {...}}

Both levels are read with ``torch.load(weights_only=True)``, so loading never runs
code from the file, and the digest catches truncation and tampering that still
unpickles. Any such problem is a :class:`~dagforge.errors.DataError` with a
one-line message naming the file.
"""

from __future__ import annotations

import enum
import hashlib
import io
import os
import pickle
import warnings
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from dagforge._io import atomic_open
from dagforge.errors import DataError

__all__ = ["FORMAT", "VERSION", "Checkpoint", "load_checkpoint", "save_checkpoint"]

FORMAT = "dagforge-checkpoint"
VERSION = 1
_FIELDS = ("model", "optimizer_state", "solver_state", "rng_states", "history", "config")


@dataclass
class Checkpoint:
    """The contents of a checkpoint file (see :func:`save_checkpoint`)."""

    model: dict[str, Tensor]
    optimizer_state: dict[str, Any] | None
    solver_state: dict[str, Any]
    rng_states: dict[str, Tensor]
    history: list[dict[str, Any]]
    config: dict[str, Any]
    version: int = VERSION


def _plain(obj: Any, where: str) -> Any:
    """``obj`` as plain data for ``weights_only`` loading (numpy values become tensors or
    Python numbers, enums their values); anything else is a ``TypeError`` naming ``where``."""
    if isinstance(obj, np.generic):  # before float: np.float64 is a float subclass
        return obj.item()
    if obj is None or isinstance(obj, bool | int | float | str):
        return type(obj)(obj) if obj is not None else None  # plain bool/int/float/str
    if isinstance(obj, Tensor):
        return obj.detach().cpu().clone()
    if isinstance(obj, np.ndarray):
        return torch.from_numpy(np.array(obj, copy=True))
    if isinstance(obj, enum.Enum):
        return _plain(obj.value, where)
    if isinstance(obj, torch.dtype):
        return str(obj)
    if isinstance(obj, Mapping):
        return {(k if isinstance(k, str | int) else str(k)): _plain(v, f"{where}.{k}")
                for k, v in obj.items()}
    if isinstance(obj, tuple):
        return tuple(_plain(v, f"{where}[{i}]") for i, v in enumerate(obj))
    if isinstance(obj, list):
        return [_plain(v, f"{where}[{i}]") for i, v in enumerate(obj)]
    raise TypeError(f"checkpoint field {where} holds a {type(obj).__name__}; only tensors, "
                    "dicts, lists, tuples, numbers, strings and None can be saved")


def _to_bytes(obj: Any) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def save_checkpoint(
    path: str | os.PathLike[str],
    *,
    model: nn.Module | Mapping[str, Tensor],
    optimizer_state: Mapping[str, Any] | None,
    solver_state: Mapping[str, Any],
    rng_states: Mapping[str, Tensor],
    history: Sequence[Mapping[str, Any]],
    config: Mapping[str, Any],
) -> None:
    """Write a checkpoint atomically (a reader never sees a half-written file).

    Parameters
    ----------
    path : path-like
        File to write; its folder is created.
    model : nn.Module or mapping of str to Tensor
        The module (its ``state_dict()`` is saved) or a state dict.
    optimizer_state : mapping, optional
        Inner optimiser state (e.g. :meth:`dagforge.train.Trainer.state_dict`).
    solver_state : mapping
        Outer solver state: multipliers (``mu`` / ``rho``, ``alpha``), stage or step, ...
    rng_states : mapping of str to Tensor
        ``torch.Generator.get_state()`` of every generator in use.
    history : sequence of mapping
        History rows so far.
    config : mapping
        The settings of the run (to check a resume against).

    Raises
    ------
    TypeError
        If a field holds something other than plain data.
    """
    state = model.state_dict() if isinstance(model, nn.Module) else model
    payload = {
        "model": _plain(dict(state), "model"),
        "optimizer_state": _plain(optimizer_state, "optimizer_state"),
        "solver_state": _plain(dict(solver_state), "solver_state"),
        "rng_states": _plain(dict(rng_states), "rng_states"),
        "history": _plain(list(history), "history"),
        "config": _plain(dict(config), "config"),
    }
    body = _to_bytes(payload)
    envelope = {
        "format": FORMAT,
        "version": VERSION,
        "sha256": hashlib.sha256(body).hexdigest(),
        "payload": torch.frombuffer(bytearray(body), dtype=torch.uint8),
    }
    with atomic_open(path, "wb") as fh:
        fh.write(_to_bytes(envelope))


_LOAD_ERRORS = (pickle.UnpicklingError, zipfile.BadZipFile, RuntimeError, EOFError, ValueError,
                KeyError, TypeError, AttributeError, IndexError, OSError, UnicodeDecodeError)


def _load_plain(data: bytes) -> Any:
    """Unpickle with torch's restricted unpickler (plain data only, never code); its
    warnings about foreign files are dropped (the caller's error says what is wrong)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)


def load_checkpoint(path: str | os.PathLike[str]) -> Checkpoint:
    """Read a checkpoint written by :func:`save_checkpoint` (tensors on the CPU).

    Raises
    ------
    DataError
        If the file is missing, truncated, corrupt, tampered with (digest mismatch),
        not a dagforge checkpoint, or of an unknown version.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"checkpoint {path} not found")
    raw = path.read_bytes()
    try:
        envelope = _load_plain(raw)
    except _LOAD_ERRORS as exc:
        raise DataError(f"checkpoint {path} is corrupt or truncated (cannot be read: "
                        f"{type(exc).__name__})") from None
    if not isinstance(envelope, dict) or envelope.get("format") != FORMAT:
        raise DataError(f"checkpoint {path} is not a dagforge checkpoint")
    if envelope.get("version") != VERSION:
        raise DataError(f"checkpoint {path} has version {envelope.get('version')!r}; this "
                        f"dagforge reads version {VERSION}")
    payload = envelope.get("payload")
    digest = envelope.get("sha256")
    if not isinstance(payload, Tensor) or payload.dtype != torch.uint8 or not isinstance(
            digest, str):
        raise DataError(f"checkpoint {path} is corrupt (malformed envelope)")
    body = payload.numpy().tobytes()
    if hashlib.sha256(body).hexdigest() != digest:
        raise DataError(f"checkpoint {path} is corrupt or was modified (checksum mismatch)")
    try:
        content = _load_plain(body)
    except _LOAD_ERRORS as exc:
        raise DataError(f"checkpoint {path} is corrupt (payload cannot be read: "
                        f"{type(exc).__name__})") from None
    if not isinstance(content, dict) or set(content) != set(_FIELDS):
        raise DataError(f"checkpoint {path} is corrupt (expected fields {list(_FIELDS)})")
    return Checkpoint(**{k: content[k] for k in _FIELDS}, version=VERSION)
