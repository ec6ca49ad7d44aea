"""The workbench's notebooks: finding them, choosing them by name, running them headless.

Research notebooks are ``notebooks/NN_topic.ipynb``; dashboard notebooks (served by Voilà)
are ``notebooks/dashboards/*.ipynb``. A notebook keeps its tunable sizes in one code cell
tagged ``parameters`` (papermill's convention); overrides are injected as a new cell right
after it, so the notebook file itself never changes. Sizes for a quick run live in the
notebook's metadata, ``nb.metadata["replab"]["small"]`` (a dict of parameter -> value).
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from replab.errors import ConfigError
from replab.validate import fail

__all__ = [
    "INJECTED_TAG",
    "notebook_dir",
    "research_notebooks",
    "dashboard_notebooks",
    "select_notebooks",
    "small_parameters",
    "inject_parameters",
    "kernel_env",
    "KERNEL_ARGS",
    "TRANSPORT_ENCRYPTION",
    "notebook_index",
    "notebook_client",
    "LINT_TAG",
    "inject_lint",
    "pop_lint_report",
]

INJECTED_TAG = "injected-parameters"
_NUMBERED = re.compile(r"^(\d+)_")


def notebook_dir(path: str | os.PathLike[str] | None = None) -> Path:
    """The notebooks folder: ``path`` if given, else ``./notebooks``, else the checkout's.

    Raises
    ------
    ConfigError
        If the folder does not exist.
    """
    if path is not None:
        folder = Path(path)
        if not folder.is_dir():
            raise ConfigError(
                f"The 'notebooks' parameter must be an existing folder. Got {str(path)!r} "
                "instead."
            )
        return folder.resolve()
    for folder in (Path.cwd() / "notebooks", Path(__file__).resolve().parents[1] / "notebooks"):
        if folder.is_dir():
            return folder.resolve()
    raise ConfigError(
        "No notebooks folder found (looked in ./notebooks and next to the replab package); "
        "pass --notebooks DIR."
    )


def research_notebooks(folder: Path) -> list[Path]:
    """The numbered notebooks ``NN_*.ipynb`` in ``folder``, in number order."""
    found = [p for p in folder.glob("*.ipynb") if _NUMBERED.match(p.name)]
    return sorted(found, key=lambda p: (int(_NUMBERED.match(p.name).group(1)), p.name))  # type: ignore[union-attr]


def dashboard_notebooks(folder: Path) -> list[Path]:
    """The dashboard notebooks in ``folder / "dashboards"``, by name."""
    return sorted((folder / "dashboards").glob("*.ipynb"))


def _matches(name: str, path: Path) -> bool:
    number = _NUMBERED.match(path.name)
    if name in (path.stem, path.name):
        return True
    return number is not None and name.isdigit() and int(name) == int(number.group(1))


def select_notebooks(
    names: Sequence[str], available: Sequence[Path], *, owner: str = "replab reproduce"
) -> list[Path]:
    """The notebooks named by stem, file name or number prefix (``01``), in the order given.

    Raises
    ------
    ConfigError
        For a name that matches none of ``available``.
    """
    chosen: list[Path] = []
    for name in names:
        hits = [p for p in available if _matches(name, p)]
        if not hits:
            known = ", ".join(p.stem for p in available) or "none found"
            raise fail("name", owner, f"a notebook stem or its number prefix ({known})", name)
        chosen.extend(p for p in hits if p not in chosen)
    return chosen


def small_parameters(nb: Any) -> dict[str, Any]:
    """The quick-run parameter values stored in ``nb.metadata["replab"]["small"]``."""
    small = nb.metadata.get("replab", {}).get("small", {})
    return dict(small)


def inject_parameters(nb: Any, overrides: Mapping[str, Any]) -> Any:
    """A copy of ``nb`` with ``overrides`` assigned in a cell after the ``parameters`` cell.

    Raises
    ------
    ConfigError
        If there are overrides but no cell is tagged ``parameters``.
    """
    import nbformat

    out = copy.deepcopy(nb)
    if not overrides:
        return out
    tagged = [i for i, c in enumerate(out.cells) if "parameters" in c.metadata.get("tags", [])]
    if not tagged:
        raise ConfigError(
            f"Cannot set {', '.join(overrides)}: the notebook has no cell tagged 'parameters'."
        )
    source = "\n".join(f"{key} = {value!r}" for key, value in overrides.items())
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": [INJECTED_TAG]})
    out.cells.insert(tagged[0] + 1, cell)
    return out


def kernel_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a notebook kernel started from here.

    Relative ``PYTHONPATH`` entries are made absolute, because a kernel runs in the
    notebook's folder and would otherwise import a different replab (or none).
    """
    env = dict(os.environ)
    if env.get("PYTHONPATH"):
        env["PYTHONPATH"] = os.pathsep.join(_absolute(env["PYTHONPATH"].split(os.pathsep)))
    env.update(extra or {})
    return env


#: Kernels we start encrypt their ZeroMQ channels (CurveZMQ keys from the kernel manager)
#: when the kernelspec supports it, as ipykernel's does: their traffic is then private and
#: the kernel no longer warns "running over TCP without encryption" on every run.
TRANSPORT_ENCRYPTION = "auto"
#: The same for Jupyter applications (Voilà, JupyterLab) we start.
KERNEL_ARGS = (f"--KernelManager.transport_encryption={TRANSPORT_ENCRYPTION}",)

_POLL_S = 0.25


def _poll_in_steps(channel: Any) -> None:
    """Make ``channel.get_msg(timeout)`` wait in short polls instead of one long one.

    zmq's socket descriptor is edge-triggered; when the asyncio poller misses an edge, a
    reply that has already arrived is only noticed when the poll times out -- with
    nbclient's cell timeout that stalled a widget cell for the whole timeout (seen with
    ipykernel 6.31 and 7.4). Short polls re-check the socket, so a missed edge costs at
    most ``_POLL_S`` seconds. Semantics are unchanged: ``Empty`` after ``timeout``.
    """
    from queue import Empty
    from time import monotonic

    single_poll = channel.get_msg

    async def get_msg(timeout: float | None = None) -> dict[str, Any]:
        deadline = None if timeout is None else monotonic() + timeout
        while True:
            step = _POLL_S if deadline is None else max(0.0, min(_POLL_S, deadline - monotonic()))
            try:
                return await single_poll(timeout=step)  # type: ignore[no-any-return]
            except Empty:
                if deadline is not None and monotonic() >= deadline:
                    raise

    channel.get_msg = get_msg


def notebook_client(nb: Any, **kwargs: Any) -> Any:
    """An ``nbclient.NotebookClient`` for ``nb`` whose channels never stall on a missed poll.

    Every headless notebook run in replab (``replab reproduce``, the tests) goes through
    this; ``kwargs`` are NotebookClient options (``timeout``, ``kernel_name``, ...).
    """
    from nbclient import NotebookClient

    class _Client(NotebookClient):  # type: ignore[misc]
        def create_kernel_manager(self) -> Any:
            km = super().create_kernel_manager()
            km.transport_encryption = TRANSPORT_ENCRYPTION
            return km

        async def async_start_new_kernel_client(self) -> Any:
            kc = await super().async_start_new_kernel_client()
            _poll_in_steps(kc.shell_channel)
            _poll_in_steps(kc.iopub_channel)
            return kc

    return _Client(nb, **kwargs)


def _absolute(entries: Iterable[str]) -> list[str]:
    return [str(Path(e).resolve()) if e else str(Path.cwd()) for e in entries]


def notebook_index(folder: Path) -> pd.DataFrame:
    """One row per research notebook: ``notebook`` (file name), ``title`` (its first
    heading) and ``small`` (the quick-run sizes from its metadata)."""
    import nbformat

    rows = []
    for path in research_notebooks(folder):
        nb = nbformat.read(path, as_version=4)
        heading = next((line.lstrip("# ").strip() for c in nb.cells if c.cell_type == "markdown"
                        for line in c.source.splitlines() if line.startswith("#")), "")
        rows.append({"notebook": path.name, "title": heading, "small": small_parameters(nb)})
    return pd.DataFrame(rows, columns=["notebook", "title", "small"])


LINT_TAG = "replab-lint"
_LINT_MARK = "REPLAB-LINT "
#: Runs first in the kernel: every figure drawn during a cell (pyplot's, shown inline, and
#: an explorer's, drawn off pyplot) is linted with replab.plots.lint_figure after the cell,
#: in the state the cell left it. post_run_cell comes after post_execute, where the inline
#: backend shows (draws) and closes pyplot's figures; the pending dict keeps them alive.
#: An explorer's image drawn over a cached background (``restore_region``, then only its
#: animated artists: no Figure.draw) counts as a drawing of its figure too.
LINT_SETUP_SOURCE = """\
def _replab_lint_install():
    import matplotlib
    from matplotlib.backend_bases import FigureCanvasBase
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from replab.plots.lint import lint_figure

    pending, problems, busy = {}, [], [False]
    draw, print_figure = Figure.draw, FigureCanvasBase.print_figure
    restore_region = FigureCanvasAgg.restore_region

    def drawn(self, renderer):
        result = draw(self, renderer)
        if not busy[0]:
            pending[id(self)] = self
        return result

    def restored(self, *args, **kwargs):
        if not busy[0]:
            pending[id(self.figure)] = self.figure
        return restore_region(self, *args, **kwargs)

    def printed(self, *args, **kwargs):
        bbox = kwargs.get("bbox_inches", matplotlib.rcParams["savefig.bbox"])
        self.figure._replab_tight = bbox == "tight"
        return print_figure(self, *args, **kwargs)

    def after_cell(result):
        figures = list(pending.values())
        pending.clear()
        busy[0] = True
        try:
            for k, fig in enumerate(figures, start=1):
                try:
                    found = lint_figure(fig, tight=getattr(fig, "_replab_tight", False))
                except Exception as e:  # a lint crash is a finding, not a lost notebook
                    found = [f"the lint failed: {type(e).__name__}: {e}"]
                problems.extend({"execution_count": result.execution_count, "figure": k,
                                 "problem": p} for p in found)
        finally:
            busy[0] = False

    Figure.draw, FigureCanvasBase.print_figure = drawn, printed
    FigureCanvasAgg.restore_region = restored
    get_ipython().events.register("post_run_cell", after_cell)
    return problems

_replab_lint_problems = _replab_lint_install()
"""
LINT_REPORT_SOURCE = f"import json\nprint({_LINT_MARK!r} + json.dumps(_replab_lint_problems))"
LINT_COLUMNS = ["cell", "name", "figure", "problem"]


def inject_lint(nb: Any) -> Any:
    """A copy of ``nb`` that lints every figure it draws (see :func:`pop_lint_report`).

    A first cell installs the hook (:func:`replab.plots.lint_figure` on every figure drawn
    during a cell, after the cell), a last one prints what it found.
    """
    import nbformat

    out = copy.deepcopy(nb)
    meta = {"tags": [LINT_TAG]}
    out.cells.insert(0, nbformat.v4.new_code_cell(LINT_SETUP_SOURCE, metadata=meta))
    out.cells.append(nbformat.v4.new_code_cell(LINT_REPORT_SOURCE, metadata=dict(meta)))
    return out


def pop_lint_report(nb: Any) -> pd.DataFrame:
    """The figure problems of a notebook executed after :func:`inject_lint`; the lint
    cells are removed from ``nb``.

    Returns
    -------
    DataFrame
        One row a problem, columns ``cell`` (1-based position in the notebook file),
        ``name`` (the cell's ``metadata.replab.name``, else ``cellNN``), ``figure`` (the
        k-th figure drawn during that cell) and ``problem``.

    Raises
    ------
    ConfigError
        If ``nb`` has no lint report (it was not injected, or the run stopped early).
    """
    import json

    report = None
    for cell in nb.cells:
        if LINT_TAG in cell.metadata.get("tags", []):
            for out in cell.get("outputs", []):
                text = "".join(out.get("text", ""))
                if text.startswith(_LINT_MARK):
                    report = json.loads(text[len(_LINT_MARK):])
    if report is None:
        raise ConfigError("The notebook has no figure-lint report: run it after inject_lint "
                          "(and to its end).")
    nb.cells = [c for c in nb.cells if LINT_TAG not in c.metadata.get("tags", [])]
    where = {}
    position = 0
    for cell in nb.cells:
        if any(t == INJECTED_TAG or t.startswith("replab-") for t in cell.metadata.get(
                "tags", [])):
            continue
        position += 1
        if cell.cell_type == "code" and cell.get("execution_count") is not None:
            name = cell.metadata.get("replab", {}).get("name") or f"cell{position:02d}"
            where[cell.execution_count] = (position, name)
    rows = [{"cell": where.get(r["execution_count"], (0, "?"))[0],
             "name": where.get(r["execution_count"], (0, "?"))[1],
             "figure": r["figure"], "problem": r["problem"]} for r in report]
    return pd.DataFrame(rows, columns=LINT_COLUMNS)
