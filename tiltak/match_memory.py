"""The memory budget of ``tiltak match``: the rule of its peak memory, and the refusal.

The rule (docs/estimation.md, "Memory of tiltak match and --max-memory"; docs/performance.md,
rounds 6 and 7, and "Round 9: the memory rule for CSV", which re-fitted it to the CSV
reader of round 8), fitted to the peaks that ``benchmarks/bench_match_memory.py``
measures (committed in ``benchmarks/results/match_memory.md``; tests/app/test_match_memory.py
holds the rule above every one of them and within 30 % of them from 3 million rows on).
The peak is the largest of three phases over the interpreter's base:

    reading    = 230 MB + rows x (2 b + (0.8, or 1.1 with --out) x t)   [CSV under 256 MiB,
                                                                         and Parquet: t = 0]
               = 230 MB + 200 MB + rows x (1.8, or 2 with --out) x b    [CSV from 256 MiB on]
    estimating = 230 MB + rows x (b + 8 x (14 + 2.5 + 0.4 d [--outcome]
                 + 4.5 d [--outcome after subclass or cem] + 11 (ratio - 1) + 13 [--replace]
                 + 24 [--method full] + 34 [--method full with --outcome] + 0.5 [--out]))
    writing    = 230 MB + [2^20 x b if --out is Parquet] + rows x (b + 8 x 16) [--out]

b: bytes a row of the data as read (8 a column of a CSV file; in Parquet the column's
width: 1 for int8 and booleans, 4 for int32 and float32, 8 for int64, float64 and text);
t: bytes a row of the CSV file's text (0 for Parquet); d: design columns (a numeric column
is one, a factor or text column with L levels L - 1). Reading holds the Arrow table and
the frame built from it, and either the parser's text (``read_csv``, files under
``tiltak.tables.CSV_BLOCKWISE_BYTES``) or a few 16 MB blocks of it (larger files, read
block by block; with --out the chunks and their one-chunk copy); estimating the frame and
vectors of the rows (scores, weights, sort orders), the regression adjustment's design of
the matched units with an outcome (0.4 d: about 30 % of the rows matched, as in the
benchmark's 15 % treated, all matched 1:1), the control-outcome regression after strata, the
matcher's vectors for more controls, reuse or full matching; writing the frame, the
result's vectors and the added columns (pyarrow's CSV writer holds a batch of text, not
the file's), and for Parquet one row group.

Before the file is read, rows come from the Parquet metadata or from the CSV's size and
first lines, and every column counts once in the design (a factor's levels are not yet
known); after reading, the real rows, widths and levels decide. With full matching and an
outcome, the Rosenbaum bounds hold the matched sets padded to the largest set, a term that
grows slowly faster than the rows (the largest set grows with n); it is fitted up to 3
million rows. More treated units than the benchmark's 15 % make the matched design larger
than 0.4 d doubles a row (the rule does not yet count the treated share).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from tiltak import tables
from tiltak.tables import TableError

BASE_BYTES = 230 * 2**20
"""The interpreter and the libraries before any data (measured: 150 to 190 MB), and the
allocators' slack (round 9: 200 MB and 2 more doubles a row fitted the small runs and left
no room at 10 million rows)."""
#: Reading: copies of the input's rows (the Arrow table and the frame built from it) and,
#: for a CSV file read whole by read_csv, of its text a row (the parser's blocks), more
#: text with --out/--out-matches (the kept table made one chunk a column; round 9: 0.3,
#: was 1.0 before round 8 passed the table to the frame with no other reference).
READ_COPIES, TEXT_COPIES, OUT_TEXT_COPIES = 2.0, 0.8, 0.3
#: Reading a CSV file block by block (from ``tiltak.tables.CSV_BLOCKWISE_BYTES`` on): the
#: table's chunks and the frame built from them (freed column by column), or with --out the
#: chunks and their one-chunk copy (the frame sharing it), and the blocks of text in flight
#: (bytes, whatever the rows; round 9's traces: 1.79 b at 2 million rows without --out,
#: 2 b + 130 MB at 10 million with it).
BLOCK_COPIES, BLOCK_OUT_COPIES, BLOCKS_BYTES = 1.8, 2.0, 200 * 2**20
#: Estimating: the frame, and doubles a row: vectors of the score, the matcher and the
#: balance table (V; measured the same for 8 and 27 design columns), with an outcome 2.5
#: more and a share of the design columns (the regression adjustment's design of the
#: matched units, held once since round 7, and its cluster sums), more after subclassification
#: or CEM (the control-outcome regression's design and its weighted copies), half a vector
#: with --out (10 M rows: 3,824 MiB with --out, 3,789 without), for each control beyond one
#: per treated unit, and with --replace.
VECTORS, OUTCOME_VECTORS, OUTCOME_COPIES, STRATA_OUTCOME_COPIES = 14, 2.5, 0.4, 4.5
OUT_VECTORS, RATIO_VECTORS, REPLACE_VECTORS = 0.5, 11, 13
#: Writing --out: the result's vectors still held (the outcome's design is freed by then)
#: and the added columns; pyarrow's CSV writer converts a batch of rows at a time, so the
#: file's text is never held (round 9's trace at 10 million rows: 2,734 -> 2,886 MiB while
#: writing, the peak 3,773 while estimating).
WRITE_VECTORS = 16
#: Full matching: its matcher's vectors of the rows, and with an outcome the Rosenbaum bounds'
#: sets padded to the largest (sets x largest set grows a little faster than the rows:
#: measured 250 thousand to 3 million rows of benchmarks/speed_data.py).
FULL_VECTORS, FULL_OUTCOME_VECTORS = 24, 34
#: Writing Parquet holds one row group (pyarrow's default: 2^20 rows) of the input's columns
#: (counted whole: the writer's buffers cost about as much below 2^20 rows).
ROW_GROUP_ROWS = 2**20
#: The methods after which an outcome is also estimated by the control-outcome regression.
STRATA_METHODS = ("subclass", "cem")


@dataclass(frozen=True)
class MatchShape:
    """What the rule needs of a run: the data's size and the options that cost memory.

    ``input_bytes``: bytes a row of the data as read; ``text_bytes``: bytes a row of a CSV
    file (0 for Parquet); ``design_columns``: numeric columns count one, a factor or text
    column with L levels L - 1; ``out``: the format of the per-row file written ("csv" or
    "parquet"; "" for none)."""

    rows: int
    input_bytes: int
    design_columns: int
    outcome: bool = False
    out: str = ""
    method: str = "nearest"
    ratio: float = 1
    replace: bool = False
    text_bytes: float = 0


def blockwise(shape: MatchShape) -> bool:
    """Whether the file is a CSV file that :mod:`tiltak.tables` reads block by block (rows x
    bytes a row of text is the file's size, rounded: ``text_bytes`` is size / rows)."""
    return shape.text_bytes > 0 and round(shape.rows * shape.text_bytes) >= tables.CSV_BLOCKWISE_BYTES


def reading_bytes(shape: MatchShape) -> float:
    """Bytes a row while the file is read (the blocks in flight are in :func:`phase_bytes`)."""
    if blockwise(shape):
        return (BLOCK_OUT_COPIES if shape.out else BLOCK_COPIES) * shape.input_bytes
    text = TEXT_COPIES + (OUT_TEXT_COPIES if shape.out else 0)
    return READ_COPIES * shape.input_bytes + text * shape.text_bytes


def estimating_row_bytes(shape: MatchShape) -> float:
    """Bytes a row while scoring, matching, balancing and estimating (the frame included)."""
    design, vectors = 0.0, VECTORS
    if shape.outcome:
        design += OUTCOME_COPIES + (STRATA_OUTCOME_COPIES if shape.method in STRATA_METHODS else 0)
        vectors += OUTCOME_VECTORS
    vectors += RATIO_VECTORS * max(math.ceil(shape.ratio) - 1, 0)
    vectors += REPLACE_VECTORS if shape.replace else 0
    if shape.method == "full":
        vectors += FULL_VECTORS + (FULL_OUTCOME_VECTORS if shape.outcome else 0)
    vectors += OUT_VECTORS if shape.out else 0
    return shape.input_bytes + 8 * (design * shape.design_columns + vectors)


def writing_row_bytes(shape: MatchShape) -> float:
    """Bytes a row while ``--out`` is written (0 without it): the frame, the result's
    vectors and the added columns."""
    if not shape.out:
        return 0.0
    return shape.input_bytes + 8 * WRITE_VECTORS


def phase_bytes(shape: MatchShape) -> dict[str, int]:
    """Each phase's peak by the rule, over the interpreter's base (see the module docstring)."""
    blocks = BLOCKS_BYTES if blockwise(shape) else 0
    row_group = ROW_GROUP_ROWS * shape.input_bytes if shape.out == "parquet" else 0
    return {"reading": BASE_BYTES + blocks + math.ceil(shape.rows * reading_bytes(shape)),
            "estimating": BASE_BYTES + math.ceil(shape.rows * estimating_row_bytes(shape)),
            "writing": BASE_BYTES + row_group + math.ceil(shape.rows * writing_row_bytes(shape))}


def matching_bytes(shape: MatchShape) -> int:
    """Peak memory of ``tiltak match`` by the rule (see the module docstring): the largest
    of its phases, reading, estimating and writing ``--out``."""
    return max(phase_bytes(shape).values())


def parse_size(text: str) -> int:
    """Bytes from '4G', '500M', '2.5GB', '1024' (bytes); binary units (1G = 2^30 bytes)."""
    units = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}
    value = text.strip().upper().removesuffix("B").removesuffix("I")
    number, unit = (value[:-1], value[-1]) if value and value[-1] in units else (value, "")
    try:
        size = float(number) * units[unit]
    except ValueError:
        size = math.nan
    if not math.isfinite(size):  # not a number, or 'inf'
        raise TableError(f"--max-memory: expected a size such as 4G or 500M; got {text!r}")
    if not size >= 1:
        raise TableError(f"--max-memory: expected a size > 0; got {text!r}")
    return int(size)


def available_memory() -> int | None:
    """Bytes this process may still use: the smaller of the system's available memory and
    the cgroup (container) limit, when they can be read."""
    limits = []
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    limits.append(int(line.split()[1]) * 1024)
    except OSError:
        pass
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(path).read_text().strip()
        except OSError:
            continue
        if text.isdigit() and int(text) < 2**60:
            limits.append(int(text))
    return min(limits) if limits else None


def check_budget(path: str, needed: int, budget: int | None, given: bool) -> None:
    """Refuse, with one message, a run whose estimated peak exceeds the budget."""
    if budget is None or needed <= budget:
        return
    where = "--max-memory" if given else "available memory"
    raise TableError(
        f"{path}: matching needs about {_size(needed)} of memory (docs/estimation.md, "
        f"'Memory of tiltak match and --max-memory'); {where} is {_size(budget)}. Use fewer "
        f"rows or covariates, or a machine with more memory"
        f"{'' if given else ' (or set --max-memory if this estimate is too cautious)'}")


def _size(n: int) -> str:
    for unit, size in (("GB", 2**30), ("MB", 2**20)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} bytes"


def file_shape(path: str) -> tuple[int, int, int, float]:
    """Rows, columns, bytes a row as read and bytes a row of CSV text (0 for Parquet) of a
    file, before reading it: exact for Parquet (its metadata and schema), estimated for CSV
    from the file size and the first lines (8 bytes a column, as numbers and text are read)."""
    file = Path(path)
    if file.suffix.lower() != ".csv":
        import pyarrow.parquet as pq

        parquet = pq.ParquetFile(file)
        schema = parquet.schema_arrow
        return parquet.metadata.num_rows, len(schema), sum(map(_field_bytes, schema)), 0.0
    size = file.stat().st_size
    with open(file, "rb") as handle:
        head = handle.read(1 << 16)
    lines = head.split(b"\n")
    columns = len(lines[0].split(b","))
    body = lines[1:-1] if len(lines) > 2 else lines[1:]
    mean = (sum(len(line) + 1 for line in body) / len(body)) if body else max(size, 1)
    rows = int(size / max(mean, 1))
    return rows, columns, 8 * columns, text_bytes(path, rows)


def text_bytes(path: str, rows: int) -> float:
    """Bytes a row of a CSV file (0 for Parquet)."""
    file = Path(path)
    return file.stat().st_size / max(rows, 1) if file.suffix.lower() == ".csv" else 0.0


def _field_bytes(field) -> int:
    """Bytes a value of an Arrow field takes in a frame (8 for text: a pointer)."""
    try:
        return max(field.type.bit_width // 8, 1)
    except ValueError:  # text, dates with a unit, nested: at most a pointer or an int64
        return 8


def frame_row_bytes(frame) -> int:
    """Bytes a row of a data frame as read (8 for text: a pointer to a shared string)."""
    return sum(min(getattr(dtype, "itemsize", 8), 8) for dtype in frame.dtypes)
