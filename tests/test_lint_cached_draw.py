"""Issue 21: an explorer's image drawn over a cached background is linted too.

``replab.widgets._render.FigureImage`` redraws only its animated artists over a cached
background when the axes limits are unchanged: ``Figure.draw`` is not called, so the lint
hook (:data:`replab.notebooks.LINT_SETUP_SOURCE`) must notice the ``restore_region``.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from replab.notebooks import pop_lint_report
from replab.reproduce import execute_notebook

DRAW_ONCE = """\
from matplotlib.figure import Figure
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
# The same limits: the image is drawn over the cached background, and the line now runs
# under the legend.
MOVE_UNDER_LEGEND = """\
line.set_ydata([0.92, 0.92])
image.show()
print("full draws:", image.full_draws)
"""


def test_a_problem_drawn_over_a_cached_background_is_reported(tmp_path: Path):
    nb = new_notebook(cells=[new_code_cell(DRAW_ONCE, metadata={"replab": {"name": "first"}}),
                             new_code_cell(MOVE_UNDER_LEGEND, metadata={"replab": {
                                 "name": "moved"}})])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    path = tmp_path / "01_cached.ipynb"
    nbformat.write(nb, path)
    executed = execute_notebook(path, lint=True)
    report = pop_lint_report(executed)
    moved = executed.cells[-1]
    assert "full draws: 1" in moved.outputs[0]["text"]  # the cached path was taken
    assert set(report.name) == {"moved"}, report.to_dict("records")  # the first is clean
    assert len(report) == 1 and "legend" in report.problem[0], report.problem.tolist()
