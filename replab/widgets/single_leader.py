"""The single-leader explorer: mode, followers, lag, failover timeout, leader crash time.

``compute_single_leader_view`` is the pure computation (one seeded simulation, cached);
``SingleLeaderExplorer`` wires the controls to it and updates the artists of one figure
(replication lag over time, write latency histogram, lost / unavailable writes) in place,
rendering it to PNG bytes in an Image widget.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import ipywidgets as widgets
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from replab.models import SingleLeaderConfig, simulate_single_leader
from replab.models.single_leader import op_latencies
from replab.plots import COLORS, PALETTE, plot_style
from replab.stats import wilson
from replab.widgets._render import (
    FigureImage,
    Updater,
    explorer_box,
    nice_ceiling,
    refresh,
)

__all__ = ["SingleLeaderView", "compute_single_leader_view", "SingleLeaderExplorer"]

MODES = ("async", "semi-sync", "sync")
LAG_SPECS = ("1+exp:0.5", "2+exp:0.2", "10+exp:0.05", "0.9*exp:0.5|0.1*const:200")
SUMMARY_KEYS = ("acked_writes_lost", "write_availability", "failovers", "max_lag_ms",
                "write_p50_ms", "write_p99_ms")
MAX_FOLLOWERS = 5
HIST_BINS = 40


@dataclass(frozen=True)
class SingleLeaderView:
    """What the explorer shows for one setting of the controls.

    Attributes
    ----------
    config : SingleLeaderConfig -- the simulated configuration.
    metrics : dict -- the run's flat metrics (``SingleLeaderResult.metrics``).
    lag : DataFrame -- replication lag samples (``SingleLeaderResult.lag``).
    write_latency_ms : ndarray -- latencies of the acknowledged writes.
    lost : DataFrame -- history rows of acknowledged writes that were lost.
    lost_fraction : float -- acknowledged writes lost over acknowledged writes.
    unavailable_fraction : float -- ``1 - write_availability``.
    failover_at_ms : float -- when a new leader took over after the crash (NaN: none).
    lost_ci, unavailable_ci : (float, float) -- their 95 % Wilson intervals.
    """

    config: SingleLeaderConfig
    metrics: dict[str, Any]
    lag: pd.DataFrame
    write_latency_ms: np.ndarray
    lost: pd.DataFrame
    lost_fraction: float
    unavailable_fraction: float
    failover_at_ms: float = float("nan")
    lost_ci: tuple[float, float] = (0.0, 0.0)
    unavailable_ci: tuple[float, float] = (0.0, 0.0)


@lru_cache(maxsize=64)
def compute_single_leader_view(
    mode: str, followers: int, lag: str, failover_timeout_ms: float,
    leader_crash_at_ms: float | None, *, duration_ms: float = 3000.0,
    write_rate: float = 300.0, seed: int = 0,
) -> SingleLeaderView:
    """Run one seeded single-leader simulation and extract what the dashboard draws.

    Bad parameters raise :class:`replab.errors.ConfigError` (from the config).
    """
    cfg = SingleLeaderConfig(mode=mode, followers=followers, lag=lag,
                             failover_timeout_ms=failover_timeout_ms,
                             leader_crash_at_ms=leader_crash_at_ms, duration_ms=duration_ms,
                             write_rate=write_rate)
    res = simulate_single_leader(cfg, seed=seed)
    lat = op_latencies(res.history)
    writes = lat[(lat.f == "write") & (lat.type == "ok")].latency_ms.to_numpy(dtype=float)
    m = res.metrics
    ev = res.events
    after = ev[(ev.kind == "leader") & (ev.time > (leader_crash_at_ms or 0.0))]
    lo, hi = wilson(int(m["acked_writes_lost"]), max(int(m["writes_ok"]), 1))
    return SingleLeaderView(
        config=cfg, metrics=m, lag=res.lag, write_latency_ms=writes, lost=res.lost,
        lost_fraction=m["acked_writes_lost"] / max(m["writes_ok"], 1),
        unavailable_fraction=1.0 - m["write_availability"],
        failover_at_ms=float(after.time.iloc[0]) if len(after) else float("nan"),
        lost_ci=(float(lo), float(hi)),
        unavailable_ci=(1.0 - m["write_availability_ci_high"],
                        1.0 - m["write_availability_ci_low"]),
    )


def _summary(view: SingleLeaderView) -> str:
    m = view.metrics
    return (f"<b>{view.config.mode}</b>, {view.config.followers} followers: acknowledged "
            f"writes lost {m['acked_writes_lost']} of {m['writes_ok']}; write availability "
            f"{m['write_availability']:.2%}; failovers {m['failovers']}; max lag "
            f"{m['max_lag_ms']:.3g} ms; write p50 {m['write_p50_ms']:.3g} ms, "
            f"p99 {m['write_p99_ms']:.3g} ms")


class SingleLeaderExplorer:
    """Controls -> :func:`compute_single_leader_view` -> one figure redrawn in place.

    ``explorer.widget`` is the box to display; ``explorer.result`` the last
    :class:`SingleLeaderView`; ``explorer.last_update_ms`` how long the last update took.
    The controls are ``mode``, ``followers``, ``lag``, ``failover_timeout_ms`` and
    ``leader_crash_at_ms``.
    """

    def __init__(self, *, mode: str = "async", followers: int = 2, lag: str = "2+exp:0.2",
                 failover_timeout_ms: float = 300.0, leader_crash_at_ms: float | None = None,
                 duration_ms: float = 3000.0, write_rate: float = 300.0, seed: int = 0,
                 dpi: int = 80) -> None:
        self.duration_ms, self.write_rate, self.seed, self.dpi = (
            duration_ms, write_rate, seed, dpi)
        crash = duration_ms / 2 if leader_crash_at_ms is None else leader_crash_at_ms
        style = {"description_width": "80px"}
        slow = {"style": style, "continuous_update": False}
        self.mode = widgets.Dropdown(options=list(MODES), value=mode, description="mode",
                                     style=style)
        self.followers = widgets.IntSlider(followers, min=1, max=MAX_FOLLOWERS,
                                           description="followers", **slow)
        self.lag = widgets.Dropdown(options=list(dict.fromkeys((*LAG_SPECS, lag))), value=lag,
                                    description="lag", style=style)
        self.failover_timeout_ms = widgets.FloatSlider(
            failover_timeout_ms, min=50.0, max=2000.0, step=50.0, description="timeout ms",
            **slow)
        self.leader_crash_at_ms = widgets.FloatSlider(
            crash, min=0.0, max=duration_ms, step=duration_ms / 20,
            description="crash at ms", **slow)
        self.summary, self.status = widgets.HTML(), widgets.HTML()
        self.errors = widgets.Output()
        self.result: SingleLeaderView | None = None
        self.last_update_ms = float("nan")
        self._build_figure()
        self.image = self.view.image
        self._legend_nodes: tuple[int, ...] = ()
        controls = (self.mode, self.followers, self.lag, self.failover_timeout_ms,
                    self.leader_crash_at_ms)
        self._request = Updater(self.update)
        for ctl in controls:
            ctl.observe(self._request, names="value")
        self.widget = explorer_box([widgets.HBox(list(controls[:3])),
                                    widgets.HBox(list(controls[3:])), self.summary,
                                    self.image, self.status, self.errors], self.status)
        self.update()

    def _build_figure(self) -> None:
        # Outside pyplot, so the inline backend never shows a static copy of it.
        with plot_style():
            self.fig = Figure(figsize=(13, 3.4))
            self.ax_lag, self.ax_lat, self.ax_bad = self.fig.subplots(1, 3)
            # One line per possible node (the leader can change, so any node may lag).
            self.lag_lines = [self.ax_lag.plot([], [], lw=1, color=PALETTE[i % len(PALETTE)],
                                               label=f"node {i}")[0]
                              for i in range(MAX_FOLLOWERS + 1)]
            self.crash_marker = self.ax_lag.axvline(0.0, color="black", ls=":", lw=1.2,
                                                    label="leader crash")
            self.failover_marker = self.ax_lag.axvline(0.0, color="black", ls="--", lw=1.2,
                                                       label="failover")
            self.ax_lag.set(xlabel="simulated time (ms)", ylabel="replication lag (ms)")
            self.lat_hist = self.ax_lat.stairs(np.zeros(HIST_BINS),
                                               np.arange(HIST_BINS + 1.0), fill=True,
                                               color=COLORS["write"])
            self.ax_lat.set(xlabel="write latency (ms)", ylabel="acknowledged writes",
                            title="write latency")
            self.bad_bars = self.ax_bad.bar(["acknowledged,\nthen lost", "unavailable"],
                                            [0.0, 0.0], color=[COLORS["lost"], COLORS["none"]])
            self.bad_err = self.ax_bad.vlines([0, 1], [0.0, 0.0], [0.0, 0.0], color="black",
                                              lw=1.2)
            self.ax_bad.set(ylabel="fraction of writes\n(bars: 95 % Wilson interval)",
                            title="lost / unavailable writes")
            self.fig.tight_layout(rect=(0.0, 0.0, 1.0, 0.93))
        self.view = FigureImage(self.fig, self.dpi)
        self.view.animate([*self.lag_lines, self.crash_marker, self.failover_marker,
                           self.lat_hist, *self.bad_bars, self.bad_err])

    def update(self) -> None:
        """Recompute for the current controls and redraw the existing artists."""
        view = refresh(self, lambda: compute_single_leader_view(
                self.mode.value, int(self.followers.value), self.lag.value,
                float(self.failover_timeout_ms.value),
                float(self.leader_crash_at_ms.value), duration_ms=self.duration_ms,
                write_rate=self.write_rate, seed=self.seed))
        if view is None:
            return
        self.summary.value = _summary(view)
        self.status.value = f"updated in {self.last_update_ms:.0f} ms"

    def _redraw(self, view: SingleLeaderView) -> None:
        by_node = dict(tuple(view.lag.groupby("node", sort=True)))
        for node, line in enumerate(self.lag_lines):
            sub = by_node.get(node)
            y = None if sub is None else sub["time_behind_ms"].where(sub["up"].astype(bool))
            # a node that only led or was down has no lag to draw: no line, no legend entry
            line.set_visible(y is not None and bool(y.notna().any()))
            if sub is not None:
                line.set_data(sub["time"], y)
        self.crash_marker.set_xdata([float(self.leader_crash_at_ms.value)])
        self.failover_marker.set_visible(not np.isnan(view.failover_at_ms))
        self.failover_marker.set_xdata([0.0 if np.isnan(view.failover_at_ms)
                                        else view.failover_at_ms])
        self.ax_lag.set_xlim(0.0, self.duration_ms)
        up = view.lag["up"].astype(bool)
        top = float(view.lag.loc[up, "time_behind_ms"].max()) if up.any() else 0.0
        self.ax_lag.set_ylim(0.0, nice_ceiling(max(top, 1.0) * 1.05))
        nodes = tuple(i for i, ln in enumerate(self.lag_lines) if ln.get_visible())
        full = nodes != self._legend_nodes  # the legend (in the background) lists the nodes
        if full:
            self._legend_nodes = nodes
            # above the panel, never over the lines; a gap in a line: down or leading
            self.ax_lag.legend(handles=[ln for ln in self.lag_lines if ln.get_visible()]
                               + [self.crash_marker, self.failover_marker], fontsize=8,
                               loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=4,
                               borderaxespad=0.2)
        lat = view.write_latency_ms
        hi = nice_ceiling(float(lat.max()) if lat.size else 1.0)
        counts, edges = np.histogram(lat, bins=HIST_BINS, range=(0.0, hi))
        self.lat_hist.set_data(counts.astype(float), edges)
        self.ax_lat.set_xlim(0.0, hi)
        self.ax_lat.set_ylim(0.0, nice_ceiling(max(float(counts.max()), 1.0) * 1.1))
        heights = [view.lost_fraction, view.unavailable_fraction]
        for bar, h in zip(self.bad_bars, heights, strict=True):
            bar.set_height(h)
        cis = [view.lost_ci, view.unavailable_ci]
        self.bad_err.set_segments([[(i, lo), (i, hi)] for i, (lo, hi) in enumerate(cis)])
        top = max(max(heights), max(hi for _, hi in cis))
        self.ax_bad.set_ylim(0.0, nice_ceiling(max(top * 1.15, 0.01)))
        self.view.show(full=full)
