"""One key's operations as a tidy frame for pictures: lanes, bars, linearization points."""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["ops_frame", "COLUMNS"]

#: The columns of :func:`ops_frame`.
COLUMNS = ["op", "index", "completed", "process", "lane", "f", "type", "value", "start",
           "end", "rank", "point", "state_before", "state_after", "role"]


def ops_frame(kv: Any) -> pd.DataFrame:
    """One row per op of the key, in invoke order.

    ``start``/``end``: the bar, in history positions (an ``info`` op's bar runs to the end
    of the key's history). ``rank``: its place in the (partial) linearization, 1-based
    (``<NA>``: not placed); ``point``: where it is drawn as taking effect, inside its bar
    and increasing with ``rank``. ``state_before``/``state_after``: the register around it
    (placed ops only). ``role``: ``linearized``, ``failing`` (had to take effect next and
    could not), ``blocked`` (could come next and could not), or ``unplaced``.
    """
    ops = kv.ops
    horizon = max([o.ret for o in ops] + [o.inv for o in ops], default=0) + 1
    rank = {o: r for r, o in enumerate(kv.order, start=1)}
    points = _points(kv)
    before = dict(zip(kv.order, (kv.initial, *kv.states[:-1]), strict=True)) if kv.order else {}
    after = dict(zip(kv.order, kv.states, strict=True))
    blocked = {b["op"] for b in kv.blocked}
    lanes = {p: i for i, p in enumerate(dict.fromkeys(o.process for o in ops))}
    rows: list[dict[str, Any]] = []
    for i, o in enumerate(ops):
        role = "linearized" if i in rank else "failing" if i == kv.failing else \
            "blocked" if i in blocked else "unplaced"
        rows.append({"op": i, "index": o.inv_index, "completed": o.ret_index,
                     "process": o.process, "lane": lanes[o.process], "f": o.f, "type": o.type,
                     "value": o.value, "start": float(o.inv),
                     "end": float(o.ret if o.ret >= 0 else horizon), "rank": rank.get(i),
                     "point": points.get(i), "state_before": before.get(i),
                     "state_after": after.get(i), "role": role})
    df = pd.DataFrame(rows, columns=COLUMNS)
    for col in ("value", "state_before", "state_after", "completed"):
        df[col] = pd.Series([r[col] for r in rows], dtype=object)
    df["rank"] = df["rank"].astype("Int64")
    df["point"] = df["point"].astype("float64")
    return df


def _points(kv: Any) -> dict[int, float]:
    """Linearization points: op ``k`` of the order lies in ``(M, M + 1)``, ``M`` the latest
    invoke among ops 1..k, spread evenly among the ops sharing ``M``. Every op placed
    after ``k`` was invoked before ``k`` returned, so the point is inside ``k``'s bar."""
    groups: list[tuple[int, list[int]]] = []
    latest = -1
    for o in kv.order:
        latest = max(latest, kv.ops[o].inv)
        if groups and groups[-1][0] == latest:
            groups[-1][1].append(o)
        else:
            groups.append((latest, [o]))
    out: dict[int, float] = {}
    for m, members in groups:
        for j, o in enumerate(members, start=1):
            out[o] = m + j / (len(members) + 1)
    return out
