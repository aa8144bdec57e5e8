"""The discrete-time competing-risks model of monthly exits.

Each month a person at risk leaves by one of EXIT_TYPES or stays. The probabilities come
from a multinomial logit against staying: ``p_k = exp(eta_k) / (1 + sum_j exp(eta_j))``.
A measure's true effect multiplies the odds of assisted return against staying by its
odds ratio. One uniform number per person-month picks the outcome, so the paths with and
without treatment share their random numbers (common random numbers).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EXIT_TYPES: tuple[str, ...] = (
    "assisted_return", "independent_return", "forced_return", "unknown_address", "permit", "other",
)
ASSISTED, INDEPENDENT, FORCED, UNKNOWN, PERMIT, OTHER = range(6)

# Effects of returnability (high, medium, low) on the log-odds of each exit type.
_RETURNABILITY = {
    ASSISTED: np.array([0.8, 0.0, -0.9]),
    INDEPENDENT: np.array([0.6, 0.0, -0.5]),
    FORCED: np.array([0.9, 0.0, -1.3]),
}
INTERCEPTS = {ASSISTED: -3.05, INDEPENDENT: -6.3, FORCED: -4.0, UNKNOWN: -4.0, PERMIT: -6.2, OTHER: -7.2}
MOTIVATION_ON_RETURN = 0.6
"""Log-odds of assisted return per standard deviation of the unobserved motivation."""


@dataclass(frozen=True)
class MonthCovariates:
    """Covariates of the people at risk in one month (aligned arrays)."""

    returnability: np.ndarray   # 0 high, 1 medium, 2 low
    agreement: np.ndarray       # return agreement in force (bool)
    household: np.ndarray       # 0 single, 1 with children, 2 couple
    male: np.ndarray
    dublin: np.ndarray
    identity: np.ndarray
    absconding: np.ndarray
    health: np.ndarray
    special: np.ndarray
    months_since_decision: np.ndarray
    centre_forced_rate: np.ndarray  # forced returns from the centre, last 3 months, per 100 residents
    motivation: np.ndarray


def _linear_predictors(x: MonthCovariates, log_odds_ratio: np.ndarray) -> np.ndarray:
    """Array (n, 6) of log-odds against staying, in the order of EXIT_TYPES."""
    children = x.household == 1
    couple = x.household == 2
    single_man = x.male & (x.household == 0)
    duration = np.log1p(x.months_since_decision / 3.0)
    agreement = x.agreement.astype(float)
    eta = np.empty((len(x.household), len(EXIT_TYPES)))
    eta[:, ASSISTED] = (INTERCEPTS[ASSISTED] + _RETURNABILITY[ASSISTED][x.returnability]
                        + 0.5 * agreement - 0.9 * children - 0.2 * couple - 0.3 * x.dublin
                        - 0.45 * x.health + 0.4 * x.identity - 0.3 * x.absconding
                        - 0.45 * duration + 0.06 * x.centre_forced_rate
                        + MOTIVATION_ON_RETURN * x.motivation + log_odds_ratio)
    eta[:, INDEPENDENT] = (INTERCEPTS[INDEPENDENT] + _RETURNABILITY[INDEPENDENT][x.returnability]
                           + 0.3 * x.identity + 0.3 * x.motivation)
    eta[:, FORCED] = (INTERCEPTS[FORCED] + _RETURNABILITY[FORCED][x.returnability]
                      + 0.8 * agreement + 0.6 * x.identity - 0.6 * children
                      + 0.3 * x.absconding + 0.5 * x.dublin - 0.1 * duration)
    eta[:, UNKNOWN] = (INTERCEPTS[UNKNOWN] + 0.5 * single_man + 0.9 * x.dublin
                       + 0.8 * x.absconding - 0.8 * children + 0.3 * agreement
                       - 0.35 * duration - 0.2 * x.motivation)
    eta[:, PERMIT] = (INTERCEPTS[PERMIT] + 1.0 * children + 0.6 * x.health
                      + 0.3 * x.special + 0.15 * duration)
    eta[:, OTHER] = INTERCEPTS[OTHER] + 0.3 * x.health
    return eta


def exit_probabilities(x: MonthCovariates, log_odds_ratio: np.ndarray) -> np.ndarray:
    """Array (n, 6) of monthly exit probabilities by type."""
    odds = np.exp(_linear_predictors(x, log_odds_ratio))
    return odds / (1.0 + odds.sum(axis=1, keepdims=True))


def draw_exits(probabilities: np.ndarray, uniform: np.ndarray) -> np.ndarray:
    """Exit type index per person (-1: stays) by inverting the cumulative probabilities."""
    cumulative = np.cumsum(probabilities, axis=1)
    kind = (uniform[:, None] >= cumulative).sum(axis=1)
    return np.where(kind >= len(EXIT_TYPES), -1, kind)
