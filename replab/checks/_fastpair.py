"""Pairing and columns without a loop over the operations (the common, well-formed case).

Grouped by process (a stable sort), a well-formed history alternates invoke, completion,
invoke, ... within each process, with matching ``f`` and key: a few array comparisons
check that for 10^6 operations at once. Anything else returns False and the loop in
:func:`replab.checks._prepare.pair` names the first offending line.
"""

from __future__ import annotations

from operator import itemgetter, methodcaller
from typing import Any

import numpy as np
import pandas as pd

from replab.checks._prepare import INF, NEG, Prepared, set_columns
from replab.errors import HistoryError
from replab.history import NEMESIS

__all__ = ["fast_columns"]


def _codes(values: list[Any]) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes (-1 for None) and the distinct values."""
    arr = np.empty(len(values), dtype=object)
    arr[:] = values
    codes, uniques = pd.factorize(arr)
    return codes.astype(np.int64), np.asarray(uniques, dtype=object)


def _pairs(prep: Prepared) -> tuple[np.ndarray, np.ndarray] | None:
    """(invoke, completion) positions sorted by invoke (-1: never completed), or None."""
    ops = prep.ops
    p_code, p_uni = _codes(list(map(itemgetter("process"), ops)))
    nem = np.flatnonzero(p_uni == NEMESIS)
    is_nem = p_code == nem[0] if len(nem) else np.zeros(len(ops), dtype=bool)
    prep.nemesis = np.flatnonzero(is_nem).tolist()
    client = np.flatnonzero(~is_nem)
    order = client[np.argsort(p_code[client], kind="stable")]
    if len(order) == 0:
        return None
    g = p_code[order]
    new = np.r_[True, g[1:] != g[:-1]]
    starts = np.flatnonzero(new)
    rank = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    t_code, t_uni = _codes(list(map(itemgetter("type"), ops)))
    is_inv = (t_uni == "invoke")[t_code]
    if (is_inv[order] != (rank % 2 == 0)).any():
        return None
    at = np.flatnonzero(rank % 2 == 0)
    nxt = np.minimum(at + 1, len(order) - 1)
    has = (at + 1 < len(order)) & ~new[nxt]
    inv, comp = order[at], np.where(has, order[nxt], -1)
    f_code, _ = _codes(list(map(itemgetter("f"), ops)))
    k_code, _ = _codes(list(map(methodcaller("get", "key"), ops)))
    c = np.maximum(comp, 0)
    bad = has & ((f_code[c] != f_code[inv]) | ((k_code[c] >= 0) & (k_code[c] != k_code[inv])))
    if bad.any():
        return None
    o = np.argsort(inv, kind="stable")
    prep.cache["types"] = (t_code, t_uni)
    return inv[o], comp[o]


def fast_columns(prep: Prepared) -> bool:
    """Fill ``prep``'s columns as ``_collect._columns`` does; False if not well-formed."""
    if not prep.ops:
        return False
    pairs = _pairs(prep)
    if pairs is None:
        return False
    inv, comp = pairs
    ops = prep.ops
    t_code, t_uni = prep.cache.pop("types")
    has = comp >= 0
    status = np.where(has, t_uni[t_code[np.maximum(comp, 0)]], "info")
    f = np.array([ops[i]["f"] for i in inv.tolist()], dtype=object)
    key_id, keys = _codes([ops[i].get("key") for i in inv.tolist()])
    if (key_id < 0).any():  # the single register of a Knossos history
        key_id[key_id < 0] = len(keys)
        keys = np.append(keys, None)
    proc_id, procs = _codes([ops[i]["process"] for i in inv.tolist()])
    prep.keys, prep.procs = list(keys), list(procs)
    settle = np.full(len(keys), NEG)
    wr = f != "read"
    np.maximum.at(settle, key_id[wr], np.where(has, comp, INF)[wr])
    prep.settle = settle
    ok, fail = status == "ok", status == "fail"
    plain_w = np.flatnonzero((f == "write") & ~fail)
    plain_r = np.flatnonzero((f == "read") & ok)
    w = _plain_writes(ops, inv, comp, plain_w)
    cas_w, cas_r = _cas(prep, inv, comp, np.flatnonzero((f == "cas") & ~fail), ok)
    w_at = np.concatenate([plain_w, cas_w]).astype(np.int64)
    wo = np.argsort(inv[w_at], kind="stable")
    w_at = w_at[wo]
    values = w[0] + [v for v, _, _ in cas_r]
    versions = w[1] + [ver for _, _, ver in cas_r]
    wc = [inv[w_at], comp[w_at], ok[w_at], key_id[w_at], proc_id[w_at],
          [values[i] for i in wo.tolist()], [versions[i] for i in wo.tolist()]]
    r_cas_at = np.array([j for _, j, _ in cas_r if j >= 0], dtype=np.int64)
    r_at = np.concatenate([plain_r, r_cas_at])
    wid = np.searchsorted(wc[0], inv[r_cas_at])
    rvals = [ops[i].get("value") for i in comp[plain_r].tolist()]
    rvals += [old for (_, old) in _olds(ops, inv, comp, r_cas_at)]
    rvers = [ops[i].get("version") for i in comp[plain_r].tolist()] + [None] * len(r_cas_at)
    rc = [inv[r_at], comp[r_at], key_id[r_at], proc_id[r_at], rvals, rvers,
          np.concatenate([np.full(len(plain_r), -1), wid])]
    set_columns(prep, wc, rc)
    return True


def _plain_writes(ops: list[dict[str, Any]], inv: np.ndarray, comp: np.ndarray,
                  at: np.ndarray) -> tuple[list[Any], list[Any]]:
    """(values, versions) of plain writes: the completion's, else the invoke's."""
    values, versions = [], []
    for j, i in zip(inv[at].tolist(), comp[at].tolist(), strict=True):
        b = ops[i] if i >= 0 else ops[j]
        v = b.get("value")
        values.append(ops[j].get("value") if v is None else v)
        ver = b.get("version")
        versions.append(ops[j].get("version") if ver is None else ver)
    return values, versions


def _cas_value(ops: list[dict[str, Any]], j: int, i: int) -> Any:
    v = ops[i].get("value") if i >= 0 else None
    return v if isinstance(v, list | tuple) and len(v) == 2 else ops[j].get("value")


def _cas(prep: Prepared, inv: np.ndarray, comp: np.ndarray, at: np.ndarray,
         ok: np.ndarray) -> tuple[np.ndarray, list[tuple[Any, int, Any]]]:
    """The write parts of non-failed cas: (pair indices, [(new value, pair index if ok
    else -1, version)])."""
    ops = prep.ops
    out: list[tuple[Any, int, Any]] = []
    for x in at.tolist():
        j, i = int(inv[x]), int(comp[x])
        v = _cas_value(ops, j, i)
        if not (isinstance(v, list | tuple) and len(v) == 2):
            raise HistoryError(f"{prep.history.where(j)}: a cas value must be [old, new], got "
                               f"{v!r}")
        ver = ops[i].get("version") if i >= 0 else None
        out.append((v[1], x if ok[x] else -1, ops[j].get("version") if ver is None else ver))
    return at, out


def _olds(ops: list[dict[str, Any]], inv: np.ndarray, comp: np.ndarray,
          at: np.ndarray) -> list[tuple[int, Any]]:
    return [(x, _cas_value(ops, int(inv[x]), int(comp[x]))[0]) for x in at.tolist()]
