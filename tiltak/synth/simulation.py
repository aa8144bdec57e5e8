"""The monthly simulation: enrolment in measures and competing exits, vectorised over people."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tiltak.synth.config import MEASURES, SynthConfig
from tiltak.synth.enrolment import choose_measure, enrolment_probability
from tiltak.synth.hazards import FORCED, MonthCovariates, draw_exits, exit_probabilities
from tiltak.synth.nationalities import agreement_in_force, returnability_codes
from tiltak.synth.population import Population
from tiltak.synth.rollout import PLANS

FOLLOW_UP_MONTHS = 12
"""Months after the window for which the exit random numbers exist (potential outcomes)."""


@dataclass(frozen=True)
class Simulation:
    """Observed histories.

    ``exit_month``/``exit_type`` are -1 when the person is still at risk at the end;
    ``enrol_month``/``measure`` are -1 for people who never enrol. ``centre`` is the
    (n, months) centre schedule; ``forced_rate`` the (centres, months) covariate of earlier
    forced returns; ``exit_uniform`` the (n, months + 12) common random numbers.
    """

    exit_month: np.ndarray
    exit_type: np.ndarray
    enrol_month: np.ndarray
    measure: np.ndarray
    eligible: np.ndarray
    centre: np.ndarray
    forced_rate: np.ndarray
    exit_uniform: np.ndarray


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


def _forced_rate(forced: np.ndarray, residents: np.ndarray, t: int) -> np.ndarray:
    recent = forced[:, max(0, t - 3):t].sum(axis=1)
    return 100.0 * recent / np.maximum(residents, 1)


def simulate(config: SynthConfig, pop: Population, centre: np.ndarray, active: np.ndarray,
             rngs: dict[str, np.random.Generator]) -> Simulation:
    """Run the months in order; each month enrolment first, then exits."""
    n, months, n_centres = pop.size, config.months, active.shape[1]
    exit_uniform = rngs["exits"].random((n, months + FOLLOW_UP_MONTHS))
    # One pair of numbers per person-month, so that runs with other effect sizes keep
    # the same enrolment draws for the same person and month.
    enrol_uniform = rngs["participation"].random((2, n, months), dtype=np.float32)
    exit_month = np.full(n, -1)
    exit_type = np.full(n, -1)
    enrol_month = np.full(n, -1)
    measure = np.full(n, -1)
    eligible = np.zeros(n, dtype=bool)
    forced = np.zeros((n_centres, months))
    forced_rate = np.zeros((n_centres, months))
    lor = log_odds_ratios(config)
    weights = np.array([PLANS[m].weight for m in MEASURES])
    for t in range(months):
        idx = np.flatnonzero((pop.decision_month <= t) & (exit_month < 0))
        c = centre[idx, t]
        forced_rate[:, t] = _forced_rate(forced, np.bincount(c, minlength=n_centres), t)
        x = month_covariates(pop, idx, t, c, forced_rate)
        _enrol(config, pop, idx, t, x, active[:, c, t].T, weights, enrol_uniform[:, idx, t],
               enrol_month, measure, eligible)
        kind = draw_exits(exit_probabilities(x, lor[measure[idx]]), exit_uniform[idx, t])
        leaving = kind >= 0
        exit_month[idx[leaving]] = t
        exit_type[idx[leaving]] = kind[leaving]
        forced[:, t] = np.bincount(c[kind == FORCED], minlength=n_centres)
    return Simulation(exit_month, exit_type, enrol_month, measure, eligible, centre,
                      forced_rate, exit_uniform)


def _enrol(config: SynthConfig, pop: Population, idx: np.ndarray, t: int, x: MonthCovariates,
           offered: np.ndarray, weights: np.ndarray, uniform: np.ndarray,
           enrol_month: np.ndarray, measure: np.ndarray, eligible: np.ndarray) -> None:
    """Enrol some eligible people this month (updates the arrays in place)."""
    draw, pick = uniform
    can = offered.any(axis=1) & (enrol_month[idx] < 0) & (pop.decision_month[idx] < t)
    eligible[idx[can]] = True
    age = pop.age[idx] + (t - np.maximum(pop.decision_month[idx], 0)) // 12
    p = enrolment_probability(x, age, config.hidden_bias)
    chosen = can & (draw < p)
    enrol_month[idx[chosen]] = t
    measure[idx[chosen]] = choose_measure(offered[chosen], weights, pick[chosen])
