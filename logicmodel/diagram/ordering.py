"""Order the vertices inside each column so that few arrows cross (barycenter sweeps).

Classic layer-by-layer sweeps (Sugiyama, Tagawa and Toda 1981): going right, each vertex
moves to the mean position of its neighbours in the column before; going left, of its
neighbours in the column after. Crossings between neighbouring columns are counted
exactly with an accumulator tree (Barth, Jünger and Mutzel 2004) and the best order seen
is kept. On that order, neighbours inside a column then swap places while that removes
crossings (the *transpose* step of Gansner et al. 1993). Ties keep the current
order, so the result is deterministic.
"""

from __future__ import annotations

from logicmodel.diagram.layering import Layering

MAX_SWEEPS = 24
PATIENCE = 4


def neighbours(layering: Layering) -> tuple[list[list[int]], list[list[int]]]:
    """For each vertex, its neighbours in the column to the left and to the right."""
    size = len(layering.column)
    left: list[list[int]] = [[] for _ in range(size)]
    right: list[list[int]] = [[] for _ in range(size)]
    for chain in layering.chains:
        for a, b in zip(chain.vertices, chain.vertices[1:]):
            right[a].append(b)
            left[b].append(a)
    return left, right


def _initial_order(layering: Layering) -> list[list[int]]:
    """Boxes in graph order, each dummy next to the box its arrow starts from."""
    anchor = list(range(layering.n_nodes)) + [0] * (len(layering.column) - layering.n_nodes)
    for chain in layering.chains:
        for dummy in chain.vertices[1:-1]:
            anchor[dummy] = chain.vertices[0]
    columns: list[list[int]] = [[] for _ in range(layering.n_columns)]
    for vertex in sorted(range(len(layering.column)), key=lambda v: (anchor[v], v)):
        columns[layering.column[vertex]].append(vertex)
    return columns


def _crossings_between(upper: list[int], lower_pos: dict[int, int], edges: list[list[int]]) -> int:
    """Crossings of the edges between two columns, in O(E log V)."""
    targets = [lower_pos[b] for a in upper for b in sorted(edges[a], key=lower_pos.__getitem__)]
    size = 1
    while size < max(len(lower_pos), 1):
        size *= 2
    tree = [0] * (2 * size)
    crossings = 0
    for target in targets:
        index = target + size
        tree[index] += 1
        while index > 1:
            if index % 2 == 0:
                crossings += tree[index + 1]
            index //= 2
            tree[index] += 1
    return crossings


def count_crossings(columns: list[list[int]], right: list[list[int]]) -> int:
    """Total number of arrow crossings between neighbouring columns."""
    total = 0
    for upper, lower in zip(columns, columns[1:]):
        lower_pos = {v: i for i, v in enumerate(lower)}
        total += _crossings_between(upper, lower_pos, right)
    return total


def _sweep(columns: list[list[int]], indices: range, neighbours: list[list[int]], step: int) -> None:
    """Reorder each column in ``indices`` by the barycenter of its neighbours in column ``c - step``."""
    for c in indices:
        fixed = {v: i for i, v in enumerate(columns[c - step])}
        own = len(columns[c])
        scale = len(columns[c - step]) / own if own else 1.0

        def key(item: tuple[int, int]) -> tuple[float, int]:
            position, vertex = item
            around = neighbours[vertex]
            if not around:
                return (position * scale, position)
            return (sum(fixed[u] for u in around) / len(around), position)

        columns[c] = [v for _, v in sorted(enumerate(columns[c]), key=key)]


def _pair_crossings(u: int, v: int, sides: tuple[list[list[int]], ...], pos: list[int]) -> int:
    """Crossings between the arrows of ``u`` and ``v`` when ``u`` sits directly above ``v``."""
    total = 0
    for side in sides:
        for a in side[u]:
            total += sum(1 for b in side[v] if pos[b] < pos[a])
    return total


def _transpose(columns: list[list[int]], left: list[list[int]], right: list[list[int]], size: int) -> None:
    """Swap neighbours inside columns while that removes crossings (Gansner et al. 1993)."""
    pos = [0] * size
    for column in columns:
        for i, v in enumerate(column):
            pos[v] = i
    improved, rounds = True, 0
    while improved and rounds < 20:
        improved, rounds = False, rounds + 1
        for column in columns:
            for i in range(len(column) - 1):
                u, v = column[i], column[i + 1]
                if _pair_crossings(v, u, (left, right), pos) < _pair_crossings(u, v, (left, right), pos):
                    column[i], column[i + 1] = v, u
                    pos[u], pos[v] = i + 1, i
                    improved = True


def order(layering: Layering) -> list[list[int]]:
    """Vertices of each column from top to bottom, with few crossings."""
    left, right = neighbours(layering)
    columns = _initial_order(layering)
    best = [list(c) for c in columns]
    best_count = count_crossings(columns, right)
    stale = 0
    for _ in range(MAX_SWEEPS):
        if best_count == 0 or stale >= PATIENCE:
            break
        _sweep(columns, range(1, len(columns)), left, 1)
        _sweep(columns, range(len(columns) - 2, -1, -1), right, -1)
        count = count_crossings(columns, right)
        if count < best_count:
            best, best_count, stale = [list(c) for c in columns], count, 0
        else:
            stale += 1
    _transpose(best, left, right, len(layering.column))
    return best
