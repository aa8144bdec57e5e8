"""Monitored indicators of a model over time, as published, against what the model expects.

Values come from monitoring's published table (``monitoring.show.value_table``): national
totals only, with its disclosure control already applied (suppressed cells are kept as
gaps, never as zeros). Each series is set against the expected trajectory and targets of
the model (:mod:`tiltak.evaluation.trajectories`).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from monitoring.show import value_table
from tiltak.evaluation.model_reads import model_text
from tiltak.evaluation.trajectories import (
    IndicatorSeries,
    SeriesPoint,
    compare,
    expected_for,
    period_position,
    provisional_left_out,
)

STATUSES = ("on_track", "off_track")


def published_series(con: Any, item: Any) -> list[IndicatorSeries]:
    """The model's monitored indicators (national totals) from the stored monitoring values."""

    rows = [r for r in value_table(con, item.monitored) if r.dimension == "total"]
    series = []
    for indicator in item.model.monitoring.indicators:
        own = sorted((r for r in rows if r.indicator == indicator), key=lambda r: period_position(r.period))
        meta = item.catalogue.indicator(indicator)  # every monitored indicator is in the catalogue (LM rules)
        # The status is that of the latest settled period: a provisional one raises no alert.
        latest = next((r.status for r in reversed(own) if r.status in STATUSES and not r.provisional), None)
        series.append(IndicatorSeries(
            indicator=indicator, title=model_text(meta.title, indicator), unit=meta.unit, decimals=meta.decimals,
            direction=meta.direction,
            points=tuple(SeriesPoint(r.period, r.value, bool(r.suppressed), bool(r.provisional)) for r in own),
            status=latest,
        ))
    return series


def indicator_entries(con: Any, item: Any) -> list[dict[str, Any]]:
    """JSON-ready series with the model's expectations and the observed-minus-expected gaps
    (settled periods only; the provisional periods that met an expected value are listed in
    ``not_compared_provisional``)."""
    entries = []
    for s in published_series(con, item):
        expected = expected_for(item.model, s.indicator)
        entries.append({
            "id": s.indicator, "title": s.title, "unit": s.unit, "decimals": s.decimals, "direction": s.direction,
            "status": s.status,
            "points": [{"period": p.period, "value": None if p.suppressed else p.value, "suppressed": p.suppressed,
                        "provisional": p.provisional} for p in s.points],
            "n_suppressed": sum(1 for p in s.points if p.suppressed),
            "n_provisional": sum(1 for p in s.points if p.provisional),
            "expected": {
                "trajectory": [asdict(p) for p in expected.trajectory],
                "targets": [asdict(p) for p in expected.targets],
                "baseline": asdict(expected.baseline) if expected.baseline else None,
                "tolerance": expected.tolerance,
            },
            "comparisons": [asdict(c) for c in compare(s, expected)],
            "not_compared_provisional": provisional_left_out(s, expected),
        })
    return entries
