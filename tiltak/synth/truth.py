"""The ground truth: each participant's potential outcomes and the true ATT per measure.

For every participant the months from enrolment on are simulated twice with the same
random numbers: once with the measure's odds ratio on assisted return (treated) and once
without (untreated). Months after the window reuse the last month's centre and forced-return
covariate. Inside the window the treated path is exactly the observed history.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tiltak.synth.config import MEASURES, SynthConfig
from tiltak.synth.hazards import ASSISTED, FORCED, INDEPENDENT, UNKNOWN, draw_exits, exit_probabilities
from tiltak.synth.participation import Participation
from tiltak.synth.population import Population
from tiltak.synth.simulation import FOLLOW_UP_MONTHS, Simulation, log_odds_ratios, month_covariates
from tiltak.synth.surveys import OCCASION_DAYS as SURVEY_DAYS

RETURN_HORIZONS = (6, 12)
EXIT_OUTCOMES: dict[str, tuple[tuple[int, ...], int]] = {
    "assisted_return_6m": ((ASSISTED,), 6),
    "assisted_return_12m": ((ASSISTED,), 12),
    "any_return_12m": ((ASSISTED, INDEPENDENT, FORCED), 12),
    "forced_return_12m": ((FORCED,), 12),
    "unknown_address_12m": ((UNKNOWN,), 12),
}
"""Exit outcomes of the indicator catalogue: exit of one of the types within n months
(the enrolment month counts as the first)."""
SURVEY_OUTCOMES: dict[str, int] = {"hscl10_change_3m": 1, "hscl10_change_6m": 2}
"""Survey-change outcomes of the catalogue: occasion index (3 and 6 months after enrolment)."""


def potential_exits(pop: Population, sim: Simulation, person: np.ndarray, enrol: np.ndarray,
                    log_or: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Months from enrolment to exit (-1: none within 12) and exit type, for one arm."""
    months = sim.centre.shape[1]
    offset = np.full(len(person), -1)
    kind = np.full(len(person), -1)
    for h in range(FOLLOW_UP_MONTHS):
        t = enrol + h
        centre = sim.centre[person, np.minimum(t, months - 1)]
        x = month_covariates(pop, person, t, centre, sim.forced_rate)
        k = draw_exits(exit_probabilities(x, log_or), sim.exit_uniform[person, t])
        new = (offset < 0) & (k >= 0)
        offset[new], kind[new] = h, k[new]
    return offset, kind


@dataclass(frozen=True)
class PotentialOutcomes:
    """Per participant (aligned with Participation): outcomes under treatment (1) and not (0)."""

    exits: dict[tuple[str, int], np.ndarray]   # (outcome id, arm) -> bool
    hscl: dict[tuple[int, int], np.ndarray]    # (occasion, arm) -> HSCL-10 mean item score


def exit_outcomes(config: SynthConfig, pop: Population, sim: Simulation,
                  part: Participation) -> dict[tuple[str, int], np.ndarray]:
    """Each exit outcome of EXIT_OUTCOMES under treatment (arm 1) and without it (arm 0)."""
    enrol = sim.enrol_month[part.person]
    treated_lor = log_odds_ratios(config)[part.measure]
    out = {}
    for arm, lor in ((1, treated_lor), (0, np.zeros(len(part.person)))):
        offset, kind = potential_exits(pop, sim, part.person, enrol, lor)
        for outcome, (types, horizon) in EXIT_OUTCOMES.items():
            out[(outcome, arm)] = np.isin(kind, types) & (offset >= 0) & (offset < horizon)
    return out


def truth_outcomes_frame(person_id: np.ndarray, part: Participation, outcomes: PotentialOutcomes,
                         start: np.datetime64, months: int, window_end: np.datetime64) -> pd.DataFrame:
    """The ``truth_outcomes`` table: one row per participant."""
    enrol = (part.start.astype("datetime64[M]") - start).astype(int)
    frame = pd.DataFrame({
        "person_id": person_id[part.person], "measure": np.array(MEASURES)[part.measure],
        "enrolment_month": np.datetime_as_string(part.start.astype("datetime64[M]"), unit="M"),
        "start_date": part.start.astype("datetime64[s]"),
    })
    for outcome, (_, horizon) in EXIT_OUTCOMES.items():
        for arm, label in ((1, "treated"), (0, "untreated")):
            frame[f"{outcome}_{label}"] = outcomes.exits[(outcome, arm)]
    for horizon in RETURN_HORIZONS:
        frame[f"followed_up_{horizon}m"] = enrol + horizon <= months
    frame["hscl10_baseline"] = outcomes.hscl[(0, 0)]
    for outcome, occasion in SURVEY_OUTCOMES.items():
        months_after = 3 * occasion
        for arm, label in ((1, "treated"), (0, "untreated")):
            frame[f"hscl10_{months_after}m_{label}"] = outcomes.hscl[(occasion, arm)]
            frame[f"{outcome}_{label}"] = np.round(outcomes.hscl[(occasion, arm)] - outcomes.hscl[(0, 0)], 10)
        days = int(SURVEY_DAYS[occasion])
        frame[f"followed_up_hscl10_{months_after}m"] = part.start + np.timedelta64(days, "D") <= window_end
    return frame


def _specs(config: SynthConfig) -> list[tuple[str, str, str, dict]]:
    specs = [(outcome, f"followed_up_{horizon}m", "odds_ratio", config.effect_return)
             for outcome, (_, horizon) in EXIT_OUTCOMES.items()]
    specs += [(outcome, f"followed_up_hscl10_{3 * occasion}m", "mean_shift", config.effect_hscl)
              for outcome, occasion in SURVEY_OUTCOMES.items()]
    return specs


def truth_effects_frame(config: SynthConfig, outcomes: pd.DataFrame) -> pd.DataFrame:
    """The ``truth_effects`` table: the true ATT per measure and outcome.

    ``parameter_value`` is the measure's odds ratio on assisted return for exit outcomes (the
    other exit types change through competition) and its full HSCL-10 shift for survey
    outcomes (60 % of it applies at 3 months).
    """
    rows = []
    for measure in MEASURES:
        group = outcomes[outcomes["measure"] == measure]
        for outcome, followed, kind, parameters in _specs(config):
            y1 = group[f"{outcome}_treated"].astype(float)
            y0 = group[f"{outcome}_untreated"].astype(float)
            full = group[followed].to_numpy(bool)
            rows.append({
                "measure": measure, "outcome": outcome, "estimand": "ATT",
                "true_att": _mean(y1 - y0), "mean_treated": _mean(y1), "mean_untreated": _mean(y0),
                "n_participants": len(group),
                "true_att_followed_up": _mean((y1 - y0)[full]), "n_followed_up": int(full.sum()),
                "parameter": kind, "parameter_value": parameters[measure],
                "hidden_bias": config.hidden_bias, "seed": config.seed,
            })
    return pd.DataFrame(rows)


def _mean(values: pd.Series) -> float:
    return float(values.mean()) if len(values) else float("nan")
