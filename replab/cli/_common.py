"""Shared pieces of the command line: the parser, output formats, configs from ``--set``."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

import pandas as pd

from replab.errors import ConfigError
from replab.limits import check_output_file
from replab.sweeps.settings import parse_settings, with_cause

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
    from replab.sweeps.settings import settings_help

    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.epilog_factory = lambda: settings_help(config_cls)  # type: ignore[attr-defined]


def build_config(config_cls: type, pairs: list[str] | None, owner: str | None = None) -> Any:
    """The config from ``--set`` pairs; a bad list setting's error shows the syntax."""
    from replab.sweeps.settings import TUPLE_SYNTAX

    owner = owner or config_cls.__name__
    settings = parse_settings(pairs, config_cls, owner)
    try:
        return config_cls(**settings)
    except ConfigError as e:
        named = with_cause(e)
        lists = [k for k, v in settings.items() if isinstance(v, tuple) and f"'{k}'" in str(e)]
        if not lists or named is not e:
            raise named from None
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




def output_file(path: str | os.PathLike[str], option: str, command: str, *,
                default_name: str, overwrite: bool = False, note: bool = True) -> Path:
    """Where a command writes: ``--out`` always names a file, checked before anything
    starts (servers, workers). A folder is accepted too, with a note on stderr (unless
    ``note`` is False: the caller says it once it has written): the file ``default_name``
    inside it. An existing file is refused unless ``overwrite``."""
    p = Path(path)
    if p.is_dir() or os.fspath(path).endswith(("/", os.sep)):
        if not p.is_dir():
            raise ConfigError(f"The '{option}' option names the folder {os.fspath(path)!r}, "
                              "which does not exist.")
        p = p / default_name
        if note:
            print(folder_note(path, p, option, command), file=sys.stderr)
    check_output_file(p, option)
    if p.exists() and not overwrite:
        raise ConfigError(f"The '{option}' option names an existing file {str(p)!r}; remove "
                          "it or choose another name (nothing was started).")
    return p


def folder_note(given: str | os.PathLike[str], written: Path, option: str, command: str) -> str:
    """The note saying a folder given to a file option means a file inside it."""
    return (f"replab {command}: note: {option} names a file; {os.fspath(given)!r} is a "
            f"folder, so writing {str(written)!r}")
