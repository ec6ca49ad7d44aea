"""Histories: every client operation as ``invoke`` then ``ok``/``fail``/``info``.

The format (DESIGN.md) follows Jepsen's op maps: ``index, time, process, type, f, key,
value`` and optionally ``version``, ``ts`` and ``node``. Three encodings are read:
JSONL (one object a line), a JSON array, and Jepsen's ``history.edn`` (see
:mod:`replab.history._edn`). Whatever the encoding:

* operations are put in ``index`` order when they carry one (else file order);
* ``process: "nemesis"`` operations are fault events (any ``f``), kept but not client ops;
* an op without ``key`` whose value is ``[k v]`` (``[k [old new]]`` for ``cas``) is a Jepsen
  independent-key op: key ``k``, value ``v``; an op without either is on the single
  register ``None`` (Knossos histories);
* ``f`` is ``read``, ``write`` or ``cas`` (value ``[old new]``); any other ``f`` is an error
  naming the line, unless ``skip_unknown`` drops such operations;
* an op may carry ``final: true``: a read of the history's final-read phase (lost-write's
  final reads; simulated histories end with one).

A malformed operation raises :class:`~replab.errors.HistoryError` naming its line (files) or
its position (lists).
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
from replab.history._parse import (
    FIELDS,
    FUNCTIONS,
    NEMESIS,
    TYPES,
    gc_paused,
    no_constants,
    normalise,
    order,
    parse_line,
    read_bytes,
)

__all__ = ["History", "FIELDS", "TYPES", "FUNCTIONS", "NEMESIS"]


class History:
    """An ordered log of operations. ``History.df`` is the tidy DataFrame view.

    Parameters
    ----------
    ops : iterable of dict, optional
        Operations with the fields of :data:`FIELDS` (copied, then validated and normalised);
        optional fields may be absent.
    skip_unknown : bool, default False
        Drop operations whose ``f`` is not read/write/cas instead of raising HistoryError.
    """

    def __init__(self, ops: Iterable[dict[str, Any]] = (), *, skip_unknown: bool = False) \
            -> None:
        raw = [dict(op) if isinstance(op, dict) else op for op in ops]
        self._df: pd.DataFrame | None = None
        self._load(raw, list(range(len(raw))), "operation", skip_unknown)

    def _load(self, raw: list[Any], src: list[int], unit: str, skip_unknown: bool) -> None:
        """Validate, normalise and order ``raw``; ``src[i]`` is where op i came from."""
        n = len(raw)
        ops, src = normalise(raw, src, unit, skip_unknown)
        self.skipped = n - len(ops)
        self._ops, self._src = order(ops, src, unit)
        self._unit = unit

    def where(self, pos: int) -> str:
        """Where the operation at position ``pos`` came from: ``line N`` or ``operation N``."""
        src = getattr(self, "_src", None)
        if src is None or pos >= len(src):
            return f"operation {pos}"
        return f"{self._unit} {src[pos]}"

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
        ts: Any = None,
    ) -> int:
        """Append one operation (trusted, unchecked: this is the simulators' hot path)."""
        index = len(self._ops)
        self._ops.append(
            {"index": index, "time": time, "process": process, "type": type, "f": f,
             "key": key, "value": value, "version": version, "ts": ts, "node": node}
        )
        self._df = None
        return index

    def without_final_reads(self) -> History:
        """The operations not marked ``final`` (a simulated history's client workload,
        without its final-read phase), as a new History with the same ``index`` values."""
        return History.from_ops([dict(op) for op in self._ops if not op.get("final")])

    def __len__(self) -> int:
        return len(self._ops)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self._ops)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return self._ops[i]

    @property
    def ops(self) -> list[dict[str, Any]]:
        """The operations as dicts, in order (do not mutate; absent fields may be missing)."""
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
    def from_ops(cls, ops: list[Any], lines: list[int] | None = None, *,
                 skip_unknown: bool = False) -> History:
        """A History that owns ``ops`` (parsed objects, normalised in place).

        ``lines`` are their line numbers in a file, for error messages.
        """
        h = cls.__new__(cls)
        h._df = None
        if lines is None:
            h._load(ops, list(range(len(ops))), "operation", skip_unknown)
        else:
            h._load(ops, lines, "line", skip_unknown)
        return h

    @classmethod
    def read_jsonl(cls, path: str | Path, *, skip_unknown: bool = False) -> History:
        """Read a JSONL history; a malformed line raises HistoryError naming its number."""
        with gc_paused():
            return cls._read_jsonl(read_bytes(path), skip_unknown)

    @classmethod
    def _read_jsonl(cls, data: bytes, skip_unknown: bool) -> History:
        body = data.rstrip(b"\r\n")
        if body and b"\n\n" not in body and not body.startswith((b"\n", b"\r")):
            try:  # one parse of the whole file as an array is far cheaper than line by line
                text = (b"[" + body.replace(b"\n", b",") + b"]").decode("utf-8")
                ops = json.loads(text, parse_constant=no_constants)
            except (ValueError, UnicodeDecodeError):
                ops = None
            if ops is not None and len(ops) == body.count(b"\n") + 1:
                return cls.from_ops(ops, list(range(1, len(ops) + 1)),
                                    skip_unknown=skip_unknown)
        chunks = data.split(b"\n")
        lines = [n for n, c in enumerate(chunks, start=1) if c.strip()]
        ops = [parse_line(chunks[n - 1], n) for n in lines]
        return cls.from_ops(ops, lines, skip_unknown=skip_unknown)

    @classmethod
    def read_json(cls, path: str | Path, *, skip_unknown: bool = False) -> History:
        """Read a history stored as one JSON array of operations."""
        with gc_paused():
            return cls._read_json(read_bytes(path), skip_unknown)

    @classmethod
    def _read_json(cls, data: bytes, skip_unknown: bool) -> History:
        try:
            ops = json.loads(data, parse_constant=no_constants)
        except json.JSONDecodeError as e:
            raise HistoryError(f"line {e.lineno}: not valid JSON ({e.msg})") from None
        except ValueError as e:
            raise HistoryError(str(e)) from None
        except UnicodeDecodeError:
            raise HistoryError("not valid UTF-8 text") from None
        if not isinstance(ops, list):
            raise HistoryError("a JSON history must be an array of operations")
        return cls.from_ops(ops, None, skip_unknown=skip_unknown)

    @classmethod
    def read_edn(cls, path: str | Path, *, skip_unknown: bool = False) -> History:
        """Read a Jepsen/Knossos ``history.edn`` (op maps with keywords)."""
        with gc_paused():
            return cls._read_edn(read_bytes(path), skip_unknown)

    @classmethod
    def _read_edn(cls, data: bytes, skip_unknown: bool) -> History:
        from replab.history._edn import parse_edn

        ops, lines = parse_edn(data)
        return cls.from_ops(ops, lines, skip_unknown=skip_unknown)

    @classmethod
    def read(cls, path: str | Path, *, skip_unknown: bool = False) -> History:
        """Read JSONL, a JSON array or EDN, told apart by the first character(s).

        ``path`` may be ``"-"`` (standard input), a gzip-compressed file (told by its
        magic bytes, whatever its name) or a FIFO / process substitution: the input is
        read once, as a stream.
        """
        with gc_paused():
            data = read_bytes(path)
            head = data[:4096].lstrip()
            if str(path).endswith((".edn", ".edn.gz")) or head.startswith(
                    (b"{:", b"[{:", b"({:", b";", b"#")):
                return cls._read_edn(data, skip_unknown)
            if head.startswith(b"["):
                return cls._read_json(data, skip_unknown)
            return cls._read_jsonl(data, skip_unknown)

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
