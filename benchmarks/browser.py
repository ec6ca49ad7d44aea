"""Slider to redrawn figure, as the user waits for it: Chromium, JupyterLab and Voila.

    python benchmarks/browser.py                       # every explorer, both front ends
    python benchmarks/browser.py --only quorum --frontends voila --moves 4
    python benchmarks/browser.py --frontends lab --moves 2 --csv moves.csv

Each explorer's dashboard notebook (``notebooks/dashboards/<name>_explorer.ipynb``) is
opened in Debian's Chromium (Playwright, ``executable_path``, headless, 127.0.0.1 only), in
JupyterLab (the notebook run with "Run All", waited for until every cell has run, the
kernel is idle and the explorer's first figure is shown) and in Voila (``replab
dashboard``). Every control is moved as a user moves it (ArrowRight / ArrowLeft on a
slider's handle, the next option picked in a dropdown, a click on a checkbox; see
``benchmarks/browser_page.py``) and a probe in the page timestamps the input, each figure
change once the new picture is decoded, the explorer's other output (tables) and the end
of its busy state. Reported per move: ms from the input to the first and to the last
changed figure (the table for a control that only changes a table); per explorer and front
end the medians and maxima, moves that changed nothing or timed out, and the 1-minute load
average (other users' work makes these numbers noisy -- quote them with it). By default
each front end starts from an empty result cache (``--cache fresh``), so the front end run
second is not handed the first one's results.

Not a timed test: run it by hand. Servers are started on free ports with their own
session and stopped by PID (their process group); every wait is bounded.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pandas as pd

if __package__ in (None, ""):  # run as a script: import the page helpers as a package
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.browser_page import explorer_root, move_controls  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DASHBOARDS = ROOT / "notebooks" / "dashboards"
LOCAL = "127.0.0.1"
TOKEN = "replab-browser-benchmark"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
EXPLORERS = ("quorum", "single_leader", "lag", "leaderless", "multi_leader", "replog")

KERNEL_IDLE_JS = """() => {
  const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const kernel = w && w.sessionContext && w.sessionContext.session
    && w.sessionContext.session.kernel;
  return Boolean(kernel && kernel.status === "idle" && document.querySelector(".jp-Notebook"));
}"""
# The command's promise settles when every cell has run; kept in the page, not awaited.
RUN_ALL_JS = """() => {
  window.__replabRunAll = "running";
  window.jupyterapp.commands.execute("notebook:run-all-cells").then(
    () => { window.__replabRunAll = "done"; },
    (e) => { window.__replabRunAll = "failed: " + e; });
}"""
RUN_ALL_DONE_JS = """() => {
  const state = window.__replabRunAll;
  if (state.startsWith("failed")) throw new Error("Run All " + state);
  const w = window.jupyterapp.shell.currentWidget;
  const kernel = w.sessionContext.session && w.sessionContext.session.kernel;
  const cells = w.content.model.cells;
  for (let i = 0; i < cells.length; i++) {
    const cell = cells.get(i);
    if (cell.type === "code" && !cell.executionCount) return false;
  }
  return state === "done" && Boolean(kernel) && kernel.status === "idle";
}"""
# Bounded: a kernel that does not answer must not hold up the next explorer.
SHUTDOWN_JS = """() => Promise.race([
  window.jupyterapp.shell.currentWidget.sessionContext.shutdown(),
  new Promise((resolve) => setTimeout(resolve, 15000))])"""


# ---------------------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOCAL, 0))
        return int(s.getsockname()[1])


def group_alive(pgid: int) -> bool:
    """Whether a live (not zombie) process is left in process group ``pgid`` (Linux /proc)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended while we looked
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def stop(proc: subprocess.Popen[bytes], grace: float = 15) -> bool:
    """Stop a server started in its own session; return whether it shut down cleanly.

    SIGTERM goes to the server process only: it must stop what it started (Voila its
    kernels; ``replab dashboard`` its Voila). Whatever is left of the process group after
    ``grace`` seconds is killed.
    """
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=grace)
    deadline = time.monotonic() + grace
    while group_alive(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    clean = not group_alive(proc.pid)
    if not clean:
        os.killpg(proc.pid, signal.SIGKILL)
        while group_alive(proc.pid) and time.monotonic() < deadline + 5:
            time.sleep(0.05)
    proc.wait(timeout=10)
    return clean


@contextlib.contextmanager
def server(cmd: list[str], port: int, log: Path, env: dict[str, str],
           timeout: float = 90) -> Iterator[str]:
    """Run ``cmd`` in its own session until it listens on ``port``; stop it by PID after."""
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"{cmd[2]} exited:\n{log.read_text()[-2000:]}")
            with socket.socket() as s:
                if s.connect_ex((LOCAL, port)) == 0:
                    break
            time.sleep(0.2)
        else:
            raise RuntimeError(f"{cmd[2]} not listening after {timeout} s")
        yield f"http://{LOCAL}:{port}"
    finally:
        stop(proc)


def server_env(tmp: Path) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
               JUPYTER_CONFIG_DIR=str(tmp / "config"), JUPYTER_DATA_DIR=str(tmp / "data"),
               MPLBACKEND="Agg")
    env.pop("JUPYTER_TOKEN", None)
    return env


def lab_command(root_dir: Path, port: int, tmp: Path) -> list[str]:
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--ServerApp.ip={LOCAL}",
           f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
           f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={root_dir}",
           f"--LabApp.user_settings_dir={tmp / 'settings'}",
           f"--LabApp.workspaces_dir={tmp / 'workspaces'}", "--LabApp.news_url=None",
           "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
           "--LabApp.expose_app_in_browser=True"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # JupyterLab refuses to run as root without it
    return cmd


def voila_command(name: str, port: int) -> list[str]:
    return [sys.executable, "-m", "replab.cli", "dashboard", f"{name}_explorer",
            "--port", str(port), "--no-browser"]


@contextlib.contextmanager
def chromium(profile: Path) -> Iterator[Any]:
    """Debian's Chromium, headless, fresh profile; every non-local request aborted."""
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None:
        raise SystemExit("Chromium is not installed: apt-get install chromium")
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile), executable_path=executable, args=CHROMIUM_ARGS, headless=True,
            viewport={"width": 1500, "height": 1100})
        context.route("**/*", lambda route: route.continue_()
                      if urlparse(route.request.url).hostname == LOCAL else route.abort())
        try:
            yield context
        finally:
            # `timeout` signals its whole process group, Chromium included: closing a
            # browser that is already gone raises TargetClosedError, which would hide why
            # the run ended.
            with contextlib.suppress(Exception):
                context.close()


# -------------------------------------------------------------------- front ends


def measure_page(page: Any, *, moves: int, settle_s: float, timeout_s: float,
                 idle_s: float = 0.0) -> list[dict[str, Any]]:
    root = explorer_root(page)
    page.wait_for_timeout(idle_s * 1e3)  # a user reading the page before the first move
    return move_controls(page, root, moves=moves, timeout_s=timeout_s, settle_s=settle_s)


def run_all(page: Any, timeout_ms: float = 180_000) -> None:
    """Run All, as from the Run menu, and wait until every cell has run and the kernel is
    idle (the explorer's first figure is waited for by :func:`explorer_root`)."""
    page.wait_for_function(KERNEL_IDLE_JS, timeout=timeout_ms)
    page.evaluate(RUN_ALL_JS)
    page.wait_for_function(RUN_ALL_DONE_JS, timeout=timeout_ms, polling=100)


def run_lab(context: Any, url: str, name: str, **kw: Any) -> list[dict[str, Any]]:
    page = context.new_page()
    page.set_default_timeout(120_000)
    try:
        # ?reset: no tab restored from the previous explorer's workspace.
        page.goto(f"{url}/lab/tree/{name}_explorer.ipynb?reset&token={TOKEN}",
                  timeout=120_000)
        run_all(page)
        return measure_page(page, **kw)
    finally:
        with contextlib.suppress(Exception):  # one kernel at a time on a 2-core machine
            page.evaluate(SHUTDOWN_JS)
        with contextlib.suppress(Exception):  # the browser may be gone (see chromium())
            page.close()


def run_voila(context: Any, name: str, log: Path, env: dict[str, str],
              **kw: Any) -> list[dict[str, Any]]:
    """``replab dashboard`` on the explorer, a page on it, its moves; the server stopped."""
    port = free_port()
    with server(voila_command(name, port), port, log, env) as url:
        page = context.new_page()
        page.set_default_timeout(120_000)
        try:
            page.goto(url + "/", timeout=180_000)  # shown once every cell has run
            return measure_page(page, **kw)
        finally:
            with contextlib.suppress(Exception):  # the browser may be gone
                page.close()


# -------------------------------------------------------------------------- report


def summarise(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per front end and explorer: moves, how many changed a figure, only other
    output (a table) or nothing, timeouts, errors, the medians and maxima of ms to the
    first and to the last change, and the 1-minute load average when it started."""
    df = pd.DataFrame(rows)
    out = []
    for (frontend, explorer), sub in df.groupby(["frontend", "explorer"], sort=False):
        out.append({
            "frontend": frontend, "explorer": explorer, "moves": len(sub),
            "figure": int((sub.what == "figure").sum()),
            "content_only": int((sub.what == "content").sum()),
            "no_change": int((~sub.changed.astype(bool)).sum()),
            "timed_out": int(sub.timed_out.astype(bool).sum()),
            "errors": int(sub.errors.max()),
            "first_median_ms": sub.first_ms.median(), "first_max_ms": sub.first_ms.max(),
            "done_median_ms": sub.done_ms.median(), "done_max_ms": sub.done_ms.max(),
            "load1": float(sub.load1.iloc[0]) if "load1" in sub else float("nan"),
        })
    return pd.DataFrame(out)


def format_summary(summary: pd.DataFrame) -> list[str]:
    return [f"{r.frontend:5s} {r.explorer:13s} moves {r.moves:3d} | first change median "
            f"{r.first_median_ms:5.0f} max {r.first_max_ms:5.0f} ms | redrawn median "
            f"{r.done_median_ms:5.0f} max {r.done_max_ms:5.0f} ms | figure {r.figure}, "
            f"table only {r.content_only}, no change {r.no_change}, timed out "
            f"{r.timed_out}, errors {r.errors} | load {r.load1:.2f}"
            for r in summary.itertuples()]


def measure(frontend: str, name: str, run: Callable[[], list[dict[str, Any]]],
            rows: list[dict[str, Any]]) -> None:
    """Append one explorer's moves to ``rows``; a failure is reported, not raised."""
    load1, start = os.getloadavg()[0], time.monotonic()
    try:
        got = run()
    except Exception as e:  # report the others; say which failed
        print(f"{frontend} {name}: FAILED {type(e).__name__}: {e}", file=sys.stderr,
              flush=True)
        return
    rows += [dict(r, frontend=frontend, explorer=name, load1=load1) for r in got]
    print(f"{frontend} {name}: {len(got)} moves in {time.monotonic() - start:.0f} s",
          file=sys.stderr, flush=True)


class Stopped(BaseException):
    """SIGTERM or the time budget: stop measuring, report what was measured."""


def run_frontends(args: argparse.Namespace, tmp: Path, rows: list[dict[str, Any]]) -> None:
    """Measure every chosen explorer in every chosen front end, appending to ``rows``."""
    kw = {"moves": args.moves, "settle_s": args.settle, "timeout_s": args.timeout,
          "idle_s": args.idle}
    deadline = time.monotonic() + args.budget
    work = tmp / "notebooks"
    shutil.copytree(DASHBOARDS, work)  # JupyterLab may save what it opens: a copy
    with chromium(tmp / "profile") as context:
        for frontend in args.frontends:
            env = server_env(tmp)
            if args.cache == "fresh":  # each front end starts from an empty result cache
                env["REPLAB_CACHE"] = str(tmp / f"cache-{frontend}")
            if frontend == "lab":
                port = free_port()
                with server(lab_command(work, port, tmp), port, tmp / "lab.log", env) as url:
                    for name in args.only:
                        within(deadline, "lab", name)
                        measure("lab", name, lambda n=name: run_lab(context, url, n, **kw),
                                rows)
                continue
            for name in args.only:
                within(deadline, "voila", name)
                measure("voila", name, functools.partial(
                    run_voila, context, name, tmp / f"voila-{name}.log", env, **kw), rows)


_SIGTERM: list[int] = []


def within(deadline: float, frontend: str, name: str) -> None:
    """Raise :class:`Stopped` instead of starting an explorer after SIGTERM or the budget."""
    if _SIGTERM:
        raise Stopped(f"SIGTERM, before {frontend} {name}")
    if time.monotonic() > deadline:
        raise Stopped(f"time budget spent, before {frontend} {name}")


def on_sigterm(signum: int, _frame: Any) -> None:
    # Raising here could land inside Playwright's event loop; the explorer being measured
    # ends on its own (every wait is bounded; fast when Chromium got the signal too).
    _SIGTERM.append(signum)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", default=list(EXPLORERS), choices=EXPLORERS)
    ap.add_argument("--frontends", nargs="*", default=["lab", "voila"],
                    choices=["lab", "voila"])
    ap.add_argument("--moves", type=int, default=4, help="moves per control")
    ap.add_argument("--settle", type=float, default=0.3, help="seconds between moves")
    ap.add_argument("--idle", type=float, default=0.0,
                    help="seconds between the first figure and the first move (background "
                         "prefetching has that long to run ahead)")
    ap.add_argument("--timeout", type=float, default=10.0, help="seconds allowed per move")
    ap.add_argument("--cache", choices=["fresh", "user"], default="fresh",
                    help="fresh: every front end starts with an empty REPLAB_CACHE (a fair "
                         "comparison); user: the explorers' cache as configured")
    ap.add_argument("--budget", type=float, default=900.0,
                    help="seconds; no explorer is started after it (one may finish)")
    ap.add_argument("--format", choices=["text", "csv"], default="text")
    ap.add_argument("--csv", type=Path, help="also write every move's row to this file")
    args = ap.parse_args(argv)
    # SIGTERM (e.g. from `timeout`) unwinds the with-blocks, which stop the servers.
    signal.signal(signal.SIGTERM, on_sigterm)
    load_before, start = os.getloadavg(), time.monotonic()
    rows: list[dict[str, Any]] = []
    stopped = None
    with tempfile.TemporaryDirectory(prefix="replab-browser-") as tmp_name:
        try:
            run_frontends(args, Path(tmp_name), rows)
        except Stopped as e:  # the with-blocks have stopped the servers by now
            stopped = f"stopped ({e}): the explorers measured so far"
            print(stopped, file=sys.stderr, flush=True)
    if _SIGTERM and not stopped:
        stopped = "stopped (SIGTERM) during the last explorer: it may be missing or cut"
    load_after = os.getloadavg()
    if args.csv:
        pd.DataFrame(rows).to_csv(args.csv, index=False)
    if args.format == "csv":
        pd.DataFrame(rows).to_csv(sys.stdout, index=False)
        return 143 if stopped else 0
    print(f"load average (1, 5, 15 min) before {load_before}, after {load_after}; "
          f"{os.cpu_count()} CPUs; {time.monotonic() - start:.0f} s; cache {args.cache}")
    if stopped:
        print(stopped)
    if rows:
        print("\n".join(format_summary(summarise(rows))))
    done = [r["done_ms"] for r in rows if r["done_ms"] is not None]
    if done:
        print(f"all moves: median {statistics.median(done):.0f} ms, max {max(done):.0f} ms, "
              f"target median <= 250 ms, max <= 600 ms")
    return 143 if stopped else 0


if __name__ == "__main__":
    raise SystemExit(main())
