"""Stale reads and read-your-writes judged in real time, for single-valued registers.

A store's own order (timestamps, ranks) can hide what clients saw: a write whose
timestamp is older may still have started after another write completed. Here a write
``y`` precedes ``x`` iff ``y`` completed before ``x`` was invoked. A read is **stale**
if it returns nothing, or a write that precedes some write acked before the read was
invoked; it violates **read-your-writes** when that later write was the session's own.
A write without ``ok`` may have taken effect at any time: it never precedes anything.
Values must identify writes within a key (every model here writes unique values).
"""

from __future__ import annotations

import math
from typing import Any

from replab.history import History

__all__ = ["misses", "real_time_read_anomalies", "ack_times"]


def ack_times(history: History) -> dict[tuple[str, Any], tuple[float, float]]:
    """``(key, value) -> (invoke, complete)`` of every acked write."""
    out: dict[tuple[str, Any], tuple[float, float]] = {}
    pending: dict[Any, float] = {}
    for op in history:
        if op["f"] != "write":
            continue
        if op["type"] == "invoke":
            pending[op["process"]] = op["time"]
        elif op["type"] == "ok" and op["process"] in pending:
            out[(op["key"], op["value"])] = (pending.pop(op["process"]), op["time"])
        else:
            pending.pop(op["process"], None)
    return out


def misses(done: dict[tuple[str, Any], float], key: str, value: Any, bar: float) -> bool:
    """True if a read of ``value`` misses a write invoked at ``bar`` (-inf: none acked)."""
    if bar == -math.inf:
        return False
    if value is None:
        return True
    return done.get((key, value), math.inf) < bar


def real_time_read_anomalies(history: History) -> tuple[int, int, int]:
    """``(ok reads, stale reads, read-your-writes violations)`` of a history."""
    acked = ack_times(history)
    done = {kv: c for kv, (_, c) in acked.items()}
    latest: dict[Any, float] = {}  # key, or (process, key) -> latest invoke of an acked write
    pending: dict[Any, tuple[float, float]] = {}
    ok = stale = ryw = 0
    for op in history:
        key, proc = op["key"], op["process"]
        if op["f"] == "write":
            if op["type"] == "ok" and (key, op["value"]) in acked:
                invoked = acked[(key, op["value"])][0]
                for slot in (key, (proc, key)):
                    latest[slot] = max(latest.get(slot, -math.inf), invoked)
        elif op["type"] == "invoke":
            pending[proc] = (latest.get(key, -math.inf), latest.get((proc, key), -math.inf))
        else:
            bars = pending.pop(proc, None)
            if op["type"] == "ok" and bars is not None:
                ok += 1
                stale += misses(done, key, op["value"], bars[0])
                ryw += misses(done, key, op["value"], bars[1])
    return ok, stale, ryw
