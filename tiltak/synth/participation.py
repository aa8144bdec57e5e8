"""Participation records: planned and attended sessions, end date and completion."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tiltak.synth.centres import Centres
from tiltak.synth.config import MEASURES
from tiltak.synth.exits import EventDates
from tiltak.synth.population import Population
from tiltak.synth.simulation import Simulation


@dataclass(frozen=True)
class MeasureDesign:
    """Sessions planned (uniform between the bounds) over ``days`` from the start."""

    min_sessions: int
    max_sessions: int
    days: int


DESIGNS: dict[str, MeasureDesign] = {
    "VV": MeasureDesign(6, 10, 90),    # structured conversations over about three months
    "KVL": MeasureDesign(16, 24, 60),  # local course days over two months
    "KVN": MeasureDesign(20, 30, 45),  # national residential course over six weeks
}
COMPLETION_SHARE = 0.75
"""A participant completes when attending at least this share of the planned sessions."""


@dataclass(frozen=True)
class Participation:
    """Participants (indices into the population) and their records, aligned."""

    person: np.ndarray
    measure: np.ndarray
    start: np.ndarray
    end: np.ndarray          # last day, NaT while ongoing at the end of the window
    planned: np.ndarray
    attended: np.ndarray
    completed: np.ndarray    # -1 unknown (ongoing), 0 no, 1 yes
    centre: np.ndarray


def make_participation(pop: Population, sim: Simulation, dates: EventDates,
                       window_end: np.datetime64, rng: np.random.Generator) -> Participation:
    """Records of everyone who enrolled; exits cut participation short."""
    person = np.flatnonzero(sim.enrol_month >= 0)
    measure = sim.measure[person]
    design = [DESIGNS[m] for m in MEASURES]
    low = np.array([d.min_sessions for d in design])[measure]
    high = np.array([d.max_sessions for d in design])[measure]
    planned = rng.integers(low, high + 1)
    days = np.array([d.days for d in design])[measure]
    start = dates.start[person]
    planned_end = start + (days - 1).astype("timedelta64[D]")
    exit_date = dates.exit[person]
    left_early = ~np.isnat(exit_date) & (exit_date <= planned_end)
    censored = ~left_early & (planned_end > window_end)
    # A person who leaves on the start day took part on that day only.
    last_present = np.maximum(exit_date - np.timedelta64(1, "D"), start)
    stop = np.where(left_early, last_present, np.where(censored, window_end, planned_end))
    elapsed = ((stop - start).astype(int) + 1) / days
    rate = 1 / (1 + np.exp(-(1.6 + 0.5 * pop.motivation[person] - 0.5 * pop.health[person])))
    attended = rng.binomial(np.round(planned * np.minimum(elapsed, 1)).astype(int), rate)
    completed = np.where(censored, -1, (~left_early & (attended >= COMPLETION_SHARE * planned)).astype(int))
    end = np.where(censored, np.datetime64("NaT", "D"), stop)
    centre = sim.centre[person, sim.enrol_month[person]]
    return Participation(person, measure, start, end, planned, attended, completed, centre)


def participation_frame(person_id: np.ndarray, part: Participation, centres: Centres) -> pd.DataFrame:
    """The ``participation`` table (``completed`` null while ongoing)."""
    completed = pd.array(np.where(part.completed < 0, None, part.completed == 1), dtype="boolean")
    completed[part.completed < 0] = pd.NA
    return pd.DataFrame({
        "person_id": person_id[part.person], "measure": np.array(MEASURES)[part.measure],
        "start_date": part.start.astype("datetime64[s]"), "end_date": part.end.astype("datetime64[s]"),
        "sessions_planned": part.planned.astype("int32"), "sessions_attended": part.attended.astype("int32"),
        "completed": completed, "centre_id": centres.ids[part.centre],
    })
