"""Consistency checkers over histories (DESIGN.md history contract).

Five checkers, each a function ``history -> CheckResult``, named as ``replab check``
reports them: ``stale-read`` (:func:`stale_read`), ``read-your-writes``
(:func:`read_your_writes`), ``monotonic-reads`` (:func:`monotonic_reads`),
``consistent-prefix`` (:func:`consistent_prefix`) and ``lost-write`` (:func:`lost_write`).
:func:`check_history` runs any of them over one shared preparation of the history;
:func:`check_report` adds what holds for the whole history (reads flagged by more than one
checker, nemesis windows).

Definitions
-----------
**Order.** Operations are ordered by ``index`` when present, else by file position.
Each process has at most one operation pending; a completion (``ok``/``fail``/``info``)
must match its process's pending invoke (same ``f``, same key), and anything else is a
:class:`~replab.errors.HistoryError` naming the line, never a guess. An invoke never
completed is like ``info``. Real-time precedence: ``A`` precedes ``B`` when ``A``
completed before ``B`` was invoked. ``time`` and ``ts`` never order anything.

**Write order.** ``W1`` precedes ``W2`` when both carry ``version`` and ``W1``'s is lower,
else when ``W1`` precedes ``W2`` in real time. Versions are used on a key when every
``ok`` write of it carries one (otherwise the key is ordered by real time alone).
Overlapping writes without versions are unordered: a checker counts a violation only if
it holds for every order consistent with these constraints.

**Outcomes.** ``fail`` writes never take effect; ``info`` (and never completed) writes may
take effect at any time after their invoke, or never: they are never used as the newer
write of a violation unless some read returned them. An ``ok`` ``cas [old new]`` reads
``old`` and writes ``new``; a failed cas has no effect; an ``info`` cas is an info write of
``new``. Only ``ok`` reads (and ok cas) are judged.

**Repeated values.** A read of ``v`` may come from any write of ``v`` invoked before the
read completed (``null`` or ``[]``: also from the initial value, which precedes every
write); a read that carries the ``version`` it returned is settled by it. A list is a set
of siblings, each returned. Checkers count only violations that hold for every candidate
write. A read of a value that no write wrote is not judged.

**stale-read**: every write the read could have returned precedes another ``ok`` write of
the key that completed before the read was invoked.

**read-your-writes**: the same, where that write is the reading process's own.

**monotonic-reads**: every write the read could have returned precedes every write an
earlier read of the key by the same process could have returned.

**consistent-prefix**: a read of key ``k`` by process ``P`` violates it when ``P`` earlier
read a write ``X`` that causally depends on a write ``W`` to ``k`` by another process
(``W`` precedes ``X`` in its writer's session, or ``X``'s writer had read ``W`` in a read
completed before ``X`` was invoked, transitively; reads-from only where a read's value has
a single candidate write; a cas does not read its own write), ``W``
certainly took effect, and every write the read could have returned precedes ``W``. A read
already flagged by ``P``'s read-your-writes or monotonic-reads is reported there only.

**lost-write**: the *final reads* of key ``k`` are its ``ok`` reads marked final
(``final: true``, or a Jepsen ``:final-read``) and those invoked at least ``settle_ms``
(default 1000) after ``k``'s last write ended and after the last fault window closed. An
``ok`` write ``W`` to ``k`` is lost when ``k`` has final reads and every final read returns
a value that could only have come from writes that completed ``ok`` before ``W`` was
invoked, or from writes concurrent with ``W`` with a lower ``version`` (or the initial
value): precedence for loss is real time first, so a write discarded by last-write-wins
under clock skew after a write that completed before it is lost. One final read showing
``W``, or a write not preceding ``W``, proves ``W`` survived, whichever node served it.
Without any final read the result is *not examined* (a ``note``; count unknown, not 0).

**linearizable** (:func:`linearizable`, :mod:`replab.checks.linearizability`): per key,
whether some order of the ops, each at an instant between its invoke and its completion,
is a legal run of a register (or cas-register); a verdict per key with a witness.

Each result reports ``count``, ``examined`` and up to five examples; an example names the
op indices involved and says in one sentence why. ``nemesis`` operations are fault events:
they are listed by :func:`check_report`, never checked.

The cost is one pass to pair operations, a few sorts for the real-time checkers, and for
consistent-prefix one sweep with a vector clock per session (see
:mod:`replab.checks.causal`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from replab.checks._collect import as_prepared
from replab.checks._prepare import gc_paused
from replab.checks.causal import consistent_prefix
from replab.checks.linearizability import LinearizabilityResult, linearizable
from replab.checks.report import summary
from replab.checks.result import CheckResult, results_frame
from replab.checks.session import monotonic_reads, read_your_writes
from replab.checks.staleness import DEFAULT_SETTLE_MS, lost_write, lost_write_ops, stale_read
from replab.validate import check_choice, check_float

__all__ = [
    "CHECKS",
    "CheckResult",
    "check_history",
    "check_report",
    "results_frame",
    "stale_read",
    "read_your_writes",
    "monotonic_reads",
    "consistent_prefix",
    "lost_write",
    "linearizable",
    "LinearizabilityResult",
    "lost_write_ops",
]

CHECKS: dict[str, Callable[[Any], CheckResult]] = {
    "stale-read": stale_read,
    "read-your-writes": read_your_writes,
    "monotonic-reads": monotonic_reads,
    "consistent-prefix": consistent_prefix,
    "lost-write": lost_write,
}


@gc_paused
def check_history(history: Any, names: Sequence[str] | None = None, *,
                  settle_ms: float = DEFAULT_SETTLE_MS) -> dict[str, CheckResult]:
    """Run checkers over a history.

    Parameters
    ----------
    history : History or iterable of dict
        The operations (a plain iterable is validated as :class:`~replab.History` does).
    names : sequence of str, optional
        Which checkers to run, from :data:`CHECKS`; all five by default.
    settle_ms : float, default 1000
        ``lost-write``'s settle time: how long after a key's last write (and the last
        fault) a read counts as final (see :func:`lost_write`).

    Returns
    -------
    dict of str to CheckResult
        Keyed by checker name, in the order of ``names`` (or of :data:`CHECKS`).

    Raises
    ------
    ConfigError
        If a name is not a checker's.

    Examples
    --------
    >>> res = check_history([])
    >>> [(name, r.count, r.examined) for name, r in res.items()][:2]
    [('stale-read', 0, 0), ('read-your-writes', 0, 0)]
    """
    chosen = list(CHECKS) if names is None else list(names)
    for name in chosen:
        check_choice(name, "names", "check_history", tuple(CHECKS))
    check_float(settle_ms, "settle_ms", "check_history", low=0.0)
    prep = as_prepared(history)
    return {name: lost_write(prep, settle_ms=settle_ms) if name == "lost-write"
            else CHECKS[name](prep) for name in dict.fromkeys(chosen)}


@gc_paused
def check_report(history: Any, names: Sequence[str] | None = None, *,
                 settle_ms: float = DEFAULT_SETTLE_MS) \
        -> tuple[dict[str, CheckResult], dict[str, Any]]:
    """Run checkers and summarise the history (what ``replab check`` prints).

    Returns
    -------
    (dict of str to CheckResult, dict)
        The results of :func:`check_history`, and a summary: ``operations``,
        ``client_reads``, ``client_writes``, ``skipped_unknown``,
        ``reads_flagged_more_than_once`` (reads that more than one of the read checkers
        flagged) , ``nemesis_ops`` and ``nemesis_windows`` (``f``, ``start`` and ``end`` op
        indices, ``closed_by``, ``value``; see :mod:`replab.checks.report`).
    """
    prep = as_prepared(history)
    results = check_history(prep, names, settle_ms=settle_ms)
    return results, summary(prep, list(results))
