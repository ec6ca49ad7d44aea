#!/usr/bin/env python3
"""Set up and run replab on a fresh machine with nothing but Python 3.11+.

    python3 tasks.py lab     # install into .venv, open JupyterLab on notebooks/
    python3 tasks.py test    # install into .venv, run ruff, mypy and the whole test suite

Extra arguments after ``test`` go to pytest (e.g. ``python3 tasks.py test -k quorum``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"
STAMP = VENV / ".replab-installed"


def run(*cmd: str | Path, **kw: object) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], check=True, cwd=ROOT, **kw)  # type: ignore[call-overload]


def ensure_env() -> None:
    """Create .venv and install replab with its dev extras (again when pyproject changes)."""
    if sys.version_info < (3, 11):  # noqa: UP036 (run by any python3)
        sys.exit(f"replab needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if not PY.exists():
        print(f"creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    want = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == want:
        return
    run(PY, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    run(PY, "-m", "pip", "install", "--quiet", "-e", ".[dev]")
    STAMP.write_text(want)


def lab(extra: list[str]) -> None:
    ensure_env()
    cmd = [str(BIN / "jupyter"), "lab", "--notebook-dir", str(ROOT / "notebooks")]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # JupyterLab refuses to run as root without it
    os.execv(cmd[0], cmd + extra)


def ensure_chromium() -> None:
    """The browser tests drive Debian's Chromium; install it when we can (root + apt-get)."""
    if shutil.which("chromium"):
        return
    if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        try:
            run("apt-get", "update", env=env)
            run("apt-get", "install", "-y", "--no-install-recommends", "chromium", env=env)
            return
        except subprocess.CalledProcessError:
            pass
    print("chromium not found and could not be installed: install it (e.g. `sudo apt-get "
          "install chromium`); tests/test_browser.py will fail until then.", flush=True)


def test(extra: list[str]) -> None:
    ensure_env()
    ensure_chromium()
    run(BIN / "ruff", "check", "replab", "tests", "benchmarks", "tasks.py")
    run(BIN / "mypy")
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONHASHSEED="0")
    run(PY, "-m", "pytest", *extra, env=env)


def main() -> None:
    commands = {"lab": lab, "test": test}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit("usage: python3 tasks.py {lab|test} [extra arguments]")
    try:
        commands[sys.argv[1]](sys.argv[2:])
    except subprocess.CalledProcessError as e:
        sys.exit(e.returncode or 1)


if __name__ == "__main__":
    main()
