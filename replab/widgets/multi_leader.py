"""The multi-leader explorer: topology, resolution, WAN delay and a failure; see the flow.

``compute_multi_leader_view`` is the pure computation (one simulation);
``MultiLeaderExplorer`` wires dropdowns to it and redraws one figure in place: the
topology at the end of the run (bypass edges in orange, the failed leader in red), how
long each write took to reach each leader, and the writes each leader lacks over time.
"""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

import ipywidgets as widgets
from matplotlib.figure import Figure

from replab.models.multi_leader import (
    TOPOLOGIES,
    MultiLeaderConfig,
    MultiLeaderResult,
    simulate_multi_leader,
)
from replab.models.multi_leader.topology import as_topology
from replab.plots import (
    fault_marks,
    mark_events,
    plot_node_staleness,
    plot_propagation_delays,
    plot_style,
    plot_topology_flow,
)
from replab.widgets._render import (
    FigureImage,
    Prefetcher,
    Updater,
    busy,
    explorer_box,
    figure_widget,
    show_traceback,
)

__all__ = ["WAN_DELAYS", "REPAIRS", "compute_multi_leader_view", "MultiLeaderExplorer"]

#: WAN delay choices offered by the explorer (latency specs).
WAN_DELAYS = ("20+exp:0.05", "uniform:10,60", "5+pareto:5,1.5", "0.8*const:10|0.2*const:300")
#: What happens after the failure: nothing, a manual reconfiguration, an orchestrator.
REPAIRS = ("none", "reconfigure", "auto-reroute")
RESOLUTION_CHOICES = ("lww", "replica-priority", "merge", "siblings", "arrival-order",
                      "custom")


def _run(base: MultiLeaderConfig, topology: str, resolution: str, wan_delay: str,
         fail_node: str, repair: str, causal: bool, seed: int) -> MultiLeaderResult:
    return compute_multi_leader_view(base, topology=topology, resolution=resolution,
                                     wan_delay=wan_delay, fail_node=fail_node, repair=repair,
                                     causal=causal, seed=seed)


class _Painter:
    """The explorer's figure, painted for one run (one per process and dpi): the worker
    process paints the pictures of settings it computes ahead, so a move to one of them
    costs no drawing at all."""

    def __init__(self, dpi: int) -> None:
        with plot_style():  # outside pyplot: the inline backend never shows a copy
            self.figure = Figure(figsize=(14, 3.8))
            axes = self.figure.subplots(1, 3, gridspec_kw={"width_ratios": [1, 2, 2]})
        self.axes = dict(zip(("topology", "propagation", "staleness"), axes, strict=True))
        # Labelled before the first paint: a frame found ready (in memory or on disk) is
        # shown without painting this figure, which must still read as a picture.
        self.axes["topology"].set_axis_off()
        self.axes["propagation"].set(xlabel="write accepted at (ms)",
                                     ylabel="delay until applied (ms)")
        self.axes["staleness"].set(xlabel="time (ms)", ylabel="writes missing")
        self.view = FigureImage(self.figure, dpi)
        self.lock = threading.Lock()  # one painting at a time (the update thread, a guess)
        self._laid_out = False

    def paint(self, result: MultiLeaderResult, topology: str, resolution: str,
              wan_delay: str, fail_node: str, repair: str, causal: bool) -> bytes:
        with self.lock:
            for ax in self.axes.values():
                ax.clear()
            failed = [] if fail_node == "none" else [fail_node]
            cfg = result.config
            with plot_style():
                plot_topology_flow(result.topology, self.axes["topology"],
                                   base=as_topology(cfg.topology, cfg.datacenters),
                                   failed=failed, title=f"{topology} at the end")
                plot_propagation_delays(result.propagation, self.axes["propagation"])
                legend = self.axes["propagation"].get_legend()
                if legend is not None:  # the leaders' colours are the topology's
                    legend.remove()
                plot_node_staleness(result.staleness, self.axes["staleness"])
                marks = fault_marks(result.events)
                if marks:  # where the leader failed and the topology was repaired
                    mark_events(self.axes["staleness"], marks)
                staleness = self.axes["staleness"]
                staleness.set_ylim(0, 1.5 * max(staleness.get_ylim()[1], 1.0))
                staleness.legend(fontsize=7, loc="upper right", ncol=3)
                m = result.metrics
                self.figure.suptitle(
                    f"{topology}, {resolution}, WAN {wan_delay}, "
                    f"{'no failure' if not failed else failed[0] + ' fails'}, repair "
                    f"{repair}, {'causal' if causal else 'FIFO'} delivery: "
                    f"{m['conflicts']} conflicting writes, {m['lost_writes']} lost",
                    fontsize=10)
                if not self._laid_out:  # computed once: it costs more than a draw
                    self.figure.tight_layout()
                    self._laid_out = True
            return self.view.draw(full=True)


_PAINTERS: dict[int, _Painter] = {}


def _painter(dpi: int) -> _Painter:
    if dpi not in _PAINTERS:
        _PAINTERS[dpi] = _Painter(dpi)
    return _PAINTERS[dpi]


def _frame(base: MultiLeaderConfig, topology: str, resolution: str, wan_delay: str,
           fail_node: str, repair: str, causal: bool, seed: int,
           dpi: int) -> tuple[MultiLeaderResult, bytes]:
    """One setting's run and its picture."""
    result = _run(base, topology, resolution, wan_delay, fail_node, repair, causal, seed)
    png = _painter(dpi).paint(result, topology, resolution, wan_delay, fail_node, repair,
                              causal)
    return result, png


# One run and its picture per setting of the controls, kept (and on disk); the neighbours
# of the current setting are simulated and painted in the background while the user looks.
_FRAMES = Prefetcher(_frame, disk="multi-leader-frame")


def _neighbours(options: tuple[Any, ...], value: Any) -> list[Any]:
    i = list(options).index(value)
    return [options[j] for j in (i - 1, i + 1) if 0 <= j < len(options)]


def compute_multi_leader_view(base: MultiLeaderConfig, *, topology: str, resolution: str,
                              wan_delay: str, fail_node: str, repair: str, causal: bool,
                              seed: int = 0) -> MultiLeaderResult:
    """Run ``base`` with the explorer's settings (``fail_node="none"``: no failure)."""
    failing = fail_node != "none"
    config = dataclasses.replace(
        base, topology=topology, resolution=resolution, wan_delay=wan_delay, causal=causal,
        fail_node=fail_node if failing else None,
        reconfigure_after_ms=base.duration_ms / 4 if failing and repair == "reconfigure"
        else None,
        auto_reroute=failing and repair == "auto-reroute")
    return simulate_multi_leader(config, seed=seed)


class MultiLeaderExplorer:
    """Dropdowns for topology, resolution, WAN delay, failed leader and repair."""

    def __init__(self, base: MultiLeaderConfig | None = None, *, seed: int = 0,
                 prefetch: bool = True) -> None:
        self.base = base if base is not None else MultiLeaderConfig(datacenters=4)
        self.seed, self.prefetch = seed, prefetch
        leaders = self.base.leader_ids()
        self.topology = widgets.Dropdown(options=TOPOLOGIES, value="circular",
                                         description="topology")
        self.resolution = widgets.Dropdown(options=RESOLUTION_CHOICES, value="lww",
                                           description="resolution")
        self.wan_delay = widgets.Dropdown(options=WAN_DELAYS, value=WAN_DELAYS[0],
                                          description="WAN delay")
        self.fail_node = widgets.Dropdown(options=("none", *leaders), value=leaders[0],
                                          description="fail")
        self.repair = widgets.Dropdown(options=REPAIRS, value="none", description="repair")
        self.causal = widgets.Checkbox(value=True, description="causal delivery")
        self.summary, self.status = widgets.HTML(), widgets.HTML()
        self.errors = widgets.Output()
        self.dpi = 80
        painter = _painter(self.dpi)  # shared: the figure shows the last setting painted
        self.figure, self.axes = painter.figure, painter.axes
        self.image = figure_widget(self.figure, self.dpi)  # (the painter draws)
        self.frames = 0  # pictures painted by this explorer (not found ready)
        self.result: MultiLeaderResult | None = None
        rows = [widgets.HBox(self.controls[:3]), widgets.HBox(self.controls[3:])]
        self._box = explorer_box([*rows, self.summary, self.image, self.status, self.errors],
                                 self.status)
        self._request = Updater(self.update)
        for control in self.controls:
            control.observe(self._request, names="value")

    @property
    def controls(self) -> list[Any]:
        return [self.topology, self.resolution, self.wan_delay, self.fail_node, self.repair,
                self.causal]

    def update(self, *_: Any) -> None:
        """Recompute for the current controls and redraw; errors go to ``errors``."""
        with busy(self._box, self.status):
            self._update()
        if self.prefetch and self.result is not None:
            _FRAMES.warm([(*key, self.dpi) for key in self._nearby()])

    def _settings(self) -> tuple[Any, ...]:
        return (self.base, *(c.value for c in self.controls), self.seed)

    def _nearby(self) -> list[tuple[Any, ...]]:
        """Settings one step away on one control: what the next key press asks for."""
        here = self._settings()
        keys = []
        for i, control in enumerate(self.controls):
            options = getattr(control, "options", (False, True))
            for value in _neighbours(tuple(options), control.value):
                keys.append((*here[:i + 1], value, *here[i + 2:]))
        return keys

    def _update(self) -> None:
        try:
            key = (*self._settings(), self.dpi)
            ready = _FRAMES.known(*key)
            self.result, png = _FRAMES.get(*key)
        except Exception:  # shown, not raised, so the dashboard stays usable
            show_traceback(self.errors)  # (append_stdout: safe from the update thread)
            self.status.value = "failed: see the error below"
            return
        self.frames += not ready
        self.errors.outputs = ()
        self.image.value = png
        m = self.result.metrics
        self.summary.value = (
            f"converged <b>{m['converged']}</b> ({m['divergent_keys']} divergent keys); "
            f"{m['conflicts']} conflicting writes, {m['lost_writes']} lost; "
            f"{m['writes_not_propagated']} writes not propagated; "
            f"{m['overtaking_anomalies']} updates dropped by overtaking; "
            f"propagation p99 {m['propagation_p99_ms']:.0f} ms; "
            f"{m['change_messages']} change messages")
        self.status.value = ""

    @property
    def widget(self) -> widgets.VBox:
        """The box to display (the same box every time)."""
        if self.result is None:
            self.update()  # shown with its first picture, not empty
        return self._box
