"""Vertical positions of boxes and channel points, keeping each column's order.

Each pass moves every vertex towards the mean height of its neighbours in the column
before (or after, or both) and then resolves overlaps exactly: with the order fixed
and a minimum distance between neighbours, the nearest feasible positions are an
isotonic regression, solved by pool-adjacent-violators. Channel points weigh more than
boxes so that long arrows run straight.
"""

from __future__ import annotations

from dataclasses import dataclass

PASSES = 10
DUMMY_WEIGHT = 2.0


@dataclass(frozen=True)
class Spacing:
    """Minimum free space between two boxes, a box and a channel, and two channels."""

    box_box: float = 18.0
    box_channel: float = 9.0
    channel_channel: float = 7.0

    def between(self, a_is_box: bool, b_is_box: bool) -> float:
        if a_is_box and b_is_box:
            return self.box_box
        if a_is_box or b_is_box:
            return self.box_channel
        return self.channel_channel


def _offsets(column: list[int], height: list[float], n_nodes: int, spacing: Spacing) -> list[float]:
    """Tightest centre positions of a column, starting at 0."""
    offsets = [0.0]
    for a, b in zip(column, column[1:]):
        gap = spacing.between(a < n_nodes, b < n_nodes)
        offsets.append(offsets[-1] + height[a] / 2 + gap + height[b] / 2)
    return offsets


def isotonic(targets: list[float], weights: list[float]) -> list[float]:
    """Non-decreasing sequence nearest to ``targets`` in weighted least squares (PAVA)."""
    blocks: list[list[float]] = []  # [weighted sum, weight, count]
    for target, weight in zip(targets, weights):
        blocks.append([target * weight, weight, 1])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
            total, mass, count = blocks.pop()
            blocks[-1][0] += total
            blocks[-1][1] += mass
            blocks[-1][2] += count
    fitted: list[float] = []
    for total, mass, count in blocks:
        fitted.extend([total / mass] * int(count))
    return fitted


def _settle(column: list[int], wanted: list[float], offsets: list[float], n_nodes: int) -> list[float]:
    weights = [1.0 if v < n_nodes else DUMMY_WEIGHT for v in column]
    shifted = isotonic([w - o for w, o in zip(wanted, offsets)], weights)
    return [z + o for z, o in zip(shifted, offsets)]


def _wanted(column: list[int], y: list[float], sides: list[list[list[int]]]) -> list[float]:
    wanted = []
    for vertex in column:
        around = [u for side in sides for u in side[vertex]]
        wanted.append(sum(y[u] for u in around) / len(around) if around else y[vertex])
    return wanted


def place(
    columns: list[list[int]],
    height: list[float],
    n_nodes: int,
    left: list[list[int]],
    right: list[list[int]],
    spacing: Spacing = Spacing(),
) -> list[float]:
    """Centre height of every vertex; the topmost edge of any item is at 0."""
    y = [0.0] * len(height)
    offsets = [_offsets(column, height, n_nodes, spacing) for column in columns]
    tallest = max((o[-1] for o in offsets if o), default=0.0)
    for column, offs in zip(columns, offsets):
        for vertex, offset in zip(column, offs):
            y[vertex] = offset + (tallest - offs[-1]) / 2
    passes = [(range(1, len(columns)), [left])] + [(range(len(columns) - 2, -1, -1), [right])]
    passes = passes * (PASSES // 2) + [(range(len(columns)), [left, right])] * 2
    for indices, sides in passes:
        for c in indices:
            wanted = _wanted(columns[c], y, sides)
            for vertex, value in zip(columns[c], _settle(columns[c], wanted, offsets[c], n_nodes)):
                y[vertex] = value
    top = min((y[v] - height[v] / 2 for column in columns for v in column), default=0.0)
    return [value - top for value in y]
