"""Hand-built histories with known anomalies (and none) for every checker."""

from __future__ import annotations

import re

import pytest

from replab import History
from replab.checks import (
    CHECKS,
    CheckResult,
    check_history,
    consistent_prefix,
    lost_write,
    monotonic_reads,
    read_your_writes,
    results_frame,
    stale_read,
)
from replab.errors import ConfigError
from tests.checks_oracle import hist, oracle, r, seq, w


def counts(ops: list[dict]) -> dict[str, tuple[int, int]]:
    got = {name: (res.count, res.examined) for name, res in check_history(ops).items()}
    assert got == oracle(ops)  # every hand-built case also agrees with the oracle
    return got


def indices(res: CheckResult, i: int = 0) -> list[int]:
    return [op["index"] for op in res.examples[i]["ops"]]


# --------------------------------------------------------------------------- stale-read

def test_stale_read_null_after_completed_write() -> None:
    ops = hist(w(0, "x", 1), r(1, "x", None))
    res = stale_read(ops)
    assert (res.count, res.examined, res.rate) == (1, 1, 1.0)
    assert indices(res) == [1, 2, 3]
    assert res.examples[0]["message"] == (
        "process 1 read key 'x' and got null (not found), older than the write of 1 by "
        "process 0, which completed before the read was invoked")
    assert res.examples[0]["ops"][0] == {"index": 1, "time": 1.0, "process": 0,
                                         "type": "ok", "f": "write", "key": "x", "value": 1}


def test_stale_read_older_value_includes_the_returned_write() -> None:
    ops = hist(w(0, "x", 1), w(0, "x", 2), r(1, "x", 1))
    res = stale_read(ops)
    assert (res.count, res.examined) == (1, 1)
    assert indices(res) == [1, 3, 4, 5]


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
    assert "the write of \"a\" (version 2)" in res.examples[0]["message"]


def test_fail_and_info_reads_are_skipped() -> None:
    ops = hist(w(0, "x", 1), r(1, "x", None, type="fail"), r(1, "x", None, type="info"))
    assert counts(ops)["stale-read"] == (0, 0)


def test_failed_write_is_no_reference_and_its_value_is_unknown() -> None:
    ops = hist(w(0, "x", 1, type="fail"), r(1, "x", None), r(1, "x", 1))
    assert counts(ops)["stale-read"] == (0, 0)


def test_info_write_may_be_observed_but_is_not_judged() -> None:
    ops = hist(w(0, "x", 1), w(1, "x", 2, type="info"), r(2, "x", 2), r(2, "x", [1, 2]),
               r(3, "x", None))
    # Reading 2 (unknown place) is not judged; [1, 2] contains the newest known: fresh;
    # null is stale.
    assert counts(ops)["stale-read"] == (1, 2)


def test_value_never_written_is_not_judged() -> None:
    ops = hist(w(0, "x", 1), r(1, "x", 99))
    assert counts(ops)["stale-read"] == (0, 0)


def test_keys_are_independent() -> None:
    ops = hist(w(0, "x", 1), r(1, "y", None), r(1, "x", 1))
    assert counts(ops)["stale-read"] == (0, 1)


def test_unpaired_completion_is_its_own_invoke() -> None:
    ops = seq((0, "invoke", "write", "x", 1), (0, "ok", "write", "x", 1),
              (1, "ok", "read", "x", None))
    res = stale_read(ops)
    assert (res.count, res.examined) == (1, 1)
    assert indices(res) == [1, 2]


def test_interleaved_processes_pair_by_process() -> None:
    ops = seq((0, "invoke", "write", "x", 1), (1, "invoke", "read", "x", None),
              (2, "invoke", "read", "x", None), (0, "ok", "write", "x", 1),
              (1, "ok", "read", "x", None), (3, "invoke", "read", "x", None),
              (2, "ok", "read", "x", 1), (3, "ok", "read", "x", None))
    assert counts(ops)["stale-read"] == (1, 1)


# ----------------------------------------------------------------------- read-your-writes

def test_read_your_writes_violation_and_other_sessions() -> None:
    ops = hist(w(0, "x", 1), r(0, "x", None), r(1, "x", None))
    res = read_your_writes(ops)
    assert (res.count, res.examined) == (1, 1)  # process 1 never wrote: not examined
    assert indices(res) == [0, 1, 2, 3]
    assert res.examples[0]["message"].startswith(
        "process 0 read key 'x' and got null (not found), older than its own the write")
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


def test_session_that_never_writes_is_never_examined() -> None:
    ops = hist(w(0, "x", 1), r(1, "x", None), r(1, "x", 1), r(1, "x", None))
    assert counts(ops)["read-your-writes"] == (0, 0)


# ------------------------------------------------------------------------ monotonic-reads

def test_monotonic_reads_going_back() -> None:
    ops = hist(w(0, "x", 1), w(0, "x", 2), r(1, "x", 2), r(1, "x", 1), r(1, "x", None))
    res = monotonic_reads(ops)
    assert (res.count, res.examined) == (2, 2)
    assert indices(res) == [1, 3, 5, 6, 7]
    assert res.examples[0]["message"] == (
        "process 1 read key 'x' and got 1, older than the write of 2 by process 0, which "
        "it had already read")


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
        "process 'C' read key 'q' and got null (not found), older than the write of "
        "\"question\" by process 'A', which happened before the write of \"answer\" by "
        "process 'B' that process 'C' had already read")
    assert indices(res) == [4, 6, 7, 8, 9]


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


def test_consistent_prefix_through_siblings_and_info_writes() -> None:
    ops = hist([("A", "invoke", "write", "x", 1)], r("B", "x", 1),
               w("B", "y", "b", type="info"), w("E", "y", "e"),
               r("D", "y", ["e", "b"]), r("D", "x", None), [("A", "ok", "write", "x", 1)])
    assert counts(ops)["consistent-prefix"] == (1, 1)


def test_consistent_prefix_through_own_writes() -> None:
    # D read x, then wrote y: x happened before D's own write, so x is in its prefix.
    ops = hist(w("A", "x", 1), r("D", "x", 1), w("D", "y", 1), r("D", "x", None))
    got = counts(ops)
    assert got["consistent-prefix"] == (1, 1)
    assert got["monotonic-reads"] == (1, 1)
    res = consistent_prefix(ops)
    assert res.examples[0]["message"].endswith("that process 'D' had already written")


def test_reading_an_older_version_of_the_observed_write_itself_is_not_prefix() -> None:
    ops = hist(w("A", "x", 1), r("D", "x", 1), r("D", "x", None))
    got = counts(ops)
    assert got["consistent-prefix"] == (0, 0)
    assert got["monotonic-reads"] == (1, 1)


# ----------------------------------------------------------------------------- lost-write

def test_lost_write_final_read_shows_an_older_write() -> None:
    ops = hist(w(0, "x", 1), w(1, "x", 2), r(2, "x", 1))
    res = lost_write(ops)
    assert (res.count, res.examined) == (1, 2)
    assert indices(res) == [1, 2, 3, 4, 5]
    assert res.examples[0]["message"] == (
        "the write of 2 by process 1 to key 'x' was acknowledged, but the final read got 1, "
        "written before it was invoked")


def test_lost_write_concurrent_writes_may_end_either_way() -> None:
    ops = seq((0, "invoke", "write", "x", 1), (1, "invoke", "write", "x", 2),
              (1, "ok", "write", "x", 2), (0, "ok", "write", "x", 1),
              *r(2, "x", 2))
    assert counts(ops)["lost-write"] == (0, 2)


def test_lost_write_null_final_read_loses_everything() -> None:
    ops = hist(w(0, "x", 1), w(1, "x", 2), w(1, "x", 3, type="fail"), r(2, "x", None))
    res = lost_write(ops)
    assert (res.count, res.examined) == (2, 2)
    assert res.examples[0]["message"].endswith("but the final read found nothing")


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


def test_lost_write_uses_the_last_final_read_and_skips_junk() -> None:
    ops = hist(w(0, "x", 1), w(1, "x", 2), r(2, "x", 1), r(3, "x", 2))
    assert counts(ops)["lost-write"] == (0, 2)
    assert counts(hist(w(0, "x", 1), r(2, "x", "junk")))["lost-write"] == (0, 0)


# ------------------------------------------------------------------- anomaly-free + API

def test_anomaly_free_history_reports_zero_everywhere() -> None:
    ops = hist(w(0, "x", 1), r(1, "x", 1), r(0, "x", 1), w(1, "x", 2), r(0, "x", 2),
               r(1, "y", None), w(0, "y", "a"), r(1, "y", "a"), r(1, "x", 2))
    got = counts(ops)
    assert all(c == 0 for c, _ in got.values())
    assert all(e > 0 for _, e in got.values())


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
    ops = [{"time": 0, "process": 0, "type": "invoke", "f": "write", "key": "x"},
           {"time": 1, "process": 0, "type": "ok", "f": "write", "key": "x", "value": 5},
           {"time": 2, "process": 1, "type": "invoke", "f": "read", "key": "x"},
           {"time": 3, "process": 1, "type": "ok", "f": "read", "key": "x"}]
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
    assert d["examples"][0]["ops"][-1]["type"] == "ok"
    with pytest.raises(AttributeError):
        res["stale-read"].count = 3  # type: ignore[misc]
