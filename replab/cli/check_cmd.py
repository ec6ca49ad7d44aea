"""``replab check HISTORY.jsonl``: run the five consistency checkers over a history."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from replab.checks import check_history, results_frame
from replab.cli._common import _jsonable, add_format, emit_frame
from replab.errors import HistoryError
from replab.history import History

__all__ = ["register", "run_check"]


def run_check(args: argparse.Namespace) -> int:
    try:
        history = History.read_jsonl(args.history)
    except OSError as e:
        raise HistoryError(f"cannot read {args.history!r}: {e.strerror or e}") from None
    results = check_history(history)
    if args.format == "json":
        doc = {"checks": {name: r.to_dict() for name, r in results.items()}}
        sys.stdout.write(json.dumps(_jsonable(doc), indent=2) + "\n")
        return 0
    emit_frame(results_frame(results), "table",
               title=f"{len(history)} operations in {args.history}")
    lines = [_example_line(name, e) for name, r in results.items() for e in r.examples]
    if lines:
        sys.stdout.write("examples:\n" + "".join(lines))
    return 0


def _example_line(name: str, example: dict[str, Any]) -> str:
    where = ", ".join(str(op.get("index")) for op in example["ops"])
    return f"  {name}: {example['message']} (operations {where})\n"


def register(sub: Any) -> None:
    p = sub.add_parser(
        "check",
        help="check a history (JSONL) for stale reads, session anomalies and lost writes",
    )
    p.add_argument("history", metavar="HISTORY.jsonl", help="the history, one op a line")
    add_format(p, ("table", "json"))
    p.set_defaults(run=run_check)
