"""``replab simulate replog``: run a replication log for real on SQLite databases.

The shared ``simulate`` registry plugs this in through :data:`MODEL`
(``(name, config class, run function)``) or :func:`add_arguments` + :func:`run`;
until then :func:`register` adds a top-level ``replab replog`` command with the same
arguments.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from replab.cli._common import add_format, emit_frame, emit_metrics, parse_settings
from replab.replog import ReplogConfig, simulate_replog
from replab.rng import SeedLike

__all__ = ["MODEL", "add_arguments", "run", "run_metrics", "register"]

_OWNER = "ReplogConfig"
_SHOWN = ["follower", "joined", "joined_at_lsn", "records", "writes_applied", "conflicts",
          "apply_errors", "divergent_rows", "missing_rows", "extra_rows", "changed_rows"]


def run_metrics(config: ReplogConfig, seed: SeedLike = None) -> dict[str, Any]:
    """The flat metrics of one run (what ``--format json`` prints)."""
    return simulate_replog(config, seed=seed).metrics


MODEL = ("replog", ReplogConfig, run_metrics)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """``--set KEY=VALUE`` (ReplogConfig fields), ``--seed``, ``--format``."""
    p.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE",
        help="a ReplogConfig setting, e.g. kind=statement workload=nondeterministic "
             "followers=2 transactions=200 follower_page_size=8192 (repeatable)",
    )
    p.add_argument("--seed", type=int, default=None, help="random seed")
    add_format(p, ("table", "json"))


def run(args: argparse.Namespace) -> int:
    """Build the config from ``--set``, run it, print metrics (and, as a table, followers)."""
    config = ReplogConfig(**parse_settings(args.set, ReplogConfig, _OWNER))
    result = simulate_replog(config, seed=args.seed)
    emit_metrics(result.metrics, args.format)
    if args.format == "table":
        sys.stdout.write("\n")
        emit_frame(result.followers[_SHOWN], "table")
    return 0


def register(sub: Any) -> None:
    """Temporary top-level ``replab replog`` (the lead maps ``simulate replog`` to it)."""
    p = sub.add_parser("replog", help="run a replication log on SQLite; report divergence")
    add_arguments(p)
    p.set_defaults(run=run)
