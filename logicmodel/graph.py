"""A logic model as a ``networkx.DiGraph``, and small pure functions on that graph.

Node attributes: ``level`` (input|activity|output|outcome|impact), ``horizon``
(short|medium|long|None), ``title`` and ``description`` (text in the chosen language),
``indicators`` (list of ids). Edge attributes: ``mechanism``, ``lag_months``,
``assumptions`` (list of ``{statement, indicator}``), ``risks``, ``external_factors`` and
``link`` (index of the link in the model). Graph attributes: ``id``, ``title``,
``measure``, ``version``, ``lang``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import networkx as nx

from logicmodel.fields import text_in
from logicmodel.model import Link, LogicModel
from tiltak_base.catalogue import REFERENCE

LEVEL_RANK = {"input": 0, "activity": 1, "output": 2, "outcome": 3, "impact": 4}
HORIZON_RANK = {"short": 0, "medium": 1, "long": 2}


def to_graph(model: LogicModel, lang: str = REFERENCE) -> nx.DiGraph:
    """The model's nodes and causal links as a directed graph, texts in ``lang``.

    A link with several sources or targets becomes one edge per pair. Links that name
    unknown nodes and nodes with a duplicate id are left out (the rules report them).

    >>> from logicmodel.model import LogicModel
    >>> model = LogicModel.model_validate({
    ...     "id": "mini", "title": {"nb": "Mini", "en": "Mini"}, "version": "1", "measure": "VV",
    ...     "period": {"start": "2012-01"},
    ...     "nodes": [{"id": "talks", "level": "activity", "title": "Samtaler"},
    ...               {"id": "returns", "level": "impact", "title": {"nb": "Retur", "en": "Return"}}],
    ...     "links": [{"from": "talks", "to": ["returns", "nowhere"], "lag_months": 3}]})
    >>> graph = to_graph(model, lang="en")
    >>> list(graph.edges(data="lag_months")), graph.nodes["returns"]["title"]
    ([('talks', 'returns', 3)], 'Return')
    """
    graph = structure_graph(model)
    graph.graph.update(id=model.id, title=text_in(model.title, lang), measure=model.measure,
                       version=model.version, lang=lang)
    for node in first_nodes(model):
        graph.nodes[node.id].update(title=text_in(node.title, lang), description=text_in(node.description, lang),
                                    indicators=list(node.indicators))
    for source, target, index in list(graph.edges(data="link")):
        attributes = graph.edges[source, target]
        attributes.clear()  # in the documented order, the link index last
        attributes.update(_edge_attributes(model.links[index], index, lang))
    return graph


def first_nodes(model: Any) -> list[Any]:
    """The nodes of the model, the first of each id only (the graph keeps that one)."""
    seen: dict[str, Any] = {}
    for node in model.nodes:
        seen.setdefault(node.id, node)
    return list(seen.values())


def structure_graph(model: Any) -> nx.DiGraph:
    """The bare graph of :func:`to_graph`: node ``level`` and ``horizon``, edge ``link``.

    It reads only the ids, levels and horizons of the nodes and the ends of the links, so
    the rules can use it on a model whose other values have schema errors.
    """
    graph = nx.DiGraph()
    for node in first_nodes(model):
        graph.add_node(node.id, level=node.level, horizon=node.horizon)
    for index, link in enumerate(model.links):
        for source in link.sources:
            for target in link.targets:
                if source in graph and target in graph and not graph.has_edge(source, target):
                    graph.add_edge(source, target, link=index)
    return graph


def _edge_attributes(link: Link, index: int, lang: str) -> dict[str, Any]:
    return {
        "mechanism": text_in(link.mechanism, lang),
        "lag_months": link.lag_months,
        "assumptions": [
            {"statement": text_in(a.statement, lang), "indicator": a.indicator} for a in link.assumptions
        ],
        "risks": [text_in(r, lang) for r in link.risks],
        "external_factors": [text_in(f, lang) for f in link.external_factors],
        "link": index,
    }


def rank(graph: nx.DiGraph, node: str) -> tuple[int, int]:
    """The position of a node in the causal order: level, then horizon for outcomes."""
    data = graph.nodes[node]
    horizon = HORIZON_RANK.get(data.get("horizon"), 1) if data["level"] == "outcome" else 0
    return LEVEL_RANK[data["level"]], horizon


def nodes_at(graph: nx.DiGraph, *levels: str) -> list[str]:
    """The nodes at any of the given levels, in model order."""
    return [n for n, data in graph.nodes(data=True) if data["level"] in levels]


def backward_edges(graph: nx.DiGraph) -> list[tuple[str, str]]:
    """Edges that run against the causal order (e.g. outcome -> activity, long -> short)."""
    return [(u, v) for u, v in graph.edges if rank(graph, u) > rank(graph, v)]


def find_cycles(graph: nx.DiGraph) -> list[list[str]]:
    """One cycle (as a node list in order) per strongly connected part that has one.

    >>> import networkx as nx
    >>> find_cycles(nx.DiGraph([("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")]))
    [['a', 'b', 'c']]
    >>> find_cycles(nx.DiGraph([("a", "b")]))
    []
    """
    order = {node: i for i, node in enumerate(graph.nodes)}
    cycles = []
    for component in nx.strongly_connected_components(graph):
        first = min(component, key=order.__getitem__)
        if len(component) == 1 and not graph.has_edge(first, first):
            continue
        edges = nx.find_cycle(graph.subgraph(component), source=first)
        cycles.append([u for u, _ in edges])
    return sorted(cycles, key=lambda cycle: order[cycle[0]])


def reachable_from(graph: nx.DiGraph, sources: Iterable[str]) -> set[str]:
    """Every node reachable from any of ``sources`` (the sources included).

    >>> import networkx as nx
    >>> sorted(reachable_from(nx.DiGraph([("a", "b"), ("b", "c"), ("d", "c")]), ["a"]))
    ['a', 'b', 'c']
    """
    found: set[str] = set()
    for source in sources:
        if source not in found:
            found |= nx.descendants(graph, source) | {source}
    return found


def isolated_nodes(graph: nx.DiGraph) -> list[str]:
    """Nodes with no link in or out, in model order."""
    return [n for n in graph.nodes if graph.degree(n) == 0]


def pathways(graph: nx.DiGraph, *, max_paths: int = 10_000) -> list[list[str]]:
    """Every simple path from an activity to an impact, activities and impacts in model
    order; at most ``max_paths`` paths (a guard against combinatorial explosion).

    >>> import networkx as nx
    >>> graph = nx.DiGraph()
    >>> graph.add_nodes_from([("talks", {"level": "activity"}), ("health", {"level": "outcome"}),
    ...                       ("motivation", {"level": "outcome"}), ("return", {"level": "impact"})])
    >>> graph.add_edges_from([("talks", "health"), ("talks", "motivation"), ("health", "return"),
    ...                       ("motivation", "return")])
    >>> pathways(graph)
    [['talks', 'health', 'return'], ['talks', 'motivation', 'return']]
    """
    found: list[list[str]] = []
    impacts = nodes_at(graph, "impact")
    for activity in nodes_at(graph, "activity"):
        for impact in impacts:
            for path in nx.all_simple_paths(graph, activity, impact):
                found.append(list(path))
                if len(found) >= max_paths:
                    return found
    return found


def to_node_link(graph: nx.DiGraph) -> dict[str, Any]:
    """JSON-ready node-link data: ``{"graph": {...}, "nodes": [...], "edges": [...]}``.

    >>> import networkx as nx
    >>> graph = nx.DiGraph([("talks", "return", {"lag_months": 3})])
    >>> graph.nodes["talks"]["level"], graph.nodes["return"]["level"] = "activity", "impact"
    >>> data = to_node_link(graph)
    >>> data["edges"], data["pathways"]
    ([{'source': 'talks', 'target': 'return', 'lag_months': 3}], [['talks', 'return']])
    """
    return {
        "directed": True,
        "graph": dict(graph.graph),
        "nodes": [{"id": node, **data} for node, data in graph.nodes(data=True)],
        "edges": [{"source": u, "target": v, **data} for u, v, data in graph.edges(data=True)],
        "pathways": pathways(graph),
    }
