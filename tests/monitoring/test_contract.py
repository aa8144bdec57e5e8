"""The contract module: the architecture's names, the migrated schema, the docs, cheap import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb

from monitoring.contract import (
    CONTRACT,
    PANEL_COLUMNS,
    REQUIRED_TABLES,
    SPECIAL_CATEGORY_COLUMNS,
)
from monitoring.store import Store

ROOT = Path(__file__).resolve().parents[2]

# docs/architecture.md, "Register data: the contract tables": (table, column, type, key)
ARCHITECTURE = {
    "nationalities": [("nationality", "VARCHAR", True), ("name", "VARCHAR", False),
                      ("returnability", "VARCHAR", False), ("return_agreement_from", "DATE", False)],
    "persons": [("person_id", "VARCHAR", True), ("birth_year", "INTEGER", False), ("sex", "VARCHAR", False),
                ("nationality", "VARCHAR", False), ("household", "VARCHAR", False), ("dublin", "BOOLEAN", False),
                ("identity_documented", "BOOLEAN", False), ("prior_absconding", "BOOLEAN", False),
                ("health_issue", "BOOLEAN", False), ("special_circumstances", "BOOLEAN", False)],
    "centres": [("centre_id", "VARCHAR", True), ("name", "VARCHAR", False), ("centre_type", "VARCHAR", False),
                ("region", "VARCHAR", False), ("municipality", "VARCHAR", False)],
    "residence": [("person_id", "VARCHAR", True), ("centre_id", "VARCHAR", False), ("date_from", "DATE", True),
                  ("date_to", "DATE", False)],
    "decisions": [("person_id", "VARCHAR", True), ("decision_date", "DATE", True), ("case_type", "VARCHAR", False)],
    "participation": [("person_id", "VARCHAR", True), ("measure", "VARCHAR", True), ("start_date", "DATE", True),
                      ("end_date", "DATE", False), ("sessions_planned", "INTEGER", False),
                      ("sessions_attended", "INTEGER", False), ("completed", "BOOLEAN", False)],
    "applications": [("person_id", "VARCHAR", True), ("application_date", "DATE", True),
                     ("programme", "VARCHAR", False)],
    "exits": [("person_id", "VARCHAR", True), ("exit_date", "DATE", False), ("exit_type", "VARCHAR", False)],
    "surveys": [("person_id", "VARCHAR", True), ("survey_date", "DATE", True), ("instrument", "VARCHAR", True),
                ("total", "DOUBLE", False)] + [(f"item_{i:02d}", "DOUBLE", False) for i in range(1, 26)],
    "costs": [("measure", "VARCHAR", True), ("centre_id", "VARCHAR", True), ("period", "VARCHAR", True),
              ("amount_nok", "DOUBLE", False)],
}
CODES = {
    ("nationalities", "returnability"): ("high", "medium", "low"),
    ("persons", "sex"): ("male", "female"),
    ("persons", "household"): ("single", "with_children", "couple"),
    ("centres", "centre_type"): ("ordinary", "family", "health"),
    ("decisions", "case_type"): ("asylum", "dublin", "other"),
    ("applications", "programme"): ("assisted_return",),
    ("exits", "exit_type"): ("assisted_return", "independent_return", "forced_return", "unknown_address",
                             "permit", "other"),
    ("surveys", "instrument"): ("hscl10", "hscl25", "rhs13", "phq9", "mi_importance", "mi_confidence"),
}


def test_contract_holds_every_name_of_the_architecture():
    assert list(CONTRACT)[: len(ARCHITECTURE)] == list(ARCHITECTURE)
    for table, columns in ARCHITECTURE.items():
        for name, kind, key in columns:
            column = CONTRACT[table].column(name)
            assert (column.type, column.key) == (kind, key), (table, name)
    for (table, name), codes in CODES.items():
        assert CONTRACT[table].column(name).codes == codes


def test_special_category_columns_are_optional_and_flagged():
    assert "persons.health_issue" in SPECIAL_CATEGORY_COLUMNS
    assert "persons.special_circumstances" in SPECIAL_CATEGORY_COLUMNS
    for qualified in SPECIAL_CATEGORY_COLUMNS:
        table, name = qualified.split(".")
        assert CONTRACT[table].column(name).optional


def test_required_tables():
    assert REQUIRED_TABLES == ("nationalities", "persons", "centres", "residence", "decisions", "exits")


def test_migrated_schema_equals_the_contract(tmp_path):
    with Store.open(tmp_path / "s.duckdb") as store:
        con = store.connect()
        for table in CONTRACT.values():
            described = [(r[0], r[1]) for r in con.execute(f"DESCRIBE {table.name}").fetchall()]
            assert described == [(c.name, c.type) for c in table.columns], table.name
        described = [(r[0], r[1]) for r in con.execute("DESCRIBE person_month").fetchall()]
        assert described == [(n, t) for n, t, _ in PANEL_COLUMNS]


def test_importing_the_contract_is_cheap():
    code = ("import sys, monitoring.contract, monitoring.errors, monitoring.migrations\n"
            "heavy = {'duckdb', 'pandas', 'numpy', 'pyarrow'} & set(sys.modules)\n"
            "print(sorted(heavy))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.stdout.strip() == "[]", result.stderr


def test_user_docs_describe_every_table_and_column():
    text = (ROOT / "docs" / "data-contract.md").read_text()
    for table in CONTRACT.values():
        assert f"`{table.name}`" in text
        for column in table.columns:
            if not column.name.startswith("item_"):
                assert f"`{column.name}`" in text, (table.name, column.name)
        for column in table.columns:
            for code in column.codes or ():
                assert f"`{code}`" in text, code
    for name, _, _ in PANEL_COLUMNS:
        assert f"`{name}`" in text, name


def test_lazy_public_names():
    import monitoring

    assert monitoring.CONTRACT is CONTRACT
    assert monitoring.Store is Store
    for name in ("load_directory", "load_tables", "LoadReport", "build_panel", "register_migration"):
        assert callable(getattr(monitoring, name))
    assert isinstance(duckdb.__version__, str)
