"""Arrow paths: ports on the box sides, channels through columns, curves across gaps.

An arrow leaves a box from its right side and enters the next box from its left side
(reversed arrows the other way round). Several arrows on one side get evenly spread
ports, sorted by the height of where they go, so they do not cross at the box. Inside
a column an arrow runs straight through its channel point's free slot; across the gap
between two columns it is a cubic Bézier curve with horizontal tangents, which stays
inside the gap. So no arrow ever passes behind a box. A link from a box to itself is
a loop on the box's right side.
"""

from __future__ import annotations

from dataclasses import dataclass

from logicmodel.diagram.layering import Chain, Layering

Point = tuple[float, float]
LOOP_REACH = 30.0


@dataclass(frozen=True)
class Frame:
    """Where things are: column of each vertex, column edges, centre heights, box heights."""

    column: tuple[int, ...]
    column_left: tuple[float, ...]
    column_right: tuple[float, ...]
    y: tuple[float, ...]
    height: tuple[float, ...]

    def left(self, vertex: int) -> float:
        return self.column_left[self.column[vertex]]

    def right(self, vertex: int) -> float:
        return self.column_right[self.column[vertex]]


@dataclass(frozen=True)
class Route:
    """One arrow from its source border to its target border.

    ``segments`` holds, for each piece after the start, ``("C", c1, c2, end)`` or
    ``("L", end)``; ``direction`` is +1 when the arrow runs with the reading order of the
    drawing (left to right; top to bottom), -1 against it. ``pointing`` is the unit vector
    of the arrowhead when it is not ``(direction, 0)`` (the top-to-bottom layout).
    """

    edge: int
    start: Point
    segments: tuple[tuple, ...]
    direction: int
    pointing: tuple[float, float] | None = None

    @property
    def head(self) -> tuple[float, float]:
        """Unit vector the arrowhead points along."""
        return self.pointing if self.pointing is not None else (float(self.direction), 0.0)

    @property
    def end(self) -> Point:
        return self.segments[-1][-1]

    def moved(self, dx: float, dy: float) -> Route:
        """The same route shifted by ``(dx, dy)``."""
        shift = lambda p: (p[0] + dx, p[1] + dy)  # noqa: E731
        segments = tuple((s[0], *map(shift, s[1:])) for s in self.segments)
        return Route(self.edge, shift(self.start), segments, self.direction, self.pointing)

    def path(self) -> str:
        """The SVG path data, one decimal per coordinate."""
        parts = [f"M{format_point(self.start)}"]
        for segment in self.segments:
            parts.append(segment[0] + " ".join(format_point(p) for p in segment[1:]))
        return " ".join(parts)


def format_number(value: float) -> str:
    """A coordinate with one decimal and never ``-0.0``."""
    return f"{round(value, 1) + 0.0:.1f}"


def format_point(point: Point) -> str:
    return f"{format_number(point[0])},{format_number(point[1])}"


# A port is keyed by (side "L" or "R", box, edge, end) where end 0/1 tells a loop's two ends.
PortKey = tuple[str, int, int, int]


def _attachments(layering: Layering, frame: Frame) -> dict[tuple[str, int], list[tuple[float, int, int]]]:
    """For each box side, ``(height of the far end, edge, end)`` of the arrows attached."""
    sides: dict[tuple[str, int], list[tuple[float, int, int]]] = {}
    for chain in layering.chains:
        first, last = chain.vertices[0], chain.vertices[-1]
        sides.setdefault(("R", first), []).append((frame.y[chain.vertices[1]], chain.edge, 0))
        sides.setdefault(("L", last), []).append((frame.y[chain.vertices[-2]], chain.edge, 0))
    for edge, box in layering.loops:
        below = frame.y[box] + frame.height[box]
        sides.setdefault(("R", box), []).extend([(below, edge, 0), (below, edge, 1)])
    return sides


def ports(layering: Layering, frame: Frame) -> dict[PortKey, float]:
    """Port height of every arrow end, spread evenly along the side of its box."""
    found: dict[PortKey, float] = {}
    for (side, box), items in _attachments(layering, frame).items():
        inset = min(6.0, frame.height[box] / 4)
        top = frame.y[box] - frame.height[box] / 2 + inset
        span = frame.height[box] - 2 * inset
        ordered = sorted(items)
        for rank, (_, edge, end) in enumerate(ordered):
            found[(side, box, edge, end)] = top + span * (rank + 1) / (len(ordered) + 1)
    return found


def _points(chain: Chain, frame: Frame, port: dict[PortKey, float]) -> list[Point]:
    first, last = chain.vertices[0], chain.vertices[-1]
    points = [(frame.right(first), port[("R", first, chain.edge, 0)])]
    for dummy in chain.vertices[1:-1]:
        points += [(frame.left(dummy), frame.y[dummy]), (frame.right(dummy), frame.y[dummy])]
    points.append((frame.left(last), port[("L", last, chain.edge, 0)]))
    return points


def _segments(points: list[Point]) -> tuple[tuple, ...]:
    """Curves across gaps (even pieces), straight runs through channels (odd pieces)."""
    segments = []
    for index, (a, b) in enumerate(zip(points, points[1:])):
        if index % 2 == 0:
            middle = (a[0] + b[0]) / 2
            segments.append(("C", (middle, a[1]), (middle, b[1]), b))
        else:
            segments.append(("L", b))
    return tuple(segments)


def _chain_route(chain: Chain, frame: Frame, port: dict[PortKey, float]) -> Route:
    points = _points(chain, frame, port)
    if chain.reversed:
        points.reverse()
    return Route(chain.edge, points[0], _segments(points), -1 if chain.reversed else 1)


def _loop_route(edge: int, box: int, frame: Frame, port: dict[PortKey, float]) -> Route:
    x = frame.right(box)
    upper, lower = port[("R", box, edge, 0)], port[("R", box, edge, 1)]
    curve = ("C", (x + LOOP_REACH, upper - LOOP_REACH / 3), (x + LOOP_REACH, lower + LOOP_REACH / 3), (x, lower))
    return Route(edge, (x, upper), (curve,), -1)


def route(layering: Layering, frame: Frame) -> list[Route]:
    """One route per edge, sorted by edge index."""
    port = ports(layering, frame)
    routes = [_chain_route(chain, frame, port) for chain in layering.chains]
    routes += [_loop_route(edge, box, frame, port) for edge, box in layering.loops]
    return sorted(routes, key=lambda r: r.edge)
