"""The ground truth: each participant's potential outcomes and the true effect per estimand.

A participant of measure ``m`` who started on day ``d`` of month ``t`` is simulated three
times from month ``t`` on with the same random numbers (exits, enrolment draws, start days,
applications), for the twelve months after ``d`` (beyond the window if need be):

* ``treated``: starts ``m`` on ``d`` (inside the window this is exactly the observed history);
* ``not_enrolled``: never starts ``m``; starts no measure in month ``t``; from month ``t + 1``
  may start another measure as people do (the person-month's enrolment draw and start
  day; a draw that would pick ``m`` starts nothing that month);
* ``later``: starts no measure in month ``t``; from month ``t + 1`` may start any measure,
  ``m`` included, as people do.

The estimand ``enrol_vs_not`` compares ``treated`` with ``not_enrolled``; the estimand
``enrol_now_vs_later`` compares ``treated`` with ``later``. Every outcome is counted on
the same clock as the evaluation: from the start date ``d`` to ``d + k`` calendar months
(exclusive). HSCL-10 outcomes have a truth for ``enrol_vs_not`` only: the surveyed control
sample never enrols, so the registers cannot show a later start (docs/synthetic-data.md).
Months after the window reuse the last month's centre and forced-return covariate; no
measure starts after the window.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tiltak.synth.applications import ApplicationDraws, application_dates
from tiltak.synth.clock import clock_of_day, start_day
from tiltak.synth.config import MEASURES, SynthConfig
from tiltak.synth.exits import NAT, EventDates
from tiltak.synth.hazards import ASSISTED, FORCED, INDEPENDENT, UNKNOWN
from tiltak.synth.months import month_start
from tiltak.synth.participation import Participation
from tiltak.synth.population import Population
from tiltak.synth.simulation import (
    Simulation, _subset, enrolment_draws, exits_in_month, log_odds_ratios, month_covariates,
)
from tiltak.synth.surveys import OCCASION_DAYS as SURVEY_DAYS

ARMS = ("treated", "not_enrolled", "later")
ESTIMANDS = {"enrol_vs_not": "not_enrolled", "enrol_now_vs_later": "later"}
"""Each estimand and the arm the participants' treated outcomes are compared with."""
EXIT_OUTCOMES: dict[str, tuple[tuple[int, ...], int]] = {
    "assisted_return_6m": ((ASSISTED,), 6),
    "assisted_return_12m": ((ASSISTED,), 12),
    "any_return_12m": ((ASSISTED, INDEPENDENT, FORCED), 12),
    "forced_return_12m": ((FORCED,), 12),
    "unknown_address_12m": ((UNKNOWN,), 12),
}
"""Exit outcomes of the indicator catalogue: an exit of one of the types in [d, d + k months)."""
APPLICATION_OUTCOMES: dict[str, int] = {"application_6m": 6}
"""Application outcomes of the catalogue: an application for assisted return in [d, d + k months)."""
SURVEY_OUTCOMES: dict[str, int] = {"hscl10_change_3m": 1, "hscl10_change_6m": 2}
"""Survey-change outcomes of the catalogue: occasion index (91 and 182 days after the start)."""


@dataclass(frozen=True)
class PathExits:
    """Per participant on one arm: exit date (NaT: none within the path) and type (-1)."""

    date: np.ndarray
    kind: np.ndarray


def _path(config: SynthConfig, pop: Population, sim: Simulation, part: Participation, arm: str,
          start: np.datetime64) -> PathExits:
    """Exits of every participant on one arm, month by month from the start month to the end
    of the twelve months after the window (as the observed simulation runs)."""
    person, measure = part.person, part.measure
    enrol = sim.enrol_month[person]
    months, horizon = sim.centre.shape[1], sim.exit_exponential.shape[1]
    lor = log_odds_ratios(config)
    own = measure.copy() if arm == "treated" else np.full(len(person), -1)
    kind, date = np.full(len(person), -1), np.full(len(person), NAT)
    for month in range(int(enrol.min(initial=horizon)), horizon):
        idx = np.flatnonzero((kind < 0) & (enrol <= month))
        p, h = person[idx], month - enrol[idx]
        tt = np.full(len(idx), month)
        x = month_covariates(pop, p, tt, sim.centre[p, min(month, months - 1)], sim.forced_rate)
        first = h == 0
        before = np.where(first & (arm == "treated"), -1, own[idx])
        after, switch = own[idx].copy(), np.ones(len(idx))
        if arm == "treated":
            switch[first] = clock_of_day(sim.start_day[p[first]] + 1, sim.month_days[month])
        else:
            later = ~first
            after[later], switch[later] = _later_start(config, pop, sim, p[later], tt[later],
                                                       _subset(x, later), own[idx][later], measure[idx][later], arm)
        out = exits_in_month(pop, sim, p, tt, x, lor, before, after, switch)
        started = (after != before) & ~((out.kind >= 0) & (out.clock < switch))
        own[idx[started]] = after[started]
        left = out.kind >= 0
        kind[idx[left]] = out.kind[left]
        date[idx[left]] = month_start(start, month) + (out.day[left] - 1).astype("timedelta64[D]")
    return PathExits(date, kind)


def _later_start(config: SynthConfig, pop: Population, sim: Simulation, p: np.ndarray, t: np.ndarray,
                 x, own: np.ndarray, measure: np.ndarray, arm: str) -> tuple[np.ndarray, np.ndarray]:
    """Measure from the switch and the switch clock of people on a comparison arm in month ``t``."""
    months = sim.centre.shape[1]
    after, switch = own.copy(), np.ones(len(p))
    fresh = (own < 0) & (t < months)
    if not fresh.any():
        return after, switch
    q, tq = p[fresh], t[fresh]
    offered = sim.active[:, sim.centre[q, tq], tq].T
    chosen, chosen_measure = enrolment_draws(config, pop, q, tq, _subset(x, fresh), offered,
                                             sim.enrol_uniform[:, q, tq])
    if arm == "not_enrolled":
        chosen &= chosen_measure != measure[fresh]
    where = np.flatnonzero(fresh)[chosen]
    after[where] = chosen_measure[chosen]
    day = start_day(sim.start_uniform[q[chosen], tq[chosen]])
    switch[where] = clock_of_day(day + 1, sim.month_days[tq[chosen]])
    return after, switch


@dataclass(frozen=True)
class PotentialOutcomes:
    """Per participant (aligned with Participation): outcomes on each arm."""

    exits: dict[tuple[str, str], np.ndarray]   # (outcome id, arm) -> bool
    hscl: dict[tuple[int, str], np.ndarray]    # (occasion, arm) -> HSCL-10 mean item score


def register_outcomes(config: SynthConfig, pop: Population, sim: Simulation, part: Participation,
                      dates: EventDates, draws: ApplicationDraws, window: tuple[np.datetime64, np.datetime64],
                      ) -> dict[tuple[str, str], np.ndarray]:
    """Each exit and application outcome on each arm, counted over [d, d + k months)."""
    start = np.datetime64(config.start, "M")
    d = part.start
    out: dict[tuple[str, str], np.ndarray] = {}
    for arm in ARMS:
        path = _path(config, pop, sim, part, arm, start)
        applied = application_dates(part.person, path.date, path.kind, dates, draws, *window)
        for outcome, (types, horizon) in EXIT_OUTCOMES.items():
            out[(outcome, arm)] = np.isin(path.kind, types) & (path.date < add_months(d, horizon))
        for outcome, horizon in APPLICATION_OUTCOMES.items():
            out[(outcome, arm)] = ~np.isnat(applied) & (applied >= d) & (applied < add_months(d, horizon))
    return out


def add_months(day: np.ndarray, k: int) -> np.ndarray:
    """``day + k`` calendar months, clipped to the month's last day (as DuckDB and pandas do)."""
    month = day.astype("datetime64[M]")
    target = month + k
    offset = (day - month.astype("datetime64[D]")).astype(np.int64)
    length = ((target + 1).astype("datetime64[D]") - target.astype("datetime64[D]")).astype(np.int64)
    return target.astype("datetime64[D]") + np.minimum(offset, length - 1).astype("timedelta64[D]")


def followed_up(part: Participation, start: np.datetime64, months: int, horizon: int) -> np.ndarray:
    """Whether the participant's whole start month can be followed for ``horizon`` months.

    The evaluation uses a trial (start month) for horizon ``k`` only when every start date
    in it has its ``k`` months inside the data, i.e. month index + k + 1 <= months.
    """
    enrol = (part.start.astype("datetime64[M]") - start).astype(int)
    return enrol + horizon + 1 <= months


def truth_outcomes_frame(person_id: np.ndarray, part: Participation, outcomes: PotentialOutcomes,
                         start: np.datetime64, months: int, window_end: np.datetime64) -> pd.DataFrame:
    """The ``truth_outcomes`` table: one row per participant."""
    frame = pd.DataFrame({
        "person_id": person_id[part.person], "measure": np.array(MEASURES)[part.measure],
        "enrolment_month": np.datetime_as_string(part.start.astype("datetime64[M]"), unit="M"),
        "start_date": part.start.astype("datetime64[s]"),
    })
    for outcome in (*EXIT_OUTCOMES, *APPLICATION_OUTCOMES):
        for arm in ARMS:
            frame[f"{outcome}_{arm}"] = outcomes.exits[(outcome, arm)]
    for horizon in (6, 12):
        frame[f"followed_up_{horizon}m"] = followed_up(part, start, months, horizon)
    frame["hscl10_baseline"] = outcomes.hscl[(0, "not_enrolled")]
    for outcome, occasion in SURVEY_OUTCOMES.items():
        months_after = 3 * occasion
        for arm in ("treated", "not_enrolled"):
            frame[f"hscl10_{months_after}m_{arm}"] = outcomes.hscl[(occasion, arm)]
            frame[f"{outcome}_{arm}"] = np.round(outcomes.hscl[(occasion, arm)] - outcomes.hscl[(0, "not_enrolled")], 10)
        days = int(SURVEY_DAYS[occasion])
        frame[f"followed_up_hscl10_{months_after}m"] = part.start + np.timedelta64(days, "D") <= window_end
    return frame


def _specs(config: SynthConfig) -> list[tuple[str, str, str, dict]]:
    specs = [(outcome, f"followed_up_{horizon}m", "odds_ratio", config.effect_return)
             for outcome, (_, horizon) in EXIT_OUTCOMES.items()]
    specs += [(outcome, f"followed_up_{horizon}m", "odds_ratio", config.effect_return)
              for outcome, horizon in APPLICATION_OUTCOMES.items()]
    specs += [(outcome, f"followed_up_hscl10_{3 * occasion}m", "mean_shift", config.effect_hscl)
              for outcome, occasion in SURVEY_OUTCOMES.items()]
    return specs


def truth_effects_frame(config: SynthConfig, outcomes: pd.DataFrame) -> pd.DataFrame:
    """The ``truth_effects`` table: the true effect per measure, outcome and estimand.

    ``parameter_value`` is the measure's odds ratio on assisted return for exit and
    application outcomes (the other exit types change through competition) and its full
    HSCL-10 shift for survey outcomes (60 % of it applies at 3 months). Survey outcomes
    have no truth (NaN) for ``enrol_now_vs_later``.
    """
    rows = []
    for measure in MEASURES:
        group = outcomes[outcomes["measure"] == measure]
        for outcome, followed, kind, parameters in _specs(config):
            full = group[followed].to_numpy(bool)
            y1 = group[f"{outcome}_treated"].astype(float)
            for estimand, arm in ESTIMANDS.items():
                column = f"{outcome}_{arm}"
                y0 = group[column].astype(float) if column in group else pd.Series(np.nan, index=group.index)
                rows.append({
                    "measure": measure, "outcome": outcome, "estimand": estimand,
                    "true_att": _mean(y1 - y0), "mean_treated": _mean(y1), "mean_untreated": _mean(y0),
                    "n_participants": len(group),
                    "true_att_followed_up": _mean((y1 - y0)[full]), "n_followed_up": int(full.sum()),
                    "parameter": kind, "parameter_value": parameters[measure],
                    "hidden_bias": config.hidden_bias, "seed": config.seed,
                })
    return pd.DataFrame(rows)


def _mean(values: pd.Series) -> float:
    return float(values.mean()) if len(values) and values.notna().all() else float("nan")
