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
    """Eligible controls sorted by (stratum, distance, row) ("a") and (stratum, distance,
    -row) ("b"). Both orders hold the same distance values position by position."""

    values: np.ndarray  # distance at each position (same in both orders)
    row_a: np.ndarray
    row_b: np.ndarray
    strata: np.ndarray  # stratum at each position (same in both orders)


def sort_controls(distance: np.ndarray, stratum: np.ndarray, controls: np.ndarray) -> SortedControls:
    """Sort the eligible control rows (given in increasing row order) for the search.

    One stable sort gives order "a"; order "b" is "a" with each run of equal (stratum,
    distance) reversed, so rows descend within ties.
    """
    d, s = distance[controls], stratum[controls]
    order = np.argsort(d, kind="stable")
    if s.size and s.min() != s.max():
        order = order[np.argsort(s[order], kind="stable")]
    values, strata, rows = d[order], s[order], controls[order]
    tied = (values[1:] == values[:-1]) & (strata[1:] == strata[:-1])
    if not tied.any():
        return SortedControls(values, rows, rows, strata)
    starts = np.flatnonzero(np.concatenate([[True], ~tied]))
    ends = np.append(starts[1:], values.size)
    run = np.repeat(np.arange(starts.size), ends - starts)
    mirror = starts[run] + ends[run] - 1 - np.arange(values.size)
    return SortedControls(values, rows, rows[mirror], strata)


def search_bounds(sc: SortedControls, distance: np.ndarray, stratum: np.ndarray,
                  treated: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per treated unit: its stratum's range [lo, hi) of positions and ``right``, the first
    position with a distance >= its own (the last position below it is ``right - 1``)."""
    keys = stratum[treated]
    lo = np.searchsorted(sc.strata, keys, side="left")
    hi = np.searchsorted(sc.strata, keys, side="right")
    d = distance[treated]
    if sc.strata.size == 0 or sc.strata[0] == sc.strata[-1]:  # one stratum of controls
        return lo, hi, np.clip(np.searchsorted(sc.values, d, side="left"), lo, hi)
    # controls before the treated unit in (stratum, distance) order, treated first on ties
    both_d = np.concatenate([d, sc.values])
    both_s = np.concatenate([keys, sc.strata])
    is_control = np.concatenate([np.zeros(d.size, np.int8), np.ones(sc.values.size, np.int8)])
    order = np.lexsort((is_control, both_d, both_s))
    before = np.cumsum(is_control[order]) - is_control[order]
    right = np.empty(d.size, dtype=np.int64)
    treated_at = order < d.size
    right[order[treated_at]] = before[treated_at]
    return lo, hi, right


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
    lo, hi, right = search_bounds(sc, distance, stratum, treated)
    tables = _search_tables(sc, distance.shape[0], unit)
    cal = np.inf if caliper is None else float(caliper)
    active = np.arange(treated.size)
    for column in range(ratio):
        taken = _greedy_pass(tables, distance[treated[active]].tolist(), lo[active].tolist(),
                             hi[active].tolist(), right[active].tolist(), cal)
        taken = np.asarray(taken, dtype=np.int64)
        out[active, column] = taken
        active = active[taken >= 0]
    return out


def _search_tables(sc: SortedControls, n: int, unit: np.ndarray | None) -> tuple:
    """Python lists for the greedy loop: values, rows in both orders, the maps between the
    two orders (None when they coincide), unit siblings and the two union-finds."""
    m = sc.values.size
    row_a = sc.row_a.tolist()
    row_b, a_of_b_list, b_of_a_list, siblings = row_a, None, None, None
    if sc.row_b is not sc.row_a or unit is not None:
        pos_a = np.empty(n, dtype=np.int64)
        pos_a[sc.row_a] = np.arange(m)
        a_of_b = pos_a[sc.row_b]
        b_of_a = np.empty_like(a_of_b)
        b_of_a[a_of_b] = np.arange(m)
        if sc.row_b is not sc.row_a:  # ties: the two orders differ
            row_b, a_of_b_list, b_of_a_list = sc.row_b.tolist(), a_of_b.tolist(), b_of_a.tolist()
        if unit is not None:
            siblings = _unit_positions(unit, sc, pos_a, b_of_a)
    return (sc.values.tolist(), row_a, row_b, a_of_b_list, b_of_a_list, siblings,
            list(range(m + 1)), list(range(m + 1)))


def _greedy_pass(tables, dist: list, lo: list, hi: list, right: list, cal: float) -> list:
    """One pass: each treated unit in turn takes its nearest available control row (or -1).

    ``next_r`` / ``next_l`` (the last two tables, kept between passes) are "next available"
    union-finds over the two sorted orders, with path halving; ``next_l`` is shifted by one
    so that index 0 stands for position -1. Position m of ``next_r`` is a sentinel.
    """
    values, row_a, row_b, a_of_b, b_of_a, siblings, next_r, next_l = tables
    taken = []
    inf = float("inf")
    for d, low, high, start in zip(dist, lo, hi, right):
        r = start
        while next_r[r] != r:  # nearest available at or right of start
            next_r[r] = next_r[next_r[r]]
            r = next_r[r]
        j = start  # nearest available at or left of start - 1, in the shifted index
        while next_l[j] != j:
            next_l[j] = next_l[next_l[j]]
            j = next_l[j]
        left = j - 1
        dr = abs(d - values[r]) if r < high else inf
        dl = abs(d - values[left]) if left >= low else inf
        if dl < dr or (dl == dr and dl != inf and row_b[left] < row_a[r]):
            if dl > cal:
                taken.append(-1)
                continue
            pb, row = left, row_b[left]
            pa = left if a_of_b is None else a_of_b[left]
        else:
            if dr > cal or dr == inf:
                taken.append(-1)
                continue
            pa, row = r, row_a[r]
            pb = r if b_of_a is None else b_of_a[r]
        if siblings is None:
            next_r[pa] = pa + 1
            next_l[pb + 1] = pb
        else:
            for pa, pb in siblings[pa]:
                next_r[pa] = pa + 1
                next_l[pb + 1] = pb
        taken.append(row)
    return taken


def _unit_positions(unit: np.ndarray, sc: SortedControls, pos_a: np.ndarray,
                    b_of_a: np.ndarray) -> list:
    """For each position in order "a": the (a, b) positions of every row of the same unit."""
    codes = np.unique(unit[sc.row_a], return_inverse=True)[1]
    order = np.argsort(codes, kind="stable")
    groups = np.split(order, np.flatnonzero(np.diff(codes[order])) + 1)
    positions: list = [None] * sc.row_a.size
    for group in groups:
        members = list(zip(group.tolist(), b_of_a[group].tolist()))
        for pa in group.tolist():
            positions[pa] = members
    return positions


def match_with_replacement(distance: np.ndarray, treated: np.ndarray, stratum: np.ndarray,
                           controls: np.ndarray, ratio: int, caliper: float | None) -> np.ndarray:
    """Each treated unit's ``ratio`` nearest controls (vectorised two-pointer merge).

    Columns are ordered by (distance, row); -1 where fewer controls are within reach.
    """
    out = np.full((treated.size, ratio), -1, dtype=np.int64)
    if controls.size == 0 or treated.size == 0:
        return out
    sc = sort_controls(distance, stratum, controls)
    lo, hi, r = search_bounds(sc, distance, stratum, treated)
    l_pos = r - 1
    va, ra = np.append(sc.values, np.nan), np.append(sc.row_a, -1)
    vb, rb = va, np.append(sc.row_b, -1)
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
