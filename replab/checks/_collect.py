"""Writes and reads of a paired history as NumPy columns (see :mod:`replab.checks._prepare`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from replab.checks._prepare import (
    INF,
    NEG,
    NULL,
    Prepared,
    gc_paused,
    hashable,
    pair,
    prefix_agg,
    prefix_aggs,
    set_columns,
)
from replab.errors import HistoryError
from replab.history import History

__all__ = ["prepare", "as_prepared"]

VER = "\0version"
NAN = float("nan")


def as_prepared(history: Any) -> Prepared:
    """A :class:`Prepared` from a History, a Prepared, or an iterable of op dicts."""
    if isinstance(history, Prepared):
        return history
    if not isinstance(history, History):
        history = History(history)
    return prepare(history)


@gc_paused
def prepare(history: History) -> Prepared:
    """Pair, rank the writes and resolve the reads' candidates."""
    prep = Prepared(history)
    # One loop over the ops: measured faster than a column-wise NumPy pairing, whose
    # conversions of 10^6 Python objects cost more than the loop itself.
    inv, comp = pair(prep)
    _columns(prep, inv, comp)
    _rank(prep)
    _resolve(prep)
    return prep


def _columns(prep: Prepared, inv: list[int], comp: list[int]) -> None:
    ops, where = prep.ops, prep.history.where
    kid: dict[Any, int] = {}
    pid: dict[Any, int] = {}
    settle: dict[int, float] = {}
    w: list[tuple[int, int, bool, int, int, Any, Any]] = []
    r: list[tuple[int, int, int, int, Any, Any, int, float, bool]] = []
    # Pairs come in completion order, never-completed ones last: the latest end of a
    # key's writes is simply the last one seen.
    for j, i in zip(inv, comp, strict=True):
        a = ops[j]
        b = ops[i] if i >= 0 else a
        t = b["type"] if i >= 0 else "info"
        f = a["f"]
        k = kid.setdefault(a.get("key"), len(kid))
        if f != "read":  # when the key's last write ended (a time; inf: it never did)
            settle[k] = max(settle.get(k, NEG), _time(b) if i >= 0 else INF)
        if t == "fail" or (f == "read" and t != "ok"):
            continue
        p = pid.setdefault(a["process"], len(pid))
        if f == "read":
            r.append((j, i, k, p, b.get("value"), b.get("version"), -1, _time(a, NAN),
                      a.get("final") is True or b.get("final") is True))
            continue
        val: Any = b.get("value")
        if val is None or (f == "cas" and i >= 0 and b is not a and not _pair_value(val)):
            val = a.get("value")
        ver = b.get("version")
        if ver is None:
            ver = a.get("version")
        if f == "cas":
            if not _pair_value(val):
                raise HistoryError(f"{where(j)}: a cas value must be [old, new], got {val!r}")
            if t == "ok":
                r.append((j, i, k, p, val[0], None, len(w), NAN, False))
            val = val[1]
        w.append((j, i, t == "ok", k, p, val, ver))
    prep.keys, prep.procs = list(kid), list(pid)
    prep.settle = np.array([settle.get(k, NEG) for k in range(len(kid))], dtype=np.float64)
    set_columns(prep, list(zip(*w, strict=True)) if w else [()] * 7,
                list(zip(*r, strict=True)) if r else [()] * 9)


def _time(op: dict[str, Any], missing: float = INF) -> float:
    t = op.get("time")
    return missing if t is None else float(t)


def _pair_value(v: Any) -> bool:
    return isinstance(v, list | tuple) and len(v) == 2


def _rank(prep: Prepared) -> None:
    """``w_start``/``w_end``: each write's place in its key's rank space."""
    nk = len(prep.keys)
    ok, key, has_ver = prep.w_ok, prep.w_key, ~np.isnan(prep.w_ver)
    n_ok = np.bincount(key[ok], minlength=nk)
    versioned = (n_ok > 0) & (n_ok == np.bincount(key[ok & has_ver], minlength=nk))
    prep.versioned = versioned
    vkey = versioned[key] if len(key) else np.zeros(0, dtype=bool)
    start = prep.w_inv.astype(np.float64)
    end = np.where(ok, prep.w_done.astype(np.float64), INF)
    by_ver = vkey & has_ver
    start[by_ver] = end[by_ver] = prep.w_ver[by_ver]
    floating = vkey & ~has_ver
    if floating.any():
        src = ok & vkey
        floor = prefix_agg(key[src], prep.w_done[src], prep.w_ver[src], key[floating],
                           prep.w_inv[floating])
        # Just above the versions it follows; the initial value precedes it in any case.
        start[floating] = np.where(floor > NEG, floor + 0.5, -1e300)
        end[floating] = INF
    prep.w_start, prep.w_end = start, end


class _Ids(dict[Any, int]):
    """Value -> id; -1 for a value no write wrote (looked up in C by ``map``)."""

    def __missing__(self, key: Any) -> int:
        return -1


def _resolve(prep: Prepared) -> None:
    """Per read: ``r_lmax``, ``r_smin``, ``r_matched``; and the reads-from pairs.

    A *group* is (key, value) or (key, version), numbered ``key * n_values + value_id``.
    """
    wh = [v if type(v) is str or type(v) is int else hashable(v) for v in prep.w_value]
    ids = np.arange(len(wh))
    by_ver = prep.versioned[prep.w_key] & ~np.isnan(prep.w_ver) if len(wh) else ids > 0
    vh = [(VER, v) for v in prep.w_ver[by_ver].tolist()]
    vid = _Ids({h: i for i, h in enumerate(dict.fromkeys([NULL, *wh, *vh]))})
    nv = len(vid)
    w_g = prep.w_key * nv + np.fromiter(map(vid.__getitem__, wh), np.int64, len(wh))
    e_g = np.concatenate([w_g, prep.w_key[by_ver] * nv
                          + np.fromiter(map(vid.__getitem__, vh), np.int64, len(vh))])
    e_w = np.concatenate([ids, ids[by_ver]])
    q_read, q_k, q_h = _queries(prep, set(zip(prep.w_key[by_ver].tolist(), vh, strict=True)))
    q_vid = np.fromiter(map(vid.__getitem__, q_h), np.int64, len(q_h))
    q_g = np.where(q_vid >= 0, q_k * nv + q_vid, -1)
    q_null = q_vid == vid[NULL]
    pos = prep.r_comp[q_read]
    ew = e_w.astype(np.float64)
    lmax, smin, first, last = prefix_aggs(
        e_g, prep.w_inv[e_w], q_g, pos,
        [(prep.w_end[e_w], "max"), (prep.w_start[e_w], "min"), (ew, "min"), (ew, "max")])
    _own_cas(prep, q_read, q_g, (lmax, smin, first, last), w_g)
    found = np.isfinite(first)
    smin[q_null] = NEG  # the initial value precedes every write
    matched = found | q_null
    unique = found & (first == last) & ~q_null
    prep.reads_from = (q_read[unique], first[unique].astype(np.int64))
    prep.queries = (q_read, q_g, q_null, e_g, e_w)
    _reduce(prep, q_read, lmax, smin, matched)


def _own_cas(prep: Prepared, q_read: np.ndarray, q_g: np.ndarray,
             out: tuple[np.ndarray, ...], w_g: np.ndarray) -> None:
    """A cas ``[v v]`` does not read its own write: recount its candidates without it."""
    own = prep.r_cas[q_read]
    sel = np.flatnonzero((own >= 0) & (q_g == w_g[np.maximum(own, 0)] if len(w_g) else own > 0))
    lmax, smin, first, last = out
    for i in sel.tolist():
        x, mine = int(q_read[i]), int(own[i])
        c = np.flatnonzero((w_g == q_g[i]) & (prep.w_inv < prep.r_comp[x]))
        c = c[c != mine]
        lmax[i] = prep.w_end[c].max(initial=NEG)
        smin[i] = prep.w_start[c].min(initial=np.inf)
        first[i] = c.min() if len(c) else np.inf
        last[i] = c.max() if len(c) else NEG


def _queries(prep: Prepared, by_version: set[tuple[int, Any]]) -> tuple[Any, ...]:
    """One query per value a read returned: (read, key, hashable value or version).

    A read's version settles its candidate when some write of the key carries it;
    otherwise the read is resolved by value. (Comprehensions, not one loop: this runs once
    per read of a 10^6-operation history.)
    """
    raws = prep.r_value
    keys = prep.r_key.tolist()
    h = [v if type(v) is str or type(v) is int else hashable(v) for v in raws]
    versioned = prep.versioned.tolist()
    for x in [x for x, v in enumerate(prep.r_ver) if v is not None]:
        k, ver = keys[x], (VER, float(prep.r_ver[x]))
        if raws[x] is not None and versioned[k] and (k, ver) in by_version:
            h[x] = ver
    q_read = list(range(len(raws)))
    cas = prep.r_cas.tolist()
    for x in [x for x, v in enumerate(raws) if type(v) is list and cas[x] < 0]:
        values = [hashable(v) for v in raws[x]] or [NULL]
        h[x] = values[0]
        q_read += [x] * (len(values) - 1)
        h += values[1:]
    q_k = keys + [keys[x] for x in q_read[len(keys):]]
    return np.array(q_read, dtype=np.int64), np.array(q_k, dtype=np.int64), h


def _reduce(prep: Prepared, q_read: np.ndarray, lmax: np.ndarray, smin: np.ndarray,
            matched: np.ndarray) -> None:
    n = len(prep.r_inv)
    prep.r_lmax = np.full(n, NEG)
    prep.r_smin = np.full(n, INF)
    prep.r_matched = np.ones(n, dtype=bool)
    if len(q_read):
        np.maximum.at(prep.r_lmax, q_read, lmax)
        np.minimum.at(prep.r_smin, q_read, smin)
        np.logical_and.at(prep.r_matched, q_read, matched)
    observed = np.zeros(len(prep.w_inv), dtype=bool)
    observed[prep.reads_from[1]] = True
    prep.w_effect = prep.w_ok | observed  # certainly took effect
