"""The claims of notebooks/05_leaderless.ipynb's text, checked against the library calls
the notebook makes (smaller sizes, same functions, same seeds where the text names them).

Each test names the sentence it backs; a test fails when the claim no longer holds.
"""

from __future__ import annotations

import pandas as pd
import pytest

from replab.models import (
    LeaderlessConfig,
    anti_entropy_sweep,
    availability_sweep,
    lww_loss_sweep,
    simulate_leaderless,
)
from replab.models.leaderless import repair_comparison, scenario_rarely_read_keys

pytestmark = pytest.mark.filterwarnings("ignore")


@pytest.fixture(scope="module")
def avail() -> pd.DataFrame:
    return availability_sweep((0.2, 0.4), seeds=2, duration_ms=800.0)


def test_sloppy_quorums_stay_available_at_the_price_of_stale_reads(avail):
    """"sloppy quorums ... stay available, at the price of reads that can miss the latest
    write until hinted handoff has run" (strict quorums never return a stale read)."""
    strict = avail[~avail.sloppy].set_index("p_fail")
    sloppy = avail[avail.sloppy].set_index("p_fail")
    assert (sloppy.write_availability >= strict.write_availability).all()
    assert (strict.stale_read_rate == 0).all() and (sloppy.stale_read_rate > 0).any()
    # the bars: every mean inside its min–max, over the runs the legend names
    for col in ("write_availability", "read_availability", "stale_read_rate"):
        assert (avail[f"{col}_min"] <= avail[col]).all()
        assert (avail[col] <= avail[f"{col}_max"]).all()
    assert (avail.runs == 2).all()


def test_fewer_handoffs_than_hinted_writes(avail):
    """"A handoff ... carries every hinted version of that key ..., so there are fewer
    handoffs than hinted writes"."""
    sloppy = avail[avail.sloppy]
    assert (sloppy.hinted_writes > 0).all()
    assert (sloppy.hinted_handoffs <= sloppy.hinted_writes).all()
    assert (avail[~avail.sloppy].hinted_writes == 0).all()


def test_lww_discards_at_skew_zero_are_the_concurrent_writes():
    """"At skew 0 the discarded writes of 8 clients are exactly those concurrent ones (none
    is discarded because of skew); with one client nothing is discarded at skew 0", and
    skew makes a later write lose to an earlier one."""
    lww = lww_loss_sweep(skews=(0.0, 50.0), seeds=1, duration_ms=600.0)
    at = lww.set_index(["clock_skew_ms", "sessions"])
    assert at.discarded[(0.0, 1)] == 0 and at.by_skew[(0.0, 1)] == 0
    assert at.discarded[(0.0, 8)] > 0 and at.by_skew[(0.0, 8)] == 0
    assert at.by_skew[(50.0, 1)] > 0 and at.discarded[(50.0, 1)] > at.discarded[(0.0, 1)]


def test_shorter_anti_entropy_interval_converges_sooner_and_sends_more_bytes():
    """"The shorter the interval, the sooner every replica agrees, and the more bytes
    anti-entropy sends over the run"."""
    ae = anti_entropy_sweep((25.0, 400.0), seeds=1, duration_ms=800.0).set_index(
        "anti_entropy_interval_ms")
    assert ae.converged.eq(1.0).all()
    assert ae.convergence_ms[25.0] < ae.convergence_ms[400.0]
    assert ae.anti_entropy_bytes[25.0] > ae.anti_entropy_bytes[400.0]


def test_read_repair_against_anti_entropy():
    """"Anti-entropy repairs everything soon after node 0 returns, cold keys included, and
    pays for it ...; read repair costs only what the reads find, and never reaches the keys
    nobody reads"."""
    timeline, totals = repair_comparison(runs=2, seed=1)
    by = totals.groupby("strategy")
    rr, ae = "read repair only", "anti-entropy only (every 100 ms)"
    assert (totals[totals.strategy == rr].stale_pairs_end > 0).all()
    assert (totals[totals.strategy != rr].stale_pairs_end == 0).all()
    assert totals[totals.strategy != rr].converged.all()
    assert by.repair_bytes.max()[rr] < by.repair_bytes.min()[ae]
    assert set(timeline.strategy) == set(totals.strategy) and (timeline.stale_pairs >= 0).all()


def test_keys_that_are_read_get_repaired_and_cold_keys_stay_stale():
    """"Keys that are read get repaired; keys nobody reads stay stale" (and anti-entropy
    leaves none stale) -- seed 1, as in the notebook."""
    cold = scenario_rarely_read_keys(seed=1)
    warm = scenario_rarely_read_keys(seed=1, anti_entropy_interval_ms=100.0)
    assert (cold[cold.reads > 0].stale_replicas == 0).all()
    assert cold.stale_replicas.sum() > 0 and warm.stale_replicas.sum() == 0


def test_merkle_exchange_cost_grows_with_divergence():
    """"only differing subtrees are descended; then the data of the differing leaves travels
    both ways": an exchange that finds nothing is at most two messages, and the bytes grow
    with the leaves that differed."""
    rounds = []
    for write_rate in (20.0, 100.0, 200.0):
        run = simulate_leaderless(LeaderlessConfig(
            anti_entropy_interval_ms=50.0, faults=((0.0, "crash", {"node": 0}),
                                                   (500.0, "restart", {"node": 0})),
            read_rate=0.0, write_rate=write_rate, keys=400, merkle_leaves=64,
            duration_ms=500.0, settle_ms=400.0), seed=4)
        rounds.append(run.anti_entropy)
    df = pd.concat(rounds, ignore_index=True)
    idle, found = df[df.leaves_differing == 0], df[df.leaves_differing > 0]
    assert idle.messages.max() <= 2 and len(found) >= 6
    assert found.leaves_differing.rank().corr(found.bytes.rank()) > 0.8  # Spearman


def test_lww_scenarios_acknowledge_both_writes_and_keep_one():
    """Last write wins tells both writers ``ok`` and keeps one value: for concurrent writes
    the larger timestamp, and on a skewed clock even an earlier write beats a later one
    (which the lost-write checker reports)."""
    from replab.checks import check_history
    from replab.models.leaderless import scenario_lww_concurrent

    both = scenario_lww_concurrent()
    assert both.facts["writes_ok"] == 2 and both.facts["concurrent"]
    assert int(both.result.writes.discarded.sum()) == 1
    skew = scenario_lww_concurrent(skew_ms=50.0)
    assert skew.facts == {"writes_ok": 2, "read": 1, "concurrent": False}
    lost = check_history(skew.result.history)["lost-write"]
    assert lost.count == 1 and "wrote 2" in lost.examples[0]["message"]


def test_shopping_cart_siblings_are_merged_by_the_next_write():
    """"concurrent writes become siblings, every read returns them all, and the client's
    next write (carrying what it read) merges them"."""
    from replab.models.leaderless import scenario_shopping_cart

    cart = scenario_shopping_cart()
    assert sorted(cart.facts["siblings_read"]) == ["eggs", "milk"]
    assert cart.facts["merged_read"] == "milk+eggs+flour" and cart.facts["writes_ok"] == 3


def test_skew_makes_the_writer_read_its_older_value():
    """"skew makes a later write lose to an earlier one, and the writer then reads the
    older value" (one client: every stale read is a read-your-writes violation)."""
    lww = lww_loss_sweep(skews=(0.0, 50.0), sessions=(1,), seeds=1, duration_ms=600.0)
    at = lww.set_index("clock_skew_ms")
    assert at.ryw[0.0] == 0 < at.ryw[50.0]
    assert at.stale[50.0] == at.ryw[50.0]


def test_more_writers_more_siblings_and_reads_keep_them_in_check():
    """"More clients writing the same keys means more siblings; reads keep them in check";
    nothing is lost with siblings."""
    from replab.models import sibling_sweep

    sib = sibling_sweep(sessions=(1, 8), read_rates=(0.0, 400.0), seeds=1,
                        duration_ms=600.0).set_index(["sessions", "read_rate"])
    assert sib.siblings_mean[(8, 0.0)] > sib.siblings_mean[(1, 0.0)]
    assert sib.siblings_mean[(8, 400.0)] < sib.siblings_mean[(8, 0.0)]
    assert (sib.lost_writes == 0).all()


def test_client_version_vectors_grow_with_the_clients():
    """"With `version_vectors="client"` every client session gets its own entry: vectors
    grow with the number of clients, and so do the siblings"; per-replica dots keep at most
    one entry per node."""
    m = {(kind, s): simulate_leaderless(LeaderlessConfig(
            resolution="siblings", version_vectors=kind, sessions=s, write_rate=400.0,
            keys=3, duration_ms=600.0), seed=2).metrics
         for kind in ("replica", "client") for s in (2, 16)}
    assert m[("client", 16)]["version_vector_entries_max"] > \
        m[("client", 2)]["version_vector_entries_max"]
    assert m[("client", 16)]["siblings_mean"] > m[("replica", 16)]["siblings_mean"]
    assert max(m[("replica", s)]["version_vector_entries_max"] for s in (2, 16)) <= \
        LeaderlessConfig().nodes


def test_eventual_success_is_higher_than_first_attempt_which_matches_the_closed_form():
    """"It must agree with the closed form at the down fraction the run actually had ...
    *Eventual success* lets the request wait up to its timeout ..., so it should be
    higher" (one long run, as in the notebook)."""
    import replab
    from replab.models import first_attempt_sweep

    first = first_attempt_sweep((0.3,), duration_ms=12_000.0).iloc[0]
    closed = replab.quorum.availability(3, 2, 2, first.replica_down_fraction)
    assert first.ci_low <= closed.p_write_available.item() <= first.ci_high
    assert first.eventual > first.first_attempt
