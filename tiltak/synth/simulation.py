"""The monthly simulation: enrolment in measures and competing exits, vectorised over people.

Each month, people at risk first draw whether they enrol (and in which measure, on which
day); then the month's exits are drawn on a continuous clock (``tiltak.synth.clock``): a
person who enrols on day ``s`` is at risk under the untreated hazards until ``s`` and
under the treated ones from it, and a person who leaves before ``s`` never starts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tiltak.synth.clock import MonthExit, clock_of_day, month_exit, start_day
from tiltak.synth.config import MEASURES, SynthConfig
from tiltak.synth.enrolment import choose_measure, enrolment_probability
from tiltak.synth.hazards import FORCED, MonthCovariates, exit_probabilities
from tiltak.synth.months import days_in_month
from tiltak.synth.nationalities import agreement_in_force, returnability_codes
from tiltak.synth.population import Population
from tiltak.synth.rollout import PLANS

FOLLOW_UP_MONTHS = 12
"""Months after the window for which the exit random numbers exist (potential outcomes)."""


@dataclass(frozen=True)
class Simulation:
    """Observed histories and the random numbers behind them.

    ``exit_month``/``exit_type``/``exit_day`` are -1 when the person is still at risk at the
    end of the window; ``exit_month_all``/``exit_type_all``/``exit_day_all`` include the exits
    of the twelve months after it. ``enrol_month``/``measure``/``start_day`` are -1 for
    people who never enrol. ``centre`` is the (n, months) centre schedule (people stay in
    the last one after the window); ``forced_rate`` the (centres, months + 12) covariate of
    earlier forced returns; ``active`` the roll-out (measures, centres,
    months); ``month_days`` the length of every month of the window and the 12 after it.
    The common random numbers: ``exit_exponential`` and ``exit_type_uniform`` (n, months + 12)
    for the exits, ``enrol_uniform`` (2, n, months) for enrolment and the measure chosen,
    ``start_uniform`` (n, months) for the start day.
    """

    exit_month: np.ndarray
    exit_type: np.ndarray
    exit_day: np.ndarray
    exit_month_all: np.ndarray
    exit_type_all: np.ndarray
    exit_day_all: np.ndarray
    enrol_month: np.ndarray
    measure: np.ndarray
    start_day: np.ndarray
    eligible: np.ndarray
    centre: np.ndarray
    forced_rate: np.ndarray
    active: np.ndarray
    month_days: np.ndarray
    exit_exponential: np.ndarray
    exit_type_uniform: np.ndarray
    enrol_uniform: np.ndarray
    start_uniform: np.ndarray


def month_covariates(pop: Population, idx: np.ndarray, month: np.ndarray | int,
                     centre: np.ndarray, forced_rate: np.ndarray) -> MonthCovariates:
    """Covariates of people ``idx`` in ``month`` living in ``centre``."""
    month_col = np.minimum(month, forced_rate.shape[1] - 1)
    return MonthCovariates(
        returnability=returnability_codes(pop.nationality[idx]),
        agreement=agreement_in_force(pop.nationality[idx], month),
        household=pop.household[idx], male=pop.male[idx], dublin=pop.dublin[idx],
        identity=pop.identity[idx], absconding=pop.absconding[idx], health=pop.health[idx],
        special=pop.special[idx], months_since_decision=month - pop.decision_month[idx],
        centre_forced_rate=forced_rate[centre, month_col], motivation=pop.motivation[idx],
    )


def log_odds_ratios(config: SynthConfig) -> np.ndarray:
    """log(odds ratio) per measure index, plus a trailing 0 for 'no measure' (index -1)."""
    return np.log(np.array([config.effect_return[m] for m in MEASURES] + [1.0]))


def measure_weights() -> np.ndarray:
    """Relative pull of each measure when a centre offers several (order of MEASURES)."""
    return np.array([PLANS[m].weight for m in MEASURES])


def _forced_rate(forced: np.ndarray, residents: np.ndarray, t: int) -> np.ndarray:
    recent = forced[:, max(0, t - 3):t].sum(axis=1)
    return 100.0 * recent / np.maximum(residents, 1)


def enrolment_draws(config: SynthConfig, pop: Population, idx: np.ndarray, t: int, x: MonthCovariates,
                    offered: np.ndarray, uniform: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Who of ``idx`` (at risk, not yet enrolled) draws to enrol in month ``t``, and in which measure.

    ``offered`` (len(idx), measures) says which measures the person's centre runs;
    ``uniform`` (2, len(idx)) are the person-month's enrolment draws. Returns the mask of
    people who draw to enrol and the measure index for each (-1 for the others).
    """
    draw, pick = uniform
    can = offered.any(axis=1) & (pop.decision_month[idx] < t)
    age = pop.age[idx] + (t - np.maximum(pop.decision_month[idx], 0)) // 12
    chosen = can & (draw < enrolment_probability(x, age, config.hidden_bias))
    measure = np.full(len(idx), -1)
    if chosen.any():
        measure[chosen] = choose_measure(offered[chosen], measure_weights(), pick[chosen])
    return chosen, measure


def exits_in_month(pop: Population, sim_arrays: "Simulation | _Arrays", idx: np.ndarray, t: np.ndarray | int,
                   x: MonthCovariates, lor: np.ndarray, before: np.ndarray, after: np.ndarray,
                   switch: np.ndarray) -> MonthExit:
    """Exits of people ``idx`` in month(s) ``t`` under measure ``before`` until ``switch``, ``after`` from it.

    ``before``/``after`` are measure indices (-1: none); ``switch`` the clock of the start.
    People in the month of their final decision are at risk only after the decision day.
    """
    t = np.broadcast_to(np.asarray(t), idx.shape)
    days = sim_arrays.month_days[t]
    p_before = exit_probabilities(x, lor[before])
    same = before == after
    p_after = p_before.copy()
    if (~same).any():
        p_after[~same] = exit_probabilities(_subset(x, ~same), lor[after[~same]])
    decided_now = pop.decision_month[idx] == t
    begin = np.where(decided_now, clock_of_day(pop.decision_day[idx] + 1, days), 0.0)
    return month_exit(p_before, p_after, np.where(same, 1.0, switch), begin,
                      sim_arrays.exit_exponential[idx, t], sim_arrays.exit_type_uniform[idx, t], days)


def _subset(x: MonthCovariates, mask: np.ndarray) -> MonthCovariates:
    return MonthCovariates(**{name: getattr(x, name)[mask] for name in MonthCovariates.__dataclass_fields__})


@dataclass(frozen=True)
class _Arrays:
    month_days: np.ndarray
    exit_exponential: np.ndarray
    exit_type_uniform: np.ndarray


def simulate(config: SynthConfig, pop: Population, centre: np.ndarray, active: np.ndarray,
             rngs: dict[str, np.random.Generator]) -> Simulation:
    """Run the months in order; each month enrolment first, then exits.

    Exits are simulated for twelve months after the window as well (nobody starts a
    measure then; people stay in their last centre), so that an application made before
    a return just after the window can be in the data. Only exits inside the window are in
    ``exit_month``/``exit_type``/``exit_day``; the ``*_all`` fields hold all of them.
    """
    n, months, n_centres = pop.size, config.months, active.shape[1]
    horizon = months + FOLLOW_UP_MONTHS
    arrays = _Arrays(
        month_days=days_in_month(np.datetime64(config.start, "M"), np.arange(horizon)).astype(float),
        exit_exponential=-np.log1p(-rngs["exits"].random((n, horizon))),
        exit_type_uniform=rngs["exit_days"].random((n, horizon)),
    )
    # One set of numbers per person-month, so that runs with other effect sizes keep
    # the same enrolment draws for the same person and month.
    enrol_uniform = rngs["participation"].random((2, n, months), dtype=np.float32)
    start_uniform = rngs["start_days"].random((n, months))
    state = {name: np.full(n, -1) for name in ("exit_month", "exit_type", "exit_day", "enrol_month",
                                                "measure", "start_day")}
    eligible = np.zeros(n, dtype=bool)
    forced = np.zeros((n_centres, horizon))
    forced_rate = np.zeros((n_centres, horizon))
    lor = log_odds_ratios(config)
    for t in range(horizon):
        idx = np.flatnonzero((pop.decision_month <= t) & (state["exit_month"] < 0))
        c = centre[idx, min(t, months - 1)]
        forced_rate[:, t] = _forced_rate(forced, np.bincount(c, minlength=n_centres), t)
        x = month_covariates(pop, idx, t, c, forced_rate)
        before = state["measure"][idx]
        after, switch = before, np.ones(len(idx))
        if t < months:
            fresh = state["enrol_month"][idx] < 0
            offered = active[:, c, t].T & fresh[:, None]
            eligible[idx[offered.any(axis=1) & (pop.decision_month[idx] < t)]] = True
            chosen, chosen_measure = enrolment_draws(config, pop, idx, t, x, offered, enrol_uniform[:, idx, t])
            day = start_day(start_uniform[idx, t])
            after = np.where(chosen, chosen_measure, before)
            # treated from the day after the start day: who leaves on or before it never starts
            switch = np.where(chosen, clock_of_day(day + 1, arrays.month_days[t]), 1.0)
        out = exits_in_month(pop, arrays, idx, t, x, lor, before, after, switch)
        if t < months:
            started = chosen & ~((out.kind >= 0) & (out.clock < switch))
            state["enrol_month"][idx[started]] = t
            state["measure"][idx[started]] = chosen_measure[started]
            state["start_day"][idx[started]] = day[started]
        leaving = out.kind >= 0
        state["exit_month"][idx[leaving]] = t
        state["exit_type"][idx[leaving]] = out.kind[leaving]
        state["exit_day"][idx[leaving]] = out.day[leaving]
        forced[:, t] = np.bincount(c[out.kind == FORCED], minlength=n_centres)
    inside = (state["exit_month"] >= 0) & (state["exit_month"] < months)
    window = {name: np.where(inside, state[name], -1) for name in ("exit_month", "exit_type", "exit_day")}
    return Simulation(**{**state, **window}, exit_month_all=state["exit_month"], exit_type_all=state["exit_type"],
                      exit_day_all=state["exit_day"], eligible=eligible, centre=centre,
                      forced_rate=forced_rate, active=active,
                      month_days=arrays.month_days, exit_exponential=arrays.exit_exponential,
                      exit_type_uniform=arrays.exit_type_uniform, enrol_uniform=enrol_uniform,
                      start_uniform=start_uniform)
