"""Tables people would publish: rounded, human column names, no meaningless index."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from replab.plots._base import human

__all__ = ["metrics_table", "tidy_table"]


def _round(value: Any, digits: int) -> Any:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (float, np.floating)):
        return value
    if not np.isfinite(value) or value == 0:
        return float(value)
    return float(f"{float(value):.{digits}g}")


def tidy_table(df: pd.DataFrame, *, digits: int = 3, index: str | None = None,
               rename: Mapping[str, str] | None = None) -> pd.DataFrame:
    """``df`` for reading: floats to ``digits`` significant digits, columns in words.

    ``index`` (a column) becomes the index; otherwise a meaningless index (a range, or
    every label the same, as after ``concat`` of one-row frames) is replaced by 1..n.
    ``rename`` overrides :data:`~replab.plots.LABELS` for some columns.
    """
    out = df.copy()
    for col in out.columns:
        if pd.api.types.is_float_dtype(out[col]):
            out[col] = [_round(v, digits) for v in out[col]]
    if index is not None:
        out = out.set_index(index)
    elif isinstance(out.index, pd.RangeIndex) or out.index.nunique() < len(out):
        out.index = pd.RangeIndex(1, len(out) + 1)
    names = {c: (rename or {}).get(str(c), human(c)) for c in out.columns}
    out = out.rename(columns=names)
    if out.index.name is not None:
        out.index.name = (rename or {}).get(str(out.index.name), human(out.index.name))
    return out


def metrics_table(metrics: Mapping[str, Any], keys: list[str] | None = None, *,
                  digits: int = 3) -> pd.DataFrame:
    """A dict of metrics as a two-column table (metric in words, value rounded)."""
    chosen = list(metrics) if keys is None else keys
    return pd.DataFrame({"metric": [human(k) for k in chosen],
                         "value": pd.Series([_round(metrics[k], digits) for k in chosen],
                                            dtype=object)}
                        ).set_index("metric")
