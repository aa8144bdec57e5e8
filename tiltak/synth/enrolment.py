"""Who enrols in a measure: a monthly logistic model among eligible people.

A person is eligible in a month when obliged to leave since an earlier month, still at
risk, not yet enrolled, and living in a centre that offers at least one measure. The log-odds
of enrolling depend on observed covariates and, scaled by ``hidden_bias``, on the
unobserved motivation. With several measures on offer, one is chosen in proportion to the
measures' weights.
"""

from __future__ import annotations

import numpy as np

from tiltak.synth.hazards import MonthCovariates

ENROLMENT_INTERCEPT = -3.55
"""Calibrated so that 15-25 % of eligible people take part over three years."""


def enrolment_probability(x: MonthCovariates, age: np.ndarray, hidden_bias: float) -> np.ndarray:
    """Monthly probability of enrolling for eligible people."""
    eta = (ENROLMENT_INTERCEPT + 0.35 * x.health + 0.25 * (x.household == 1)
           + 0.2 * x.identity - 0.9 * x.dublin - 0.35 * np.log1p(x.months_since_decision / 6.0)
           + 0.25 * ~x.male - 0.015 * (age - 30) + 0.2 * (x.returnability == 2)
           - 0.3 * x.absconding)
    # The shift keeps overall uptake about constant as the hidden bias grows.
    eta = eta + hidden_bias * x.motivation - 0.3 * hidden_bias**2
    return 1.0 / (1.0 + np.exp(-eta))


def choose_measure(offered: np.ndarray, weights: np.ndarray, uniform: np.ndarray) -> np.ndarray:
    """Index of the measure chosen from ``offered`` (bool array n x measures)."""
    w = offered * weights[None, :]
    cumulative = np.cumsum(w, axis=1) / w.sum(axis=1, keepdims=True)
    return np.minimum((uniform[:, None] >= cumulative).sum(axis=1), offered.shape[1] - 1)
