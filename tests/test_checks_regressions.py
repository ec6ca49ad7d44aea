"""Every case of issue 16's "What goes wrong today", with its right answer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from replab.checks import check_history, check_report
from replab.cli import main
from replab.errors import HistoryError
from tests.checks_oracle import hist, oracle, r, seq, w

READ_CHECKS = ("stale-read", "read-your-writes", "monotonic-reads")


def counts(ops: list[dict[str, Any]]) -> dict[str, int]:
    got = check_history(ops, settle_ms=0)
    assert {n: (x.count, x.examined) for n, x in got.items()} == oracle(ops)
    return {n: x.count for n, x in got.items()}


def test_1_repeated_values_are_not_mapped_to_the_first_write() -> None:
    # x=1, x=2, x=1 by one process; another process then reads 1: the third write.
    ops = hist(w(0, "x", 1), w(0, "x", 2), w(0, "x", 1), r(1, "x", 1))
    assert counts(ops) == dict.fromkeys(counts(ops), 0)
    assert check_history(ops, settle_ms=0)["lost-write"].examined == 3


def test_2_overlapping_writes_without_version_stay_unordered() -> None:
    ops = seq((0, "invoke", "write", "x", 1), (1, "invoke", "write", "x", 2),
              (1, "ok", "write", "x", 2), (0, "ok", "write", "x", 1), *r(2, "x", 2))
    assert counts(ops)["stale-read"] == 0
    assert check_history(ops)["stale-read"].examined == 1


@st.composite
def lagging_replica_history(draw: Any) -> list[dict[str, Any]]:
    """A primary that applies each write inside its interval (versions in that order) and
    replicas that serve reads some versions behind: what a PostgreSQL primary with a hot
    standby records. Writes overlap; values repeat."""
    nproc = draw(st.integers(2, 4))
    log: list[tuple[Any, int]] = []  # (value, version) in apply order
    pending: dict[int, dict[str, Any]] = {}
    ops: list[dict[str, Any]] = []
    for _ in range(draw(st.integers(0, 40))):
        p = draw(st.integers(0, nproc - 1))
        op = pending.get(p)
        if op is None:
            f = draw(st.sampled_from(["read", "write"]))
            value = draw(st.integers(0, 3)) if f == "write" else None
            pending[p] = {"f": f, "value": value, "version": None}
            ops.append({"process": p, "type": "invoke", "f": f, "key": "x", "value": value})
        elif op["f"] == "write" and op["version"] is None:
            log.append((op["value"], len(log) + 1))
            op["version"] = len(log)
        else:
            del pending[p]
            done = {"process": p, "type": "ok", "f": op["f"], "key": "x",
                    "value": op["value"]}
            if op["f"] == "write":
                done["version"] = op["version"]
            else:
                lag = draw(st.integers(0, 3))
                seen = log[:max(len(log) - lag, 0)]
                done["value"], done["version"] = seen[-1] if seen else (None, None)
                if done["version"] is None:
                    del done["version"]
            ops.append(done)
    return [dict(op, time=float(i)) for i, op in enumerate(ops)]


def _strip_versions(ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in op.items() if k != "version"} for op in ops]


@settings(max_examples=150, deadline=None)
@given(lagging_replica_history())
def test_2_without_versions_no_check_counts_more_than_versions_prove(ops: list[dict]) -> None:
    with_versions = check_history(ops)
    without = check_history(_strip_versions(ops))
    for name in READ_CHECKS:
        assert without[name].count <= with_versions[name].count


def test_3_lost_write_does_not_depend_on_the_node_of_the_last_read() -> None:
    # Final reads: the primary shows 2, then a lagging follower shows 1 (read last).
    ops = seq(*w(0, "x", 1), *w(0, "x", 2), (1, "invoke", "read", "x", None),
              (2, "invoke", "read", "x", None), (1, "ok", "read", "x", 2),
              (2, "ok", "read", "x", 1))
    ops[-2]["node"], ops[-1]["node"] = "primary", "follower"
    res = check_history(ops, settle_ms=0)["lost-write"]
    assert (res.count, res.examined) == (0, 2)
    assert counts(ops)["lost-write"] == 0


def test_4_a_completion_must_match_its_pending_invoke(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    ops = seq((0, "invoke", "write", "x", 1), (0, "ok", "read", "x", 1), *r(1, "x", 5))
    with pytest.raises(HistoryError, match="^operation 1: process 0 completes a read"):
        check_history(ops)
    path = tmp_path / "h.jsonl"
    path.write_text('{"process": 0, "type": "invoke", "f": "write", "key": "x", "value": 1}\n'
                    '{"process": 0, "type": "ok", "f": "read", "key": "x", "value": 1}\n')
    assert main(["check", str(path)]) == 2
    assert capsys.readouterr().err == (
        "replab check: error: line 2: process 0 completes a read of key 'x' but its pending "
        "invoke (line 1) is a write of key 'x'\n")


def test_5_consistent_prefix_leaves_own_session_failures_to_their_checks() -> None:
    # D read x=1, wrote y, then read x as null: monotonic-reads, not consistent-prefix.
    ops = hist(w("A", "x", 1), r("D", "x", 1), w("D", "y", 1), r("D", "x", None))
    got = counts(ops)
    assert (got["monotonic-reads"], got["consistent-prefix"]) == (1, 0)
    # C read B's answer, which depends on A's question, then missed the question; C had also
    # read the question itself before: monotonic-reads reports it, consistent-prefix not.
    ops = hist(w("A", "q", 1), r("C", "q", 1), r("B", "q", 1), w("B", "a", 1), r("C", "a", 1),
               r("C", "q", None))
    got = counts(ops)
    assert (got["monotonic-reads"], got["consistent-prefix"], got["stale-read"]) == (1, 0, 1)
    assert check_report(ops)[1]["reads_flagged_more_than_once"] == 1
