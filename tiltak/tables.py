"""Reading data files into frames and writing per-row results, for the command line.

* :func:`read_table` reads a CSV or Parquet file with pyarrow (a multithreaded columnar
  reader; numbers parsed with correct rounding, as R's ``strtod`` does) into a pandas
  frame whose numeric columns are contiguous float64 or int64 arrays; the Arrow buffers are
  released column by column as the frame is built, so the file is held in memory once.
  With ``keep_table`` the Arrow table is kept as well, for writing the input's columns out
  again without pandas (numeric columns without gaps are shared, not copied).
* :func:`write_table` writes an Arrow table with columns added (CSV with pyarrow's
  writer: the shortest decimal that reads back as the same double, so full precision, and
  the same bytes on every run; or Parquet), to a temporary name renamed into place, so
  that a failed run leaves nothing behind; :func:`write_rows` writes the added columns
  alone.

Errors are :class:`TableError` (exit code 2) with one message naming the file.
"""

from __future__ import annotations

import csv
import os
import tempfile
from pathlib import Path

from tiltak.errors import TiltakError

READABLE = (".csv", ".parquet", ".pq")
#: Bytes of CSV text a block (its types are inferred from the first block).
CSV_BLOCK = 1 << 24
#: CSV files from this size on are read block by block (see _read_csv); smaller ones by
#: read_csv, whose threads read them faster (1 million rows: 1.3 to 2.5 s against 1.6 to
#: 3.8 s wall on 2 cores) for about 1.4 times their size of memory more.
CSV_BLOCKWISE_BYTES = 1 << 28

# pandas' default missing-value markers, so that a file means what it meant before
NULL_VALUES = ["", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan",
               "1.#IND", "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan",
               "null"]


class TableError(TiltakError):
    """A data file cannot be read, or a result file cannot be written (exit code 2)."""


def read_table(path: str, keep_table: bool = False, na_values=()):
    """Read a CSV or Parquet file into a data frame, with one clear message on failure.

    ``na_values``: more text tokens that mean a missing value in a CSV file (say '.'),
    besides pandas' usual ones. With ``keep_table`` the result is ``(frame, table)``, the
    Arrow table kept for writing; otherwise ``(frame, None)``.
    """
    file = Path(path)
    suffix = file.suffix.lower()
    if suffix not in READABLE:
        raise TableError(f"{path}: unsupported file type '{suffix or '(none)'}'; "
                         "expected a .csv or .parquet file")
    if not file.exists():
        raise TableError(f"{path}: no such file")
    if not file.is_file():
        raise TableError(f"{path}: not a regular file (a folder, pipe or device?); expected a data file")
    if suffix == ".csv":
        _check_unique_header(file, path)
    try:
        read = _read_csv if suffix == ".csv" else _read_parquet
        frame, table = _to_frame(read(file, list(na_values)), keep_table)  # no other reference
    except Exception as exc:  # noqa: BLE001 - any parser failure is an input error
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TableError(f"{path}: cannot be read as {suffix[1:].upper()}: {first}") from None
    if frame.empty:
        raise TableError(f"{path}: the file has no data rows")
    if suffix != ".csv":
        _check_unique_names(path, [str(c) for c in frame.columns])
    return frame, (table if keep_table else None)


def _to_frame(table, keep_table: bool):
    """The frame of an Arrow table, and the table when kept. A kept table is first made one
    chunk a column, so that the frame's numeric columns share its buffers instead of being
    copies; then the memory the reader and the conversion freed is given back to the system
    (Arrow's allocator would keep it, out of reach of NumPy's)."""
    import pyarrow as pa

    if keep_table and any(column.num_chunks > 1 for column in table.columns):
        table = table.combine_chunks()
    frame = table.to_pandas(self_destruct=not keep_table, split_blocks=True)
    pa.default_memory_pool().release_unused()
    return frame, (table if keep_table else None)


def _read_csv(file: Path, na_values: list[str]):
    """The CSV file as an Arrow table. Files from ``CSV_BLOCKWISE_BYTES`` on are read block
    by block with the types of the first block, and when a later block does not fit them
    (or anything fails) by ``read_csv``, which keeps every parsed block to convert them
    again to a wider type; smaller files by ``read_csv``. Where the first way succeeds both
    give the same table (the same text converted to the same types); ``read_csv`` holds
    most of the file's text besides the table (1.9 GB more at 10 million rows of 21
    columns, docs/performance.md round 8), the first way one block. The messages are
    ``read_csv``'s."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    convert = pacsv.ConvertOptions(null_values=NULL_VALUES + na_values, strings_can_be_null=True,
                                   quoted_strings_can_be_null=True)
    read = pacsv.ReadOptions(use_threads=True, block_size=CSV_BLOCK)
    if file.stat().st_size < CSV_BLOCKWISE_BYTES:
        return pacsv.read_csv(file, read_options=read, convert_options=convert)
    try:
        with pacsv.open_csv(file, read_options=read, convert_options=convert) as reader:
            return pa.Table.from_batches(list(reader), schema=reader.schema)
    except Exception:  # noqa: BLE001 - read_csv reads it again, wider types or its message
        return pacsv.read_csv(file, read_options=read, convert_options=convert)


def _read_parquet(file: Path, na_values: list[str]):
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    table = pq.ParquetFile(file).read(use_threads=True)  # read_table's dataset layer costs 0.3 s
    if not na_values:
        return table
    tokens = pa.array(na_values)
    for i, column in enumerate(table.columns):  # text tokens in text columns become nulls
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            nulls = pc.is_in(pc.utf8_trim_whitespace(column), value_set=tokens)
            table = table.set_column(i, table.field(i), pc.if_else(nulls, None, column))
    return table


def _check_unique_header(file: Path, path: str) -> None:
    """Column names as written must be unique (a repeated name would be ambiguous)."""
    with open(file, newline="", encoding="utf-8-sig", errors="replace") as handle:
        names = [name.strip() for name in next(csv.reader(handle), [])]
    _check_unique_names(path, names)


def _check_unique_names(path: str, names: list[str]) -> None:
    seen: set[str] = set()
    repeated = sorted({n for n in names if n in seen or seen.add(n)})
    if repeated:
        raise TableError(f"{path}: column {', '.join(map(repr, repeated))} appears more than once "
                         "in the header; expected unique column names")


def write_rows(path: str, columns: dict) -> None:
    """Write ``columns`` (name -> array; a pair ``(values, valid)`` has nulls where not
    valid) to ``path`` (.csv or .parquet), atomically, through a symbolic link if ``path``
    is one."""
    import pyarrow as pa

    write_table(path, pa.table({}), columns)


def write_table(path: str, table, added: dict, option: str = "--out",
                first: tuple[str, ...] = ()) -> None:
    """Write the Arrow ``table`` with the ``added`` columns (after it; the names in ``first``
    before it) to ``path`` (.csv or .parquet), atomically, through a symbolic link if
    ``path`` is one. Nothing goes through pandas."""
    import pyarrow as pa

    target = Path(os.path.realpath(path))  # write through a symbolic link, never replace it
    suffix = Path(path).suffix.lower()
    if suffix not in READABLE:
        raise TableError(f"{option} {path}: unsupported file type '{suffix or '(none)'}'; "
                         "expected .csv or .parquet")
    if not target.parent.exists():
        raise TableError(f"{option} {path}: folder '{target.parent}' does not exist")
    columns = {name: _arrow(values) for name, values in added.items()}
    head = [columns[name] for name in first]
    tail = [(name, array) for name, array in columns.items() if name not in first]
    out = pa.table(head + list(table.columns) + [a for _, a in tail],
                   names=list(first) + table.column_names + [n for n, _ in tail])
    handle, tmp = tempfile.mkstemp(dir=target.parent, suffix=suffix, prefix=".tiltak-")
    os.close(handle)
    try:
        if suffix == ".csv":
            import pyarrow.csv as pacsv

            pacsv.write_csv(out, tmp, pacsv.WriteOptions(quoting_style="needed"))
        else:
            import pyarrow.parquet as pq

            pq.write_table(out, tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # as an ordinary new file, not mkstemp's 0600
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _arrow(values):
    """An Arrow array; a masked pair ``(values, valid)`` becomes an array with nulls."""
    import numpy as np
    import pyarrow as pa

    if isinstance(values, tuple):
        data, valid = values
        return pa.array(np.asarray(data), mask=~np.asarray(valid, dtype=bool))
    return pa.array(np.asarray(values))
