"""Every notebook cell that draws shows an image when the notebook runs headless.

The figure lint (``replab.plots.lint_figure``, issue 21) runs on every figure of the same
runs: ``replab reproduce --lint`` writes ``lint.csv`` per notebook, and
``tests.conftest.run_notebook`` keeps the problems in ``nb.metadata["replab_lint"]``
(:func:`figure_problems`).

The check runs on notebooks that are executed anyway (no notebook runs twice for it):
``tests/test_reproduce.py`` applies it to every notebook ``replab reproduce --small``
executes, and the real-server notebooks' own tests (08, 09) apply it to their runs.

A cell "draws" when its code calls a replab plot function, pyplot, a pandas ``.plot`` or
builds an explorer; it must then leave a PNG (a figure) or a widget (an explorer, whose
figure is an Image inside it) among its outputs. A style context that switched Jupyter's
interactive mode off once hid every figure after the first in the tour (issue 14).
"""

from __future__ import annotations

import re
from typing import Any

DRAWS = re.compile(r"\bplot_\w+\(|\bplt\.|\.plot\(|\.bar\(|Explorer\(|\.errorbar\(")
WIDGET = "application/vnd.jupyter.widget-view+json"


def top_level(source: str) -> str:
    """The code outside function definitions (a ``def`` that draws draws when called)."""
    kept, in_def = [], False
    for line in source.splitlines():
        if line.startswith("def "):
            in_def = True
        elif line and not line[0].isspace():
            in_def = False
        if not in_def:
            kept.append(line)
    return "\n".join(kept)


def cells_missing_images(nb: Any) -> list[str]:
    """Drawing cells (by position and first line) that produced no image or widget."""
    missing = []
    for position, cell in enumerate(nb.cells, start=1):
        if cell.cell_type != "code" or not DRAWS.search(top_level(cell.source)):
            continue
        data = [out.get("data", {}) for out in cell.get("outputs", [])]
        if not any("image/png" in d or WIDGET in d for d in data):
            missing.append(f"cell {position}: {cell.source.splitlines()[0]}")
    return missing


def figure_problems(nb: Any) -> list[str]:
    """The lint problems of a notebook run by ``tests.conftest.run_notebook``, one line
    each: "name (cell N) figure K: problem"."""
    return [f"{r['name']} (cell {r['cell']}) figure {r['figure']}: {r['problem']}"
            for r in nb.metadata["replab_lint"]]


def test_a_cell_without_outputs_is_reported() -> None:
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("plots.plot_lag(df)"),
                                         nbformat.v4.new_code_cell("x = 1"),
                                         nbformat.v4.new_code_cell("def show(df):\n"
                                                                   "    plt.plot(df)\nx = 2")])
    assert cells_missing_images(nb) == ["cell 1: plots.plot_lag(df)"]
    nb.cells[0].outputs = [nbformat.v4.new_output("display_data", {"image/png": "iVBOR"})]
    assert cells_missing_images(nb) == []


def test_every_research_notebook_applies_replabs_style() -> None:
    """Issue 21: 02 never applied the style, so its (R, W) colours differed from 00's."""
    import nbformat

    from replab.notebooks import research_notebooks
    from tests.conftest import NOTEBOOKS

    for path in research_notebooks(NOTEBOOKS):
        nb = nbformat.read(path, as_version=4)
        calls = [c for c in nb.cells if c.cell_type == "code"
                 and re.search(r"^(plots\.)?use_style\(\)", c.source, re.M)]
        assert calls, f"{path.name} never calls replab.plots.use_style()"
