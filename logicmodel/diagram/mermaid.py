"""Mermaid flowchart text of a logic model: one subgraph per level band, left to right.

if TYPE_CHECKING:
    import networkx as nx

Node ids are sanitised to ``n_`` plus letters, digits and underscores (made unique);
labels are quoted, with Mermaid's entity codes for quotes, ``#``, ``<``, ``>``, ``&``,
``;``, backticks, brackets, parentheses, braces and ``|``, so no title can break the
chart.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from logicmodel.diagram.direction import chosen_direction
from logicmodel.diagram.problems import PROBLEM_LINK, PROBLEM_NODE, problem_tag
from logicmodel.diagram.problems import WORDS as PROBLEM_WORDS
from logicmodel.diagram.reading import DiagramEdge, DiagramInput, read_graph
from logicmodel.diagram.vocabulary import BAND_LABELS, BANDS, RATING_STYLES, VERDICT_LABELS, VERDICT_STYLES, VERDICTS
from tiltak_base.catalogue import REFERENCE

if TYPE_CHECKING:
    import networkx as nx

_ENTITIES = {"#": "#35;", '"': "#quot;", "&": "#amp;", "<": "#lt;", ">": "#gt;"}
_ENTITIES.update({char: f"#{ord(char)};" for char in ";`[](){}|"})
ARROWS = {None: "-->", "supported": "==>", "weakened": "-.->", "refuted": "-.->", "untested": "-.->"}


def label(text: str) -> str:
    """A quoted Mermaid label; line breaks become ``<br/>``."""
    text = "".join(_ENTITIES.get(char, char) for char in text)
    return '"' + "<br/>".join(text.splitlines()) + '"'


def node_ids(diagram: DiagramInput) -> list[str]:
    """Safe, unique Mermaid ids for the nodes, derived from their names."""
    ids: list[str] = []
    taken: set[str] = set()
    for node in diagram.nodes:
        base = "n_" + re.sub(r"[^A-Za-z0-9_]", "_", node.name)
        candidate, suffix = base, 2
        while candidate in taken:
            candidate, suffix = f"{base}_{suffix}", suffix + 1
        taken.add(candidate)
        ids.append(candidate)
    return ids


def _front_matter(title: str) -> list[str]:
    if not title:
        return []
    escaped = " ".join(title.replace("\\", "\\\\").replace('"', '\\"').splitlines())
    return ["---", f'title: "{escaped}"', "---"]


def _node_text(diagram: DiagramInput, index: int) -> str:
    node = diagram.nodes[index]
    lines = [node.title]
    if node.verdict:
        lines.append(f"{VERDICT_STYLES[node.verdict].symbol} {VERDICT_LABELS[diagram.lang][node.verdict]}")
    if node.problems:
        lines.append(problem_tag(len(node.problems), diagram.lang))
    return "\n".join(lines)


def _link_style(position: int, edge: DiagramEdge) -> str | None:
    if not edge.rating and not edge.problems:
        return None
    style = PROBLEM_LINK if edge.problems else RATING_STYLES[edge.rating]
    dash = f",stroke-dasharray:{style.dash}" if style.dash else ""
    return f"  linkStyle {position} stroke:{style.stroke},stroke-width:{style.width}px{dash}"


def render_mermaid(diagram: DiagramInput, direction: str = "lr") -> str:
    """The Mermaid document of a checked diagram: bands left to right, each one's boxes
    stacked (``lr``), or bands top to bottom, each one's boxes side by side (``tb``)."""
    ids = node_ids(diagram)
    across = direction == "lr"
    out = _front_matter(diagram.title) + [f"flowchart {'LR' if across else 'TB'}"]
    for key, _, _ in BANDS:
        members = [i for i, node in enumerate(diagram.nodes) if node.band == key]
        if members:
            out.append(f"  subgraph band_{key}[{label(BAND_LABELS[diagram.lang][key])}]")
            out.append(f"    direction {'TB' if across else 'LR'}")
            out.extend(f"    {ids[i]}[{label(_node_text(diagram, i))}]" for i in members)
            out.append("  end")
    out.extend(f"  {ids[e.source]} {ARROWS[e.rating]} {ids[e.target]}" for e in diagram.edges)
    out.extend(filter(None, (_link_style(i, e) for i, e in enumerate(diagram.edges))))
    for verdict in VERDICTS:
        members = [ids[i] for i, node in enumerate(diagram.nodes) if node.verdict == verdict]
        if members:
            style = VERDICT_STYLES[verdict]
            dash = f",stroke-dasharray:{style.dash}" if style.dash else ""
            out.append(f"  classDef {verdict} fill:{style.fill},stroke:{style.stroke}{dash}")
            out.append(f"  class {','.join(members)} {verdict}")
    return "\n".join(out + _problem_lines(diagram, ids)) + "\n"


def _problem_lines(diagram: DiagramInput, ids: list[str]) -> list[str]:
    """The class of boxes with problems, and a note with the problems of the graph (node
    ids all start with ``n_``, so the note's id ``problems`` is free)."""
    members = [ids[i] for i, node in enumerate(diagram.nodes) if node.problems]
    out = []
    if diagram.problems:
        text = "\n".join([PROBLEM_WORDS[diagram.lang]["elsewhere"], *(f"{PROBLEM_NODE.symbol} {p}" for p in diagram.problems)])
        out.append(f"  problems[{label(text)}]")
        members.append("problems")
    if members:
        out.append(f"  classDef problem stroke:{PROBLEM_NODE.stroke},stroke-width:2px,stroke-dasharray:{PROBLEM_NODE.dash}")
        out.append(f"  class {','.join(members)} problem")
    return out


def to_mermaid(graph: nx.DiGraph, *, lang: str = REFERENCE, direction: str = "lr", width: float | None = None) -> str:
    """Mermaid flowchart text of a logic-model graph (paste into Markdown that renders Mermaid).

    ``direction`` as in :func:`~logicmodel.diagram.to_dot`: ``lr``, ``tb`` or ``auto``.
    """
    diagram = read_graph(graph, lang)
    return render_mermaid(diagram, chosen_direction(diagram, direction, width))
