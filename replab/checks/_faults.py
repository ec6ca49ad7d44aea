"""Fault windows from a history's ``nemesis`` operations (for the report and lost-write)."""

from __future__ import annotations

import math
from typing import Any

from replab.checks._prepare import INF, Prepared

__all__ = ["CLOSERS", "nemesis_windows", "last_fault_end"]

#: Nemesis ``f`` that open a fault window -> the ``f`` that close it. Any other ``f`` is an
#: instant event (e.g. ``promote``); a window never closed lasts to the end of the history.
CLOSERS: dict[str, tuple[str, ...]] = {
    "stall": ("resume",), "pause": ("resume",), "kill": ("start", "restart", "recover"),
    "start": ("stop",), "start-partition": ("stop-partition",), "partition": ("heal",),
    "isolate": ("heal",), "slow": ("fast", "unslow"), "crash": ("restart", "recover"),
    "start-kill": ("stop-kill",), "start-pause": ("stop-pause",),
    "clock-skew": ("reset-clock",), "bump-clock": ("reset-clock",),
}


def nemesis_windows(prep: Prepared) -> list[dict[str, Any]]:
    """Fault windows (and instant events) from the ``nemesis`` ops, in history order.

    Jepsen records a nemesis action as an ``invoke`` and an ``info``; a window opens at the
    completion of an opening action and closes at the completion of its closing one.
    """
    ops = prep.ops
    done = [p for p in prep.nemesis if ops[p]["type"] != "invoke"]
    invoked_only = {ops[p]["f"] for p in prep.nemesis} - {ops[p]["f"] for p in done}
    events = done + [p for p in prep.nemesis if ops[p]["f"] in invoked_only]
    events.sort()
    out: list[dict[str, Any]] = []
    open_: dict[str, dict[str, Any]] = {}
    for p in events:
        op = ops[p]
        f = str(op["f"])
        closing = next((o for o, w in open_.items() if f in CLOSERS[o]), None)
        if closing is not None:
            win = open_.pop(closing)
            win["end"] = op["index"]
            win["closed_by"] = f
        elif f in CLOSERS and f not in open_:
            open_[f] = win = {"f": f, "start": op["index"], "end": None, "closed_by": None,
                              "value": op.get("value")}
            out.append(win)
        else:
            out.append({"f": f, "start": op["index"], "end": op["index"], "closed_by": None,
                        "value": op.get("value")})
    return out


def last_fault_end(prep: Prepared) -> float:
    """The time the last fault window ended (``-inf``: no fault; ``inf``: one never ended,
    or its end carries no time)."""
    times = {prep.ops[p]["index"]: prep.ops[p].get("time") for p in prep.nemesis}
    out = -INF
    for win in nemesis_windows(prep):
        t = times.get(win["end"]) if win["end"] is not None else None
        out = max(out, INF if t is None or not math.isfinite(t) else float(t))
    return out
