"""Problems marked on a drawing of a draft model (``tiltak graph --draft``).

A node, an edge or the graph may carry a ``problems`` attribute: a list of texts (the
validation issues located there). A box with problems gets a red dashed border and a
printed tag (``⚠ 2 problems``), an arrow a red dashed line; the texts are in the tooltip,
and the problems that belong to no box or arrow are listed under the drawing. Like the
verdicts, they are shown by colour *and* by a tag or dash, so they also read in black and
white.
"""

from __future__ import annotations

from logicmodel.diagram.markup import text_element
from logicmodel.diagram.textmetrics import wrap
from logicmodel.diagram.vocabulary import LinkStyle, NodeStyle
from tiltak_base.catalogue import SectionView

SYMBOL = "\u26a0"
PROBLEM_NODE = NodeStyle(fill="#ffffff", stroke="#b3261e", dash="4 2", symbol=SYMBOL, ink="#8c1d18")
PROBLEM_LINK = LinkStyle(stroke="#b3261e", width=1.8, dash="4 2")
FONT = 11.5
LINE = 14.0
WORDS = SectionView("diagram.problems")


def problem_tag(count: int, lang: str) -> str:
    """The tag printed in a box: ``⚠ 1 problem``, ``⚠ 3 problemer``."""
    return f"{SYMBOL} {count} {WORDS[lang]['one' if count == 1 else 'many']}"


def with_problems(text: str, problems: tuple[str, ...]) -> str:
    """A tooltip text followed by one ``⚠ ...`` line per problem."""
    return "\n".join([text, *(f"{SYMBOL} {p}" for p in problems)])


def problems_block(problems: tuple[str, ...], x: float, y: float, width: float, lang: str) -> tuple[list[str], float]:
    """SVG elements listing the problems of the graph from ``(x, y)``, and their height."""
    if not problems:
        return [], 0.0
    out = ['<g class="problems">', text_element(x, y + 4, WORDS[lang]["elsewhere"], FONT + 0.5, 'font-weight="bold"')]
    line_y = y + 4
    for problem in problems:
        for index, line in enumerate(wrap(f"{SYMBOL} {problem}", width - 12, FONT)):
            line_y += LINE
            out.append(text_element(x + (0 if index == 0 else 12), line_y, line, FONT, f'fill="{PROBLEM_NODE.ink}"'))
    out.append("</g>")
    return out, line_y - y + 6


def listed(problems: tuple[str, ...]) -> str:
    """Problems as one text, for a screen reader's description."""
    return " ".join(f"{SYMBOL} {p}" for p in problems)
