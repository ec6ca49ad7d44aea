"""Random multi-replica runs of a CRDT, for the property tests (not a test module).

A run interleaves updates at several replicas with state syncs between them, so the
states it produces are the concurrent, partially merged states replicas really hold.
Every update also records its causal history (the ids of the updates its replica had seen),
which gives oracles independent of the CRDT's own tags and vectors.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

REPLICAS = ("A", "B", "C")


@dataclass
class Update:
    uid: int
    replica: str
    kind: str
    args: tuple[Any, ...]
    seen: frozenset[int]  # uids applied at this replica before this update
    before: Any
    after: Any


@dataclass
class Run:
    pool: list[Any] = field(default_factory=list)
    finals: dict[str, Any] = field(default_factory=dict)
    updates: list[Update] = field(default_factory=list)


MakeOp = Callable[[Any, Any, str], tuple[str, tuple[Any, ...], Any]]


def random_run(data: Any, empty: Any, make_op: MakeOp, max_steps: int = 14) -> Run:
    """Draw a run: each step is an update at a replica or a sync of one replica into another.

    ``make_op(data, state, replica)`` draws one update and returns (kind, args, new_state).
    """
    states = {r: empty for r in REPLICAS}
    seen: dict[str, frozenset[int]] = {r: frozenset() for r in REPLICAS}
    run = Run(pool=[empty])
    steps = data.draw(st.lists(st.tuples(st.sampled_from(REPLICAS), st.booleans(),
                                         st.sampled_from(REPLICAS)),
                               min_size=1, max_size=max_steps))
    for replica, is_update, source in steps:
        if is_update:
            kind, args, new = make_op(data, states[replica], replica)
            uid = len(run.updates)
            run.updates.append(Update(uid, replica, kind, args, seen[replica],
                                      states[replica], new))
            seen[replica] = seen[replica] | {uid}
            states[replica] = new
        else:
            states[replica] = states[replica].merge(states[source])
            seen[replica] = seen[replica] | seen[source]
        run.pool.append(states[replica])
    run.finals = states
    return run


def delivery(data: Any, items: list[Any]) -> list[Any]:
    """A random permutation of ``items`` with some of them duplicated."""
    order = list(data.draw(st.permutations(items))) if items else []
    if items:
        dups = data.draw(st.lists(st.sampled_from(items), max_size=3))
        for d in dups:
            order.insert(data.draw(st.integers(0, len(order))), d)
    return order


# ------------------------------------------------------------ one random update per type

ELEMENTS = st.sampled_from(["x", "y", "z"])


def op_vv(data, s, r):
    return "inc", (), s.increment(r)


def op_gcounter(data, s, r):
    amount = data.draw(st.integers(0, 3))
    return "inc", (amount,), s.increment(r, amount)


def op_pncounter(data, s, r):
    kind, amount = data.draw(st.sampled_from(["inc", "dec"])), data.draw(st.integers(0, 3))
    new = s.increment(r, amount) if kind == "inc" else s.decrement(r, amount)
    return kind, (amount,), new


def op_orset(data, s, r):
    kind, e = data.draw(st.sampled_from(["add", "remove"])), data.draw(ELEMENTS)
    return kind, (e,), (s.add(e, r) if kind == "add" else s.remove(e))


def op_lww(data, s, r):
    # Few timestamps and values: ties on timestamp (and even on (timestamp, replica)) occur.
    v, ts = data.draw(st.integers(0, 3)), data.draw(st.integers(0, 4))
    return "set", (v, ts), s.assign(v, float(ts), r)


def op_mv(data, s, r):
    v = data.draw(st.integers(0, 3))
    return "set", (v,), s.assign(v, r)


def op_rga(data, s, r):
    if len(s) and data.draw(st.booleans()):
        i = data.draw(st.integers(0, len(s) - 1))
        return "delete", (i,), s.delete(i)
    i, text = data.draw(st.integers(0, len(s))), data.draw(st.text("abc", min_size=1, max_size=2))
    return "insert", (i, text), s.insert(i, text, r)
