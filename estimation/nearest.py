"""Greedy nearest-neighbour matching on a scalar distance, in O(n log n).

This is the array core of :class:`estimation.NearestNeighborMatching`; it follows the
algorithm of MatchIt (4.5.4 and later, ``nn_matchC_vec``):

* without replacement, matching runs in ``ratio`` passes; in each pass every treated unit,
  in the given order, takes the nearest control that is still available (and within the
  caliper); a treated unit that found no control in a pass gets none in later passes;
* with replacement, each treated unit takes its ``ratio`` nearest controls;
* controls are only matched within the treated unit's exact-matching stratum.

Ties between equally distant controls are broken by one of three rules (``ties``):

* ``"matchit"`` (MatchIt 4.6.0 and later; checked against 4.7.2): all units are sorted by
  (distance, row); the nearest available control on the treated unit's left and on its
  right in that order are the candidates, and of two equally far ones MatchIt takes the one
  its search reaches first: the search steps one position left, then one right, and so on,
  counting every unit it passes (treated, discarded, used, other strata), starting in later
  passes from the outermost control already matched to the unit. With replacement and
  ``ratio`` > 1 it collects up to ``ratio`` candidates on each side and keeps the ``ratio``
  nearest with libstdc++'s ``std::partial_sort``, emulated here.
* ``"matchit-4.5"`` (MatchIt 4.5.4 and 4.5.5): the same two candidates; the left one (lower
  distance, or the same distance and a lower row) wins a tie.
* ``"row"``: among all equally distant controls the one with the lowest input row index
  (MatchIt's distance-matrix path: ``which.min`` over the controls in data order).

The available controls of each stratum are kept sorted by (distance, row) (and for the
"row" rule also by (distance, -row) for the search to the left). "Next available"
union-finds with path halving skip used controls, so each match costs near-constant time
after one sort.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from estimation.ordering import stable_sort

try:  # the compiled loops (estimation/_core.c); the Python functions below are the same
    from estimation import _core
except ImportError:  # pragma: no cover - built without a C compiler
    _core = None


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


def _row_without_replacement(distance: np.ndarray, treated: np.ndarray, stratum: np.ndarray,
                             controls: np.ndarray, ratio: int, caliper: float | None,
                             unit: np.ndarray | None = None,
                             ratios: np.ndarray | None = None) -> np.ndarray:
    """Greedy matching in ``ratio`` passes with the "row" tie rule; ``treated`` is in
    matching order.

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
        active = _still_active(active, taken, ratios, column)
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


def _row_with_replacement(distance: np.ndarray, treated: np.ndarray, stratum: np.ndarray,
                          controls: np.ndarray, ratio: int, caliper: float | None) -> np.ndarray:
    """Each treated unit's ``ratio`` nearest controls, "row" tie rule (vectorised merge).

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


TIES = ("matchit", "matchit-4.5", "row")


def match_without_replacement(distance: np.ndarray, treated: np.ndarray, stratum: np.ndarray,
                              controls: np.ndarray, ratio: int, caliper: float | None,
                              unit: np.ndarray | None = None, ties: str = "row",
                              ratios: np.ndarray | None = None,
                              sorted_distance=None) -> np.ndarray:
    """Greedy matching in ``ratio`` passes; ``treated`` is in matching order.

    ``unit`` (optional, one id per row) makes rows of one unit a single control: once one
    of them is matched, all of them are used up (MatchIt's ``unit.id``; risk-set matching
    uses it so that a person is a control in one period only). ``ties`` is one of
    :data:`TIES`; this array core defaults to "row" (its rule before the MatchIt rules were
    added), :class:`~estimation.NearestNeighborMatching` to "matchit".

    ``ratios`` (optional, one per treated unit in the order of ``treated``) gives each unit
    its own number of controls (variable-ratio matching): pass r skips the units whose ratio
    is below r. ``sorted_distance`` (optional, the MatchIt rules): :func:`distance_order`
    of ``distance``, perhaps already under way on a thread.

    Returns an int array (len(treated), ratio) of control rows, -1 where empty, rows in the
    order of ``treated``.
    """
    if ties == "row":
        return _row_without_replacement(distance, treated, stratum, controls, ratio, caliper, unit,
                                        ratios)
    out = np.full((treated.size, ratio), -1, dtype=np.int64)
    if controls.size == 0 or treated.size == 0:
        return out
    ladder = ControlLadder.of(distance, stratum, controls, treated, sorted_distance)
    cal = np.inf if caliper is None else float(caliper)
    first = ties == "matchit"
    if _core is not None and unit is None:
        return _compiled_passes(ladder, distance[treated], ratio, cal, first, out, ratios)
    siblings = _ladder_siblings(unit, ladder) if unit is not None else None
    m = ladder.values.size
    tables = (ladder.values.tolist(), ladder.rows.tolist(), ladder.gpos.tolist(), siblings,
              list(range(m + 1)), list(range(m + 1)))
    active = np.arange(treated.size)
    reach = [ladder.gpos_treated.tolist(), ladder.gpos_treated.tolist()]  # iil, iir per unit
    for column in range(ratio):
        taken = _matchit_pass(tables, distance[treated[active]].tolist(), ladder.lo[active].tolist(),
                              ladder.hi[active].tolist(), ladder.split[active].tolist(),
                              active.tolist(), reach, cal, first)
        taken = np.asarray(taken, dtype=np.int64)
        out[active, column] = taken
        active = _still_active(active, taken, ratios, column)
    return out


def _still_active(active: np.ndarray, taken: np.ndarray, ratios: np.ndarray | None,
                  column: int) -> np.ndarray:
    """The units that go on to the next pass: matched in this one, and (variable ratio)
    wanting more than ``column + 1`` controls."""
    active = active[taken >= 0]
    return active if ratios is None else active[ratios[active] > column + 1]


def _compiled_passes(ladder: "ControlLadder", dist: np.ndarray, ratio: int, cal: float,
                     first: bool, out: np.ndarray, ratios: np.ndarray | None = None) -> np.ndarray:
    """The passes of :func:`match_without_replacement` with ``_core.matchit_pass``."""
    m = ladder.values.size
    next_r, next_l = np.arange(m + 1, dtype=np.int64), np.arange(m + 1, dtype=np.int64)
    iil, iir = ladder.gpos_treated.copy(), ladder.gpos_treated.copy()
    active = np.arange(dist.size, dtype=np.int64)
    for column in range(ratio):
        taken = np.empty(active.size, dtype=np.int64)
        _core.matchit_pass(ladder.values, ladder.rows, ladder.gpos, np.ascontiguousarray(dist[active]),
                           ladder.lo[active], ladder.hi[active], ladder.split[active], active,
                           iil, iir, next_r, next_l, taken, cal, first)
        out[active, column] = taken
        active = _still_active(active, taken, ratios, column)
    return out


@dataclass(frozen=True)
class ControlLadder:
    """The eligible controls sorted by (stratum, distance, row), and per treated unit (in
    matching order) its stratum's range [lo, hi) and ``split``, the first control after it
    in (distance, row) order. ``gpos`` is each control's position among all n units sorted
    by (distance, row), ``gpos_treated`` the treated units' (the steps MatchIt 4.6+ counts).
    """

    values: np.ndarray
    rows: np.ndarray
    gpos: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    split: np.ndarray
    gpos_treated: np.ndarray

    @classmethod
    def of(cls, distance, stratum, controls, treated, sorted_distance=None) -> "ControlLadder":
        """``sorted_distance``: :func:`distance_order` of ``distance`` (None: sorted here);
        asked for its result only when the work that does not need it is done."""
        sorted_distance = sorted_distance or distance_order(distance)
        cs = stratum[controls]
        if cs.size and cs.min() != cs.max():
            return cls._of_strata(distance, stratum, controls, treated, sorted_distance()[0])
        # one stratum: the controls in (distance, row) order are the global order filtered,
        # and the controls before a treated unit are counted along it (no sort, no search)
        cg, rows, tg, before = _along_distance(sorted_distance, controls, treated,
                                               np.asarray(distance).shape[0])
        ordered = sorted_distance()[1]
        ts, m = stratum[treated], rows.size
        s0 = cs[0] if cs.size else 0  # treated units of another stratum have no controls
        lo = np.where(ts > s0, m, 0)
        hi = np.where(ts >= s0, m, 0)
        split = np.where(ts == s0, before, lo)
        return cls(ordered[cg], rows, cg, lo, hi, split, tg)  # = distance[rows], read in order

    @classmethod
    def _of_strata(cls, distance, stratum, controls, treated, by_distance) -> "ControlLadder":
        n = distance.shape[0]
        gpos_all = np.empty(n, dtype=np.int64)
        gpos_all[by_distance] = np.arange(n)
        cg, cs = gpos_all[controls], stratum[controls]
        order = np.lexsort((cg, cs))
        rows, cg, cs = controls[order], cg[order], cs[order]
        ts, tg = stratum[treated], gpos_all[treated]
        lo = np.searchsorted(cs, ts, side="left")
        hi = np.searchsorted(cs, ts, side="right")
        key = cs.astype(np.int64) * n + cg
        split = np.searchsorted(key, ts.astype(np.int64) * n + tg)
        return cls(distance[rows], rows, cg, lo, hi, split, tg)


def distance_order(distance: np.ndarray, pool=None):
    """A callable that gives ``stable_sort(distance)`` (the order and the sorted values):
    started now on ``pool`` (a ``concurrent.futures`` executor; the compiled sort releases
    the interpreter lock), or computed when first called (once)."""
    if pool is not None:
        return pool.submit(stable_sort, np.asarray(distance)).result
    found: list = []

    def result() -> tuple[np.ndarray, np.ndarray]:
        if not found:
            found.append(stable_sort(np.asarray(distance)))
        return found[0]
    return result


def _along_distance(sorted_distance, controls: np.ndarray, treated: np.ndarray, n: int) -> tuple:
    """Along the (distance, row) order (``sorted_distance()[0]``, asked for after the
    arrays that do not need it are ready): the controls' positions and rows, the treated
    units' positions and the number of controls before each (in the order of ``treated``)."""
    eligible = np.zeros(n, dtype=bool)
    eligible[controls] = True
    if _core is not None:
        slot = np.full(n, -1, dtype=np.int64)
        slot[treated] = np.arange(treated.size)
        cg, rows = np.empty(controls.size, np.int64), np.empty(controls.size, np.int64)
        tg, before = np.full(treated.size, -1, np.int64), np.empty(treated.size, np.int64)
        by_distance = sorted_distance()[0]
        if by_distance.dtype == np.int64:
            found = _core.ladder_walk(np.ascontiguousarray(by_distance), eligible, slot, cg, rows,
                                      tg, before)
            if found == controls.size and (tg >= 0).all():  # else a row in both groups: as below
                return cg, rows, tg, before
    by_distance = sorted_distance()[0]
    gpos_all = np.empty(n, dtype=np.int64)
    gpos_all[by_distance] = np.arange(n)
    is_control = eligible[by_distance]
    cg = np.flatnonzero(is_control)
    tg = gpos_all[treated]
    before = np.cumsum(is_control) - is_control  # controls at global positions < p
    return cg, by_distance[cg], tg, before[tg]


def _ladder_siblings(unit: np.ndarray, ladder: ControlLadder) -> list:
    """For each ladder position: the positions of every control row of the same unit."""
    codes = np.unique(unit[ladder.rows], return_inverse=True)[1]
    order = np.argsort(codes, kind="stable")
    groups = np.split(order, np.flatnonzero(np.diff(codes[order])) + 1)
    positions: list = [None] * ladder.rows.size
    for group in groups:
        members = group.tolist()
        for p in members:
            positions[p] = members
    return positions


def _find(parent: list, i: int) -> int:
    """Root of ``i`` in a "next available" union-find, with path halving."""
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


def _matchit_pass(tables, dist, lo, hi, split, index, reach, cal, first) -> list:
    """One pass of MatchIt's greedy search; ``first`` selects the 4.6+ tie rule.

    ``next_r[p]`` is the first available position >= p (m: none); ``next_l[p + 1]`` is
    one more than the last available position <= p (0: none). ``reach`` holds per treated
    unit the outermost positions among all units (iil, iir) its search starts from.
    """
    values, rows, gpos, siblings, next_r, next_l = tables
    iil, iir = reach
    taken = []
    for d, low, high, start, t in zip(dist, lo, hi, split, index):
        r = _find(next_r, start)
        left = _find(next_l, start) - 1
        dr = abs(d - values[r]) if r < high else np.inf
        dl = abs(d - values[left]) if left >= low else np.inf
        if dl < dr:
            pick = left
        elif dr < dl:
            pick = r
        elif dl == np.inf:
            taken.append(-1)
            continue
        elif first:  # the side the alternating search reaches first (left on equal steps)
            pick = left if iil[t] - gpos[left] <= gpos[r] - iir[t] else r
        else:
            pick = left
        if min(dl, dr) > cal:
            taken.append(-1)
            continue
        for p in (siblings[pick] if siblings is not None else (pick,)):
            next_r[p] = p + 1
            next_l[p + 1] = p
        g = gpos[pick]
        if g < iil[t]:
            iil[t] = g
        elif g > iir[t]:
            iir[t] = g
        taken.append(rows[pick])
    return taken


def match_with_replacement(distance: np.ndarray, treated: np.ndarray, stratum: np.ndarray,
                           controls: np.ndarray, ratio: int, caliper: float | None,
                           ties: str = "row", sorted_distance=None) -> np.ndarray:
    """Each treated unit's ``ratio`` nearest controls; -1 where fewer are within reach.

    Columns: for "row" by (distance, row); for "matchit-4.5" in the order MatchIt's passes
    take them; for "matchit" in the order MatchIt 4.6+ returns them. ``sorted_distance``
    as for :func:`match_without_replacement`.
    """
    if ties == "row":
        return _row_with_replacement(distance, treated, stratum, controls, ratio, caliper)
    out = np.full((treated.size, ratio), -1, dtype=np.int64)
    if controls.size == 0 or treated.size == 0:
        return out
    lad = ControlLadder.of(distance, stratum, controls, treated, sorted_distance)
    cal = np.inf if caliper is None else float(caliper)
    if ties == "matchit" and ratio > 1 and _core is not None:
        _core.collect_472(lad.values, lad.rows, lad.gpos, np.ascontiguousarray(distance[treated]),
                          lad.lo, lad.hi, lad.split, lad.gpos_treated, out, ratio, cal)
        return out
    if ties == "matchit" and ratio > 1:
        for i in range(treated.size):
            found = _collect_472(lad, i, float(distance[treated[i]]), ratio, cal)
            out[i, : len(found)] = found
        return out
    d = distance[treated]
    r, l_pos = lad.split.copy(), lad.split - 1
    va, ra, ga = (np.append(lad.values, np.nan), np.append(lad.rows, -1),
                  np.append(lad.gpos, 0))
    tg = lad.gpos_treated
    for column in range(ratio):
        ri, li = np.minimum(r, va.size - 1), np.maximum(l_pos, 0)
        dr = np.where(r < lad.hi, np.abs(d - va[ri]), np.inf)
        dl = np.where(l_pos >= lad.lo, np.abs(d - va[li]), np.inf)
        if ties == "matchit":  # ratio 1: the side reached first on equal distances
            take_left = (dl < dr) | ((dl == dr) & (tg - ga[li] <= ga[ri] - tg))
        else:
            take_left = dl <= dr
        best = np.where(take_left, dl, dr)
        ok = np.isfinite(best) & (best <= cal)
        out[:, column] = np.where(ok, np.where(take_left, ra[li], ra[ri]), -1)
        l_pos = l_pos - (ok & take_left)
        r = r + (ok & ~take_left)
    return out


def _collect_472(lad: ControlLadder, i: int, d: float, k: int, cal: float) -> list:
    """MatchIt 4.6+'s ``find_control_vec`` with replacement for one treated unit.

    The search alternates one step left and one right over all units (left first); a
    candidate at ``s`` steps on the left is reached at iteration 2s - 1, on the right at
    2s, so the candidates are taken in that order. A side stops after ``k`` candidates,
    beyond the caliper, or at a control farther than ``k`` candidates already found.
    """
    lo, hi, tg = int(lad.lo[i]), int(lad.hi[i]), int(lad.gpos_treated[i])
    left, right = int(lad.split[i]) - 1, int(lad.split[i])
    found, dists = [], []
    n_l = n_r = 0
    l_on, r_on = left >= lo, right < hi
    while l_on or r_on:
        go_left = l_on and (not r_on or 2 * (tg - lad.gpos[left]) - 1 < 2 * (lad.gpos[right] - tg))
        p = left if go_left else right
        dist_c = abs(d - float(lad.values[p]))
        stop = dist_c > cal or (len(found) >= k and sum(x < dist_c for x in dists) >= k)
        if not stop:
            found.append(int(lad.rows[p]))
            dists.append(dist_c)
        if go_left:
            n_l += not stop
            left -= 1
            l_on = not stop and n_l < k and left >= lo
        else:
            n_r += not stop
            right += 1
            r_on = not stop and n_r < k and right < hi
    return _keep_nearest(found, dists, k)


def _keep_nearest(found: list, dists: list, k: int) -> list:
    """MatchIt's selection of the k nearest candidates (libstdc++'s algorithms)."""
    n = len(found)
    if n <= 1 or (n <= k and all(a <= b for a, b in zip(dists, dists[1:]))):
        return found
    ind = list(range(n))
    if n > k:
        partial_sort(ind, k, dists)
        return [found[j] for j in ind[:k]]
    ind.sort(key=lambda j: dists[j])  # std::sort below 17 elements: an insertion sort (stable)
    return [found[j] for j in ind]


def _sift(a: list, first: int, hole: int, length: int, value: int, key: list) -> None:
    """libstdc++'s ``std::__adjust_heap`` (then ``__push_heap``) on ``a[first:first+length]``
    with the comparison ``key[x] < key[y]``."""
    top, second = hole, hole
    while second < (length - 1) // 2:
        second = 2 * (second + 1)
        if key[a[first + second]] < key[a[first + second - 1]]:
            second -= 1
        a[first + hole] = a[first + second]
        hole = second
    if (length & 1) == 0 and second == (length - 2) // 2:
        second = 2 * (second + 1)
        a[first + hole] = a[first + second - 1]
        hole = second - 1
    parent = (hole - 1) // 2
    while hole > top and key[a[first + parent]] < key[value]:
        a[first + hole] = a[first + parent]
        hole = parent
        parent = (hole - 1) // 2
    a[first + hole] = value


def partial_sort(a: list, middle: int, key: list) -> None:
    """libstdc++'s ``std::partial_sort(a, a + middle, a + len(a))`` by ``key``: heap select,
    then heap sort of the first ``middle`` (the order it leaves equal keys in matters)."""
    if middle >= 2:
        for parent in range((middle - 2) // 2, -1, -1):
            _sift(a, 0, parent, middle, a[parent], key)
    for i in range(middle, len(a)):
        if key[a[i]] < key[a[0]]:
            value, a[i] = a[i], a[0]
            _sift(a, 0, 0, middle, value, key)
    for last in range(middle - 1, 0, -1):
        value, a[last] = a[last], a[0]
        _sift(a, 0, 0, last, value, key)
