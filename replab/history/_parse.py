"""Reading histories: validating, normalising and ordering operations (for ``replab.history``)."""

from __future__ import annotations

import contextlib
import gc
import gzip
import json
import math
import sys
from collections import deque
from collections.abc import Iterator
from itertools import repeat
from operator import itemgetter, methodcaller, setitem
from pathlib import Path
from typing import Any

import numpy as np

from replab.errors import HistoryError

__all__ = [
    "FIELDS", "TYPES", "FUNCTIONS", "NEMESIS",
    "gc_paused", "no_constants", "normalise", "order", "parse_line", "read_bytes",
]

FIELDS = ("index", "time", "process", "type", "f", "key", "value", "version", "ts", "node")
TYPES = ("invoke", "ok", "fail", "info")
FUNCTIONS = ("read", "write", "cas")
NEMESIS = "nemesis"

_TYPES, _FUNCTIONS = frozenset(TYPES), frozenset(FUNCTIONS)


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _check_op(op: Any, where: str) -> None:
    """Raise HistoryError if ``op`` is not a valid operation (the slow, precise path)."""
    if not isinstance(op, dict):
        raise HistoryError(f"{where}: an operation must be a JSON object, got {op!r}")
    for name in ("process", "type", "f"):
        if name not in op:
            raise HistoryError(f"{where}: missing field {name!r}")
    p = op["process"]
    if isinstance(p, bool) or not isinstance(p, int | str):
        raise HistoryError(f"{where}: 'process' must be an int or a string, got {p!r}")
    if op["type"] not in _TYPES:
        raise HistoryError(f"{where}: 'type' must be one of {', '.join(TYPES)}, got {op['type']!r}")
    t = op.get("time")
    if t is not None and (not isinstance(t, int | float) or isinstance(t, bool)
                          or not math.isfinite(t)):
        raise HistoryError(f"{where}: 'time' must be a finite number, got {t!r}")
    i = op.get("index")
    if i is not None and not _is_int(i):
        raise HistoryError(f"{where}: 'index' must be an int, got {i!r}")
    if p == NEMESIS:
        return
    if op["f"] not in _FUNCTIONS:
        raise HistoryError(f"{where}: 'f' must be one of {', '.join(FUNCTIONS)}, got "
                           f"{op['f']!r} (skip such operations with --skip-unknown)")
    k = op.get("key")
    if k is not None and (isinstance(k, bool) or not isinstance(k, int | str)):
        raise HistoryError(f"{where}: 'key' must be a string (or int), got {k!r}")
    v = op.get("version")
    if v is not None and not _is_int(v):
        raise HistoryError(f"{where}: 'version' must be an int or absent, got {v!r}")
    if op["f"] == "cas" and op["type"] == "invoke" and not _is_pair(op.get("value")):
        raise HistoryError(f"{where}: a cas value must be [old, new], got {op.get('value')!r}")


def _is_pair(v: Any) -> bool:
    return isinstance(v, list | tuple) and len(v) == 2


def _unwrap_independent(op: dict[str, Any]) -> None:
    """Jepsen independent keys: no ``key`` and a value ``[k v]`` mean key k, value v."""
    v: Any = op.get("value")
    if not _is_pair(v) or isinstance(v[0], list | dict | bool):
        return
    if op["f"] == "cas" and not _is_pair(v[1]):
        return  # a plain cas [old new] on the single register
    op["key"], op["value"] = v[0], v[1]


def normalise(ops: list[Any], src: list[int], unit: str, skip_unknown: bool) \
        -> tuple[list[dict[str, Any]], list[int]]:
    """Validate and normalise in place (keys as str); drop unknown ``f`` if asked to."""
    try:
        fast = _fast_valid(ops, finite=unit == "line")
    except (AttributeError, TypeError, KeyError):
        fast = None
    if fast is None:
        kept = []
        for pos, op in enumerate(ops):
            try:
                _check_op(op, f"{unit} {src[pos]}")
            except HistoryError:
                if not (skip_unknown and isinstance(op, dict) and op.get("f") not in _FUNCTIONS
                        and _known_otherwise(op)):
                    raise
                continue
            kept.append(pos)
        if len(kept) < len(ops):
            ops, src = [ops[pos] for pos in kept], [src[pos] for pos in kept]
        fix = True
    else:
        fix = fast[1]
    if fix:
        for op in ops:
            _fix_key(op)
    return ops, src


def _known_otherwise(op: dict[str, Any]) -> bool:
    try:
        _check_op(dict(op, f="read", value=None), "")
    except HistoryError:
        return False
    return True


def _fix_key(op: dict[str, Any]) -> dict[str, Any]:
    k = op.get("key")
    if k is None and op["process"] != NEMESIS:
        _unwrap_independent(op)
        k = op.get("key")
    if k is not None and not isinstance(k, str):
        op["key"] = str(k)
    return op


def _fast_valid(ops: list[dict[str, Any]], finite: bool) -> tuple[set[Any], bool] | None:
    """Column-wise validation of the common case: (the keys, whether any needs fixing), or
    None: look closer.

    One pass a field over the ops, checking the (small) sets of distinct values, is many
    times cheaper than checking op after op. ``finite``: the parser already refused NaN
    and infinities (files), so times need no look.
    """
    procs = list(map(itemgetter("process"), ops))
    fs = list(map(itemgetter("f"), ops))
    if not set(map(itemgetter("type"), ops)) <= _TYPES or not all(
            type(p) is int or type(p) is str for p in set(procs)):
        return None
    client_fs = set(fs)
    if not client_fs <= {"read", "write"}:
        client_fs = {f for f, p in zip(fs, procs, strict=True) if p != NEMESIS}
        if not client_fs <= {"read", "write"}:
            return None  # cas values, unknown f: the slow path says which
    key_list = list(map(methodcaller("get", "key"), ops))
    keys = set(key_list)
    if not all(k is None or type(k) is str or type(k) is int for k in keys):
        return None
    if not set(map(type, map(methodcaller("get", "version"), ops))) <= {int, type(None)}:
        return None  # ('index' is checked by order, which reads it anyway)
    times = list(map(methodcaller("get", "time"), ops))
    kinds = set(map(type, times))
    if not kinds <= {int, float, type(None)}:
        return None
    if not finite and float in kinds and not all(
            math.isfinite(t) for t in times if type(t) is float):
        return None
    # Keys to fix: ints (to str) and client ops without a key (maybe [k v] values).
    fix = any(type(k) is int for k in keys) or key_list.count(None) > procs.count(NEMESIS)
    return keys, fix


def no_constants(name: str) -> Any:
    """NaN and Infinity are not JSON; Python's parser would accept them."""
    raise ValueError(f"{name} is not valid JSON")



@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Parsing makes millions of small acyclic objects; the cyclic collector would only
    rescan them over and over (it doubled the time to read 10^6 operations)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def read_bytes(path: str | Path) -> bytes:
    """The whole input, read once as a stream (so FIFOs and ``<(...)`` work): ``"-"`` is
    standard input; gzip data (magic bytes ``1f 8b``) is decompressed."""
    try:
        if str(path) == "-":
            data = sys.stdin.buffer.read()
        else:
            with open(path, "rb") as fh:
                data = fh.read()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
    except OSError as e:  # gzip.BadGzipFile is one
        raise HistoryError(f"cannot read {str(path)!r}: {e.strerror or e}") from None
    except EOFError:
        raise HistoryError(f"cannot read {str(path)!r}: the gzip stream is truncated") \
            from None
    return data


def parse_line(line: bytes, n: int) -> Any:
    try:
        return json.loads(line.decode("utf-8"), parse_constant=no_constants)
    except UnicodeDecodeError:
        raise HistoryError(f"line {n}: not valid UTF-8 text") from None
    except json.JSONDecodeError as e:
        raise HistoryError(f"line {n}: not valid JSON ({e.msg})") from None
    except ValueError as e:
        raise HistoryError(f"line {n}: {e}") from None


def order(ops: list[dict[str, Any]], src: list[int], unit: str) \
        -> tuple[list[dict[str, Any]], list[int]]:
    """Fill missing ``index`` with the position, or sort by ``index`` (no duplicates)."""
    idx = list(map(methodcaller("get", "index"), ops))
    kinds = set(map(type, idx))
    if not kinds <= {int, type(None)}:
        pos = next(p for p, i in enumerate(idx) if i is not None and not _is_int(i))
        raise HistoryError(f"{unit} {src[pos]}: 'index' must be an int, got {idx[pos]!r}")
    if type(None) in kinds:
        if int in kinds:
            pos = idx.index(None)
            raise HistoryError(f"{unit} {src[pos]}: missing field 'index' (other operations "
                               "have one)")
        deque(map(setitem, ops, repeat("index"), range(len(ops))), maxlen=0)  # in C
        return ops, src
    arr = np.array(idx, dtype=np.int64)
    if len(arr) < 2 or bool((arr[1:] > arr[:-1]).all()):
        return ops, src
    order = np.argsort(arr, kind="stable")
    dup = np.flatnonzero(arr[order][1:] == arr[order][:-1])
    if len(dup):
        a, b = int(order[dup[0]]), int(order[dup[0] + 1])
        raise HistoryError(f"{unit} {src[b]}: duplicate index {idx[b]} (also at {unit} "
                           f"{src[a]})")
    return [ops[p] for p in order.tolist()], [src[p] for p in order.tolist()]
