"""A history's client operations, split per key, as the search sees them."""

from __future__ import annotations

from typing import Any, NamedTuple

from replab.checks._prepare import NULL, Prepared, hashable, pair
from replab.checks.linearizability._search import CAS, NEVER, READ, WRITE, SearchOp
from replab.errors import HistoryError

__all__ = ["LinOp", "split_keys", "display"]


class LinOp(NamedTuple):
    """One operation that may take effect: an ``ok`` one, or an ``info`` write or cas.

    ``inv``/``ret`` are positions in the history (``ret = -1``: outcome unknown, the op
    may take effect at any time after its invoke, or never); ``inv_index``/``ret_index``
    the ops' ``index`` fields. ``value`` is as the history gives it (value read, value
    written, or ``[old, new]``).
    """

    process: Any
    f: str
    type: str
    value: Any
    inv: int
    ret: int
    inv_index: Any
    ret_index: Any


def display(state: Any) -> Any:
    """The JSON value of a model state (the search's hashable stand-ins undone)."""
    return None if state == NULL else state


def split_keys(prep: Prepared) -> dict[Any, tuple[list[LinOp], list[SearchOp], dict[Any, Any]]]:
    """Per key, in order of first appearance: its ops, their search form, and the raw value
    of each hashable stand-in (for display).

    Failed ops never happened and reads without an ``ok`` constrain nothing: both are left
    out. Never-completed ops count as ``info``.
    """
    ops, where = prep.ops, prep.history.where
    out: dict[Any, tuple[list[LinOp], list[SearchOp], dict[Any, Any]]] = {}
    inv, comp = pair(Prepared(prep.history))
    for j, i in sorted(zip(inv, comp, strict=True)):
        a = ops[j]
        b = ops[i] if i >= 0 else None
        t = "info" if b is None else b["type"]
        if t == "fail" or (a["f"] == "read" and t != "ok"):
            continue
        value = _value(a, b, t)
        sop = _search_op(a["f"], value, j, i if t == "ok" else -1, where)
        lop = LinOp(process=a["process"], f=a["f"], type=t, value=value, inv=j,
                    ret=i if t == "ok" else -1, inv_index=a.get("index", j),
                    ret_index=None if b is None else b.get("index", i))
        bucket = out.setdefault(a.get("key"), ([], [], {}))
        bucket[0].append(lop)
        bucket[1].append(sop)
        _remember(bucket[2], value, a["f"])
    return out


def _value(a: dict[str, Any], b: dict[str, Any] | None, t: str) -> Any:
    """What the op read or wrote: a read's from its completion; a write's or cas's from the
    completion when it is ``ok`` and carries one, else from the invoke (an ``info``
    completion may carry an error instead)."""
    if a["f"] == "read":
        return None if b is None else b.get("value")
    if b is not None and t == "ok" and b.get("value") is not None:
        return b["value"]
    return a.get("value")


def _search_op(f: str, value: Any, inv: int, ret: int, where: Any) -> SearchOp:
    if f == "write":
        return SearchOp(WRITE, hashable(value), inv, ret)
    if f == "cas":
        if not (isinstance(value, list | tuple) and len(value) == 2):
            raise HistoryError(f"{where(inv)}: a cas value must be [old, new], got {value!r}")
        return SearchOp(CAS, (hashable(value[0]), hashable(value[1])), inv, ret)
    if isinstance(value, list):
        distinct = list(dict.fromkeys(hashable(v) for v in value))
        if len(distinct) > 1:  # siblings: a register holds one value
            return SearchOp(NEVER, tuple(distinct), inv, ret)
        return SearchOp(READ, distinct[0] if distinct else NULL, inv, ret)
    return SearchOp(READ, hashable(value), inv, ret)


def _remember(raw: dict[Any, Any], value: Any, f: str) -> None:
    if value is None or type(value) is int or type(value) is str:
        return  # its own stand-in (null's is shown as None anyway)
    values = value if (f == "cas" or isinstance(value, list)) and isinstance(value, list | tuple) \
        else [value]
    for v in values:
        raw.setdefault(hashable(v), v)
