"""Hand the report's charts to a drawer as soon as their data are known, not at the end.

The indicator charts are known once monitoring is done, the charts of a model's estimates
once that model is estimated. :class:`EarlyCharts` builds those parts of the model's
document entry as :func:`tiltak.evaluation.assemble.assemble_document` will
(``clean`` of the same entry functions) and asks the drawer for their charts
(:func:`tiltak.report.build.chart_jobs`), so that a drawer with worker processes draws them
while this process goes on. The report asks again with the final document: an equal job is
taken as drawn, a job whose data differ is drawn anew, so the report is the same either way.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tiltak.evaluation.document import clean, estimate_entry, return_curve
from tiltak.evaluation.indicator_series import indicator_entries
from tiltak.evaluation.model_reads import model_estimand
from tiltak.evaluation.verdicts import VerdictRules
from tiltak.report.build import Drawer, chart_jobs


class EarlyCharts:
    """Asks ``drawer`` for the charts of the parts of the document known so far."""

    def __init__(self, drawer: Drawer, lang: str, rules: VerdictRules) -> None:
        self._drawer, self._lang = drawer, lang
        self._threshold = clean(rules.balance_threshold)
        self.indicator_entries: dict[str, list[dict[str, Any]]] = {}  # model id -> entries, as read

    def _ask(self, part: dict[str, Any]) -> None:
        for job in chart_jobs(part, self._threshold, self._lang).values():
            self._drawer.ask(job)

    def indicators(self, db: Path, inputs: Sequence[Any]) -> None:
        """The indicator charts of every model, from the monitored series in the store. The
        entries are kept (:attr:`indicator_entries`) for the document: they read only what
        monitoring published, which nothing changes before the document is assembled."""
        import duckdb

        con = duckdb.connect(str(db), read_only=True)
        try:
            self.indicator_entries = {item.model.id: indicator_entries(con, item) for item in inputs}
        finally:
            con.close()
        parts = [{"id": model_id, "indicators": clean(entries)} for model_id, entries in self.indicator_entries.items()]
        for part in parts:
            self._ask(part)

    def estimates(self, item: Any, estimates: Sequence[Any]) -> None:
        """The balance, overlap and return-curve charts of one model's estimates."""
        model, min_count = item.model, item.model.monitoring.disclosure.min_count
        estimand = model_estimand(model)
        self._ask({"id": model.id, "estimates": clean([estimate_entry(e, min_count) for e in estimates]),
                   "return_curve": clean(return_curve(model, [e for e in estimates if e.estimand == estimand],
                                                      min_count))})
