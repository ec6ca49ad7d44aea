"""``replab simulate replog``: run a replication log for real on SQLite databases.

Registered in the ``simulate`` registry (:mod:`replab.cli.simulate_cmd`), which calls
:func:`run` so that the table output can add the per-follower divergence table.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from replab.cli._common import add_format, build_config, emit_frame, emit_metrics
from replab.errors import ConfigError
from replab.limits import check_simulation
from replab.replog import ReplogConfig, simulate_replog
from replab.rng import SeedLike

__all__ = ["MODEL", "add_arguments", "run", "run_metrics"]

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
    p.add_argument("--history", metavar="PATH", help=argparse.SUPPRESS)
    add_format(p, ("table", "json"))


def run(args: argparse.Namespace) -> int:
    """Build the config from ``--set``, run it, print metrics (and, as a table, followers)."""
    if getattr(args, "history", None):
        raise ConfigError("The 'replog' model runs real SQLite databases and records no "
                          "client history; drop --history.")
    config = build_config(ReplogConfig, args.set, _OWNER)
    check_simulation(config, _OWNER)
    result = simulate_replog(config, seed=args.seed)
    emit_metrics(result.metrics, args.format)
    if args.format == "table":
        sys.stdout.write("\n")
        emit_frame(result.followers[_SHOWN], "table")
    return 0
