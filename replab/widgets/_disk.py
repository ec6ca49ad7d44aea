"""Explorer results kept on disk between kernels, so the second open of an explorer
finds every setting it computed before (or warmed in the background) ready at once.

A result is stored under a hash of its function's name, its arguments' ``repr`` and a
fingerprint of replab's own source code: a changed model never serves a stale result,
and a cached value is always the value of the setting shown. The directory is
``$REPLAB_CACHE`` (``off`` disables the cache), else ``$XDG_CACHE_HOME/replab/explorers``
(``~/.cache/replab/explorers``). A missing, unreadable or unwritable cache only costs the
computation, never an error.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["MISSING", "cache_dir", "load", "store"]

MISSING = object()
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
