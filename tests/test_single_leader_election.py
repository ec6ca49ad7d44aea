"""The single-leader model's sync-mode election counts only votes from the sync set.

A rejoined ex-leader that lags (cut off from the new leader since it came back) is the only
replica left to answer when the new leader and its synchronous follower both crash. It
must not win: the acknowledged writes of the new epoch live only on the two crashed nodes,
and promoting it would lose them. (Counting every vote, as in async mode, lets it win and
loses 49-68 acknowledged writes at these seeds; this test fails then.)
"""

import pytest

from replab.models import SingleLeaderConfig, simulate_single_leader

# The first leader (0) crashes at 300 ms and is elected away from; it comes back at 700 ms
# cut off from the others (not from the controller or the clients), so it stays behind;
# at 1000 ms the new leader and the other follower both crash.
FAULTS = ((700.0, "restart", {"node": 0}),
          (700.0, "partition", {"groups": [[0], [1, 2]], "name": "ex-leader-cut-off"}),
          (1000.0, "crash", {"node": 1}), (1000.0, "crash", {"node": 2}))


def _run(seed: int, mode: str = "sync"):
    return simulate_single_leader(SingleLeaderConfig(
        mode=mode, followers=2, duration_ms=1500.0, write_rate=300.0, read_rate=100.0,
        leader_crash_at_ms=300.0, leader_restart_after_ms=None, faults=FAULTS), seed=seed)


def _elections(result):
    ev = result.events
    return ev[ev.kind.isin(["elect", "failover_failed"])]


@pytest.mark.parametrize("seed", range(3))
def test_a_rejoined_lagging_ex_leader_never_wins_a_sync_election(seed):
    res = _run(seed)
    elected = _elections(res)
    elected = elected[elected.kind == "elect"]
    assert len(elected) == 1 and int(elected.node.iloc[0]) in (1, 2)  # the first failover
    assert 0 not in set(elected.node.astype(int))  # the ex-leader was never promoted
    assert res.metrics["failovers"] == 1 and res.metrics["final_leader"] != 0
    failed = _elections(res)
    failed = failed[failed.kind == "failover_failed"]
    assert len(failed) > 0 and (failed.time > 1000.0).all()  # it answered; it was refused
    assert (failed.detail == "no eligible follower answered").all()
    assert res.metrics["writes_ok"] > 100
    assert res.metrics["acked_writes_lost"] == 0 and res.lost.empty


def test_in_async_mode_the_same_ex_leader_wins_and_loses_acknowledged_writes():
    # The contrast that shows the scenario bites: without a sync set every vote counts.
    res = _run(0, mode="async")
    elected = _elections(res)
    assert 0 in set(elected[elected.kind == "elect"].node.astype(int))
    assert res.metrics["acked_writes_lost"] > 0
