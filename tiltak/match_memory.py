"""The memory budget of ``tiltak match``: the rule of its peak memory, and the refusal.

The rule (docs/performance.md, "Round 6: the memory rule of tiltak match"; fitted to the
peaks that ``benchmarks/bench_match_memory.py`` measures, committed in
``benchmarks/results/match_memory.md``, which tests/app/test_match_memory.py holds it to):

    peak = 200 MB + rows x (R x input bytes + 8 bytes x (K x design columns + V))

* input bytes: the bytes of one row of the data as read (8 a number or text column of a
  CSV file; in Parquet the column's width: 1 for int8 and booleans, 4 for int32 and
  float32, 8 for int64, float64 and text); R = 2, plus 1 with ``--out`` or
  ``--out-matches`` (the writer's copy of the columns);
* design columns: a numeric column is one, a factor or text column with L levels L - 1;
  K = 1, plus 1 with ``--outcome`` (the regression adjustment), plus 5 with ``--outcome``
  after subclassification or coarsened exact matching (the control-outcome regression
  builds its design, and weighted copies, for every row);
* V = 20 vectors of the rows (scores, weights, sort orders, masks), plus 4 for each
  control beyond one per treated unit (``--ratio``) and 4 with ``--replace``.

Before the file is read, rows come from the Parquet metadata or from the CSV's size and
first lines, and every column counts once in the design (a factor's levels are not yet
known); after reading, the real rows, widths and levels decide.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from tiltak.tables import TableError

BASE_BYTES = 200 * 2**20
"""The interpreter and the libraries before any data (measured: 150 to 190 MB)."""
#: Copies of the input's rows (R): the frame, and what the reader left behind.
READ_COPIES = 2
#: One more copy when the input is written out again (--out, --out-matches).
OUT_COPIES = 1
#: Design copies (K): the covariate pass of the score; one more with an outcome; five more
#: for the control-outcome regression after subclassification or CEM.
DESIGN_COPIES, OUTCOME_COPIES, STRATA_OUTCOME_COPIES = 1, 1, 5
#: Vectors of n (V), and those each extra control (--ratio) or --replace adds.
VECTORS, RATIO_VECTORS, REPLACE_VECTORS = 20, 4, 4
#: The methods after which an outcome is also estimated by the control-outcome regression.
STRATA_METHODS = ("subclass", "cem")


@dataclass(frozen=True)
class MatchShape:
    """What the rule needs of a run: the data's size and the options that cost memory."""

    rows: int
    input_bytes: int
    design_columns: int
    outcome: bool = False
    out: bool = False
    method: str = "nearest"
    ratio: float = 1
    replace: bool = False


def matching_bytes(shape: MatchShape) -> int:
    """Peak memory of ``tiltak match`` by the rule (see the module docstring)."""
    copies = READ_COPIES + (OUT_COPIES if shape.out else 0)
    design = DESIGN_COPIES
    if shape.outcome:
        design += OUTCOME_COPIES + (STRATA_OUTCOME_COPIES if shape.method in STRATA_METHODS else 0)
    vectors = VECTORS + RATIO_VECTORS * max(math.ceil(shape.ratio) - 1, 0)
    vectors += REPLACE_VECTORS if shape.replace else 0
    per_row = copies * shape.input_bytes + 8 * (design * shape.design_columns + vectors)
    return BASE_BYTES + shape.rows * per_row


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
        f"{path}: matching needs about {_size(needed)} of memory (docs/performance.md, "
        f"'Round 6: the memory rule of tiltak match'); {where} is {_size(budget)}. Use fewer "
        f"rows or covariates, or a machine with more memory"
        f"{'' if given else ' (or set --max-memory if this estimate is too cautious)'}")


def _size(n: int) -> str:
    for unit, size in (("GB", 2**30), ("MB", 2**20)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} bytes"


def file_shape(path: str) -> tuple[int, int, int]:
    """Rows, columns and bytes a row of a file, before reading it: exact for Parquet (its
    metadata and schema), estimated for CSV from the file size and the first lines (8
    bytes a column, as numbers and text are read)."""
    file = Path(path)
    if file.suffix.lower() != ".csv":
        import pyarrow.parquet as pq

        parquet = pq.ParquetFile(file)
        schema = parquet.schema_arrow
        return parquet.metadata.num_rows, len(schema), sum(map(_field_bytes, schema))
    size = file.stat().st_size
    with open(file, "rb") as handle:
        head = handle.read(1 << 16)
    lines = head.split(b"\n")
    columns = len(lines[0].split(b","))
    body = lines[1:-1] if len(lines) > 2 else lines[1:]
    mean = (sum(len(line) + 1 for line in body) / len(body)) if body else max(size, 1)
    return int(size / max(mean, 1)), columns, 8 * columns


def _field_bytes(field) -> int:
    """Bytes a value of an Arrow field takes in a frame (8 for text: a pointer)."""
    try:
        return max(field.type.bit_width // 8, 1)
    except ValueError:  # text, dates with a unit, nested: at most a pointer or an int64
        return 8


def frame_row_bytes(frame) -> int:
    """Bytes a row of a data frame as read (8 for text: a pointer to a shared string)."""
    return sum(min(getattr(dtype, "itemsize", 8), 8) for dtype in frame.dtypes)
