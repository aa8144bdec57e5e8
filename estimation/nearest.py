"""Greedy nearest-neighbour matching on a scalar distance, in O(n log n).

This is the array core of :class:`estimation.NearestNeighborMatching`; it follows the
algorithm of MatchIt (4.5.4 and later, ``nn_matchC``):

* without replacement, matching runs in ``ratio`` passes; in each pass every treated unit,
  in the given order, takes the nearest control that is still available (and within the
  caliper); a treated unit that found no control in a pass gets none in later passes;
* with replacement, each treated unit takes its ``ratio`` nearest controls;
* controls are only matched within the treated unit's exact-matching stratum.

Ties: among controls at the same distance from a treated unit, the one with the lowest
input row index is taken (MatchIt's distance-matrix path does the same: ``which.min`` over
the eligible controls in data order).

The available controls of each stratum are kept sorted twice: by (distance, row) for the
search to the right of a treated unit's score and by (distance, -row) for the search to
its left. A "next available" union-find with path halving over each order skips used
controls, so each match costs near-constant time after one sort.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SortedControls:
    """Eligible controls sorted by (stratum, distance, row) and (stratum, distance, -row)."""

    value_a: list
    row_a: list
    value_b: list
    row_b: list
    pos_a: dict | np.ndarray
    pos_b: dict | np.ndarray
    strata: np.ndarray  # stratum of each position (same in both orders)


def sort_controls(distance: np.ndarray, stratum: np.ndarray, controls: np.ndarray) -> SortedControls:
    """Sort the eligible control rows for the two-sided search."""
    d, s = distance[controls], stratum[controls]
    order_a = np.lexsort((controls, d, s))
    order_b = np.lexsort((-controls, d, s))
    rows_a, rows_b = controls[order_a], controls[order_b]
    n = distance.shape[0]
    pos_a = np.full(n, -1, dtype=np.int64)
    pos_b = np.full(n, -1, dtype=np.int64)
    pos_a[rows_a] = np.arange(rows_a.size)
    pos_b[rows_b] = np.arange(rows_b.size)
    return SortedControls(d[order_a].tolist(), rows_a.tolist(), d[order_b].tolist(),
                          rows_b.tolist(), pos_a, pos_b, s[order_a])


def search_bounds(sc: SortedControls, distance: np.ndarray, stratum: np.ndarray,
                  treated: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per treated unit: stratum range [lo, hi) and first right / last left positions."""
    lo = np.searchsorted(sc.strata, stratum[treated], side="left")
    hi = np.searchsorted(sc.strata, stratum[treated], side="right")
    right = np.empty(treated.size, dtype=np.int64)
    left = np.empty(treated.size, dtype=np.int64)
    va, vb = np.asarray(sc.value_a), np.asarray(sc.value_b)
    keys = stratum[treated]
    for key in np.unique(keys):
        members = np.flatnonzero(keys == key)
        a, b = int(lo[members[0]]), int(hi[members[0]])
        d = distance[treated[members]]
        right[members] = a + np.searchsorted(va[a:b], d, side="left")
        left[members] = a + np.searchsorted(vb[a:b], d, side="left") - 1
    return lo, hi, right, left


def match_without_replacement(distance: np.ndarray, treated: np.ndarray, stratum: np.ndarray,
                              controls: np.ndarray, ratio: int, caliper: float | None,
                              unit: np.ndarray | None = None) -> np.ndarray:
    """Greedy matching in ``ratio`` passes; ``treated`` is in matching order.

    ``unit`` (optional, one id per row) makes rows of one unit a single control: once one
    of them is matched, all of them are used up (MatchIt's ``unit.id``; risk-set matching
    uses it so that a person is a control in one period only).

    Returns an int array (len(treated), ratio) of control rows, -1 where empty, rows in the
    order of ``treated``.
    """
    out = np.full((treated.size, ratio), -1, dtype=np.int64)
    if controls.size == 0 or treated.size == 0:
        return out
    sc = sort_controls(distance, stratum, controls)
    lo, hi, right, left = search_bounds(sc, distance, stratum, treated)
    m = controls.size
    next_right = list(range(m + 1))  # position m is a sentinel that is never used
    next_left = list(range(m + 1))  # shifted by one: index 0 stands for position -1
    cal = np.inf if caliper is None else float(caliper)
    siblings = _unit_rows(unit, controls) if unit is not None else None
    state = (sc, next_right, next_left, cal, siblings)
    active = list(range(treated.size))
    dist = distance[treated].tolist()
    lo_l, hi_l, r_l, l_l = lo.tolist(), hi.tolist(), right.tolist(), left.tolist()
    for column in range(ratio):
        still = []
        for i in active:
            row = _take_nearest(state, dist[i], lo_l[i], hi_l[i], r_l[i], l_l[i])
            if row >= 0:
                out[i, column] = row
                still.append(i)
        active = still
    return out


def _find(parent: list, i: int) -> int:
    """Root of ``i`` in a next-available union-find, with path halving."""
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


def _take_nearest(state, d: float, lo: int, hi: int, start_r: int, start_l: int) -> int:
    """Take (mark used) and return the nearest available control row, or -1."""
    sc, next_right, next_left, cal, siblings = state
    r = _find(next_right, start_r)
    dr = abs(d - sc.value_a[r]) if r < hi else np.inf
    l_pos = _find(next_left, start_l + 1) - 1
    dl = abs(d - sc.value_b[l_pos]) if l_pos >= lo else np.inf
    if min(dr, dl) > cal or (dr == np.inf and dl == np.inf):
        return -1
    if dl < dr or (dl == dr and sc.row_b[l_pos] < sc.row_a[r]):
        row = sc.row_b[l_pos]
    else:
        row = sc.row_a[r]
    for used in (siblings[row] if siblings is not None else (row,)):
        pa, pb = int(sc.pos_a[used]), int(sc.pos_b[used])
        next_right[pa] = pa + 1
        next_left[pb + 1] = pb
    return row


def _unit_rows(unit: np.ndarray, controls: np.ndarray) -> dict[int, list[int]]:
    """Control row -> all control rows of the same unit (itself included)."""
    codes = np.unique(unit[controls], return_inverse=True)[1]
    order = np.argsort(codes, kind="stable")
    groups = np.split(controls[order], np.flatnonzero(np.diff(codes[order])) + 1)
    rows: dict[int, list[int]] = {}
    for group in groups:
        members = group.tolist()
        for member in members:
            rows[member] = members
    return rows


def match_with_replacement(distance: np.ndarray, treated: np.ndarray, stratum: np.ndarray,
                           controls: np.ndarray, ratio: int, caliper: float | None) -> np.ndarray:
    """Each treated unit's ``ratio`` nearest controls (vectorised two-pointer merge).

    Columns are ordered by (distance, row); -1 where fewer controls are within reach.
    """
    out = np.full((treated.size, ratio), -1, dtype=np.int64)
    if controls.size == 0 or treated.size == 0:
        return out
    sc = sort_controls(distance, stratum, controls)
    lo, hi, r, l_pos = search_bounds(sc, distance, stratum, treated)
    va, ra = np.append(sc.value_a, np.nan), np.append(sc.row_a, -1)
    vb, rb = np.append(sc.value_b, np.nan), np.append(sc.row_b, -1)
    d = distance[treated]
    cal = np.inf if caliper is None else float(caliper)
    for column in range(ratio):
        dr = np.where(r < hi, np.abs(d - va[np.minimum(r, va.size - 1)]), np.inf)
        dl = np.where(l_pos >= lo, np.abs(d - vb[np.maximum(l_pos, 0)]), np.inf)
        row_r, row_l = ra[np.minimum(r, ra.size - 1)], rb[np.maximum(l_pos, 0)]
        take_left = (dl < dr) | ((dl == dr) & (row_l < row_r))
        best = np.where(take_left, dl, dr)
        ok = np.isfinite(best) & (best <= cal)
        out[:, column] = np.where(ok, np.where(take_left, row_l, row_r), -1)
        l_pos = l_pos - (ok & take_left)
        r = r + (ok & ~take_left)
    return out
