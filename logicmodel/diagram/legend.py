"""The legend under the drawing: verdict swatches, link styles and reversed links.

Only what the drawing uses is listed. Entries flow left to right and wrap to the
drawing's width; each group starts on a new row after its heading.
"""

from __future__ import annotations

from logicmodel.diagram.layout import Layout
from logicmodel.diagram.markup import rectangle, text_element
from logicmodel.diagram.problems import PROBLEM_NODE
from logicmodel.diagram.problems import WORDS as PROBLEM_WORDS
from logicmodel.diagram.reading import DiagramInput
from logicmodel.diagram.routing import format_number as num
from logicmodel.diagram.textmetrics import text_width, wrap
from logicmodel.diagram.vocabulary import (
    DEFAULT_LINK,
    PHRASES,
    RATING_LABELS,
    RATING_STYLES,
    RATINGS,
    VERDICT_LABELS,
    VERDICT_STYLES,
    VERDICTS,
)

FONT = 11.5
ROW = 24.0
LINE = 14.5  # between the lines of a wrapped label
SWATCH = 34.0

Entry = tuple[str, str]  # (kind, key): kind is "verdict", "rating", "reversed" or "problem"


def legend_items(diagram: DiagramInput, layout: Layout) -> list[tuple[str, list[Entry]]]:
    """Groups ``(heading, entries)`` for what the diagram shows; empty when nothing needs one."""
    words = PHRASES[diagram.lang]
    groups: list[tuple[str, list[Entry]]] = []
    verdicts = {node.verdict for node in diagram.nodes}
    if verdicts - {None}:
        groups.append((words["verdicts"], [("verdict", v) for v in VERDICTS if v in verdicts]))
    ratings = {edge.rating for edge in diagram.edges}
    links: list[Entry] = [("rating", r) for r in RATINGS if r in ratings]
    if any(route.direction < 0 for route in layout.routes):
        links.append(("reversed", ""))
    if links:
        groups.append((words["ratings"] if ratings - {None} else words["link_list"], links))
    if any(node.problems for node in diagram.nodes) or any(edge.problems for edge in diagram.edges):
        groups.append((PROBLEM_WORDS[diagram.lang]["heading"], [("problem", "")]))
    return groups


def _label(entry: Entry, lang: str) -> str:
    kind, key = entry
    if kind == "verdict":
        return f"{VERDICT_STYLES[key].symbol} {VERDICT_LABELS[lang][key]}"
    if kind == "rating":
        return RATING_LABELS[lang][key]
    if kind == "problem":
        return f"{PROBLEM_NODE.symbol} {PROBLEM_WORDS[lang]['legend']}"
    return PHRASES[lang]["backward"]


def _swatch(entry: Entry, x: float, y: float) -> str:
    kind, key = entry
    if kind in ("verdict", "problem"):
        style = VERDICT_STYLES[key] if kind == "verdict" else PROBLEM_NODE
        dash = f' stroke-dasharray="{style.dash}"' if style.dash else ""
        corners = rectangle(x, y - 8, SWATCH, 16)
        width = 1.4 if kind == "verdict" else 2.4
        return f'<polygon points="{corners}" fill="{style.fill}" stroke="{style.stroke}" stroke-width="{width}"{dash}/>'
    style = RATING_STYLES[key] if kind == "rating" else DEFAULT_LINK
    dash = f' stroke-dasharray="{style.dash}"' if style.dash else ""
    tip, base = (x + SWATCH, x + SWATCH - 8) if kind == "rating" else (x, x + 8)
    start, end = (x, base) if kind == "rating" else (base, x + SWATCH)
    return (
        f'<line x1="{num(start)}" y1="{num(y)}" x2="{num(end)}" y2="{num(y)}" stroke="{style.stroke}" '
        f'stroke-width="{num(style.width)}"{dash}/>'
        f'<polygon points="{num(tip)},{num(y)} {num(base)},{num(y - 4)} {num(base)},{num(y + 4)}" '
        f'fill="{style.stroke}"/>'
    )


def draw_legend(
    groups: list[tuple[str, list[Entry]]], x0: float, y0: float, width: float, lang: str
) -> tuple[list[str], float]:
    """Legend elements placed from ``(x0, y0)`` within ``width``; returns them and their height."""
    if not groups:
        return [], 0.0
    out = ['<g class="legend">']
    y = y0
    for heading, entries in groups:
        x = x0
        out.append(text_element(x, y + 4, heading, FONT, 'font-weight="bold"'))
        x += text_width(heading, FONT, bold=True) + 14
        for entry in entries:
            label = _label(entry, lang)
            needed = SWATCH + 6 + text_width(label, FONT) + 18
            if x + needed > x0 + width and x > x0:
                x, y = x0 + 12, y + ROW
            room = x0 + width - x - SWATCH - 6
            lines = [label] if text_width(label, FONT) <= room else wrap(label, room, FONT)
            out.append(_swatch(entry, x, y))
            out.extend(text_element(x + SWATCH + 6, y + 4 + i * LINE, line, FONT) for i, line in enumerate(lines))
            if len(lines) > 1:  # a label wrapped on a narrow drawing: the next entry starts a new row
                y += (len(lines) - 1) * LINE
                x = x0 + width
            else:
                x += needed
        y += ROW
    out.append("</g>")
    return out, y - y0
