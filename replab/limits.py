"""Resource checks made before a command starts: time, memory, simulated time, events, folders.

A command that would need more than the machine can give (a day of Monte Carlo, 10^300
simulated milliseconds) is refused at once with the standard message naming the parameter
and the limit, instead of crashing or running for ever. The WARS estimator streams its
trials in chunks, so its memory does not grow with ``trials``: it is refused only when its
estimated *time* exceeds ``REPLAB_MAX_SECONDS`` (or the ``--max-seconds`` option), or when
``n`` is so large that one chunk would not fit. The limits are deliberately generous;
raise them with the environment variables ``REPLAB_MAX_SECONDS``, ``REPLAB_MAX_MEMORY_GB``
and ``REPLAB_MAX_EVENTS`` (the Python API itself checks only its parameters' ranges).

>>> check_wars_memory(3, 1_000_000, "staleness")  # bytes of one chunk: 256 MB
256000000
>>> check_wars_memory(3, 10**13, "staleness") == check_wars_memory(3, 2**20, "staleness")
True
>>> check_wars_time(3, 10**13, "staleness", limit=3600)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
replab.errors.ConfigError: The 'trials' parameter of staleness must be at most ...
"""

from __future__ import annotations

import dataclasses
import math
import os
from pathlib import Path
from typing import Any

from replab.errors import ConfigError
from replab.validate import fail

__all__ = [
    "BYTES_PER_REPLICA_TRIAL",
    "EVENTS_PER_STEP",
    "MAX_SIMULATED_MS",
    "MAX_AVAILABILITY_N",
    "max_memory_bytes",
    "max_events",
    "check_wars_memory",
    "SECONDS_PER_REPLICA_TRIAL",
    "max_seconds",
    "wars_chunk_trials",
    "estimate_wars_seconds",
    "check_wars_time",
    "estimate_events",
    "check_simulation",
    "check_output_file",
    "check_folder",
]

#: Peak bytes of ``simulate_wars`` per replica and trial of one chunk, measured with
#: tracemalloc (57 for n = 3, 10 and 30), rounded up.
BYTES_PER_REPLICA_TRIAL = 64
#: CPU seconds of one pass of the WARS estimator per replica and trial: about 97 ns
#: measured on the project's machine (10^9 LNKD-DISK trials at n = 3, t-visibility in one
#: streamed pass: 290 CPU seconds), rounded up.
SECONDS_PER_REPLICA_TRIAL = 1e-7
#: Kernel events per client operation or timer tick (7 to 8 measured at the defaults of
#: the single-leader, leaderless and multi-leader models), rounded up.
EVENTS_PER_STEP = 10
#: Longest simulated run: 10^9 ms, about 11.6 days.
MAX_SIMULATED_MS = 1e9

#: The exact availability sums binomial terms as floats; beyond ~1,000 replicas they
#: overflow, and no real quorum system is that wide.
MAX_AVAILABILITY_N = 1000

_GIB = 1 << 30


def max_memory_bytes() -> int:
    """The memory one command may plan to use: ``REPLAB_MAX_MEMORY_GB`` GiB (default 2)."""
    return int(_env_number("REPLAB_MAX_MEMORY_GB", 2.0) * _GIB)


def max_events() -> int:
    """The simulated events one command may plan: ``REPLAB_MAX_EVENTS`` (default 10^7)."""
    return int(_env_number("REPLAB_MAX_EVENTS", 1e7))


def _env_number(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise ConfigError(f"The environment variable {name} must be a number > 0. "
                          f"Got {raw!r} instead.")
    return value


def max_seconds() -> float:
    """The time one estimator command may plan to take: ``REPLAB_MAX_SECONDS`` (default 3600)."""
    return _env_number("REPLAB_MAX_SECONDS", 3600.0)


def wars_chunk_trials(n: int) -> int:
    """Trials in one chunk of the WARS estimator for ``n`` replicas (2**20 up to n = 7,
    fewer above; the same rule as :func:`replab.quorum.chunks.default_chunk_size`)."""
    return max(1 << 10, min(1 << 20, 1 << int(math.log2(max(1, (1 << 23) // (n + 1))))))


def check_wars_memory(n: int, trials: int, owner: str, *, whole_chunk: bool = True) -> int:
    """Refuse a WARS Monte Carlo run whose chunk (n x chunk floats) would not fit.

    The run streams its trials, so only ``n`` can exhaust memory. Returns the bytes it
    expects one chunk to need. With ``whole_chunk=False`` a limit too small for one chunk
    at any ``n`` is let through (a command checks the run's time first, then that).
    """
    chunk = min(trials, wars_chunk_trials(n))
    need = BYTES_PER_REPLICA_TRIAL * (n + 1) * chunk
    limit = max_memory_bytes()
    if need > limit:
        most = limit // (BYTES_PER_REPLICA_TRIAL * chunk) - 1
        if most < 1 and not whole_chunk:
            return need
        if most < 1:
            raise ConfigError(
                f"One chunk of {chunk:,} trials needs {need / _GIB:.3g} GiB, over the memory "
                f"limit of {limit / _GIB:.3g} GiB of {owner}; set REPLAB_MAX_MEMORY_GB to "
                "raise it.")
        raise fail("n", owner, f"at most {most:,} replicas with chunks of {chunk:,} trials "
                   f"(memory limit {limit / _GIB:.3g} GiB; set REPLAB_MAX_MEMORY_GB to raise "
                   "it)", n)
    return need


def estimate_wars_seconds(n: int, trials: int, *, passes: int = 1, workers: int = 1) -> float:
    """About how long a WARS run takes: ``passes`` over every trial, split over workers."""
    return SECONDS_PER_REPLICA_TRIAL * n * trials * passes / max(1, workers)


def check_wars_time(n: int, trials: int, owner: str, *, passes: int = 1, workers: int = 1,
                    limit: float | None = None) -> float:
    """Refuse a WARS run estimated to take longer than ``limit`` seconds (default
    :func:`max_seconds`), naming the limit and how to raise it. Returns the estimate."""
    limit = max_seconds() if limit is None else limit
    need = estimate_wars_seconds(n, trials, passes=passes, workers=workers)
    if need > limit:
        most = int(limit / estimate_wars_seconds(n, 1, passes=passes, workers=workers))
        on = f"{workers} worker" + ("s" if workers > 1 else "")
        raise fail("trials", owner, f"at most {most:,} with n={n:,} on {on} (about "
                   f"{_duration(need)} estimated, limit {_duration(limit)}; raise it with "
                   "--max-seconds or REPLAB_MAX_SECONDS)", trials)
    return need


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.3g} s"
    if seconds < 3600:
        return f"{seconds / 60:.3g} min"
    return f"{seconds / 3600:,.3g} h"


# ------------------------------------------------------------------ simulations


def _numbers(config: Any) -> dict[str, float]:
    out = {}
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            out[f.name] = float(value)
    return out


def _is_rate(name: str) -> bool:
    return name == "rate" or (name.endswith("_rate") and name != "spike_rate")


def _is_tick(name: str) -> bool:
    return name.endswith("interval_ms") or name == "heartbeat_ms"


def estimate_events(config: Any) -> tuple[float, str]:
    """About how many kernel events a simulation config asks for, and the field to blame.

    Client operations come from the ``*_rate`` fields (per second) over ``duration_ms``
    (plus ``settle_ms``), PBS trials from ``trials``, replication-log transactions from
    ``transactions``; timer ticks from every ``*interval_ms`` / ``heartbeat_ms`` field;
    and every other int field (sessions, keys, observers, ...) counts its value once.
    """
    nums = _numbers(config)
    horizon = nums.get("duration_ms", 0.0) + nums.get("settle_ms", 0.0)
    steps = {"duration_ms": horizon / 1000 * sum(v for k, v in nums.items() if _is_rate(k))}
    for name in ("trials", "transactions"):
        steps[name] = nums.get(name, 0.0) * (1 + nums.get("followers", 0.0))
    for name, interval in nums.items():
        if _is_tick(name) and interval > 0:
            steps[name] = horizon / interval
    for f in dataclasses.fields(config):
        count = getattr(config, f.name)
        if type(count) is int and f.name not in steps:
            steps[f.name] = float(count)  # sessions, keys, observers...: set up one by one
    blame = max(steps, key=lambda k: steps[k])
    return EVENTS_PER_STEP * sum(steps.values()), blame


def check_simulation(config: Any, owner: str) -> None:
    """Refuse a simulation beyond the simulated-time or event bound, naming the field."""
    nums = _numbers(config)
    for name, value in nums.items():
        if name.endswith("_ms") and value > MAX_SIMULATED_MS:
            raise fail(name, owner, f"at most {MAX_SIMULATED_MS:.0e} ms of simulated time "
                       "(about 11.6 days)", getattr(config, name))
    events, blame = estimate_events(config)
    limit = max_events()
    if events > limit:
        raise fail(blame, owner, f"small enough for at most {limit:.3g} simulated events "
                   f"(this run asks for about {events:.3g}; set REPLAB_MAX_EVENTS to raise "
                   "the limit)", getattr(config, blame, None))


# ------------------------------------------------------------------ files


def check_output_file(path: str | os.PathLike[str], option: str) -> Path:
    """A file we will write: its folder must exist and it must not be a folder."""
    p = Path(path)
    if p.is_dir():
        raise ConfigError(f"The '{option}' option must name a file, not a folder. "
                          f"Got {str(path)!r} instead.")
    if not p.resolve().parent.is_dir():
        raise ConfigError(f"The '{option}' option must name a file in an existing folder "
                          f"({str(p.parent)!r} does not exist). Got {str(path)!r} instead.")
    return p


def check_folder(path: str | os.PathLike[str], option: str) -> Path:
    """A folder we will read: it must exist."""
    p = Path(path)
    if not p.is_dir():
        raise ConfigError(f"The '{option}' option must name an existing folder. "
                          f"Got {str(path)!r} instead.")
    return p
