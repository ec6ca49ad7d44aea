"""The replication-lag explorer: an anomaly, a mitigation, lag, followers, read fraction.

``compute_lag_view`` is the pure computation (cached); ``LagAnomalyExplorer`` wires the
controls to it and redraws one figure (anomaly rate, leader share, read latency against
lag) into an Image widget.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import ipywidgets as widgets
import pandas as pd
from matplotlib.figure import Figure

from replab.models import (
    ANOMALY_MITIGATIONS,
    LagAnomalyConfig,
    PartitionedConfig,
    anomaly_sweep,
    simulate_lag_anomalies,
    simulate_partitioned,
)
from replab.models.anomalies.sweeps import default_base
from replab.plots import plot_anomaly_rates, plot_mitigation_costs, plot_style
from replab.widgets._prefetch import nearby_values
from replab.widgets._render import (
    FigureImage,
    Pictures,
    Prefetcher,
    Updater,
    explorer_box,
    nice_ceiling,
    refresh,
)

__all__ = ["LagView", "compute_lag_view", "LagAnomalyExplorer"]


@dataclass(frozen=True)
class LagView:
    """What the explorer shows: the sweep (``none`` and the mitigation against lag) and
    the metrics of one run at the chosen lag with the mitigation."""

    anomaly: str
    mitigation: str
    sweep: pd.DataFrame
    run: dict[str, Any]


def _base(anomaly: str, followers: int, read_fraction: float,
          duration_ms: float) -> LagAnomalyConfig | PartitionedConfig:
    base = default_base(anomaly)
    if isinstance(base, LagAnomalyConfig):  # the partitioned store has no read fraction
        base = dataclasses.replace(base, read_fraction=read_fraction)
    return dataclasses.replace(base, followers=followers, duration_ms=duration_ms)


def _series(anomaly: str, mitigation: str, followers: int, read_fraction: float,
            lags: tuple[float, ...], duration_ms: float, seed: int) -> pd.DataFrame:
    """One mitigation over ``lags``; every mitigation gets the same seeds per lag (common
    random numbers), so ``none`` and a mitigation differ by the mitigation alone."""
    base = _base(anomaly, followers, read_fraction, duration_ms)
    return anomaly_sweep(anomaly, [mitigation], list(lags), seed=seed, base=base)


# A series does not depend on the chosen lag (moving the lag slider reuses it), and the
# ``none`` series is shared by every mitigation; series one control step away are computed
# in the background while the user looks.
_SERIES = Prefetcher(_series, disk="lag-series")


@lru_cache(maxsize=64)
def _sweep(anomaly: str, mitigation: str, followers: int, read_fraction: float,
           lags: tuple[float, ...], duration_ms: float, seed: int) -> pd.DataFrame:
    """``none`` and ``mitigation`` over ``lags`` (this process and the background each
    computing one series when neither is ready)."""
    rest = (followers, read_fraction, lags, duration_ms, seed)
    chosen = list(dict.fromkeys([mitigation, "none"]))
    parts = _SERIES.map([(anomaly, m, *rest) for m in chosen])
    return pd.concat(parts[::-1], ignore_index=True)  # "none" first


def _run(anomaly: str, mitigation: str, lag_ms: float, followers: int, read_fraction: float,
         duration_ms: float, seed: int) -> dict[str, Any]:
    base = _base(anomaly, followers, read_fraction, duration_ms)
    one = dataclasses.replace(base, mitigation=mitigation, lag_ms=lag_ms)
    run = simulate_partitioned(one, seed=seed) if isinstance(one, PartitionedConfig) \
        else simulate_lag_anomalies(one, seed=seed)
    return dict(run.metrics)


# The run at the chosen lag (its metrics) and the pictures of settings shown before are
# kept too: an explorer opened again redraws nothing it has drawn.
_RUNS = Prefetcher(_run, disk="lag-run")
_PICTURES = Pictures("lag")


@lru_cache(maxsize=64)
def compute_lag_view(anomaly: str, mitigation: str, lag_ms: float, followers: int = 2,
                     read_fraction: float = 0.8, *, lags: tuple[float, ...] = (0.0, 25.0,
                     50.0), duration_ms: float = 800.0, seed: int = 0) -> LagView:
    """Sweep ``none`` and ``mitigation`` over ``lags``; run ``mitigation`` at ``lag_ms``."""
    df = _sweep(anomaly, mitigation, followers, read_fraction, tuple(lags), duration_ms, seed)
    run = _RUNS.get(anomaly, mitigation, float(lag_ms), followers, read_fraction, duration_ms,
                    seed)
    return LagView(anomaly=anomaly, mitigation=mitigation, sweep=df, run=run)


def _summary(view: LagView) -> str:
    m, stem = view.run, view.anomaly.replace("-", "_")
    return (f"<b>{view.mitigation}</b>: {view.anomaly} {m[f'{stem}_count']} of "
            f"{m[f'{stem}_examined']} reads = {m[f'{stem}_rate']:.2%} "
            f"[{m[f'{stem}_ci_low']:.2%}, {m[f'{stem}_ci_high']:.2%}]; reads on the leader "
            f"{m['leader_read_share']:.1%}; read p50 {m['read_p50_ms']:.3g} ms, "
            f"p99 {m['read_p99_ms']:.3g} ms; waited {m.get('reads_waited', 0)}, "
            f"redirected {m.get('reads_redirected', 0)}, failed {m['reads_failed']}")


class LagAnomalyExplorer:
    """Controls -> :func:`compute_lag_view` -> one redrawn figure.

    ``explorer.widget`` is the box to display; ``explorer.result`` the last
    :class:`LagView`; ``explorer.last_update_ms`` how long the last update took.
    """

    def __init__(self, *, anomaly: str = "read-your-writes", mitigation: str = "position-wait",
                 lag_ms: float = 25.0, followers: int = 2, read_fraction: float = 0.8,
                 lags: tuple[float, ...] = (0.0, 25.0, 50.0), duration_ms: float = 800.0,
                 seed: int = 0, dpi: int = 80, prefetch: bool = True) -> None:
        self.lags, self.duration_ms, self.seed, self.dpi = tuple(lags), duration_ms, seed, dpi
        self.prefetch = prefetch
        style = {"description_width": "90px"}
        slow = {"style": style, "continuous_update": False}
        self.anomaly = widgets.Dropdown(options=list(ANOMALY_MITIGATIONS), value=anomaly,
                                        description="anomaly", style=style)
        self.mitigation = widgets.Dropdown(options=list(ANOMALY_MITIGATIONS[anomaly]),
                                           value=mitigation, description="mitigation",
                                           style=style)
        self.lag = widgets.FloatSlider(lag_ms, min=0.0, max=max(self.lags + (lag_ms,)),
                                       step=1.0, description="lag (ms)", **slow)
        self.followers = widgets.IntSlider(followers, min=1, max=6, description="followers",
                                           **slow)
        self.read_fraction = widgets.FloatSlider(read_fraction, min=0.1, max=0.95, step=0.05,
                                                 description="read fraction", **slow)
        self.summary, self.status = widgets.HTML(), widgets.HTML()
        self.errors = widgets.Output()
        self.result: LagView | None = None
        self.last_update_ms = float("nan")
        self._quiet = False
        self._drawn: pd.DataFrame | None = None  # the sweep the figure shows
        self._data: list[Any] = []  # its lines, bands and legends (animated)
        self._static: tuple[str, str] | None = None  # what the background's texts show
        with plot_style():
            self.fig = Figure(figsize=(14, 3.6))  # outside pyplot: never shown twice
            self.axes = self.fig.subplots(1, 3)
            self.lag_markers = [ax.axvline(lag_ms, color="grey", ls=":", lw=1)
                                for ax in self.axes]
        self.view = FigureImage(self.fig, dpi)
        self.view.animate(self.lag_markers)
        self.image = self.view.image
        self._request = Updater(self.update)
        self.anomaly.observe(self._on_anomaly, names="value")
        self._direction: dict[str, int] = {}  # slider -> the way it last moved (+1 / -1)
        for ctl in (self.mitigation, self.lag, self.followers, self.read_fraction):
            ctl.observe(self._on_move, names="value")
        controls = widgets.HBox([widgets.VBox([self.anomaly, self.mitigation]),
                                 widgets.VBox([self.lag, self.followers, self.read_fraction])])
        self.widget = explorer_box([controls, self.summary, self.image, self.status,
                                    self.errors], self.status)
        self.update()

    def _on_anomaly(self, change: dict[str, Any]) -> None:
        options = list(ANOMALY_MITIGATIONS[change["new"]])
        self._quiet = True  # changing the options fires value changes: one update after
        try:
            self.mitigation.options = options
            self.mitigation.value = options[-1]
        finally:
            self._quiet = False
        self._request(change)

    def _on_move(self, change: dict[str, Any]) -> None:
        if isinstance(change["new"], (int, float)):
            name = change["owner"].description
            self._direction.pop(name, None)  # the last moved is the last key
            self._direction[name] = 1 if change["new"] >= change["old"] else -1
        self._request(change)

    def update(self) -> None:
        """Recompute for the current controls and redraw."""
        if self._quiet:
            return
        view = refresh(self, lambda: compute_lag_view(self.anomaly.value, self.mitigation.value,
                                    float(self.lag.value), int(self.followers.value),
                                    round(float(self.read_fraction.value), 4),
                                    lags=self.lags, duration_ms=self.duration_ms,
                                    seed=self.seed))
        if view is None:
            return
        self.summary.value = _summary(view)
        self.status.value = (f"{self.duration_ms:g} ms simulated per point; updated in "
                             f"{self.last_update_ms:.0f} ms")
        if self.prefetch:
            _SERIES.warm(self._nearby())
            _RUNS.warm(self._nearby_runs())

    def _nearby(self) -> list[tuple[Any, ...]]:
        """Series a next move of one control asks for, likeliest first."""
        a, m = self.anomaly.value, self.mitigation.value
        f, rf = int(self.followers.value), round(float(self.read_fraction.value), 4)
        rest = (self.lags, self.duration_ms, self.seed)
        fs = nearby_values(f, 1, self.followers.min, self.followers.max,
                           direction=self._direction.get("followers", 1))
        rfs = nearby_values(rf, self.read_fraction.step, self.read_fraction.min,
                            self.read_fraction.max,
                            direction=self._direction.get("read fraction", 1))
        both = list(dict.fromkeys([m, "none"]))
        by_control = {
            "followers": [[(a, m2, int(f2), rf, *rest) for m2 in both] for f2 in fs],
            "read fraction": [[(a, m2, f, round(r2, 4), *rest) for m2 in both]
                              for r2 in rfs],
        }
        # The last moved slider's next step first; then one step of every control.
        moved = next(reversed(self._direction), "")
        keys = list(by_control.get(moved, [[]])[0])
        for steps in by_control.values():
            keys += [k for step in steps[:2] for k in step]
        keys += [(a, m2, f, rf, *rest) for m2 in self.mitigation.options]
        # Another anomaly starts at its last mitigation (see _on_anomaly).
        keys += [(a2, m2, f, rf, *rest) for a2 in self.anomaly.options if a2 != a
                 for m2 in (ANOMALY_MITIGATIONS[a2][-1], "none")]
        for steps in by_control.values():
            keys += [k for step in steps[2:] for k in step]
        return list(dict.fromkeys(keys))

    def _nearby_runs(self) -> list[tuple[Any, ...]]:
        """Runs at the lags one and two slider steps away (the sweep is shared)."""
        a, m, lag = self.anomaly.value, self.mitigation.value, float(self.lag.value)
        f, rf = int(self.followers.value), round(float(self.read_fraction.value), 4)
        lags = nearby_values(lag, float(self.lag.step), self.lag.min, self.lag.max,
                             direction=self._direction.get("lag (ms)", 1))
        return [(a, m, float(x), f, rf, self.duration_ms, self.seed) for x in lags]

    def _redraw(self, view: LagView) -> None:
        key = (view.anomaly, view.mitigation, float(self.lag.value), int(self.followers.value),
               round(float(self.read_fraction.value), 4), self.lags, self.duration_ms,
               self.seed, self.fig.dpi)  # everything the picture shows
        png = _PICTURES.get(key)
        if png is None:
            png = self._draw(view)
            _PICTURES.put(key, png)
        self.image.value = png

    def _draw(self, view: LagView) -> bytes:
        """Replot the sweep's lines as animated artists over a cached background.

        The axes limits are rounded up to 1-2-5 values, so most new sweeps keep the
        limits, ticks, labels and titles of the last one: only the data is drawn (a full
        draw renders every text and costs ~5x more).
        """
        static = (view.anomaly, view.mitigation)  # the titles and legend entries
        if view.sweep is not self._drawn:
            with plot_style():
                for artist in self._data:
                    self.view.forget(artist)
                    artist.remove()
                for ax in self.axes:  # the error-bar containers feed the legend
                    ax.containers.clear()
                plot_anomaly_rates(view.sweep, self.axes[0], legend=False)
                plot_mitigation_costs(view.sweep, self.axes[1], cost="leader_read_share",
                                      legend=False)
                plot_mitigation_costs(view.sweep, self.axes[2], cost="read_p99_ms",
                                      legend=False)
                self.axes[0].set_title(f"{view.anomaly} anomalies")
                # (the title names the anomaly; its name in the label would be clipped)
                self.axes[0].set_ylabel("violating reads (share of examined)")
                # one legend for the three panels, right of them (never over data)
                legend = self.fig.legend(*self.axes[0].get_legend_handles_labels(),
                                         loc="upper left", bbox_to_anchor=(0.79, 0.97),
                                         fontsize=8, title="95 % intervals",
                                         title_fontsize=8)
                self._data = [a for ax in self.axes for a in [*ax.lines, *ax.collections]
                              if a not in self.lag_markers] + [legend]
                self.view.animate(self._data)
                self._fix_limits(view.sweep)
                if self._static is None:  # laid out once: it costs more than a draw
                    self.fig.tight_layout(rect=(0.0, 0.0, 0.78, 1.0))
            self._drawn = view.sweep
        for marker in self.lag_markers:
            marker.set_xdata([float(self.lag.value)])
        full, self._static = static != self._static, static
        return self.view.draw(full=full)

    def _fix_limits(self, sweep: pd.DataFrame) -> None:
        lags = [*self.lags, float(self.lag.max)]
        pad = 0.04 * (max(lags) - min(lags) or 1.0)
        tops = (sweep["ci_high"].max(), sweep["leader_read_share_ci_high"].max(),
                sweep["read_p99_ms_ci_high"].max())
        for ax, top in zip(self.axes, tops, strict=True):
            ax.set_xlim(min(lags) - pad, max(lags) + pad)
            ceiling = 1.0 if ax is self.axes[1] else nice_ceiling(float(top) * 1.05)
            ax.set_ylim(-0.03 * ceiling, ceiling)  # a zero line stays above the axis
