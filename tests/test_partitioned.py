"""Consistent prefix in a partitioned store: the answer seen before its question."""

import re
from functools import cache

import pytest

from replab.checks import consistent_prefix
from replab.errors import ConfigError
from replab.models import PartitionedConfig, simulate_partitioned
from replab.models.anomalies.partitioned import PARTITION_CHECKS, partition_of


@cache
def run(seed=3, **kw):
    return simulate_partitioned(PartitionedConfig(duration_ms=4000.0, **kw), seed=seed)


def test_the_answer_before_the_question_appears_and_grows_with_lag():
    none, low, mid, high = (run(lag_ms=x) for x in (0.0, 5.0, 25.0, 100.0))
    assert none.metrics["consistent_prefix_count"] == 0
    assert high.metrics["consistent_prefix_count"] >= 20
    assert low.metrics["consistent_prefix_ci_high"] < mid.metrics["consistent_prefix_ci_low"]
    assert mid.metrics["consistent_prefix_ci_high"] < high.metrics["consistent_prefix_ci_low"]


def test_the_checker_finds_it_through_reads_from_and_session_order():
    res = run(lag_ms=50.0)
    found = consistent_prefix(res.history)
    assert found.count == res.metrics["consistent_prefix_count"] > 0
    ex = found.examples[0]
    kinds = [(op["f"], op["key"][0], op["type"]) for op in ex["ops"]]
    # question written, answer written, observer reads the answer, then misses the question
    assert ("write", "q", "ok") in kinds and ("write", "a", "ok") in kinds
    assert ("read", "a", "ok") in kinds
    last = ex["ops"][-1]
    assert (last["f"], last["key"][0], last["value"]) == ("read", "q", None)
    assert "causally depends on" in ex["message"]
    q = next(op for op in ex["ops"] if op["f"] == "write" and op["key"][0] == "q"
             and op["type"] == "ok")
    a = next(op for op in ex["ops"] if op["f"] == "write" and op["key"][0] == "a"
             and op["type"] == "ok")
    assert q["key"][1:] == a["key"][1:]  # one conversation ...
    assert q["node"].split(".")[0] != a["node"].split(".")[0]  # ... split over two partitions


@pytest.mark.parametrize("lag_ms", [25.0, 100.0])
def test_co_partitioning_removes_it(lag_ms):
    res = run(lag_ms=lag_ms, mitigation="co-partition")
    assert res.metrics["consistent_prefix_count"] == 0
    assert res.metrics["consistent_prefix_examined"] > 100
    assert res.metrics["split_conversations"] == 0.0
    assert run(lag_ms=lag_ms).metrics["split_conversations"] > 0.3


@pytest.mark.parametrize("seed", [1, 2])
def test_co_partitioning_is_exact_for_more_partitions(seed):
    res = simulate_partitioned(PartitionedConfig(duration_ms=1500.0, lag_ms=60.0, partitions=4,
                                                 followers=3, mitigation="co-partition"),
                               seed=seed)
    assert res.metrics["consistent_prefix_count"] == 0
    assert res.metrics["monotonic_reads_count"] == 0  # observers stick to one follower


def test_conversations_are_answered_and_reads_mostly_hit_followers():
    m = run(lag_ms=25.0).metrics
    assert m["conversations"] > 150 and m["answered"] == m["conversations"]
    # answerers read the question from its leader; observers only read followers
    assert 0.0 < m["leader_read_share"] < 0.25
    assert m["reads_failed"] == 0
    assert 0.9 < m["partition_write_imbalance"] < 1.3


def test_partition_of_places_a_conversation_together():
    for i in range(50):
        assert partition_of(f"q{i}", 4, co_partition=True) == \
            partition_of(f"a{i}", 4, co_partition=True)
    assert len({partition_of(f"q{i}", 4, co_partition=False) for i in range(50)}) == 4


def test_same_seed_same_history():
    a = simulate_partitioned(PartitionedConfig(duration_ms=600.0), seed=5)
    b = simulate_partitioned(PartitionedConfig(duration_ms=600.0), seed=5)
    assert a.history.df.equals(b.history.df)
    assert list(a.checks.check) == list(PARTITION_CHECKS)
    df = a.history.df  # the run goes on until every operation has ended
    assert (df.type == "invoke").sum() == (df.type != "invoke").sum()


@pytest.mark.parametrize("kw, message", [
    ({"mitigation": "sticky-user"}, "The 'mitigation' parameter of PartitionedConfig must be "
     "one of 'none', 'co-partition'. Got 'sticky-user' instead."),
    ({"partitions": 0}, "The 'partitions' parameter of PartitionedConfig must be an int in "
     "[1, 64]. Got 0 instead."),
    ({"observers": 0}, "The 'observers' parameter of PartitionedConfig must be an int in "
     "[1, inf). Got 0 instead."),
])
def test_bad_config(kw, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        PartitionedConfig(**kw)
