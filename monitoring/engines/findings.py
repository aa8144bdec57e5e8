"""Which quality findings are published into the engine with the release (``--results engine``).

The local store keeps every finding of a run (``monitoring_quality``). Only findings that
say nothing the published release does not already let a reader know leave tiltak:

* QC001 (a centre without residents after a month with some), QC002 (a table without
  records in a month) and QC003 (the data's age in days) name a centre, a table or the
  loads and carry no count of persons: a centre's "none" is a zero, which the release
  publishes too (a zero identifies nobody), and "had residents" is no number at all.
* QC004 (an indicator's total far outside its history) echoes the total and the median of
  the totals before it: published only when the release publishes the total of that period
  *and* of every earlier period of its history (:data:`monitoring.quality.HISTORY`), so both
  numbers follow from published values. A finding on a suppressed total, or next to one,
  stays in the local store.
* QC005 (a denominator that collapsed) echoes only the median of earlier denominators,
  and only when it reaches the model's count threshold (:func:`monitoring.quality.
  collapsing_denominators`); the collapsed value itself is never echoed.

No finding carries an identifier of a person: subjects are centres, tables, "total",
"loads" or "registers".
"""

from __future__ import annotations

from typing import Iterable, Sequence

from monitoring.quality import HISTORY

FINDING_COLUMNS = ("run_id", "model_id", "check_id", "severity", "indicator_id", "period", "subject", "value",
                   "message")
_ON_TOTALS = "QC004"


def totals(releases: Iterable[tuple]) -> dict[tuple[str, str], dict[int, tuple[str, bool]]]:
    """(model, indicator) -> {period index: (period, suppressed)} of the total cells of a
    release (rows as ``monitoring_releases``)."""
    out: dict[tuple[str, str], dict[int, tuple[str, bool]]] = {}
    for r in releases:
        if r[6] == "total":
            out.setdefault((r[1], r[2]), {})[r[5]] = (r[4], bool(r[9]))
    return out


def _history_published(cells: dict[int, tuple[str, bool]], period: str | None) -> bool:
    """Whether the total of ``period`` and of every period of its history are published."""
    index = next((p for p, (label, _s) in cells.items() if label == period), None)
    if index is None:
        return False
    return not any(suppressed for p, (_l, suppressed) in cells.items() if index - HISTORY <= p <= index)


def publishable(findings: Sequence[tuple], releases: Iterable[tuple]) -> list[tuple]:
    """The findings (rows of :data:`FINDING_COLUMNS`) that may be published next to ``releases``."""
    cells = totals(releases)
    out = []
    for f in findings:
        if f[2] == _ON_TOTALS and not _history_published(cells.get((f[1], f[4]), {}), f[5]):
            continue
        out.append(tuple(f))
    return out
