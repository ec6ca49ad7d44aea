"""What a checker returns, and the helpers that build its examples."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from replab.checks._prepare import Prepared
from replab.history import FIELDS
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
        Up to five violations, each ``{"message", "indices", "ops"}``: one sentence naming
        the op indices involved, those indices, and the operations themselves (invokes and
        completions, as dicts in the history format, in history order).
    note : str
        Empty, or why the checker could not judge at all (``lost-write`` without final
        reads: "not examined: ..."); the count is then unknown, not 0 (``None`` in
        :meth:`to_dict`, missing in :func:`results_frame`).
    """

    name: str
    count: int
    examined: int
    rate: float
    examples: tuple[dict[str, Any], ...] = field(default=())
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """``{"count", "examined", "rate", "examples"}`` (the JSON form of ``replab check``),
        and ``note`` when set (``count`` and ``rate`` are then ``None``)."""
        if self.note:
            return {"count": None, "examined": self.examined, "rate": None, "examples": [],
                    "note": self.note}
        return {"count": self.count, "examined": self.examined, "rate": self.rate,
                "examples": [dict(e) for e in self.examples]}


def make_result(name: str, count: int, examined: int, examples: list[dict[str, Any]],
                note: str = "") -> CheckResult:
    rate = count / examined if examined else 0.0
    return CheckResult(name=name, count=int(count), examined=int(examined), rate=rate,
                       examples=tuple(examples[:MAX_EXAMPLES]), note=note)


def results_frame(results: dict[str, CheckResult]) -> pd.DataFrame:
    """One row per checker: ``check, count, examined, rate, ci_low, ci_high`` (Wilson 95 %).

    A checker that could not judge at all (a ``note``) has a missing count (``<NA>``) and
    NaN rate and interval: unknown, not 0.
    """
    rows = list(results.values())
    lo, hi = wilson(np.array([r.count for r in rows], dtype=np.int64),
                    np.array([r.examined for r in rows], dtype=np.int64))
    unknown = np.array([bool(r.note) for r in rows], dtype=bool)
    counts = pd.array([r.count for r in rows], dtype="Int64" if unknown.any() else "int64")
    if unknown.any():
        counts[unknown] = pd.NA
    nan_if = np.where(unknown, np.nan, 1.0)
    return pd.DataFrame({
        "check": [r.name for r in rows],
        "count": counts,
        "examined": pd.array([r.examined for r in rows], dtype="int64"),
        "rate": pd.array([r.rate for r in rows], dtype="float64") * nan_if,
        "ci_low": np.asarray(lo, dtype=np.float64) * nan_if,
        "ci_high": np.asarray(hi, dtype=np.float64) * nan_if,
    })


def op_dict(prep: Prepared, pos: int) -> dict[str, Any]:
    """The operation at ``pos`` in the history format (absent optional fields omitted)."""
    op = prep.ops[pos]
    out = {k: op[k] for k in FIELDS if k in op and (op[k] is not None or k == "value")}
    out.update((k, v) for k, v in op.items() if k not in out and v is not None)
    return out


def example(prep: Prepared, message: str, positions: list[int]) -> dict[str, Any]:
    """An example: a message, the op indices at ``positions`` and those ops, in order."""
    pos = sorted({int(p) for p in positions if p is not None and p >= 0})
    ops = [op_dict(prep, p) for p in pos]
    return {"message": message, "indices": [op["index"] for op in ops], "ops": ops}


def show_value(v: Any) -> str:
    """A value as JSON text; ``null`` and ``[]`` read as "not found"."""
    if v is None or v == []:
        return "null (not found)"
    try:
        return json.dumps(v)
    except (TypeError, ValueError):
        return repr(v)


def index_of(prep: Prepared, pos: int) -> Any:
    return prep.ops[int(pos)]["index"]


def read_pos(prep: Prepared, x: int) -> list[int]:
    return [int(prep.r_inv[x]), int(prep.r_comp[x])]


def write_pos(prep: Prepared, w: int) -> list[int]:
    return [int(prep.w_inv[w]), int(prep.w_done[w])]


def describe_read(prep: Prepared, x: int) -> str:
    """``op 12 (process 1 read key 'x' and got 3)``, naming the read's completion."""
    who, key = prep.procs[prep.r_proc[x]], prep.keys[prep.r_key[x]]
    if prep.r_cas[x] >= 0:
        what = f"compared-and-set key {key!r}, finding {show_value(prep.r_value[x])}"
    else:
        what = f"read key {key!r} and got {show_value(prep.r_value[x])}"
    return f"op {index_of(prep, prep.r_comp[x])} (process {who!r} {what})"


def describe_write(prep: Prepared, w: int) -> str:
    """``op 7 (process 0 wrote 2 to key 'x', version 3, ok)``."""
    done = int(prep.w_done[w])
    at = index_of(prep, done if done >= 0 else prep.w_inv[w])
    status = "ok" if prep.w_ok[w] else "outcome unknown"
    ver = "" if np.isnan(prep.w_ver[w]) else f", version {int(prep.w_ver[w])}"
    return (f"op {at} (process {prep.procs[prep.w_proc[w]]!r} wrote "
            f"{show_value(prep.w_value[w])} to key {prep.keys[prep.w_key[w]]!r}{ver}, "
            f"{status})")
