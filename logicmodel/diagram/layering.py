"""Assign every box to a column and cut every long arrow into one piece per column.

Columns run left to right through the bands (input ... impact). Inside a band, a node
that another node of the same band points to moves one column further right (longest
path), so links within a band also run left to right. Cycles inside a band are broken
at the back edges of a depth-first search; links that end up pointing right to left are
drawn *reversed* (they leave their source on the left side). An arrow that spans several
columns gets one *dummy* vertex in each column it crosses: a channel point that keeps a
free slot between the boxes of that column.
"""

from __future__ import annotations

from dataclasses import dataclass

from logicmodel.diagram.reading import DiagramInput
from logicmodel.diagram.vocabulary import BAND_ORDER


@dataclass(frozen=True)
class Chain:
    """The vertices one arrow passes, left column to right column.

    ``vertices[0]`` and ``vertices[-1]`` are boxes, the others dummies. ``reversed``
    is true when the arrow's source is the right-hand box.
    """

    edge: int
    vertices: tuple[int, ...]
    reversed: bool


@dataclass(frozen=True)
class Layering:
    """Columns of boxes and dummies: vertex ``v`` lies in column ``column[v]``.

    Vertices ``0 .. n_nodes-1`` are the boxes in graph order, the rest dummies.
    ``bands`` lists ``(band key, first column, last column)`` for the bands drawn.
    ``loops`` are ``(edge index, node)`` for edges from a node to itself.
    """

    n_nodes: int
    column: tuple[int, ...]
    n_columns: int
    bands: tuple[tuple[str, int, int], ...]
    chains: tuple[Chain, ...]
    loops: tuple[tuple[int, int], ...]


def _back_edges(n: int, successors: list[list[int]]) -> set[tuple[int, int]]:
    """Edges that close a cycle in a depth-first search (iterative, in index order)."""
    state = [0] * n  # 0 unseen, 1 on the stack, 2 done
    back: set[tuple[int, int]] = set()
    for root in range(n):
        if state[root]:
            continue
        state[root] = 1
        stack = [(root, iter(successors[root]))]
        while stack:
            vertex, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[vertex] = 2
                stack.pop()
            elif state[child] == 1:
                back.add((vertex, child))
            elif state[child] == 0:
                state[child] = 1
                stack.append((child, iter(successors[child])))
    return back


def _sub_columns(n: int, inner: list[tuple[int, int]]) -> list[int]:
    """Longest-path depth of each node over the acyclic in-band edges."""
    successors: list[list[int]] = [[] for _ in range(n)]
    for source, target in inner:
        successors[source].append(target)
    back = _back_edges(n, successors)
    kept = [(s, t) for s, t in inner if (s, t) not in back]
    indegree = [0] * n
    forward: list[list[int]] = [[] for _ in range(n)]
    for source, target in kept:
        forward[source].append(target)
        indegree[target] += 1
    depth = [0] * n
    ready = [v for v in range(n) if indegree[v] == 0]
    while ready:
        vertex = ready.pop()
        for target in forward[vertex]:
            depth[target] = max(depth[target], depth[vertex] + 1)
            indegree[target] -= 1
            if indegree[target] == 0:
                ready.append(target)
    return depth


def _columns(diagram: DiagramInput) -> tuple[list[int], list[tuple[str, int, int]]]:
    band = [BAND_ORDER[node.band] for node in diagram.nodes]
    inner = [(e.source, e.target) for e in diagram.edges if e.source != e.target and band[e.source] == band[e.target]]
    depth = _sub_columns(len(band), inner)
    width: dict[int, int] = {}
    for vertex, b in enumerate(band):
        width[b] = max(width.get(b, 0), depth[vertex] + 1)
    start: dict[int, int] = {}
    spans: list[tuple[str, int, int]] = []
    keys = {order: key for key, order in BAND_ORDER.items()}
    offset = 0
    for b in sorted(width):
        start[b] = offset
        spans.append((keys[b], offset, offset + width[b] - 1))
        offset += width[b]
    return [start[band[v]] + depth[v] for v in range(len(band))], spans


def layer(diagram: DiagramInput) -> Layering:
    """Columns for the boxes and a chain of channel points for every arrow."""
    column, spans = _columns(diagram)
    n = len(column)
    chains: list[Chain] = []
    loops: list[tuple[int, int]] = []
    for index, edge in enumerate(diagram.edges):
        if edge.source == edge.target:
            loops.append((index, edge.source))
            continue
        reverse = column[edge.source] > column[edge.target]
        left, right = (edge.target, edge.source) if reverse else (edge.source, edge.target)
        dummies = []
        for col in range(column[left] + 1, column[right]):
            dummies.append(len(column))
            column.append(col)
        chains.append(Chain(index, (left, *dummies, right), reverse))
    n_columns = spans[-1][2] + 1 if spans else 0
    return Layering(n, tuple(column), n_columns, tuple(spans), tuple(chains), tuple(loops))
