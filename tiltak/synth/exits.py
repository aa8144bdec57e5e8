"""Dates of decisions, enrolments and exits, and the ``decisions`` and ``exits`` tables."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tiltak.synth.hazards import EXIT_TYPES
from tiltak.synth.months import month_start
from tiltak.synth.population import Population
from tiltak.synth.simulation import Simulation

NAT = np.datetime64("NaT", "D")


@dataclass(frozen=True)
class EventDates:
    """Dates (``datetime64[D]``, NaT when the event does not happen) of each person's events."""

    arrival: np.ndarray
    decision: np.ndarray
    start: np.ndarray
    exit: np.ndarray
    exit_all: np.ndarray  # also the exits of the twelve months after the window


def event_dates(start: np.datetime64, pop: Population, sim: Simulation) -> EventDates:
    """Days within the simulated months.

    The simulation fixes the start day of each enrolment (days 1-27) and the exit day
    (day 2 or later: moves happen on the first; after the decision day in the decision
    month; on or after the start day in the enrolment month, see ``tiltak.synth.clock``).
    """
    n = pop.size
    arrival = month_start(start, pop.arrival_month) + (pop.arrival_day - 1).astype("timedelta64[D]")
    decision = month_start(start, pop.decision_month) + (pop.decision_day - 1).astype("timedelta64[D]")
    enrolled = sim.enrol_month >= 0
    start_date = np.full(n, NAT)
    start_date[enrolled] = (month_start(start, sim.enrol_month[enrolled])
                            + (sim.start_day[enrolled] - 1).astype("timedelta64[D]"))
    return EventDates(arrival, decision, start_date, _dates(start, sim.exit_month, sim.exit_day),
                      _dates(start, sim.exit_month_all, sim.exit_day_all))


def _dates(start: np.datetime64, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    out = np.full(len(month), NAT)
    known = month >= 0
    out[known] = month_start(start, month[known]) + (day[known] - 1).astype("timedelta64[D]")
    return out


def decisions_frame(person_id: np.ndarray, pop: Population, dates: EventDates) -> pd.DataFrame:
    """The ``decisions`` table: one final decision per person."""
    case = np.where(pop.dublin, "dublin", np.where(pop.other_case, "other", "asylum"))
    return pd.DataFrame({"person_id": person_id, "decision_date": dates.decision.astype("datetime64[s]"),
                         "case_type": case})


def exits_frame(person_id: np.ndarray, sim: Simulation, dates: EventDates) -> pd.DataFrame:
    """The ``exits`` table: one row per person who left within the window."""
    left = sim.exit_month >= 0
    return pd.DataFrame({"person_id": person_id[left],
                         "exit_date": dates.exit[left].astype("datetime64[s]"),
                         "exit_type": np.array(EXIT_TYPES)[sim.exit_type[left]]})
