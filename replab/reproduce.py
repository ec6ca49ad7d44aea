"""Regenerate every figure and table of the notebooks, headless.

Each notebook is *executed* (nbclient, a fresh kernel) and its outputs are harvested, so
the files are exactly what the notebook shows, never a second copy of its plotting code:

* every matplotlib figure -> ``<prefix>-fig<k>.png`` and ``.svg`` (the kernel is told to
  emit both formats),
* every displayed DataFrame, Series or Styler (a styled table) -> ``<prefix>-table<k>.csv``
  (a display formatter installed in the kernel adds a ``text/csv`` rendering beside the
  HTML one; a Styler's CSV is its underlying frame),
* every image inside a displayed widget (a dashboard's plots, in their final state) ->
  ``<prefix>-widget<k>.png``,
* the executed notebook itself -> ``executed.ipynb``, and the list of files ->
  ``manifest.csv``;
* with ``html=True`` also the executed notebook as a self-contained page,
  ``<stem>/<stem>.html`` (figures inline, each explorer shown as the images it drew, no
  script or font from the network), and ``<out>/index.html`` linking every page.

``<prefix>`` is the cell's ``metadata["replab"]["name"]`` when set, else ``cellNN`` with NN
the cell's 1-based position in the notebook file. Files go to ``<out>/<notebook stem>/``.
"""

from __future__ import annotations

import base64
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from replab.errors import ConfigError, ReplabError
from replab.notebooks import (
    INJECTED_TAG,
    inject_lint,
    inject_parameters,
    kernel_env,
    notebook_client,
    notebook_dir,
    pop_lint_report,
    research_notebooks,
    select_notebooks,
    small_parameters,
)
from replab.validate import check_int, fail

__all__ = ["MANIFEST_COLUMNS", "execute_notebook", "harvest", "notebook_html", "reproduce"]

MANIFEST_COLUMNS = ["notebook", "cell", "kind", "path", "bytes"]
SETUP_TAG = "replab-setup"
# Runs first in the kernel: figures in PNG and SVG, DataFrames also as CSV.
SETUP_SOURCE = """\
%matplotlib inline
%config InlineBackend.figure_formats = ['png', 'svg']
import pandas as _replab_pd

def _replab_csv(obj):
    frame = obj.to_frame() if isinstance(obj, _replab_pd.Series) else obj
    return {"text/csv": frame.to_csv(index=not isinstance(frame.index, _replab_pd.RangeIndex))}

def _replab_styled_csv(styler):
    return _replab_csv(styler.data)  # a Styler's table: the frame under the styling

for _replab_type in (_replab_pd.DataFrame, _replab_pd.Series):
    get_ipython().display_formatter.mimebundle_formatter.for_type(_replab_type, _replab_csv)
get_ipython().display_formatter.mimebundle_formatter.for_type_by_name(
    "pandas.io.formats.style", "Styler", _replab_styled_csv)  # without importing jinja2 now
"""
_WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
_WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def execute_notebook(path: Path, overrides: dict[str, Any] | None = None, *,
                     timeout: int = 1800, lint: bool = False) -> Any:
    """Run ``path`` in a fresh kernel (cwd = its folder) and return the executed notebook.

    With ``lint``, every figure drawn is checked by :func:`replab.plots.lint_figure`; the
    report is taken with :func:`replab.notebooks.pop_lint_report`.

    Raises
    ------
    ReplabError
        If a cell raises, times out or the kernel dies; the message names the cell.
    """
    import nbformat
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    nb = inject_parameters(nbformat.read(path, as_version=4), overrides or {})
    if lint:
        nb = inject_lint(nb)
    nb.cells.insert(0, nbformat.v4.new_code_cell(SETUP_SOURCE, metadata={"tags": [SETUP_TAG]}))
    client = notebook_client(nb, timeout=timeout, kernel_name="python3",
                             store_widget_state=True,
                             resources={"metadata": {"path": str(path.parent)}})
    env = kernel_env({"MPLBACKEND": "module://matplotlib_inline.backend_inline"})
    # The kernel's stderr is its own: on Ctrl-C jupyter_client interrupts the kernel before
    # shutting it down, and a kernel interrupted while it starts prints a traceback there.
    # What the kernel said is shown only if it died.
    with tempfile.TemporaryFile("w+") as kernel_stderr:
        try:
            client.execute(env=env, stderr=kernel_stderr)
        except (CellExecutionError, CellTimeoutError, DeadKernelError) as e:
            cell = _failed_cell(nb)
            first = str(getattr(e, "ename", type(e).__name__))
            detail = str(getattr(e, "evalue", "")) or str(e).strip().splitlines()[0]
            if isinstance(e, DeadKernelError):
                kernel_stderr.seek(0)
                said = kernel_stderr.read().strip().splitlines()[-1:]
                detail += f" (the kernel's last words: {said[0]})" if said else ""
            raise ReplabError(f"{path.stem}: cell {cell} failed: {first}: {detail}") from e
    return nb


def _original_cells(nb: Any) -> Iterator[tuple[int, Any]]:
    """(1-based position in the notebook file, cell), skipping the cells we injected."""
    position = 0
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        if SETUP_TAG in tags or INJECTED_TAG in tags:
            continue
        position += 1
        yield position, cell


def _failed_cell(nb: Any) -> int | str:
    for position, cell in _original_cells(nb):
        if any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
            return position
    return "?"


def harvest(nb: Any, dest: Path, notebook: str) -> list[dict[str, Any]]:
    """Write the figures, tables and widget images of an executed notebook to ``dest``.

    Returns the manifest rows (see :data:`MANIFEST_COLUMNS`), in notebook order.
    """
    dest.mkdir(parents=True, exist_ok=True)
    widget_state = nb.metadata.get("widgets", {}).get(_WIDGET_STATE, {}).get("state", {})
    rows: list[dict[str, Any]] = []
    used: set[str] = set()

    def write(name: str, payload: bytes, cell: int, kind: str) -> None:
        target = dest / name
        target.write_bytes(payload)
        rows.append({"notebook": notebook, "cell": cell, "kind": kind, "path": str(target),
                     "bytes": len(payload)})

    for position, cell in _original_cells(nb):
        prefix = cell.metadata.get("replab", {}).get("name") or f"cell{position:02d}"
        prefix = f"{prefix}-cell{position:02d}" if prefix in used else prefix
        used.add(prefix)
        counts = {"fig": 0, "table": 0, "widget": 0}
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "image/png" in data:
                counts["fig"] += 1
                stem = f"{prefix}-fig{counts['fig']}"
                write(f"{stem}.png", base64.b64decode(data["image/png"]), position, "figure")
                if "image/svg+xml" in data:
                    write(f"{stem}.svg", _text(data["image/svg+xml"]).encode(), position,
                          "figure")
            if "text/csv" in data:
                counts["table"] += 1
                write(f"{prefix}-table{counts['table']}.csv", _text(data["text/csv"]).encode(),
                      position, "table")
            if _WIDGET_VIEW in data:
                for png in _widget_images(widget_state, data[_WIDGET_VIEW]["model_id"]):
                    counts["widget"] += 1
                    write(f"{prefix}-widget{counts['widget']}.png", png, position, "widget")
    return rows


def _text(value: str | list[str]) -> str:
    return value if isinstance(value, str) else "".join(value)


def _widget_images(state: dict[str, Any], model_id: str) -> Iterator[bytes]:
    """The PNG images inside a displayed widget, depth first in display order."""
    seen: set[str] = set()
    stack = [model_id]
    while stack:
        mid = stack.pop()
        if mid in seen or mid not in state:
            continue
        seen.add(mid)
        model = state[mid]
        if model.get("model_name") == "ImageModel" and model["state"].get("format") == "png":
            for buf in model.get("buffers", []):
                if buf.get("path") == ["value"]:
                    yield base64.b64decode(buf["data"])
        children = [v for k, v in model["state"].items() if k not in ("layout", "style")]
        refs = [r for v in children for r in (v if isinstance(v, list) else [v])
                if isinstance(r, str) and r.startswith("IPY_MODEL_")]
        stack.extend(r.removeprefix("IPY_MODEL_") for r in reversed(refs))


# The lab template without the scripts it would fetch from CDNs (require.js, MathJax,
# mermaid, the widget renderer): the pages must open offline.
_HTML_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
"""


def notebook_html(nb: Any) -> str:
    """An executed notebook as one offline HTML page, explorers shown as their images."""
    import copy

    import jinja2
    from nbconvert import HTMLExporter

    nb = copy.deepcopy(nb)
    state = nb.metadata.get("widgets", {}).get(_WIDGET_STATE, {}).get("state", {})
    for cell in nb.cells:
        outputs = []
        for output in cell.get("outputs", []):
            view = output.get("data", {}).get(_WIDGET_VIEW)
            if view is None:
                outputs.append(output)
                continue
            for png in _widget_images(state, view["model_id"]):
                outputs.append({"output_type": "display_data", "metadata": {},
                                "data": {"image/png": base64.b64encode(png).decode()}})
        cell["outputs"] = outputs
    nb.metadata.pop("widgets", None)
    exporter = HTMLExporter(template_name="lab",
                            extra_loaders=[jinja2.DictLoader({"replab.html.j2": _HTML_TEMPLATE})],
                            template_file="replab.html.j2")
    body, _ = exporter.from_notebook_node(nb)
    return str(body)


def write_index(out: Path, manifest: pd.DataFrame) -> Path:
    """``out/index.html``: one link per notebook page, with what each page holds."""
    import html

    items = []
    for notebook, rows in manifest.groupby("notebook", sort=False):
        pages = rows[rows.kind == "html"]
        if pages.empty:
            continue
        link = Path(pages.path.iloc[0]).relative_to(out.resolve()).as_posix()
        kinds = rows.kind.value_counts()
        items.append(f'<li><a href="{html.escape(link)}">{html.escape(str(notebook))}</a>: '
                     f"{kinds.get('figure', 0) // 2} figures, {kinds.get('table', 0)} tables, "
                     f"{kinds.get('widget', 0)} explorer images</li>")
    page = ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>replab notebooks"
            "</title></head>\n<body style=\"font-family: sans-serif; max-width: 50em; "
            "margin: 2em auto\">\n<h1>replab notebooks, executed</h1>\n<ul>\n"
            + "\n".join(items) + "\n</ul>\n</body></html>\n")
    index = out / "index.html"
    index.write_text(page, encoding="utf-8")
    return index


def _clear_previous(dest: Path) -> None:
    """Remove the files a previous run listed in ``dest/manifest.csv`` (nothing else)."""
    manifest = dest / "manifest.csv"
    if not manifest.exists():
        return
    for name in pd.read_csv(manifest)["file"]:
        (dest / str(name)).unlink(missing_ok=True)
    manifest.unlink()


def _run_one(path: Path, dest: Path, overrides: dict[str, Any], timeout: int,
             html: bool = False, lint: bool = False) -> pd.DataFrame:
    import nbformat

    nb = execute_notebook(path, overrides, timeout=timeout, lint=lint)
    problems = pop_lint_report(nb) if lint else None
    _clear_previous(dest)
    rows = harvest(nb, dest, path.stem)
    if problems is not None:
        report = dest / "lint.csv"
        problems.to_csv(report, index=False)
        rows.append({"notebook": path.stem, "cell": 0, "kind": "lint", "path": str(report),
                     "bytes": report.stat().st_size})
    executed = dest / "executed.ipynb"
    nbformat.write(nb, executed)
    rows.append({"notebook": path.stem, "cell": 0, "kind": "notebook", "path": str(executed),
                 "bytes": executed.stat().st_size})
    if html:
        page = dest.resolve() / f"{path.stem}.html"
        page.write_text(notebook_html(nb), encoding="utf-8")
        rows.append({"notebook": path.stem, "cell": 0, "kind": "html", "path": str(page),
                     "bytes": page.stat().st_size})
    frame = pd.DataFrame(rows, columns=MANIFEST_COLUMNS)
    frame.assign(file=[Path(p).name for p in frame.path]).drop(columns="path").to_csv(
        dest / "manifest.csv", index=False)
    return frame


def reproduce(
    names: Sequence[str] = (), *, out: str | Path = "out/reproduce", small: bool = False,
    notebooks: str | Path | None = None, timeout: int = 1800,
    log: Callable[[str], None] | None = None, html: bool = False, lint: bool = False,
) -> pd.DataFrame:
    """Execute notebooks headless and write their figures and tables under ``out``.

    Parameters
    ----------
    names : sequence of str
        Notebook stems or number prefixes (``"01"``); empty means every numbered notebook
        except those whose metadata sets ``replab.reproduce`` to false (e.g. the tour).
    out : path
        Root folder; each notebook gets ``out/<stem>/`` (its old files are replaced).
    small : bool
        Inject the quick-run sizes from ``nb.metadata["replab"]["small"]``.
    notebooks : path, optional
        The notebooks folder (default: ``./notebooks`` or the checkout's).
    timeout : int
        Seconds allowed per cell.
    log : callable, optional
        Called with one progress line per notebook.
    html : bool
        Also write each executed notebook as an offline HTML page and ``out/index.html``
        linking them.
    lint : bool
        Check every figure drawn (explorers included) with :func:`replab.plots.lint_figure`
        and write the problems to ``out/<stem>/lint.csv`` (columns cell, name, figure,
        problem; the log line counts them).

    Returns
    -------
    DataFrame
        The manifest: one row per file written, columns :data:`MANIFEST_COLUMNS`.

    Raises
    ------
    ConfigError
        For an unknown name. ReplabError if a notebook fails (after running the others).
    """
    check_int(timeout, "timeout", "replab reproduce", low=1)
    if Path(out).exists() and not Path(out).is_dir():
        raise fail("out", "replab reproduce", "a folder (it is created if missing)", str(out))
    folder = notebook_dir(notebooks)
    available = research_notebooks(folder)
    if not available:
        raise ConfigError(f"The notebooks folder {str(folder)!r} has no numbered notebooks "
                          "(NN_topic.ipynb) to reproduce.")
    named = select_notebooks(names, available) if names else None
    import nbformat  # after the arguments are checked: it takes a second to import

    chosen = named if named is not None else [
        p for p in available if _reproducible(nbformat.read(p, as_version=4))]
    frames, failures = [], []
    for path in chosen:
        overrides = small_parameters(nbformat.read(path, as_version=4)) if small else {}
        start = time.perf_counter()
        try:
            frame = _run_one(path, Path(out) / path.stem, overrides, timeout, html, lint)
        except ReplabError as e:
            failures.append(str(e))
            _log(log, f"{path.stem}: FAILED ({e})")
            continue
        frames.append(frame)
        kinds = frame.kind.value_counts()
        _log(log, f"{path.stem}: {kinds.get('figure', 0)} figure files, "
                  f"{kinds.get('table', 0)} tables, {kinds.get('widget', 0)} widget images "
                  f"in {time.perf_counter() - start:.1f} s" + (" (small)" if small else "")
                  + (f", {_lint_count(frame)} figure problems" if lint else ""))
    manifest = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=MANIFEST_COLUMNS)
    if html and frames:
        index = write_index(Path(out), manifest)
        manifest = pd.concat([manifest, pd.DataFrame([{
            "notebook": "", "cell": 0, "kind": "index", "path": str(index.resolve()),
            "bytes": index.stat().st_size}])], ignore_index=True)
    if failures:
        raise ReplabError(f"{len(failures)} of {len(chosen)} notebooks failed: "
                          + "; ".join(failures))
    return manifest


def _lint_count(frame: pd.DataFrame) -> int:
    reports = frame.path[frame.kind == "lint"]
    return sum(len(pd.read_csv(p)) for p in reports)


def _reproducible(nb: Any) -> bool:
    return bool(nb.metadata.get("replab", {}).get("reproduce", True))


def _log(log: Callable[[str], None] | None, line: str) -> None:
    if log is not None:
        log(line)
