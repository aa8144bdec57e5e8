"""The fixed vocabulary of a drawing: levels, bands, verdicts, ratings and their labels.

A *band* is one vertical column group of the drawing. Levels map to bands in this
order: input, activity, output, outcome short, outcome without a horizon (ranked with
medium, as ``logicmodel.graph.rank`` does), outcome medium, long, impact. The labels are
the ``diagram`` section of the text catalogues (:mod:`tiltak_base.catalogue`), one per
language: ``BAND_LABELS[lang][band]`` reads the catalogue of ``lang``.
"""

from __future__ import annotations

from dataclasses import dataclass

from tiltak_base.catalogue import SectionView, languages  # noqa: F401 (languages: for the drawing code)

LEVELS = ("input", "activity", "output", "outcome", "impact")
HORIZONS = ("short", "medium", "long")
VERDICTS = ("confirmed", "not_confirmed", "inconclusive", "contradicted", "not_testable")
RATINGS = ("supported", "weakened", "refuted", "untested")

# (band key, level, horizon) in drawing order.
BANDS: tuple[tuple[str, str, str | None], ...] = (
    ("input", "input", None),
    ("activity", "activity", None),
    ("output", "output", None),
    ("outcome_short", "outcome", "short"),
    ("outcome", "outcome", None),
    ("outcome_medium", "outcome", "medium"),
    ("outcome_long", "outcome", "long"),
    ("impact", "impact", None),
)
BAND_ORDER = {key: index for index, (key, _, _) in enumerate(BANDS)}

BAND_LABELS = SectionView("diagram.bands")


@dataclass(frozen=True)
class NodeStyle:
    """How a verdict looks: fill and border colour, border dash, a printed tag and its colour.

    Tag colours reach a contrast of at least 4.5:1 on their fill (WCAG AA for small text).
    """

    fill: str
    stroke: str
    dash: str | None
    symbol: str
    ink: str = "#1f2933"


@dataclass(frozen=True)
class LinkStyle:
    """How a link rating looks: colour, width and dash pattern (readable in grey print)."""

    stroke: str
    width: float
    dash: str | None


DEFAULT_NODE = NodeStyle(fill="#ffffff", stroke="#4a5560", dash=None, symbol="")
VERDICT_STYLES = {
    "confirmed": NodeStyle("#dcefd9", "#2e7d32", None, "\u2713", "#1b5e20"),
    "not_confirmed": NodeStyle("#fbe9c8", "#b26a00", "6 3", "\u2013", "#6d4000"),
    "inconclusive": NodeStyle("#e8e8e8", "#5f6368", "2 3", "?", "#3c4043"),
    "contradicted": NodeStyle("#f8d4d4", "#b3261e", "8 3 2 3", "\u2717", "#8c1d18"),
    "not_testable": NodeStyle("#ffffff", "#8a8f94", "1 3", "\u2205", "#4a4f54"),
}
DEFAULT_LINK = LinkStyle(stroke="#5b6770", width=1.3, dash=None)
RATING_STYLES = {
    "supported": LinkStyle("#2e7d32", 2.4, None),
    "weakened": LinkStyle("#b26a00", 1.6, "7 4"),
    "refuted": LinkStyle("#b3261e", 1.6, "2 3"),
    "untested": LinkStyle("#8a8f94", 1.3, "10 3 2 3"),
}

VERDICT_LABELS = SectionView("diagram.verdicts")
RATING_LABELS = SectionView("diagram.ratings")

# Words of the surrounding text (legend headings, description, tooltips).
PHRASES = SectionView("diagram.phrases")


def band_key(level: str, horizon: str | None) -> str:
    """The band of a node: its level, with outcomes split by horizon."""
    if level == "outcome" and horizon is not None:
        return f"outcome_{horizon}"
    return level
