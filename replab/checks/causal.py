"""``consistent-prefix``: a read must not contradict the causal past of what was read.

Causal past. A write ``W`` precedes a write ``X`` causally when ``W`` precedes ``X`` in its
writer's session, or ``X``'s writer had read ``W`` before invoking ``X``, transitively.
Reads-from is taken only where it is certain: a read *reads from* ``W`` when ``W`` is the
only write that could have given one of its values; what a cas read counts from its
completion, like any read (so not for the cas's own write, invoked before it completed).
Within a session writes are totally
ordered, so a causal past holds a prefix of each writer's writes: a vector clock over the
processes (how many of each one's writes it holds) describes it exactly.

One sweep in history order keeps, per session, what it *knows* (the writes it read and
their pasts) and the *past* of what it read (the pasts alone); a write stores its writer's
knowledge at its invoke. Only writes that some read reads from store a clock. A read is
judged against the writes of its key, by other processes, inside its session's past: one
small vectorised look-up over the key's writes. Reads that cannot be older than any such
write (decided for all reads at once, ignoring causality) are not looked up.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from replab.checks._collect import as_prepared
from replab.checks._prepare import NEG, Prepared, gc_paused, prefix_agg
from replab.checks.result import (
    CheckResult,
    describe_read,
    describe_write,
    example,
    make_result,
    read_pos,
    write_pos,
)
from replab.checks.session import mr_verdicts, ryw_verdicts
from replab.checks.staleness import _first

__all__ = ["consistent_prefix", "prefix_verdicts"]

QUERY, MERGE, SNAP = 0, 1, 2  # order of events at one history position


def _events(prep: Prepared, look: np.ndarray) -> tuple[list[int], list[int], list[int]]:
    """(kind, a, b) of every event, sorted by (position, kind)."""
    rf_read, rf_w = prep.reads_from
    sources = np.unique(rf_w)
    merge_at = prep.r_comp[rf_read]
    queries = np.flatnonzero(look)
    at = np.concatenate([prep.r_inv[queries] * 4 + QUERY, merge_at * 4 + MERGE,
                         prep.w_inv[sources] * 4 + SNAP])
    kind = np.concatenate([np.full(len(queries), QUERY), np.full(len(rf_read), MERGE),
                           np.full(len(sources), SNAP)])
    a = np.concatenate([queries, rf_read, sources])
    b = np.concatenate([np.zeros(len(queries), dtype=np.int64), rf_w,
                        np.zeros(len(sources), dtype=np.int64)])
    order = np.argsort(at, kind="stable")
    return kind[order].tolist(), a[order].tolist(), b[order].tolist()


def _by_key(prep: Prepared) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per key: (writer, seq, start) of the writes that certainly took effect, newest
    (largest ``start``) first, so the first one in a session's past is the reference."""
    eff = np.flatnonzero(prep.w_effect)
    eff = eff[np.lexsort((-prep.w_start[eff], prep.w_key[eff]))]
    bounds = np.searchsorted(prep.w_key[eff], np.arange(len(prep.keys) + 1))
    out = []
    for k in range(len(prep.keys)):
        sl = eff[bounds[k]:bounds[k + 1]]
        out.append((prep.w_proc[sl], prep.w_seq[sl], prep.w_start[sl]))
    return out


def _sweep(prep: Prepared, look: np.ndarray) -> np.ndarray:
    """Per read: the largest ``start`` in its session's past (``-inf``: none / not looked).

    A session's own column of its past is kept at 0: its own writes are never references
    (they are read-your-writes' business), and every write has ``seq >= 1``.
    """
    best = np.full(len(prep.r_inv), NEG)
    if not look.any():
        return best
    width = len(prep.procs)
    sources = np.unique(prep.reads_from[1])
    row = np.full(len(prep.w_inv), -1, dtype=np.int64)
    row[sources] = np.arange(len(sources))
    dtype = np.int16 if prep.w_seq.max(initial=0) < 2**15 else np.int32
    clocks = np.zeros((len(sources), width), dtype=dtype)
    state = np.zeros((width, 2, width), dtype=dtype)  # per session: know, past
    by_key = _by_key(prep)
    seq, wproc, rows = prep.w_seq.tolist(), prep.w_proc.tolist(), row.tolist()
    rproc, rkey = prep.r_proc.tolist(), prep.r_key.tolist()
    # Views made once: indexing a NumPy array in the loop would make one per event.
    boths, knows, pasts = list(state), [s[0] for s in state], [s[1] for s in state]
    crow = list(clocks)
    maximum = np.maximum
    for kind, a, b in zip(*_events(prep, look), strict=True):
        if kind == MERGE:
            p = rproc[a]
            both = boths[p]
            maximum(both, crow[rows[b]], out=both)
            pasts[p][p] = 0
            q = wproc[b]
            know = knows[p]
            if know[q] < seq[b]:
                know[q] = seq[b]
        elif kind == SNAP:
            q = wproc[a]
            c = crow[rows[a]]
            c[:] = knows[q]
            c[q] = seq[a] - 1
        else:
            writer, wseq, start = by_key[rkey[a]]
            hit = pasts[rproc[a]].take(writer) >= wseq
            first = hit.argmax()
            if hit[first]:
                best[a] = start[first]
    prep.cache["clocks"] = (clocks, row)
    return best


def prefix_verdicts(prep: Prepared) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(examined, violating, reference) read masks of consistent-prefix (cached)."""
    if "cp" in prep.cache:
        return prep.cache["cp"]
    eff = prep.w_effect
    # Any write of the key invoked before the read could be in its past: look those up.
    seen = prefix_agg(prep.w_key[eff], prep.w_inv[eff], prep.w_start[eff], prep.r_key,
                      prep.r_inv)
    ref = _sweep(prep, prep.r_matched & (seen > NEG))
    elsewhere = ryw_verdicts(prep)[1] | mr_verdicts(prep)[1]
    examined = prep.r_matched & (ref > NEG) & ~elsewhere
    out = (examined, examined & (prep.r_lmax < ref), ref)
    prep.cache["cp"] = out
    return out


@gc_paused
def consistent_prefix(history: Any) -> CheckResult:
    """``consistent-prefix``: a read older than the causal past of something already read.

    A read of key ``k`` by process ``P`` violates consistent prefix when ``P`` earlier read
    (for certain) a write ``X`` that causally depends on a write ``W`` of ``k`` by another
    process, ``W`` certainly took effect (acknowledged, or read by someone), and every write
    the read could have returned precedes ``W``. A read that is already ``P``'s own
    read-your-writes or monotonic-reads violation is reported there, not here.

    Returns
    -------
    CheckResult
        ``examined`` counts the ``ok`` reads whose session's causal past holds a write of
        their key by another process, except reads of a value no write wrote and reads
        flagged by read-your-writes or monotonic-reads.
    """
    prep = as_prepared(history)
    examined, bad, ref = prefix_verdicts(prep)
    examples = []
    for x in _first(prep, bad):
        w = _witness(prep, x, ref[x])
        y, s = _seen(prep, x, w)
        msg = (f"{describe_read(prep, x)} breaks consistent prefix: the same process had "
               f"read {describe_write(prep, s)} in op {prep.ops[int(prep.r_comp[y])]['index']}"
               f", which causally depends on {describe_write(prep, w)}, and every write that "
               f"could have given the value read precedes that write")
        pos = read_pos(prep, x) + write_pos(prep, w) + read_pos(prep, y) + write_pos(prep, s)
        examples.append(example(prep, msg, pos))
    return make_result("consistent-prefix", bad.sum(), examined.sum(), examples)


def _witness(prep: Prepared, x: int, start: float) -> int:
    """The write at the reference ``start`` of read ``x`` (by another process)."""
    cand = np.flatnonzero(prep.w_effect & (prep.w_key == prep.r_key[x])
                          & (prep.w_start == start) & (prep.w_proc != prep.r_proc[x]))
    return int(cand[0])


def _seen(prep: Prepared, x: int, w: int) -> tuple[int, int]:
    """(read, write it read from): the first observation by ``x``'s process that put ``w``
    in its causal past."""
    clocks, row = prep.cache["clocks"]
    rf_read, rf_w = prep.reads_from
    mine = np.flatnonzero((prep.r_proc[rf_read] == prep.r_proc[x])
                          & (prep.r_comp[rf_read] < prep.r_inv[x]))
    q, need = int(prep.w_proc[w]), int(prep.w_seq[w])
    for i in mine[np.argsort(prep.r_comp[rf_read[mine]], kind="stable")].tolist():
        if clocks[row[rf_w[i]], q] >= need:
            return int(rf_read[i]), int(rf_w[i])
    raise AssertionError("a consistent-prefix reference without an observation")
