"""What ``replab check`` reports besides the checkers: overlaps and nemesis windows."""

from __future__ import annotations

from typing import Any

import numpy as np

from replab.checks._faults import CLOSERS, nemesis_windows
from replab.checks._prepare import Prepared
from replab.checks.causal import prefix_verdicts
from replab.checks.session import mr_verdicts, ryw_verdicts
from replab.checks.staleness import stale_reference, verdicts

__all__ = ["summary", "nemesis_windows", "CLOSERS"]


def summary(prep: Prepared, names: list[str]) -> dict[str, Any]:
    """Counts over the whole history: operations, overlaps, nemesis windows."""
    flags = []
    if "stale-read" in names:
        flags.append(verdicts(prep, stale_reference(prep))[1])
    if "read-your-writes" in names:
        flags.append(ryw_verdicts(prep)[1])
    if "monotonic-reads" in names:
        flags.append(mr_verdicts(prep)[1])
    if "consistent-prefix" in names:
        flags.append(prefix_verdicts(prep)[1])
    n_flags = np.sum(flags, axis=0) if flags else np.zeros(0)
    windows = nemesis_windows(prep)
    return {
        "operations": len(prep.ops),
        "client_reads": int(len(prep.r_inv)),
        "client_writes": int(len(prep.w_inv)),
        "skipped_unknown": int(getattr(prep.history, "skipped", 0)),
        "reads_flagged_more_than_once": int((n_flags > 1).sum()),
        "nemesis_ops": len(prep.nemesis),
        "nemesis_windows": windows,
    }
