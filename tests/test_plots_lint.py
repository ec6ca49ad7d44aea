"""The figure lint: each rule fires on a figure that breaks it and is silent on its fix."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import matplotlib.pyplot as plt
import nbformat
import numpy as np
import pytest
from matplotlib.figure import Figure
from nbformat.v4 import new_code_cell, new_notebook

from replab.errors import ConfigError
from replab.notebooks import inject_lint, pop_lint_report
from replab.plots import lint_figure
from replab.reproduce import execute_notebook


@pytest.fixture
def ax() -> Iterator[plt.Axes]:
    fig, ax = plt.subplots(figsize=(5, 3.5), layout="constrained")
    ax.set(xlabel="time (ms)", ylabel="P(stale read)")
    yield ax
    plt.close(fig)


def problems(ax: plt.Axes, **kw: bool) -> list[str]:
    return lint_figure(ax.figure, **kw)


def test_a_clean_figure_has_no_problems(ax):
    ax.plot([0, 1, 2], [0.1, 0.5, 0.2], label="reads")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    assert problems(ax, tight=True) == []


def test_legend_over_a_line_a_band_and_bars(ax):
    x = np.linspace(0, 1, 50)
    ax.plot(x, 1 - x, label="stale")
    ax.legend(loc="upper right")
    assert problems(ax) == []  # the line runs from top left to bottom right
    ax.legend(loc="upper left")
    assert problems(ax) == ["axes 1: the legend covers data (Line2D 'stale')"]
    ax.lines[0].remove()
    ax.fill_between(x, 0.9, 1.0, label="band")
    ax.legend(loc="upper right")
    assert len(problems(ax)) == 1 and "Collection 'band')" in problems(ax)[0]
    ax.collections[0].remove()
    ax.bar([0.8, 0.9], [0.2, 0.95], width=0.05, label="bars")
    ax.legend(loc="upper right")
    assert problems(ax) == ["axes 1: the legend covers data (Rectangle)"]


def test_spans_and_reference_lines_are_background_not_data(ax):
    ax.plot([0, 1], [0, 0.2], label="p")
    ax.axvspan(0.0, 1.0, color="0.9", label="outage")
    ax.axhline(0.9, color="k", label="bound")
    ax.legend(loc="upper left")
    assert problems(ax) == []


def test_a_legend_naming_a_line_outside_the_limits(ax):
    ax.plot([1, 2], [1e-3, 1e-2], label="curve")
    ax.axhline(1e-6, label="resolution")
    ax.set_yscale("log")
    ax.set_ylim(1e-5, 1)
    ax.legend(loc="lower right")
    assert problems(ax) == [
        "axes 1: the legend names 'resolution', which lies outside the axes limits"]
    ax.set_ylim(1e-7, 1)
    assert problems(ax) == []


def test_bars_on_a_log_axis(ax):
    ax.bar([0, 1], [10, 1000])
    ax.set_xlabel("setting")
    assert problems(ax) == []
    ax.set_yscale("log")
    assert problems(ax) == ["axes 1: bars on a log y axis"]
    ax.cla()
    ax.barh([0, 1], [10, 1000])
    ax.set(xscale="log", xlabel="bytes (B)", ylabel="kind")
    assert problems(ax) == ["axes 1: bars on a log x axis"]


def test_a_log_axis_dropping_zeros_and_an_unstated_floor(ax):
    ax.plot([0, 1, 2, 3], [0.1, 0.01, 0.0, 0.0])
    ax.set_yscale("log")
    assert problems(ax) == ["axes 1: 2 value(s) <= 0 of Line2D are dropped by the log y "
                            "axis: draw them at a stated floor"]
    ax.lines[0].set_ydata([0.1, 0.01, 1e-6, 1e-6])
    ax.set_ylim(1e-7, 1)
    assert problems(ax) == ["axes 1: Line2D lies flat on its minimum of 1e-06 on the log y "
                            "axis, and no text states that floor"]
    ax.set_title("0 stale reads drawn at the floor 1e-6")
    assert problems(ax) == []


def test_numeric_axes_need_a_label_and_dimensional_ones_a_unit(ax):
    ax.plot([0, 1], [0, 1])
    ax.set(xlabel="", ylabel="latency")
    assert problems(ax) == ["axes 1: the x axis shows numbers but has no label",
                            "axes 1: the y axis label 'latency' names no unit"]
    ax.set(xlabel="t-visibility (ms)", ylabel="write latency p99 (ms)")
    assert problems(ax) == []
    for fine in ("P(read returns the write)", "writes lost", "apply rate (writes/s)",
                 "bytes shipped per write (B)", "throughput [ops/s]", "stale reads (%)"):
        ax.set_ylabel(fine)
        assert problems(ax) == [], fine


def test_category_axes_need_no_label(ax):
    ax.bar(["none", "sticky"], [0.1, 0.2])
    ax.set_xlabel("")
    assert problems(ax) == []


@pytest.mark.parametrize("text", ["after None ms", "p = nan", "NaN writes"])
def test_none_and_nan_in_any_text(ax, text):
    ax.set_title(text)
    assert f"the text {text!r} shows None or nan" in problems(ax)


def test_the_word_none_as_a_mitigation_name_is_fine(ax):
    ax.set_title("mitigation: none")
    assert problems(ax) == []


def test_colliding_texts_and_a_text_over_a_legend(ax):
    ax.plot([0, 1], [0, 0.1], label="reads")
    ax.annotate("crash", (0.5, 0.05))
    ax.annotate("failover", (0.52, 0.05))
    assert problems(ax) == ["the text 'crash' collides with the text 'failover'"]
    ax.texts[1].set_position((0.52, 0.08))
    assert problems(ax) == []
    ax.legend(loc="center")
    assert "the legend of an axes collides with the text 'crash'" in problems(ax)


def test_clipped_past_the_canvas_unless_saved_tight(ax):
    ax.plot([0, 1], [0, 1], label="reads")
    ax.legend(loc="upper left", bbox_to_anchor=(1.3, 1.0))
    assert problems(ax) == ["a legend reaches past the edge of the canvas and is clipped"]
    assert problems(ax, tight=True) == []


def test_a_text_clipped_by_its_axes(ax):
    ax.plot([0, 1], [0, 1])
    ax.text(1.5, 0.5, "late write", clip_on=True)
    assert problems(ax, tight=True) == [
        "axes 1: the text 'late write' reaches outside its axes and is clipped"]


def test_a_figure_outside_pyplot_is_drawn_for_the_check():
    fig = Figure(figsize=(4, 3))
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1])
    assert lint_figure(fig) == ["axes 1: the x axis shows numbers but has no label",
                                "axes 1: the y axis shows numbers but has no label"]


# ------------------------------------------------------ the hook in a notebook's kernel


EXPLORER_DRAWN_ONCE = """\
from replab.widgets._render import FigureImage

fig = Figure(figsize=(4, 3), layout="constrained")
ax = fig.add_subplot()
ax.set(xlabel="time after the write (ms)", ylabel="P(stale read)", xlim=(0, 10), ylim=(0, 1))
line, = ax.plot([0, 10], [0.1, 0.1], label="stale reads")
ax.legend(loc="upper right")
image = FigureImage(fig, dpi=60)
image.animate([line])
image.show()
"""
EXPLORER_MOVED = """\
line.set_ydata([0.92, 0.92])  # the same axes limits: drawn over the cached background
image.show()
print("full draws:", image.full_draws)
"""


def test_every_figure_of_a_notebook_is_linted_explorers_included(tmp_path: Path):
    """pyplot figures shown inline and figures drawn off pyplot (as explorers draw) are
    both linted, after their cell, and named by the cell's position and name."""
    nb = new_notebook(cells=[
        new_code_cell("import matplotlib.pyplot as plt\nfrom matplotlib.figure import Figure"),
        new_code_cell("fig, ax = plt.subplots()\nax.plot([0, 1], [0, 1])\n"
                      "ax.set(xlabel='t (ms)', ylabel='p')", metadata={"replab": {
                          "name": "clean"}}),
        new_code_cell("fig, ax = plt.subplots()\nax.plot([0, 1], [0, 1])\n"
                      "ax.set_title('after None ms')\nax.set(xlabel='t (ms)', ylabel='p')"),
        new_code_cell("off = Figure()\nax = off.add_subplot()\nax.plot([0, 1], [1, 2])\n"
                      "ax.set_xlabel('delay')\n"
                      "from matplotlib.backends.backend_agg import FigureCanvasAgg\n"
                      "FigureCanvasAgg(off).draw()"),
        # an explorer's image: clean when first drawn in full; then, drawn over its cached
        # background (no Figure.draw), its animated line runs under the legend
        new_code_cell(EXPLORER_DRAWN_ONCE, metadata={"replab": {"name": "explorer"}}),
        new_code_cell(EXPLORER_MOVED, metadata={"replab": {"name": "moved"}}),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    path = tmp_path / "01_lint.ipynb"
    nbformat.write(nb, path)
    executed = execute_notebook(path, lint=True)
    report = pop_lint_report(executed)
    assert report.to_dict("records") == [
        {"cell": 3, "name": "cell03", "figure": 1,
         "problem": "the text 'after None ms' shows None or nan"},
        {"cell": 4, "name": "cell04", "figure": 1,
         "problem": "axes 1: the x axis label 'delay' names no unit"},
        {"cell": 4, "name": "cell04", "figure": 1,
         "problem": "axes 1: the y axis shows numbers but has no label"},
        {"cell": 6, "name": "moved", "figure": 1,
         "problem": "axes 1: the legend covers data (Line2D 'stale reads')"},
    ]
    assert "full draws: 1" in executed.cells[-1].outputs[0]["text"]  # the cached path
    assert len(executed.cells) == 7  # the setup cell stays, the lint cells are gone
    with pytest.raises(ConfigError, match="no figure-lint report"):
        pop_lint_report(executed)


def test_inject_lint_leaves_the_original_unchanged():
    nb = new_notebook(cells=[new_code_cell("x = 1")])
    injected = inject_lint(nb)
    assert len(nb.cells) == 1 and len(injected.cells) == 3
