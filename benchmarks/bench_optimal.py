"""Speed and memory of optimal full and pair matching (OR-tools' min-cost flow).

Usage (from the repository root):

    python benchmarks/bench_optimal.py                 # every case below
    python benchmarks/bench_optimal.py --cases full_caliper,full_dense_refused

Each case runs in a fresh process under ``/usr/bin/time -v`` (wall and CPU seconds, peak
resident memory), on 5,000 treated and 50,000 control units (the issue's size) unless its
name says otherwise. The distance is the logit of a fitted propensity score on register-
like covariates; calipers are in standard deviations of it. Printed per case: the
admissible pairs (arcs) of the network actually solved, the matched units, the seconds
and the ratio to the target (30 s on 2 cores for sparse full matching with a caliper).

Cases:

* ``full_caliper``: full matching with a 0.2 SD caliper (MatchIt's defaults otherwise:
  no min/max controls, so the network is pruned to the pairs an optimum can use);
* ``full_no_caliper``: the same without a caliper (250 million pairs before pruning);
* ``full_caliper_unpruned``: ``full_caliper`` on the whole network within the caliper
  (``min_controls=1e-9`` binds nothing but switches the pruning off): what pruning saves;
* ``full_constrained``: full matching with ``max_controls=10`` and a 0.05 SD caliper:
  no pruning is possible, so the network has every pair within the caliper;
* ``full_dense_refused``: ``max_controls=10`` without a caliper: the 250 million arcs are
  refused, with the memory they would need, before anything is built;
* ``optimal_caliper``: optimal 1:1 pair matching with a 0.05 SD caliper (refused: one
  control too few at the edge of the support), and ``optimal_caliper_most`` the same with
  ``match_most=True``;
* ``small_full`` / ``small_optimal``: 600 treated and 10,000 controls (a small programme),
  full matching without caliper and optimal 2:1 matching within 0.1 SD;
  ``small_optimal_1to1`` optimal 1:1 matching without caliper, next to the peer
  ``small_lsap``: scipy's ``linear_sum_assignment`` on the same dense 600 x 10,000 matrix
  (optmatch, MatchIt's engine, is not packaged for Debian, so it is not run).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TARGET_SECONDS = 30.0

CASES = {
    "full_caliper": ("full", 5000, 50000, dict(caliper=0.2)),
    "full_no_caliper": ("full", 5000, 50000, dict()),
    "full_caliper_unpruned": ("full", 5000, 50000, dict(caliper=0.2, min_controls=1e-9)),
    "full_constrained": ("full", 5000, 50000, dict(caliper=0.05, max_controls=10)),
    "full_dense_refused": ("full", 5000, 50000, dict(max_controls=10)),
    "optimal_caliper": ("optimal", 5000, 50000, dict(caliper=0.05)),
    "optimal_caliper_most": ("optimal", 5000, 50000, dict(caliper=0.05, match_most=True)),
    "small_full": ("full", 600, 10000, dict()),
    "small_optimal": ("optimal", 600, 10000, dict(ratio=2, caliper=0.1)),
    "small_optimal_1to1": ("optimal", 600, 10000, dict()),
    "small_lsap": ("lsap", 600, 10000, dict()),
}


def make_data(n1: int, n0: int, seed: int = 1) -> pd.DataFrame:
    """Register-like covariates; treated units drawn to have somewhat higher scores."""
    rng = np.random.default_rng(seed)
    n = n1 + n0
    treat = np.r_[np.ones(n1, bool), np.zeros(n0, bool)]
    frame = pd.DataFrame({
        "age": np.round(18 + rng.gamma(4.0, 3.5, size=n) + 2 * treat, 0),
        "months_since_decision": rng.integers(0, 60, size=n) - 5 * treat,
        "female": rng.random(n) < 0.25 + 0.1 * treat,
        "household": rng.choice(["single", "with_children", "couple"], size=n),
        "health_issue": rng.random(n) < 0.15 + 0.05 * treat,
    })
    frame["treat"] = treat
    return frame


def run_case(name: str) -> dict:
    """One case in this process (called in a child process by ``main``)."""
    import warnings

    from estimation import FullMatching, OptimalMatching, PropensityScore

    import scipy.optimize  # noqa: F401 - imported before the clock starts, for every case
    import scipy.sparse.csgraph  # noqa: F401

    method, n1, n0, kwargs = CASES[name]
    frame = make_data(n1, n0)
    covariates = [c for c in frame.columns if c != "treat"]
    score = PropensityScore().fit(frame[covariates], frame["treat"]).distance("logit")
    if method == "lsap":
        return _lsap(score, frame["treat"].to_numpy())
    model = (FullMatching if method == "full" else OptimalMatching)(distance=score, **kwargs)
    start, cpu = time.perf_counter(), time.process_time()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sample = model.fit(None, frame["treat"].to_numpy()).result_
        outcome = {"arcs": sample.settings["n_arcs"], "matched": int((sample.weights > 0).sum()),
                   "sets": int(sample.subclass.max()) + 1,
                   "total_distance": sample.settings["total_distance"]}
    except Exception as exc:  # noqa: BLE001 - the refusal is the result of that case
        outcome = {"refused": str(exc)}
    outcome.update(match_wall=time.perf_counter() - start, match_cpu=time.process_time() - cpu)
    return outcome


def _lsap(score: np.ndarray, treat: np.ndarray) -> dict:
    """The peer: scipy's assignment on the dense treated x control distance matrix."""
    from scipy.optimize import linear_sum_assignment

    start, cpu = time.perf_counter(), time.process_time()
    D = np.abs(score[treat][:, None] - score[~treat][None, :])
    rows, cols = linear_sum_assignment(D)
    return {"arcs": int(D.size), "matched": 2 * rows.size, "total_distance": float(D[rows, cols].sum()),
            "match_wall": time.perf_counter() - start, "match_cpu": time.process_time() - cpu}


def _time_v(stderr: str) -> dict:
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", stderr)
    user = re.search(r"User time \(seconds\): ([\d.]+)", stderr)
    system = re.search(r"System time \(seconds\): ([\d.]+)", stderr)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", stderr)
    seconds = (int(wall.group(1) or 0) * 3600 + int(wall.group(2)) * 60 + float(wall.group(3))) if wall else float("nan")
    return {"process_wall": seconds,
            "process_cpu": float(user.group(1)) + float(system.group(1)) if user and system else float("nan"),
            "peak_mb": int(rss.group(1)) / 1024 if rss else float("nan")}


def measure(name: str) -> dict:
    command = [sys.executable, __file__, "--child", name]
    if Path("/usr/bin/time").exists():
        command = ["/usr/bin/time", "-v", *command]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed"}
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result.update(_time_v(done.stderr))
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated case names")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(run_case(args.child)))
        return
    print(f"load average at start: {' '.join(f'{v:.2f}' for v in os.getloadavg())}; "
          f"CPUs: {os.cpu_count()}")
    print(f"{'case':<20} {'units':>14} {'arcs':>12} {'matched':>8} {'match s':>8} "
          f"{'cpu s':>7} {'process s':>9} {'peak MB':>8} {'/ 30 s':>7}")
    totals: dict[str, float] = {}
    for name in args.cases.split(","):
        method, n1, n0, _ = CASES[name]
        r = measure(name)
        if "error" in r:
            print(f"{name:<20} failed: {r['error']}")
            continue
        units = f"{n1:,}x{n0:,}"
        arcs = f"{r['arcs']:,}" if "arcs" in r else "refused"
        matched = f"{r.get('matched', 0):,}"
        print(f"{name:<20} {units:>14} {arcs:>12} {matched:>8} {r['match_wall']:8.2f} "
              f"{r['match_cpu']:7.2f} {r['process_wall']:9.2f} {r['peak_mb']:8.0f} "
              f"{r['match_wall'] / TARGET_SECONDS:7.3f}")
        if "refused" in r:
            print(f"{'':<20} message: {r['refused']}")
        if "total_distance" in r:
            totals[name] = r["total_distance"]
    if "small_lsap" in totals and "small_optimal_1to1" in totals:
        print(f"\noptimal 1:1 total distance {totals['small_optimal_1to1']:.9g}, scipy's assignment "
              f"{totals['small_lsap']:.9g} (relative difference "
              f"{abs(totals['small_optimal_1to1'] / totals['small_lsap'] - 1):.1e})")


if __name__ == "__main__":
    main()
