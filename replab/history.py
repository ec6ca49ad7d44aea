"""Histories: every client operation as ``invoke`` then ``ok``/``fail``/``info``.

The format (DESIGN.md) follows Jepsen's op maps, one JSON object a line:
``index, time, process, type, f, key, value`` and optionally ``version`` and ``node``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from replab.errors import HistoryError

__all__ = ["History", "FIELDS", "TYPES", "FUNCTIONS"]

FIELDS = ("index", "time", "process", "type", "f", "key", "value", "version", "node")
TYPES = ("invoke", "ok", "fail", "info")
FUNCTIONS = ("read", "write")


def _check_op(op: Any, where: str) -> dict[str, Any]:
    """Validate one operation; return it normalised (key as str)."""
    if not isinstance(op, dict):
        raise HistoryError(f"{where}: an operation must be a JSON object, got {op!r}")
    for name in ("time", "process", "type", "f", "key"):
        if name not in op:
            raise HistoryError(f"{where}: missing field {name!r}")
    t = op["time"]
    if isinstance(t, bool) or not isinstance(t, int | float) or not math.isfinite(t):
        raise HistoryError(f"{where}: 'time' must be a finite number, got {t!r}")
    if op["type"] not in TYPES:
        raise HistoryError(f"{where}: 'type' must be one of {', '.join(TYPES)}, got {op['type']!r}")
    if op["f"] not in FUNCTIONS:
        raise HistoryError(f"{where}: 'f' must be one of {', '.join(FUNCTIONS)}, got {op['f']!r}")
    p = op["process"]
    if isinstance(p, bool) or not isinstance(p, int | str):
        raise HistoryError(f"{where}: 'process' must be an int or a string, got {p!r}")
    k = op["key"]
    if isinstance(k, bool) or not isinstance(k, int | str):
        raise HistoryError(f"{where}: 'key' must be a string (or int), got {k!r}")
    v = op.get("version")
    if v is not None and (isinstance(v, bool) or not isinstance(v, int)):
        raise HistoryError(f"{where}: 'version' must be an int or absent, got {v!r}")
    out = {name: op.get(name) for name in FIELDS}
    out["key"] = str(k)
    out["time"] = float(t)
    return out


class History:
    """An ordered log of operations. ``History.df`` is the tidy DataFrame view.

    Parameters
    ----------
    ops : iterable of dict, optional
        Operations with the fields of :data:`FIELDS`; ``index`` defaults to the position.
    """

    def __init__(self, ops: Iterable[dict[str, Any]] = ()) -> None:
        self._ops: list[dict[str, Any]] = []
        for i, op in enumerate(ops):
            self._ops.append(_check_op(op, f"operation {i}"))
        for i, op in enumerate(self._ops):
            if op["index"] is None:
                op["index"] = i
        self._df: pd.DataFrame | None = None

    def record(
        self,
        time: float,
        process: int | str,
        type: str,
        f: str,
        key: str,
        value: Any = None,
        *,
        version: int | None = None,
        node: int | str | None = None,
    ) -> int:
        """Append one operation (trusted, unchecked: this is the simulators' hot path)."""
        index = len(self._ops)
        self._ops.append(
            {"index": index, "time": time, "process": process, "type": type, "f": f,
             "key": key, "value": value, "version": version, "node": node}
        )
        self._df = None
        return index

    def __len__(self) -> int:
        return len(self._ops)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self._ops)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return self._ops[i]

    @property
    def ops(self) -> list[dict[str, Any]]:
        """The operations as dicts (do not mutate)."""
        return self._ops

    @property
    def df(self) -> pd.DataFrame:
        """One row per operation, columns :data:`FIELDS`."""
        if self._df is None:
            self._df = pd.DataFrame(self._ops, columns=list(FIELDS))
        return self._df

    def to_jsonl(self, path: str | Path) -> None:
        """Write one JSON object a line; absent optional fields are omitted."""
        with open(path, "w", encoding="utf-8") as fh:
            for op in self._ops:
                row = {k: v for k, v in op.items() if v is not None or k == "value"}
                fh.write(json.dumps(row, separators=(",", ":")) + "\n")

    @classmethod
    def read_jsonl(cls, path: str | Path) -> History:
        """Read a JSONL history; a malformed line raises HistoryError naming its number."""
        ops: list[dict[str, Any]] = []
        with open(path, "rb") as fh:
            for lineno, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as e:
                    raise HistoryError(f"line {lineno}: not valid JSON ({e.msg})") from None
                except UnicodeDecodeError:
                    raise HistoryError(f"line {lineno}: not valid UTF-8 text") from None
                op = _check_op(obj, f"line {lineno}")
                if op["index"] is None:
                    op["index"] = len(ops)
                ops.append(op)
        h = cls()
        h._ops = ops
        return h

    def __repr__(self) -> str:
        return f"History(<{len(self._ops)} operations>)"


#: Columns of :func:`pair_operations`.
PAIR_COLUMNS = ["process", "f", "key", "value", "type", "start", "end", "latency_ms"]
__all__ += ["pair_operations", "PAIR_COLUMNS"]


def pair_operations(history: History) -> pd.DataFrame:
    """Each invocation with its completion: one row per ``invoke``, in history order.

    A process has one operation open at a time, so an ``invoke`` is completed by the
    process's next operation if that is an ``ok``, ``fail`` or ``info``. ``key`` and
    ``value`` are the invocation's (the value written; ``None`` for a read), ``type``
    the completion's, or ``"none"`` with ``end`` and ``latency_ms`` infinite when the
    operation never completed. Columns: :data:`PAIR_COLUMNS`.

    >>> h = History()
    >>> _ = h.record(process=0, type="invoke", f="write", key="x", value=1, time=1.0)
    >>> _ = h.record(process=0, type="ok", f="write", key="x", value=1, time=3.5)
    >>> _ = h.record(process=1, type="invoke", f="read", key="x", value=None, time=2.0)
    >>> pair_operations(h)[["process", "f", "type", "start", "end", "latency_ms"]]
       process      f  type  start  end  latency_ms
    0        0  write    ok    1.0  3.5         2.5
    1        1   read  none    2.0  inf         inf
    """
    df = history.df
    if df.empty:
        return pd.DataFrame(columns=PAIR_COLUMNS)
    by_process = df.groupby("process", sort=False)
    next_type, next_time = by_process["type"].shift(-1), by_process["time"].shift(-1)
    invoke = (df["type"] == "invoke").to_numpy()
    done = next_type.isin(["ok", "fail", "info"]).to_numpy() & invoke
    start = df["time"].to_numpy(dtype=float)[invoke]
    end = next_time.to_numpy(dtype=float)[invoke]
    end[~done[invoke]] = math.inf
    # from the ops, not the frame, whose value column turns None into NaN and ints to floats
    value = np.array([op.get("value") for op in history], dtype=object)
    return pd.DataFrame({
        "process": df["process"].to_numpy()[invoke],
        "f": df["f"].to_numpy()[invoke],
        "key": df["key"].to_numpy()[invoke],
        "value": value[invoke],
        "type": next_type.where(done, "none").to_numpy()[invoke],
        "start": start,
        "end": end,
        "latency_ms": end - start,
    })
