"""Optimal (full) matching as a minimum-cost network flow, solved by Google OR-tools.

The network is optmatch's (Hansen and Klopfer 2006; optmatch's ``fmatch``). With ``nr``
row units (the focal group: treated for the ATT), ``nc`` column units and the limits

* ``max_col`` (mxc): most column units a row unit is matched to,
* ``min_col`` (mnc): fewest column units a row unit is matched to,
* ``max_row`` (mxr): most row units a column unit is matched to,
* ``n_col_matched``: how many column units are matched,

the nodes are the row units (supply mxc each), the column units, an *End* node (demand
``mxc * nr - n_col_matched``) and a *Sink* (demand ``n_col_matched``). Arcs: every
admissible row -> column pair (capacity 1, cost = the distance), row -> End (capacity
mxc - mnc), column -> End (capacity mxr - 1) and column -> Sink (capacity 1). A flow of one
unit on a row -> column arc puts the two units in the same matched set. With positive costs
an optimal flow is a forest of stars (each set has one row or one column unit at its centre),
which is why the distances are mapped to integers of at least 1 (``integer_costs``).

Pair matching is the special case ``max_row = 1``, ``min_col = max_col = k``,
``n_col_matched = k * nr``. The solver is OR-tools' ``SimpleMinCostFlow`` (cost-scaling
push-relabel, exact on integers); see docs/dependencies.md for the choice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from estimation.parameters import InvalidInputError

#: Integer resolution of the costs: the largest distance maps to about this many units.
RESOLUTION = 2**30
#: Default ceiling on the arcs of one network (the memory it needs: ``BYTES_PER_ARC``).
MAX_ARCS = 50_000_000
#: Peak memory per match arc while the network is built and solved (measured with
#: benchmarks/bench_optimal.py: OR-tools' arrays with their reverse arcs, and ours).
BYTES_PER_ARC = 120


class InfeasibleMatchingError(InvalidInputError):
    """The constraints of an optimal or full matching cannot all be met."""


class ProblemTooLargeError(InvalidInputError):
    """The network of an optimal or full matching would not fit the memory allowed."""


@dataclass(frozen=True)
class FlowLimits:
    """optmatch's constraints in network form (see the module docstring)."""

    max_row: int
    max_col: int
    min_col: int
    n_col_matched: int


@dataclass(frozen=True, eq=False)
class Arcs:
    """Admissible pairs of one subproblem: row unit, column unit (local indices), distance."""

    rows: np.ndarray
    cols: np.ndarray
    distance: np.ndarray
    n_rows: int
    n_cols: int

    @property
    def size(self) -> int:
        return int(self.rows.shape[0])


@dataclass(frozen=True, eq=False)
class FlowSolution:
    """The arcs used by an optimal flow, the total distance, and its rounding bound."""

    used: np.ndarray
    total_distance: float
    rounding_bound: float


def integer_costs(distance: np.ndarray, resolution: int = RESOLUTION) -> tuple[np.ndarray, float]:
    """Costs ``ceil(0.5 + d / eps)`` (all >= 1, as optmatch's) and the resolution eps."""
    top = float(distance.max()) if distance.size else 0.0
    eps = top / resolution if top > 0 else 1.0
    return np.ceil(0.5 + distance / eps).astype(np.int64), eps


def available_memory() -> int | None:
    """Bytes of memory available now (Linux ``MemAvailable``), or None when unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _gigabytes(count: float) -> str:
    return f"{count / 1e9:.1f} GB" if count >= 1e8 else f"{count / 1e6:.0f} MB"


def check_size(n_arcs: int, n_rows: int, n_cols: int, max_arcs: int, where: str = "") -> None:
    """Refuse a network larger than ``max_arcs`` or than the memory available."""
    need = n_arcs * BYTES_PER_ARC
    free = available_memory()
    if n_arcs <= max_arcs and (free is None or need <= free):
        return
    dense = n_rows * n_cols
    shape = "dense: every pair admissible" if n_arcs == dense else f"{n_arcs / dense:.1%} of all pairs"
    limit = (f"more than the limit of {max_arcs:,} arcs (max_arcs)" if n_arcs > max_arcs
             else f"more than the {_gigabytes(free)} of memory available")
    raise ProblemTooLargeError(
        f"The matching network{where} has {n_arcs:,} arcs ({n_rows:,} x {n_cols:,} units, "
        f"{shape}); solving it would need about {_gigabytes(need)} of memory, {limit}. "
        "Make it sparse with a caliper or exact-matching strata (full matching without "
        "min_controls/max_controls is pruned to far fewer arcs), or raise max_arcs.")


def _network(arcs: Arcs, limits: FlowLimits, bypass: bool = False):
    """Tails, heads, capacities, costs and node supplies of the network.

    ``bypass`` adds an arc from every row to the Sink (capacity mxc) whose cost exceeds
    any set of real arcs: the optimum then fills as many column places as it can and,
    among those flows, has the smallest total distance ("match as many as possible").
    """
    nr, nc = arcs.n_rows, arcs.n_cols
    end, sink = nr + nc, nr + nc + 1
    flow = limits.max_col * nr
    # OR-tools scales costs by the number of nodes: keep cost x nodes well inside int64
    resolution = RESOLUTION if not bypass else max(2**10, min(RESOLUTION, 2**60 // (
        (flow + 2) * (nr + nc + 3))))
    cost, eps = integer_costs(arcs.distance, resolution)
    row_ids, col_ids = np.arange(nr, dtype=np.int32), np.arange(nr, nr + nc, dtype=np.int32)
    parts_t = [arcs.rows.astype(np.int32), row_ids, col_ids, col_ids]
    parts_h = [(arcs.cols + nr).astype(np.int32), np.full(nr, end, np.int32),
               np.full(nc, end, np.int32), np.full(nc, sink, np.int32)]
    parts_c = [np.ones(arcs.size, np.int64), np.full(nr, limits.max_col - limits.min_col, np.int64),
               np.full(nc, limits.max_row - 1, np.int64), np.ones(nc, np.int64)]
    parts_k = [cost, np.zeros(nr + 2 * nc, np.int64)]
    if bypass:
        parts_t.append(row_ids)
        parts_h.append(np.full(nr, sink, np.int32))
        parts_c.append(np.full(nr, limits.max_col, np.int64))
        parts_k.append(np.full(nr, (flow + 1) * (resolution + 2), np.int64))
    supply = np.zeros(nr + nc + 2, np.int64)
    supply[:nr] = limits.max_col
    supply[end] = -(limits.max_col * nr - limits.n_col_matched)
    supply[sink] = -limits.n_col_matched
    network = tuple(np.concatenate(p) for p in (parts_t, parts_h, parts_c, parts_k))
    return network, supply, eps


def clearly_infeasible(nr: int, limits: FlowLimits) -> bool:
    """optmatch's checks that need no solver (too few or too many column units)."""
    mxr, mxc, mnc, n_mc = limits.max_row, limits.max_col, limits.min_col, limits.n_col_matched
    return ((mxr > 1 and nr / mxr > n_mc) or (mxr == 1 and nr * mnc > n_mc)
            or nr * mxc < n_mc)


def feasible(network, supply: np.ndarray) -> bool:
    """Whether every supply can reach the demands (a maximum flow, much faster than the
    minimum-cost flow that would otherwise find out)."""
    from ortools.graph.python import max_flow

    tails, heads, capacity, _ = network
    n = supply.shape[0]
    source, target = n, n + 1
    givers, takers = np.flatnonzero(supply > 0), np.flatnonzero(supply < 0)
    solver = max_flow.SimpleMaxFlow()
    solver.add_arcs_with_capacity(
        np.concatenate([tails, np.full(givers.size, source, np.int32), takers.astype(np.int32)]),
        np.concatenate([heads, givers.astype(np.int32), np.full(takers.size, target, np.int32)]),
        np.concatenate([capacity, supply[givers], -supply[takers]]))
    if solver.solve(source, target) != solver.OPTIMAL:
        return False
    return int(solver.optimal_flow()) == int(supply[givers].sum())


def solve_flow(arcs: Arcs, limits: FlowLimits, bypass: bool = False) -> FlowSolution | None:
    """An optimal flow, or None when the constraints cannot be met."""
    from ortools.graph.python import min_cost_flow

    if not bypass and clearly_infeasible(arcs.n_rows, limits):
        return None
    network, supply, eps = _network(arcs, limits, bypass)
    if not feasible(network, supply):
        return None
    solver = min_cost_flow.SimpleMinCostFlow()
    solver.add_arcs_with_capacity_and_unit_cost(*network)
    del network
    solver.set_nodes_supplies(np.arange(supply.shape[0]), supply)
    status = solver.solve()
    if status == solver.INFEASIBLE or status == solver.UNBALANCED:
        return None
    if status != solver.OPTIMAL:
        raise InvalidInputError(f"The network-flow solver failed on a matching problem "
                                f"(OR-tools status {status.name}).")
    used = solver.flows(np.arange(arcs.size)) > 0
    total = float(np.sum(arcs.distance[used]))
    # each cost is d/eps + 0.5 to 1.5: an integer optimum is within 1.5 eps per unit of the
    # real optimum (an optimal set forest has fewer arcs than units)
    return FlowSolution(used, total, 1.5 * eps * (arcs.n_rows + arcs.n_cols))


def max_assignable(arcs: Arcs, per_row: int, per_col: int) -> int:
    """The most column places that can be filled when each row takes at most ``per_row``
    columns and each column serves at most ``per_col`` rows (a maximum flow; it explains
    an infeasible problem)."""
    from ortools.graph.python import max_flow

    nr, nc = arcs.n_rows, arcs.n_cols
    source, sink = nr + nc, nr + nc + 1
    solver = max_flow.SimpleMaxFlow()
    tails = np.concatenate([np.full(nr, source), arcs.rows, np.arange(nr, nr + nc)]).astype(np.int32)
    heads = np.concatenate([np.arange(nr), arcs.cols + nr, np.full(nc, sink)]).astype(np.int32)
    caps = np.concatenate([np.full(nr, per_row), np.ones(arcs.size, np.int64),
                           np.full(nc, per_col)]).astype(np.int64)
    solver.add_arcs_with_capacity(tails, heads, caps)
    solver.solve(source, sink)
    return int(solver.optimal_flow())
