"""Convert Porcupine's Jepsen etcd logs (``test_data/jepsen/etcd_NNN.log``) to replab JSONL.

    python benchmarks/porcupine_convert.py LOG [LOG ...] --out DIR

Each log line is ``[INFO  jepsen.util - ]PROCESS<TAB>:TYPE<TAB>:F<TAB>VALUE`` with VALUE
``nil``, an int, ``[old new]`` (cas) or ``:timed-out`` (an ``info`` completion). The ops are
on one register (no ``key``). An ``info`` completion keeps the invoke's value (what the
write or cas tried to do); a read's invoke carries ``null``. Writes ``DIR/NAME.jsonl``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

PREFIX = "INFO  jepsen.util - "


def parse_value(text: str) -> Any:
    text = text.strip()
    if text == "nil" or text.startswith(":"):
        return None
    if text.startswith("["):
        return [int(v) for v in text[1:-1].split()]
    return int(text)


def convert(lines: list[str]) -> list[dict[str, Any]]:
    """The ops of a Porcupine Jepsen log, in order, as replab history dicts."""
    ops: list[dict[str, Any]] = []
    pending: dict[int, Any] = {}
    for line in lines:
        line = line.removeprefix(PREFIX).rstrip("\n")
        if not line.strip():
            continue
        proc, typ, f, value = line.split("\t")
        op = {"index": len(ops), "process": int(proc), "type": typ.lstrip(":"),
              "f": f.lstrip(":"), "value": parse_value(value)}
        if op["type"] == "invoke":
            pending[op["process"]] = op["value"]
        elif op["type"] == "info" and op["f"] != "read":
            op["value"] = pending.get(op["process"])
        ops.append(op)
    return ops


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("logs", nargs="+", type=Path)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for log in args.logs:
        ops = convert(log.read_text().splitlines())
        target = args.out / (log.stem + ".jsonl")
        target.write_text("".join(json.dumps(op) + "\n" for op in ops))
        print(f"{log} -> {target} ({len(ops)} ops)")


if __name__ == "__main__":
    main()
