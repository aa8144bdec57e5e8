"""Literal Python ports of MatchIt's nearest-neighbour code for a vector of scores.

Test oracles only: slow, written to follow the C++ line by line so that a reader can
check them against the source, and checked themselves against R on the golden files of
tests/golden/ties (make_ties.R). tiltak's own matcher is compared with them on many random
tied problems (test_matching_ties.py).

* ``nn_454``: ``nn_matchC_vec`` of MatchIt 4.5.4 (src/nn_matchC_vec.cpp at commit dae1eb4;
  the same code up to 4.5.5). All units sorted by R's stable ``order(distance)``; a treated
  unit looks for the nearest usable control on its left and on its right in that order and
  takes the left one when the two are equally far (``<=``). Exact strata are matched one at
  a time (``matchit2nearest`` splits the data).
* ``nn_472``: ``nn_matchC_vec`` and ``find_control_vec`` (src/internal.cpp) of MatchIt 4.7.2
  (commit ac853e7; the code was rewritten in 4.6.0). The search steps alternately one
  position to the left and one to the right, left first, over all units (exact strata are
  not split); of two equally far candidates the one reached first wins (libstdc++'s
  ``std::partial_sort`` keeps the first of equals when one is kept). With replacement each
  treated unit collects up to ``ratio`` candidates on each side and keeps the ``ratio``
  nearest with ``std::partial_sort``, emulated here as libstdc++ implements it.

Indices are 0-based rows; the result is an (n_treated, ratio) array of control rows (-1
empty) with rows in the data order of the treated units.
"""

from __future__ import annotations

import numpy as np


def r_order(values: np.ndarray, decreasing: bool = False) -> np.ndarray:
    """R's ``order()`` (radix, stable for ties in both directions)."""
    return np.argsort(-values if decreasing else values, kind="stable")


def treated_ord(distance: np.ndarray, treat: np.ndarray, order: str) -> np.ndarray:
    """``ord`` as matchit2nearest builds it: indices among the treated units."""
    d1 = distance[treat == 1]
    if order == "largest":
        return r_order(d1, decreasing=True)
    if order == "smallest":
        return r_order(d1)
    return np.arange(d1.size)


# --- MatchIt 4.5.4 -------------------------------------------------------------------


def _find_side(step, ii, tr, cbm, r, mm_row, d_ord, dist, caliper):
    k = ii + step
    while 0 <= k < tr.size:
        if tr[k] == 1 or not cbm[k] or (r > 0 and d_ord[k] in mm_row):
            k += step
            continue
        if caliper is not None and abs(dist[ii] - dist[k]) > caliper:
            return -1
        return k
    return -1


def _nn_454_stratum(treat, ord_, ratio, discarded, reuse_max, distance, caliper):
    n1 = int((treat == 1).sum())
    d_ord = r_order(distance)
    tr, dist, disc = treat[d_ord], distance[d_ord], discarded[d_ord]
    pos = np.empty(treat.size, dtype=np.int64)
    pos[d_ord] = np.arange(treat.size)
    treated_rows = np.flatnonzero(treat == 1)
    mm = np.full((n1, ratio), -1, dtype=np.int64)
    times = np.zeros(treat.size, dtype=np.int64)
    cbm = ~disc
    for r in range(ratio):
        for row in ord_:
            ii = pos[treated_rows[row]]
            if not cbm[ii]:
                continue
            mm_row = [x for x in mm[row] if x >= 0]
            kl = _find_side(-1, ii, tr, cbm, r, mm_row, d_ord, dist, caliper)
            kr = _find_side(+1, ii, tr, cbm, r, mm_row, d_ord, dist, caliper)
            if kl >= 0 and kr >= 0:
                k = kl if abs(dist[kl] - dist[ii]) <= abs(dist[kr] - dist[ii]) else kr
            elif kl >= 0 or kr >= 0:
                k = max(kl, kr)
            else:
                cbm[ii] = False
                continue
            mm[row, r] = d_ord[k]
            times[ii] += 1
            if times[ii] >= ratio:
                cbm[ii] = False
            times[k] += 1
            if times[k] >= reuse_max:
                cbm[k] = False
    return mm


def nn_454(distance, treat, ratio=1, replace=False, caliper=None, order="largest",
           discarded=None, exact=None):
    """MatchIt 4.5.4's match matrix (0-based rows) for a score vector."""
    treat = np.asarray(treat, dtype=np.int64)
    distance = np.asarray(distance, dtype=np.float64)
    n1 = int(treat.sum())
    discarded = np.zeros(treat.size, bool) if discarded is None else np.asarray(discarded)
    reuse_max = n1 if replace else 1
    if replace:
        order = "data"
    exact = np.zeros(treat.size, np.int64) if exact is None else np.asarray(exact)
    mm = np.full((n1, ratio), -1, dtype=np.int64)
    treated_index = np.cumsum(treat) - 1
    for e in np.unique(exact):
        rows = np.flatnonzero(exact == e)
        t_ = treat[rows]
        if t_.sum() == 0 or t_.sum() == t_.size:
            continue
        ord_ = treated_ord(distance[rows], t_, order)
        sub = _nn_454_stratum(t_, ord_, ratio, discarded[rows], reuse_max, distance[rows], caliper)
        mm[treated_index[rows[t_ == 1]]] = np.where(sub >= 0, rows[np.maximum(sub, 0)], -1)
    return mm


# --- MatchIt 4.7.2 -------------------------------------------------------------------


def _push_heap(a, hole, top, value, less):
    parent = (hole - 1) // 2
    while hole > top and less(a[parent], value):
        a[hole] = a[parent]
        hole = parent
        parent = (hole - 1) // 2
    a[hole] = value


def _adjust_heap(a, first, hole, length, value, less):
    """libstdc++'s std::__adjust_heap on a[first:first + length]."""
    view = _View(a, first)
    top = hole
    second = hole
    while second < (length - 1) // 2:
        second = 2 * (second + 1)
        if less(view[second], view[second - 1]):
            second -= 1
        view[hole] = view[second]
        hole = second
    if (length & 1) == 0 and second == (length - 2) // 2:
        second = 2 * (second + 1)
        view[hole] = view[second - 1]
        hole = second - 1
    _push_heap(view, hole, top, value, less)


class _View:
    def __init__(self, a, first):
        self.a, self.first = a, first

    def __getitem__(self, i):
        return self.a[self.first + i]

    def __setitem__(self, i, v):
        self.a[self.first + i] = v


def _make_heap(a, length, less):
    if length < 2:
        return
    parent = (length - 2) // 2
    while True:
        _adjust_heap(a, 0, parent, length, a[parent], less)
        if parent == 0:
            return
        parent -= 1


def _pop_heap(a, length, result, less):
    value = a[result]
    a[result] = a[0]
    _adjust_heap(a, 0, 0, length, value, less)


def partial_sort(ind, middle, less):
    """libstdc++'s std::partial_sort(ind.begin(), ind.begin() + middle, ind.end(), less)."""
    _make_heap(ind, middle, less)
    for i in range(middle, len(ind)):
        if less(ind[i], ind[0]):
            _pop_heap(ind, middle, i, less)
    last = middle
    while last > 1:
        last -= 1
        _pop_heap(ind, last, last, less)


def _find_control_vec(t_id, ind_d_ord, match_d_ord, treat, distance, eligible, r, mm_row,
                      caliper, exact, first_control, last_control, ratio=1):
    ii = match_d_ord[t_id]
    mm_rowi = [m for m in mm_row if m >= 0 and treat[m] == 0] if r > 1 else []
    starts = [match_d_ord[m] for m in mm_rowi]
    if not starts:
        iil = iir = ii
        min_dist = 0.0
    else:
        starts.append(ii)
        iil, iir = min(starts), max(starts)
        dl = abs(distance[t_id] - distance[ind_d_ord[iil]])
        dr = abs(distance[t_id] - distance[ind_d_ord[iir]])
        min_dist = dr if iil == ii else dl if iir == ii else max(dl, dr)
    di = distance[t_id]
    l_stop = r_stop = left = False
    pot_id: list[int] = []
    pot_d: list[float] = []
    n_l = n_r = 0
    while not l_stop or not r_stop:
        left = False if l_stop else True if r_stop else not left
        if left:
            if iil <= first_control or n_l == ratio:
                l_stop = True
                continue
            iil -= 1
            iz = ind_d_ord[iil]
        else:
            if iir >= last_control or n_r == ratio:
                r_stop = True
                continue
            iir += 1
            iz = ind_d_ord[iir]
        if not eligible[iz] or treat[iz] != 0 or (r > 1 and iz in mm_rowi):
            continue
        dist_c = abs(di - distance[iz])
        if dist_c > caliper:
            l_stop, r_stop = (True, r_stop) if left else (l_stop, True)
            continue
        if dist_c < min_dist:
            continue
        if len(pot_id) >= ratio and sum(d < dist_c for d in pot_d) >= ratio:
            l_stop, r_stop = (True, r_stop) if left else (l_stop, True)
            continue
        if exact[t_id] != exact[iz]:
            continue
        pot_id.append(iz)
        pot_d.append(dist_c)
        if left:
            n_l += 1
            l_stop = l_stop or n_l == ratio
        else:
            n_r += 1
            r_stop = r_stop or n_r == ratio
    n = len(pot_id)
    if n <= 1 or (n <= ratio and all(a <= b for a, b in zip(pot_d, pot_d[1:]))):
        return pot_id
    ind = list(range(n))
    less = lambda a, b: pot_d[a] < pot_d[b]  # noqa: E731
    if n > ratio:
        partial_sort(ind, ratio, less)
        return [pot_id[i] for i in ind[:ratio]]
    ind.sort(key=lambda i: pot_d[i])  # std::sort; an insertion sort (stable) below 17
    return [pot_id[i] for i in ind]


def _update_bounds(bounds, ind_d_ord, eligible, treat):
    first, last = bounds
    if not eligible[ind_d_ord[first]]:
        for c in range(first + 1, last + 1):
            if eligible[ind_d_ord[c]] and treat[ind_d_ord[c]] == 0:
                first = c
                break
    if not eligible[ind_d_ord[last]]:
        for c in range(last - 1, first - 1, -1):
            if eligible[ind_d_ord[c]] and treat[ind_d_ord[c]] == 0:
                last = c
                break
    return [first, last]


def nn_472(distance, treat, ratio=1, replace=False, caliper=None, order="largest",
           discarded=None, exact=None):
    """MatchIt 4.7.2's match matrix (0-based rows) for a score vector."""
    treat = np.asarray(treat, dtype=np.int64)
    distance = np.asarray(distance, dtype=np.float64)
    n = treat.size
    ind_focal = np.flatnonzero(treat == 1)
    nf = ind_focal.size
    exact = np.zeros(n, np.int64) if exact is None else np.asarray(exact)
    eligible = np.ones(n, bool) if discarded is None else ~np.asarray(discarded, bool)
    both = {e for e in np.unique(exact) if treat[exact == e].min() == 0 and treat[exact == e].max() == 1}
    eligible &= np.isin(exact, list(both))  # strata without both groups are discarded
    reuse_max = nf if replace else 1
    if replace:
        order = "data"
    ord_ = treated_ord(distance, treat, order)
    ind_d_ord = r_order(distance)
    match_d_ord = np.argsort(ind_d_ord)
    times = np.zeros(n, np.int64)
    allowed = np.full(n, reuse_max)
    allowed[ind_focal] = ratio
    cal = caliper if caliper is not None else distance.max() - distance.min() + 1
    mm = np.full((nf, ratio), -1, dtype=np.int64)
    bounds = [0, n - 1]
    if reuse_max < nf:
        for r in range(1, ratio + 1):
            for t in ord_:
                if not (eligible & (treat == 0)).any():
                    break
                t_id = ind_focal[t]
                if not eligible[t_id]:
                    continue
                bounds = _update_bounds(bounds, ind_d_ord, eligible, treat)
                k = _find_control_vec(t_id, ind_d_ord, match_d_ord, treat, distance, eligible,
                                      r, list(mm[t]), cal, exact, bounds[0], bounds[1])
                if not k:
                    eligible[t_id] = False
                    continue
                mm[t, int((mm[t] >= 0).sum())] = k[0]
                for ck in (k[0], t_id):
                    if eligible[ck]:
                        times[ck] += 1
                        if times[ck] >= allowed[ck]:
                            eligible[ck] = False
    else:
        for t in ord_:
            t_id = ind_focal[t]
            if not eligible[t_id]:
                continue
            k = _find_control_vec(t_id, ind_d_ord, match_d_ord, treat, distance, eligible, 1,
                                  list(mm[t]), cal, exact, 0, n - 1, ratio)
            mm[t, : len(k)] = k
    return mm
