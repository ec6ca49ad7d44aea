"""Shared test helpers: headless matplotlib and running notebooks small."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"


def run_notebook(name: str, overrides: dict[str, Any] | None = None, timeout: int = 600) -> Any:
    """Execute ``notebooks/<name>`` headless; return the executed notebook.

    ``overrides`` (default: the notebook's own ``metadata.replab.small``) are injected as a
    cell right after the cell tagged ``parameters`` (papermill's convention), so the
    notebook file stays unchanged. The kernel imports this checkout's replab.
    """
    import nbformat

    from replab.notebooks import inject_parameters, notebook_client

    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    if overrides is None:
        overrides = nb.metadata.get("replab", {}).get("small", {})
    nb = inject_parameters(nb, overrides)
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
    return nb


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


# Parallel runs (`python3 tasks.py test` uses pytest-xdist with --dist loadgroup): tests
# that share a module-scoped fixture of their module (a full notebook run, a Dask cluster,
# a sandbox) go to the same worker, so the fixture is built once; every other test goes
# wherever a worker is free. The browser tests' servers and browser are shared across
# fixtures, so that whole module stays on one worker. Kernels and servers take free
# ports, so the two workers never collide.
ONE_WORKER_MODULES = {"test_browser"}
#: Module fixtures cheap enough to build on each worker: their tests spread freely.
CHEAP_MODULE_FIXTURES = {"sandbox", "small_limits"}


def _shared_fixtures(item: Any) -> list[str]:
    """The module-scoped fixtures defined in the item's own module that it uses."""
    info = getattr(item, "_fixtureinfo", None)
    module_id = item.nodeid.split("::")[0]
    names = []
    for name, defs in (info.name2fixturedefs.items() if info else []):
        if (defs and defs[-1].scope == "module" and defs[-1].baseid == module_id
                and name not in CHEAP_MODULE_FIXTURES):
            names.append(name)
    return sorted(names)


def _tryfirst(hook: Any) -> Any:
    import pytest

    return pytest.hookimpl(tryfirst=True)(hook)


@_tryfirst  # before xdist reads the xdist_group marks
def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    import pytest

    for item in items:
        module = item.nodeid.split("::")[0].rsplit("/", 1)[-1].removesuffix(".py")
        shared = _shared_fixtures(item)
        if module in ONE_WORKER_MODULES:
            item.add_marker(pytest.mark.xdist_group(module))
        elif shared:
            item.add_marker(pytest.mark.xdist_group(f"{module}:{'+'.join(shared)}"))
