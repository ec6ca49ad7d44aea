"""Browser tests: the real pages, driven in Debian's Chromium with Playwright.

Fixtures start Voilà (through ``replab dashboard``) and JupyterLab on 127.0.0.1 and a free
port, and stop them (their whole process group) however the tests end. Playwright drives
the system Chromium through ``executable_path`` (``playwright install`` is never used) and
every request that leaves 127.0.0.1 is aborted.

Set ``REPLAB_SCREENSHOTS=DIR`` to also keep the screenshots in DIR (docs/figures uses it).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from benchmarks.browser import free_port, group_alive, server_env, stop
from tests.conftest import NOTEBOOKS, ROOT

pytestmark = pytest.mark.timeout(120)

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
TOKEN = "replab-browser-test"
LOCAL = "127.0.0.1"
# The bytes behind an <img> (a blob: URL for ipywidgets' Image), hashed in the page.
IMAGE_DIGEST_JS = """async (img) => {
  const data = await (await fetch(img.src)).arrayBuffer();
  const digest = await crypto.subtle.digest("SHA-256", data);
  return Array.from(new Uint8Array(digest)).map(b => b.toString(16).padStart(2, "0")).join("");
}"""


def test_stop_ends_the_server_and_its_children(tmp_path: Path) -> None:
    script = ("import subprocess, sys, time; "
              "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
              "time.sleep(60)")
    proc = subprocess.Popen([sys.executable, "-c", script], start_new_session=True)
    time.sleep(0.5)
    assert group_alive(proc.pid)
    assert stop(proc, grace=1) is False  # the child ignores its parent's end ...
    assert not group_alive(proc.pid)  # ... so it was killed with the group


def wait_for_port(port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"server exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        with socket.socket() as s:
            if s.connect_ex((LOCAL, port)) == 0:
                return
        time.sleep(0.2)
    pytest.fail(f"server not listening on {port} after {timeout} s:\n{log.read_text()[-3000:]}")


def start_server(cmd: list[str], port: int, log: Path, env: dict[str, str],
                 timeout: float = 60) -> Iterator[str]:
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_for_port(port, proc, log, timeout)
        yield f"http://{LOCAL}:{port}"
    finally:
        clean = stop(proc)
    assert clean, f"{cmd[2:4]} left processes behind on SIGTERM:\n{log.read_text()[-2000:]}"


@pytest.fixture(scope="module")
def voila_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``replab dashboard`` (Voilà on the quorum explorer) on 127.0.0.1."""
    tmp = tmp_path_factory.mktemp("voila")
    port = free_port()
    cmd = [sys.executable, "-m", "replab.cli", "dashboard", "--port", str(port), "--no-browser"]
    yield from start_server(cmd, port, tmp / "voila.log", server_env(tmp))


@pytest.fixture(scope="module")
def lab_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """JupyterLab on the repository, with a known token, on 127.0.0.1."""
    tmp = tmp_path_factory.mktemp("lab")
    port = free_port()
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--ServerApp.ip={LOCAL}",
           f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
           f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={ROOT}",
           f"--LabApp.user_settings_dir={tmp / 'settings'}",
           f"--LabApp.workspaces_dir={tmp / 'workspaces'}",
           "--LabApp.news_url=None",
           "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # JupyterLab refuses to run as root without it
    yield from start_server(cmd, port, tmp / "lab.log", server_env(tmp))


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Debian's Chromium, headless, with a fresh profile."""
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Chromium is not installed (no `chromium` on PATH). Install it with "
                    "`apt-get install chromium`; `python3 tasks.py test` and .ci/run do so "
                    "when run as root. The browser tests need it and are not skipped.")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=executable,
            args=CHROMIUM_ARGS, headless=True, viewport={"width": 1400, "height": 1000})
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A page whose requests may only go to 127.0.0.1.

    ``page.blocked`` lists the requests aborted; ``page.leaked`` any non-local request that
    completed anyway (must stay empty).
    """
    page = browser.new_page()
    page.blocked, page.leaked = [], []

    def record(request: Any) -> None:
        url = urlparse(request.url)
        if url.scheme in ("http", "https", "ws", "wss") and url.hostname != LOCAL:
            page.leaked.append(request.url)

    page.on("requestfinished", record)
    page.console_problems = []
    page.on("console", lambda msg: page.console_problems.append(msg.text)
            if msg.type in ("warning", "error") else None)

    def only_local(route: Any) -> None:
        url = route.request.url
        if urlparse(url).hostname == LOCAL:
            route.continue_()
        else:
            page.blocked.append(url)
            route.abort()

    page.route("**/*", only_local)
    try:
        yield page
    finally:
        page.close()


def save_screenshot(page: Any, path: Path, name: str) -> None:
    page.screenshot(path=str(path / name), full_page=True)
    assert (path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    keep = os.environ.get("REPLAB_SCREENSHOTS")
    if keep:
        shutil.copy(path / name, Path(keep) / name)


def image_digest(page: Any) -> str:
    return str(page.locator("img.widget-image").first.evaluate(IMAGE_DIGEST_JS))


def test_voila_dashboard_slider_redraws_plot(voila_url: str, page: Any, tmp_path: Path) -> None:
    page.goto(voila_url + "/", timeout=60_000)
    status = page.locator(".widget-html", has_text="P(consistent at t=0)")
    status.wait_for(timeout=60_000)
    assert "n=3 r=1 w=1" in status.inner_text()
    before = image_digest(page)
    r_slider = page.locator(".widget-slider").filter(
        has=page.locator("label.widget-label", has_text=re.compile(r"^r$")))
    assert r_slider.count() == 1
    handle = r_slider.locator(".noUi-handle")
    handle.focus()
    page.keyboard.press("ArrowRight")
    page.locator(".widget-html", has_text="n=3 r=2 w=1").wait_for(timeout=30_000)
    assert r_slider.locator(".widget-readout").inner_text().strip() == "2"
    after = image_digest(page)  # the status is set after the image; allow for slow paints
    deadline = time.monotonic() + 10
    while after == before and time.monotonic() < deadline:
        time.sleep(0.2)
        after = image_digest(page)
    assert after != before, "moving the r slider did not change the plot image"
    save_screenshot(page, tmp_path, "dashboard-quorum-explorer.png")
    assert page.leaked == [] and page.blocked == []


def test_jupyterlab_lists_the_notebooks(lab_url: str, page: Any, tmp_path: Path) -> None:
    page.goto(f"{lab_url}/lab/tree/notebooks?token={TOKEN}", timeout=60_000)
    page.locator("#jp-main-dock-panel").wait_for(timeout=60_000)
    listing = page.locator(".jp-DirListing-content")
    item = listing.locator(".jp-DirListing-itemText", has_text="01_quorum_staleness.ipynb")
    item.wait_for(timeout=30_000)
    names = set(listing.locator(".jp-DirListing-itemText").all_inner_texts())
    assert {p.name for p in NOTEBOOKS.glob("*.ipynb")} <= names
    save_screenshot(page, tmp_path, "jupyterlab.png")
    assert page.leaked == []


# ------------------------------------------------------------ every explorer, in Voila

EXPLORERS = sorted(p.stem for p in (NOTEBOOKS / "dashboards").glob("*_explorer.ipynb"))


@pytest.fixture(scope="module")
def voila_dir_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Voilà serving every dashboard notebook (one kernel per opened page)."""
    tmp = tmp_path_factory.mktemp("voila-all")
    port = free_port()
    from replab.dashboard import voila_command, voila_env

    cmd = voila_command(NOTEBOOKS / "dashboards", port=port, open_browser=False, ip=LOCAL)
    yield from start_server(cmd, port, tmp / "voila.log", voila_env(server_env(tmp)))


def move_each_control(page: Any, sliders_only: bool) -> list[dict[str, Any]]:
    """Move every slider (every control when there is none) of the explorer once, as the
    benchmark does; one row per move: control, whether the figure changed, the errors."""
    from benchmarks.browser_page import controls, explorer_root, move_controls

    root = explorer_root(page, timeout_ms=90_000)
    kinds = ("slider",) if sliders_only and any(
        kind == "slider" for kind, _, _ in controls(root)) else None
    rows = move_controls(page, root, moves=1, timeout_s=30, kinds=kinds)
    errors = root.locator(".jp-OutputArea-output pre").all_inner_texts()
    return [dict(r, errors=errors if r["errors"] else []) for r in rows]


@pytest.mark.parametrize("name", EXPLORERS)
def test_every_slider_redraws_the_figure_in_voila(voila_dir_url: str, page: Any, name: str,
                                                  tmp_path: Path) -> None:
    page.goto(f"{voila_dir_url}/voila/render/{name}.ipynb", timeout=90_000)
    rows = move_each_control(page, sliders_only=True)
    assert rows, f"{name}: no control found"
    unchanged = [r["control"] for r in rows if r["what"] != "figure"]
    assert unchanged == [], f"{name}: the figure did not change for {unchanged}"
    assert [r["errors"] for r in rows if r["errors"]] == []
    assert page.locator(".replab-status", has_text="failed").count() == 0
    image = page.locator(".replab-explorer img.replab-figure").first
    natural, shown = image.evaluate("i => [[i.naturalWidth, i.naturalHeight],"
                                    " [i.clientWidth, i.clientHeight]]")
    assert natural == shown, f"{name}: image shown at {shown}, rendered at {natural}"
    save_screenshot(page, tmp_path, f"dashboard-{name}.png")
    assert page.leaked == [] and page.blocked == [], "the dashboard asked a non-local host"


def _settled(page: Any, quiet_s: float = 1.0, timeout_s: float = 60) -> None:
    """Wait until the explorer has not been busy for ``quiet_s`` (bounded)."""
    deadline, calm_since = time.monotonic() + timeout_s, None
    while time.monotonic() < deadline:
        if page.locator(".replab-busy").count() == 0:
            calm_since = calm_since or time.monotonic()
            if time.monotonic() - calm_since >= quiet_s:
                return
        else:
            calm_since = None
        time.sleep(0.05)
    raise AssertionError(f"still busy after {timeout_s} s")


def test_a_burst_of_key_presses_ends_on_the_last_setting(voila_dir_url: str,
                                                          page: Any) -> None:
    """A held arrow key: the moves are coalesced, and the picture is the last value's."""
    from benchmarks.browser_page import PROBE_JS, explorer_root, move

    page.goto(f"{voila_dir_url}/voila/render/lag_explorer.ipynb", timeout=90_000)
    root = explorer_root(page, timeout_ms=90_000)
    root.evaluate(PROBE_JS)
    slider = root.locator(".widget-slider", has_text="lag")
    handle = slider.locator(".noUi-handle").first
    start = float(handle.get_attribute("aria-valuenow"))
    handle.focus()
    for _ in range(10):
        page.keyboard.press("ArrowRight")
    _settled(page)
    assert float(handle.get_attribute("aria-valuenow")) == start + 10
    after_burst = image_digest(page)
    for forward in (False, True):  # away and back, each waited for
        assert move(page, "slider", slider, forward, timeout_s=30)["what"] == "figure"
    _settled(page)
    assert image_digest(page) == after_burst
    assert page.locator(".replab-status", has_text="failed").count() == 0


# What Voila wrote into the page: the lab extensions it told the page to load.
PAGE_EXTENSIONS_JS = """() => JSON.parse(document.getElementById("jupyter-config-data")
  .textContent).federated_extensions.map(e => e.name)"""
# What webpack logs when a lab extension was built for another JupyterLab than the page's.
MISMATCH = re.compile(r"Unsatisfied version|No satisfying version|mismatch", re.I)


def test_dashboard_logs_no_version_mismatch(voila_url: str, page: Any) -> None:
    """``replab dashboard`` as the README starts it loads only the lab extensions a
    dashboard needs, built for the JupyterLab in Voila's page: moving every slider redraws
    the figure, and the console shows no version mismatch, no other warning or error, and
    no request leaves 127.0.0.1."""
    from replab.dashboard import EXTENSIONS

    requested: list[str] = []
    page.on("request", lambda r: requested.append(urlparse(r.url).path))
    page.goto(voila_url + "/", timeout=90_000)
    rows = move_each_control(page, sliders_only=True)
    assert rows and [r["control"] for r in rows if not r["changed"]] == []
    assert [r["errors"] for r in rows if r["errors"]] == []
    assert sorted(page.evaluate(PAGE_EXTENSIONS_JS)) == sorted(EXTENSIONS)
    fetched = {p.split("/labextensions/")[1].rsplit("/static/", 1)[0]
               for p in requested if "/labextensions/" in p}
    assert fetched == set(EXTENSIONS)
    mismatch = [m for m in page.console_problems if MISMATCH.search(m)]
    assert mismatch == [], f"version problems logged: {mismatch}"
    assert page.console_problems == [], "the dashboard logged warnings or errors"
    assert page.leaked == [] and page.blocked == [], "the dashboard asked a non-local host"


def test_voilas_other_pages_ask_no_other_host(voila_dir_url: str, page: Any) -> None:
    """The list of dashboards and Voila's "not found" page load nothing from a CDN either
    (replab's template replaces the page frame that links Font Awesome from one)."""
    for path, status, shown in (("/", 200, "quorum_explorer.ipynb"),
                                ("/voila/render/no_such_explorer.ipynb", 404, "Not Found")):
        response = page.goto(voila_dir_url + path, timeout=60_000)
        assert response.status == status
        page.get_by_text(shown).first.wait_for(timeout=30_000)
        page.wait_for_load_state("load")
        assert page.leaked == [] and page.blocked == [], f"{path} asked a non-local host"


# ------------------------------------------- opening and saving changes nothing in git

@pytest.fixture(scope="module")
def lab_copy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """JupyterLab on a copy of notebooks/ (saving must not touch the checkout)."""
    tmp = tmp_path_factory.mktemp("lab-copy")
    work = tmp / "notebooks"
    shutil.copytree(NOTEBOOKS, work)
    port = free_port()
    from benchmarks.browser import lab_command

    for url in start_server(lab_command(work, port, tmp), port, tmp / "lab.log",
                            server_env(tmp)):
        yield url, work


def test_saving_through_jupyterlabs_server_changes_no_notebook(
        lab_copy: tuple[str, Path]) -> None:
    """What JupyterLab's save does, without the page: fetch each notebook's model from the
    contents API and PUT it back; the file must come back byte for byte. (Opening in the
    page adds nothing on top: the notebooks carry the kernelspec and language_info that
    the kernel reports.)"""
    import json
    import urllib.request

    from benchmarks.browser import TOKEN as LAB_TOKEN

    url, work = lab_copy
    headers = {"Authorization": f"token {LAB_TOKEN}", "Content-Type": "application/json"}
    changed = []
    for path in sorted(work.rglob("*.ipynb")):
        if ".ipynb_checkpoints" in path.parts:
            continue
        rel = path.relative_to(work).as_posix()
        api = f"{url}/api/contents/{rel}"
        with urllib.request.urlopen(urllib.request.Request(f"{api}?content=1",
                                                           headers=headers), timeout=30) as r:
            model = json.load(r)
        body = json.dumps({"type": "notebook", "format": "json",
                           "content": model["content"]}).encode()
        put = urllib.request.Request(api, data=body, headers=headers, method="PUT")
        with urllib.request.urlopen(put, timeout=30):
            pass
        if path.read_bytes() != (NOTEBOOKS / rel).read_bytes():
            changed.append(rel)
    assert changed == [], f"JupyterLab's server rewrites these on save: {changed}"


# ------------------------------------------------------ an explorer, in JupyterLab

def test_every_control_redraws_the_figure_in_jupyterlab(lab_copy: tuple[str, Path],
                                                        page: Any) -> None:
    """Run All in JupyterLab, then every control of the quorum explorer once: the
    dropdown too (picked as with the mouse; in command mode ArrowDown never reaches it)."""
    from benchmarks.browser import SHUTDOWN_JS, run_all
    from benchmarks.browser import TOKEN as LAB_TOKEN
    from benchmarks.browser_page import explorer_root, move_controls

    url, _ = lab_copy
    page.goto(f"{url}/lab/tree/dashboards/quorum_explorer.ipynb?reset&token={LAB_TOKEN}",
              timeout=90_000)
    try:
        run_all(page, timeout_ms=90_000)
        root = explorer_root(page, timeout_ms=90_000)
        rows = move_controls(page, root, moves=1, timeout_s=20)
    finally:
        with contextlib.suppress(Exception):
            page.evaluate(SHUTDOWN_JS)
    assert {r["kind"] for r in rows} == {"slider", "dropdown"}
    assert [r["control"] for r in rows if r["what"] != "figure"] == []
    assert [r for r in rows if r["errors"] or r["timed_out"]] == []
    assert page.leaked == []
