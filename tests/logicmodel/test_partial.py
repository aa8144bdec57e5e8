"""A schema error no longer hides the rules: they run on every part that passes the schema."""

from __future__ import annotations

from logicmodel.model import LogicModel
import pytest

from logicmodel.partial import Partial, UnparsedPart, partial
from logicmodel.yamlsource import load_yaml
from tests.logicmodel.test_mutations import rendered


def test_a_schema_error_and_a_rule_finding_in_other_parts_are_both_reported(mutate):
    mutate('version: "1.0"', "version: 1.0")
    path = mutate("    to: fewer_stays\n", "    to: fewer_stay\n")
    assert rendered(path) == [
        "valid.yaml:3:10: error LM001 version: expected a text; got 1.0 (write it in quotes: \"1.0\")",
        "valid.yaml:22:9: error LM006 nodes.3.id: node 'fewer_stays' has no link in or out; link it or remove it",
        "valid.yaml:32:9: error LM003 links.1.to: unknown node 'fewer_stay'; did you mean 'fewer_stays'? "
        "expected one of 'fewer_stays', 'talks', 'health', 'motivation'",
    ]


def test_rules_on_the_evaluation_run_when_a_node_has_a_schema_error(mutate):
    mutate("    level: activity\n", "    level: activty\n")
    path = mutate("covariates: [age, sex, nationality]", "covariates: [age, sex, exit_type]")
    assert rendered(path) == [
        "valid.yaml:9:12: error LM001 nodes.0.level: expected one of 'input', 'activity', 'output', 'outcome', "
        "'impact'; got 'activty'",
        "valid.yaml:51:26: error LM041 evaluation.covariates.2: 'exit_type' cannot be a covariate: it is an outcome "
        "(measured after the index date)",
    ]


def test_rules_that_read_a_part_with_schema_errors_wait_for_it(mutate):
    """A node with a schema error: no structure rule runs (a link to it is not 'unknown')."""
    path = mutate("  - id: motivation\n    level: outcome\n", "  - id: motivation\n    level: result\n")
    lines = rendered(path)
    assert [line.split()[2] for line in lines] == ["LM001"]


def test_references_to_a_catalogue_with_schema_errors_are_checked_when_its_ids_parse(mutate, workdir):
    mutate("    type: mean\n", "    type: average\n", file="catalogue.yaml")
    mutate("    outcome: assisted_return_12m\n", "    outcome: assisted_return_1m\n")
    path = mutate("indicators: [hscl10_mean]", "indicators: [hscl10_means]")
    assert rendered(path) == [
        "catalogue.yaml:15:11: error LM001 indicators.1.type: expected one of 'count', 'sum', 'mean', 'share', "
        "'ratio', 'median', 'quantile', 'duration', 'distinct_count'; got 'average'",
        "valid.yaml:16:18: error LM020 nodes.1.indicators.0: unknown indicator 'hscl10_means'; did you mean "
        "'hscl10_mean'? expected one of 'hscl10_mean', 'participants', 'returns_per_100'",
        "valid.yaml:45:14: error LM033 expected_changes.1.outcome: unknown outcome 'assisted_return_1m'; "
        "did you mean 'assisted_return_12m'? expected one of 'assisted_return_12m', 'hscl10_change_6m'",
    ]


def test_catalogue_rules_run_on_a_catalogue_with_a_schema_error_elsewhere(mutate, workdir):
    mutate('version: "1"', "version: 1", file="catalogue.yaml")
    path = mutate("    measure_scoped: true\n", "    measure_scoped: true\n    column: total\n", file="catalogue.yaml")
    assert rendered(path) == [
        "catalogue.yaml:1:10: error LM001 version: expected a text; got 1 (write it in quotes: \"1\")",
        "catalogue.yaml:12:13: error LM061 indicators.0.column: 'column' does not apply to an indicator of type count",
    ]


def test_references_are_not_checked_when_the_ids_of_the_catalogue_do_not_parse(mutate, workdir):
    mutate("  - id: hscl10_mean\n", "  - id: HSCL10\n", file="catalogue.yaml")
    lines = rendered(workdir / "valid.yaml")
    assert lines[-1] == ("valid.yaml:6:12: warning LM019 catalogue: catalogue 'catalogue.yaml' has errors; "
                         "indicator references were not checked")
    assert not any(" LM020 " in line for line in lines)


def test_a_partial_keeps_every_item_and_marks_the_values_that_fail(workdir):
    data = load_yaml(workdir / "valid.yaml").data
    data["nodes"][1] = {**data["nodes"][1], "level": "outcme"}
    model = partial(LogicModel, data)
    assert not model.parsed("nodes") and model.parsed("links") and len(model.links) == 2
    assert [isinstance(node, Partial) for node in model.nodes] == [False, True, False, False]
    assert model.nodes[1].id == "health" and model.nodes[1].failed == {"level"}
    with pytest.raises(UnparsedPart):
        model.nodes[1].level
