"""In the page: find an explorer, move its controls as a user does, time the redraw.

Shared by ``benchmarks/browser.py`` (the benchmark) and ``tests/test_browser.py`` (the
browser tests), in JupyterLab and in Voila alike:

* a slider gets ArrowRight / ArrowLeft on its focused handle (one step);
* a dropdown gets the next (previous) option picked, as with the mouse -- in JupyterLab's
  command mode ArrowDown on a focused <select> never reaches it: the notebook's shortcut
  moves the cell cursor and calls ``preventDefault`` (ipywidgets issue 3912, open);
* a checkbox is clicked.

The probe (:data:`PROBE_JS`) is installed on the explorer's own box. It timestamps, with
``performance.now()`` in the page, the first user input after :func:`move` armed it, every
figure whose new picture has been *decoded* (a MutationObserver on each <img>'s ``src``),
every other visible change of the explorer's output (tables, summaries; not the controls
or the status line), and the end of the explorer's busy state (the kernel clears it after
it has sent every update). Waiting happens in the page, so Python does not poll.
"""

from __future__ import annotations

from typing import Any

# Kinds of control, by the ipywidgets class of their box.
CONTROL_SELECTORS = (("slider", ".widget-slider"), ("dropdown", ".widget-dropdown"),
                     ("checkbox", ".widget-checkbox"))

PROBE_JS = """(root) => {
  const BUSY = "replab-busy";
  const QUIET = ".widget-slider, .widget-dropdown, .widget-checkbox, .widget-button, "
    + ".replab-status, style";
  const p = {armed: false, input: 0, figures: [], content: [], sawBusy: false, busy: false,
             busyEnd: 0, pending: 0};
  window.__replab = p;
  p.arm = () => Object.assign(p, {armed: true, input: 0, figures: [], content: [],
                                  sawBusy: false, busyEnd: 0});
  const now = () => performance.now();
  const onInput = (e) => {
    if (p.armed && !p.input && root.contains(e.target)) p.input = now();
  };
  for (const kind of ["keydown", "input", "change", "click"]) {
    document.addEventListener(kind, onInput, true);
  }
  const seen = new WeakSet();
  const watch = (img) => {
    if (seen.has(img)) return;
    seen.add(img);
    new MutationObserver(async () => {
      if (!p.input) return;
      p.pending += 1;
      try { await img.decode(); } catch (e) { /* replaced again before decoding */ }
      p.pending -= 1;
      p.figures.push(now());
    }).observe(img, {attributes: true, attributeFilter: ["src"]});
  };
  const isBusy = () => root.classList.contains(BUSY) || root.querySelector("." + BUSY) !== null;
  new MutationObserver((records) => {
    // Busy on and off may land in one batch: the old values still show it was on.
    for (const r of records) {
      if (p.input && ((r.oldValue || "").includes(BUSY) || r.target.classList.contains(BUSY))) {
        p.sawBusy = true;
      }
    }
    const busy = isBusy();
    if (p.sawBusy && !busy) p.busyEnd = now();
    p.busy = busy;
  }).observe(root, {attributes: true, subtree: true, attributeFilter: ["class"],
                    attributeOldValue: true});
  new MutationObserver((records) => {
    root.querySelectorAll("img").forEach(watch);
    if (!p.input) return;
    for (const r of records) {
      const el = r.target.nodeType === 1 ? r.target : r.target.parentElement;
      if (el && !el.closest(QUIET)) { p.content.push(now()); break; }
    }
  }).observe(root, {childList: true, subtree: true, characterData: true});
  root.querySelectorAll("img").forEach(watch);
  p.isBusy = isBusy;
  // Resolves once the update is over: busy seen and ended, every figure decoded, and
  // nothing changed for quietMs; or at timeoutMs.
  p.settled = (timeoutMs, quietMs) => new Promise((resolve) => {
    const start = now();
    const check = () => {
      const t = now();
      const last = Math.max(p.busyEnd, ...p.figures, ...p.content);
      const over = p.input && p.sawBusy && !p.busy && p.pending === 0 && t - last >= quietMs;
      if (over || t - start > timeoutMs) {
        p.armed = false;
        resolve({input: p.input, figures: p.figures, content: p.content,
                 busyEnd: p.busyEnd, sawBusy: p.sawBusy, timedOut: !over});
      } else {
        setTimeout(check, 25);
      }
    };
    check();
  });
}"""

# The explorer is ready when its first figure is decoded and it is not busy.
READY_JS = """(root) => {
  const img = root.querySelector("img");
  return Boolean(img && img.complete && img.naturalWidth > 0
    && !root.classList.contains("replab-busy") && !root.querySelector(".replab-busy"));
}"""


def explorer_root(page: Any, timeout_ms: float = 120_000) -> Any:
    """The explorer's box (the only one on the page), once its first figure is shown."""
    explorers = page.locator(".replab-explorer")
    explorers.first.wait_for(timeout=timeout_ms)
    if explorers.count() != 1:
        raise RuntimeError(f"{explorers.count()} explorers on the page, expected one")
    root = explorers.first
    handle = root.element_handle()
    page.wait_for_function(READY_JS, arg=handle, timeout=timeout_ms)
    return root


def controls(root: Any) -> list[tuple[str, str, Any]]:
    """(kind, label, locator) for every slider, dropdown and checkbox of the explorer."""
    found = []
    for kind, selector in CONTROL_SELECTORS:
        boxes = root.locator(selector)
        for i in range(boxes.count()):
            box = boxes.nth(i)
            lines = [ln.strip("\u200b ") for ln in box.inner_text().splitlines()]
            label = next((ln for ln in lines if ln), f"{kind}{i}")
            found.append((kind, label, box))
    return found


def at_end(kind: str, box: Any, forward: bool) -> bool:
    """Whether a move in this direction would not change the control."""
    if kind == "slider":
        handle = box.locator(".noUi-handle").first
        bound = handle.get_attribute("aria-valuemax" if forward else "aria-valuemin")
        return bool(handle.get_attribute("aria-valuenow") == bound)
    if kind == "dropdown":
        index, count = box.locator("select").evaluate("s => [s.selectedIndex, s.length]")
        return bool(index == (count - 1 if forward else 0))
    return False


def press(page: Any, kind: str, box: Any, forward: bool) -> None:
    """One user action on the control (see the module docstring for why these)."""
    if kind == "slider":
        box.locator(".noUi-handle").first.focus()
        page.keyboard.press("ArrowRight" if forward else "ArrowLeft")
    elif kind == "dropdown":
        select = box.locator("select")
        index = select.evaluate("s => s.selectedIndex") + (1 if forward else -1)
        select.select_option(index=index)
    else:
        box.locator("input").click()


def outcome(probe: dict[str, Any]) -> dict[str, Any]:
    """A move's row from what the probe saw: ms from the input to the first and last
    decoded figure change (to the other output's changes when no figure changed), what
    changed (``"figure"``, ``"content"`` or None) and whether the wait timed out."""
    start = probe["input"]
    times = probe["figures"] or probe["content"]
    what = "figure" if probe["figures"] else "content" if probe["content"] else None
    first = min(times) - start if times and start else None
    done = max(times) - start if times and start else None
    return {"first_ms": first, "done_ms": done, "changed": what is not None, "what": what,
            "busy_ms": probe["busyEnd"] - start if probe["busyEnd"] and start else None,
            "timed_out": bool(probe["timedOut"])}


def move(page: Any, kind: str, box: Any, forward: bool, *, timeout_s: float,
         quiet_s: float = 0.3) -> dict[str, Any]:
    """Arm the probe, act on the control, wait in the page until the update is over."""
    page.evaluate("() => window.__replab.arm()")
    press(page, kind, box, forward)
    probe = page.evaluate("([t, q]) => window.__replab.settled(t, q)",
                          [timeout_s * 1e3, quiet_s * 1e3])
    return outcome(probe)


def error_count(root: Any) -> int:
    """Tracebacks shown in the explorer (its errors Output widget)."""
    return int(root.locator(".jp-OutputArea-output pre, .output_error").count())


def move_controls(page: Any, root: Any, *, moves: int, timeout_s: float,
                  settle_s: float = 0.0, kinds: tuple[str, ...] | None = None
                  ) -> list[dict[str, Any]]:
    """``moves`` moves of every control (towards the end of its range, back once there);
    one row per move."""
    root.evaluate(PROBE_JS)
    rows = []
    for kind, label, box in controls(root):
        if kinds is not None and kind not in kinds:
            continue
        forward = True
        for i in range(moves):
            if at_end(kind, box, forward):
                forward = not forward
            got = move(page, kind, box, forward, timeout_s=timeout_s)
            rows.append({"control": label, "kind": kind, "move": i + 1, **got,
                         "errors": error_count(root)})
            if settle_s:
                page.wait_for_timeout(settle_s * 1e3)
    return rows
