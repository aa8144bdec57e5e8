"""The person-month panel on small hand-made registers, against rows written out by hand."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from monitoring.contract import PANEL_COLUMNS
from monitoring.load import load_directory, load_tables
from monitoring.panel import build_panel

GOOD = Path(__file__).parent / "data_contract_fixtures" / "good"
TODAY = dt.date(2013, 1, 1)
COLUMNS = ("person_id", "period", "centre_id", "months_since_decision", "months_in_reception",
           "age", "age_band", "measure", "participating", "enrolled", "exit_type", "applied",
           "return_agreement")

# Worked out by hand from the files in data_contract_fixtures/good (see docs/data-contract.md):
# observation end April 2012 (the latest date is the survey on 2012-04-20).
N, T, F = None, True, False
EXPECTED_GOOD = [
    ("P001", "2011-12", "C01", 0, 1, 21, "18-24", N, F, F, N, F, F),
    ("P001", "2012-01", "C01", 1, 2, 22, "18-24", "KVL", T, T, N, F, F),
    ("P001", "2012-02", "C01", 2, 3, 22, "18-24", "KVL", T, F, N, F, F),
    ("P001", "2012-03", "C02", 0, 4, 22, "18-24", "KVL", T, F, N, T, F),
    ("P001", "2012-04", "C02", 1, 5, 22, "18-24", N, F, F, N, F, F),
    ("P002", "2012-01", "C02", 4, 0, 17, "0-17", N, F, F, N, F, F),
    ("P002", "2012-02", "C02", 5, 1, 17, "0-17", "KVN", T, T, "assisted_return", F, F),
    ("P003", "2011-06", "C03", 1, 0, 51, "45-54", N, F, F, N, F, T),
    ("P003", "2011-07", "C03", 2, 1, 51, "45-54", N, F, F, N, F, T),
    ("P003", "2011-08", "C03", 3, 2, 51, "45-54", N, F, F, N, F, T),
    ("P003", "2011-09", "C03", 4, 3, 51, "45-54", N, F, F, N, F, T),
    ("P003", "2011-10", "C03", 5, 4, 51, "45-54", N, F, F, N, F, T),
    ("P003", "2011-11", "C03", 6, 5, 51, "45-54", N, F, F, N, F, T),
    ("P003", "2011-12", "C03", 7, 6, 51, "45-54", "VV", T, T, N, F, T),
    ("P003", "2012-02", "C01", 9, 8, 52, "45-54", N, F, F, N, F, T),
    ("P003", "2012-03", "C01", 10, 9, 52, "45-54", N, F, F, N, F, T),
    ("P003", "2012-04", "C01", 11, 10, 52, "45-54", N, F, F, N, F, T),
    ("P004", "2012-02", "C01", 0, 0, 18, "18-24", N, F, F, N, T, F),
    ("P004", "2012-03", "C01", 1, 1, 18, "18-24", N, F, F, N, F, T),
    ("P004", "2012-04", "C01", 2, 2, 18, "18-24", N, F, F, "forced_return", F, T),
    ("P005", "2012-04", "C01", 0, 3, 24, "18-24", N, F, F, N, F, F),
]


def panel_rows(db: Path, columns=COLUMNS) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(f"SELECT {', '.join(columns)} FROM person_month ORDER BY person_id, month").fetchall()
    finally:
        con.close()


def test_panel_of_the_hand_made_registers(tmp_path):
    db = tmp_path / "s.duckdb"
    load_directory(db, GOOD, today=TODAY)
    assert panel_rows(db) == EXPECTED_GOOD


def test_panel_schema_is_the_contract(tmp_path):
    db = tmp_path / "s.duckdb"
    load_directory(db, GOOD, today=TODAY)
    con = duckdb.connect(str(db), read_only=True)
    described = [(r[0], r[1]) for r in con.execute("DESCRIBE person_month").fetchall()]
    first = con.execute("SELECT month, period, region, municipality, centre_type, nationality, returnability, "
                        "sex, household, dublin, identity_documented, prior_absconding, health_issue, "
                        "special_circumstances FROM person_month WHERE person_id = 'P001' "
                        "ORDER BY month LIMIT 1").fetchone()
    con.close()
    assert described == [(name, kind) for name, kind, _ in PANEL_COLUMNS]
    assert first == (dt.date(2011, 12, 1), "2011-12", "east", "Asker", "ordinary", "AFG", "low", "male",
                     "single", False, True, False, True, None)


def registers(residence, decisions, *, persons=None, participation=(), exits=(), applications=()):
    """Minimal frames: one centre per code used, nationalities AFG (no agreement)."""
    residence = pd.DataFrame(residence, columns=["person_id", "centre_id", "date_from", "date_to"])
    ids = sorted(set(residence.person_id))
    centres = sorted(set(residence.centre_id))
    persons = persons or [(p, 1990) for p in ids]
    return {
        "nationalities": pd.DataFrame({"nationality": ["AFG"], "name": ["Afghanistan"],
                                       "returnability": ["low"], "return_agreement_from": [None]}),
        "persons": pd.DataFrame({"person_id": [p for p, _ in persons], "birth_year": [b for _, b in persons],
                                 "sex": "male", "nationality": "AFG", "household": "single",
                                 "dublin": False, "identity_documented": True, "prior_absconding": False}),
        "centres": pd.DataFrame({"centre_id": centres, "name": centres, "centre_type": "ordinary",
                                 "region": "east", "municipality": "Oslo"}),
        "residence": residence,
        "decisions": pd.DataFrame(decisions, columns=["person_id", "decision_date", "case_type"]),
        "participation": pd.DataFrame(list(participation), columns=[
            "person_id", "measure", "start_date", "end_date", "sessions_planned", "sessions_attended", "completed"]),
        "exits": pd.DataFrame(list(exits), columns=["person_id", "exit_date", "exit_type"]),
        "applications": pd.DataFrame(list(applications), columns=["person_id", "application_date", "programme"]),
    }


def load(tmp_path, frames, **kwargs) -> Path:
    db = tmp_path / "p.duckdb"
    load_tables(db, frames, source="test", today=TODAY, **kwargs)
    return db


def test_month_boundaries_of_residence_and_decision(tmp_path):
    frames = registers(
        residence=[("A", "C1", "2012-01-31", "2012-03-01"),   # Jan (entered on the last day), Feb
                   ("B", "C1", "2012-01-01", "2012-02-01"),   # Jan only: date_to is exclusive
                   ("C", "C1", "2012-01-01", None)],
        decisions=[("A", "2012-01-31", "asylum"),           # on the month's last day: counts
                   ("B", "2012-02-01", "asylum"),           # after B left: B never at risk
                   ("C", "2012-02-01", "asylum")],          # from February
    )
    frames["surveys"] = pd.DataFrame({"person_id": ["C"], "survey_date": ["2012-03-15"],
                                      "instrument": ["hscl10"], "total": [2.0]})
    db = load(tmp_path, frames)
    assert panel_rows(db, ("person_id", "period", "months_since_decision")) == [
        ("A", "2012-01", 0), ("A", "2012-02", 1), ("C", "2012-02", 0), ("C", "2012-03", 1)]


def test_centre_on_the_first_day_and_entry_after_a_gap(tmp_path):
    frames = registers(
        residence=[("A", "C1", "2012-01-01", "2012-02-10"), ("A", "C2", "2012-02-10", "2012-03-20"),
                   ("A", "C3", "2012-04-05", "2012-05-01")],
        decisions=[("A", "2011-12-01", "asylum")],
    )
    db = load(tmp_path, frames)
    assert panel_rows(db, ("period", "centre_id", "months_in_reception")) == [
        ("2012-01", "C1", 0), ("2012-02", "C1", 1), ("2012-03", "C2", 2), ("2012-04", "C3", 3)]


def test_exits_end_the_panel_and_count_in_their_month(tmp_path):
    frames = registers(
        residence=[("A", "C1", "2012-01-01", "2012-03-01"),   # left on 1 March: exit month is March
                   ("B", "C1", "2012-01-01", None),           # exit in February, residence not closed
                   ("C", "C1", "2012-01-01", "2012-06-01")],
        decisions=[("A", "2011-06-01", "asylum"), ("B", "2011-06-01", "asylum"), ("C", "2011-06-01", "asylum")],
        exits=[("A", "2012-03-01", "forced_return"), ("B", "2012-02-14", "unknown_address")],
    )
    db = load(tmp_path, frames)
    assert panel_rows(db, ("person_id", "period", "exit_type")) == [
        ("A", "2012-01", None), ("A", "2012-02", None), ("A", "2012-03", "forced_return"),
        ("B", "2012-01", None), ("B", "2012-02", "unknown_address"),
        ("C", "2012-01", None), ("C", "2012-02", None), ("C", "2012-03", None), ("C", "2012-04", None),
        ("C", "2012-05", None)]


def test_latest_final_decision_sets_months_since_decision(tmp_path):
    frames = registers(
        residence=[("A", "C1", "2012-01-01", "2012-07-01")],
        decisions=[("A", "2011-11-15", "asylum"), ("A", "2012-03-31", "other"), ("A", "2012-05-02", "asylum")],
    )
    db = load(tmp_path, frames)
    assert panel_rows(db, ("period", "months_since_decision")) == [
        ("2012-01", 2), ("2012-02", 3), ("2012-03", 0), ("2012-04", 1), ("2012-05", 0), ("2012-06", 1)]


@pytest.mark.parametrize("birth_year, band", [(1995, "0-17"), (1994, "18-24"), (1988, "18-24"),
                                              (1987, "25-34"), (1968, "35-44"), (1967, "45-54"),
                                              (1958, "45-54"), (1957, "55+"), (1930, "55+")])
def test_age_bands(tmp_path, birth_year, band):
    frames = registers(residence=[("A", "C1", "2012-01-01", "2012-02-01")],
                       decisions=[("A", "2011-01-01", "asylum")], persons=[("A", birth_year)])
    db = load(tmp_path, frames)
    assert panel_rows(db, ("age", "age_band")) == [(2012 - birth_year, band)]


def test_participation_overlapping_months(tmp_path):
    frames = registers(
        residence=[("A", "C1", "2012-01-01", "2012-06-01")],
        decisions=[("A", "2011-01-01", "asylum")],
        participation=[("A", "VV", "2012-02-20", "2012-04-01", 6, 6, True),   # ends on 1 April: April counts
                       ("A", "KVL", "2012-02-20", "2012-02-28", None, None, None),  # same start: code order
                       ("A", "KVN", "2012-01-10", "2012-02-05", 3, 1, False)],
        applications=[("A", "2012-05-31", "assisted_return")],
    )
    db = load(tmp_path, frames)
    assert panel_rows(db, ("period", "measure", "participating", "enrolled", "applied")) == [
        ("2012-01", "KVN", T, T, F), ("2012-02", "KVN", T, T, F), ("2012-03", "VV", T, F, F),
        ("2012-04", "VV", T, F, F), ("2012-05", None, F, F, T)]


def test_ongoing_participation_and_explicit_last_month(tmp_path):
    frames = registers(residence=[("A", "C1", "2012-01-01", None)], decisions=[("A", "2011-01-01", "asylum")],
                       participation=[("A", "VV", "2012-02-01", None, None, None, None)])
    db = load(tmp_path, frames)
    assert panel_rows(db, ("period", "participating")) == [("2012-01", F), ("2012-02", T)]
    con = duckdb.connect(str(db))
    assert build_panel(con, last_month=dt.date(2012, 4, 17)) == 4
    assert con.execute("SELECT max(period), bool_and(participating) FILTER (WHERE month >= DATE '2012-02-01') "
                       "FROM person_month").fetchone() == ("2012-04", True)
    con.close()


def test_panel_does_not_depend_on_row_order(tmp_path):
    ordered = {p.stem: pd.read_csv(p, dtype=str) for p in GOOD.glob("*.csv")}
    shuffled = {name: frame.sample(frac=1.0, random_state=3).iloc[:, ::-1] for name, frame in ordered.items()}
    db = load(tmp_path, shuffled)
    assert panel_rows(db) == EXPECTED_GOOD
