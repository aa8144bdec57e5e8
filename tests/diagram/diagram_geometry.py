"""Read boxes and arrows back out of an SVG and check the drawing's invariants (test helpers)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import networkx as nx

from logicmodel.diagram import to_svg
from logicmodel.diagram.layout import FONT, PAD_X
from logicmodel.diagram.textmetrics import char_width, clean_text, text_width

NS = {"svg": "http://www.w3.org/2000/svg"}
_TOKEN = re.compile(r"[MLC]|-?\d+(?:\.\d+)?")


@dataclass(frozen=True)
class Rect:
    name: str
    x: float
    y: float
    width: float
    height: float
    lines: tuple[str, ...]

    def inside(self, px: float, py: float, tolerance: float = 0.5) -> bool:
        return (self.x + tolerance < px < self.x + self.width - tolerance
                and self.y + tolerance < py < self.y + self.height - tolerance)

    def on_border(self, px: float, py: float, tolerance: float = 0.11) -> bool:
        on_vertical = abs(px - self.x) <= tolerance or abs(px - self.x - self.width) <= tolerance
        within_y = self.y - tolerance <= py <= self.y + self.height + tolerance
        on_horizontal = abs(py - self.y) <= tolerance or abs(py - self.y - self.height) <= tolerance
        within_x = self.x - tolerance <= px <= self.x + self.width + tolerance
        return (on_vertical and within_y) or (on_horizontal and within_x)

    def overlaps(self, other: "Rect") -> bool:
        return (self.x < other.x + other.width and other.x < self.x + self.width
                and self.y < other.y + other.height and other.y < self.y + self.height)


@dataclass(frozen=True)
class Arrow:
    source: str
    target: str
    points: tuple[tuple[float, float], ...]  # sampled along the whole path
    start: tuple[float, float]
    end: tuple[float, float]


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def boxes(root: ET.Element) -> dict[str, Rect]:
    found = {}
    for group in root.iterfind(".//svg:g[@class='node']", NS):
        rect = group.find("svg:rect", NS)
        lines = tuple(span.text or "" for span in group.iterfind("svg:text/svg:tspan", NS))
        found[group.get("data-node")] = Rect(
            group.get("data-node"), *(float(rect.get(k)) for k in ("x", "y", "width", "height")), lines
        )
    return found


def _cubic(p0, p1, p2, p3, t):
    u = 1 - t
    return tuple(u**3 * a + 3 * u * u * t * b + 3 * u * t * t * c + t**3 * d for a, b, c, d in zip(p0, p1, p2, p3))


def sample_path(d: str, steps: int = 24) -> tuple[list[tuple[float, float]], tuple, tuple]:
    """Points along a path of absolute M, L and C commands (what the renderer writes)."""
    tokens = _TOKEN.findall(d)
    points: list[tuple[float, float]] = []
    current = start = None
    i = 0
    while i < len(tokens):
        command = tokens[i]
        count = {"M": 1, "L": 1, "C": 3}[command]
        coords = [float(v) for v in tokens[i + 1 : i + 1 + 2 * count]]
        pts = [tuple(coords[k : k + 2]) for k in range(0, 2 * count, 2)]
        i += 1 + 2 * count
        if command == "M":
            current = start = pts[0]
            points.append(current)
        elif command == "L":
            points += [tuple(a + (b - a) * s / steps for a, b in zip(current, pts[0])) for s in range(1, steps + 1)]
            current = pts[0]
        else:
            points += [_cubic(current, *pts, s / steps) for s in range(1, steps + 1)]
            current = pts[2]
    return points, start, current


def arrows(root: ET.Element) -> list[Arrow]:
    found = []
    for group in root.iterfind(".//svg:g[@class='edge']", NS):
        paths = group.findall("svg:path", NS)
        assert len(paths) == 1, "one path per arrow"
        points, start, end = sample_path(paths[0].get("d"))
        found.append(Arrow(group.get("data-source"), group.get("data-target"), tuple(points), start, end))
    return found


def check_geometry(svg: str) -> None:
    """Assert the drawing's invariants: no overlapping boxes, arrows from border to border
    that never enter a box."""
    root = parse(svg)
    rects = boxes(root)
    listed = list(rects.values())
    for i, a in enumerate(listed):
        for b in listed[i + 1 :]:
            assert not a.overlaps(b), f"boxes {a.name!r} and {b.name!r} overlap"
    area = _band_area(root)
    for rect in listed:
        assert area is not None and _within(area, rect.x, rect.y) and _within(area, rect.x + rect.width, rect.y + rect.height)
    grid = _grid(listed)
    for arrow in arrows(root):
        source, target = rects[arrow.source], rects[arrow.target]
        assert source.on_border(*arrow.start), f"{arrow.source}->{arrow.target} starts off its box: {arrow.start}"
        assert target.on_border(*arrow.end), f"{arrow.source}->{arrow.target} ends off its box: {arrow.end}"
        for point in arrow.points:
            assert _within(area, *point), f"{arrow.source}->{arrow.target} leaves the bands at {point}"
            for rect in grid.get((int(point[0] // CELL), int(point[1] // CELL)), ()):
                assert not rect.inside(*point), f"{arrow.source}->{arrow.target} passes through {rect.name!r} at {point}"


CELL = 40.0


def _band_area(root: ET.Element) -> tuple[float, float, float, float] | None:
    """(left, top, right, bottom) of all band backgrounds together."""
    xs, ys = [], []
    for band in root.iterfind(".//svg:polygon[@class='band']", NS):
        for pair in band.get("points").split():
            x, y = pair.split(",")
            xs.append(float(x))
            ys.append(float(y))
    return (min(xs), min(ys), max(xs), max(ys)) if xs else None


def _within(area, x: float, y: float) -> bool:
    return area[0] <= x <= area[2] and area[1] <= y <= area[3]


def _grid(rects: list[Rect]) -> dict[tuple[int, int], list[Rect]]:
    """Boxes by the grid cells they touch, so that each sampled point meets only nearby boxes."""
    grid: dict[tuple[int, int], list[Rect]] = {}
    for rect in rects:
        for gx in range(int(rect.x // CELL), int((rect.x + rect.width) // CELL) + 1):
            for gy in range(int(rect.y // CELL), int((rect.y + rect.height) // CELL) + 1):
                grid.setdefault((gx, gy), []).append(rect)
    return grid


def _squash(text: str) -> str:
    """Text without whitespace and hyphens, to compare wrapped lines with a title."""
    return "".join(ch for ch in clean_text(text) if not ch.isspace() and ch != "-")


def check_titles(graph: nx.DiGraph, svg: str) -> None:
    rects = boxes(parse(svg))
    assert len(rects) == graph.number_of_nodes()
    for key, attrs in graph.nodes(data=True):
        rect = rects[clean_text(str(key))]
        title = attrs.get("title") or ""
        title = title if clean_text(title).strip() else str(key)
        assert _squash("".join(rect.lines)) == _squash(title)
        for line in rect.lines:
            assert text_width(line, FONT) <= rect.width - 2 * PAD_X + 1e-9, line
            wide = sum(1 for ch in line if char_width(ch) > 0)
            assert wide * 0.6 * FONT <= rect.width - 2 * PAD_X + 1e-9, line  # the crude rule of thumb


def check_all(graph: nx.DiGraph) -> str:
    svg = to_svg(graph)
    check_geometry(svg)
    check_titles(graph, svg)
    return svg
