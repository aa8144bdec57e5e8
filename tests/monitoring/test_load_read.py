"""Reading CSV extracts: the fast reader and the exact reader agree with Python's csv module,
and row numbers are line numbers."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from monitoring import load_csv
from monitoring.load_read import ROW, CsvFile, Extract, _csv_exact, read_file, read_in_python

CELL = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")) | st.sampled_from(
    [",", ";", '"', "\n", " ", "æ", "ø"]), max_size=8)


def rows_of(extract: Extract) -> list[dict]:
    """The rows the checks see. A plain file (CsvFile) is read by DuckDB as a load reads it,
    and what DuckDB gives must be what the Python-side readers give for the same bytes."""
    if not isinstance(extract.data, CsvFile):
        return extract.data.to_pylist()
    import copy

    import duckdb

    python = copy.copy(extract)
    read_in_python(python)
    assert not python.problems
    con = duckdb.connect()
    load_csv.read_csv_files(con, [extract])
    if isinstance(extract.data, CsvFile):
        rows = con.sql(f"SELECT * FROM raw_{extract.table} ORDER BY {ROW}").to_arrow_table().to_pylist()
    else:  # refused by DuckDB: read in Python
        rows = extract.data.to_pylist()
    assert rows == python.data.to_pylist()
    return rows


def csv_bytes(header: list[str], rows: list[list[str]], delimiter: str = ",", crlf: bool = False) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n" if crlf else "\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 4).flatmap(lambda width: st.tuples(
    st.just(width), st.lists(st.lists(CELL, min_size=width, max_size=width), max_size=12))),
    st.booleans())
def test_reader_returns_what_the_csv_module_wrote(tmp_path_factory, table, crlf):
    width, rows = table
    header = [f"c{i}" for i in range(width)]
    path = tmp_path_factory.mktemp("csv") / "t.csv"
    path.write_bytes(csv_bytes(header, rows, crlf=crlf))
    extract = read_file(path, "t")
    assert not extract.problems, extract.problems
    got = [{k: v for k, v in row.items() if k != ROW} for row in rows_of(extract)]
    # the exact reader skips records that are a single blank cell (a blank line)
    expected = [r for r in rows if not (len(r) == 1 and not r[0].strip() and "\n" not in r[0])]
    expected = [{h: (v if v != "" else None) for h, v in zip(header, r)} for r in expected]
    if width == 1:
        got = [g for g in got if g["c0"] is not None and (g["c0"].strip() or "\n" in g["c0"])]
        expected = [e for e in expected if e["c0"] is not None]
    assert got == expected


def test_row_numbers_are_line_numbers(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(b"a,b\n1,2\n\n3,4\r\n\"x\ny\",5\n6,7\n")
    extract = read_file(path, "t")
    assert [row[ROW] for row in rows_of(extract)] == [2, 4, 5, 7]
    fast = tmp_path / "fast.csv"
    fast.write_bytes(b"a,b\n1,2\n\n3,4\r\n5,6")
    assert [row[ROW] for row in rows_of(read_file(fast, "t"))] == [2, 4, 5]


def test_fast_and_exact_readers_agree(tmp_path):
    data = csv_bytes(["a", "b", "c"], [[str(i), f"x{i}", "" if i % 3 else "q,\"r\""] for i in range(500)])
    path = tmp_path / "t.csv"
    path.write_bytes(data)
    fast = read_file(path, "t")
    exact = Extract("t", "t.csv", "")
    _csv_exact(exact, data.decode(), ",")
    assert rows_of(fast) == exact.data.to_pylist()


def test_excel_rows_are_sheet_rows(tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["a", "b"])
    sheet.append([1, "x"])
    sheet.append([None, None])
    sheet.append([2.5, True])
    path = Path(tmp_path) / "t.xlsx"
    book.save(path)
    extract = read_file(path, "t")
    assert rows_of(extract) == [{"a": "1", "b": "x", ROW: 2}, {"a": "2.5", "b": "true", ROW: 4}]


PLAIN = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"), exclude_characters='",;')
                | st.sampled_from([" ", "\t", "æ", "ø", "\\", "'"]), max_size=8) | st.sampled_from(["NULL", "\\N", ""])


@settings(max_examples=80, deadline=None)
@given(st.integers(1, 4).flatmap(lambda width: st.tuples(
    st.just(width), st.lists(st.lists(PLAIN, min_size=width, max_size=width), max_size=12))),
    st.booleans(), st.sampled_from([",", ";"]), st.booleans())
def test_duckdb_reads_plain_files_as_the_python_readers_do(tmp_path_factory, table, crlf, delimiter, bom):
    width, rows = table
    header = [f"c{i}" for i in range(width)]
    end = "\r\n" if crlf else "\n"
    text = end.join(delimiter.join(r) for r in [header, *rows]) + end
    path = tmp_path_factory.mktemp("csv") / "t.csv"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    extract = read_file(path, "t")
    assert not extract.problems, extract.problems
    rows_of(extract)  # DuckDB (when it takes the file) and the Python readers agree


def test_a_line_with_other_fields_is_reported_as_before(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(b"a,b\n1,2\n3\n4,5,6\n7,8\n")
    extract = read_file(path, "t")
    assert isinstance(extract.data, CsvFile)
    load_csv.read_csv_files(__import__("duckdb").connect(), [extract])
    assert [str(p) for p in extract.problems] == ["t.csv:3: expected 2 fields as in the header; got 1",
                                                  "t.csv:4: expected 2 fields as in the header; got 3"]


def test_a_file_changed_after_it_was_hashed_is_read_from_the_hashed_bytes(tmp_path):
    import duckdb

    path = tmp_path / "t.csv"
    path.write_bytes(b"a,b\n1,2\n")
    extract = read_file(path, "t")
    path.write_bytes(b"a,b\n9,9\n")
    load_csv.read_csv_files(duckdb.connect(), [extract])
    assert extract.data.to_pylist() == [{"a": "1", "b": "2", ROW: 2}]
