"""The WARS reduction of :mod:`replab.quorum.outcome`, compiled into one loop (numba).

The NumPy reduction makes about fifteen passes over a block of trials, each through a
temporary array; this makes one fused loop per replica (two or three sums, a comparison
and a select per trial, in place) and counts the staleness curve on an exact grid in the
same call. It performs the
same IEEE operations in the same order (sums, differences, comparisons; no fused
multiply-add, no fast-math), with the same tie and NaN rules, so its results are the NumPy
reduction's bit for bit; the tests hold it to that on random delays with ties, infinities
and NaNs. Importing this module imports numba; :mod:`replab.quorum.outcome` does that only
for batches large enough to repay it (``KERNEL_FROM`` trials).
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["reduce_block"]


def _probe() -> int:
    return 0


try:  # the compiled code is cached beside this file, or in the user's cache folder
    numba.njit(cache=True)(_probe)
    _CACHE = True
except RuntimeError:  # neither is writable: compile once per process (about 3 s)
    _CACHE = False

_jit = numba.njit(cache=_CACHE, nogil=True, boundscheck=False)


@_jit
def _min_nan(c: float, x: float) -> float:
    """``np.minimum(c, x)``: NaN if either is NaN."""
    return c if (c <= x or c != c) else x


@_jit
def _max_nan(c: float, x: float) -> float:
    """``np.maximum(c, x)``: NaN if either is NaN."""
    return c if (c >= x or c != c) else x


@_jit
def _first_k(x: np.ndarray, k: int, chosen: np.ndarray) -> None:
    """Marks the k smallest of ``x``, ties to the lower index (as ``_smallest_mask``)."""
    n = x.shape[0]
    for i in range(n):
        rank = 0
        for j in range(n):
            if x[j] < x[i] or (j < i and x[j] == x[i]):
                rank += 1
        chosen[i] = rank < k


@_jit
def reduce_block(W, A, R, S, r, w, start, stop, at, mark,  # type: ignore[no-untyped-def]
                 wait, read, write, tally, ok, count, scale, low, m, bins):
    """Trials ``start:stop`` of the delays into ``wait``, ``read`` and ``write`` at ``at``.

    With ``mark``, a trial whose read or write failed gets an infinite wait. With
    ``tally``, ``ok`` (two counters) adds the finite read and write latencies. With
    ``count``, ``bins`` tallies every wait on the exact grid ``t_k = (low + k) / scale``,
    ``k < m`` (as :class:`~replab.quorum.outcome.Counter` does).
    """
    n = W.shape[0]
    size = stop - start
    wt, rd, wr = wait[at : at + size], read[at : at + size], write[at : at + size]
    col_a = np.empty(n)
    col_b = np.empty(n)
    first = np.empty(n, dtype=np.bool_)
    # The write's latency: the w-th smallest acknowledgement.
    if w == 1 or w == n:
        _sum(W[0, start:stop], A[0, start:stop], wr)
        for i in range(1, n):
            if w == 1:
                _fold_min(W[i, start:stop], A[i, start:stop], wr)
            else:
                _fold_max(W[i, start:stop], A[i, start:stop], wr)
    else:
        for k in range(size):
            for i in range(n):
                col_a[i] = W[i, start + k] + A[i, start + k]
            _first_k(col_a, w, first)
            best = -np.inf
            for i in range(n):
                if first[i]:
                    best = _max_nan(best, col_a[i])
            wr[k] = best
    # The read: its latency, and the smallest freshness margin W - R of its responders.
    if r == n or r == 1:
        _sum(R[0, start:stop], S[0, start:stop], rd)
        _diff(W[0, start:stop], R[0, start:stop], wt)
        for i in range(1, n):
            if r == 1:
                _fold_first(W[i, start:stop], R[i, start:stop], S[i, start:stop], rd, wt)
            else:
                _fold_all(W[i, start:stop], R[i, start:stop], S[i, start:stop], rd, wt)
    else:
        for k in range(size):
            for i in range(n):
                col_a[i] = R[i, start + k] + S[i, start + k]
                col_b[i] = W[i, start + k] - R[i, start + k]
            _first_k(col_a, r, first)
            latency, margin = -np.inf, np.inf
            for i in range(n):
                if first[i]:
                    latency = _max_nan(latency, col_a[i])
                    margin = _min_nan(margin, col_b[i])
            rd[k] = latency
            wt[k] = margin
    # The wait, failed trials, and the counts.
    _finish(wt, rd, wr, mark, tally, ok)
    if count:
        _count(wt, scale, low, m, bins)


@_jit
def _sum(x, y, out):  # type: ignore[no-untyped-def]
    for k in range(out.size):
        out[k] = x[k] + y[k]


@_jit
def _diff(x, y, out):  # type: ignore[no-untyped-def]
    for k in range(out.size):
        out[k] = x[k] - y[k]


@_jit
def _fold_min(x, y, out):  # type: ignore[no-untyped-def]
    for k in range(out.size):
        out[k] = _min_nan(out[k], x[k] + y[k])


@_jit
def _fold_max(x, y, out):  # type: ignore[no-untyped-def]
    for k in range(out.size):
        out[k] = _max_nan(out[k], x[k] + y[k])


@_jit
def _fold_first(W, R, S, read, wait):  # type: ignore[no-untyped-def]
    """One more replica for an r = 1 read: it answers first if strictly sooner."""
    for k in range(read.size):
        a = R[k] + S[k]
        best = read[k]
        wait[k] = W[k] - R[k] if a < best else wait[k]
        read[k] = _min_nan(best, a)


@_jit
def _fold_all(W, R, S, read, wait):  # type: ignore[no-untyped-def]
    """One more replica for an r = n read: the last answer, the smallest margin."""
    for k in range(read.size):
        read[k] = _max_nan(read[k], R[k] + S[k])
        wait[k] = _min_nan(wait[k], W[k] - R[k])


@_jit
def _finish(wait, read, write, mark, tally, ok):  # type: ignore[no-untyped-def]
    if not (mark or tally):
        for k in range(wait.size):
            wait[k] = wait[k] - write[k]
        return
    for k in range(wait.size):
        value = wait[k] - write[k]
        read_ok = np.isfinite(read[k])
        write_ok = np.isfinite(write[k])
        if tally:
            ok[0] += read_ok
            ok[1] += write_ok
        if mark and not (read_ok and write_ok):
            value = np.inf
        wait[k] = value


@_jit
def _count(wait, scale, low, m, bins):  # type: ignore[no-untyped-def]
    top = low + m
    for k in range(wait.size):
        x = np.ceil(wait[k] * scale)
        if not x <= top:  # above the grid, or NaN: never counted
            x = top
        if x < low:
            x = low
        bins[int(x - low)] += 1
