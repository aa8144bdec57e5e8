"""Applications for assisted return.

Every assisted return is preceded by an application 2 to 16 weeks earlier (never before
the final decision). Some people apply and then do not leave (withdrawn or pending), more
often when their unobserved motivation is high.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tiltak.synth.exits import EventDates
from tiltak.synth.hazards import ASSISTED
from tiltak.synth.population import Population
from tiltak.synth.simulation import Simulation

UNFOLLOWED_APPLICATION_RATE = 0.06
"""Probability that someone who does not return assisted applies anyway (at average motivation)."""


def applications_frame(person_id: np.ndarray, pop: Population, sim: Simulation,
                       dates: EventDates, window_start: np.datetime64, window_end: np.datetime64,
                       rng: np.random.Generator) -> pd.DataFrame:
    """The ``applications`` table (at most one application per person)."""
    n = pop.size
    lag = rng.integers(14, 113, n).astype("timedelta64[D]")
    returned = sim.exit_type == ASSISTED
    applied_before_return = np.maximum(dates.exit - lag, dates.decision)
    at_risk_from = np.maximum(dates.decision, window_start)
    at_risk_to = np.where(np.isnat(dates.exit), window_end, dates.exit - np.timedelta64(1, "D"))
    span = (at_risk_to - at_risk_from).astype("timedelta64[D]").astype(np.int64)
    offset = np.floor(rng.random(n) * (np.maximum(span, 0) + 1)).astype(np.int64)
    p = UNFOLLOWED_APPLICATION_RATE * np.exp(0.5 * pop.motivation - 0.125)
    other = ~returned & (span >= 0) & (rng.random(n) < p)
    date = np.where(returned, applied_before_return, at_risk_from + offset.astype("timedelta64[D]"))
    chosen = returned | other
    return pd.DataFrame({"person_id": person_id[chosen],
                         "application_date": date[chosen].astype("datetime64[s]"),
                         "programme": "assisted_return"})
