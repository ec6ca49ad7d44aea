"""``replab record mariadb``: run the MariaDB lab on real servers and record a history.

Prints the run's metrics (``divergent_rows``, ``acked_writes_lost`` ...) and, as a table,
the rows that diverge per nondeterministic function and the state of every link. With
``--out DIR`` the history (JSONL, for ``replab check``), GTID positions over time and
every frame are saved there.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from replab.cli._common import add_format, emit_frame, emit_metrics

__all__ = ["register", "run"]


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
    p.add_argument("--out", metavar="DIR", help="save history.jsonl, positions.csv, ... here")
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
    result = run_mariadb(config, seed=args.seed, out=args.out)
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
        if args.out:
            sys.stdout.write(f"\nsaved to {args.out}\n")
    return 0
