"""Optimal pair and full matching within exact strata: the shared engine.

Each exact stratum is its own problem (as in MatchIt, which calls optmatch once per
stratum): its focal units are the rows, the others the columns, admissible pairs come from
``estimation.edges`` and the optimal sets from ``estimation.flow``. This module turns the
MatchIt/optmatch settings of a stratum into network limits, explains infeasible problems
and joins the strata into subclasses.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from estimation.edges import caliper_arcs, cover_arcs, prune_cover
from estimation.flow import (Arcs, FlowLimits, FlowSolution, InfeasibleMatchingError, check_size,
                             max_assignable, solve_flow)
from estimation.strata import renumber


class SetMatchingWarning(UserWarning):
    """Optimal or full matching could not meet a constraint everywhere and relaxed it."""


@dataclass(frozen=True)
class SetRule:
    """The set constraints of one method, before they meet a stratum.

    ``kind`` "pair": each row gets between ``min_controls`` and ``max_controls`` columns,
    ``ratio`` on average, each column used once. ``kind`` "full": every matchable unit in
    a set, sets with ``min_controls`` to ``max_controls`` columns per row (optmatch).
    ``match_most`` (pair): when the caliper makes that impossible, fill as many places as
    possible instead of refusing.
    """

    kind: str
    ratio: float
    min_controls: float
    max_controls: float
    match_most: bool = False


@dataclass(frozen=True, eq=False)
class StratumResult:
    """Matched pairs of a stratum as global row indices, and its solution's figures."""

    row_units: np.ndarray
    col_units: np.ndarray
    total_distance: float
    rounding_bound: float
    n_arcs: int


def _compact(arcs: Arcs) -> tuple[Arcs, np.ndarray, np.ndarray]:
    """The arcs on the matchable units only (those with an admissible partner)."""
    rows = np.unique(arcs.rows)
    cols = np.unique(arcs.cols)
    row_pos = np.full(arcs.n_rows, -1, dtype=np.int64)
    col_pos = np.full(arcs.n_cols, -1, dtype=np.int64)
    row_pos[rows], col_pos[cols] = np.arange(rows.size), np.arange(cols.size)
    return Arcs(row_pos[arcs.rows], col_pos[arcs.cols], arcs.distance, rows.size, cols.size), rows, cols


def full_limits(rule: SetRule, nr: int, nc: int) -> tuple[FlowLimits, bool]:
    """optmatch's ``fullmatch`` conversion of min/max controls, and whether it transposes."""
    flipped = not rule.max_controls > 0.5
    if not flipped:
        maxc = min(rule.max_controls, nc)
        minc = max(rule.min_controls, 1 / nr)
        n_cols = nc
    else:
        maxc = min(1 / rule.min_controls if rule.min_controls > 0 else math.inf, nr)
        minc = max(1 / rule.max_controls, 1 / nc)
        n_cols = nr
    mnc = max(1, math.floor(minc))
    mxr = 1 if mnc > 1 else math.ceil(1 / minc)
    return FlowLimits(mxr, math.ceil(maxc), mnc, n_cols), flipped


def pair_limits(rule: SetRule, nr: int, nc: int) -> FlowLimits:
    """Pair (k:1 or variable ratio) matching: each column once, ``ratio`` per row on average."""
    wanted = int(np.round(rule.ratio * nr))  # more than nc: infeasible unless match_most
    return FlowLimits(1, math.ceil(rule.max_controls), max(1, math.floor(rule.min_controls)),
                      wanted)


def unconstrained(limits: FlowLimits, nr: int, nc: int) -> bool:
    """Whether the limits bind nothing: full matching is then an edge cover (prunable)."""
    return (limits.max_row >= nr and limits.max_col >= nc and limits.min_col == 1
            and limits.n_col_matched == nc)


def _infeasible_pair(arcs: Arcs, limits: FlowLimits, where: str) -> InfeasibleMatchingError:
    places = max_assignable(arcs, limits.max_col, 1)
    return InfeasibleMatchingError(
        f"Optimal matching{where} has no feasible solution: {arcs.n_rows} treated unit(s) "
        f"have controls within the caliper, and {limits.n_col_matched} controls must be "
        f"matched ({limits.min_col} to {limits.max_col} each, every control once), but at "
        f"most {places} control place(s) can be filled within the caliper. "
        "Widen the caliper, lower the ratio, match as many as possible (match_most), or use "
        "full or nearest-neighbour matching.")


def _fixed_ratio(limits: FlowLimits, n_rows: int) -> int | None:
    k = limits.max_col
    fixed = limits.min_col == k and limits.max_row == 1 and limits.n_col_matched == k * n_rows
    return k if fixed else None


def assign_pairs(arcs: Arcs, limits: FlowLimits) -> FlowSolution | None:
    """Fixed-ratio pair matching as a sparse assignment problem (scipy's LAPJVsp on the
    admissible pairs, each row repeated k times): the same optimum as the network, in real
    arithmetic and much faster. None when the ratio varies or no full assignment exists
    (the network then explains why, or matches as many as it can). The arcs must be in
    (row, column) order."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import min_weight_full_bipartite_matching

    k = _fixed_ratio(limits, arcs.n_rows)
    if k is None or k * arcs.n_rows > arcs.n_cols:  # (scipy would match the columns fully)
        return None
    per_row = np.bincount(arcs.rows, minlength=arcs.n_rows)
    first = np.cumsum(per_row) - per_row
    lengths = np.repeat(per_row, k)
    position = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths) \
        + np.repeat(np.repeat(first, k), lengths)
    # a stored weight of exactly 0 would read as "no edge": the smallest positive double
    weight = np.where(arcs.distance > 0, arcs.distance, 5e-324)
    matrix = csr_matrix((weight[position], arcs.cols[position], np.r_[0, np.cumsum(lengths)]),
                        shape=(arcs.n_rows * k, arcs.n_cols))
    try:
        slot, col = min_weight_full_bipartite_matching(matrix)
    except ValueError:  # no assignment fills every place
        return None
    if slot.shape[0] != arcs.n_rows * k:
        return None
    key = arcs.rows.astype(np.int64) * arcs.n_cols + arcs.cols
    used = np.zeros(arcs.size, dtype=bool)
    used[np.searchsorted(key, (slot // k).astype(np.int64) * arcs.n_cols + col)] = True
    return FlowSolution(used, float(np.sum(arcs.distance[used])), 0.0)


def dense_pairs(rows: np.ndarray, cols: np.ndarray, d_rows: np.ndarray, d_cols: np.ndarray,
                rule: SetRule, max_arcs: int, where: str) -> StratumResult | None:
    """Fixed-ratio pair matching without a caliper: scipy's ``linear_sum_assignment`` on
    the distance matrix (rows repeated k times); None when the ratio varies."""
    from scipy.optimize import linear_sum_assignment

    k = int(rule.ratio)
    if not (rule.min_controls == rule.max_controls == rule.ratio == k) or k * rows.size > cols.size:
        return None
    check_size(rows.size * cols.size, rows.size, cols.size, max_arcs, where)
    D = np.abs(d_rows[:, None] - d_cols[None, :])
    if k > 1:
        D = np.repeat(D, k, axis=0)
    slot, col = linear_sum_assignment(D)
    return StratumResult(rows[slot // k], cols[col], float(D[slot, col].sum()), 0.0,
                         rows.size * cols.size)


def _warn_partial(arcs: Arcs, solution, limits: FlowLimits, where: str) -> None:
    filled = int(solution.used.sum())
    rows = int(np.unique(arcs.rows[solution.used]).size)
    warnings.warn(f"Optimal matching{where}: the caliper leaves room for {filled} of the "
                  f"{limits.n_col_matched} control places; {rows} of {arcs.n_rows} treated "
                  "unit(s) got controls (match_most).", SetMatchingWarning, stacklevel=5)


def _infeasible_full(rule: SetRule, arcs: Arcs, where: str) -> InfeasibleMatchingError:
    return InfeasibleMatchingError(
        f"Full matching{where} has no feasible solution with min_controls="
        f"{rule.min_controls:g} and max_controls={rule.max_controls:g}: {arcs.n_rows} "
        f"focal and {arcs.n_cols} other unit(s) can be matched, and every one of them must "
        "be in a set within these limits. Relax min_controls/max_controls or the caliper.")


def _solve_full(arcs: Arcs, rule: SetRule, where: str):
    limits, flipped = full_limits(rule, arcs.n_rows, arcs.n_cols)
    problem = arcs if not flipped else Arcs(arcs.cols, arcs.rows, arcs.distance, arcs.n_cols,
                                            arcs.n_rows)
    solution = solve_flow(problem, limits)
    if solution is None and not flipped and math.isfinite(rule.max_controls) \
            and rule.max_controls >= 1:
        solution = _recover(problem, rule, limits, where)
    if solution is None:
        raise _infeasible_full(rule, arcs, where)
    return solution


def _set_sizes(arcs: Arcs, used: np.ndarray) -> np.ndarray:
    """Number of column units in each matched set of a solution."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = arcs.n_rows + arcs.n_cols
    graph = coo_matrix((np.ones(int(used.sum())), (arcs.rows[used], arcs.cols[used] + arcs.n_rows)),
                       shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    matched_cols = np.unique(arcs.cols[used]) + arcs.n_rows
    return np.bincount(labels[matched_cols])


def _recover(arcs: Arcs, rule: SetRule, limits: FlowLimits, where: str):
    """optmatch's recovery when ``max_controls`` cannot be met with every column matched:
    solve without it, keep min(columns, max_controls) of each set, solve again."""
    free, _ = full_limits(SetRule("full", 1, rule.min_controls, math.inf), arcs.n_rows,
                          arcs.n_cols)
    # (without min_controls the unconstrained problem is an edge cover: prune it)
    free_arcs = prune_cover(arcs) if rule.min_controls <= 0 else arcs
    first = solve_flow(free_arcs, free)
    if first is None:
        return None
    sizes = _set_sizes(free_arcs, first.used)
    kept = int(np.sum(np.minimum(sizes[sizes > 0], rule.max_controls)))
    relaxed = FlowLimits(limits.max_row, limits.max_col, limits.min_col, kept)
    solution = solve_flow(arcs, relaxed)
    if solution is not None:
        warnings.warn(f"Full matching{where}: not every unit fits in a set within "
                      f"max_controls={rule.max_controls:g}; {arcs.n_cols - kept} unit(s) of the "
                      "comparison group were left unmatched (optmatch's recovery).",
                      SetMatchingWarning, stacklevel=6)
    return solution


def solve_stratum(rows: np.ndarray, cols: np.ndarray, distance: np.ndarray,
                  width: float | None, rule: SetRule, max_arcs: int, where: str
                  ) -> StratumResult | None:
    """Optimal sets of one stratum; ``rows``/``cols`` are global unit indices.

    The units enter the network in the order of their distance (then of their row), so
    that among several optimal solutions the one chosen does not depend on the order of
    the input rows, only on ties in the distance itself.
    """
    rows = rows[np.argsort(distance[rows], kind="stable")]
    cols = cols[np.argsort(distance[cols], kind="stable")]
    d_rows, d_cols = distance[rows], distance[cols]
    if rule.kind == "pair" and width is None:
        dense = dense_pairs(rows, cols, d_rows, d_cols, rule, max_arcs, where)
        if dense is not None:
            return dense
    prune = rule.kind == "full" and rule.min_controls <= 0 and math.isinf(rule.max_controls)
    builder = cover_arcs if prune else caliper_arcs
    arcs, row_keep, col_keep = _compact(builder(d_rows, d_cols, width, max_arcs, where))
    if arcs.size == 0:
        return None
    if rule.kind == "pair":
        limits = pair_limits(rule, arcs.n_rows, arcs.n_cols)
        solution = assign_pairs(arcs, limits) or solve_flow(arcs, limits)
        if solution is None and rule.match_most:
            solution = solve_flow(arcs, limits, bypass=True)
            _warn_partial(arcs, solution, limits, where)
        if solution is None:
            raise _infeasible_pair(arcs, limits, where)
    else:
        solution = _solve_full(arcs, rule, where)
    used = solution.used  # a transposed problem keeps the order of the arcs
    return StratumResult(rows[row_keep[arcs.rows[used]]], cols[col_keep[arcs.cols[used]]],
                         solution.total_distance, solution.rounding_bound, arcs.size)


def join_subclasses(n: int, results: list[StratumResult]) -> np.ndarray:
    """Subclass of every unit: the connected sets of matched pairs, numbered 0, 1, ... in
    input order of their first unit; -1 for unmatched units."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    if not results:
        return np.full(n, -1, dtype=np.int64)
    a = np.concatenate([r.row_units for r in results])
    b = np.concatenate([r.col_units for r in results])
    graph = coo_matrix((np.ones(a.size), (a, b)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    matched = np.zeros(n, dtype=bool)
    matched[a], matched[b] = True, True
    return renumber(np.where(matched, labels, -1))


def stratum_label(frame: pd.DataFrame, exact: list[str], unit: int) -> str:
    """' in exact stratum a=1, b='x'' for messages (empty without exact matching)."""
    if not exact:
        return ""
    values = ", ".join(f"{c}={frame[c].iloc[unit]!r}" for c in exact)
    return f" in exact stratum {values}"
