"""``replab simulate leaderless``: run the leaderless (Dynamo-style) simulation.

Registered in the ``simulate`` registry (:mod:`replab.cli.simulate_cmd`) through
:func:`add_arguments` and :func:`run`.

Examples::

    replab simulate leaderless --set n=3 --set r=1 --set w=1 --set workload=pbs \\
        --set latency=LNKD-DISK --set read_delay=5 --set trials=20000 --seed 1
    replab simulate leaderless --set sloppy=true --set p_fail=0.1 --history h.jsonl
    replab simulate leaderless --show scenarios
"""

from __future__ import annotations

import argparse
from typing import Any

from replab.cli._common import add_format, build_config, emit_frame, emit_metrics
from replab.limits import check_output_file, check_simulation

__all__ = ["add_arguments", "run", "SHOW"]

#: What ``--show`` can print besides the metrics.
SHOW = ("metrics", "staleness", "final-lag", "anti-entropy", "writes", "trials", "scenarios")


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of the command (shared with a future ``simulate leaderless``)."""
    p.add_argument("--set", action="append", metavar="KEY=VALUE", default=[],
                   help="a LeaderlessConfig setting, e.g. n=3, r=2, w=2, latency=LNKD-DISK, "
                        "workload=pbs|clients, read_delay, trials, sloppy, read_repair, "
                        "anti_entropy_interval_ms, clock_skew_ms, resolution=lww|siblings, "
                        "p_fail (repeatable; all are listed below)")
    p.add_argument("--seed", type=int, default=None, help="random seed")
    p.add_argument("--history", metavar="PATH", help="write the history as JSONL here")
    p.add_argument("--show", choices=SHOW, default="metrics",
                   help="what to print (default: the metrics)")
    add_format(p, ("table", "json"))


def _frame(result: Any, show: str) -> Any:
    from replab.models.leaderless import staleness_summary

    if show == "staleness":
        return staleness_summary(result.staleness, by="key")
    if show == "final-lag":
        return result.final_lag
    if show == "anti-entropy":
        return result.anti_entropy
    if show == "writes":
        return result.writes.assign(vv=result.writes.vv.astype(str))
    return result.trials


def run(args: argparse.Namespace) -> int:
    from replab.models.leaderless import LeaderlessConfig, quorum_edge_cases, simulate_leaderless

    if args.show == "scenarios":
        df = quorum_edge_cases()
        emit_frame(df.assign(facts=df.facts.astype(str)), args.format)
        return 0
    config = build_config(LeaderlessConfig, args.set)
    if args.seed is not None and args.seed < 0:
        from replab.validate import fail

        raise fail("seed", "replab simulate leaderless", "an int >= 0", args.seed)
    check_simulation(config, "LeaderlessConfig")
    if args.history:
        check_output_file(args.history, "--history")
    result = simulate_leaderless(config, seed=args.seed)
    if args.history:
        result.history.to_jsonl(args.history)
    if args.show == "metrics":
        emit_metrics(result.metrics, args.format)
    else:
        emit_frame(_frame(result, args.show), args.format)
    return 0
