"""What every explorer shares: rendering a figure into an Image widget, showing errors."""

from __future__ import annotations

import io
import traceback

import ipywidgets as widgets
from matplotlib.figure import Figure

__all__ = ["render_png", "show_traceback"]


def render_png(fig: Figure, dpi: int) -> bytes:
    """The figure as PNG bytes, for an ``ipywidgets.Image``.

    Rendering the PNG ourselves (no tight bbox, one pass) and swapping it into an Image
    widget updates the picture in place, without clearing and re-displaying an output.
    """
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def show_traceback(errors: widgets.Output) -> None:
    """Replace ``errors``' content with the exception being handled (call in ``except``).

    A callback's exception would otherwise be lost; ``append_stdout`` also works headless.
    """
    errors.outputs = ()
    errors.append_stdout(traceback.format_exc())
