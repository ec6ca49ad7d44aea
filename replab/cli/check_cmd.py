"""``replab check HISTORY``: run the five consistency checkers over a history.

Reads JSONL, a JSON array or Jepsen EDN (told apart by content; ``-`` is standard input;
gzip and FIFOs are read as streams); prints one row per checker (lost-write's final reads
depend on ``--settle-ms``; without any it is "not examined"), what holds for the whole
history (reads flagged more than once, nemesis windows) and examples naming op indices;
then the linearizability verdict per key (a witness for each key that is not
linearizable), and with ``--html OUT.html`` the picture of it.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from replab.checks import check_report, linearizable, results_frame
from replab.checks.linearizability import LinearizabilityResult, key_name
from replab.checks.staleness import DEFAULT_SETTLE_MS
from replab.cli._common import _jsonable, add_format, emit_frame
from replab.errors import ConfigError, HistoryError
from replab.history import History
from replab.validate import check_float

__all__ = ["register", "run_check"]


def run_check(args: argparse.Namespace) -> int:
    budget = check_float(args.budget_s, "--budget-s", "replab check", low=0.0)
    check_float(args.settle_ms, "--settle-ms", "replab check", low=0.0)
    history = History.read(args.history, skip_unknown=args.skip_unknown)
    results, summary = check_report(history, settle_ms=args.settle_ms)
    if summary["operations"] == summary["nemesis_ops"]:
        # an empty file (or one of only faults) is almost always a recorder gone wrong
        raise HistoryError(f"{args.history!r} holds no client reads or writes "
                           f"({summary['operations']} operations): nothing to check")
    lin = _linearizable(history, args.model, budget)
    if args.html:
        from replab.plots.linearization_html import write_linearization_html

        try:
            write_linearization_html(lin, args.html, title=f"linearizability of {args.history}")
        except OSError as e:
            raise ConfigError(f"cannot write --html {args.html!r}: {e.strerror}") from None
    frame = results_frame(results)
    if args.format == "json":
        doc = {"history": summary, "checks": {
            name: {**r.to_dict(), "ci_low": row.ci_low, "ci_high": row.ci_high}
            for (name, r), row in zip(results.items(), frame.itertuples(), strict=True)},
            "linearizable": lin.to_dict()}
        sys.stdout.write(json.dumps(_jsonable(doc), indent=2) + "\n")
        return 0
    shown = frame.astype({"count": object}).fillna({"count": "not examined"})
    emit_frame(shown, "table", title=_title(args.history, summary))
    out = []
    if summary["client_reads"] + summary["client_writes"] == 0:
        out.append("nothing took effect: every client operation failed\n")
    out += [f"  {name}: {r.note}\n" for name, r in results.items() if r.note]
    out += [f"reads flagged by more than one check: {summary['reads_flagged_more_than_once']}\n"]
    out += [_window_line(win) for win in summary["nemesis_windows"]]
    lines = [_example_line(name, e) for name, r in results.items() for e in r.examples]
    if lines:
        out += ["examples:\n", *lines]
    out += _linearizable_lines(lin)
    sys.stdout.write("".join(out))
    return 0


def _linearizable(history: History, model: str, budget_s: float) -> LinearizabilityResult:
    if model == "auto":
        has_cas = any(op["f"] == "cas" for op in history.ops if op["process"] != "nemesis")
        model = "cas-register" if has_cas else "register"
    return linearizable(history, model=model, budget_s=budget_s)


def _linearizable_lines(lin: LinearizabilityResult, most: int = 5) -> list[str]:
    """The linearizable section: a count line, then each key not linearizable (its
    witness) and each key left unknown, ``most`` of each."""
    c = lin.counts()
    out = [f"linearizable ({lin.model}), keys: {c['linearizable']} linearizable, "
           f"{c['not linearizable']} not linearizable, {c['unknown']} unknown\n"]
    for verdict in ("not linearizable", "unknown"):
        keys = [kv for kv in lin.keys.values() if kv.verdict == verdict]
        for kv in keys[:most]:
            why = kv.example["message"] if kv.example is not None else (
                f"{key_name(kv.key)}: search budget spent after {kv.steps} steps "
                f"({len(kv.ops)} ops)")
            out.append(f"  {why}\n")
        if len(keys) > most:
            out.append(f"  ... and {len(keys) - most} more keys {verdict}\n")
    return out


def _title(path: str, s: dict[str, Any]) -> str:
    extra = f", {s['skipped_unknown']} skipped" if s["skipped_unknown"] else ""
    return (f"{s['operations']} operations in {path} ({s['client_reads']} reads, "
            f"{s['client_writes']} writes, {s['nemesis_ops']} nemesis ops{extra})")


def _window_line(win: dict[str, Any]) -> str:
    if win["end"] == win["start"] and win["closed_by"] is None:
        return f"nemesis {win['f']} at op {win['start']}\n"
    end = "the end" if win["end"] is None else f"op {win['end']} ({win['closed_by']})"
    return f"nemesis {win['f']} from op {win['start']} to {end}\n"


def _example_line(name: str, example: dict[str, Any]) -> str:
    return f"  {name}: {example['message']}\n"


def register(sub: Any) -> None:
    p = sub.add_parser(
        "check",
        help="check a history (JSONL, JSON or Jepsen EDN) for stale reads, session anomalies "
             "and lost writes",
    )
    p.add_argument("history", metavar="HISTORY",
                   help="the history: JSONL (one op a line), a JSON array, or Jepsen EDN; "
                        "'-' reads standard input; gzip and FIFOs are read as streams")
    p.add_argument("--settle-ms", type=float, default=DEFAULT_SETTLE_MS, metavar="MS",
                   help="lost-write: a read invoked MS after the key's last write and the "
                        "last fault window is a final read (default: %(default)g; reads "
                        "marked final count always)")
    p.add_argument("--skip-unknown", action="store_true",
                   help="skip operations whose f is not read, write or cas (else an error)")
    p.add_argument("--model", choices=("auto", "register", "cas-register"), default="auto",
                   help="linearizability model (default auto: cas-register when the history "
                        "has cas ops, else register)")
    p.add_argument("--budget-s", type=float, default=10.0, metavar="S",
                   help="seconds of linearizability search per key before its verdict is "
                        "'unknown' (default 10)")
    p.add_argument("--html", metavar="OUT.html", default=None,
                   help="also write the linearizability picture: one self-contained page")
    add_format(p, ("table", "json"))
    p.set_defaults(run=run_check)
