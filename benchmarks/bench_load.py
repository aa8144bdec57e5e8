"""Benchmark: `tiltak load` against DuckDB reading the same CSV files into tables (issue 14).

Usage (from the repository root):

    python benchmarks/bench_load.py                      # --scale 4 (about 250,000 rows)
    python benchmarks/bench_load.py --scales 4,40 --repeat 3 --large-repeat 1
    python benchmarks/bench_load.py --compare /work/main --steps   # alternated with another checkout

The extract is written once per scale by `tiltak synth --csv DIR --scale S` (deterministic)
into --data (default /tmp/tiltak-load). Tasks, each in a fresh process, alternated round by
round so that a change of load on a shared machine hits them all, summarised by medians:

* floor: Python with DuckDB creating one table per CSV file (``CREATE TABLE t AS SELECT *
  FROM read_csv(file)``) in a new database file: start-up, import and reading included;
* `tiltak load --db NEW DIR`: the first load into a new store (every check, the
  pseudonymisation, the person-month panel, the load record);
* `tiltak load --db SAME DIR` again: a repeated load of the same files (a no-op);
* with ``--compare DIR``: the first load by the checkout in DIR (its ``.venv/bin/python``,
  run in DIR), in the same rounds, so that both are timed at the same load of the machine.

``--steps``: after the rounds, one first load per checkout in a process that times its steps
(CPU seconds, ``time.process_time``: every thread of the process) by wrapping the loader's
functions: reading, DuckDB's read of the CSV files, typing and staging, value and reference
checks, writing the tables, the person-month panel, the checkpoint and close.

``--panel``: after the rounds, the person-month panel's statement taken apart, per checkout,
on a copy of a store made by that checkout's first load (CPU seconds of the process, every
thread; median of --panel-repeat runs, the checkouts alternated run by run): the Python side
(parsing ``panel.sql``, setting the calendar, rendering), the query counted without and with
its ORDER BY, the ordered rows into a temporary (in-memory) table, and the DELETE and INSERT
into the store's ``person_month`` with the COMMIT and CHECKPOINT, as the load runs it.

The children run with cached bytecode (PYTHONDONTWRITEBYTECODE removed from their
environment, after one warm-up run), as an installed tiltak runs.

Prints the machine (CPUs, load average before and after), wall and CPU seconds (user +
system of the process, from os.wait4) and peak memory of each, and the ratios against the
targets: first load <= 3 x the floor, repeated load <= 0.3 x the floor.
"""

from __future__ import annotations

import argparse
import json
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
FLOOR = """
import sys, duckdb
from pathlib import Path
con = duckdb.connect(sys.argv[1])
for path in sorted(Path(sys.argv[2]).glob("*.csv")):
    con.execute(f"CREATE TABLE {path.stem} AS SELECT * FROM read_csv(?)", [str(path)])
con.close()
"""
STEPS = """
import sys, time, tempfile, shutil
start = time.process_time()
from pathlib import Path
steps = {}
def wrap(mod, name, label):
    f = getattr(mod, name)
    def timed(*a, **k):
        c = time.process_time()
        try:
            return f(*a, **k)
        finally:
            steps[label] = steps.get(label, 0.0) + time.process_time() - c
    setattr(mod, name, timed)
c = time.process_time()
import monitoring.load as L, monitoring.load_checks as C, monitoring.load_csv as V
steps["imports (loader, panel, DuckDB, sqlglot)"] = time.process_time() - c
wrap(L, "read_file", "reading the files (bytes, hash, decode)")
wrap(V, "read_csv_files", "DuckDB reads the CSV files (and hashes them again)")
wrap(C, "stage_table", "typing checks and staging")
wrap(C, "value_checks", "value checks")
wrap(C, "reference_checks", "reference checks")
wrap(L, "_replace_table", "writing the tables")
wrap(L, "build_panel", "person-month panel")
wrap(L, "close_and_snapshot", "checkpoint, close, state file")
wrap(L, "write_state", "checkpoint, close, state file")
work = Path(tempfile.mkdtemp(prefix="tiltak-steps-"))
try:
    L.load_directory(work / "store.duckdb", sys.argv[1])
finally:
    shutil.rmtree(work, ignore_errors=True)
steps["whole process"] = time.process_time() - start
import json
print(json.dumps(steps))
"""

PANEL = """
import json, os, resource, shutil, statistics, sys, tempfile, time
from pathlib import Path
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
import duckdb
from monitoring.engines import as_engine
from monitoring import panel as P
from monitoring.load import load_directory
work = Path(tempfile.mkdtemp(prefix="tiltak-panel-"))
try:
    store = work / "store.duckdb"
    load_directory(store, sys.argv[1])
    times = {}
    def timed(label, f):
        c = cpu()
        f()
        times.setdefault(label, []).append(cpu() - c)
    for _ in range(int(sys.argv[2])):
        copy = work / "copy.duckdb"
        shutil.copy(store, copy)
        con = duckdb.connect(str(copy))
        con.execute("SET enable_progress_bar = false")
        engine = as_engine(con)
        P._parsed.cache_clear()
        def python_side():
            global sql
            (row,) = engine.fetch(P.bounds_tree())
            tree = P.panel_tree(*P.panel_bounds(row, None))
            sql = engine.render(tree)
        timed("Python: bounds, parse, calendar, render", python_side)
        con.execute("SET disabled_optimizers = 'build_side_probe_side'")
        unordered = sql[:sql.rindex("ORDER BY")]
        timed("the query, count(*), no ORDER BY", lambda: con.execute(f"SELECT count(*) FROM ({unordered})").fetchall())
        timed("the query, count(*), ordered", lambda: con.execute(f"SELECT count(*) FROM ({sql})").fetchall())
        timed("the ordered rows into a temporary table", lambda: con.execute(f"CREATE OR REPLACE TEMP TABLE pm AS {sql}"))
        con.execute("DROP TABLE pm")
        def store_write():
            con.execute("BEGIN")
            con.execute("DELETE FROM person_month")
            con.execute(f"INSERT INTO person_month {sql}")
            con.execute("COMMIT")
            con.execute("CHECKPOINT")
        timed("DELETE, INSERT into person_month, COMMIT, CHECKPOINT", store_write)
        con.close()
        copy.unlink()
    print(json.dumps({k: statistics.median(v) for k, v in times.items()}))
finally:
    shutil.rmtree(work, ignore_errors=True)
"""


def machine() -> str:
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cpus = os.cpu_count()
    one, five, _ = os.getloadavg()
    return (f"machine: {cpus} CPUs ({platform.processor() or platform.machine()}), Python "
            f"{platform.python_version()}, load average {one:.2f} {five:.2f}")


def extract(scale: float, data: Path) -> Path:
    folder = data / f"scale-{scale:g}"
    if not (folder / "persons.csv").exists():
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "tiltak", "synth", "--csv", str(folder), "--scale",
                        f"{scale:g}"], cwd=ROOT, check=True, capture_output=True)
    return folder


def rows_of(folder: Path) -> int:
    return sum(max(0, sum(1 for _ in p.open("rb")) - 1) for p in folder.glob("*.csv"))


CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
"""The children's environment: with cached bytecode, as users run the command (with
PYTHONDONTWRITEBYTECODE set, every module of the package would be compiled in every run,
about 70 ms of a no-op; the floor's script imports only installed, compiled modules)."""


def run(command: list[str], cwd: Path = ROOT) -> dict:
    """Wall seconds, CPU seconds (user + system) and peak memory (MB) of one process."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=CHILD_ENV)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    out, err = proc.stdout.read().decode(), proc.stderr.read().decode()
    proc.stdout.close()
    proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError((err or out).strip().splitlines()[-1][:200])
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "peak_mb": usage.ru_maxrss / 1024,
            "out": out}


def remove_store(path: Path) -> None:
    for p in (path, path.with_name(path.name + ".wal")):
        if p.exists():
            p.unlink()


def report_scale(scale: float, args) -> dict:
    folder = extract(scale, args.data)
    work = Path(tempfile.mkdtemp(prefix="tiltak-load-"))
    print(f"\n== tiltak synth --csv --scale {scale:g}: {rows_of(folder):,} rows in "
          f"{len(list(folder.glob('*.csv')))} files, "
          f"{sum(p.stat().st_size for p in folder.glob('*.csv')) / 1e6:.1f} MB ==", flush=True)
    tiltak = [sys.executable, "-m", "tiltak", "load"]
    results: dict[str, list[dict]] = {"floor": [], "first": [], "again": []}
    other = [str(args.compare / ".venv" / "bin" / "python"), "-m", "tiltak", "load"] if args.compare else None
    if other:
        results["other"] = []
        run([*other, "--help"], cwd=args.compare)
    repeat = args.large_repeat if scale >= 20 and args.large_repeat else args.repeat
    run([*tiltak, "--help"])  # a warm-up: the package's bytecode written, the files cached
    for round_ in range(repeat):
        floor_db, store = work / "floor.duckdb", work / "store.duckdb"
        remove_store(floor_db)
        results["floor"].append(run([sys.executable, "-c", FLOOR, str(floor_db), str(folder)]))
        remove_store(store)
        results["first"].append(run([*tiltak, "--db", str(store), str(folder)]))
        results["again"].append(run([*tiltak, "--db", str(store), str(folder)]))
        if "Nothing changed" not in results["again"][-1]["out"]:
            raise SystemExit("the repeated load was not a no-op")
        if other:
            remove_store(store)
            results["other"].append(run([*other, "--db", str(store), str(folder)], cwd=args.compare))
            remove_store(store)
        print(f"  round {round_ + 1}/{repeat} done (load {os.getloadavg()[0]:.2f})", flush=True)
    shutil.rmtree(work, ignore_errors=True)
    med = {name: {k: statistics.median(r[k] for r in rs) for k in ("wall", "cpu", "peak_mb")}
           for name, rs in results.items()}
    labels = {"floor": "DuckDB reads the CSVs into tables", "first": "tiltak load (new store)",
              "again": "tiltak load again (no-op)", "other": f"tiltak load (new store), {args.compare}"}
    print(f"  median of {repeat}:\n  {'task':<36} {'wall s':>7} {'cpu s':>7} {'peak MB':>8}")
    for name, m in med.items():
        print(f"  {labels[name]:<36} {m['wall']:7.2f} {m['cpu']:7.2f} {m['peak_mb']:8.0f}")
    floor = med["floor"]["wall"]
    print(f"  first load / floor = {med['first']['wall'] / floor:.2f} (target <= 3.0); "
          f"repeated / floor = {med['again']['wall'] / floor:.2f} (target <= 0.3)")
    print(f"  the same in CPU seconds: {med['first']['cpu'] / med['floor']['cpu']:.2f} and "
          f"{med['again']['cpu'] / med['floor']['cpu']:.2f}")
    if other:
        print(f"  {args.compare}: first load / floor = {med['other']['wall'] / floor:.2f} wall, "
              f"{med['other']['cpu'] / med['floor']['cpu']:.2f} CPU")
    if args.steps:
        print_steps(folder, args)
    if args.panel:
        print_panel(folder, args)
    return med


def print_steps(folder: Path, args) -> None:
    """One first load per checkout, its steps timed in the process (CPU seconds)."""
    checkouts = [("this checkout", sys.executable, ROOT)]
    if args.compare:
        checkouts.append((str(args.compare), str(args.compare / ".venv" / "bin" / "python"), args.compare))
    columns = []
    for name, python, cwd in checkouts:
        columns.append((name, json.loads(run([python, "-c", STEPS, str(folder)], cwd=cwd)["out"])))
    steps = list(dict.fromkeys(k for _, c in columns for k in c))
    print(f"  steps of one first load, CPU s (load {os.getloadavg()[0]:.2f}):")
    print("  " + f"{'step':<52}" + "".join(f" {name[-20:]:>20}" for name, _ in columns))
    for step in steps:
        print("  " + f"{step:<52}" + "".join(f" {c.get(step, float('nan')):20.2f}" for _, c in columns))


def print_panel(folder: Path, args) -> None:
    """The panel's statement taken apart (PANEL above), per checkout, alternated."""
    checkouts = [("this checkout", sys.executable, ROOT)]
    if args.compare:
        checkouts.append((str(args.compare), str(args.compare / ".venv" / "bin" / "python"), args.compare))
    runs: dict[str, list[dict]] = {name: [] for name, _, _ in checkouts}
    for _ in range(args.panel_rounds):
        for name, python, cwd in checkouts:
            runs[name].append(json.loads(run([python, "-c", PANEL, str(folder), str(args.panel_repeat)],
                                             cwd=cwd)["out"]))
    columns = [(name, {k: statistics.median(r[k] for r in rs) for k in rs[0]}) for name, rs in runs.items()]
    print(f"  the panel's statement, CPU s (median of {args.panel_rounds} x {args.panel_repeat}; "
          f"load {os.getloadavg()[0]:.2f}):")
    print("  " + f"{'part':<52}" + "".join(f" {name[-20:]:>20}" for name, _ in columns))
    for part in columns[0][1]:
        print("  " + f"{part:<52}" + "".join(f" {c.get(part, float('nan')):20.3f}" for _, c in columns))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="4", help="tiltak synth --scale values, comma-separated")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--large-repeat", type=int, default=0,
                        help="rounds at --scale 20 and more (default: --repeat)")
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("TILTAK_LOAD_DATA",
                                                                         "/tmp/tiltak-load")))
    parser.add_argument("--json", type=Path, help="also write the medians here")
    parser.add_argument("--compare", type=Path, help="another checkout (with its .venv) whose first load "
                        "is timed in the same rounds")
    parser.add_argument("--steps", action="store_true", help="also time the steps of one first load per checkout")
    parser.add_argument("--panel", action="store_true",
                        help="also take the panel's statement apart (query, sort, materialising, the store's write)")
    parser.add_argument("--panel-rounds", type=int, default=3, help="alternated processes per checkout for --panel")
    parser.add_argument("--panel-repeat", type=int, default=1, help="runs per process for --panel")
    args = parser.parse_args()
    print(machine(), flush=True)
    summary = {s: report_scale(float(s), args) for s in args.scales.split(",") if s}
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2))
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
