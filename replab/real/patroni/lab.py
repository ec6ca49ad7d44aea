"""One run of the Patroni lab: clients write, a fault strikes, Patroni decides, we measure.

:func:`run_patroni` starts (or reuses) a :class:`~replab.real.patroni.cluster.PatroniCluster`,
runs the writers (:mod:`replab.real.patroni.workload`), injects the fault at
``fault_at_s``, stops writing at ``duration_s``, waits until every node is a streaming
replica of one leader again, reads every written key from the final leader (the final
reads of the ``lost-write`` check) and every node's rows, and measures
(:func:`~replab.real.patroni.measure.failover_metrics`).
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from replab.checks import check_history, results_frame
from replab.errors import ConfigError, ReplabError
from replab.history import History
from replab.real.patroni.cluster import KEYS_TABLE, Node, PatroniCluster
from replab.real.patroni.config import PatroniConfig
from replab.real.patroni.measure import annotate_writes, failover_metrics, leadership
from replab.real.patroni.workload import (
    ROLE_COLUMNS,
    Monitor,
    Recorder,
    RowWatcher,
    Writer,
    key_of,
)
from replab.rng import SeedLike, spawn_seeds

__all__ = ["PatroniResult", "run_patroni", "load_result"]


@dataclass
class PatroniResult:
    """What one run recorded and measured.

    ``history``: the writers' operations, nemesis ops and the final reads; ``roles``: the
    monitor's samples (:data:`~replab.real.patroni.workload.ROLE_COLUMNS`; node ``dcs``:
    the lock holder); ``leadership``: intervals ``node, start_s, end_s`` when a node said
    it was the primary; ``metrics``: see :func:`~replab.real.patroni.measure.failover_metrics`;
    ``writes``: one row a completed write (:func:`~replab.real.patroni.measure.annotate_writes`:
    node, outcome, times, ``lost``, ``split_brain``); ``rows_by_node``: the rows each node
    holds at the end.
    """

    config: PatroniConfig
    history: History
    checks: pd.DataFrame
    roles: pd.DataFrame
    leadership: pd.DataFrame
    metrics: dict[str, Any]
    writes: pd.DataFrame
    rows_by_node: dict[str, int] = field(default_factory=dict)

    def save(self, out: str | Path) -> Path:
        """Write ``history.jsonl`` (for ``replab check``), ``roles.csv``,
        ``leadership.csv``, ``writes.csv``, ``metrics.json`` and ``config.json``."""
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        self.history.to_jsonl(out / "history.jsonl")
        for name in ("roles", "leadership", "writes"):
            getattr(self, name).to_csv(out / f"{name}.csv", index=False)
        (out / "metrics.json").write_text(json.dumps(_plain(self.metrics), indent=2) + "\n")
        (out / "config.json").write_text(json.dumps(dataclasses.asdict(self.config),
                                                    indent=2) + "\n")
        return out


def load_result(path: str | Path) -> PatroniResult:
    """A run saved by :meth:`PatroniResult.save` (e.g. ``data/patroni/example_async``,
    whose history is gzipped: ``history.jsonl.gz`` is read too)."""
    path = Path(path)
    packed = path / "history.jsonl.gz"
    if packed.exists():
        with gzip.open(packed, "rt", encoding="utf-8") as fh:
            history = History.from_ops([json.loads(line) for line in fh if line.strip()])
    else:
        history = History.read_jsonl(path / "history.jsonl")
    metrics = {k: (float("nan") if v is None else v) for k, v in
               json.loads((path / "metrics.json").read_text()).items()}
    frames = {name: pd.read_csv(path / f"{name}.csv")
              for name in ("roles", "leadership", "writes")}
    return PatroniResult(PatroniConfig(**json.loads((path / "config.json").read_text())),
                         history, results_frame(check_history(history, ["lost-write"])),
                         frames["roles"], frames["leadership"], metrics, frames["writes"])


def _plain(metrics: dict[str, Any]) -> dict[str, Any]:
    """JSON has no NaN: write it as null."""
    return {k: None if isinstance(v, float) and v != v else
            (v.item() if hasattr(v, "item") else v) for k, v in metrics.items()}


def run_patroni(config: PatroniConfig | None = None, *, seed: SeedLike = None,
                cluster: PatroniCluster | None = None) -> PatroniResult:
    """Run the lab once, on ``cluster`` if given (running, with ``config``'s nodes, ttl,
    loop_wait and retry_timeout; its mode is switched to ``config.mode``), else on a
    cluster of its own, stopped at the end. Same seed, same clients' think times."""
    config = config or PatroniConfig()
    if cluster is None:
        with PatroniCluster(config.nodes, ttl=config.ttl, loop_wait=config.loop_wait,
                            retry_timeout=config.retry_timeout, mode=config.mode) as own:
            return _run(own, config, seed)
    _check_cluster(cluster, config)
    if cluster.mode != config.mode:
        cluster.set_mode(config.mode)
    return _run(cluster, config, seed)


def _check_cluster(cluster: PatroniCluster, config: PatroniConfig) -> None:
    if not cluster.nodes:
        raise ReplabError("the cluster is not running: start it (`with PatroniCluster(...)`)")
    ours = (cluster.n, cluster.ttl, cluster.loop_wait, cluster.retry_timeout)
    want = (config.nodes, config.ttl, config.loop_wait, config.retry_timeout)
    if ours != want:
        raise ConfigError("The 'cluster' parameter of run_patroni must be a PatroniCluster "
                          f"with (nodes, ttl, loop_wait, retry_timeout) = {want}. Got "
                          f"{ours} instead.")


def _run(cluster: PatroniCluster, config: PatroniConfig, seed: SeedLike) -> PatroniResult:
    cluster.wait_healthy(config.settle_s)
    _truncate(cluster)
    recorder, stop = Recorder(), threading.Event()
    monitor, rows = Monitor(cluster, recorder), RowWatcher(cluster)
    writers = [Writer(i, cluster, recorder, stop, think_s=config.think_ms / 1000.0,
                      op_timeout_s=config.op_timeout_s, rng=np.random.default_rng(s))
               for i, s in enumerate(spawn_seeds(seed, config.clients))]
    for t in (monitor, rows, *writers):
        t.start()
    try:
        try:
            fault = _inject(cluster, config, recorder)
            _sleep_until(recorder, config.duration_s)
        finally:
            for node in cluster.nodes:
                node.thaw()  # whatever happened, nothing stays frozen
            stop.set()
            for w in writers:
                w.join(config.op_timeout_s + 5.0)
        settle_s = _settle(cluster, config)
    finally:  # the watchers stop too, also on an error or Ctrl-C
        monitor.halt.set()
        rows.halt.set()
        monitor.join(5.0)
        rows.join(10.0)
    leader = cluster.node(cluster.leader() or cluster.nodes[0].name)
    final_rows = _final_reads(leader, recorder)
    held = {n.name: rows.poll(n, everything=True) for n in cluster.nodes}
    history = recorder.history
    checks = results_frame(check_history(history, ["lost-write"]))
    roles = pd.DataFrame(monitor.rows, columns=ROLE_COLUMNS)
    metrics = failover_metrics(history, roles, fault, checks=checks, final_rows=final_rows,
                               held=held, seen=rows.seen, final_leader=leader.name,
                               settle_s=settle_s)
    return PatroniResult(config, history, checks, roles, leadership(roles, recorder.now_s()),
                         metrics, annotate_writes(history, metrics, final_rows),
                         {k: len(v) for k, v in held.items()})


def _truncate(cluster: PatroniCluster) -> None:
    """An empty table on every node (the rows of an earlier run on the same cluster)."""
    leader = cluster.node(cluster.leader() or cluster.nodes[0].name)
    with leader.connect() as conn:
        conn.execute(f"TRUNCATE {KEYS_TABLE}")
        lsn = conn.execute("SELECT pg_current_wal_lsn()").fetchone()[0]  # type: ignore[index]
    deadline = time.monotonic() + 30.0
    for node in cluster.nodes:
        while node is not leader and time.monotonic() < deadline:
            with node.connect() as conn:
                row = conn.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn",
                                   (lsn,)).fetchone()
            if row and row[0]:
                break
            time.sleep(0.05)


def _sleep_until(recorder: Recorder, t_s: float) -> None:
    time.sleep(max(0.0, t_s - recorder.now_s()))


def _nemesis(recorder: Recorder, f: str, value: Any) -> float:
    recorder.add("nemesis", "info", f, None, value)
    return recorder.now_s()


def _inject(cluster: PatroniCluster, config: PatroniConfig, recorder: Recorder
            ) -> dict[str, Any]:
    """Strike at ``fault_at_s``; return the fault's facts (target, start_s, end_s)."""
    if config.fault == "none":
        return {"fault": "none", "target": None, "start_s": float("nan"),
                "end_s": float("nan"), "leader": cluster.leader()}
    _sleep_until(recorder, config.fault_at_s)
    leader = cluster.leader()
    if leader is None:
        raise ReplabError("no leader when the fault was due: the cluster is not healthy")
    target = _target(cluster, config, leader)
    fact: dict[str, Any] = {"fault": config.fault, "target": target.name, "leader": leader}
    if config.fault in ("pause-leader", "pause-replica"):
        target.freeze()
        fact["start_s"] = _nemesis(recorder, "pause", target.name)
        time.sleep(config.pause_s)
        target.thaw()
        fact["end_s"] = _nemesis(recorder, "resume", target.name)
    elif config.fault == "kill-leader":
        pid = target.kill_postmaster()
        fact["start_s"] = fact["end_s"] = _nemesis(recorder, "kill-postmaster", pid)
    else:  # stop-leader: the machine dies and comes back after pause_s
        target.kill()
        fact["start_s"] = _nemesis(recorder, "kill", target.name)
        time.sleep(config.pause_s)
        cluster.launch(target)
        fact["end_s"] = _nemesis(recorder, "restart", target.name)
    return fact


def _target(cluster: PatroniCluster, config: PatroniConfig, leader: str) -> Node:
    if config.fault != "pause-replica":
        return cluster.node(leader)
    members = cluster.members()
    sync = [m["name"] for m in members if m.get("role") == "sync_standby"]
    others = [m["name"] for m in members if m["name"] != leader]
    return cluster.node((sync or others or [leader])[0])


def _settle(cluster: PatroniCluster, config: PatroniConfig) -> float:
    """Wait (bounded) until one leader and every other node streaming; the seconds it
    took, or NaN when the cluster did not settle in ``settle_s`` (measured anyway)."""
    try:
        return cluster.wait_healthy(config.settle_s)
    except ReplabError:
        return float("nan")


def _final_reads(leader: Node, recorder: Recorder) -> set[tuple[int, int]]:
    """Every written key read from the final leader (one query), recorded as a read a key
    by the session ``final``: the lost-write check's final reads."""
    writes = recorder.history.df.query("f == 'write' and type == 'invoke'")
    keys = sorted({(int(c), int(s)) for c, s in zip(writes["process"], writes["value"],
                                                      strict=True)})
    with leader.connect(timeout_s=5.0) as conn:
        rows = conn.execute(f"SELECT client, seq, id FROM {KEYS_TABLE}").fetchall()
    found = {(int(c), int(s)): int(i) for c, s, i in rows}
    for c, s in keys:
        key = key_of(c, s)
        recorder.add("final", "invoke", "read", key, None, node=leader.name, final=True)
        recorder.add("final", "ok", "read", key, s if (c, s) in found else None,
                     version=found.get((c, s)), node=leader.name, final=True)
    return set(found)
