"""``tiltak synth`` on the command line: files, summary, exit codes and messages."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from monitoring.contract import CONTRACT

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tiltak", "synth", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_help_has_an_example():
    result = run("--help")
    assert result.returncode == 0
    assert "Example:" in result.stdout and "tiltak synth --db" in result.stdout


def test_csv_extract_and_summary(tmp_path):
    result = run("--csv", str(tmp_path / "out"), "--seed", "3", "--scale", "0.2",
                 "--effect-return", "2", "--effect-hscl", "VV=-0.3,KVL=0.1")
    assert result.returncode == 0, result.stderr
    files = sorted(p.name for p in (tmp_path / "out").glob("*.csv"))
    assert files == sorted(f"{name}.csv" for name in CONTRACT)
    truth = pd.read_csv(tmp_path / "out" / "truth" / "truth_effects.csv")
    params = truth[truth["estimand"] == "enrol_vs_not"].set_index(["measure", "outcome"])["parameter_value"]
    assert params[("KVN", "assisted_return_12m")] == 2.0
    assert params[("VV", "hscl10_change_6m")] == -0.3 and params[("KVL", "hscl10_change_6m")] == 0.1
    assert "Exits per year by type" in result.stdout and "cost_per_participant_nok" in result.stdout
    assert "effect_return=VV=2,KVL=2,KVN=2" in result.stdout
    assert not list((tmp_path / "out").glob(".synth-*"))  # no staging folder left behind
    persons = pd.read_csv(tmp_path / "out" / "persons.csv")
    assert list(persons.columns) == list(CONTRACT["persons"].column_names)


def test_same_seed_same_files(tmp_path):
    for folder in ("a", "b"):
        assert run("--csv", str(tmp_path / folder), "--seed", "9", "--scale", "0.1", "--quiet").returncode == 0
    for path in (tmp_path / "a").rglob("*.csv"):
        assert path.read_bytes() == (tmp_path / "b" / path.relative_to(tmp_path / "a")).read_bytes()


@pytest.mark.parametrize("args, message", [
    (["--effect-return", "VV=-1"], "--effect-return: the effect for 'VV' must be an odds ratio > 0; got -1.0"),
    (["--effect-return", "XX=2"], "--effect-return: unknown measure 'XX'; expected one of 'VV', 'KVL', 'KVN'"),
    (["--effect-return", "VV=two"], "--effect-return: expected CODE=NUMBER pairs"),
    (["--effect-hscl", "inf"], "--effect-hscl: the effect for 'VV' must be a finite number; got inf"),
    (["--effect-return", "0"], "must be an odds ratio > 0; got 0.0"),
    (["--months", "2"], "--months: must be an integer between 6 and 240; got 2"),
    (["--scale", "-1"], "--scale: must be a number between 0.01 and 100; got -1.0"),
    (["--start", "2012/01"], "--start: must be a month written YYYY-MM"),
    (["--start", "2025-01"], "--months: a window of 36 months from 2025-01 ends after 2025-12"),
    (["--hidden-bias", "9"], "--hidden-bias: must be a number between -5 and 5; got 9.0"),
    (["--effect-return", "VV=1,VV=2"], "--effect-return: measure 'VV' is given twice"),
    (["--effect-return", "VV=1,"], "--effect-return: expected CODE=NUMBER pairs"),
    (["--seed", str(2**70)], "--seed: must be an integer between 0 and 9223372036854775807"),
    (["--scale", "nan"], "--scale: must be a number between 0.01 and 100; got nan"),
])
def test_bad_parameters(tmp_path, args, message):
    out = tmp_path / "out"
    result = run("--csv", str(out), *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_nothing_to_write():
    result = run("--seed", "1")
    assert result.returncode == 2
    assert "expected --db FILE, --csv DIR or both" in result.stderr


def test_csv_target_is_a_file(tmp_path):
    target = tmp_path / "file.csv"
    target.write_text("x")
    result = run("--csv", str(target), "--scale", "0.1")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert target.read_text() == "x"


def test_db_holds_the_tables_and_the_truth(tmp_path):
    import duckdb

    db = tmp_path / "store.duckdb"
    result = run("--db", str(db), "--seed", "2", "--scale", "0.2", "--quiet")
    assert result.returncode == 0, result.stderr
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = {row[0] for row in con.execute("SHOW TABLES").fetchall()}
        assert set(CONTRACT) | {"truth_effects", "truth_outcomes"} <= tables
        # 3 measures x 8 outcomes x 2 estimands
        assert con.execute("SELECT count(*) FROM truth_effects").fetchone()[0] == 48
        participants = con.execute("SELECT count(*) FROM participation").fetchone()[0]
        assert con.execute("SELECT count(*) FROM truth_outcomes").fetchone()[0] == participants
        sources = {row[0] for row in con.execute("SELECT DISTINCT source FROM loads").fetchall()}
        assert sources == {"synthetic seed=2"}
    finally:
        con.close()


def test_csv_extract_loads_with_tiltak_load(tmp_path):
    assert run("--csv", str(tmp_path / "csv"), "--seed", "4", "--scale", "0.1", "--quiet").returncode == 0
    result = subprocess.run([sys.executable, "-m", "tiltak", "load", "--db", str(tmp_path / "s.duckdb"),
                             str(tmp_path / "csv")], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    persons = len(pd.read_csv(tmp_path / "csv" / "persons.csv"))
    assert f"{persons:,} rows" in result.stdout
