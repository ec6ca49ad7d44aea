"""Reads judged against what clients saw happen: stale reads and read-your-writes.

With ``lww`` the store's timestamps are *not* the order: a write that completed before
another was invoked precedes it in real time, whatever the clocks said. A read is
**stale** if it returns nothing, or a write that completed before some write acked
before the read was invoked even started (that write superseded it in real time). A read
violates **read-your-writes** when that superseding write was the reading session's own.
A write that did not get ``ok`` may have taken effect at any time, so it never counts as
preceding anything.

With ``siblings`` the version vectors record what superseded what: a read is stale if
some write acked before it was invoked is neither among its siblings nor covered by one
(and likewise for the session's own acked writes).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, NamedTuple

from replab.history import History
from replab.models.real_time import misses

if TYPE_CHECKING:
    from replab.models.leaderless.view import ClusterView

__all__ = ["ReadFacts", "read_facts"]


class ReadFacts(NamedTuple):
    reads_ok: int
    stale: int
    ryw_violations: int
    siblings: list[int]  # sibling count of every ok read that found something


def _returned(cluster: ClusterView, key: str, value: Any) -> list:
    values = [] if value is None else (value if isinstance(value, list) else [value])
    return [cluster.writes[cluster.value_ids[(key, x)] - 1].version for x in values]


def _lww_judge(done: dict, key: str, got: list, bar: float) -> bool:
    """True if a read returning ``got`` misses a write invoked at ``bar`` (-inf: none)."""
    return misses(done, key, got[0].value if got else None, bar)


def _vv_judge(got: list, need: dict) -> bool:
    return any(not any(g.vv[a] >= c for g in got) for a, c in need.items())


def read_facts(cluster: ClusterView, history: History,
               times: dict[tuple[str, Any], tuple[float, float, str]]) -> ReadFacts:
    """Count ok reads, stale reads and read-your-writes violations in one pass."""
    lww = cluster.resolution == "lww"
    done = {kv: c for kv, (_, c, typ) in times.items() if typ == "ok"}
    # lww: key -> latest invoke time of an acked write; siblings: key -> {actor: counter}
    acked: dict[Any, Any] = {}
    pending: dict[Any, tuple[Any, Any]] = {}
    ok = stale = ryw = 0
    siblings: list[int] = []
    for op in history:
        key, typ, proc = op["key"], op["type"], op["process"]
        if op["f"] == "write":
            if typ == "ok":
                _note_ack(cluster, acked, key, proc, op["value"], times, lww)
            continue
        if typ == "invoke":
            pending[proc] = (_snap(acked.get(key), lww), _snap(acked.get((proc, key)), lww))
            continue
        bars = pending.pop(proc, None)
        if typ != "ok" or bars is None:
            continue
        ok += 1
        got = _returned(cluster, key, op["value"])
        if got:
            siblings.append(len(got))
        if lww:
            stale += _lww_judge(done, key, got, bars[0])
            ryw += _lww_judge(done, key, got, bars[1])
        else:
            stale += _vv_judge(got, bars[0])
            ryw += _vv_judge(got, bars[1])
    return ReadFacts(ok, stale, ryw, siblings)


def _snap(held: Any, lww: bool) -> Any:
    if lww:
        return -math.inf if held is None else held
    return dict(held) if held else {}


def _note_ack(cluster: ClusterView, acked: dict, key: str, proc: Any, value: Any,
              times: dict, lww: bool) -> None:
    """Remember an acked write for the key and for the writing session's own reads."""
    if lww:
        invoked = times[(key, value)][0]
        for slot in (key, (proc, key)):
            acked[slot] = max(acked.get(slot, -math.inf), invoked)
        return
    actor, counter = cluster.writes[cluster.value_ids[(key, value)] - 1].version.dot  # type: ignore[misc]
    for slot in (key, (proc, key)):
        seen = acked.setdefault(slot, {})
        seen[actor] = max(seen.get(actor, 0), counter)
