"""What ``replab check`` reports besides the checkers: overlaps and nemesis windows."""

from __future__ import annotations

from typing import Any

import numpy as np

from replab.checks._prepare import Prepared
from replab.checks.causal import prefix_verdicts
from replab.checks.session import mr_verdicts, ryw_verdicts
from replab.checks.staleness import stale_reference, verdicts

__all__ = ["summary", "nemesis_windows", "CLOSERS"]

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


def summary(prep: Prepared, names: list[str]) -> dict[str, Any]:
    """Counts over the whole history: operations, overlaps, nemesis windows."""
    flags = []
    if "stale-read" in names:
        flags.append(verdicts(prep, stale_reference(prep))[1])
    if "read-your-writes" in names:
        flags.append(ryw_verdicts(prep)[1])
    if "monotonic-reads" in names:
        flags.append(mr_verdicts(prep)[1])
    if "consistent-prefix" in names:
        flags.append(prefix_verdicts(prep)[1])
    n_flags = np.sum(flags, axis=0) if flags else np.zeros(0)
    windows = nemesis_windows(prep)
    return {
        "operations": len(prep.ops),
        "client_reads": int(len(prep.r_inv)),
        "client_writes": int(len(prep.w_inv)),
        "skipped_unknown": int(getattr(prep.history, "skipped", 0)),
        "reads_flagged_more_than_once": int((n_flags > 1).sum()),
        "nemesis_ops": len(prep.nemesis),
        "nemesis_windows": windows,
    }
