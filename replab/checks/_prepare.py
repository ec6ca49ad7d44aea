"""One pass over a history that every checker shares.

The conventions it implements are documented in :mod:`replab.checks`.
"""

from __future__ import annotations

import functools
import gc
import json
from collections.abc import Callable
from typing import Any, TypeVar

from replab.history import History

__all__ = ["Write", "Read", "Prepared", "prepare", "as_prepared", "judge", "gc_paused",
           "WINV", "WOK", "RINV", "ROK", "WEND", "NEG"]

NEG = float("-inf")
F = TypeVar("F", bound=Callable[..., Any])
WINV, WOK, RINV, ROK, WEND = 0, 1, 2, 3, 4  # WEND: a write completed as info


class Write:
    """A write operation (invoke + completion) of the history."""

    __slots__ = ("id", "key", "value", "process", "inv", "comp", "status", "version",
                 "rank", "seq")

    def __init__(self, id: int, key: Any, process: Any, inv: int, seq: int) -> None:
        self.id = id
        self.key = key
        self.process = process
        self.inv = inv
        self.comp: int | None = None
        self.status: str | None = None  # ok / fail / info / None (incomplete)
        self.value: Any = None
        self.version: int | None = None
        self.rank: float | None = None
        self.seq = seq  # 1-based position among its process's writes (session order)


class Read:
    """An ``ok`` read: what it observed, resolved against the writes of its key."""

    __slots__ = ("key", "process", "inv", "comp", "raw", "writes", "rank", "top", "unknown",
                 "unmatched")

    def __init__(self, key: Any, process: Any, inv: int, comp: int, raw: Any) -> None:
        self.key = key
        self.process = process
        self.inv = inv
        self.comp = comp
        self.raw = raw
        self.writes: tuple[Write, ...] = ()
        self.rank = NEG
        self.top: Write | None = None
        self.unknown = False  # observed a value of unknown rank
        self.unmatched = False  # observed a value that no (non-failed) write wrote


class Prepared:
    """The paired operations of a history and the timeline the checkers sweep."""

    def __init__(self, ops: list[dict[str, Any]]) -> None:
        self.ops = ops
        self.writes: list[Write] = []
        self.reads: list[Read] = []
        self.timeline: list[tuple[int, Any]] = []
        self.by_value: dict[Any, dict[Any, Write]] = {}


def gc_paused(fn: F) -> F:
    """Run ``fn`` with the cyclic garbage collector paused.

    Checking allocates millions of small acyclic objects; the collector would only rescan
    them again and again (it more than doubled the time of a 10^6-operation check).
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        enabled = gc.isenabled()
        gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            if enabled:
                gc.enable()

    return wrapper  # type: ignore[return-value]


def as_prepared(history: Any) -> Prepared:
    """A :class:`Prepared` from a History, a Prepared, or an iterable of op dicts."""
    if isinstance(history, Prepared):
        return history
    if not isinstance(history, History):
        history = History(history)
    return prepare(history.ops)


def judge(r: Read, ref_rank: float | None) -> int:
    """0: not judged (no reference, or unknown values could be newer); 1: fine; 2: older."""
    if ref_rank is None:
        return 0
    if r.rank >= ref_rank:
        return 1
    return 0 if r.unknown else 2


def hashable(v: Any) -> Any:
    """A hashable stand-in for a JSON value (lists and objects by their JSON text)."""
    if isinstance(v, list | dict):
        return "\0json:" + json.dumps(v, sort_keys=True)
    return v


@gc_paused
def prepare(ops: list[dict[str, Any]]) -> Prepared:
    """Pair invokes with completions, rank writes, resolve reads, build the timeline."""
    prep = Prepared(ops)
    at_pos: list[tuple[int, Any] | None] = [None] * len(ops)
    pre: dict[int, tuple[int, Any]] = {}
    _pair(prep, at_pos, pre)
    _rank_writes(prep)
    _resolve_reads(prep)
    if pre:
        tl: list[tuple[int, Any]] = []
        for i, e in enumerate(at_pos):
            if i in pre:
                tl.append(pre[i])
            if e is not None:
                tl.append(e)
        prep.timeline = tl
    else:
        prep.timeline = [e for e in at_pos if e is not None]
    return prep


def _pair(prep: Prepared, at_pos: list[Any], pre: dict[int, Any]) -> None:
    ops, writes, reads = prep.ops, prep.writes, prep.reads
    pending: dict[Any, tuple[int, Write | None]] = {}
    nseq: dict[Any, int] = {}
    for i, op in enumerate(ops):
        p = op["process"]
        if op["type"] == "invoke":
            w = None
            if op["f"] == "write":
                w = _new_write(writes, nseq, op, i)
                at_pos[i] = (WINV, w)
            pending[p] = (i, w)
            continue
        j, w = pending.pop(p, (-1, None))
        if j < 0 or ops[j]["f"] != op["f"] or ops[j]["key"] != op["key"]:
            j = i  # unpaired completion: its own invoke
            if op["f"] == "write":
                w = _new_write(writes, nseq, op, i)
                pre[i] = (WINV, w)
        if w is not None:
            _complete_write(w, op, ops[j], i)
            if w.status == "ok":
                at_pos[i] = (WOK, w)
            elif w.status == "info":
                at_pos[i] = (WEND, w)
        elif op["type"] == "ok":  # an ok read
            r = Read(op["key"], p, j, i, op["value"])
            reads.append(r)
            if j == i:
                pre[i] = (RINV, r)
            else:
                at_pos[j] = (RINV, r)
            at_pos[i] = (ROK, r)


def _new_write(writes: list[Write], nseq: dict[Any, int], op: dict[str, Any], i: int) -> Write:
    p = op["process"]
    seq = nseq.get(p, 0) + 1
    nseq[p] = seq
    w = Write(len(writes), op["key"], p, i, seq)
    w.value = op["value"]
    w.version = op.get("version")
    writes.append(w)
    return w


def _complete_write(w: Write, op: dict[str, Any], inv: dict[str, Any], i: int) -> None:
    w.comp = i
    w.status = op["type"]
    w.value = op["value"] if op["value"] is not None else inv["value"]
    v = op.get("version")
    w.version = v if v is not None else inv.get("version")


def _rank_writes(prep: Prepared) -> None:
    versioned = {w.key for w in prep.writes if w.version is not None and w.status != "fail"}
    by_value = prep.by_value
    for w in prep.writes:
        if w.status == "fail":
            continue
        if w.key in versioned:
            w.rank = None if w.version is None else float(w.version)
        elif w.status == "ok":
            w.rank = float(w.comp)  # type: ignore[arg-type]
        vals = by_value.get(w.key)
        if vals is None:
            vals = by_value[w.key] = {}
        vals.setdefault(hashable(w.value), w)


def _resolve_reads(prep: Prepared) -> None:
    by_value = prep.by_value
    empty: dict[Any, Write] = {}
    for r in prep.reads:
        raw = r.raw
        if raw is None or raw == []:
            continue
        vals = by_value.get(r.key, empty)
        if isinstance(raw, list):
            found = []
            for v in raw:
                if v is None:
                    continue
                w = vals.get(hashable(v))
                if w is None:
                    r.unknown = r.unmatched = True
                else:
                    found.append(w)
            r.writes = tuple(found)
        else:
            w = vals.get(hashable(raw))
            if w is None:
                r.unknown = r.unmatched = True
                continue
            r.writes = (w,)
        for w in r.writes:
            if w.rank is None:
                r.unknown = True
            elif w.rank > r.rank:
                r.rank = w.rank
                r.top = w
