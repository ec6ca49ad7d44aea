"""Property tests: linearizable histories are clean; injected anomalies are found;
the fast checkers agree with the brute-force oracle on arbitrary histories."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from replab import History
from replab.checks import check_history, stale_read
from tests.checks_oracle import (
    causal_history,
    linearizable_history,
    oracle,
    order_count,
    random_history,
)

#: the oracle enumerates every order of a key's writes; a history with more (a dozen
#: concurrent writes: 12! orders) would take hours, so such draws are set aside
MAX_ORDERS = 200_000


@settings(max_examples=150, deadline=None)
@given(linearizable_history())
def test_linearizable_history_has_no_violations(ops: list[dict[str, Any]]) -> None:
    res = check_history(ops, settle_ms=0)
    assert {name: r.count for name, r in res.items()} == dict.fromkeys(res, 0)


@settings(max_examples=100, deadline=None)
@given(linearizable_history())
def test_linearizable_history_agrees_with_the_oracle(ops: list[dict[str, Any]]) -> None:
    assume(order_count(ops) <= MAX_ORDERS)
    res = check_history(ops, settle_ms=0)
    assert {name: (r.count, r.examined) for name, r in res.items()} == oracle(ops)


@settings(max_examples=100, deadline=None)
@given(linearizable_history(), st.data())
def test_injected_stale_read_is_detected(ops: list[dict[str, Any]], data: Any) -> None:
    done = [i for i, op in enumerate(ops) if op["type"] == "ok" and op["f"] == "write"]
    if not done:
        ops = ops + [{"time": 1e6, "process": "w", "type": "invoke", "f": "write",
                      "key": "x", "value": "first"},
                     {"time": 1e6, "process": "w", "type": "ok", "f": "write", "key": "x",
                      "value": "first", "version": 10**6}]
        done = [len(ops) - 1]
    first = data.draw(st.sampled_from(done), label="after write")
    at = data.draw(st.integers(first + 1, len(ops)), label="insert at")
    key = ops[first]["key"]
    t = ops[at - 1]["time"]
    stale = [{"time": t, "process": "injected", "type": "invoke", "f": "read", "key": key,
              "value": None},
             {"time": t, "process": "injected", "type": "ok", "f": "read", "key": key,
              "value": None}]
    assert stale_read(ops).count == 0
    res = stale_read(ops[:at] + stale + ops[at:])
    assert res.count == 1
    assert [op["process"] for op in res.examples[0]["ops"]].count("injected") == 2


@settings(max_examples=600, deadline=None)
@given(random_history())
def test_checkers_agree_with_the_oracle(ops: list[dict[str, Any]]) -> None:
    assume(order_count(ops) <= MAX_ORDERS)
    res = check_history(ops, settle_ms=0)
    assert {name: (r.count, r.examined) for name, r in res.items()} == oracle(ops)
    for r in res.values():
        assert r.rate == (r.count / r.examined if r.examined else 0.0)
        assert len(r.examples) == min(r.count, 5)


@settings(max_examples=400, deadline=None)
@given(causal_history())
def test_consistent_prefix_agrees_with_the_oracle(ops: list[dict[str, Any]]) -> None:
    assume(order_count(ops) <= MAX_ORDERS)
    res = check_history(ops, settle_ms=0)
    assert {name: (r.count, r.examined) for name, r in res.items()} == oracle(ops)


@settings(max_examples=30, deadline=None)
@given(random_history())
def test_jsonl_round_trip_gives_the_same_results(ops: list[dict[str, Any]]) -> None:
    h = History(ops)
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "h.jsonl"
        h.to_jsonl(path)
        again = History.read_jsonl(path)
    assert check_history(again) == check_history(h)

