"""The layout steps against references: isotonic fit, crossing count, ordering, layering."""

from __future__ import annotations

import random

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from diagram_samples import random_layered, return_model

from logicmodel.diagram.layering import layer
from logicmodel.diagram.layout import compute_layout
from logicmodel.diagram.ordering import count_crossings, neighbours, order
from logicmodel.diagram.placement import isotonic
from logicmodel.diagram.reading import read_graph
from logicmodel.diagram.textmetrics import SAFETY, text_width, wrap


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.floats(-1e3, 1e3), st.floats(0.1, 10)), min_size=1, max_size=40))
def test_isotonic_matches_scikit_learn(pairs):
    sklearn_isotonic = pytest.importorskip("sklearn.isotonic")
    targets, weights = [p[0] for p in pairs], [p[1] for p in pairs]
    reference = sklearn_isotonic.IsotonicRegression().fit_transform(range(len(targets)), targets, sample_weight=weights)
    assert isotonic(targets, weights) == pytest.approx(list(reference), abs=1e-6)


def _brute_crossings(columns, right):
    total = 0
    for upper, lower in zip(columns, columns[1:]):
        up = {v: i for i, v in enumerate(upper)}
        low = {v: i for i, v in enumerate(lower)}
        edges = [(up[a], low[b]) for a in upper for b in right[a]]
        total += sum(1 for i, e in enumerate(edges) for f in edges[i + 1 :] if (e[0] - f[0]) * (e[1] - f[1]) < 0)
    return total


@pytest.mark.parametrize("seed", range(6))
def test_crossing_count_matches_brute_force(seed):
    layering = layer(read_graph(random_layered(60, seed)))
    _, right = neighbours(layering)
    columns = order(layering)
    rng = random.Random(seed)
    for _ in range(3):
        assert count_crossings(columns, right) == _brute_crossings(columns, right)
        for column in columns:
            rng.shuffle(column)


@pytest.mark.parametrize("k,seed", [(6, 0), (12, 1), (25, 2)])
def test_sweeps_untangle_a_shuffled_matching(k, seed):
    graph = nx.DiGraph()
    targets = list(range(k))
    random.Random(seed).shuffle(targets)
    for i in range(k):
        graph.add_node(f"a{i}", level="activity", title=f"A{i}")
    for i in range(k):
        graph.add_node(f"o{i}", level="output", title=f"O{i}")
    for i, j in enumerate(targets):
        graph.add_edge(f"a{i}", f"o{j}")
    assert compute_layout(read_graph(graph)).crossings == 0


def test_sweeps_reduce_crossings_of_the_45_node_model():
    diagram = read_graph(return_model())
    layering = layer(diagram)
    _, right = neighbours(layering)
    from logicmodel.diagram.ordering import _initial_order

    before = count_crossings(_initial_order(layering), right)
    after = compute_layout(diagram).crossings
    assert after < before / 2, (before, after)


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 60), st.integers(0, 10_000))
def test_chains_step_one_column_at_a_time(n, seed):
    graph = random_layered(n, seed)
    nodes = list(graph.nodes)
    rng = random.Random(seed)
    for _ in range(n // 3):
        graph.add_edge(rng.choice(nodes), rng.choice(nodes))  # back links, loops, in-band links
    diagram = read_graph(graph)
    layering = layer(diagram)
    for chain in layering.chains:
        columns = [layering.column[v] for v in chain.vertices]
        assert columns == list(range(columns[0], columns[-1] + 1)) and len(columns) >= 2
        edge = diagram.edges[chain.edge]
        source_column, target_column = layering.column[edge.source], layering.column[edge.target]
        assert chain.reversed == (source_column > target_column)
    spans = {key: (first, last) for key, first, last in layering.bands}
    for vertex, node in enumerate(diagram.nodes):
        first, last = spans[node.band]
        assert first <= layering.column[vertex] <= last
    assert len(layering.chains) + len(layering.loops) == graph.number_of_edges()


def test_wrap_keeps_every_word_in_order():
    text = "Bevissthet om egen status som utreisepliktig og om konsekvensene av å bli værende"
    lines = wrap(text, 120, 12)
    assert " ".join(lines) == text
    assert all(text_width(line, 12) <= 120 for line in lines)
    assert len(lines) > 1


def test_text_width_is_monotone_and_counts_wide_characters():
    assert text_width("iii", 12) < text_width("mmm", 12)
    assert text_width("中文", 12) == pytest.approx(2 * 12 * SAFETY)
    assert text_width("e\u0301", 12) == text_width("e", 12)
