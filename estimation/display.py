"""How every result of ``estimation`` shows itself: one implementation for all of them.

A result class defines ``summary()`` (a :class:`estimation.summary.Summary`: finished tables
and notes) and ``_headline()`` (one line saying what it is and its main number); the
:class:`Displayed` mixin derives the rest from those two:

* ``repr(result)``: ``<EffectEstimate: ATT on 're78' = 1345 (SE 719; 95% CI -64.3 to 2754)>``
  (a console or a list of results stays readable, never a dump of arrays);
* ``str(result)`` / ``result.as_text()``: the summary as plain text;
* ``result.as_html()`` / ``result._repr_html_()``: the summary as an HTML fragment, which
  Jupyter shows for a result at the end of a cell.

Data classes that use it are declared with ``repr=False`` so that the dataclass machinery
does not write its own ``__repr__`` over this one.
"""

from __future__ import annotations

import html
import math


class Displayed:
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
