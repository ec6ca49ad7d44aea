"""Shared look of every replab picture: the palette, rc style and axes helper."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar, cast

import matplotlib as mpl
import matplotlib.pyplot as plt
from cycler import cycler
from matplotlib.axes import Axes

__all__ = [
    "PALETTE",
    "STYLE",
    "FAULT_COLORS",
    "ROLE_COLORS",
    "plot_style",
    "use_style",
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
ROLE_COLORS = {"leader": PALETTE[1], "follower": PALETTE[0], "replica": PALETTE[0],
               "client": "#7f7f7f"}
_F = TypeVar("_F", bound=Callable[..., Any])


@contextmanager
def plot_style() -> Iterator[None]:
    """Draw inside ``with plot_style():`` to get replab's look without changing globals.

    Only the keys of :data:`STYLE` are restored on exit. ``mpl.rc_context`` restores every
    rc setting, so a first figure created inside it (which loads Jupyter's inline backend
    and turns ``interactive`` on) would switch ``interactive`` off again on exit, and later
    figures of the session would never be shown.
    """
    saved = {key: mpl.rcParams[key] for key in STYLE}
    mpl.rcParams.update(cast(Any, STYLE))
    try:
        yield
    finally:
        mpl.rcParams.update(cast(Any, saved))


def use_style() -> None:
    """Make replab's look the default for this session (``matplotlib.rcParams``)."""
    mpl.rcParams.update(cast(Any, STYLE))


def _styled(fn: _F) -> _F:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with plot_style():
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
