"""Speed of the balance table alone (MatchIt's ``summary()``), at several sizes.

Usage (from the repository root):

    python benchmarks/bench_balance.py [--sizes 100000,1000000] [--repeat 3]

For each size: the benchmark data of ``bench_matching.py`` (register-like covariates,
about 18 % treated), 1:1 nearest-neighbour matching without replacement with a 0.2 SD
caliper, then ``balance_table`` timed ``--repeat`` times (time.perf_counter and CPU
seconds); prints the median, the terms and the largest |SMD| after matching.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def time_balance(n: int, repeat: int) -> tuple[float, float, int, float]:
    """Median wall and CPU seconds of balance_table on n units, the rows and max |SMD|."""
    from bench_matching import COVARIATES, make_data

    from estimation import NearestNeighborMatching
    from estimation.balance import balance_table

    frame = make_data(n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sample = NearestNeighborMatching(caliper=0.2).fit(frame[COVARIATES], frame["treat"]).result_
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        table = balance_table(sample)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), len(table.frame), table.max_abs_smd_after


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print(f"{'n':>10} {'wall s':>8} {'cpu s':>8} {'terms':>6} {'max|SMD| after':>15}")
    for n in (int(s) for s in args.sizes.split(",") if s.strip()):
        wall, cpu, terms, smd = time_balance(n, args.repeat)
        print(f"{n:>10} {wall:>8.3f} {cpu:>8.3f} {terms:>6} {smd:>15.4f}")


if __name__ == "__main__":
    main()
