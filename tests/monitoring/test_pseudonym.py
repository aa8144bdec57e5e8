"""Keyed pseudonyms: HMAC-SHA256 as specified, key handling, nothing raw in the store."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from monitoring.load_problems import ExtractError
from monitoring.load import load_directory, load_tables
from monitoring.load_problems import LoadRefused
from monitoring.pseudonym import KEY_ENV, PseudonymKey, PseudonymKeyError, pseudonymise, resolve_key

GOOD = Path(__file__).parent / "data_contract_fixtures" / "good"
TODAY = dt.date(2013, 1, 1)
ROOT = Path(__file__).resolve().parents[2]
KEY = "a-secret-key-of-some-length-2014"
RAW = {"P001": "01019012345", "P002": "02029512345", "P003": "03036012345",
       "P004": "04049412345", "P005": "05058812345"}
PERSON_TABLES = ("persons", "residence", "decisions", "participation", "applications", "exits", "surveys")


def expected_pseudonym(number: str, key: str = KEY) -> str:
    return hmac.new(key.encode(), number.encode(), hashlib.sha256).hexdigest()[:32]


def raw_extract(folder: Path, column: str = "fnr") -> None:
    """The good extract with raw person numbers in ``column`` instead of person_id."""
    shutil.copytree(GOOD, folder)
    for table in PERSON_TABLES:
        path = folder / f"{table}.csv"
        text = path.read_text().replace("person_id", column, 1)
        for pid, number in RAW.items():
            text = text.replace(f"\n{pid},", f"\n{number},")
        path.write_text(text)


def test_pseudonym_is_truncated_hmac_sha256():
    key = PseudonymKey(KEY.encode())
    assert key.pseudonym("01019012345") == expected_pseudonym("01019012345")
    assert key.pseudonym("010190 12345") == expected_pseudonym("01019012345")
    assert pseudonymise(["01019012345", None, "  "], key) == [expected_pseudonym("01019012345"), None, None]
    assert PseudonymKey(b"another-key-0123456789").pseudonym("01019012345") != key.pseudonym("01019012345")


def test_key_sources_and_weak_keys(tmp_path, monkeypatch):
    monkeypatch.delenv(KEY_ENV, raising=False)
    assert resolve_key() is None
    monkeypatch.setenv(KEY_ENV, KEY)
    assert resolve_key().secret == KEY.encode()
    key_file = tmp_path / "key"
    key_file.write_text("file-key-0123456789abcdef\n")
    assert resolve_key(key_file=key_file).secret == b"file-key-0123456789abcdef"
    with pytest.raises(PseudonymKeyError, match="too short: expected at least 16 bytes; got 5"):
        PseudonymKey(b"short")
    with pytest.raises(PseudonymKeyError, match="cannot read the key file"):
        resolve_key(key_file=tmp_path / "missing")
    assert KEY not in repr(resolve_key())


@pytest.mark.parametrize("device", ["/dev/urandom", "/dev/zero"])
def test_an_endless_key_file_is_refused_without_hanging(device):
    with pytest.raises(PseudonymKeyError, match="the key file holds more than 4096 bytes; expected a short secret"):
        resolve_key(key_file=device)


def test_a_key_file_may_be_a_pipe(tmp_path):
    import os

    read_end, write_end = os.pipe()
    os.write(write_end, b"piped-key-0123456789abcdef\n")
    os.close(write_end)
    try:
        assert resolve_key(key_file=f"/dev/fd/{read_end}").secret == b"piped-key-0123456789abcdef"
    finally:
        os.close(read_end)


def test_raw_numbers_are_replaced_and_never_stored(tmp_path):
    folder = tmp_path / "raw"
    raw_extract(folder)
    db = tmp_path / "s.duckdb"
    report = load_directory(db, folder, pseudonym_key=KEY, today=TODAY)
    assert "persons.csv: 'fnr' replaced by keyed pseudonyms in person_id" in report.notices
    con = duckdb.connect(str(db))
    ids = {r[0] for r in con.execute("SELECT person_id FROM persons").fetchall()}
    assert ids == {expected_pseudonym(n) for n in RAW.values()}
    linked = con.execute("SELECT count(DISTINCT person_id) FROM person_month").fetchone()[0]
    fingerprints = {r[0] for r in con.execute("SELECT key_fingerprint FROM loads WHERE table_name = 'persons'").fetchall()}
    con.execute("CHECKPOINT")
    con.close()
    assert linked == 5
    assert fingerprints == {PseudonymKey(KEY.encode()).fingerprint}
    stored = db.read_bytes()
    for number in RAW.values():
        assert number.encode() not in stored
    assert KEY.encode() not in stored


def test_same_key_gives_same_store_and_another_key_is_refused_unless_rekeying(tmp_path):
    folder = tmp_path / "raw"
    raw_extract(folder, column="person_number")
    db = tmp_path / "s.duckdb"
    load_directory(db, folder, pseudonym_key=KEY, today=TODAY)
    assert not load_directory(db, folder, pseudonym_key=KEY, today=TODAY).changed
    before = db.read_bytes()
    other_key = "another-key-0123456789"
    with pytest.raises(ExtractError) as caught:  # a full delivery under another key: one line, nothing changed
        load_directory(db, folder, pseudonym_key=other_key, today=TODAY)
    (line,) = caught.value.lines()
    assert f"fingerprint {PseudonymKey(other_key.encode()).fingerprint}) is not the key the store's persons " \
           f"were pseudonymised with (fingerprint {PseudonymKey(KEY.encode()).fingerprint}, load 1)" in line
    assert "--rekey" in line
    partial = tmp_path / "partial"
    partial.mkdir()
    shutil.copy(folder / "exits.csv", partial / "exits.csv")
    with pytest.raises(ExtractError, match="is not the key the store's persons"):  # a partial one: the same line
        load_directory(db, partial, pseudonym_key=other_key, today=TODAY)
    with pytest.raises(ExtractError, match="--rekey needs every person table of the store in the delivery.*persons"):
        load_directory(db, partial, pseudonym_key=other_key, today=TODAY, rekey=True)
    assert db.read_bytes() == before
    rekeyed = load_directory(db, folder, pseudonym_key=other_key, today=TODAY, rekey=True)
    assert {t.action for t in rekeyed.tables if t.table in PERSON_TABLES} == {"replaced"}
    assert not load_directory(db, folder, pseudonym_key=other_key, today=TODAY).changed


def test_frames_with_raw_numbers_are_pseudonymised(tmp_path):
    data = {p.stem: pd.read_csv(p, dtype=str) for p in GOOD.glob("*.csv")}
    data["persons"] = data["persons"].rename(columns={"person_id": "duf_number"})
    data["persons"]["duf_number"] = data["persons"]["duf_number"].map(RAW)
    for table in PERSON_TABLES[1:]:
        data[table]["person_id"] = data[table]["person_id"].map(lambda p: expected_pseudonym(RAW[p]))
    db = tmp_path / "s.duckdb"
    load_tables(db, data, source="frames", pseudonym_key=KEY, today=TODAY)
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM persons WHERE person_id = ?",
                       [expected_pseudonym(RAW["P003"])]).fetchone()[0] == 1
    con.close()


def test_raw_numbers_must_be_text(tmp_path):
    data = {p.stem: pd.read_csv(p, dtype=str) for p in GOOD.glob("*.csv")}
    data["exits"] = data["exits"].assign(fnr=[1019012345, 2029512345]).drop(columns="person_id")
    with pytest.raises(LoadRefused) as caught:
        load_tables(tmp_path / "s.duckdb", data, source="frames", pseudonym_key=KEY, today=TODAY)
    assert ("frames/exits:1:fnr: expected the raw person numbers as text (so that leading zeros "
            "are kept); got int64") in caught.value.lines()


def test_both_raw_and_pseudonymous_ids_are_refused(tmp_path):
    folder = tmp_path / "both"
    shutil.copytree(GOOD, folder)
    text = (folder / "exits.csv").read_text().splitlines()
    (folder / "exits.csv").write_text("\n".join([text[0] + ",fnr"] + [r + ",01019012345" for r in text[1:]]) + "\n")
    with pytest.raises(LoadRefused) as caught:
        load_directory(tmp_path / "s.duckdb", folder, pseudonym_key=KEY, today=TODAY)
    assert ("exits.csv:1: columns 'fnr', 'person_id' all identify the person; expected exactly one of "
            "person_id (pseudonym) or person_number, fnr, duf_number") in caught.value.lines()


def test_cli_refuses_raw_numbers_without_key_and_accepts_a_key_file(tmp_path):
    folder = tmp_path / "raw"
    raw_extract(folder)
    db = tmp_path / "s.duckdb"
    env = {k: v for k, v in __import__("os").environ.items() if k != KEY_ENV}
    run = [sys.executable, "-m", "tiltak", "load", "--db", str(db), str(folder)]
    refused = subprocess.run(run, capture_output=True, text=True, cwd=ROOT, env=env)
    assert refused.returncode == 2
    assert "Traceback" not in refused.stderr
    assert ("persons.csv:1:fnr: column 'fnr' holds raw person numbers, but no pseudonym key was given; "
            "expected $TILTAK_PSEUDONYM_KEY or --key-file") in refused.stderr.splitlines()
    assert not db.exists()
    key_file = tmp_path / "key.txt"
    key_file.write_text(KEY + "\n")
    loaded = subprocess.run(run + ["--key-file", str(key_file)], capture_output=True, text=True, cwd=ROOT, env=env)
    assert loaded.returncode == 0, loaded.stderr
    assert "as load 1" in loaded.stdout
    short = tmp_path / "short.txt"
    short.write_text("abc")
    weak = subprocess.run(run + ["--key-file", str(short)], capture_output=True, text=True, cwd=ROOT, env=env)
    assert weak.returncode == 2
    assert "too short" in weak.stderr and "Traceback" not in weak.stderr


def test_raw_ids_flag_pseudonymises_person_id(tmp_path, monkeypatch):
    monkeypatch.delenv(KEY_ENV, raising=False)
    folder = tmp_path / "raw"
    raw_extract(folder, column="person_id")
    db = tmp_path / "s.duckdb"
    with pytest.raises(LoadRefused) as caught:
        load_directory(db, folder, raw_ids=True, today=TODAY)
    assert any("column 'person_id' holds raw person numbers, but no pseudonym key" in line
               for line in caught.value.lines())
    report = load_directory(db, folder, pseudonym_key=KEY, raw_ids=True, today=TODAY)
    assert "persons.csv: raw person numbers in 'person_id' replaced by keyed pseudonyms in person_id" in report.notices
    con = duckdb.connect(str(db), read_only=True)
    ids = {r[0] for r in con.execute("SELECT person_id FROM exits").fetchall()}
    con.close()
    assert ids == {expected_pseudonym(RAW["P002"]), expected_pseudonym(RAW["P004"])}
