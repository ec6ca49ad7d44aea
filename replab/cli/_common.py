"""Shared pieces of the command line: the parser, output formats, ``--set`` parsing."""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
import typing
from typing import Any, NoReturn

import pandas as pd

from replab.errors import ConfigError

FORMATS = ("table", "csv", "json")


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr, exit status 2.

    ``epilog_factory`` (set after construction) builds the epilog only when help is
    shown, so costly help (a model's settings table) does not slow every command.
    """

    epilog_factory: Any = None

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")

    def format_help(self) -> str:
        if self.epilog_factory is not None:
            self.epilog = self.epilog_factory()
        return super().format_help()


def add_settings_help(p: argparse.ArgumentParser, config_cls: type) -> None:
    """Make ``p --help`` list every setting of ``config_cls`` (type, default, allowed)."""
    from replab.cli._settings import settings_help

    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.epilog_factory = lambda: settings_help(config_cls)  # type: ignore[attr-defined]


def build_config(config_cls: type, pairs: list[str] | None, owner: str | None = None) -> Any:
    """The config from ``--set`` pairs; a bad list setting's error shows the syntax."""
    from replab.cli._settings import TUPLE_SYNTAX

    owner = owner or config_cls.__name__
    settings = parse_settings(pairs, config_cls, owner)
    try:
        return config_cls(**settings)
    except ConfigError as e:
        lists = [k for k, v in settings.items() if isinstance(v, tuple) and f"'{k}'" in str(e)]
        if not lists:
            raise
        raise ConfigError(f"{e} On the command line write --set {lists[0]}={TUPLE_SYNTAX}."
                          ) from None


def add_format(p: argparse.ArgumentParser, choices: tuple[str, ...] = FORMATS) -> None:
    p.add_argument("--format", choices=choices, default="table", help="output format")


def emit_frame(df: pd.DataFrame, fmt: str, *, title: str | None = None) -> None:
    """Print a DataFrame as an aligned table, CSV, or JSON records."""
    out = sys.stdout
    if fmt == "csv":
        df.to_csv(out, index=False)
    elif fmt == "json":
        out.write(json.dumps(_jsonable(df.to_dict(orient="records")), indent=2) + "\n")
    else:
        if title:
            out.write(title + "\n")
        out.write(df.to_string(index=False, float_format=lambda x: f"{x:.6g}") + "\n")


def emit_metrics(metrics: dict[str, Any], fmt: str) -> None:
    """Print a flat dict of metrics as a two-column table or JSON."""
    if fmt == "json":
        sys.stdout.write(json.dumps(_jsonable(metrics), indent=2) + "\n")
        return
    width = max((len(k) for k in metrics), default=0)
    for k, v in metrics.items():
        shown = f"{v:.6g}" if isinstance(v, float) else str(v)
        sys.stdout.write(f"{k:<{width}}  {shown}\n")


def _jsonable(x: Any) -> Any:
    """NaN and inf are not JSON; write them as null / strings."""
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    if hasattr(x, "item") and not isinstance(x, str):
        x = x.item()
    if isinstance(x, float):
        if math.isnan(x):
            return None
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
    return x


def parse_settings(pairs: list[str] | None, config_cls: type, owner: str) -> dict[str, Any]:
    """Turn ``--set KEY=VALUE`` pairs into keyword arguments for a config dataclass.

    Values are converted by the field's annotated type (bool, int, float, str); unknown
    keys and unconvertible values raise ConfigError naming the key. A config may declare
    ``SETTING_ALIASES`` (a ClassVar dict of short name -> field name).
    """
    fields = {f.name: f for f in dataclasses.fields(config_cls)}
    hints = typing.get_type_hints(config_cls)
    aliases: dict[str, str] = getattr(config_cls, "SETTING_ALIASES", {})
    out: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, raw = pair.partition("=")
        key = key.strip().replace("-", "_")
        key = aliases.get(key, key)
        if not sep:
            raise ConfigError(f"--set expects KEY=VALUE. Got {pair!r} instead.")
        if key not in fields:
            raise ConfigError(
                f"Unknown setting {key!r} for {owner}; known settings: "
                f"{', '.join(sorted(fields))}."
            )
        out[key] = _convert(raw.strip(), hints[key], key, owner)
    return out


def _convert(raw: str, hint: Any, key: str, owner: str) -> Any:
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    kinds = args or [hint]
    if raw.lower() in ("none", "null") and type(None) in typing.get_args(hint):
        return None
    if tuple in kinds:
        from replab.cli._settings import parse_list

        return parse_list(raw, key, owner)
    for kind in (bool, int, float, str):
        if kind in kinds:
            try:
                if kind is bool:
                    if raw.lower() in ("true", "yes", "1", "on"):
                        return True
                    if raw.lower() in ("false", "no", "0", "off"):
                        return False
                    raise ValueError(raw)
                return kind(raw)
            except ValueError:
                continue
    allowed = " or ".join(getattr(k, "__name__", str(k)) for k in kinds)
    raise ConfigError(
        f"The {key!r} parameter of {owner} must be {allowed}. Got {raw!r} instead."
    )
