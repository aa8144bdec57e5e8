"""Reading extracts (CSV, Parquet, Excel, in-memory frames) into Arrow tables.

Each reader returns an :class:`Extract`: the table's data as an Arrow table whose values are
still untyped (CSV and Excel cells are text; Parquet and frames keep their own types), with
a ``_row`` column giving the place of each record in its source (the line number for CSV,
the sheet row for Excel, 1, 2, ... for Parquet and frames), the content hash, and any
problems found while reading. Typing and checking happen later, in DuckDB.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from monitoring.load_problems import Problem

ROW = "_row"
CSV_SUFFIXES = (".csv",)
PARQUET_SUFFIXES = (".parquet", ".pq")
EXCEL_SUFFIXES = (".xlsx",)
SUFFIXES = CSV_SUFFIXES + PARQUET_SUFFIXES + EXCEL_SUFFIXES


@dataclass
class Extract:
    """One table of an extract as read from its source."""

    table: str
    label: str
    content_hash: str
    data: Any = None  # pyarrow.Table with a _row column, or None when unreadable
    problems: list[Problem] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    pseudonymised: bool = False

    def problem(self, kind: str, message: str, row: int | None = None, column: str | None = None) -> None:
        self.problems.append(Problem(self.label, kind, message, row, column))


def read_file(path: Path, table: str) -> Extract:
    """Read one extract file; the reader is chosen by the file's suffix."""
    data = path.read_bytes()
    extract = Extract(table, path.name, hashlib.sha256(data).hexdigest())
    suffix = path.suffix.lower()
    if not data:
        expected = "a header line with the column names" if suffix in CSV_SUFFIXES else \
            f"{'a Parquet' if suffix in PARQUET_SUFFIXES else 'an Excel (.xlsx)'} file with the table's columns"
        extract.problem("empty_file", f"empty file (0 bytes); expected {expected}")
        return extract
    if suffix in CSV_SUFFIXES:
        _read_csv(extract, data, path)
    elif suffix in PARQUET_SUFFIXES:
        _read_parquet(extract, data)
    else:
        _read_excel(extract, data)
    if extract.data is not None:
        _check_names(extract)
    return extract


def read_frame(table: str, frame: Any, source: str) -> Extract:
    """Take an in-memory pandas data frame as the extract of ``table``."""
    import pandas as pd
    import pyarrow as pa

    extract = Extract(table, f"{source}/{table}", "")
    if not isinstance(frame, pd.DataFrame):
        extract.problem("unreadable", f"expected a pandas DataFrame; got {type(frame).__name__}")
        return extract
    extract.content_hash = _frame_hash(frame)
    names = [str(c) for c in frame.columns]
    try:
        data = pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowException, TypeError, ValueError) as exc:
        extract.problem("unreadable", f"cannot convert the frame: {exc}")
        return extract
    data = _plain(data.rename_columns(names))
    extract.data = data.append_column(ROW, pa.array(range(1, data.num_rows + 1), pa.int64()))
    _check_names(extract)
    return extract


def _frame_hash(frame: Any) -> str:
    import pandas as pd

    digest = hashlib.sha256()
    digest.update(repr([(str(c), str(t)) for c, t in frame.dtypes.items()]).encode())
    try:
        digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    except TypeError:  # unhashable cells: fall back to their text
        digest.update(frame.astype(str).to_csv(index=False).encode())
    return digest.hexdigest()


def _plain(table: Any) -> Any:
    """Dictionary-encoded columns (pandas categoricals, some Parquet files) decoded."""
    import pyarrow as pa
    import pyarrow.types as t

    for index, field_ in enumerate(table.schema):
        if t.is_dictionary(field_.type):
            table = table.set_column(index, field_.name, table.column(index).cast(field_.type.value_type))
    return table


def _check_names(extract: Extract) -> None:
    for kind, message, row, column in header_problems(extract.data.column_names):
        extract.problem(kind, message, row, column)


def header_problems(names: list[str]) -> list[tuple[str, str, int, str | None]]:
    """(kind, message, row, column) of every problem of the column names (with ``_row``)."""
    found: list[tuple[str, str, int, str | None]] = []
    seen: set[str] = set()
    if names.count(ROW) > 1:
        found.append(("header", f"column name '{ROW}' is reserved; expected another name", 1, ROW))
    for name in names:
        if name == ROW:
            continue
        if not name.strip():
            found.append(("header", "a column has no name; expected a name in every header cell", 1, None))
        elif name != name.strip():
            found.append(("header", f"column name '{name}' has leading or trailing spaces; expected "
                          f"'{name.strip()}'", 1, name.strip()))
        elif name in seen:
            found.append(("header", f"column '{name}' appears more than once", 1, None))
        seen.add(name)
    return found


# ---------------------------------------------------------------- CSV


def _read_csv(extract: Extract, data: bytes, path: Path) -> None:
    decoded = csv_text(extract, data)
    if decoded is None:
        return
    fixed, text = decoded
    first_line = _first_line(text)
    delimiter = _delimiter(first_line)
    if first_line.strip() and _is_plain(text):
        plain = CsvFile.of(path, data, _header(first_line, delimiter), delimiter)
        if plain is not None:  # read later by DuckDB, into the store's connection
            extract.data = plain
            return
    _csv_in_python(extract, fixed, text, first_line, delimiter)


def _csv_in_python(extract: Extract, data: bytes, text: str, first_line: str, delimiter: str) -> None:
    """pyarrow's reader when it applies, else the csv module's (exact line numbers)."""
    if first_line.strip() and _is_plain(text):
        table = _csv_fast(extract, data, first_line, delimiter)
        if table is not None:
            extract.data = table
            return
    _csv_exact(extract, text, delimiter)


def read_in_python(extract: Extract) -> None:
    """Replace a :class:`CsvFile` by the Arrow table the Python-side readers make of the
    same bytes (with any problem they find), its dropped columns dropped."""
    plain: CsvFile = extract.data
    extract.data = None
    decoded = csv_text(extract, plain.raw)
    if decoded is None:
        return
    fixed, text = decoded
    first_line = _first_line(text)
    _csv_in_python(extract, fixed, text, first_line, plain.delimiter)
    if extract.data is not None and plain.dropped:
        extract.data = extract.data.drop_columns(list(plain.dropped))


@dataclass(frozen=True)
class CsvFile:
    """A plain CSV file that DuckDB reads itself (:mod:`monitoring.load_csv`), straight into
    the store's connection: no quote characters, one record on each line, no blank line, line
    ends LF or CRLF throughout. For such a file every reader sees the same cells (the text
    between delimiters; an empty cell is missing), and line ``k + 2`` holds record ``k``, so
    the row numbers are known without a parse. DuckDB checks the number of fields of every
    line; a file it refuses is read by the Python-side readers instead (:func:`read_in_python`),
    with the problems they report. ``raw``: the bytes that were hashed."""

    path: Path
    header: tuple[str, ...]  # the names of the file's fields, in order
    delimiter: str
    num_rows: int
    raw: bytes = field(repr=False)
    dropped: tuple[str, ...] = ()  # columns left out (free text)

    @classmethod
    def of(cls, path: Path, data: bytes, header: list[str], delimiter: str) -> "CsvFile | None":
        if b'"' in data or b"\n\n" in data or b"\n\r\n" in data:
            return None
        if b"\r" in data and data.count(b"\r") != data.count(b"\r\n"):
            return None
        lines = data.count(b"\n") + (not data.endswith(b"\n"))
        return cls(path, tuple(header), delimiter, lines - 1, data)

    @property
    def names(self) -> list[str]:
        return [n for n in self.header if n not in self.dropped]

    @property
    def column_names(self) -> list[str]:
        return [*self.names, ROW]

    def kinds(self) -> dict[str, str]:
        return {name: "string" for name in self.names}

    def drop_columns(self, names: list[str]) -> "CsvFile":
        return dataclasses.replace(self, dropped=(*self.dropped, *names))


def csv_text(extract: Extract, data: bytes) -> tuple[bytes, str] | None:
    """The file's bytes (CR-only line ends made LF) and its text, or None with the problem
    recorded (not UTF-8, UTF-16, blank)."""
    if b"\r" in data and b"\n" not in data:  # old Mac line ends (CR only): the same lines
        data = data.replace(b"\r", b"\n")
    text = _decode(extract, data)
    if text is None:
        return None
    if not text or text.isspace():  # blank (no copy of the text, unlike strip())
        extract.problem("empty_file", "the file holds only blank lines; expected a header line")
        return None
    return data, text


def plain_header(text: str) -> list[str] | None:
    """The column names when the fast reader takes the file and the header has no quotes
    (so that any reader sees these names); else None."""
    first_line = _first_line(text)
    if not first_line.strip() or not _is_plain(text) or '"' in first_line:
        return None
    return _header(first_line, _delimiter(first_line))


def _first_line(text: str) -> str:
    """The header line without its line end (without copying the rest of the text)."""
    end = text.find("\n")
    return (text if end < 0 else text[:end]).rstrip("\r")


def _decode(extract: Extract, data: bytes) -> str | None:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        extract.problem("encoding", "the file is UTF-16; expected UTF-8 (save it as 'CSV UTF-8')")
        return None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if _looks_utf16(data):
        extract.problem("encoding", "the file looks like UTF-16 without a byte-order mark (every other byte "
                        "is 0); expected UTF-8 (save it as 'CSV UTF-8')")
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        byte = data[exc.start]
        guess = bytes([byte]).decode("cp1252", errors="replace")
        extract.problem(
            "encoding",
            f"not valid UTF-8: byte 0x{byte:02x} ('{guess}' in Windows-1252/Latin-1); "
            "expected UTF-8 (save the file as 'CSV UTF-8')",
            line,
        )
        return None


def _looks_utf16(data: bytes) -> bool:
    """Text of ASCII letters in UTF-16 has a NUL in every even (big-endian) or odd (little-endian) byte."""
    head = data[:4096]
    if len(head) < 4:
        return False
    even, odd = head[0::2], head[1::2]
    return max(even.count(0) / len(even), odd.count(0) / max(len(odd), 1)) > 0.4


def _delimiter(header: str) -> str:
    counts = {d: header.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


def _is_plain(text: str) -> bool:
    """No NUL bytes and no blank lines before the header: the fast reader applies."""
    return "\x00" not in text and not text.startswith(("\n", "\r"))


def _header(first_line: str, delimiter: str) -> list[str]:
    return [name.strip("\r\n") for name in next(csv.reader([first_line], delimiter=delimiter))]


def _csv_fast(extract: Extract, data: bytes, first_line: str, delimiter: str) -> Any:
    """pyarrow's reader; None when the file needs the exact (slower) reader."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pc

    header = _header(first_line, delimiter)
    names = [f"c{i}" for i in range(len(header))]
    invalid: list[Any] = []

    def on_invalid(row: Any) -> str:
        invalid.append(row)
        return "skip"

    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        table = pc.read_csv(
            io.BytesIO(data),
            read_options=pc.ReadOptions(column_names=names, skip_rows=1, block_size=1 << 24),
            parse_options=pc.ParseOptions(delimiter=delimiter, invalid_row_handler=on_invalid),
            convert_options=pc.ConvertOptions(
                column_types={n: pa.string() for n in names},
                strings_can_be_null=True, quoted_strings_can_be_null=True, null_values=[""],
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowException):
        return None
    lines = _nonblank_line_numbers(np.frombuffer(data, dtype=np.uint8))
    if invalid or len(lines) - 1 != table.num_rows:
        return None
    table = table.rename_columns(header)
    return table.append_column(ROW, pa.array(lines[1:], pa.int64()))


def _nonblank_line_numbers(buf: Any) -> Any:
    import numpy as np

    ends = np.flatnonzero(buf == 10)
    if len(buf) and buf[-1] != 10:
        ends = np.append(ends, len(buf))
    starts = np.concatenate(([0], ends[:-1] + 1))
    lengths = ends - starts
    cr = np.zeros(len(ends), dtype=bool)
    has = lengths > 0
    cr[has] = buf[ends[has] - 1] == 13
    return np.flatnonzero(lengths - cr > 0) + 1


class _BrokenCsv(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


def _csv_records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """Non-blank records with the line each starts on; a parse error raises _BrokenCsv."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    previous = 0
    try:
        for record in reader:
            start, previous = previous + 1, reader.line_num
            blank = len(record) == 1 and not record[0].strip() and "\n" not in record[0]
            if record and not (blank and start > 1):
                yield start, record
    except csv.Error as exc:
        raise _BrokenCsv(previous + 1, str(exc)) from None


def _csv_exact(extract: Extract, text: str, delimiter: str) -> None:
    """The csv module's reader: exact line numbers for every malformed record."""
    import pyarrow as pa

    header: list[str] | None = None
    rows: list[list[str]] = []
    numbers: list[int] = []
    try:
        for start, record in _csv_records(text, delimiter):
            if header is None:
                header = [name.strip("\r\n") for name in record]
            elif len(record) != len(header):
                extract.problem("malformed_csv", f"expected {len(header)} fields as in the header; "
                                f"got {len(record)}", start)
            else:
                rows.append(record)
                numbers.append(start)
    except _BrokenCsv as exc:
        extract.problem("malformed_csv", f"cannot parse the CSV: {exc}", exc.line)
        return
    if header is None:
        extract.problem("empty_file", "no header line; expected the column names on the first line")
        return
    columns = list(zip(*rows)) if rows else [() for _ in header]
    arrays = [pa.array([v if v != "" else None for v in c], pa.string()) for c in columns]
    extract.data = pa.table(arrays, names=header).append_column(ROW, pa.array(numbers, pa.int64()))


# ---------------------------------------------------------------- Parquet, Excel


def _read_parquet(extract: Extract, data: bytes) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(io.BytesIO(data))
    except (pa.ArrowException, OSError, ValueError) as exc:
        extract.problem("unreadable", f"not a readable Parquet file: {exc}")
        return
    table = _plain(table)
    extract.data = table.append_column(ROW, pa.array(range(1, table.num_rows + 1), pa.int64()))


def _read_excel(extract: Extract, data: bytes) -> None:
    import pyarrow as pa

    try:
        import openpyxl

        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        rows = list(book.worksheets[0].iter_rows(values_only=True))
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds on bad files
        hint = (f"; it holds plain text (a CSV file named .xlsx?): name it {extract.table}.csv"
                if data[:2] != b"PK" and b"\x00" not in data[:4096] else "")
        extract.problem("unreadable", f"not a readable Excel (.xlsx) file: {type(exc).__name__}: {exc}{hint}")
        return
    numbered = [(i, r) for i, r in enumerate(rows, 1) if any(_excel_text(v) for v in r)]
    if not numbered:
        extract.problem("empty_file", "the first sheet is empty; expected a header row")
        return
    header = [_excel_text(v) or "" for v in numbered[0][1]]
    while header and not header[-1]:
        header.pop()
    width = len(header)
    body = [tuple(_excel_text(v) for v in r[:width]) + (None,) * (width - len(r)) for _, r in numbered[1:]]
    columns = list(zip(*body)) if body else [() for _ in header]
    table = pa.table([pa.array(c, pa.string()) for c in columns], names=header)
    extract.data = table.append_column(ROW, pa.array([i for i, _ in numbered[1:]], pa.int64()))


def _excel_text(value: Any) -> str | None:

    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
