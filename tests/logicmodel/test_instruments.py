"""Survey instruments beyond the built-in ones, declared by the catalogue: the rules, the
expressions that name them, and the loads that accept their rows.

One valid fixture, one mutation per case, the exact message.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from logicmodel.instruments import BUILTIN_INSTRUMENTS, InstrumentScale, instrument_scales
from monitoring.contract import INSTRUMENTS, contract_for

GOOD = Path(__file__).resolve().parents[1] / "monitoring" / "data_contract_fixtures" / "good"
TODAY = dt.date(2013, 1, 1)
DECLARED = """instruments:
  - id: return_knowledge
    title: "Kunnskap om retur"
    total: {min: 0, max: 8}
    meaning: "number right"
    items: 8
    item: {min: 0, max: 1}
indicators:"""
INDICATOR = """  - id: knowledge_mean
    title: "Kunnskap om retur"
    source: surveys
    type: mean
    column: total
    filter: "instrument = 'return_knowledge'"
    unit: "number right"
    direction: higher_is_better
outcomes:"""
OUTCOME = """  - id: knowledge_change_6m
    title: "Endring i kunnskap om retur"
    kind: survey_change
    instrument: return_knowledge
    months: 6
    unit: "number right"
    direction: higher_is_better
"""


def _declare(mutate, instruments: str = DECLARED) -> Path:
    mutate("indicators:", instruments, "catalogue.yaml")
    path = mutate("outcomes:", INDICATOR, "catalogue.yaml")
    with open(path, "a", encoding="utf-8") as out:
        out.write(OUTCOME)
    return path


def _errors(tiltak_main, workdir) -> tuple[int, list[str]]:
    code, out, err = tiltak_main("validate", str(workdir / "valid.yaml"))
    lines = [line.replace(str(workdir) + "/", "") for line in (out + err).splitlines()]
    return code, [line for line in lines if " error " in line or " warning " in line]


def test_the_built_in_instruments_are_defined_once_and_the_contract_derives_them():
    assert INSTRUMENTS == ("hscl10", "hscl25", "rhs13", "phq9", "mi_importance", "mi_confidence")
    assert INSTRUMENTS == tuple(BUILTIN_INSTRUMENTS)
    extra = {"return_knowledge": InstrumentScale(0, 8, 8, 0, 1, "number right")}
    surveys = contract_for(instrument_scales(extra))["surveys"]
    assert next(c for c in surveys.columns if c.name == "instrument").codes == (*INSTRUMENTS, "return_knowledge")
    with pytest.raises(ValueError, match="phq9: already a built-in instrument"):
        instrument_scales({"phq9": extra["return_knowledge"]})


def test_a_declared_instrument_can_be_filtered_on_and_measured(tiltak_main, mutate, workdir):
    _declare(mutate)
    assert _errors(tiltak_main, workdir) == (0, [])


def test_an_undeclared_instrument_is_refused_in_the_filter_and_in_the_outcome(tiltak_main, mutate, workdir):
    _declare(mutate, "indicators:")
    code, lines = _errors(tiltak_main, workdir)
    assert code == 1
    assert lines == [
        "catalogue.yaml:35:13: error MON001 indicators.3.filter: indicator 'knowledge_mean': 'return_knowledge' "
        "is not a code of column 'instrument' in source 'surveys'; expected one of 'hscl10', 'hscl25', 'rhs13', "
        "'phq9', 'mi_importance', 'mi_confidence'",
        "catalogue.yaml:55:17: error LM064 outcomes.2.instrument: unknown instrument 'return_knowledge'; expected "
        "one of 'hscl10', 'hscl25', 'rhs13', 'phq9', 'mi_importance', 'mi_confidence' (or declare it in "
        "'instruments')",
    ]


@pytest.mark.parametrize(("old", "new", "message"), [
    ("  - id: return_knowledge", "  - id: phq9",
     "catalogue.yaml:3:9: error LM064 instruments.0.id: 'phq9' is a built-in instrument; declare only new instruments"),
    ("total: {min: 0, max: 8}", "total: {min: 8, max: 0}",
     "catalogue.yaml:5:12: error LM064 instruments.0.total: total.min (8) must be below total.max (0)"),
    ("    item: {min: 0, max: 1}\n", "",
     "catalogue.yaml:3:5: error LM064 instruments.0: instrument 'return_knowledge' has 8 items but no 'item' "
     "range (item: {min: ..., max: ...})"),
    ("    items: 8\n", "",
     "catalogue.yaml:7:11: error LM064 instruments.0.item: 'item' needs 'items' (how many item scores the "
     "register holds)"),
    ("    items: 8\n", "    items: 30\n",
     "catalogue.yaml:7:12: error LM001 instruments.0.items: expected a number <= 25; got 30"),
])
def test_a_declaration_that_cannot_hold_is_refused(tiltak_main, mutate, workdir, old, new, message):
    _declare(mutate, DECLARED.replace(old, new))
    code, lines = _errors(tiltak_main, workdir)
    assert code == 1
    assert message in lines


def test_an_instrument_declared_twice_names_the_first(tiltak_main, mutate, workdir):
    twice = DECLARED.replace("indicators:", DECLARED.split("\n", 1)[1])
    _declare(mutate, twice)
    code, lines = _errors(tiltak_main, workdir)
    assert code == 1
    assert lines == ["catalogue.yaml:9:9: error LM064 instruments.1.id: instrument 'return_knowledge' is "
                     "declared twice (first at instruments.0)"]


def _extract(tmp_path: Path, rows: str) -> Path:
    folder = tmp_path / "extract"
    shutil.copytree(GOOD, folder)
    with open(folder / "surveys.csv", "a", encoding="utf-8") as out:
        out.write(rows)
    return folder


def test_a_load_accepts_the_declared_instrument_only_with_its_catalogue(tiltak_main, mutate, workdir, tmp_path):
    catalogue = _declare(mutate)
    folder = _extract(tmp_path, "P003,2012-05-02,return_knowledge,6,1,0\n")
    code, out, err = tiltak_main("load", "--db", str(tmp_path / "s.duckdb"), str(folder))
    assert code == 2
    assert ("surveys.csv:5:instrument: unknown code 'return_knowledge'; expected one of 'hscl10', 'hscl25', "
            "'rhs13', 'phq9', 'mi_importance', 'mi_confidence'") in err
    code, out, err = tiltak_main("load", "--db", str(tmp_path / "s.duckdb"), "--catalogue", str(catalogue),
                                 str(folder))
    assert code == 0, err
    import duckdb

    con = duckdb.connect(str(tmp_path / "s.duckdb"), read_only=True)
    try:
        assert con.execute("SELECT total FROM surveys WHERE instrument = 'return_knowledge'").fetchall() == [(6.0,)]
    finally:
        con.close()


@pytest.mark.parametrize(("row", "message"), [
    ("P003,2012-05-02,return_knowledge,9,1,0\n",
     "surveys.csv:5:total: total 9.0 is outside the range of return_knowledge (0 to 8, number right)"),
    ("P003,2012-05-02,return_knowledge,6,2,0\n",
     "surveys.csv:5:item_01: item_01 = 2.0 for return_knowledge: expected 0 to 1"),
])
def test_a_load_checks_the_declared_ranges(tiltak_main, mutate, workdir, tmp_path, row, message):
    catalogue = _declare(mutate)
    folder = _extract(tmp_path, row)
    code, _, err = tiltak_main("load", "--db", str(tmp_path / "s.duckdb"), "--catalogue", str(catalogue),
                               str(folder))
    assert code == 2
    assert message in err


def test_a_load_with_a_catalogue_that_has_errors_is_refused_before_reading(tiltak_main, mutate, workdir, tmp_path):
    catalogue = _declare(mutate, DECLARED.replace("total: {min: 0, max: 8}", "total: {min: 8, max: 0}"))
    code, _, err = tiltak_main("load", "--db", str(tmp_path / "s.duckdb"), "--catalogue", str(catalogue),
                               str(GOOD))
    assert code == 2
    assert "error LM064 instruments.0.total: total.min (8) must be below total.max (0)" in err
    assert not (tmp_path / "s.duckdb").exists()
