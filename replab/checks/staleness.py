"""Real-time checkers: ``stale-read`` and ``lost-write``.

The conventions (pairing, version order, siblings, unknown outcomes) are those of
:mod:`replab.checks`.
"""

from __future__ import annotations

from typing import Any

from replab.checks._prepare import RINV, WOK, Read, Write, as_prepared, gc_paused, judge
from replab.checks.result import (
    MAX_EXAMPLES,
    CheckResult,
    describe_read,
    describe_write,
    done_pos,
    example,
    make_result,
    show_value,
)

__all__ = ["stale_read", "lost_write"]


@gc_paused
def stale_read(history: Any) -> CheckResult:
    """``stale-read``: a read older than the newest write that completed before it began.

    A read of key ``k`` is stale when it returns a version older than the newest (in the
    key's version order) ``ok`` write of ``k`` that completed before the read was invoked;
    with siblings, when none of its values is that version or newer.

    Parameters
    ----------
    history : History or iterable of dict
        The operations, in real-time order.

    Returns
    -------
    CheckResult
        ``examined`` counts the ``ok`` reads that some ``ok`` write of their key (of known
        rank) completed before, excluding reads whose values of unknown rank could make them
        fresh; ``count`` the stale ones among them.

    Examples
    --------
    >>> ops = [
    ...     {"time": 0, "process": 0, "type": "invoke", "f": "write", "key": "x", "value": 1},
    ...     {"time": 1, "process": 0, "type": "ok", "f": "write", "key": "x", "value": 1},
    ...     {"time": 2, "process": 1, "type": "invoke", "f": "read", "key": "x", "value": None},
    ...     {"time": 3, "process": 1, "type": "ok", "f": "read", "key": "x", "value": None},
    ... ]
    >>> r = stale_read(ops)
    >>> r.count, r.examined, r.rate
    (1, 1, 1.0)
    """
    prep = as_prepared(history)
    newest: dict[Any, Write] = {}
    count = examined = 0
    examples: list[dict[str, Any]] = []
    for kind, obj in prep.timeline:
        if kind == WOK:
            if obj.rank is not None:
                cur = newest.get(obj.key)
                if cur is None or obj.rank > cur.rank:  # type: ignore[operator]
                    newest[obj.key] = obj
        elif kind == RINV:
            x = newest.get(obj.key)
            verdict = judge(obj, None if x is None else x.rank)
            if verdict:
                examined += 1
                if verdict == 2:
                    count += 1
                    if len(examples) < MAX_EXAMPLES:
                        examples.append(_older_example(
                            prep, obj, x, "which completed before the read was invoked"))
    return make_result("stale-read", count, examined, examples)


def _older_example(prep: Any, r: Read, x: Any, why: str) -> dict[str, Any]:
    msg = f"{describe_read(r)}, older than {describe_write(x)}, {why}"
    return example(prep, msg, [done_pos(x), r.inv, r.comp, done_pos(r.top)])


@gc_paused
def lost_write(history: Any) -> CheckResult:
    """``lost-write``: an acknowledged write that the key's final read shows was lost.

    The *final read* of a key is the last ``ok`` read of it (by completion) among those
    invoked after every write of the key had completed (``ok``, ``fail`` or ``info``; a
    write that never completed counts from its invoke). An ``ok`` write ``w`` is lost when
    every value the final read returns was written by an ``ok`` write that completed before
    ``w`` was invoked (``null`` counts as such a value: nothing survived). A final read that
    observes an ``info``/incomplete write, or ``w`` itself, clears ``w``.

    Parameters
    ----------
    history : History or iterable of dict
        The operations, in real-time order.

    Returns
    -------
    CheckResult
        ``examined`` counts the ``ok`` writes of keys that have a final read, except keys
        whose final read returns a value no write wrote; ``count`` the lost ones.
    """
    prep = as_prepared(history)
    settled: dict[Any, int] = {}
    oks: dict[Any, list[Write]] = {}
    for w in prep.writes:
        end = w.comp if w.comp is not None else w.inv
        if end > settled.get(w.key, -1):
            settled[w.key] = end
        if w.status == "ok":
            oks.setdefault(w.key, []).append(w)
    final: dict[Any, Read] = {}
    for r in prep.reads:  # in completion order: the last qualifying one wins
        if r.inv > settled.get(r.key, -1) and r.key in oks:
            final[r.key] = r
    count = examined = 0
    examples: list[dict[str, Any]] = []
    for key, r in final.items():
        if r.unmatched:
            continue
        bound = max((_done_ok(y) for y in r.writes), default=-1.0)
        for w in oks[key]:
            examined += 1
            if bound < w.inv:
                count += 1
                if len(examples) < MAX_EXAMPLES:
                    examples.append(_lost_example(prep, w, r))
    return make_result("lost-write", count, examined, examples)


def _done_ok(y: Write) -> float:
    """Where an observed write certainly took effect by; +inf when it may be later."""
    return float(y.comp) if y.status == "ok" and y.comp is not None else float("inf")


def _lost_example(prep: Any, w: Write, r: Read) -> dict[str, Any]:
    got = (f"got {show_value(r.raw)}, written before it was invoked" if r.writes
           else "found nothing")
    msg = f"{describe_write(w)} to key {w.key!r} was acknowledged, but the final read {got}"
    return example(prep, msg, [w.inv, w.comp, r.inv, r.comp, *(done_pos(y) for y in r.writes)])
