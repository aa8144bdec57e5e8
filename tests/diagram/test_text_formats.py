"""DOT and Mermaid text: structure per level, escaping, sanitised identifiers."""

from __future__ import annotations

import re

import networkx as nx
import pytest
from diagram_samples import return_model

from logicmodel.diagram import to_dot, to_mermaid
from logicmodel.diagram.mermaid import label

NASTY = 'Sitat "x" [klammer] {krøll} <vinkel> & \\ bak #hash; semikolon `tick`\nny linje æøå'
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')


def nasty_graph() -> nx.DiGraph:
    graph = nx.DiGraph(title=NASTY, id='id "med" sitat')
    graph.add_node('a"b', level="activity", title=NASTY)
    graph.add_node("end", level="outcome", horizon="short", title="[x] (y) {z}", verdict="contradicted")
    graph.add_node("a-b", level="impact", title="Bindestrek")
    graph.add_node("a b", level="impact", title="Mellomrom")
    graph.add_edge('a"b', "end", mechanism='m "q"', rating="refuted")
    graph.add_edge("end", "a-b")
    graph.add_edge("end", "a b", rating="supported")
    return graph


def dot_unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), text)


def test_dot_has_one_rank_same_group_per_level_in_order():
    dot = to_dot(return_model())
    groups = re.findall(r'subgraph "level_(\w+)" \{\n    rank=same;', dot)
    assert groups == ["input", "activity", "output", "outcome_short", "outcome_medium", "outcome_long", "impact"]
    assert dot.startswith('digraph "returtiltak" {') and dot.endswith("}\n")
    assert "rankdir=LR" in dot
    assert dot.count(" -> ") == return_model().number_of_edges() + 6  # plus invisible band chain


def test_dot_quotes_and_escapes_every_string():
    dot = to_dot(nasty_graph())
    for line in dot.splitlines():
        stripped = _QUOTED.sub("", line)
        assert '"' not in stripped and "\\" not in stripped, line
    strings = [dot_unescape(s) for s in _QUOTED.findall(dot)]
    assert NASTY in strings  # graph label and tooltip keep the text exactly
    assert 'a"b' in strings and "end" in strings and "a b" in strings
    node_line = next(line for line in dot.splitlines() if line.strip().startswith('"a\\"b" ['))
    label_text = dot_unescape(_QUOTED.findall(node_line.split("label=", 1)[1])[0])
    assert label_text.replace("\n", " ").replace("  ", " ").split() == NASTY.split()


def test_dot_marks_verdicts_and_ratings_for_print():
    dot = to_dot(nasty_graph())
    assert "\u2717 motsagt" in dot and "style=dotted" in dot and "penwidth=2.4" in dot


def test_dot_header_ids_never_clash_with_model_nodes():
    graph = nx.DiGraph()
    graph.add_node("level:input", level="input", title="Tricky")
    dot = to_dot(graph)
    assert '"_level:input" [shape=plaintext' in dot and '"level:input" [label="Tricky"' in dot


def test_mermaid_subgraphs_ids_and_labels():
    text = to_mermaid(nasty_graph())
    assert text.startswith("---\ntitle: ")
    assert "flowchart LR" in text
    ids = re.findall(r"^    (\w+)\[\"", text, flags=re.M)
    assert all(re.fullmatch(r"n_[A-Za-z0-9_]+", i) for i in ids)
    assert len(set(ids)) == 4  # 'a-b' and 'a b' both sanitise to n_a_b: made unique
    assert "n_end" in ids  # 'end' is a Mermaid keyword; the prefix makes it safe
    for body in re.findall(r'\["(.*)"\]$', text, flags=re.M):
        assert not set('"[]()<>') & set(body.replace("<br/>", "")) and "\n" not in body
    assert re.findall(r"subgraph (band_\w+)\[", text) == ["band_activity", "band_outcome_short", "band_impact"]


def test_mermaid_label_round_trip():
    encoded = label(NASTY)
    assert not set('"[](){}|<>`') & set(encoded[1:-1].replace("<br/>", ""))
    entities = {"quot": '"', "amp": "&", "lt": "<", "gt": ">"}
    decoded = re.sub(r"#(\w+);", lambda m: entities.get(m.group(1)) or chr(int(m.group(1))), encoded[1:-1])
    assert decoded.replace("<br/>", "\n") == NASTY


def test_mermaid_styles_ratings_and_verdicts():
    text = to_mermaid(nasty_graph())
    assert "-.->" in text and "==>" in text
    assert re.search(r"linkStyle 0 stroke:#b3261e,stroke-width:1.6px,stroke-dasharray:2 3", text)
    assert "classDef contradicted" in text and "class n_end contradicted" in text


@pytest.mark.parametrize("render", [to_dot, to_mermaid])
def test_text_formats_handle_empty_and_cyclic_graphs(render):
    assert render(nx.DiGraph())
    graph = nx.DiGraph()
    graph.add_node("a", level="activity")
    graph.add_edge("a", "a")
    assert render(graph).count("a") >= 2


def _plain_positions(dot_text: str) -> dict[str, float]:
    """x of every node from Graphviz's plain output (names unquoted by Graphviz)."""
    import shlex
    import shutil
    import subprocess

    if shutil.which("dot") is None:
        pytest.skip("Graphviz is not installed")
    done = subprocess.run(["dot", "-Tplain"], input=dot_text, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr
    positions = {}
    for line in done.stdout.splitlines():
        if line.startswith("node "):
            parts = shlex.split(line)
            positions[parts[1]] = float(parts[2])
    return positions


def test_graphviz_reads_the_dot_and_keeps_levels_in_columns():
    graph = return_model(verdicts=True, ratings=True)
    positions = _plain_positions(to_dot(graph))
    headers = [positions[f"level:{key}"] for key in
               ("input", "activity", "output", "outcome_short", "outcome_medium", "outcome_long", "impact")]
    assert headers == sorted(headers) and len(set(headers)) == len(headers)
    for name, attrs in graph.nodes(data=True):
        key = f"outcome_{attrs['horizon']}" if attrs["level"] == "outcome" else attrs["level"]
        assert positions[name] == pytest.approx(positions[f"level:{key}"])


def test_graphviz_accepts_nasty_names_and_labels():
    positions = _plain_positions(to_dot(nasty_graph()))
    assert {'a"b', "end", "a-b", "a b"} <= set(positions)
