"""``replab dashboard``: which notebook, which command line (the served app is in
test_browser.py)."""

from __future__ import annotations

import re
import sys

import nbformat
import pytest

from replab.cli import main
from replab.dashboard import DEFAULT_DASHBOARD, find_dashboard, voila_command
from replab.errors import ConfigError
from tests.conftest import NOTEBOOKS


def test_default_dashboard_is_the_quorum_explorer():
    path = find_dashboard(notebooks=NOTEBOOKS)
    assert path == NOTEBOOKS / "dashboards" / f"{DEFAULT_DASHBOARD}.ipynb"
    nb = nbformat.read(path, as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    assert len(code) == 1 and "QuorumExplorer(" in code[0] and code[0].endswith(".widget")
    assert find_dashboard("quorum_explorer.ipynb", NOTEBOOKS) == path


def test_voila_listens_on_localhost_only_on_the_given_port():
    cmd = voila_command(NOTEBOOKS / "dashboards" / "quorum_explorer.ipynb", port=9123,
                        open_browser=False)
    assert cmd[:3] == [sys.executable, "-m", "voila"]
    assert "--Voila.ip=127.0.0.1" in cmd and "--port=9123" in cmd
    assert "--Voila.port_retries=0" in cmd and "--no-browser" in cmd
    assert "--no-browser" not in voila_command(NOTEBOOKS / "x.ipynb")


def test_voila_loads_only_the_widget_extensions():
    cmd = voila_command(NOTEBOOKS / "x.ipynb")
    allowed = [a.split("=", 1)[1] for a in cmd
               if a.startswith("--VoilaConfiguration.extension_allowlist=")]
    assert allowed == ["@jupyter-widgets/jupyterlab-manager",
                       "@voila-dashboards/widgets-manager8"]


def test_bad_port_is_the_standard_error():
    with pytest.raises(ConfigError, match=re.escape(
            "The 'port' parameter of replab dashboard must be an int in [1, 65535]. "
            "Got 70000 instead.")):
        voila_command(NOTEBOOKS / "x.ipynb", port=70000)


def test_unknown_dashboard_is_one_line_and_exit_2(capsys):
    assert main(["dashboard", "nope", "--notebooks", str(NOTEBOOKS), "--no-browser"]) == 2
    err = capsys.readouterr().err
    assert err == ("replab dashboard: error: The 'name' parameter of replab dashboard must be "
                   "a notebook stem or its number prefix (lag_explorer, leaderless_explorer, "
                   "multi_leader_explorer, quorum_explorer, replog_explorer, "
                   "single_leader_explorer). "
                   "Got 'nope' instead.\n")


def test_bad_port_on_the_command_line(capsys):
    assert main(["dashboard", "--port", "0", "--no-browser"]) == 2
    assert "The 'port' parameter of replab dashboard must be an int in [1, 65535]. Got 0" in (
        capsys.readouterr().err)
