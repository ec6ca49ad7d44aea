"""Hand-built histories with known anomalies (and none) for every checker."""

from __future__ import annotations

import re

import pytest

from replab import History
from replab.checks import (
    CHECKS,
    CheckResult,
    check_history,
    check_report,
    consistent_prefix,
    lost_write,
    monotonic_reads,
    read_your_writes,
    results_frame,
    stale_read,
)
from replab.errors import ConfigError, HistoryError
from tests.checks_oracle import cas, hist, oracle, r, seq, w


def counts(ops: list[dict]) -> dict[str, tuple[int, int]]:
    got = {name: (res.count, res.examined)
           for name, res in check_history(ops, settle_ms=0).items()}
    assert got == oracle(ops)  # every hand-built case also agrees with the oracle
    return got


def indices(res: CheckResult, i: int = 0) -> list[int]:
    return res.examples[i]["indices"]


# --------------------------------------------------------------------------- stale-read

def test_stale_read_null_after_completed_write() -> None:
    ops = hist(w(0, "x", 1), r(1, "x", None))
    res = stale_read(ops)
    assert (res.count, res.examined, res.rate) == (1, 1, 1.0)
    assert indices(res) == [0, 1, 2, 3]
    assert res.examples[0]["message"] == (
        "op 3 (process 1 read key 'x' and got null (not found)) is stale: op 1 (process 0 "
        "wrote 1 to key 'x', ok) completed before it was invoked and follows every write "
        "that could have given its value")
    assert res.examples[0]["ops"][1] == {"index": 1, "time": 1.0, "process": 0,
                                         "type": "ok", "f": "write", "key": "x", "value": 1}


def test_stale_read_older_value() -> None:
    ops = hist(w(0, "x", 1), w(0, "x", 2), r(1, "x", 1))
    res = stale_read(ops)
    assert (res.count, res.examined) == (1, 1)
    assert indices(res) == [2, 3, 4, 5]


def test_fresh_reads_are_examined_not_flagged() -> None:
    ops = hist(w(0, "x", 1), r(1, "x", 1), w(1, "x", 2), r(0, "x", 2), r(0, "x", 2))
    assert counts(ops)["stale-read"] == (0, 3)


def test_concurrent_write_is_not_a_reference() -> None:
    # The write completes after the read is invoked: null is a legal answer.
    ops = seq((0, "invoke", "write", "x", 1), (1, "invoke", "read", "x", None),
              (0, "ok", "write", "x", 1), (1, "ok", "read", "x", None))
    assert counts(ops)["stale-read"] == (0, 0)


def test_siblings_are_stale_only_if_none_is_new_enough() -> None:
    ops = hist(w(0, "x", "a"), w(1, "x", "b"), r(2, "x", ["a", "b"]), r(2, "x", ["b"]),
               r(3, "x", ["a"]))
    res = stale_read(ops)
    assert (res.count, res.examined) == (1, 3)
    assert res.examples[0]["ops"][-1]["value"] == ["a"]


def test_versions_override_completion_order() -> None:
    # 'a' completes first but carries the higher version: reading 'a' is fresh.
    ops = hist(w(0, "x", "a", version=2), w(1, "x", "b", version=1), r(2, "x", "a"),
               r(2, "x", "b"))
    res = stale_read(ops)
    assert (res.count, res.examined) == (1, 2)
    assert "op 1 (process 0 wrote \"a\" to key 'x', version 2, ok)" in res.examples[0]["message"]


def test_fail_and_info_reads_are_skipped() -> None:
    ops = hist(w(0, "x", 1), r(1, "x", None, type="fail"), r(1, "x", None, type="info"))
    assert counts(ops)["stale-read"] == (0, 0)


def test_failed_write_never_takes_effect() -> None:
    ops = hist(w(0, "x", 1, type="fail"), r(1, "x", None), r(1, "x", 1))
    got = counts(ops)
    assert got["stale-read"] == (0, 0)  # no reference; reading 1 is reading junk
    assert got["lost-write"] == (0, 0)


def test_info_write_may_be_observed_and_is_never_superseded_by_itself() -> None:
    ops = hist(w(0, "x", 1), w(1, "x", 2, type="info"), r(2, "x", 2), r(2, "x", [1, 2]),
               r(3, "x", None))
    # 2 may have taken effect at any time after its invoke: fresh; null is stale.
    assert counts(ops)["stale-read"] == (1, 3)


def test_value_never_written_is_not_judged() -> None:
    ops = hist(w(0, "x", 1), r(1, "x", 99))
    assert counts(ops)["stale-read"] == (0, 0)


def test_keys_are_independent() -> None:
    ops = hist(w(0, "x", 1), r(1, "y", None), r(1, "x", 1))
    assert counts(ops)["stale-read"] == (0, 1)


def test_interleaved_processes_pair_by_process() -> None:
    ops = seq((0, "invoke", "write", "x", 1), (1, "invoke", "read", "x", None),
              (2, "invoke", "read", "x", None), (0, "ok", "write", "x", 1),
              (1, "ok", "read", "x", None), (3, "invoke", "read", "x", None),
              (2, "ok", "read", "x", 1), (3, "ok", "read", "x", None))
    assert counts(ops)["stale-read"] == (1, 1)


def test_read_carrying_a_version_is_settled_by_it() -> None:
    # Two writes of 1; the read says it saw version 1, the older one: stale.
    ops = hist(w(0, "x", 1, version=1), w(0, "x", 2, version=2), w(0, "x", 1, version=3),
               r(1, "x", 1, version=1), r(1, "x", 1))
    assert counts(ops)["stale-read"] == (1, 2)


# ----------------------------------------------------------------------------- pairing

@pytest.mark.parametrize("ops, message", [
    (seq((0, "invoke", "write", "x", 1), (0, "ok", "read", "x", 1)),
     "operation 1: process 0 completes a read of key 'x' but its pending invoke "
     "(operation 0) is a write of key 'x'"),
    (seq((0, "invoke", "write", "x", 1), (0, "ok", "write", "y", 1)),
     "operation 1: process 0 completes a write of key 'y' but its pending invoke "
     "(operation 0) is a write of key 'x'"),
    (seq((1, "ok", "read", "x", None)),
     "operation 0: process 1 completes a read of key 'x' (ok) but has no pending invoke"),
    (seq((0, "invoke", "read", "x", None), (0, "invoke", "read", "x", None)),
     "operation 1: process 0 invokes a read while its read invoked at operation 0 is "
     "still pending"),
])
def test_a_completion_must_match_its_pending_invoke(ops: list[dict], message: str) -> None:
    with pytest.raises(HistoryError, match="^" + re.escape(message) + "$"):
        check_history(ops)


def test_an_invoke_never_completed_is_like_info() -> None:
    ops = hist(w(0, "x", 1), [(1, "invoke", "write", "x", 2)], r(2, "x", 2), r(2, "x", 1))
    got = counts(ops)
    assert got["stale-read"] == (0, 2)  # 2 may have taken effect; 1 is the newest ok write
    assert got["monotonic-reads"] == (1, 1)  # but 1 precedes 2, which was already read


# ----------------------------------------------------------------------------------- cas

def test_ok_cas_reads_old_and_writes_new() -> None:
    ops = hist(w(0, "x", 1), cas(1, "x", 1, 2), r(2, "x", 2), r(2, "x", 1))
    got = counts(ops)
    assert got["stale-read"] == (1, 3)  # the cas read 1 (fresh); the last read is stale
    assert got["monotonic-reads"] == (1, 1)


def test_failed_cas_has_no_effect_and_info_cas_is_an_info_write() -> None:
    ops = hist(w(0, "x", 1), cas(1, "x", 5, 2, type="fail"), cas(1, "x", 1, 3, type="info"),
               r(2, "x", 3), r(2, "x", 2))
    got = counts(ops)
    assert got["stale-read"] == (0, 1)  # 3 may have happened; 2 was never written


def test_cas_that_read_a_stale_value() -> None:
    ops = hist(w(0, "x", 1), w(0, "x", 2), cas(1, "x", 1, 3))
    res = stale_read(ops)
    assert res.count == 1
    assert "compared-and-set key 'x', finding 1" in res.examples[0]["message"]


# ----------------------------------------------------------------------- read-your-writes

def test_read_your_writes_violation_and_other_sessions() -> None:
    ops = hist(w(0, "x", 1), r(0, "x", None), r(1, "x", None))
    res = read_your_writes(ops)
    assert (res.count, res.examined) == (1, 1)  # process 1 never wrote: not examined
    assert indices(res) == [0, 1, 2, 3]
    assert res.examples[0]["message"] == (
        "op 3 (process 0 read key 'x' and got null (not found)) misses its own op 1 "
        "(process 0 wrote 1 to key 'x', ok), which completed before it was invoked and "
        "follows every write that could have given its value")
    assert stale_read(ops).count == 2


def test_read_your_writes_only_own_writes_count() -> None:
    ops = hist(w(0, "x", 1), w(1, "x", 2), r(0, "x", 1))
    got = counts(ops)
    assert got["read-your-writes"] == (0, 1)
    assert got["stale-read"] == (1, 1)


def test_read_your_writes_ignores_own_info_and_failed_writes() -> None:
    ops = hist(w(0, "x", 1, type="info"), w(0, "y", 1, type="fail"), r(0, "x", None),
               r(0, "y", None))
    assert counts(ops)["read-your-writes"] == (0, 0)


def test_cross_device_read_your_writes() -> None:
    ops = hist(w("phone", "x", 1), r("laptop", "x", None))
    assert read_your_writes(ops).count == 0
    res = read_your_writes(ops, user_of={"phone": "ann", "laptop": "ann"})
    assert (res.name, res.count, res.examined) == ("cross-device-read-your-writes", 1, 1)
    assert "misses its user's op 1" in res.examples[0]["message"]


# ------------------------------------------------------------------------ monotonic-reads

def test_monotonic_reads_going_back() -> None:
    ops = hist(w(0, "x", 1), w(0, "x", 2), r(1, "x", 2), r(1, "x", 1), r(1, "x", None))
    res = monotonic_reads(ops)
    assert (res.count, res.examined) == (2, 2)
    assert indices(res) == [4, 5, 6, 7]
    assert res.examples[0]["message"] == (
        "op 7 (process 1 read key 'x' and got 1) goes back in time: the same process had "
        "read op 5 (process 1 read key 'x' and got 2), and every write that could have given "
        "the later value precedes every write that could have given the earlier one")


def test_monotonic_reads_after_null_or_failed_read_constrains_nothing() -> None:
    ops = hist(w(0, "x", 1), r(1, "x", None), r(1, "x", 1), r(1, "x", 1),
               r(2, "x", 1, type="fail"), r(2, "x", None))
    assert counts(ops)["monotonic-reads"] == (0, 1)  # only the second read of 1


def test_monotonic_reads_with_siblings() -> None:
    ops = hist(w(0, "x", "a"), w(1, "x", "b"), r(2, "x", ["a", "b"]), r(2, "x", ["b"]),
               r(2, "x", ["a"]))
    assert counts(ops)["monotonic-reads"] == (1, 2)


def test_monotonic_reads_are_per_session_and_key() -> None:
    ops = hist(w(0, "x", 1), w(0, "x", 2), r(1, "x", 2), r(2, "x", 1), r(1, "y", None))
    assert counts(ops)["monotonic-reads"] == (0, 0)


# ---------------------------------------------------------------------- consistent-prefix

def question_answer(final: object) -> list[dict]:
    """A asks (in flight), B reads the question and answers, C sees the answer first."""
    return hist(
        [("A", "invoke", "write", "q", "question")],
        r("B", "q", "question"),
        w("B", "a", "answer"),
        r("C", "a", "answer"),
        r("C", "q", final),
        [("A", "ok", "write", "q", "question")],
    )


def test_consistent_prefix_answer_before_question() -> None:
    ops = question_answer(None)
    got = counts(ops)
    assert got["consistent-prefix"] == (1, 1)
    # The question was still in flight: no other checker sees anything.
    assert got["stale-read"] == (0, 1)  # only C's (fresh) read of the answer
    assert got["monotonic-reads"] == got["read-your-writes"] == (0, 0)
    res = consistent_prefix(ops)
    assert res.examples[0]["message"] == (
        "op 8 (process 'C' read key 'q' and got null (not found)) breaks consistent prefix: "
        "the same process had read op 4 (process 'B' wrote \"answer\" to key 'a', ok) in op "
        "6, which causally depends on op 9 (process 'A' wrote \"question\" to key 'q', ok), "
        "and every write that could have given the value read precedes that write")
    assert indices(res) == [0, 3, 4, 5, 6, 7, 8, 9]


def test_consistent_prefix_holds_when_the_question_is_seen() -> None:
    assert counts(question_answer("question"))["consistent-prefix"] == (0, 1)


def test_no_causal_link_no_consistent_prefix_violation() -> None:
    # B answers without having read the question: nothing orders them.
    ops = hist([("A", "invoke", "write", "q", "question")], w("B", "a", "answer"),
               r("C", "a", "answer"), r("C", "q", None), [("A", "ok", "write", "q", "question")])
    assert counts(ops)["consistent-prefix"] == (0, 0)


def test_consistent_prefix_is_transitive() -> None:
    ops = hist([("A", "invoke", "write", "x", 1)], r("B", "x", 1), w("B", "y", 1),
               r("C", "y", 1), w("C", "z", 1), r("D", "z", 1), r("D", "x", None),
               [("A", "ok", "write", "x", 1)])
    assert counts(ops)["consistent-prefix"] == (1, 1)


def test_consistent_prefix_through_siblings_and_observed_info_writes() -> None:
    ops = hist([("A", "invoke", "write", "x", 1)], r("B", "x", 1),
               w("B", "y", "b", type="info"), w("E", "y", "e"),
               r("D", "y", ["e", "b"]), r("D", "x", None), [("A", "ok", "write", "x", 1)])
    assert counts(ops)["consistent-prefix"] == (1, 1)


def test_consistent_prefix_needs_a_certain_reads_from() -> None:
    # B read 1, but two writes wrote 1: which one B saw is unknown, so nothing follows.
    ops = hist([("A", "invoke", "write", "x", 1)], w("E", "x", 1), r("B", "x", 1),
               w("B", "y", 1), r("C", "y", 1), r("C", "x", None),
               [("A", "ok", "write", "x", 1)])
    assert counts(ops)["consistent-prefix"] == (0, 0)


# ----------------------------------------------------------------------------- lost-write

def test_lost_write_final_read_shows_an_older_write() -> None:
    ops = hist(w(0, "x", 1), w(1, "x", 2), r(2, "x", 1))
    res = lost_write(ops, settle_ms=0)
    assert (res.count, res.examined) == (1, 2)
    assert indices(res) == [2, 3, 4, 5]
    assert res.examples[0]["message"] == (
        "op 3 (process 1 wrote 2 to key 'x', ok) is lost: every final read of the key (op 5) "
        "returned a value only writes preceding it could have written")


def test_lost_write_concurrent_writes_may_end_either_way() -> None:
    ops = seq((0, "invoke", "write", "x", 1), (1, "invoke", "write", "x", 2),
              (1, "ok", "write", "x", 2), (0, "ok", "write", "x", 1),
              *r(2, "x", 2))
    assert counts(ops)["lost-write"] == (0, 2)


def test_lost_write_null_final_read_loses_everything() -> None:
    ops = hist(w(0, "x", 1), w(1, "x", 2), w(1, "x", 3, type="fail"), r(2, "x", None))
    res = lost_write(ops, settle_ms=0)
    assert (res.count, res.examined) == (2, 2)


def test_lost_write_siblings_and_info_values_clear_writes() -> None:
    assert counts(hist(w(0, "x", 1), w(1, "x", 2), r(2, "x", [1, 2])))["lost-write"] == (0, 2)
    ops = hist(w(0, "x", 1), w(1, "x", 2), w(1, "x", 3, type="info"), r(2, "x", 3))
    assert counts(ops)["lost-write"] == (0, 2)


def test_lost_write_needs_a_final_read_after_every_write() -> None:
    ops = seq(*r(2, "x", None), *w(0, "x", 1))
    assert counts(ops)["lost-write"] == (0, 0)
    ops = seq(*w(0, "x", 1), (2, "invoke", "read", "x", None),
              (1, "invoke", "write", "x", 2), (2, "ok", "read", "x", None),
              (1, "info", "write", "x", 2))
    assert counts(ops)["lost-write"] == (0, 0)


def test_lost_write_skips_keys_with_a_junk_final_read() -> None:
    assert counts(hist(w(0, "x", 1), r(2, "x", "junk")))["lost-write"] == (0, 0)


# ------------------------------------------------------------------- anomaly-free + API

def test_anomaly_free_history_reports_zero_everywhere() -> None:
    ops = hist(w(0, "x", 1), r(1, "x", 1), r(0, "x", 1), w(1, "x", 2), r(0, "x", 2),
               r(1, "y", None), w(0, "y", "a"), r(1, "y", "a"), r(1, "x", 2))
    got = counts(ops)
    assert all(c == 0 for c, _ in got.values())
    assert all(e > 0 for name, (_, e) in got.items() if name != "consistent-prefix")


def test_empty_history_has_no_violations() -> None:
    res = check_history(History())
    assert list(res) == list(CHECKS) == ["stale-read", "read-your-writes", "monotonic-reads",
                                         "consistent-prefix", "lost-write"]
    for name, out in res.items():
        assert out == CheckResult(name=name, count=0, examined=0, rate=0.0, examples=())


def test_examples_are_capped_at_five() -> None:
    ops = hist(w(0, "x", 1), *(r(1, "x", None) for _ in range(7)))
    res = stale_read(ops)
    assert (res.count, len(res.examples)) == (7, 5)


def test_int_keys_and_string_processes_from_history() -> None:
    h = History(hist(w("client-a", 7, 1), r("client-b", 7, None)))
    assert stale_read(h).count == 1
    assert stale_read(h).examples[0]["ops"][0]["key"] == "7"


def test_missing_optional_fields_are_fine() -> None:
    ops = [{"process": 0, "type": "invoke", "f": "write", "key": "x"},
           {"process": 0, "type": "ok", "f": "write", "key": "x", "value": 5},
           {"process": 1, "type": "invoke", "f": "read", "key": "x"},
           {"process": 1, "type": "ok", "f": "read", "key": "x"}]
    assert stale_read(ops).count == 1


def test_check_history_subset_and_bad_name() -> None:
    res = check_history([], names=["lost-write", "stale-read"])
    assert list(res) == ["lost-write", "stale-read"]
    with pytest.raises(ConfigError, match=re.escape(
            "The 'names' parameter of check_history must be one of 'stale-read', "
            "'read-your-writes', 'monotonic-reads', 'consistent-prefix', 'lost-write'. "
            "Got 'stale' instead.")):
        check_history([], names=["stale"])


def test_results_frame_and_to_dict() -> None:
    res = check_history(hist(w(0, "x", 1), r(1, "x", None), r(1, "x", 1)))
    df = results_frame(res)
    assert list(df.columns) == ["check", "count", "examined", "rate", "ci_low", "ci_high"]
    row = df.set_index("check").loc["stale-read"]
    assert (row["count"], row["examined"], row["rate"]) == (1, 2, 0.5)
    assert 0 < row["ci_low"] < 0.5 < row["ci_high"] < 1
    d = res["stale-read"].to_dict()
    assert list(d) == ["count", "examined", "rate", "examples"]
    assert list(d["examples"][0]) == ["message", "indices", "ops"]
    with pytest.raises(AttributeError):
        res["stale-read"].count = 3  # type: ignore[misc]


def test_report_counts_reads_flagged_more_than_once() -> None:
    # Process 0's null read is stale and misses its own write: one read, two checks.
    ops = hist(w(0, "x", 1), r(0, "x", None), r(1, "x", None))
    results, summary = check_report(ops)
    assert results["stale-read"].count == 2
    assert results["read-your-writes"].count == 1
    assert summary["reads_flagged_more_than_once"] == 1
    assert summary["client_reads"] == 2 and summary["client_writes"] == 1
