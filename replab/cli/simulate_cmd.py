"""``replab simulate MODEL``: run one simulation, print its metrics, save its history.

Models are registered in :data:`MODELS` (name -> (config class, run function)); the run
function is called as ``run(config, seed=seed)`` and returns a result with ``.metrics``
(a flat dict) and ``.history`` (a History). Adding a model is one line here.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from replab.cli import leaderless_cmd, replog_cmd
from replab.cli._common import add_format, add_settings_help, build_config, emit_metrics
from replab.errors import ConfigError
from replab.limits import check_output_file, check_simulation
from replab.models import (
    LagAnomalyConfig,
    LeaderlessConfig,
    PartitionedConfig,
    SingleLeaderConfig,
    simulate_lag_anomalies,
    simulate_leaderless,
    simulate_partitioned,
    simulate_single_leader,
)
from replab.models.multi_leader import MultiLeaderConfig, simulate_multi_leader
from replab.replog import ReplogConfig, simulate_replog

__all__ = ["MODELS", "register", "run_simulate"]

#: model name -> (config dataclass, run function)
MODELS: dict[str, tuple[type, Callable[..., Any]]] = {
    "single-leader": (SingleLeaderConfig, simulate_single_leader),
    "replog": (ReplogConfig, simulate_replog),
    "lag-anomalies": (LagAnomalyConfig, simulate_lag_anomalies),
    "partitioned": (PartitionedConfig, simulate_partitioned),
    "leaderless": (LeaderlessConfig, simulate_leaderless),
    "multi-leader": (MultiLeaderConfig, simulate_multi_leader),
}

#: models with options or output beyond the metrics table: name -> a module with
#: ``add_arguments(parser)`` and ``run(args) -> exit status``
CUSTOM_COMMANDS: dict[str, Any] = {
    "replog": replog_cmd,
    "leaderless": leaderless_cmd,
}


def run_simulate(args: argparse.Namespace) -> int:
    config_cls, run = MODELS[args.model]
    config = build_config(config_cls, args.set)
    check_simulation(config, config_cls.__name__)
    if args.history:
        check_output_file(args.history, "--history")
    result = run(config, seed=args.seed)
    if args.history:
        try:
            result.history.to_jsonl(args.history)
        except OSError as e:
            raise ConfigError(f"Cannot write the history to {args.history!r}: "
                              f"{e.strerror}.") from None
    emit_metrics(result.metrics, args.format)
    return 0


def _nonneg_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative int, got {text!r}")
    return value


def register(sub: Any) -> None:
    p = sub.add_parser("simulate", help="run a replication simulation (metrics + history)")
    models = p.add_subparsers(dest="model", metavar="MODEL", parser_class=type(p))
    models.required = True
    for name, (config_cls, _) in MODELS.items():
        m = models.add_parser(name, help=(config_cls.__doc__ or "").strip().splitlines()[0])
        add_settings_help(m, config_cls)
        custom = CUSTOM_COMMANDS.get(name)
        if custom is not None:
            custom.add_arguments(m)
            m.set_defaults(run=custom.run)
            continue
        m.add_argument("--set", action="append", metavar="KEY=VALUE", default=[],
                       help=f"a {config_cls.__name__} setting (repeatable; all are listed "
                       "below)")
        m.add_argument("--seed", type=_nonneg_int, default=None, help="random seed")
        m.add_argument("--history", metavar="PATH", help="write the history as JSONL")
        add_format(m, ("table", "json"))
        m.set_defaults(run=run_simulate)
