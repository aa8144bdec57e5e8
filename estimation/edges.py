"""The admissible pairs (arcs) of an optimal or full matching on a scalar distance.

A pair of a row unit (focal group) and a column unit is admissible when their distances
differ by at most the caliper (``|d_r - d_c| <= width``, as MatchIt and optmatch compare).
Both enumerations below sort the units once and never form the n_rows x n_cols matrix;
their sizes are known before anything is built, so a problem too large for memory is
refused first (``flow.check_size``).

* ``caliper_arcs``: every admissible pair. Needed when the sets are constrained
  (``min_controls``, ``max_controls``, pair matching).
* ``cover_arcs``: for full matching without such constraints the optimum is a minimum-
  weight edge cover of the bipartite graph, and an edge cover needs only (a) pairs that are
  in adjacent runs of the sorted distances (a run being a maximal sequence of units of one
  group) and (b) among those, pairs with ``d(u, v) < m_u + m_v`` or ``d(u, v) = m_u`` or
  ``m_v`` (``m`` the distance to the nearest admissible unit of the other group). Proof in
  docs/estimation.md ("Why full matching can be pruned"): an optimal cover has star
  shape, and any other arc can be swapped for a cheaper one without losing coverage.
  With the sorted distances the pruned network has O(n) arcs in most data; it is exact.
"""

from __future__ import annotations

import numpy as np

from estimation.flow import Arcs, check_size

_MARGIN = 8  # ulps of slack when a window is located by searchsorted (then tested exactly)


def _slack(values: np.ndarray, width: float) -> float:
    scale = float(np.max(np.abs(values))) if values.size else 0.0
    return _MARGIN * float(np.spacing(max(scale, abs(width), 1e-300)))


def _expand(starts: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(owner, position) of every element of the ranges [start, start + count)."""
    owner = np.repeat(np.arange(counts.shape[0]), counts)
    first = np.cumsum(counts) - counts
    position = np.arange(int(counts.sum())) - np.repeat(first, counts) + np.repeat(starts, counts)
    return owner, position


def _arcs(rows: np.ndarray, cols: np.ndarray, d_rows: np.ndarray, d_cols: np.ndarray,
          width: float | None, ordered: bool = False) -> Arcs:
    """The arcs in (row, column) order (``ordered``: they already are)."""
    distance = np.abs(d_rows[rows] - d_cols[cols])
    if width is not None:
        keep = distance <= width
        rows, cols, distance = rows[keep], cols[keep], distance[keep]
    if not ordered:
        order = np.lexsort((cols, rows))
        rows, cols, distance = rows[order], cols[order], distance[order]
    return Arcs(rows, cols, distance, d_rows.shape[0], d_cols.shape[0])


def caliper_arcs(d_rows: np.ndarray, d_cols: np.ndarray, width: float | None,
                 max_arcs: int, where: str = "") -> Arcs:
    """Every pair with ``|d_r - d_c| <= width`` (every pair when ``width`` is None)."""
    order = np.argsort(d_cols, kind="stable")
    sorted_cols = d_cols[order]
    if width is None:
        lo = np.zeros(d_rows.shape[0], dtype=np.int64)
        hi = np.full(d_rows.shape[0], d_cols.shape[0], dtype=np.int64)
    else:
        slack = _slack(np.concatenate([d_rows, d_cols]), width)
        lo = np.searchsorted(sorted_cols, d_rows - width - slack, side="left")
        hi = np.searchsorted(sorted_cols, d_rows + width + slack, side="right")
    counts = hi - lo
    check_size(int(counts.sum()), d_rows.shape[0], d_cols.shape[0], max_arcs, where)
    rows, position = _expand(lo, counts)
    # rows come grouped; within a row the columns are in distance order, which is column
    # order when the columns are sorted by distance (as the callers pass them)
    ordered = bool(np.all(order[1:] > order[:-1]))
    return _arcs(rows, order[position], d_rows, d_cols, width, ordered)


def _next_run_arcs(values: np.ndarray, group: np.ndarray, width: float | None):
    """(left, right) positions in the sorted order of pairs in adjacent runs, within width."""
    n = values.shape[0]
    change = np.flatnonzero(group[1:] != group[:-1]) + 1
    run_start = np.r_[0, change]
    run_end = np.r_[change, n]
    run = np.repeat(np.arange(run_start.shape[0]), run_end - run_start)
    has_next = run < run_start.shape[0] - 1
    nxt = np.minimum(run + 1, run_start.shape[0] - 1)
    lo, hi = run_start[nxt], run_end[nxt]
    if width is not None:
        slack = _slack(values, width)
        hi = np.minimum(hi, np.searchsorted(values, values + width + slack, side="right"))
    counts = np.where(has_next, np.maximum(hi - lo, 0), 0)
    return counts, lo


def _nearest(arcs: Arcs) -> tuple[np.ndarray, np.ndarray]:
    """Distance of each row and column unit to its nearest admissible partner."""
    m_rows = np.full(arcs.n_rows, np.inf)
    m_cols = np.full(arcs.n_cols, np.inf)
    np.minimum.at(m_rows, arcs.rows, arcs.distance)
    np.minimum.at(m_cols, arcs.cols, arcs.distance)
    return m_rows, m_cols


def prune_cover(arcs: Arcs) -> Arcs:
    """Drop the arcs no minimum-weight edge cover needs (see the module docstring)."""
    m_rows, m_cols = _nearest(arcs)
    mr, mc, d = m_rows[arcs.rows], m_cols[arcs.cols], arcs.distance
    keep = (d < (mr + mc) * (1 + 1e-12)) | (d == mr) | (d == mc)
    return Arcs(arcs.rows[keep], arcs.cols[keep], d[keep], arcs.n_rows, arcs.n_cols)


def cover_arcs(d_rows: np.ndarray, d_cols: np.ndarray, width: float | None,
               max_arcs: int, where: str = "") -> Arcs:
    """The arcs an unconstrained full matching needs (adjacent runs, then ``prune_cover``)."""
    nr = d_rows.shape[0]
    values = np.concatenate([d_rows, d_cols])
    group = np.r_[np.zeros(nr, bool), np.ones(d_cols.shape[0], bool)]
    order = np.argsort(values, kind="stable")
    counts, lo = _next_run_arcs(values[order], group[order], width)
    check_size(int(counts.sum()), nr, d_cols.shape[0], max_arcs, where)
    left, position = _expand(lo, counts)
    a, b = order[left], order[position]
    row_first = a < nr
    rows = np.where(row_first, a, b)
    cols = np.where(row_first, b, a) - nr
    return prune_cover(_arcs(rows, cols, d_rows, d_cols, width))
