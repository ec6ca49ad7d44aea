"""The quorum explorer: n, r, w, a latency profile and t, against staleness and availability.

``compute_quorum_view`` is the pure computation; ``QuorumExplorer`` only wires widgets to it
and updates existing matplotlib artists, so a slider move does not rebuild the figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ipywidgets as widgets
import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from replab.latency import profile_names
from replab.plots import COLORS, format_probability, plot_quorum_heatmap, plot_style
from replab.quorum import availability, quorum_grid, simulate_wars
from replab.widgets._render import (
    FigureImage,
    Prefetcher,
    Updater,
    bound_quorums,
    explorer_box,
    nice_ceiling,
    refresh,
)

__all__ = ["QuorumView", "compute_quorum_view", "QuorumExplorer"]

P_FAIL_AXIS = np.linspace(0.0, 0.5, 51)


@dataclass(frozen=True)
class QuorumView:
    """Everything the explorer shows for one setting of the controls."""

    curve: pd.DataFrame
    t_visibility: pd.DataFrame
    latency: pd.DataFrame
    availability: pd.DataFrame
    grid: pd.DataFrame


#: Lower limits of the t-visibility axis; the smallest one that fits the band is used.
CURVE_FLOORS = (0.99, 0.98, 0.95, 0.9, 0.8, 0.5, 0.0)


def _stale(n: int, latency: str, t: float, trials: int, seed: int) -> pd.DataFrame:
    return quorum_grid(n, latency, t, trials=trials, seed=seed)


def _simulate(n: int, r: int, w: int, latency: str, trials: int, seed: int) -> Any:
    return simulate_wars(n, r, w, latency, trials=trials, seed=seed)


# Staleness over (r, w) depends on neither r, w nor the failure rate; one batch of WARS
# trials serves every t and percentile. Both are kept per argument tuple, and the
# neighbours of the current setting are computed in the background (QuorumExplorer).
_STALE_GRIDS = Prefetcher(_stale, disk="quorum-stale")
_WARS = Prefetcher(_simulate, disk="quorum-wars")


def _grid(n: int, latency: str, t: float, p_fail: float, trials: int, seed: int) -> pd.DataFrame:
    """:func:`quorum_grid`, with the cached staleness and exact availability for p_fail."""
    grid = _STALE_GRIDS.get(n, latency, t, trials, seed).copy()
    avail = pd.concat([availability(n, r, w, p_fail) for r, w in zip(grid.r, grid.w,
                                                                       strict=True)])
    for col in ("p_read_available", "p_write_available", "p_both_available"):
        grid[col] = avail[col].to_numpy()
    return grid


def compute_quorum_view(
    n: int, r: int, w: int, latency: str, *, t_max: float = 20.0, t_heatmap: float = 1.0,
    p_fail: float = 0.05, trials: int = 50_000, grid_trials: int = 10_000, seed: int = 0,
) -> QuorumView:
    """The pure computation behind the explorer (cached per (n, r, w, profile))."""
    res = _WARS.get(n, r, w, latency, trials, seed)
    ts = np.linspace(0.0, t_max, 201)
    return QuorumView(
        curve=res.staleness(ts),
        t_visibility=res.t_visibility([0.99, 0.999]),
        latency=res.latency_percentiles([50, 99, 99.9]),
        availability=availability(n, r, w, P_FAIL_AXIS),
        grid=_grid(n, latency, float(t_heatmap), float(p_fail), grid_trials, seed),
    )


def _summary(view: QuorumView) -> str:
    lines = ["<b>time to reach P(consistent)</b>"]
    for row in view.t_visibility.itertuples():
        lines.append(f"{row.p_target:.1%}: {row.t:.3g} ms [{row.ci_low:.3g}, {row.ci_high:.3g}]")
    lines.append("<b>latency (ms)</b>")
    for op, sub in view.latency.groupby("operation", sort=False):
        cells = ", ".join(f"p{q:g} {v:.3g}" for q, v in zip(sub.percentile, sub.latency_ms,
                                                             strict=True))
        lines.append(f"{op}: {cells}")
    return "<br>".join(lines)


class QuorumExplorer:
    """Sliders for n, r, w, profile, t range and failure rate; plots redrawn in place.

    ``explorer.widget`` is the box to display; ``explorer.result`` the last
    :class:`QuorumView`; ``explorer.last_update_ms`` how long the last redraw took.
    """

    def __init__(self, *, n: int = 3, r: int = 1, w: int = 1, profile: str = "LNKD-SSD",
                 t_max: float = 20.0, p_fail: float = 0.05, trials: int = 50_000,
                 grid_trials: int = 10_000, seed: int = 0, dpi: int = 80,
                 prefetch: bool = True) -> None:
        self.trials, self.grid_trials, self.seed, self.dpi = trials, grid_trials, seed, dpi
        self.prefetch = prefetch
        style = {"description_width": "110px"}
        self.n = widgets.IntSlider(n, min=1, max=9, description="n (replicas)", style=style)
        self.r = widgets.IntSlider(r, min=1, max=n, description="r", style=style)
        self.w = widgets.IntSlider(w, min=1, max=n, description="w", style=style)
        self.profile = widgets.Dropdown(options=profile_names(), value=profile.upper(),
                                        description="latency profile", style=style)
        self.t_max = widgets.FloatLogSlider(t_max, base=10, min=0, max=4,
                                            description="t max (ms)", style=style,
                                            continuous_update=False)
        self.p_fail = widgets.FloatSlider(p_fail, min=0.0, max=0.5, step=0.01,
                                          description="P(node down)", style=style)
        self.status = widgets.HTML()
        self.summary = widgets.HTML()
        self.errors = widgets.Output()
        self.result: QuorumView | None = None
        self.last_update_ms = float("nan")
        self._quiet = False
        self._build_figure()
        self.image, self.heat_image = self.view.image, self.heat_view.image
        self._request = Updater(self.update)
        self.n.observe(lambda change: bound_quorums(self, change), names="value")
        for ctl in (self.r, self.w, self.profile, self.t_max, self.p_fail):
            ctl.observe(self._request, names="value")
        left = widgets.VBox([self.n, self.r, self.w])
        right = widgets.VBox([self.profile, self.t_max, self.p_fail])
        controls = widgets.HBox([left, right, self.summary])
        self.widget = explorer_box([controls, self.status, self.image, self.heat_image,
                                    self.errors], self.status)
        self.update()

    def _build_figure(self) -> None:
        # Figures outside pyplot: the inline backend would otherwise show them again,
        # as static copies, under the next cell that plots anything.
        with plot_style():
            self.fig, self.fig_heat = Figure(figsize=(13, 3.6)), Figure(figsize=(10, 3.8))
            self.ax_curve, self.ax_lat, self.ax_av = self.fig.subplots(1, 3)
            self.ax_heat_stale, self.ax_heat_av = self.fig_heat.subplots(1, 2)
            (self.curve_line,) = self.ax_curve.plot([], [], color=COLORS["read"])
            self.curve_band: Any = None
            self.ax_curve.set(xlabel="t: time after the write commits (ms)",
                              ylabel="P(consistent read)", title="t-visibility (95 % CI band)")
            self.lat_bars = self.ax_lat.bar(np.arange(6), np.zeros(6),
                                            color=[COLORS["read"]] * 3 + [COLORS["write"]] * 3)
            self.ax_lat.set_xticks(np.arange(6), ["read\np50", "read\np99", "read\np99.9",
                                                  "write\np50", "write\np99", "write\np99.9"])
            self.lat_whiskers = LineCollection([], colors="black", linewidths=1.2)
            self.ax_lat.add_collection(self.lat_whiskers)
            self.ax_lat.set(ylabel="latency (ms)",
                            title="read / write latency (95 % CI whiskers)")
            self.av_lines = [self.ax_av.plot(P_FAIL_AXIS, np.zeros_like(P_FAIL_AXIS), label=k,
                                             color=COLORS[k], ls=ls)[0]
                             for k, ls in (("read", "-"), ("write", "--"))]
            self.av_marker = self.ax_av.axvline(0.0, color="grey", ls=":")
            self.ax_av.set(xlabel="P(node down), independent failures",
                           ylabel="P(quorum available)", title="availability",
                           ylim=(-0.02, 1.02), xlim=(0.0, 0.5))
            self.ax_av.legend(loc="lower left")
            # Said in words when it applies: a band too thin to see, two lines on one.
            self.ci_note = self.ax_curve.text(0.98, 0.04, "", ha="right", fontsize=8,
                                              transform=self.ax_curve.transAxes)
            self.av_note = self.ax_av.text(0.03, 0.2, "", ha="left", va="bottom", fontsize=8,
                                           transform=self.ax_av.transAxes)  # over the legend
            self.fig.tight_layout()
        self.view = FigureImage(self.fig, self.dpi)
        self.view.animate([self.curve_line, *self.lat_bars, self.lat_whiskers, *self.av_lines,
                           self.av_marker,
                           self.ci_note, self.av_note])
        self.heat_view = FigureImage(self.fig_heat, self.dpi)
        self._heat_key: tuple[Any, ...] | None = None

    def update(self) -> None:
        """Recompute for the current controls and redraw the existing artists."""
        if self._quiet:
            return
        view = refresh(self, lambda: compute_quorum_view(
                self.n.value, self.r.value, self.w.value, self.profile.value,
                t_max=self.t_max.value, p_fail=self.p_fail.value, trials=self.trials,
                grid_trials=self.grid_trials, seed=self.seed,
            ))
        if view is None:
            return
        tv = view.t_visibility.iloc[-1]  # the 99.9 % target
        self.status.value = (
            f"n={self.n.value} r={self.r.value} w={self.w.value} ({self.profile.value}): "
            f"P(consistent at t=0) = {view.curve.p_consistent.iloc[0]:.4f}; "
            f"99.9 % consistent after {tv.t:.3g} ms [{tv.ci_low:.3g}, {tv.ci_high:.3g}]; "
            f"{self.trials:,} trials; updated in {self.last_update_ms:.0f} ms"
        )
        if self.prefetch:
            self._warm()

    def _warm(self) -> None:
        """Compute in the background what one more step on a control would need."""
        n, r, w, profile = self.n.value, self.r.value, self.w.value, self.profile.value
        runs = [(n, r, w, p, self.trials, self.seed) for p in self.profile.options
                if p != profile]
        runs += [(n, r2, w, profile, self.trials, self.seed) for r2 in (r - 1, r + 1)
                 if 1 <= r2 <= n]
        runs += [(n, r, w2, profile, self.trials, self.seed) for w2 in (w - 1, w + 1)
                 if 1 <= w2 <= n]
        grids = [(n2, p, 1.0, self.grid_trials, self.seed)
                 for n2, p in [(n, p) for p in self.profile.options]
                 + [(n2, profile) for n2 in (n - 1, n + 1) if 1 <= n2 <= self.n.max]]
        _WARS.warm(runs)
        _STALE_GRIDS.warm(grids)

    def _redraw(self, view: QuorumView) -> None:
        c = view.curve
        self.curve_line.set_data(c.t, c.p_consistent)
        if self.curve_band is not None:
            self.curve_band.remove()
            self.view.forget(self.curve_band)
        self.curve_band = self.ax_curve.fill_between(c.t, c.ci_low, c.ci_high, alpha=0.25,
                                                     color=COLORS["read"], linewidth=0)
        self.view.animate([self.curve_band])
        self.ax_curve.set_xlim(0, float(c.t.iloc[-1]))
        low = next(f for f in CURVE_FLOORS if f <= float(c.ci_low.min()))
        self.ax_curve.set_ylim(low - 0.01 * (1 - low), 1.0 + 0.02 * (1 - low))
        thin = float((c.ci_high - c.ci_low).max()) < 0.01 * (1 - low)
        self.ci_note.set_text("95 % CI narrower than the line" if thin else "")
        heights = list(view.latency.latency_ms)
        for bar, h in zip(self.lat_bars, heights, strict=True):
            bar.set_height(h)
        lows, highs = (view.latency[c].to_numpy(dtype=float) for c in ("ci_low", "ci_high"))
        self.lat_whiskers.set_segments([[(x, lo), (x, hi)] for x, lo, hi
                                        in zip(range(len(heights)), lows, highs, strict=True)])
        tallest = max([*heights, *highs[np.isfinite(highs)]])
        self.ax_lat.set_ylim(0, nice_ceiling(tallest * 1.05))
        for line, col in zip(self.av_lines, ["p_read_available", "p_write_available"],
                             strict=True):
            line.set_ydata(view.availability[col])
        self.av_marker.set_xdata([self.p_fail.value])
        self.av_note.set_text("r = w: read and write lines coincide"
                              if self.r.value == self.w.value else "")
        self.summary.value = _summary(view)
        self.view.show()
        self._redraw_heatmaps(view.grid)

    def _redraw_heatmaps(self, grid: pd.DataFrame) -> None:
        key = (self.n.value, self.profile.value)
        if key != self._heat_key:  # a new shape or new staleness: draw from scratch
            self._heat_key = key
            self._draw_heatmaps(grid)
            return
        # Only the failure rate moved: new availability numbers on the same axes.
        table = grid.pivot(index="r", columns="w", values="p_both_available").to_numpy()
        image = self.ax_heat_av.images[0]
        image.set_data(table)
        for text, value in zip(self._heat_texts, table.ravel(), strict=True):
            text.set_text(format_probability(value))
            text.set_color(_ink(image, value))
        self.ax_heat_av.set_title(self._heat_title())
        self.heat_view.show()

    def _heat_title(self) -> str:
        return f"P(read and write quorums up), P(node down) = {self.p_fail.value:g}"

    def _draw_heatmaps(self, grid: pd.DataFrame) -> None:
        for ax in (self.ax_heat_stale, self.ax_heat_av):
            for im in ax.images:
                if im.colorbar is not None:
                    im.colorbar.remove()
            ax.clear()
        plot_quorum_heatmap(grid, "p_stale", self.ax_heat_stale, cmap="magma_r",
                            vmax=max(float(grid.p_stale.max()), 1e-3))
        self.ax_heat_stale.set_title("P(stale read) 1 ms after the write commits")
        plot_quorum_heatmap(grid, "p_both_available", self.ax_heat_av, cmap="viridis")
        self.ax_heat_av.set_title(self._heat_title())
        with plot_style():
            self.fig_heat.tight_layout()
        self._heat_texts = list(self.ax_heat_av.texts)
        self.heat_view = FigureImage(self.fig_heat, self.dpi, image=self.heat_view.image)
        self.heat_view.animate([self.ax_heat_av.images[0], *self._heat_texts,
                                self.ax_heat_av.title])
        self.heat_view.show(full=True)


def _ink(image: Any, value: float) -> str:
    """Black or white text, whichever reads better on the cell's colour."""
    red, green, blue, _ = image.cmap(image.norm(value))
    return "white" if 0.299 * red + 0.587 * green + 0.114 * blue < 0.5 else "black"
