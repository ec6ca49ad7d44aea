"""notebooks/07_replication_logs.ipynb runs headless, small; the explorer works headless."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import nbformat
import pandas as pd
import pytest

from tests.conftest import NotebookRuns

matplotlib.use("Agg")

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "07_replication_logs.ipynb"


def test_notebook_is_committed_with_outputs_cleared_and_parameters_first():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", [])
    assert all(not c.outputs and c.execution_count is None for c in code)


@pytest.mark.timeout(600)
def test_notebook_runs_small(notebook_runs: NotebookRuns):
    nb = notebook_runs(NOTEBOOK.name)  # TRANSACTIONS 30, FOLLOWERS 1, APPLY_RUNS 2
    text = "\n".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    assert "apply errors; follower1 cannot apply the physical log" in text
    assert "dataframe follower divergent rows: 0" in text
    assert "'snapshot_divergent_rows': 0" in text
    assert "trigger-based vs logical" in text


def _marks(ax):
    """The values drawn per kind: bar heights, or the dots of a log axis (no bars there)."""
    if ax.get_yscale() == "log":
        assert not ax.patches  # no bars on a log axis
        return [float(y) for y in ax.collections[-1].get_offsets()[:, 1]]
    return [p.get_height() for p in ax.patches]


def test_explorer_headless():
    from replab.widgets.replog import ReplogExplorer

    e = ReplogExplorer(transactions=15, seed=2)
    e.update()
    assert e.result is not None and e.result.metrics["kind"] == "statement"
    e.kind.value = "logical"  # observing the control recomputes
    assert e.result.metrics["kind"] == "logical"
    assert e.result.metrics["divergent_rows"] == 0
    comparison = e.view.comparison
    assert list(comparison["kind"]) == ["statement", "statement-fixed", "physical",
                                        "logical", "trigger"]
    heights = _marks(e.axes["bytes_per_write"])
    assert heights == pytest.approx(list(comparison["bytes_per_write"]))
    assert "divergent rows" in e.summary.value
    e.followers.value = 99  # clipped by the slider, never an exception
    assert e.followers.value == 5


def test_explorer_shows_a_setting_drawn_before_without_drawing_it_again():
    from replab.widgets.replog import ReplogExplorer

    e = ReplogExplorer(transactions=12, seed=4)
    e.update()
    first, first_summary = e.image.value, e.summary.value
    e.kind.value = "logical"
    assert e.image.value != first and "<b>logical</b>" in e.summary.value
    draws = e.figure_view.full_draws
    e.kind.value = "statement"  # back: the picture of this setting, not of the last one
    assert e.figure_view.full_draws == draws
    assert e.image.value == first and e.summary.value == first_summary
    before = e.view.comparison
    e.followers.value = 3  # a new comparison after a remembered picture: replotted
    assert e.view.comparison is not before and e.image.value != first
    heights = _marks(e.axes["bytes_per_write"])
    assert heights == pytest.approx(list(e.view.comparison["bytes_per_write"]))
    assert e.result.metrics["followers"] == 4  # the slider's 3 and one from a snapshot
    expected = "3 followers + 1 built from a snapshot mid-run"
    assert expected in e.figure.texts[-1].get_text() and expected in e.summary.value


def test_explorer_comparison_is_compare_kinds_and_bars_redraw_without_a_full_draw():
    from replab.replog import ReplogConfig, compare_kinds
    from replab.replog.report import TIMING_METRICS
    from replab.widgets.replog import ReplogExplorer, _comparison

    e = ReplogExplorer(transactions=12, seed=5)
    e.update()
    direct = compare_kinds(ReplogConfig(workload="nondeterministic", followers=2,
                                        transactions=12), seed=5)
    pd.testing.assert_frame_equal(_comparison("nondeterministic", 2, 12, 5)
                                  .drop(columns=list(TIMING_METRICS)),
                                  direct.drop(columns=list(TIMING_METRICS)))
    draws = e.figure_view.full_draws
    limits = [ax.get_ylim() for ax in e.axes.values()]
    e.followers.value = 3  # new bars; limits rounded to 1-2-5 values usually stay put
    same = limits == [ax.get_ylim() for ax in e.axes.values()]
    assert e.figure_view.full_draws == draws + (0 if same else 1)
    # No stale bars: exactly one bar per kind per panel, with the new heights.
    for metric, ax in e.axes.items():
        assert _marks(ax) == pytest.approx(list(e.view.comparison[metric]))
    assert all(max(_marks(ax)) <= ax.get_ylim()[1] for ax in e.axes.values())
