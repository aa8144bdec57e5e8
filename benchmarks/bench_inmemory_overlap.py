"""What the in-memory task's work on the second thread can save (issue 14, round 9).

    TILTAK_THREADS=1 python benchmarks/bench_inmemory_overlap.py [N] [--data DIR]

On a shared machine two threads' wall clock is hidden by the load; the CPU seconds of one
thread are not. This measures, on one thread (``time.thread_time``, median of 7), the
pieces that round 9 runs side by side, and predicts the two-thread critical path from
them: the design's column checks (the longest column against half of all), the matcher's
sort of the distance against the work done before the ladder needs it, the subclasses
against the weights, and the balance table's rows scheduled on two threads in column
order, costliest first (``balance._row_cost``) and by the measured costs. The savings are
estimates for an idle machine, not measurements of wall time.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]


def cpu_ms(function, k: int = 7) -> float:
    times = []
    for _ in range(k):
        start = time.thread_time()
        function()
        times.append(time.thread_time() - start)
    return statistics.median(times) * 1e3


def makespan(costs: list[float], order, workers: int = 2) -> float:
    """List scheduling: each column to the thread that is free first."""
    free = [0.0] * workers
    for i in order:
        free[free.index(min(free))] += costs[i]
    return max(free)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("TILTAK_SPEED_DATA",
                                                                         "/tmp/tiltak-speed")))
    args = parser.parse_args()
    import numpy as np

    import bench_speed
    from estimation import NearestNeighborMatching, PropensityScore, matched, matching, nearest
    from estimation import balance as B
    from estimation import design as D
    from estimation.ordering import stable_sort
    from speed_data import COVARIATES

    print(f"machine: {os.cpu_count()} CPUs ({platform.processor() or platform.machine()}), "
          f"load average {os.getloadavg()[0]:.2f}; TILTAK_THREADS={os.environ.get('TILTAK_THREADS', '')}")
    _, parquet = bench_speed.data_files(args.n, args.data)
    frame = bench_speed._read_frame(str(parquet))
    X, treat = frame[COVARIATES], frame["treat"].to_numpy()
    warnings.simplefilter("ignore")
    res = {}
    columns = [(str(c), X[c]) for c in X.columns]
    checks = [cpu_ms(lambda: D._encode_column(*c)) for c in columns]
    res["design: column checks, one thread"] = sum(checks)
    res["design: column checks, two threads (the longest)"] = max(max(checks), sum(checks) / 2)
    dense = D.design_matrix(X).columns.dense
    means = [cpu_ms(lambda: np.mean(v, dtype=np.float64)) for v in dense]
    res["design: dense means, one thread"] = sum(means)
    res["design: dense means, two threads"] = makespan(means, range(len(means)))
    distance = PropensityScore().fit(X, treat).distance()
    res["match: stable_sort(distance)"] = cpu_ms(lambda: stable_sort(distance))
    res["match: work before the ladder needs the sort"] = _work_before_sort(
        nearest, matching, NearestNeighborMatching, distance, X, treat)
    sample = NearestNeighborMatching(distance=distance, caliper=0.2).fit(X, treat).result_
    mm, rows, n = sample.match_matrix, np.flatnonzero(sample.treat), sample.n
    res["match: pair_subclass"] = cpu_ms(lambda: matched.pair_subclass(mm, rows, n))
    res["match: matching_weights"] = cpu_ms(lambda: matched.matching_weights(mm, rows, n))
    layout = B.Layout.of(sample)
    cols = [B.BalanceTerm("distance", "distance", None, np.asarray(sample.distance, float))]
    cols += [(str(c), sample.covariates[c]) for c in sample.covariates.columns]
    costs = [cpu_ms(lambda: B._rows_in_parallel([c], layout, "treated", "std"), 3) for c in cols]
    res["balance: rows, one thread"] = sum(costs)
    res["balance: rows on two threads, column order (before)"] = makespan(costs, range(len(cols)))
    res["balance: rows on two threads, costliest first (round 9)"] = makespan(
        costs, sorted(range(len(cols)), key=lambda i: -B._row_cost(cols[i])))
    res["balance: rows on two threads, by measured cost"] = makespan(
        costs, sorted(range(len(cols)), key=lambda i: -costs[i]))
    for key, value in res.items():
        print(f"  {key:58s} {value:7.1f} ms")
    saved = {
        "design checks": res["design: column checks, one thread"]
        - res["design: column checks, two threads (the longest)"],
        "design means": res["design: dense means, one thread"] - res["design: dense means, two threads"],
        "match sort": min(res["match: stable_sort(distance)"],
                          res["match: work before the ladder needs the sort"]),
        "match subclasses": min(res["match: pair_subclass"], res["match: matching_weights"]),
        "balance order": res["balance: rows on two threads, column order (before)"]
        - res["balance: rows on two threads, costliest first (round 9)"],
    }
    print("  estimated wall saved on two idle cores: " + ", ".join(
        f"{k} {v:.1f} ms" for k, v in saved.items()) + f"; in all {sum(saved.values()):.0f} ms")
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


def _work_before_sort(nearest, matching, NearestNeighborMatching, distance, X, treat) -> float:
    """Thread CPU from the start of the sort to the first time the ladder asks for it."""
    state: dict = {}
    plain = nearest.distance_order

    def timed(values, pool=None):
        state["start"] = time.thread_time()
        inner = plain(values, None)

        def result():
            state.setdefault("before", time.thread_time() - state["start"])
            return inner()
        return result

    matching.distance_order = timed
    try:
        found = []
        for _ in range(7):
            state.clear()
            NearestNeighborMatching(distance=distance, caliper=0.2).fit(X, treat)
            found.append(state["before"])
    finally:
        matching.distance_order = plain
    return statistics.median(found) * 1e3


if __name__ == "__main__":
    main()
