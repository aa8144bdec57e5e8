"""The SQL a run would execute, as text for people (``tiltak monitor explain``)."""

from __future__ import annotations

import datetime as dt
from typing import Sequence

from monitoring.monitored import MonitoredModel
from monitoring.sqlcompile import compile_plan, index_of_date


def explain_text(model: MonitoredModel, indicators: Sequence[str] = (), dialect: str = "duckdb") -> str:
    """Stage-A SQL (in ``dialect``) and stage B in words, of a model's indicators."""
    from monitoring.show import ShowError

    specs = [s for s in model.specs if not indicators or s.id in indicators]
    unknown = sorted(set(indicators) - {s.id for s in model.specs})
    if unknown:
        raise ShowError(f"--indicator {unknown[0]!r}: not monitored by model '{model.id}'; expected one of "
                        + ", ".join(repr(s.id) for s in model.specs))
    start = dt.date(model.start_month // 12, model.start_month % 12 + 1, 1)
    placeholder = {g: dt.date(9999, 1, 1) for g in ("month", "quarter", "year")}
    plan = compile_plan([(s, model.measure, index_of_date(start, s.grain)) for s in specs], placeholder)
    out = [f"-- model {model.id} (measure {model.measure}), period from {start:%Y-%m}, {dialect} dialect",
           "-- month index 119987 (9999-01): stands for the first month after the last complete period (set by each run)",
           f"-- measures: the measure codes of the models in a run (here ['{model.measure}'])", ""]
    for query in plan.queries:
        key = query.key
        scope = f", measures {sorted(query.measures)}" if key.scoped else ""
        out += [f"-- stage A: {query.table}: source {key.source}, grain {key.grain}{scope}",
                plan.sql(query, dialect) + ";", ""]
    for query in plan.indicators:
        out += [f"-- stage B: indicator {query.spec.id} ({query.spec.type}, {query.spec.grain}); start {query.start}",
                f"--   {query.describe()}", ""]
    return "\n".join(out)
