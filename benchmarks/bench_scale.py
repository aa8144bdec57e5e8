"""Monitoring at scale: the three shipped models on a synthetic panel generated in the engine.

    python benchmarks/bench_scale.py --rows 100000000 --engines duckdb,spark [--keep DIR]

For each engine, generates a person-month panel of ``--rows`` rows (36 months, ~30
centres, three measures) with participation, surveys, applications and costs *inside the
engine* (DuckDB SQL into a store; Spark SQL written as Parquet), then times a full
``tiltak monitor run`` of the three models there (every indicator, all periods, every
disaggregation; the aggregates come back into a local store, which also decides the
release). Spark runs in local mode with 2 worker threads. Prints the figures and the
ratio Spark / DuckDB; /usr/bin/time -v around the script gives the peak memory.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

MONTHS = 36
AS_OF = dt.date(2015, 1, 5)

SPARK_PANEL = """
WITH people AS (
  SELECT id AS i, pmod(hash(id, 'start'), 1000000007) % 30 AS first_m, 6 + pmod(hash(id, 'len'), 1000000007) % 30 AS stay,
         concat('C', lpad(CAST(1 + pmod(hash(id, 'centre'), 1000000007) % 30 AS STRING), 3, '0')) AS centre,
         element_at(array('AFG','IRQ','SOM','ERI','ETH','IRN','RUS','SYR','NGA'), CAST(1 + pmod(hash(id, 'nat'), 1000000007) % 9 AS INT)) AS nat,
         CASE WHEN pmod(hash(id, 'sex'), 1000000007) % 4 = 0 THEN 'female' ELSE 'male' END AS sex,
         element_at(array('single','with_children','couple'), CAST(1 + pmod(hash(id, 'hh'), 1000000007) % 3 AS INT)) AS hh,
         1950 + pmod(hash(id, 'birth'), 1000000007) % 45 AS birth,
         element_at(array('VV','KVL','KVN'), CAST(1 + pmod(hash(id, 'measure'), 1000000007) % 3 AS INT)) AS m_code,
         pmod(hash(id, 'takes'), 1000000007) % 5 = 0 AS takes, 3 + pmod(hash(id, 'mstart'), 1000000007) % 20 AS m_start,
         pmod(hash(id, 'dec'), 1000000007) % 12 AS dec, pmod(hash(id, 'dub'), 1000000007) % 10 = 0 AS dub,
         pmod(hash(id, 'id'), 1000000007) % 2 = 0 AS idd,
         element_at(array('assisted_return','forced_return','unknown_address','permit'), CAST(1 + pmod(hash(id, 'exit'), 1000000007) % 4 AS INT)) AS ex
  FROM range({persons})
), months AS (
  SELECT p.*, m FROM people p LATERAL VIEW explode(sequence(CAST(first_m AS INT), CAST(least(first_m + stay, {months}) - 1 AS INT))) t AS m
)
SELECT concat('P', CAST(i AS STRING)) AS person_id, make_date(CAST(2012 + m DIV 12 AS INT), CAST(m % 12 + 1 AS INT), 1) AS month,
       concat(CAST(2012 + m DIV 12 AS STRING), '-', lpad(CAST(m % 12 + 1 AS STRING), 2, '0')) AS period,
       centre AS centre_id, 'ordinary' AS centre_type, concat('R', CAST(pmod(hash(centre), 1000000007) % 5 AS STRING)) AS region,
       'M' AS municipality, nat AS nationality, 'low' AS returnability, false AS return_agreement, sex, hh AS household,
       CAST(2012 + m DIV 12 - birth AS INT) AS age,
       CASE WHEN 2012 + m DIV 12 - birth < 25 THEN '18-24' WHEN 2012 + m DIV 12 - birth < 35 THEN '25-34'
            WHEN 2012 + m DIV 12 - birth < 45 THEN '35-44' WHEN 2012 + m DIV 12 - birth < 55 THEN '45-54' ELSE '55+' END AS age_band,
       dub AS dublin, idd AS identity_documented, false AS prior_absconding, CAST(NULL AS BOOLEAN) AS health_issue,
       CAST(NULL AS BOOLEAN) AS special_circumstances, CAST(m - first_m + dec AS INT) AS months_since_decision,
       CAST(m - first_m AS INT) AS months_in_reception,
       CASE WHEN takes AND m - first_m BETWEEN m_start AND m_start + 5 THEN m_code END AS measure,
       takes AND m - first_m BETWEEN m_start AND m_start + 5 AS participating, takes AND m - first_m = m_start AS enrolled,
       CASE WHEN m = first_m + stay - 1 THEN ex END AS exit_type, pmod(hash(i, m, 'applied'), 1000000007) % 40 = 0 AS applied
FROM months
"""

SPARK_SIDE = {
    "participation": """SELECT person_id, measure, date_add(min(month), 3) AS start_date, CAST(NULL AS DATE) AS end_date,
        8 AS sessions_planned, CAST(pmod(hash(person_id), 1000000007) % 9 AS INT) AS sessions_attended,
        pmod(hash(person_id), 1000000007) % 2 = 0 AS completed, CAST(NULL AS STRING) AS centre_id
        FROM person_month WHERE enrolled GROUP BY person_id, measure""",
    "surveys": """SELECT p.person_id, date_add(p.start_date, k * 90) AS survey_date, ins AS instrument,
        1 + (pmod(hash(p.person_id, k, ins), 1000000007) % 300) / 100.0 AS total
        FROM participation p LATERAL VIEW explode(sequence(0, 2)) a AS k
        LATERAL VIEW explode(array('hscl10', 'mi_importance', 'mi_confidence')) b AS ins
        WHERE date_add(p.start_date, k * 90) < DATE '2015-01-01'""",
    "applications": """SELECT person_id, date_add(month, 9) AS application_date, 'assisted_return' AS programme
        FROM person_month WHERE applied""",
    "costs": """SELECT code AS measure, concat('C', lpad(CAST(c AS STRING), 3, '0')) AS centre_id,
        concat(CAST(2012 + k DIV 12 AS STRING), '-', lpad(CAST(k % 12 + 1 AS STRING), 2, '0')) AS period,
        CAST(1000 + pmod(hash(code, c, k), 1000000007) % 9000 AS DOUBLE) AS amount_nok
        FROM (SELECT explode(array('VV', 'KVL', 'KVN')) AS code) LATERAL VIEW explode(sequence(1, 30)) a AS c
        LATERAL VIEW explode(sequence(0, 35)) b AS k""",
    "centres": """SELECT concat('C', lpad(CAST(c AS STRING), 3, '0')) AS centre_id, concat('Centre ', CAST(c AS STRING)) AS name,
        'ordinary' AS centre_type, concat('R', CAST(c % 5 AS STRING)) AS region, 'M' AS municipality
        FROM (SELECT explode(sequence(1, 30)) AS c)""",
}


def _ticks(pid: int) -> int:
    """User + system clock ticks of process ``pid`` (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def cpu_seconds() -> float:
    """CPU seconds (user + system) of this process and every living descendant (the Spark JVM
    and its Python workers), plus the children already waited for."""
    import resource

    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    me, tree = os.getpid(), set()
    for pid in parents:
        walk, seen = pid, 0
        while walk in parents and seen < 64:
            if parents[walk] == me:
                tree.add(pid)
                break
            walk, seen = parents[walk], seen + 1
    own = os.times()
    waited = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.user + own.system + waited.ru_utime + waited.ru_stime + sum(_ticks(p) for p in tree) / os.sysconf("SC_CLK_TCK")


def timed(label: str, fn):
    """Run ``fn``; print its wall time, the CPU seconds it took (this process and its
    descendants) and the load average before and after (the machine may be shared)."""
    load, cpu, start = os.getloadavg()[0], cpu_seconds(), time.perf_counter()
    value = fn()
    seconds = time.perf_counter() - start
    used = cpu_seconds() - cpu
    print(f"{label}: {seconds:.1f} s wall, {used:.1f} CPU s, load average {load:.1f} -> {os.getloadavg()[0]:.1f}",
          flush=True)
    return seconds, value


def models():
    from tiltak.loading import load_models

    return [loaded.monitored for loaded in load_models([str(ROOT / "models" / f) for f in (
        "veien-videre.yaml", "kvalifisering-lokal.yaml", "kvalifisering-nasjonal.yaml")])]


def compute_only(engine) -> float:
    """The engine's part of a run: every stage-A query and stage B of every indicator, all periods."""
    from monitoring.runs import end_dates
    from monitoring.sqlcompile import compile_plan, execute_plan, index_of_date

    items = []
    for m in models():
        start = dt.date(m.start_month // 12, m.start_month % 12 + 1, 1)
        items += [(spec, m.measure, index_of_date(start, spec.grain)) for spec in m.specs]
    plan = compile_plan(items, end_dates(2014 * 12 + 11))
    seconds, _ = timed(f"  of which the plan alone ({len(plan.queries)} engine queries, {len(plan.indicators)} indicators)",
                       lambda: execute_plan(engine, plan))
    return seconds


def duckdb_run(folder: Path, rows: int, plan_alone: bool = True) -> tuple[float, float | None]:
    from bench_monitoring import build

    from monitoring.runs import run_models

    db = folder / "scale.duckdb"
    for path in (db, Path(str(db) + ".wal")):
        if path.exists():
            path.unlink()
    timed(f"DuckDB: generate {rows:,} panel rows and the side tables", lambda: build(db, rows))
    seconds, result = timed("DuckDB: tiltak monitor run, 3 models (compute + quality + release + write)",
                            lambda: run_models(db, models(), as_of=AS_OF))
    print(f"  stored {len(result.computed)} indicator periods")
    from monitoring.store import Store

    if not plan_alone:
        return seconds, None
    with Store.open(db, read_only=True, migrate=False, analysis=True) as store:
        return seconds, compute_only(store.connect())


def spark_run(folder: Path, rows: int, memory: str, plan_alone: bool = True,
              reuse: bool = False) -> tuple[float, float | None]:
    from monitoring.engines.spark import SparkEngine
    from monitoring.runs import run_models

    spark = SparkEngine.session("local[2]", "tiltak-bench", {"spark.driver.memory": memory,
                                                             "spark.sql.shuffle.partitions": "16"})
    tables = folder / "spark-tables"
    persons = int(rows / 16.6)

    def generate():
        spark.sql(SPARK_PANEL.format(persons=persons, months=MONTHS)).write.mode("overwrite").parquet(str(tables / "person_month"))
        spark.read.parquet(str(tables / "person_month")).createOrReplaceTempView("person_month")
        for name in ("participation", "surveys", "applications", "costs", "centres"):
            spark.sql(SPARK_SIDE[name]).write.mode("overwrite").parquet(str(tables / name))
            spark.read.parquet(str(tables / name)).createOrReplaceTempView(name)
        return spark.read.parquet(str(tables / "person_month")).count()

    if reuse and (tables / "person_month").exists():
        for name in ("person_month", "participation", "surveys", "applications", "costs", "centres"):
            spark.read.parquet(str(tables / name)).createOrReplaceTempView(name)
        count = spark.read.parquet(str(tables / "person_month")).count()
        print(f"Spark: the panel and side tables of an earlier run reused from {tables}")
    else:
        _s, count = timed("Spark: generate the panel and the side tables (Parquet)", generate)
    print(f"  panel rows: {count:,}")
    engine = SparkEngine(spark, "spark://local[2]")
    engine.register(tables, panel=True)
    store = folder / "spark-results.duckdb"
    if store.exists():
        store.unlink()
    seconds, result = timed("Spark local[2]: tiltak monitor run, 3 models (compute in Spark; release and write local)",
                            lambda: run_models(store, models(), as_of=AS_OF, engine=engine, build_panel=False))
    print(f"  stored {len(result.computed)} indicator periods")
    plan = compute_only(engine) if plan_alone else None
    spark.stop()
    return seconds, plan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000_000)
    parser.add_argument("--engines", default="duckdb,spark")
    parser.add_argument("--spark-memory", default="12g", help="spark.driver.memory (local mode: the whole JVM)")
    parser.add_argument("--keep", type=Path, help="Folder for the generated data (default: a temporary folder).")
    parser.add_argument("--reuse", action="store_true",
                        help="Spark: reuse the Parquet tables an earlier run left in --keep DIR (no generation).")
    parser.add_argument("--no-plan-alone", action="store_true",
                        help="Skip the second timing of the engine's part alone (at 100 M rows it doubles Spark's time).")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-scale-"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"cores: {os.cpu_count()}; load average {os.getloadavg()[0]:.1f}; folder {folder}")
    figures = {}
    for engine in args.engines.split(","):
        run = duckdb_run if engine == "duckdb" else lambda f, r, p: spark_run(f, r, args.spark_memory, p, args.reuse)
        figures[engine] = run(folder, args.rows, not args.no_plan_alone)
    if {"duckdb", "spark"} <= set(figures):
        print(f"ratio of the full monitor run, Spark local[2] / DuckDB: {figures['spark'][0] / figures['duckdb'][0]:.1f}")
        if figures["duckdb"][1] is not None:
            print(f"ratio of the engine's part, Spark local[2] / DuckDB: {figures['spark'][1] / figures['duckdb'][1]:.1f}")


if __name__ == "__main__":
    main()
