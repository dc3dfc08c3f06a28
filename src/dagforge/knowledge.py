"""Prior knowledge about the graph, enforced as hard constraints during the fit.

A :class:`Knowledge` names variables (as in the data's header) and says

* ``required``: edges ``[parent, child]`` that must be in the learned graph;
* ``forbidden``: edges that must not be;
* ``tiers``: groups of variables, earliest first; no variable of a later tier is
  a parent of a variable of an earlier tier (``forbid_within_tiers: true`` also
  rules out edges between two variables of the same tier). Tiers constrain
  direct edges: a variable in no tier is unconstrained, so put every variable
  in a tier to rule out every path from a later tier back to an earlier one;
* ``roots``: variables without parents;
* ``sinks``: variables without children.

:meth:`Knowledge.resolve` turns it into two ``d x d`` boolean matrices on the
data's variables (dagforge convention, ``[i, j]`` is the edge ``i -> j``):
``allowed`` (may exist) and ``required`` (must exist). Where they act:

* forbidden edges: the model's parameters for them are masked to zero
  (``LinearSEM``'s weight, the MLP's first-layer weights of the forbidden
  input, DAG-GNN's adjacency), so they never enter the fit, the acyclicity
  function or the output; hill climbing (:mod:`dagforge.search`) never adds
  or reverses into them;
* required edges: exempt from the L1 penalty, kept by thresholding and never
  removed when cycles are broken (:func:`dagforge.graph.threshold_to_dag`), never
  deleted or reversed by hill climbing.

Contradictions are rejected when a :class:`Knowledge` is made, before any
training, with a one-line :class:`~dagforge.errors.ConfigError` naming the
conflict: a self-loop, a variable in two tiers, a required edge that is
forbidden (by ``forbidden``, the tiers, a root or a sink), required edges that
form a cycle (the cycle is named). Names the data does not have are rejected
by :meth:`Knowledge.resolve`.

Files (:func:`load_knowledge`) are YAML (``.yaml``, ``.yml``) or JSON (``.json``)
mappings with exactly these keys, each optional::

    required: [[age, income], [education, income]]
    forbidden: [[income, age]]
    tiers: [[age, sex], [education], [income, savings]]
    forbid_within_tiers: false
    roots: [age, sex]
    sinks: [savings]
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dagforge.errors import ConfigError

__all__ = ["KNOWLEDGE_KEYS", "Knowledge", "as_knowledge", "load_knowledge"]

#: The keys a knowledge file or mapping may have.
KNOWLEDGE_KEYS = ("required", "forbidden", "tiers", "roots", "sinks", "forbid_within_tiers")

Edge = tuple[str, str]


def _name(value: Any, where: str, source: str) -> str:
    """A variable name: a string (an integer is read as its decimal text)."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ConfigError(f"{source}: {where}: {value!r} is not a variable name (quote it as a "
                          "string)")
    text = str(value)
    if not text.strip():
        raise ConfigError(f"{source}: {where}: empty variable name")
    return text


def _names(value: Any, where: str, source: str) -> tuple[str, ...]:
    if not isinstance(value, list | tuple):
        raise ConfigError(f"{source}: {where} must be a list of variable names")
    return tuple(_name(v, where, source) for v in value)


def _edges(value: Any, where: str, source: str) -> tuple[Edge, ...]:
    if not isinstance(value, list | tuple):
        raise ConfigError(f"{source}: {where} must be a list of [parent, child] pairs")
    out = []
    for k, pair in enumerate(value):
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            raise ConfigError(f"{source}: {where}[{k}]: {pair!r} is not a [parent, child] pair")
        out.append((_name(pair[0], where, source), _name(pair[1], where, source)))
    return tuple(out)


def _arrow(path: Sequence[str]) -> str:
    return " -> ".join(repr(n) for n in path)


def _find_cycle(edges: Iterable[Edge]) -> list[str] | None:
    """A directed cycle ``[a, b, ..., a]`` of the graph of ``edges``, or None (iterative DFS)."""
    children: dict[str, list[str]] = {}
    for a, b in edges:
        children.setdefault(a, []).append(b)
        children.setdefault(b, [])
    state: dict[str, int] = {}  # 1: on the DFS stack, 2: done
    for root in children:
        if root in state:
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        path: list[str] = [root]
        state[root] = 1
        while stack:
            node, k = stack[-1]
            if k < len(children[node]):
                stack[-1] = (node, k + 1)
                nxt = children[node][k]
                if state.get(nxt) == 1:
                    return [*path[path.index(nxt):], nxt]
                if nxt not in state:
                    state[nxt] = 1
                    stack.append((nxt, 0))
                    path.append(nxt)
            else:
                state[node] = 2
                stack.pop()
                path.pop()
    return None


@dataclass(frozen=True)
class Knowledge:
    """Background knowledge on named variables (see the module docstring).

    Parameters
    ----------
    required, forbidden : sequence of (parent, child) pairs
        Edges that must be, and must not be, in the graph.
    tiers : sequence of sequences of names
        Earliest tier first; no edge from a later tier into an earlier one.
    roots, sinks : sequence of names
        Variables without parents, and without children.
    forbid_within_tiers : bool
        Also forbid edges between two variables of the same tier.
    source : str
        What to call this knowledge in error messages (e.g. its file name).

    Raises
    ------
    ConfigError
        Malformed entries or contradictory constraints, naming the conflict.

    Examples
    --------
    >>> k = Knowledge(required=[("a", "b")], tiers=[["a"], ["b", "c"]])
    >>> allowed, required = k.resolve(["a", "b", "c"])
    >>> allowed.astype(int)
    array([[0, 1, 1],
           [0, 0, 1],
           [0, 1, 0]])
    >>> np.argwhere(required).tolist()
    [[0, 1]]
    """

    required: tuple[Edge, ...] = ()
    forbidden: tuple[Edge, ...] = ()
    tiers: tuple[tuple[str, ...], ...] = ()
    roots: tuple[str, ...] = ()
    sinks: tuple[str, ...] = ()
    forbid_within_tiers: bool = False
    source: str = field(default="knowledge", compare=False, repr=False)

    def __post_init__(self) -> None:
        src = self.source
        set_ = object.__setattr__
        set_(self, "required", _edges(self.required, "required", src))
        set_(self, "forbidden", _edges(self.forbidden, "forbidden", src))
        if not isinstance(self.tiers, list | tuple):
            raise ConfigError(f"{src}: tiers must be a list of lists of variable names")
        set_(self, "tiers", tuple(_names(t, f"tiers[{k}]", src)
                                  for k, t in enumerate(self.tiers)))
        set_(self, "roots", _names(self.roots, "roots", src))
        set_(self, "sinks", _names(self.sinks, "sinks", src))
        if not isinstance(self.forbid_within_tiers, bool):
            raise ConfigError(f"{src}: forbid_within_tiers must be true or false, got "
                              f"{self.forbid_within_tiers!r}")
        self._check()

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None, source: str = "knowledge") -> Knowledge:
        """A :class:`Knowledge` from a mapping with the keys :data:`KNOWLEDGE_KEYS`
        (each optional; any other key is a :class:`ConfigError`)."""
        if data is None:
            data = {}
        if not isinstance(data, Mapping):
            raise ConfigError(f"{source}: must be a mapping with keys {', '.join(KNOWLEDGE_KEYS)}")
        unknown = [str(k) for k in data if k not in KNOWLEDGE_KEYS]
        if unknown:
            raise ConfigError(f"{source}: unknown key {unknown[0]!r}; the keys are "
                              f"{', '.join(KNOWLEDGE_KEYS)}")
        values = {k: ([] if v is None and k != "forbid_within_tiers" else v)
                  for k, v in data.items()}
        return cls(**values, source=source)

    def to_dict(self) -> dict[str, Any]:
        """The knowledge as plain lists (the file format of :func:`load_knowledge`)."""
        return {
            "required": [list(e) for e in self.required],
            "forbidden": [list(e) for e in self.forbidden],
            "tiers": [list(t) for t in self.tiers],
            "roots": list(self.roots),
            "sinks": list(self.sinks),
            "forbid_within_tiers": self.forbid_within_tiers,
        }

    # ------------------------------------------------------------------ queries
    @property
    def empty(self) -> bool:
        """True if it constrains nothing."""
        return not (self.required or self.forbidden or self.roots or self.sinks
                    or (self.tiers and (len(self.tiers) > 1 or self.forbid_within_tiers)))

    def variables(self) -> list[str]:
        """Every variable name mentioned, in order of first mention."""
        seen: dict[str, None] = {}
        for a, b in (*self.required, *self.forbidden):
            seen.setdefault(a)
            seen.setdefault(b)
        for group in (*self.tiers, self.roots, self.sinks):
            for n in group:
                seen.setdefault(n)
        return list(seen)

    def tier_of(self, name: str) -> int | None:
        """The 0-based tier of ``name``, or None if it is in no tier."""
        for k, tier in enumerate(self.tiers):
            if name in tier:
                return k
        return None

    def why_forbidden(self, parent: str, child: str) -> str | None:
        """Why the edge ``parent -> child`` is ruled out, or None if it is allowed."""
        if parent == child:
            return "it is a self-loop"
        if (parent, child) in set(self.forbidden):
            return "it is listed as forbidden"
        if child in self.roots:
            return f"{child!r} is a root"
        if parent in self.sinks:
            return f"{parent!r} is a sink"
        tp, tc = self.tier_of(parent), self.tier_of(child)
        if tp is not None and tc is not None:
            if tp > tc:
                return (f"it goes from tier {tp + 1} ({parent!r}) back to the earlier tier "
                        f"{tc + 1} ({child!r})")
            if tp == tc and self.forbid_within_tiers:
                return f"both are in tier {tp + 1} and forbid_within_tiers is set"
        return None

    def _check(self) -> None:
        src = self.source
        for key, edges in (("required", self.required), ("forbidden", self.forbidden)):
            loops = [a for a, b in edges if a == b]
            if loops:
                raise ConfigError(f"{src}: {key} edge {loops[0]!r} -> {loops[0]!r} is a "
                                  "self-loop")
        where: dict[str, int] = {}
        for k, tier in enumerate(self.tiers):
            for n in tier:
                if n in where:
                    first = where[n]
                    what = (f"tier {k + 1} twice" if first == k
                            else f"two tiers ({first + 1} and {k + 1})")
                    raise ConfigError(f"{src}: variable {n!r} is in {what}")
                where[n] = k
        for a, b in self.required:
            reason = self.why_forbidden(a, b)
            if reason is not None:
                raise ConfigError(f"{src}: required edge {a!r} -> {b!r} is forbidden: {reason}")
        cycle = _find_cycle(self.required)
        if cycle is not None:
            raise ConfigError(f"{src}: required edges form a cycle: {_arrow(cycle)}")

    # ------------------------------------------------------------------ matrices
    def resolve(self, names: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """The constraints as matrices on the variables ``names`` (in this order).

        Parameters
        ----------
        names : sequence of str
            The data's variable names.

        Returns
        -------
        allowed : bool ndarray of shape (d, d)
            ``allowed[i, j]``: the edge ``names[i] -> names[j]`` may exist (diagonal False).
        required : bool ndarray of shape (d, d)
            ``required[i, j]``: the edge must exist; acyclic and inside ``allowed``.

        Raises
        ------
        ConfigError
            A name the data does not have.
        """
        names = [str(n) for n in names]
        index = {n: k for k, n in enumerate(names)}
        unknown = [n for n in self.variables() if n not in index]
        if unknown:
            shown = ", ".join(repr(n) for n in names[:8]) + (" ..." if len(names) > 8 else "")
            raise ConfigError(f"{self.source}: unknown variable {unknown[0]!r}; the data has "
                              f"{shown}")
        d = len(names)
        allowed = ~np.eye(d, dtype=bool)
        for a, b in self.forbidden:
            allowed[index[a], index[b]] = False
        tier = np.full(d, -1)
        for k, group in enumerate(self.tiers):
            tier[[index[n] for n in group]] = k
        tiered = tier >= 0
        later = tier[:, None] > tier[None, :]  # [i, j]: i in a later tier than j
        if self.forbid_within_tiers:
            later |= tier[:, None] == tier[None, :]
        allowed &= ~(later & tiered[:, None] & tiered[None, :])
        for n in self.roots:
            allowed[:, index[n]] = False
        for n in self.sinks:
            allowed[index[n], :] = False
        np.fill_diagonal(allowed, False)
        required = np.zeros((d, d), dtype=bool)
        for a, b in self.required:
            required[index[a], index[b]] = True
        assert not (required & ~allowed).any()  # guaranteed by _check
        return allowed, required


def load_knowledge(path: str | os.PathLike[str]) -> Knowledge:
    """Read a knowledge file: YAML (``.yaml``, ``.yml``) or JSON (``.json``).

    Raises
    ------
    ConfigError
        Missing or unparsable file, unknown keys, malformed entries or
        contradictions, one line naming the problem.
    """
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"knowledge file not found: {p}")
    suffix = p.suffix.lower()
    if suffix not in (".yaml", ".yml", ".json"):
        raise ConfigError(f"{p}: knowledge file must be .yaml, .yml or .json")
    from dagforge.config import parse_yaml

    try:
        text = p.read_text(encoding="utf-8")
        if suffix == ".json":
            data = json.loads(text, object_pairs_hook=_unique_keys)
        else:
            data = parse_yaml(text, str(p))
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as e:
        raise ConfigError(f"{p}: cannot parse: {' '.join(str(e).split())}") from None
    except _DuplicateKey as e:
        raise ConfigError(f"{p}: cannot parse: key {e.args[0]!r} is given twice") from None
    return Knowledge.from_dict(data, source=str(p))


class _DuplicateKey(Exception):
    """A JSON object names a key twice (``json`` would keep the last)."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def as_knowledge(value: Knowledge | Mapping[str, Any] | str | os.PathLike[str] | None
                 ) -> Knowledge | None:
    """A :class:`Knowledge` from itself, a mapping, or a file path; None stays None."""
    if value is None or isinstance(value, Knowledge):
        return value
    if isinstance(value, Mapping):
        return Knowledge.from_dict(value)
    if isinstance(value, str | os.PathLike):
        return load_knowledge(value)
    raise ConfigError(f"knowledge must be a Knowledge, a mapping or a file path, not "
                      f"{type(value).__name__}")
