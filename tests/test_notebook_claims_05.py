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


def _diagram(s, message="", anomaly=None):
    """What the notebook's ``diagram`` draws: the scenario's client operations."""
    from replab.plots import plot_anomaly

    h = s.result.history.without_final_reads()
    return plot_anomaly(h, {"indices": [op["index"] for op in h], "message": message},
                        anomaly=anomaly)


def test_lww_diagram_marks_the_discarded_acknowledged_write():
    """"Both are told ok; a later read returns only the value with the larger timestamp.
    The other acknowledged write is gone (drawn in the lost-write colour)"."""
    from matplotlib.colors import to_hex

    from replab.models.leaderless import scenario_lww_concurrent
    from replab.plots import COLORS, lint_figure

    conc = scenario_lww_concurrent()
    acked = [op for op in conc.result.history.without_final_reads()
             if op["f"] == "write" and op["type"] == "ok"]
    lost = [op for op in acked if op["value"] != conc.facts["read"]]
    assert len(acked) == 2 and len(lost) == 1
    # the write the notebook calls discarded is the one the simulator discarded
    w = conc.result.writes
    assert w[w.discarded].value.tolist() == [lost[0]["value"]]
    ax = _diagram(conc, f"op {lost[0]['index']}: write x = 1 acknowledged, then discarded",
                  "lost-write")
    red = {t.get_text() for t in ax.texts
           if t.get_text() and to_hex(t.get_color()) == COLORS["lost-write"]
           and t.get_fontweight() == "bold"}
    assert red == {f"write x = {lost[0]['value']}", "ok"}
    assert lint_figure(ax.figure) == []


def test_edge_case_diagrams_mark_the_read_of_the_old_value():
    """"the read that returns the old value 1 is drawn in the stale-read colour", one
    diagram per edge case, each observing its anomaly (the table's ``anomaly`` column)."""
    from replab.models.leaderless import quorum_edge_cases
    from replab.models.leaderless.scenarios import (
        scenario_failed_write_visible,
        scenario_read_during_write,
        scenario_restore_from_stale,
        scenario_shopping_cart,
        scenario_sloppy_stale_read,
    )
    from replab.plots import lint_figure

    assert quorum_edge_cases().anomaly.all()
    for scenario in (scenario_read_during_write, scenario_failed_write_visible,
                     scenario_restore_from_stale, scenario_sloppy_stale_read):
        s = scenario()
        h = s.result.history.without_final_reads()
        reads = [op for op in h if op["f"] == "read" and op["type"] == "ok"]
        bad = next(op for op in reads if op["value"] == 1)
        # the old value: a write of 2 was acknowledged or a read returned 2 before it,
        # or (the failed write) 1 was never acknowledged at all
        before = [op for op in h if op["index"] < bad["index"] and op["type"] != "invoke"]
        assert (any(op["value"] == 2 for op in before)
                or not any(op["f"] == "write" and op["type"] == "ok" for op in before))
        ax = _diagram(s, f"op {bad['index']} reads 1", "stale-read")
        assert "violates stale-read" in [t.get_text() for t in ax.get_legend().get_texts()]
        assert lint_figure(ax.figure) == [], s.name
    assert lint_figure(_diagram(scenario_shopping_cart()).figure) == []


@pytest.mark.parametrize("duration_ms", [300.0, 2000.0])  # the notebook's small and default
def test_outage_timeline_every_operation_succeeds(duration_ms):
    """"the operations keep succeeding through the outage", with the outage shaded from
    the crash to the restart."""
    from replab.plots import fault_windows, lint_figure, plot_history_timeline

    outage = ((0.0, "crash", {"node": 0}), (0.6 * duration_ms, "restart", {"node": 0}))
    mon = simulate_leaderless(LeaderlessConfig(faults=outage, duration_ms=duration_ms,
                                               read_repair=0.3), seed=2)
    ops = mon.history.without_final_reads()
    done = [op for op in ops if op["type"] != "invoke"]
    during = [op for op in done if op["time"] < outage[1][0]]
    assert len(during) > 0 and len(done) > len(during)
    assert all(op["type"] == "ok" for op in done)
    windows = fault_windows(mon.events, end=duration_ms)
    down = windows[windows.start < windows.end]
    assert down[["start", "end"]].values.tolist() == [[0.0, 0.6 * duration_ms]]
    ax = plot_history_timeline(ops, faults=mon.events)
    ax.set_title("one run with node 0 down (shaded)")
    assert lint_figure(ax.figure) == []
