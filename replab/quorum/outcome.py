"""The per-trial arithmetic of the WARS estimator, vectorised over trials: which replicas
answer first, when the read returns, and the *wait* until it would have been fresh
(see :mod:`replab.quorum.wars`, which draws the delays and aggregates)."""

from __future__ import annotations

import numpy as np

__all__ = ["wars_outcome"]


def _smallest_mask(x: np.ndarray, k: int) -> np.ndarray:
    """Mask of the k smallest entries of each column of ``x`` (shape (n, trials)).

    Ties are broken by replica index (lower first), so exactly k entries are chosen.
    """
    n = x.shape[0]
    if k == n:
        return np.ones(x.shape, dtype=bool)
    if n > 16:
        order = np.argpartition(x, k - 1, axis=0)[:k]
        mask = np.zeros(x.shape, dtype=bool)
        np.put_along_axis(mask, order, True, axis=0)
        return mask
    # n^2 vectorised comparisons over contiguous rows beat a per-trial partition.
    rank = np.zeros(x.shape, dtype=np.int8)
    for j in range(n):
        row = x[j]
        rank += row < x
        rank[j + 1 :] += row == x[j + 1 :]
    return rank < k


def _kth_smallest(x: np.ndarray, k: int) -> np.ndarray:
    """The k-th smallest (1-based) entry of each column, exactly (no arithmetic)."""
    if k == 1:
        return x.min(axis=0)
    if k == x.shape[0]:
        return x.max(axis=0)
    return np.where(_smallest_mask(x, k), x, -np.inf).max(axis=0)


def _read_outcome(
    arrival: np.ndarray, margin: np.ndarray, r: int
) -> tuple[np.ndarray, np.ndarray]:
    """Read latency and the smallest freshness margin among the first r responders."""
    n = arrival.shape[0]
    if r == n:
        return arrival.max(axis=0), margin.min(axis=0)
    if r == 1:
        # Running argmin over replicas (n > 1 here); strict < keeps the lowest index on
        # ties. A where() select is several times faster than a masked copyto.
        best, chosen = arrival[0], margin[0]
        faster = np.empty(best.shape, dtype=bool)
        for i in range(1, n):
            np.less(arrival[i], best, out=faster)
            best = np.where(faster, arrival[i], best)
            chosen = np.where(faster, margin[i], chosen)
        return best, chosen
    first = _smallest_mask(arrival, r)
    latency = np.where(first, arrival, -np.inf).max(axis=0)
    return latency, np.where(first, margin, np.inf).min(axis=0)


def _outcome_inplace(
    W: np.ndarray, A: np.ndarray, R: np.ndarray, S: np.ndarray, r: int, w: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-trial (wait, read latency, write latency); overwrites W, A and S."""
    A += W  # A now holds W + A, when each replica's acknowledgement arrives
    write_latency = _kth_smallest(A, w)
    S += R  # S now holds R + S, when each replica's response arrives
    # inf - inf (a down replica, an uncommitted write) gives NaN; callers mark those inf.
    with np.errstate(invalid="ignore"):
        W -= R  # W now holds W - R: responder i is fresh iff t >= W[i] - R[i] - w_t
        read_latency, wait = _read_outcome(S, W, r)
        wait -= write_latency
    return wait, read_latency, write_latency


def wars_outcome(
    W: np.ndarray, A: np.ndarray, R: np.ndarray, S: np.ndarray, r: int, w: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-trial outcome of given WARS delays, each of shape ``(n, trials)``.

    Returns ``(wait, read_latency, write_latency)``; the read sent ``t`` ms after commit is
    consistent iff ``wait <= t``. An ``inf`` delay marks a replica that is down: it never
    stores the write (W) or never answers (R); a quorum that cannot be formed gives an
    ``inf`` latency and an ``inf`` wait. The inputs are not modified.
    """
    W, A, R, S = (np.array(x, dtype=float) for x in (W, A, R, S))
    wait, read_latency, write_latency = _outcome_inplace(W, A, R, S, r, w)
    np.nan_to_num(wait, copy=False, nan=np.inf)  # inf - inf: a replica that is down
    _mark_failed(wait, read_latency, write_latency)
    return wait, read_latency, write_latency


def _mark_failed(wait: np.ndarray, read_latency: np.ndarray, write_latency: np.ndarray) -> None:
    # A failed read, or a write that never committed, never becomes consistent.
    failed = ~np.isfinite(read_latency) | ~np.isfinite(write_latency)
    if failed.any():
        wait[failed] = np.inf


def _count_at_most(values: np.ndarray, ts: np.ndarray) -> np.ndarray:
    """For every t in ``ts``, the number of ``values <= t`` (one pass, no sort)."""
    order = np.argsort(ts, kind="stable")
    grid = ts[order]
    m = grid.size
    step = (grid[-1] - grid[0]) / (m - 1) if m > 1 else 0.0
    if m > 2 and step > 0 and np.allclose(np.diff(grid), step, rtol=1e-9, atol=0):
        # Evenly spaced t: pos = #(grid < value) is guessed by arithmetic, then checked
        # exactly against the grid; the few guesses off by one (or NaN) are searched.
        with np.errstate(over="ignore", invalid="ignore"):
            guess = values * (1.0 / step)
            guess += 1.0 - grid[0] / step
        np.fmax(guess, 0.0, out=guess)
        np.fmin(guess, m, out=guess)
        pos = guess.astype(np.intp)
        edges = np.concatenate(([-np.inf], grid, [np.inf]))
        ok = edges.take(pos) < values
        ok &= values <= edges[1:].take(pos)
        if not ok.all():
            bad = ~ok
            pos[bad] = np.searchsorted(grid, values[bad], side="left")
    else:
        pos = np.searchsorted(grid, values, side="left")
    counts = np.cumsum(np.bincount(pos, minlength=m + 1))[:m]
    hits = np.empty(m, dtype=np.int64)
    hits[order] = counts
    return hits
