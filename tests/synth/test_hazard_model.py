"""Known truth: refitting the exit model on the simulated person-months recovers its parameters.

In the multinomial logit of the exit model, the probability of an assisted return given
that the month ends either in an assisted return or in staying is
``exp(eta_A) / (1 + exp(eta_A))``. A logistic regression of assisted return against staying
on the true covariates (including the hidden motivation) must therefore recover the
coefficients of ``eta_A``, including log(odds ratio) of participation, within sampling error.
The reference fit is scikit-learn's unpenalised logistic regression. Only whole months at
risk are used: in the month of the final decision a person is at risk after the decision
day only, and in the month a measure starts the untreated hazards apply until the start
(``tiltak.synth.clock``).
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from tiltak.synth import SynthConfig
from tiltak.synth.centres import make_centres
from tiltak.synth.hazards import ASSISTED, INTERCEPTS, MOTIVATION_ON_RETURN, UNKNOWN
from tiltak.synth.moves import centre_schedule
from tiltak.synth.population import make_population
from tiltak.synth.rollout import make_rollout
from tiltak.synth.simulation import month_covariates, simulate
from tiltak.synth.streams import stream

ODDS_RATIO = 2.5


@pytest.fixture(scope="module")
def person_months():
    config = SynthConfig(seed=31, scale=2.0, effect_return=ODDS_RATIO)
    rngs = {k: stream(config.seed, k) for k in ("centres", "population", "rollout", "moves",
                                                "participation", "exits", "exit_days", "start_days")}
    centres = make_centres(config.n_centres, rngs["centres"])
    pop = make_population(config, centres, rngs["population"])
    active = make_rollout(centres.count, config.months, rngs["rollout"])
    schedule = centre_schedule(pop.first_centre, pop.decision_month, config.months, centres, rngs["moves"])
    sim = simulate(config, pop, schedule, active, rngs)
    rows, outcome = [], []
    for t in range(config.months):
        idx = np.flatnonzero((pop.decision_month < t) & ((sim.exit_month < 0) | (sim.exit_month >= t))
                             & (sim.enrol_month != t))
        x = month_covariates(pop, idx, t, sim.centre[idx, t], sim.forced_rate)
        exit_now = np.where(sim.exit_month[idx] == t, sim.exit_type[idx], -1)
        treated = (sim.enrol_month[idx] >= 0) & (sim.enrol_month[idx] < t)
        design = np.column_stack([
            x.returnability == 0, x.returnability == 2, x.agreement, x.household == 1,
            x.household == 2, x.dublin, x.health, x.identity, x.absconding,
            np.log1p(x.months_since_decision / 3.0), x.centre_forced_rate, x.motivation, treated,
            x.male & (x.household == 0),
        ]).astype(float)
        rows.append(design)
        outcome.append(exit_now)
    return np.vstack(rows), np.concatenate(outcome)


def _fit(design, outcome, kind, columns):
    keep = (outcome == kind) | (outcome == -1)
    model = LogisticRegression(C=np.inf, max_iter=2000, tol=1e-8)
    model.fit(design[keep][:, columns], outcome[keep] == kind)
    return model.intercept_[0], model.coef_[0]


def test_assisted_return_coefficients_recovered(person_months):
    design, outcome = person_months
    intercept, coef = _fit(design, outcome, ASSISTED, list(range(13)))
    truth = [0.8, -0.9, 0.5, -0.9, -0.2, -0.3, -0.45, 0.4, -0.3, -0.45, 0.06,
             MOTIVATION_ON_RETURN, np.log(ODDS_RATIO)]
    tolerance = [0.15, 0.15, 0.15, 0.2, 0.25, 0.25, 0.2, 0.12, 0.3, 0.12, 0.05, 0.08, 0.12]
    assert intercept == pytest.approx(INTERCEPTS[ASSISTED], abs=0.25)
    for name, got, want, tol in zip(
        ["high", "low", "agreement", "children", "couple", "dublin", "health", "identity",
         "absconding", "duration", "forced_rate", "motivation", "participating"], coef, truth, tolerance):
        assert got == pytest.approx(want, abs=tol), name


def test_absconding_coefficients_recovered(person_months):
    design, outcome = person_months
    # unknown address: single man, Dublin, prior absconding, children, agreement, duration, motivation
    columns = [13, 5, 8, 3, 2, 9, 11]
    intercept, coef = _fit(design, outcome, UNKNOWN, columns)
    for got, want in zip(coef, [0.5, 0.9, 0.8, -0.8, 0.3, -0.35, -0.2]):
        assert got == pytest.approx(want, abs=0.2)
    assert intercept == pytest.approx(INTERCEPTS[UNKNOWN], abs=0.3)
