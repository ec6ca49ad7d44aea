"""Explorer results kept on disk between kernels, so the second open of an explorer
finds every setting it computed before (or warmed in the background) ready at once.

A result is stored under a hash of its function's name, its arguments' ``repr`` and a
fingerprint of replab's own source code: a changed model never serves a stale result,
and a cached value is always the value of the setting shown. The directory is
``$REPLAB_CACHE`` (``off`` disables the cache), else ``$XDG_CACHE_HOME/replab/explorers``
(``~/.cache/replab/explorers``). A missing, unreadable or unwritable cache only costs the
computation, never an error.

The cache stays bounded: the first store of a process removes the results of other
replab sources not used for :data:`STALE_DAYS` days (every edit of replab makes a new
source fingerprint, whose predecessors are never read again), and keeps the current
source's results under :data:`MAX_BYTES`, oldest first out.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import pickle
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["MAX_BYTES", "MISSING", "STALE_DAYS", "cache_dir", "load", "prune", "store"]

MISSING = object()
MAX_BYTES = 512 * 2**20
STALE_DAYS = 7.0
_pruned = False
_PACKAGE = Path(__file__).resolve().parents[1]


def cache_dir() -> Path | None:
    """Where results are kept, or None when the cache is off."""
    env = os.environ.get("REPLAB_CACHE")
    if env is not None:
        return None if env.strip().lower() in ("", "off", "0", "no") else Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "replab" / "explorers"


@functools.lru_cache(maxsize=1)
def source_fingerprint() -> str:
    """A hash of every replab source file: results of other code are never reused."""
    digest = hashlib.sha256()
    for path in sorted(_PACKAGE.rglob("*.py")):
        digest.update(str(path.relative_to(_PACKAGE)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _path(name: str, args: tuple[Any, ...]) -> Path | None:
    root = cache_dir()
    if root is None:
        return None
    key = hashlib.sha256(f"{name}\n{args!r}".encode()).hexdigest()[:32]
    return root / source_fingerprint() / name / f"{key}.pickle"


def load(name: str, args: tuple[Any, ...]) -> Any:
    """The stored result of ``name(*args)``, or :data:`MISSING`."""
    path = _path(name, args)
    if path is None or not path.is_file():
        return MISSING
    try:
        with path.open("rb") as f:
            stored_args, value = pickle.load(f)
    except Exception:  # a truncated or foreign file: recompute
        return MISSING
    # The hash names the file; the arguments stored with the value prove the match.
    return value if repr(stored_args) == repr(args) else MISSING


def store(name: str, args: tuple[Any, ...], value: Any) -> None:
    """Keep ``value`` as the result of ``name(*args)`` (atomically; failures ignored)."""
    path = _path(name, args)
    if path is None:
        return
    with contextlib.suppress(Exception):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                pickle.dump((args, value), f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
    _prune_once()


def _prune_once() -> None:
    global _pruned
    if not _pruned:
        _pruned = True
        prune()


def prune(max_bytes: int = MAX_BYTES, stale_days: float = STALE_DAYS) -> int:
    """Bound the cache (see the module's doc); returns the bytes removed."""
    root = cache_dir()
    if root is None or not root.is_dir():
        return 0
    removed = 0
    current = source_fingerprint()
    with contextlib.suppress(OSError):
        for other in root.iterdir():
            if other.name != current and other.is_dir() \
                    and time.time() - _last_used(other) > stale_days * 86400:
                removed += sum(f.stat().st_size for f in other.rglob("*") if f.is_file())
                shutil.rmtree(other, ignore_errors=True)
        files = sorted(((f.stat().st_mtime, f.stat().st_size, f)
                        for f in (root / current).rglob("*.pickle")), key=lambda t: t[0])
        total = sum(size for _, size, _ in files)
        for _, size, path in files:
            if total <= max_bytes:
                break
            path.unlink(missing_ok=True)
            total -= size
            removed += size
    return removed


def _last_used(folder: Path) -> float:
    """When a result was last stored under ``folder`` (its newest subfolder)."""
    return max((d.stat().st_mtime for d in folder.iterdir()), default=folder.stat().st_mtime)
