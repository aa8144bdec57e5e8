"""Reading CSV extracts: the fast reader and the exact reader agree with Python's csv module,
and row numbers are line numbers."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from monitoring.load_read import ROW, Extract, _csv_exact, read_file

CELL = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")) | st.sampled_from(
    [",", ";", '"', "\n", " ", "æ", "ø"]), max_size=8)


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
    got = extract.data.drop_columns([ROW]).to_pylist()
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
    assert extract.data.column(ROW).to_pylist() == [2, 4, 5, 7]
    fast = tmp_path / "fast.csv"
    fast.write_bytes(b"a,b\n1,2\n\n3,4\r\n5,6")
    assert read_file(fast, "t").data.column(ROW).to_pylist() == [2, 4, 5]


def test_fast_and_exact_readers_agree(tmp_path):
    data = csv_bytes(["a", "b", "c"], [[str(i), f"x{i}", "" if i % 3 else "q,\"r\""] for i in range(500)])
    path = tmp_path / "t.csv"
    path.write_bytes(data)
    fast = read_file(path, "t")
    exact = Extract("t", "t.csv", "")
    _csv_exact(exact, data.decode(), ",")
    assert fast.data.to_pylist() == exact.data.to_pylist()


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
    assert extract.data.to_pylist() == [{"a": "1", "b": "x", ROW: 2}, {"a": "2.5", "b": "true", ROW: 4}]
