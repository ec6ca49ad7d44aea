"""What a Patroni run measured, from the history, the role samples and the rows read.

:func:`failover_metrics` returns (times in seconds from the start of the run; NaN where a
run has no such event):

- ``failover``: another node became primary; ``old_leader``, ``new_leader``,
  ``final_leader``;
- ``elected_s``: when the new leader first said it was the primary; ``failover_s``: that
  less the fault's start;
- ``detection_s``: from the fault to the first write that failed or timed out (the
  client's view); ``unavailable_s``: from the fault to the first successful write invoked
  after that first failure (after the fault when no write failed: a paused leader that
  resumes in time fails nothing; acknowledgements from a resumed old leader that is
  about to be demoted do not end it); ``to_new_leader_s``: to the first successful write
  on the new leader;
- ``split_brain_writes``: writes the old leader acknowledged after the new leader was
  elected; ``split_brain_s``: from the election to the last of them;
- ``demoted_s``: from the resume to the old leader's REST API no longer calling it the
  primary; ``rejoin_s``: from the resume (or restart) to the old leader streaming from the
  new one again (after pg_rewind);
- ``lost_acknowledged``: the history's ``lost-write`` count (final reads on the final
  leader); ``lost_in_data``: acknowledged rows missing on the final leader, read from its
  database; ``lost_seen_on_old_leader``: of those, the rows another node was seen to hold
  (every node's rows are read while the run goes on, so before any rewind);
  ``nodes_agree``: every node holds the same rows at the end;
- ``writes_ok``, ``writes_info``, ``writes_fail``; ``settle_s``: how long the cluster took
  to be whole again after the writers stopped;
- ``verdict``: one sentence with the run's hazards, stating it when there were none.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from replab.history import History

__all__ = ["failover_metrics", "leadership", "completed_writes", "annotate_writes", "verdict"]

NAN = float("nan")


def completed_writes(history: History) -> pd.DataFrame:
    """One row a completed write: ``process, seq, type, node, invoke_s, done_s, version``."""
    df = history.df
    w = df[(df["f"] == "write") & (df["process"] != "final")]
    inv = w[w["type"] == "invoke"][["process", "value", "time"]]
    done = w[w["type"] != "invoke"][["process", "value", "type", "node", "time", "version"]]
    out = done.merge(inv, on=["process", "value"], suffixes=("", "_invoke"))
    return pd.DataFrame({
        "process": out["process"].to_numpy(), "seq": out["value"].to_numpy(),
        "type": out["type"].to_numpy(), "node": out["node"].to_numpy(),
        "invoke_s": out["time_invoke"].to_numpy(dtype=float) / 1000.0,
        "done_s": out["time"].to_numpy(dtype=float) / 1000.0,
        "version": out["version"].to_numpy()})


def annotate_writes(history: History, metrics: dict[str, Any],
                    final_rows: set[tuple[int, int]]) -> pd.DataFrame:
    """:func:`completed_writes` plus ``lost`` (acknowledged, missing on the final leader)
    and ``split_brain`` (acknowledged by the old leader after the new one was elected)."""
    w = completed_writes(history)
    ok = (w["type"] == "ok").to_numpy()
    held = np.array([(int(p), int(s)) in final_rows
                     for p, s in zip(w["process"], w["seq"], strict=True)], dtype=bool)
    elected = metrics.get("elected_s", NAN)
    brain = ok & (w["node"] == metrics.get("old_leader")).to_numpy() & \
        (w["done_s"].to_numpy(dtype=float) >= elected)
    return w.assign(lost=ok & ~held, split_brain=brain)


def leadership(roles: pd.DataFrame, end_s: float) -> pd.DataFrame:
    """Intervals (``node, start_s, end_s``) in which a node said it was the primary (a
    frozen node is not asked: its interval runs on through the pause)."""
    rows = []
    own = roles[roles["node"] != "dcs"].sort_values("time_s", kind="stable")
    for node, g in own.groupby("node", sort=True):
        start = None
        for t, role in zip(g["time_s"], g["role"], strict=True):
            if role == "primary" and start is None:
                start = t
            elif role != "primary" and start is not None:
                rows.append((node, start, t))
                start = None
        if start is not None:
            rows.append((node, start, end_s))
    return pd.DataFrame(rows, columns=["node", "start_s", "end_s"])


def _first(values: Any) -> float:
    arr = np.asarray(values, dtype=float)
    return float(arr.min()) if len(arr) else NAN


def failover_metrics(history: History, roles: pd.DataFrame, fault: dict[str, Any], *,
                     checks: pd.DataFrame, final_rows: set[tuple[int, int]],
                     held: dict[str, set[tuple[int, int]]],
                     seen: dict[str, set[tuple[int, int]]], final_leader: str,
                     settle_s: float) -> dict[str, Any]:
    """The run's measurements (see the module docstring)."""
    w = completed_writes(history)
    ok = w[w["type"] == "ok"]
    old, t0, t1 = fault.get("leader"), fault.get("start_s", NAN), fault.get("end_s", NAN)
    struck = not np.isnan(t0)
    own = roles[(roles["node"] != "dcs") & (roles["time_s"] >= (t0 if struck else 0.0))]
    promoted = own[(own["role"] == "primary") & (own["node"] != old)]
    new = str(promoted["node"].iloc[0]) if len(promoted) else None
    elected = _first(promoted["time_s"]) if new else NAN
    after_fault = w[w["done_s"] >= t0] if struck else w.iloc[0:0]
    failed = after_fault[after_fault["type"] != "ok"]
    after = _first(failed["done_s"]) if len(failed) else t0
    brain = ok[(ok["node"] == old) & (ok["done_s"] >= elected)] if new else ok.iloc[0:0]
    count = checks.loc[checks["check"] == "lost-write", "count"].iloc[0]
    lost = None if pd.isna(count) else int(count)  # None: no final reads to judge by
    acked = {(int(p), int(s)) for p, s in zip(ok["process"], ok["seq"], strict=True)}
    missing = acked - final_rows
    elsewhere: set[tuple[int, int]] = set()
    for name, rows in seen.items():
        if name != final_leader:
            elsewhere |= rows
    old_rows = own[own["node"] == old]
    demoted = old_rows[(old_rows["time_s"] >= t1) & (old_rows["role"] != "primary")]
    back = old_rows[(old_rows["time_s"] >= t1) & (old_rows["role"] == "replica") &
                    (old_rows["replication"] == "streaming")]
    rejoins = new is not None or fault.get("fault") == "stop-leader"
    out = {
        "failover": new is not None, "old_leader": old, "new_leader": new,
        "final_leader": final_leader, "fault_start_s": t0, "fault_end_s": t1,
        "elected_s": elected, "failover_s": elected - t0 if new else NAN,
        "detection_s": _first(failed["done_s"]) - t0,
        "unavailable_s": _first(ok[ok["invoke_s"] >= after]["done_s"]) - t0,
        "to_new_leader_s": _first(ok[ok["node"] == new]["done_s"]) - t0 if new else NAN,
        "split_brain_writes": len(brain),
        "split_brain_s": float(brain["done_s"].max() - elected) if len(brain) else 0.0,
        "demoted_s": _first(demoted["time_s"]) - t1 if new else NAN,
        "rejoin_s": _first(back["time_s"]) - t1 if rejoins else NAN,
        "lost_acknowledged": lost, "lost_in_data": len(missing),
        "lost_seen_on_old_leader": len(missing & elsewhere),
        "nodes_agree": len({frozenset(v) for v in held.values()}) == 1,
        "writes_ok": len(ok), "writes_info": int((w["type"] == "info").sum()),
        "writes_fail": int((w["type"] == "fail").sum()), "settle_s": settle_s,
    }
    out["verdict"] = verdict(out)
    return out


def verdict(m: dict[str, Any]) -> str:
    """One sentence: failover or not, split-brain writes, lost acknowledged writes."""
    head = (f"{m['new_leader']} took over from {m['old_leader']} "
            f"{m['failover_s']:.1f} s after the fault" if m["failover"]
            else "no failover")
    if m["split_brain_writes"] == 0 and m["lost_acknowledged"] == 0:
        return f"{head}; neither split-brain writes nor lost acknowledged writes in this run"
    return (f"{head}; the old leader acknowledged {m['split_brain_writes']} writes in "
            f"{m['split_brain_s']:.1f} s after the election; {m['lost_acknowledged']} "
            "acknowledged writes were lost")
