"""The per-trial arithmetic of the WARS estimator, vectorised over trials: which replicas
answer first, when the read returns, and the *wait* until it would have been fresh
(see :mod:`replab.quorum.wars`, which draws the delays and aggregates)."""

from __future__ import annotations

import math

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
        # ties. A where() select is several times faster than a masked copyto, and the
        # running minimum is a plain minimum (arrivals are never NaN: a down replica's
        # is inf).
        best, chosen = arrival[0], margin[0]
        for i in range(1, n):
            chosen = np.where(arrival[i] < best, margin[i], chosen)
            best = np.minimum(best, arrival[i])
        return best, chosen
    first = _smallest_mask(arrival, r)
    latency = np.where(first, arrival, -np.inf).max(axis=0)
    return latency, np.where(first, margin, np.inf).min(axis=0)


#: Trials reduced at once. A block's delays and temporaries (about 2 MiB at n = 3) stay in
#: the core's cache, so the dozen passes of the arithmetic below cost cache, not memory,
#: bandwidth. Every trial is reduced alone, so the block size never changes a result.
BLOCK = 1 << 15


def _reduce_trials(
    W: np.ndarray, A: np.ndarray, R: np.ndarray, S: np.ndarray, r: int, w: int,
    *, mark: bool = False, counter: Counter | None = None, keep: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-trial (wait, read latency, write latency) of the delays (left unchanged).

    Works through the trials a cache-sized block at a time, with the sums in a scratch
    buffer that stays in cache (writing them back into the delays would send every
    delay back to memory). With ``mark``, failed trials get an infinite wait
    (:func:`_mark_failed`); a ``counter`` is given every block's outcome, so counting
    needs no pass of its own. Without ``keep`` only the counter's tallies are wanted: the
    blocks are not assembled (empty arrays return; a single block returns its own).
    """
    n, trials = W.shape
    if trials >= KERNEL_FROM and n <= 16:
        return _reduce_compiled(W, A, R, S, r, w, mark, counter, keep)
    scratch = np.empty((3, n, min(trials, BLOCK)))
    single = trials <= BLOCK
    size = trials if keep and not single else 0
    wait, read_latency, write_latency = (np.empty(size) for _ in range(3))
    for start in range(0, trials, BLOCK):
        cut = slice(start, start + BLOCK)
        block = _outcome_block(W[:, cut], A[:, cut], R[:, cut], S[:, cut], r, w, scratch)
        if mark:
            _mark_failed(*block)
        if counter is not None:
            counter.add(*block)
        if single:
            return block
        if keep:
            wait[cut], read_latency[cut], write_latency[cut] = block
    return wait, read_latency, write_latency


#: Batches of at least this many trials are reduced by the compiled kernel
#: (:mod:`replab.quorum.kernel`; same bits), which repays numba's import and cache load
#: (about 0.3 s once per process); smaller ones, such as a slider's, stay in NumPy.
KERNEL_FROM = 1 << 18


def _reduce_compiled(
    W: np.ndarray, A: np.ndarray, R: np.ndarray, S: np.ndarray, r: int, w: int,
    mark: bool, counter: Counter | None, keep: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_reduce_trials` compiled, a block at a time (a counter on an exact grid,
    or with no grid, counts inside it; any other calls ``add`` on every block)."""
    from replab.quorum.kernel import reduce_block

    W, A, R, S = (np.ascontiguousarray(x) for x in (W, A, R, S))
    trials = W.shape[1]
    size = trials if keep else min(trials, BLOCK)
    wait, read, write = (np.empty(size) for _ in range(3))
    exact = inside = tally = False
    grid = (1.0, 0.0, 0, np.zeros(1, dtype=np.int64))  # (scale, low, m, bins): no grid
    if counter is not None:
        exact = counter.exact
        inside = exact or counter.grid.size == 0  # the kernel does all the counting
        tally = inside and counter.failures
        if exact:
            grid = (counter.scale, counter.low, counter.grid.size, counter.bins)
    ok = np.zeros(2, dtype=np.int64)
    for start in range(0, trials, BLOCK):
        stop = min(trials, start + BLOCK)
        at = start if keep else 0
        reduce_block(W, A, R, S, r, w, start, stop, at, mark, wait, read, write,
                     tally, ok, exact, *grid)
        if counter is not None and not inside:
            cut = slice(at, at + stop - start)
            counter.add(wait[cut], read[cut], write[cut])
    if counter is not None and tally:
        counter.read_ok += int(ok[0])
        counter.write_ok += int(ok[1])
    if not keep:
        return (np.empty(0),) * 3  # type: ignore[return-value]
    return wait, read, write


def _outcome_block(
    W: np.ndarray, A: np.ndarray, R: np.ndarray, S: np.ndarray, r: int, w: int,
    scratch: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    size = W.shape[1]
    ack, arrival, margin = scratch[0, :, :size], scratch[1, :, :size], scratch[2, :, :size]
    np.add(W, A, out=ack)  # when each replica's acknowledgement arrives
    write_latency = _kth_smallest(ack, w)
    np.add(R, S, out=arrival)  # when each replica's response arrives
    # inf - inf (a down replica, an uncommitted write) gives NaN; callers mark those inf.
    with np.errstate(invalid="ignore"):
        np.subtract(W, R, out=margin)  # responder i is fresh iff t >= W[i] - R[i] - w_t
        read_latency, wait = _read_outcome(arrival, margin, r)
        wait -= write_latency
    # (every result is a new array, never a view of the scratch buffer)
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
    W, A, R, S = (np.asarray(x, dtype=float) for x in (W, A, R, S))
    wait, read_latency, write_latency = _reduce_trials(W, A, R, S, r, w)
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
    counter = Counter(ts)
    for start in range(0, values.size, BLOCK):
        counter.add(values[start : start + BLOCK])
    return counter.hits()


class Counter:
    """Tallies of trials, added up block by block: for every t in ``ts``, the waits
    ``<= t``; with ``failures``, also the reads and writes that succeeded."""

    def __init__(self, ts: np.ndarray | None, *, failures: bool = False) -> None:
        self.failures = failures
        self.read_ok = self.write_ok = 0
        if ts is None:
            ts = np.empty(0)
        self.order = np.argsort(ts, kind="stable")
        self.grid = grid = ts[self.order]
        m = grid.size
        self.bins = np.zeros(m + 1, dtype=np.int64)
        step = (grid[-1] - grid[0]) / (m - 1) if m > 1 else 0.0
        self.even = bool(m > 2 and step > 0
                         and np.allclose(np.diff(grid), step, rtol=1e-9, atol=0))
        self.exact = self.even and _exact_grid(grid, step)
        if self.exact:
            self.scale, self.low = 1.0 / step, grid[0] / step
        elif self.even:
            self.scale, self.shift = 1.0 / step, 1.0 - grid[0] / step
            self.edges = np.concatenate(([-np.inf], grid, [np.inf]))

    def add(self, wait: np.ndarray, read: np.ndarray | None = None,
            write: np.ndarray | None = None) -> None:
        """Count one block; ``read`` and ``write`` are its latencies (with ``failures``)."""
        if self.failures:
            self.read_ok += int(np.isfinite(read).sum())  # type: ignore[arg-type]
            self.write_ok += int(np.isfinite(write).sum())  # type: ignore[arg-type]
        m = self.grid.size
        if m == 0:
            return
        if self.exact:
            # grid[k] = (low + k) * step with step a power of two <= 1: value / step is
            # exact, so #(grid < value) = ceil(value / step) - low, clamped to [0, m]
            # (fmin first: NaN goes to m, never counted).
            pos = np.empty(wait.size, dtype=np.intp)
            with np.errstate(over="ignore", invalid="ignore"):
                x = wait * self.scale
                np.ceil(x, out=x)
                np.fmin(x, self.low + m, out=x)
                np.maximum(x, self.low, out=x)
                np.subtract(x, self.low, out=pos, casting="unsafe")
        elif self.even:
            # Evenly spaced t: pos = #(grid < value) is guessed by arithmetic, then checked
            # exactly against the grid; the few guesses off by one (or NaN) are searched.
            # The guess truncates straight into integers; NaN, inf and values past the
            # integers' range become some integer that the clip brings into range, and that
            # fails the check.
            pos = np.empty(wait.size, dtype=np.intp)
            with np.errstate(over="ignore", invalid="ignore"):
                np.add(wait * self.scale, self.shift, out=pos, casting="unsafe")
            np.clip(pos, 0, m, out=pos)
            ok = self.edges.take(pos) < wait
            ok &= wait <= self.edges[1:].take(pos)
            if not ok.all():
                bad = ~ok
                pos[bad] = np.searchsorted(self.grid, wait[bad], side="left")
        else:
            pos = np.searchsorted(self.grid, wait, side="left")
        self.bins += np.bincount(pos, minlength=m + 1)

    def hits(self) -> np.ndarray:
        """The counts of waits ``<= t``, in the order of the ``ts`` given."""
        out = np.empty(self.grid.size, dtype=np.int64)
        out[self.order] = np.cumsum(self.bins)[: self.grid.size]
        return out


def _exact_grid(grid: np.ndarray, step: float) -> bool:
    """True when every ``grid[k]`` is exactly ``(low + k) * step``, for an integer ``low``
    and a ``step`` that is a power of two no larger than 1 (as 0, 1, ..., 100 ms is):
    dividing by such a step is exact (it cannot underflow), and so is the count."""
    mantissa, _ = math.frexp(step)
    low = grid[0] / step
    if mantissa != 0.5 or step > 1 or low != math.floor(low) or abs(low) + grid.size > 2**52:
        return False
    return bool(np.array_equal(grid, (low + np.arange(grid.size)) * step))
