"""``replab record patroni``: automatic failover, for real, with Patroni.

Starts a Patroni cluster on 127.0.0.1 in a temporary folder (Raft as the DCS, everything
as ``postgres``), writes to whichever node leads, injects the fault and prints what was
measured: failover time, detection and unavailability as the clients saw them, the
split-brain window, acknowledged writes lost (the history's lost-write check and the rows
missing on the final leader) and the old leader's rejoin. With ``--out DIR`` the history
(JSONL, for ``replab check``), the role samples, the leadership intervals and the metrics
are saved there. Every process is stopped at the end (also on Ctrl-C and SIGTERM).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from replab.cli._common import add_format, emit_frame, emit_metrics
from replab.errors import ReplabError

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    """Add the ``patroni`` subcommand to ``replab record``."""
    from replab.real.patroni.config import FAULTS, MODES

    p = sub.add_parser(
        "patroni", help="automatic failover with Patroni (Raft DCS, 127.0.0.1, temp dirs)",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--nodes", type=int, default=3, help="Patroni nodes, 3-5 (default 3)")
    p.add_argument("--mode", choices=MODES, default="async",
                   help="async, or sync (synchronous_mode: only the sync standby is promoted)")
    p.add_argument("--ttl", type=float, default=20.0, metavar="S",
                   help="leader lock ttl, >= 20 (default 20)")
    p.add_argument("--loop-wait", type=float, default=2.0, metavar="S",
                   help="Patroni's loop_wait (default 2)")
    p.add_argument("--retry-timeout", type=float, default=5.0, metavar="S",
                   help="Patroni's retry_timeout (default 5)")
    p.add_argument("--fault", choices=FAULTS, default="pause-leader",
                   help="pause-leader: SIGSTOP the leader's Patroni and PostgreSQL for "
                        "--pause-s; kill-leader: kill -9 its postmaster; pause-replica; "
                        "stop-leader: kill -9 Patroni and PostgreSQL, restart after --pause-s")
    p.add_argument("--pause-s", type=float, default=22.0, metavar="S",
                   help="how long the pause (or the stop) lasts (default 22)")
    p.add_argument("--fault-at-s", type=float, default=3.0, metavar="S",
                   help="when the fault strikes (default 3)")
    p.add_argument("--duration-s", type=float, default=40.0, metavar="S",
                   help="how long the clients write (default 40)")
    p.add_argument("--clients", type=int, default=4, help="writing sessions (default 4)")
    p.add_argument("--op-timeout-s", type=float, default=60.0, metavar="S",
                   help="a write's client-side timeout, then it is info (default 60)")
    p.add_argument("--seed", type=int, default=None, help="seed of the clients' think times")
    p.add_argument("--out", metavar="DIR",
                   help="save history.jsonl, roles/leadership/writes.csv, metrics.json here")
    add_format(p, ("table", "json"))
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Build the config (a bad value: one line, exit 2), run, print, save."""
    from replab.real.patroni import PatroniConfig, run_patroni

    config = PatroniConfig(
        nodes=args.nodes, mode=args.mode, ttl=args.ttl, loop_wait=args.loop_wait,
        retry_timeout=args.retry_timeout, fault=args.fault, pause_s=args.pause_s,
        fault_at_s=args.fault_at_s, duration_s=args.duration_s, clients=args.clients,
        op_timeout_s=args.op_timeout_s)
    result = run_patroni(config, seed=args.seed)
    if args.out:
        try:
            result.save(args.out)
        except OSError as e:
            raise ReplabError(f"cannot write {e.filename!r}: {e.strerror or e}") from None
    emit_metrics(result.metrics, args.format)
    if args.format == "table":
        sys.stdout.write("\nleadership (when each node said it was the primary)\n")
        emit_frame(result.leadership.round(3), "table")
        if args.out:
            sys.stdout.write(f"\nsaved to {args.out}\n")
    return 0
