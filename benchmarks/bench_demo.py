"""Benchmark: `tiltak demo` end to end against the 20 s target (issue 14).

Usage (from the repository root):

    python benchmarks/bench_demo.py              # 3 runs, then one run timed stage by stage
    python benchmarks/bench_demo.py --repeat 5 --seed 1
    python benchmarks/bench_demo.py --against /path/to/other/checkout/.venv/bin/python

Each run is a fresh process, ``python -m tiltak demo --out TMP/run-N --seed S`` (start-up,
imports, synthetic registers, load, indicators, estimation, report). Prints the machine (CPUs,
load average before and after), wall and CPU seconds (user + system of the process and of the
worker processes it reaped, from os.wait4) and peak memory of each run, their medians, and the
ratio of the median wall time to the target. The files the demo writes that are meant to be
reproducible (report.html, evaluation.json) are hashed (sha256) after every run: a difference
between runs is printed and the script exits 1.

With ``--against PYTHON`` (the interpreter of another checkout, e.g. the commit before a
change, as ``CHECKOUT/.venv/bin/python``) each run of this checkout is paired with a run of
``PYTHON -m tiltak demo`` in CHECKOUT, in turn, so that both meet the same load; the ratios this / other are printed per pair and as
their median, and the other's files must be the same bytes too.

Then one more fresh process runs the demo with a progress callback that notes the wall and
CPU seconds of the main process (every thread's) between the pipeline's stage messages, and
the CPU seconds of its worker processes at the end: the table per stage.

With ``--monitoring ROUNDS`` only the demo's monitoring step is timed: the demo's registers
are loaded into a store once, then each round runs, in fresh processes (alternated with
``--against``'s interpreter when given), ``monitoring.runs.run_models`` on a copy of that
store for each shipped model alone and for the three together, printing the CPU seconds
of the run, of the release decision (``release.decide``) and of disclosure control within
it (``disclosure.suppress``), and a sha256 of every released row (``monitoring_releases``):
the two checkouts must release the same values and suppressions.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 20.0
REPRODUCIBLE = ("report.html", "evaluation.json")


def machine(when: str) -> str:
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"machine ({when}): {cpus} CPUs ({platform.machine()}), Python {platform.python_version()}, load average {load}"


def digests(folder: Path) -> dict[str, str]:
    return {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in REPRODUCIBLE}


def run(command: list[str], cwd: Path = ROOT) -> tuple[dict[str, float], str]:
    """Wall and CPU seconds (the process and its reaped children) and peak MB of one process."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate()
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({proc.returncode}):\n{err}")
    return {"wall": wall, "cpu": _children_cpu(), "peak_mb": _children_peak_mb()}, out


_SEEN = [0.0]


def _children_cpu() -> float:
    """CPU seconds of the children reaped since the last call (a process and its descendants)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = usage.ru_utime + usage.ru_stime
    seconds, _SEEN[0] = total - _SEEN[0], total
    return seconds


def _children_peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # the largest so far


def whole_runs(repeat: int, seed: int, tmp: Path, against: str | None = None) -> tuple[list[dict], list[dict]]:
    """Runs of this checkout's demo, each followed by one of ``against``'s when given."""
    pythons = [("this", sys.executable)] + ([("other", against)] if against else [])
    folders = {"this": ROOT, "other": Path(against).parents[2] if against else ROOT}  # CHECKOUT/.venv/bin/python
    runs: dict[str, list[dict[str, float]]] = {name: [] for name, _ in pythons}
    first = None
    for n in range(repeat):
        for name, python in pythons:
            out = tmp / f"{name}-{n}"
            figures, _ = run([python, "-m", "tiltak", "demo", "--out", str(out), "--seed", str(seed)], folders[name])
            hashes = digests(out)
            first = first or hashes
            figures["same"] = hashes == first
            runs[name].append(figures)
            print(f"  run {n + 1} {name:>5}: wall {figures['wall']:6.2f} s  cpu {figures['cpu']:6.2f} s  "
                  f"(load {os.getloadavg()[0]:.2f})  files {'as the first run' if figures['same'] else 'DIFFER'}")
    for name, digest in first.items():
        print(f"  sha256 {name}: {digest}")
    return runs["this"], runs.get("other", [])


def pair_ratios(this: list[dict[str, float]], other: list[dict[str, float]]) -> None:
    for figure in ("wall", "cpu"):
        ratios = [a[figure] / b[figure] for a, b in zip(this, other)]
        print(f"  {figure} this / other, pair by pair: {' '.join(f'{r:.2f}' for r in ratios)}; "
              f"median {statistics.median(ratios):.2f} (other's median {statistics.median(b[figure] for b in other):.2f} s)")


def stage_table(seed: int, tmp: Path) -> list[dict[str, float | str]]:
    _, out = run([sys.executable, str(Path(__file__).resolve()), "--stages", str(tmp / "stages"), "--seed", str(seed)])
    return json.loads(out.strip().splitlines()[-1])


def stages_child(out: str, seed: int) -> None:
    """Run the demo in this process, noting each stage's wall and CPU seconds (printed as JSON)."""
    rows: list[dict[str, float | str]] = []
    mark = {"stage": "start-up and imports", "wall": time.perf_counter(), "cpu": time.process_time()}

    def note(message: str) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        rows.append({"stage": mark["stage"], "wall": wall - mark["wall"], "cpu": cpu - mark["cpu"]})
        mark.update(stage=message, wall=wall, cpu=cpu)

    from tiltak.pipeline import demo

    demo(out, seed=seed, progress=note)
    note("")
    children = os.times()
    rows.append({"stage": "worker processes (CPU only)", "wall": 0.0,
                 "cpu": children.children_user + children.children_system})
    print(json.dumps(rows))


def monitoring_child(store: str) -> None:
    """Time run_models for each shipped model and for all three, each on a fresh copy of ``store``."""
    import shutil

    import monitoring.release as release
    from monitoring.runs import run_models
    from tiltak.pipeline import load_inputs, shipped_models_dir

    import importlib

    for module in ("pandas", "scipy.linalg"):  # imported before the timing, as the demo has them by then
        importlib.import_module(module)

    inputs = load_inputs([shipped_models_dir()])
    spent: dict[str, float] = {}
    for name in ("decide", "suppress"):
        def timed(*args, _real=getattr(release, name), _name=name, **kwargs):
            start = time.process_time()
            try:
                return _real(*args, **kwargs)
            finally:
                spent[_name] = spent.get(_name, 0.0) + time.process_time() - start
        setattr(release, name, timed)
    rows = []
    for label, items in [(i.model.id, [i]) for i in inputs] + [("the three models", inputs)]:
        spent.clear()
        copy = Path(store).with_name(f"copy-{os.getpid()}.duckdb")
        shutil.copy(store, copy)
        start = time.process_time()
        run_models(copy, [i.monitored for i in items])
        cpu = time.process_time() - start
        import duckdb

        con = duckdb.connect(str(copy), read_only=True)
        released = con.execute("SELECT model_id, indicator_id, period_index, dimension, group_value, value, suppressed "
                               "FROM monitoring_releases ORDER BY ALL").fetchall()
        con.close()
        copy.unlink()
        rows.append({"label": label, "cpu": cpu, "decide": spent.get("decide", 0.0), "suppress": spent.get("suppress", 0.0),
                     "released": hashlib.sha256(repr(released).encode()).hexdigest()})
    print(json.dumps(rows))


def monitoring_rounds(rounds: int, seed: int, tmp: Path, against: str | None) -> bool:
    from tiltak.pipeline import write_synthetic_store

    store = tmp / "registers.duckdb"
    write_synthetic_store(store, seed)
    pythons = [("this", sys.executable)] + ([("other", against)] if against else [])
    folders = {"this": ROOT, "other": Path(against).parents[2] if against else ROOT}
    seen: dict[str, set[str]] = {}
    table: dict[tuple[str, str], list[dict]] = {}
    for n in range(rounds):
        for name, python in pythons:
            _, out = run([python, str(Path(__file__).resolve()), "--monitoring-child", str(store)], folders[name])
            for row in json.loads(out.strip().splitlines()[-1]):
                seen.setdefault(row["label"], set()).add(row["released"])
                table.setdefault((row["label"], name), []).append(row)
                print(f"  round {n + 1} {name:>5} {row['label']:<24} run_models {row['cpu']:5.2f}  "
                      f"decide {row['decide']:5.2f}  suppress {row['suppress']:5.2f} CPU s  (load {os.getloadavg()[0]:.2f})")
    print(f"\n  median of {rounds} rounds, CPU s (this{' / other' if against else ''}):")
    for (label, name), rows in table.items():
        if name != "this":
            continue
        line = f"  {label:<24}"
        for figure in ("cpu", "decide", "suppress"):
            mine = statistics.median(r[figure] for r in rows)
            line += f"  {figure} {mine:5.2f}"
            if against:
                theirs = statistics.median(r[figure] for r in table[(label, "other")])
                line += f" / {theirs:5.2f} ({mine / theirs:.2f})"
        print(line)
    same = all(len(hashes) == 1 for hashes in seen.values())
    print(f"  released rows {'the same' if same else 'DIFFER'} in every run")
    return same


def report(runs: list[dict[str, float]], stages: list[dict[str, float | str]]) -> bool:
    wall = statistics.median(r["wall"] for r in runs)
    cpu = statistics.median(r["cpu"] for r in runs)
    peak = max(r["peak_mb"] for r in runs)
    print(f"\n  tiltak demo, median of {len(runs)}: wall {wall:.2f} s, cpu {cpu:.2f} s, peak {peak:.0f} MB")
    print(f"  wall / target ({TARGET_SECONDS:g} s) = {wall / TARGET_SECONDS:.2f}; "
          f"cpu / target = {cpu / TARGET_SECONDS:.2f} (cpu / 2 cores = {cpu / 2 / TARGET_SECONDS:.2f})")
    print("\n  one run stage by stage (main process; a stage lasts until the next message):")
    print(f"  {'stage':<58} {'wall s':>7} {'cpu s':>7}")
    for row in stages:
        print(f"  {str(row['stage'])[:58]:<58} {row['wall']:7.2f} {row['cpu']:7.2f}")
    return all(r["same"] for r in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--against", metavar="PYTHON", help="alternate with PYTHON -m tiltak demo (another checkout)")
    parser.add_argument("--monitoring", type=int, metavar="ROUNDS", help="time only the monitoring step, ROUNDS times")
    parser.add_argument("--stages", metavar="OUT", help=argparse.SUPPRESS)  # the child of the stage table
    parser.add_argument("--monitoring-child", metavar="STORE", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.stages:
        stages_child(options.stages, options.seed)
        return
    if options.monitoring_child:
        monitoring_child(options.monitoring_child)
        return
    print(machine("before"))
    if options.monitoring:
        with tempfile.TemporaryDirectory(prefix="bench-demo-") as name:
            same = monitoring_rounds(options.monitoring, options.seed, Path(name), options.against)
        print(machine("after"))
        if not same:
            sys.exit("the released rows differ")
        return
    with tempfile.TemporaryDirectory(prefix="bench-demo-") as name:
        tmp = Path(name)
        runs, other = whole_runs(options.repeat, options.seed, tmp, options.against)
        same = report(runs, stage_table(options.seed, tmp)) and all(r["same"] for r in other)
        if other:
            pair_ratios(runs, other)
        same = same and digests(tmp / "stages") == digests(tmp / "this-0")
    print(machine("after"))
    if not same:
        sys.exit("the demo's files differ between runs")


if __name__ == "__main__":
    main()
