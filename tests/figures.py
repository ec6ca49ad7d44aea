"""Checks on drawn figures shared by the explorer tests."""

from __future__ import annotations

from typing import Any


def clipped(fig: Any) -> bool:
    """Whether anything drawn (labels, ticks, titles, legends) reaches past the canvas."""
    fig.canvas.draw()
    tight = fig.get_tightbbox(fig.canvas.get_renderer())  # inches
    width, height = fig.get_size_inches()
    return bool(tight.x0 < -0.01 or tight.y0 < -0.01 or tight.x1 > width + 0.01
                or tight.y1 > height + 0.01)
