"""replab.plots.plot_gtid_positions: fault labels stay inside the axes wherever they fall."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from replab.plots import lint_figure, plot_gtid_positions


@pytest.mark.parametrize("at_ms", [50.0, 1000.0, 1990.0])  # start, middle, at the right edge
def test_fault_labels_are_never_clipped(at_ms):
    positions = pd.DataFrame([{"server": s, "time_ms": t, "seq_no": t // 10 + k}
                              for k, s in enumerate(["db1", "db2", "db3"])
                              for t in range(0, 2001, 100)])
    nemesis = pd.DataFrame([{"time": at_ms, "f": "break-link", "key": "db1->db2"},
                            {"time": min(at_ms + 5.0, 2000.0), "f": "heal-link",
                             "key": "db1->db2"}])
    ax = plot_gtid_positions(positions, nemesis)
    try:
        ax.figure.tight_layout()
        assert lint_figure(ax.figure) == []
        labels = [t.get_text() for t in ax.texts]
        assert labels == ["break-link db1->db2", "heal-link db1->db2"]
    finally:
        plt.close(ax.figure)
