"""A result summary that renders itself as text, HTML and data frames (statsmodels' habit).

Every result of the effect-estimation modules (balance tables, effect estimates,
sensitivity analyses, minimum detectable effects) returns a :class:`Summary` from its
``summary()`` method. Printing never computes anything new: the summary holds finished
tables and the notes (estimand, assumptions) that belong next to the numbers.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass

import pandas as pd


def format_number(value: object, digits: int = 4) -> str:
    """One cell as text: floats with ``digits`` significant decimals, NaN as '.' (as MatchIt)."""
    if value is None:
        return "."
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "."
        if math.isinf(value):
            return "Inf" if value > 0 else "-Inf"
        if value != 0 and (abs(value) >= 1e6 or abs(value) < 10 ** (-digits)):
            return f"{value:.{digits}e}"
        return f"{value:.{digits}f}"
    return str(value)


def _formatted(frame: pd.DataFrame, digits: int) -> pd.DataFrame:
    out = frame.copy().astype(object)
    for column in out.columns:
        out[column] = [format_number(_python_scalar(v), digits) for v in frame[column]]
    return out


def _python_scalar(value: object) -> object:
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        try:
            return value.item()
        except (ValueError, AttributeError):
            return value
    if value is pd.NA or value is pd.NaT:
        return None
    return value


@dataclass(frozen=True, eq=False)
class Summary:
    """Finished tables with a title and notes; renders as text, HTML or data frames.

    Attributes
    ----------
    title : str
        One line saying what the tables are.
    tables : tuple of (caption, DataFrame)
        The tables, in display order.
    notes : tuple of str
        Estimand, assumptions and caveats, shown under the tables.
    """

    title: str
    tables: tuple[tuple[str, pd.DataFrame], ...]
    notes: tuple[str, ...] = ()

    @property
    def frame(self) -> pd.DataFrame:
        """The first (main) table."""
        return self.tables[0][1].copy()

    def frames(self) -> dict[str, pd.DataFrame]:
        """All tables by caption."""
        return {caption: table.copy() for caption, table in self.tables}

    def as_text(self, digits: int = 4) -> str:
        """Plain text: title, each table with its caption, then the notes."""
        parts = [self.title, "=" * len(self.title)]
        for caption, table in self.tables:
            parts += ["", caption + ":", _formatted(table, digits).to_string()]
        if self.notes:
            parts += ["", *(f"- {note}" for note in self.notes)]
        return "\n".join(parts) + "\n"

    def as_html(self, digits: int = 4) -> str:
        """An HTML fragment: a heading, one captioned table per table, a list of notes."""
        parts = [f"<section class=\"tiltak-summary\"><h3>{html.escape(self.title)}</h3>"]
        for caption, table in self.tables:
            body = _formatted(table, digits).to_html(escape=True, border=0)
            body = body.replace(">", f"><caption>{html.escape(caption)}</caption>", 1)
            parts.append(body)
        if self.notes:
            items = "".join(f"<li>{html.escape(note)}</li>" for note in self.notes)
            parts.append(f"<ul class=\"notes\">{items}</ul>")
        parts.append("</section>")
        return "\n".join(parts)

    def __str__(self) -> str:
        return self.as_text()

    def _repr_html_(self) -> str:
        return self.as_html()


# --- how every result shows itself ----------------------------------------------------
#
# A result class defines ``summary()`` (a Summary) and ``_headline()`` (one line saying what
# it is and its main number); SummaryMethods derives the rest from those two:
#
# * ``repr(result)``: ``<EffectEstimate: ATT on 're78' = 1345 (SE 719; 95% CI -64.3 to 2754)>``
#   (a console or a list of results stays readable, never a dump of arrays);
# * ``str(result)`` / ``result.as_text()``: the summary as plain text;
# * ``result.as_html()`` / ``result._repr_html_()``: an HTML fragment, which Jupyter shows
#   for a result at the end of a cell.
#
# Data classes that use it are declared with ``repr=False`` so that the dataclass machinery
# does not write its own ``__repr__`` over this one.


class SummaryMethods:
    """Text, HTML and a one-line ``repr`` from ``summary()`` and ``_headline()``."""

    def summary(self):  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def _headline(self) -> str:
        return self.summary().title

    def as_text(self) -> str:
        """The summary as plain text (tables and notes)."""
        return self.summary().as_text()

    def as_html(self) -> str:
        """The summary as an HTML fragment."""
        return self.summary().as_html()

    def __str__(self) -> str:
        return self.as_text()

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self._headline()}>"

    def _repr_html_(self) -> str:
        return (f"<div class=\"tiltak-result\"><p><strong>{html.escape(type(self).__name__)}"
                f"</strong>: {html.escape(self._headline())}</p>{self.as_html()}</div>")


def short_number(value: object, digits: int = 4) -> str:
    """A number for a headline: ``digits`` significant digits, thousands kept whole."""
    if value is None:
        return "NA"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(number):
        return "NA"
    if math.isinf(number):
        return "Inf" if number > 0 else "-Inf"
    if number != 0 and abs(number) >= 10 ** digits:
        return f"{number:.0f}"
    return f"{number:.{digits}g}"
