"""Put a diagram together: columns, order, box sizes, positions and arrow routes.

``compute_layout`` is a pure function from the checked graph to geometry; the SVG
writer only draws what it returns. All sizes are in pixels (SVG user units).
"""

from __future__ import annotations

from dataclasses import dataclass

from logicmodel.diagram.layering import Layering, layer
from logicmodel.diagram.ordering import count_crossings, neighbours, order
from logicmodel.diagram.placement import place
from logicmodel.diagram.reading import DiagramInput
from logicmodel.diagram.routing import LOOP_REACH, Frame, Route, route
from logicmodel.diagram.textmetrics import wrap

FONT = 12.0
LINE = 15.0
TAG_FONT = 11.5  # no text of the drawing is set below 11.5 px: at 96 % scale it is still 11 px
TAG_LINE = 14.5
PAD_X = 9.0
PAD_Y = 8.0
WIDTHS = (200.0, 240.0, 280.0)
MAX_LINES = 5
CHANNEL = 4.0
EDGE_PAD = 16.0
RIGHT_PAD = 38.0
PORT_SPACING = 9.0


@dataclass(frozen=True)
class Box:
    """A node's box: top-left corner, size and wrapped title lines."""

    node: int
    x: float
    y: float
    width: float
    height: float
    lines: tuple[str, ...]

    def moved(self, dx: float, dy: float) -> Box:
        """The same box shifted by ``(dx, dy)``."""
        return Box(self.node, self.x + dx, self.y + dy, self.width, self.height, self.lines)


@dataclass(frozen=True)
class Band:
    """A level's background: band key and horizontal extent; in the top-to-bottom layout
    also its vertical extent (``top``/``bottom``; ``None`` for a full-height column) and
    its wrapped label lines."""

    key: str
    left: float
    right: float
    top: float | None = None
    bottom: float | None = None
    label: tuple[str, ...] = ()

    def moved(self, dx: float, dy: float = 0.0) -> Band:
        """The same band shifted by ``(dx, dy)`` (a full-height column only sideways)."""
        if self.top is None or self.bottom is None:
            return Band(self.key, self.left + dx, self.right + dx)
        return Band(self.key, self.left + dx, self.right + dx, self.top + dy, self.bottom + dy, self.label)


@dataclass(frozen=True)
class Layout:
    """Geometry of the diagram body, with the body's top at 0.

    ``direction`` is ``"lr"`` (bands as columns, left to right) or ``"tb"`` (bands as rows,
    top to bottom, :mod:`logicmodel.diagram.stacking`).
    """

    boxes: tuple[Box, ...]
    bands: tuple[Band, ...]
    routes: tuple[Route, ...]
    width: float
    height: float
    crossings: int
    direction: str = "lr"

    def moved(self, dx: float, dy: float) -> Layout:
        """The same layout shifted by ``(dx, dy)``."""
        return Layout(
            boxes=tuple(b.moved(dx, dy) for b in self.boxes),
            bands=tuple(b.moved(dx, dy) for b in self.bands),
            routes=tuple(r.moved(dx, dy) for r in self.routes),
            width=self.width,
            height=self.height,
            crossings=self.crossings,
            direction=self.direction,
        )


def _column_width(titles: list[str]) -> float:
    for width in WIDTHS:
        if all(len(wrap(t, width - 2 * PAD_X, FONT)) <= MAX_LINES for t in titles):
            return width
    return WIDTHS[-1]


def _box_height(lines: int, tags: int, ports: int) -> float:
    """Tall enough for the text and its tags (verdict, problems), and for the arrows on
    its busier side to land apart."""
    text = 2 * PAD_Y + lines * LINE + TAG_LINE * tags
    return max(text, PORT_SPACING * (ports + 1) + 12.0)


def _port_counts(layering: Layering) -> list[int]:
    """Arrows on the busier side of each box (a loop uses two ports on the right)."""
    left = [0] * layering.n_nodes
    right = [0] * layering.n_nodes
    for chain in layering.chains:
        right[chain.vertices[0]] += 1
        left[chain.vertices[-1]] += 1
    for _, box in layering.loops:
        right[box] += 2
    return [max(a, b) for a, b in zip(left, right)]


def _gaps(layering: Layering) -> list[float]:
    """Width of the gap after each column, growing with the arrows that cross it."""
    load = [0] * max(layering.n_columns, 1)
    for chain in layering.chains:
        for vertex in chain.vertices[:-1]:
            load[layering.column[vertex]] += 1
    return [min(120.0, max(56.0, 44.0 + 2.5 * count)) for count in load]


def _x_positions(widths: list[float], gaps: list[float]) -> tuple[list[float], list[float]]:
    lefts, rights, x = [], [], EDGE_PAD
    for width, gap in zip(widths, gaps):
        lefts.append(x)
        rights.append(x + width)
        x += width + gap
    return lefts, rights


def _bands(layering: Layering, lefts: list[float], rights: list[float], gaps: list[float]) -> list[Band]:
    bands = []
    last = layering.n_columns - 1
    for key, first, final in layering.bands:
        left = lefts[first] - (gaps[first - 1] / 2 if first > 0 else EDGE_PAD)
        right = rights[final] + (gaps[final] / 2 if final < last else RIGHT_PAD)
        bands.append(Band(key, left, right))
    return bands


def _sizes(diagram: DiagramInput, layering: Layering, widths: list[float]) -> tuple[list, list[float]]:
    """Wrapped title lines of each box, and the height of every vertex (channels are thin)."""
    lines: list[tuple[str, ...]] = []
    height = [CHANNEL] * len(layering.column)
    ports = _port_counts(layering)
    for vertex, node in enumerate(diagram.nodes):
        width = widths[layering.column[vertex]]
        lines.append(tuple(wrap(node.title, width - 2 * PAD_X, FONT)))
        tags = (node.verdict is not None) + bool(node.problems)
        height[vertex] = _box_height(len(lines[vertex]), tags, ports[vertex])
    return lines, height


def compute_layout(diagram: DiagramInput) -> Layout:
    """Lay out the boxes and arrows of a checked diagram."""
    layering = layer(diagram)
    columns = order(layering)
    n = layering.n_nodes
    widths = [_column_width([diagram.nodes[v].title for v in col if v < n]) for col in columns]
    lines, height = _sizes(diagram, layering, widths)
    left_of, right_of = neighbours(layering)
    y = place(columns, height, n, left_of, right_of)
    gaps = _gaps(layering)
    lefts, rights = _x_positions(widths, gaps)
    frame = Frame(layering.column, tuple(lefts), tuple(rights), tuple(y), tuple(height))
    boxes = tuple(
        Box(v, frame.left(v), y[v] - height[v] / 2, widths[layering.column[v]], height[v], lines[v]) for v in range(n)
    )
    bottom = max((y[v] + height[v] / 2 for v in range(len(y))), default=0.0)
    return Layout(
        boxes=boxes,
        bands=tuple(_bands(layering, lefts, rights, gaps)),
        routes=tuple(route(layering, frame)),
        width=(rights[-1] + RIGHT_PAD) if rights else 2 * EDGE_PAD,
        height=bottom + (LOOP_REACH / 3 if layering.loops else 0.0),
        crossings=count_crossings(columns, right_of),
    )
