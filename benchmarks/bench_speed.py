"""Speed of matching as users run it (issue 14): in memory, and `tiltak match` from a file.

Usage (from the repository root; the data are generated deterministically on first use):

    python benchmarks/bench_speed.py                         # 1 million, 3 alternated runs
    python benchmarks/bench_speed.py --sizes 1000000,10000000 --repeat 3 --large-repeat 1
    python benchmarks/bench_speed.py --sizes 10000000 --repeat 3 --against /work/base   # A/B

Data: benchmarks/speed_data.py (19 covariates: 12 continuous, 6 binary, a 10-level factor;
about 20 % treated), written once as CSV and Parquet to --data (default /tmp/tiltak-speed).

Tasks, each run in a fresh process, alternated round by round (so that a change of load
on a shared machine hits them all), and summarised by the median of the rounds:

* in memory (the frame already read): propensity score (R's glm), 1:1 nearest neighbour
  without replacement with a 0.2 SD caliper, balance table, ATT with its pair-clustered
  SE; also with --ratio 3 and with --replace. Seconds per step, peak memory (maximum
  resident set size of the process, input included) and the CPU seconds of all the steps
  (every thread's; on a machine shared with other work, CPU seconds / 2 is what the wall
  clock of both cores alone would show at best).
* the floor of the in-memory steps: one pass over the covariates, one X'X of the design
  (one Newton step's work) and one stable sort of n scores, the data already in arrays;
* `tiltak match FILE --treatment treat --outcome y --caliper 0.2 --out OUT` on CSV and on
  Parquet, wall seconds and peak memory, against the floors measured in the same rounds:
  reading the CSV with pandas and fitting scikit-learn's LogisticRegression (its defaults:
  lbfgs, 100 iterations) on the same design; reading the Parquet file with pyarrow.
* the R peer: MatchIt's matchit() and summary() on the same CSV (data.table::fread when
  installed), from the library in R_LIBS (the figures in docs/performance.md used MatchIt
  4.7.2); skipped with a message when Rscript or MatchIt is missing.

Prints the machine (CPUs, load average before and after), every figure, and the ratios
against the targets, the floors and the peer.

--against CHECKOUT (round 9): only the in-memory 1:1 task, alternated round by round as that
checkout runs it (its own .venv and code), that with glibc's mmap threshold raised in its
environment, and as this checkout runs it, also with the whole task in one block cache scope
(estimation.block_cache; --block-settings adds other settings); per step user and system
CPU seconds, minor faults, peak memory, the block cache's counters and the ATT/SE bits.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
if os.environ.get("TILTAK_BENCH_CODE"):  # --against: the in-memory child runs that checkout's code
    sys.path.insert(0, os.environ["TILTAK_BENCH_CODE"])

TILTAK = [sys.executable, "-m", "tiltak"]
VARIANTS = {"1:1": [], "ratio 3": ["--ratio", "3"], "replace": ["--replace"]}


def data_files(n: int, folder: Path) -> tuple[Path, Path]:
    from speed_data import make_data, write_files

    folder.mkdir(parents=True, exist_ok=True)
    csv, parquet = folder / f"speed_{n}.csv", folder / f"speed_{n}.parquet"
    if not (csv.exists() and parquet.exists()):
        write_files(make_data(n), csv, parquet)
    return csv, parquet


def run_child(command: list[str], timeout: float = 3600) -> tuple[float, str, float]:
    """Wall seconds (process start to exit), stdout and CPU seconds (user + system, every
    thread) of one process."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    try:
        proc = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"stopped after {timeout:.0f} s") from None
    if proc.returncode != 0:
        text = (proc.stderr or proc.stdout).strip()
        raise RuntimeError(text.splitlines()[-1][:200] if text else "failed")
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, proc.stdout, cpu


# --- the machine's memory state ---------------------------------------------------

VMSTAT = ("compact_stall", "thp_fault_alloc", "thp_fault_fallback", "allocstall_normal")


def vmstat() -> dict[str, int]:
    """The kernel's counters of stalls in page faults (all processes'; empty off Linux)."""
    try:
        lines = Path("/proc/vmstat").read_text().split("\n")
    except OSError:
        return {}
    pairs = (line.split() for line in lines if line)
    return {k: int(v) for k, v in pairs if k in VMSTAT}


def memory_state() -> str:
    """THP policy, free page reporting to a hypervisor, what tiltak does with NumPy's hugepage
    advice, and the free memory by block size (the 2 MB blocks and larger)."""
    from estimation.hugepages import THP, _selected, advice_stalls, reports_free_pages, wanted

    enabled, defrag = _selected(THP / "enabled") or "?", _selected(THP / "defrag") or "?"
    own = os.environ.get("NUMPY_MADVISE_HUGEPAGE")
    advice = ("off in NearestNeighborMatching.fit" if wanted() else
              f"as set (NUMPY_MADVISE_HUGEPAGE={own})" if own is not None else
              "left on" if not advice_stalls() else "on")
    try:
        rows = [line.split() for line in Path("/proc/buddyinfo").read_text().splitlines()]
        free_2m = sum(int(c) * 2 ** (order - 9) for r in rows
                      for order, c in enumerate(r[4:]) if order >= 9) * 2
    except (OSError, IndexError, ValueError):
        free_2m = -1
    return (f"THP enabled={enabled} defrag={defrag}, free page reporting "
            f"{'on' if reports_free_pages() else 'off'}, NumPy's hugepage advice {advice}; "
            f"free in blocks of 2 MB or more {free_2m:,} MB")


def vm_delta(before: dict[str, int]) -> str:
    after = vmstat()
    return ", ".join(f"{k} +{after[k] - before[k]}" for k in VMSTAT if k in after and k in before)


# --- the child tasks --------------------------------------------------------------


def child_memory(path: str, variant: str) -> None:
    """In memory: read (not timed), then time each step; print one JSON line."""
    import resource
    import warnings

    frame = _read_frame(path)
    from speed_data import COVARIATES

    from estimation import NearestNeighborMatching, PropensityScore
    from estimation.balance import balance_table
    from estimation.effects import estimate_att

    kwargs = {"1:1": {}, "ratio 3": {"ratio": 3}, "replace": {"replace": True}}[variant]
    usage = resource.getrusage(resource.RUSAGE_SELF)
    sys0, flt0 = usage.ru_stime, usage.ru_minflt
    marks = [usage]
    with _one_block():
        c0, m0 = time.process_time(), time.thread_time()
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            score = PropensityScore().fit(frame[COVARIATES], frame["treat"].to_numpy())
            t1, c1, m1 = time.perf_counter(), time.process_time(), time.thread_time()
            marks.append(resource.getrusage(resource.RUSAGE_SELF))
            match = NearestNeighborMatching(distance=score.distance(), caliper=0.2, **kwargs)
            sample = match.fit(frame[COVARIATES], frame["treat"].to_numpy()).result_
        del score
        t2, c2, m2 = time.perf_counter(), time.process_time(), time.thread_time()
        marks.append(resource.getrusage(resource.RUSAGE_SELF))
        balance = balance_table(sample)
        t3, c3, m3 = time.perf_counter(), time.process_time(), time.thread_time()
        marks.append(resource.getrusage(resource.RUSAGE_SELF))
        effect = estimate_att(sample, frame["y"].to_numpy())
        t4, m4 = time.perf_counter(), time.thread_time()
        cpu = time.process_time() - c0
    marks.append(resource.getrusage(resource.RUSAGE_SELF))
    per_step = {name: {"user": b.ru_utime - a.ru_utime, "sys": b.ru_stime - a.ru_stime,
                       "minflt": b.ru_minflt - a.ru_minflt}
                for name, a, b in zip(("propensity", "match", "balance", "att"), marks, marks[1:])}
    steps = {"propensity": t1 - t0, "match": t2 - t1, "balance": t3 - t2, "att": t4 - t3,
             "total": t4 - t0}
    cpu_steps = {"propensity": c1 - c0, "match": c2 - c1, "balance": c3 - c2, "att": cpu - (c3 - c0),
                 "total": cpu}
    # the main thread's own CPU per step: the work not moved onto other threads (a bound
    # below the step's wall clock that the machine's load does not move)
    main_steps = {"propensity": m1 - m0, "match": m2 - m1, "balance": m3 - m2, "att": m4 - m3,
                  "total": m4 - m0}
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"steps": steps, "cpu": cpu, "cpu_steps": cpu_steps, "main_steps": main_steps,
                      "peak_mb": _peak_mb(resource),
                      "att": effect.estimate, "se": effect.std_error,
                      "max_smd": balance.max_abs_smd_after,
                      "sys": usage.ru_stime - sys0, "minflt": usage.ru_minflt - flt0,
                      "user": usage.ru_utime - marks[0].ru_utime, "per_step": per_step,
                      "cache": _cache_stats()}))


def _one_block():
    """The whole task in one block cache scope (TILTAK_BENCH_ONE_BLOCK=1, --against's
    "one block" variant), else nothing."""
    from contextlib import nullcontext

    if os.environ.get("TILTAK_BENCH_ONE_BLOCK") != "1":
        return nullcontext()
    from estimation.block_cache import reusing_large_blocks

    settings = os.environ.get("TILTAK_BENCH_BLOCK", "")  # "threshold MB,cap MB,larger %"
    if not settings:
        return reusing_large_blocks()
    mb, cap, larger = (int(x) for x in settings.split(","))
    return reusing_large_blocks(threshold=mb << 20, cap=cap << 20, larger=larger)


def _cache_stats() -> dict:
    """The block cache's counters of the last outermost scope (empty in a checkout without)."""
    try:
        from estimation.block_cache import stats
    except ImportError:
        return {}
    return stats()


def _read_frame(path: str):
    """The benchmark frame with the factor as a categorical column read as one (pyarrow's
    dictionary), categories sorted as ``astype("category")`` sorts them: reading the factor
    as 10 million Python strings first would put the process's peak in the read."""
    import pyarrow.parquet as pq

    table = pq.read_table(path, read_dictionary=["region"])
    frame = table.to_pandas(self_destruct=True, split_blocks=True)
    del table
    region = frame["region"].cat
    frame["region"] = region.reorder_categories(sorted(region.categories))
    return frame


def _peak_mb(resource) -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_floor_csv(path: str) -> None:
    """pandas read_csv, then scikit-learn's LogisticRegression on the same design."""
    import resource
    import warnings

    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    from speed_data import COVARIATES

    start = time.perf_counter()
    frame = pd.read_csv(path)
    X = pd.get_dummies(frame[COVARIATES], columns=["region"], drop_first=True, dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        LogisticRegression().fit(X.to_numpy(), frame["treat"].to_numpy())
    print(json.dumps({"seconds": time.perf_counter() - start, "peak_mb": _peak_mb(resource)}))


def child_floor_pass(path: str) -> None:
    """What the hardware allows: one pass over the covariates (a sum per column), one Gram
    matrix X'X of the n x 28 design (the work of one Newton step of the propensity model), one stable sort of n scores (what a greedy matcher needs at least)
    and the three together; the data read and the design built beforehand (not timed).
    BLAS on one thread: OpenBLAS's threads spin against other processes on a shared machine
    (a Gram of a few hundred milliseconds then takes tens of seconds)."""
    os.environ["OPENBLAS_NUM_THREADS"] = os.environ["OMP_NUM_THREADS"] = "1"
    import numpy as np
    import pandas as pd

    from speed_data import COVARIATES

    frame = pd.read_parquet(path)
    X = pd.get_dummies(frame[COVARIATES], columns=["region"], drop_first=True, dtype=float)
    columns = [np.ascontiguousarray(frame[c].to_numpy(dtype=float)) if c != "region"
               else frame[c].astype("category").cat.codes.to_numpy() for c in COVARIATES]
    design = np.column_stack([np.ones(len(X)), X.to_numpy()])
    del X
    score = np.random.default_rng(1).random(len(frame))
    t0 = time.perf_counter()
    total = sum(float(np.add.reduce(c)) for c in columns)
    t1 = time.perf_counter()
    gram = design.T @ design
    t2 = time.perf_counter()
    order = np.argsort(score, kind="stable")
    t3 = time.perf_counter()
    print(json.dumps({"pass": t1 - t0, "gram": t2 - t1, "sort": t3 - t2, "total": t3 - t0,
                      "check": total + float(gram[0, 0]) + float(order[0])}))


def child_read_parquet(path: str) -> None:
    import resource

    import pyarrow.parquet as pq

    start = time.perf_counter()
    frame = pq.ParquetFile(path).read(use_threads=True).to_pandas()
    print(json.dumps({"seconds": time.perf_counter() - start, "peak_mb": _peak_mb(resource),
                      "rows": len(frame)}))


def child_cli(path: str, out: str, extra: str) -> None:
    """`tiltak match` in this process (its own start-up included: the timer starts before
    any tiltak import), so that the peak memory of the command is measured."""
    import resource

    start = time.perf_counter()
    from tiltak.cli import main

    args = ["match", path, "--treatment", "treat", "--outcome", "y", "--caliper", "0.2",
            "--out", out, *json.loads(extra)]
    devnull = open(os.devnull, "w")
    saved, sys.stdout = sys.stdout, devnull
    try:
        main(args)
    except SystemExit as exit_:
        if exit_.code:
            raise
    finally:
        sys.stdout = saved
    print(json.dumps({"seconds": time.perf_counter() - start, "peak_mb": _peak_mb(resource)}))


# --- the rounds ------------------------------------------------------------------


def task(name: str, *args: str) -> list[str]:
    return [sys.executable, __file__, "--child", name, *args]


def measure(tasks: dict[str, list[str]], repeat: int) -> dict[str, list[dict]]:
    results: dict[str, list[dict]] = {name: [] for name in tasks}
    for round_ in range(repeat):
        counters = vmstat()
        for name, command in tasks.items():
            try:
                wall, out, cpu = run_child(command)
            except RuntimeError as exc:
                print(f"  {name}: failed ({exc})")
                continue
            record = json.loads(out.strip().splitlines()[-1])
            record["wall"], record["process_cpu"] = wall, cpu
            results[name].append(record)
        print(f"  round {round_ + 1}/{repeat} done (load {os.getloadavg()[0]:.2f}; the machine's "
              f"{vm_delta(counters)})", flush=True)
    return results


def median(records: list[dict], key: str, sub: str | None = None) -> float:
    values = [r[key][sub] if sub else r[key] for r in records]
    return statistics.median(values) if values else float("nan")


def r_peer(csv: Path, repeat: int, timeout: float) -> dict | None:
    if not shutil.which("Rscript"):
        print("  R MatchIt: skipped (Rscript not found)")
        return None
    records = []
    for _ in range(repeat):
        try:
            proc = subprocess.run(["Rscript", str(ROOT / "benchmarks" / "peers" / "matchit_speed.R"),
                                   str(csv)], capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            print(f"  R MatchIt: stopped after {timeout:.0f} s")
            return None
        if proc.returncode != 0:
            last = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["failed"]
            print(f"  R MatchIt: skipped ({last[0][:160]})")
            return None
        records.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    return {"version": records[0]["version"],
            **{k: statistics.median(r[k] for r in records) for k in ("read", "matchit", "summary")}}


def report_size(n: int, args) -> None:
    csv, parquet = data_files(n, args.data)
    print(f"\n== n = {n:,} ({csv.stat().st_size / 1e6:.0f} MB CSV, "
          f"{parquet.stat().st_size / 1e6:.0f} MB Parquet) ==", flush=True)
    out = Path(tempfile.mkdtemp(prefix="tiltak-speed-"))
    tasks = {f"memory {v}": task("memory", str(parquet), v) for v in VARIANTS}
    tasks["floor pass"] = task("floor_pass", str(parquet))
    if not args.memory_only:
        tasks.update({
            "cli csv": task("cli", str(csv), str(out / "rows.csv"), "[]"),
            "floor csv": task("floor_csv", str(csv)),
            "cli parquet": task("cli", str(parquet), str(out / "rows.parquet"), "[]"),
            "read parquet": task("read_parquet", str(parquet)),
        })
    if args.variants_cli:
        for v, flags in VARIANTS.items():
            if flags:
                tasks[f"cli csv {v}"] = task("cli", str(csv), str(out / "rows.csv"), json.dumps(flags))
    repeat = args.large_repeat if n >= 5_000_000 and args.large_repeat else args.repeat
    res = measure(tasks, repeat)
    shutil.rmtree(out, ignore_errors=True)
    print(f"\n  in memory (median of {repeat}; seconds):")
    print(f"  {'variant':<10} {'propensity':>10} {'match':>7} {'balance':>8} {'att':>6} "
          f"{'total':>7} {'peak MB':>8} {'cpu s':>7}")
    totals = {}
    for v in VARIANTS:
        r = res[f"memory {v}"]
        totals[v] = median(r, "steps", "total")
        print(f"  {v:<10} {median(r, 'steps', 'propensity'):>10.3f} {median(r, 'steps', 'match'):>7.3f} "
              f"{median(r, 'steps', 'balance'):>8.3f} {median(r, 'steps', 'att'):>6.3f} "
              f"{totals[v]:>7.3f} {median(r, 'peak_mb'):>8.0f} {median(r, 'cpu'):>7.3f}")
    print(f"  CPU seconds per step (every thread's; median of {repeat}):")
    for v in VARIANTS:
        r = res[f"memory {v}"]
        print(f"  {v:<10} {median(r, 'cpu_steps', 'propensity'):>10.3f} {median(r, 'cpu_steps', 'match'):>7.3f} "
              f"{median(r, 'cpu_steps', 'balance'):>8.3f} {median(r, 'cpu_steps', 'att'):>6.3f} "
              f"{median(r, 'cpu_steps', 'total'):>7.3f}")
    print(f"  the main thread's own CPU seconds per step (median of {repeat}):")
    for v in VARIANTS:
        r = [x for x in res[f"memory {v}"] if "main_steps" in x]
        if r:
            print(f"  {v:<10} {median(r, 'main_steps', 'propensity'):>10.3f} "
                  f"{median(r, 'main_steps', 'match'):>7.3f} {median(r, 'main_steps', 'balance'):>8.3f} "
                  f"{median(r, 'main_steps', 'att'):>6.3f} {median(r, 'main_steps', 'total'):>7.3f}")
    print(f"  of which system CPU s (page faults) and minor faults in the steps (median of {repeat}):")
    for v in VARIANTS:
        r = [x for x in res[f"memory {v}"] if "sys" in x]
        if r:
            print(f"  {v:<10} {median(r, 'sys'):>10.3f} s {median(r, 'minflt'):>10,.0f} faults")
    cpu_1to1 = median(res["memory 1:1"], "cpu")
    for v in ("ratio 3", "replace"):
        print(f"  {v} / 1:1 = {totals[v] / totals['1:1']:.2f} wall, "
              f"{median(res[f'memory {v}'], 'cpu') / cpu_1to1:.2f} CPU (target <= 1.5)")
    fl = res["floor pass"]
    if fl:
        floor_total = median(fl, "total")
        print(f"  floor: one pass over the covariates {median(fl, 'pass'):.3f} s, one X'X of the "
              f"design (one core) {median(fl, 'gram'):.3f} s, one stable sort of the scores "
              f"{median(fl, 'sort'):.3f} s: {floor_total:.3f} s; 1:1 = {totals['1:1'] / floor_total:.1f} x that "
              f"(wall), {median(res['memory 1:1'], 'cpu') / floor_total:.1f} x (CPU seconds)")
    if args.memory_only:
        args.summary[n] = {"memory": totals, "peak_mb": median(res["memory 1:1"], "peak_mb")}
        return
    cli_csv, floor = median(res["cli csv"], "seconds"), median(res["floor csv"], "seconds")
    cli_pq, read_pq = median(res["cli parquet"], "seconds"), median(res["read parquet"], "seconds")
    print(f"\n  tiltak match with --out (median of {repeat}; wall seconds, peak MB):")
    print(f"  CSV     {cli_csv:7.2f} s {median(res['cli csv'], 'peak_mb'):6.0f} MB; floor (pandas "
          f"read_csv + scikit-learn fit) {floor:.2f} s: ratio {cli_csv / floor:.2f} (target <= 1.0)")
    bound = read_pq + totals["1:1"]
    print(f"  Parquet {cli_pq:7.2f} s {median(res['cli parquet'], 'peak_mb'):6.0f} MB; pyarrow read "
          f"{read_pq:.2f} s + in memory {totals['1:1']:.2f} s = {bound:.2f} s: ratio "
          f"{cli_pq / bound:.2f} (target <= 1.5)")
    cpu = {k: median(res[k], "process_cpu") for k in ("cli csv", "floor csv", "cli parquet",
                                                      "read parquet")}
    cpu["memory 1:1"] = median(res["memory 1:1"], "cpu")  # the steps' CPU (not the read)
    print(f"  CPU seconds of the whole processes (start-up included): CSV {cpu['cli csv']:.2f} / floor "
          f"{cpu['floor csv']:.2f} = {cpu['cli csv'] / cpu['floor csv']:.2f}; Parquet "
          f"{cpu['cli parquet']:.2f} / (read {cpu['read parquet']:.2f} + in memory "
          f"{cpu['memory 1:1']:.2f}) = {cpu['cli parquet'] / (cpu['read parquet'] + cpu['memory 1:1']):.2f}")
    for v in VARIANTS:
        if f"cli csv {v}" in res:
            print(f"  CSV {v}: {median(res[f'cli csv {v}'], 'seconds'):.2f} s")
    args.summary[n] = {"memory": totals, "cli_csv": cli_csv, "floor_csv": floor,
                       "cli_parquet": cli_pq, "read_parquet": read_pq,
                       "peak_mb": median(res["memory 1:1"], "peak_mb")}
    if n in args.r_sizes:
        peer = r_peer(csv, args.r_repeat, args.r_timeout)
        if peer:
            ours_match = statistics.median(r["steps"]["propensity"] + r["steps"]["match"]
                                           for r in res["memory 1:1"])
            ours_bal = median(res["memory 1:1"], "steps", "balance")
            print(f"\n  R MatchIt {peer['version']} (median of {args.r_repeat}): read {peer['read']:.2f} s, "
                  f"matchit() {peer['matchit']:.2f} s = {peer['matchit'] / ours_match:.1f} x tiltak's "
                  f"score + match ({ours_match:.2f} s); summary() {peer['summary']:.2f} s = "
                  f"{peer['summary'] / ours_bal:.1f} x tiltak's balance table ({ours_bal:.2f} s)")


# --- A/B against another checkout (the block cache, round 9) ---------------------

MALLOPT = {"MALLOC_MMAP_THRESHOLD_": str(256 << 20), "MALLOC_TRIM_THRESHOLD_": str(1 << 30)}


def against_variants(checkout: Path, settings: list[str]
                     ) -> dict[str, tuple[list[str], dict[str, str]]]:
    """The in-memory 1:1 task as the other checkout runs it, that with glibc's mmap threshold
    raised for the whole process (environment), and as this one runs it: the matcher's own
    scope, and the whole task in one scope (what entering it at the propensity fit, the
    balance table and the ATT too gives), also with other settings of the cache
    ("threshold MB,cap MB,larger %", --block-settings)."""
    other = str(checkout / ".venv" / "bin" / "python")
    base = {"TILTAK_BENCH_CODE": str(checkout)}
    return {
        "base": ([other], base),
        "base + mallopt env": ([other], {**base, **MALLOPT}),
        "branch": ([sys.executable], {}),
        "branch, one block": ([sys.executable], {"TILTAK_BENCH_ONE_BLOCK": "1"}),
        **{f"branch, one block {s}": ([sys.executable], {"TILTAK_BENCH_ONE_BLOCK": "1",
                                                        "TILTAK_BENCH_BLOCK": s})
           for s in settings},
    }


def _cache_line(cache: dict) -> str:
    if not cache:
        return ""
    return (f"  cache: {cache['hits']} reused / {cache['misses']} fresh, {cache['evicted']} "
            f"given back, at most {cache['most_cached'] >> 20} MB kept")


def run_against(n: int, args) -> None:
    csv, parquet = data_files(n, args.data)
    variants = against_variants(args.against, [x for x in args.block_settings.split(";") if x])
    if args.against_only:
        variants = {k: v for k, v in variants.items() if k in args.against_only.split(";")}
    print(f"\n== n = {n:,}: in memory 1:1 against {args.against} ({args.repeat} alternated rounds) ==",
          flush=True)
    results: dict[str, list[dict]] = {name: [] for name in variants}
    for round_ in range(args.repeat):
        for name, (python, env) in variants.items():
            command = [*python, __file__, "--child", "memory", str(parquet), "1:1"]
            clean = {k: v for k, v in os.environ.items()
                     if k not in ("TILTAK_BENCH_CODE", "TILTAK_BENCH_ONE_BLOCK",
                                  "TILTAK_BENCH_BLOCK", *MALLOPT)}
            load = os.getloadavg()[0]
            start = time.perf_counter()
            proc = subprocess.run(command, capture_output=True, text=True, cwd=ROOT,
                                  env={**clean, **env}, timeout=3600)
            if proc.returncode != 0:
                print(f"  {name}: failed ({(proc.stderr or proc.stdout).strip()[-200:]})")
                continue
            record = json.loads(proc.stdout.strip().splitlines()[-1])
            record["wall"], record["load"] = time.perf_counter() - start, load
            results[name].append(record)
            steps = record.get("per_step", {})
            print(f"  round {round_ + 1} {name:<20} load {load:4.1f}  task {record['steps']['total']:6.2f} s"
                  f"  user {record.get('user', float('nan')):6.2f}  sys {record['sys']:6.2f}"
                  f"  faults {record['minflt']:>9,}  peak {record['peak_mb']:6.0f} MB  "
                  + "  ".join(f"{k} {v['user']:.2f}/{v['sys']:.2f}" for k, v in steps.items())
                  + f"  att {float(record['att']).hex()} se {float(record['se']).hex()}"
                  + _cache_line(record.get("cache") or {}), flush=True)
    print(f"\n  medians of {args.repeat} (task wall s; user / system CPU s; minor faults; peak MB "
          "with the input; per step user/system CPU s):")
    for name, records in results.items():
        if not records:
            continue
        steps = " ".join(
            f"{k} {statistics.median(r['per_step'][k]['user'] for r in records):.2f}/"
            f"{statistics.median(r['per_step'][k]['sys'] for r in records):.2f}"
            for k in ("propensity", "match", "balance", "att"))
        print(f"  {name:<20} {median(records, 'steps', 'total'):6.2f} s  "
              f"{median(records, 'user'):6.2f} / {median(records, 'sys'):5.2f}  "
              f"{median(records, 'minflt'):>9,.0f}  {median(records, 'peak_mb'):6.0f} MB  {steps}")
    bits = {(float(r["att"]).hex(), float(r["se"]).hex()) for rs in results.values() for r in rs}
    print(f"  ATT and SE bits: {'the same in every run' if len(bits) == 1 else 'DIFFER: ' + str(bits)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--large-repeat", type=int, default=0,
                        help="rounds at 5 million rows and more (default: --repeat)")
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("TILTAK_SPEED_DATA",
                                                                         "/tmp/tiltak-speed")))
    parser.add_argument("--r-sizes", default="", help="sizes at which to run the R peer")
    parser.add_argument("--r-repeat", type=int, default=1)
    parser.add_argument("--r-timeout", type=float, default=1800)
    parser.add_argument("--memory-only", action="store_true",
                        help="only the in-memory tasks and their floor (not tiltak match)")
    parser.add_argument("--variants-cli", action="store_true",
                        help="also time tiltak match --ratio 3 and --replace on CSV")
    parser.add_argument("--against", type=Path, default=None,
                        help="only the in-memory 1:1 task, alternated with this checkout's "
                             "(its .venv), glibc's mmap threshold raised, and the block cache "
                             "around the whole task; per step user/system CPU s and faults")
    parser.add_argument("--against-only", default="",
                        help="with --against: the variants to run (names separated by ';')")
    parser.add_argument("--block-settings", default="",
                        help="with --against: more one-block variants, 'MB,capMB,larger%%;...'")
    parser.add_argument("--child", nargs="+")
    args = parser.parse_args()
    if args.child:
        name, *rest = args.child
        {"memory": child_memory, "floor_csv": child_floor_csv, "read_parquet": child_read_parquet,
         "floor_pass": child_floor_pass,
         "cli": child_cli}[name](*rest)
        return
    sizes = [int(float(s)) for s in args.sizes.split(",") if s]
    args.r_sizes = {int(float(s)) for s in args.r_sizes.split(",") if s}
    args.summary = {}
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:
        cpus = os.cpu_count()
    print(f"machine: {cpus} CPUs ({platform.processor() or platform.machine()}), "
          f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.2f} "
          f"{os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    print(f"memory: {memory_state()}")
    if args.against:
        from estimation.block_cache import CAP, THRESHOLD, available

        print(f"block cache: {'built' if available() else 'not available'} (blocks of "
              f"{THRESHOLD >> 20} MB or more, at most {CAP >> 20} MB kept)")
        for n in sizes:
            run_against(n, args)
        print(f"\nload average at the end: {os.getloadavg()[0]:.2f}; memory: {memory_state()}")
        return
    for n in sizes:
        report_size(n, args)
    if len(sizes) > 1:
        small, large = min(sizes), max(sizes)
        a, b = args.summary[small]["memory"]["1:1"], args.summary[large]["memory"]["1:1"]
        nlogn = large * math.log(large) / (small * math.log(small))
        print(f"\n  in memory {large:,} / {small:,}: {b / a:.1f} x (target <= 12; n log n {nlogn:.1f})")
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f}; memory: {memory_state()}")


if __name__ == "__main__":
    main()
