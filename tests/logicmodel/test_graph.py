"""The model as a graph: attributes, pathways, helper functions and ``tiltak graph``."""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx

from logicmodel.graph import backward_edges, find_cycles, isolated_nodes, pathways, reachable_from, to_graph
from logicmodel.loading import load_bundle
from logicmodel.model import LogicModel

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"


def small(**extra) -> LogicModel:
    data = {
        "id": "g", "title": {"nb": "Norsk", "en": "English"}, "version": "1", "measure": "VV", "period": {"start": "2012-01"},
        "nodes": [
            {"id": "a", "level": "activity", "title": {"nb": "Aktivitet", "en": "Activity"}, "indicators": ["x"]},
            {"id": "o", "level": "outcome", "horizon": "short", "title": "Utfall"},
            {"id": "p", "level": "outcome", "horizon": "long", "title": "Langt"},
            {"id": "i", "level": "impact", "title": "Virkning", "description": {"en": "Only English"}},
        ],
        "links": [
            {"from": "a", "to": ["o", "p"], "mechanism": {"nb": "fordi", "en": "because"}, "lag_months": 2,
             "assumptions": [{"statement": "antakelse", "indicator": "x"}], "risks": ["risiko"]},
            {"from": ["o", "p"], "to": "i"},
        ],
    }
    data.update(extra)
    return LogicModel.model_validate(data)


def test_node_and_edge_attributes():
    graph = to_graph(small(), lang="en")
    assert graph.graph["id"] == "g" and graph.graph["title"] == "English"
    assert graph.nodes["a"] == {"level": "activity", "horizon": None, "title": "Activity", "description": None, "indicators": ["x"]}
    assert graph.nodes["i"]["description"] == "Only English"
    assert graph.nodes["o"]["horizon"] == "short"
    edge = graph.edges["a", "o"]
    assert edge["mechanism"] == "because" and edge["lag_months"] == 2
    assert edge["assumptions"] == [{"statement": "antakelse", "indicator": "x"}]
    assert edge["risks"] == ["risiko"] and edge["link"] == 0
    assert set(graph.edges) == {("a", "o"), ("a", "p"), ("o", "i"), ("p", "i")}


def test_language_falls_back_to_the_other_one():
    graph = to_graph(small(), lang="nb")
    assert graph.nodes["a"]["title"] == "Aktivitet"
    assert graph.nodes["i"]["description"] == "Only English"


def test_pathways_from_each_activity_to_each_impact():
    assert pathways(to_graph(small())) == [["a", "o", "i"], ["a", "p", "i"]]


def test_helpers_find_cycles_backward_links_and_isolated_nodes():
    graph = nx.DiGraph()
    for node, level in [("a", "activity"), ("b", "output"), ("c", "outcome"), ("z", "impact")]:
        graph.add_node(node, level=level, horizon="short" if level == "outcome" else None)
    graph.add_edges_from([("a", "b"), ("b", "c"), ("c", "a")])
    assert find_cycles(graph) == [["a", "b", "c"]]
    assert backward_edges(graph) == [("c", "a")]
    assert isolated_nodes(graph) == ["z"]
    assert reachable_from(graph, ["b"]) == {"a", "b", "c"}


def test_shipped_model_has_pathways_to_its_impact():
    graph = to_graph(load_bundle(REPO / "models" / "veien-videre.yaml").model)
    paths = pathways(graph)
    assert paths and all(graph.nodes[p[0]]["level"] == "activity" and graph.nodes[p[-1]]["level"] == "impact" for p in paths)
    assert any("mental_health" in p for p in paths)


def test_graph_command_json(cli):
    result = cli("graph", "models/veien-videre.yaml", "--format", "json", "--lang", "en")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["graph"]["title"] == "The Way Forward"
    assert {n["id"] for n in data["nodes"]} >= {"counselling", "voluntary_return"}
    assert all({"source", "target", "mechanism", "lag_months", "assumptions"} <= set(e) for e in data["edges"])
    assert data["pathways"]


def test_graph_command_writes_each_format_to_a_file(cli, tmp_path):
    for fmt, start in (("svg", "<"), ("dot", "digraph"), ("mermaid", "---")):
        target = tmp_path / f"vv.{fmt}"
        result = cli("graph", "models/veien-videre.yaml", "--format", fmt, "-o", str(target))
        assert result.returncode == 0, result.stderr
        assert target.read_text(encoding="utf-8").lstrip().startswith(start), fmt


def test_graph_output_is_deterministic(cli):
    first = cli("graph", "models/kvalifisering-lokal.yaml", "--format", "svg").stdout
    assert first == cli("graph", "models/kvalifisering-lokal.yaml", "--format", "svg").stdout


def test_graph_of_an_invalid_model_fails_and_writes_nothing(cli, mutate, tmp_path):
    path = mutate("    to: fewer_stays\n", "    to: nowhere\n")
    target = tmp_path / "out.svg"
    result = cli("graph", str(path), "-o", str(target))
    assert result.returncode == 1
    assert "unknown node 'nowhere'" in result.stderr and "Traceback" not in result.stderr
    assert not target.exists()


def test_graph_of_a_missing_model_is_an_input_error(cli):
    result = cli("graph", "models/no-such-model.yaml")
    assert result.returncode == 2
    assert "models/no-such-model.yaml: no such file" in result.stderr


def test_graph_to_an_unwritable_place_is_an_input_error(cli, tmp_path):
    result = cli("graph", "models/veien-videre.yaml", "-o", str(tmp_path / "missing-folder" / "x.svg"))
    assert result.returncode == 2
    assert "cannot write the file" in result.stderr


def test_graph_never_overwrites_the_model_a_yaml_file_or_a_device(cli, tmp_path):
    model = tmp_path / "vv.yaml"
    model.write_bytes((REPO / "models" / "veien-videre.yaml").read_bytes())
    (tmp_path / "indicators.yaml").write_bytes((REPO / "models" / "indicators.yaml").read_bytes())
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    for target, fragment in ((model, "is the model file itself; choose another name"),
                             (tmp_path / "indicators.yaml", "would overwrite a YAML file with the drawing"),
                             (Path("/dev/null"), "is not a regular file (a device or pipe?)")):
        result = cli("graph", str(model), "--format", "dot", "-o", str(target))
        assert result.returncode == 2 and fragment in result.stderr and "Traceback" not in result.stderr
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    assert Path("/dev/null").is_char_device()


def test_graph_writes_through_a_symbolic_link(cli, tmp_path):
    (tmp_path / "link.svg").symlink_to(tmp_path / "drawing.svg")
    result = cli("graph", "models/veien-videre.yaml", "-o", str(tmp_path / "link.svg"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "link.svg").is_symlink() and (tmp_path / "drawing.svg").read_text().startswith("<")


def test_schema_command_prints_both_schemas(cli):
    model = json.loads(cli("schema").stdout)
    catalogue = json.loads(cli("schema", "--catalogue").stdout)
    assert "nodes" in model["properties"] and "indicators" in catalogue["properties"]


def test_graph_of_a_catalogue_is_a_usage_error(cli):
    result = cli("graph", "models/indicators.yaml")
    assert result.returncode == 2
    assert "models/indicators.yaml: this is an indicator catalogue; expected a logic model" in result.stderr


def test_validate_output_is_byte_identical_between_runs(cli, mutate):
    path = mutate("tests: [hscl_down, return_up]", "tests: [hscl_down, nope]")
    first = cli("validate", str(path), "--format", "json").stdout
    assert first and first == cli("validate", str(path), "--format", "json").stdout
