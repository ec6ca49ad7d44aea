"""Shared test helpers: headless matplotlib and running notebooks small."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import matplotlib
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
