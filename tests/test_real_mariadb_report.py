"""The MariaDB lab's report functions on synthetic data (no server needed)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from replab.errors import HistoryError
from replab.history import History
from replab.real.mariadb.report import (
    divergence,
    function_divergence,
    lost_writes,
    positions_frame,
    reach,
    unsafe_reasons,
    writes_frame,
)
from replab.real.mariadb.server import _BLOCK, sparse_copy
from replab.real.mariadb.workload import next_txn, schema_sql


def _orders(**cols):
    return pd.DataFrame({"id": [1, 2], **cols}).set_index("id")


def test_function_divergence_names_the_column_and_counts_missing_rows():
    ref = {"orders": _orders(ref=["a", "b"], token=[0.1, 0.2]),
           "audit": pd.DataFrame({"id": [1], "ref": ["x"], "at": [1]}).set_index("id"),
           "customers": pd.DataFrame({"id": [1], "balance": [1], "updated_at": [0]}
                                     ).set_index("id")}
    rep = {"orders": _orders(ref=["a", "z"], token=[0.1, 0.2]),
           "audit": ref["audit"].iloc[:0], "customers": ref["customers"]}
    tables = {"db1": ref, "db2": rep}
    diff = divergence("db1", tables)
    assert diff[["table", "key", "status", "columns"]].values.tolist() == [
        ["orders", "2", "changed", "ref"], ["audit", "1", "missing", ""]]
    warnings = pd.DataFrame({"statement": ["UPDATE orders SET ref = UUID() WHERE id = "
                                           "LAST_INSERT_ID()"] * 2, "code": [1592, 1003]})
    per = function_divergence(diff, tables, "db1", warnings).set_index("source")
    assert per.loc["UUID()", "divergent_rows"] == 1 and per.loc["RAND()", "divergent_rows"] == 0
    assert per.loc["trigger: UUID()", "divergent_rows"] == 1  # the missing audit row
    assert per.loc["trigger: NOW()", "divergent_rows"] == 1
    assert per["unsafe_warnings"].to_dict() == {**dict.fromkeys(per.index, 0), "UUID()": 1}


def test_reach_judges_presence_by_gtid_domain_and_seq_no():
    writes = writes_frame([
        {"txn": 0, "client": 0, "server": "db1", "status": "ok", "gtid": "0-1-5"},
        {"txn": 1, "client": 0, "server": "db1", "status": "ok", "gtid": "0-1-6"},
        {"txn": 2, "client": 1, "server": "db2", "status": "ok", "gtid": "1-2-3"},
        {"txn": 3, "client": 1, "server": "db2", "status": "info", "gtid": None},
    ])
    final = {"db2": {0: (1, 5), 1: (2, 3)}, "db3": {0: (1, 6)}}
    got = reach(writes, final)
    assert got[["server", "origin", "acked_writes", "present", "missing"]].values.tolist() == [
        ["db2", "db1", 2, 1, 1], ["db2", "db2", 1, 1, 0],
        ["db3", "db1", 2, 2, 0], ["db3", "db2", 1, 0, 1]]
    assert lost_writes(writes, final, ["db2"]) == 1  # 0-1-6 is only on db3
    assert lost_writes(writes, final, ["db2", "db3"]) == 0


def test_positions_frame_is_one_row_per_server_and_domain():
    samples = [{"time_ms": 2.0, "server": "db2", "gtid_pos": "0-1-4,1-2-9",
                "semi_sync_on": True, "semi_sync_off_times": 0, "semi_sync_unacked_commits": 0},
               {"time_ms": 1.0, "server": "db1", "gtid_pos": "",
                "semi_sync_on": False, "semi_sync_off_times": 1, "semi_sync_unacked_commits": 7}]
    f = positions_frame(samples)
    assert f[["time_ms", "server", "domain", "seq_no"]].values.tolist() == [
        [1.0, "db1", 0, 0], [2.0, "db2", 0, 4], [2.0, "db2", 1, 9]]


def test_unsafe_reasons_strip_the_common_prefix():
    prefix = ("Unsafe statement written to the binary log using statement format since "
              "BINLOG_FORMAT = STATEMENT. ")
    w = pd.DataFrame({"txn": [0, 1, 2], "statement": ["INSERT INTO t (a) VALUES (1)",
                                                      "INSERT INTO t (a) VALUES ('x')",
                                                      "SELECT 1"], "level": "Note",
                      "code": [1592, 1592, 1003],
                      "message": [prefix + "Because UUID()."] * 2 + ["other"]})
    assert unsafe_reasons(w).values.tolist() == [
        ["INSERT INTO t (a) VALUES (?)", "Because UUID().", 2]]


def test_workload_is_a_function_of_the_seed_and_counters_use_literals():
    import numpy as np

    def draw(seed):
        rng = np.random.default_rng(seed)
        return [next_txn("counters", i, clients=3, origin_of=[1, 2, 3], keys=4, rng=rng)
                for i in range(20)]

    assert draw(5) == draw(5) and draw(5) != draw(6)
    assert all("@@" not in sql for t in draw(5) for sql in t.statements)
    assert any("TRIGGER" in s for s in schema_sql("nondeterministic", 1))


def test_nemesis_ops_round_trip_through_jsonl(tmp_path):
    h = History()
    h.record(1.0, "nemesis", "info", "crash", "db1", "SIGKILL")
    h.record(2.0, "nemesis", "info", "heal", None)  # Jepsen: a fault op may have no key
    h.to_jsonl(tmp_path / "h.jsonl")
    back = History.read_jsonl(tmp_path / "h.jsonl")
    assert [(op["f"], op.get("key")) for op in back] == [("crash", "db1"), ("heal", None)]
    with pytest.raises(HistoryError, match="line 1: 'f' must be one of read, write"):
        (tmp_path / "bad.jsonl").write_text(
            '{"time": 0, "process": 1, "type": "info", "f": "crash", "key": "x"}\n')
        History.read_jsonl(tmp_path / "bad.jsonl")


@given(st.lists(st.tuples(st.booleans(), st.integers(1, 3 * _BLOCK)), max_size=6))
@settings(max_examples=40, deadline=None)
def test_sparse_copy_keeps_every_byte(tmp_path_factory, pieces):
    """The datadir copy (holes for zero blocks) reads back byte for byte, whatever the
    mix of zero and data runs, block-aligned or not, and ends at the same size."""
    rng = np.random.default_rng(len(pieces))
    data = b"".join(bytes(n) if zero else rng.integers(1, 256, n, dtype=np.uint8).tobytes()
                    for zero, n in pieces)
    d = tmp_path_factory.mktemp("sparse")
    (d / "src").write_bytes(data)
    sparse_copy(str(d / "src"), str(d / "dst"))
    assert (d / "dst").read_bytes() == data


def test_sparse_copy_leaves_zero_pages_as_holes(tmp_path):
    """A preallocated InnoDB file (pages of zeros after a few written ones) takes far less
    disk in the copy (where the file system supports holes, as ext4 and tmpfs do)."""
    src = tmp_path / "ibdata1"
    src.write_bytes(b"\x01" * _BLOCK + bytes(64 * _BLOCK))
    sparse_copy(str(src), str(tmp_path / "copy"))
    assert (tmp_path / "copy").stat().st_size == 65 * _BLOCK
    assert (tmp_path / "copy").stat().st_blocks * 512 <= 4 * _BLOCK


def test_lab_datadirs_in_memory_only_when_thrown_away_and_roomy(monkeypatch):
    """/dev/shm only for a lab that is not kept, and only with a GiB free (a container's
    64 MB /dev/shm would fill up): otherwise the system's temporary folder (None)."""
    from replab.real.mariadb import server

    class Fs:
        f_frsize = 4096
        f_bavail = 0

    monkeypatch.setattr(server.os, "access", lambda path, mode: True)
    monkeypatch.setattr(server.os, "statvfs", lambda path: Fs)
    Fs.f_bavail = (1 << 30) // 4096
    assert server._parent(False) == "/dev/shm" and server._parent(True) is None
    Fs.f_bavail = (64 << 20) // 4096
    assert server._parent(False) is None
    monkeypatch.setattr(server.os, "access", lambda path, mode: False)
    Fs.f_bavail = (8 << 30) // 4096
    assert server._parent(False) is None
