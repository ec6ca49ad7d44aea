"""The on-disk results store of resumable sweeps.

A store is a folder of CSV *parts*, one per finished batch of points, each written to a
temporary file and renamed into place (``os.replace``), so a part is either complete or
absent however the sweep was interrupted. Every point is keyed by a hash of the function,
its parameters, its seed and the replab version; a resumed sweep computes only the keys
the store lacks, and a key found twice (two runs racing) is read once.

A part starts with one comment line holding, per point, its key, row count and column
dtypes; the CSV body follows. Reading restores each point's frame with its own dtypes, so
a frame read back equals the one written (floats are written in shortest round-trip form).
Columns may hold numbers, bools and non-empty strings (a missing string is fine).
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import json
import os
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from replab.errors import ConfigError

__all__ = ["ResultStore", "point_key", "fn_identity"]

_MAGIC = "#replab-sweep-part 1 "
_TMP = ".tmp-"


def fn_identity(fn: Callable[..., Any]) -> str:
    """A stable text naming ``fn``: its qualified name, with a partial's bound arguments."""
    if isinstance(fn, functools.partial):
        args = [fn_identity(a) if callable(a) else repr(a) for a in fn.args]
        kwargs = [f"{k}={v!r}" for k, v in sorted(fn.keywords.items())]
        return f"{fn_identity(fn.func)}({', '.join(args + kwargs)})"
    module = getattr(fn, "__module__", None) or type(fn).__module__
    name = getattr(fn, "__qualname__", None) or type(fn).__qualname__
    return f"{module}.{name}"


def point_key(fn_id: str, params: Mapping[str, Any], seed: int, version: str) -> str:
    """The store key of one point: a hash of function, parameters, seed and version."""
    text = json.dumps(
        {"fn": fn_id, "params": dict(params), "seed": int(seed), "replab": version},
        sort_keys=True,
        default=repr,
    )
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _check_storable(frame: pd.DataFrame) -> list[list[str]]:
    """The (name, dtype) schema of ``frame``; ConfigError for what CSV cannot restore."""
    schema = []
    for name in frame.columns:
        if not isinstance(name, str) or frame.columns.tolist().count(name) > 1:
            raise ConfigError(
                "The results store needs unique string column names. "
                f"Got column {name!r} instead."
            )
        col = frame[name]
        if col.dtype.kind in "biuf":
            schema.append([name, str(col.dtype)])
            continue
        if col.dtype.kind == "O" or isinstance(col.dtype, pd.StringDtype):
            values = col.dropna()
            if all(isinstance(v, str) and v != "" for v in values):
                schema.append([name, str(col.dtype)])
                continue
        raise ConfigError(
            f"The results store can keep numbers, bools and non-empty strings; column "
            f"{name!r} has dtype {col.dtype} with values {col.head(3).tolist()!r}."
        )
    return schema


def _restore(raw: pd.Series, dtype_name: str) -> pd.Series:
    """Turn one column read as text back into its recorded dtype."""
    dtype: Any = pd.api.types.pandas_dtype(dtype_name)
    text: Any = raw.to_numpy(dtype=object)
    if dtype.kind == "f":
        values: Any = np.where(text == "", "nan", text).astype(np.float64).astype(dtype)
    elif dtype.kind == "b":
        values = text == "True"
    elif dtype.kind in "iu":
        values = text.astype(dtype)
    else:
        values = np.where(text == "", None, text)
    return pd.Series(values, index=raw.index, dtype=dtype, name=raw.name)


class ResultStore:
    """A folder of finished sweep points, keyed by :func:`point_key`.

    Parameters
    ----------
    path : str or Path
        The folder; created if missing. One sweep writes to it at a time.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        if self.path.exists() and not self.path.is_dir():
            raise ConfigError(
                f"The 'store' parameter of sweep must be a folder. Got {str(path)!r} instead."
            )
        self.path.mkdir(parents=True, exist_ok=True)
        for leftover in self.path.glob(_TMP + "*"):  # from a run killed mid-write
            leftover.unlink(missing_ok=True)
        self._index: dict[str, Path] = {}
        for part in sorted(self.path.glob("part-*.csv")):
            for entry in self._header(part)["points"]:
                self._index.setdefault(entry["key"], part)

    def __contains__(self, key: object) -> bool:
        return key in self._index

    def __len__(self) -> int:
        return len(self._index)

    def keys(self) -> set[str]:
        """Keys of every point in the store."""
        return set(self._index)

    @staticmethod
    def _header(part: Path) -> dict[str, Any]:
        with part.open(encoding="utf-8", newline="") as f:
            first = f.readline()
        if not first.startswith(_MAGIC):
            raise ConfigError(f"{part} is not a replab sweep part (bad first line).")
        return dict(json.loads(first[len(_MAGIC) :]))

    def write(self, keys: Sequence[str], frames: Sequence[pd.DataFrame]) -> Path:
        """Store one batch of finished points atomically; return the part's path."""
        entries = [
            {"key": k, "rows": len(f), "columns": _check_storable(f)}
            for k, f in zip(keys, frames, strict=True)
        ]
        body = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        name = "part-" + hashlib.sha256("".join(keys).encode()).hexdigest()[:24] + ".csv"
        tmp = self.path / f"{_TMP}{uuid.uuid4().hex}"
        with tmp.open("w", encoding="utf-8", newline="") as f:
            f.write(_MAGIC + json.dumps({"points": entries}) + "\n")
            # Quoting strings keeps any character in them (\r, \n, quotes) on its row.
            body.to_csv(f, index=False, quoting=csv.QUOTE_NONNUMERIC)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path / name)
        for k in keys:
            self._index.setdefault(k, self.path / name)
        return self.path / name

    def load(self, keys: Iterable[str]) -> dict[str, pd.DataFrame]:
        """The stored frame of each of ``keys`` (KeyError if one is missing)."""
        wanted = list(keys)
        by_part: dict[Path, set[str]] = {}
        for k in wanted:
            by_part.setdefault(self._index[k], set()).add(k)
        out: dict[str, pd.DataFrame] = {}
        for part, ks in by_part.items():
            out.update(self._read_part(part, ks))
        return {k: out[k] for k in wanted}

    def _read_part(self, part: Path, keys: set[str]) -> dict[str, pd.DataFrame]:
        with part.open(encoding="utf-8", newline="") as f:  # no newline translation
            entries = json.loads(f.readline()[len(_MAGIC) :])["points"]
            text = f.read()
        raw = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_filter=False)
        out: dict[str, pd.DataFrame] = {}
        start = 0
        for entry in entries:
            stop = start + entry["rows"]
            if entry["key"] in keys and entry["key"] not in out:
                rows = raw.iloc[start:stop]
                cols = {name: _restore(rows[name], dt) for name, dt in entry["columns"]}
                out[entry["key"]] = pd.DataFrame(cols).reset_index(drop=True)
            start = stop
        return out
