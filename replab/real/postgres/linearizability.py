"""Linearizability of the PostgreSQL lab's histories, by the server that served the reads:
the primary's reads should be linearizable per key, the standbys' should not."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from replab.checks import linearizable
from replab.history import History
from replab.stats import wilson

__all__ = ["reads_served_by", "LINEARIZABILITY_COLUMNS", "linearizability_by_server"]


def reads_served_by(history: History, nodes: Iterable[str]) -> History:
    """The history with only the reads that ``nodes`` served: every write and every
    other op stays, a read (invoke and completion) stays when its completion names one of
    ``nodes``. Op ``index`` values are kept, so examples point into ``history``."""
    keep_nodes = set(nodes)
    pending: dict[Any, int] = {}
    drop: set[int] = set()
    for pos, op in enumerate(history.ops):
        if op["f"] != "read":
            continue
        if op["type"] == "invoke":
            pending[op["process"]] = pos
            continue
        start = pending.pop(op["process"], None)
        if op.get("node") not in keep_nodes:
            drop.add(pos)
            if start is not None:
                drop.add(start)
    return History.from_ops([dict(op) for pos, op in enumerate(history.ops)
                             if pos not in drop])


#: Columns of :func:`linearizability_by_server`.
LINEARIZABILITY_COLUMNS = ("reads from", "servers", "reads", "keys", "linearizable",
                           "not linearizable", "unknown", "share", "ci_low", "ci_high")


def linearizability_by_server(history: History, primary: str = "primary",
                              budget_s: float = 5.0) -> tuple[pd.DataFrame, dict[str, Any]]:
    """``replab.checks.linearizable`` per key, once with the primary's reads and once with
    the standbys' (every write in both, since all writes go to the primary).

    Returns a frame (:data:`LINEARIZABILITY_COLUMNS`, one row for ``"primary"`` and one for
    ``"standbys"``; ``share`` is keys not linearizable over keys decided, with its Wilson
    95 % interval) and the two :class:`LinearizabilityResult` by the same names."""
    ok_reads = [op for op in history.ops if op["f"] == "read" and op["type"] == "ok"]
    standbys = sorted({str(op["node"]) for op in ok_reads
                       if op.get("node") not in (None, primary)})
    rows, results = [], {}
    for name, nodes in (("primary", [primary]), ("standbys", standbys)):
        part = reads_served_by(history, nodes)
        res = linearizable(part, budget_s=budget_s)
        c = res.counts()
        decided = c["linearizable"] + c["not linearizable"]
        lo, hi = wilson(c["not linearizable"], decided)
        reads = sum(1 for op in ok_reads if op.get("node") in nodes)
        rows.append((name, ", ".join(nodes) or "none", reads, len(res.keys), c["linearizable"],
                     c["not linearizable"], c["unknown"],
                     c["not linearizable"] / decided if decided else float("nan"),
                     float(lo), float(hi)))
        results[name] = res
    return pd.DataFrame(rows, columns=list(LINEARIZABILITY_COLUMNS)), results
