"""HSCL-10 and the MI readiness ruler: latent distress, items, exit-dependent missingness.

Participants answer at enrolment and 3 and 6 months later; a random control sample of
people who never enrol answers on a random day on which they live in a centre that runs a
measure, and 3 and 6 months later. A
person's HSCL-10 at each occasion comes from a latent mean item score (person level plus
occasion noise, worse with time since the decision); ten items are the latent score plus
item noise, rounded and clipped to 1-4; the total is the item mean. Participants'
latent score shifts by the measure's true effect (60 % of it at 3 months, all of it at 6
months); the same random numbers give both potential outcomes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tiltak.synth.config import MEASURES, SynthConfig
from tiltak.synth.exits import EventDates
from tiltak.synth.nationalities import returnability_codes
from tiltak.synth.participation import Participation
from tiltak.synth.population import Population

OCCASION_DAYS = np.array([0, 91, 182])
EFFECT_SHARE = np.array([0.0, 0.6, 1.0])
ITEMS = 10
NONRESPONSE = np.array([0.05, 0.15, 0.15])
NONRESPONSE_BEFORE_EXIT = 0.35
"""Extra nonresponse when the person leaves within 60 days after the survey date."""
ITEM_COLUMNS = tuple(f"item_{i:02d}" for i in range(1, ITEMS + 1))


@dataclass(frozen=True)
class SurveyNoise:
    """Random numbers of the survey model for every person (common to both potential outcomes)."""

    person: np.ndarray    # (n,)
    occasion: np.ndarray  # (n, 3)
    items: np.ndarray     # (n, 3, 10)
    response: np.ndarray  # (n, 3)
    ruler: np.ndarray     # (n, 3, 2)


def draw_noise(n: int, rng: np.random.Generator) -> SurveyNoise:
    return SurveyNoise(rng.normal(0, 0.4, n), rng.normal(0, 0.2, (n, 3)),
                       rng.normal(0, 0.55, (n, 3, ITEMS)), rng.random((n, 3)),
                       rng.standard_normal((n, 3, 2)))


def hscl_items(pop: Population, who: np.ndarray, months_since_decision: np.ndarray,
               shift: np.ndarray, noise: SurveyNoise) -> np.ndarray:
    """Items (len(who), 3, 10) at the three occasions; ``shift`` (len(who),) is the full effect."""
    base = (1.85 + 0.35 * pop.health[who] + 0.12 * ~pop.male[who]
            + 0.08 * (returnability_codes(pop.nationality[who]) == 2) + noise.person[who])
    latent = (base[:, None] + 0.01 * months_since_decision + noise.occasion[who]
              + shift[:, None] * EFFECT_SHARE[None, :])
    return np.clip(np.rint(latent[:, :, None] + noise.items[who]), 1, 4)


def _control_baselines(dates: EventDates, enrolled: np.ndarray, size: int, centre: np.ndarray,
                       active: np.ndarray, window: tuple[np.datetime64, np.datetime64],
                       rng: np.random.Generator):
    """The control sample: ``size`` people who never start a measure, surveyed on a random day
    on which they are obliged to leave and live in a centre that runs a measure that month.

    An evaluation surveys its comparison group where the measures run (the people a
    participant could be compared with); a sample drawn from every centre would leave most
    of its members where nobody can enrol. People are drawn uniformly among those with at
    least one such month, then one of their months uniformly, then a day of it uniformly.
    """
    months = centre.shape[1]
    start = window[0].astype("datetime64[M]")
    firsts = (start + np.arange(months)).astype("datetime64[D]")
    lasts = (start + np.arange(1, months + 1)).astype("datetime64[D]") - np.timedelta64(1, "D")
    never = np.flatnonzero(~enrolled)
    exit_day = dates.exit[never]
    first = np.maximum(firsts[None, :], dates.decision[never][:, None])
    last = np.where(np.isnat(exit_day)[:, None], lasts[None, :], np.minimum(lasts[None, :], exit_day[:, None]
                                                                            - np.timedelta64(1, "D")))
    runs = active.any(axis=0)  # (centres, months): some measure runs there
    ok = (first <= last) & runs[centre[never], np.arange(months)[None, :]]
    candidates = np.flatnonzero(ok.any(axis=1))
    chosen = np.sort(rng.choice(candidates, size=min(size, len(candidates)), replace=False))
    n_ok = ok[chosen].sum(axis=1)
    pick = np.floor(rng.random(len(chosen)) * n_ok).astype(np.int64)
    month = np.argmax(np.cumsum(ok[chosen], axis=1) > pick[:, None], axis=1)  # the pick-th month that is ok
    low, high = first[chosen, month], last[chosen, month]
    span = (high - low).astype(np.int64)
    day = low + np.floor(rng.random(len(chosen)) * (span + 1)).astype("timedelta64[D]")
    return never[chosen], day


@dataclass(frozen=True)
class SurveyDesign:
    """Who is surveyed from which baseline date, with which true shift."""

    who: np.ndarray
    baseline: np.ndarray
    shift: np.ndarray
    vv: np.ndarray  # answers the MI readiness ruler


def survey_design(config: SynthConfig, pop: Population, dates: EventDates, part: Participation,
                  centre: np.ndarray, active: np.ndarray, window: tuple[np.datetime64, np.datetime64],
                  rng: np.random.Generator) -> SurveyDesign:
    """Participants from their start date; the control sample (:func:`_control_baselines`).

    ``centre`` is the (people, months) centre schedule, ``active`` the roll-out
    (measures, centres, months).
    """
    enrolled = np.zeros(pop.size, dtype=bool)
    enrolled[part.person] = True
    controls, control_dates = _control_baselines(dates, enrolled, config.n_control, centre, active, window, rng)
    shifts = np.array([config.effect_hscl[m] for m in MEASURES])[part.measure]
    return SurveyDesign(
        who=np.concatenate([part.person, controls]),
        baseline=np.concatenate([part.start, control_dates]),
        shift=np.concatenate([shifts, np.zeros(len(controls))]),
        vv=np.concatenate([part.measure == MEASURES.index("VV"), np.zeros(len(controls), bool)]),
    )


def occasion_dates(design: SurveyDesign) -> np.ndarray:
    return design.baseline[:, None] + OCCASION_DAYS[None, :].astype("timedelta64[D]")


def months_since_decision(design: SurveyDesign, dates: EventDates) -> np.ndarray:
    days = (occasion_dates(design) - dates.decision[design.who][:, None]).astype(np.int64)
    return days / 30.4375


def observed(design: SurveyDesign, dates: EventDates, window_end: np.datetime64,
             noise: SurveyNoise) -> np.ndarray:
    """(len(who), 3) whether each occasion's response is in the data."""
    when = occasion_dates(design)
    exit_date = dates.exit[design.who][:, None]
    present = np.isnat(exit_date) | (when < exit_date)
    leaving_soon = ~np.isnat(exit_date) & (exit_date - when <= np.timedelta64(60, "D"))
    p_missing = NONRESPONSE[None, :] + NONRESPONSE_BEFORE_EXIT * leaving_soon
    return present & (when <= window_end) & (noise.response[design.who] >= p_missing)


def surveys_frame(person_id: np.ndarray, pop: Population, design: SurveyDesign, dates: EventDates,
                  window_end: np.datetime64, noise: SurveyNoise) -> pd.DataFrame:
    """The ``surveys`` table: HSCL-10 with items, MI importance and confidence for VV."""
    items = hscl_items(pop, design.who, months_since_decision(design, dates), design.shift, noise)
    seen = observed(design, dates, window_end, noise)
    row, occ = np.nonzero(seen)
    when = occasion_dates(design)[row, occ].astype("datetime64[s]")
    ids = person_id[design.who[row]]
    hscl = pd.DataFrame({"person_id": ids, "survey_date": when, "instrument": "hscl10",
                         "total": items[row, occ].mean(axis=1)})
    for j, column in enumerate(ITEM_COLUMNS):
        hscl[column] = items[row, occ, j]
    frames = [hscl]
    vv = design.vv[row]
    motivation, health = pop.motivation[design.who[row]], pop.health[design.who[row]]
    z = noise.ruler[design.who[row], occ]
    rulers = {"mi_importance": 4.5 + 1.6 * motivation + 1.2 * z[:, 0],
              "mi_confidence": 4.0 + 0.8 * motivation - 0.5 * health + 1.5 * z[:, 1]}
    for instrument, value in rulers.items():
        frames.append(pd.DataFrame({"person_id": ids[vv], "survey_date": when[vv], "instrument": instrument,
                                    "total": np.clip(np.rint(value[vv]), 0, 10)}))
    return pd.concat(frames, ignore_index=True)
