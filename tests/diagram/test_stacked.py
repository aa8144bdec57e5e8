"""The top-to-bottom layout: bands as rows, wrapped to a width, arrows in their own lanes."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import networkx as nx
import pytest
from diagram_geometry import NS, arrows, boxes, check_geometry, check_titles, parse
from diagram_samples import random_layered, return_model

from logicmodel.diagram import DiagramError, to_dot, to_mermaid, to_svg
from logicmodel.diagram.direction import lay_out
from logicmodel.diagram.reading import read_graph
from logicmodel.diagram.stacking import assign_lanes, max_per_row
from logicmodel.diagram.textmetrics import text_width

WIDTHS = (320, 340, 420, 460, 680, 920, 1400)


def _size(svg: str) -> tuple[float, float]:
    width, height = re.search(r'<svg [^>]*width="([\d.]+)" height="([\d.]+)"', svg).groups()
    return float(width), float(height)


def _pieces(svg: str):
    """Straight pieces of every arrow: ((x0, y0), (x1, y1), edge id)."""
    found = []
    for group in parse(svg).iterfind(".//svg:g[@class='edge']", NS):
        numbers = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", group.find("svg:path", NS).get("d"))]
        points = list(zip(numbers[::2], numbers[1::2]))
        found += [(a, b, group.get("id")) for a, b in zip(points, points[1:])]
    return found


def check_no_shared_runs(svg: str) -> None:
    """No two arrows run along the same line for any length (they may only cross)."""
    pieces = _pieces(svg)
    for i, (a0, a1, ea) in enumerate(pieces):
        for b0, b1, eb in pieces[i + 1:]:
            if ea == eb:
                continue
            for axis in (0, 1):  # 0: vertical pieces (same x), 1: horizontal pieces (same y)
                if a0[axis] == a1[axis] == b0[axis] == b1[axis]:
                    other = 1 - axis
                    low = max(min(a0[other], a1[other]), min(b0[other], b1[other]))
                    high = min(max(a0[other], a1[other]), max(b0[other], b1[other]))
                    assert high - low <= 0.05, f"{ea} and {eb} run together at {a0}-{a1} / {b0}-{b1}"


def check_text_inside(svg: str) -> None:
    """Every text, by the renderer's own width estimate, lies inside the drawing."""
    width = _size(svg)[0]
    for text in parse(svg).iter("{http://www.w3.org/2000/svg}text"):
        size = float(text.get("font-size") or 12)
        bold = text.get("font-weight") == "bold"
        lines = text.findall("svg:tspan", NS) or [text]
        for line in lines:
            x = float(line.get("x") or text.get("x") or 0)
            w = text_width(line.text or "", size, bold)
            anchor = text.get("text-anchor")
            left, right = (x - w / 2, x + w / 2) if anchor == "middle" else (x, x + w)
            assert left >= 0 and right <= width + 0.5, (line.text, left, right, width)


@pytest.mark.parametrize("width", WIDTHS)
def test_the_45_node_model_fits_each_width_top_to_bottom(width):
    graph = return_model(verdicts=True, ratings=True)
    svg = to_svg(graph, direction="tb", width=width)
    assert 'data-direction="tb"' in svg
    assert _size(svg)[0] <= width
    check_geometry(svg)
    check_titles(graph, svg)
    check_no_shared_runs(svg)
    check_text_inside(svg)


def test_bands_are_rows_in_order_and_boxes_sit_in_their_band():
    graph = return_model()
    svg = to_svg(graph, direction="tb", width=680)
    root = parse(svg)
    bands = []
    for band in root.iterfind(".//svg:polygon[@class='band']", NS):
        ys = [float(p.split(",")[1]) for p in band.get("points").split()]
        bands.append((band.get("data-band"), min(ys), max(ys)))
    assert [b[0] for b in bands] == ["input", "activity", "output", "outcome_short", "outcome_medium", "outcome_long",
                                     "impact"]
    assert all(a[2] <= b[1] + 1e-6 for a, b in zip(bands, bands[1:]))  # one below the other
    level = {key: (attrs["level"], attrs.get("horizon")) for key, attrs in graph.nodes(data=True)}
    by_key = {b[0]: b for b in bands}
    for name, rect in boxes(root).items():
        lvl, horizon = level[name]
        _, top, bottom = by_key[f"{lvl}_{horizon}" if horizon else lvl]
        assert top < rect.y and rect.y + rect.height < bottom, name


def test_wrapping_uses_more_rows_when_narrower():
    graph = return_model()
    heights = [_size(to_svg(graph, direction="tb", width=w))[1] for w in (460, 680, 920)]
    assert heights[0] > heights[1] > heights[2]
    columns = {w: len({round(r.x) for r in boxes(parse(to_svg(graph, direction="tb", width=w))).values()})
               for w in (460, 680, 920)}
    assert columns[460] < columns[680] < columns[920]


def test_auto_is_left_to_right_when_that_fits_and_top_to_bottom_otherwise():
    small = nx.DiGraph(title="Liten", id="liten")
    small.add_node("a", level="activity", title="A")
    small.add_node("b", level="impact", title="B")
    small.add_edge("a", "b")
    assert 'data-direction="lr"' in to_svg(small, direction="auto", width=800)
    wide = return_model()
    lr_width = _size(to_svg(wide))[0]
    assert 'data-direction="lr"' in to_svg(wide, direction="auto", width=lr_width)
    assert 'data-direction="tb"' in to_svg(wide, direction="auto", width=lr_width - 1)
    assert 'data-direction="lr"' in to_svg(wide, direction="auto")  # no width: nothing to fit
    assert "flowchart TB" in to_mermaid(wide, direction="auto", width=1000)
    assert "rankdir=TB" in to_dot(wide, direction="auto", width=1000)
    assert "flowchart LR" in to_mermaid(wide) and "rankdir=LR" in to_dot(wide)


def test_cycles_loops_backward_links_and_parallel_edges_top_to_bottom():
    graph = nx.MultiDiGraph(title="Sykler", id="sykler")
    for key, level in (("a", "activity"), ("b", "output"), ("c", "output"), ("d", "impact")):
        graph.add_node(key, level=level, title=f"Boks {key}")
    for s, t in (("a", "b"), ("b", "c"), ("c", "b"), ("b", "b"), ("d", "a"), ("a", "d"), ("a", "d")):
        graph.add_edge(s, t)
    svg = to_svg(graph, direction="tb", width=460)
    check_geometry(svg)
    check_no_shared_runs(svg)
    found = arrows(parse(svg))
    assert len(found) == 7 and len({a.start for a in found}) == 7  # every arrow leaves from its own port
    assert "kobling mot strømmen" in svg  # the legend names the links drawn against the reading order


@pytest.mark.parametrize("n, seed", [(12, 1), (30, 2), (60, 3), (90, 4)])
@pytest.mark.parametrize("width", (460, 920))
def test_random_layered_graphs_top_to_bottom(n, seed, width):
    graph = random_layered(n, seed)
    svg = to_svg(graph, direction="tb", width=width)
    assert _size(svg)[0] <= width
    check_geometry(svg)
    check_titles(graph, svg)
    check_no_shared_runs(svg)


def test_empty_and_single_node_graphs():
    empty = to_svg(nx.DiGraph(), direction="tb", width=460)
    assert "Modellen har ingen noder." in empty
    one = nx.DiGraph()
    one.add_node("x", level="input", title="X")
    check_geometry(to_svg(one, direction="tb", width=460))


def test_deterministic():
    graph = return_model(verdicts=True, ratings=True)
    assert to_svg(graph, direction="tb", width=680) == to_svg(graph, direction="tb", width=680)


def test_ids_can_be_made_unique_per_drawing():
    graph = return_model()
    one, two = (to_svg(graph, direction="tb", width=680, id_suffix=s) for s in ("narrow", "wide"))
    ids = lambda svg: {e.get("id") for e in ET.fromstring(svg).iter() if e.get("id")}  # noqa: E731
    assert ids(one) and not ids(one) & ids(two)
    assert 'aria-describedby="logicmodel-returtiltak-narrow-desc"' in one


@pytest.mark.parametrize("kwargs, message", [
    ({"direction": "up"}, "argument: direction: expected one of 'auto', 'lr', 'tb'; got 'up'"),
    ({"direction": "tb", "width": 300}, "argument: width: expected a number of pixels of at least 320; got 300"),
    ({"direction": "auto", "width": "wide"}, "argument: width: expected a number of pixels of at least 320; got 'wide'"),
])
def test_bad_direction_or_width(kwargs, message):
    with pytest.raises(DiagramError) as caught:
        to_svg(return_model(), **kwargs)
    assert str(caught.value) == message


def test_lanes_are_shared_only_by_pieces_that_do_not_touch():
    lanes = assign_lanes([(0, 2, "a"), (2, 3, "b"), (3.5, 4, "c"), (1, 5, "d")], clearance=0.5)
    assert lanes == {"a": 0, "d": 1, "b": 2, "c": 0}


def test_grid_columns_follow_the_width():
    assert [max_per_row(w) for w in (380, 420, 640, 880)] == [2, 2, 4, 5]
    layout = lay_out(read_graph(return_model()), "tb", 460)
    assert layout.direction == "tb" and layout.width <= 420


def test_crossings_are_counted_between_arrows_only():
    from logicmodel.diagram.routing import Route
    from logicmodel.diagram.stacking import count_crossings

    plus = [Route(0, (0.0, 5.0), (("L", (10.0, 5.0)),), 1), Route(1, (5.0, 0.0), (("L", (5.0, 10.0)),), 1)]
    assert count_crossings(plus) == 1
    corner = [Route(0, (0.0, 5.0), (("L", (10.0, 5.0)), ("L", (10.0, 0.0))), 1)]  # one arrow's own corner
    assert count_crossings(corner) == 0
    apart = [Route(0, (0.0, 5.0), (("L", (4.0, 5.0)),), 1), Route(1, (5.0, 0.0), (("L", (5.0, 10.0)),), 1)]
    assert count_crossings(apart) == 0
    assert lay_out(read_graph(return_model()), "tb", 920).crossings > 0
