"""``replab simulate MODEL``: run one simulation, print its metrics, save its history.

Models are registered in :data:`replab.sweeps.model_targets.MODELS` (shared with
``replab sweep``); :data:`MODELS` here maps name -> (config class, run function), called as
``run(config, seed=seed)`` for a result with ``.metrics`` (a flat dict) and ``.history``.
``--replications N`` runs N seeds and prints every metric's mean and 95 % interval.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

import pandas as pd

from replab.cli import leaderless_cmd, replog_cmd
from replab.cli._common import (
    add_format,
    add_settings_help,
    build_config,
    emit_frame,
    emit_metrics,
)
from replab.errors import ConfigError
from replab.limits import check_output_file, check_simulation
from replab.sweeps import model_targets
from replab.sweeps.engine import plan
from replab.sweeps.summary import summarize

__all__ = ["MODELS", "register", "run_simulate", "run_replicated"]

#: model name -> (config dataclass, run function)
MODELS: dict[str, tuple[type, Callable[..., Any]]] = {
    name: (m.config_cls, m.simulate) for name, m in model_targets.MODELS.items()
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


def run_replicated(args: argparse.Namespace) -> int:
    """``--replications N``: N runs of the config, one seed each (derived from ``--seed``),
    summarised as one row a metric: mean and 95 % interval (Wilson for proportions)."""
    config_cls, run = MODELS[args.model]
    config = build_config(config_cls, args.set)
    check_simulation(config, config_cls.__name__)
    if getattr(args, "history", None):
        raise ConfigError("--history records one run; drop it or --replications.")
    if getattr(args, "show", "metrics") not in ("metrics", None):
        raise ConfigError(f"--show {args.show} shows one run; drop it or --replications.")
    rows = [{"replication": t.replication, **run(config, seed=t.seed).metrics, "seed": t.seed}
            for t in plan([{}], args.seed, args.replications)]
    row = summarize(pd.DataFrame(rows), []).iloc[0]
    metrics = [k for k in row.index if k != "runs" and not k.endswith(("_ci_low", "_ci_high",
                                                                        "_runs"))]
    table = pd.DataFrame({
        "metric": metrics, "mean": [row[k] for k in metrics],
        "ci_low": [row.get(f"{k}_ci_low") for k in metrics],
        "ci_high": [row.get(f"{k}_ci_high") for k in metrics]})
    title = (f"{args.model}: {args.replications} runs, mean and 95 % interval (Wilson for "
             "proportions, Student's t otherwise)")
    emit_frame(table, args.format, title=title)
    return 0


def _with_replications(run: Callable[[argparse.Namespace], int]
                       ) -> Callable[[argparse.Namespace], int]:
    def dispatch(args: argparse.Namespace) -> int:
        return run_replicated(args) if args.replications > 1 else run(args)

    return dispatch


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an int >= 1, got {text!r}")
    return value


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
        m.add_argument("--replications", type=_positive_int, default=1, metavar="N",
                       help="run N seeds and print each metric's mean and 95 %% interval")
        custom = CUSTOM_COMMANDS.get(name)
        if custom is not None:
            custom.add_arguments(m)
            m.set_defaults(run=_with_replications(custom.run))
            continue
        m.add_argument("--set", action="append", metavar="KEY=VALUE", default=[],
                       help=f"a {config_cls.__name__} setting (repeatable; all are listed "
                       "below)")
        m.add_argument("--seed", type=_nonneg_int, default=None, help="random seed")
        m.add_argument("--history", metavar="PATH", help="write the history as JSONL")
        add_format(m, ("table", "json"))
        m.set_defaults(run=_with_replications(run_simulate))
