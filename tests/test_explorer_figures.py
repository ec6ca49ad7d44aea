"""Every explorer's figure fits its canvas: no label, tick or legend is cut off."""

from __future__ import annotations

import pytest

from tests.figures import clipped


def _quorum():
    from replab.widgets.quorum import QuorumExplorer
    e = QuorumExplorer(prefetch=False)
    return [e.fig, e.fig_heat]


def _single_leader():
    from replab.widgets.single_leader import SingleLeaderExplorer
    return [SingleLeaderExplorer(duration_ms=400.0).fig]


def _leaderless():
    from replab.widgets.leaderless import LeaderlessExplorer
    return [LeaderlessExplorer(duration_ms=300.0).fig]


def _multi_leader():
    from replab.widgets.multi_leader import MultiLeaderExplorer
    return [MultiLeaderExplorer(prefetch=False).figure]


def _replog():
    from replab.widgets.replog import ReplogExplorer
    e = ReplogExplorer(transactions=12, prefetch=False)
    e.update()
    return [e.figure]


@pytest.mark.parametrize("make", [_quorum, _single_leader, _leaderless, _multi_leader, _replog],
                         ids=lambda f: f.__name__.strip("_"))
def test_explorer_figures_fit_their_canvas(make):
    for fig in make():
        assert not clipped(fig)
