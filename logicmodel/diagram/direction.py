"""Which way a diagram runs: left to right (bands as columns) or top to bottom (bands as
rows, wrapped to a width), chosen from the model's shape and the width it must fit.

``auto`` draws left to right when that drawing fits the target width at full size, and
top to bottom otherwise: a wide model is not shrunk until its text is unreadable, it is
wrapped. Without a target width ``auto`` is left to right.
"""

from __future__ import annotations

from logicmodel.diagram.errors import DiagramError
from logicmodel.diagram.layout import Layout, compute_layout
from logicmodel.diagram.reading import DiagramInput
from logicmodel.diagram.stacking import stacked_layout

DIRECTIONS = ("auto", "lr", "tb")
DEFAULT_WIDTH = 1000.0  # px: a report's text column, a laptop screen
MIN_WIDTH = 420.0  # the narrowest left-to-right drawing (its band labels, title and legend need it)
NARROWEST = 320.0  # the narrowest width asked for: one column of boxes, title and legend wrapped
MARGIN = 20.0  # around the body, on every side


def check_direction(direction: str, width: float | None) -> None:
    """Refuse a direction that is not one of :data:`DIRECTIONS` or a width below :data:`NARROWEST`."""
    if direction not in DIRECTIONS:
        raise DiagramError("argument", "direction", direction, "expected one of " + ", ".join(map(repr, DIRECTIONS)))
    if width is not None and (isinstance(width, bool) or not isinstance(width, (int, float)) or not width >= NARROWEST):
        raise DiagramError("argument", "width", width, f"expected a number of pixels of at least {NARROWEST:g}")


def drawing_width(layout: Layout) -> float:
    """The width of the whole SVG drawn around a layout."""
    return max(layout.width + 2 * MARGIN, MIN_WIDTH if layout.direction == "lr" else NARROWEST)


def lay_out(diagram: DiagramInput, direction: str = "lr", width: float | None = None) -> Layout:
    """The layout of ``diagram`` for ``direction`` (``auto``, ``lr`` or ``tb``) and a target
    width of the whole drawing in pixels (``tb`` and ``auto`` fit it; default
    :data:`DEFAULT_WIDTH` for ``tb``)."""
    check_direction(direction, width)
    if direction == "lr" or (direction == "auto" and width is None):
        return compute_layout(diagram)
    if direction == "auto":
        across = compute_layout(diagram)
        if drawing_width(across) <= width:
            return across
    return stacked_layout(diagram, (width or DEFAULT_WIDTH) - 2 * MARGIN)


def chosen_direction(diagram: DiagramInput, direction: str = "auto", width: float | None = None) -> str:
    """``lr`` or ``tb``: what :func:`lay_out` draws (for the text formats' direction)."""
    check_direction(direction, width)
    if direction != "auto":
        return direction
    if width is None:
        return "lr"
    return "lr" if drawing_width(compute_layout(diagram)) <= width else "tb"
