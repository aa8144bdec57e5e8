"""The SVG drawing: well-formed, complete, readable geometry, deterministic, robust."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest
from diagram_samples import random_layered, return_model
from diagram_geometry import NS, arrows, boxes, check_all, check_geometry, check_titles, parse

from logicmodel.diagram import DiagramError, to_svg
from logicmodel.diagram.layout import FONT, PAD_X
from logicmodel.errors import LogicModelError

ROOT = Path(__file__).resolve().parents[2]


def test_svg_is_well_formed_and_accessible():
    svg = to_svg(return_model())
    root = parse(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("role") == "img"
    assert "Returtiltak i ordinære mottak" in root.get("aria-label")
    assert root.find("svg:title", NS).text.endswith("Veien Videre og kvalifisering")
    description = root.find("svg:desc", NS).text
    assert "45 noder" in description and "Frivillig retur med assistanse" in description
    assert svg.startswith("<svg ") and svg.endswith("</svg>\n")
    assert root.get("aria-describedby") == root.find("svg:desc", NS).get("id") == "logicmodel-returtiltak-desc"
    ids = [element.get("id") for element in root.iter() if element.get("id")]
    assert len(ids) == len(set(ids)) == 2 + 45 + return_model().number_of_edges()


def test_45_node_model_geometry_and_titles():
    svg = check_all(return_model(verdicts=True, ratings=True))
    assert len(arrows(parse(svg))) == return_model().number_of_edges()


@pytest.mark.parametrize("n,seed", [(40, 1), (40, 2), (200, 3)])
def test_random_layered_graphs(n, seed):
    check_all(random_layered(n, seed))


def test_every_band_in_order_and_labelled():
    root = parse(to_svg(return_model(), lang="en"))
    bands = root.findall(".//svg:polygon[@class='band']", NS)
    keys = [b.get("data-band") for b in bands]
    assert keys == ["input", "activity", "output", "outcome_short", "outcome_medium", "outcome_long", "impact"]
    labels = ["".join(t.itertext()) for t in root.findall(".//svg:text[@class='band-label']", NS)]
    assert labels == ["Inputs", "Activities", "Outputs", "Outcomes, short term", "Outcomes, medium term",
                      "Outcomes, long term", "Impact"]
    lefts = [float(b.get("points").split(",")[0]) for b in bands]
    assert lefts == sorted(lefts)


def test_boxes_sit_in_their_level_band():
    graph = return_model()
    root = parse(to_svg(graph))
    spans = {}
    for band in root.findall(".//svg:polygon[@class='band']", NS):
        xs = [float(p.split(",")[0]) for p in band.get("points").split()]
        spans[band.get("data-band")] = (min(xs), max(xs))
    for name, rect in boxes(root).items():
        attrs = graph.nodes[name]
        key = f"outcome_{attrs['horizon']}" if attrs["level"] == "outcome" else attrs["level"]
        assert spans[key][0] <= rect.x and rect.x + rect.width <= spans[key][1]


def test_output_is_deterministic_across_hash_seeds():
    script = (
        "import sys, hashlib; sys.path.insert(0, 'tests/diagram');"
        "from diagram_samples import return_model, random_layered;"
        "from logicmodel.diagram import to_svg;"
        "print(hashlib.sha256((to_svg(return_model(True, True)) + to_svg(random_layered(60, 9))).encode()).hexdigest())"
    )
    digests = set()
    for seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
        digests.add(done.stdout.strip())
    here = hashlib.sha256((to_svg(return_model(True, True)) + to_svg(random_layered(60, 9))).encode()).hexdigest()
    assert digests == {here}


def test_cycles_backward_links_loops_and_isolated_nodes():
    graph = nx.DiGraph(title="Sirkler", id="cycles")
    graph.add_node("a", level="activity", title="Aktivitet A")
    graph.add_node("b", level="outcome", horizon="short", title="Resultat B")
    graph.add_node("c", level="outcome", horizon="short", title="Resultat C")
    graph.add_node("d", level="outcome", horizon="short", title="Resultat D")
    graph.add_node("e", level="impact", title="Effekt E")
    graph.add_node("lonely", level="output", title="Ingen koblinger")
    graph.add_node("i", level="input", title="Ressurs")
    graph.add_edges_from([("a", "b"), ("b", "c"), ("c", "d"), ("d", "b"), ("e", "a"), ("c", "c"), ("d", "e"), ("i", "e")])
    svg = check_all(graph)
    root = parse(svg)
    assert len(arrows(root)) == graph.number_of_edges()
    legend = "".join(root.find(".//svg:g[@class='legend']", NS).itertext())
    assert "mot strømmen" in legend


def test_two_cycle_between_two_boxes_gets_two_distinct_paths():
    graph = nx.DiGraph()
    graph.add_node("x", level="activity", title="X")
    graph.add_node("y", level="outcome", horizon="short", title="Y")
    graph.add_edges_from([("x", "y"), ("y", "x")])
    check_all(graph)
    first, second = arrows(parse(to_svg(graph)))
    assert first.start != second.end and first.points != tuple(reversed(second.points))


@pytest.mark.parametrize(
    "graph",
    [nx.DiGraph(), nx.DiGraph(title="", id=""), nx.MultiDiGraph()],
    ids=["empty", "empty-with-attributes", "empty-multigraph"],
)
def test_empty_graph_draws_an_empty_frame(graph):
    svg = to_svg(graph)
    root = parse(svg)
    assert boxes(root) == {} and arrows(root) == []
    assert "Modellen har ingen noder." in svg and root.get("aria-label") == "Logikkmodell"


def test_single_node_and_non_string_keys():
    graph = nx.DiGraph()
    graph.add_node(7, level="impact", title="Sju")
    check_all(graph)
    graph.add_node(("t", 1), level="input")
    graph.add_edge(("t", 1), 7)
    svg = check_all(graph)
    assert "(&apos;t&apos;, 1)" in svg or "('t', 1)" in svg


def test_every_level_alone_and_outcomes_without_horizon():
    for level in ("input", "activity", "output", "outcome", "impact"):
        graph = nx.DiGraph()
        graph.add_node("only", level=level, title=f"Bare {level}")
        check_all(graph)
    graph = nx.DiGraph()
    graph.add_node("o1", level="outcome", title="Uten horisont")
    graph.add_node("o2", level="outcome", horizon="long", title="Lang sikt")
    graph.add_edge("o1", "o2")
    check_all(graph)


def test_text_is_escaped_and_cleaned():
    graph = nx.DiGraph(title='<script>alert("x")</script> & co', id="a&b")
    graph.add_node('<"&>', level="activity", title='Tittel med <tegn> & "sitat" og \x07 kontroll og ]]> slutt')
    graph.add_node("z", level="impact", title="Emoji 🙂 og 中文 og æøå ÆØÅ")
    graph.add_edge('<"&>', "z", mechanism="a < b & c > d", lag_months=3)
    svg = check_all(graph)
    assert "<script>" not in svg and "\x07" not in svg
    root = parse(svg)
    text = "".join(root.itertext())
    assert '<script>alert("x")</script> & co' in text
    assert "a < b & c > d" in text


def test_long_words_are_hyphenated_to_fit():
    graph = nx.DiGraph()
    graph.add_node("w", level="outcome", horizon="short", title="Returforberedendekvalifiseringsprogramdeltakelsesmotivasjon " * 3)
    svg = check_all(graph)
    lines = boxes(parse(svg))["w"].lines
    assert any(line.endswith("-") for line in lines)


def test_very_long_titles_make_wider_or_taller_boxes():
    graph = nx.DiGraph()
    graph.add_node("short", level="activity", title="Kort")
    graph.add_node("long", level="activity", title="Et svært langt navn på en aktivitet " * 6)
    graph.add_edge("short", "long")
    check_all(graph)
    rects = boxes(parse(to_svg(graph)))
    assert rects["long"].height > rects["short"].height


def test_title_maps_follow_the_language():
    graph = nx.DiGraph(title={"nb": "Modell", "en": "Model"})
    graph.add_node("a", level="impact", title={"nb": "Frivillig retur", "en": "Voluntary return"})
    assert "Voluntary return" in to_svg(graph, lang="en")
    assert "Frivillig retur" in to_svg(graph, lang="nb")


def test_verdicts_show_a_printed_tag_and_a_legend():
    graph = return_model(verdicts=True)
    root = parse(to_svg(graph))
    tags = root.findall(".//svg:text[@class='verdict-tag']", NS)
    assert len(tags) == sum(1 for _, a in graph.nodes(data=True) if a.get("verdict"))
    assert {t.text for t in tags} >= {"\u2713 bekreftet", "\u2717 motsagt"}
    legend = "".join(root.find(".//svg:g[@class='legend']", NS).itertext())
    assert "ikke testbart" in legend and "Vurdering av resultat" in legend


def test_ratings_use_dash_patterns_not_colour_alone():
    graph = return_model(ratings=True)
    root = parse(to_svg(graph))
    dashes = {}
    for group in root.iterfind(".//svg:g[@class='edge']", NS):
        path = group.find("svg:path", NS)
        dashes.setdefault(group.get("data-rating"), set()).add((path.get("stroke-dasharray"), path.get("stroke-width")))
    assert all(len(v) == 1 for v in dashes.values())
    assert len({next(iter(v)) for v in dashes.values()}) == 4


def test_no_legend_without_verdicts_ratings_or_reversed_links():
    graph = nx.DiGraph()
    graph.add_node("a", level="activity", title="A")
    graph.add_node("b", level="impact", title="B")
    graph.add_edge("a", "b")
    assert parse(to_svg(graph)).find(".//svg:g[@class='legend']", NS) is None


def test_edge_tooltips_carry_mechanism_and_lag():
    graph = nx.DiGraph()
    graph.add_node("a", level="activity", title="Samtaler")
    graph.add_node("b", level="outcome", horizon="short", title="Helse")
    graph.add_edge("a", "b", mechanism="Mestring gir ro", lag_months=3, rating="weakened")
    group = parse(to_svg(graph)).find(".//svg:g[@class='edge']", NS)
    expected = "Samtaler \u2192 Helse. Mekanisme: Mestring gir ro. Forsinkelse: 3 mnd. Vurdering: svekket."
    assert group.find("svg:title", NS).text == expected


@pytest.mark.parametrize(
    "font_file",
    ["/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"],
    ids=["liberation-sans", "dejavu-sans"],
)
def test_text_fits_with_real_fonts_when_available(font_file):
    ft2font = pytest.importorskip("matplotlib.ft2font")
    if not Path(font_file).exists():
        pytest.skip(f"{font_file} is not installed")
    font = ft2font.FT2Font(font_file)
    font.set_size(FONT, 72)
    graph = return_model(verdicts=True)
    graph.add_node("wide", level="impact", title="m" * 80 + " " + "mw " * 40)
    for rect in boxes(parse(to_svg(graph))).values():
        for line in rect.lines:
            font.set_text(line)
            assert font.get_width_height()[0] / 64 <= rect.width - 2 * PAD_X, line


@pytest.mark.parametrize(
    "node,message",
    [
        ({"title": "x"}, "node 'n': level: expected one of 'input', 'activity', 'output', 'outcome', 'impact'; got None"),
        ({"level": "goal"}, "node 'n': level: expected one of 'input', 'activity', 'output', 'outcome', 'impact'; got 'goal'"),
        ({"level": "outcome", "horizon": "soon"}, "node 'n': horizon: expected one of 'short', 'medium', 'long'; got 'soon'"),
        ({"level": "impact", "verdict": "yes"}, "node 'n': verdict: expected one of 'confirmed', 'not_confirmed', 'inconclusive', 'contradicted', 'not_testable'; got 'yes'"),
    ],
)
def test_bad_node_attributes_name_node_key_and_choices(node, message):
    graph = nx.DiGraph()
    graph.add_node("n", **node)
    with pytest.raises(DiagramError) as caught:
        to_svg(graph)
    assert str(caught.value) == message
    assert isinstance(caught.value, LogicModelError) and caught.value.exit_code == 2
    assert caught.value.lines() == [message]


@pytest.mark.parametrize(
    "edge,message",
    [
        ({"rating": "good"}, "edge 'a' -> 'b': rating: expected one of 'supported', 'weakened', 'refuted', 'untested'; got 'good'"),
        ({"lag_months": "tre"}, "edge 'a' -> 'b': lag_months: expected a whole number of months; got 'tre'"),
        ({"lag_months": 2.5}, "edge 'a' -> 'b': lag_months: expected a whole number of months; got 2.5"),
    ],
)
def test_bad_edge_attributes(edge, message):
    graph = nx.DiGraph()
    graph.add_node("a", level="activity")
    graph.add_node("b", level="impact")
    graph.add_edge("a", "b", **edge)
    with pytest.raises(DiagramError, match="^" + message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.") + "$"):
        to_svg(graph)


def test_bad_arguments():
    with pytest.raises(DiagramError, match="argument: lang: expected one of 'nb', 'en', 'nn'; got 'de'"):  # the catalogues' languages
        to_svg(nx.DiGraph(), lang="de")
    with pytest.raises(DiagramError, match="argument: graph: expected a networkx.DiGraph; got 'Graph'"):
        to_svg(nx.Graph())


def test_parallel_edges_of_a_multigraph_get_separate_ports():
    graph = nx.MultiDiGraph()
    graph.add_node("a", level="activity", title="A")
    graph.add_node("b", level="impact", title="B")
    for rating in ("supported", "refuted", None):
        graph.add_edge("a", "b", rating=rating)
    svg = check_all(graph)
    starts = {arrow.start for arrow in arrows(parse(svg))}
    assert len(starts) == 3


def test_shipped_models_draw_cleanly():
    from logicmodel.graph import to_graph
    from logicmodel.loading import load_model

    paths = sorted((ROOT / "models").glob("*.yaml"))
    drawn = 0
    for path in paths:
        if path.name == "indicators.yaml":
            continue
        graph = to_graph(load_model(path), lang="nb")
        for lang in ("nb", "en"):
            svg = to_svg(graph, lang=lang)
            check_geometry(svg)
        check_titles(graph, to_svg(graph))
        drawn += 1
    assert drawn >= 3


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def test_verdict_tags_have_enough_contrast_on_their_fill():
    from logicmodel.diagram.vocabulary import VERDICT_STYLES

    for verdict, style in VERDICT_STYLES.items():
        light, dark = sorted((_luminance(style.fill), _luminance(style.ink)), reverse=True)
        assert (light + 0.05) / (dark + 0.05) >= 4.5, verdict


def test_a_real_renderer_draws_the_svg(tmp_path):
    import shutil

    if shutil.which("rsvg-convert") is None:
        pytest.skip("rsvg-convert (librsvg2-bin) is not installed")
    source = tmp_path / "model.svg"
    source.write_text(to_svg(return_model(verdicts=True, ratings=True)), encoding="utf-8")
    done = subprocess.run(["rsvg-convert", "-o", str(tmp_path / "model.png"), str(source)], capture_output=True, text=True)
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr
    assert (tmp_path / "model.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
