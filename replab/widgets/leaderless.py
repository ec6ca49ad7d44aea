"""The leaderless explorer: n, r, w, failures, clock skew and the repair mechanisms.

``compute_leaderless_view`` is the pure computation (one cached simulation);
``LeaderlessExplorer`` wires the controls to it and updates the bars of one figure in
place, rendering it into an Image widget.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import ipywidgets as widgets
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from replab.models import LeaderlessConfig, simulate_leaderless
from replab.plots import COLORS, plot_style
from replab.widgets._render import (
    FigureImage,
    Updater,
    bound_quorums,
    explorer_box,
    refresh,
)

__all__ = ["BARS", "BAR_LABELS", "LeaderlessView", "compute_leaderless_view", "LeaderlessExplorer"]

BARS = ("write_availability", "read_availability", "stale_read_rate", "lost_writes_fraction")
#: What each bar says, in words, and the colour of its concept.
BAR_LABELS = ("writes available", "reads available", "stale reads", "acknowledged writes lost")
_COLORS = (COLORS["available"], COLORS["available"], COLORS["stale"], COLORS["lost"])
ANTI_ENTROPY_INTERVAL_MS = 100.0
SESSIONS = 8


@dataclass(frozen=True)
class LeaderlessView:
    """What the explorer shows for one setting of the controls.

    ``bars`` has one row a proportion in :data:`BARS` with columns ``metric``, ``value``,
    ``ci_low`` and ``ci_high`` (Wilson 95 %, equal to ``value`` when the run reports none);
    the counts are the repair work done; ``metrics`` is the run's full flat metric dict.
    """

    n: int
    r: int
    w: int
    bars: pd.DataFrame
    hinted_handoffs: int
    read_repairs: int
    anti_entropy_keys: int
    metrics: dict[str, Any]


def _bars(m: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame({
        "metric": list(BARS),
        "value": [float(m[b]) for b in BARS],
        "ci_low": [float(m.get(f"{b}_ci_low", m[b])) for b in BARS],
        "ci_high": [float(m.get(f"{b}_ci_high", m[b])) for b in BARS],
    })


@lru_cache(maxsize=64)
def compute_leaderless_view(n: int, r: int, w: int, p_fail: float, clock_skew_ms: float,
                            sloppy: bool, read_repair: bool, anti_entropy: bool, *,
                            duration_ms: float = 2000.0, seed: int = 1) -> LeaderlessView:
    """Simulate one leaderless run of ``SESSIONS`` clients for ``duration_ms`` ms.

    ``anti_entropy`` turns on Merkle-tree anti-entropy every
    ``ANTI_ENTROPY_INTERVAL_MS`` ms. Bad values raise :class:`~replab.errors.ConfigError`
    (from :class:`~replab.models.LeaderlessConfig`). Same arguments -> same view (cached).
    """
    cfg = LeaderlessConfig(n=n, r=r, w=w, p_fail=p_fail, sessions=SESSIONS,
                           clock_skew_ms=clock_skew_ms, sloppy=sloppy, read_repair=read_repair,
                           anti_entropy_interval_ms=ANTI_ENTROPY_INTERVAL_MS if anti_entropy
                           else None, duration_ms=duration_ms)
    m = simulate_leaderless(cfg, seed=seed).metrics
    return LeaderlessView(n=n, r=r, w=w, bars=_bars(m),
                          hinted_handoffs=int(m["hinted_handoffs"]),
                          read_repairs=int(m["read_repairs"]),
                          anti_entropy_keys=int(m["anti_entropy_keys"]), metrics=dict(m))


def _title(view: LeaderlessView) -> str:
    return (f"n={view.n} r={view.r} w={view.w}: {view.hinted_handoffs} hints handed off, "
            f"{view.read_repairs} read repairs, {view.anti_entropy_keys} keys by anti-entropy")


class LeaderlessExplorer:
    """Controls -> :func:`compute_leaderless_view` -> bars with 95 % intervals, in place.

    ``explorer.widget`` is the box to display; ``explorer.result`` the last
    :class:`LeaderlessView`; ``explorer.last_update_ms`` how long the last update took.
    """

    def __init__(self, *, n: int = 3, r: int = 2, w: int = 2, p_fail: float = 0.1,
                 clock_skew_ms: float = 0.0, sloppy: bool = False, read_repair: bool = False,
                 anti_entropy: bool = False, max_n: int = 5, duration_ms: float = 2000.0,
                 seed: int = 1, dpi: int = 80) -> None:
        self.duration_ms, self.seed, self.dpi = duration_ms, seed, dpi
        slow = {"continuous_update": False}
        self.n = widgets.IntSlider(n, min=1, max=max_n, description="n", **slow)
        self.r = widgets.IntSlider(min(r, n), min=1, max=n, description="r", **slow)
        self.w = widgets.IntSlider(min(w, n), min=1, max=n, description="w", **slow)
        self.p_fail = widgets.FloatSlider(p_fail, min=0.0, max=0.5, step=0.05,
                                          description="failure rate", **slow)
        self.clock_skew_ms = widgets.FloatSlider(clock_skew_ms, min=0.0, max=200.0, step=10.0,
                                                 description="skew (ms)", **slow)
        self.sloppy = widgets.Checkbox(sloppy, description="sloppy quorums")
        self.read_repair = widgets.Checkbox(read_repair, description="read repair")
        self.anti_entropy = widgets.Checkbox(anti_entropy, description="anti-entropy")
        self.status = widgets.HTML()
        self.errors = widgets.Output()
        self.result: LeaderlessView | None = None
        self.last_update_ms = float("nan")
        self._quiet = False
        self._build_figure()
        self.image = self.view.image
        self._request = Updater(self.update)
        self.n.observe(lambda change: bound_quorums(self, change), names="value")
        for ctl in (self.r, self.w, self.p_fail, self.clock_skew_ms, self.sloppy,
                    self.read_repair, self.anti_entropy):
            ctl.observe(self._request, names="value")
        rows = [widgets.HBox([self.n, self.r, self.w, self.p_fail]),
                widgets.HBox([self.clock_skew_ms, self.sloppy, self.read_repair,
                              self.anti_entropy])]
        self.widget = explorer_box([*rows, self.image, self.status, self.errors], self.status)
        self.update()

    def _build_figure(self) -> None:
        # Outside pyplot: the inline backend would otherwise show it again under a later cell.
        with plot_style():
            self.fig = Figure(figsize=(8, 2.8))
            self.ax = self.fig.subplots()
            y = np.arange(len(BARS))
            self.bars = self.ax.barh(y, np.zeros(len(BARS)), color=list(_COLORS))
            self.ci_lines = self.ax.hlines(y, np.zeros(len(BARS)), np.zeros(len(BARS)),
                                           color="black", lw=1.5, label="95 % CI")
            self.ax.set_yticks(y, list(BAR_LABELS))
            self.ax.invert_yaxis()
            self.ax.set_xlim(0, 1)
            self.ax.set_xlabel("fraction of operations (black: 95 % CI)")
            self.title = self.ax.set_title("two lines\nof settings", fontsize=9)
            self.fig.tight_layout()  # with room for the two-line title set on every update
        self.view = FigureImage(self.fig, self.dpi)
        self.view.animate([*self.bars, self.ci_lines, self.title])

    def update(self) -> None:
        """Recompute for the current controls and redraw the existing artists."""
        if self._quiet:
            return
        view = refresh(self, lambda: compute_leaderless_view(
                int(self.n.value), int(self.r.value), int(self.w.value),
                round(float(self.p_fail.value), 6),
                round(float(self.clock_skew_ms.value), 6), bool(self.sloppy.value),
                bool(self.read_repair.value), bool(self.anti_entropy.value),
                duration_ms=self.duration_ms, seed=self.seed))
        if view is None:
            return
        self.status.value = (f"{SESSIONS} client sessions, {self.duration_ms:g} ms "
                             f"simulated; updated in {self.last_update_ms:.0f} ms")

    def _redraw(self, view: LeaderlessView) -> None:
        b = view.bars
        for bar, v in zip(self.bars, b.value, strict=True):
            bar.set_width(v)
        self.ci_lines.set_segments([[(lo, y), (hi, y)] for y, (lo, hi) in
                                    enumerate(zip(b.ci_low, b.ci_high, strict=True))])
        on = [name for name, ctl in (("sloppy quorums", self.sloppy), ("read repair",
              self.read_repair), ("anti-entropy", self.anti_entropy)) if ctl.value]
        self.title.set_text(f"{_title(view)}\nP(node down) {self.p_fail.value:g}, clock skew "
                            f"up to {self.clock_skew_ms.value:g} ms; "
                            f"{', '.join(on) or 'no repair mechanism'}")
        self.view.show()
