"""Benchmark of monitoring: the three shipped models on a 10-million-row person-month panel.

    python benchmarks/bench_monitoring.py [--rows 10000000] [--keep DIR] [--release-repeat 5]

Generates the panel (36 months, ~30 centres) and proportional participation, survey,
application and cost tables directly in DuckDB, then prints:

* the time of a full ``tiltak monitor run`` of the three models (every indicator, all
  36 months, every disaggregation, quality checks and the write) -- target under 15 s on
  a 2-core machine;
* the time of the compiled SQL for the indicators that read the panel, against *one*
  hand-written DuckDB query computing the same numbers (checked equal), and their ratio
  (aim: below 1.5);
* the release decision alone (disclosure control over every cell of the three models, as
  ``monitor run`` decides it), its exact audit on one BLAS thread (as shipped) alternated
  with the BLAS library's default threads, median wall and CPU seconds of
  ``--release-repeat`` rounds, their ratio, and a check that both suppress the same cells
  (a hash of the sorted keys). Its cost depends on the number of published cells, not on
  the rows: ``--rows 1000000`` gives the same cells as 10 M.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MODELS = [ROOT / "models" / f for f in ("veien-videre.yaml", "kvalifisering-lokal.yaml", "kvalifisering-nasjonal.yaml")]
MONTHS = 36

PANEL = """
INSERT INTO person_month
WITH people AS (
  SELECT i, (hash(i, 'start') % 1000000007)::BIGINT % 30 AS first_m, 6 + (hash(i, 'len') % 1000000007)::BIGINT % 30 AS stay,
         'C' || lpad(CAST(1 + (hash(i, 'centre') % 1000000007)::BIGINT % 30 AS VARCHAR), 3, '0') AS centre,
         ['AFG','IRQ','SOM','ERI','ETH','IRN','RUS','SYR','NGA'][1 + (hash(i, 'nat') % 1000000007)::BIGINT % 9] AS nat,
         CASE WHEN (hash(i, 'sex') % 1000000007)::BIGINT % 4 = 0 THEN 'female' ELSE 'male' END AS sex,
         ['single','with_children','couple'][1 + (hash(i, 'hh') % 1000000007)::BIGINT % 3] AS hh,
         1950 + (hash(i, 'birth') % 1000000007)::BIGINT % 45 AS birth,
         ['VV','KVL','KVN'][1 + (hash(i, 'measure') % 1000000007)::BIGINT % 3] AS m_code,
         (hash(i, 'takes') % 1000000007)::BIGINT % 5 = 0 AS takes, 3 + (hash(i, 'mstart') % 1000000007)::BIGINT % 20 AS m_start
  FROM range($persons) t(i)
)
SELECT 'P' || i, make_date(2012 + (m // 12)::INT, (m % 12 + 1)::INT, 1), printf('%04d-%02d', 2012 + m // 12, m % 12 + 1),
       centre, 'ordinary', 'R' || ((hash(centre) % 1000000007)::BIGINT % 5), 'M', nat, 'low', false, sex, hh,
       (2012 + m // 12 - birth)::INT,
       CASE WHEN 2012 + m // 12 - birth < 25 THEN '18-24' WHEN 2012 + m // 12 - birth < 35 THEN '25-34'
            WHEN 2012 + m // 12 - birth < 45 THEN '35-44' WHEN 2012 + m // 12 - birth < 55 THEN '45-54' ELSE '55+' END,
       (hash(i, 'dub') % 1000000007)::BIGINT % 10 = 0, (hash(i, 'id') % 1000000007)::BIGINT % 2 = 0, false, NULL, NULL,
       (m - first_m + (hash(i, 'dec') % 1000000007)::BIGINT % 12)::INT, (m - first_m)::INT,
       CASE WHEN takes AND m - first_m BETWEEN m_start AND m_start + 5 THEN m_code END,
       takes AND m - first_m BETWEEN m_start AND m_start + 5, takes AND m - first_m = m_start,
       CASE WHEN m = first_m + stay - 1 THEN ['assisted_return','forced_return','unknown_address','permit'][1 + (hash(i, 'exit') % 1000000007)::BIGINT % 4] END,
       (hash(i, m, 'applied') % 1000000007)::BIGINT % 40 = 0
FROM people, range(first_m, least(first_m + stay, $months)) r(m)
"""

SIDE_TABLES = [
    """INSERT INTO participation SELECT person_id, measure, min(month) + INTERVAL 3 DAY, NULL, 8, ((hash(person_id) % 1000000007)::BIGINT % 9)::INT,
       (hash(person_id) % 1000000007)::BIGINT % 2 = 0, NULL FROM person_month WHERE enrolled GROUP BY person_id, measure""",
    """INSERT INTO surveys (person_id, survey_date, instrument, total)
       SELECT p.person_id, p.start_date + INTERVAL (k * 90) DAY, ins, 1 + ((hash(p.person_id, k, ins) % 1000000007)::BIGINT % 300) / 100
       FROM participation p, range(3) t(k), (VALUES ('hscl10'), ('mi_importance'), ('mi_confidence')) v(ins)
       WHERE p.start_date + INTERVAL (k * 90) DAY < DATE '2015-01-01'""",
    """INSERT INTO applications SELECT person_id, month + INTERVAL 9 DAY, 'assisted_return' FROM person_month WHERE applied""",
    """INSERT INTO costs SELECT m.code, 'C' || lpad(CAST(c AS VARCHAR), 3, '0'), printf('%04d-%02d', 2012 + k // 12, k % 12 + 1),
       1000 + (hash(m.code, c, k) % 1000000007)::BIGINT % 9000 FROM (VALUES ('VV'), ('KVL'), ('KVN')) m(code), range(1, 31) a(c), range(36) b(k)""",
    """INSERT INTO centres SELECT 'C' || lpad(CAST(c AS VARCHAR), 3, '0'), 'Centre ' || c, 'ordinary', 'R' || (c % 5), 'M'
       FROM range(1, 31) t(c)""",
]

HAND_QUERY = """
SELECT year(month) * 12 + month(month) - 1 AS p,
       grouping(measure) AS g_m, grouping(centre_id) AS g_c, grouping(region) AS g_r, grouping(nationality) AS g_n,
       grouping(sex) AS g_s, grouping(age_band) AS g_a, grouping(household) AS g_h,
       measure, centre_id, region, nationality, sex, age_band, household,
       count(*) AS n,
       count(*) FILTER (WHERE months_since_decision >= 24) AS long_stay,
       count(*) FILTER (WHERE exit_type = 'unknown_address') AS unknown_address,
       count(*) FILTER (WHERE applied) AS applied,
       count(*) FILTER (WHERE exit_type = 'assisted_return') AS assisted,
       -- one panel row per person and month: persons in a month are rows
       count(*) FILTER (WHERE participating) AS participants,
       count(*) FILTER (WHERE enrolled) AS new_participants
FROM person_month
WHERE month < $end
GROUP BY GROUPING SETS ((p), (p, centre_id), (p, region), (p, nationality), (p, sex), (p, age_band), (p, household), (p, measure),
                        (p, measure, centre_id), (p, measure, region), (p, measure, nationality), (p, measure, sex),
                        (p, measure, age_band), (p, measure, household))
"""


def build(db: Path, rows: int) -> None:
    from monitoring.store import Store

    persons = int(rows / 16.6)  # ~16.6 months in the panel per person with these draws
    with Store.open(db) as store:
        con = store.connect()
        con.execute(PANEL, {"persons": persons, "months": MONTHS})
        for statement in SIDE_TABLES:
            con.execute(statement)
        con.execute("INSERT INTO loads VALUES (1, TIMESTAMP '2015-01-05 08:00', 'bench', 'persons', 'x', 1, 'h', 'loaded', NULL, NULL, NULL, NULL)")
        print(f"panel rows: {con.execute('SELECT count(*) FROM person_month').fetchall()[0][0]:,}")


def _forget_runs(db: Path) -> None:
    from monitoring.store import Store

    with Store.open(db) as store:
        con = store.connect()
        names = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        for table in ("monitoring_runs", "monitoring_values", "monitoring_periods", "monitoring_computations", "monitoring_quality"):
            if table in names:
                con.execute(f"DELETE FROM {table}")


def timed(label: str, fn):
    start = time.perf_counter()
    value = fn()
    seconds = time.perf_counter() - start
    print(f"{label}: {seconds:.2f} s")
    return seconds, value


def panel_only(models):
    from monitoring.monitored import MonitoredModel

    out = []
    for m in models:
        specs = tuple(s for s in m.specs if all(a is None or a.source == "person_month" for a in (s.numerator, s.denominator)))
        out.append(MonitoredModel(m.id, m.path, m.measure, m.start_month, m.end_month, specs, m.targets, m.thresholds))
    return out


def check_equal(hand_rows, mine) -> int:
    """Compare my participants (per measure) and long_stay_share (by centre) with the hand-written query's."""
    scoped_total = {(r[0], r[8]): r for r in hand_rows if r[1] == 0 and r[2:8] == (1,) * 6}
    by_centre = {(r[0], r[9]): r for r in hand_rows if r[1] == 1 and r[2] == 0}
    checked = 0
    for model, rows in mine:
        for (spec_id, p, dim, group), (num, den) in rows.items():
            if spec_id == "participants" and dim == "total":
                assert scoped_total[(p, model.measure)][20] == num, (model.id, p)
                checked += 1
            if spec_id == "long_stay_share" and dim == "centre":
                hand = by_centre[(p, group)]
                assert (hand[16], hand[15]) == (num, den), (p, group)
                checked += 1
    assert checked > 0
    return checked


def compute_mine(con, models, last_month):
    """Compile and execute the plan of every indicator of ``models`` (all periods)."""
    from monitoring.runs import end_dates
    from monitoring.sqlcompile import compile_plan, execute_plan, index_of_date

    items, owners = [], []
    for m in models:
        start = dt.date(m.start_month // 12, m.start_month % 12 + 1, 1)
        for spec in m.specs:
            items.append((spec, m.measure, index_of_date(start, spec.grain)))
            owners.append(m)
    results = execute_plan(con, compile_plan(items, end_dates(last_month)))
    out = {}
    for owner, (query, rows) in zip(owners, results):
        out.setdefault(owner.id, (owner, {}))[1].update({(query.spec.id, r[0], r[1], r[2]): (r[3], r[4]) for r in rows})
    return list(out.values())


def _decide_once(current, earlier, threads_limited: bool) -> tuple[float, float, str]:
    """(wall s, CPU s, hash of the suppressed cells) of one release decision."""
    from monitoring import disclosure
    from monitoring.release import decide, suppressed_cells

    shipped = disclosure.one_blas_thread
    if not threads_limited:
        disclosure.one_blas_thread = contextlib.nullcontext  # the library's default threads
    try:
        wall, cpu = time.perf_counter(), time.process_time()
        hidden = decide(current, earlier)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    finally:
        disclosure.one_blas_thread = shipped
    keys = "\n".join(sorted(map(repr, suppressed_cells(current, hidden))))
    return wall, cpu, hashlib.sha256(keys.encode()).hexdigest()[:16]


def release_timing(db: Path, models, repeat: int) -> None:
    """The release decision of the stored values, one BLAS thread against the default, alternated."""
    from monitoring.release import current_tables
    from monitoring.store import Store

    with Store.open(db, read_only=True, migrate=False) as store:
        current = current_tables(store.connect(), models)
    print(f"release decision: {sum(len(t.rows) for t in current):,} cells of {len(current)} indicators, "
          f"{repeat} alternated rounds (load average {os.getloadavg()[0]:.2f})")
    runs: dict[bool, list] = {True: [], False: []}
    for _round in range(repeat):
        for limited in (True, False):
            runs[limited].append(_decide_once(current, [], limited))
    for limited, label in ((True, "one BLAS thread (shipped)"), (False, "BLAS default threads")):
        wall = statistics.median(r[0] for r in runs[limited])
        cpu = statistics.median(r[1] for r in runs[limited])
        print(f"  {label:28s} median {wall:7.2f} s wall {cpu:7.2f} s CPU; suppressed cells {runs[limited][0][2]}")
    ratio = statistics.median(r[0] for r in runs[False]) / statistics.median(r[0] for r in runs[True])
    same = len({r[2] for rs in runs.values() for r in rs}) == 1
    print(f"  ratio default / one thread: {ratio:.2f}; the same cells suppressed in every round: {same}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--keep", type=Path, help="Folder to keep the store in (default: a temporary folder).")
    parser.add_argument("--reuse", action="store_true", help="Reuse the registers of an earlier --keep run.")
    parser.add_argument("--release-repeat", type=int, default=5, help="Rounds of the release decision timing.")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-monitoring-"))
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "bench.duckdb"
    print(f"cores: {os.cpu_count()}; store: {db}")
    if args.reuse and db.exists():
        _forget_runs(db)
    else:
        for path in (db, Path(str(db) + ".wal")):
            if path.exists():
                path.unlink()
        timed("generate the registers in DuckDB", lambda: build(db, args.rows))

    from monitoring.monitored import load_monitored_model
    from monitoring.runs import run_models
    from monitoring.store import Store

    models = [load_monitored_model(p) for p in MODELS]
    total_indicators = sum(len(m.specs) for m in models)
    full, result = timed(f"tiltak monitor run, 3 models, {total_indicators} indicators, 36 months, all disaggregations "
                         "(compute + quality + write)", lambda: run_models(db, models, as_of=dt.date(2015, 1, 5)))
    print(f"  stored {len(result.computed)} indicator periods; target < 15 s: {'met' if full < 15 else 'NOT met'}")

    subset = panel_only(models)
    with Store.open(db) as store:
        con = store.connect()
        last = 2014 * 12 + 11
        mine_s, mine = timed(f"compiled SQL, the {sum(len(m.specs) for m in subset)} panel indicators of the 3 models",
                             lambda: compute_mine(con, subset, last))
        hand_s, hand = timed("one hand-written DuckDB query computing the same numbers",
                             lambda: con.execute(HAND_QUERY, {"end": dt.date(2015, 1, 1)}).fetchall())
        print(f"  values checked equal: {check_equal(hand, mine)}")
    print(f"ratio compiled / hand-written: {mine_s / hand_s:.2f} (aim < 1.5)")
    release_timing(db, models, args.release_repeat)
    print(f"cores: {os.cpu_count()}; load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
