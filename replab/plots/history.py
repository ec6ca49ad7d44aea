"""Jepsen-style history timelines: every operation's latency over time, faults shaded.

:func:`plot_history_timeline` draws one point per client operation at its invocation
time, its height the time until its completion, coloured by outcome (``ok``, ``fail``,
``info``) and shaped by function (read, write, cas). Faults come from a simulation's event
log (``result.events``), from explicit windows, or from the history's own ``nemesis``
operations (:func:`fault_windows`): outages, partitions, pauses and slow links are shaded
windows, crashes, restarts, failovers and reconfigurations are marked where they happen.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from replab.history import History, pair_operations
from replab.plots._base import COLORS, _axes, _styled

__all__ = ["FAULT_WINDOW_COLUMNS", "fault_windows", "plot_history_timeline"]

#: Columns of :func:`fault_windows`: ``end == start`` for an instant (a marker).
FAULT_WINDOW_COLUMNS = ["start", "end", "kind", "label"]

#: Event kinds of the simulator's log that open a window -> the kinds that close it.
_WINDOWS = {"partition": ("heal",), "slow": ("unslow",), "crash": ("restart",),
            "pause": ()}
#: Instant events drawn as markers, with their words.
_INSTANTS = {"crash": "crash", "restart": "restart", "leader": "failover (new leader)",
             "reconfigure": "reconfiguration", "stonith": "STONITH", "join": "node joins"}
_WINDOW_WORDS = {"partition": "partition", "slow": "slow network", "crash": "node down",
                 "pause": "node paused"}
_MARKERS = {"crash": "X", "restart": "^", "leader": "*", "reconfigure": "P",
            "stonith": "D", "join": "v"}
_F_MARKERS = {"read": "o", "write": "s", "cas": "D"}
#: Jepsen's nemesis ``f`` that open a window -> the ``f`` that close it.
_NEMESIS = {"start-partition": "stop-partition", "partition": "heal", "kill": "start",
            "start-kill": "stop-kill", "pause": "resume", "start-pause": "stop-pause",
            "crash": "restart", "stall": "resume", "slow": "fast"}


def _name(detail: Any) -> str:
    return str(detail).split(":")[0]


def _from_events(events: pd.DataFrame, end: float) -> list[tuple[float, float, str, str]]:
    """Windows and instants of a simulator event log (columns ``time, end_time, kind,
    node, detail``); a window still open at the end lasts until ``end``."""
    out: list[tuple[float, float, str, str]] = []
    opened: dict[tuple[str, Any], float] = {}
    closers = {c: k for k, cs in _WINDOWS.items() for c in cs}
    for t, t1, kind, node, detail in zip(events["time"], events["end_time"], events["kind"],
                                         events["node"], events["detail"], strict=True):
        kind, t = str(kind), float(t)
        who = node if kind in ("crash", "restart") else _name(detail)
        if kind == "pause":
            out.append((t, float(t1), "pause", f"node {node} paused"))
        elif kind in _WINDOWS:
            opened.setdefault((kind, who), t)
        elif kind in closers and (closers[kind], who) in opened:
            start = opened.pop((closers[kind], who))
            out.append((start, t, closers[kind], _window_label(closers[kind], who)))
        if kind in _INSTANTS and not (kind == "leader" and t <= 0.0):
            out.append((t, t, kind, _instant_label(kind, node)))
    for (kind, who), start in opened.items():
        out.append((start, max(end, start), kind, _window_label(kind, who)))
    return out


def _instant_label(kind: str, node: Any) -> str:
    if node is None or (isinstance(node, float) and np.isnan(node)):
        return _INSTANTS[kind]
    node = _id(node)
    if kind == "leader":
        return f"failover: node {node} leads"
    return f"{_INSTANTS[kind]} {node}" if kind in ("crash", "restart") else _INSTANTS[kind]


def _id(node: Any) -> Any:
    """A replica id as written (an int stored in a float column with gaps is an int)."""
    return int(node) if isinstance(node, float) and node.is_integer() else node


def _window_label(kind: str, who: Any) -> str:
    return f"node {_id(who)} down" if kind == "crash" else _WINDOW_WORDS[kind]


def _from_nemesis(history: History) -> list[tuple[float, float, str, str]]:
    """Windows of a Jepsen history's ``nemesis`` operations (completions, else invokes)."""
    ops = [op for op in history if op.get("process") == "nemesis"]
    done = [op for op in ops if op.get("type") != "invoke"] or ops
    out: list[tuple[float, float, str, str]] = []
    opened: dict[str, float] = {}
    end = float(history[len(history) - 1]["time"]) if len(history) else 0.0
    for op in done:
        f, t = str(op["f"]), float(op["time"])
        opener = next((o for o, c in _NEMESIS.items() if c == f and o in opened), None)
        if opener is not None:
            out.append((opened.pop(opener), t, "nemesis", opener))
        elif f in _NEMESIS:
            opened.setdefault(f, t)
        else:
            out.append((t, t, "nemesis", f))
    out += [(t, max(end, t), "nemesis", f) for f, t in opened.items()]
    return out


def fault_windows(faults: Any, *, end: float | None = None) -> pd.DataFrame:
    """Fault windows and instant fault events, as rows ``start, end, kind, label``.

    Parameters
    ----------
    faults : DataFrame, History or iterable
        A simulator's event log (``result.events``: ``crash``/``restart`` per node,
        ``partition``/``heal`` and ``slow``/``unslow`` by name, ``pause`` with its end,
        ``leader``, ``reconfigure``, ``stonith``, ``join`` as instants); a frame already
        in these columns; a :class:`~replab.history.History` (its ``nemesis`` ops); or
        ``(start, end, label)`` tuples (``end`` equal to ``start`` or ``None``: an instant).
    end : float, optional
        Where a window never closed ends (default: the last event's time).

    Returns
    -------
    DataFrame
        Columns :data:`FAULT_WINDOW_COLUMNS`, sorted by ``start``.
    """
    if isinstance(faults, History):
        rows = _from_nemesis(faults)
    elif isinstance(faults, pd.DataFrame) and set(FAULT_WINDOW_COLUMNS) <= set(faults):
        rows = list(faults[FAULT_WINDOW_COLUMNS].itertuples(index=False, name=None))
    elif isinstance(faults, pd.DataFrame):
        last = float(faults[["time", "end_time"]].max().max()) if len(faults) else 0.0
        rows = _from_events(faults, last if end is None else end)
    else:
        rows = [(float(s), float(s if e is None else e), "window", str(label))
                for s, e, label in _tuples(faults)]
    df = pd.DataFrame(rows, columns=FAULT_WINDOW_COLUMNS)
    return df.sort_values("start", kind="stable").reset_index(drop=True)


def _tuples(faults: Iterable[Any]) -> list[tuple[Any, Any, Any]]:
    return [(f["start"], f.get("end"), f.get("label", "fault")) if isinstance(f, dict)
            else tuple(f) for f in faults]


def _fault_color(kind: str) -> str:
    key = {"crash": "node down", "slow": "slow network"}.get(kind, kind)
    return COLORS.get(key, COLORS["partition"])


def _draw_faults(ax: Axes, windows: pd.DataFrame) -> None:
    """Shade each window, mark each instant on the top edge; one legend entry a label."""
    seen: set[str] = set()
    span = windows[windows.end > windows.start]
    for s, e, kind, label in span.itertuples(index=False, name=None):
        ax.axvspan(s, e, color=_fault_color(kind), alpha=0.35, lw=0, zorder=0,
                   label=None if label in seen else label)
        seen.add(label)
    instants = windows[windows.end <= windows.start]
    for kind, sub in instants.groupby("kind", sort=False):
        for label, rows in sub.groupby("label", sort=False):
            ax.scatter(rows.start, np.ones(len(rows)), transform=ax.get_xaxis_transform(),
                       marker=_MARKERS.get(str(kind), "|"), s=70, color="black",
                       clip_on=False, zorder=4, label=str(label))
            for t in rows.start:
                ax.axvline(t, color="black", lw=0.7, ls=":", zorder=1)


def _completions(history: History) -> dict[int, int]:
    """Invocation index -> completion index."""
    open_: dict[Any, int] = {}
    out: dict[int, int] = {}
    for op in history:
        if op["type"] == "invoke":
            open_[op["process"]] = op["index"]
        elif op["process"] in open_:
            out[open_.pop(op["process"])] = op["index"]
    return out


def _draw_lost(ax: Axes, history: History, pairs: pd.DataFrame, lat: np.ndarray,
               lost: Any) -> None:
    """Ring the operations whose invocation or completion index is in ``lost``."""
    wanted = set(lost["index"] if isinstance(lost, pd.DataFrame) else lost)
    if not wanted:
        return
    mask = pairs["inv_index"].isin(wanted).to_numpy() | pairs["done_index"].isin(wanted)
    ax.scatter(pairs["start"].to_numpy()[mask], lat[mask], s=60, facecolors="none",
               edgecolors=COLORS["lost"], linewidths=1.4, zorder=3,
               label=f"acknowledged, then lost ({int(mask.sum())})")


def _latencies(history: History) -> tuple[pd.DataFrame, float]:
    pairs = pair_operations(history)
    index = history.df["index"].to_numpy()
    inv = np.flatnonzero((history.df["type"] == "invoke").to_numpy())
    pairs["inv_index"] = index[inv] if len(pairs) else []
    done = _completions(history)
    pairs["done_index"] = [done.get(int(i), -1) for i in pairs["inv_index"]]
    pairs = pairs[pairs["process"].astype(str) != "nemesis"].copy()
    end = float(history.df["time"].max()) if len(history) else 0.0
    pending = pairs["type"] == "none"
    pairs.loc[pending, "type"] = "info"  # never completed: outcome unknown, like a timeout
    pairs.loc[pending, "latency_ms"] = end - pairs.loc[pending, "start"]
    return pairs, end


@_styled
def plot_history_timeline(history: History, ax: Axes | None = None, *, faults: Any = None,
                          lost: Any = None, log: bool = True, floor_ms: float = 0.01) -> Axes:
    """Per-operation latency over time, coloured ok/fail/info, with faults drawn.

    Parameters
    ----------
    history : History
        Client operations (``nemesis`` ops are faults, not points).
    ax : Axes, optional
    faults : see :func:`fault_windows`, optional
        Default: the history's own ``nemesis`` operations, if any.
    lost : DataFrame or iterable of int, optional
        Acknowledged writes that were later lost (``result.lost``, or op indices of
        their invocations or completions): ringed in the colour of ``lost``.
    log : bool, default True
        A log latency axis (as Jepsen's); latencies below ``floor_ms`` are drawn at
        ``floor_ms`` and the axis label says so.
    floor_ms : float, default 0.01

    Returns
    -------
    Axes
        x: invocation time (ms), y: time to completion (ms). An operation that never
        completed counts as ``info`` with its latency up to the history's last event.
    """
    ax = _axes(ax, figsize=(10, 3.6), layout="constrained")
    pairs, end = _latencies(history)
    if faults is None and any(op.get("process") == "nemesis" for op in history):
        faults = history
    if faults is not None:
        _draw_faults(ax, fault_windows(faults, end=end))
    lat = pairs["latency_ms"].to_numpy(dtype=float)
    clipped = bool(log and (lat < floor_ms).any())
    if log:
        lat = np.maximum(lat, floor_ms)
    words = {"ok": "ok", "fail": "fail", "info": "info (outcome unknown)"}
    for outcome in ("ok", "fail", "info"):
        for f, marker in _F_MARKERS.items():
            mask = ((pairs["type"] == outcome) & (pairs["f"] == f)).to_numpy()
            if mask.any():
                ax.scatter(pairs["start"].to_numpy()[mask], lat[mask], s=9, marker=marker,
                           color=COLORS[outcome], alpha=0.7, lw=0, zorder=2,
                           label=f"{f} {words[outcome]}", rasterized=len(pairs) > 2000)
    if lost is not None:
        _draw_lost(ax, history, pairs, lat, lost)
    if log:
        ax.set_yscale("log")
    floor = f"\n(below {floor_ms:g} ms drawn at {floor_ms:g})" if clipped else ""
    ax.set_ylabel(f"latency (ms{', log scale' if log else ''}){floor}")
    ax.set_xlabel("invocation time (ms)")
    if len(pairs) or faults is not None:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8,
                  markerscale=1.5)
    return ax
