"""Benchmark: `tiltak load` on an extract of more than a million rows.

Writes a synthetic extract (CSV) with N persons, 4 residence spells each (1,000,000 rows
at the default N = 250,000), one decision each and exits for 40 %, then times
`python -m tiltak load` in a subprocess (wall clock via time.perf_counter, peak memory via
/usr/bin/time when available), the repeated (no-op) load, and a corrected residence table.
Target: the first load under 15 s on a 2-core machine.

    python benchmarks/bench_load.py [--persons 250000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def write_extract(folder: Path, persons: int, seed: int = 1) -> dict[str, int]:
    """A valid extract: N persons, 4 adjacent residence spells each, decisions and exits."""
    rng = np.random.default_rng(seed)
    ids = np.char.add("P", np.arange(persons).astype(str))
    nat = ["AFG", "IRQ", "ETH", "SOM", "ERI", "IRN", "RUS", "SYR", "AFG"]
    pd.DataFrame({"nationality": sorted(set(nat)), "name": sorted(set(nat)),
                  "returnability": "medium", "return_agreement_from": None}).to_csv(folder / "nationalities.csv", index=False)
    centres = [f"C{i:02d}" for i in range(30)]
    pd.DataFrame({"centre_id": centres, "name": centres, "centre_type": "ordinary",
                  "region": "east", "municipality": "Oslo"}).to_csv(folder / "centres.csv", index=False)
    pd.DataFrame({
        "person_id": ids, "birth_year": rng.integers(1950, 1996, persons),
        "sex": rng.choice(["male", "female"], persons), "nationality": rng.choice(sorted(set(nat)), persons),
        "household": "single", "dublin": rng.random(persons) < 0.1,
        "identity_documented": rng.random(persons) < 0.45, "prior_absconding": False,
    }).to_csv(folder / "persons.csv", index=False)
    start = pd.Timestamp("2012-01-01") + pd.to_timedelta(rng.integers(0, 300, persons), "D")
    spells = []
    for k in range(4):
        frm = start + pd.to_timedelta(90 * k, "D")
        to = frm + pd.to_timedelta(90, "D")
        spells.append(pd.DataFrame({"person_id": ids, "centre_id": rng.choice(centres, persons),
                                    "date_from": frm.strftime("%Y-%m-%d"), "date_to": to.strftime("%Y-%m-%d")}))
    residence = pd.concat(spells, ignore_index=True)
    residence.to_csv(folder / "residence.csv", index=False)
    pd.DataFrame({"person_id": ids, "decision_date": start.strftime("%Y-%m-%d"), "case_type": "asylum"}).to_csv(
        folder / "decisions.csv", index=False)
    leave = rng.random(persons) < 0.4
    pd.DataFrame({"person_id": ids[leave], "exit_date": (start[leave] + pd.to_timedelta(360, "D")).strftime("%Y-%m-%d"),
                  "exit_type": "assisted_return"}).to_csv(folder / "exits.csv", index=False)
    return {"persons": persons, "residence": len(residence), "decisions": persons, "exits": int(leave.sum())}


def timed_load(db: Path, folder: Path) -> tuple[float, str, str]:
    command = [sys.executable, "-m", "tiltak", "load", "--db", str(db), str(folder)]
    if shutil.which("/usr/bin/time"):
        command = ["/usr/bin/time", "-f", "cpu %U s user + %S s system, peak memory %M kB"] + command
    began = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - began
    if result.returncode != 0:
        raise SystemExit(f"load failed ({result.returncode}):\n{result.stderr}")
    return elapsed, result.stdout, result.stderr.strip().splitlines()[-1] if result.stderr.strip() else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=250_000)
    parser.add_argument("--keep", type=Path, default=None)
    args = parser.parse_args()
    work = Path(args.keep or tempfile.mkdtemp(prefix="bench_load_"))
    folder = work / "extract"
    folder.mkdir(parents=True, exist_ok=True)
    db = work / "store.duckdb"
    if db.exists():
        db.unlink()
    began = time.perf_counter()
    rows = write_extract(folder, args.persons)
    print(f"extract written in {time.perf_counter() - began:.1f} s: "
          + ", ".join(f"{t} {n:,}" for t, n in rows.items()) + f" (total {sum(rows.values()):,} rows)")
    first, out, mem = timed_load(db, folder)
    print(f"first load:     {first:6.2f} s  {mem}  (target < 15 s on 2 cores)")
    print("   " + out.strip().splitlines()[-1])
    again, out, mem = timed_load(db, folder)
    print(f"repeated load:  {again:6.2f} s  {mem}  ({out.strip().splitlines()[-1][:40]}...)")
    residence = pd.read_csv(folder / "residence.csv", dtype=str)
    residence.loc[0, "centre_id"] = "C00" if residence.loc[0, "centre_id"] != "C00" else "C01"
    residence.to_csv(folder / "residence.csv", index=False)
    fix, out, mem = timed_load(db, folder)
    print(f"corrected load: {fix:6.2f} s  {mem}  (residence replaced, panel rebuilt)")
    print(f"cores: {os.cpu_count()}, load average {os.getloadavg()[0]:.1f} (other work slows the wall "
          f"clock), store size {db.stat().st_size / 1e6:.0f} MB")
    if args.keep is None:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
