"""``consistent-prefix``: reads must not contradict the causal past of what was seen.

Happened-before is session order plus reads-from, transitively. Within one process the
writes are totally ordered, so any causal past holds a *prefix* of each writer's writes;
a vector clock over the writing processes (``clock[q]`` = how many of ``q``'s writes are
in it) describes it exactly. Every write stores the clock of its session at its invoke (its
strict causal past). A session keeps two clocks: what it knows (every write it observed
or wrote, and their pasts), and the strict past of those writes, whose per-key maximum rank
(the *frontier*) is what a later read must not contradict. When the strict clock advances
for writer ``q`` from ``a`` to ``b``, only ``q``'s writes ``a+1..b`` enter the frontier, so
each write enters each reading session's frontier at most once: the work is
O(n + sessions x writes) at worst and close to O(n x writers) in practice, with one small
NumPy vector operation per observation. Memory holds one clock per write
(writes x writers int32).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from replab.checks._prepare import (
    NEG,
    RINV,
    ROK,
    WEND,
    WINV,
    WOK,
    Prepared,
    Read,
    Write,
    as_prepared,
    gc_paused,
    judge,
)
from replab.checks.result import (
    MAX_EXAMPLES,
    CheckResult,
    describe_read,
    describe_write,
    done_pos,
    example,
    make_result,
)

__all__ = ["consistent_prefix"]


class _Session:
    """``both`` holds the two clocks as rows so one ``np.maximum`` advances both."""

    __slots__ = ("both", "know", "past", "frontier")

    def __init__(self, width: int) -> None:
        self.both = np.zeros((2, width), dtype=np.int32)
        self.know = self.both[0]  # views
        self.past = self.both[1]
        self.frontier: dict[Any, float] = {}


@gc_paused
def consistent_prefix(history: Any) -> CheckResult:
    """``consistent-prefix``: a read older than a write that preceded something already seen.

    A read of key ``k`` by session ``s`` violates consistent prefix when it returns a
    version older than some write ``x`` of ``k`` where ``x`` happened before a write ``y``
    that ``s`` has already observed: read in an earlier completed ``ok`` read, or written
    by ``s`` itself in an earlier ``ok`` or ``info`` write (a session knows what it wrote and
    everything that preceded it). ``x`` is strictly before ``y``, so reading an older
    version than ``y`` itself is left to ``monotonic-reads`` and ``read-your-writes``.
    Happened-before is session order plus reads-from (a read of ``y`` follows ``y``), closed
    transitively; writes of unknown outcome that were observed take part in it.

    Parameters
    ----------
    history : History or iterable of dict
        The operations, in real-time order.

    Returns
    -------
    CheckResult
        ``examined`` counts the ``ok`` reads of a key for which the session's observed
        writes have a write of that key (of known rank) in their strict causal past,
        excluding reads whose values of unknown rank could satisfy it; ``count`` the
        violations among them.
    """
    prep = as_prepared(history)
    col = {p: i for i, p in enumerate(dict.fromkeys(w.process for w in prep.writes))}
    width = len(col)
    clocks = np.zeros((len(prep.writes), width), dtype=np.int32)
    by_writer: list[list[tuple[Any, float]]] = [[] for _ in range(width)]  # (key, rank)
    wcol = [col[w.process] for w in prep.writes]
    for w in prep.writes:  # in invoke order, hence in each process's session order
        by_writer[col[w.process]].append((w.key, NEG if w.rank is None else w.rank))
    sessions: dict[Any, _Session] = {}
    count = examined = 0
    examples: list[dict[str, Any]] = []

    def advance(s: _Session, clock: np.ndarray, both: bool) -> None:
        """Merge a write's strict past into the session's (and, if ``both``, its knowledge)."""
        past = s.past
        ahead = (clock > past).nonzero()[0]
        if ahead.size:
            fr = s.frontier
            get = fr.get
            for q in ahead.tolist():
                a, b = int(past[q]), int(clock[q])
                for k, rank in by_writer[q][a:b]:
                    if rank > get(k, NEG):
                        fr[k] = rank
            np.maximum(s.both if both else past, clock, out=s.both if both else past)
        elif both:
            np.maximum(s.know, clock, out=s.know)

    for kind, obj in prep.timeline:
        s = sessions.get(obj.process)
        if s is None:
            s = sessions[obj.process] = _Session(width)
        if kind == RINV:
            verdict = judge(obj, s.frontier.get(obj.key))
            if verdict:
                examined += 1
                if verdict == 2:
                    count += 1
                    if len(examples) < MAX_EXAMPLES:
                        examples.append(_example(prep, obj, s, clocks, col))
        elif kind == ROK:
            know = s.know
            for y in obj.writes:
                advance(s, clocks[y.id], True)
                q = wcol[y.id]
                if know[q] < y.seq:
                    know[q] = y.seq
        elif kind == WINV:  # everything the session knows precedes it, it precedes the rest
            clocks[obj.id] = s.know
            s.know[wcol[obj.id]] = obj.seq
        else:  # WOK/WEND: the session's own (ok or info) write is now something it has seen
            advance(s, clocks[obj.id], False)
    return make_result("consistent-prefix", count, examined, examples)


def _example(prep: Prepared, r: Read, s: _Session, clocks: np.ndarray,
             col: dict[Any, int]) -> dict[str, Any]:
    """Find the write ``x`` behind the frontier and the observation ``y`` it preceded."""
    rank = s.frontier[r.key]
    x = next(w for w in prep.writes if w.key == r.key and w.rank == rank
             and w.seq <= s.past[col[w.process]])
    qx = col[x.process]
    seen_at, y = _observation(prep, r, x, qx, clocks)
    how = "written" if seen_at == y.comp and y.process == r.process else "read"
    msg = (f"{describe_read(r)}, older than {describe_write(x)}, which happened before "
           f"{describe_write(y)} that process {r.process!r} had already {how}")
    return example(prep, msg, [done_pos(x), done_pos(y), seen_at, r.inv, r.comp,
                               done_pos(r.top)])


def _observation(prep: Prepared, r: Read, x: Write, qx: int,
                 clocks: np.ndarray) -> tuple[int, Write]:
    """The first write observed (or written) by ``r``'s session whose past holds ``x``."""
    for kind, obj in prep.timeline:
        if obj.process != r.process or obj.comp is None or obj.comp >= r.inv:
            continue
        if kind == ROK:
            for y in obj.writes:
                if clocks[y.id, qx] >= x.seq:
                    return obj.comp, y
        elif kind in (WOK, WEND) and clocks[obj.id, qx] >= x.seq:
            return obj.comp, obj
    raise AssertionError("a frontier entry without an observation")  # pragma: no cover
