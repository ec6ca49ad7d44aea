"""Shared look of every replab picture: the palette, rc style and axes helper."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar, cast

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from cycler import cycler
from matplotlib.axes import Axes

__all__ = [
    "PALETTE",
    "STYLE",
    "FAULT_COLORS",
    "ROLE_COLORS",
    "COLORS",
    "LABELS",
    "color_of",
    "human",
    "plot_style",
    "use_style",
    "legend_above",
    "format_probability",
]

PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf"]


def _axes(ax: Axes | None, **fig_kw: Any) -> Axes:
    if ax is None:
        _, ax = plt.subplots(**fig_kw)
    return ax



#: The rc settings every replab picture is drawn with (see :func:`plot_style`).
STYLE: dict[str, Any] = {
    "axes.prop_cycle": cycler(color=PALETTE),
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "figure.dpi": 100,
    "savefig.bbox": "tight",
}
FAULT_COLORS = ["#bbbbbb", "#f4a582", "#92c5de", "#c2a5cf"]
#: One colour per concept, in every notebook and explorer: operations, latency profiles,
#: replication modes, log kinds, outcomes. Anything else cycles through :data:`PALETTE`.
COLORS: dict[str, str] = {
    # operations
    "read": "#1f77b4", "write": "#d62728",
    "cas": "#9467bd",
    # latency profiles (PBS)
    "LNKD-SSD": "#2ca02c", "LNKD-DISK": "#9467bd", "YMMR": "#8c564b", "WAN": "#17becf",
    # single-leader replication modes
    "async": "#ff7f0e", "semi-sync": "#bcbd22", "sync": "#1f77b4",
    # replication-log kinds
    "statement": "#d62728", "statement-fixed": "#ff7f0e", "physical": "#1f77b4",
    "logical": "#2ca02c", "trigger": "#9467bd",
    # outcomes
    "available": "#2ca02c", "stale": "#ff7f0e", "lost": "#d62728", "none": "#7f7f7f",
    # roles
    "leader": "#d62728", "follower": "#1f77b4", "replica": "#1f77b4", "client": "#7f7f7f",
    # quorum configurations (N=3), in 00, 01, 02 and the quorum explorer alike
    "R=1 W=1": "#1f77b4", "R=1 W=2": "#ff7f0e", "R=2 W=1": "#2ca02c", "R=2 W=2": "#9467bd",
    "R=1 W=3": "#8c564b", "R=3 W=1": "#e377c2",
    # operation outcomes in history timelines (Jepsen's colours)
    "ok": "#81bffc", "fail": "#ff1e90", "info": "#ffa400",
    # fault windows
    "partition": "#bbbbbb", "node down": "#f4a582", "pause": "#92c5de",
    "slow network": "#c2a5cf",
    # anomalies (the checker names)
    "stale-read": "#ff7f0e", "read-your-writes": "#e377c2", "monotonic-reads": "#8c564b",
    "consistent-prefix": "#17becf", "lost-write": "#d62728",
    # messages of a read, by what they carry back
    "fresh response": "#2ca02c", "stale response": "#ff7f0e",
    # a number printed in a paper, drawn beside replab's estimate of it
    "published": "#d62728",
}
ROLE_COLORS = {k: COLORS[k] for k in ("leader", "follower", "replica", "client")}
# quorum kinds, repair mechanisms and conflict resolutions (notebooks 05 and 06)
COLORS.update({
    "strict": "#1f77b4", "sloppy": "#9467bd",
    "read repair only": "#8c564b", "anti-entropy only (every 100 ms)": "#17becf",
    "both": "#2ca02c",
    "lww": "#d62728", "replica-priority": "#ff7f0e", "merge": "#1f77b4", "siblings": "#2ca02c",
    "arrival-order": "#7f7f7f", "custom": "#9467bd",
})


#: Words for the columns replab's frames use, for axis labels, legends and tables.
LABELS: dict[str, str] = {
    "p_consistent": "P(consistent read)", "p_stale": "P(stale read)",
    "p_read_ok": "P(read quorum answers)", "p_write_ok": "P(write quorum answers)",
    "p_fresh_read": "P(read returns the write | write committed)",
    "p_read_available": "P(read quorum up)", "p_write_available": "P(write quorum up)",
    "p_both_available": "P(read and write quorums up)",
    "write_availability": "writes available", "read_availability": "reads available",
    "stale_read_rate": "stale reads", "lost_writes_fraction": "acknowledged writes lost",
    "lost_writes": "writes lost", "acked_writes_lost": "acknowledged writes lost",
    "ci_low": "95 % CI low", "ci_high": "95 % CI high", "latency_ms": "latency (ms)",
    "lag_ms": "mean replication delay (ms)",
    "trials": "trials", "p_fail": "P(node down)",
    "hinted_writes": "hinted writes", "hinted_handoffs": "hints handed off",
    "divergent_rows": "divergent rows", "bytes_per_write": "bytes shipped per write",
}


def human(column: object) -> str:
    """The words for a column name (``lost_writes_fraction`` -> "acknowledged writes
    lost"); unknown names get their underscores replaced by spaces."""
    return LABELS.get(str(column), str(column).replace("_", " "))


def color_of(name: object, index: int = 0) -> str:
    """The colour of a concept (``"write"``, ``"LNKD-DISK"``, ``"async"`` ...), else the
    ``index``-th palette colour."""
    return COLORS.get(str(name), PALETTE[index % len(PALETTE)])
_F = TypeVar("_F", bound=Callable[..., Any])


@contextmanager
def plot_style() -> Iterator[None]:
    """Draw inside ``with plot_style():`` to get replab's look without changing globals.

    Only the keys of :data:`STYLE` are restored on exit. ``mpl.rc_context`` restores every
    rc setting, so a first figure created inside it (which loads Jupyter's inline backend
    and turns ``interactive`` on) would switch ``interactive`` off again on exit, and later
    figures of the session would never be shown.
    """
    saved = {key: mpl.rcParams[key] for key in STYLE}  # type: ignore[index]
    mpl.rcParams.update(cast(Any, STYLE))
    try:
        yield
    finally:
        mpl.rcParams.update(cast(Any, saved))


def format_probability(p: float, digits: int = 3) -> str:
    """``p`` to ``digits`` significant digits, except that a probability below 1 is never
    rounded up to "1": 0.99988 -> ">0.999" (and NaN -> "n/a")."""
    if not np.isfinite(p):
        return "n/a"
    text = f"{p:.{digits}g}"
    if text == "1" and p < 1:
        return f">{1 - 10.0 ** -digits:.{digits}f}"
    return text


def legend_above(fig: Any, axes: Any = None, *, ncol: int | None = None) -> Any:
    """One legend above the panels instead of one per panel (none covers data).

    Entries are gathered from ``axes`` (default: every axes of ``fig``) by their label
    without its note in parentheses; a note ("95 % CI narrower than the line", "coincides
    with ...") moves to a second line of its panel's title, "name: note". The figure should
    use ``layout="constrained"`` so the legend gets its own room. Returns the legend.
    """
    axes = list(fig.axes if axes is None else axes)
    entries: dict[str, Any] = {}
    for ax in axes:
        notes = []
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            name, _, note = str(label).partition(" (")
            entries.setdefault(name, handle)
            if note:
                notes.append(f"{name}: {note.rstrip(')')}")
        if ax.get_legend() is not None:
            ax.get_legend().remove()
        if notes:
            ax.set_title("\n".join([ax.get_title(), *notes]), fontsize=9)
    return fig.legend(list(entries.values()), list(entries), loc="outside upper center",
                      ncol=ncol or len(entries))


def use_style() -> None:
    """Make replab's look the default for this session (``matplotlib.rcParams``)."""
    mpl.rcParams.update(cast(Any, STYLE))


def _styled(fn: _F) -> _F:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with plot_style():
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
