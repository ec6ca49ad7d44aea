"""The ``pbs`` workload: the WARS experiment, message by message.

Trial ``i`` writes key ``t{i}`` through a client-side write coordinator (node ``"pw"``)
that sends the write to the key's ``n`` home replicas and commits on the ``w``-th ack;
exactly ``read_delay`` ms after that ack arrives, a read coordinator (node ``"pr"``) asks
all ``n`` replicas and returns the merge of the first ``r`` responses. Each kind of
message has its own link -- ``pw -> replica`` W, ``replica -> pw`` A, ``pr -> replica``
R, ``replica -> pr`` S -- with the latency profile's distribution, drawn per message, so
the delays are exactly the WARS model's. A replica answers with what it has when the
request arrives; a write arriving at the same instant as the read request is handled
first (it was scheduled first), so ties are fresh, as in the estimator.

Trials are independent (distinct keys), so they overlap in simulated time; there are no
timeouts and no repair. With ``p_fail``, each home replica ignores a trial's messages
with that probability (down for the whole trial); a write that cannot commit is recorded
as ``info`` at the end, a read that cannot gather ``r`` responses as ``fail``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from replab.history import History
from replab.latency import WarsLatency
from replab.models.leaderless.coord import Coordinating, Op
from replab.models.leaderless.metrics import LeaderlessResult
from replab.models.leaderless.summary import proportion
from replab.models.leaderless.versions import Versions, read_value
from replab.stats import percentile

if TYPE_CHECKING:
    from replab.latency import Distribution
    from replab.models.leaderless.view import ClusterView

__all__ = ["PbsDriver", "TRIAL_COLUMNS"]

#: Columns of ``LeaderlessResult.trials`` (pbs).
TRIAL_COLUMNS = ["trial", "key", "start", "committed", "write_ms", "read_ok", "read_ms",
                 "fresh", "fresh_responders"]


class RouterNode(Coordinating):
    """A client-side coordinator (Voldemort-style routing in the client library)."""

    def __init__(self, cluster: ClusterView, node_id: str) -> None:
        super().__init__(cluster.network, node_id)
        self.init_coordinator(cluster)


class PbsDriver:
    """Schedules the trials and records their outcomes."""

    def __init__(self, cluster: ClusterView, rng: np.random.Generator, wars: WarsLatency) -> None:
        self.cluster, self.rng = cluster, rng
        cfg = cluster.config
        self.writer, self.reader = RouterNode(cluster, "pw"), RouterNode(cluster, "pr")
        self.coordinators = [self.writer, self.reader]
        links: list[tuple[str, Distribution, Distribution]] = [
            ("pw", wars.W, wars.A), ("pr", wars.R, wars.S)]
        for router, out, back in links:
            for node in cluster.replicas_ids:
                cluster.network.set_link(router, node, delay=out)
                cluster.network.set_link(node, router, delay=back)
        self.history = History()
        t = cfg.trials
        self.start = np.full(t, math.nan)
        self.write_ms = np.full(t, math.nan)
        self.read_ms = np.full(t, math.nan)
        self.read_ok = np.zeros(t, dtype=bool)
        self.fresh = np.zeros(t, dtype=bool)
        self.fresh_responders = np.zeros(t, dtype=np.int64)
        self.read_started = np.zeros(t, dtype=bool)

    def _start(self, i: int) -> None:
        c, cfg = self.cluster, self.cluster.config
        key = f"t{i}"
        self.start[i] = c.sim.now
        if cfg.p_fail > 0:
            for node in c.home_all(key):
                if float(self.rng.random()) < cfg.p_fail:
                    c.pbs_down.add((node, key))
        self.history.record(c.sim.now, 2 * i, "invoke", "write", key, i)
        self.writer.start_write(key, i, "pw", lambda op, outcome, vs: self._committed(i, op))
        if i + 1 < cfg.trials:
            c.sim.schedule(cfg.trial_spacing_ms, self._start, i + 1)

    def _committed(self, i: int, op: Op) -> None:
        now = self.cluster.sim.now
        self.write_ms[i] = now - op.start
        self.history.record(now, 2 * i, "ok", "write", op.key, i, version=1, node="pw")
        self.cluster.sim.schedule(self.cluster.config.read_delay, self._read, i, op.key)

    def _read(self, i: int, key: str) -> None:
        self.read_started[i] = True
        self.history.record(self.cluster.sim.now, 2 * i + 1, "invoke", "read", key, None)
        self.reader.start_read(key, lambda op, outcome, vs: self._read_done(i, op, vs))

    def _read_done(self, i: int, op: Op, versions: Versions) -> None:
        now = self.cluster.sim.now
        self.read_ms[i], self.read_ok[i] = now - op.start, True
        value = read_value(versions)
        self.fresh[i] = value == i
        self.fresh_responders[i] = sum(1 for held in op.responses.values() if held)
        self.history.record(now, 2 * i + 1, "ok", "read", op.key, value, node="pr")

    def run(self) -> LeaderlessResult:
        c = self.cluster
        c.sim.schedule(0.0, self._start, 0)
        c.sim.run()
        now, cfg = c.sim.now, c.config
        for i in np.flatnonzero(np.isnan(self.write_ms)):
            self.history.record(now, 2 * int(i), "info", "write", f"t{i}", int(i))
        for i in np.flatnonzero(self.read_started & ~self.read_ok):
            self.history.record(now, 2 * int(i) + 1, "fail", "read", f"t{i}", None)
        trials = self.frame()
        return LeaderlessResult(config=cfg, history=self.history,
                                metrics=self.metrics(trials), trials=trials,
                                events=c.network.events_frame())

    def frame(self) -> pd.DataFrame:
        t = self.cluster.config.trials
        committed = ~np.isnan(self.write_ms)
        return pd.DataFrame({
            "trial": np.arange(t), "key": [f"t{i}" for i in range(t)], "start": self.start,
            "committed": committed, "write_ms": self.write_ms, "read_ok": self.read_ok,
            "read_ms": self.read_ms, "fresh": self.fresh,
            "fresh_responders": self.fresh_responders})

    def metrics(self, df: pd.DataFrame) -> dict[str, Any]:
        c = self.cluster
        committed = int(df.committed.sum())
        reads_ok = int(df.read_ok.sum())
        fresh = int(df.fresh.sum())
        m: dict[str, Any] = {"trials": len(df), "writes_committed": committed}
        m |= proportion("write_availability", committed, len(df))
        m["reads_ok"] = reads_ok
        m |= proportion("read_availability", reads_ok, committed)
        m["stale_reads"] = reads_ok - fresh
        m |= proportion("stale_read_rate", reads_ok - fresh, reads_ok)
        m |= proportion("p_consistent", fresh, committed)
        m |= {"lost_writes": 0, "hinted_handoffs": 0, "read_repairs": 0, "read_repair_bytes": 0}
        for f, col in (("read", df.read_ms[df.read_ok].to_numpy()),
                       ("write", df.write_ms[df.committed].to_numpy())):
            m[f"{f}_p50_ms"], m[f"{f}_p99_ms"] = percentile(col, 50), percentile(col, 99)
        m |= {"messages": c.network.sent, "messages_dropped": c.network.dropped,
              "events": c.sim.events_processed}
        return m
