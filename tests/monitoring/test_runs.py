"""Runs: repeatable, incremental, atomic under SIGKILL, and safe when started concurrently."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from monitoring.monitored import load_monitored_model
from monitoring.runs import PAUSE_ENV, PeriodRange, RunInProgressError, RunInputError, run_lock, run_models
from monitoring.store import Store
from stores import working_copy
from model_texts import monitored_model

ROOT = Path(__file__).resolve().parents[2]
AS_OF = dt.date(2014, 1, 15)

MODEL = monitored_model("test-vv", "participants, residents_obliged_to_leave, assisted_returns_per_100, "
                        "assisted_returns_per_100_12m, months_in_reception_mean, hscl10_mean, cost_total")

PANEL = """INSERT INTO person_month (person_id, month, period, centre_id, region, nationality, sex, household, age, age_band,
    months_since_decision, months_in_reception, measure, participating, enrolled, exit_type, applied)
SELECT 'p' || i, DATE '2012-01-01' + INTERVAL (m) MONTH, strftime(DATE '2012-01-01' + INTERVAL (m) MONTH, '%Y-%m'),
       'c' || (i % 5), CASE WHEN i % 5 < 3 THEN 'north' ELSE 'west' END, CASE WHEN i % 3 = 0 THEN 'AFG' ELSE 'IRQ' END,
       CASE WHEN i % 4 = 0 THEN 'female' ELSE 'male' END, 'single', 30, '25-34', m, m,
       CASE WHEN (i + m) % 6 = 0 THEN 'VV' END, (i + m) % 6 = 0, (i + m) % 12 = 0,
       CASE WHEN (i * 7 + m * 3) % 41 = 0 THEN 'assisted_return' END, (i + m) % 17 = 0
FROM range(300) a(i), range(24) b(m)"""


def _make_store(path: Path) -> Path:
    with Store.open(path) as store:
        con = store.connect()
        con.execute(PANEL)
        con.execute("INSERT INTO participation (person_id, measure, start_date, sessions_planned, sessions_attended, completed) "
                    "SELECT 'p' || i, 'VV', DATE '2012-01-03' + INTERVAL (i % 24) MONTH, 8, i % 8, i % 2 = 0 FROM range(0, 300, 3) t(i)")
        con.execute("INSERT INTO surveys (person_id, survey_date, instrument, total) SELECT 'p' || i, "
                    "DATE '2012-02-10' + INTERVAL (i % 22) MONTH, 'hscl10', 1 + (i % 30) / 10 FROM range(0, 300, 3) t(i)")
        con.execute("INSERT INTO costs SELECT 'VV', 'c' || (m % 5), strftime(DATE '2012-01-01' + INTERVAL (m) MONTH, '%Y-%m'), "
                    "1000 + m FROM range(24) t(m)")
        con.execute("INSERT INTO loads VALUES (1, TIMESTAMP '2014-01-15 08:00', 'test', 'exits', 'exits.csv', 1, 'h1', 'loaded', NULL, NULL, NULL, NULL)")
    return path


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return _make_store(tmp_path_factory.mktemp("tpl") / "store.duckdb")


@pytest.fixture()
def setup(tmp_path, template):
    return working_copy(tmp_path, template, MODEL)


def _values(db: Path) -> list[tuple]:
    with Store.open(db, read_only=True) as store:
        return store.connect().execute(
            "SELECT model_id, indicator_id, period, dimension, group_value, numerator, denominator, value "
            "FROM monitoring_values ORDER BY ALL").fetchall()


def _duplicates(db: Path) -> int:
    with Store.open(db, read_only=True) as store:
        return store.connect().execute(
            "SELECT count(*) - count(DISTINCT (model_id, indicator_id, period, dimension, group_value)) FROM monitoring_values"
        ).fetchall()[0][0]


def _cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tiltak", "monitor", *args], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}, timeout=300)


def _start(*args: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tiltak", "monitor", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})


def _wait_for(path: Path, proc: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the run never reached its transaction"
        time.sleep(0.05)


def test_a_second_run_is_a_no_op_and_values_are_not_duplicated(setup):
    db, model_path = setup
    model = load_monitored_model(model_path)
    first = run_models(db, [model], as_of=AS_OF)
    assert first.run_id == 1 and first.last_month == "2013-12"
    assert {r for *_, r in first.computed} == {"new period"}
    stored = _values(db)
    assert stored and _duplicates(db) == 0
    second = run_models(db, [model], as_of=AS_OF)
    assert second.noop and second.run_id is None
    assert _values(db) == stored
    with Store.open(db, read_only=True) as store:
        assert store.connect().execute("SELECT count(*) FROM monitoring_runs").fetchall()[0][0] == 1


def test_every_complete_period_is_stored_once_per_indicator(setup):
    db, model_path = setup
    run_models(db, [load_monitored_model(model_path)], as_of=AS_OF)
    with Store.open(db, read_only=True) as store:
        rows = dict(store.connect().execute(
            "SELECT indicator_id, count(DISTINCT period) FROM monitoring_periods GROUP BY 1").fetchall())
    assert rows["residents_obliged_to_leave"] == 24
    assert rows["hscl10_mean"] == 8       # quarters of 2012-2013
    assert rows["cost_total"] == 2        # years
    assert rows["assisted_returns_per_100_12m"] == 24  # stored as computed (no value before a full window)


def test_as_of_bounds_the_complete_months(setup):
    db, model_path = setup
    result = run_models(db, [load_monitored_model(model_path)], as_of=dt.date(2013, 5, 20))
    assert result.last_month == "2013-04"
    periods = {p for m, i, p, r in result.computed if i == "hscl10_mean"}
    assert max(periods) == "2013-Q1"  # 2013-Q2 is not complete


def test_changed_definition_recomputes_that_indicator_and_records_why(setup):
    db, model_path = setup
    model = load_monitored_model(model_path)
    run_models(db, [model], as_of=AS_OF)
    before = _values(db)
    catalogue = model_path.parent / "indicators.yaml"
    text = catalogue.read_text(encoding="utf-8")
    changed = text.replace("column: months_in_reception\n", "column: months_in_reception\n    filter: \"sex = 'male'\"\n", 1)
    assert changed != text
    catalogue.write_text(changed, encoding="utf-8")
    result = run_models(db, [load_monitored_model(model_path)], as_of=AS_OF)
    assert {(i, r) for m, i, p, r in result.computed} == {("months_in_reception_mean", "definition changed")}
    after = _values(db)
    untouched = lambda rows: [r for r in rows if r[1] != "months_in_reception_mean"]  # noqa: E731
    assert untouched(after) == untouched(before)
    assert [r for r in after if r[1] == "months_in_reception_mean"] != [r for r in before if r[1] == "months_in_reception_mean"]
    assert _duplicates(db) == 0
    with Store.open(db, read_only=True) as store:
        reasons = store.connect().execute("SELECT run_id, indicator_id, reason, count(*) FROM monitoring_computations "
                                          "WHERE run_id = 2 GROUP BY ALL").fetchall()
    assert reasons == [(2, "months_in_reception_mean", "definition changed", 24)]


def test_a_new_load_recomputes_only_what_reads_the_changed_table(setup):
    db, model_path = setup
    model = load_monitored_model(model_path)
    run_models(db, [model], as_of=AS_OF)
    with Store.open(db) as store:
        store.connect().execute("INSERT INTO loads VALUES (2, TIMESTAMP '2014-01-16 08:00', 'test', 'exits', 'exits.csv', 1, "
                                "'h2', 'replaced', 1, 1, NULL, NULL)")
    result = run_models(db, [model], as_of=AS_OF)
    recomputed = {i for m, i, p, r in result.computed}
    assert "cost_total" not in recomputed  # costs and centres did not change
    assert "assisted_returns_per_100" in recomputed
    assert {r for *_, r in result.computed} == {"new data"}


def test_a_period_selection_gives_the_same_values_as_a_full_run(setup, tmp_path):
    db, model_path = setup
    model = load_monitored_model(model_path)
    partial = run_models(db, [model], PeriodRange(2013 * 12 + 5, 2013 * 12 + 5), as_of=AS_OF)
    assert {p for m, i, p, r in partial.computed} == {"2013-06", "2013-Q2", "2013"}
    run_models(db, [model], as_of=AS_OF)
    full = tmp_path / "full.duckdb"
    _make_store(full)
    run_models(full, [model], as_of=AS_OF)
    assert _values(db) == _values(full)


@pytest.mark.slow
def test_a_run_killed_inside_its_transaction_leaves_the_previous_values(setup, tmp_path):
    db, model_path = setup
    model = load_monitored_model(model_path)
    run_models(db, [model], PeriodRange(None, 2012 * 12 + 11), as_of=AS_OF)  # 2012 only
    before = _values(db)
    marker = tmp_path / "paused"
    proc = _start("run", str(model_path), "--db", str(db), "--as-of", "2014-01-15", env={PAUSE_ENV: str(marker)})
    _wait_for(marker, proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert _values(db) == before and _duplicates(db) == 0
    done = _cli("run", str(model_path), "--db", str(db), "--as-of", "2014-01-15")
    assert done.returncode == 0, done.stderr
    full = tmp_path / "full.duckdb"
    _make_store(full)
    run_models(full, [model], as_of=AS_OF)
    assert _values(db) == _values(full)


def test_a_second_run_refuses_while_one_is_in_progress_and_waits_when_asked(setup, tmp_path):
    db, model_path = setup
    marker = tmp_path / "paused"
    first = _start("run", str(model_path), "--db", str(db), "--as-of", "2014-01-15", env={PAUSE_ENV: str(marker)})
    _wait_for(marker, first)
    refused = _cli("run", str(model_path), "--db", str(db), "--as-of", "2014-01-15")
    assert refused.returncode == 2
    assert "another monitoring run is in progress" in refused.stderr and "Traceback" not in refused.stderr
    waiting = _start("run", str(model_path), "--db", str(db), "--as-of", "2014-01-15", "--wait", "120")
    time.sleep(0.5)
    first.kill()
    first.wait()
    out, err = waiting.communicate(timeout=300)
    assert waiting.returncode == 0, err
    assert out.startswith("Run 1:")  # the killed run left nothing behind
    assert _duplicates(db) == 0


def test_concurrent_runs_with_wait_both_succeed_and_store_one_copy(setup, tmp_path):
    db, model_path = setup
    procs = [_start("run", str(model_path), "--db", str(db), "--as-of", "2014-01-15", "--wait", "120") for _ in range(2)]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    assert sorted(o[0].split(":")[0] for o in outputs) == ["Nothing to do", "Run 1"]
    full = tmp_path / "full.duckdb"
    _make_store(full)
    run_models(full, [load_monitored_model(model_path)], as_of=AS_OF)
    assert _values(db) == _values(full) and _duplicates(db) == 0


def test_lock_refusal_names_the_holder(tmp_path):
    db = tmp_path / "x.duckdb"
    with run_lock(db, 0):
        proc = subprocess.run([sys.executable, "-c", f"from monitoring.runs import run_lock\nwith run_lock(__import__('pathlib').Path({str(db)!r}), 0.2): pass"],
                              capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert "another monitoring run is in progress (pid" in proc.stderr and "after waiting 0.2 s" in proc.stderr


def test_bad_run_inputs(setup, tmp_path):
    db, model_path = setup
    model = load_monitored_model(model_path)
    with pytest.raises(RunInputError, match="no such store"):
        run_models(tmp_path / "missing.duckdb", [model])
    with pytest.raises(RunInputError, match="the same model was given twice: test-vv"):
        run_models(db, [model, model])
    empty = tmp_path / "empty.duckdb"
    Store.open(empty).close()
    with pytest.raises(RunInputError, match="the person_month panel is empty; load register extracts first"):
        run_models(empty, [model])
    assert RunInProgressError.exit_code == 2
