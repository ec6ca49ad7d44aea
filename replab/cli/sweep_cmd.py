"""``replab sweep SPEC.toml``: run a sweep spec, serially, on local processes or on Dask.

With ``--out PATH`` (a CSV file) every finished batch is kept in ``PATH.parts/`` as it
completes; an interrupted run continues with ``--resume``, and the folder is removed once
``PATH`` is written. Without ``--out`` the frame goes to stdout. ``--summary`` gives one
row per grid point (mean and 95 % interval of every metric) instead of one per run.
"""

from __future__ import annotations

import argparse
import inspect
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from replab.cli._common import (
    add_format,
    emit_frame,
    emit_metrics,
    folder_note,
    output_file,
)
from replab.errors import ConfigError
from replab.limits import MAX_AVAILABILITY_N, check_wars_memory
from replab.sweeps.engine import EXECUTORS, ResultStore, open_executor
from replab.sweeps.executors import check_scheduler
from replab.sweeps.model_sweep import summarize_result
from replab.sweeps.spec import SweepResult, SweepSpec, get_target, load_spec, run_spec
from replab.sweeps.targets import target_names
from replab.validate import check_int

__all__ = ["register", "run_sweep", "store_path", "check_resources"]


def store_path(out: str | os.PathLike[str]) -> Path:
    """The results store kept beside ``--out`` while a sweep runs."""
    return Path(f"{os.fspath(out)}.parts")


def _executor_kind(args: argparse.Namespace, spec: SweepSpec) -> str:
    if args.workers is not None and args.workers < 1:
        raise ConfigError(f"The '--workers' parameter must be an int in [1, inf). "
                          f"Got {args.workers} instead.")
    if spec.executor is not None:
        asked = [f"--{k} {v}" for k, v in (("executor", args.executor),
                 ("workers", args.workers), ("scheduler", args.scheduler)) if v is not None]
        if asked and (spec.executor == "serial" or args.executor not in (None, spec.executor)):
            raise ConfigError(f"The sweep spec runs on executor = {spec.executor!r}; drop "
                              f"{asked[0]} (or change [sweep] executor).")
        if args.executor is None and args.scheduler is None:
            return spec.executor
    if args.scheduler is not None:
        if args.executor not in (None, "dask"):
            raise ConfigError(f"--scheduler runs on Dask; it cannot be combined with "
                              f"--executor {args.executor}.")
        return "dask"
    if args.executor is not None:
        return str(args.executor)
    return "serial" if args.workers is None else "processes"


def _open_store(out: Path | None, resume: bool) -> ResultStore | None:
    if out is None:
        if resume:
            raise ConfigError("--resume needs --out PATH (the sweep's results live beside it).")
        return None
    folder = store_path(out)
    if folder.exists() and any(folder.iterdir()) and not resume:
        raise ConfigError(
            f"The results store {str(folder)!r} holds an interrupted sweep; pass --resume to "
            "continue it, or delete the folder to start again."
        )
    return ResultStore(folder)


def _write_atomically(frame: pd.DataFrame, out: Path) -> None:
    tmp = out.with_name(f".{out.name}.tmp")
    frame.to_csv(tmp, index=False)
    os.replace(tmp, out)


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _note_skipped(result: SweepResult) -> None:
    if len(result.skipped):
        first = result.skipped.iloc[0]
        point = ", ".join(f"{k}={_plain(first[k])!r}" for k in result.skipped.columns[:-1])
        print(f"replab sweep: note: skipped {len(result.skipped)} infeasible grid point(s), "
              f"e.g. {point}: {first['reason']}", file=sys.stderr)


def _values(spec: SweepSpec, name: str) -> list[Any]:
    if name in spec.grid:
        return list(spec.grid[name])
    if name in spec.fixed:
        return [spec.fixed[name]]
    target = get_target(spec.target)
    if target.model is not None:
        return []
    default = inspect.signature(target.fn).parameters.get(name)
    has_default = default is not None and default.default is not inspect.Parameter.empty
    return [default.default] if has_default else []  # type: ignore[union-attr]


def check_resources(spec: SweepSpec) -> None:
    """Refuse a Monte Carlo sweep whose largest point would not fit in memory."""
    ns = [v for v in _values(spec, "n") if isinstance(v, int) and not isinstance(v, bool)]
    trials = [v for v in _values(spec, "trials")
              if isinstance(v, int) and not isinstance(v, bool)]
    owner = f"SweepSpec target {spec.target!r}"
    if ns and trials:
        check_wars_memory(max(ns), max(trials), owner)
    if ns and spec.target == "availability":
        check_int(max(ns), "n", owner, low=1, high=MAX_AVAILABILITY_N)


def run_sweep(args: argparse.Namespace) -> int:
    spec = load_spec(args.spec)
    check_resources(spec)
    kind = _executor_kind(args, spec)
    out = None
    if args.out is not None:  # a note about a folder waits for success: errors are 1 line
        out = output_file(args.out, "--out", "sweep", overwrite=True, note=False,
                          default_name=f"{Path(args.spec).stem}.csv")
    if args.scheduler is not None:
        check_scheduler(args.scheduler, timeout=args.scheduler_timeout)  # before any work
    store = _open_store(out, args.resume)
    try:
        with open_executor(kind, workers=args.workers, scheduler=args.scheduler,
                           timeout=args.scheduler_timeout) as executor:
            result = run_spec(spec, executor=executor, store=store,
                              progress=not args.no_progress)
    except KeyboardInterrupt:
        kept = "" if store is None else (
            f"; {len(store)} finished points are kept, rerun with --resume to continue")
        print(f"replab sweep: interrupted{kept}", file=sys.stderr)
        return 130
    _note_skipped(result)
    frame = summarize_result(result, spec) if args.summary else result.frame
    if out is None:
        emit_frame(frame, args.format)
        return 0
    _write_atomically(frame, out)
    shutil.rmtree(store_path(out), ignore_errors=True)
    if str(out) != str(args.out):
        print(folder_note(args.out, out, "--out", "sweep"), file=sys.stderr)
    summary: dict[str, Any] = {
        "target": spec.target, "points": result.computed + result.reused,
        "computed": result.computed, "reused": result.reused,
        "skipped": len(result.skipped), "rows": len(frame),
        "seconds": round(result.seconds, 3), "executor": kind, "out": str(out),
    }
    emit_metrics(summary, "json" if args.format == "json" else "table")
    return 0


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(f"must be a number of seconds in (0, 3600], got "
                                         f"{text!r}")
    return value


def register(sub: Any) -> None:
    p = sub.add_parser(
        "sweep", help="run a sweep spec (TOML): a target over a parameter grid",
        description="Run a sweep spec: a TOML file with a [sweep] table (target, seed; optional "
        "replications, skip_invalid), a [fixed] table of parameters passed to every point "
        "and a [grid] table of lists (or {from, to, step} int ranges) whose Cartesian "
        f"product is swept. Targets: {', '.join(target_names())}; a model target takes the "
        "model's settings (replab simulate MODEL --help). Examples: "
        "data/sweeps/*.toml in the repository.",
    )
    p.add_argument("spec", help="the sweep spec, a TOML file")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, default=None,
                       help="run on N local workers (see --executor)")
    where.add_argument("--scheduler", metavar="ADDRESS", default=None,
                       help="run on the Dask cluster whose scheduler is at ADDRESS")
    p.add_argument("--executor", choices=EXECUTORS, default=None,
                   help="where points run: serial (default without --workers), threads, "
                   "processes (default with --workers) or dask (a local cluster of "
                   "--workers workers, or the --scheduler's cluster)")
    p.add_argument("--scheduler-timeout", metavar="SECONDS", type=_positive_seconds,
                   default=10.0, help="give up on --scheduler after this long (default 10)")
    p.add_argument("--out", metavar="PATH", default=None,
                   help="write the results to this CSV file (a folder means "
                        "FOLDER/SPEC.csv); finished points are kept in PATH.parts/")
    p.add_argument("--summary", action="store_true",
                   help="one row per grid point: every metric's mean and 95 %% interval "
                        "over the replications (Wilson for proportions)")
    p.add_argument("--resume", action="store_true",
                   help="continue an interrupted sweep from PATH.parts/")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_format(p)
    p.set_defaults(run=run_sweep)
