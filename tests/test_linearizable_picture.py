"""Linearizability pictures: the layout frame, the static plot, the HTML page, the CLI, and
the page in Chromium (offline: no request leaves the file)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pytest
from hypothesis import given, settings

from replab import History
from replab.checks import linearizable
from replab.cli import main
from replab.plots import COLORS, linearization_html, plot_linearization
from tests.linearizability_oracle import register_history
from tests.test_linearizable import op, seq

pytestmark = pytest.mark.timeout(120)


def violation() -> list[dict[str, Any]]:
    """Process 2's info write of 3 is pending throughout; the last read of 1 is stale."""
    ops = [op(2, "invoke", "write", 3), *seq((0, "write", 1, 1), (1, "read", None, 1),
                                             (0, "write", 2, 2)),
           op(0, "invoke", "cas", [2, 4]), op(1, "invoke", "read", None),
           op(1, "ok", "read", 1), op(0, "ok", "cas", [2, 4]), op(2, "info", "write", 3),
           op(3, "invoke", "write", "</script>", "y"), op(3, "ok", "write", "</script>", "y")]
    for i, o in enumerate(ops):
        o["index"] = i
    return ops


@settings(max_examples=60, deadline=None)
@given(register_history(max_events=16, keys=("x",)))
def test_points_lie_in_their_bars_in_linearization_order(ops: list[dict[str, Any]]) -> None:
    res = linearizable(ops, model="cas-register")
    for kv in res.keys.values():
        df = kv.frame()
        placed = df.dropna(subset=["point"]).sort_values("rank")
        assert list(placed["op"]) == list(kv.order)
        assert ((placed["start"] < placed["point"]) & (placed["point"] < placed["end"])).all()
        assert placed["point"].is_monotonic_increasing
        assert list(placed["state_after"]) == list(kv.states)
        assert (df["role"] == "failing").sum() == (kv.failing is not None)


def test_plot_draws_bars_points_and_the_failing_op() -> None:
    res = linearizable(violation(), model="cas-register")
    ax = plot_linearization(res, "x")
    kv = res.keys["x"]
    assert ax.get_title() == "key 'x': not linearizable"
    assert len(ax.patches) == len(kv.ops)  # one bar per op
    path, cross = ax.lines[0], ax.lines[1]
    assert list(path.get_xdata()) == list(kv.frame().dropna(subset=["point"])
                                          .sort_values("rank")["point"])
    failing = kv.ops[kv.failing]
    assert list(cross.get_xdata()) == [failing.ret] and cross.get_color() == COLORS["lost"]
    assert [t.get_text() for t in ax.get_yticklabels()] == \
        ["process 2", "process 0", "process 1"]
    plt.close(ax.figure)


def test_html_page_is_self_contained_and_escapes_values() -> None:
    res = linearizable(violation(), model="cas-register")
    page = linearization_html(res, "t <1>")
    assert "<title>t &lt;1&gt;</title>" in page
    assert not re.search(r"(src|href)\s*=", page)  # nothing to fetch
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert page.count("</script>") == 2  # the value "</script>" is escaped in the data
    data = json.loads(page.split('id="lin-data">')[1].split("</script>")[0]
                      .replace("<\\/", "</"))
    assert [d["key"] for d in data.values()] == ["x", "y"]  # not linearizable first
    assert page.count('class="op ') == 7
    assert page.count('class="op role-failing"') == 1
    assert page.index("key &#x27;x&#x27;: not linearizable") < page.index(
        "key &#x27;y&#x27;: linearizable")


def test_cli_section_json_and_html(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "h.jsonl"
    History(violation()).to_jsonl(path)
    out_html = tmp_path / "out.html"
    assert main(["check", str(path), "--html", str(out_html)]) == 0
    lines = capsys.readouterr().out.splitlines()
    at = lines.index("linearizable (cas-register), keys: 1 linearizable, 1 not linearizable, "
                     "0 unknown")
    assert lines[at + 1].startswith("  key 'x' is not linearizable: the longest "
                                    "linearization found places 4 of 6 ops")
    assert out_html.read_text().startswith("<!DOCTYPE html>")
    assert main(["check", str(path), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)["linearizable"]
    assert doc["verdict"] == "not linearizable"
    assert doc["keys_by_verdict"] == {"linearizable": 1, "not linearizable": 1, "unknown": 0}
    x = doc["keys"][0]
    assert x["failing"] == 8 and x["blocked"] == [
        {"op": 5, "index": 8, "reason": "read 1, but the register held 4"}]
    # the info write of 3 is left out: nothing read it
    assert [s["state_after"] for s in x["linearization"]] == [1, 1, 2, 4]


def test_cli_bad_budget_and_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "h.jsonl"
    History(violation()).to_jsonl(path)
    assert main(["check", str(path), "--budget-s", "-2"]) == 2
    assert capsys.readouterr().err == (
        "replab check: error: The '--budget-s' parameter of replab check must be a finite "
        "number in [0, inf). Got -2.0 instead.\n")
    bad = tmp_path / "no" / "such" / "dir.html"
    assert main(["check", str(path), "--html", str(bad)]) == 2
    assert capsys.readouterr().err == (
        f"replab check: error: cannot write --html {str(bad)!r}: No such file or directory\n")
    assert main(["check", str(path), "--model", "register"]) == 2
    assert "must be 'cas-register' for a history with cas operations" in \
        capsys.readouterr().err


def test_page_in_chromium_hover_and_offline(tmp_path: Path) -> None:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Chromium is not installed (no `chromium` on PATH); apt-get install "
                    "chromium")
    from playwright.sync_api import sync_playwright

    from tests.test_browser import CHROMIUM_ARGS

    page_path = tmp_path / "lin.html"
    page_path.write_text(linearization_html(linearizable(violation(), model="cas-register")))
    url = page_path.as_uri()
    requests: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS,
                                     headless=True)
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 900})
            page.on("request", lambda r: requests.append(r.url))
            page.route("**/*", lambda route: route.continue_() if route.request.url == url
                       else route.abort())
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(url)
            page.locator("rect.role-failing").hover()
            tip = page.locator("#tip")
            assert tip.is_visible()
            assert "not in the linearization (failing)" in tip.inner_text()
            assert "read 1, but the register held 4" in tip.inner_text()
            page.locator('rect.op[data-key="0"][data-op="4"]').hover()
            text = tip.inner_text()
            assert "linearized #4" in text and "state before: 2" in text \
                and "state after: 4" in text
            page.screenshot(path=str(tmp_path / "lin.png"), full_page=True)
        finally:
            browser.close()
    assert errors == []
    assert requests == [url]  # the page asks nothing of any host


def test_big_results_are_drawn_in_part_and_say_so() -> None:
    ops = []
    for k in range(4):
        ops += [dict(o, key=f"k{k}") for o in seq(*[(0, "write", i, i) for i in range(30)])]
    res = linearizable(ops)
    page = linearization_html(res, max_keys=3, max_ops=10)
    assert "<p>1 more keys not drawn.</p>" in page
    assert page.count("The first 10 are drawn.") == 3
    assert page.count('class="op ') == 30
    ax = plot_linearization(res, "k0", max_ops=10)
    assert ax.get_title() == "key 'k0': linearizable (first 10 of 30 ops)"
    assert len(ax.patches) == 10
    plt.close(ax.figure)
