"""Greedy nearest-neighbour matching beyond the fast path: MatchIt's general algorithm.

:mod:`estimation.nearest` matches on a scalar score without further constraints, in
compiled loops. This module handles everything else MatchIt's ``"nearest"`` method does,
with the same results:

* constraints on the pairs (``antiexact``, calipers on covariates; :mod:`estimation.pairrules`),
* controls reused up to ``reuse_max`` times (matching in passes, as without replacement),
* a ratio per treated unit (variable-ratio matching, ``min_controls``/``max_controls``),
* the orders ``"closest"`` and ``"farthest"`` (the closest or farthest pairs first),
* distances on the covariates (Mahalanobis and the others of
  :mod:`estimation.covdistance`) or a distance matrix given by the user.

A *search* finds the best admissible available control of a treated unit; a *driver*
decides the order of the searches and the bookkeeping (MatchIt's ``nn_matchC_*``
functions). Two searches:

* :class:`LadderSearch`, on a scalar score: the controls of each stratum sorted by
  (score, row) with "next available" union-finds, walking outwards from the treated unit
  and skipping inadmissible pairs. Ties follow :data:`estimation.nearest.TIES`.
* :class:`RowSearch`, on covariate distances or a matrix: each treated unit's admissible
  controls ranked once by (distance, tie key), computed in blocks of rows and kept as the
  best ``cache`` candidates (ranked again, without the used ones, when they run out). Its
  tie keys: ``"matchit"`` is MatchIt 4.6+'s search on covariates (the last of equally
  distant candidates reached by its walk along the first transformed covariate wins) and,
  for a matrix, the lowest column; ``"matchit-4.5"`` and ``"row"`` the lowest row
  (MatchIt 4.5's ``which.min``).

Drivers (``run_*``) return a list per treated row of the control rows matched, in the order
they were matched.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from estimation.nearest import ControlLadder, _find, _keep_nearest
from estimation.pairrules import PairRules

#: Bytes of one block of distances computed at once on the covariate path.
BLOCK_BYTES = 1 << 21
#: Distances on covariates that agree to this relative precision count as equal: two
#: controls that differ from a treated unit by mirror-image amounts are equally far, even
#: when rounding in the transformation leaves their computed distances an ulp apart.
TIE_TOLERANCE = 1e-9


def tie_classes(values: np.ndarray) -> np.ndarray:
    """Rank of each value's class of (nearly) equal values: sorted values closer than
    ``TIE_TOLERANCE`` (relative) to their predecessor share its class."""
    if values.size == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.argsort(values, kind="stable")
    ranked = values[order]
    gaps = np.diff(ranked) > TIE_TOLERANCE * np.maximum(np.abs(ranked[1:]), 1e-300)
    classes = np.empty(values.size, dtype=np.int64)
    classes[order] = np.concatenate([[0], np.cumsum(gaps)])
    return classes


# --- searches ---------------------------------------------------------------------------


class LadderSearch:
    """Nearest admissible available control on a scalar score (see the module docstring).

    ``treated`` and ``controls`` are the eligible rows (not discarded, in strata with both
    groups), in input order.
    """

    def __init__(self, distance: np.ndarray, stratum: np.ndarray, treated: np.ndarray,
                 controls: np.ndarray, rules: PairRules, caliper: float | None, ties: str):
        self.d = distance
        self.rules = rules
        self.ties = ties
        self.cal = np.inf if caliper is None else float(caliper)
        lad = ControlLadder.of(distance, stratum, controls, treated)
        self.values = lad.values.tolist()
        self.rows = lad.rows.tolist()
        self.gpos = lad.gpos.tolist()
        self.pos = {row: p for p, row in enumerate(self.rows)}
        self.index = {int(t): i for i, t in enumerate(treated.tolist())}
        self.lo, self.hi = lad.lo.tolist(), lad.hi.tolist()
        self.split, self.tpos = lad.split.tolist(), lad.gpos_treated.tolist()
        m = lad.values.size
        self.next_r, self.next_l = list(range(m + 1)), list(range(m + 1))

    # availability ---------------------------------------------------------------------

    def remove(self, c: int) -> None:
        """Control row ``c`` can no longer be matched."""
        p = self.pos[c]
        self.next_r[p] = p + 1
        self.next_l[p + 1] = p

    def available(self, c: int) -> bool:
        p = self.pos[c]
        return self.next_r[p] == p

    def _left(self, start: int, low: int):
        """Available positions at or below ``start``, nearest first."""
        p = _find(self.next_l, start + 1) - 1
        while p >= low:
            yield p
            p = _find(self.next_l, p) - 1

    def _right(self, start: int, high: int):
        """Available positions at or above ``start``, nearest first."""
        p = _find(self.next_r, start)
        while p < high:
            yield p
            p = _find(self.next_r, p + 1)

    def _first(self, walk, t: int, d: float, taken: set, limit: float):
        """The first admissible position of a walk, or None (caliper or ``limit`` passed)."""
        for p in walk:
            if self.rows[p] in taken:
                continue
            gap = abs(d - self.values[p])
            if gap > self.cal or gap > limit:
                return None
            if self.rules.ok(t, self.rows[p]):
                return p
        return None

    def _starts(self, i: int, taken: list[int], prev: int | None) -> tuple[int, int]:
        """MatchIt 4.6+'s search starts: the outermost of the unit and its earlier matches
        (and the control just lost, when re-searching for the closest order)."""
        points = [self.gpos[self.pos[c]] for c in taken]
        if prev is not None:
            points.append(self.gpos[self.pos[prev]])
        if not points:
            return self.tpos[i], self.tpos[i]
        points.append(self.tpos[i])
        return min(points), max(points)

    # searches -------------------------------------------------------------------------

    def find(self, t: int, taken: list[int], prev: int | None = None) -> tuple[int, float] | None:
        """The control row (and its distance) treated row ``t`` takes next, or None."""
        i = self.index[t]
        d, lo, hi = self.d[t], self.lo[i], self.hi[i]
        done = set(taken)
        if self.ties == "row":
            return self._find_row(t, i, d, done)
        if self.ties == "matchit":
            iil, iir = self._starts(i, taken, prev)
            left_start = bisect.bisect_left(self.gpos, iil, lo, hi) - 1
            right_start = bisect.bisect_right(self.gpos, iir, lo, hi)
        else:
            iil = iir = self.tpos[i]
            left_start, right_start = self.split[i] - 1, self.split[i]
        left = self._first(self._left(left_start, lo), t, d, done, np.inf)
        dl = abs(d - self.values[left]) if left is not None else np.inf
        right = self._first(self._right(right_start, hi), t, d, done, dl)
        if right is None and left is None:
            return None
        if right is None:
            return self.rows[left], dl
        dr = abs(d - self.values[right])
        if left is None or dr < dl:
            return self.rows[right], dr
        if dl < dr or self.ties == "matchit-4.5" or iil - self.gpos[left] <= self.gpos[right] - iir:
            return self.rows[left], dl
        return self.rows[right], dr

    def _find_row(self, t: int, i: int, d: float, done: set) -> tuple[int, float] | None:
        """The "row" rule: the lowest row among the nearest admissible controls."""
        best: tuple[float, int] | None = None
        walks = ((self._left(self.split[i] - 1, self.lo[i]), False),
                 (self._right(self.split[i], self.hi[i]), True))
        for walk, rightward in walks:
            first = self._first(walk, t, d, done, np.inf if best is None else best[0])
            if first is None:
                continue
            gap, row = abs(d - self.values[first]), self.rows[first]
            for p in walk:  # the rest of the run of equal distances on this side
                if self.values[p] != self.values[first]:
                    break
                if self.rows[p] not in done and self.rules.ok(t, self.rows[p]):
                    row = min(row, self.rows[p])
            if best is None or (gap, row) < best:
                best = (gap, row)
        return None if best is None else (best[1], best[0])

    def best_k(self, t: int, k: int) -> list[int]:
        """With replacement: the ``k`` controls treated row ``t`` is matched to."""
        if self.ties == "matchit" and k > 1:
            return self._collect(t, k)
        found: list[int] = []
        for _ in range(k):
            hit = self.find(t, found)
            if hit is None:
                break
            found.append(hit[0])
        return found

    def _collect(self, t: int, k: int) -> list[int]:
        """MatchIt 4.6+'s ``find_control_vec`` with replacement, with admissibility."""
        i = self.index[t]
        d, lo, hi, tg = self.d[t], self.lo[i], self.hi[i], self.tpos[i]
        left, right = self.split[i] - 1, self.split[i]
        found, dists = [], []
        n_l = n_r = 0
        l_on, r_on = left >= lo, right < hi
        while l_on or r_on:
            go_left = l_on and (not r_on or 2 * (tg - self.gpos[left]) - 1 < 2 * (self.gpos[right] - tg))
            p = left if go_left else right
            gap = abs(d - self.values[p])
            stop = gap > self.cal or (len(found) >= k and sum(x < gap for x in dists) >= k)
            admitted = not stop and self.rules.ok(t, self.rows[p])
            if admitted:
                found.append(self.rows[p])
                dists.append(gap)
            if go_left:
                n_l += admitted
                left -= 1
                l_on = not stop and n_l < k and left >= lo
            else:
                n_r += admitted
                right += 1
                r_on = not stop and n_r < k and right < hi
        return _keep_nearest(found, dists, k)


@dataclass
class _Ranked:
    """One treated unit's admissible controls in rank order (maybe only the best ones)."""

    rows: np.ndarray
    dist: np.ndarray
    complete: bool
    start: int = 0


@dataclass
class RowSearch:
    """Nearest admissible available control by a distance over rows (see the module
    docstring). ``distances(t_rows, c_rows)`` gives the (len(t_rows), len(c_rows)) block of
    distances; ``tie(t, c_rows)`` the tie key (lower wins) of each control for unit ``t``.
    """

    distances: Callable[[np.ndarray, np.ndarray], np.ndarray]
    tie: Callable[[int, np.ndarray], np.ndarray]
    stratum: np.ndarray
    treated: np.ndarray
    controls: np.ndarray
    rules: PairRules
    cache: int = 16
    collect_matrix: bool = False
    max_distance: float | None = None
    window: Callable[[int, np.ndarray], np.ndarray] | None = None
    alive: np.ndarray = field(init=False)
    ranked: dict = field(init=False)
    pairs: int = field(init=False)

    def __post_init__(self) -> None:
        n = self.stratum.shape[0]
        self.alive = np.zeros(n, dtype=bool)
        self.alive[self.controls] = True
        self.ranked = {}
        self.by_stratum = {}
        self.pairs = 0
        for s in np.unique(self.stratum[self.treated]):
            cs = self.controls[self.stratum[self.controls] == s]
            self.by_stratum[int(s)] = cs
            if self.window is None:
                self.pairs += int(cs.size) * int(np.sum(self.stratum[self.treated] == s))
        if self.window is not None:
            self.pairs = int(sum(self.window(int(t), self._stratum_controls(int(t))).size
                                 for t in self.treated.tolist()))

    def _stratum_controls(self, t: int) -> np.ndarray:
        return self.by_stratum[int(self.stratum[t])]

    def candidates(self, t: int) -> np.ndarray:
        """The controls whose distance to ``t`` is computed: its stratum's, or those within
        the score caliper (``window``)."""
        cs = self._stratum_controls(t)
        return cs if self.window is None else self.window(t, cs)

    def rank_all(self) -> None:
        """Rank every treated unit's candidates (in blocks of rows without a window)."""
        if self.window is not None:
            for t in self.treated.tolist():
                self._rerank(t, self.cache)
            return
        for s, cs in self.by_stratum.items():
            ts = self.treated[self.stratum[self.treated] == s]
            block = max(1, BLOCK_BYTES // (8 * max(cs.size, 1)))
            for start in range(0, ts.size, block):
                rows = ts[start:start + block]
                table = self.distances(rows, cs) if cs.size else np.empty((rows.size, 0))
                self._rank_block(rows, cs, table)

    def _rank_block(self, rows: np.ndarray, cs: np.ndarray, table: np.ndarray) -> None:
        """Rank a block of treated units against the same controls: the ``cache`` nearest
        of each by one partition of the block, the order among them row by row."""
        ok = np.isfinite(table)
        if self.rules.constrains:
            ok &= np.vstack([self.rules.mask(t, cs) for t in rows.tolist()])
        if self.max_distance is not None:
            ok &= table <= self.max_distance
        masked = np.where(ok, table, np.inf)
        keep = self.cache
        if cs.size <= keep:
            bounds = np.full(rows.size, np.inf)
        else:
            part = np.argpartition(masked, keep - 1, axis=1)[:, keep - 1]
            kth = masked[np.arange(rows.size), part]
            bounds = kth + TIE_TOLERANCE * np.abs(kth)
        for i, t in enumerate(rows.tolist()):
            self.ranked[t] = self._ordered(t, cs, masked[i], bounds[i])

    def _ordered(self, t: int, cs: np.ndarray, dist: np.ndarray, bound: float) -> _Ranked:
        """The candidates with a finite distance up to ``bound``, ranked by (distance class,
        tie key); complete when no finite candidate lies beyond the bound."""
        finite = np.isfinite(dist)
        idx = np.flatnonzero(finite & (dist <= bound))
        complete = idx.size == int(finite.sum())
        values = dist[idx]
        order = np.lexsort((self.tie(t, cs[idx]), tie_classes(values)))
        return _Ranked(cs[idx[order]], values[order], complete)

    def _admissible(self, t: int, cs: np.ndarray, dist: np.ndarray) -> np.ndarray:
        ok = np.isfinite(dist) & self.rules.mask(t, cs)
        if self.max_distance is not None:
            ok &= dist <= self.max_distance
        return ok

    def _rerank(self, t: int, keep: int) -> _Ranked:
        """Rank ``t``'s available candidates again, keeping the ``keep`` nearest."""
        cs = self.candidates(t)
        dist = self.distances(np.array([t]), cs)[0] if cs.size else np.empty(0)
        masked = np.where(self._admissible(t, cs, dist) & self.alive[cs], dist, np.inf)
        if cs.size <= keep:
            bound = np.inf
        else:
            kth = float(np.partition(masked, keep - 1)[keep - 1])
            bound = kth + TIE_TOLERANCE * abs(kth)
        ranked = self._ordered(t, cs, masked, bound)
        self.ranked[t] = ranked
        return ranked

    def remove(self, c: int) -> None:
        self.alive[c] = False

    def available(self, c: int) -> bool:
        return bool(self.alive[c])

    def find(self, t: int, taken: list[int], prev: int | None = None) -> tuple[int, float] | None:
        ranked = self.ranked.get(t) or self._rerank(t, self.cache)
        keep = self.cache
        while True:
            rows, alive = ranked.rows, self.alive
            j = ranked.start
            while j < rows.size and not alive[rows[j]]:
                j += 1
            ranked.start = j  # the used ones at the front stay used
            for q in range(j, rows.size):
                c = int(rows[q])
                if alive[c] and c not in taken:
                    return c, float(ranked.dist[q])
            if ranked.complete:
                return None
            keep *= 4
            ranked = self._rerank(t, keep)

    def best_k(self, t: int, k: int) -> list[int]:
        if self.collect_matrix:
            return self._collect_matrix(t, k)
        ranked = self.ranked.get(t)
        if ranked is None or (not ranked.complete and ranked.rows.size < k):
            ranked = self._rerank(t, max(k, self.cache))
        return [int(c) for c in ranked.rows[:k]]

    def _collect_matrix(self, t: int, k: int) -> list[int]:
        """MatchIt 4.6+'s ``find_control_mat`` with replacement: candidates in column order,
        the first ``k`` and any later one no farther than the farthest of them, then the
        ``k`` nearest by libstdc++'s partial sort."""
        cs = self.candidates(t)
        dist = self.distances(np.array([t]), cs)[0]
        ok = self._admissible(t, cs, dist)
        found, dists, top = [], [], np.inf
        for c, value in zip(cs[ok].tolist(), dist[ok].tolist()):
            if len(found) >= k and value > top:
                continue
            found.append(c)
            dists.append(value)
            top = value if len(found) == 1 else max(top, value)
        return _keep_nearest(found, dists, k)


# --- drivers ----------------------------------------------------------------------------


def run_passes(search, order: np.ndarray, ratio: dict[int, int], reuse_max: int,
               n_controls: int) -> dict[int, list[int]]:
    """Matching in passes (MatchIt's ``use_reuse_max`` branch: without replacement, or with
    each control used at most ``reuse_max`` times): in pass r every treated unit, in
    ``order``, whose ratio is at least r and that found a control in every earlier pass
    takes its best available control not already matched to it."""
    matches = {int(t): [] for t in order.tolist()}
    uses: dict[int, int] = {}
    failed: set[int] = set()
    left = n_controls
    for r in range(1, max(ratio.values(), default=0) + 1):
        for t in order.tolist():
            if left == 0:
                break
            if ratio[t] < r or t in failed:
                continue
            hit = search.find(t, matches[t])
            if hit is None:
                failed.add(t)
                continue
            c = hit[0]
            matches[t].append(c)
            uses[c] = uses.get(c, 0) + 1
            if uses[c] >= reuse_max:
                search.remove(c)
                left -= 1
    return matches


def run_replacement(search, treated: np.ndarray, ratio: dict[int, int]) -> dict[int, list[int]]:
    """With replacement: each treated unit independently takes its ratio nearest."""
    return {int(t): search.best_k(int(t), ratio[int(t)]) for t in treated.tolist()}


def run_closest(search, treated: np.ndarray, ratio: dict[int, int], reuse_max: int,
                n_controls: int, closest: bool) -> dict[int, list[int]]:
    """MatchIt 4.6+'s ``m.order = "closest"`` / ``"farthest"``: in each pass every
    treated unit finds its best control; the pairs are taken from the closest (farthest)
    one; a unit whose control was taken meanwhile searches again and is put back in its
    place in the list (``std::lower_bound`` and ``std::rotate``, as MatchIt does)."""
    matches = {int(t): [] for t in treated.tolist()}
    times: dict[int, int] = {}
    uses: dict[int, int] = {}
    eligible = {int(t) for t in treated.tolist()}
    left = n_controls
    for r in range(1, max(ratio.values(), default=0) + 1):
        pair_t, pair_c, dist = [], [], []
        for t in treated.tolist():
            if t not in eligible:
                continue
            hit = search.find(t, matches[t])
            if hit is None:
                eligible.discard(t)
                continue
            pair_t.append(t)
            pair_c.append(hit[0])
            dist.append(hit[1])
        key = np.asarray(dist, dtype=np.float64)
        heap = np.argsort(key if closest else -key, kind="stable").tolist()
        i = 0
        while left > 0 and eligible and i < len(heap):
            h = heap[i]
            t = pair_t[h]
            if t not in eligible:
                i += 1
                continue
            c = pair_c[h]
            if not search.available(c):
                hit = search.find(t, matches[t], prev=c)
                if hit is None:
                    eligible.discard(t)
                    continue
                pair_c[h], dist[h] = hit
                place = _lower_bound(heap, i, h, dist, closest)
                if place != i:
                    heap[i:place] = heap[i + 1:place] + [h]
                continue
            matches[t].append(c)
            uses[c] = uses.get(c, 0) + 1
            if uses[c] >= reuse_max:
                search.remove(c)
                left -= 1
            times[t] = times.get(t, 0) + 1
            if times[t] >= ratio[t]:
                eligible.discard(t)
            i += 1
    return matches


def _lower_bound(heap: list[int], first: int, value: int, dist: list[float],
                 closest: bool) -> int:
    """libstdc++'s ``std::lower_bound(heap + first, heap.end(), value, cmp)`` with
    MatchIt's comparisons (``dist[a] < dist[b]``, or ``>=`` for the farthest order), on a
    range that is sorted except at ``first``, where ``value`` itself sits."""
    length = len(heap) - first
    target = dist[value]
    while length > 0:
        half = length >> 1
        middle = first + half
        probe = dist[heap[middle]]
        if (probe < target) if closest else (probe >= target):
            first = middle + 1
            length -= half + 1
        else:
            length = half
    return first
