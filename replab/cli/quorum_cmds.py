"""``replab staleness``, ``replab t-visibility``, ``replab latency``, ``replab availability``."""

from __future__ import annotations

import argparse
import math
import signal
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any

import pandas as pd

from replab.cli._common import add_format, emit_frame
from replab.errors import ConfigError
from replab.latency import as_wars, profile, profile_names
from replab.limits import MAX_AVAILABILITY_N, check_wars_memory, check_wars_time
from replab.quorum import availability, simulate_wars
from replab.sweeps.executors import dask_client, keep_freed_memory
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
        _scale_args(p)


def _scale_args(p: argparse.ArgumentParser) -> None:
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, default=None,
                       help="stream the chunks of a large run through N local processes")
    where.add_argument("--scheduler", metavar="ADDRESS", default=None,
                       help="stream them through the Dask cluster whose scheduler is ADDRESS")
    p.add_argument("--chunk-size", type=int, default=None,
                   help="trials per chunk (default 2**20 up to n=7; part of the result's "
                   "identity)")
    p.add_argument("--max-seconds", type=float, default=None,
                   help="refuse a run estimated to take longer (default: REPLAB_MAX_SECONDS, "
                   "else 3600)")
    p.add_argument("--no-progress", action="store_true",
                   help="no progress bar on long runs")


def _latency(args: argparse.Namespace) -> Any:
    # --profile takes names only (a spec there would be a typo); --latency takes either.
    return profile(args.profile) if args.profile is not None else as_wars(args.latency)


def _ignore_sigint() -> None:
    # Ctrl-C is the parent's to handle; workers just stop when the pool shuts down.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextmanager
def _executor(args: argparse.Namespace) -> Iterator[tuple[Any, int]]:
    """The executor the options ask for (None: this process) and its worker count."""
    if args.scheduler is not None:
        with dask_client(args.scheduler) as client:
            yield client, max(1, sum(client.nthreads().values()))
    elif args.workers is not None and args.workers > 1:
        pool = ProcessPoolExecutor(max_workers=args.workers, initializer=_ignore_sigint)
        try:
            yield pool, args.workers
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    else:
        yield None, 1


def _check_scale(args: argparse.Namespace) -> None:
    owner = f"replab {args.command}"
    if args.workers is not None:
        check_int(args.workers, "workers", owner, low=1)
    if args.chunk_size is not None:
        check_int(args.chunk_size, "chunk_size", owner, low=1)
    if args.max_seconds is not None and not (math.isfinite(args.max_seconds)
                                             and args.max_seconds > 0):
        raise ConfigError(f"The 'max_seconds' parameter of {owner} must be a finite number "
                          f"> 0. Got {args.max_seconds!r} instead.")


def _run(args: argparse.Namespace, passes: int, reduce: Callable[[Any], pd.DataFrame]) -> int:
    """Check, open the executor, stream the trials, print the table; Ctrl-C -> exit 130."""
    _check_scale(args)
    owner = f"replab {args.command}"
    model = _latency(args)
    keep_freed_memory()
    try:
        with _executor(args) as (executor, workers):
            if args.n > 0 and args.trials > 0:  # else the estimator names the bad value
                check_wars_memory(args.n, args.trials, owner, whole_chunk=False)  # n too big
                check_wars_time(args.n, args.trials, owner, passes=passes, workers=workers,
                                limit=args.max_seconds)
                check_wars_memory(args.n, args.trials, owner)  # no chunk fits the limit
            res = simulate_wars(args.n, args.r, args.w, model, trials=args.trials,
                                seed=args.seed, executor=executor, chunk_size=args.chunk_size,
                                progress=not args.no_progress and sys.stderr.isatty())
            frame = reduce(res)
    except KeyboardInterrupt:
        print(f"{owner}: interrupted", file=sys.stderr)
        return 130
    emit_frame(frame, args.format)
    return 0


def run_staleness(args: argparse.Namespace) -> int:
    ts = args.t if args.t else DEFAULT_T
    for t in ts:
        if not math.isfinite(t) or t < 0:
            raise ConfigError(
                f"The 't' parameter must be a finite time >= 0 (ms). Got {t!r} instead."
            )
    return _run(args, 1, lambda res: res.staleness(ts, k=args.k))


def run_t_visibility(args: argparse.Namespace) -> int:
    return _run(args, 2, lambda res: res.t_visibility(args.p, k=args.k))


def run_latency(args: argparse.Namespace) -> int:
    return _run(args, 2, lambda res: res.latency_percentiles(args.q))


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
