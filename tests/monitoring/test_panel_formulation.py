"""The panel query as written now against its formulation of round 6 (``panel_round6.sql``
beside this file: a GROUP BY over every person-month and decision), on random registers
with edge cases added: every column of every row, in the stored order.

The two differ only in how they get there (the decisions as runs of months, the person's
columns joined once per run, the months expanded last), so any difference is a defect of
the new formulation. The reference implementation (test_panel_reference.py) checks the
rules; this checks that the rewrite left every bit of the table as it was.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import sqlglot
from test_panel_reference import TODAY, random_registers

from monitoring.contract import PANEL_COLUMNS
from monitoring.engines.duckdb import DuckDBEngine, _joins_as_written
from monitoring.load import load_tables
from monitoring.panel import bounds_tree, panel_bounds, panel_tree

ROUND6 = Path(__file__).with_name("panel_round6.sql")
D = dt.date


def edge_cases(frames: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The random registers and persons at the edges: no decision at all; two decisions in one
    month; decisions before, between and after the spells; a spell in the calendar's first
    month; events on one day (decision, move, participation, application, exit); spells ending
    on a month's first day; an ongoing spell and participation to the observation end; a
    decision in the panel's last month."""
    persons = [("E01", 1990, "AFG"), ("E02", 1997, "IRQ"), ("E03", 1960, "AFG"), ("E04", 1995, "IRQ"),
               ("E05", 1980, "AFG"), ("E06", 1993, "IRQ")]
    residence = [
        ("E01", "C1", D(2011, 2, 1), D(2011, 9, 1)),                       # never a decision
        ("E02", "C2", D(2011, 3, 15), D(2011, 6, 1)), ("E02", "C1", D(2011, 6, 1), D(2012, 2, 10)),
        ("E03", "C3", D(2010, 1, 1), D(2010, 4, 1)), ("E03", "C1", D(2010, 4, 20), D(2010, 5, 3)),
        ("E04", "C1", D(2012, 5, 9), D(2012, 7, 1)), ("E04", "C2", D(2012, 7, 1), D(2012, 7, 20)),
        ("E05", "C2", D(2013, 1, 31), None),                               # ongoing to the end
        ("E06", "C3", D(2011, 1, 1), D(2011, 2, 1)), ("E06", "C2", D(2011, 2, 28), D(2011, 3, 1)),
    ]
    decisions = [
        ("E02", D(2011, 4, 2)), ("E02", D(2011, 4, 29)), ("E02", D(2011, 8, 1)), ("E02", D(2011, 8, 31)),
        ("E02", D(2013, 3, 1)),                                            # after every spell
        ("E03", D(2009, 12, 31)), ("E03", D(2010, 4, 30)),
        ("E04", D(2012, 5, 9)), ("E04", D(2012, 7, 1)),
        ("E05", D(2012, 12, 31)), ("E05", D(2014, 6, 15)),                 # the latest month
        ("E06", D(2011, 2, 28)),
    ]
    exits = [("E04", D(2012, 7, 20), "forced_return"), ("E06", D(2011, 3, 1), "unknown_address")]
    participation = [("E04", "VV", D(2012, 5, 9), D(2012, 5, 9)), ("E04", "KVL", D(2012, 5, 9), None),
                     ("E03", "KVN", D(2010, 1, 1), D(2010, 1, 31)), ("E05", "VV", D(2013, 2, 1), None)]
    applications = [("E04", D(2012, 7, 1)), ("E04", D(2012, 5, 9)), ("E06", D(2011, 2, 1))]

    def more(name, rows, columns, **fixed):
        extra = pd.DataFrame(rows, columns=columns).assign(**fixed)
        return pd.concat([frames[name], extra[frames[name].columns]], ignore_index=True)

    out = dict(frames)
    out["persons"] = more("persons", persons, ["person_id", "birth_year", "nationality"], sex="female",
                          household="with_children", dublin=True, identity_documented=False, prior_absconding=True)
    out["residence"] = more("residence", residence, ["person_id", "centre_id", "date_from", "date_to"])
    out["decisions"] = more("decisions", decisions, ["person_id", "decision_date"], case_type="asylum")
    out["exits"] = more("exits", exits, ["person_id", "exit_date", "exit_type"])
    out["participation"] = more("participation", participation, ["person_id", "measure", "start_date", "end_date"],
                                sessions_planned=None, sessions_attended=None, completed=None)
    out["applications"] = more("applications", applications, ["person_id", "application_date"],
                               programme="assisted_return")
    return out


def round6_rows(db: Path) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    engine = DuckDBEngine(con)
    try:
        (row,) = engine.fetch(bounds_tree())
        tree = panel_tree(*panel_bounds(row, None), query=sqlglot.parse_one(ROUND6.read_text(), read="duckdb"))
        return engine.fetch(tree)
    finally:
        con.close()


def stored_rows(db: Path) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        names = ", ".join(name for name, _, _ in PANEL_COLUMNS)
        return con.execute(f"SELECT {names} FROM person_month ORDER BY rowid").fetchall()
    finally:
        con.close()


@pytest.mark.parametrize("seed", [5, 6, 7, 8, 9])
def test_the_panel_is_round_6s_panel_bit_for_bit(tmp_path, seed):
    frames = edge_cases(random_registers(seed, persons=150))
    db = tmp_path / "p.duckdb"
    load_tables(db, frames, source=f"random {seed}", today=TODAY)
    got, expected = stored_rows(db), round6_rows(db)
    assert len(expected) > 300
    assert got == expected  # every column, in the stored order
    people = {r[0] for r in got}
    assert "E01" not in people and {"E02", "E03", "E04", "E05", "E06"} <= people


def test_the_joins_setting_is_the_connections_own_afterwards():
    con = duckdb.connect()
    con.execute("SET disabled_optimizers = 'top_n'")
    with _joins_as_written(con):
        inside = con.execute("SELECT current_setting('disabled_optimizers')").fetchone()[0]
    assert "build_side_probe_side" in inside and "top_n" in inside
    assert con.execute("SELECT current_setting('disabled_optimizers')").fetchone()[0] == "top_n"
    with pytest.raises(duckdb.Error):
        with _joins_as_written(con):
            con.execute("SELECT * FROM no_such_table")
    assert con.execute("SELECT current_setting('disabled_optimizers')").fetchone()[0] == "top_n"
    con.execute("SET lock_configuration = true")  # a locked-down connection: left as it is
    with _joins_as_written(con):
        assert con.execute("SELECT current_setting('disabled_optimizers')").fetchone()[0] == "top_n"
