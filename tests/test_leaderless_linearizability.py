"""Are quorums linearizable? ABD's two fixes in the leaderless model, judged by the
linearizability checker (``replab.checks.linearizable``)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from replab.checks import linearizable
from replab.errors import ConfigError
from replab.models.leaderless import LeaderlessConfig, simulate_leaderless
from replab.models.leaderless.linearizability import (
    REGISTER_WORKLOAD,
    linearizability_sweep,
    register_run,
    relabel_values,
)

SEEDS = range(6)


def _bad_keys(seeds=SEEDS, **settings) -> int:
    return sum(register_run(values=None, seed=s, **settings)["not_linearizable"] for s in seeds)


def test_partial_quorums_are_not_linearizable():
    assert _bad_keys(range(2), r=1, w=1) > 0


def test_strict_quorums_alone_are_not_linearizable():
    """r + w > n, no failures, no skew: a read can still see a write in flight that a later
    read's quorum misses (the chapter's edge case)."""
    assert _bad_keys(r=2, w=2) > 0


def test_blocking_write_back_makes_strict_quorums_linearizable_with_synchronised_clocks():
    assert _bad_keys(r=2, w=2, write_back=True) == 0


def test_write_back_alone_fails_under_clock_skew_and_reading_first_fixes_it():
    assert _bad_keys(r=2, w=2, write_back=True, clock_skew_ms=20.0) > 0
    assert _bad_keys(r=2, w=2, write_back=True, clock_skew_ms=20.0, write_reads_first=True) == 0


def test_failed_writes_that_took_effect_and_sloppy_quorums_break_write_back():
    """With nodes down a write that missed its quorum is reported failed but not rolled
    back: taken at its word it makes the history non-linearizable; recorded as unknown it
    does not, unless the quorums are sloppy."""
    from replab.rng import spawn_seeds

    down = {"r": 2, "w": 2, "write_back": True, "p_fail": 0.2, "nodes": 5}
    seeds = [spawn_seeds(1, 15)[i] for i in (5, 6, 7)]  # 3 of the 15 runs of notebook 05
    assert _bad_keys(seeds, failed_writes="fail", **down) > 0
    assert _bad_keys(seeds, **down) == 0
    assert _bad_keys(seeds, sloppy=True, **down) > 0


def test_write_back_needs_a_strict_quorum():
    assert _bad_keys(range(2), r=1, w=1, write_back=True) > 0


def test_write_back_costs_read_latency():
    df = linearizability_sweep({"plain": {"r": 2, "w": 2},
                                "blocking": {"r": 2, "w": 2, "write_back": True}},
                               replications=2)
    plain, blocking = df.to_dict("records")
    assert blocking["read_p50_ms"] > plain["read_p50_ms"]
    assert blocking["read_p99_ms"] > plain["read_p99_ms"]


def test_sweep_uses_common_random_numbers_and_reports_wilson_intervals():
    df = linearizability_sweep({"a": {"r": 1, "w": 1}, "b": {"r": 1, "w": 1}}, replications=2,
                               seed=3)
    assert df.iloc[0].drop("setting").to_dict() == df.iloc[1].drop("setting").to_dict()
    row = df.iloc[0]
    assert row.ci_low <= row.fraction <= row.ci_high
    assert row["keys"] == 2 * REGISTER_WORKLOAD["keys"]
    assert list(df.columns[:3]) == ["setting", "r", "w"]


def test_a_history_of_write_back_reads_stores_what_it_returns_before_answering():
    cfg = LeaderlessConfig(**(REGISTER_WORKLOAD | {"r": 2, "w": 2, "write_back": True}))
    res = simulate_leaderless(cfg, seed=1)
    assert linearizable(res.history).verdict == "linearizable"


@given(st.lists(st.integers(min_value=1, max_value=40), max_size=20),
       st.integers(min_value=1, max_value=6))
def test_relabelling_maps_values_onto_a_few_and_keeps_everything_else(values, k):
    ops = [{"process": 0, "type": "ok", "f": "write", "key": "x", "value": v} for v in values]
    out = relabel_values(ops, k)
    assert [o["value"] for o in out] == [(v - 1) % k for v in values]
    assert [o["value"] for o in relabel_values(ops, None)] == values
    assert all(o.keys() == p.keys() for o, p in zip(out, ops, strict=True))


def test_final_reads_of_single_replicas_are_not_register_reads():
    ops = [{"process": 0, "type": "invoke", "f": "read", "key": "x", "value": None},
           {"process": 0, "type": "ok", "f": "read", "key": "x", "value": 3},
           {"process": "final-1", "type": "ok", "f": "read", "key": "x", "value": 1,
            "final": True},
           {"process": 1, "type": "fail", "f": "write", "key": "x", "value": 4}]
    kept = relabel_values(ops, None, failed_writes="info")
    assert [o["process"] for o in kept] == [0, 0, 1]
    assert kept[-1]["type"] == "info"


@pytest.mark.parametrize(("settings", "message"), [
    ({"write_back": 1},
     "The 'write_back' parameter of LeaderlessConfig must be a bool. Got 1 instead."),
    ({"write_reads_first": True, "resolution": "siblings"},
     "The 'write_reads_first' parameter of LeaderlessConfig must be False with "
     "resolution='siblings'. Got True instead."),
    ({"write_back": True, "workload": "pbs"},
     "The 'write_back' parameter of LeaderlessConfig must be False with workload='pbs'. Got "
     "True instead."),
])
def test_bad_settings_name_the_parameter(settings, message):
    with pytest.raises(ConfigError) as e:
        LeaderlessConfig(**settings)
    assert str(e.value) == message


def test_sweep_refuses_no_settings():
    with pytest.raises(ConfigError, match="'settings' parameter of linearizability_sweep"):
        linearizability_sweep({})


def test_the_same_seed_sequence_gives_the_same_run_twice():
    import numpy as np

    seed = np.random.SeedSequence(11)
    a = simulate_leaderless(LeaderlessConfig(duration_ms=200.0), seed=seed)
    b = simulate_leaderless(LeaderlessConfig(duration_ms=200.0), seed=seed)
    assert list(a.history) == list(b.history)
