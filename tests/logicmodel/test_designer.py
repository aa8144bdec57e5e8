"""What a programme designer meets: drafts that can be drawn, and the commands agreeing.

One valid fixture, one mutation per case, the exact message.
"""

from __future__ import annotations

import json

import pytest

from tests.logicmodel.test_mutations import rendered

FAMILY = ("filter: \"exit_type = 'assisted_return'\"", "filter: \"exit_type = 'assisted_return' and household = 'family'\"")
FAMILY_LINE = ("catalogue.yaml:25:38: error MON001 indicators.2.numerator.filter: indicator 'returns_per_100': "
               "'family' is not a code of column 'household' in source 'person_month'; expected one of 'single', "
               "'with_children', 'couple'")


def _lines(text: str, folder) -> list[str]:
    return [line.replace(str(folder) + "/", "") for line in text.splitlines()]


def test_a_draft_is_drawn_with_its_problems_on_the_boxes(tiltak_main, mutate, workdir):
    mutate('    title: "Samtaler"', "    title: [Samtaler]")
    path = mutate("    to: fewer_stays\n", "    to: fewer_stay\n")
    code, out, err = tiltak_main("graph", str(path), "--draft", "--format", "json", "--lang", "en")
    assert code == 0, err
    data = json.loads(out)
    problems = {node["id"]: node["problems"] for node in data["nodes"]}
    assert problems == {
        "talks": ["line 10: error LM001 nodes.0.title: expected a text or a mapping {nb: ..., nn: ..., en: ...}; got a list"],
        "health": [], "motivation": [],
        "fewer_stays": ["line 22: error LM006 nodes.3.id: node 'fewer_stays' has no link in or out; link it or remove it"],
    }
    assert data["graph"]["problems"] == [
        "line 32: error LM003 links.1.to: unknown node 'fewer_stay'; did you mean 'fewer_stays'? expected one of "
        "'fewer_stays', 'talks', 'health', 'motivation'"]
    assert [(e["source"], e["target"]) for e in data["edges"]] == [("talks", "health"), ("talks", "motivation")]


def test_the_svg_of_a_draft_marks_the_boxes_and_lists_the_other_problems(tiltak_main, mutate, workdir):
    mutate('version: "1.0"', "version: 1.0")
    path = mutate('    title: "Samtaler"', "    title: [Samtaler]")
    code, out, _ = tiltak_main("graph", str(path), "--draft", "--lang", "en")
    assert code == 0
    assert 'data-node="talks" data-level="activity" data-problems="1">' in out
    assert ">\u26a0 1 problem</text>" in out and "Problems that belong to no box or arrow" in out
    assert "\u26a0 line 3: error LM001 version: expected a text; got 1.0 (write it in quotes: \"1.0\")" in out
    assert out.count("data-problems=") == 1


def test_without_draft_the_same_model_is_refused_with_every_error(tiltak_main, mutate, workdir):
    path = mutate('    title: "Samtaler"', "    title: [Samtaler]")
    code, out, err = tiltak_main("graph", str(path))
    assert code == 1 and out == ""
    assert _lines(err, workdir) == [
        "valid.yaml:10:12: error LM001 nodes.0.title: expected a text or a mapping {nb: ..., nn: ..., en: ...}; got a list"]


def test_a_draft_that_is_not_yaml_is_refused(tiltak_main, mutate, workdir):
    path = mutate("nodes:\n", "nodes: [\n")
    code, _, err = tiltak_main("graph", str(path), "--draft")
    assert code == 1 and " error LM000" in err and "Traceback" not in err


def test_a_repeated_node_id_is_named_instead_of_suggested(mutate):
    mutate("  - id: motivation\n", "  - id: health\n")
    path = mutate("    to: [health, motivation]\n", "    to: [health, health_medium]\n")
    assert rendered(path) == [
        "valid.yaml:17:9: error LM002 nodes.2.id: duplicate id 'health' (first used by nodes.1); ids must be unique",
        "valid.yaml:28:18: error LM003 links.0.to.1: unknown node 'health_medium'; nodes.2 repeats the id 'health' "
        "(first used by nodes.1): if nodes.2 is meant to be 'health_medium', give it that id",
        "valid.yaml:31:20: error LM003 links.1.from.1: unknown node 'motivation'; nodes.2 repeats the id 'health' "
        "(first used by nodes.1): if nodes.2 is meant to be 'motivation', give it that id",
    ]


def test_a_repeated_expected_change_id_is_named_instead_of_suggested(mutate):
    mutate("  - id: return_up\n", "  - id: hscl_down\n")
    path = mutate("tests: [hscl_down, return_up]", "tests: [hscl_down, return_upp]")
    lines = rendered(path)
    assert ("valid.yaml:52:22: error LM040 evaluation.tests.1: unknown expected change 'return_upp'; "
            "expected_changes.1 repeats the id 'hscl_down' (first used by expected_changes.0): if "
            "expected_changes.1 is meant to be 'return_upp', give it that id") in lines


CASES = {
    "unknown monitored indicator": (
        ("  indicators: [participants, hscl10_mean, returns_per_100]",
         "  indicators: [participants, hscl10_mean, returns_per_10]"), "valid.yaml",
        "valid.yaml:54:43: error LM020 monitoring.indicators.2: unknown indicator 'returns_per_10'; did you mean "
        "'returns_per_100'? expected one of 'returns_per_100', 'participants', 'hscl10_mean'"),
    "code value in a catalogue filter": (FAMILY, "catalogue.yaml", FAMILY_LINE),
    "code value in a subgroup": (
        ("    horizon_months: 6\n", "    horizon_months: 6\n    subgroup: \"household = 'family'\"\n"), "valid.yaml",
        "valid.yaml:43:15: error MON001 expected_changes.0.subgroup: subgroup \"household = 'family'\": 'family' is "
        "not a code of column 'household' in source 'person_month'; expected one of 'single', 'with_children', "
        "'couple'"),
    "target in a grain the indicator lacks": (
        ("values: [{period: \"2013-01\", value: 20}]", "values: [{period: \"2013-Q1\", value: 20}]"), "valid.yaml",
        "valid.yaml:56:7: error MON003 monitoring.targets.0: expected a period like 2013-06; got '2013-Q1'"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_monitor_check_and_validate_agree(tiltak_main, mutate, workdir, case):
    (old, new), file, expected = CASES[case]
    path = mutate(old, new, file=file)
    model = str(workdir / "valid.yaml") if file == "catalogue.yaml" else str(path)
    code_v, out_v, _ = tiltak_main("validate", model)
    code_m, out_m, _ = tiltak_main("monitor", "check", model)
    errors_v = [line for line in _lines(out_v, workdir) if " error " in line]
    errors_m = [line for line in _lines(out_m, workdir) if " error " in line]
    assert errors_v == errors_m == [expected] and code_v == code_m == 1


@pytest.mark.parametrize("command", [
    ("validate",), ("validate", "--filters"), ("monitor", "check"), ("monitor", "explain"),
    ("monitor", "run", "--db", "{dir}/none.duckdb"), ("estimate", "--db", "{dir}/none.duckdb"),
    ("evaluate", "--db", "{dir}/none.duckdb", "--out", "{dir}/out"), ("graph",),
])
def test_a_code_value_not_in_the_contract_is_refused_on_every_path(tiltak_main, mutate, workdir, command):
    mutate(*FAMILY, file="catalogue.yaml")
    code, out, err = tiltak_main(*(part.format(dir=workdir) for part in command), str(workdir / "valid.yaml"))
    assert code in (1, 2) and FAMILY_LINE in _lines(out + err, workdir)
    assert not (workdir / "none.duckdb").exists() and not (workdir / "out").exists()
