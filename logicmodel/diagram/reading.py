"""Read a networkx graph into the plain, checked values the renderers draw.

if TYPE_CHECKING:
    import networkx as nx

The renderers rely on these attributes only (see ``docs/diagrams.md``): node ``level``,
``horizon``, ``title``, ``verdict``; edge ``mechanism``, ``lag_months``, ``rating``;
graph ``title`` and ``id``; and ``problems`` (optional, a list of texts) on any of them. Nodes keep the graph's insertion order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from logicmodel.diagram.errors import DiagramError
from logicmodel.diagram.textmetrics import clean_text
from logicmodel.diagram.vocabulary import HORIZONS, LEVELS, RATINGS, VERDICTS, band_key, languages
from tiltak_base.catalogue import REFERENCE, fallbacks

if TYPE_CHECKING:
    import networkx as nx


@dataclass(frozen=True)
class DiagramNode:
    """One box: the node's name (its key as text), band, title and optional verdict."""

    name: str
    level: str
    horizon: str | None
    band: str
    title: str
    verdict: str | None
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class DiagramEdge:
    """One arrow between node indices, with its optional mechanism, lag and rating."""

    source: int
    target: int
    mechanism: str | None
    lag_months: int | None
    rating: str | None
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class DiagramInput:
    """Everything a renderer needs, checked and in a fixed order."""

    title: str
    id: str
    lang: str
    nodes: tuple[DiagramNode, ...]
    edges: tuple[DiagramEdge, ...]
    problems: tuple[str, ...] = ()


def _choices(values: tuple[str, ...]) -> str:
    return "expected one of " + ", ".join(repr(value) for value in values)


def _text(value: Any, lang: str) -> str | None:
    """A display text: strings as they are, ``{nb:, en:}`` maps in the wanted language."""
    if value is None:
        return None
    if isinstance(value, dict):
        for key in (*fallbacks(lang), *sorted(map(str, value))):
            if value.get(key) not in (None, ""):
                return clean_text(str(value[key]))
        return None
    return clean_text(str(value))


def _enum(element: str, attrs: dict, key: str, allowed: tuple[str, ...]) -> str | None:
    value = attrs.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or value not in allowed:
        raise DiagramError(element, key, value, _choices(allowed))
    return value


def _read_problems(element: str, attrs: dict) -> tuple[str, ...]:
    """The optional ``problems`` attribute: a list of texts (see ``diagram.problems``)."""
    value = attrs.get("problems")
    if value is None:
        return ()
    if not isinstance(value, (list, tuple)) or not all(isinstance(p, str) for p in value):
        raise DiagramError(element, "problems", value, "expected a list of texts")
    return tuple(clean_text(p) for p in value)


def _read_node(key: Any, attrs: dict, lang: str) -> DiagramNode:
    name = clean_text(str(key))
    element = f"node {name!r}"
    level = _enum(element, attrs, "level", LEVELS)
    if level is None:
        raise DiagramError(element, "level", None, _choices(LEVELS))
    horizon = _enum(element, attrs, "horizon", HORIZONS) if level == "outcome" else None
    title = _text(attrs.get("title"), lang) or ""
    title = title if title.strip() else name
    verdict = _enum(element, attrs, "verdict", VERDICTS)
    return DiagramNode(name, level, horizon, band_key(level, horizon), title, verdict, _read_problems(element, attrs))


def _read_lag(element: str, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
        raise DiagramError(element, "lag_months", value, "expected a whole number of months")
    return int(value)


def _read_edge(index: dict[Any, int], source: Any, target: Any, attrs: dict, lang: str) -> DiagramEdge:
    element = f"edge {str(source)!r} -> {str(target)!r}"
    return DiagramEdge(
        source=index[source],
        target=index[target],
        mechanism=_text(attrs.get("mechanism"), lang) or None,
        lag_months=_read_lag(element, attrs.get("lag_months")),
        rating=_enum(element, attrs, "rating", RATINGS),
        problems=_read_problems(element, attrs),
    )


def read_graph(graph: nx.DiGraph, lang: str = REFERENCE) -> DiagramInput:
    """Check ``graph`` and ``lang`` and return the values to draw.

    Raises :class:`DiagramError` naming the node or edge and the attribute when a
    level, horizon, verdict, rating or lag is missing or not one of the known values.
    """
    if lang not in languages():
        raise DiagramError("argument", "lang", lang, _choices(languages()))
    if not callable(getattr(graph, "is_directed", None)) or not graph.is_directed():
        raise DiagramError("argument", "graph", type(graph).__name__, "expected a networkx.DiGraph")
    index = {key: position for position, key in enumerate(graph.nodes)}
    nodes = tuple(_read_node(key, attrs, lang) for key, attrs in graph.nodes(data=True))
    edges = tuple(_read_edge(index, s, t, attrs, lang) for s, t, attrs in graph.edges(data=True))
    graph_id = _text(graph.graph.get("id"), lang) or ""
    title = _text(graph.graph.get("title"), lang) or graph_id
    return DiagramInput(title, graph_id, lang, nodes, edges, _read_problems("graph", graph.graph))
