"""Peak memory of `tiltak match` against the memory rule that `--max-memory` enforces (issue 14).

Usage (from the repository root; the data are generated deterministically on first use):

    python benchmarks/bench_match_memory.py --quick            # a small grid, about a minute
    python benchmarks/bench_match_memory.py                    # 250 k, 1 M and 3 M rows
    python benchmarks/bench_match_memory.py --rows 10000000 --only "19 parquet out y"
    python benchmarks/bench_match_memory.py --json figures.jsonl   # also one JSON line a case
    python benchmarks/bench_match_memory.py --from-json figures.jsonl --markdown table.md

Data: benchmarks/speed_data.py, as CSV and Parquet in --data (default
/tmp/tiltak-match-memory): 19 covariates (12 continuous, 6 binary, a 10-level factor: 21
input columns with treat and y, 27 design columns) and 8 covariates (c01..c06, b1, b2: 10
input columns, 8 design columns).

Each case is one `tiltak match FILE --treatment treat --covariates ...` in a fresh process
(``--caliper 0.2`` except with subclassification), with or without `--outcome y`, with or
without `--out`, and the variants `--ratio 3`, `--replace` and `--method subclass`, one at a
time. Its peak is the maximum resident set size of the process ("Maximum resident set
size" of `/usr/bin/time -v`), the largest of ``--runs`` runs. Beside it: the rule's
estimate after reading (``tiltak.match_memory.matching_bytes`` with the real rows, widths
and design columns: the check that decides), the ratio rule / measured, and the estimate
before reading (rows and widths from the Parquet metadata or estimated from the CSV,
every column counted once in the design). Prints the machine (CPUs, memory, load average).

    python benchmarks/bench_match_memory.py --phases "19 csv out y nearest" --rows 10000000

prints, for each case, the resident set at the entry and at the peak of each step of
``tiltak/filematch.py`` (a thread reading ``/proc/self/statm`` every millisecond in the
process that matches; the steps wrapped, the run otherwise the command's own).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from tiltak.match_memory import MatchShape, file_shape, matching_bytes, text_bytes  # noqa: E402

TILTAK = [sys.executable, "-m", "tiltak"]
MB = 2**20
#: The covariate sets: name -> (covariates, input columns of the file, design columns).
WIDTHS = {
    19: ("c01,c02,c03,c04,c05,c06,c07,c08,c09,c10,c11,c12,b1,b2,b3,b4,b5,b6,region", 21, 27),
    8: ("c01,c02,c03,c04,c05,c06,b1,b2", 10, 8),
}
#: Bytes a row of each file as read (CSV: every column 8; Parquet: treat and b1..b6 int8).
INPUT_BYTES = {(19, "csv"): 168, (19, "parquet"): 119, (8, "csv"): 80, (8, "parquet"): 59}
VARIANTS = {"nearest": [], "ratio 3": ["--ratio", "3"], "replace": ["--replace"],
            "subclass": ["--method", "subclass"], "full": ["--method", "full"]}
#: The rule's options of each variant: method, ratio, replace.
VARIANT_OPTIONS = {"nearest": ("nearest", 1, False), "ratio 3": ("nearest", 3, False),
                   "replace": ("nearest", 1, True), "subclass": ("subclass", 1, False),
                   "full": ("full", 1, False)}
FULL_ROWS = (250_000, 1_000_000, 3_000_000)
QUICK_ROWS = (50_000, 200_000)


@dataclass(frozen=True)
class Case:
    rows: int
    covariates: int
    format: str
    out: bool
    outcome: bool
    variant: str = "nearest"

    @property
    def label(self) -> str:
        return (f"{self.covariates} {self.format} {'out' if self.out else '-'} "
                f"{'y' if self.outcome else '-'} {self.variant}")


def grid(rows: tuple[int, ...]) -> list[Case]:
    """Every width, format, --out and --outcome for 1:1 nearest; the variants with 19
    covariates, --out and --outcome, on both formats."""
    cases = []
    for n in rows:
        cases += [Case(n, w, f, o, y) for w in (19, 8) for f in ("csv", "parquet")
                  for o in (False, True) for y in (False, True)]
        cases += [Case(n, 19, f, True, True, v) for v in VARIANTS if v != "nearest"
                  for f in ("csv", "parquet")]
    return cases


def data_file(n: int, width: int, fmt: str, folder: Path) -> Path:
    """The benchmark file of n rows, written once (both formats together)."""
    path = folder / f"match_{n}_{width}.{fmt}"
    if not path.exists():
        from speed_data import make_data, write_files

        folder.mkdir(parents=True, exist_ok=True)
        frame = make_data(n)
        csv, parquet = folder / f"match_{n}_{width}.csv", folder / f"match_{n}_{width}.parquet"
        if width == 19:
            write_files(frame, csv, parquet)
        else:  # no factor: pyarrow's writers as in speed_data.write_files
            import pyarrow as pa
            import pyarrow.csv as pacsv
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(frame[["treat", *WIDTHS[width][0].split(","), "y"]],
                                         preserve_index=False)
            pacsv.write_csv(table, csv, pacsv.WriteOptions(quoting_style="none"))
            pq.write_table(table, parquet)
    return path


def command(case: Case, path: Path, out: Path) -> list[str]:
    args = [*TILTAK, "match", str(path), "--treatment", "treat", "--covariates",
            WIDTHS[case.covariates][0], *VARIANTS[case.variant]]
    if case.variant not in ("subclass", "full"):
        args += ["--caliper", "0.2"]
    if case.outcome:
        args += ["--outcome", "y"]
    if case.out:
        args += ["--out", str(out)]
    return args


def peak_of(args: list[str]) -> tuple[int, float]:
    """Maximum resident set size (bytes) and CPU seconds of one run of ``args``, measured
    by ``/usr/bin/time`` (a small parent: a child forked from this process would count the
    benchmark's own memory, which it shares until ``exec``)."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as figures:
        done = subprocess.run(["/usr/bin/time", "-o", figures.name, "-f", "%M %U %S", *args],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(args)}: exit {done.returncode}\n{done.stderr.decode()[-2000:]}")
        kb, user, system = figures.read().split()[-3:]
    return int(kb) * 1024, float(user) + float(system)


#: The steps of tiltak/filematch.py that --phases wraps, in the order they run.
STEPS = ("read_table", "check_memory", "check_numbers", "post_treatment_warnings", "run_method",
         "balance_table", "effects", "sensitivity", "write_rows")


def traced_run(args: list[str]) -> None:
    """Run ``tiltak match`` with ``args`` in this process, the steps of filematch wrapped;
    print one line a step: MiB at its entry and at its peak (the largest resident set
    sampled while it ran)."""
    import threading

    import tiltak.filematch as filematch
    from tiltak.cli import main as cli_main

    page, rss, done = os.sysconf("SC_PAGE_SIZE"), [0], threading.Event()
    statm = os.open("/proc/self/statm", os.O_RDONLY)

    def resident() -> int:  # pread: the sampler and the steps share the descriptor
        return int(os.pread(statm, 256, 0).split()[1]) * page

    def sample() -> None:
        while not done.wait(0.001):
            rss[0] = max(rss[0], resident())

    figures = []

    def wrap(name, function):
        def step(*a, **k):
            entry, outer = resident(), rss[0]
            rss[0] = entry
            try:
                return function(*a, **k)
            finally:
                peak = max(rss[0], resident())
                figures.append((name, entry / MB, peak / MB))
                rss[0] = max(outer, peak)
        return step

    for name in STEPS:
        setattr(filematch, name, wrap(name, getattr(filematch, name)))
    threading.Thread(target=sample, daemon=True).start()
    try:
        cli_main(["match", *args])
    finally:
        done.set()
        for name, entry, peak in figures:
            print(f"step {name:<24} {entry:8.0f} -> {peak:8.0f} MiB", file=sys.stderr)
        print(f"step {'(whole run)':<24} {'':8} -> {max(rss[0], resident()) / MB:8.0f} MiB",
              file=sys.stderr)


def phases(case: Case, folder: Path) -> str:
    """The steps' figures of one case, run in a fresh process."""
    path = data_file(case.rows, case.covariates, case.format, folder)
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        args = command(case, path, Path(tmp) / f"out.{case.format}")
        done = subprocess.run([sys.executable, __file__, "--trace-run", *args[len(TILTAK) + 1:]],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    lines = [line for line in done.stderr.decode().splitlines() if line.startswith("step ")]
    if done.returncode != 0:
        raise SystemExit(done.stderr.decode()[-2000:])
    return "\n".join([f"{case.rows} rows, {case.label} (load {os.getloadavg()[0]:.1f}):", *lines])


def shape(case: Case, rows: int, row_bytes: int, design: int, text: float) -> MatchShape:
    method, ratio, replace = VARIANT_OPTIONS[case.variant]
    return MatchShape(rows, row_bytes, design, case.outcome, case.format if case.out else "", method,
                      ratio, replace, text)


def rule_after(case: Case, text: float) -> int:
    """The rule with the real rows, widths and design (the check after reading)."""
    row_bytes = INPUT_BYTES[case.covariates, case.format]
    return matching_bytes(shape(case, case.rows, row_bytes, WIDTHS[case.covariates][2], text))


def rule_before(case: Case, path: Path) -> int:
    """The rule before reading: rows and widths from the file, every column once."""
    rows, columns, row_bytes, text = file_shape(str(path))
    return matching_bytes(shape(case, rows, row_bytes, columns, text))


def measure(case: Case, folder: Path, runs: int) -> dict:
    path = data_file(case.rows, case.covariates, case.format, folder)
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        out = Path(tmp) / f"out.{case.format}"
        figures = [peak_of(command(case, path, out)) for _ in range(runs)]
    peak = max(f[0] for f in figures)
    text = text_bytes(str(path), case.rows)
    after, before = rule_after(case, text), rule_before(case, path)
    return {**asdict(case), "input_columns": WIDTHS[case.covariates][1],
            "input_bytes": INPUT_BYTES[case.covariates, case.format], "text_bytes": text,
            "design_columns": WIDTHS[case.covariates][2], "peak_mb": peak / MB,
            "rule_mb": after / MB, "before_mb": before / MB, "ratio": after / peak,
            "cpu_s": min(f[1] for f in figures), "load": os.getloadavg()[0]}


def machine() -> str:
    with open("/proc/meminfo") as handle:
        total = int(handle.readline().split()[1]) // 1024
    one, five, _ = os.getloadavg()
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, {total} MB "
            f"memory, Python {platform.python_version()}; load average {one:.2f} (1 min), "
            f"{five:.2f} (5 min)")


HEADER = ("| rows | covariates | format | --out | --outcome | variant | input columns | "
          "input bytes a row | CSV bytes a row | design columns | measured MB | rule MB | rule / measured | before reading MB | "
          "CPU s | load | figures |")


def row_text(r: dict) -> str:
    return (f"| {r['rows']} | {r['covariates']} | {r['format']} | {'yes' if r['out'] else 'no'} | "
            f"{'yes' if r['outcome'] else 'no'} | {r['variant']} | {r['input_columns']} | "
            f"{r['input_bytes']} | {r['text_bytes']:.1f} | "
            f"{r['design_columns']} | {r['peak_mb']:.0f} | {r['rule_mb']:.0f} | {r['ratio']:.2f} | "
            f"{r['before_mb']:.0f} | {r['cpu_s']:.1f} | {r['load']:.1f} | {r.get('source', 'this run')} |")


def table_text(results: list[dict]) -> str:
    separator = "|" + "---|" * (HEADER.count("|") - 1)
    return "\n".join([HEADER, separator, *map(row_text, results)])


def summary_text(results: list[dict]) -> str:
    ratios = [r["ratio"] for r in results]
    largest = max(r["rows"] for r in results)
    top = [r["ratio"] for r in results if r["rows"] == largest]
    under = [r for r in results if r["ratio"] < 1]
    return (f"rule / measured: {min(ratios):.2f} to {max(ratios):.2f} over {len(results)} cases; "
            f"at {largest} rows {min(top):.2f} to {max(top):.2f}; "
            f"{len(under)} case(s) where the rule is below the measured peak")


def markdown(results: list[dict], command: str, machines: str) -> str:
    return (f"# Peak memory of `tiltak match` and the memory rule\n\n"
            f"`python benchmarks/bench_match_memory.py {command}` "
            f"({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}).\n\n{machines}\n\n"
            f"{table_text(results)}\n\n{summary_text(results)}.\n")


def from_json(source: Path, target: Path | None, folder: Path) -> None:
    """The table of earlier figures, the rule's columns recomputed with today's rule."""
    results = []
    for line in source.read_text().splitlines():
        r = json.loads(line)
        case = Case(*(r[k] for k in ("rows", "covariates", "format", "out", "outcome", "variant")))
        path = data_file(case.rows, case.covariates, case.format, folder)
        r["input_bytes"] = INPUT_BYTES[case.covariates, case.format]
        r["text_bytes"] = text_bytes(str(path), case.rows)
        r["rule_mb"] = rule_after(case, r["text_bytes"]) / MB
        r["before_mb"] = rule_before(case, path) / MB
        r["ratio"] = r["rule_mb"] / r["peak_mb"]
        results.append(r)
    loads = [r["load"] for r in results]
    text = markdown(results, " ".join(sys.argv[1:]),
                    f"Figures measured one case at a time with `--json` ({machine().split(';')[0]}; "
                    f"load average {min(loads):.1f} to {max(loads):.1f} during the runs); the "
                    "rule's columns recomputed with the rule of this commit.")
    print(text)
    if target:
        target.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"rows {QUICK_ROWS} instead of {FULL_ROWS}")
    parser.add_argument("--rows", help="comma-separated row counts (overrides --quick)")
    parser.add_argument("--only", help="run only the cases whose label contains this text, "
                                       "e.g. '19 parquet out y nearest'")
    parser.add_argument("--runs", type=int, default=1, help="runs per case (the peak is their largest)")
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "tiltak-match-memory")
    parser.add_argument("--json", type=Path, help="append the raw figures (one JSON line a case)")
    parser.add_argument("--markdown", type=Path, help="write the table and the machine as markdown")
    parser.add_argument("--from-json", type=Path, help="no runs: the table of the figures in this "
                                                       "file (of --json), with the rule recomputed")
    parser.add_argument("--phases", metavar="LABEL", help="no peaks: the resident set per step of "
                        "the cases whose label contains LABEL")
    if sys.argv[1:2] == ["--trace-run"]:
        return traced_run(sys.argv[2:])
    args = parser.parse_args()
    if args.phases:
        rows = tuple(int(float(r)) for r in args.rows.split(",")) if args.rows else QUICK_ROWS
        print(f"machine: {machine()}", flush=True)
        for case in (c for c in grid(rows) if args.phases in c.label):
            print(phases(case, args.data), flush=True)
        return None
    if args.from_json:
        return from_json(args.from_json, args.markdown, args.data)
    rows = tuple(int(float(r)) for r in args.rows.split(",")) if args.rows else (
        QUICK_ROWS if args.quick else FULL_ROWS)
    cases = [c for c in grid(rows) if not args.only or args.only in c.label]
    start = machine()
    print(f"machine: {start}", flush=True)
    print(HEADER, flush=True)
    results = []
    for case in cases:
        result = measure(case, args.data, args.runs)
        results.append(result)
        print(row_text(result), flush=True)
        if args.json:
            with open(args.json, "a") as handle:
                handle.write(json.dumps(result) + "\n")
    end = machine()
    print(f"\n{summary_text(results)}\nmachine at the end: {end}")
    if args.markdown:
        args.markdown.write_text(markdown(results, " ".join(sys.argv[1:]),
                                          f"Machine at the start: {start}.\nAt the end: {end}."))

if __name__ == "__main__":
    main()
