"""Filters are screened and bound against the contract; problems are pinned to YAML lines."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from monitoring.expressions import ExpressionError as FilterError
from monitoring.expressions import bind, parse
from monitoring.filters import check_catalogue
from monitoring.monitored import ModelInputError, load_monitored_model
from model_texts import monitored_model

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "models" / "indicators.yaml"

MODEL = monitored_model("test-model", "INDICATORS")


class _Binder:
    @staticmethod
    def expression_type(source, expression):
        return bind(expression, source, None).type


@pytest.fixture(scope="module")
def binder():
    return _Binder()


@pytest.mark.parametrize("source, expression", [
    ("person_month", "exit_type = 'assisted_return'"),
    ("person_month", "enrolled"),
    ("person_month", "months_since_decision >= 24 AND sex IN ('male', 'female')"),
    ("surveys", "instrument = 'hscl10' AND total IS NOT NULL"),
    ("participation", "end_date IS NOT NULL AND coalesce(sessions_planned, 0) > 0"),
    ("costs", "period >= '2012-01'"),
    ("person_month", "month >= DATE '2012-06-01' AND lower(nationality) LIKE 'a%'"),
    ("person_month", "note = 'a;b -- c'" .replace("note", "region")),  # ';' and '--' inside a string are text
    ("person_month", "exit_type IS DISTINCT FROM 'permit'"),
    ("person_month", "extract(year FROM month) = 2012"),
])
def test_good_filters_bind_as_boolean(binder, source, expression):
    assert binder.expression_type(source, expression) == "BOOLEAN"


@pytest.mark.parametrize("source, expression, fragment", [
    ("person_month", "exit_typ = 'x'", "unknown column 'exit_typ' in source 'person_month'; did you mean 'exit_type'? expected one of person_id"),
    ("surveys", "sex = 'male'", "unknown column 'sex' in source 'surveys'"),
    ("person_month", "age > 'abc'", "Could not convert string 'abc'"),
    ("person_month", "sex > 3", "Cannot compare values of type VARCHAR"),
    ("person_month", "age >", "SQL syntax error"),
    ("person_month", "1 = 1; DROP TABLE persons", "';' is not allowed"),
    ("person_month", "age > 3 -- drop", "comments are not allowed"),
    ("person_month", "age > 3 /* x */", "comments are not allowed"),
    ("person_month", "person_id IN (SELECT person_id FROM persons)", "a query (SELECT, FROM, EXISTS, a subquery) is not allowed"),
    ("person_month", "EXISTS (FROM persons)", "is not allowed"),
    ("person_month", "person_id IN (FROM persons)", "a query"),
    ("person_month", "person_id IN ( from persons)", "a query"),
    ("person_month", "count(*) > 1", "aggregate functions (count, sum, ...) are not allowed"),
    ("person_month", "sum(age) > 100", "aggregate functions"),
    ("person_month", "row_number() OVER () = 1", "window functions (OVER) are not allowed"),
    ("person_month", "read_csv('/etc/passwd') IS NOT NULL", "function 'read_csv' is not allowed"),
    ("person_month", "read_parquet ('x.parquet') IS NULL", "function 'read_parquet' is not allowed"),
    ("person_month", "getenv('HOME') = ''", "function 'getenv' is not allowed"),
    ("person_month", "persons.sex = 'male'", "may use only columns of its own source; got a reference to 'persons'"),
    ("person_month", "", "expected a SQL expression as text"),
    ("person_month", "x" * 3000, "expected at most 2000"),
])
def test_bad_filters_get_one_clear_message(binder, source, expression, fragment):
    with pytest.raises(FilterError) as err:
        binder.expression_type(source, expression)
    assert fragment in str(err.value)


def test_screen_rejects_non_text():
    with pytest.raises(FilterError, match="expected a SQL expression as text; got 42"):
        parse(42)


def test_binder_cannot_read_files(binder, tmp_path):
    secret = tmp_path / "secret.csv"
    secret.write_text("a\n1\n")
    with pytest.raises(FilterError):
        binder.expression_type("person_month", f"'{secret}' IN (FROM read_csv('{secret}'))")
    with pytest.raises(FilterError, match="read_csv"):
        binder.expression_type("person_month", f"read_csv('{secret}') IS NULL")


def _write_model(tmp_path: Path, catalogue_text: str, indicators: str) -> Path:
    (tmp_path / "indicators.yaml").write_text(catalogue_text, encoding="utf-8")
    path = tmp_path / "model.yaml"
    path.write_text(MODEL.replace("INDICATORS", indicators), encoding="utf-8")
    return path


def _line_of(text: str, needle: str, nth: int = 0) -> tuple[int, int]:
    lines = text.splitlines()
    hits = [(n + 1, line.index(needle) + 1) for n, line in enumerate(lines) if needle in line]
    return hits[nth]


def test_shipped_catalogue_binds_cleanly(tmp_path):
    text = CATALOGUE.read_text(encoding="utf-8")
    ids = [line.split("id:")[1].strip() for line in text.splitlines() if line.startswith("  - id:")]
    indicator_ids = [i for i in ids if "_within" not in i and not i.startswith(("assisted_return_", "any_return", "forced_return_",
                                                                                 "unknown_address_1", "application_6", "hscl10_change"))]
    model = load_monitored_model(_write_model(tmp_path, text, ", ".join(indicator_ids)))
    assert len(model.specs) == len(indicator_ids)


def test_unknown_column_in_a_filter_is_reported_at_its_yaml_line(tmp_path):
    text = CATALOGUE.read_text(encoding="utf-8")
    bad = text.replace('filter: "instrument = \'hscl10\' AND total IS NOT NULL"\n    unit: "mean item score"',
                       'filter: "instrument = \'hscl10\' AND totl IS NOT NULL"\n    unit: "mean item score"', 1)
    assert bad != text
    line, col = _line_of(bad, "totl IS NOT NULL")
    with pytest.raises(ModelInputError) as err:
        load_monitored_model(_write_model(tmp_path, bad, "hscl10_mean"))
    (message,) = err.value.problems
    index = [l for l in bad.splitlines() if l.startswith("  - id:")].index("  - id: hscl10_mean")
    assert message.startswith(f"{tmp_path / 'indicators.yaml'}:{line}:")
    assert f"error MON001 indicators.{index}.filter: indicator 'hscl10_mean': unknown column 'totl' in source 'surveys'" in message


def test_bad_numerator_filter_is_reported_at_the_numerator(tmp_path):
    text = CATALOGUE.read_text(encoding="utf-8")
    bad = text.replace("numerator: {type: count, filter: \"exit_type = 'forced_return'\"}",
                       "numerator: {type: count, filter: \"exit_type = 'forced_return'; DELETE FROM persons\"}", 1)
    assert bad != text
    line, _ = _line_of(bad, "DELETE FROM persons")
    with pytest.raises(ModelInputError) as err:
        load_monitored_model(_write_model(tmp_path, bad, "forced_returns_per_100"))
    (message,) = err.value.problems
    assert f"indicators.yaml:{line}:" in message
    assert ".numerator.filter: indicator 'forced_returns_per_100': ';' is not allowed" in message


def test_every_problem_is_listed_not_only_the_first(tmp_path):
    text = CATALOGUE.read_text(encoding="utf-8")
    bad = text.replace('condition: "participating"', 'condition: "participatin"', 1).replace(
        'condition: "months_since_decision >= 24"', 'condition: "months_since_decision + 24"', 1)
    with pytest.raises(ModelInputError) as err:
        load_monitored_model(_write_model(tmp_path, bad, "participation_share, long_stay_share"))
    assert len(err.value.problems) == 2
    assert "unknown column 'participatin'" in err.value.problems[0]
    assert "expected a boolean expression" in err.value.problems[1] and "INTEGER" in err.value.problems[1]


def test_summed_column_must_exist_and_be_numeric(tmp_path):
    text = CATALOGUE.read_text(encoding="utf-8")
    bad = text.replace("column: months_in_reception", "column: nationality", 1)
    with pytest.raises(ModelInputError) as err:
        load_monitored_model(_write_model(tmp_path, bad, "months_in_reception_mean"))
    assert "column 'nationality' of source 'person_month' is VARCHAR; expected a numeric column" in err.value.problems[0]


def test_unknown_indicator_in_the_model_names_the_options(tmp_path):
    path = _write_model(tmp_path, CATALOGUE.read_text(encoding="utf-8"), "participants, hscl_mean")
    with pytest.raises(ModelInputError) as err:
        load_monitored_model(path)
    assert f"{path}:12:30: error LM020 monitoring.indicators.1: unknown indicator 'hscl_mean'" in err.value.problems[0]


def test_check_catalogue_returns_issues_in_the_logicmodel_shape():
    from logicmodel.catalogue import Catalogue
    from logicmodel.issues import Issue

    head = {"title": "x", "unit": "u", "direction": "neutral"}
    catalogue = Catalogue.model_validate({"version": "1", "indicators": [
        {"id": "ok", "source": "person_month", "type": "count", "filter": "applied", **head},
        {"id": "bad", "source": "exits", "type": "count", "filter": "exit_kind = 'x'", **head},
    ]})
    issues = check_catalogue(catalogue, lambda path: ("cat.yaml", 3 + path[1], 7))
    assert issues == [Issue("cat.yaml", 4, 7, "error", "MON001", "indicators.1.filter",
                            "indicator 'bad': unknown column 'exit_kind' in source 'exits'; did you mean 'exit_date'? expected one of person_id, exit_date, exit_type")]


def test_an_indicator_listed_twice_and_targets_given_twice_are_refused(tmp_path):
    text = MODEL.replace("INDICATORS", "participants, participants") + (
        "  targets:\n"
        "    - {indicator: participants, values: [{period: \"2013-01\", value: 2}]}\n"
        "    - {indicator: participants, values: [{period: \"2014-01\", value: 3}]}\n"
        "    - {indicator: hscl10_mean, values: [{period: \"2013-01\", value: 2}]}\n")
    (tmp_path / "indicators.yaml").write_text(CATALOGUE.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "model.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ModelInputError) as err:
        load_monitored_model(tmp_path / "model.yaml")
    problems = err.value.problems  # the model rules of tiltak validate, the same on every path
    assert len(problems) == 2
    assert ":12:30: error LM021 monitoring.indicators.1: indicator 'participants' is listed twice" in problems[0]
    assert ":15:7: error LM021 monitoring.targets.1: indicator 'participants' is listed twice" in problems[1]
