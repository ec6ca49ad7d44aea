"""Session guarantees: ``read-your-writes`` and ``monotonic-reads``.

A session is a ``process``. The conventions (pairing, version order, siblings, unknown
outcomes) are those of :mod:`replab.checks`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from replab.checks._prepare import RINV, ROK, WOK, Read, Write, as_prepared, gc_paused, judge
from replab.checks.result import (
    MAX_EXAMPLES,
    CheckResult,
    describe_read,
    describe_write,
    done_pos,
    example,
    make_result,
)

__all__ = ["read_your_writes", "monotonic_reads"]


@gc_paused
def read_your_writes(history: Any, *, user_of: Mapping[Any, Any] | None = None) -> CheckResult:
    """``read-your-writes``: a session reads a version older than its own completed write.

    A read of key ``k`` by session ``s`` violates the guarantee when it returns a version
    older than ``s``'s own newest ``ok`` write of ``k`` that completed before the read was
    invoked (with siblings: none of its values is that version or newer).

    With ``user_of`` the guarantee is *cross-device*: the sessions (processes) of one user
    share their writes, so a read by any device of a user must not be older than the
    user's newest ``ok`` write of the key made on any of its devices. The result is then
    named ``cross-device-read-your-writes``.

    Parameters
    ----------
    history : History or iterable of dict
        The operations, in real-time order.
    user_of : mapping of process to user, optional
        Groups processes into users; a process it does not name is a user of its own
        (keep process ids and user ids apart, e.g. users as strings).

    Returns
    -------
    CheckResult
        ``examined`` counts the ``ok`` reads of a key by a session that had an ``ok`` write
        of it (of known rank) completed before the read began, excluding reads whose values
        of unknown rank could satisfy it; reads of a session that never wrote the key are
        not examined. ``count`` the violations among them.
    """
    prep = as_prepared(history)
    users = user_of
    own: dict[Any, dict[Any, Write]] = {}  # session (or user) -> key -> newest own ok write
    count = examined = 0
    examples: list[dict[str, Any]] = []
    for kind, obj in prep.timeline:
        if kind == WOK:
            if obj.rank is not None:
                g = obj.process if users is None else users.get(obj.process, obj.process)
                mine = own.get(g)
                if mine is None:
                    mine = own[g] = {}
                cur = mine.get(obj.key)
                if cur is None or obj.rank > cur.rank:  # type: ignore[operator]
                    mine[obj.key] = obj
        elif kind == RINV:
            g = obj.process if users is None else users.get(obj.process, obj.process)
            mine = own.get(g)
            x = None if mine is None else mine.get(obj.key)
            verdict = 0 if x is None else judge(obj, x.rank)
            if verdict:
                assert x is not None
                examined += 1
                if verdict == 2:
                    count += 1
                    if len(examples) < MAX_EXAMPLES:
                        whose = "its own" if x.process == obj.process else "its user's"
                        msg = (f"{describe_read(obj)}, older than {whose} {describe_write(x)}"
                               ", which completed before the read was invoked")
                        examples.append(example(
                            prep, msg, [x.inv, done_pos(x), obj.inv, obj.comp,
                                        done_pos(obj.top)]))
    name = "read-your-writes" if user_of is None else "cross-device-read-your-writes"
    return make_result(name, count, examined, examples)


@gc_paused
def monotonic_reads(history: Any) -> CheckResult:
    """``monotonic-reads``: a session reads a version older than one it already read.

    A read of key ``k`` by session ``s`` violates the guarantee when it returns a version
    older than the newest version of ``k`` that ``s`` observed in an earlier ``ok`` read
    (one that completed before this read was invoked). Values of unknown rank observed
    earlier do not count; "not found" is older than every version, so an earlier ``null``
    constrains nothing.

    Parameters
    ----------
    history : History or iterable of dict
        The operations, in real-time order.

    Returns
    -------
    CheckResult
        ``examined`` counts the ``ok`` reads of a key by a session that had already read a
        version of it (of known rank), excluding reads whose values of unknown rank could
        satisfy the guarantee; ``count`` the violations among them.
    """
    prep = as_prepared(history)
    seen: dict[Any, dict[Any, Read]] = {}  # process -> key -> read of the newest version
    count = examined = 0
    examples: list[dict[str, Any]] = []
    for kind, obj in prep.timeline:
        if kind == ROK:
            if obj.top is not None:
                mine = seen.get(obj.process)
                if mine is None:
                    mine = seen[obj.process] = {}
                cur = mine.get(obj.key)
                if cur is None or obj.rank > cur.rank:
                    mine[obj.key] = obj
        elif kind == RINV:
            mine = seen.get(obj.process)
            before = None if mine is None else mine.get(obj.key)
            verdict = judge(obj, None if before is None else before.rank)
            if verdict:
                examined += 1
                if verdict == 2:
                    count += 1
                    if len(examples) < MAX_EXAMPLES:
                        examples.append(_monotonic_example(prep, obj, before))  # type: ignore
    return make_result("monotonic-reads", count, examined, examples)


def _monotonic_example(prep: Any, r: Read, before: Read) -> dict[str, Any]:
    x = before.top
    msg = (f"{describe_read(r)}, older than {describe_write(x)}, which it had already "  # type: ignore
           f"read")
    return example(prep, msg, [done_pos(x), before.comp, r.inv, r.comp, done_pos(r.top)])
