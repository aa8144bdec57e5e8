"""The library API: loading, rules handed to validation, rules that crash."""

from __future__ import annotations

import pytest

from logicmodel.errors import DuplicateKeyError, FileUnreadableError, InvalidDocumentError, LogicModelError
from logicmodel.issues import Issue
from logicmodel.loading import load_bundle, load_catalogue, load_model
from logicmodel.rules import MODEL_RULES, RULES, Rule, all_rules, run_rules
from logicmodel.rules.registry import Finding, ModelContext, checked_rules, rule
from logicmodel.validation import validate_model, validate_paths
from logicmodel.yamlsource import Position, parse_yaml


def test_load_model_returns_the_model(workdir):
    model = load_model(workdir / "valid.yaml")
    assert model.id == "mini" and model.node("talks").level == "activity"
    with pytest.raises(Exception):
        model.__setattr__("id", "other")  # frozen


def test_load_bundle_holds_the_catalogue(workdir):
    bundle = load_bundle(workdir / "valid.yaml")
    assert bundle.catalogue.indicator("hscl10_mean").direction == "lower_is_better"
    assert bundle.catalogue_file.endswith("catalogue.yaml")


def test_load_model_raises_with_every_error(mutate):
    path = mutate("indicators: [hscl10_mean]", "indicators: [a_b, c_d]")
    with pytest.raises(InvalidDocumentError) as caught:
        load_model(path)
    assert caught.value.exit_code == 1
    assert [i.path for i in caught.value.issues] == ["nodes.1.indicators.0", "nodes.1.indicators.1"]


def test_load_catalogue_and_its_errors(workdir, mutate):
    assert load_catalogue(workdir / "catalogue.yaml").outcome("assisted_return_12m").months == 12
    mutate("version: \"1\"\n", "version: \"1\"\nversion: \"2\"\n", file="catalogue.yaml")
    with pytest.raises(LogicModelError) as caught:
        load_catalogue(workdir / "catalogue.yaml")
    assert "duplicate key 'version'" in str(caught.value)
    with pytest.raises(FileUnreadableError):
        load_catalogue(workdir / "none.yaml")


def test_loader_raises_typed_errors_with_positions():
    with pytest.raises(DuplicateKeyError) as caught:
        parse_yaml("a: 1\nb:\n  c: 1\n  c: 2\n", "x.yaml")
    error = caught.value
    assert (error.file, error.line, error.column, error.path) == ("x.yaml", 4, 3, "b")
    assert error.lines() == ["x.yaml:4:3: b: duplicate key 'c' (first at line 3, column 3); a key may appear only once in a mapping"]


def test_loader_keeps_dates_and_norway_as_strings():
    data = parse_yaml("d: 2012-06-01\nc: NO\nb: no\nt: 12:30\nn: 0o17\n").data
    assert data == {"d": "2012-06-01", "c": "NO", "b": "no", "t": "12:30", "n": 15}


def test_positions_of_keys_and_values():
    doc = parse_yaml("a:\n  - x: 1\n    y: [2, 3]\n")
    assert doc.position(("a", 0, "y", 1)) == Position(3, 12)
    assert doc.position(("a", 0, "y"), key=True) == Position(3, 5)
    assert doc.position(("a", 0, "y")) == Position(3, 8)
    assert doc.position(("a", 0, "missing")) == Position(2, 5)  # falls back to the parent


def test_a_rule_handed_to_validation_reports_at_catalogue_lines(workdir):
    @rule("MON01", "error", "no filters", scope="catalogue")
    def no_person_month_filters(ctx):
        for i, ind in enumerate(ctx.catalogue.indicators):
            if ind.filter:
                yield Finding(("indicators", i, "filter"), "filters are not allowed here")

    report = validate_paths([str(workdir / "valid.yaml")], rules=[*RULES, no_person_month_filters])
    assert [(i.rule, i.line, i.column, i.path) for i in report.issues] == [("MON01", 17, 13, "indicators.1.filter")]
    assert report.exit_code == 1


def test_a_crashing_rule_becomes_an_issue_named_by_its_id(workdir):
    @rule("XYZ01", "warning", "explodes on models")
    def broken(ctx):
        raise RuntimeError("boom")

    report = validate_paths([str(workdir / "valid.yaml")], rules=[*RULES, broken])
    assert [(i.rule, i.severity, i.message) for i in report.issues] == [
        ("XYZ01", "error", "rule 'explodes on models' crashed (RuntimeError: boom); please report this")]


def test_a_rule_listed_twice_is_refused():
    with pytest.raises(ValueError, match="rule LM002 \\(model\\) is listed twice"):
        checked_rules(RULES, RULES[:1])


def test_a_crashing_rule_becomes_an_issue_and_the_others_still_run(workdir):
    model = load_model(workdir / "valid.yaml")

    def explode(ctx):
        raise KeyError("nodes")

    rules = [Rule("LM900", "warning", "explodes", explode), *MODEL_RULES]
    results = run_rules(rules, ModelContext(model))
    assert results[0].rule == "LM900" and results[0].severity == "error"
    assert "crashed (KeyError" in results[0].finding.message


def test_validate_model_in_code_reports_rules_without_positions(workdir):
    model = load_model(workdir / "valid.yaml")
    broken = model.model_copy(update={"links": model.links[:1]})
    issues = validate_model(broken)
    assert Issue("<model>", 0, 0, "error", "LM006", "nodes.3.id", "node 'fewer_stays' has no link in or out; link it or remove it") in issues


def test_rule_ids_are_unique_and_documented():
    from pathlib import Path

    from tiltak.rules import DEFAULT_RULES

    ids = [r.id for r in all_rules()]
    assert len(ids) == len(set(ids)) and len(ids) >= 25
    text = (Path(__file__).resolve().parents[2] / "docs" / "rules.md").read_text(encoding="utf-8")
    for rule_id in {r.id for r in DEFAULT_RULES} | {"LM000", "LM001", "LM012", "LM019", "LM099"}:
        assert f"## {rule_id}" in text, rule_id


def test_tabs_inside_text_are_fine_but_not_in_indentation():
    assert parse_yaml("a: |\n  x\n  \ty\nb: \"p\tq\"\n").data == {"a": "x\n\ty\n", "b": "p\tq"}
    with pytest.raises(LogicModelError) as caught:
        parse_yaml("a:\n  - x\n\t- y\n", "t.yaml")
    assert str(caught.value) == "t.yaml:3:1: tab character in indentation; YAML indentation must use spaces"
    with pytest.raises(LogicModelError) as caught:
        parse_yaml("a: |\n  x\n  \tcode\nc: 1\nb: [1,\n", "t.yaml")
    assert "invalid YAML" in str(caught.value)
