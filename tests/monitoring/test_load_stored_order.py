"""The load stores every table's rows in the order of the delivered file (round 9).

The tables' INSERT takes the rows from the stage without an ORDER BY: the stage is made
from one scan of the file's rows and keeps their order. These tests load a table large
enough for DuckDB to scan it in several row groups on several threads, with keys in no
sorted order, from a CSV file and from a data frame, and require the stored order (rowid)
to be the file's order. (A stored order sorted by any key, or scattered by the threads,
fails them.)
"""

from __future__ import annotations

import datetime as dt
import random
import shutil
from pathlib import Path

import duckdb
import pandas as pd

from monitoring.load import load_directory, load_tables

GOOD = Path(__file__).parent / "data_contract_fixtures" / "good"
TODAY = dt.date(2013, 1, 1)
EXTRA = 260_000  # persons beyond the fixture's: three of DuckDB's row groups of 122,880 rows


def _persons_file(folder: Path) -> list[str]:
    """The fixture's persons and EXTRA more with shuffled ids; the ids in file order."""
    path = folder / "persons.csv"
    lines = path.read_text().splitlines()
    ids = [f"Q{n:07d}" for n in range(EXTRA)]
    random.Random(9).shuffle(ids)
    sexes = ("male", "female")
    extra = [f"{i},{1950 + n % 50},{sexes[n % 2]},AFG,single,false,true,false,false,false"
             for n, i in enumerate(ids)]
    path.write_text("\n".join([*lines, *extra]) + "\n")
    return [line.split(",", 1)[0] for line in lines[1:]] + ids


def _stored(db: Path, table: str, column: str) -> list:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return [r[0] for r in con.execute(f"SELECT {column} FROM {table} ORDER BY rowid").fetchall()]
    finally:
        con.close()


def test_csv_rows_are_stored_in_file_order(tmp_path):
    folder = tmp_path / "extract"
    shutil.copytree(GOOD, folder)
    ids = _persons_file(folder)
    db = tmp_path / "s.duckdb"
    load_directory(db, folder, today=TODAY)
    assert _stored(db, "persons", "person_id") == ids
    years = [1950 + n % 50 for n in range(EXTRA)]
    assert _stored(db, "persons", "birth_year")[-EXTRA:] == years


def test_frame_rows_are_stored_in_frame_order(tmp_path):
    folder = tmp_path / "extract"
    shutil.copytree(GOOD, folder)
    ids = _persons_file(folder)
    frames = {p.stem: pd.read_csv(p, dtype=str, keep_default_na=False).replace("", None)
              for p in sorted(folder.glob("*.csv"))}
    db = tmp_path / "s.duckdb"
    load_tables(db, frames, source="frames", today=TODAY)
    assert _stored(db, "persons", "person_id") == ids
