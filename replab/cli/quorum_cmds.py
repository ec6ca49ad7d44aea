"""``replab staleness``, ``replab t-visibility``, ``replab latency``, ``replab availability``."""

from __future__ import annotations

import argparse
import math
from typing import Any

from replab.cli._common import add_format, emit_frame
from replab.errors import ConfigError
from replab.latency import as_wars, profile, profile_names
from replab.limits import MAX_AVAILABILITY_N, check_wars_memory
from replab.quorum import availability, simulate_wars
from replab.validate import check_int

DEFAULT_T = [0.0, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0]


def _quorum_args(p: argparse.ArgumentParser, latency: bool = True) -> None:
    p.add_argument("--n", type=int, required=True, help="replicas")
    p.add_argument("--r", type=int, required=True, help="read quorum")
    p.add_argument("--w", type=int, required=True, help="write quorum")
    if latency:
        src = p.add_mutually_exclusive_group(required=True)
        src.add_argument("--profile", help=f"named profile: {', '.join(profile_names())}")
        src.add_argument("--latency", help="a latency spec for all four delays, e.g. exp:0.1")
        p.add_argument("--trials", type=int, default=100_000, help="Monte Carlo trials")
        p.add_argument("--seed", type=int, default=None, help="random seed")


def _latency(args: argparse.Namespace) -> Any:
    # --profile takes names only (a spec there would be a typo); --latency takes either.
    return profile(args.profile) if args.profile is not None else as_wars(args.latency)


def _trials(args: argparse.Namespace) -> Any:
    if args.n > 0 and args.trials > 0:  # else the estimator names the bad value
        check_wars_memory(args.n, args.trials, f"replab {args.command}")
    return simulate_wars(
        args.n, args.r, args.w, _latency(args), trials=args.trials, seed=args.seed
    )


def run_staleness(args: argparse.Namespace) -> int:
    ts = args.t if args.t else DEFAULT_T
    for t in ts:
        if not math.isfinite(t) or t < 0:
            raise ConfigError(
                f"The 't' parameter must be a finite time >= 0 (ms). Got {t!r} instead."
            )
    emit_frame(_trials(args).staleness(ts, k=args.k), args.format)
    return 0


def run_t_visibility(args: argparse.Namespace) -> int:
    emit_frame(_trials(args).t_visibility(args.p, k=args.k), args.format)
    return 0


def run_latency(args: argparse.Namespace) -> int:
    emit_frame(_trials(args).latency_percentiles(args.q), args.format)
    return 0


def run_availability(args: argparse.Namespace) -> int:
    check_int(args.n, "n", "replab availability", low=1, high=MAX_AVAILABILITY_N)
    emit_frame(availability(args.n, args.r, args.w, args.p_fail), args.format)
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser(
        "staleness", help="P(read is consistent) t ms after a write commits (PBS)"
    )
    _quorum_args(p)
    p.add_argument("--t", type=float, nargs="+", help="times after commit (ms)")
    p.add_argument("--k", type=int, default=1, help="accept values up to k versions old")
    add_format(p)
    p.set_defaults(run=run_staleness)

    p = sub.add_parser(
        "t-visibility", help="time after commit until P(consistent) reaches a target"
    )
    _quorum_args(p)
    p.add_argument("--p", type=float, nargs="+", default=[0.99, 0.999], help="targets")
    p.add_argument("--k", type=int, default=1)
    add_format(p)
    p.set_defaults(run=run_t_visibility)

    p = sub.add_parser("latency", help="read and write latency percentiles")
    _quorum_args(p)
    p.add_argument("--q", type=float, nargs="+", default=[50.0, 99.0, 99.9],
                   help="percentiles")
    add_format(p)
    p.set_defaults(run=run_latency)

    p = sub.add_parser("availability", help="P(a quorum can be formed) with node failures")
    _quorum_args(p, latency=False)
    p.add_argument("--p-fail", type=float, nargs="+", required=True,
                   help="probability each node is down")
    add_format(p)
    p.set_defaults(run=run_availability)
