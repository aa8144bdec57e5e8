"""Loading good extracts: formats, idempotence, replacement, partial loads, atomicity."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from monitoring import panel as panel_module
from monitoring.load import PAUSE_ENV, load_directory, load_tables
from monitoring.load_problems import LoadRefused

GOOD = Path(__file__).parent / "data_contract_fixtures" / "good"
TODAY = dt.date(2013, 1, 1)
ROOT = Path(__file__).resolve().parents[2]
CONTRACT_TABLES = ("nationalities", "persons", "centres", "residence", "decisions", "participation",
                   "applications", "exits", "surveys", "costs", "person_month")


def dump(db: Path, tables=None) -> dict[str, str]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        names = tables or [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables ORDER BY 1").fetchall()]
        return {t: hashlib.sha256(repr(sorted(map(repr, con.execute(f'SELECT * FROM "{t}"').fetchall())))
                                  .encode()).hexdigest() for t in names}
    finally:
        con.close()


def query(db: Path, sql: str):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def frames() -> dict[str, pd.DataFrame]:
    return {p.stem: pd.read_csv(p, dtype=str, keep_default_na=False).replace("", None)
            for p in sorted(GOOD.glob("*.csv"))}


def test_good_extract_loads_every_table(tmp_path):
    db = tmp_path / "s.duckdb"
    report = load_directory(db, GOOD, today=TODAY)
    assert report.changed and report.load_id == 1
    assert report.rows() == {"nationalities": 3, "persons": 5, "centres": 3, "residence": 7,
                             "decisions": 6, "participation": 4, "applications": 2, "exits": 2,
                             "surveys": 3, "costs": 2}
    assert [t.action for t in report.tables] == ["added"] * 10
    assert query(db, "SELECT count(*) FROM person_month") == [(report.panel_rows,)]
    assert query(db, "SELECT sessions_planned, completed FROM participation WHERE measure = 'KVL'") == [(None, True)]
    assert query(db, "SELECT amount_nok FROM costs WHERE centre_id IS NULL") == [(250000.5,)]
    assert query(db, "SELECT return_agreement_from FROM nationalities WHERE nationality = 'IRQ'") == [
        (dt.date(2012, 3, 15),)]


def test_same_extract_again_is_a_no_op(tmp_path):
    db = tmp_path / "s.duckdb"
    load_directory(db, GOOD, today=TODAY)
    before = dump(db)
    report = load_directory(db, GOOD, today=TODAY)
    assert not report.changed
    assert report.lines()[-1].startswith("Nothing changed")
    assert dump(db) == before


def test_corrected_table_replaces_the_stored_one_and_is_recorded(tmp_path):
    db = tmp_path / "s.duckdb"
    load_directory(db, GOOD, today=TODAY)
    folder = tmp_path / "extract"
    shutil.copytree(GOOD, folder)
    with (folder / "exits.csv").open("a") as handle:
        handle.write("P005,2012-04-10,unknown_address\n")
    report = load_directory(db, folder, today=TODAY)
    assert report.load_id == 2
    actions = {t.table: (t.action, t.replaced_load_id, t.replaced_rows) for t in report.tables}
    assert actions["exits"] == ("replaced", 1, 2)
    assert actions["persons"] == ("unchanged", None, None)
    assert query(db, "SELECT action, replaced_load_id, replaced_row_count, row_count FROM loads "
                     "WHERE load_id = 2 AND table_name = 'exits'") == [("replaced", 1, 2, 3)]
    assert query(db, "SELECT exit_type FROM person_month WHERE person_id = 'P005' AND period = '2012-04'") == [
        ("unknown_address",)]
    assert "replaced load 1 (2 rows)" in "\n".join(report.lines())


def test_partial_load_replaces_only_its_tables(tmp_path):
    db = tmp_path / "s.duckdb"
    load_directory(db, GOOD, today=TODAY)
    others = dump(db, [t for t in CONTRACT_TABLES if t not in ("costs", "person_month")])
    folder = tmp_path / "costs_only"
    folder.mkdir()
    (folder / "costs.csv").write_text("measure,centre_id,period,amount_nok\nVV,C02,2012-03,5000\n")
    report = load_directory(db, folder, today=TODAY)
    assert [t.table for t in report.tables] == ["costs"]
    assert query(db, "SELECT measure, centre_id, period, amount_nok FROM costs") == [("VV", "C02", "2012-03", 5000.0)]
    assert dump(db, [t for t in CONTRACT_TABLES if t not in ("costs", "person_month")]) == others


def test_parquet_excel_and_csv_give_the_same_store(tmp_path):
    csv_db, other_db = tmp_path / "csv.duckdb", tmp_path / "other.duckdb"
    load_directory(csv_db, GOOD, today=TODAY)
    folder = tmp_path / "mixed"
    folder.mkdir()
    for name, frame in frames().items():
        if name in ("persons", "residence", "surveys"):
            frame.to_parquet(folder / f"{name}.parquet")
        elif name in ("centres", "costs"):
            frame.to_excel(folder / f"{name}.xlsx", index=False)
        else:
            shutil.copy(GOOD / f"{name}.csv", folder)
    load_directory(other_db, folder, today=TODAY)
    assert dump(csv_db, CONTRACT_TABLES) == dump(other_db, CONTRACT_TABLES)


def test_typed_parquet_columns_are_accepted(tmp_path):
    db = tmp_path / "s.duckdb"
    folder = tmp_path / "typed"
    shutil.copytree(GOOD, folder)
    persons = pd.read_csv(GOOD / "persons.csv")
    persons.to_parquet(folder / "persons.parquet")
    (folder / "persons.csv").unlink()
    residence = pd.read_csv(GOOD / "residence.csv", parse_dates=["date_from", "date_to"])
    residence.to_parquet(folder / "residence.parquet")
    (folder / "residence.csv").unlink()
    load_directory(db, folder, today=TODAY)
    reference = tmp_path / "ref.duckdb"
    load_directory(reference, GOOD, today=TODAY)
    assert dump(db, CONTRACT_TABLES) == dump(reference, CONTRACT_TABLES)


def test_load_tables_takes_frames_with_the_same_result(tmp_path):
    csv_db, frame_db = tmp_path / "csv.duckdb", tmp_path / "frames.duckdb"
    load_directory(csv_db, GOOD, today=TODAY)
    data = frames()
    data["persons"]["birth_year"] = data["persons"]["birth_year"].astype(int)
    data["residence"]["date_from"] = pd.to_datetime(data["residence"]["date_from"])
    report = load_tables(frame_db, data, source="synth", today=TODAY)
    assert report.changed
    assert dump(csv_db, CONTRACT_TABLES) == dump(frame_db, CONTRACT_TABLES)
    assert not load_tables(frame_db, data, source="synth", today=TODAY).changed


def test_load_tables_reports_problems_with_frame_positions(tmp_path):
    data = frames()
    data["persons"].loc[2, "sex"] = "x"
    data["exits"]["exit_date"] = pd.to_datetime(data["exits"]["exit_date"]) + pd.Timedelta(hours=5)
    with pytest.raises(LoadRefused) as caught:
        load_tables(tmp_path / "s.duckdb", data, source="synth", today=TODAY)
    lines = caught.value.lines()
    assert "synth/persons:3:sex: unknown code 'x'; expected one of 'male', 'female'" in lines
    assert "synth/exits:1:exit_date: expected a date written YYYY-MM-DD; got '2012-02-29 05:00:00'" in lines
    assert not (tmp_path / "s.duckdb").exists()


def test_semicolons_decimal_commas_bom_and_crlf_are_read(tmp_path):
    folder = tmp_path / "excel_style"
    shutil.copytree(GOOD, folder)
    text = (GOOD / "costs.csv").read_text().replace(",", ";").replace("250000.5", "250000,5")
    (folder / "costs.csv").write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
    db = tmp_path / "s.duckdb"
    load_directory(db, folder, today=TODAY)
    assert query(db, "SELECT amount_nok FROM costs ORDER BY amount_nok") == [(12000.0,), (250000.5,)]


def test_free_text_and_unrelated_files_give_notices(tmp_path):
    folder = tmp_path / "extract"
    shutil.copytree(GOOD, folder)
    (folder / "README.txt").write_text("notes")
    text = (GOOD / "exits.csv").read_text().splitlines()
    rows = [text[0] + ",comment"] + [line + ",said something private" for line in text[1:]]
    (folder / "exits.csv").write_text("\n".join(rows) + "\n")
    db = tmp_path / "s.duckdb"
    report = load_directory(db, folder, today=TODAY)
    assert "exits.csv: dropped free-text column 'comment' (free text is never stored)" in report.notices
    assert "README.txt: ignored (not .csv, .parquet or .xlsx)" in report.notices
    assert b"said something private" not in db.read_bytes()


def test_interrupt_during_the_write_rolls_back(tmp_path, monkeypatch):
    db = tmp_path / "s.duckdb"
    load_directory(db, GOOD, today=TODAY)
    before = dump(db)
    folder = tmp_path / "extract"
    shutil.copytree(GOOD, folder)
    (folder / "costs.csv").write_text("measure,centre_id,period,amount_nok\nVV,C02,2012-03,5000\n")

    def interrupted(con, **_):
        con.execute("DELETE FROM person_month")
        raise KeyboardInterrupt

    monkeypatch.setattr("monitoring.load.build_panel", interrupted)
    with pytest.raises(KeyboardInterrupt):
        load_directory(db, folder, today=TODAY)
    assert dump(db) == before


@pytest.mark.slow
def test_process_killed_inside_the_transaction_leaves_the_store_as_before(tmp_path):
    db = tmp_path / "s.duckdb"
    load_directory(db, GOOD, today=TODAY)
    before = dump(db)
    folder = tmp_path / "extract"
    shutil.copytree(GOOD, folder)
    (folder / "costs.csv").write_text("measure,centre_id,period,amount_nok\nVV,C02,2012-03,5000\n")
    marker = tmp_path / "in_transaction"
    env = dict(os.environ, **{PAUSE_ENV: str(marker)})
    process = subprocess.Popen([sys.executable, "-m", "tiltak", "load", "--db", str(db), str(folder)],
                               cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not marker.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    assert marker.exists(), process.communicate()
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert dump(db) == before
    assert query(db, "SELECT count(*) FROM costs") == [(2,)]


@pytest.mark.slow
def test_first_load_killed_leaves_no_store(tmp_path):
    db = tmp_path / "new.duckdb"
    marker = tmp_path / "in_transaction"
    env = dict(os.environ, **{PAUSE_ENV: str(marker)})
    process = subprocess.Popen([sys.executable, "-m", "tiltak", "load", "--db", str(db), str(GOOD)],
                               cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not marker.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    assert marker.exists(), process.communicate()
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not db.exists()
    report = load_directory(db, GOOD, today=TODAY)
    assert report.load_id == 1 and report.db_path == str(db)


def test_store_in_a_missing_folder_is_refused_with_its_own_name(tmp_path):
    from monitoring.load_problems import ExtractError

    with pytest.raises(ExtractError, match=r"nowhere/s.duckdb: cannot create the store; folder '.*nowhere' does not exist"):
        load_directory(tmp_path / "nowhere" / "s.duckdb", GOOD, today=TODAY)


def test_an_empty_folder_or_mapping_is_an_input_error(tmp_path):
    from monitoring.load_problems import ExtractError

    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("x")
    with pytest.raises(ExtractError, match="no extract files; expected files named after the tables"):
        load_directory(tmp_path / "s.duckdb", empty, today=TODAY)
    with pytest.raises(ExtractError, match="no tables given"):
        load_tables(tmp_path / "s.duckdb", {}, source="synth", today=TODAY)
    assert not (tmp_path / "s.duckdb").exists()
