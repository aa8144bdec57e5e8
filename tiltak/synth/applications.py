"""Applications for assisted return.

Every assisted return is preceded by an application 2 to 16 weeks earlier (never before
the final decision). Some people apply and then do not leave (withdrawn or pending), more
often when their unobserved motivation is high: once, on a day drawn uniformly over the
time they are at risk, from the decision (or the window's start) to the day before their
exit, or to the end of the twelve months after the window when they do not leave by
then. Exits are simulated for those twelve months too (``tiltak.synth.simulation``), so
that an application made inside the window before a return just after it is in the
data; applications after the window are not.

The same rule, with the same random numbers, gives the application date on a
participant's potential paths (``tiltak.synth.truth``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tiltak.synth.exits import EventDates
from tiltak.synth.hazards import ASSISTED
from tiltak.synth.population import Population
from tiltak.synth.simulation import Simulation

UNFOLLOWED_APPLICATION_RATE = 0.06
"""Probability that someone who does not return assisted applies anyway (at average motivation)."""
HORIZON_DAYS = 366
"""At-risk time after the window over which an application of someone still present is spread
(the twelve simulated months after the window, rounded up)."""


@dataclass(frozen=True)
class ApplicationDraws:
    """Per person: the lag before an assisted return, whether and when one applies anyway."""

    lag: np.ndarray
    offset: np.ndarray
    applies: np.ndarray


def draw_applications(pop: Population, rng: np.random.Generator) -> ApplicationDraws:
    n = pop.size
    lag = rng.integers(14, 113, n).astype("timedelta64[D]")
    offset = rng.random(n)
    p = UNFOLLOWED_APPLICATION_RATE * np.exp(0.5 * pop.motivation - 0.125)
    return ApplicationDraws(lag, offset, rng.random(n) < p)


def application_dates(who: np.ndarray, exit_date: np.ndarray, exit_type: np.ndarray, dates: EventDates,
                      draws: ApplicationDraws, window_start: np.datetime64,
                      window_end: np.datetime64) -> np.ndarray:
    """Application date of people ``who`` given their exit (NaT: never exits / no application)."""
    returned = exit_type == ASSISTED
    decision = dates.decision[who]
    before_return = np.maximum(exit_date - draws.lag[who], decision)
    at_risk_from = np.maximum(decision, window_start)
    last = window_end + np.timedelta64(HORIZON_DAYS, "D")
    at_risk_to = np.where(np.isnat(exit_date), last, np.minimum(exit_date - np.timedelta64(1, "D"), last))
    span = (at_risk_to - at_risk_from).astype("timedelta64[D]").astype(np.int64)
    offset = np.floor(draws.offset[who] * (np.maximum(span, 0) + 1)).astype(np.int64)
    other = ~returned & (span >= 0) & draws.applies[who]
    date = np.where(returned, before_return, at_risk_from + offset.astype("timedelta64[D]"))
    return np.where(returned | other, date, np.datetime64("NaT", "D"))


def applications_frame(person_id: np.ndarray, pop: Population, sim: Simulation, dates: EventDates,
                       draws: ApplicationDraws, window_start: np.datetime64,
                       window_end: np.datetime64) -> pd.DataFrame:
    """The ``applications`` table (at most one application per person, inside the window)."""
    everyone = np.arange(pop.size)
    date = application_dates(everyone, dates.exit_all, sim.exit_type_all, dates, draws, window_start, window_end)
    chosen = ~np.isnat(date) & (date <= window_end)
    return pd.DataFrame({"person_id": person_id[chosen],
                         "application_date": date[chosen].astype("datetime64[s]"),
                         "programme": "assisted_return"})
