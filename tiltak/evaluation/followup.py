"""Follow-up of the analysis units from the index date: events, competing events, censoring.

For each unit (participant or comparison pair, :mod:`tiltak.evaluation.trials`) and
register outcome, on the evaluation's clock (:mod:`tiltak.evaluation.clock`, months since
the index date):

* ``exit_within``: the first exit; an exit of one of the outcome's ``exit_types`` is the
  event, any other exit (forced return, disappearance, permit, ...) a competing event;
* ``application_within``: the first application to the programme on or after the index date
  and not after the exit is the event; an exit without one is a competing event.

Follow-up ends at the administrative end of the data (the day after the panel's last day),
and, for the estimand ``enrol_vs_not``, a comparison person is censored when they start
the measure (their follow-up ends the day before the start date; the start is never in the
index month, see :mod:`tiltak.evaluation.riskset_data`). An event on the last day of
follow-up counts. Nothing before the index date counts, for either group.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tiltak.evaluation.clock import add_months, months_since
from tiltak.evaluation.outcomes import OutcomeSpec
from tiltak.evaluation.trials import MatchedTrials

ESTIMANDS = ("enrol_vs_not", "enrol_now_vs_later")
EPSILON = 1e-6
"""Censoring at the start of a day is placed this many months before it (about 3 seconds),
so that an event on the last day of follow-up comes before the censoring and one on the
censoring day itself does not count."""
EVENT, COMPETING, CENSORED = 1, 2, 0


@dataclass(frozen=True)
class FollowUp:
    """Per unit: ``time`` (months since the index date) and ``event`` (1, 2 or 0 censored)."""

    time: np.ndarray
    event: np.ndarray
    censor: np.ndarray  # the time follow-up would end without an event


def _dates(values: pd.Series) -> np.ndarray:
    return pd.to_datetime(values).to_numpy(dtype="datetime64[D]")


def first_on_or_after(lists: pd.Series, index: np.ndarray) -> np.ndarray:
    """The first date in each list on or after the unit's index date (NaT when none).

    The lists are flattened once into one array of days ordered by (unit, day), so that one
    ``searchsorted`` of (unit, index date) finds every unit's first date at once.
    """
    index = np.asarray(index, dtype="datetime64[D]")
    n = len(index)
    out = np.full(n, np.datetime64("NaT", "D"))
    values = lists.to_numpy(dtype=object)
    present = np.flatnonzero(lists.notna().to_numpy())
    if not present.size:
        return out
    sizes = np.fromiter((len(values[i]) for i in present), dtype=np.int64, count=present.size)
    if not sizes.sum():
        return out
    flat = np.concatenate([np.asarray(values[i]) for i in present[sizes > 0]])
    days = pd.to_datetime(flat).to_numpy(dtype="datetime64[D]")
    owner = np.repeat(present, sizes)
    dated = ~np.isnat(days)
    owner, days = owner[dated], days[dated].astype(np.int64)
    order = np.lexsort((days, owner))
    owner, days = owner[order], days[order]
    first = np.searchsorted(_pack(owner, days), _pack(np.arange(n), index.astype(np.int64)), side="left")
    found = np.flatnonzero(first < owner.size)
    found = found[(owner[first[found]] == found) & ~np.isnat(index[found])]
    out[found] = days[first[found]].astype("datetime64[D]")
    return out


def _pack(owner: np.ndarray, day: np.ndarray) -> np.ndarray:
    """(unit, day) as one sortable number: days shifted to be non-negative below 2**32."""
    return owner.astype(np.int64) * (1 << 32) + (day + (1 << 31))


def censoring_time(trials: MatchedTrials, data_end, estimand: str) -> np.ndarray:
    """When each unit's follow-up ends without an event (months since the index date)."""
    units = trials.units
    rows = units["row"].to_numpy()
    d = units["index_date"].to_numpy(dtype="datetime64[D]")
    end = np.full(len(d), np.datetime64(pd.Timestamp(data_end).date(), "D"))
    censor = months_since(d, end) - EPSILON
    if estimand == "enrol_vs_not":
        start = _dates(trials.data["later_start"].iloc[rows])
        controls = ~units["treated"].to_numpy() & ~np.isnat(start)
        censor = np.where(controls, np.minimum(censor, months_since(d, start) - EPSILON), censor)
    return censor


def follow_up(trials: MatchedTrials, spec: OutcomeSpec, data_end, estimand: str) -> FollowUp:
    """Time and kind of the first event of ``spec`` for every unit, with its censoring."""
    units = trials.units
    rows = units["row"].to_numpy()
    d = units["index_date"].to_numpy(dtype="datetime64[D]")
    exit_date = _dates(trials.data["exit_date"].iloc[rows])
    exit_type = trials.data["exit_type"].iloc[rows].to_numpy(dtype=object)
    exit_time = months_since(d, exit_date)
    if spec.kind == "exit_within":
        time = exit_time
        kind = np.where(np.isin(exit_type, list(spec.exit_types)), EVENT, COMPETING)
    elif spec.kind == "application_within":
        applied = first_on_or_after(trials.data["applications"].iloc[rows], d)
        applied = np.where(~np.isnat(exit_date) & ~np.isnat(applied) & (applied > exit_date),
                           np.datetime64("NaT", "D"), applied)
        app_time = months_since(d, applied)
        time = np.where(np.isnan(app_time), exit_time, app_time)
        kind = np.where(np.isnan(app_time), COMPETING, EVENT)
    else:
        raise ValueError(f"outcome {spec.id!r}: {spec.kind!r} is not a register outcome")
    censor = censoring_time(trials, data_end, estimand)
    seen = ~np.isnan(time) & (time < censor)
    return FollowUp(np.where(seen, time, censor), np.where(seen, kind, CENSORED), censor)


def interval_starts(trials: MatchedTrials, n_intervals: int) -> np.ndarray:
    """(units, n_intervals) months since the index date of the first day of month t + 1 + k."""
    trial = trials.units["trial"].to_numpy(dtype="datetime64[D]")
    d = trials.units["index_date"].to_numpy(dtype="datetime64[D]")
    starts = np.column_stack([add_months(trial, 1 + k) for k in range(n_intervals)])
    return months_since(np.repeat(d[:, None], n_intervals, axis=1), starts)


def at_horizon(horizon: int) -> float:
    """The time at which the curve is read for 'within ``horizon`` months': just before it."""
    return float(horizon) - EPSILON / 2
