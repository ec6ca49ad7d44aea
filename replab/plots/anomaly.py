"""Kleppmann-style sequence diagrams of a checker's example.

:func:`plot_anomaly` takes a history and one example a checker found in it (``{"indices":
[...], "message": ...}``, as in :attr:`replab.checks.CheckResult.examples`) and draws each
operation of the example as a request arrow from its client to the replica that served it
(the op's ``node``) and a response arrow back, in the manner of the figures of DDIA
chapter 5. The operation the checker's message names first (the violating read) is drawn
in the anomaly's colour.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from replab.history import History
from replab.plots._base import COLORS, _axes, _styled

__all__ = ["anomaly_operations", "plot_anomaly"]

_STORE = "store"


@dataclass(frozen=True)
class _Op:
    """One operation of the example: its invocation and completion."""

    index: int
    process: Any
    f: str
    key: Any
    written: Any
    outcome: str  # ok, fail, info or none (never completed)
    value: Any  # the completion's value (what a read got)
    start: float
    end: float | None
    node: Any
    done: int | None  # the completion's op index


def _pair(ops: list[dict[str, Any]], pos: int) -> tuple[int, int | None]:
    """(invoke position, completion position or None) of the operation at ``pos``."""
    p = ops[pos]["process"]
    if ops[pos]["type"] != "invoke":
        inv = next(i for i in range(pos - 1, -1, -1) if ops[i]["process"] == p)
        return inv, pos
    comp = next((i for i in range(pos + 1, len(ops)) if ops[i]["process"] == p), None)
    return pos, comp


def anomaly_operations(history: History, example: Mapping[str, Any] | list[int]) -> list[_Op]:
    """The operations of an example (invocation and completion joined), in invoke order.

    ``example`` is a checker example (its ``indices``) or a list of op indices; an index
    may name an invocation or a completion.
    """
    indices = example["indices"] if isinstance(example, Mapping) else list(example)
    ops = history.ops
    where = {op["index"]: pos for pos, op in enumerate(ops)}
    missing = [i for i in indices if i not in where]
    if missing:
        raise ValueError(f"The example names op indices {missing} that the history does "
                         f"not hold ({len(ops)} operations).")
    pairs = sorted({_pair(ops, where[i]) for i in indices})
    out = []
    for inv, comp in pairs:
        a = ops[inv]
        c = ops[comp] if comp is not None else None
        node = (c or {}).get("node", a.get("node"))
        out.append(_Op(index=a["index"], process=a["process"], f=a["f"], key=a.get("key"),
                       written=a.get("value"), outcome=c["type"] if c else "none",
                       value=c.get("value") if c else None, start=float(a["time"]),
                       end=float(c["time"]) if c else None,
                       node=_STORE if node is None else node,
                       done=c["index"] if c else None))
    return out


def _show(v: Any) -> str:
    if v is None or v == []:
        return "not found"
    try:
        return json.dumps(v)
    except (TypeError, ValueError):
        return repr(v)


def _request(op: _Op) -> str:
    if op.f == "read":
        return f"read {op.key}"
    if op.f == "cas" and isinstance(op.written, list | tuple) and len(op.written) == 2:
        return f"cas {op.key} {_show(op.written[0])}→{_show(op.written[1])}"
    return f"write {op.key} = {_show(op.written)}"


def _response(op: _Op) -> str:
    if op.outcome == "none":
        return "no answer"
    if op.outcome == "info":
        return "unknown (timeout)"
    if op.outcome == "fail":
        return "failed"
    return f"→ {_show(op.value)}" if op.f == "read" else "ok"


def _violator(example: Mapping[str, Any] | list[int]) -> int | None:
    """The op the checker's message names first (the violating operation)."""
    if not isinstance(example, Mapping):
        return None
    found = re.search(r"\bop (\d+)", str(example.get("message", "")))
    return int(found.group(1)) if found else None


def _x_positions(ops: list[_Op], time: str) -> dict[tuple[int, str], float]:
    """x of every event: (op index, "inv" | "srv" | "comp")."""
    events = []
    for op in ops:
        end = op.end if op.end is not None else op.start + 1.0
        events += [(op.start, 0, op.index, "inv"), ((op.start + end) / 2, 1, op.index, "srv"),
                   (end, 2, op.index, "comp")]
    events.sort()
    if time == "real":
        return {(i, what): t for t, _, i, what in events}
    return {(i, what): float(rank) for rank, (_, _, i, what) in enumerate(events)}


@_styled
def plot_anomaly(
    history: History, example: Mapping[str, Any] | list[int], ax: Axes | None = None, *,
    anomaly: str | None = None, node_names: Mapping[Any, str] | None = None,
    time: str = "order",
) -> Axes:
    """A sequence diagram of the operations of one checker example.

    Parameters
    ----------
    history : History
        The history the checker ran on.
    example : dict or list of int
        One of :attr:`~replab.checks.CheckResult.examples` (its ``indices``; the first
        ``op N`` of its ``message`` is the violating operation), or op indices.
    ax : Axes, optional
    anomaly : str, optional
        The checker's name, for the violation's colour and legend entry (``COLORS``).
    node_names : mapping, optional
        Lane names for the ops' ``node`` values, e.g. ``{0: "leader", 1: "follower 1"}``.
    time : {"order", "real"}
        ``order`` spaces the events evenly in the order they happened (tick labels give
        their times), so that events microseconds apart stay readable; ``real`` uses
        the times themselves.

    Returns
    -------
    Axes
        One lane per client session (top) and per replica (below); each operation a
        request arrow and a response arrow labelled with what was asked and answered.
    """
    if time not in ("order", "real"):
        raise ValueError(f"The 'time' parameter of plot_anomaly must be 'order' or 'real'. "
                         f"Got {time!r} instead.")
    ops = anomaly_operations(history, example)
    x = _x_positions(ops, time)
    width = 3.5 + 0.62 * len(x) if time == "order" else 9.0
    clients = list(dict.fromkeys(op.process for op in ops))
    nodes = list(dict.fromkeys(op.node for op in ops))
    ax = _axes(ax, figsize=(min(width, 11.0), 1.4 + 0.7 * (len(clients) + len(nodes))),
               layout="constrained")
    lanes = [f"client {c}" for c in clients] + \
        [_node_name(n, node_names) for n in nodes]
    y_of = {("c", c): float(len(lanes) - 1 - i) for i, c in enumerate(clients)}
    y_of.update({("n", n): float(len(nodes) - 1 - i) for i, n in enumerate(nodes)})
    for y in range(len(lanes)):
        ax.axhline(y, color="0.55", lw=1.0, zorder=0)
    bad = _violator(example)
    color_bad = COLORS.get(str(anomaly), COLORS["lost"])
    rows: dict[Any, int] = {}
    edges = (min(x.values()), max(x.values()))
    for op in sorted(ops, key=lambda o: x[(o.index, "inv")]):
        _draw_op(ax, op, x, y_of, bad, color_bad, rows, edges)
    ax.set_yticks(range(len(lanes)), list(reversed(lanes)))
    ax.set_ylim(-0.5, len(lanes) - 0.35)
    _time_axis(ax, ops, x, time)
    ax.grid(False)
    ax.legend(handles=_legend(ops, bad, anomaly, color_bad), loc="upper left",
              bbox_to_anchor=(1.01, 1.0), fontsize=8)
    return ax


def _node_name(node: Any, names: Mapping[Any, str] | None) -> str:
    if names is not None and node in names:
        return str(names[node])
    return "database" if node == _STORE else f"replica {node}"


def _draw_op(ax: Axes, op: _Op, x: dict[tuple[int, str], float],
             y_of: dict[tuple[str, Any], float], bad: int | None, color_bad: str,
             rows: dict[Any, int], edges: tuple[float, float]) -> None:
    """The request and response arrows of ``op`` and their labels above the client lane.

    A label at the first (last) event starts (ends) at its arrow, so that a long one
    stays inside the axes."""
    yc, yn = y_of[("c", op.process)], y_of[("n", op.node)]
    x0, xs, x1 = x[(op.index, "inv")], x[(op.index, "srv")], x[(op.index, "comp")]
    violating = bad is not None and bad in (op.index, op.done)
    color = color_bad if violating else COLORS.get(op.f, COLORS["write"])
    lw = 2.2 if violating else 1.3
    ax.annotate("", xy=(xs, yn), xytext=(x0, yc),
                arrowprops=dict(arrowstyle="-|>", color=color, lw=lw, shrinkA=0, shrinkB=2))
    ax.plot([xs], [yn], "o", color=color, ms=4, zorder=3)
    if op.end is not None:
        ax.annotate("", xy=(x1, yc), xytext=(xs, yn),
                    arrowprops=dict(arrowstyle="-|>", color=color, lw=lw, ls="--",
                                    shrinkA=2, shrinkB=0))
    for xt, text in ((x0, _request(op)), (x1, _response(op))):
        row = rows.get(op.process, 0)
        rows[op.process] = row + 1
        ax.annotate(text, (xt, yc), xytext=(0, 4 + 12 * (row % 2)), textcoords="offset points",
                    ha=_align(xt, edges), va="bottom", fontsize=8, color=color,
                    fontweight="bold" if violating else "normal")


def _align(xt: float, edges: tuple[float, float]) -> str:
    lo, hi = edges
    if lo < hi and xt == hi:
        return "right"
    return "left" if lo < hi and xt == lo else "center"


def _time_axis(ax: Axes, ops: list[_Op], x: dict[tuple[int, str], float], time: str) -> None:
    if time == "real":
        ax.set_xlabel("time (ms)")
        return
    ticks = sorted({(x[(o.index, "inv")], o.start) for o in ops} |
                   {(x[(o.index, "comp")], o.end) for o in ops if o.end is not None})
    ax.set_xticks([t for t, _ in ticks], [f"{v:.1f}" for _, v in ticks], rotation=45,
                  fontsize=7)
    ax.set_xlabel("time of each invocation and completion (ms; events evenly spaced in "
                  "order)")
    lo, hi = min(x.values()), max(x.values())
    ax.set_xlim(lo - 0.8, hi + 0.8)


def _legend(ops: list[_Op], bad: int | None, anomaly: str | None,
            color_bad: str) -> list[Line2D]:
    fs = sorted({op.f for op in ops})
    handles = [Line2D([], [], color=COLORS.get(f, COLORS["write"]), lw=1.3, label=f)
               for f in fs]
    handles += [Line2D([], [], color="0.3", lw=1.3, label="request"),
                Line2D([], [], color="0.3", lw=1.3, ls="--", label="response")]
    if bad is not None:
        what = f"violates {anomaly}" if anomaly else "the violation"
        handles.append(Line2D([], [], color=color_bad, lw=2.2, label=what))
    return handles
