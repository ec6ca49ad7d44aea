"""Which Python ``postgres`` runs Patroni with.

Patroni starts each postmaster by re-running its own interpreter (multiprocessing's
``spawn``), so ``postgres`` must be able to run it and import Patroni. This checkout's
interpreter is the first choice. When ``postgres`` cannot read it (the clone, or its venv,
lies under a directory such as a mode-700 home folder), Patroni and what it imports are
copied once into a world-readable folder under ``/var/tmp`` and run by another interpreter
of the same version (the venv's base, else the system's), with ``PYTHONPATH`` pointing
there. When that fails
too, :func:`patroni_python` says in one line what to do.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata as md
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from packaging.requirements import Requirement

from replab.errors import ReplabError
from replab.real import processes

__all__ = ["patroni_python", "check_interpreter", "patroni_distributions", "runtime_copy"]

USER = "postgres"
_PROBE = "import patroni, psycopg, pysyncobj"
RUNTIME_ROOT = Path("/var/tmp")


def patroni_python(python: str = sys.executable, bases: list[str] | None = None
                   ) -> tuple[str, dict[str, str]]:
    """``(interpreter, extra environment)`` with which ``postgres`` can run Patroni:
    ``python`` itself, else the first of ``bases`` (default: the interpreter the venv was
    made from, then the system's ``python3.X`` of the same version) that runs a readable
    copy of Patroni and its dependencies. Raises ReplabError (one line) when none works.
    As a non-root user everything runs as ourselves: ``python`` as is."""
    if os.geteuid() != 0:
        return python, {}
    failure = _probe(python, {})
    if failure is None:
        return python, {}
    for base in _base_pythons(python) if bases is None else bases:
        env = {"PYTHONPATH": str(runtime_copy())}
        if _probe(base, env) is None:
            return base, env
    blocked = _unreadable_dir(Path(python))
    where = f"{blocked} is not readable by {USER}" if blocked else "it fails"
    raise ReplabError(
        f"Patroni runs {python} as the {USER!r} user, and {where}: clone replab under a "
        f"directory {USER} can read (e.g. /srv or /opt) and run `python3 tasks.py` there, or "
        f"`chmod o+rx` the directories on the way ({failure})")


def check_interpreter(python: str = sys.executable, bases: list[str] | None = None) -> None:
    """Raise ReplabError (one line: what to do) when ``postgres`` cannot run Patroni."""
    patroni_python(python, bases)


def _probe(python: str, env: dict[str, str]) -> str | None:
    """None when ``postgres`` runs ``python`` and imports Patroni; else the error's last
    line."""
    try:
        done = subprocess.run([python, "-c", _PROBE], capture_output=True, text=True,
                              timeout=60, cwd="/", env={"PATH": "/usr/bin:/bin", **env},
                              **processes.run_as(USER))
    except (OSError, subprocess.SubprocessError) as e:
        return str(e).replace("\n", " ")
    if done.returncode == 0:
        return None
    return (done.stderr.strip().splitlines() or ["no output"])[-1]


def _base_pythons(python: str) -> list[str]:
    """Interpreters of this version other than ``python``: the venv's base, the system's
    (compiled packages are built for the version, so any of them can import them)."""
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    found = [getattr(sys, "_base_executable", "") or "", f"/usr/bin/{version}",
             f"/usr/local/bin/{version}"]
    seen = {os.path.realpath(python)}
    out = []
    for path in found:
        real = os.path.realpath(path) if path else ""
        if real and real not in seen and os.path.isfile(real):
            seen.add(real)
            out.append(real)
    return out


def _unreadable_dir(path: Path) -> Path | None:
    """The first directory on ``path``'s way that others cannot enter (mode 700 homes)."""
    ids = processes.user_ids(USER)
    for parent in reversed(path.absolute().parents):
        with contextlib.suppress(OSError):
            st = parent.stat()
            if ids is not None and st.st_uid == ids[0]:
                continue
            if not st.st_mode & 0o001:
                return parent
    return None


def patroni_distributions() -> list[md.Distribution]:
    """Patroni (with its ``raft`` and ``psycopg3`` extras) and everything it requires."""
    out: dict[str, md.Distribution] = {}
    todo: list[tuple[str, set[str]]] = [("patroni", {"raft", "psycopg3"})]
    while todo:
        name, extras = todo.pop()
        key = name.lower().replace("_", "-")
        if key in out:
            continue
        try:
            dist = md.distribution(name)
        except md.PackageNotFoundError:
            continue
        out[key] = dist
        for text in dist.requires or []:
            req = Requirement(text)
            wanted = any(req.marker is None or req.marker.evaluate({"extra": e})
                         for e in (extras or {""}))
            if wanted:
                todo.append((req.name, set(req.extras)))
    return [out[k] for k in sorted(out)]


def runtime_copy() -> Path:
    """A world-readable copy of :func:`patroni_distributions`' files, made once per set of
    versions (built aside, then renamed into place: concurrent runs do not clash)."""
    dists = patroni_distributions()
    tag = hashlib.sha256(repr((sys.version_info[:2], [(d.metadata["Name"], d.version)
                                                       for d in dists])).encode()).hexdigest()
    target = RUNTIME_ROOT / f"replab-patroni-site-{tag[:16]}"
    if (target / ".complete").exists():
        return target
    work = Path(tempfile.mkdtemp(prefix="replab-patroni-site-", dir=RUNTIME_ROOT))
    try:
        for dist in dists:
            for file in dist.files or []:
                if file.parts and file.parts[0] == "..":
                    continue  # scripts in the venv's bin/: not needed
                src, dst = Path(str(dist.locate_file(file))), work / file
                if src.is_file():
                    dst.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(src, dst)
        for root, _dirs, files in os.walk(work):
            os.chmod(root, 0o755)
            for name in files:
                path = os.path.join(root, name)
                os.chmod(path, os.stat(path).st_mode | 0o444)
        (work / ".complete").touch()
        try:
            work.rename(target)
        except OSError:  # another run made it first
            shutil.rmtree(work, ignore_errors=True)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return target
