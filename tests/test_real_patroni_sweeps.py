"""The Patroni lab's arithmetic without servers: metrics from a hand-made history and role
samples, leadership intervals, summaries with Wilson intervals, the sentences, the plots."""

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from replab.checks import check_history, results_frame  # noqa: E402
from replab.history import History  # noqa: E402
from replab.plots.real_patroni import (  # noqa: E402
    plot_failover_timeline,
    plot_modes,
    plot_pause_sweep,
    plot_pause_unavailability,
)
from replab.real.patroni.measure import (  # noqa: E402
    annotate_writes,
    failover_metrics,
    leadership,
)
from replab.real.patroni.sweeps import (  # noqa: E402
    RUN_COLUMNS,
    compare_model,
    describe_modes,
    describe_pause_sweep,
    model_beside,
    summarize,
)
from replab.real.patroni.workload import ROLE_COLUMNS, key_of  # noqa: E402
from replab.stats import wilson  # noqa: E402


def _story():
    """n1 leads; paused 1-3 s; n2 elected at 2.5 s; n1 acks seq 3 at 3.2 s (split brain,
    lost), n2 acks seq 4 at 3.5 s; the final read shows 1, 2 and 4."""
    h = History()
    ops = [(0.1, 0, "n1", 1, 0.2, "ok", 1), (0.3, 0, "n1", 2, 0.4, "ok", 2),
           (0.9, 1, "n1", 1, 3.1, "info", None), (3.0, 0, "n1", 3, 3.2, "ok", 3),
           (3.3, 0, "n2", 4, 3.5, "ok", 3)]
    events = []
    for t_inv, p, node, seq, t_done, outcome, version in ops:
        events.append((t_inv, p, "invoke", seq, node, None))
        events.append((t_done, p, outcome, seq, node, version))
    for t, p, typ, seq, node, version in sorted(events, key=lambda e: e[0]):
        h.record(t * 1000, p, typ, "write", key_of(p, seq), seq, version=version, node=node)
    final = {(0, 1), (0, 2), (0, 4)}
    for p, seq in [(0, 1), (0, 2), (1, 1), (0, 3), (0, 4)]:
        h.record(4000.0, "final", "invoke", "read", key_of(p, seq), None)
        h.ops[-1]["final"] = True
        h.record(4000.0, "final", "ok", "read", key_of(p, seq), seq if (p, seq) in final
                 else None)
        h.ops[-1]["final"] = True
    roles = pd.DataFrame([(0.0, "n1", "primary", "running", None, 1),
                          (0.0, "n2", "replica", "running", "streaming", 1),
                          (2.5, "n2", "primary", "running", None, 2),
                          (3.4, "n1", "primary", "running", None, 1),
                          (3.6, "n1", "replica", "running", None, 1),
                          (5.0, "n1", "replica", "running", "streaming", 2)],
                         columns=ROLE_COLUMNS)
    return h, roles, final


def test_failover_metrics_from_a_hand_made_run():
    h, roles, final = _story()
    checks = results_frame(check_history(h, ["lost-write"]))
    fault = {"fault": "pause-leader", "leader": "n1", "start_s": 1.0, "end_s": 3.0}
    m = failover_metrics(h, roles, fault, checks=checks, final_rows=final,
                         held={"n1": final, "n2": final}, seen={"n1": final | {(0, 3)},
                                                                 "n2": final},
                         final_leader="n2", settle_s=1.0)
    assert m["failover"] and m["new_leader"] == "n2" and m["elected_s"] == 2.5
    assert m["failover_s"] == pytest.approx(1.5)
    assert m["detection_s"] == pytest.approx(2.1)  # the info write completed at 3.1 s
    # seq 3 (invoked 3.0, done 3.2) came before the first failure ended (3.1): seq 4 counts
    assert m["unavailable_s"] == pytest.approx(2.5)
    assert m["to_new_leader_s"] == pytest.approx(2.5)
    assert m["split_brain_writes"] == 1 and m["split_brain_s"] == pytest.approx(0.7)
    assert m["lost_acknowledged"] == m["lost_in_data"] == m["lost_seen_on_old_leader"] == 1
    assert m["demoted_s"] == pytest.approx(0.6) and m["rejoin_s"] == pytest.approx(2.0)
    assert (m["writes_ok"], m["writes_info"], m["writes_fail"]) == (4, 1, 0)
    assert m["verdict"] == ("n2 took over from n1 1.5 s after the fault; the old leader "
                            "acknowledged 1 writes in 0.7 s after the election; 1 "
                            "acknowledged writes were lost")
    w = annotate_writes(h, m, final)
    assert w.loc[w.lost, "seq"].tolist() == [3] and w.split_brain.sum() == 1


def test_a_run_without_hazards_says_so():
    h, roles, final = _story()
    calm = roles[roles.node == "n1"].assign(role="primary")
    checks = pd.DataFrame({"check": ["lost-write"], "count": [0]})
    m = failover_metrics(h, calm, {"fault": "pause-leader", "leader": "n1", "start_s": 1.0,
                                   "end_s": 3.0}, checks=checks, final_rows=final | {(0, 3)},
                         held={}, seen={}, final_leader="n1", settle_s=1.0)
    assert not m["failover"] and math.isnan(m["failover_s"])
    assert m["verdict"] == "no failover; neither split-brain writes nor lost acknowledged " \
                           "writes in this run"


def test_leadership_intervals_follow_the_role_samples():
    _, roles, _ = _story()
    spans = leadership(roles, end_s=6.0)
    assert spans.values.tolist() == [["n1", 0.0, 3.6], ["n2", 2.5, 6.0]]


def _runs():
    rows = []
    for pause, fails in ((10.0, [False] * 4), (22.0, [True, True, True, False])):
        for r, f in enumerate(fails):
            rows.append({"mode": "async", "ttl": 20.0, "pause_s": pause, "repeat": r,
                         "failover": f, "failover_s": 21.0 + r if f else np.nan,
                         "detection_s": np.nan, "unavailable_s": pause + r,
                         "to_new_leader_s": np.nan, "split_brain_writes": 10 * r * f,
                         "split_brain_s": 1.0 * f, "lost_acknowledged": 10 * r * f,
                         "lost_in_data": 10 * r * f, "rejoin_s": 15.0 if f else np.nan,
                         "writes_ok": 100})
    return pd.DataFrame(rows, columns=RUN_COLUMNS)


def test_summarize_gives_wilson_intervals_and_min_max():
    s = summarize(_runs()).set_index("pause_s")
    lo, hi = wilson(3, 4)
    assert s.loc[22.0, "p_failover"] == 0.75 and s.loc[22.0, "failovers"] == 3
    assert (s.loc[22.0, "p_failover_lo"], s.loc[22.0, "p_failover_hi"]) == \
        (pytest.approx(float(lo)), pytest.approx(float(hi)))
    assert s.loc[22.0, "failover_s"] == 22.0 and s.loc[22.0, "failover_s_max"] == 23.0
    assert math.isnan(s.loc[10.0, "failover_s"])  # no failover: no failover time
    assert s.loc[10.0, "unavailable_s_min"] == 10.0 and s.loc[10.0, "unavailable_s_max"] == 13.0
    assert describe_pause_sweep(s.reset_index(), 20.0) == (
        "With ttl = 20 s: pauses shorter than ttl (10 s) failed over in 0 of 4 runs; pauses "
        "longer than ttl (22 s) failed over in 3 of 4 runs.")
    assert describe_modes(s.reset_index().iloc[[1]]).startswith(
        "async: 8 writes acknowledged by the old leader after the election (min-max 0-20)")


def test_the_simulator_beside_fails_over_only_past_the_timeout():
    settings = pd.DataFrame({"mode": ["async", "async"], "ttl": [20.0, 20.0],
                             "pause_s": [5.0, 24.0]})
    from replab.real.patroni import PatroniConfig

    base = PatroniConfig(fault_at_s=1.0, clients=2, think_ms=100.0)
    model = model_beside(settings, repeats=1, seed=1, base=base).set_index("pause_s")
    assert model.loc[5.0, "p_failover"] == 0.0 and model.loc[24.0, "p_failover"] == 1.0
    both = compare_model(summarize(_runs()), model.reset_index().assign(pause_s=[10.0, 22.0]))
    assert list(both.columns[3:]) == ["p_failover_measured", "split_brain_writes_measured",
                                      "lost_acknowledged_measured", "p_failover_model",
                                      "split_brain_writes_model", "lost_acknowledged_model"]


def test_plots_draw_what_they_are_given():
    h, roles, final = _story()
    checks = results_frame(check_history(h, ["lost-write"]))
    fault = {"fault": "pause-leader", "leader": "n1", "start_s": 1.0, "end_s": 3.0}
    m = failover_metrics(h, roles, fault, checks=checks, final_rows=final,
                         held={"n1": final}, seen={}, final_leader="n2", settle_s=1.0)
    ax = plot_failover_timeline(annotate_writes(h, m, final), leadership(roles, 6.0), m)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "acked, then lost (1)" in labels and "ok (3)" in labels
    assert "info (unknown) (1)" in labels
    assert [t.get_text() for t in ax.get_yticklabels()] == ["n1", "n2"]
    s = summarize(_runs())
    ax = plot_pause_sweep(s, None, ttl=20.0)
    assert ax.get_ylabel() == "P(failover)" and ax.get_legend() is not None
    plot_pause_unavailability(s)
    ax = plot_modes(s.iloc[[1]])
    assert "async (min-max of 4 runs)" in [t.get_text() for t in ax.get_legend().get_texts()]
    plt.close("all")
