"""Time ``tiltak synth`` end to end at the default size and at 10x (target: default < 10 s).

Run from the repository root: ``python benchmarks/bench_synth.py [--scales 1,10] [--db]``.
Prints wall-clock seconds of the whole command (a fresh Python process: imports,
simulation, CSV files and, with --db, the load into a DuckDB store), the in-process
generation time, and the number of rows written.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 10.0


def time_command(scale: float, use_db: bool) -> tuple[float, int]:
    """Seconds of one ``tiltak synth`` run and the number of CSV data rows written."""
    with tempfile.TemporaryDirectory() as tmp:
        args = [sys.executable, "-m", "tiltak", "synth", "--seed", "1", "--scale", str(scale),
                "--csv", f"{tmp}/csv", "--quiet"]
        if use_db:
            args += ["--db", f"{tmp}/store.duckdb"]
        began = time.perf_counter()
        subprocess.run(args, cwd=ROOT, check=True)
        seconds = time.perf_counter() - began
        rows = sum(sum(1 for _ in p.open()) - 1 for p in Path(tmp, "csv").glob("*.csv"))
    return seconds, rows


def time_generate(scale: float) -> float:
    sys.path.insert(0, str(ROOT))
    from tiltak.synth import SynthConfig, generate

    began = time.perf_counter()
    generate(SynthConfig(seed=1, scale=scale))
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1,10")
    parser.add_argument("--db", action="store_true", help="also load into a DuckDB store")
    options = parser.parse_args()
    print(f"{'scale':>6} {'command s':>10} {'generate s':>11} {'rows':>10} {'rows/s':>10}")
    baseline = None
    for scale in (float(s) for s in options.scales.split(",")):
        seconds, rows = time_command(scale, options.db)
        generate_seconds = time_generate(scale)
        baseline = baseline or seconds
        print(f"{scale:>6g} {seconds:>10.2f} {generate_seconds:>11.2f} {rows:>10,} {rows / seconds:>10,.0f}"
              f"   ratio to first {seconds / baseline:.1f}x")
        if scale == 1:
            verdict = "meets" if seconds < TARGET_SECONDS else "MISSES"
            print(f"       default size {verdict} the {TARGET_SECONDS:g} s target")


if __name__ == "__main__":
    main()
