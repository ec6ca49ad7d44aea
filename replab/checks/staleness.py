"""Real-time checkers: ``stale-read`` and ``lost-write`` (definitions: :mod:`replab.checks`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from replab.checks._collect import as_prepared
from replab.checks._faults import last_fault_end
from replab.checks._prepare import NEG, Prepared, gc_paused, prefix_agg
from replab.checks.result import (
    MAX_EXAMPLES,
    CheckResult,
    describe_read,
    describe_write,
    example,
    make_result,
    op_dict,
    read_pos,
    write_pos,
)

__all__ = ["stale_read", "lost_write", "lost_write_ops", "final_reads", "verdicts", "witness",
           "DEFAULT_SETTLE_MS"]


def verdicts(prep: Prepared, ref: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(examined, violating) masks over reads, given each read's reference ``start``."""
    examined = prep.r_matched & (ref > NEG)
    return examined, examined & (prep.r_lmax < ref)


def witness(prep: Prepared, x: int, mask: np.ndarray) -> int:
    """The write among ``mask`` that proves read ``x`` a violation (the newest one)."""
    cand = np.flatnonzero(mask & (prep.w_start > prep.r_lmax[x]))
    return int(cand[np.argmax(prep.w_start[cand])])


def stale_reference(prep: Prepared) -> np.ndarray:
    """Per read: the largest ``start`` of the ok writes of its key completed before it."""
    if "stale" not in prep.cache:
        ok = prep.w_ok
        prep.cache["stale"] = prefix_agg(prep.w_key[ok], prep.w_done[ok], prep.w_start[ok],
                                         prep.r_key, prep.r_inv)
    return prep.cache["stale"]


@gc_paused
def stale_read(history: Any) -> CheckResult:
    """``stale-read``: every write the read could have returned is superseded.

    A read of key ``k`` is stale when every write it could have returned (any write of the
    value it got, invoked before it completed; the initial value for ``null``) precedes some
    ``ok`` write of ``k`` that completed before the read was invoked.

    Returns
    -------
    CheckResult
        ``examined`` counts the ``ok`` reads (and ``ok`` cas) whose key had an ``ok`` write
        completed before they were invoked, except reads of a value no write wrote.

    Examples
    --------
    >>> ops = [
    ...     {"time": 0, "process": 0, "type": "invoke", "f": "write", "key": "x", "value": 1},
    ...     {"time": 1, "process": 0, "type": "ok", "f": "write", "key": "x", "value": 1},
    ...     {"time": 2, "process": 1, "type": "invoke", "f": "read", "key": "x", "value": None},
    ...     {"time": 3, "process": 1, "type": "ok", "f": "read", "key": "x", "value": None},
    ... ]
    >>> r = stale_read(ops)
    >>> r.count, r.examined, float(r.rate)
    (1, 1, 1.0)
    """
    prep = as_prepared(history)
    examined, bad = verdicts(prep, stale_reference(prep))
    examples = []
    for x in _first(prep, bad):
        mask = prep.w_ok & (prep.w_key == prep.r_key[x]) & (prep.w_done < prep.r_inv[x])
        w = witness(prep, x, mask)
        msg = (f"{describe_read(prep, x)} is stale: {describe_write(prep, w)} completed "
               f"before it was invoked and follows every write that could have given its "
               f"value")
        examples.append(example(prep, msg, read_pos(prep, x) + write_pos(prep, w)))
    return make_result("stale-read", bad.sum(), examined.sum(), examples)


def _first(prep: Prepared, mask: np.ndarray) -> list[int]:
    """The first few flagged reads, in the order they were invoked."""
    idx = np.flatnonzero(mask)
    return idx[np.argsort(prep.r_inv[idx], kind="stable")][:MAX_EXAMPLES].tolist()


#: The default ``settle_ms`` of :func:`lost_write` (``replab check --settle-ms``): a read
#: invoked this long after the key's last write ended and the last fault window closed is
#: a final read. One second is well above the replication lag of the labs and models
#: (a lagging PostgreSQL standby with a 200 ms apply delay, asynchronous followers with
#: tens of ms) and below the pause before a Jepsen final-read phase.
DEFAULT_SETTLE_MS = 1000.0
NOT_EXAMINED = ("not examined: no key has a final read (one invoked --settle-ms after the "
                "key's last write and the last fault window, or marked final)")


def final_reads(prep: Prepared, settle_ms: float = DEFAULT_SETTLE_MS) -> np.ndarray:
    """Mask over reads: the plain ``ok`` reads that are final (see :func:`lost_write`)."""
    ref = np.maximum(prep.settle[prep.r_key], last_fault_end(prep)) + settle_ms
    with np.errstate(invalid="ignore"):
        timed = prep.r_time >= ref  # nan (no time) and inf (never settled) are not final
    return (prep.r_cas < 0) & (prep.r_final | timed)


@gc_paused
def lost_write(history: Any, *, settle_ms: float = DEFAULT_SETTLE_MS) -> CheckResult:
    """``lost-write``: an acknowledged write that every final read shows was lost.

    The *final reads* of a key are its ``ok`` reads marked final (``final: true``, or a
    Jepsen ``:final-read``), and those invoked at least ``settle_ms`` after the key's last
    write ended (``ok``, ``fail`` or ``info``; a write never completed never ends, nor does
    an op without ``time``) and after the last fault window closed. An ``ok`` write ``W``
    is lost when the key has final reads and each returns a value that could only have
    come from writes that completed ``ok`` before ``W`` was invoked, or from writes
    concurrent with ``W`` whose ``version`` is lower than ``W``'s (or from the initial
    value). Precedence is real time first: a write acknowledged after another completed
    and then discarded (last-write-wins under clock skew) is lost, whatever the store's
    own order says. One final read showing ``W``, or a write that does not precede it,
    proves ``W`` survived, whichever node served it.

    Parameters
    ----------
    history : History, Prepared or iterable of dict
    settle_ms : float, default :data:`DEFAULT_SETTLE_MS`
        How long after the last write (and fault) a read counts as final.

    Returns
    -------
    CheckResult
        ``examined`` counts the ``ok`` writes of keys with final reads, except keys where a
        final read returned a value no write wrote. With writes but no final read at all
        the result is *not examined* (``note`` says so; count and rate are not 0 but
        unknown).
    """
    prep = as_prepared(history)
    final, has_final, judged, lost = _lost_masks(prep, settle_ms)
    examples = []
    order = np.flatnonzero(lost)
    for w in order[np.argsort(prep.w_inv[order], kind="stable")][:MAX_EXAMPLES].tolist():
        k = prep.w_key[w]
        finals = np.flatnonzero(final & (prep.r_key == k))
        msg = (f"{describe_write(prep, w)} is lost: every final read of the key ("
               + ", ".join(f"op {prep.ops[int(prep.r_comp[x])]['index']}"
                           for x in finals[:3].tolist())
               + (" ..." if len(finals) > 3 else "")
               + ") returned a value only writes preceding it could have written")
        pos = write_pos(prep, w) + [p for x in finals[:3].tolist() for p in read_pos(prep, x)]
        examples.append(example(prep, msg, pos))
    note = NOT_EXAMINED if prep.w_ok.any() and not has_final.any() else ""
    return make_result("lost-write", lost.sum(), judged.sum(), examples, note=note)


def _lost_masks(prep: Prepared, settle_ms: float) -> tuple[np.ndarray, ...]:
    """(final reads, keys with final reads, judged writes, lost writes)."""
    name = f"lost {settle_ms!r}"
    if name in prep.cache:
        return prep.cache[name]  # type: ignore[no-any-return]
    nk = len(prep.keys)
    final = final_reads(prep, settle_ms)
    has_final = np.bincount(prep.r_key[final], minlength=nk) > 0
    junk = np.bincount(prep.r_key[final & ~prep.r_matched], minlength=nk) > 0
    judged = (has_final & ~junk)[prep.w_key] & prep.w_ok
    out = final, has_final, judged, judged & _shown_only_older(prep, final)
    prep.cache[name] = out
    return out


@gc_paused
def lost_write_ops(history: Any, *, settle_ms: float = DEFAULT_SETTLE_MS) \
        -> list[dict[str, Any]]:
    """Every write :func:`lost_write` finds lost (not only five examples): the ``ok``
    completion of each, as a dict in the history format, in history order.

    >>> ops = [
    ...     {"time": 0, "process": 0, "type": "invoke", "f": "write", "key": "x", "value": 1},
    ...     {"time": 1, "process": 0, "type": "ok", "f": "write", "key": "x", "value": 1},
    ...     {"time": 2, "process": 1, "type": "invoke", "f": "read", "key": "x",
    ...      "value": None, "final": True},
    ...     {"time": 3, "process": 1, "type": "ok", "f": "read", "key": "x", "value": None},
    ... ]
    >>> [(op["index"], op["value"]) for op in lost_write_ops(ops)]
    [(1, 1)]
    """
    prep = as_prepared(history)
    lost = _lost_masks(prep, settle_ms)[3]
    return [op_dict(prep, p) for p in sorted(prep.w_done[lost].tolist())]


def _shown_only_older(prep: Prepared, final: np.ndarray) -> np.ndarray:
    """Mask over writes: every write the key's final reads could have returned precedes
    it (completed ok before it was invoked, or concurrent with a lower version).

    The candidates ``C`` of a key are the writes of each value a final read returned,
    invoked before that read completed. ``W`` survives when some ``c`` in ``C`` was
    invoked after ``W`` completed, or has not completed ok before ``W``'s invoke and has
    no version lower than ``W``'s: a suffix maximum over ``C`` sorted by completion.
    """
    q_read, q_g, q_null, e_g, e_w = prep.queries
    nw, n = len(prep.w_inv), len(prep.ops)
    fq = final[q_read] & ~q_null & (q_g >= 0)
    groups, reach = q_g[fq], prep.r_comp[q_read[fq]]
    ug = np.unique(groups)
    gmax = np.full(len(ug), -1)
    np.maximum.at(gmax, np.searchsorted(ug, groups), reach)
    at = np.minimum(np.searchsorted(ug, e_g), max(len(ug) - 1, 0))
    hit = (ug[at] == e_g) & (gmax[at] > prep.w_inv[e_w]) if len(ug) else e_g < 0
    cand = np.zeros(nw, dtype=bool)
    cand[e_w[hit]] = True
    c = np.flatnonzero(cand)
    key = prep.w_key
    after = np.full(len(prep.keys), -1)
    np.maximum.at(after, key[c], prep.w_inv[c])
    rt_end = np.where(prep.w_ok, prep.w_done, n + 1)[c]
    vkey = np.where(np.isnan(prep.w_ver), np.inf, prep.w_ver)[c]
    # max version over candidates completed at or after W's invoke: n + 1 - pos flips it
    # into prefix_agg's "before"
    top = prefix_agg(key[c], n + 1 - rt_end, vkey, key, n + 1 - prep.w_inv)
    ver = np.where(np.isnan(prep.w_ver), NEG, prep.w_ver)
    concurrent_older = (top == NEG) | (top < ver)
    return (after[key] <= prep.w_done) & concurrent_older
