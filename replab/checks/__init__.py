"""Consistency checkers over histories (DESIGN.md history contract).

Five checkers, each a function ``history -> CheckResult``:

==================  ==========================================================
``stale-read``      :func:`stale_read`
``read-your-writes`` :func:`read_your_writes`
``monotonic-reads`` :func:`monotonic_reads`
``consistent-prefix`` :func:`consistent_prefix`
``lost-write``      :func:`lost_write`
==================  ==========================================================

:func:`check_history` runs any of them over one shared pass of the history. The
conventions they share (real-time order = history order, pairing of invokes and
completions, version order, siblings, operations of unknown outcome) are documented in
:mod:`replab.checks._prepare`. All run in time linear in the history (``consistent-prefix``
also in the number of writing processes; see :mod:`replab.checks.causal`).
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
