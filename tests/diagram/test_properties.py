"""Property-based checks over random graphs, and checks that the checks can fail."""

from __future__ import annotations

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from diagram_samples import HORIZONS, LEVELS, RATINGS, VERDICTS, return_model
from diagram_geometry import check_all, check_geometry

from logicmodel.diagram import to_dot, to_mermaid, to_svg

TITLES = st.text(min_size=1, max_size=90)


@st.composite
def logic_graphs(draw, acyclic: bool = True) -> nx.DiGraph:
    """Random graphs with valid attributes; acyclic ones only link to later nodes."""
    n = draw(st.integers(min_value=0, max_value=18))
    graph = nx.DiGraph(title=draw(st.text(max_size=40)), id=draw(st.text(max_size=12)))
    for i in range(n):
        level = draw(st.sampled_from(LEVELS))
        attrs = {"level": level, "title": draw(TITLES)}
        if level == "outcome":
            attrs["horizon"] = draw(st.sampled_from((None, *HORIZONS)))
        if draw(st.booleans()):
            attrs["verdict"] = draw(st.sampled_from(VERDICTS))
        graph.add_node(f"node-{i}", **attrs)
    if n:
        pairs = st.tuples(st.integers(0, n - 1), st.integers(0, n - 1))
        for a, b in draw(st.lists(pairs, max_size=3 * n)):
            if acyclic and a >= b:
                continue
            rating = draw(st.sampled_from((None, *RATINGS)))
            graph.add_edge(f"node-{a}", f"node-{b}", rating=rating, lag_months=draw(st.integers(0, 36)))
    return graph


SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(logic_graphs(acyclic=True))
def test_random_dags_draw_cleanly(graph):
    check_all(graph)


@SETTINGS
@given(logic_graphs(acyclic=False))
def test_random_graphs_with_cycles_and_loops_draw_cleanly(graph):
    check_all(graph)


@SETTINGS
@given(logic_graphs(acyclic=False), st.sampled_from((320, 340, 460, 680, 920)))
def test_random_graphs_draw_cleanly_top_to_bottom(graph, width):
    from diagram_geometry import check_titles
    from test_stacked import check_no_shared_runs, check_text_inside

    svg = to_svg(graph, direction="tb", width=width)
    check_geometry(svg)
    check_titles(graph, svg)
    check_no_shared_runs(svg)
    check_text_inside(svg)


@SETTINGS
@given(logic_graphs(acyclic=False))
def test_text_formats_never_fail_and_are_deterministic(graph):
    assert to_dot(graph) == to_dot(graph.copy())
    assert to_mermaid(graph) == to_mermaid(graph.copy())
    assert to_svg(graph) == to_svg(graph.copy())


def _svg_with(old: str, new: str) -> str:
    svg = to_svg(return_model())
    assert old in svg
    return svg.replace(old, new, 1)


def test_geometry_check_catches_an_arrow_through_a_box():
    svg = to_svg(return_model())
    start = svg.index('<path class="link" d="M') + len('<path class="link" d="')
    end = svg.index('"', start)
    through = "M0.0,0.0 L5000.0,5000.0"
    with pytest.raises(AssertionError):
        check_geometry(svg[:start] + through + svg[end:])


def test_geometry_check_catches_overlapping_boxes():
    svg = to_svg(return_model())
    start = svg.index('<rect x="') + len('<rect x="')
    end = svg.index('"', start)
    second = svg.index('<rect x="', end) + len('<rect x="')
    second_end = svg.index('"', second)
    moved = svg[:second] + svg[start:end] + svg[second_end:]
    y_start = moved.index('y="', moved.index('<rect x="')) + 3
    y_value = moved[y_start:moved.index('"', y_start)]
    y2 = moved.index('y="', second) + 3
    moved = moved[:y2] + y_value + moved[moved.index('"', y2):]
    with pytest.raises(AssertionError, match="overlap"):
        check_geometry(moved)
