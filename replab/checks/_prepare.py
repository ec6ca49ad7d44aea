"""One pass over a history that every checker shares (definitions: :mod:`replab.checks`).

It pairs invokes with completions, splits ``cas`` into its read and write parts, places every
write in its key's *rank space* and resolves each read's candidate writes.

Rank space. Each write gets ``start <= end`` such that ``a`` precedes ``b`` in the write order
exactly when ``a.end < b.start``. Without versions the space is history positions: ``start``
is the invoke, ``end`` the completion (``inf`` for an ``info`` or incomplete write, which may
take effect at any later time). On a *versioned* key (every ``ok`` write carries a version)
an ok write sits at ``start = end = version``; an unversioned ``info`` write follows the
versions of the ok writes that completed before it was invoked (``start`` just above their
maximum) and precedes nothing. Both relations are interval orders, hence transitive, and
agree with "version order where both have one, else real time" on the writes they rank.
"""

from __future__ import annotations

import functools
import gc
import json
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from replab.errors import HistoryError
from replab.history import NEMESIS, History

__all__ = ["Prepared", "pair", "set_columns", "gc_paused", "prefix_agg", "prefix_aggs",
           "hashable", "INF", "NEG", "NULL"]

INF, NEG = float("inf"), float("-inf")
F = TypeVar("F", bound=Callable[..., Any])
NULL = ("\0null",)  # the hashable stand-in for null / not found


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


def hashable(v: Any) -> Any:
    """A hashable stand-in for a JSON value (lists and objects by their JSON text)."""
    if v is None:
        return NULL
    if isinstance(v, list | dict | tuple):
        return "\0json:" + json.dumps(v, sort_keys=True, default=str)
    return v


class Prepared:
    """Writes and ``ok`` reads of a history as NumPy columns (``w_*`` and ``r_*``).

    Positions are indices into ``ops`` (the history in order). Writes are the non-failed
    writes and the write parts of non-failed ``cas``; reads the ``ok`` reads and the read
    parts of ``ok`` cas. ``r_lmax``/``r_smin`` are the largest ``end``/smallest ``start`` of
    the read's candidate writes (``-inf`` for the initial value); ``r_matched`` is False when
    some value it returned has no candidate (the read is then never judged).
    """

    # writes: invoke / completion position (-1: none), acknowledged?, key / process ids,
    # value, version (nan: none), place in session (1-based), rank-space start / end,
    # certainly took effect (ok, or read from)
    w_inv: np.ndarray
    w_done: np.ndarray
    w_ok: np.ndarray
    w_key: np.ndarray
    w_proc: np.ndarray
    w_value: list[Any]
    w_ver: np.ndarray
    w_seq: np.ndarray
    w_start: np.ndarray
    w_end: np.ndarray
    w_effect: np.ndarray
    # ok reads: invoke / completion position, key / process ids, value, version, the cas's
    # write (-1: a plain read), candidates' largest end / smallest start, all values matched
    r_inv: np.ndarray
    r_comp: np.ndarray
    r_key: np.ndarray
    r_proc: np.ndarray
    r_value: list[Any]
    r_ver: list[Any]
    r_cas: np.ndarray
    r_lmax: np.ndarray
    r_smin: np.ndarray
    r_matched: np.ndarray
    r_time: np.ndarray  # invoke time (nan: none)
    r_final: np.ndarray  # marked final (``final: true`` or a Jepsen ``:final-read``)
    versioned: np.ndarray  # per key: ordered by versions
    # one query a value a read returned: (read, group, null?) and every write's groups
    queries: tuple[np.ndarray, ...]
    reads_from: tuple[np.ndarray, np.ndarray]  # (read, write) where the source is certain

    def __init__(self, history: History) -> None:
        self.history = history
        self.ops = history.ops
        self.nemesis: list[int] = []
        self.keys: list[Any] = []
        self.procs: list[Any] = []
        self.settle: np.ndarray = np.zeros(0)  # per key: time its last write ended
        self.cache: dict[str, Any] = {}  # verdict masks shared between checkers


def set_columns(prep: Prepared, wc: list[Any], rc: list[Any]) -> None:
    """Store the write and read columns (``wc``, ``rc``: sequences; a process's writes in
    its session order)."""
    prep.w_inv = np.array(wc[0], dtype=np.int64)
    prep.w_done = np.array(wc[1], dtype=np.int64)
    prep.w_ok = np.array(wc[2], dtype=bool)
    prep.w_key = np.array(wc[3], dtype=np.int64)
    prep.w_proc = np.array(wc[4], dtype=np.int64)
    prep.w_value = list(wc[5])
    prep.w_ver = np.array([np.nan if v is None else float(v) for v in wc[6]], dtype=np.float64)
    seq = pd.Series(prep.w_proc).groupby(prep.w_proc).cumcount().to_numpy() + 1
    prep.w_seq = seq.astype(np.int64)  # place in its process's session order (1-based)
    prep.r_inv = np.array(rc[0], dtype=np.int64)
    prep.r_comp = np.array(rc[1], dtype=np.int64)
    prep.r_key = np.array(rc[2], dtype=np.int64)
    prep.r_proc = np.array(rc[3], dtype=np.int64)
    prep.r_value = list(rc[4])
    prep.r_ver = list(rc[5])
    prep.r_cas = np.array(rc[6], dtype=np.int64)
    prep.r_time = np.array(rc[7], dtype=np.float64)
    prep.r_final = np.array(rc[8], dtype=bool)


def pair(prep: Prepared) -> tuple[list[int], list[int]]:
    """Invoke and completion positions of every client operation (-1: never completed)."""
    ops, where = prep.ops, prep.history.where
    pending: dict[Any, int] = {}
    inv: list[int] = []
    comp: list[int] = []
    for i, op in enumerate(ops):
        p = op["process"]
        if p == NEMESIS:
            prep.nemesis.append(i)
            continue
        if op["type"] == "invoke":
            j = pending.get(p)
            if j is not None:
                raise HistoryError(f"{where(i)}: process {p!r} invokes a {op['f']} while its "
                                   f"{ops[j]['f']} invoked at {where(j)} is still pending")
            pending[p] = i
            continue
        j = pending.pop(p, -1)
        if j < 0:
            raise HistoryError(f"{where(i)}: process {p!r} completes a {op['f']} of key "
                               f"{op.get('key')!r} ({op['type']}) but has no pending invoke")
        a = ops[j]
        k = op.get("key")
        if a["f"] != op["f"] or (k is not None and a.get("key") != k):
            raise HistoryError(
                f"{where(i)}: process {p!r} completes a {op['f']} of key {k!r} but its "
                f"pending invoke ({where(j)}) is a {a['f']} of key {a.get('key')!r}")
        inv.append(j)
        comp.append(i)
    for j in pending.values():
        inv.append(j)
        comp.append(-1)
    return inv, comp


def prefix_agg(ga: np.ndarray, pa: np.ndarray, va: np.ndarray, gq: np.ndarray,
               pq: np.ndarray, how: str = "max") -> np.ndarray:
    """For each query ``q``: the max (or min) of ``va`` over items ``a`` with
    ``ga == gq`` and ``pa < pq``; ``-inf`` (``inf`` for min) when there is none."""
    return prefix_aggs(ga, pa, gq, pq, [(va, how)])[0]


def prefix_aggs(ga: np.ndarray, pa: np.ndarray, gq: np.ndarray, pq: np.ndarray,
                values: list[tuple[np.ndarray, str]]) -> list[np.ndarray]:
    """:func:`prefix_agg` of several value arrays over one sort and one search."""
    outs = [np.full(len(gq), NEG if how == "max" else INF) for _, how in values]
    if len(ga) == 0 or len(gq) == 0:
        return outs
    span = int(max(pa.max(), pq.max())) + 2
    ka = ga.astype(np.int64) * span + pa.astype(np.int64)
    order = np.argsort(ka, kind="stable")
    ks, gs = ka[order], ga[order]
    idx = np.searchsorted(ks, gq.astype(np.int64) * span + pq.astype(np.int64), "left") - 1
    safe = np.maximum(idx, 0)
    hit = (idx >= 0) & (gs[safe] == gq)
    at = safe[hit]
    for out, (va, how) in zip(outs, values, strict=True):
        grouped = pd.Series(va[order]).groupby(gs, sort=False)
        cum = (grouped.cummax() if how == "max" else grouped.cummin()).to_numpy(np.float64)
        out[hit] = cum[at]
    return outs
