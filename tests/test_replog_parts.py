"""The pieces of replab.replog, one at a time, on small real databases."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from replab.replog import diff_tables, rewrite_nondeterministic
from replab.replog._base import LogRecord
from replab.replog._node import Node, table_frame
from replab.replog.logical import FrameFollower, LogicalReplicator
from replab.replog.physical import (
    PhysicalFollower,
    PhysicalFormatError,
    PhysicalReplicator,
    storage_format,
)
from replab.replog.snapshot import Snapshot, logical_copy
from replab.replog.trigger import (
    Conflict,
    TriggerReplicator,
    follower_wins,
    latest,
    leader_wins,
)
from replab.replog.workload import Txn, make_workload, schema_sql

SCHEMA = "CREATE TABLE t (id INTEGER PRIMARY KEY, region TEXT, v REAL, updated_at TEXT);"


def node(path: Path, seed: int = 0, **kw) -> Node:
    return Node(path, name=path.stem, rng=np.random.default_rng(seed), **kw)


def txn(*sql: str) -> Txn:
    return Txn(0, 0, tuple(sql))


# --- statement rewriting --------------------------------------------------------------


def test_rewrite_replaces_calls_and_time_but_not_literals_or_identifiers():
    sql = ("INSERT INTO \"random()\" VALUES (RANDOM ( ), 'now', 'random()', CURRENT_DATE, "
           "x_random(), current_time) -- random()")
    out, n = rewrite_nondeterministic(sql, draw=lambda: 42, now_ms=1_704_067_200_000 + 61_005)
    assert n == 4
    assert out == ("INSERT INTO \"random()\" VALUES (42, '2024-01-01 00:01:01.005', "
                   "'random()', '2024-01-01', x_random(), '00:01:01') -- random()")


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.sampled_from("abc '\"()-"), max_size=30))
def test_rewrite_is_identity_without_nondeterminism(text):
    out, n = rewrite_nondeterministic(text, draw=lambda: 1, now_ms=0)
    assert (out, n) == (text, 0)


def test_rewritten_time_evaluates_like_now_on_the_same_clock(tmp_path):
    a = node(tmp_path / "a.db")
    a.clock_ms = 1_704_067_200_000 + 123_456_789
    sql = "SELECT strftime('%Y-%m-%d %H:%M:%f', 'now'), CURRENT_TIMESTAMP, date('now')"
    fixed, _ = rewrite_nondeterministic(sql, draw=lambda: 0, now_ms=int(a.clock_ms))
    assert a.execute(sql) == a.execute(fixed)
    a.close()


def test_nodes_have_their_own_clock_random_and_tickets(tmp_path):
    a, b = node(tmp_path / "a.db", 1), node(tmp_path / "b.db", 2)
    a2 = node(tmp_path / "a2.db", 1)
    q = "SELECT random(), ticket(), strftime('%s', 'now')"
    assert a.execute(q) == a2.execute(q)
    assert a.execute(q) != b.execute(q)
    b.clock_ms += 5_000
    assert int(b.execute(q)[0][2]) == int(a.execute(q)[0][2]) + 5
    for n in (a, b, a2):
        n.close()


_CLOCK_READS = [
    "datetime('now')", "date('now')", "time('now')", "julianday('now')",
    "unixepoch('now')", "strftime('%Y-%m-%d %H:%M:%f', 'now')", "datetime(\"now\")",
    "datetime()", "date()", "time()", "julianday()", "unixepoch()", "strftime('%s')",
    "strftime('%Y-%m-%d %H:%M:%f')", "datetime( )", "CURRENT_TIMESTAMP",
    "datetime('now', '+1 day')", "unixepoch('now', 'subsec')",
]


@pytest.mark.parametrize("expr", _CLOCK_READS)
def test_fixed_statement_pins_every_clock_read(tmp_path, expr):
    # The leader pins at its clock; a follower replays a day and 7.5 s later.
    leader, follower = node(tmp_path / "l.db"), node(tmp_path / "f.db")
    leader.clock_ms += 123_456_789
    follower.clock_ms = leader.clock_ms + 86_400_000 + 7_500
    sql = f"SELECT {expr}"
    fixed, n = rewrite_nondeterministic(sql, draw=leader.random_int,
                                        now_ms=int(leader.clock_ms))
    assert n == 1
    assert follower.execute(fixed) == leader.execute(sql)
    assert follower.execute(sql) != leader.execute(sql)  # unpinned, the replay differs
    leader.close()
    follower.close()


def test_fixed_statement_pins_randomblob_with_the_leaders_bytes(tmp_path):
    leader, follower = node(tmp_path / "l.db", 1), node(tmp_path / "f.db", 2)
    fixed, n = rewrite_nondeterministic("SELECT hex(randomblob(12)), random()",
                                        draw=leader.random_int, now_ms=0)
    assert n == 2
    assert re.fullmatch(r"SELECT hex\(X'[0-9A-F]{24}'\), -?\d+", fixed)
    assert follower.execute(fixed) == leader.execute(fixed)
    assert leader.execute("SELECT randomblob(12)") != follower.execute("SELECT randomblob(12)")


def test_randomblob_is_seeded_per_node(tmp_path):
    a, a2 = node(tmp_path / "a.db", 1), node(tmp_path / "a2.db", 1)
    q = "SELECT randomblob(16), length(randomblob(0)), length(randomblob(5))"
    assert a.execute(q) == a2.execute(q)
    assert a.execute(q)[0][1:] == (1, 5)
    a.close()
    a2.close()


# --- physical ---------------------------------------------------------------------------


def _physical_pair(tmp_path: Path, follower_setup: str = "", page_size: int | None = None):
    leader = node(tmp_path / "leader.db", page_size=4096)
    leader.execute(SCHEMA)
    rep = PhysicalReplicator()
    rep.prepare(leader)
    path = tmp_path / "f.db"
    if page_size is None and not follower_setup:
        Snapshot(leader.path, path, lsn=0, method="pages").finish()
    else:
        dst = tmp_path / "plain.db"
        logical_copy(leader.conn, dst, page_size=page_size or 4096)
        import apsw

        if follower_setup:  # e.g. another text encoding: a fresh file, then the rows
            conn = apsw.Connection(str(path))
            conn.execute(follower_setup)
            conn.execute(SCHEMA)
            conn.close()
        else:
            path = dst
    return leader, rep, PhysicalFollower(path, name="f")


def test_wal_segments_hold_whole_committed_frames(tmp_path):
    leader, rep, f = _physical_pair(tmp_path)
    records = [rep.commit(leader, txn(f"INSERT INTO t VALUES ({i}, 'eu', {i}.5, NULL)"), i)
               for i in range(1, 30)]
    for r in records:
        assert (r.nbytes - 7 - 32) % (4096 + 24) == 0
        f.apply(r)
    assert f.path.read_bytes() == leader.conn.serialize("main")
    pd.testing.assert_frame_equal(f.tables(["t"])["t"], table_frame(leader.conn, "t"))
    leader.close()


def test_physical_apply_refuses_another_page_size(tmp_path):
    leader, rep, f = _physical_pair(tmp_path, page_size=8192)
    r = rep.commit(leader, txn("INSERT INTO t VALUES (1, 'eu', 1.0, NULL)"), 1)
    before = f.path.read_bytes()
    msg = ("f cannot apply the physical log: the page images were cut for page size 4096, "
           "0 reserved bytes, UTF-8, schema format 4, but the follower's file has page "
           "size 8192")
    with pytest.raises(PhysicalFormatError, match=re.escape(msg)):
        f.apply(r)
    assert f.path.read_bytes() == before  # nothing was written
    leader.close()


def test_physical_apply_refuses_another_text_encoding(tmp_path):
    leader, rep, f = _physical_pair(tmp_path, follower_setup="PRAGMA encoding='UTF-16le'")
    assert storage_format(f.path.read_bytes()[:100]).text_encoding == 2
    r = rep.commit(leader, txn("INSERT INTO t VALUES (1, 'eu', 1.0, NULL)"), 1)
    with pytest.raises(PhysicalFormatError, match="UTF-8.*UTF-16le"):
        f.apply(r)
    leader.close()


# --- logical: two consumers of the same changesets agree -----------------------------


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), workload=st.sampled_from(
    ["plain", "nondeterministic", "triggers"]))
def test_dataframe_cdc_and_sqlite_follower_agree_with_the_leader(tmp_path_factory, seed,
                                                                   workload):
    d = tmp_path_factory.mktemp("cdc")
    leader = node(d / "leader.db", seed)
    leader.execute(schema_sql(workload))
    Snapshot(leader.path, d / "snap.db", lsn=0).finish()
    rep = LogicalReplicator()
    sql = rep.follower(d / "snap.db", name="sql", rng=np.random.default_rng(1))
    frames = FrameFollower(d / "snap.db", name="cdc")
    txns = make_workload(workload, 15, clients=1, rng=np.random.default_rng(seed))
    for i, t in enumerate(txns, 1):
        r = rep.commit(leader, t, i)
        sql.apply(r)
        frames.apply(r)
    for table in ("customers", "orders", "audit"):
        want = table_frame(leader.conn, table)
        pd.testing.assert_frame_equal(frames.frame(table), want)
        pd.testing.assert_frame_equal(sql.tables([table])[table], want)
    sql.close()
    leader.close()


# --- trigger-based: conflict handlers and the row filter -----------------------------


def test_builtin_conflict_handlers():
    c = Conflict("t", "U", {"id": 1, "updated_at": "a"}, {"id": 1, "updated_at": "b"},
                 {"id": 1, "updated_at": "c"})
    assert leader_wins(c) == c.new
    assert follower_wins(c) == c.current
    assert latest()(c) == c.current  # "c" > "b": the follower's row is newer
    assert latest()(Conflict("t", "U", None, {"updated_at": "d"}, {"updated_at": "c"})) == {
        "updated_at": "d"}


def _trigger_pair(tmp_path: Path, handler=leader_wins, row_filter: str = ""):
    leader = node(tmp_path / "leader.db")
    leader.execute(SCHEMA + "INSERT INTO t VALUES (1, 'eu', 1.0, 'a'), (2, 'us', 2.0, 'a');")
    rep = TriggerReplicator(row_filter=row_filter)
    rep.prepare(leader)
    Snapshot(leader.path, tmp_path / "f.db", lsn=0).finish()
    f = rep.follower(tmp_path / "f.db", name="f", rng=np.random.default_rng(0))
    f.handler = handler
    return leader, rep, f


@pytest.mark.parametrize(("handler", "expected"), [
    (leader_wins, 10.0), (follower_wins, -1.0), (latest(), -1.0)])
def test_trigger_follower_settles_conflicts_with_its_handler(tmp_path, handler, expected):
    leader, rep, f = _trigger_pair(tmp_path, handler)
    f.local_write("UPDATE t SET v = -1.0, updated_at = 'z' WHERE id = 1")
    stats = f.apply(rep.commit(leader, txn("UPDATE t SET v = 10.0, updated_at = 'b' "
                                           "WHERE id = 1"), 1))
    assert stats.conflicts == 1
    assert f.tables(["t"])["t"].loc[1, "v"] == expected
    f.close()
    leader.close()


def test_custom_handler_sees_old_new_and_current(tmp_path):
    seen = []

    def merge(c: Conflict):
        seen.append(c)
        return {**c.new, "v": c.new["v"] + c.current["v"] - c.old["v"]}  # add both deltas

    leader, rep, f = _trigger_pair(tmp_path, merge)
    f.local_write("UPDATE t SET v = v + 5 WHERE id = 2")
    f.apply(rep.commit(leader, txn("UPDATE t SET v = v + 100 WHERE id = 2"), 1))
    assert f.tables(["t"])["t"].loc[2, "v"] == 107.0
    assert (seen[0].old["v"], seen[0].new["v"], seen[0].current["v"]) == (2.0, 102.0, 7.0)
    f.close()
    leader.close()


def test_row_filter_follows_rows_into_and_out_of_the_subset(tmp_path):
    leader, rep, f = _trigger_pair(tmp_path, row_filter="region = 'eu'")
    from replab.replog.trigger import keep_filtered

    keep_filtered(f.node.conn, ["t"], "region = 'eu'")
    steps = ["UPDATE t SET region = 'us' WHERE id = 1",  # leaves: deleted on the follower
             "UPDATE t SET region = 'eu' WHERE id = 2",  # enters: inserted
             "INSERT INTO t VALUES (3, 'us', 3.0, NULL)"]  # never replicated
    for i, sql in enumerate(steps, 1):
        f.apply(rep.commit(leader, txn(sql), i))
    assert f.tables(["t"])["t"].index.tolist() == [2]
    assert leader.execute("SELECT count(*) FROM _changelog") == [(0,)]  # purged
    f.close()
    leader.close()


# --- snapshot and diff -------------------------------------------------------------------


@pytest.mark.parametrize("method", ["backup", "pages"])
def test_snapshot_is_the_pinned_version_not_the_latest(tmp_path, method):
    leader = node(tmp_path / "leader.db")
    leader.execute(SCHEMA)
    for i in range(200):
        leader.execute(f"INSERT INTO t VALUES ({i}, 'eu', {i}, '{'x' * 300}')")
    snap = Snapshot(leader.path, tmp_path / "s.db", lsn=200, method=method)
    steps = 0
    while not snap.step():
        leader.execute(f"INSERT INTO t VALUES ({1000 + steps}, 'us', 0, 'y')")
        steps += 1
    path = snap.finish()
    assert steps > 1
    conn = __import__("apsw").Connection(str(path))
    assert conn.execute("SELECT count(*), max(id) FROM t").fetchall() == [(200, 199)]
    conn.close()
    leader.close()


keys = st.dictionaries(st.integers(0, 20), st.integers(0, 3), max_size=15)


@given(a=keys, b=keys)
def test_diff_tables_counts_missing_extra_changed(a, b):
    def frame(d):
        return pd.DataFrame({"id": list(d), "x": list(d.values())}, dtype=object).set_index("id")

    d = diff_tables({"t": frame(a)}, {"t": frame(b)}, name="f")
    counts = d["status"].value_counts()
    assert counts.get("missing", 0) == len(set(a) - set(b))
    assert counts.get("extra", 0) == len(set(b) - set(a))
    assert counts.get("changed", 0) == sum(a[k] != b[k] for k in set(a) & set(b))
    assert diff_tables({"t": frame(a)}, {"t": frame(a)}, name="f").empty


def test_log_record_is_immutable():
    r = LogRecord(1, 0, 0, b"", 0, 1)
    with pytest.raises(AttributeError):
        r.lsn = 2  # type: ignore[misc]


def test_statement_follower_rolls_back_a_transaction_that_fails_to_replay(tmp_path):
    from replab.replog import ApplyError, StatementReplicator

    leader = node(tmp_path / "leader.db")
    leader.execute(SCHEMA)
    Snapshot(leader.path, tmp_path / "f.db", lsn=0).finish()
    rep = StatementReplicator()
    f = rep.follower(tmp_path / "f.db", name="f", rng=np.random.default_rng(0))
    f.local_write("INSERT INTO t VALUES (2, 'us', 0, NULL)")
    r = rep.commit(leader, txn("INSERT INTO t VALUES (1, 'eu', 1, NULL)",
                               "INSERT INTO t VALUES (2, 'eu', 2, NULL)"), 1)
    with pytest.raises(ApplyError, match="f could not replay transaction 1: .*UNIQUE"):
        f.apply(r)
    assert f.tables(["t"])["t"].index.tolist() == [2]  # the whole transaction rolled back
    f.close()
    leader.close()


def test_failed_setup_releases_the_leader():
    import apsw

    from replab.errors import ConfigError
    from replab.replog import ReplogConfig, simulate_replog

    before = set(apsw.vfs_names())
    with pytest.raises(ConfigError):
        simulate_replog(ReplogConfig(kind="trigger", row_filter="nope = 1"), seed=0)
    assert set(apsw.vfs_names()) == before
