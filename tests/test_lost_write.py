"""lost-write done right (issue 25): final reads by settle time, fault windows and marks,
real-time precedence, "not examined", and simulated histories held to the model's count."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from replab.checks import check_history, lost_write, results_frame
from replab.checks.staleness import DEFAULT_SETTLE_MS, NOT_EXAMINED
from replab.history import History
from tests.checks_oracle import linearizable_history, lost_oracle


def op(t: float, p: Any, typ: str, f: str, k: str, v: Any, **extra: Any) -> dict[str, Any]:
    return {"time": float(t), "process": p, "type": typ, "f": f, "key": k, "value": v, **extra}


def write(t0: float, t1: float, p: Any, k: str, v: Any, **extra: Any) -> list[dict]:
    return [op(t0, p, "invoke", "write", k, v), op(t1, p, "ok", "write", k, v, **extra)]


def read(t0: float, t1: float, p: Any, k: str, v: Any, **extra: Any) -> list[dict]:
    return [op(t0, p, "invoke", "read", k, None), op(t1, p, "ok", "read", k, v, **extra)]


def lw(ops: list[dict], **kw: Any) -> tuple[int, int]:
    res = lost_write(ops, **kw)
    return res.count, res.examined


def test_lagging_follower_reads_are_not_final_reads() -> None:
    # A primary acknowledges 1..5; a follower with a 200 ms apply delay then serves the
    # last reads: they show old values, but they are not final (issue 25: 15 false losses).
    ops = [x for i in range(5) for x in write(10 * i, 10 * i + 2, 0, "x", i + 1)]
    ops += read(100, 101, 1, "x", 2, node="standby") + read(150, 151, 1, "x", 3,
                                                            node="standby")
    res = lost_write(ops)
    assert (res.count, res.examined, res.note) == (0, 0, NOT_EXAMINED)
    # ... and once replication has settled, a final read (any node) shows 0 lost of 5.
    ops += read(42 + DEFAULT_SETTLE_MS, 1100, 1, "x", 5, node="standby")
    assert lw(ops) == (0, 5)
    assert lost_write(ops).note == ""


def test_settle_ms_is_measured_from_the_keys_last_write_completion() -> None:
    ops = write(0, 10, 0, "x", 1) + write(20, 30, 0, "x", 2)
    late = read(530, 531, 1, "x", 1)  # shows the older write: 2 is lost if this is final
    assert lw(ops + late, settle_ms=500) == (1, 2)  # invoked exactly 500 ms after: final
    assert lw(ops + late, settle_ms=500.5) == (0, 0)
    assert lost_write(ops + late, settle_ms=500.5).note == NOT_EXAMINED
    # a failed write still ends the key's activity; a write never completed never does
    failed = [op(40, 2, "invoke", "write", "x", 3), op(45, 2, "fail", "write", "x", 3)]
    assert lw(ops + failed + late, settle_ms=490) == (0, 0)
    pending = [op(40, 2, "invoke", "write", "x", 3)]
    assert lw(ops + pending + late, settle_ms=0) == (0, 0)


def test_a_fault_window_must_close_before_final_reads() -> None:
    ops = write(0, 10, 0, "x", 1) + write(20, 30, 0, "x", 2)
    stall = [op(35, "nemesis", "info", "stall", None, "standby")]
    resume = [op(400, "nemesis", "info", "resume", None, "standby")]
    late = read(600, 601, 1, "x", 1)
    assert lw(ops + stall + resume + late, settle_ms=300) == (0, 0)  # 600 < 400 + 300
    assert lw(ops + stall + resume + late, settle_ms=200) == (1, 2)
    assert lw(ops + stall + late, settle_ms=0) == (0, 0)  # never closed: never settled


def test_reads_marked_final_count_whenever_they_come() -> None:
    ops = write(0, 10, 0, "x", 1) + write(20, 30, 0, "x", 2)
    assert lw(ops + read(31, 32, 1, "x", 1, final=True)) == (1, 2)
    ops[-1].pop("time")  # no times at all: only marks make final reads
    assert lw(ops + read(31, 32, 1, "x", 2)) == (0, 0)


def test_jepsen_final_read_ops(tmp_path: Any) -> None:
    path = tmp_path / "history.edn"
    path.write_text(
        "{:type :invoke, :f :write, :value [:a 1], :process 0, :time 0, :index 0}\n"
        "{:type :ok, :f :write, :value [:a 1], :process 0, :time 1000000, :index 1}\n"
        "{:type :invoke, :f :write, :value [:a 2], :process 0, :time 2000000, :index 2}\n"
        "{:type :ok, :f :write, :value [:a 2], :process 0, :time 3000000, :index 3}\n"
        "{:type :invoke, :f :final-read, :value [:a nil], :process 1, :time 4000000, "
        ":index 4}\n"
        "{:type :ok, :f :final-read, :value [:a 1], :process 1, :time 5000000, :index 5}\n")
    h = History.read(path)
    assert [x["time"] for x in h][:2] == [0.0, 1.0]  # Jepsen's ns as ms
    assert h[5]["f"] == "read" and h[5]["final"] is True
    res = lost_write(h)
    assert (res.count, res.examined) == (1, 2)
    assert res.examples[0]["indices"] == [2, 3, 4, 5]


def test_precedence_for_loss_is_real_time() -> None:
    # LWW under skew: 2 is acknowledged after 1 completed, but with a lower timestamp the
    # store orders it first (version 1) and keeps 1: 2 is lost.
    ops = (write(0, 10, 0, "x", 1, version=2) + write(20, 30, 1, "x", 2, version=1)
           + read(40, 41, 2, "x", 1, version=2, final=True))
    assert lw(ops) == (1, 2)
    assert lost_write(ops).examples[0]["message"].startswith(
        "op 3 (process 1 wrote 2 to key 'x', version 1, ok) is lost")
    # Concurrent writes: the version decides. A final read of the one ordered last means
    # the first was overwritten, not lost; a final read of the first means the last is.
    conc = [op(0, 0, "invoke", "write", "x", 1), op(1, 1, "invoke", "write", "x", 2),
            op(2, 0, "ok", "write", "x", 1, version=1), op(3, 1, "ok", "write", "x", 2,
                                                            version=2)]
    assert lw(conc + read(5, 6, 2, "x", 2, final=True)) == (0, 2)
    assert lw(conc + read(5, 6, 2, "x", 1, final=True)) == (1, 2)  # 2 is lost: 1 won
    # without versions, overlapping writes stay unordered: neither is proven lost
    plain = [{k: v for k, v in x.items() if k != "version"} for x in conc]
    assert lw(plain + read(5, 6, 2, "x", 1, final=True)) == (0, 2)
    # a write after W in real time, even with a lower version, proves W was overwritten
    later = (write(0, 10, 0, "x", 1, version=5) + write(20, 30, 1, "x", 2, version=3)
             + read(40, 41, 2, "x", 2, final=True))
    assert lw(later) == (0, 2)  # 2 came after 1 (overwritten, not lost) and was read


def test_not_examined_is_unknown_not_zero() -> None:
    ops = write(0, 10, 0, "x", 1) + read(11, 12, 1, "x", None)
    res = check_history(ops)["lost-write"]
    assert res.note == NOT_EXAMINED
    assert res.to_dict() == {"count": None, "examined": 0, "rate": None, "examples": [],
                             "note": NOT_EXAMINED}
    row = results_frame({"lost-write": res}).iloc[0]
    assert row["count"] is pd_na() and row["rate"] != row["rate"]


def pd_na() -> Any:
    import pandas as pd

    return pd.NA


def test_a_history_of_only_failures_is_nothing_examined() -> None:
    ops = [op(0, 0, "invoke", "write", "x", 1), op(1, 0, "fail", "write", "x", 1),
           op(2, 1, "invoke", "read", "x", None), op(3, 1, "fail", "read", "x", None)]
    res = check_history(ops)
    assert all((r.count, r.examined, r.note) == (0, 0, "") for r in res.values())


def test_settle_ms_is_validated() -> None:
    with pytest.raises(ValueError, match=r"The 'settle_ms' parameter of check_history must "
                                         r"be a finite number in \[0, inf\)\. Got -1"):
        check_history([], settle_ms=-1)


@settings(max_examples=40, deadline=None)
@given(ops=linearizable_history(), settle=st.sampled_from([0.0, 1.0, 3.0, 8.0]),
       marks=st.lists(st.booleans(), max_size=60))
def test_final_reads_and_precedence_agree_with_the_oracle(ops: list[dict], settle: float,
                                                           marks: list[bool]) -> None:
    for x, mark in zip(ops, marks, strict=False):
        if mark and x["f"] == "read":
            x["final"] = True
    got = check_history(ops, ["lost-write"], settle_ms=settle)["lost-write"]
    assert (got.count, got.examined) == lost_oracle(ops, settle_ms=settle)
