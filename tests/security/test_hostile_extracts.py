"""Hostile or careless extracts: encodings, line endings, spaces, separators, links, identifiers.

Each is refused (or read exactly) with one line per problem naming file, row and column,
never with a value of an identifier column or a special-category value, and the store is
left as it was.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest

from monitoring.load import load_directory
from monitoring.load_problems import ExtractError, LoadRefused

GOOD = Path(__file__).resolve().parents[1] / "monitoring" / "data_contract_fixtures" / "good"
TODAY = dt.date(2013, 1, 1)


@pytest.fixture
def extract(tmp_path):
    folder = tmp_path / "extract"
    shutil.copytree(GOOD, folder)
    return folder


def _refused(db: Path, folder: Path) -> list[str]:
    with pytest.raises(LoadRefused) as caught:
        load_directory(db, folder, today=TODAY)
    return caught.value.lines()


def _set(folder: Path, name: str, text: str | bytes) -> None:
    path = folder / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())


def test_cr_only_line_endings_are_read_as_lines(extract, tmp_path):
    crlf = tmp_path / "ref.duckdb"
    load_directory(crlf, extract, today=TODAY)
    for name in ("persons.csv", "exits.csv"):
        data = (extract / name).read_bytes()
        _set(extract, name, data.replace(b"\r\n", b"\n").replace(b"\n", b"\r"))
    report = load_directory(tmp_path / "cr.duckdb", extract, today=TODAY)
    assert report.rows() == load_directory(tmp_path / "again.duckdb", GOOD, today=TODAY).rows()


def test_utf16_without_a_byte_order_mark_is_named(extract, tmp_path):
    _set(extract, "centres.csv", (extract / "centres.csv").read_text().encode("utf-16-le"))
    lines = _refused(tmp_path / "s.duckdb", extract)
    assert "centres.csv: the file looks like UTF-16 without a byte-order mark (every other byte is 0); expected " \
           "UTF-8 (save it as 'CSV UTF-8')" in lines
    assert not (tmp_path / "s.duckdb").exists()


def test_a_header_name_with_a_trailing_space_is_refused(extract, tmp_path):
    text = (extract / "exits.csv").read_text()
    _set(extract, "exits.csv", text.replace("exit_type", "exit_type ", 1))
    assert "exits.csv:1:exit_type: column name 'exit_type ' has leading or trailing spaces; expected 'exit_type'" \
        in _refused(tmp_path / "s.duckdb", extract)


def test_a_date_or_number_with_spaces_is_refused_not_trimmed(extract, tmp_path):
    exits = (extract / "exits.csv").read_text().splitlines()
    exits[1] = exits[1].replace(",2012-", ", 2012-", 1)
    _set(extract, "exits.csv", "\n".join(exits) + "\n")
    lines = _refused(tmp_path / "s.duckdb", extract)
    assert any(line.startswith("exits.csv:2:exit_date: expected a date written YYYY-MM-DD; got ' 2012-")
               and line.endswith("(leading or trailing spaces; remove them)") for line in lines), lines


@pytest.mark.parametrize("amount", ["21,140", "1,234,567", "-3,500"])
def test_a_value_that_reads_as_a_thousands_separator_is_refused(extract, tmp_path, amount):
    costs = (extract / "costs.csv").read_text().splitlines()
    costs[1] = costs[1].rsplit(",", 1)[0] + f',"{amount}"'
    _set(extract, "costs.csv", "\n".join(costs) + "\n")
    lines = _refused(tmp_path / "s.duckdb", extract)
    assert f"costs.csv:2:amount_nok: expected a number such as 1.5 or 1,5 (without thousands separators: 21140, " \
           f"not 21,140); got '{amount}'" in lines


def test_a_decimal_comma_is_still_read(extract, tmp_path):
    costs = (extract / "costs.csv").read_text().splitlines()
    costs[1] = costs[1].rsplit(",", 1)[0] + ',"21,14"'
    _set(extract, "costs.csv", "\n".join(costs) + "\n")
    import duckdb

    load_directory(tmp_path / "s.duckdb", extract, today=TODAY)
    con = duckdb.connect(str(tmp_path / "s.duckdb"), read_only=True)
    assert 21.14 in {r[0] for r in con.execute("SELECT amount_nok FROM costs").fetchall()}
    con.close()


@pytest.mark.parametrize("kind", ["link", "folder"])
def test_an_extract_name_that_is_a_folder_or_a_link_to_one_is_refused(extract, tmp_path, kind):
    (extract / "costs.csv").unlink()
    if kind == "link":
        (tmp_path / "elsewhere").mkdir()
        os.symlink(tmp_path / "elsewhere", extract / "costs.csv")
    else:
        (extract / "costs.csv").mkdir()
    what = "a symbolic link to a folder" if kind == "link" else "a folder"
    assert f"costs.csv: {what}; expected an extract file" in _refused(tmp_path / "s.duckdb", extract)


def test_many_broken_references_are_one_line_without_pseudonyms(extract, tmp_path):
    """A delivery whose person ids all changed (another key, another system): one summarised line."""
    db = tmp_path / "s.duckdb"
    load_directory(db, extract, today=TODAY)
    partial = tmp_path / "partial"
    partial.mkdir()
    rows = ["person_id,application_date,programme"]
    rows += [f"Q{n:05d}abcdef,2012-03-{1 + n % 28:02d},assisted_return" for n in range(3000)]
    _set(partial, "applications.csv", "\n".join(rows) + "\n")
    before = db.read_bytes()
    lines = _refused(db, partial)
    joined = "\n".join(lines)
    assert "Q00001abcdef" not in joined and "abcdef" not in joined
    reference = [line for line in lines if ":person_id:" in line and "not in persons" in line]
    assert reference == ["applications.csv:person_id: person_id not in persons (values not shown: an identifier) "
                         "(3,000 rows: rows 2, 3, 4, 5, 6, ...)"]
    assert db.read_bytes() == before


def test_special_category_values_are_never_echoed(extract, tmp_path):
    persons = (extract / "persons.csv").read_text().splitlines()
    persons[1] = persons[1].rsplit(",", 2)[0] + ",HIV-positive,"
    _set(extract, "persons.csv", "\n".join(persons) + "\n")
    lines = _refused(tmp_path / "s.duckdb", extract)
    assert not any("HIV" in line for line in lines)
    assert "persons.csv:health_issue: expected true or false; got another value (not shown: a special-category " \
           "value) (1 row: row 2)" in lines


def test_a_second_load_while_one_is_writing_is_refused_in_one_line(extract, tmp_path):
    from monitoring.store import StoreBusyError, writer_lock

    db = tmp_path / "s.duckdb"
    with writer_lock(db, 0, "test"):
        with pytest.raises(StoreBusyError) as caught:
            load_directory(db, extract, today=TODAY)
    assert "the store is being written by another process (pid" in str(caught.value)
    assert not db.exists()
    assert isinstance(caught.value, Exception) and not isinstance(caught.value, ExtractError)
