"""What every explorer shares: the figure image, its cached backgrounds, the busy state,
and results computed ahead in the background."""

from __future__ import annotations

import io

import ipywidgets as widgets
import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

from replab.widgets._render import (
    BUSY_CLASS,
    EXPLORER_CLASS,
    FigureImage,
    busy,
    explorer_box,
    nice_ceiling,
)


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def line_figure() -> tuple[FigureImage, object]:
    fig = Figure(figsize=(4, 2))
    ax = fig.subplots()
    (line,) = ax.plot([0, 1], [0, 1])
    ax.set(xlim=(0, 1), ylim=(0, 1))
    view = FigureImage(fig, 50)
    view.animate([line])
    return view, line


def test_image_is_shown_at_the_size_it_was_rendered():
    view, _ = line_figure()
    png = view.draw()
    assert pixels(png).shape[:2] == (100, 200)
    assert (view.image.width, view.image.height) == ("200", "100")
    assert view.image.layout.width == "200px" and view.image.layout.height == "100px"


def test_animated_artists_are_drawn_over_a_cached_background():
    view, line = line_figure()
    first = view.draw()
    line.set_data([0, 1], [1, 0])
    second = view.draw()
    assert view.full_draws == 1  # same axes limits: no second full draw
    assert not np.array_equal(pixels(first), pixels(second))
    # ... and the blitted picture is the one a full draw gives.
    assert np.array_equal(pixels(second), pixels(view.draw(full=True)))
    assert view.full_draws == 2


def test_new_axes_limits_draw_in_full_then_reuse_their_background():
    view, line = line_figure()
    ax = view.fig.axes[0]
    view.draw()
    ax.set_ylim(0, 2)
    view.draw()
    ax.set_ylim(0, 1)
    view.draw()
    ax.set_ylim(0, 2)
    view.draw()
    assert view.full_draws == 2  # one per layout, each kept


def test_busy_marks_the_box_and_always_unmarks_it():
    status = widgets.HTML()
    box = explorer_box([widgets.Label("x")], status)
    assert EXPLORER_CLASS in box._dom_classes and "replab-status" in status._dom_classes
    with busy(box, status):
        assert BUSY_CLASS in box._dom_classes and status.value == "updating ..."
    assert BUSY_CLASS not in box._dom_classes
    with pytest.raises(ValueError), busy(box, status):
        raise ValueError("compute failed")
    assert BUSY_CLASS not in box._dom_classes


@pytest.mark.parametrize("x, expected", [(0.0, 1.0), (0.3, 0.5), (1.0, 1.0), (1.2, 2.0),
                                         (7.0, 10.0), (230.0, 500.0), (float("nan"), 1.0)])
def test_nice_ceiling(x: float, expected: float):
    assert nice_ceiling(x) == pytest.approx(expected)


def test_disk_cache_off_unreadable_or_for_other_code(tmp_path, monkeypatch):
    from replab.widgets import _disk

    monkeypatch.setenv("REPLAB_CACHE", "off")
    _disk.store("f", (1,), "one")
    assert _disk.cache_dir() is None and _disk.load("f", (1,)) is _disk.MISSING
    monkeypatch.setenv("REPLAB_CACHE", str(tmp_path))
    _disk.store("f", (1,), "one")
    assert _disk.load("f", (1,)) == "one" and _disk.load("f", (2,)) is _disk.MISSING
    (stored,) = tmp_path.rglob("*.pickle")
    stored.write_bytes(b"truncated")
    assert _disk.load("f", (1,)) is _disk.MISSING  # recomputed, not an error
    _disk.store("f", (1,), "one")
    monkeypatch.setattr(_disk, "source_fingerprint", lambda: "other-code")
    assert _disk.load("f", (1,)) is _disk.MISSING  # a result of other code is not reused


def test_pictures_remember_pngs_by_key_in_memory_and_on_disk(tmp_path, monkeypatch):
    from replab.widgets._render import Pictures

    monkeypatch.setenv("REPLAB_CACHE", str(tmp_path))
    pictures = Pictures("test", maxsize=1)
    assert pictures.get(("a", 80)) is None
    pictures.put(("a", 80), b"png a")
    pictures.put(("b", 80), b"png b")  # pushes "a" out of memory; the disk keeps it
    assert pictures.get(("a", 80)) == b"png a" and pictures.get(("a", 100)) is None
    assert Pictures("test").get(("b", 80)) == b"png b"  # a new kernel
    assert Pictures("other").get(("b", 80)) is None


def test_refresh_keeps_the_view_or_shows_the_error():
    import ipywidgets as widgets

    from replab.widgets._render import refresh

    class Explorer:
        def __init__(self):
            self.status, self.errors, self.drawn = widgets.HTML(), widgets.Output(), []
            self.result = None

        def _redraw(self, view):
            self.drawn.append(view)

    e = Explorer()
    assert refresh(e, lambda: 42) == 42
    assert (e.result, e.drawn, e.errors.outputs) == (42, [42], ())
    assert e.last_update_ms >= 0

    def broken():
        raise ValueError("no quorum")

    assert refresh(e, broken) is None
    assert e.result == 42 and e.drawn == [42]  # the last good view stays
    assert e.status.value == "failed: see the error below"
    assert "ValueError: no quorum" in e.errors.outputs[0]["text"]


def test_the_disk_cache_drops_old_sources_and_stays_under_its_bound(tmp_path, monkeypatch):
    import os
    import time

    from replab.widgets import _disk

    monkeypatch.setenv("REPLAB_CACHE", str(tmp_path))
    old = tmp_path / "0123456789abcdef" / "lag-series"  # another source's results
    old.mkdir(parents=True)
    (old / "x.pickle").write_bytes(b"x" * 1000)
    recent = tmp_path / "fedcba9876543210" / "lag-series"  # used yesterday: kept
    recent.mkdir(parents=True)
    (recent / "y.pickle").write_bytes(b"y" * 10)
    week_ago = time.time() - 8 * 86400
    os.utime(old, (week_ago, week_ago))
    os.utime(recent, (time.time() - 86400,) * 2)
    for i in range(5):
        _disk.store("f", (i,), b"z" * 400)
        path = _disk._path("f", (i,))
        os.utime(path, (1000.0 + i, 1000.0 + i))  # stored in this order
    removed = _disk.prune(max_bytes=1500)
    assert not old.exists() and recent.exists()
    kept = [i for i in range(5) if _disk.load("f", (i,)) is not _disk.MISSING]
    assert kept == [2, 3, 4] or kept == [3, 4]  # the oldest go first, under the bound
    assert removed >= 1000 + 2 * 400
