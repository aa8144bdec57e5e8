"""Provisional periods: the last months within a table's declared reporting lag (or after the
last complete month) are marked in every output and raise no alert or quality finding unless asked.

The store is built so that attendance collapses in the last two complete months (2013-11,
2013-12), the way late-reported sessions look: the participation table declares a 2-month lag.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from monitoring.contract import CONTRACT, REPORTING_LAGS
from monitoring.monitored import load_monitored_model
from monitoring.provisional import edge, is_provisional, period_end
from monitoring.runs import run_models
from monitoring.store import Store
from stores import working_copy
from tiltak.evaluation.wording import describe_reason
from model_texts import monitored_model

ROOT = Path(__file__).resolve().parents[2]
AS_OF = dt.date(2014, 1, 15)  # complete months through 2013-12
DEC_2013, NOV_2013, OCT_2013 = 2013 * 12 + 11, 2013 * 12 + 10, 2013 * 12 + 9

MODEL = monitored_model("test-lag", "participants, sessions_attended_share", extra=(
    "  targets:\n"
    '    - {indicator: sessions_attended_share, baseline: {period: "2012-01", value: 75}, '
    'values: [{period: "2013-01", value: 75}]}\n'))

PANEL = """INSERT INTO person_month (person_id, month, period, centre_id, region, nationality, sex, household, age, age_band,
    months_since_decision, months_in_reception, measure, participating, enrolled, exit_type, applied)
SELECT 'p' || i, DATE '2012-01-01' + INTERVAL (m) MONTH, strftime(DATE '2012-01-01' + INTERVAL (m) MONTH, '%Y-%m'),
       'c' || (i % 5), 'north', 'AFG', 'male', 'single', 30, '25-34', m, m,
       CASE WHEN (i + m) % 6 = 0 THEN 'VV' END, (i + m) % 6 = 0, (i + m) % 12 = 0, NULL, false
FROM range(300) a(i), range(24) b(m)"""

# 30 participations a month, 8 sessions planned each; attended 5-7 (share 62-88 %) until
# 2013-10, then 1 (12.5 %): the sessions of the last two months are not reported yet.
PARTICIPATION = """INSERT INTO participation (person_id, measure, start_date, sessions_planned, sessions_attended, completed)
SELECT 'p' || (m * 30 + j) % 300, 'VV', DATE '2012-01-02' + INTERVAL (m) MONTH + INTERVAL (j % 20) DAY, 8,
       CASE WHEN m >= 22 THEN 1 ELSE 5 + (m % 3) + (j % 2) END, NULL
FROM range(24) a(m), range(30) b(j)"""


def _make_store(path: Path) -> Path:
    with Store.open(path) as store:
        con = store.connect()
        con.execute(PANEL)
        con.execute(PARTICIPATION)
        con.execute("INSERT INTO loads VALUES (1, TIMESTAMP '2014-01-15 08:00', 'test', 'participation', "
                    "'participation.csv', 1, 'h1', 'loaded', NULL, NULL, NULL, NULL)")
    return path


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return _make_store(tmp_path_factory.mktemp("tpl") / "store.duckdb")


@pytest.fixture()
def setup(tmp_path, template):
    return working_copy(tmp_path, template, MODEL)


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tiltak", "monitor", *args], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)


def _spec(model_path: Path, indicator: str):
    return next(s for s in load_monitored_model(model_path).specs if s.id == indicator)


# ---- the rule -----------------------------------------------------------------------


def test_the_contract_declares_the_participation_lag():
    assert CONTRACT["participation"].reporting_lag_months == 2
    assert dict(REPORTING_LAGS) == {"participation": 2}


def test_periods_within_the_lag_or_after_the_data_are_provisional(setup):
    _db, model_path = setup
    share, participants = _spec(model_path, "sessions_attended_share"), _spec(model_path, "participants")
    assert edge(share, DEC_2013).lag == 2 and edge(share, DEC_2013).tables == ("participation",)
    assert [is_provisional(share, m, DEC_2013) for m in (OCT_2013, NOV_2013, DEC_2013)] == [False, True, True]
    # The panel declares no lag: only a period needing a month after the data is provisional.
    assert [is_provisional(participants, m, DEC_2013) for m in (NOV_2013, DEC_2013, DEC_2013 + 1)] == [False, False, True]
    assert not is_provisional(share, DEC_2013, None)  # no run yet: nothing to mark against


def test_a_quarter_or_year_is_provisional_when_it_ends_within_the_lag():
    import dataclasses

    from monitoring.monitored import load_monitored_model as load

    spec = next(s for s in load(ROOT / "models" / "veien-videre.yaml").specs if s.id == "sessions_attended_share")
    quarter = dataclasses.replace(spec, grain="quarter")
    year = dataclasses.replace(spec, grain="year")
    assert period_end(2013 * 4 + 3, "quarter") == DEC_2013 and period_end(2013, "year") == DEC_2013
    # Data through 2014-01: settled through 2013-11, so 2013-Q4 and the year 2013 are provisional.
    assert is_provisional(quarter, 2013 * 4 + 3, DEC_2013 + 1) and is_provisional(year, 2013, DEC_2013 + 1)
    # Data through 2014-02: 2013-Q4 and 2013 are settled; 2014-Q1 is not.
    assert not is_provisional(quarter, 2013 * 4 + 3, DEC_2013 + 2) and not is_provisional(year, 2013, DEC_2013 + 2)
    assert is_provisional(quarter, 2014 * 4, DEC_2013 + 2)


# ---- alerts and quality checks --------------------------------------------------------


def test_no_alert_or_quality_finding_on_provisional_periods_unless_asked(setup, tmp_path):
    db, model_path = setup
    result = run_models(db, [load_monitored_model(model_path)], as_of=AS_OF)
    assert result.last_month == "2013-12"
    held = [f for f in result.findings if f.indicator_id == "sessions_attended_share" and f.period in ("2013-11", "2013-12")]
    assert held == [] and result.held_back >= 1

    from monitoring.alerts import current_alerts

    model = load_monitored_model(model_path)
    quiet = current_alerts(db, [model])
    assert quiet.lines == [] and quiet.held_back == 1
    loud = current_alerts(db, [model], include_provisional=True)
    assert len(loud.lines) == 1 and loud.held_back == 0
    assert loud.lines[0].startswith("test-lag sessions_attended_share 2013-12 (provisional): off track: 12.5 percent")

    # The same data, run with include_provisional: the outlier in 2013-11 is found.
    fresh = tmp_path / "fresh.duckdb"
    _make_store(fresh)
    asked = run_models(fresh, [model], as_of=AS_OF, include_provisional=True)
    raised = {(f.check_id, f.period) for f in asked.findings if f.indicator_id == "sessions_attended_share"}
    assert ("QC004", "2013-11") in raised and asked.held_back == 0


def test_monitor_run_says_what_it_held_back_and_alerts_with_the_flag(setup):
    db, model_path = setup
    quiet = _cli("run", str(model_path), "--db", str(db), "--as-of", "2014-01-15")
    assert quiet.returncode == 0, quiet.stdout + quiet.stderr
    assert "ALERT" not in quiet.stdout
    assert "held back 1 alert(s) on provisional periods (--alert-provisional to raise them)" in quiet.stdout
    assert "quality finding(s) on provisional periods" in quiet.stdout
    loud = _cli("run", str(model_path), "--db", str(db), "--as-of", "2014-01-15", "--alert-provisional")
    assert loud.returncode == 0, loud.stderr
    assert "ALERT test-lag sessions_attended_share 2013-12 (provisional): off track" in loud.stdout
    assert "held back" not in loud.stdout


# ---- show ---------------------------------------------------------------------------


def test_show_marks_provisional_periods_in_every_format(setup, tmp_path):
    db, model_path = setup
    run_models(db, [load_monitored_model(model_path)], as_of=AS_OF)
    show = ("show", str(model_path), "--db", str(db), "--indicator", "sessions_attended_share", "--from", "2013-10")

    table = _cli(*show)
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert "2013-10 " in lines[1] and "2013-11*" in lines[2] and "2013-12*" in lines[3]
    assert lines[-1].startswith("* provisional: the data are complete through 2013-12")
    assert "(participation: 2-month reporting lag)" in lines[-1]

    rows = list(csv.DictReader(io.StringIO(_cli(*show, "--format", "csv").stdout)))
    assert [(r["period"], r["provisional"]) for r in rows] == [("2013-10", "false"), ("2013-11", "true"),
                                                               ("2013-12", "true")]
    shown = json.loads(_cli(*show, "--format", "json").stdout)
    assert [r["provisional"] for r in shown] == [False, True, True]

    from openpyxl import load_workbook

    out = tmp_path / "v.xlsx"
    assert _cli(*show, "--format", "xlsx", "-o", str(out)).returncode == 0
    sheet = load_workbook(out)["values"]
    header = [c.value for c in sheet[1]]
    column = header.index("Provisional")
    assert [row[column] for row in sheet.iter_rows(min_row=2, values_only=True)] == [None, "*", "*"]
    about = {row[0]: row[1] for row in load_workbook(out)["about"].iter_rows(values_only=True)}
    assert "*" in about and "(participation: 2-month reporting lag)" in about["Provisional periods"]

    # Nothing provisional in the selection: no footnote.
    settled = _cli("show", str(model_path), "--db", str(db), "--indicator", "sessions_attended_share", "--to", "2013-10")
    assert "provisional" not in settled.stdout and "*" not in settled.stdout


# ---- observed minus expected (the evaluation) -----------------------------------------

TRAJECTORY = """expected_changes:
  - id: attendance_up
    node: b
    indicator: sessions_attended_share
    direction: increase
    min_change: 5
    horizon_months: 6
    trajectory:
      - {period: "2013-09", value: 70}
      - {period: "2013-10", value: 70}
      - {period: "2013-11", value: 70}
      - {period: "2013-12", value: 70}
"""


def test_observed_minus_expected_leaves_out_provisional_periods(tmp_path, template):
    import duckdb

    from tiltak import pipeline
    from tiltak.evaluation.assemble import _add_trajectory_reasons
    from tiltak.evaluation.indicator_series import indicator_entries

    db, model_path = working_copy(tmp_path, template, MODEL + TRAJECTORY)
    run_models(db, [load_monitored_model(model_path)], as_of=AS_OF)
    (item,) = pipeline.load_inputs([model_path])
    con = duckdb.connect(str(db), read_only=True)
    try:
        entry = next(e for e in indicator_entries(con, item) if e["id"] == "sessions_attended_share")
    finally:
        con.close()
    # 2013-11 and 2013-12 (attended 12.5 %) are provisional: of the trajectory, 2013-09 and 2013-10
    # are compared (then the model's target of 2013-01), the last two left out.
    assert [p["period"] for p in entry["points"] if p["provisional"]] == ["2013-11", "2013-12"]
    assert [c["period"] for c in entry["comparisons"]] == ["2013-09", "2013-10", "2013-01"]
    assert all(c["observed"] > 60 for c in entry["comparisons"])
    assert entry["not_compared_provisional"] == ["2013-11", "2013-12"]
    # The reason line beside the comparison says that the provisional periods are left out.
    change = {"indicator": "sessions_attended_share", "outcome": None, "reasons": []}
    _add_trajectory_reasons([change], [entry])
    (reason,) = change["reasons"]
    assert reason["code"] == "trajectory_provisional" and reason["params"]["period"] == "2013-10"
    texts = {lang: describe_reason(reason["code"], reason["params"], None, lang) for lang in ("en", "nb", "nn")}
    assert texts["en"] == ("Monitoring (not an effect estimate): observed 68.75 in 2013-10 against the expected "
                                    "70.00; provisional periods (2013-11, 2013-12) are not compared, their values may "
                                    "still change.")
    assert "foreløpige perioder (2013-11, 2013-12) er ikke sammenlignet" in texts["nb"]
    assert "førebelse periodar (2013-11, 2013-12) er ikkje samanlikna" in texts["nn"]
