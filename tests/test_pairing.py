"""The shared helpers the models use: history pairing and percentiles."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from replab.history import PAIR_COLUMNS, History, pair_operations
from replab.stats import percentile


def reference_pairs(history: History) -> list[tuple]:
    """The loop the models used to repeat: an invoke, then its process's next op."""
    ops = list(history)
    rows = []
    for i, op in enumerate(ops):
        if op["type"] != "invoke":
            continue
        nxt = next((o for o in ops[i + 1:] if o["process"] == op["process"]), None)
        done = nxt is not None and nxt["type"] != "invoke"
        end = nxt["time"] if done else math.inf
        rows.append((op["process"], op["f"], op["key"], op["value"],
                     nxt["type"] if done else "none", op["time"], end, end - op["time"]))
    return rows


event = st.tuples(st.integers(0, 2), st.sampled_from(["invoke", "ok", "fail", "info"]),
                  st.sampled_from(["read", "write"]), st.integers(0, 3),
                  st.floats(0.0, 5.0))


@settings(max_examples=80, deadline=None)
@given(st.lists(event, max_size=25))
def test_pairing_matches_the_reference_loop(events):
    h = History()
    t = 0.0
    for process, typ, f, value, dt in events:
        t += dt
        h.record(time=t, process=process, type=typ, f=f, key=f"k{value % 2}", value=value)
    got = pair_operations(h)
    assert list(got.columns) == PAIR_COLUMNS
    assert [tuple(r) for r in got.itertuples(index=False)] == reference_pairs(h)


def test_pairing_an_empty_history():
    assert list(pair_operations(History()).columns) == PAIR_COLUMNS


def test_an_operation_that_never_completes_has_infinite_latency():
    h = History()
    h.record(time=1.0, process="c0", type="invoke", f="write", key="x", value=7)
    h.record(time=2.0, process="c1", type="invoke", f="read", key="x")
    h.record(time=4.0, process="c1", type="fail", f="read", key="x")
    got = pair_operations(h)
    assert got["type"].tolist() == ["none", "fail"]
    assert got["latency_ms"].tolist() == [math.inf, 2.0]
    assert got["value"].tolist() == [7, None]


@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=30), st.floats(0, 100))
def test_percentile_is_numpys(values, q):
    assert percentile(values, q) == float(np.percentile(values, q))


def test_percentile_of_nothing_is_nan():
    assert math.isnan(percentile([], 50))
    assert math.isnan(percentile(np.array([]), 99))
