"""A brute-force linearizability oracle and a generator of small random histories.

The oracle shares nothing with :mod:`replab.checks.linearizability`: it pairs ops itself
and tries every order consistent with real time (an op may be placed once every op that
completed ``ok`` before its invoke is placed), every subset of the ``info`` ops, no cache.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

VALUES = [None, 0, 1, 2]


def _ops_of(history: list[dict[str, Any]], key: Any) -> list[tuple[str, Any, int, float]]:
    """(f, value, invoke position, return position or inf) of the ops that may take effect."""
    pending: dict[Any, int] = {}
    out = []
    done: set[int] = set()
    for i, op in enumerate(history):
        if op["type"] == "invoke":
            pending[op["process"]] = i
            continue
        j = pending.pop(op["process"])
        done.add(j)
        a = history[j]
        if a.get("key") != key or op["type"] == "fail":
            continue
        if a["f"] == "read":
            if op["type"] == "ok":
                out.append(("read", op["value"], j, float(i)))
        else:
            out.append((a["f"], a["value"], j, float(i) if op["type"] == "ok" else float("inf")))
    for j in pending.values():
        a = history[j]
        if a.get("key") == key and a["f"] != "read":
            out.append((a["f"], a["value"], j, float("inf")))
    return out


def _step(f: str, value: Any, state: Any) -> tuple[bool, Any]:
    if f == "read":
        return value == state, state
    if f == "write":
        return True, value
    return state == value[0], value[1]


def oracle(history: list[dict[str, Any]], key: Any, initial: Any = None,
           memo: bool = False) -> bool:
    """Whether ``key``'s ops are linearizable, by trying every order (``memo``: remembering
    the (placed set, state) pairs that failed, for histories of a few dozen ops)."""
    ops = _ops_of(history, key)
    n = len(ops)
    failed: set[tuple[frozenset[int], Any]] = set()

    def go(placed: frozenset[int], state: Any) -> bool:
        if memo and (placed, state) in failed:
            return False
        if _go(placed, state):
            return True
        if memo:
            failed.add((placed, state))
        return False

    def _go(placed: frozenset[int], state: Any) -> bool:
        if all(i in placed for i in range(n) if ops[i][3] != float("inf")):
            return True
        for i in range(n):
            if i in placed:
                continue
            if any(ops[a][3] < ops[i][2] for a in range(n) if a not in placed):
                continue
            ok, new = _step(ops[i][0], ops[i][1], state)
            if ok and go(placed | {i}, new):
                return True
        return False

    return go(frozenset(), initial)


def is_linearization(history: list[dict[str, Any]], key: Any, order: list[tuple[int, Any]],
                     initial: Any = None, complete: bool = True) -> bool:
    """Whether ``order`` (invoke positions, state after each) is a legal run of the key's
    ops respecting real time; ``complete``: and it places every ``ok`` op."""
    ops = {o[2]: o for o in _ops_of(history, key)}
    state, placed = initial, set()
    for inv, after in order:
        f, value, _, _ = ops[inv]
        if any(o[3] < inv and o[2] not in placed for o in ops.values()):
            return False
        ok, state = _step(f, value, state)
        if not ok or state != after:
            return False
        placed.add(inv)
    return not complete or all(o[2] in placed for o in ops.values() if o[3] != float("inf"))


@st.composite
def register_history(draw: Any, max_events: int = 14, keys: tuple[str, ...] = ("x", "y")) \
        -> list[dict[str, Any]]:
    """A random history of up to three processes over ``keys``: reads, writes and cas with
    values 0-2, completed ok / fail / info, some never completed."""
    n_events = draw(st.integers(0, max_events))
    pending: dict[int, dict[str, Any]] = {}
    out: list[dict[str, Any]] = []
    for _ in range(n_events):
        p = draw(st.integers(0, 2))
        if p not in pending:
            f = draw(st.sampled_from(["read", "write", "cas"]))
            key = draw(st.sampled_from(keys))
            value: Any = None
            if f == "write":
                value = draw(st.integers(0, 2))
            elif f == "cas":
                value = [draw(st.sampled_from(VALUES)), draw(st.integers(0, 2))]
            op = {"process": p, "type": "invoke", "f": f, "key": key, "value": value}
            pending[p] = op
        else:
            op = dict(pending.pop(p))
            op["type"] = draw(st.sampled_from(["ok", "ok", "ok", "fail", "info"]))
            if op["f"] == "read":
                op["value"] = draw(st.sampled_from(VALUES))
        out.append(op)
    for i, op in enumerate(out):
        op["index"] = i
        op["time"] = float(i)
    return out
