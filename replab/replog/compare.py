"""The divergence report: which rows differ between the leader and a follower."""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["DIFF_COLUMNS", "diff_tables", "side_by_side"]

DIFF_COLUMNS = ["follower", "table", "key", "status", "columns"]


def _rows(frame: pd.DataFrame, cols: list[str]) -> dict[Any, tuple[Any, ...]]:
    present = [c for c in cols if c in frame.columns]
    sub = frame.reindex(columns=present)
    return dict(zip(sub.index, sub.itertuples(index=False, name=None), strict=True))


def _key_text(key: Any) -> str:
    return ",".join(map(str, key)) if isinstance(key, tuple) else str(key)


def diff_tables(
    leader: dict[str, pd.DataFrame], follower: dict[str, pd.DataFrame], *, name: str
) -> pd.DataFrame:
    """Rows that differ, one a row: ``follower, table, key, status, columns``.

    ``status`` is ``missing`` (on the leader only), ``extra`` (on the follower only) or
    ``changed`` (both, with different values in ``columns``, comma-separated). Only the
    leader's columns are compared, so a follower on a newer schema version with extra
    columns matches when the shared columns do. A table the follower lacks counts all its
    leader rows as missing.

    Examples
    --------
    >>> a = pd.DataFrame({"id": [1, 2], "x": [10, 20]}).set_index("id")
    >>> b = pd.DataFrame({"id": [2, 3], "x": [21, 30]}).set_index("id")
    >>> diff_tables({"t": a}, {"t": b}, name="f1")[["key", "status", "columns"]].values.tolist()
    [['1', 'missing', ''], ['2', 'changed', 'x'], ['3', 'extra', '']]
    """
    out: list[tuple[str, str, str, str, str]] = []
    for table, lf in leader.items():
        cols = list(lf.columns)
        mine = _rows(lf, cols)
        theirs = _rows(follower[table], cols) if table in follower else {}
        for key in sorted(set(mine) | set(theirs), key=lambda k: (str(type(k)), k)):
            if key not in theirs:
                out.append((name, table, _key_text(key), "missing", ""))
            elif key not in mine:
                out.append((name, table, _key_text(key), "extra", ""))
            elif mine[key] != theirs[key]:
                changed = [c for c, a, b in zip(cols, mine[key], theirs[key], strict=True)
                           if a != b]
                out.append((name, table, _key_text(key), "changed", ",".join(changed)))
    return pd.DataFrame(out, columns=DIFF_COLUMNS)


def side_by_side(leader: pd.DataFrame, follower: pd.DataFrame) -> pd.DataFrame:
    """One table of the leader next to the follower's, by key, with a ``status`` column.

    Columns are a two-level index: ``("leader", c)`` and ``("follower", c)`` for the
    leader's columns ``c``, then ``("", "status")`` (``""``, ``missing``, ``extra`` or
    ``changed``).

    Examples
    --------
    >>> a = pd.DataFrame({"id": [1, 2], "x": [10, 20]}).set_index("id")
    >>> b = pd.DataFrame({"id": [2], "x": [21]}).set_index("id")
    >>> side_by_side(a, b)[("", "status")].tolist()
    ['missing', 'changed']
    """
    cols = list(leader.columns)
    right = follower.reindex(columns=cols)
    both = pd.concat({"leader": leader, "follower": right}, axis=1)
    diff = diff_tables({"t": leader}, {"t": follower}, name="")
    status = dict(zip(diff["key"], diff["status"], strict=True))
    both[("", "status")] = [status.get(_key_text(k), "") for k in both.index]
    return both
