"""The server-process layer every lab shares: temp dirs, ports, run-as user, PIDs, clean stop.

Every process a lab starts goes through :func:`spawn`: it runs in its own session (Ctrl-C
reaches the lab, not the server), as the servers' user when we are root, with
``PR_SET_PDEATHSIG`` on Linux (if Python is killed outright, the kernel kills it too), and
its PID is registered in :data:`LIVE`. :func:`stop_process` stops one by PID (SIGCONT
first: a frozen process cannot act on a signal), :func:`stop_all` every one still running
and removes the temporary folders; it runs at exit and on SIGTERM (turned into
``SystemExit`` so the labs' context managers run too).
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import glob
import os
import pwd
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from replab.errors import ReplabError

__all__ = ["LIVE", "free_port", "user_ids", "run_as", "make_temp_dir", "remove_temp_dir",
           "chown_tree", "spawn", "stop_process", "children", "stop_all", "install_handlers",
           "live_pids", "listening_ports", "on_stop"]

LIVE: dict[int, subprocess.Popen[bytes]] = {}  # PID -> process, for stop_all
_LOCK = threading.Lock()
_TEMP_DIRS: set[Path] = set()  # temporary folders we made, removed by stop_all
_ON_STOP: list[Callable[[], None]] = []  # the labs' own clean-ups (processes we did not spawn)
_SYSRAND = random.SystemRandom()  # port choice only: no experiment's randomness
#: Ports below a ceiling this process has handed out: free when chosen, they may not be
#: bound yet, so two labs started at once (threads) must not both get one.
_HANDED_OUT: set[int] = set()


def free_port(*, below: int | None = None) -> int:
    """A TCP port of 127.0.0.1 that nothing listens on now; ``below``: a port under it
    (the kernel's own choice comes from the ephemeral range, 32768 and up on Linux)."""
    if below is None:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            return int(s.getsockname()[1])
    for _ in range(200):
        port = _SYSRAND.randrange(max(1024, below // 2), below)
        with _LOCK:
            if port in _HANDED_OUT:  # free now, but maybe not yet bound by its server
                continue
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    continue
            if len(_HANDED_OUT) >= 4096:  # a long session: forget the old ones
                _HANDED_OUT.clear()
            _HANDED_OUT.add(port)
            return port
    raise ReplabError(f"no free TCP port of 127.0.0.1 below {below} after 200 tries")


def user_ids(user: str) -> tuple[int, int] | None:
    """(uid, gid) of ``user`` when we are root (servers refuse root), else None: we run
    them as ourselves."""
    if os.geteuid() != 0:
        return None
    try:
        pw = pwd.getpwnam(user)
    except KeyError:
        raise ReplabError(f"running as root needs the {user!r} user to run the servers: "
                          "install the server's Debian package, which creates it") from None
    return pw.pw_uid, pw.pw_gid


def run_as(user: str) -> dict[str, Any]:
    """``subprocess`` keyword arguments that run a child as ``user`` (when we are root)."""
    ids = user_ids(user)  # no supplementary groups: root's (group 0) must not come along
    return {} if ids is None else {"user": ids[0], "group": ids[1], "extra_groups": []}


def chown_tree(path: Path, user: str) -> None:
    """Give ``path`` and everything under it to ``user`` (when we are root)."""
    ids = user_ids(user)
    if ids is None:
        return
    os.chown(path, *ids)
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            os.chown(os.path.join(root, name), *ids, follow_symlinks=False)


def make_temp_dir(prefix: str, user: str, *, keep: bool = False,
                  parent: str | None = None) -> Path:
    """A fresh temporary folder that ``user`` owns (in ``parent``, default: the system's
    temporary folder), removed by :func:`stop_all` unless ``keep``."""
    install_handlers()
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    if not keep:
        with _LOCK:
            _TEMP_DIRS.add(path)
    chown_tree(path, user)
    return path


def remove_temp_dir(path: Path) -> None:
    """Remove a temporary folder of a lab (its servers stopped)."""
    with _LOCK:
        _TEMP_DIRS.discard(path)
    shutil.rmtree(path, ignore_errors=True)


def _die_with_parent() -> None:
    """Runs in the child after the uid switch, so the kernel keeps the flag."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _death_signal() -> Callable[[], None] | None:
    """PR_SET_PDEATHSIG fires when the *thread* that forked exits: only from the main one."""
    return _die_with_parent if threading.current_thread() is threading.main_thread() else None


def spawn(args: Sequence[str], *, user: str, log: Path | None = None,
          env: dict[str, str] | None = None, cwd: str = "/",
          new_session: bool = True) -> subprocess.Popen[bytes]:
    """Start ``args`` as ``user`` and register its PID; output goes to ``log`` (appended)
    or nowhere. ``new_session``: in a session of its own, so Ctrl-C reaches us, not it
    (the MariaDB lab keeps its servers in ours: in a session of their own, which is also
    a scheduling group of their own, they wrote 2-5 times fewer rows a second here)."""
    install_handlers()
    out: Any = subprocess.DEVNULL if log is None else open(log, "ab")  # noqa: SIM115
    try:
        proc = subprocess.Popen(list(args), stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, cwd=cwd, env=env,
                                start_new_session=new_session, preexec_fn=_death_signal(),
                                **run_as(user))
    finally:
        if log is not None:
            out.close()
    with _LOCK:
        LIVE[proc.pid] = proc
    return proc


def _signal(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)


def stop_process(proc: subprocess.Popen[bytes] | None, sig: int = signal.SIGTERM,
                 timeout_s: float = 15.0) -> None:
    """Stop one process by PID: SIGCONT, then ``sig``, SIGKILL after ``timeout_s``; reap it
    and unregister it."""
    if proc is None:
        return
    if proc.poll() is None:
        _signal(proc.pid, signal.SIGCONT)  # a stopped process cannot act on the signal
        _signal(proc.pid, sig)
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            _signal(proc.pid, signal.SIGKILL)
            proc.wait(timeout_s)
    with _LOCK:
        LIVE.pop(proc.pid, None)


def children(ppid: int) -> list[int]:
    """PIDs whose parent is ``ppid`` (from /proc; empty where there is no /proc)."""
    out = []
    for stat in glob.glob("/proc/[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = Path(stat).read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == ppid:
                out.append(int(Path(stat).parent.name))
    return out


def live_pids() -> list[int]:
    """Every PID on the machine (for tests asserting nothing of ours is left)."""
    return [int(Path(p).name) for p in glob.glob("/proc/[0-9]*")]


def listening_ports() -> set[int]:
    """TCP ports something on this machine listens on (from /proc/net/tcp and tcp6)."""
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if len(fields) > 3 and fields[3] == "0A":  # TCP_LISTEN
                    ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def on_stop(cleanup: Callable[[], None]) -> Callable[[], None]:
    """Register a lab's own clean-up (e.g. processes its servers forked) for
    :func:`stop_all`; returns a function that unregisters it."""
    with _LOCK:
        _ON_STOP.append(cleanup)

    def forget() -> None:
        with _LOCK, contextlib.suppress(ValueError):
            _ON_STOP.remove(cleanup)
    return forget


def stop_all() -> None:
    """Stop every process this process started that still runs (SIGKILL, by PID), run the
    labs' clean-ups and remove the temporary folders (atexit, SIGTERM)."""
    with _LOCK:
        cleanups, procs = list(_ON_STOP), list(LIVE.values())
    for cleanup in cleanups:
        with contextlib.suppress(Exception):
            cleanup()
    for proc in procs:
        with contextlib.suppress(Exception):
            stop_process(proc, signal.SIGKILL, timeout_s=5.0)
    with _LOCK:
        dirs = list(_TEMP_DIRS)
    for path in dirs:
        remove_temp_dir(path)


def _on_sigterm(signum: int, frame: Any) -> None:
    stop_all()
    raise SystemExit(128 + signum)


_installed = False


def install_handlers() -> None:
    """Once per process: :func:`stop_all` at exit, and SIGTERM turned into a clean exit
    when nobody else handles it (main thread only)."""
    global _installed
    if _installed:
        return
    _installed = True
    atexit.register(stop_all)
    if threading.current_thread() is threading.main_thread() and \
            signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _on_sigterm)


def wait_until(predicate: Callable[[], bool], timeout_s: float, step_s: float = 0.05) -> bool:
    """Poll ``predicate`` until it is true or ``timeout_s`` passes (every wait is bounded)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step_s)
    return predicate()
