"""``simulate_replog``: one experiment's divergence report as frames and flat metrics."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import pandas as pd

from replab.replog._node import table_frame
from replab.replog.compare import DIFF_COLUMNS, diff_tables
from replab.replog.config import KINDS, ReplogConfig
from replab.replog.simulate import FollowerState, Run, frame_of_log, run_in_tempdir
from replab.replog.trigger import filter_applies
from replab.rng import SeedLike, as_generator
from replab.stats import wilson

__all__ = [
    "FOLLOWER_COLUMNS",
    "TIMING_METRICS",
    "ReplogResult",
    "simulate_replog",
    "compare_kinds",
]

FOLLOWER_COLUMNS = [
    "follower", "joined", "joined_at_lsn", "records", "bytes_received", "writes_applied",
    "changes", "conflicts",
    "apply_errors", "rows", "divergent_rows", "missing_rows", "extra_rows", "changed_rows",
    "byte_identical", "apply_seconds", "apply_rate", "error",
]
# Wall-clock measurements: everything else in a result is a function of (config, seed).
TIMING_METRICS = ("apply_seconds", "apply_rate", "leader_seconds", "leader_ms_per_write")


@dataclass(frozen=True, eq=False)
class ReplogResult:
    """The outcome of :func:`simulate_replog`.

    Attributes
    ----------
    config : ReplogConfig
    metrics : dict
        Flat metrics (see :func:`simulate_replog`).
    followers : DataFrame
        One row per follower, columns ``FOLLOWER_COLUMNS``; ``changes`` counts what the
        kind applies (statements, pages, or row changes). The follower built from a
        snapshot while writes continued is last, with ``joined`` True.
        ``byte_identical`` (physical kind only, else None) tells whether the follower's
        file equals the leader's database image byte for byte.
    diff : DataFrame
        Every differing row: ``follower, table, key, status, columns``.
    log : DataFrame
        One row per log record: ``lsn, round, client, writes, nbytes, commit_ms``.
    leader_tables : dict of DataFrame
        The leader's (replicated) tables at the end, indexed by primary key.
    follower_tables : dict of dict of DataFrame
        The same per follower name.
    """

    config: ReplogConfig
    metrics: dict[str, Any]
    followers: pd.DataFrame
    diff: pd.DataFrame
    log: pd.DataFrame
    leader_tables: dict[str, pd.DataFrame]
    follower_tables: dict[str, dict[str, pd.DataFrame]]


def _byte_identical(run: Run, state: FollowerState) -> bool | None:
    """Physical followers only: is the file the leader's current image, byte for byte?"""
    path = getattr(state.follower, "path", None)
    if run.config.kind != "physical" or path is None:
        return None
    return bool(path.read_bytes() == run.leader.conn.serialize("main"))


def _follower_row(run: Run, state: FollowerState, diff: pd.DataFrame, rows: int
                  ) -> dict[str, Any]:
    counts = diff["status"].value_counts()
    n = int(counts.sum())
    return {
        "follower": state.follower.name, "joined": state.joined,
        "joined_at_lsn": state.joined_at,
        "records": state.records, "bytes_received": state.bytes_received,
        "writes_applied": state.writes,
        "changes": state.stats.changes, "conflicts": state.stats.conflicts,
        "apply_errors": state.errors, "rows": rows, "divergent_rows": n,
        "missing_rows": int(counts.get("missing", 0)), "extra_rows": int(counts.get("extra", 0)),
        "changed_rows": int(counts.get("changed", 0)),
        "byte_identical": _byte_identical(run, state), "apply_seconds": state.seconds,
        "apply_rate": state.writes / state.seconds if state.seconds else 0.0,
        "error": state.first_error,
    }


def _leader_tables(run: Run) -> dict[str, pd.DataFrame]:
    conn, expr = run.leader.conn, run.config.row_filter
    out = {}
    for t in run.compared_tables():
        use = filter_applies(conn, t, expr)
        out[t] = table_frame(conn, t, f"coalesce(({expr}), 0)" if use else None)
    return out


def _report(run: Run) -> ReplogResult:
    leader = _leader_tables(run)
    rows = sum(len(f) for f in leader.values())
    tables, diffs, per = {}, [], []
    for state in run.followers:
        tables[state.follower.name] = state.follower.tables(list(leader))
        diff = diff_tables(leader, tables[state.follower.name], name=state.follower.name)
        diffs.append(diff)
        per.append(_follower_row(run, state, diff, rows))
    followers = pd.DataFrame(per, columns=FOLLOWER_COLUMNS)
    diff = pd.concat(diffs, ignore_index=True) if diffs else pd.DataFrame(columns=DIFF_COLUMNS)
    log = frame_of_log(run)
    return ReplogResult(run.config, _metrics(run, followers, log, rows), followers, diff, log,
                        leader, tables)


def _metrics(run: Run, f: pd.DataFrame, log: pd.DataFrame, rows: int) -> dict[str, Any]:
    cfg = run.config
    writes = int(log["writes"].sum())
    shipped = int(log["nbytes"].sum())
    divergent = int(f["divergent_rows"].sum())
    compared = rows * len(f)
    lo, hi = wilson(min(divergent, compared), compared)
    seconds = float(f["apply_seconds"].sum())
    joined = f[f["joined"]]
    wal = run.leader.path.with_name(run.leader.path.name + "-wal")
    wal_bytes = wal.stat().st_size if wal.exists() else 0
    errors = [e for e in f["error"] if e]
    return {
        "kind": cfg.kind, "workload": cfg.workload, "followers": len(f),
        "transactions": cfg.transactions, "writes": writes, "leader_rows": rows,
        "divergent_rows": divergent,
        "divergent_followers": int((f["divergent_rows"] > 0).sum()),
        "divergent_fraction": divergent / compared if compared else 0.0,
        "ci_low": float(lo), "ci_high": float(hi),
        "bytes_shipped": shipped, "bytes_per_write": shipped / writes if writes else 0.0,
        "records": len(log), "changes_applied": int(f["changes"].sum()),
        "apply_errors": int(f["apply_errors"].sum()), "conflicts": int(f["conflicts"].sum()),
        "apply_seconds": seconds,
        "apply_rate": float(f["writes_applied"].sum()) / seconds if seconds else 0.0,
        "leader_seconds": run.leader_seconds,
        "leader_ms_per_write": 1000 * run.leader_seconds / writes if writes else 0.0,
        "leader_wal_bytes_per_write": wal_bytes / writes if writes else 0.0,
        "substitutions": getattr(run.replicator, "substitutions", 0),
        "snapshot_lsn": int(joined["joined_at_lsn"].iloc[0]) if len(joined) else -1,
        "snapshot_commits_during": run.snapshot_commits,
        "snapshot_backlog": run.followers[-1].backlog if len(joined) else 0,
        "snapshot_divergent_rows": int(joined["divergent_rows"].sum()),
        "byte_identical_followers": int((f["byte_identical"] == True).sum()),  # noqa: E712
        "first_error": errors[0] if errors else "",
    }


def simulate_replog(config: ReplogConfig | None = None, *, seed: SeedLike = None) -> ReplogResult:
    """Run the replication log ``config.kind`` for real on SQLite and report divergence.

    Parameters
    ----------
    config : ReplogConfig, optional
        The experiment (default: ``ReplogConfig()``).
    seed : int, Generator or None
        Everything but wall-clock timings (``TIMING_METRICS`` and the ``apply_seconds``,
        ``apply_rate`` columns) is a function of ``(config, seed)``.

    Returns
    -------
    ReplogResult
        ``metrics`` holds: ``kind, workload, followers`` (including the snapshot-built
        one), ``transactions, writes, leader_rows``, ``divergent_rows`` (summed over
        followers), ``divergent_followers``, ``divergent_fraction`` of the compared rows
        with Wilson ``ci_low``/``ci_high``, ``bytes_shipped`` (log payload),
        ``bytes_per_write``, ``records``, ``changes_applied``, ``apply_errors``,
        ``conflicts``, ``apply_seconds``, ``apply_rate`` (client writes applied per second
        of follower apply time),
        ``leader_seconds``, ``leader_ms_per_write``, ``leader_wal_bytes_per_write`` (what
        the leader itself writes, capture included), ``substitutions`` (statement-fixed),
        ``snapshot_lsn`` (-1 without one), ``snapshot_commits_during``,
        ``snapshot_backlog``, ``snapshot_divergent_rows``, ``byte_identical_followers``
        and ``first_error``.

    Examples
    --------
    >>> r = simulate_replog(ReplogConfig(kind="logical", transactions=20), seed=1)
    >>> r.metrics["divergent_rows"], r.metrics["apply_errors"]
    (0, 0)
    """
    config = ReplogConfig() if config is None else config
    return run_in_tempdir(config, seed, _report)  # type: ignore[no-any-return]


def compare_kinds(
    config: ReplogConfig | None = None, kinds: tuple[str, ...] = KINDS, *, seed: SeedLike = None
) -> pd.DataFrame:
    """One row of metrics per log kind on the same workload and seed."""
    config = ReplogConfig() if config is None else config
    if not isinstance(seed, int):  # every kind must see the same workload
        seed = int(as_generator(seed).integers(0, 2**63))
    rows = [simulate_replog(dataclasses.replace(config, kind=k), seed=seed).metrics
            for k in kinds]
    return pd.DataFrame(rows)
