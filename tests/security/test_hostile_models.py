"""Hostile SQL in model files: every command refuses it the same way, before anything runs.

Catalogue filters and the ``subgroup`` of an expected change go through one module
(:mod:`monitoring.expressions`); ``tiltak validate``, ``tiltak monitor check``,
``tiltak monitor run`` and ``tiltak estimate`` print the same lines for the same files.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from monitoring.expressions import ExpressionError, bind, parse, quote_identifier, quote_literal, render

ROOT = Path(__file__).resolve().parents[2]

HOSTILE = [
    # (expression, fragment of the reason)
    ("TRUE OR (SELECT count(*) FROM read_csv('/some/file.csv')) > 0", "a query (SELECT, FROM, EXISTS, a subquery)"),
    ("participating AND random() < 0.5", "function 'random' is not allowed: its result changes from run to run"),
    ("now() > month", "function 'now'"),
    ("current_date > month", "function 'current_date'"),
    ("uuid() IS NOT NULL", "function 'uuid'"),
    ("gen_random_uuid() IS NOT NULL", "its result changes from run to run"),
    ("CASE WHEN participating AND health_issue THEN error(person_id) ELSE participating END",
     "function 'error' is not allowed: it raises an error that carries data"),
    ("CAST(nullif(person_id, '') AS INTEGER) > 0", "CAST(... AS INT) of a column or expression is not allowed"),
    ("TRY_CAST(person_id AS INTEGER) > 0", "TRY_CAST is not allowed"),
    ("person_id::INTEGER > 0", "of a column or expression is not allowed"),
    ("participating; DROP TABLE persons", "';' is not allowed"),
    ("participating -- comment", "comments are not allowed"),
    ("EXISTS (SELECT 1)", "a query"),
    ("person_id IN (FROM persons)", "a query"),
    ("getenv('HOME') = ''", "function 'getenv'"),
    ("read_text('/etc/passwd') IS NOT NULL", "function 'read_text'"),
    ("current_setting('threads') = '1'", "function 'current_setting'"),
    ("glob('/*') IS NOT NULL", "function 'glob'"),
    ("count(*) > 1", "aggregate functions"),
    ("row_number() OVER () = 1", "window functions"),
    ("$1 = 1", "parameters"),
    ("persons.sex = 'male'", "may use only columns of its own source"),
    ("household = 'family'", "'family' is not a code of column 'household' in source 'person_month'; expected one of "
                             "'single', 'with_children', 'couple'"),
    ("exit_type IN ('assisted_return', 'voluntary')", "'voluntary' is not a code of column 'exit_type'"),
    ("age > 'abc'", "type error"),
    ("age + 1", "expected a boolean expression"),
]


@pytest.mark.parametrize("expression, fragment", HOSTILE)
def test_the_expression_module_refuses_hostile_expressions_with_a_reason(expression, fragment):
    with pytest.raises(ExpressionError) as caught:
        bind(expression, "person_month")
    assert fragment in caught.value.reason
    assert "Traceback" not in caught.value.reason


@pytest.mark.parametrize("expression", [
    "exit_type = 'assisted_return'", "months_since_decision >= 24 AND sex IN ('male', 'female')",
    "exit_type IS DISTINCT FROM 'permit'", "extract(year FROM month) = 2012", "NOT coalesce(health_issue, FALSE)",
    "month >= DATE '2012-06-01'", "lower(nationality) LIKE 'a%'", "age BETWEEN 18 AND 24 OR age_band = '55+'",
    "CASE WHEN dublin THEN age > 30 ELSE age > 40 END", "abs(months_in_reception - 12) <= 3",
    "region = 'it''s'",
])
def test_rendering_from_the_tree_means_what_was_written(expression):
    """The SQL that runs is rendered from the screened tree; on the same rows it gives the same values."""
    import duckdb

    con = duckdb.connect()
    from monitoring.contract import PANEL_COLUMNS

    con.execute("CREATE TABLE person_month (" + ", ".join(f"{quote_identifier(n)} {t}" for n, t, _ in PANEL_COLUMNS) + ")")
    con.execute("INSERT INTO person_month (month, age, age_band, sex, exit_type, nationality, region, dublin, health_issue, "
                "months_since_decision, months_in_reception) SELECT DATE '2011-01-01' + INTERVAL (i) MONTH, 15 + i, "
                "CASE WHEN i % 2 = 0 THEN '55+' ELSE '18-24' END, CASE WHEN i % 3 = 0 THEN 'male' ELSE 'female' END, "
                "CASE WHEN i % 4 = 0 THEN 'permit' WHEN i % 4 = 1 THEN 'assisted_return' END, "
                "CASE WHEN i % 2 = 0 THEN 'AFG' ELSE 'IRQ' END, CASE WHEN i = 3 THEN 'it''s' ELSE 'west' END, "
                "i % 2 = 0, CASE WHEN i % 5 = 0 THEN NULL ELSE i % 3 = 0 END, i, 2 * i FROM range(60) t(i)")
    bound = bind(expression, "person_month")
    as_written = con.execute(f"SELECT ({expression}) FROM person_month ORDER BY month").fetchall()
    rendered = con.execute(f"SELECT ({bound.sql()}) FROM person_month ORDER BY month").fetchall()
    assert as_written == rendered
    assert render(expression, "person_month") == bound.sql()
    assert bind(bound.sql(), "person_month").sql() == bound.sql()  # rendering is stable


def test_quoting_has_one_place():
    assert quote_identifier('we"ird') == '"we""ird"'
    assert quote_literal("it's") == "'it''s'"
    assert quote_literal(None) == "NULL" and quote_literal(True) == "TRUE" and quote_literal(3) == "3"
    text = (ROOT / "monitoring" / "sqlcompile.py").read_text() + (ROOT / "monitoring" / "load_types.py").read_text()
    assert ".replace('\"', '\"\"')" not in text and ".replace(\"'\", \"''\")" not in text


def test_parse_keeps_the_tree_for_other_engines():
    tree = parse("exit_type = 'assisted_return' AND age >= 18")
    assert tree.sql(dialect="postgres") == "exit_type = 'assisted_return' AND age >= 18"


def test_an_analysis_connection_cannot_read_files(tmp_path):
    import duckdb

    from monitoring.store import Store

    secret = tmp_path / "secret.csv"
    secret.write_text("a\n1\n")
    with Store.open(tmp_path / "s.duckdb", analysis=True) as store:
        with pytest.raises(duckdb.Error, match="disabled by configuration"):
            store.connect().execute(f"SELECT * FROM read_csv('{secret}')")
        with pytest.raises(duckdb.Error, match="locked"):
            store.connect().execute("SET enable_external_access = true")


# ---- every command, the same lines ----------------------------------------------------------


def _models_with(tmp_path: Path, filter_text: str | None = None, subgroup: str | None = None,
                 duplicate_id: bool = False) -> Path:
    folder = tmp_path / "models"
    shutil.copytree(ROOT / "models", folder)
    if filter_text is not None:
        catalogue = folder / "indicators.yaml"
        text = catalogue.read_text()
        catalogue.write_text(text.replace('filter: "participating"\n', f'filter: "{filter_text}"\n', 1))
    if subgroup is not None:
        model = folder / "veien-videre.yaml"
        text = model.read_text()
        at = text.index("\n", text.index("  - id:", text.index("expected_changes:")))
        model.write_text(text[:at + 1] + f"    subgroup: \"{subgroup}\"\n" + text[at + 1:])
    if duplicate_id:
        model = folder / "kvalifisering-lokal.yaml"
        model.write_text(re.sub(r"(?m)^id: .*$", "id: veien-videre", model.read_text(), count=1))
    return folder


def tiltak(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tiltak", *args], capture_output=True, text=True, cwd=ROOT, timeout=300)


def _error_lines(text: str) -> list[str]:
    return sorted(line for line in text.splitlines() if ": error " in line)


@pytest.mark.parametrize("case", ["filter", "subgroup", "duplicate"])
def test_validate_check_run_and_estimate_refuse_the_same_files_with_the_same_lines(tmp_path, case):
    folder = _models_with(tmp_path,
                          filter_text="participating AND random() < 0.5" if case == "filter" else None,
                          subgroup="TRUE OR (SELECT count(*) FROM read_csv('/some/file.csv')) > 0"
                          if case == "subgroup" else None,
                          duplicate_id=case == "duplicate")
    models = [str(p) for p in sorted(folder.glob("*.yaml")) if p.name != "indicators.yaml"]
    db = str(tmp_path / "absent.duckdb")
    validate = tiltak("validate", str(folder))
    check = tiltak("monitor", "check", *models)
    run = tiltak("monitor", "run", *models, "--db", db)
    estimate = tiltak("estimate", *models, "--db", db)
    evaluate = tiltak("evaluate", *models, "--db", db, "--out", str(tmp_path / "out"))
    expected = _error_lines(validate.stdout)
    assert expected and validate.returncode == 1
    rule = {"filter": "MON001", "subgroup": "MON001", "duplicate": "LM012"}[case]
    assert all(f" {rule} " in line for line in expected), expected
    assert _error_lines(check.stdout) == expected and check.returncode == 1
    for result in (run, estimate, evaluate):
        assert result.returncode == 2, result.stderr
        assert _error_lines(result.stderr) == expected
        assert "Traceback" not in result.stderr
    assert not (tmp_path / "absent.duckdb").exists()


def test_a_database_error_at_run_time_is_reported_by_what_failed_not_by_its_values(tmp_path):
    """An expression that binds but fails on the data (an overflow quoting the values) stops the
    run with one line naming the indicators, and nothing of the data."""
    import duckdb

    folder = _models_with(tmp_path, filter_text="age * age * age * age * age * age * age > 0")
    db = tmp_path / "s.duckdb"
    made = tiltak("synth", "--db", str(db), "--scale", "0.1", "--months", "12", "--seed", "5")
    assert made.returncode == 0, made.stderr
    before = (db.stat().st_size, db.read_bytes()[:4096])
    result = tiltak("monitor", "run", str(folder / "veien-videre.yaml"), "--db", str(db))
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert "'participants'" in line and "the database failed (OutOfRangeException)" in line
    assert "its message is not shown" in line and "the store was not changed" in line
    assert not re.search(r"\d+ \* \d+", line)
    con = duckdb.connect(str(db), read_only=True)
    ages = {str(r[0]) for r in con.execute("SELECT DISTINCT age FROM person_month").fetchall()}
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    con.close()
    assert not any(f"({a} *" in line for a in ages)
    assert "monitoring_values" not in tables or before[0] == db.stat().st_size


def test_an_unexpected_error_prints_where_it_happened_but_not_its_message():
    code = ("import sys; sys.argv = ['tiltak', 'validate', 'x']\n"
            "import tiltak.cli as cli\n"
            "def boom(*a, **k): raise KeyError('0001d9fb-a-pseudonym')\n"
            "cli.cli.main = boom\n"
            "cli.main()\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 1
    assert "0001d9fb" not in result.stderr
    assert "KeyError: an unexpected error" in result.stderr and "line" in result.stderr


def test_types_decided_without_a_database_are_the_types_duckdb_gives():
    """The plainest expressions are typed in Python (validate needs no database for the shipped
    catalogue); every such decision must be DuckDB's, and everything else goes to DuckDB."""
    from monitoring import expressions
    from monitoring.expressions import parse, plain_type, source_columns

    binder = expressions._binder()
    literals = ["'single'", "3", "1.85", "TRUE", "NULL", "-2"]
    decided = 0
    for source in ("person_month", "surveys", "costs"):
        columns = source_columns(source)
        picks = {t: c for c, t in columns.items()}  # one column of each type
        names = list(picks.values())
        candidates = []
        for c in names:
            candidates += [c, f"{c} IS NULL", f"NOT {c} IS NULL", f"{c} LIKE 'a%'", f"{c} BETWEEN 1 AND 2"]
            for op in ("=", "<>", ">", "<=", "IS DISTINCT FROM"):
                candidates += [f"{c} {op} {lit}" for lit in literals] + [f"{c} {op} {d}" for d in names]
            candidates += [f"{c} IN ({', '.join(literals[:3])})", f"{c} IN ('a', 'b')", f"{c} IN (1, 2)"]
        candidates += [f"({a}) AND ({b})" for a, b in zip(candidates[::7], candidates[3::7])]
        candidates += [f"NOT ({a}) OR {b}" for a, b in zip(candidates[::11], candidates[5::11])]
        for text in candidates:
            typ = plain_type(parse(text), columns)
            if typ is None:
                continue
            decided += 1
            assert binder._describe(source, parse(text).sql(dialect="duckdb", identify=True)) == typ, text
    assert decided > 100
