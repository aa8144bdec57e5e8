"""The top-to-bottom layout: bands as rows, each band's boxes wrapped into as many rows as
the width needs.

The boxes sit on one grid of equal columns for the whole drawing, so the free spaces
between columns (*corridors*, and the margins left and right) run from top to bottom
and the free spaces between rows (*gaps*) run from left to right. Every arrow leaves
its source from the bottom side into the gap below, and enters its target from the top
(a target further down) or from the bottom (a target in the same row or higher up; a
link to itself is a loop below its box). When the target's gap is another one, the
arrow runs along the first gap to the nearest corridor, along the corridor to the
target's gap, and along that gap to the target. Each piece of an arrow in a gap or a
corridor gets its own lane (pieces that do not overlap may share one), so arrows never
run on top of each other and never pass behind a box.

The order of the boxes in a band is the order the left-to-right layout found
(:mod:`logicmodel.diagram.ordering`), read column by column: a band reads like text.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass

from logicmodel.diagram.layering import layer
from logicmodel.diagram.layout import FONT, LINE, PAD_X, PAD_Y, TAG_LINE, Band, Box, Layout
from logicmodel.diagram.ordering import order
from logicmodel.diagram.reading import DiagramInput
from logicmodel.diagram.routing import Route
from logicmodel.diagram.textmetrics import wrap
from logicmodel.diagram.vocabulary import BAND_LABELS

BOX_MIN = 140.0
BOX_MAX = 240.0
LANE = 5.0  # distance between two lanes of a gap or a corridor
GAP_MIN = 18.0
CORRIDOR_MIN = 18.0
MARGIN_MIN = 10.0
LABEL_FONT = 13.0
LABEL_PAD = 6.0
BAND_PAD = 6.0


@dataclass(frozen=True)
class Slot:
    """Where a box sits on the grid: its band, row (over the whole drawing) and column."""

    band: int
    row: int
    column: int


@dataclass(frozen=True)
class Attachment:
    """One arrow end on a box side: the edge, which end (0 source, 1 target) and the far end's x."""

    edge: int
    end: int
    towards: float


def band_sequences(diagram: DiagramInput) -> list[tuple[str, list[int]]]:
    """The boxes of each band in reading order: the left-to-right layout's columns, one after another."""
    layering = layer(diagram)
    columns = order(layering)
    n = layering.n_nodes
    return [(key, [v for c in range(first, last + 1) for v in columns[c] if v < n])
            for key, first, last in layering.bands]


def slots(sequences: list[tuple[str, list[int]]], per_row: int) -> tuple[dict[int, Slot], int]:
    """Grid slots of every box (a short row centred on whole columns) and the number of rows."""
    found: dict[int, Slot] = {}
    row = 0
    for band, (_, boxes) in enumerate(sequences):
        for start in range(0, len(boxes), per_row):
            chunk = boxes[start:start + per_row]
            offset = (per_row - len(chunk)) // 2
            for index, box in enumerate(chunk):
                found[box] = Slot(band, row, offset + index)
            row += 1
    return found, row


def assign_lanes(spans: list[tuple[float, float, object]], clearance: float = LANE) -> dict[object, int]:
    """Lane of each ``(low, high, key)`` span: the first lane whose last span ends ``clearance`` before it."""
    ends: list[float] = []
    lanes: dict[object, int] = {}
    for low, high, key in sorted(spans, key=lambda s: (s[0], s[1], str(s[2]))):
        lane = next((i for i, end in enumerate(ends) if end + clearance <= low), len(ends))
        if lane == len(ends):
            ends.append(high)
        else:
            ends[lane] = high
        lanes[key] = lane
    return lanes


def lane_offsets(count: int, size: float) -> list[float]:
    """Evenly spread positions of ``count`` lanes across a space of ``size``."""
    return [size * (i + 1) / (count + 1) for i in range(count)]


def band_label_lines(label: str, width: float) -> list[str]:
    return wrap(label, width - 2 * 8.0, LABEL_FONT, bold=True)


def spread(items: list[Attachment], shift: float) -> dict[tuple[int, int], float]:
    """Where along one box side (0 left edge, 1 right edge) each arrow end sits: spread
    evenly, sorted by where the arrows go, moved by ``shift`` of the spacing."""
    ordered = sorted(items, key=lambda a: (a.towards, a.edge, a.end))
    spacing = 1.0 / (len(ordered) + 1)
    return {(a.edge, a.end): spacing * (rank + 1 + shift) for rank, a in enumerate(ordered)}


SHIFTS = (0.0, 0.5, 0.25, 0.75, 0.125, 0.375, 0.625, 0.875)
APART = 0.03  # of a box's width: the least distance between a top port and a bottom port above it


def port_fractions(plans: list[Plan], slot: dict[int, Slot]) -> dict[tuple[int, int], float]:
    """Fraction along its box side of every arrow end.

    The top ports of a box keep clear of the bottom ports of the box above it (same
    column, the row before): in the gap between them a rise into the lower box and a drop
    from the upper box then never share a line.
    """
    sides = _sides(plans, slot)
    found: dict[tuple[int, int], float] = {}
    bottoms: dict[tuple[int, int], list[float]] = {}
    for (side, box), items in sides.items():
        if side == "B":
            placed = spread(items, 0.0)
            found.update(placed)
            bottoms[(slot[box].row, slot[box].column)] = list(placed.values())
    for (side, box), items in sides.items():
        if side == "T":
            above = bottoms.get((slot[box].row - 1, slot[box].column), [])
            for shift in SHIFTS:
                placed = spread(items, shift)
                if all(abs(x - y) >= APART for x in placed.values() for y in above):
                    break
            found.update(placed)
    return found


def route_polyline(points: list[tuple[float, float]], edge: int, direction: int) -> Route:
    """A route of straight pieces through ``points``; the arrowhead follows the last piece."""
    clean = [points[0]]
    for point in points[1:]:
        if point != clean[-1]:
            clean.append(point)
    (x0, y0), (x1, y1) = clean[-2], clean[-1]
    pointing = (0.0, 1.0 if y1 > y0 else -1.0) if x0 == x1 else (1.0 if x1 > x0 else -1.0, 0.0)
    return Route(edge, clean[0], tuple(("L", p) for p in clean[1:]), direction, pointing)


# ---- the plan of every arrow: which gaps and corridor it uses --------------------------


@dataclass(frozen=True)
class Plan:
    """One arrow's way: the gap below its source, the corridor (``None``: the same gap
    leads to the target) and the gap it enters its target from, top or bottom side."""

    edge: int
    source: int
    target: int
    first_gap: int
    corridor: int | None
    last_gap: int
    enters_top: bool


def plan_arrows(diagram: DiagramInput, slot: dict[int, Slot]) -> list[Plan]:
    """The way of every arrow. An arrow to another column takes the corridor beside its
    source on the target's side; one to the same column the less used of the two beside it."""
    plans = []
    load: dict[int, int] = {}
    for index, edge in enumerate(diagram.edges):
        s, t = slot[edge.source], slot[edge.target]
        enters_top = t.row > s.row
        first, last = s.row + 1, (t.row if enters_top else t.row + 1)
        corridor = None
        if first != last:
            if t.column != s.column:
                corridor = s.column + 1 if t.column > s.column else s.column
            else:
                corridor = min((s.column, s.column + 1), key=lambda k: (load.get(k, 0), k))
            load[corridor] = load.get(corridor, 0) + 1
        plans.append(Plan(index, edge.source, edge.target, first, corridor, last, enters_top))
    return plans


def _sides(plans: list[Plan], slot: dict[int, Slot]) -> dict[tuple[str, int], list[Attachment]]:
    """Arrow ends on each box side (``"T"`` top, ``"B"`` bottom), with the abstract x of their far end."""
    sides: dict[tuple[str, int], list[Attachment]] = {}
    for plan in plans:
        s, t = slot[plan.source], slot[plan.target]
        near_source = plan.corridor if plan.corridor is not None else t.column + 0.5
        near_target = plan.corridor if plan.corridor is not None else s.column + 0.5
        sides.setdefault(("B", plan.source), []).append(Attachment(plan.edge, 0, near_source))
        side = "T" if plan.enters_top else "B"
        sides.setdefault((side, plan.target), []).append(Attachment(plan.edge, 1, near_target))
    return sides


def _ports(plans, slot, left_of, width: float) -> dict[tuple[int, int], float]:
    """x of every arrow end; ``left_of(column)`` is a column's left edge, ``width`` a box's width."""
    box_of = {}
    for plan in plans:
        box_of[(plan.edge, 0)], box_of[(plan.edge, 1)] = plan.source, plan.target
    return {key: left_of(slot[box_of[key]].column) + width * fraction
            for key, fraction in port_fractions(plans, slot).items()}


def _pieces(plans: list[Plan], port: dict[tuple[int, int], float], corridor_x):
    """Gap pieces ``(gap, low x, high x, key)`` and corridor pieces ``(corridor, low gap, high gap, key)``."""
    gaps, corridors = [], []
    for plan in plans:
        start, end = port[(plan.edge, 0)], port[(plan.edge, 1)]
        if plan.corridor is None:
            gaps.append((plan.first_gap, min(start, end), max(start, end), (plan.edge, 0)))
            continue
        x = corridor_x(plan.corridor)
        gaps.append((plan.first_gap, min(start, x), max(start, x), (plan.edge, 0)))
        gaps.append((plan.last_gap, min(end, x), max(end, x), (plan.edge, 1)))
        low, high = sorted((plan.first_gap, plan.last_gap))
        corridors.append((plan.corridor, low, high, plan.edge))
    return gaps, corridors


def _lanes(pieces, clearance: float) -> tuple[dict, dict[int, int]]:
    """Lane of every piece and the number of lanes of every gap (or corridor)."""
    by_place: dict[int, list] = {}
    for place, low, high, key in pieces:
        by_place.setdefault(place, []).append((low, high, key))
    lanes: dict = {}
    counts: dict[int, int] = {}
    for place, spans in by_place.items():
        found = assign_lanes(spans, clearance)
        lanes.update(found)
        counts[place] = max(found.values()) + 1
    return lanes, counts


# ---- sizes and positions --------------------------------------------------------------

TINY = 1e-6


@dataclass(frozen=True)
class Grid:
    """Columns and corridors across, rows and gaps down (gap ``g`` lies above row ``g``;
    gap ``n_rows`` below the last row)."""

    per_row: int
    box_width: float
    corridor_left: tuple[float, ...]
    corridor_width: tuple[float, ...]
    row_top: tuple[float, ...]
    row_height: tuple[float, ...]
    gap_top: tuple[float, ...]
    gap_height: tuple[float, ...]

    def column_left(self, column: int) -> float:
        return self.corridor_left[column] + self.corridor_width[column]

    def corridor_lane(self, corridor: int, lane: int, count: int) -> float:
        return self.corridor_left[corridor] + lane_offsets(count, self.corridor_width[corridor])[lane]

    def gap_lane(self, gap: int, lane: int, count: int) -> float:
        return self.gap_top[gap] + lane_offsets(count, self.gap_height[gap])[lane]


def _corridor_widths(per_row: int, counts: dict[int, int]) -> list[float]:
    widths = []
    for k in range(per_row + 1):
        floor = MARGIN_MIN if k in (0, per_row) else CORRIDOR_MIN
        widths.append(max(floor, (counts.get(k, 0) + 1) * LANE))
    return widths


def _box_lines(diagram: DiagramInput, width: float) -> list[tuple[str, ...]]:
    return [tuple(wrap(node.title, width - 2 * PAD_X, FONT)) for node in diagram.nodes]


def _box_height(diagram: DiagramInput, vertex: int, lines: int) -> float:
    node = diagram.nodes[vertex]
    return 2 * PAD_Y + lines * LINE + TAG_LINE * ((node.verdict is not None) + bool(node.problems))


def _label_height(lines: int) -> float:
    return lines * LABEL_FONT * 1.25 + 2 * LABEL_PAD


def _vertical(diagram, sequences, slot, n_rows, lines, gap_counts, labels):
    """Row and gap tops and heights, and each band's (top, bottom)."""
    row_height = [0.0] * n_rows
    for vertex, where in slot.items():
        row_height[where.row] = max(row_height[where.row], _box_height(diagram, vertex, len(lines[vertex])))
    gap_height = [max(GAP_MIN, (gap_counts.get(g, 0) + 1) * LANE) for g in range(n_rows + 1)]
    row_top, gap_top, bands = [0.0] * n_rows, [0.0] * (n_rows + 1), []
    y = 0.0
    for band, (_, boxes) in enumerate(sequences):
        top = y
        y += _label_height(len(labels[band]))
        for row in sorted({slot[v].row for v in boxes}):
            gap_top[row] = y
            y += gap_height[row]
            row_top[row] = y
            y += row_height[row]
        if band == len(sequences) - 1:
            gap_top[n_rows] = y
            y += gap_height[n_rows]
        else:
            y += BAND_PAD
        bands.append((top, y))
    return row_top, row_height, gap_top, gap_height, bands


def _abstract_lanes(plans, slot):
    """Lanes of every piece, found on the abstract grid (column ``c`` spans ``(c, c + 1)``,
    corridor ``k`` sits at ``k``; gap ``g`` at ``g``): pieces that touch get separate lanes."""
    port = _ports(plans, slot, float, 1.0)
    gaps, corridors = _pieces(plans, port, float)
    gap_lanes, gap_counts = _lanes(gaps, TINY)
    corridor_lanes, corridor_counts = _lanes(corridors, TINY)
    return gap_lanes, gap_counts, corridor_lanes, corridor_counts


def _route(plan: Plan, grid: Grid, port, boxes: dict[int, Box], lanes, direction: int) -> Route:
    gap_lanes, gap_counts, corridor_lanes, corridor_counts = lanes
    source, target = boxes[plan.source], boxes[plan.target]
    x0, x1 = port[(plan.edge, 0)], port[(plan.edge, 1)]
    first = grid.gap_lane(plan.first_gap, gap_lanes[(plan.edge, 0)], gap_counts[plan.first_gap])
    end_y = target.y if plan.enters_top else target.y + target.height
    points = [(x0, source.y + source.height), (x0, first)]
    if plan.corridor is not None:
        x = grid.corridor_lane(plan.corridor, corridor_lanes[plan.edge], corridor_counts[plan.corridor])
        last = grid.gap_lane(plan.last_gap, gap_lanes[(plan.edge, 1)], gap_counts[plan.last_gap])
        points += [(x, first), (x, last), (x1, last)]
    else:
        points.append((x1, first))
    points.append((x1, end_y))
    return route_polyline(points, plan.edge, direction)


def _reading_direction(slot: dict[int, Slot], plan: Plan) -> int:
    s, t = slot[plan.source], slot[plan.target]
    return 1 if (t.band, t.row, t.column) > (s.band, s.row, s.column) else -1


def _fit(diagram: DiagramInput, sequences, per_row: int, width: float, strict: bool) -> Layout | None:
    """The layout with ``per_row`` columns, or ``None`` when its boxes would be narrower than
    ``BOX_MIN`` (unless not ``strict``)."""

    slot, n_rows = slots(sequences, per_row)
    plans = plan_arrows(diagram, slot)
    lanes = _abstract_lanes(plans, slot)
    corridors = _corridor_widths(per_row, lanes[3])
    box_width = min(BOX_MAX, (width - sum(corridors)) / per_row)
    if box_width < BOX_MIN:
        if strict:
            return None
        box_width = BOX_MIN
    lefts = [0.0]
    for k in range(per_row):
        lefts.append(lefts[-1] + corridors[k] + box_width)
    total = lefts[-1] + corridors[-1]
    labels = [tuple(band_label_lines(BAND_LABELS[diagram.lang][key], total)) for key, _ in sequences]
    lines = _box_lines(diagram, box_width)
    row_top, row_height, gap_top, gap_height, extents = _vertical(diagram, sequences, slot, n_rows, lines, lanes[1], labels)
    grid = Grid(per_row, box_width, tuple(lefts), tuple(corridors), tuple(row_top), tuple(row_height),
                tuple(gap_top), tuple(gap_height))
    boxes = {v: Box(v, grid.column_left(w.column), row_top[w.row], box_width, row_height[w.row], lines[v])
             for v, w in slot.items()}
    port = _ports(plans, slot, grid.column_left, box_width)
    routes = [_route(p, grid, port, boxes, lanes, _reading_direction(slot, p)) for p in plans]
    bands = tuple(Band(key, 0.0, total, top, bottom, label)
                  for (key, _), (top, bottom), label in zip(sequences, extents, labels))
    return Layout(tuple(boxes[v] for v in range(len(diagram.nodes))), bands, tuple(routes), total,
                  extents[-1][1] if extents else 0.0, count_crossings(routes), "tb")


def max_per_row(width: float) -> int:
    """The most columns of ``BOX_MIN`` boxes that the width could hold."""
    return max(1, int((width - 2 * MARGIN_MIN + CORRIDOR_MIN) // (BOX_MIN + CORRIDOR_MIN)))


def stacked_layout(diagram: DiagramInput, width: float) -> Layout:
    """Lay out the boxes and arrows top to bottom within ``width`` pixels (the drawing body).

    The widest grid whose boxes keep ``BOX_MIN`` pixels wins; a band never has more columns
    than boxes. When not even one column fits, the drawing is one column of ``BOX_MIN``
    boxes, wider than asked.
    """
    if not diagram.nodes:
        return Layout((), (), (), 2 * MARGIN_MIN, 0.0, 0, "tb")
    sequences = band_sequences(diagram)
    widest = max(len(boxes) for _, boxes in sequences)
    for per_row in range(min(max_per_row(width), widest), 0, -1):
        found = _fit(diagram, sequences, per_row, width, strict=True)
        if found is not None:
            return found
    return _fit(diagram, sequences, 1, width, strict=False)


def _segments(route: Route) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    points = [route.start] + [segment[-1] for segment in route.segments]
    return list(zip(points, points[1:]))


def count_crossings(routes: list[Route]) -> int:
    """Points where a horizontal piece of one arrow crosses a vertical piece of another."""

    horizontal, vertical = [], []
    for route in routes:
        for a, b in _segments(route):
            if a[1] == b[1]:
                horizontal.append((route.edge, min(a[0], b[0]), max(a[0], b[0]), a[1]))
            else:
                vertical.append((a[0], route.edge, min(a[1], b[1]), max(a[1], b[1])))
    vertical.sort()
    xs = [v[0] for v in vertical]
    count = 0
    for edge, low, high, y in horizontal:
        for _, other, top, bottom in vertical[bisect_right(xs, low):bisect_left(xs, high)]:
            if other != edge and top < y < bottom:
                count += 1
    return count
