"""A figure lint: the rules every replab picture keeps, checked on a drawn figure.

:func:`lint_figure` draws the figure (Agg) and returns one sentence per problem found:

* a legend over data (a line, marker, bar, band or image of its axes under the legend box);
* a legend naming an artist that cannot be seen (entirely outside the axes limits);
* bars on a log axis (a bar's length means nothing there);
* a log axis dropping values <= 0 (matplotlib leaves them out silently), or a series
  flattened onto a floor that no text in the figure states;
* an axis showing numbers without a label, or a label naming a dimensional quantity
  (time, latency, size, rate ...) without its unit;
* "None" or "nan" in any text;
* texts that collide (titles, labels, annotations, legends, tick labels);
* anything clipped: drawn past the canvas (unless saved with a tight bounding box), or a
  text outside its axes that its clip box hides.

The notebooks' tests apply it to every figure every notebook draws, explorers included
(:mod:`replab.notebooks` installs the hook in the kernel).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backend_bases import RendererBase
from matplotlib.collections import Collection, PathCollection
from matplotlib.container import BarContainer
from matplotlib.figure import Figure, SubFigure
from matplotlib.image import AxesImage
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.path import Path
from matplotlib.text import Text
from matplotlib.transforms import Bbox

__all__ = ["lint_figure"]

#: Pixels of overlap tolerated between two texts, or between a legend and data.
SLACK_PX = 1.5
_NUMBER = re.compile(r"^[-+\u2212]?(\d[\d,]*\.?\d*|\.\d+)(e[-+\u2212]?\d+)?\s*%?$", re.I)
_MATH_NUMBER = re.compile(r"^\$.*\d.*\$$")
_NONE_OR_NAN = re.compile(r"\bNone\b|(?i:\bnan\b)")
#: Quantities that have a unit; a label naming one must say it.
_DIMENSIONAL = re.compile(r"\b(time|latency|latencies|delay|lag|duration|timeout|skew|"
                          r"t-visibility|interval|period|size|bytes|throughput|rate)\b", re.I)
_UNIT = re.compile(r"\((?:[^()]*\b)?(ms|s|µs|us|ns|min|h|B|kB|KB|KiB|MB|MiB|GB|bytes|%|"
                   r"[^()]*/\s*s|[^()]*per (second|s|write|op))\b[^()]*\)|\[[^\]]+\]|%",
                   re.I)
_FLOOR_WORDS = re.compile(r"floor|resolution|below|zero|≤|<|clipped|none (seen|observed)",
                          re.I)


def lint_figure(fig: Figure, *, tight: bool = False) -> list[str]:
    """The problems found in ``fig``, one sentence each (empty when it keeps every rule).

    Parameters
    ----------
    fig : Figure
        The figure, as it will be shown (it is drawn on an Agg canvas first).
    tight : bool
        The figure is saved with a tight bounding box (as Jupyter's inline backend does),
        so artists past the canvas edge are not clipped.

    Returns
    -------
    list of str
        Each problem names the axes (its title, else its position) and what is wrong.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> _ = ax.plot([0, 1, 2], [0.0, 1.0, 2.0])
    >>> for problem in lint_figure(fig):
    ...     print(problem)
    axes 1: the x axis shows numbers but has no label
    axes 1: the y axis shows numbers but has no label
    >>> _ = ax.set(xlabel="time (ms)", ylabel="P(stale read)")
    >>> lint_figure(fig)
    []
    >>> plt.close(fig)
    """
    _draw(fig)
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    problems: list[str] = []
    for i, ax in enumerate(_axes(fig), start=1):
        name = _name(ax, i)
        problems += [f"{name}: {p}" for p in _axes_problems(ax, renderer)]
    problems += _text_problems(fig, renderer)
    if not tight:
        problems += _canvas_problems(fig, renderer)
    return list(dict.fromkeys(problems))


def _draw(fig: Figure) -> None:
    """Lay the figure out as a draw would (text sizes, legend places, constrained
    layout) without rasterising it: the lint is then cheap, and an explorer's canvas,
    whose pixels are cached between moves, is left untouched."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    fig.draw_without_rendering()


def _axes(fig: Figure) -> list[Axes]:
    return [ax for ax in fig.get_axes() if ax.get_visible() and ax.axison]


def _name(ax: Axes, index: int) -> str:
    title = ax.get_title() or ax.get_title("left")
    return f"axes {index} ({title!r})" if title else f"axes {index}"


def _axes_problems(ax: Axes, renderer: RendererBase) -> Iterator[str]:
    yield from _legend_over_data(ax, renderer)
    yield from _legend_names_hidden(ax)
    yield from _bars_on_log(ax)
    yield from _log_drops(ax)
    yield from _axis_labels(ax)
    yield from _clipped_texts(ax, renderer)


# ----------------------------------------------------------------- data in display space


def _data_transform(artist: object, ax: Axes) -> bool:
    """Whether the artist is placed in data coordinates (not a span or reference line
    placed partly in axes coordinates, which is background, not data)."""
    transform = artist.get_transform()  # type: ignore[attr-defined]
    return bool(transform == ax.transData or transform.contains_branch(ax.transData))


def _data_artists(ax: Axes) -> Iterator[object]:
    for artist in [*ax.lines, *ax.collections, *ax.patches, *ax.images]:
        alpha = artist.get_alpha()
        if artist.get_visible() and (alpha is None or alpha > 0):
            yield artist


def _hits(artist: object, ax: Axes, box: Bbox) -> bool:
    """Whether ``artist`` (drawn in ``ax``) shows through the display-space ``box``."""
    if isinstance(artist, Line2D):
        if not _data_transform(artist, ax):
            return False
        xy = np.asarray(artist.get_xydata(), float)
        xy = xy[np.isfinite(xy).all(axis=1)]
        if len(xy) == 0:
            return False
        pts = artist.get_transform().transform(xy)
        if artist.get_linestyle() in ("None", "none", "", " ") or len(pts) == 1:
            return bool(box.count_contains(pts) > 0)
        return bool(Path(pts).intersects_bbox(box, filled=False))
    offsets = np.asarray(artist.get_offsets(), float) if isinstance(
        artist, PathCollection) else np.empty((0, 2))
    if isinstance(artist, PathCollection) and len(offsets):
        pts = artist.get_offset_transform().transform(offsets[np.isfinite(offsets).all(1)])
        return bool(box.count_contains(pts) > 0)
    if isinstance(artist, Collection):
        if not _data_transform(artist, ax):
            return False
        transform = artist.get_transform()
        return any(transform.transform_path(p).intersects_bbox(box, filled=True)
                   for p in artist.get_paths() if np.size(p.vertices))
    if isinstance(artist, Patch):
        if not _data_transform(artist, ax):
            return False
        path = artist.get_transform().transform_path(artist.get_path())
        return bool(path.intersects_bbox(box, filled=True))
    if isinstance(artist, AxesImage):
        return bool(artist.get_window_extent().overlaps(box))
    return False


def _shrunk(box: Bbox, by: float = SLACK_PX) -> Bbox:
    return Bbox.from_extents(box.x0 + by, box.y0 + by, box.x1 - by, box.y1 - by)


def _legend_over_data(ax: Axes, renderer: RendererBase) -> Iterator[str]:
    legends = [lg for lg in [ax.get_legend(), *_figure_legends(ax.figure)] if lg is not None]
    for legend in legends:
        if not legend.get_visible():
            continue
        box = _shrunk(legend.get_window_extent(renderer))
        covered = [a for a in _data_artists(ax) if _hits(a, ax, box)]
        if covered:
            what = ", ".join(sorted({_describe(a) for a in covered}))
            yield f"the legend covers data ({what})"


def _figure_legends(fig: object) -> list[Legend]:
    return list(getattr(fig, "legends", []))


def _describe(artist: object) -> str:
    label = str(getattr(artist, "get_label", lambda: "")())
    kind = type(artist).__name__
    return f"{kind} {label!r}" if label and not label.startswith("_") else kind


def _legend_names_hidden(ax: Axes) -> Iterator[str]:
    legend = ax.get_legend()
    if legend is None:
        return
    shown = {t.get_text() for t in legend.get_texts()}
    box = ax.bbox
    for line in ax.lines:
        label = line.get_label()
        if label not in shown or not line.get_visible():
            continue
        xy = np.asarray(line.get_xydata(), float)
        if xy.size == 0:  # a proxy artist made for the legend
            continue
        with np.errstate(all="ignore"):
            pts = line.get_transform().transform(xy) if len(xy) else xy
        pts = pts[np.isfinite(pts).all(axis=1)] if len(pts) else pts
        inside = ((pts[:, 0] >= box.x0 - SLACK_PX) & (pts[:, 0] <= box.x1 + SLACK_PX)
                  & (pts[:, 1] >= box.y0 - SLACK_PX) & (pts[:, 1] <= box.y1 + SLACK_PX))
        if not inside.any():
            yield f"the legend names {label!r}, which lies outside the axes limits"


# --------------------------------------------------------------------- log axes and bars


def _bars_on_log(ax: Axes) -> Iterator[str]:
    for container in ax.containers:
        if not isinstance(container, BarContainer):
            continue
        horizontal = getattr(container, "orientation", "vertical") == "horizontal"
        scale = ax.get_xscale() if horizontal else ax.get_yscale()
        if scale in ("log", "symlog", "logit"):
            yield f"bars on a {scale} {'x' if horizontal else 'y'} axis"
            return


def _log_drops(ax: Axes) -> Iterator[str]:
    for axis in ("x", "y"):
        if getattr(ax, f"get_{axis}scale")() != "log":
            continue
        col = 0 if axis == "x" else 1
        for line in ax.lines:
            if not line.get_visible() or not _data_transform(line, ax):
                continue
            values = np.asarray(line.get_xydata(), float)[:, col]
            values = values[np.isfinite(values)]
            dropped = int((values <= 0).sum())
            if dropped:
                yield (f"{dropped} value(s) <= 0 of {_describe(line)} are dropped by the log "
                       f"{axis} axis: draw them at a stated floor")
            elif axis == "y" and _flat_floor(values) and not _states_floor(ax):
                yield (f"{_describe(line)} lies flat on its minimum of {values.min():.3g} on "
                       "the log y axis, and no text states that floor")


def _flat_floor(values: np.ndarray) -> bool:
    """Two or more consecutive points exactly at the series' minimum: a clipped floor."""
    if len(values) < 3:
        return False
    at_min = values == values.min()
    return bool((at_min[1:] & at_min[:-1]).any()) and not at_min.all()


def _states_floor(ax: Axes) -> bool:
    texts = [t.get_text() for t in _texts_of(ax.figure)]
    return any(_FLOOR_WORDS.search(t) for t in texts)


# ------------------------------------------------------------------------------ labels


def _numeric_ticks(labels: Iterable[Text]) -> bool:
    for label in labels:
        text = label.get_text().strip()
        if label.get_visible() and text and (_NUMBER.match(text) or _MATH_NUMBER.match(text)):
            return True
    return False


def _axis_labels(ax: Axes) -> Iterator[str]:
    drawn = {id(t) for t in _drawn_tick_labels(ax)}
    for axis_name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
        labels = [t for tick in axis.majorTicks for t in (tick.label1, tick.label2)
                  if id(t) in drawn]
        if not axis.get_visible() or not _numeric_ticks(labels):
            continue
        label = axis.get_label().get_text().strip() if axis.get_label().get_visible() else ""
        if not label:
            yield f"the {axis_name} axis shows numbers but has no label"
        elif _DIMENSIONAL.search(label) and not _UNIT.search(label):
            yield f"the {axis_name} axis label {label!r} names no unit"


def _clipped_texts(ax: Axes, renderer: RendererBase) -> Iterator[str]:
    box = ax.get_window_extent(renderer)
    for text in ax.texts:
        if not text.get_visible() or not text.get_text().strip() or not text.get_clip_on():
            continue
        extent = text.get_window_extent(renderer)
        if not _inside(extent, box):
            yield f"the text {text.get_text()!r} reaches outside its axes and is clipped"


def _inside(inner: Bbox, outer: Bbox) -> bool:
    return bool(inner.x0 >= outer.x0 - SLACK_PX and inner.x1 <= outer.x1 + SLACK_PX
                and inner.y0 >= outer.y0 - SLACK_PX and inner.y1 <= outer.y1 + SLACK_PX)


# ------------------------------------------------------------------------ texts, canvas


def _drawn_tick_labels(ax: Axes) -> list[Text]:
    """The tick labels the last draw showed (an axis keeps spare ticks, outside its view
    and with stale text, that are never drawn)."""
    labels = []
    for axis in (ax.xaxis, ax.yaxis):
        if not axis.get_visible():
            continue
        for tick in axis._update_ticks():  # type: ignore[union-attr]  # what Axis.draw draws
            labels += [t for t in (tick.label1, tick.label2)
                       if t.get_visible() and t.get_text().strip()]
    return labels


def _texts_of(fig: Figure | SubFigure) -> list[Text]:
    """Every visible, non-empty text: titles, labels, annotations, legend entries and the
    tick labels actually drawn."""
    all_ticks = {id(t) for ax in fig.get_axes() for axis in (ax.xaxis, ax.yaxis)
                 for tick in [*axis.majorTicks, *axis.minorTicks]
                 for t in (tick.label1, tick.label2)}
    texts = [t for t in fig.findobj(Text) if id(t) not in all_ticks
             and t.get_visible() and t.get_text().strip()]
    for ax in fig.get_axes():
        if ax.get_visible() and ax.axison:
            texts += _drawn_tick_labels(ax)
    return texts


def _text_problems(fig: Figure, renderer: RendererBase) -> list[str]:
    problems = [f"the text {t.get_text()!r} shows None or nan" for t in _texts_of(fig)
                if _NONE_OR_NAN.search(t.get_text())]
    boxes = _labelled_boxes(fig, renderer)
    for i, (name_a, box_a, group_a) in enumerate(boxes):
        for name_b, box_b, group_b in boxes[i + 1:]:
            if group_a is not None and group_a == group_b:
                continue
            if _shrunk(box_a).overlaps(_shrunk(box_b)):
                problems.append(f"{name_a} collides with {name_b}")
    return problems


def _labelled_boxes(fig: Figure, renderer: RendererBase) -> list[tuple[str, Bbox, object]]:
    """(description, display box, group) of every text and legend; members of one group
    (a legend's own texts, a tick label and its own axis) are not compared."""
    boxes: list[tuple[str, Bbox, object]] = []
    legend_texts: set[int] = set()
    for legend in fig.findobj(Legend):
        if legend.get_visible():
            boxes.append((f"the legend of {_legend_owner(legend)}",
                          legend.get_window_extent(renderer), legend))
            legend_texts.update(id(t) for t in legend.findobj(Text))
    ticks = {id(t) for ax in fig.get_axes() for t in _drawn_tick_labels(ax)}
    for text in _texts_of(fig):
        if id(text) in legend_texts:
            continue
        box = text.get_window_extent(renderer)
        if box.width <= 0 or box.height <= 0:
            continue
        group = text if id(text) not in ticks else None
        boxes.append((f"the text {text.get_text()!r}", box, group))
    return boxes


def _legend_owner(legend: Legend) -> str:
    parent = legend.parent
    if isinstance(parent, Axes):
        return f"axes {parent.get_title()!r}" if parent.get_title() else "an axes"
    return "the figure"


def _canvas_problems(fig: Figure, renderer: RendererBase) -> list[str]:
    width, height = fig.bbox.width, fig.bbox.height
    problems = []
    in_legends = {id(t) for legend in fig.findobj(Legend) for t in legend.findobj(Text)}
    texts = [t for t in _texts_of(fig) if id(t) not in in_legends]
    for artist in [*texts, *fig.findobj(Legend)]:
        if not artist.get_visible():
            continue
        box = artist.get_window_extent(renderer)
        if box.x0 < -SLACK_PX or box.y0 < -SLACK_PX or box.x1 > width + SLACK_PX or (
                box.y1 > height + SLACK_PX):
            what = (f"the text {artist.get_text()!r}" if isinstance(artist, Text)
                    else "a legend")
            problems.append(f"{what} reaches past the edge of the canvas and is clipped")
    return problems
