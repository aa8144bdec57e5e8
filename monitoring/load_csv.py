"""Plain CSV files (:class:`~monitoring.load_read.CsvFile`) read by DuckDB's own reader.

The file is read into the store's connection as the temporary table ``csv_<table>`` of
text columns (every option explicit: no sniffing, strict field counts, an empty cell is
NULL), and ``raw_<table>`` is a view of it with the extract's column names and ``_row``, the
line number (record ``k`` is on line ``k + 2``). What the checks see is exactly what the
Python-side readers give for the same bytes (tests/monitoring/test_load_read.py checks the
two against each other and against the csv module).

DuckDB reads the file by its path, after it was hashed; the file is hashed again once it is
read, so that the store never holds other bytes than the load records. When DuckDB refuses
the file (a line with another number of fields, a line too long), reads another number of
rows, or the file changed meanwhile, the table is dropped and the Python-side readers read
the bytes that were hashed, reporting what they find (:func:`read_in_python`). DuckDB's own
message, which can quote a line of the file, is never shown.
"""

from __future__ import annotations

import hashlib
from typing import Any

from monitoring.load_read import ROW, CsvFile, Extract, read_in_python
from monitoring.load_types import quoted


def csv_name(table: str) -> str:
    return f"csv_{table}"


def read_csv_files(con: Any, extracts: list[Extract]) -> None:
    """Read every :class:`CsvFile` among ``extracts`` into ``con`` (``raw_<table>``), or
    with the Python-side readers when DuckDB cannot read it as they would."""
    for extract in extracts:
        if isinstance(extract.data, CsvFile) and not _read_into(con, extract):
            read_in_python(extract)


def _read_into(con: Any, extract: Extract) -> bool:
    import duckdb

    plain: CsvFile = extract.data
    table = csv_name(extract.table)
    columns = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(plain.header)))
    try:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM read_csv(?, columns = {{{columns}}}, "
            "header = false, skip = 1, delim = ?, quote = '\"', escape = '\"', auto_detect = false, "
            "strict_mode = true, null_padding = false, nullstr = '')",
            [str(plain.path), plain.delimiter])
        rows = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        same = rows == plain.num_rows and not extract.pseudonymised and \
            hashlib.sha256(plain.path.read_bytes()).hexdigest() == extract.content_hash
    except (duckdb.Error, OSError):
        same = False
    if not same:
        con.execute(f"DROP TABLE IF EXISTS {table}")
        return False
    kept = [f"c{plain.header.index(name)} AS {quoted(name)}" for name in plain.names]
    con.execute(f"CREATE OR REPLACE TEMP VIEW raw_{extract.table} AS "
                f"SELECT {', '.join([*kept, f'CAST(rowid + 2 AS BIGINT) AS {ROW}'])} FROM {table}")
    return True
