"""Linearizability per key: Knossos's question, answered by a Wing–Gong / Lowe search.

A history is *linearizable* when every operation can be given a single instant between
its invoke and its completion such that, taken in the order of those instants, the
operations are a legal run of the model (a register, or a register with compare-and-set)
starting from ``initial``. Keys are independent (P-compositionality): each is decided on
its own.

Semantics (as Knossos): a ``fail`` never took effect; an ``info`` (or never completed)
write or cas may take effect at any time after its invoke, or never; a read whose result
is unknown constrains nothing. A read that returns several siblings (a list of more than
one distinct value) can never be linearized: a register holds one value; ``[]`` is
``null`` (not found) and ``[v]`` is ``v``.

The search (:mod:`replab.checks.linearizability._search`) is Lowe's just-in-time
linearization with Porcupine's cache of (linearized set, model state). Each key has a time
budget; a key whose search runs out of it is ``unknown``, never a guess.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from replab.checks._prepare import Prepared, gc_paused, hashable
from replab.checks.linearizability._layout import ops_frame
from replab.checks.linearizability._ops import LinOp, display, split_keys
from replab.checks.linearizability._search import CAS, READ, WRITE, SearchOp, apply, search
from replab.checks.result import CheckResult, example, make_result, show_value
from replab.history import History
from replab.validate import check_choice, check_float, fail

__all__ = ["linearizable", "LinearizabilityResult", "KeyVerdict", "LinOp", "MODELS", "key_name",
           "LINEARIZABLE", "NOT_LINEARIZABLE", "UNKNOWN"]

MODELS = ("register", "cas-register")
LINEARIZABLE, NOT_LINEARIZABLE, UNKNOWN = "linearizable", "not linearizable", "unknown"


@dataclass(frozen=True, kw_only=True)
class KeyVerdict:
    """The verdict on one key.

    Attributes
    ----------
    key : object
        The key.
    verdict : str
        ``"linearizable"``, ``"not linearizable"`` or ``"unknown"`` (budget exhausted).
    ops : tuple of LinOp
        The operations that may take effect, in invoke order (op ids index this tuple).
    order : tuple of int
        A full linearization (linearizable), else the longest partial one found (without
        the info ops at its end: nothing read their values).
    states : tuple
        The register's value after each op of ``order`` (JSON values; ``None``: not found).
    initial : object
        The register's value before the first op.
    blocked : tuple of dict
        For a key that is not linearizable: the ops (with a known outcome) that could come
        next after ``order`` and why none can, each ``{"op", "index", "reason"}``.
    failing : int or None
        The op that had to take effect next (the earliest to complete of those left).
    steps, elapsed_s : int, float
        Search steps and seconds spent on this key.
    example : dict or None
        ``{"message", "indices", "ops"}`` as other checkers' examples.
    """

    key: Any
    verdict: str
    ops: tuple[LinOp, ...]
    order: tuple[int, ...]
    states: tuple[Any, ...]
    initial: Any
    blocked: tuple[dict[str, Any], ...] = ()
    failing: int | None = None
    steps: int = 0
    elapsed_s: float = 0.0
    example: dict[str, Any] | None = None

    def frame(self) -> pd.DataFrame:
        """The ops as a tidy frame for pictures (see :func:`._layout.ops_frame`)."""
        return ops_frame(self)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: verdict, counts, and for a violation the witness."""
        out: dict[str, Any] = {"key": self.key, "verdict": self.verdict,
                               "operations": len(self.ops), "steps": self.steps,
                               "elapsed_s": round(self.elapsed_s, 6)}
        if self.verdict == NOT_LINEARIZABLE:
            out["linearization"] = [
                {"index": self.ops[o].inv_index, "completed": self.ops[o].ret_index,
                 "process": self.ops[o].process, "f": self.ops[o].f,
                 "value": self.ops[o].value, "state_after": s}
                for o, s in zip(self.order, self.states, strict=True)]
            out["failing"] = None if self.failing is None else self.ops[self.failing].inv_index
            out["blocked"] = [dict(b) for b in self.blocked]
            out["example"] = self.example
        return out


@dataclass(frozen=True, kw_only=True)
class LinearizabilityResult:
    """Verdicts per key (in order of first appearance) and the model checked."""

    model: str
    initial: Any
    keys: dict[Any, KeyVerdict] = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        """``not linearizable`` if any key is; else ``unknown`` if any key is; else
        ``linearizable`` (also for a history with no operations)."""
        seen = {v.verdict for v in self.keys.values()}
        for verdict in (NOT_LINEARIZABLE, UNKNOWN):
            if verdict in seen:
                return verdict
        return LINEARIZABLE

    def counts(self) -> dict[str, int]:
        """Keys per verdict."""
        out = dict.fromkeys((LINEARIZABLE, NOT_LINEARIZABLE, UNKNOWN), 0)
        for v in self.keys.values():
            out[v.verdict] += 1
        return out

    def check_result(self) -> CheckResult:
        """As a row of ``replab check``: ``count`` keys not linearizable of ``examined``
        keys decided (``unknown`` keys are not examined)."""
        c = self.counts()
        examples = [v.example for v in self.keys.values() if v.example is not None]
        return make_result("linearizable", c[NOT_LINEARIZABLE],
                           c[LINEARIZABLE] + c[NOT_LINEARIZABLE], examples)

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "verdict": self.verdict, "keys_by_verdict": self.counts(),
                "keys": [v.to_dict() for v in self.keys.values()]}


@gc_paused
def linearizable(history: Any, model: str = "register", initial: Any = None,
                 budget_s: float = 10.0) -> LinearizabilityResult:
    """Decide, key by key, whether a history is linearizable.

    Parameters
    ----------
    history : History, Prepared or iterable of dict
        The operations (history format of DESIGN.md; Jepsen EDN read by ``History.read``).
    model : {"register", "cas-register"}
        A read/write register, or one with compare-and-set (``cas [old, new]``).
    initial : object, default None
        Every key's value before the first operation (``None``: not found).
    budget_s : float, default 10.0
        Seconds of search per key; a key not decided within it is ``unknown``.

    Returns
    -------
    LinearizabilityResult

    Raises
    ------
    ConfigError
        For an unknown model, a negative budget, or cas operations under ``"register"``.
    HistoryError
        For a malformed history.

    Examples
    --------
    >>> ops = [
    ...     {"process": 0, "type": "invoke", "f": "write", "key": "x", "value": 1},
    ...     {"process": 0, "type": "ok", "f": "write", "key": "x", "value": 1},
    ...     {"process": 1, "type": "invoke", "f": "read", "key": "x", "value": None},
    ...     {"process": 1, "type": "ok", "f": "read", "key": "x", "value": None}]
    >>> res = linearizable(ops)
    >>> res.verdict, res.keys["x"].blocked[0]["reason"]
    ('not linearizable', 'read null (not found), but the register held 1')
    """
    check_choice(model, "model", "linearizable", MODELS)
    budget_s = check_float(budget_s, "budget_s", "linearizable", low=0.0)
    # only the paired ops are needed, not the other checkers' columns
    prep = history if isinstance(history, Prepared) else \
        Prepared(history if isinstance(history, History) else History(history))
    per_key = split_keys(prep)
    if model == "register" and any(o.kind == CAS for _, s, _ in per_key.values() for o in s):
        raise fail("model", "linearizable", "'cas-register' for a history with cas operations",
                   model)
    init = hashable(initial)
    keys = {k: _decide(prep, k, lops, sops, raw, init, initial, budget_s)
            for k, (lops, sops, raw) in per_key.items()}
    return LinearizabilityResult(model=model, initial=initial, keys=keys)


def key_name(key: Any) -> str:
    """``key 'x'``, or ``the register`` for the single register of a Knossos history."""
    return "the register" if key is None else f"key {key!r}"


def _decide(prep: Prepared, key: Any, lops: list[LinOp], sops: list[SearchOp],
            raw: dict[Any, Any], init: Any, initial: Any, budget_s: float) -> KeyVerdict:
    t0 = time.perf_counter()
    out = search(sops, init, t0 + budget_s)
    elapsed = time.perf_counter() - t0
    order = out.order
    if out.verdict is False:  # info ops at the end of a partial run: nothing read them
        while order and sops[order[-1]].ret < 0:
            order = order[:-1]
    states = _states(sops, order, init)
    shown = tuple(raw.get(s, display(s)) for s in states)
    verdict = {True: LINEARIZABLE, False: NOT_LINEARIZABLE, None: UNKNOWN}[out.verdict]
    common = {"key": key, "verdict": verdict, "ops": tuple(lops), "order": order,
              "states": shown, "initial": initial, "steps": out.steps, "elapsed_s": elapsed}
    if out.verdict is not False:
        return KeyVerdict(**common)
    failing, cands = _frontier(sops, order)
    state = states[-1] if states else init
    blocked = tuple({"op": c, "index": lops[c].inv_index,
                     "reason": _reason(sops[c], state, raw)}
                    for c in cands)
    return KeyVerdict(**common, blocked=blocked, failing=failing,
                      example=_example(prep, key, lops, order, blocked, failing))


def _states(sops: list[SearchOp], order: tuple[int, ...], init: Any) -> list[Any]:
    out, state = [], init
    for o in order:
        state = apply(sops[o], state)[1]
        out.append(state)
    return out


def _frontier(sops: list[SearchOp], order: tuple[int, ...]) -> tuple[int | None, list[int]]:
    """After ``order``: the op that must come next (the earliest return of those left) and
    the ops with a return that could (invoked before it returned; info ops are optional
    and never blocked)."""
    done = set(order)
    left = [i for i in range(len(sops)) if i not in done]
    required = [i for i in left if sops[i].ret >= 0]
    if not required:
        return None, left
    first = min(required, key=lambda i: sops[i].ret)
    return first, [i for i in left if sops[i].ret >= 0 and sops[i].inv < sops[first].ret]


def _reason(op: SearchOp, held: Any, raw: dict[Any, Any]) -> str:
    def shown(h: Any) -> str:
        return show_value(raw.get(h, display(h)))

    if op.kind == READ:
        return f"read {shown(op.arg)}, but the register held {shown(held)}"
    if op.kind == CAS:
        return f"cas expected {shown(op.arg[0])}, but the register held {shown(held)}"
    if op.kind == WRITE:
        return "can take effect, but no linearization continues after it"
    return f"returned {len(op.arg)} siblings; a register holds one value"


def _example(prep: Prepared, key: Any, lops: list[LinOp], order: tuple[int, ...],
             blocked: tuple[dict[str, Any], ...], failing: int | None) -> dict[str, Any]:
    involved = [b["op"] for b in blocked] + list(order[-1:])
    if failing is not None:
        involved.append(failing)
    positions = [p for i in involved for p in (lops[i].inv, lops[i].ret)]
    why = "; ".join(f"op {b['index']} {b['reason']}" for b in blocked[:4])
    last = f" (the last is op {lops[order[-1]].inv_index})" if order else ""
    msg = (f"{key_name(key)} is not linearizable: the longest linearization found places "
           f"{len(order)} of {len(lops)} ops{last}; none of the ops that could come next "
           f"can take effect: {why}")
    return example(prep, msg, positions)
