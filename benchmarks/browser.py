"""Slider to redrawn figure, as the user waits for it: Chromium, JupyterLab and Voila.

    python benchmarks/browser.py                       # every explorer, both front ends
    python benchmarks/browser.py --only quorum --frontends voila --moves 4
    python benchmarks/browser.py --format csv > moves.csv

Each explorer's dashboard notebook (``notebooks/dashboards/<name>_explorer.ipynb``) is
opened in Debian's Chromium (Playwright, ``executable_path``, headless, 127.0.0.1 only), in
JupyterLab (the notebook run with "Run All") and in Voila (``replab dashboard``). For every
control the script presses a key on it (ArrowRight / ArrowLeft on a slider handle,
ArrowDown on a dropdown, Space on a checkbox) and a MutationObserver on the explorer's
figure timestamps, in the page, the moment the new picture has been decoded. Reported:
key press -> first figure change and -> busy state cleared (every image of the explorer
redrawn), per move; medians and maxima per explorer and front end; and the machine's load
average (other users' work makes these numbers noisy -- quote them with it).

Not a timed test: run it by hand. Servers are started on free ports with their own
session and stopped by PID (their process group); every wait is bounded.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
DASHBOARDS = ROOT / "notebooks" / "dashboards"
LOCAL = "127.0.0.1"
TOKEN = "replab-browser-benchmark"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
EXPLORERS = ("quorum", "single_leader", "lag", "leaderless", "multi_leader", "replog")

# Installed once per page: timestamps (performance.now) of the last user input and of
# every decoded figure change inside the explorer, and whether the explorer is busy.
PROBE_JS = """(root) => {
  const probe = {input: 0, changes: [], busyEnd: 0, busy: false};
  window.__replab = probe;
  const mark = () => { probe.input = performance.now(); probe.changes = []; probe.busyEnd = 0; };
  for (const kind of ["keydown", "change", "click"]) {
    document.addEventListener(kind, (e) => { if (root.contains(e.target)) mark(); }, true);
  }
  const seen = new Set();
  const watch = (img) => {
    if (seen.has(img)) return;
    seen.add(img);
    new MutationObserver(async () => {
      try { await img.decode(); } catch (e) { /* replaced again before decoding */ }
      probe.changes.push(performance.now());
    }).observe(img, {attributes: true, attributeFilter: ["src"]});
  };
  const busyObserver = new MutationObserver(() => {
    const busy = root.classList.contains("replab-busy")
      || root.querySelector(".replab-busy") !== null;
    if (probe.busy && !busy) probe.busyEnd = performance.now();
    probe.busy = busy;
  });
  busyObserver.observe(root, {attributes: true, subtree: true, attributeFilter: ["class"]});
  root.querySelectorAll("img").forEach(watch);
  new MutationObserver(() => root.querySelectorAll("img").forEach(watch))
    .observe(root, {childList: true, subtree: true});
}"""


KERNEL_IDLE_JS = """() => {
  const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const kernel = w && w.sessionContext && w.sessionContext.session
    && w.sessionContext.session.kernel;
  return Boolean(kernel && kernel.status === "idle" && document.querySelector(".jp-Notebook"));
}"""


# ---------------------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOCAL, 0))
        return int(s.getsockname()[1])


def _group_alive(pgid: int) -> bool:
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


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
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=15)
        if _group_alive(proc.pid):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


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
            context.close()


# --------------------------------------------------------------------- in the page


def explorer_root(page: Any, timeout_ms: float = 120_000) -> Any:
    """The explorer's box, once its first figure is shown."""
    root = page.locator(".replab-explorer:visible").first
    root.wait_for(timeout=timeout_ms)
    root.locator("img").first.wait_for(timeout=timeout_ms)
    page.wait_for_function(
        "() => { const r = document.querySelector('.replab-explorer');"
        " return r && r.querySelector('img') && r.querySelector('img').naturalWidth > 0"
        " && r.querySelector('.replab-busy') === null && !r.classList.contains('replab-busy'); }",
        timeout=timeout_ms)
    return root


def controls(root: Any) -> list[tuple[str, str, Any]]:
    """(kind, label, locator) for every slider, dropdown and checkbox of the explorer."""
    found = []
    for kind, selector in (("slider", ".widget-slider"), ("dropdown", ".widget-dropdown"),
                           ("checkbox", ".widget-checkbox")):
        boxes = root.locator(selector)
        for i in range(boxes.count()):
            box = boxes.nth(i)
            lines = [ln.strip("\u200b ") for ln in box.inner_text().splitlines()]
            label = next((ln for ln in lines if ln), f"{kind}{i}")
            found.append((kind, label, box))
    return found


def at_end(kind: str, box: Any, forward: bool) -> bool:
    """Whether a press in this direction would not move the control."""
    if kind == "slider":
        handle = box.locator(".noUi-handle").first
        bound = handle.get_attribute("aria-valuemax" if forward else "aria-valuemin")
        return bool(handle.get_attribute("aria-valuenow") == bound)
    if kind == "dropdown":
        index, count = box.locator("select").evaluate("s => [s.selectedIndex, s.length]")
        return bool(index == (count - 1 if forward else 0))
    return False


def press(page: Any, kind: str, box: Any, forward: bool) -> None:
    if kind == "slider":
        box.locator(".noUi-handle").first.focus()
        page.keyboard.press("ArrowRight" if forward else "ArrowLeft")
    elif kind == "dropdown":
        box.locator("select").focus()
        page.keyboard.press("ArrowDown" if forward else "ArrowUp")
    else:
        box.locator("input").focus()
        page.keyboard.press("Space")


def wait_for_redraw(page: Any, timeout_s: float) -> dict[str, Any]:
    """Milliseconds from the input to the first figure change and to the last one.

    The update is over when the explorer's busy state has ended; a control that changes
    no figure (a table chooser) gets ``changed=False`` instead of a time.
    """
    deadline = time.monotonic() + timeout_s
    ended_at = None
    while time.monotonic() < deadline:
        probe = page.evaluate("() => window.__replab")
        if probe["busyEnd"] and not probe["busy"]:
            ended_at = ended_at or time.monotonic()
            if probe["changes"] or time.monotonic() - ended_at > 0.5:
                break
        time.sleep(0.01)
    if not probe["changes"]:
        return {"first_ms": None, "done_ms": None, "changed": False,
                "timed_out": ended_at is None}
    start = probe["input"]
    return {"first_ms": probe["changes"][0] - start, "done_ms": probe["changes"][-1] - start,
            "changed": True, "timed_out": ended_at is None}


def measure_page(page: Any, *, moves: int, settle_s: float,
                 timeout_s: float) -> list[dict[str, Any]]:
    root = explorer_root(page)
    root.evaluate(PROBE_JS)
    rows = []
    for kind, label, box in controls(root):
        forward = True  # towards the end of the range, back when it is reached
        for i in range(moves):
            if at_end(kind, box, forward):
                forward = not forward
            page.evaluate("() => { window.__replab.changes = []; }")
            press(page, kind, box, forward)
            got = wait_for_redraw(page, timeout_s)
            errors = root.locator(".jp-OutputArea-output pre, .output_error").count()
            rows.append({"control": label, "kind": kind, "move": i + 1, **got,
                         "errors": errors})
            time.sleep(settle_s)
    return rows


def run_lab(context: Any, url: str, name: str, **kw: Any) -> list[dict[str, Any]]:
    page = context.new_page()
    page.set_default_timeout(120_000)
    try:
        # ?reset: no tab restored from the previous explorer's workspace.
        page.goto(f"{url}/lab/tree/{name}_explorer.ipynb?reset&token={TOKEN}",
                  timeout=120_000)
        page.wait_for_function(KERNEL_IDLE_JS, timeout=120_000)
        # Not awaited: the command's promise settles only when every cell has run.
        page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
        return measure_page(page, **kw)
    finally:
        with contextlib.suppress(Exception):  # one kernel at a time on a 2-core machine
            page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext"
                          ".shutdown()")
        page.close()


def run_voila(context: Any, url: str, **kw: Any) -> list[dict[str, Any]]:
    page = context.new_page()
    try:
        page.goto(url + "/", timeout=180_000)
        return measure_page(page, **kw)
    finally:
        page.close()


# -------------------------------------------------------------------------- report


def summarise(rows: list[dict[str, Any]]) -> list[str]:
    import pandas as pd

    df = pd.DataFrame(rows)
    lines = []
    for (frontend, explorer), sub in df.groupby(["frontend", "explorer"], sort=False):
        done = sub.done_ms.dropna()
        first = sub.first_ms.dropna()
        missing = int((~sub.changed).sum())
        lines.append(
            f"{frontend:7s} {explorer:13s} moves {len(sub):3d}  first change median "
            f"{first.median():6.0f} ms max {first.max():6.0f} ms | redrawn median "
            f"{done.median():6.0f} ms max {done.max():6.0f} ms | no change {missing}, "
            f"errors {int(sub.errors.max())}")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", default=list(EXPLORERS), choices=EXPLORERS)
    ap.add_argument("--frontends", nargs="*", default=["lab", "voila"],
                    choices=["lab", "voila"])
    ap.add_argument("--moves", type=int, default=4, help="key presses per control")
    ap.add_argument("--settle", type=float, default=0.3, help="seconds between presses")
    ap.add_argument("--timeout", type=float, default=10.0, help="seconds allowed per move")
    ap.add_argument("--format", choices=["text", "csv"], default="text")
    args = ap.parse_args(argv)
    # SIGTERM (e.g. from `timeout`) unwinds the with-blocks, which stop the servers.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    kw = {"moves": args.moves, "settle_s": args.settle, "timeout_s": args.timeout}
    rows: list[dict[str, Any]] = []
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="replab-browser-") as tmp_name:
        tmp = Path(tmp_name)
        work = tmp / "notebooks"
        shutil.copytree(DASHBOARDS, work)  # JupyterLab may save what it opens: a copy
        with chromium(tmp / "profile") as context:
            if "lab" in args.frontends:
                port = free_port()
                with server(lab_command(work, port, tmp), port, tmp / "lab.log",
                            server_env(tmp)) as url:
                    for name in args.only:
                        try:
                            got = run_lab(context, url, name, **kw)
                        except Exception as e:  # report the others; say which failed
                            print(f"lab {name}: FAILED {e}", file=sys.stderr, flush=True)
                            continue
                        rows += [dict(r, frontend="lab", explorer=name) for r in got]
                        print(f"lab {name}: {len(got)} moves", file=sys.stderr, flush=True)
            if "voila" in args.frontends:
                for name in args.only:
                    port = free_port()
                    try:
                        with server(voila_command(name, port), port,
                                    tmp / f"voila-{name}.log", server_env(tmp)) as url:
                            got = run_voila(context, url, **kw)
                    except Exception as e:  # report the others; say which failed
                        print(f"voila {name}: FAILED {e}", file=sys.stderr, flush=True)
                        continue
                    rows += [dict(r, frontend="voila", explorer=name) for r in got]
                    print(f"voila {name}: {len(got)} moves", file=sys.stderr, flush=True)
    load_after = os.getloadavg()
    if args.format == "csv":
        import pandas as pd

        pd.DataFrame(rows).to_csv(sys.stdout, index=False)
        return 0
    print(f"load average (1, 5, 15 min) before {load_before}, after {load_after}; "
          f"{os.cpu_count()} CPUs")
    print("\n".join(summarise(rows)))
    done = [r["done_ms"] for r in rows if r["done_ms"] is not None]
    if done:
        print(f"all moves: median {statistics.median(done):.0f} ms, max {max(done):.0f} ms, "
              f"target median <= 250 ms, max <= 600 ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
