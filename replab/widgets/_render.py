"""What every explorer shares: a figure shown as an image, a busy state, visible errors.

A slider move must redraw in well under a quarter of a second in the browser, so the
figure is never re-rendered from scratch when it can be avoided:

* :class:`FigureImage` keeps a matplotlib Figure (outside pyplot) and its Agg canvas; the
  artists that change with the controls are *animated*: they are drawn over a cached
  background (axes, ticks, labels, legends) as long as the axes limits are unchanged,
  which skips the text rendering that dominates a full draw;
* the PNG is encoded with fast compression and shown at its native pixel size (no
  upscaling by the browser);
* :func:`busy` marks the explorer busy while it works (the figure dims, the status says
  so), and :func:`show_traceback` shows a callback's exception instead of losing it.
"""

from __future__ import annotations

import atexit
import io
import sys
import threading
import time
import traceback
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import ipywidgets as widgets
import numpy as np
from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from replab.widgets import _disk
from replab.widgets._prefetch import Prefetcher

__all__ = ["FigureImage", "Pictures", "Prefetcher", "busy", "explorer_box", "nice_ceiling",
           "refresh", "render_png", "show_traceback", "Updater", "bound_quorums", "from_browser"]

#: Classes the page (and the browser tests) rely on.
EXPLORER_CLASS, BUSY_CLASS, FIGURE_CLASS = "replab-explorer", "replab-busy", "replab-figure"
MAX_BACKGROUNDS = 16
_BUSY_CSS = (f"<style>.{BUSY_CLASS} img.{FIGURE_CLASS} {{opacity: 0.55; transition: opacity "
             f"80ms}} .{BUSY_CLASS} .replab-status {{color: #888}}</style>")


def nice_ceiling(x: float) -> float:
    """The smallest 1-2-5 number >= x: axis limits that stay put while values move, so
    the cached background (ticks, labels) can be reused."""
    if not np.isfinite(x) or x <= 0:
        return 1.0
    exp = 10.0 ** np.floor(np.log10(x))
    return float(next(m * exp for m in (1, 2, 5, 10) if m * exp >= x * (1 - 1e-12)))


def _encode(canvas: FigureCanvasAgg) -> bytes:
    # Level 1: a few ms instead of tens for matplotlib's default, for ~15 % more bytes.
    buf = io.BytesIO()
    rgba = np.asarray(canvas.buffer_rgba())
    Image.fromarray(rgba[..., :3]).save(buf, format="png", compress_level=1)
    return buf.getvalue()


def render_png(fig: Figure, dpi: int) -> bytes:
    """The figure as PNG bytes (a full draw at ``dpi``), for an ``ipywidgets.Image``."""
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    if fig.dpi != dpi:
        fig.set_dpi(dpi)
    canvas.draw()
    return _encode(canvas)


def figure_widget(fig: Figure, dpi: int) -> widgets.Image:
    """An empty Image widget for ``fig``'s pictures, shown at exactly their pixel size."""
    width, height = (int(round(v)) for v in fig.get_size_inches() * dpi)
    image = widgets.Image(format="png", width=str(width), height=str(height),
                          layout=widgets.Layout(width=f"{width}px", height=f"{height}px",
                                                flex="0 0 auto"))
    image.add_class(FIGURE_CLASS)
    return image


class FigureImage:
    """A Figure drawn into an Image widget, redrawing only its animated artists.

    Parameters
    ----------
    fig : Figure
        Built outside pyplot (the inline backend would show a static copy otherwise).
    dpi : int
        Pixels per inch; the image is shown at exactly ``figsize * dpi`` pixels.
    image : Image widget, optional
        Reuse this widget (when the figure's artists are rebuilt from scratch).
    """

    def __init__(self, fig: Figure, dpi: int, *, image: widgets.Image | None = None) -> None:
        self.fig = fig
        fig.set_dpi(dpi)
        self.canvas = FigureCanvasAgg(fig)
        self.image = figure_widget(fig, dpi) if image is None else image
        self._animated: list[Artist] = []
        # Backgrounds by axes limits: sliders often move between a few layouts.
        self._backgrounds: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self.full_draws = 0

    def animate(self, artists: Iterable[Artist]) -> None:
        """Declare artists that change with the controls (drawn over the background)."""
        for artist in artists:
            artist.set_animated(True)
            self._animated.append(artist)

    def forget(self, artist: Artist) -> None:
        """Stop drawing an animated artist that was removed from the figure."""
        self._animated = [a for a in self._animated if a is not artist]

    def _key(self) -> tuple[Any, ...]:
        return tuple((ax.get_xlim(), ax.get_ylim(), ax.get_xscale(), ax.get_yscale())
                     for ax in self.fig.axes)

    def draw(self, *, full: bool = False) -> bytes:
        """Draw over a cached background when these axes limits were drawn before; PNG.

        ``full`` forgets the backgrounds (call it after changing titles, labels or other
        static artists).
        """
        key = self._key()
        if full:
            self._backgrounds.clear()
        if key in self._backgrounds:
            self._backgrounds.move_to_end(key)
            self.canvas.restore_region(self._backgrounds[key])
        else:
            self.canvas.draw()  # animated artists are left out of the background
            self._backgrounds[key] = self.canvas.copy_from_bbox(self.fig.bbox)
            if len(self._backgrounds) > MAX_BACKGROUNDS:
                self._backgrounds.popitem(last=False)
            self.full_draws += 1
        renderer = self.canvas.get_renderer()
        for artist in self._animated:
            if artist.get_visible() and artist.figure is self.fig:
                artist.draw(renderer)
        return _encode(self.canvas)

    def show(self, *, full: bool = False) -> None:
        """Draw and put the picture into the Image widget."""
        self.image.value = self.draw(full=full)


class Pictures:
    """PNGs already drawn, by everything the picture depends on (in memory and on disk).

    A setting drawn before -- in this kernel, or in an earlier one with the same replab
    source -- is shown without drawing; ``key`` must name every input of the picture
    (the settings, the run's size and seed, the dpi).
    """

    def __init__(self, name: str, *, maxsize: int = 64) -> None:
        self.name, self.maxsize = f"png-{name}", maxsize
        self._memory: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()

    def get(self, key: tuple[Any, ...]) -> bytes | None:
        png = self._memory.get(key)
        if png is None:
            stored = _disk.load(self.name, key)
            png = None if stored is _disk.MISSING else stored
        if png is not None:
            self._remember(key, png)
        return png

    def put(self, key: tuple[Any, ...], png: bytes) -> None:
        self._remember(key, png)
        _disk.store(self.name, key, png)

    def _remember(self, key: tuple[Any, ...], png: bytes) -> None:
        self._memory[key] = png
        self._memory.move_to_end(key)
        while len(self._memory) > self.maxsize:
            self._memory.popitem(last=False)


def explorer_box(children: list[Any], status: widgets.HTML) -> widgets.VBox:
    """The explorer's outer box: tagged for the page, with the busy-state style."""
    status.add_class("replab-status")
    box = widgets.VBox([widgets.HTML(_BUSY_CSS), *children])
    box.add_class(EXPLORER_CLASS)
    return box


@contextmanager
def busy(box: widgets.Box, status: widgets.HTML | None = None) -> Iterator[None]:
    """Mark ``box`` busy while the block runs: the figure dims and the status says so."""
    box.add_class(BUSY_CLASS)
    if status is not None:
        status.value = "updating ..."
    try:
        yield
    finally:
        box.remove_class(BUSY_CLASS)


def show_traceback(errors: widgets.Output) -> None:
    """Replace ``errors``' content with the exception being handled (call in ``except``).

    A callback's exception would otherwise be lost; ``append_stdout`` also works headless.
    """
    errors.outputs = ()
    errors.append_stdout(traceback.format_exc())


def refresh(explorer: Any, compute: Callable[[], Any]) -> Any | None:
    """One explorer update: busy while ``compute()`` runs and ``explorer._redraw`` draws
    its view; on success keep it in ``.result`` and the time in ``.last_update_ms``, on
    failure show the traceback in ``.errors`` and return None."""
    start = time.perf_counter()
    box = explorer.widget if hasattr(explorer, "widget") else widgets.VBox()
    with busy(box, explorer.status):
        try:
            view = compute()
            explorer._redraw(view)
        except Exception:  # shown in the dashboard instead of lost in a callback
            show_traceback(explorer.errors)
            explorer.status.value = "failed: see the error below"
            return None
    explorer.result = view
    explorer.errors.outputs = ()
    explorer.last_update_ms = (time.perf_counter() - start) * 1e3
    return view


def in_kernel() -> bool:
    """Whether this runs in a Jupyter kernel (where the page sends the moves)."""
    return "ipykernel" in sys.modules


def from_browser(change: Any) -> bool:
    """Whether a trait change came from the page (a user's move), not from code.

    ipywidgets applies the page's state inside ``_lock_property`` and fires the
    observers before leaving it, so the changed name is in the owner's lock then.
    """
    if not isinstance(change, dict) and not hasattr(change, "get"):
        return False
    owner, name = change.get("owner"), change.get("name")
    return name in (getattr(owner, "_property_lock", None) or {})


_UPDATERS: list[Updater] = []
_STOPPING = threading.Event()


@atexit.register
def _stop_updaters() -> None:
    # An update thread still drawing when the interpreter finalises can abort the
    # process (C++ code under matplotlib): let the current update end first.
    _STOPPING.set()
    for updater in _UPDATERS:
        updater._wake.set()
    for updater in _UPDATERS:
        if updater._thread is not None:
            updater._thread.join(timeout=30)


class Updater:
    """An explorer's update, run off the kernel's message loop when a user moves a control.

    A move from the page is handed to one background thread and the observer returns:
    the kernel reads the next message at once, so a burst of key presses (a held arrow
    key) becomes one update for the latest setting instead of a queue of stale ones,
    and the busy state shows while it works. A change made by code (a notebook cell,
    a test) updates synchronously, so ``explorer.result`` is current when it returns.
    Updates never overlap: both paths hold the same lock.
    """

    def __init__(self, update: Callable[[], Any]) -> None:
        self.update = update
        self.lock = threading.RLock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self.updates = 0  # how many updates ran (for tests and benchmarks)

    def __call__(self, change: Any = None) -> None:
        if from_browser(change) and in_kernel():
            self._wake.set()
            if self._thread is None:
                # A daemon thread: a kernel that shuts down never waits for it.
                self._thread = threading.Thread(target=self._loop, name="replab-update",
                                                daemon=True)
                _UPDATERS.append(self)
                self._thread.start()
            return
        self._run()

    def _run(self) -> None:
        with self.lock:
            self.updates += 1
            self.update()

    def _loop(self) -> None:
        while True:
            self._wake.wait()
            if _STOPPING.is_set():  # the interpreter is exiting
                return
            self._wake.clear()  # moves from here on ask for one more update
            try:
                self._run()
            except Exception:  # an update shows its own errors; the thread lives on
                traceback.print_exc()


def bound_quorums(explorer: Any, change: dict[str, Any]) -> None:
    """The n slider moved: r and w may not exceed it. Lowering their maxima clamps their
    values, which would fire an update each: one update follows instead."""
    explorer._quiet = True
    try:
        explorer.r.max = explorer.w.max = change["new"]
    finally:
        explorer._quiet = False
    explorer._request(change)
