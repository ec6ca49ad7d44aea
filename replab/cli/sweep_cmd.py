"""``replab sweep SPEC.toml``: run a sweep spec, serially, on local processes or on Dask.

With ``--out PATH`` every finished batch is kept in ``PATH.parts/`` as it completes; an
interrupted run continues with ``--resume``, and the folder is removed once ``PATH`` is
written. Without ``--out`` the frame goes to stdout.
"""

from __future__ import annotations

import argparse
import inspect
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from replab.cli._common import add_format, emit_frame, emit_metrics
from replab.errors import ConfigError
from replab.limits import MAX_AVAILABILITY_N, check_output_file, check_wars_memory
from replab.sweep import EXECUTORS, ResultStore, open_executor
from replab.sweep_spec import TARGETS, SweepResult, SweepSpec, load_spec, run_spec
from replab.validate import check_int

__all__ = ["register", "run_sweep", "store_path", "check_resources"]


def store_path(out: str | os.PathLike[str]) -> Path:
    """The results store kept beside ``--out`` while a sweep runs."""
    return Path(f"{os.fspath(out)}.parts")


def _executor_kind(args: argparse.Namespace) -> str:
    if args.workers is not None and args.workers < 1:
        raise ConfigError(f"The '--workers' parameter must be an int in [1, inf). "
                          f"Got {args.workers} instead.")
    if args.scheduler is not None:
        if args.executor not in (None, "dask"):
            raise ConfigError(f"--scheduler runs on Dask; it cannot be combined with "
                              f"--executor {args.executor}.")
        return "dask"
    if args.executor is not None:
        return str(args.executor)
    return "serial" if args.workers is None else "processes"


def _open_store(args: argparse.Namespace) -> ResultStore | None:
    if args.out is None:
        if args.resume:
            raise ConfigError("--resume needs --out PATH (the sweep's results live beside it).")
        return None
    folder = store_path(args.out)
    if folder.exists() and any(folder.iterdir()) and not args.resume:
        raise ConfigError(
            f"The results store {str(folder)!r} holds an interrupted sweep; pass --resume to "
            "continue it, or delete the folder to start again."
        )
    return ResultStore(folder)


def _write_atomically(result: SweepResult, out: Path) -> None:
    tmp = out.with_name(f".{out.name}.tmp")
    result.frame.to_csv(tmp, index=False)
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
    default = inspect.signature(TARGETS[spec.target].fn).parameters.get(name)
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
    if args.out is not None:
        check_output_file(args.out, "--out")
    kind = _executor_kind(args)
    store = _open_store(args)
    try:
        with open_executor(kind, workers=args.workers, scheduler=args.scheduler) as executor:
            result = run_spec(spec, executor=executor, store=store,
                              progress=not args.no_progress)
    except KeyboardInterrupt:
        kept = "" if store is None else (
            f"; {len(store)} finished points are kept, rerun with --resume to continue")
        print(f"replab sweep: interrupted{kept}", file=sys.stderr)
        return 130
    _note_skipped(result)
    if args.out is None:
        emit_frame(result.frame, args.format)
        return 0
    out = Path(args.out)
    _write_atomically(result, out)
    shutil.rmtree(store_path(out), ignore_errors=True)
    summary: dict[str, Any] = {
        "target": spec.target, "points": result.computed + result.reused,
        "computed": result.computed, "reused": result.reused,
        "skipped": len(result.skipped), "rows": len(result.frame),
        "seconds": round(result.seconds, 3), "executor": kind, "out": str(out),
    }
    emit_metrics(summary, "json" if args.format == "json" else "table")
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser(
        "sweep", help="run a sweep spec (TOML): a target over a parameter grid",
        description="Run a sweep spec: a TOML file with a [sweep] table (target, seed; optional "
        "replications, skip_invalid), a [fixed] table of parameters passed to every point "
        "and a [grid] table of lists (or {from, to, step} int ranges) whose Cartesian "
        f"product is swept. Targets: {', '.join(sorted(TARGETS))}. Examples: "
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
    p.add_argument("--out", metavar="PATH", default=None,
                   help="write the results as CSV; finished points are kept in PATH.parts/")
    p.add_argument("--resume", action="store_true",
                   help="continue an interrupted sweep from PATH.parts/")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_format(p)
    p.set_defaults(run=run_sweep)
