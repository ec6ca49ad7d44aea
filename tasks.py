#!/usr/bin/env python3
"""Set up and run replab on a fresh machine with nothing but Python 3.11+.

    python3 tasks.py lab              # install into .venv, open JupyterLab on notebooks/
    python3 tasks.py test             # install into .venv, run ruff, mypy and the whole test suite
    python3 tasks.py replab ARGS...   # install into .venv, run the replab command (no activation)

Extra arguments after ``test`` go to pytest (e.g. ``python3 tasks.py test -k quorum``);
the test suite runs on two workers (pytest-xdist) unless you pass ``-n``.
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
    ensure_system_packages()
    cmd = [str(BIN / "jupyter"), "lab", "--notebook-dir", str(ROOT / "notebooks"),
           # encrypted kernel channels (CurveZMQ): private, and no warning on every run
           "--KernelManager.transport_encryption=auto"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # JupyterLab refuses to run as root without it
    os.execv(cmd[0], cmd + extra)


# Debian packages the workbench drives for real: Chromium (browser tests), PostgreSQL and
# MariaDB (the labs in replab.real). Each entry: (a command that shows it is there, package).
SYSTEM_PACKAGES = [
    ("chromium", "chromium"),
    ("pg_config", "postgresql"),
    ("mariadbd", "mariadb-server"),
]


def _have(command: str) -> bool:
    return bool(shutil.which(command) or shutil.which(command, path="/usr/sbin:/usr/bin:/sbin"))


def ensure_system_packages() -> None:
    """Install the missing Debian packages with apt-get when we can (root + apt-get)."""
    missing = [pkg for cmd, pkg in SYSTEM_PACKAGES if not _have(cmd)]
    if not missing:
        return
    if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        try:
            run("apt-get", "update", env=env)
            run("apt-get", "install", "-y", "--no-install-recommends", *missing, env=env)
            return
        except subprocess.CalledProcessError:
            pass
    print(f"missing Debian packages {' '.join(missing)} and could not install them: install "
          f"them (`sudo apt-get install {' '.join(missing)}`); the browser and real-server "
          "tests will fail until then.", flush=True)


def _wants_workers(extra: list[str]) -> bool:
    """Run pytest on two workers unless the caller chose (``-n``/``-p no:xdist``)."""
    return not any(a == "-n" or a.startswith(("-n", "--numprocesses", "-pno:xdist"))
                   or a == "no:xdist" for a in extra)


def test(extra: list[str]) -> None:
    ensure_env()
    ensure_system_packages()
    run(BIN / "ruff", "check", "replab", "tests", "benchmarks", "tasks.py")
    run(BIN / "mypy")
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONHASHSEED="0")
    # Cache bytecode (in the ignored __pycache__ folders) even where the shell says not
    # to: pytest rewrites every test module's asserts again in each worker otherwise, and
    # each of the suite's hundreds of subprocesses compiles replab again (about 30 s).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    # loadfile: a test module runs on one worker, so its module fixtures (a full notebook
    # run, a Dask cluster, a browser) are built once. (--dist loadgroup did not keep
    # xdist_group tests together with pytest 9.2 and xdist 3.8 here.)
    # --no-loadscope-reorder: modules go out in tests/conftest.py's order (the longest
    # first), not xdist's (the most tests first), so no long module runs alone at the end.
    workers = (["-n", "2", "--dist", "loadfile", "--no-loadscope-reorder"]
               if _wants_workers(extra) else [])
    run(PY, "-m", "pytest", *workers, *extra, env=env)


def replab(extra: list[str]) -> None:
    """Run the ``replab`` command from .venv, so no ``source .venv/bin/activate`` is needed."""
    ensure_env()
    os.execv(str(PY), [str(PY), "-m", "replab.cli", *extra])


COMMANDS = {
    "lab": (lab, "install into .venv, open JupyterLab on notebooks/ (extra args go to jupyter)"),
    "test": (test, "install into .venv, run ruff, mypy and pytest (extra args go to pytest)"),
    "replab": (replab, "install into .venv, run `replab ARGS...` (e.g. replab staleness --help)"),
}


def usage() -> str:
    lines = ["usage: python3 tasks.py COMMAND [ARGS...]", "", "commands:"]
    lines += [f"  {name:<8}{doc}" for name, (_, doc) in COMMANDS.items()]
    lines += ["", "Every command creates .venv and installs replab into it on first use."]
    return "\n".join(lines)


def main() -> None:
    if len(sys.argv) >= 2 and sys.argv[1] in ("-h", "--help", "help"):
        print(usage())
        return
    if len(sys.argv) < 2:
        sys.exit(usage())
    if sys.argv[1] not in COMMANDS:
        print(f"tasks.py: error: unknown command {sys.argv[1]!r}; commands: "
              f"{', '.join(COMMANDS)} (python3 tasks.py --help)", file=sys.stderr)
        sys.exit(2)
    try:
        COMMANDS[sys.argv[1]][0](sys.argv[2:])
    except subprocess.CalledProcessError as e:
        sys.exit(e.returncode or 1)


if __name__ == "__main__":
    main()
