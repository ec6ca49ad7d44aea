"""Consistency checkers over histories (DESIGN.md history contract).

Five checkers, each a function ``history -> CheckResult``, named as ``replab check``
reports them: ``stale-read`` (:func:`stale_read`), ``read-your-writes``
(:func:`read_your_writes`), ``monotonic-reads`` (:func:`monotonic_reads`),
``consistent-prefix`` (:func:`consistent_prefix`) and ``lost-write`` (:func:`lost_write`).

:func:`check_history` runs any of them over one shared pass of the history. All run in
time linear in the history (``consistent-prefix`` also in the number of writing processes;
see :mod:`replab.checks.causal`). The conventions they share:

* **Real-time order** is the order of the operations in the history (their position), as
  in Jepsen; ``time`` is carried along but never used to order operations. "Completed
  before X was invoked" means "its completion comes earlier in the history than X's
  invoke".
* **Pairing**: a process has at most one outstanding operation; its completion is the next
  ``ok``/``fail``/``info`` of that process. A completion whose process has no outstanding
  invoke of the same ``f`` and ``key`` is taken as its own invoke (invoked and completed at
  its own position); an invoke that is never completed (or that is followed by another
  invoke of the same process) is *incomplete*: like ``info``, its outcome is unknown.
* **Writes**: the value is the completion's ``value`` (the invoke's when the completion has
  none); the version is the completion's ``version`` (else the invoke's). ``fail`` writes
  did not happen and are dropped; ``info`` and incomplete writes may have happened.
* **Version order** of a key: if any of its (non-failed) writes carries a ``version``, the
  key is *versioned* and a write's rank is its version (writes of that key without one have
  an unknown rank). Otherwise ok writes are ranked by the order in which they completed, and
  ``info``/incomplete writes have an unknown rank: they may be observed, but they are never
  used as the newer version of a violation, and a read that observes one is not judged when
  its known values alone would make it a violation.
* **Reads**: only ``ok`` reads are observations. ``null`` (or an empty list) is "not found",
  older than every write. A list is a set of siblings, each observed. A value that no
  (non-failed) write of the key wrote is of unknown rank. The read's rank is the largest
  known rank it observed; it is *older than* a version ``X`` when that rank is below ``X``'s,
  i.e. when none of its values is ``X`` or newer. Values are compared by equality (lists and
  objects inside values by their JSON text). If two writes of a key share a value, the
  first non-failed one is the one observed.
* **Caveat**: without ``version``, writes of a key that overlap in time are ordered by
  completion, as the history contract says; a store that ordered them the other way will
  then show reads of the one that completed first as stale. Record ``version`` on ``ok``
  writes whenever writes of one key can overlap.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from replab.checks._prepare import as_prepared, gc_paused
from replab.checks.causal import consistent_prefix
from replab.checks.result import CheckResult, results_frame
from replab.checks.session import monotonic_reads, read_your_writes
from replab.checks.staleness import lost_write, stale_read
from replab.validate import check_choice

__all__ = [
    "CHECKS",
    "CheckResult",
    "check_history",
    "results_frame",
    "stale_read",
    "read_your_writes",
    "monotonic_reads",
    "consistent_prefix",
    "lost_write",
]

CHECKS: dict[str, Callable[[Any], CheckResult]] = {
    "stale-read": stale_read,
    "read-your-writes": read_your_writes,
    "monotonic-reads": monotonic_reads,
    "consistent-prefix": consistent_prefix,
    "lost-write": lost_write,
}


@gc_paused
def check_history(history: Any, names: Sequence[str] | None = None) -> dict[str, CheckResult]:
    """Run checkers over a history.

    Parameters
    ----------
    history : History or iterable of dict
        The operations (a plain iterable is validated as :class:`~replab.History` does).
    names : sequence of str, optional
        Which checkers to run, from :data:`CHECKS`; all five by default.

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
    prep = as_prepared(history)
    return {name: CHECKS[name](prep) for name in dict.fromkeys(chosen)}
