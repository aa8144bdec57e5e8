"""People obliged to leave: the opening stock and the monthly new final rejections."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tiltak.synth.centres import Centres
from tiltak.synth.config import SynthConfig
from tiltak.synth.nationalities import NATIONALITIES

HOUSEHOLDS: tuple[str, ...] = ("single", "with_children", "couple")
HOUSEHOLD_SHARES = np.array([0.66, 0.21, 0.13])
MALE_SHARE_BY_HOUSEHOLD = np.array([0.88, 0.42, 0.55])  # overall about 75 % male
DUBLIN_SHARE, IDENTITY_SHARE, ABSCONDING_SHARE = 0.10, 0.45, 0.08
HEALTH_SHARE, SPECIAL_SHARE, OTHER_CASE_SHARE = 0.15, 0.05, 0.02
STOCK_MEAN_MONTHS_SINCE_DECISION = 26.0  # about 40 % of the opening stock at 24+ months


@dataclass(frozen=True)
class Population:
    """Everyone ever at risk, as aligned arrays (one entry per person).

    Months are indices from the first simulated month: ``decision_month`` is negative for the
    opening stock. ``household`` indexes HOUSEHOLDS, ``nationality`` NATIONALITIES.
    ``motivation`` is the unobserved return motivation (standard normal).
    """

    decision_month: np.ndarray
    decision_day: np.ndarray
    arrival_month: np.ndarray
    arrival_day: np.ndarray
    age: np.ndarray          # age in the first month at risk
    male: np.ndarray
    household: np.ndarray
    nationality: np.ndarray
    dublin: np.ndarray
    identity: np.ndarray
    absconding: np.ndarray
    health: np.ndarray
    special: np.ndarray
    other_case: np.ndarray
    motivation: np.ndarray
    first_centre: np.ndarray

    @property
    def size(self) -> int:
        return len(self.decision_month)


def _decision_months(config: SynthConfig, rng: np.random.Generator) -> np.ndarray:
    stock = -1 - np.minimum(rng.exponential(STOCK_MEAN_MONTHS_SINCE_DECISION, config.n_opening), 119)
    stock = stock.astype(np.int64)
    inflow = rng.poisson(config.rejections_per_month, config.months)
    new = np.repeat(np.arange(config.months, dtype=np.int64), inflow)
    return np.concatenate([stock, new])


def _first_centres(household: np.ndarray, health: np.ndarray, centres: Centres,
                   rng: np.random.Generator) -> np.ndarray:
    """Families go mostly to family centres, people with health issues to health centres."""
    n = len(household)
    wanted = np.zeros(n, dtype=np.int64)
    wanted[(household == 1) & (rng.random(n) < 0.7)] = 1
    wanted[health & (rng.random(n) < 0.5)] = 2
    chosen = np.empty(n, dtype=np.int64)
    pick = rng.random(n)
    for kind in range(3):
        pool = np.flatnonzero(centres.centre_type == kind)
        mask = wanted == kind
        chosen[mask] = pool[np.minimum((pick[mask] * len(pool)).astype(np.int64), len(pool) - 1)]
    return chosen


def make_population(config: SynthConfig, centres: Centres, rng: np.random.Generator) -> Population:
    """Draw every person's covariates, decision month and first centre."""
    decision = _decision_months(config, rng)
    n = len(decision)
    household = rng.choice(3, size=n, p=HOUSEHOLD_SHARES)
    male = rng.random(n) < MALE_SHARE_BY_HOUSEHOLD[household]
    age = 18 + np.minimum(rng.gamma(2.0, 7.2, n), 60).astype(np.int64) + 3 * (household == 1)
    shares = np.array([nat.share for nat in NATIONALITIES])
    nationality = rng.choice(len(NATIONALITIES), size=n, p=shares / shares.sum())
    health = rng.random(n) < HEALTH_SHARE
    dublin = rng.random(n) < DUBLIN_SHARE
    waiting = 3 + rng.poisson(9, n)  # months from arrival to final decision
    return Population(
        decision_month=decision, decision_day=rng.integers(1, 28, n),
        arrival_month=decision - waiting, arrival_day=rng.integers(1, 29, n),
        age=age, male=male, household=household, nationality=nationality, dublin=dublin,
        identity=rng.random(n) < IDENTITY_SHARE, absconding=rng.random(n) < ABSCONDING_SHARE,
        health=health, special=rng.random(n) < SPECIAL_SHARE,
        other_case=~dublin & (rng.random(n) < OTHER_CASE_SHARE),
        motivation=rng.standard_normal(n),
        first_centre=_first_centres(household, health, centres, rng),
    )
