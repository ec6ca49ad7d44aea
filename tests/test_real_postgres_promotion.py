"""The PostgreSQL lab's failover promotes the most advanced standby.

Two standbys; one of them has received less WAL (its walsender is stopped while the
primary commits more). ``promote_best`` must pick the other one, whichever of the two
lags (a choice of the first or the last standby, or of the least advanced, fails here).
"""

import contextlib
import os
import signal
from types import SimpleNamespace

import pytest

from replab.real.postgres.cluster import PgCluster
from replab.real.postgres.faults import promote_best, walsender_pids
from replab.real.postgres.workload import Recorder


def _received(server) -> int:
    with server.connect() as conn:
        row = conn.execute("SELECT pg_wal_lsn_diff(pg_last_wal_receive_lsn(), '0/0')").fetchone()
    return int(row[0])


@pytest.mark.parametrize("lagging", ["s1", "s2"])
def test_failover_promotes_the_standby_with_the_most_wal(lagging):
    with PgCluster(standbys=2) as cluster:
        cluster.configure(mode="async")
        cluster.reset_table(4)
        cluster.wait_caught_up()
        primary = cluster.get_primary()
        pid = walsender_pids(primary)[lagging]
        os.kill(pid, signal.SIGSTOP)  # this standby receives nothing more
        try:
            with primary.connect() as conn:
                conn.execute("CREATE TABLE more_wal AS SELECT g FROM generate_series(1, 5000) g")
                target = conn.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
            ahead = next(s for s in cluster.standbys if s.name != lagging)
            with ahead.connect() as conn:
                for _ in range(200):
                    if conn.execute("SELECT pg_last_wal_receive_lsn() >= %s::pg_lsn",
                                    (target,)).fetchone()[0]:
                        break
                    conn.execute("SELECT pg_sleep(0.05)")
            behind = cluster.server(lagging)
            assert _received(ahead) > _received(behind)  # the setting holds
            primary.crash()
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
        lab = SimpleNamespace(cluster=cluster, recorder=Recorder(), fault_log=[])
        promoted = promote_best(lab)
        assert promoted.name == ahead.name != lagging
        assert cluster.primary is promoted and [s.name for s in cluster.standbys] == [lagging]
        assert lab.fault_log[-1][1:] == ("promote", ahead.name)
