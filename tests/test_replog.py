"""Replication-log kinds on real SQLite databases (issue 7)."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from replab.errors import ConfigError
from replab.replog import (
    KINDS,
    TIMING_METRICS,
    WORKLOADS,
    ReplogConfig,
    compare_kinds,
    simulate_replog,
)

SMALL = {"transactions": 40, "followers": 2}


def run(seed: int = 7, **kw: object):
    return simulate_replog(ReplogConfig(**{**SMALL, **kw}), seed=seed)


def stable(metrics: dict) -> dict:
    return {k: v for k, v in metrics.items() if k not in TIMING_METRICS}


# --- statement-based: the hazards and the mitigation --------------------------------


def test_statement_replay_of_nondeterministic_workload_diverges_in_random_and_time():
    r = run(kind="statement", workload="nondeterministic")
    assert r.metrics["divergent_rows"] > 0
    assert r.metrics["divergent_followers"] == r.metrics["followers"]
    changed = set(",".join(r.diff["columns"]).split(","))
    assert "token" in changed  # random()
    assert "created_at" in changed  # strftime(..., 'now')


def test_statement_fixed_pins_random_and_time():
    r = run(kind="statement-fixed", workload="nondeterministic")
    assert r.metrics["substitutions"] > 0
    assert r.metrics["divergent_rows"] == 0
    assert r.diff.empty


def test_time_alone_agrees_when_followers_apply_at_the_commit_instant():
    # With no lag the follower's clock reads the leader's commit time; only random()
    # (and the row it picks) still differs. The snapshot follower replays its backlog
    # later than the leader committed it, so its timestamps differ too.
    r = run(kind="statement", workload="nondeterministic", lag_ms=0.0)
    live = r.diff[r.diff["follower"] != "follower3"]
    changed = set(",".join(live["columns"]).split(","))
    assert "token" in changed and "created_at" not in changed
    late = r.diff[r.diff["follower"] == "follower3"]
    assert "created_at" in ",".join(late["columns"])


def test_fixed_statements_still_miss_triggers_and_user_functions():
    r = run(kind="statement-fixed", workload="triggers")
    assert r.metrics["substitutions"] == 0  # nothing visible in the statement text
    tables = set(r.diff["table"])
    assert "audit" in tables  # random() and 'now' inside the trigger body
    orders = r.diff[r.diff["table"] == "orders"]
    assert (orders["columns"] == "token").any()  # ticket() has a per-node side effect


@pytest.mark.parametrize("kind", ["statement", "statement-fixed"])
def test_autoincrement_keys_differ_when_concurrent_transactions_replay_in_another_order(kind):
    r = run(kind=kind, workload="concurrent", clients=4)
    assert r.metrics["divergent_rows"] > 0
    assert set(r.diff["table"]) == {"orders"}  # balances commute; row ids do not


def test_statement_plain_workload_replays_exactly():
    assert run(kind="statement", workload="plain").metrics["divergent_rows"] == 0


# --- physical, logical and trigger-based followers equal the leader ------------------


@pytest.mark.parametrize("workload", WORKLOADS)
@pytest.mark.parametrize("kind", ["physical", "logical", "trigger"])
def test_row_and_page_logs_keep_every_follower_equal(kind, workload):
    r = run(kind=kind, workload=workload)
    m = r.metrics
    assert (m["divergent_rows"], m["apply_errors"], m["conflicts"]) == (0, 0, 0)
    assert m["writes"] > 0 and m["bytes_per_write"] > 0
    assert (r.followers["records"] > 0).all()
    for name, tables in r.follower_tables.items():
        for t, frame in r.leader_tables.items():
            pd.testing.assert_frame_equal(frame, tables[t], check_dtype=False, obj=name)


def test_physical_followers_are_byte_identical_to_the_leader():
    r = run(kind="physical", workload="triggers")
    assert r.followers["byte_identical"].tolist() == [True] * 3
    assert r.metrics["byte_identical_followers"] == 3


def test_physical_log_is_page_images():
    r = run(kind="physical")
    # a WAL frame is 24 bytes of header plus one page: records are whole frames
    sizes = r.log["nbytes"][r.log["nbytes"] > 0] - 7 - 32
    assert (sizes % (4096 + 24) == 0).all()
    assert r.metrics["bytes_per_write"] > 10 * run(kind="logical").metrics["bytes_per_write"]


def test_physical_apply_with_another_page_size_fails_clearly():
    r = run(kind="physical", follower_page_size=8192)
    m = r.metrics
    assert m["apply_errors"] > 0 and m["divergent_rows"] > 0
    assert "page size 4096" in m["first_error"] and "page size 8192" in m["first_error"]
    assert "downtime" in m["first_error"]
    assert (r.followers["writes_applied"] < m["writes"]).all()


def test_logical_follower_with_another_page_size_keeps_up():
    r = run(kind="logical", follower_page_size=8192)
    assert r.metrics["divergent_rows"] == 0 and r.metrics["apply_errors"] == 0


@pytest.mark.parametrize("kind", ["logical", "trigger", "statement"])
def test_follower_on_newer_schema_version_keeps_up(kind):
    r = run(kind=kind, follower_schema="newer", workload="triggers" if kind != "statement"
            else "plain")
    assert r.metrics["divergent_rows"] == 0 and r.metrics["apply_errors"] == 0
    orders = r.follower_tables["follower1"]["orders"]
    assert "currency" in orders.columns and (orders["currency"] == "EUR").all()
    assert "currency" not in r.leader_tables["orders"].columns


def test_change_data_capture_into_dataframes():
    r = run(kind="logical", follower_store="dataframe", workload="nondeterministic")
    assert r.metrics["divergent_rows"] == 0
    assert r.metrics["changes_applied"] > 0


# --- new follower from a snapshot while writes continue ------------------------------


@pytest.mark.parametrize("kind", ["physical", "logical", "trigger", "statement"])
def test_snapshot_follower_equals_the_leader_while_writes_continue(kind):
    r = run(kind=kind, transactions=60, join_at=0.4)
    m = r.metrics
    joined = r.followers[r.followers["joined"]]
    assert len(joined) == 1 and joined["joined_at_lsn"].iloc[0] == m["snapshot_lsn"] == 24
    assert m["snapshot_commits_during"] > 0  # the leader kept committing meanwhile
    assert m["snapshot_backlog"] == m["snapshot_commits_during"]
    assert joined["records"].iloc[0] == 60 - 24  # exactly the records after its position
    assert m["snapshot_divergent_rows"] == 0


def test_no_snapshot_follower_when_join_at_is_none():
    r = run(join_at=None)
    assert len(r.followers) == 2 and r.metrics["snapshot_lsn"] == -1


# --- trigger-based: subsets, conflicts, overhead -------------------------------------


def test_trigger_subset_of_tables():
    r = run(kind="trigger", tables="orders", workload="triggers")
    assert list(r.leader_tables) == ["orders"]
    assert r.metrics["divergent_rows"] == 0
    full = run(kind="trigger", workload="triggers")
    assert r.metrics["bytes_shipped"] < full.metrics["bytes_shipped"]


def test_trigger_row_filter_replicates_matching_rows_only():
    r = run(kind="trigger", row_filter="region = 'eu'", transactions=80)
    customers = r.follower_tables["follower1"]["customers"]
    assert len(customers) > 0 and (customers["region"] == "eu").all()
    assert r.metrics["divergent_rows"] == 0


@pytest.mark.parametrize("kind", ["logical", "trigger"])
def test_conflict_policies(kind):
    out = {p: run(kind=kind, follower_writes=20, conflict=p).metrics
           for p in ("leader-wins", "follower-wins", "latest")}
    assert all(m["conflicts"] > 0 for m in out.values())
    # keeping the follower's rows leaves more of them different from the leader
    assert out["follower-wins"]["divergent_rows"] > out["leader-wins"]["divergent_rows"]


def test_trigger_capture_costs_the_leader_more_than_the_session_extension():
    both = compare_kinds(ReplogConfig(**SMALL), kinds=("logical", "trigger"), seed=3)
    logical, trigger = both.to_dict("records")
    assert trigger["leader_wal_bytes_per_write"] > 1.5 * logical["leader_wal_bytes_per_write"]
    assert trigger["bytes_per_write"] > logical["bytes_per_write"]
    assert logical["writes"] == trigger["writes"]  # the same workload


# --- reproducibility and reports -----------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_same_seed_same_result(kind):
    a = run(seed=11, kind=kind, workload="nondeterministic", transactions=25)
    b = run(seed=11, kind=kind, workload="nondeterministic", transactions=25)
    assert stable(a.metrics) == stable(b.metrics)
    pd.testing.assert_frame_equal(a.diff, b.diff)
    pd.testing.assert_frame_equal(a.log, b.log)
    for name in a.follower_tables:
        for t in a.leader_tables:
            pd.testing.assert_frame_equal(a.follower_tables[name][t], b.follower_tables[name][t])


def test_different_seeds_give_different_workloads():
    a = run(seed=1, kind="statement", workload="nondeterministic", transactions=25)
    b = run(seed=2, kind="statement", workload="nondeterministic", transactions=25)
    assert not a.log.equals(b.log)


def test_report_frames_have_documented_columns():
    from replab.replog import FOLLOWER_COLUMNS

    r = run(kind="statement", workload="nondeterministic")
    assert list(r.followers.columns) == FOLLOWER_COLUMNS
    assert list(r.diff.columns) == ["follower", "table", "key", "status", "columns"]
    assert list(r.log.columns) == ["lsn", "round", "client", "writes", "nbytes", "commit_ms"]
    m = r.metrics
    assert m["divergent_rows"] == len(r.diff) == r.followers["divergent_rows"].sum()
    assert m["ci_low"] <= m["divergent_fraction"] <= m["ci_high"]
    assert m["bytes_shipped"] == r.log["nbytes"].sum()
    assert m["bytes_per_write"] == pytest.approx(m["bytes_shipped"] / m["writes"])
    assert r.log["lsn"].tolist() == list(range(1, 41))


# --- configuration -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"kind": "wal"}, "The 'kind' parameter of ReplogConfig must be one of 'statement', "
         "'statement-fixed', 'physical', 'logical', 'trigger'. Got 'wal' instead."),
        ({"followers": 0}, "The 'followers' parameter of ReplogConfig must be an int in "
         "[1, 16]. Got 0 instead."),
        ({"transactions": 1.5}, "The 'transactions' parameter of ReplogConfig must be an int "
         "in [1, 100000]. Got 1.5 instead."),
        ({"follower_page_size": 1000}, "The 'follower_page_size' parameter of ReplogConfig "
         "must be a power of two in [512, 65536]. Got 1000 instead."),
        ({"kind": "physical", "follower_schema": "newer"}, "The 'follower_schema' parameter "
         "of ReplogConfig must be 'same' when kind='physical'. Got 'newer' instead."),
        ({"kind": "trigger", "follower_store": "dataframe"}, "The 'follower_store' parameter "
         "of ReplogConfig must be 'sqlite' when kind='trigger'. Got 'dataframe' instead."),
        ({"kind": "physical", "follower_writes": 3}, "The 'follower_writes' parameter of "
         "ReplogConfig must be 0 for a read-only follower (kind='physical', "
         "follower_store='sqlite'). Got 3 instead."),
        ({"tables": "orders,nope", "kind": "trigger"}, "The 'tables' parameter of "
         "ReplogConfig must be one of 'audit', 'customers', 'orders'. Got 'nope' instead."),
        ({"row_filter": "id > 3"}, "The 'row_filter' parameter of ReplogConfig must be '' "
         "(no filter) when kind='logical'. Got 'id > 3' instead."),
        ({"lag_ms": -1.0}, "The 'lag_ms' parameter of ReplogConfig must be a finite number "
         "in [0, inf). Got -1.0 instead."),
        ({"join_at": 2}, "The 'join_at' parameter of ReplogConfig must be a finite number "
         "in [0, 1]. Got 2 instead."),
        ({"conflict": "newest"}, "The 'conflict' parameter of ReplogConfig must be one of "
         "'leader-wins', 'follower-wins', 'latest'. Got 'newest' instead."),
    ],
)
def test_bad_config_is_named(kw, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        ReplogConfig(**kw)


def test_row_filter_must_fit_some_table():
    with pytest.raises(ConfigError, match=re.escape("The 'row_filter' parameter")):
        run(kind="trigger", row_filter="no_such_column = 1")


def test_config_is_frozen_and_keyword_only():
    c = ReplogConfig()
    with pytest.raises(AttributeError):
        c.kind = "physical"  # type: ignore[misc]
    with pytest.raises(TypeError):
        ReplogConfig("physical")  # type: ignore[misc]
