"""What a checker returns, and the helpers that build its examples."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from replab.checks._prepare import Prepared, Read, Write
from replab.stats import wilson

__all__ = ["CheckResult", "MAX_EXAMPLES", "results_frame"]

MAX_EXAMPLES = 5


@dataclass(frozen=True, kw_only=True)
class CheckResult:
    """The outcome of one checker.

    Attributes
    ----------
    name : str
        The checker's name, e.g. ``"stale-read"``.
    count : int
        Violating operations (reads; acknowledged writes for ``lost-write``).
    examined : int
        Operations the checker could judge (see each checker's docstring).
    rate : float
        ``count / examined``; 0.0 when nothing was examined.
    examples : tuple of dict
        Up to five violations, each ``{"message": str, "ops": [op, ...]}`` where the ops
        are the operations involved (the violating one and those proving it), as dicts in
        the history format, in history order.
    """

    name: str
    count: int
    examined: int
    rate: float
    examples: tuple[dict[str, Any], ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """``{"count", "examined", "rate", "examples"}`` (the JSON form of ``replab check``)."""
        return {"count": self.count, "examined": self.examined, "rate": self.rate,
                "examples": [dict(e) for e in self.examples]}


def make_result(name: str, count: int, examined: int, examples: list[dict[str, Any]]) -> \
        CheckResult:
    rate = count / examined if examined else 0.0
    return CheckResult(name=name, count=count, examined=examined, rate=rate,
                       examples=tuple(examples[:MAX_EXAMPLES]))


def results_frame(results: dict[str, CheckResult]) -> pd.DataFrame:
    """One row per checker: ``check, count, examined, rate, ci_low, ci_high`` (Wilson 95 %)."""
    rows = list(results.values())
    lo, hi = wilson(np.array([r.count for r in rows], dtype=np.int64),
                    np.array([r.examined for r in rows], dtype=np.int64))
    return pd.DataFrame({
        "check": [r.name for r in rows],
        "count": pd.array([r.count for r in rows], dtype="int64"),
        "examined": pd.array([r.examined for r in rows], dtype="int64"),
        "rate": pd.array([r.rate for r in rows], dtype="float64"),
        "ci_low": np.asarray(lo, dtype=np.float64),
        "ci_high": np.asarray(hi, dtype=np.float64),
    })


def op_dict(prep: Prepared, pos: int) -> dict[str, Any]:
    """The operation at ``pos`` in the history format (absent optional fields omitted)."""
    return {k: v for k, v in prep.ops[pos].items() if v is not None or k == "value"}


def example(prep: Prepared, message: str, positions: list[int | None]) -> dict[str, Any]:
    """An example: a message and the operations at ``positions``, in history order."""
    pos = sorted({p for p in positions if p is not None})
    return {"message": message, "ops": [op_dict(prep, p) for p in pos]}


def done_pos(w: Write | None) -> int | None:
    """Where a write shows its outcome: its completion, else its invoke."""
    if w is None:
        return None
    return w.comp if w.comp is not None else w.inv


def show_value(v: Any) -> str:
    """A value as JSON text; ``null`` and ``[]`` read as "not found"."""
    if v is None or v == []:
        return "null (not found)"
    try:
        return json.dumps(v)
    except (TypeError, ValueError):
        return repr(v)


def describe_read(r: Read) -> str:
    """``process P read key K and got V``, for messages."""
    return f"process {r.process!r} read key {r.key!r} and got {show_value(r.raw)}"


def describe_write(w: Write) -> str:
    """``the write of V by process P``, with its version when it has one."""
    v = "" if w.version is None else f" (version {w.version})"
    return f"the write of {show_value(w.value)}{v} by process {w.process!r}"
