"""Alerts: indicators off track in their latest period, and the latest run's quality findings."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from monitoring.monitored import MonitoredModel
from monitoring.targets import OFF_TRACK


def off_track(con, models: Sequence[MonitoredModel]) -> list[str]:
    """One line per indicator whose latest published total is off track."""
    from monitoring.show import indicator_table, stored_rows
    from monitoring.runs import PeriodRange

    lines = []
    for model in models:
        for spec in model.specs:
            if spec.id not in model.targets:
                continue
            rows = [r for r in indicator_table(model, spec, stored_rows(con, model.id, spec.id), PeriodRange(), ())]
            if rows and rows[-1].status == OFF_TRACK:
                r = rows[-1]
                lines.append(f"{model.id} {spec.id} {r.period}: off track: {r.value:g} {spec.unit} against a target "
                             f"of {r.target:g} ({spec.direction.replace('_', ' ')}, tolerance "
                             f"{model.targets[spec.id].tolerance:.0%})")
    return lines


def current_alerts(db_path: str | Path, models: Sequence[MonitoredModel]) -> list[str]:
    """Off-track indicators (read from the store after a run)."""
    from monitoring.runs import open_store

    store = open_store(Path(db_path), 5.0, read_only=True)
    try:
        return off_track(store.connect(), models)
    finally:
        store.close()
