"""Serve a dashboard notebook as a web app with Voilà, on this machine only.

Dashboards are the notebooks in ``notebooks/dashboards/``: each builds one explorer from
:mod:`replab.widgets` and displays it. Voilà runs the notebook in a kernel and shows only
its outputs (no code), so the page is the app.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from replab.errors import ConfigError
from replab.notebooks import (
    KERNEL_ARGS,
    dashboard_notebooks,
    kernel_env,
    notebook_dir,
    select_notebooks,
)
from replab.validate import check_int

__all__ = ["DEFAULT_DASHBOARD", "EXTENSIONS", "TEMPLATE", "find_dashboard", "voila_command",
           "voila_env", "serve", "stop", "check_port_free"]

DEFAULT_DASHBOARD = "quorum_explorer"
OWNER = "replab dashboard"
#: Seconds Voilà gets to shut its kernels down after Ctrl-C before it is killed.
STOP_TIMEOUT_S = 10.0
#: Voila's lab template without the stylesheets it would fetch from a CDN (see the
#: template in ``replab/data/jupyter``): dashboards work offline.
TEMPLATE = "replab"
TEMPLATE_ROOT = Path(__file__).resolve().parent / "data" / "jupyter"
#: The only lab extensions a dashboard page loads: the widgets' own (it registers the
#: controls, Image and Output) and Voila's widget manager, both pinned to builds for the
#: JupyterLab 4.2.5 bundled in Voila's page (see pyproject.toml). The others installed
#: beside JupyterLab are not needed, and one built for a newer JupyterLab would log
#: "Unsatisfied version" in the dashboard.
EXTENSIONS = ("@jupyter-widgets/jupyterlab-manager", "@voila-dashboards/widgets-manager8")


def voila_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment Voila runs in: the kernel's, plus replab's template on the path."""
    env = dict(kernel_env() if base is None else base)
    env["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(TEMPLATE_ROOT),
                                                        env.get("JUPYTER_PATH", "")]))
    return env


def find_dashboard(name: str | None = None, notebooks: str | Path | None = None) -> Path:
    """The dashboard notebook called ``name`` (default: the quorum explorer).

    Raises
    ------
    ConfigError
        If there is no such dashboard.
    """
    available = dashboard_notebooks(notebook_dir(notebooks))
    return select_notebooks([name or DEFAULT_DASHBOARD], available, owner=OWNER)[0]


def voila_command(notebook: Path, *, port: int = 8866, open_browser: bool = True,
                  ip: str = "127.0.0.1") -> list[str]:
    """The command line that serves ``notebook`` with Voilà on ``ip:port``.

    ``port_retries=0``: a busy port is an error rather than a silent move elsewhere, so
    the address printed is the address served. ``notebook`` may also be a folder of
    dashboards (Voila then lists them).
    """
    port = check_int(port, "port", OWNER, low=1, high=65535)
    cmd = [sys.executable, "-m", "voila", str(notebook), f"--port={port}",
           f"--Voila.ip={ip}", "--Voila.port_retries=0", "--show_tracebacks=True",
           "--theme=light", f"--template={TEMPLATE}",
           *(f"--VoilaConfiguration.extension_allowlist={name}" for name in EXTENSIONS),
           *KERNEL_ARGS]
    if not open_browser:
        cmd.append("--no-browser")
    return cmd


def check_port_free(port: int, ip: str = "127.0.0.1") -> None:
    """Refuse a port something else listens on, before Voilà starts and fails on it."""
    with socket.socket() as probe:
        try:
            probe.bind((ip, port))
        except OSError as e:
            raise ConfigError(f"The 'port' parameter of {OWNER} must be a free port on {ip}; "
                              f"{port} is not ({e.strerror}). Pick another with --port."
                              ) from None


def serve(name: str | None = None, *, port: int = 8866, open_browser: bool = True,
          notebooks: str | Path | None = None) -> int:
    """Run Voilà on a dashboard until interrupted; return its exit status."""
    notebook = find_dashboard(name, notebooks)
    cmd = voila_command(notebook, port=port, open_browser=open_browser)
    check_port_free(port)
    print(f"replab dashboard: serving {notebook.stem} on http://127.0.0.1:{port}/ "
          "(Ctrl-C stops it)", file=sys.stderr, flush=True)
    # Voilà runs in its own session: Ctrl-C in the terminal reaches only us, and we stop
    # it once (a second Ctrl-C would interrupt its shutdown and print its traceback).
    with subprocess.Popen(cmd, env=voila_env(), start_new_session=True) as proc:
        # Stopping us stops Voilà (and so its kernels) instead of orphaning it.
        previous = signal.signal(signal.SIGTERM, lambda *_: proc.terminate())
        try:
            return proc.wait()
        except KeyboardInterrupt:
            return stop(proc)
        finally:
            signal.signal(signal.SIGTERM, previous)


def stop(proc: subprocess.Popen[bytes]) -> int:
    """Ask Voilà to stop (it shuts its kernels down), ignoring further Ctrl-C meanwhile.

    Returns 0 once it has stopped; a Voilà still running after :data:`STOP_TIMEOUT_S`
    seconds is killed.
    """
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        print("replab dashboard: stopping", file=sys.stderr, flush=True)
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    finally:
        signal.signal(signal.SIGINT, previous)
    return 0
