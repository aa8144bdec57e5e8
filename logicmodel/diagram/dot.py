"""Graphviz DOT text of a logic model: one ``rank=same`` group per level band.

if TYPE_CHECKING:
    import networkx as nx

A header node per band, chained by invisible edges, keeps the bands in order from left
to right even when a level has no links. All identifiers and labels are quoted and
escaped, so any node id or title is safe.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from logicmodel.diagram.direction import chosen_direction
from logicmodel.diagram.problems import PROBLEM_LINK, PROBLEM_NODE, problem_tag, with_problems
from logicmodel.diagram.problems import WORDS as PROBLEM_WORDS
from logicmodel.diagram.reading import DiagramEdge, DiagramInput, DiagramNode, read_graph
from logicmodel.diagram.textmetrics import wrap
from logicmodel.diagram.vocabulary import BAND_LABELS, BANDS, VERDICT_LABELS, VERDICT_STYLES
from tiltak_base.catalogue import REFERENCE

if TYPE_CHECKING:
    import networkx as nx

WRAP_WIDTH = 170.0
FONT_SIZE = 11.0
EDGE_STYLES = {
    "supported": 'color="#2e7d32", penwidth=2.4',
    "weakened": 'color="#b26a00", style=dashed',
    "refuted": 'color="#b3261e", style=dotted, arrowhead=tee',
    "untested": 'color="#8a8f94", style=dashed, arrowhead=onormal',
}


def quote(text: str) -> str:
    """A DOT double-quoted string; line breaks become centred ``\\n`` breaks."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + "\\n".join(escaped.splitlines()) + '"'


def _node_label(node: DiagramNode, lang: str) -> str:
    lines = wrap(node.title, WRAP_WIDTH, FONT_SIZE)
    if node.verdict:
        lines.append(f"{VERDICT_STYLES[node.verdict].symbol} {VERDICT_LABELS[lang][node.verdict]}")
    if node.problems:
        lines.append(problem_tag(len(node.problems), lang))
    return "\n".join(lines)


def _node_line(node: DiagramNode, lang: str) -> str:
    attrs = [f"label={quote(_node_label(node, lang))}", f"tooltip={quote(with_problems(node.title, node.problems))}"]
    if node.verdict:
        style = VERDICT_STYLES[node.verdict]
        dashed = ',dashed' if style.dash else ''
        attrs += [f'fillcolor="{style.fill}"', f'color="{style.stroke}"', f'style="rounded,filled{dashed}"']
    if node.problems:
        attrs += [f'color="{PROBLEM_NODE.stroke}"', "penwidth=2", 'style="rounded,filled,dashed"']
    return f"    {quote(node.name)} [{', '.join(attrs)}];"


def _edge_line(diagram: DiagramInput, edge: DiagramEdge) -> str:
    source, target = diagram.nodes[edge.source].name, diagram.nodes[edge.target].name
    attrs = []
    if edge.mechanism or edge.problems:
        attrs.append(f"tooltip={quote(with_problems(edge.mechanism or '', edge.problems).strip())}")
    if edge.problems:
        attrs.append(f'color="{PROBLEM_LINK.stroke}", style=dashed, penwidth={PROBLEM_LINK.width:g}')
    elif edge.rating:
        attrs.append(EDGE_STYLES[edge.rating])
    tail = f" [{', '.join(attrs)}]" if attrs else ""
    return f"  {quote(source)} -> {quote(target)}{tail};"


def _header_ids(diagram: DiagramInput) -> dict[str, str]:
    """An id for each band's header node that no model node uses."""
    taken = {node.name for node in diagram.nodes}
    ids = {}
    for key, _, _ in BANDS:
        candidate = f"level:{key}"
        while candidate in taken:
            candidate = "_" + candidate
        ids[key] = candidate
    return ids


def _free_id(diagram: DiagramInput, candidate: str) -> str:
    """An id no model node uses."""
    taken = {node.name for node in diagram.nodes}
    while candidate in taken:
        candidate = "_" + candidate
    return candidate


def _band_block(diagram: DiagramInput, key: str, header_id: str) -> list[str]:
    """The ``rank=same`` subgraph of one band: its header node and its model nodes."""
    band_label = quote(BAND_LABELS[diagram.lang][key])
    header = f'shape=plaintext, style="", fontname="Helvetica-Bold", label={band_label}'
    lines = [f"  subgraph {quote('level_' + key)} {{", "    rank=same;", f"    {quote(header_id)} [{header}];"]
    lines += [_node_line(node, diagram.lang) for node in diagram.nodes if node.band == key]
    return lines + ["  }"]


def render_dot(diagram: DiagramInput, direction: str = "lr") -> str:
    """The DOT document of a checked diagram; ``direction`` ``lr`` or ``tb`` (Graphviz's rankdir)."""
    headers = _header_ids(diagram)
    out = [
        f"digraph {quote(diagram.id or 'logicmodel')} {{",
        f"  graph [rankdir={direction.upper()}, newrank=true, labelloc=t, fontname=Helvetica, label={quote(diagram.title)}];",
        '  node [shape=box, style="rounded,filled", fillcolor="#ffffff", color="#4a5560", '
        f"fontname=Helvetica, fontsize={FONT_SIZE:g}];",
        '  edge [color="#5b6770"];',
    ]
    present = [key for key, _, _ in BANDS if any(node.band == key for node in diagram.nodes)]
    for key in present:
        out.extend(_band_block(diagram, key, headers[key]))
    for a, b in zip(present, present[1:]):
        out.append(f"  {quote(headers[a])} -> {quote(headers[b])} [style=invis];")
    out.extend(_edge_line(diagram, edge) for edge in diagram.edges)
    if diagram.problems:
        text = "\n".join([PROBLEM_WORDS[diagram.lang]["elsewhere"], *(f"{PROBLEM_NODE.symbol} {p}" for p in diagram.problems)])
        out.append(f'  {quote(_free_id(diagram, "problems"))} [shape=note, color="{PROBLEM_NODE.stroke}", '
                   f'fontcolor="{PROBLEM_NODE.ink}", label={quote(text)}];')
    out.append("}")
    return "\n".join(out) + "\n"


def to_dot(graph: nx.DiGraph, *, lang: str = REFERENCE, direction: str = "lr", width: float | None = None) -> str:
    """Graphviz DOT text of a logic-model graph (render with ``dot -Tsvg``).

    ``direction`` ``lr`` (bands as columns), ``tb`` (bands as rows: ``rankdir=TB``; Graphviz
    does not wrap a band into several rows) or ``auto`` (``lr`` when tiltak's own drawing
    fits ``width`` pixels, as :func:`~logicmodel.diagram.to_svg` decides).
    """
    diagram = read_graph(graph, lang)
    return render_dot(diagram, chosen_direction(diagram, direction, width))
