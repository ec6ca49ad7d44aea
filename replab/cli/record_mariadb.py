"""``replab record mariadb``: run the MariaDB lab on real servers and record a history.

Prints the run's metrics (``divergent_rows``, ``acked_writes_lost`` ...) and, as a table,
the rows that diverge per nondeterministic function and the state of every link. With
``--out HISTORY.jsonl`` the history (for ``replab check``) is written there, as with
``record postgres``, and the metrics and every frame beside it (``HISTORY.metrics.json``,
``HISTORY.positions.csv``, ...). A folder is accepted too: ``FOLDER/history.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from replab.cli._common import add_format, emit_frame, emit_metrics, output_file
from replab.errors import ConfigError

__all__ = ["register", "run", "FRAMES", "companions"]

#: the frames saved beside the history, one CSV each
FRAMES = ("writes", "positions", "divergence", "functions", "warnings", "links", "reach")


def companions(history: Path) -> dict[str, Path]:
    """The files written beside ``history``: ``metrics`` and one a frame."""
    stem = history.name.removesuffix(".jsonl")
    out = {"metrics": history.with_name(f"{stem}.metrics.json")}
    out.update({name: history.with_name(f"{stem}.{name}.csv") for name in FRAMES})
    return out


def _check_out(path: str) -> tuple[Path, dict[str, Path]]:
    history = output_file(path, "--out", "record mariadb", default_name="history.jsonl")
    others = companions(history)
    taken = [str(p) for p in others.values() if p.exists()]
    if taken:
        raise ConfigError(f"The '--out' option would overwrite {taken[0]!r} (written beside "
                          "the history); remove it or choose another name (nothing was "
                          "started).")
    return history, others


def _save(result: Any, history: Path, others: dict[str, Path]) -> None:
    result.history.to_jsonl(history)
    others["metrics"].write_text(json.dumps(result.metrics, indent=2, default=str))
    for name in FRAMES:
        getattr(result, name).to_csv(others[name], index=False)


def register(sub: Any) -> None:
    """Add the ``mariadb`` subcommand to ``replab record``."""
    from replab.real.mariadb.config import FAULTS
    from replab.real.mariadb.topology import BINLOG_FORMATS, TOPOLOGIES
    from replab.real.mariadb.workload import WORKLOADS

    p = sub.add_parser(
        "mariadb", help="MariaDB binlog replication: formats, semi-sync, rings (real servers)",
        description="Start MariaDB servers on 127.0.0.1 in a temporary directory, replicate, "
                    "inject a fault, and report divergence and acknowledged-write loss. "
                    "Every server is stopped at the end.")
    p.add_argument("--binlog", choices=BINLOG_FORMATS, default="row", help="binlog_format")
    p.add_argument("--workload", choices=WORKLOADS, default="counters")
    p.add_argument("--topology", choices=TOPOLOGIES, default="leader-follower")
    p.add_argument("--servers", type=int, default=3, help="servers (2 to 5)")
    p.add_argument("--semi-sync", choices=("on", "off"), default="off",
                   help="semi-synchronous replication (rpl_semi_sync_master_enabled)")
    p.add_argument("--semi-sync-timeout-ms", type=int, default=1000,
                   help="rpl_semi_sync_master_timeout: fall back to async after this")
    p.add_argument("--fault", choices=FAULTS, default="none")
    p.add_argument("--fault-at", type=float, default=0.5,
                   help="when the fault strikes, as a fraction of the duration")
    p.add_argument("--stall-ms", type=int, default=500,
                   help="stall length, or how long db1's links are cut before a crash")
    p.add_argument("--duration-s", type=float, default=2.0, help="how long clients write")
    p.add_argument("--clients", type=int, default=3)
    p.add_argument("--no-auto-increment-offsets", action="store_true",
                   help="multi-leader: keep auto_increment_increment = 1 (keys collide)")
    p.add_argument("--seed", type=int, default=None, help="random seed (the transactions)")
    p.add_argument("--out", metavar="HISTORY.jsonl",
                   help="write the history here, the metrics and frames beside it "
                        "(HISTORY.positions.csv, ...); a folder means FOLDER/history.jsonl")
    add_format(p, ("table", "json"))
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Build the config (a bad value is a ConfigError: one line, exit 2), run, print."""
    from replab.real.mariadb import MariaDBConfig, run_mariadb

    config = MariaDBConfig(
        binlog=args.binlog, workload=args.workload, topology=args.topology,
        servers=args.servers, semi_sync=args.semi_sync == "on",
        semi_sync_timeout_ms=args.semi_sync_timeout_ms, fault=args.fault,
        fault_at=args.fault_at, stall_ms=args.stall_ms, duration_s=args.duration_s,
        clients=args.clients, auto_increment_offsets=not args.no_auto_increment_offsets)
    saved = _check_out(args.out) if args.out else None  # before any server starts
    result = run_mariadb(config, seed=args.seed)
    if saved is not None:
        _save(result, *saved)
    emit_metrics(result.metrics, args.format)
    if args.format == "table":
        if len(result.functions):
            sys.stdout.write("\ndivergent rows per nondeterministic source\n")
            emit_frame(result.functions, "table")
        if config.fault != "none":
            sys.stdout.write("\nacknowledged writes held by each surviving server\n")
            emit_frame(result.reach, "table")
        sys.stdout.write("\nreplication links at the end\n")
        emit_frame(result.links.drop(columns=["gtid_io_pos"]), "table")
        if saved is not None:
            sys.stdout.write(f"\nhistory saved to {saved[0]}, metrics and frames beside it\n")
    return 0
