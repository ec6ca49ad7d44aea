"""``replab record postgres``: run the real-PostgreSQL lab and record a history.

Starts a primary and hot standbys on 127.0.0.1 in a temporary folder, drives the
workload, injects the fault, writes the history (JSONL; then ``replab check`` it) and
prints the checkers' report, the fault timeline and the run's metrics (``--lag-out``
writes the lag samples); ``--compare`` adds the simulator's prediction for the measured
lag.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from replab.cli._common import _jsonable, add_format, emit_frame, emit_metrics, output_file
from replab.errors import ConfigError, ReplabError
from replab.validate import fail

__all__ = ["register", "run", "parse_delays"]


def parse_delays(text: str) -> float | tuple[float, ...]:
    """``"100"`` -> 100.0 for every standby; ``"0,200"`` -> one delay per standby."""
    try:
        values = tuple(float(x) for x in text.split(","))
    except ValueError:
        raise ConfigError("The 'apply_delay_ms' parameter of PgLabConfig must be a number "
                          f"or comma-separated numbers. Got {text!r} instead.") from None
    return values[0] if len(values) == 1 else values


def check_fault_time(args: argparse.Namespace) -> None:
    """A fault after the run ends is the fault time's error, not the stall's."""
    at, duration = args.fault_at_s, args.duration_s
    if at is not None and args.fault != "none" and isinstance(duration, float) and at >= duration:
        raise fail("fault_at_s", "PgLabConfig", f"a float in [0, duration_s={duration:g}) "
                   "(the fault must start before the run ends)", at)


def run(args: argparse.Namespace) -> int:
    from replab.real.postgres import PgLabConfig, run_postgres_lab
    from replab.real.postgres.compare import compare_with_simulator

    check_fault_time(args)
    config = PgLabConfig(
        standbys=args.standbys, mode=args.mode, commit_level=args.commit_level,
        apply_delay_ms=parse_delays(args.apply_delay_ms), routing=args.routing,
        fault=args.fault, stall_s=args.stall_s, fault_at_s=args.fault_at_s,
        duration_s=args.duration_s, max_ops=args.max_ops, clients=args.clients,
        keys=args.keys, think_ms=args.think_ms)
    if args.compare and args.fault != "none":
        raise ConfigError("--compare needs --fault none: the simulator models no walsender "
                          f"stall or failover. Got --fault {args.fault} instead.")
    # Both outputs are checked before a server starts.
    out = output_file(args.out, "--out", "record postgres", default_name="history.jsonl")
    lag_out = (output_file(args.lag_out, "--lag-out", "record postgres", default_name="lag.csv")
               if args.lag_out else None)
    result = run_postgres_lab(config, seed=args.seed)
    try:
        result.history.to_jsonl(out)
        if lag_out is not None:
            result.lag.to_csv(lag_out, index=False)
    except OSError as e:
        raise ReplabError(f"cannot write {e.filename!r}: {e.strerror or e}") from None
    compared = compare_with_simulator(result, seed=args.seed) if args.compare else None
    if args.format == "json":
        _json_report(result, compared)
    else:
        _table_report(result, compared, str(out))
    return 0


def _json_report(result: Any, compared: Any) -> None:
    doc = {"checks": result.checks.to_dict("records"),
           "faults": result.faults.to_dict("records"),
           "metrics": {k: v for k, v in result.metrics.items() if k != "workload_end"},
           "failover": {k: v for k, v in result.failover.items() if "versions" not in k}}
    if compared is not None:
        doc["compare"] = compared.to_dict("records")
    sys.stdout.write(json.dumps(_jsonable(doc), indent=2) + "\n")


def _table_report(result: Any, compared: Any, out: str) -> None:
    sys.stdout.write(f"{len(result.history)} operations written to {out}\n\n")
    emit_frame(result.checks, "table", title="checks")
    if len(result.faults):
        sys.stdout.write("\n")
        emit_frame(result.faults.assign(value=result.faults["value"].astype(str)), "table",
                   title="faults")
    sys.stdout.write("\n")
    emit_metrics({k: v for k, v in result.metrics.items() if k != "workload_end"}, "table")
    if compared is not None:
        sys.stdout.write("\n")
        emit_frame(compared, "table",
                   title="measured vs simulated (lag-anomalies model, measured lag and rate)")


def register(sub: Any) -> None:
    """Add the ``postgres`` subcommand to ``replab record``."""
    from replab.real.postgres.names import COMMIT_LEVELS, FAULTS, MODES, ROUTINGS

    p = sub.add_parser(
        "postgres",
        help="a primary and hot standbys of the system's PostgreSQL (127.0.0.1, temp dirs)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--standbys", type=int, default=1, help="hot standbys, 1-3 (default 1)")
    p.add_argument("--mode", choices=MODES, default="async",
                   help="async; sync (every standby synchronous); semi-sync (FIRST 1)")
    p.add_argument("--commit-level", choices=COMMIT_LEVELS, default="on",
                   help="synchronous_commit in the sync modes (default on)")
    p.add_argument("--apply-delay-ms", default="0", metavar="MS",
                   help="recovery_min_apply_delay: one value, or one per standby (0,200)")
    p.add_argument("--routing", choices=ROUTINGS, default="standby",
                   help="where reads go (default standby)")
    p.add_argument("--fault", choices=FAULTS, default="none",
                   help="stall: stop the walsenders, then resume; failover: stall, kill the "
                        "primary, promote a standby, pg_rewind the old primary")
    p.add_argument("--stall-s", type=float, default=2.0, help="stall length (default 2)")
    p.add_argument("--fault-at-s", type=float, default=None,
                   help="when the fault starts (default: a third of the run)")
    p.add_argument("--duration-s", type=float, default=5.0, help="run length (default 5)")
    p.add_argument("--max-ops", type=int, default=None, help="stop after this many ops")
    p.add_argument("--clients", type=int, default=4, help="client sessions (default 4)")
    p.add_argument("--keys", type=int, default=16, help="keys (default 16)")
    p.add_argument("--think-ms", type=float, default=10.0,
                   help="mean think time between a client's ops (default 10)")
    p.add_argument("--seed", type=int, default=None, help="seed of the clients' choices")
    p.add_argument("--out", required=True, metavar="HISTORY.jsonl",
                   help="the history file (a folder is accepted: FOLDER/history.jsonl)")
    p.add_argument("--lag-out", metavar="LAG.csv", help="also write the lag samples")
    p.add_argument("--compare", action="store_true",
                   help="also run the simulator with the measured lag and compare")
    add_format(p, ("table", "json"))
    p.set_defaults(run=run)
