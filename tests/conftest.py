"""Shared test helpers: headless matplotlib and running notebooks small (each research
notebook once per session: the ``notebook_runs`` fixture)."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import matplotlib
import pytest
from hypothesis import HealthCheck, settings

matplotlib.use("Agg")
# Two cores shared with notebooks and servers: a slow example is the machine, not the code.
settings.register_profile("replab", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("replab")
# Explorer results are not kept on disk between test runs (tests that want the cache
# point REPLAB_CACHE at a temporary directory themselves).
os.environ.setdefault("REPLAB_CACHE", "off")
# Nor computed ahead in a background worker: the suite's 2 cores are for the tests (the
# prefetch tests turn it on themselves).
os.environ.setdefault("REPLAB_PREFETCH", "off")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"


def run_notebook(name: str, overrides: dict[str, Any] | None = None, timeout: int = 600) -> Any:
    """Execute ``notebooks/<name>`` headless; return the executed notebook.

    ``overrides`` (default: the notebook's own ``metadata.replab.small``) are injected as a
    cell right after the cell tagged ``parameters`` (papermill's convention), so the
    notebook file stays unchanged. The kernel imports this checkout's replab.
    Every figure the notebook draws is linted (``replab.plots.lint_figure``); the problems
    are in ``nb.metadata["replab_lint"]`` (see ``tests/test_notebook_figures.py``).
    """
    import nbformat

    from replab.notebooks import inject_lint, inject_parameters, notebook_client, pop_lint_report

    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    if overrides is None:
        overrides = nb.metadata.get("replab", {}).get("small", {})
    nb = inject_lint(inject_parameters(nb, overrides))
    saved = {k: os.environ.get(k) for k in ("MPLBACKEND", "PYTHONPATH")}
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), saved["PYTHONPATH"]]))
    try:
        notebook_client(nb, timeout=timeout, kernel_name="python3",
                        resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    nb.metadata["replab_lint"] = pop_lint_report(nb).to_dict("records")
    return nb


@contextlib.contextmanager
def _locked(path: Path, *, wait: bool = True) -> Iterator[bool]:
    """An exclusive lock on ``path`` (across processes); yields False at once when another
    process holds it and not ``wait``."""
    with open(path, "a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


class NotebookRuns:
    """Each research notebook executed at most once per test session, shared by every test
    that needs it (``replab reproduce``'s harvest in ``tests/test_reproduce.py`` and the
    notebook's own tests), across xdist workers.

    A notebook runs as ``replab reproduce --small --lint`` runs it
    (:func:`replab.reproduce.execute_notebook` at its ``metadata.replab.small`` sizes, every
    figure linted); the executed notebook is kept as a file in the session's temporary
    folder, which every worker of the session shares, with one lock a notebook.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def executed(self, name: str, *, wait: bool = True) -> Any | None:
        """The executed notebook as ``execute_notebook(path, small, lint=True)`` returns it
        (its lint cells still in); None if another worker is running it and not ``wait``."""
        import nbformat

        from replab.notebooks import small_parameters
        from replab.reproduce import execute_notebook

        stem = Path(name).stem
        done = self.folder / f"{stem}.ipynb"
        with _locked(self.folder / f"{stem}.lock", wait=wait) as mine:
            if not mine:
                return None
            if not done.exists():
                path = NOTEBOOKS / f"{stem}.ipynb"
                small = small_parameters(nbformat.read(path, as_version=4))
                nb = execute_notebook(path, small, timeout=600, lint=True)
                partial = done.with_suffix(".partial")
                nbformat.write(nb, partial)
                partial.replace(done)
        return nbformat.read(done, as_version=4)

    def __call__(self, name: str) -> Any:
        """The executed notebook as :func:`run_notebook` returns it: the figure-lint
        problems in ``nb.metadata["replab_lint"]``, the lint cells removed."""
        from replab.notebooks import pop_lint_report

        nb = self.executed(name)
        nb.metadata["replab_lint"] = pop_lint_report(nb).to_dict("records")
        return nb


@pytest.fixture(scope="session")
def notebook_runs(tmp_path_factory: pytest.TempPathFactory) -> NotebookRuns:
    """:class:`NotebookRuns` for this test session (one folder for all xdist workers)."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the session's folder; each worker's own is below it
    folder = root / "notebook-runs"
    folder.mkdir(exist_ok=True)
    return NotebookRuns(folder)


def notebook_parameters(name: str) -> dict[str, Any]:
    """The default parameters of ``notebooks/<name>``, as its first code cell sets them."""
    import nbformat

    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    ns: dict[str, Any] = {}
    exec(next(c for c in nb.cells if c.cell_type == "code").source, ns)
    return ns


def cell_text(nb: Any) -> str:
    """All stream and text/plain output of an executed notebook, joined."""
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                parts.append(out.get("text", ""))
            elif "data" in out and "text/plain" in out["data"]:
                parts.append(out["data"]["text/plain"])
    return "\n".join(parts)



#: The longest test modules (seconds on 2 workers), started first: ``tasks.py test`` runs
#: one module per worker (``--dist loadfile``), in collection order, and a long module
#: collected last would run alone at the end while the other worker idles.
LONG_MODULES = ("test_browser.py", "test_reproduce.py", "test_real_patroni.py",
                "test_readme_servers.py", "test_real_mariadb_notebook.py", "test_readme.py",
                "test_real_postgres.py", "test_real_mariadb.py", "test_cli_fuzz.py",
                "test_real_postgres_notebook.py")


def pytest_collection_modifyitems(items: list[Any]) -> None:
    rank = {name: i for i, name in enumerate(LONG_MODULES)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: else as is
