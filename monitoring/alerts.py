"""Alerts: indicators off track in their latest period, and the latest run's quality findings.

A provisional latest period (:mod:`monitoring.provisional`) raises no alert unless asked
(``include_provisional``); the alerts held back are counted so that the caller can say so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from monitoring.monitored import MonitoredModel
from monitoring.provisional import latest_last_month
from monitoring.runs import PeriodRange, open_store
from monitoring.show import indicator_table, stored_rows
from monitoring.targets import OFF_TRACK


@dataclass(frozen=True)
class Alerts:
    """Alert lines, and how many off-track provisional periods were held back."""

    lines: list[str] = field(default_factory=list)
    held_back: int = 0


def off_track(con, models: Sequence[MonitoredModel], include_provisional: bool = False) -> Alerts:
    """One line per indicator whose latest published total is off track.

    Without ``include_provisional`` a provisional latest period is held back (and counted)."""

    last_complete = latest_last_month(con)
    lines, held = [], 0
    for model in models:
        for spec in model.specs:
            if spec.id not in model.targets:
                continue
            rows = indicator_table(model, spec, stored_rows(con, model.id, spec.id), PeriodRange(), (), None,
                                   last_complete)
            if rows and rows[-1].status == OFF_TRACK:
                r = rows[-1]
                if r.provisional and not include_provisional:
                    held += 1
                    continue
                mark = " (provisional)" if r.provisional else ""
                lines.append(f"{model.id} {spec.id} {r.period}{mark}: off track: {r.value:g} {spec.unit} against a "
                             f"target of {r.target:g} ({spec.direction.replace('_', ' ')}, tolerance "
                             f"{model.targets[spec.id].tolerance:.0%})")
    return Alerts(lines, held)


def current_alerts(db_path: str | Path, models: Sequence[MonitoredModel], include_provisional: bool = False) -> Alerts:
    """Off-track indicators (read from the store after a run)."""

    store = open_store(Path(db_path), 5.0, read_only=True)
    try:
        return off_track(store.connect(), models, include_provisional)
    finally:
        store.close()
