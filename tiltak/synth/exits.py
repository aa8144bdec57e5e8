"""Dates of decisions, enrolments and exits, and the ``decisions`` and ``exits`` tables."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tiltak.synth.hazards import EXIT_TYPES
from tiltak.synth.months import day_in_month, month_start
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


def event_dates(start: np.datetime64, pop: Population, sim: Simulation,
                rng: np.random.Generator) -> EventDates:
    """Days within the simulated months.

    Enrolment falls on days 1-27 of its month; an exit falls on day 2 or later (moves happen
    on the first), after the decision day in the decision month and after the start day
    in the enrolment month.
    """
    n = pop.size
    arrival = month_start(start, pop.arrival_month) + (pop.arrival_day - 1).astype("timedelta64[D]")
    decision = month_start(start, pop.decision_month) + (pop.decision_day - 1).astype("timedelta64[D]")
    enrolled = sim.enrol_month >= 0
    start_date = np.full(n, NAT)
    start_day = np.floor(rng.random(n) * 27).astype(np.int64)  # days 1-27 leave room for an exit
    start_date[enrolled] = (month_start(start, sim.enrol_month[enrolled])
                            + start_day[enrolled].astype("timedelta64[D]"))
    exited = sim.exit_month >= 0
    lowest = np.full(n, 2)
    same_decision = exited & (sim.exit_month == pop.decision_month)
    lowest[same_decision] = pop.decision_day[same_decision] + 1
    same_start = exited & (sim.exit_month == sim.enrol_month)
    start_day = (start_date - month_start(start, np.maximum(sim.enrol_month, 0))).astype(int) + 1
    lowest[same_start] = np.maximum(lowest[same_start], start_day[same_start] + 1)
    exit_date = np.full(n, NAT)
    exit_date[exited] = day_in_month(start, sim.exit_month[exited], lowest[exited], rng.random(n)[exited])
    return EventDates(arrival, decision, start_date, exit_date)


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
