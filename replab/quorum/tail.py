"""The tail of t-visibility: 99.99 % to 99.9999 % consistent reads, and what it costs.

Far in the tail few trials fall beyond the quantile, so its interval is wide; the table
says how wide, and about how many trials an interval 1 % wide would take (the width of a
quantile's interval shrinks as 1 / sqrt(trials)).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from replab.latency import profile_names
from replab.quorum.trials import check_targets
from replab.quorum.wars import simulate_wars
from replab.rng import SeedLike
from replab.stats import Z95
from replab.validate import check_float

__all__ = ["TAIL_TARGETS", "tail_visibility"]

TAIL_TARGETS = (0.9999, 0.99999, 0.999999)


def tail_visibility(
    profiles: Iterable[str] | None = None,
    p: Iterable[float] = TAIL_TARGETS,
    *,
    n: int = 3,
    r: int = 1,
    w: int = 1,
    trials: int = 1 << 22,
    seed: SeedLike = None,
    executor: Any = None,
    relative: float = 0.01,
) -> pd.DataFrame:
    """t-visibility far in the tail for each profile, with the cost of a tighter interval.

    One row per (profile, target) with ``t`` (ms), its 95 % ``ci_low``/``ci_high``, the
    ``relative_width`` ``(ci_high - ci_low) / t``, ``bounded`` (False when fewer trials
    than the interval needs lie beyond the quantile, so that its upper end is just the
    largest wait seen: the true width is larger) and ``trials_needed``, about how many
    trials make the interval ``relative`` (1 %) of ``t`` wide: ``trials * (width /
    relative) ** 2``, a lower bound where the interval is not bounded. Every profile uses
    the same seed (common random numbers).

    >>> df = tail_visibility(["LNKD-SSD"], [0.9999], trials=50_000, seed=1)
    >>> list(df.columns)[:4], bool(df.bounded.iloc[0])
    (['profile', 'p_target', 't', 'ci_low'], False)
    """
    names = list(profiles) if profiles is not None else profile_names()
    targets, _ = check_targets(list(p), 1)
    check_float(relative, "relative", "tail_visibility", low=0.0, low_open=True)
    rows = []
    for name in names:
        res = simulate_wars(n, r, w, name, trials=trials, seed=seed, executor=executor)
        rows.append(res.t_visibility(targets).assign(profile=name))
    df = pd.concat(rows, ignore_index=True)
    m = df["trials"].to_numpy(dtype=float)
    q = df["p_target"].to_numpy()
    # The interval's upper rank, as replab.stats.quantile_ranks computes it, must fall
    # below the sample's last value for the interval to be bounded.
    upper = np.ceil(q * m + Z95 * np.sqrt(m * q * (1 - q)))
    with np.errstate(divide="ignore", invalid="ignore"):
        width = (df.ci_high - df.ci_low) / df.t
    df["relative_width"] = width
    df["bounded"] = upper < m - 1
    df["trials_needed"] = np.ceil(m * (width / relative) ** 2)
    return df[["profile", "p_target", "t", "ci_low", "ci_high", "relative_width", "bounded",
               "trials", "trials_needed"]]
