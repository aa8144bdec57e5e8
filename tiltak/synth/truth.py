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
from tiltak.synth.hazards import ASSISTED, draw_exits, exit_probabilities
from tiltak.synth.participation import Participation
from tiltak.synth.population import Population
from tiltak.synth.simulation import FOLLOW_UP_MONTHS, Simulation, log_odds_ratios, month_covariates

RETURN_HORIZONS = (6, 12)


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

    returned: dict[tuple[int, int], np.ndarray]  # (horizon, arm) -> bool
    hscl: dict[int, np.ndarray]                   # arm -> HSCL-10 at 6 months
    hscl_baseline: np.ndarray


def return_outcomes(config: SynthConfig, pop: Population, sim: Simulation,
                    part: Participation) -> dict[tuple[int, int], np.ndarray]:
    enrol = sim.enrol_month[part.person]
    treated_lor = log_odds_ratios(config)[part.measure]
    out = {}
    for arm, lor in ((1, treated_lor), (0, np.zeros(len(part.person)))):
        offset, kind = potential_exits(pop, sim, part.person, enrol, lor)
        for horizon in RETURN_HORIZONS:
            out[(horizon, arm)] = (kind == ASSISTED) & (offset < horizon)
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
    for horizon in RETURN_HORIZONS:
        for arm, label in ((1, "treated"), (0, "untreated")):
            frame[f"assisted_return_{horizon}m_{label}"] = outcomes.returned[(horizon, arm)]
        frame[f"followed_up_{horizon}m"] = enrol + horizon <= months
    frame["hscl10_baseline"] = outcomes.hscl_baseline
    frame["hscl10_6m_treated"] = outcomes.hscl[1]
    frame["hscl10_6m_untreated"] = outcomes.hscl[0]
    frame["followed_up_hscl10_6m"] = part.start + np.timedelta64(182, "D") <= window_end
    return frame


def truth_effects_frame(config: SynthConfig, outcomes: pd.DataFrame) -> pd.DataFrame:
    """The ``truth_effects`` table: the true ATT per measure and outcome."""
    rows = []
    specs = [(f"assisted_return_{h}m", f"followed_up_{h}m", "odds_ratio", config.effect_return)
             for h in RETURN_HORIZONS]
    specs.append(("hscl10_6m", "followed_up_hscl10_6m", "mean_shift", config.effect_hscl))
    for measure in MEASURES:
        group = outcomes[outcomes["measure"] == measure]
        for outcome, followed, kind, parameters in specs:
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
