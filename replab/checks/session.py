"""Session guarantees: ``read-your-writes`` and ``monotonic-reads``.

A session is a ``process``. Definitions (candidate writes, write order) are those of
:mod:`replab.checks`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from replab.checks._collect import as_prepared
from replab.checks._prepare import Prepared, gc_paused, prefix_agg
from replab.checks.result import (
    CheckResult,
    describe_read,
    describe_write,
    example,
    make_result,
    read_pos,
    write_pos,
)
from replab.checks.staleness import _first, verdicts, witness

__all__ = ["read_your_writes", "monotonic_reads", "ryw_verdicts", "mr_verdicts"]


def _groups(prep: Prepared, user_of: Mapping[Any, Any] | None) -> tuple[np.ndarray, np.ndarray]:
    """(writes', reads') group ids: session (or user) x key."""
    if user_of is None:
        owner = np.arange(len(prep.procs))
    else:
        users: dict[Any, int] = {}
        owner = np.array([users.setdefault(user_of.get(p, ("\0proc", p)), len(users))
                          for p in prep.procs], dtype=np.int64)
    nk = max(len(prep.keys), 1)
    w_owner = owner[prep.w_proc] if len(prep.w_proc) else prep.w_proc
    r_owner = owner[prep.r_proc] if len(prep.r_proc) else prep.r_proc
    return w_owner * nk + prep.w_key, r_owner * nk + prep.r_key


def ryw_verdicts(prep: Prepared, user_of: Mapping[Any, Any] | None = None) \
        -> tuple[np.ndarray, np.ndarray]:
    """(examined, violating) read masks of read-your-writes (cached without ``user_of``)."""
    if user_of is None and "ryw" in prep.cache:
        return prep.cache["ryw"]
    wg, rg = _groups(prep, user_of)
    ok = prep.w_ok
    ref = prefix_agg(wg[ok], prep.w_done[ok], prep.w_start[ok], rg, prep.r_inv)
    out = verdicts(prep, ref)
    if user_of is None:
        prep.cache["ryw"] = out
    return out


def mr_verdicts(prep: Prepared) -> tuple[np.ndarray, np.ndarray]:
    """(examined, violating) read masks of monotonic-reads (cached)."""
    if "mr" not in prep.cache:
        _, rg = _groups(prep, None)
        m = prep.r_matched
        ref = prefix_agg(rg[m], prep.r_comp[m], prep.r_smin[m], rg, prep.r_inv)
        prep.cache["mr"] = verdicts(prep, ref)
    return prep.cache["mr"]


@gc_paused
def read_your_writes(history: Any, *, user_of: Mapping[Any, Any] | None = None) -> CheckResult:
    """``read-your-writes``: a session reads something older than its own completed write.

    A read of key ``k`` by session ``s`` violates the guarantee when every write it could
    have returned precedes one of ``s``'s own ``ok`` writes of ``k`` that completed before
    the read was invoked.

    With ``user_of`` the guarantee is *cross-device*: the sessions (processes) of one user
    share their writes. The result is then named ``cross-device-read-your-writes``.

    Parameters
    ----------
    history : History or iterable of dict
        The operations.
    user_of : mapping of process to user, optional
        Groups processes into users; a process it does not name is a user of its own.

    Returns
    -------
    CheckResult
        ``examined`` counts the ``ok`` reads of a key by a session (user) that had an ``ok``
        write of it completed before the read was invoked, except reads of a value no write
        wrote.
    """
    prep = as_prepared(history)
    examined, bad = ryw_verdicts(prep, user_of)
    wg, rg = _groups(prep, user_of)
    examples = []
    for x in _first(prep, bad):
        mask = prep.w_ok & (wg == rg[x]) & (prep.w_done < prep.r_inv[x])
        w = witness(prep, x, mask)
        whose = "its own" if prep.w_proc[w] == prep.r_proc[x] else "its user's"
        msg = (f"{describe_read(prep, x)} misses {whose} {describe_write(prep, w)}, which "
               f"completed before it was invoked and follows every write that could have "
               f"given its value")
        examples.append(example(prep, msg, read_pos(prep, x) + write_pos(prep, w)))
    name = "read-your-writes" if user_of is None else "cross-device-read-your-writes"
    return make_result(name, bad.sum(), examined.sum(), examples)


@gc_paused
def monotonic_reads(history: Any) -> CheckResult:
    """``monotonic-reads``: a session reads something older than what it already read.

    A read of key ``k`` by session ``s`` violates the guarantee when an earlier ``ok`` read
    of ``k`` by ``s`` returned a value such that every write this read could have returned
    precedes every write the earlier read could have returned. An earlier ``null`` (the
    initial value) constrains nothing.

    Returns
    -------
    CheckResult
        ``examined`` counts the ``ok`` reads of a key by a session that had already read a
        written value of it, except reads of a value no write wrote.
    """
    prep = as_prepared(history)
    examined, bad = mr_verdicts(prep)
    examples = []
    for x in _first(prep, bad):
        same = np.flatnonzero((prep.r_proc == prep.r_proc[x]) & (prep.r_key == prep.r_key[x])
                              & (prep.r_comp < prep.r_inv[x]) & prep.r_matched
                              & (prep.r_smin > prep.r_lmax[x]))
        y = int(same[0])
        msg = (f"{describe_read(prep, x)} goes back in time: the same process had read "
               f"{describe_read(prep, y)}, and every write that could have given the later "
               f"value precedes every write that could have given the earlier one")
        examples.append(example(prep, msg, read_pos(prep, x) + read_pos(prep, y)))
    return make_result("monotonic-reads", bad.sum(), examined.sum(), examples)
