"""Real-time checkers: ``stale-read`` and ``lost-write`` (definitions: :mod:`replab.checks`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from replab.checks._collect import as_prepared
from replab.checks._prepare import NEG, Prepared, gc_paused, prefix_agg
from replab.checks.result import (
    MAX_EXAMPLES,
    CheckResult,
    describe_read,
    describe_write,
    example,
    make_result,
    read_pos,
    write_pos,
)

__all__ = ["stale_read", "lost_write", "verdicts", "witness"]


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


@gc_paused
def lost_write(history: Any) -> CheckResult:
    """``lost-write``: an acknowledged write that every final read shows was lost.

    The *final reads* of a key are its ``ok`` reads invoked after every write of it had
    ended (completed ``ok``/``fail``/``info``; a write never completed never ends). An ``ok``
    write ``W`` is lost when the key has final reads and each returns a value that only
    writes preceding ``W`` (or the initial value) could have written. One final read showing
    ``W``, or a write not preceding ``W``, proves ``W`` survived, whichever node served it.

    Returns
    -------
    CheckResult
        ``examined`` counts the ``ok`` writes of keys with final reads, except keys where a
        final read returned a value no write wrote.
    """
    prep = as_prepared(history)
    nk = len(prep.keys)
    final = prep.r_inv > prep.settle[prep.r_key] if len(prep.r_inv) else prep.r_matched
    has_final = np.bincount(prep.r_key[final], minlength=nk) > 0
    junk = np.bincount(prep.r_key[final & ~prep.r_matched], minlength=nk) > 0
    newest = np.full(nk, NEG)
    np.maximum.at(newest, prep.r_key[final], prep.r_lmax[final])
    judged = (has_final & ~junk)[prep.w_key] & prep.w_ok
    lost = judged & (newest[prep.w_key] < prep.w_start)
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
    return make_result("lost-write", lost.sum(), judged.sum(), examples)
