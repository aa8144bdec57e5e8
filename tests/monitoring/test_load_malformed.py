"""A table of malformed extracts: each is refused with the expected message, and the store
is exactly as before (every table's content hashed before and after)."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from monitoring.load import load_directory
from monitoring.load_problems import LoadRefused

GOOD = Path(__file__).parent / "data_contract_fixtures" / "good"
TODAY = dt.date(2013, 1, 1)
ROOT = Path(__file__).resolve().parents[2]


def dump(db: Path) -> dict[str, str]:
    """A hash of every table's content (order-insensitive) and of the table list."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables ORDER BY 1").fetchall()]
        return {t: hashlib.sha256(repr(sorted(map(repr, con.execute(f'SELECT * FROM "{t}"').fetchall())))
                                  .encode()).hexdigest() for t in tables}
    finally:
        con.close()


def replace(name: str, old: str, new: str):
    def mutate(folder: Path) -> None:
        path = folder / name
        text = path.read_text()
        assert old in text, (name, old)
        path.write_text(text.replace(old, new, 1))
    return mutate


def append(name: str, line: str):
    def mutate(folder: Path) -> None:
        with (folder / name).open("a") as handle:
            handle.write(line + "\n")
    return mutate


def write(name: str, data: bytes):
    def mutate(folder: Path) -> None:
        (folder / name).write_bytes(data)
    return mutate


def remove(*names: str):
    def mutate(folder: Path) -> None:
        for name in names:
            (folder / name).unlink()
    return mutate


def to_parquet(name: str, copy_as: str):
    def mutate(folder: Path) -> None:
        pd.read_csv(folder / name, dtype=str).to_parquet(folder / copy_as)
    return mutate


def fifo(name: str):
    def mutate(folder: Path) -> None:
        (folder / name).unlink()
        os.mkfifo(folder / name)  # reading it would block forever
    return mutate


def dangling_link(name: str):
    def mutate(folder: Path) -> None:
        (folder / name).unlink()
        (folder / name).symlink_to(folder / "nowhere.csv")
    return mutate


def replace_bytes(name: str, old: bytes, new: bytes):
    def mutate(folder: Path) -> None:
        path = folder / name
        path.write_bytes(path.read_bytes().replace(old, new, 1))
    return mutate


def recode(name: str, encoding: str):
    def mutate(folder: Path) -> None:
        path = folder / name
        path.write_bytes(path.read_text(encoding="utf-8").encode(encoding))
    return mutate


CASES = [
    ("missing_column", replace("persons.csv", "person_id,birth_year,sex,", "person_id,birth_year,"),
     "persons.csv:2: expected 9 fields as in the header; got 10"),
    ("missing_column_whole", replace("centres.csv", ",municipality\n", "\n"),
     "centres.csv:2: expected 4 fields as in the header; got 5"),
    ("unknown_column", replace("centres.csv", "centre_type,", "centre_kind,"),
     "centres.csv:1:centre_kind: unknown column 'centre_kind'; did you mean 'centre_type'? expected one of centre_id, name, "
     "centre_type, region, municipality"),
    ("missing_column_named", replace("centres.csv", "centre_type,", "centre_kind,"),
     "centres.csv:1:centre_type: missing column 'centre_type' (VARCHAR); expected the columns "
     "centre_id, name, centre_type, region, municipality"),
    ("type_integer", replace("persons.csv", "P003,1960", "P003,19x0"),
     "persons.csv:4:birth_year: expected a whole number; got '19x0'"),
    ("type_date", replace("residence.csv", "P004,C01,2012-02-01", "P004,C01,01.02.2012"),
     "residence.csv:7:date_from: expected a date written YYYY-MM-DD; got '01.02.2012'"),
    ("type_boolean", replace("persons.csv", "P005,1988,female,AFG,single,false", "P005,1988,female,AFG,single,maybe"),
     "persons.csv:6:dublin: expected true or false; got 'maybe'"),
    ("type_double", replace("costs.csv", "12000", "12 kNOK"),
     "costs.csv:2:amount_nok: expected a number such as 1.5 or 1,5 (without thousands separators: 21140, not 21,140); got '12 kNOK'"),
    ("missing_value", replace("persons.csv", "P004,1994,male,IRQ", "P004,1994,male,"),
     "persons.csv:5:nationality: missing value; expected text"),
    ("duplicate_key", append("persons.csv", "P002,1995,female,IRQ,single,false,false,false,,"),
     "persons.csv:person_id: duplicate key (person_id): the same key on several rows (values not shown: person_id identifies a person) (1 row: row 7)"),
    ("unknown_code", replace("persons.csv", "P003,1960,male", "P003,1960,M"),
     "persons.csv:4:sex: unknown code 'M'; expected one of 'male', 'female'"),
    ("unknown_exit_type", replace("exits.csv", "forced_return", "deported"),
     "exits.csv:3:exit_type: unknown code 'deported'; expected one of 'assisted_return', "
     "'independent_return', 'forced_return', 'unknown_address', 'permit', 'other'"),
    ("unknown_centre", replace("residence.csv", "P005,C01", "P005,C99"),
     "residence.csv:8:centre_id: centre_id 'C99' is not in centres"),
    ("unknown_nationality", replace("persons.csv", "P005,1988,female,AFG", "P005,1988,female,SYR"),
     "persons.csv:6:nationality: nationality 'SYR' is not in nationalities"),
    ("unknown_person", append("exits.csv", "P404,2012-03-01,permit"),
     "exits.csv:person_id: person_id not in persons (values not shown: an identifier) (1 row: row 4)"),
    ("residence_order", replace("residence.csv", "P004,C01,2012-02-01,2012-04-01", "P004,C01,2012-02-01,2012-01-01"),
     "residence.csv:7:date_to: date_to 2012-01-01 must be after date_from 2012-02-01"),
    ("participation_order", replace("participation.csv", "2011-12-01,2011-12-31", "2011-12-01,2011-11-30"),
     "participation.csv:5:end_date: end_date 2011-11-30 must be on or after start_date 2011-12-01"),
    ("overlap", append("residence.csv", "P005,C02,2012-03-01,2012-03-15"),
     "residence.csv:9:date_from: spell from 2012-03-01 overlaps an earlier spell of the same "
     "person (from 2012-01-01, row 8)"),
    ("future_date", replace("exits.csv", "P004,2012-04-01", "P004,2013-04-01"),
     "exits.csv:3:exit_date: 2013-04-01 is in the future (after 2013-01-01, the day of the load)"),
    ("future_birth_year", replace("persons.csv", "P004,1994", "P004,2014"),
     "persons.csv:5:birth_year: 2014 is in the future (after 2013-01-01, the day of the load)"),
    ("extra_field", append("decisions.csv", "P005,2012-05-01,asylum,extra"),
     "decisions.csv:8: expected 3 fields as in the header; got 4"),
    ("short_row", append("decisions.csv", "P005,2012-05-01"),
     "decisions.csv:8: expected 3 fields as in the header; got 2"),
    ("unterminated_quote", append("centres.csv", 'C04,"Unclosed,ordinary,east,Oslo'),
     "centres.csv:5: cannot parse the CSV: unexpected end of data"),
    ("empty_file", write("applications.csv", b""),
     "applications.csv: empty file (0 bytes); expected a header line with the column names"),
    ("latin1", write("centres.csv", "centre_id,name,centre_type,region,municipality\n"
                                    "C01,Hvalst\u00e6d,ordinary,east,Asker\n".encode("latin-1")),
     "centres.csv:2: not valid UTF-8: byte 0xe6 ('\u00e6' in Windows-1252/Latin-1); expected UTF-8 "
     "(save the file as 'CSV UTF-8')"),
    ("utf16", write("centres.csv", "centre_id,name\n".encode("utf-16")),
     "centres.csv: the file is UTF-16; expected UTF-8 (save it as 'CSV UTF-8')"),
    ("unknown_table", write("persns.csv", b"person_id\nP001\n"),
     "persns.csv: unknown table 'persns'; did you mean 'persons'? expected one of nationalities, "
     "persons, centres, residence, decisions, participation, applications, exits, surveys, costs"),
    ("two_files_one_table", to_parquet("costs.csv", "costs.parquet"),
     "costs.parquet: table 'costs' is also in costs.csv; expected one file per table"),
    ("period_format", replace("costs.csv", "2012-02", "2012-2"),
     "costs.csv:3:period: expected a month written YYYY-MM, e.g. '2012-03'; got '2012-2'"),
    ("nationality_format", replace("nationalities.csv", "ETH,Ethiopia", "eth,Ethiopia"),
     "nationalities.csv:4:nationality: expected an ISO 3166 alpha-3 code in capitals, e.g. 'AFG'; got 'eth'"),
    ("survey_range", replace("surveys.csv", "hscl10,1.8", "hscl10,4.8"),
     "surveys.csv:3:total: total 4.8 is outside the range of hscl10 (1 to 4, mean item score)"),
    ("survey_item", replace("surveys.csv", "mi_importance,7,,", "mi_importance,7,3,"),
     "surveys.csv:4:item_01: item_01 = 3.0 for mi_importance: mi_importance has 0 items; expected no value"),
    ("negative_sessions", replace("participation.csv", "P003,VV,2011-12-01,2011-12-31,5,5", "P003,VV,2011-12-01,2011-12-31,5,-5"),
     "participation.csv:5:sessions_attended: expected a value >= 0; got -5"),
    ("raw_id_without_key", replace("applications.csv", "person_id,", "fnr,"),
     "applications.csv:1:fnr: column 'fnr' holds raw person numbers, but no pseudonym key was "
     "given; expected $TILTAK_PSEUDONYM_KEY or --key-file"),
    ("direct_identifier", write("applications.csv", b"person_id,application_date,programme,first_name\n"
                                             b"P001,2012-03-31,assisted_return,Ali\n"),
     "applications.csv:1:first_name: column 'first_name' identifies a person directly; expected it "
     "to be removed from the extract"),
    ("raw_looking_id", write("applications.csv", b"person_id,application_date,programme\n"
                                                 b"01019012345,2012-03-31,assisted_return\n"),
     "applications.csv:person_id: person_id looks like a raw national identity number (11 digits); "
     "name the column person_number so that it is pseudonymised (1 row: row 2)"),
    ("duplicate_header", write("applications.csv", b"person_id,application_date,application_date\n"
                                                   b"P001,2012-03-31,2012-03-31\n"),
     "applications.csv:1: column 'application_date' appears more than once"),
    ("header_only_required", write("centres.csv", b"centre_id,name,centre_type,region,municipality\n"),
     "centres.csv: no rows; expected at least one centres row"),
    ("blank_only", write("exits.csv", b"\n\n  \n"),
     "exits.csv: the file holds only blank lines; expected a header line"),
    ("fifo_extract", fifo("exits.csv"), "exits.csv: not a regular file (a pipe or device?); expected an extract file"),
    ("dangling_link", dangling_link("exits.csv"), "exits.csv: a symbolic link to nothing; expected an extract file"),
    ("latin1_bytes", replace_bytes("centres.csv", b"\n", b"\xc5\n"),
     "centres.csv:1: not valid UTF-8: byte 0xc5 ('Å' in Windows-1252/Latin-1); expected UTF-8 (save the file as 'CSV UTF-8')"),
    ("utf16_file", recode("centres.csv", "utf-16"), "centres.csv: the file is UTF-16; expected UTF-8 (save it as 'CSV UTF-8')"),
    ("zero_byte_parquet", lambda folder: (remove("costs.csv")(folder), write("costs.parquet", b"")(folder)),
     "costs.parquet: empty file (0 bytes); expected a Parquet file with the table's columns"),
    ("zero_byte_xlsx", lambda folder: (remove("costs.csv")(folder), write("costs.xlsx", b"")(folder)),
     "costs.xlsx: empty file (0 bytes); expected an Excel (.xlsx) file with the table's columns"),
    ("csv_named_xlsx", lambda folder: (folder / "costs.csv").rename(folder / "costs.xlsx"),
     "costs.xlsx: not a readable Excel (.xlsx) file: BadZipFile: File is not a zip file; "
     "it holds plain text (a CSV file named .xlsx?): name it costs.csv"),
]


@pytest.fixture(scope="module")
def loaded_store(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("store") / "registers.duckdb"
    load_directory(db, GOOD, today=TODAY)
    return db


@pytest.mark.parametrize("case_id, mutate, expected", CASES, ids=[c[0] for c in CASES])
def test_malformed_extract_is_refused_and_store_unchanged(case_id, mutate, expected, loaded_store, tmp_path,
                                                          monkeypatch):
    monkeypatch.delenv("TILTAK_PSEUDONYM_KEY", raising=False)
    db = tmp_path / "registers.duckdb"
    shutil.copy(loaded_store, db)
    folder = tmp_path / "extract"
    shutil.copytree(GOOD, folder)
    mutate(folder)
    before = dump(db)
    with pytest.raises(LoadRefused) as caught:
        load_directory(db, folder, today=TODAY)
    lines = caught.value.lines()
    assert expected in lines, "\n".join(lines)
    assert lines[0].startswith(f"Refused to load {folder}: ")
    assert dump(db) == before


def test_unreadable_parquet_alone_is_refused(loaded_store, tmp_path):
    db = tmp_path / "registers.duckdb"
    shutil.copy(loaded_store, db)
    folder = tmp_path / "extract"
    folder.mkdir()
    (folder / "surveys.parquet").write_bytes(b"PAR1 this is not parquet")
    before = dump(db)
    with pytest.raises(LoadRefused) as caught:
        load_directory(db, folder, today=TODAY)
    assert any(line.startswith("surveys.parquet: not a readable Parquet file") for line in caught.value.lines())
    assert dump(db) == before


def test_first_load_missing_a_table_leaves_no_store(tmp_path):
    folder = tmp_path / "extract"
    shutil.copytree(GOOD, folder)
    (folder / "decisions.csv").unlink()
    db = tmp_path / "new.duckdb"
    with pytest.raises(LoadRefused) as caught:
        load_directory(db, folder, today=TODAY)
    assert (f"{folder}: missing table 'decisions'; expected a file decisions.csv (or .parquet, .xlsx) "
            "in the first load") in caught.value.lines()
    assert not db.exists()


def test_partial_load_breaking_stored_references_is_refused(loaded_store, tmp_path):
    db = tmp_path / "registers.duckdb"
    shutil.copy(loaded_store, db)
    folder = tmp_path / "extract"
    folder.mkdir()
    text = (GOOD / "persons.csv").read_text().splitlines()
    (folder / "persons.csv").write_text("\n".join(line for line in text if not line.startswith("P005")) + "\n")
    before = dump(db)
    with pytest.raises(LoadRefused) as caught:
        load_directory(db, folder, today=TODAY)
    assert ("residence (stored):person_id: person_id not in persons (values not shown: an identifier) "
            "(1 row of the stored table)") in caught.value.lines()
    assert ("decisions (stored):person_id: person_id not in persons (values not shown: an identifier) "
            "(1 row of the stored table)") in caught.value.lines()
    assert not any("P005" in line for line in caught.value.lines())
    assert dump(db) == before


def test_every_problem_is_counted_and_listing_is_capped(loaded_store, tmp_path):
    db = tmp_path / "registers.duckdb"
    shutil.copy(loaded_store, db)
    folder = tmp_path / "extract"
    shutil.copytree(GOOD, folder)
    rows = "".join(f"P001,2012-0{1 + i % 9}-{1 + i // 9:02d},bad_{i}\n" for i in range(45))
    (folder / "applications.csv").write_text("person_id,application_date,programme\n" + rows)
    with pytest.raises(LoadRefused) as caught:
        load_directory(db, folder, today=TODAY)
    lines = caught.value.lines()
    assert lines[0] == f"Refused to load {folder}: 45 problems; the store was not changed."
    codes = [line for line in lines if "unknown code" in line]
    assert len(codes) == 20
    assert codes[0] == "applications.csv:2:programme: unknown code 'bad_0'; expected one of 'assisted_return'"
    assert "applications.csv:programme: ... and 25 more problems of this kind (code)" in lines


def test_several_problems_in_several_files_are_all_reported(loaded_store, tmp_path):
    db = tmp_path / "registers.duckdb"
    shutil.copy(loaded_store, db)
    folder = tmp_path / "extract"
    shutil.copytree(GOOD, folder)
    chosen = [c for c in CASES if c[0] in ("type_integer", "unknown_exit_type", "unknown_centre",
                                           "participation_order", "period_format")]
    for _, mutate, _ in chosen:
        mutate(folder)
    with pytest.raises(LoadRefused) as caught:
        load_directory(db, folder, today=TODAY)
    lines = caught.value.lines()
    assert len(chosen) == 5
    for _, _, expected in chosen:
        assert expected in lines


def test_cli_refusal_exits_2_without_traceback(loaded_store, tmp_path):
    db = tmp_path / "registers.duckdb"
    shutil.copy(loaded_store, db)
    folder = tmp_path / "extract"
    shutil.copytree(GOOD, folder)
    replace("persons.csv", "P003,1960", "P003,19x0")(folder)
    before = dump(db)
    result = subprocess.run([sys.executable, "-m", "tiltak", "load", "--db", str(db), str(folder)],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "persons.csv:4:birth_year: expected a whole number; got '19x0'" in result.stderr.splitlines()
    assert dump(db) == before


def test_cli_missing_folder_is_a_usage_error(tmp_path):
    result = subprocess.run([sys.executable, "-m", "tiltak", "load", "--db", str(tmp_path / "x.duckdb"),
                             str(tmp_path / "nowhere")], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "no such folder" in result.stderr
    assert not (tmp_path / "x.duckdb").exists()
