"""Speed of propensity score matching: end to end, the matching step alone, and peers.

Usage (from the repository root):

    python benchmarks/bench_matching.py                      # everything, default sizes
    python benchmarks/bench_matching.py --e2e 100000,1000000 --scaling --peers 100000

Parts:

* ``--e2e N,...``: end to end per size, each in a fresh process: read a Parquet file,
  propensity score (R-equivalent logit), 1:1 nearest-neighbour matching without
  replacement with a 0.2 SD caliper, balance table, ATT with a cluster-robust SE.
  Prints wall and CPU seconds per step and the peak resident memory.
* ``--scaling``: the matching step alone at doubling sizes; seconds / (n log2 n) should
  stay flat if the algorithm is O(n log n).
* ``--peers N,...``: the same task with R's MatchIt (4.5.1, Rscript), causalml's
  NearestNeighborMatch and DoWhy's propensity score matching, on the same data, and the
  ratio of their time to tiltak's. The Python peers run in their own environment
  (benchmarks/peers/requirements.txt; set TILTAK_PEERS_PYTHON or create
  benchmarks/peers/.venv); a peer that is not installed is skipped with a message.

Timings on a shared machine vary: CPU seconds are printed next to wall seconds, and the
load average at the start.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
PEERS = ROOT / "benchmarks" / "peers"
DATA = Path(os.environ.get("TILTAK_BENCH_DATA", "/tmp/tiltak-bench"))
COVARIATES = ["age", "sex", "household", "nationality", "dublin", "identity_documented",
              "months_since_decision", "health_issue"]
sys.path.insert(0, str(ROOT))


def make_data(n: int, seed: int = 1) -> pd.DataFrame:
    """Register-like covariates, ~18 % treated, an outcome with a true ATT of 0.5."""
    rng = np.random.default_rng(seed)
    nat = rng.choice([f"n{i}" for i in range(9)], size=n,
                     p=[.2, .15, .15, .1, .1, .1, .08, .07, .05])
    frame = pd.DataFrame({
        "age": np.round(18 + rng.gamma(4.0, 3.5, size=n), 0),
        "sex": rng.choice(["male", "female"], size=n, p=[.75, .25]),
        "household": rng.choice(["single", "with_children", "couple"], size=n, p=[.6, .25, .15]),
        "nationality": nat,
        "dublin": rng.random(n) < 0.1,
        "identity_documented": rng.random(n) < 0.45,
        "months_since_decision": rng.integers(0, 60, size=n).astype(float),
        "health_issue": rng.random(n) < 0.15,
    })
    lp = (-1.9 + 0.02 * (frame["age"] - 30) + 0.3 * (frame["sex"] == "female")
          - 0.2 * (frame["household"] == "with_children") + 0.4 * frame["health_issue"]
          - 0.01 * frame["months_since_decision"] + 0.15 * (nat == "n3"))
    treat = rng.random(n) < 1 / (1 + np.exp(-lp))
    frame.insert(0, "treat", treat.astype(np.int8))
    frame["y"] = (0.5 * treat + 0.03 * frame["age"] - 0.4 * frame["health_issue"]
                  + rng.normal(size=n)).round(6)
    return frame


def data_file(n: int, kind: str = "parquet") -> Path:
    """The benchmark data of size n (written once, then reused)."""
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"match_{n}.{kind}"
    if not path.exists():
        parquet = DATA / f"match_{n}.parquet"
        frame = pd.read_parquet(parquet) if parquet.exists() else make_data(n)
        if not parquet.exists():
            frame.to_parquet(parquet, index=False)
        if kind == "csv":
            frame.to_csv(path, index=False)
    return path


class Clock:
    """Wall and CPU seconds per named step."""

    def __init__(self) -> None:
        self.steps: list[tuple[str, float, float]] = []

    def run(self, name, fn):
        wall, cpu = time.perf_counter(), time.process_time()
        result = fn()
        self.steps.append((name, time.perf_counter() - wall, time.process_time() - cpu))
        return result


def pipeline(path: Path, clock: Clock) -> dict:
    """tiltak end to end on one file."""
    import warnings

    from estimation import NearestNeighborMatching
    from estimation.balance import balance_table
    from estimation.effects import estimate_att

    frame = clock.run("read", lambda: pd.read_parquet(path))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        match = NearestNeighborMatching(caliper=0.2)
        clock.run("score+match", lambda: match.fit(frame[COVARIATES], frame["treat"]))
    sample = match.result_
    balance = clock.run("balance", lambda: balance_table(sample))
    effect = clock.run("att+se", lambda: estimate_att(sample, frame["y"].to_numpy()))
    return {"matched_treated": int((sample.weights[sample.treat] > 0).sum()),
            "max_abs_smd_after": float(balance.max_abs_smd_after),
            "att": effect.estimate, "se": effect.std_error}


def child_e2e(n: int) -> None:
    """Runs in a fresh process: prints one JSON line with the timings and peak memory."""
    path = data_file(n)
    clock = Clock()
    wall, cpu = time.perf_counter(), time.process_time()
    facts = pipeline(path, clock)
    total = (time.perf_counter() - wall, time.process_time() - cpu)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"n": n, "steps": clock.steps, "total": total, "peak_mb": peak_mb, **facts}))


def run_child(*args: str, timeout: float = 1800) -> dict:
    proc = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip().splitlines()[-1] if proc.stderr else "failed")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def report_e2e(sizes: list[int]) -> dict[int, float]:
    print("\n== End to end: read, score, 1:1 match (0.2 SD caliper), balance, ATT + SE ==")
    print("seconds as wall/cpu")
    print(f"{'n':>10} {'read':>11} {'score+match':>11} {'balance':>11} {'att+se':>11} "
          f"{'total':>11} {'peak MB':>8} {'ATT':>7} {'SE':>7}")
    totals = {}
    for n in sizes:
        data_file(n)
        r = run_child("--child-e2e", str(n))
        steps = {name: f"{wall:.2f}/{cpu:.2f}" for name, wall, cpu in r["steps"]}
        totals[n] = r["total"][0]
        total = f"{r['total'][0]:.2f}/{r['total'][1]:.2f}"
        print(f"{n:>10} {steps['read']:>11} {steps['score+match']:>11} {steps['balance']:>11} "
              f"{steps['att+se']:>11} {total:>11} {r['peak_mb']:>8.0f} {r['att']:>7.3f} "
              f"{r['se']:>7.4f}")
    return totals


def report_scaling(sizes: list[int]) -> None:
    from estimation import NearestNeighborMatching

    print("\n== Matching step alone (given scores), 1:1 without replacement, 0.2 SD caliper ==")
    print(f"{'n':>10} {'seconds':>8} {'us per n log2 n':>16}")
    rng = np.random.default_rng(7)
    for n in sizes:
        lp = rng.normal(-1.5, 1.0, size=n)
        treat = rng.random(n) < 1 / (1 + np.exp(-lp))
        score = 1 / (1 + np.exp(-(lp + rng.normal(0, 0.3, size=n))))
        best = math.inf
        for _ in range(3):
            start = time.process_time()
            NearestNeighborMatching(distance=score, caliper=0.2).fit(None, treat)
            best = min(best, time.process_time() - start)
        print(f"{n:>10} {best:>8.3f} {1e6 * best / (n * math.log2(n)):>16.4f}")


def peer_python() -> str | None:
    configured = os.environ.get("TILTAK_PEERS_PYTHON")
    candidate = Path(configured) if configured else PEERS / ".venv" / "bin" / "python"
    return str(candidate) if candidate.exists() else None


def run_peer(name: str, command: list[str], timeout: float) -> float | None:
    """Seconds reported by a peer script (its last stdout line is JSON), or None."""
    try:
        proc = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    except subprocess.TimeoutExpired:
        print(f"  {name}: stopped after {timeout:.0f} s")
        return None
    if proc.returncode != 0:
        last = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["failed"]
        print(f"  {name}: skipped ({last[0][:160]})")
        return None
    return float(json.loads(proc.stdout.strip().splitlines()[-1])["seconds"])


def report_peers(sizes: list[int], timeout: float) -> None:
    print("\n== Peers on the same data (seconds, end to end from reading the file) ==")
    python = peer_python()
    for n in sizes:
        ours = run_child("--child-e2e", str(n))["total"][0]
        print(f"n = {n}: tiltak {ours:.2f} s")
        peers = []
        if shutil.which("Rscript"):
            peers.append(("R MatchIt", ["Rscript", str(PEERS / "matchit_bench.R"),
                                        str(data_file(n, "csv"))]))
        else:
            print("  R MatchIt: skipped (Rscript not found)")
        for name, script in (("causalml", "causalml_bench.py"), ("DoWhy", "dowhy_bench.py")):
            if python is None:
                print(f"  {name}: skipped (no peer environment; see benchmarks/peers/requirements.txt)")
            else:
                peers.append((name, [python, str(PEERS / script), str(data_file(n))]))
        for name, command in peers:
            seconds = run_peer(name, command, timeout)
            if seconds is not None:
                print(f"  {name}: {seconds:.2f} s = {seconds / ours:.1f} x tiltak")


def _sizes(text: str) -> list[int]:
    return [int(float(part)) for part in text.split(",") if part]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--e2e", default="100000,1000000,10000000")
    parser.add_argument("--scaling", action="store_true")
    parser.add_argument("--scaling-sizes", default="125000,250000,500000,1000000,2000000,4000000")
    parser.add_argument("--peers", default="100000,1000000")
    parser.add_argument("--peer-timeout", type=float, default=900)
    parser.add_argument("--child-e2e", type=int)
    args = parser.parse_args()
    if args.child_e2e:
        child_e2e(args.child_e2e)
        return
    print(f"load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    if args.e2e:
        report_e2e(_sizes(args.e2e))
    if args.scaling or len(sys.argv) == 1:
        report_scaling(_sizes(args.scaling_sizes))
    if args.peers:
        report_peers(_sizes(args.peers), args.peer_timeout)


if __name__ == "__main__":
    main()
