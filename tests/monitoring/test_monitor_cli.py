"""`tiltak monitor` end to end on synthetic registers: run, show (every format), explain, check, quality."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODELS = [ROOT / "models" / name for name in ("veien-videre.yaml", "kvalifisering-lokal.yaml", "kvalifisering-nasjonal.yaml")]
VV = str(MODELS[0])


def tiltak(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tiltak", *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)


@pytest.fixture(scope="module")
def computed(tmp_path_factory):
    """A small synthetic store with the three shipped models computed."""
    db = tmp_path_factory.mktemp("cli") / "store.duckdb"
    made = tiltak("synth", "--db", str(db), "--scale", "0.3", "--months", "24", "--seed", "3")
    assert made.returncode == 0, made.stderr
    first = tiltak("monitor", "run", *map(str, MODELS), "--db", str(db))
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("Run 1: computed ")
    return db


def test_every_subcommand_has_help_with_an_example():
    for sub in ("run", "show", "explain", "check", "quality"):
        result = tiltak("monitor", sub, "--help")
        assert result.returncode == 0 and "Example" in result.stdout, sub


@pytest.mark.slow
def test_repeat_run_is_a_no_op(computed):
    again = tiltak("monitor", "run", *map(str, MODELS), "--db", str(computed))
    assert again.returncode == 0
    assert again.stdout.startswith("Nothing to do: every value is up to date (complete months through 2013-12).")


@pytest.mark.slow
def test_fail_on_alert_exits_1_when_something_is_off_track(computed):
    result = tiltak("monitor", "run", VV, "--db", str(computed), "--fail-on-alert")
    assert "ALERT" in result.stdout or "quality:" in result.stdout
    assert result.returncode == 1


def _show(db: Path, *args: str) -> subprocess.CompletedProcess:
    return tiltak("monitor", "show", VV, "--db", str(db), *args)


@pytest.mark.slow
def test_show_json_publishes_no_small_count_and_marks_suppression(computed):
    result = _show(computed, "--by", "centre", "--by", "sex", "--format", "json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert rows and {"value", "suppressed", "baseline", "target", "status", "change", "slope_per_year"} <= set(rows[0])
    counts = [r for r in rows if r["indicator"] in ("participants", "new_participants")]
    assert any(r["suppressed"] for r in counts)
    for r in counts:
        assert r["suppressed"] == (r["value"] is None) or r["value"] is None
        assert r["value"] is None or not (0 < r["value"] < 5), r
    assert not any("person_id" in json.dumps(r) for r in rows)


@pytest.mark.slow
def test_show_csv_carries_the_stored_values_at_full_precision(computed):
    import duckdb

    rows = list(csv.DictReader(io.StringIO(_show(computed, "--indicator", "cost_total", "--format", "csv").stdout)))
    con = duckdb.connect(str(computed), read_only=True)
    stored = dict(con.execute("SELECT period_index, value FROM monitoring_values WHERE model_id = 'veien-videre' "
                              "AND indicator_id = 'cost_total' AND dimension = 'total'").fetchall())
    con.close()
    published = [r for r in rows if r["value"] not in (":", "")]
    assert published
    assert all("e+" not in r["value"] for r in published)
    assert {float(r["value"]) for r in published} <= set(stored.values())  # the same floats, not rounded ones


@pytest.mark.slow
def test_show_csv_table_and_period_selection(computed):
    result = _show(computed, "--period", "2013-06", "--by", "centre", "--format", "csv")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert {r["period"] for r in rows} <= {"2013-06", "2013-Q2", "2013"}
    suppressed = [r for r in rows if r["suppressed"] == "true"]
    assert suppressed and all(r["value"] == ":" for r in suppressed)
    table = _show(computed, "--period", "2013-06", "--indicator", "participants")
    assert table.stdout.splitlines()[0].split()[:5] == ["indicator", "period", "dimension", "group", "value"]
    assert "participants  2013-06  total" in table.stdout


@pytest.mark.slow
def test_show_is_deterministic_and_xlsx_is_written(computed, tmp_path):
    first = _show(computed, "--by", "region", "--format", "csv").stdout
    assert first == _show(computed, "--by", "region", "--format", "csv").stdout
    out = tmp_path / "vv.xlsx"
    result = _show(computed, "--by", "centre", "--format", "xlsx", "-o", str(out))
    assert result.returncode == 0, result.stderr
    from openpyxl import load_workbook

    sheet = load_workbook(out)["values"]
    header = [c.value for c in sheet[1]]
    values = [row[header.index("Value")] for row in sheet.iter_rows(min_row=2, values_only=True)]
    flags = [row[header.index("Flag")] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert any(flags) and all(v is None for v, f in zip(values, flags) if f == ":")  # suppressed: empty, flagged
    assert all(v is None or isinstance(v, (int, float)) for v in values)  # the column stays numeric
    # full precision: the xlsx and the csv hold the same numbers (16 significant digits in xlsx)
    by_csv = [row["value"] for row in csv.DictReader(io.StringIO(_show(computed, "--by", "centre", "--format", "csv").stdout))]
    assert len(by_csv) == len(values)
    for text, number in zip(by_csv, values):
        assert (text in (":", "") and number is None) or float("%.16g" % float(text)) == number
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary file left
    again = tmp_path / "again.xlsx"
    assert _show(computed, "--by", "centre", "--format", "xlsx", "-o", str(again)).returncode == 0
    assert again.read_bytes() == out.read_bytes()  # byte-identical


@pytest.mark.parametrize("args, fragment", [
    (("--period", "2013-13"), "expected a month 2013-06, a quarter 2013-Q2 or a year 2013; got '2013-13'"),
    (("--period", "2013-06", "--from", "2013-01"), "either --period or --from/--to"),
    (("--from", "2013-06", "--to", "2013-01"), "--from 2013-06 is after --to 2013-01"),
    (("--format", "xlsx"), "--format xlsx needs -o FILE"),
    (("--format", "pdf"), "'pdf' is not one of"),
    (("--by", "county"), "'county' is not one of"),
    (("--indicator", "hscl_mean"), "--indicator 'hscl_mean': not monitored by model 'veien-videre'"),
    (("-o", "/nonexistent/dir/x.csv", "--format", "csv"), "folder '/nonexistent/dir' does not exist"),
])
@pytest.mark.slow
def test_show_usage_errors_exit_2_with_one_message(computed, args, fragment):
    result = _show(computed, *args)
    assert result.returncode == 2, result
    assert fragment in result.stderr and "Traceback" not in result.stderr


@pytest.mark.slow
def test_show_never_writes_over_its_inputs_or_a_device(computed, tmp_path):
    model = tmp_path / "vv.yaml"
    shutil.copy(VV, model)
    shutil.copy(ROOT / "models" / "indicators.yaml", tmp_path / "indicators.yaml")
    before = computed.read_bytes(), model.read_bytes()
    for target, fragment in ((model, "is the model file; choose another name"),
                             (computed, "is the store; choose another name"),
                             (Path("/dev/null"), "is not a regular file (a device or pipe?)")):
        result = tiltak("monitor", "show", str(model), "--db", str(computed), "--format", "csv", "-o", str(target))
        assert result.returncode == 2 and fragment in result.stderr and "Traceback" not in result.stderr
    assert (computed.read_bytes(), model.read_bytes()) == before
    assert Path("/dev/null").is_char_device()


def test_show_on_a_store_without_runs_says_what_to_do(tmp_path):
    db = tmp_path / "empty.duckdb"
    assert tiltak("synth", "--db", str(db), "--scale", "0.1", "--months", "6").returncode == 0
    result = tiltak("monitor", "show", VV, "--db", str(db))
    assert result.returncode == 2
    assert "run 'tiltak monitor run MODEL --db FILE' first" in result.stderr


def test_run_usage_errors(tmp_path, computed):
    missing = tiltak("monitor", "run", VV, "--db", str(tmp_path / "none.duckdb"))
    assert missing.returncode == 2 and "no such store" in missing.stderr
    not_a_model = tiltak("monitor", "run", str(tmp_path / "nope.yaml"), "--db", str(computed))
    assert not_a_model.returncode == 2 and "does not exist" in not_a_model.stderr
    garbage = tmp_path / "garbage.duckdb"
    garbage.write_bytes(b"\x00\x01not a database" * 100)
    bad_db = tiltak("monitor", "run", VV, "--db", str(garbage))
    assert bad_db.returncode == 2 and "Traceback" not in bad_db.stderr
    only_catalogue = tiltak("monitor", "run", str(ROOT / "models" / "indicators.yaml"), "--db", str(computed))
    assert only_catalogue.returncode == 2 and "no model file among the arguments" in only_catalogue.stderr


def _damage(db: Path, statement: str | None) -> None:
    import duckdb

    con = duckdb.connect(str(db))
    if statement:
        con.execute(statement)
    con.close()


@pytest.mark.parametrize("statement, fragment", [
    (None, "the store holds no registers; load register extracts first"),
    ("CREATE TABLE other (x INTEGER)", "the store has no table 'schema_version', 'loads', 'nationalities'"),
])
def test_run_on_a_store_without_registers_changes_nothing(tmp_path, statement, fragment):
    db = tmp_path / "blank.duckdb"
    _damage(db, statement)
    before = db.read_bytes()
    result = tiltak("monitor", "run", VV, "--db", str(db))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert fragment in result.stderr
    assert db.read_bytes() == before


@pytest.mark.parametrize("statement, fragment", [
    ("DROP TABLE person_month", "the store has no table 'person_month'"),
    ("ALTER TABLE person_month DROP COLUMN centre_id", "table 'person_month' lacks column(s) 'centre_id'"),
])
@pytest.mark.slow
def test_run_on_a_store_with_a_damaged_panel_changes_nothing(computed, tmp_path, statement, fragment):
    db = tmp_path / "damaged.duckdb"
    shutil.copy(computed, db)
    _damage(db, statement)
    before = db.read_bytes()
    result = tiltak("monitor", "run", VV, "--db", str(db))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert fragment in result.stderr
    assert db.read_bytes() == before


@pytest.mark.slow
def test_run_of_periods_after_the_data_says_nothing_was_computed(computed):
    result = tiltak("monitor", "run", VV, "--db", str(computed), "--period", "2099-01")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Nothing to do: the periods asked for start after the last complete month")


@pytest.mark.slow
def test_values_after_the_end_of_replaced_data_are_removed_not_shown(computed, tmp_path):
    db = tmp_path / "shrunk.duckdb"
    shutil.copy(computed, db)
    assert tiltak("synth", "--db", str(db), "--scale", "0.1", "--months", "6", "--quiet").returncode == 0
    result = tiltak("monitor", "run", VV, "--db", str(db))
    assert result.returncode == 0, result.stderr
    assert "stored indicator periods after 2012-06: the data behind them is no longer in the store" in result.stdout
    shown = tiltak("monitor", "show", VV, "--db", str(db), "--format", "csv")
    periods = {row["period"] for row in csv.DictReader(io.StringIO(shown.stdout))}
    assert "2012-06" in periods and not any(p.startswith("2013") for p in periods)
    again = tiltak("monitor", "run", VV, "--db", str(db))
    assert again.stdout.startswith("Nothing to do: every value is up to date")


@pytest.mark.parametrize("wait", ["nan", "inf", "-1"])
@pytest.mark.slow
def test_run_refuses_a_wait_that_is_not_a_finite_number_of_seconds(computed, wait):
    result = tiltak("monitor", "run", VV, "--db", str(computed), "--wait", wait)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"--wait: expected seconds between 0 and 86400; got {float(wait)!r}" in result.stderr


def test_explain_prints_grouping_sets_sql():
    result = tiltak("monitor", "explain", VV, "--indicator", "hscl10_mean")
    assert result.returncode == 0, result.stderr
    assert "GROUPING SETS (" in result.stdout and 'FROM "surveys" AS "s"' in result.stdout
    assert "-- stage B: indicator hscl10_mean (mean, quarter)" in result.stdout
    for dialect, quoted in (("postgres", '"surveys" AS "s"'), ("spark", "`surveys` AS `s`")):
        other = tiltak("monitor", "explain", VV, "--indicator", "hscl10_mean", "--dialect", dialect)
        assert other.returncode == 0 and quoted in other.stdout and f"{dialect} dialect" in other.stdout


def test_check_reports_filter_errors_at_their_line(tmp_path):
    shutil.copy(MODELS[0], tmp_path / "veien-videre.yaml")
    text = (ROOT / "models" / "indicators.yaml").read_text(encoding="utf-8")
    bad = text.replace("condition: \"completed\"", "condition: \"complete = true\"", 1)
    assert bad != text
    (tmp_path / "indicators.yaml").write_text(bad, encoding="utf-8")
    line = next(n for n, l in enumerate(bad.splitlines(), 1) if "complete = true" in l)
    result = tiltak("monitor", "check", str(tmp_path / "veien-videre.yaml"), str(tmp_path / "indicators.yaml"))
    assert result.returncode == 1
    assert f"indicators.yaml:{line}:" in result.stdout and "unknown column 'complete' in source 'participation'" in result.stdout
    good = tiltak("monitor", "check", *map(str, MODELS), str(ROOT / "models" / "indicators.yaml"))
    assert good.returncode == 0, good.stdout


@pytest.mark.slow
def test_quality_lists_stored_findings(computed):
    result = tiltak("monitor", "quality", "--db", str(computed))
    assert result.returncode == 0
    assert result.stdout.startswith("Run 1: ")
    wrong = tiltak("monitor", "quality", "--db", str(computed), "--run", "99")
    assert wrong.returncode == 2 and "--run 99: no such run" in wrong.stderr


@pytest.mark.slow
def test_stored_values_on_synthetic_registers_match_an_independent_computation(computed):
    import duckdb
    import pandas as pd

    con = duckdb.connect(str(computed), read_only=True)
    try:
        stored = con.execute("SELECT indicator_id, period, numerator, denominator, value FROM monitoring_values "
                             "WHERE model_id = 'veien-videre' AND dimension = 'total'").df()
        panel = con.execute("SELECT person_id, period, measure, participating, exit_type FROM person_month").df()
        surveys = con.execute("SELECT person_id, survey_date, instrument, total FROM surveys").df()
        part = con.execute("SELECT person_id, measure, start_date FROM participation").df()
    finally:
        con.close()
    by = stored.set_index(["indicator_id", "period"])
    # participants: persons taking part in VV in the month (pandas on the panel)
    vv = panel[(panel.measure == "VV") & panel.participating].groupby("period").person_id.nunique()
    got = by.loc["participants", "value"]
    assert (got.reindex(vv.index) == vv).all() and (got.drop(vv.index) == 0).all()
    # disappearances per 100 person-months
    rate = 100 * panel.assign(hit=panel.exit_type == "unknown_address").groupby("period").hit.mean()
    got = by.loc["unknown_address_per_100", "value"].sort_index()
    pd.testing.assert_series_equal(got, rate.reindex(got.index), check_names=False, rtol=1e-12)
    # HSCL-10 mean per quarter among persons who had started VV by the survey's month
    first = part[part.measure == "VV"].groupby("person_id").start_date.min()
    s = surveys[(surveys.instrument == "hscl10") & surveys.total.notna() & surveys.person_id.isin(first.index)].copy()
    s["start"] = pd.to_datetime(s.person_id.map(first)).dt.to_period("M")
    s["month"] = pd.to_datetime(s.survey_date).dt.to_period("M")
    s = s[(s.start <= s.month) & (s.month <= pd.Period("2013-12", "M"))]
    s["period"] = s.month.dt.year.astype(str) + "-Q" + s.month.dt.quarter.astype(str)
    expected = s.groupby("period").total.mean()
    got = by.loc["hscl10_mean", "value"].dropna()
    pd.testing.assert_series_equal(got.sort_index(), expected.sort_index(), check_names=False, rtol=1e-12)
