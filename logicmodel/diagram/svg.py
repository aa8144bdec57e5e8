"""Write a laid-out logic model as a standalone, accessible SVG document.

if TYPE_CHECKING:
    import networkx as nx

Layers from back to front: band backgrounds with their labels, arrows, boxes, legend.
Every text is XML-escaped; verdicts and ratings are shown by colour *and* by a printed
tag or a dash pattern, so the drawing also reads in black and white.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from logicmodel.diagram.direction import MARGIN, drawing_width, lay_out
from logicmodel.diagram.layout import FONT, LINE, TAG_FONT, TAG_LINE, Box, Layout
from logicmodel.diagram.legend import draw_legend, legend_items
from logicmodel.diagram.markup import attr, rectangle, text_element
from logicmodel.diagram.problems import PROBLEM_LINK, PROBLEM_NODE, listed, problem_tag, problems_block, with_problems
from logicmodel.diagram.reading import DiagramEdge, DiagramInput, read_graph
from logicmodel.diagram.routing import Route
from logicmodel.diagram.routing import format_number as num
from logicmodel.diagram.textmetrics import wrap
from logicmodel.diagram.vocabulary import (
    BAND_LABELS,
    DEFAULT_LINK,
    DEFAULT_NODE,
    PHRASES,
    RATING_LABELS,
    RATING_STYLES,
    VERDICT_LABELS,
    VERDICT_STYLES,
)
from tiltak_base.catalogue import REFERENCE

if TYPE_CHECKING:
    import networkx as nx

TITLE_FONT = 18.0
BAND_FONT = 13.0
FONT_FAMILY = "'Liberation Sans', Arial, Helvetica, sans-serif"
TEXT_COLOUR = "#1f2933"
BAND_FILLS = ("#eef2f6", "#f8f9fb")
ARROW_LENGTH = 9.0
ARROW_HALF = 4.5


def _header(diagram: DiagramInput, width: float) -> tuple[list[str], float]:
    """Title (and id) lines at the top; returns the elements and the height used."""
    title = diagram.title or PHRASES[diagram.lang]["diagram"]
    elements, y = [], MARGIN
    for line in wrap(title, width - 2 * MARGIN, TITLE_FONT, bold=True):
        y += TITLE_FONT * 1.25
        elements.append(text_element(MARGIN, y, line, TITLE_FONT, 'font-weight="bold"'))
    if diagram.id and diagram.id != diagram.title:
        y += 16.0
        elements.append(text_element(MARGIN, y, diagram.id, 11.5, 'fill="#5f6b76"'))
    return elements, y + 12.0


def _band_labels(layout: Layout, lang: str) -> tuple[list[list[str]], float]:
    wrapped = [wrap(BAND_LABELS[lang][b.key], b.right - b.left - 12, BAND_FONT, bold=True) for b in layout.bands]
    height = max((len(lines) for lines in wrapped), default=1) * (BAND_FONT * 1.25) + 14.0
    return wrapped, height


def _bands(layout: Layout, lang: str, top: float, bottom: float) -> list[str]:
    wrapped, _ = _band_labels(layout, lang)
    out = ['<g class="bands">']
    for index, (band, lines) in enumerate(zip(layout.bands, wrapped)):
        fill = BAND_FILLS[index % 2]
        out.append(
            f'<polygon class="band" data-band="{band.key}" '
            f'points="{rectangle(band.left, top, band.right - band.left, bottom - top)}" fill="{fill}"/>'
        )
        centre = (band.left + band.right) / 2
        spans = "".join(
            f'<tspan x="{num(centre)}" y="{num(top + 8 + (i + 1) * BAND_FONT * 1.25 - 3)}">{escape(line)}</tspan>'
            for i, line in enumerate(lines)
        )
        out.append(
            f'<text class="band-label" text-anchor="middle" font-size="{num(BAND_FONT)}" '
            f'font-weight="bold" fill="#243447">{spans}</text>'
        )
    out.append("</g>")
    return out


def _stacked_bands(layout: Layout) -> list[str]:
    """Band backgrounds of the top-to-bottom layout: full-width rows."""
    out = ['<g class="bands">']
    for index, band in enumerate(layout.bands):
        out.append(
            f'<polygon class="band" data-band="{band.key}" '
            f'points="{rectangle(band.left, band.top, band.right - band.left, band.bottom - band.top)}" '
            f'fill="{BAND_FILLS[index % 2]}"/>'
        )
    out.append("</g>")
    return out


def _stacked_band_labels(layout: Layout) -> list[str]:
    """Band labels at the top left of each band, over the arrows, with a halo of the band's
    colour so that an arrow passing behind does not cut through the letters."""
    out = ['<g class="band-labels">']
    for index, band in enumerate(layout.bands):
        spans = "".join(
            f'<tspan x="{num(band.left + 8)}" y="{num(band.top + 6 + (i + 1) * BAND_FONT * 1.25 - 3)}">{escape(line)}</tspan>'
            for i, line in enumerate(band.label)
        )
        out.append(
            f'<text class="band-label" font-size="{num(BAND_FONT)}" font-weight="bold" fill="#243447" '
            f'stroke="{BAND_FILLS[index % 2]}" stroke-width="4" stroke-linejoin="round" paint-order="stroke">'
            f"{spans}</text>"
        )
    out.append("</g>")
    return out


def sentence(text: str) -> str:
    """``text`` ending with a full stop (unless it already ends with . ! or ?)."""
    text = text.strip()
    return text if not text or text[-1] in ".!?" else text + "."


def _edge_title(diagram: DiagramInput, edge: DiagramEdge) -> str:
    """The link in words: ``A → B. Mekanisme: …. Forsinkelse: 3 mnd. Vurdering: …``."""
    words = PHRASES[diagram.lang]
    parts = [f"{diagram.nodes[edge.source].title} \u2192 {diagram.nodes[edge.target].title}"]
    if edge.mechanism:
        parts.append(f"{words['mechanism'].capitalize()}: {edge.mechanism}")
    if edge.lag_months is not None:
        parts.append(f"{words['lag'].capitalize()}: {edge.lag_months} {words['months']}")
    if edge.rating:
        parts.append(f"{words['rating'].capitalize()}: {RATING_LABELS[diagram.lang][edge.rating]}")
    return with_problems(" ".join(sentence(part) for part in parts), edge.problems)


def _arrowhead(route: Route) -> str:
    """Polygon points of the arrowhead, its tip on the target's border."""
    tip_x, tip_y = route.end
    dx, dy = route.head
    base_x, base_y = tip_x - dx * ARROW_LENGTH, tip_y - dy * ARROW_LENGTH
    side_x, side_y = -dy * ARROW_HALF, dx * ARROW_HALF
    return (f"{num(tip_x)},{num(tip_y)} {num(base_x - side_x)},{num(base_y - side_y)} "
            f"{num(base_x + side_x)},{num(base_y + side_y)}")


def _edge(diagram: DiagramInput, route: Route, prefix: str) -> str:
    edge = diagram.edges[route.edge]
    style = PROBLEM_LINK if edge.problems else RATING_STYLES.get(edge.rating or "", DEFAULT_LINK)
    dash = f' stroke-dasharray="{style.dash}"' if style.dash else ""
    rating = f' data-rating="{edge.rating}"' if edge.rating else ""
    rating += f' data-problems="{len(edge.problems)}"' if edge.problems else ""
    return (
        f'<g class="edge" id="{prefix}-edge-{route.edge}" data-source="{attr(diagram.nodes[edge.source].name)}" '
        f'data-target="{attr(diagram.nodes[edge.target].name)}"{rating}>'
        f"<title>{escape(_edge_title(diagram, edge))}</title>"
        f'<path class="link" d="{route.path()}" fill="none" stroke="{style.stroke}" '
        f'stroke-width="{num(style.width)}"{dash}/>'
        f'<polygon class="arrowhead" points="{_arrowhead(route)}" fill="{style.stroke}" stroke="{style.stroke}" '
        f'stroke-width="1.0" stroke-linejoin="miter"/></g>'
    )


def _node(diagram: DiagramInput, box: Box, prefix: str) -> str:
    node = diagram.nodes[box.node]
    style = VERDICT_STYLES.get(node.verdict or "", DEFAULT_NODE)
    stroke, width = (PROBLEM_NODE.stroke, 2.4) if node.problems else (style.stroke, 1.4)
    dash = f' stroke-dasharray="{PROBLEM_NODE.dash if node.problems else style.dash}"' if style.dash or node.problems else ""
    centre = box.x + box.width / 2
    block = len(box.lines) * LINE + TAG_LINE * ((node.verdict is not None) + bool(node.problems))
    first = box.y + (box.height - block) / 2 + FONT * 0.92 + (LINE - FONT) / 2
    spans = "".join(
        f'<tspan x="{num(centre)}" y="{num(first + i * LINE)}">{escape(line)}</tspan>'
        for i, line in enumerate(box.lines)
    )
    parts = [
        f'<g class="node" id="{prefix}-node-{box.node}" data-node="{attr(node.name)}" data-level="{node.level}"'
        + (f' data-verdict="{node.verdict}"' if node.verdict else "")
        + (f' data-problems="{len(node.problems)}"' if node.problems else "")
        + ">",
        f"<title>{escape(_node_title(diagram, box.node))}</title>",
        f'<rect x="{num(box.x)}" y="{num(box.y)}" width="{num(box.width)}" height="{num(box.height)}" '
        f'rx="5.0" fill="{style.fill}" stroke="{stroke}" stroke-width="{num(width)}"{dash}/>',
        f'<text text-anchor="middle" font-size="{num(FONT)}" fill="{TEXT_COLOUR}">{spans}</text>',
    ]
    if node.verdict:
        tag = f"{style.symbol} {VERDICT_LABELS[diagram.lang][node.verdict]}"
        y = first + len(box.lines) * LINE - 1
        parts.append(
            f'<text class="verdict-tag" x="{num(centre)}" y="{num(y)}" text-anchor="middle" '
            f'font-size="{num(TAG_FONT)}" font-style="italic" fill="{style.ink}">{escape(tag)}</text>'
        )
    if node.problems:
        y = first + len(box.lines) * LINE - 1 + (TAG_LINE if node.verdict else 0.0)
        parts.append(
            f'<text class="problem-tag" x="{num(centre)}" y="{num(y)}" text-anchor="middle" '
            f'font-size="{num(TAG_FONT)}" font-style="italic" fill="{PROBLEM_NODE.ink}">'
            f"{escape(problem_tag(len(node.problems), diagram.lang))}</text>"
        )
    return "".join(parts) + "</g>"


def _node_title(diagram: DiagramInput, index: int) -> str:
    node = diagram.nodes[index]
    band = BAND_LABELS[diagram.lang][node.band]
    text = f"{node.title} ({band})"
    if node.verdict:
        text += f". {PHRASES[diagram.lang]['verdict'].capitalize()}: {VERDICT_LABELS[diagram.lang][node.verdict]}."
    return with_problems(text, node.problems)


def describe(diagram: DiagramInput) -> str:
    """A plain-text account of the model for screen readers: levels, boxes and links."""
    words = PHRASES[diagram.lang]
    named = f" \u00ab{diagram.title}\u00bb" if diagram.title else ""
    counts = f"{len(diagram.nodes)} {words['nodes']}, {len(diagram.edges)} {words['links']}"
    parts = [f"{words['diagram']}{named}: {counts}."]
    by_band: dict[str, list[str]] = {}
    for node in diagram.nodes:
        by_band.setdefault(node.band, []).append(node.title)
    for band, label in BAND_LABELS[diagram.lang].items():
        if band in by_band:
            parts.append(f"{label}: " + "; ".join(by_band[band]) + ".")
    if diagram.edges:
        parts.append(f"{words['link_list']}:")
        parts.extend(_edge_title(diagram, e) for e in diagram.edges)
    if diagram.problems:
        parts.append(listed(diagram.problems))
    return " ".join(parts)


def _empty_note(diagram: DiagramInput, top: float) -> list[str]:
    """A line saying that there is nothing to draw, for a graph without nodes."""
    if diagram.nodes:
        return []
    return [text_element(MARGIN, top + 20.0, PHRASES[diagram.lang]["empty"], FONT, 'class="empty-note"')]


def element_prefix(diagram: DiagramInput, suffix: str = "") -> str:
    """A prefix for element ids, from the model id (and ``suffix``), so that drawings of
    different models, or of one model at several widths, can sit in one HTML page without
    clashing ids."""
    prefix = "logicmodel-" + (re.sub(r"[^A-Za-z0-9_-]", "-", diagram.id) or "diagram")
    return prefix + ("-" + re.sub(r"[^A-Za-z0-9_-]", "-", suffix) if suffix else "")


def _root(width: float, height: float, label: str, prefix: str, direction: str) -> str:
    """The opening ``<svg>`` tag: size, accessible name and default font."""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{num(width)}" height="{num(height)}" '
        f'viewBox="0 0 {num(width)} {num(height)}" data-direction="{direction}" role="img" aria-label="{attr(label)}" '
        f'aria-describedby="{prefix}-desc" font-family="{attr(FONT_FAMILY)}" fill="{TEXT_COLOUR}">'
    )


def _body(diagram: DiagramInput, layout: Layout, width: float) -> tuple[list[str], Layout, list[str], float, float]:
    """Header, the layout moved into place, band backgrounds, band labels over the arrows,
    and the top and bottom of the band area."""
    header, header_height = _header(diagram, width)
    if layout.direction == "tb":
        body_top = header_height + (4.0 if diagram.nodes else 30.0)
        body = layout.moved(MARGIN, body_top)
        bottom = body_top + layout.height
        return header, body, _stacked_bands(body), _stacked_band_labels(body), bottom
    _, label_height = _band_labels(layout, diagram.lang)
    body_top = header_height + (label_height + 6.0 if diagram.nodes else 30.0)
    body = layout.moved(MARGIN, body_top)
    bottom = body_top + layout.height + 16.0
    return header, body, _bands(body, diagram.lang, header_height, bottom), [], bottom


def render_svg(diagram: DiagramInput, direction: str = "lr", width: float | None = None, id_suffix: str = "") -> str:
    """The SVG document of a checked diagram (see :func:`logicmodel.diagram.direction.lay_out`)."""
    layout = lay_out(diagram, direction, width)
    width = drawing_width(layout)
    header, body, bands, band_labels, band_bottom = _body(diagram, layout, width)
    header_height = _header(diagram, width)[1]
    items = legend_items(diagram, layout)
    legend, legend_height = draw_legend(items, MARGIN, band_bottom + 18.0, width - 2 * MARGIN, diagram.lang)
    legend_bottom = band_bottom + (legend_height + 18.0 if items else 0.0)
    problems, problems_height = problems_block(diagram.problems, MARGIN, legend_bottom + 10.0, width - 2 * MARGIN,
                                               diagram.lang)
    height = legend_bottom + (problems_height + 10.0 if problems else 0.0) + MARGIN
    label = PHRASES[diagram.lang]["diagram"] + (f": {diagram.title}" if diagram.title else "")
    prefix = element_prefix(diagram, id_suffix)
    out = [
        _root(width, height, label, prefix, layout.direction),
        f'<title id="{prefix}-title">{escape(label)}</title>',
        f'<desc id="{prefix}-desc">{escape(describe(diagram))}</desc>',
        f'<polygon class="background" points="{rectangle(0.0, 0.0, width, height)}" fill="#ffffff"/>',
        *header,
        *bands,
        '<g class="edges">',
        *(_edge(diagram, r, prefix) for r in body.routes),
        "</g>",
        *band_labels,
        '<g class="nodes">',
        *(_node(diagram, b, prefix) for b in body.boxes),
        "</g>",
        *_empty_note(diagram, header_height),
        *legend,
        *problems,
        "</svg>",
    ]
    return "\n".join(out) + "\n"


def to_svg(graph: nx.DiGraph, *, lang: str = REFERENCE, direction: str = "lr", width: float | None = None,
           id_suffix: str = "") -> str:
    """Draw a logic-model graph as a standalone SVG document (a string).

    ``direction="lr"`` (the default): levels are columns from inputs on the left to impact
    on the right, outcomes split by horizon, at the size the text needs. ``"tb"``: levels
    are rows from the top, each level's boxes wrapped into as many rows as ``width``
    (pixels of the whole drawing, default 1000) needs. ``"auto"``: ``lr`` when that fits
    ``width`` at full size, else ``tb``. ``id_suffix`` makes the element ids unique when one
    model is drawn more than once in a page. Raises
    :class:`~logicmodel.diagram.errors.DiagramError` on unknown levels, horizons, verdicts
    or ratings, an unknown ``lang`` (``nb`` or ``en``) or ``direction``, or a ``width``
    below 320.
    """
    return render_svg(read_graph(graph, lang), direction, width, id_suffix)
