"""Generate the synthetic registers: the orchestration of all concepts."""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

import numpy as np
import pandas as pd

from tiltak.synth.applications import applications_frame, draw_applications
from tiltak.synth.centres import make_centres
from tiltak.synth.config import SynthConfig
from tiltak.synth.errors import SynthError
from tiltak.synth.costs import costs_frame
from tiltak.synth.exits import decisions_frame, event_dates, exits_frame
from tiltak.synth.moves import centre_schedule
from tiltak.synth.nationalities import nationality_frame
from tiltak.synth.participation import make_participation, participation_frame
from tiltak.synth.persons import persons_frame, pseudonyms
from tiltak.synth.population import make_population
from tiltak.synth.residence import residence_frame
from tiltak.synth.rollout import make_rollout
from tiltak.synth.simulation import simulate
from tiltak.synth.streams import stream
from tiltak.synth.surveys import (
    draw_noise, hscl_items, months_since_decision, survey_design, surveys_frame,
)
from tiltak.synth.truth import (
    PotentialOutcomes, register_outcomes, truth_effects_frame, truth_outcomes_frame,
)

TABLE_ORDER: tuple[str, ...] = (
    "nationalities", "persons", "centres", "residence", "decisions",
    "participation", "applications", "exits", "surveys", "costs",
)
SORT_KEYS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "nationalities": ("nationality",), "persons": ("person_id",), "centres": ("centre_id",),
    "residence": ("person_id", "date_from"), "decisions": ("person_id", "decision_date"),
    "participation": ("person_id", "measure", "start_date"),
    "applications": ("person_id", "application_date"), "exits": ("person_id",),
    "surveys": ("person_id", "survey_date", "instrument"),
    "costs": ("measure", "centre_id", "period"),
    "truth_outcomes": ("person_id", "measure"), "truth_effects": ("measure", "outcome"),
})


@dataclass(frozen=True)
class SyntheticRegisters:
    """The generated contract tables (``tables``) and the ground truth.

    ``truth_effects``: the true ATT per measure and outcome; ``truth_outcomes``: each
    participant's potential outcomes. Frames are sorted by their keys.
    """

    config: SynthConfig
    tables: Mapping[str, pd.DataFrame]
    truth_effects: pd.DataFrame
    truth_outcomes: pd.DataFrame
    diagnostics: Mapping[str, float]


def _sorted(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(list(SORT_KEYS[name]), ignore_index=True, na_position="first")


def generate(config: SynthConfig | None = None) -> SyntheticRegisters:
    """Simulate the registers for ``config`` (defaults: the 2012-2014 case)."""
    config = config or SynthConfig()
    rngs = {name: stream(config.seed, name) for name in (
        "centres", "population", "rollout", "moves", "participation", "exits", "exit_days",
        "sessions", "applications", "surveys", "control", "costs", "ids", "start_days")}
    start = np.datetime64(config.start, "M")
    window = (start.astype("datetime64[D]"), (start + config.months).astype("datetime64[D]") - np.timedelta64(1, "D"))
    centres = make_centres(config.n_centres, rngs["centres"])
    pop = make_population(config, centres, rngs["population"])
    if pop.size == 0:
        raise SynthError(f"SynthConfig: nobody was drawn ({config.describe()}); expected at least "
                         "one person: raise the scale, opening_stock or monthly_rejections")
    active = make_rollout(centres.count, config.months, rngs["rollout"])
    schedule = centre_schedule(pop.first_centre, pop.decision_month, config.months, centres, rngs["moves"])
    sim = simulate(config, pop, schedule, active, rngs)
    dates = event_dates(start, pop, sim)
    part = make_participation(pop, sim, dates, window[1], rngs["sessions"])
    ids = pseudonyms(pop.size, rngs["ids"])
    noise = draw_noise(pop.size, rngs["surveys"])
    design = survey_design(config, pop, dates, part, sim.centre, active, window, rngs["control"])
    draws = draw_applications(pop, rngs["applications"])
    tables = _tables(ids, centres, pop, sim, dates, part, design, noise, active, start, window, draws, rngs)
    outcomes = _potential_outcomes(config, pop, sim, part, design, dates, noise, draws, window)
    truth_outcomes = truth_outcomes_frame(ids, part, outcomes, start, config.months, window[1])
    return SyntheticRegisters(
        config=config,
        tables=MappingProxyType({name: _sorted(name, tables[name]) for name in TABLE_ORDER}),
        truth_effects=_sorted("truth_effects", truth_effects_frame(config, truth_outcomes)),
        truth_outcomes=_sorted("truth_outcomes", truth_outcomes),
        diagnostics=_diagnostics(pop, sim),
    )


def _diagnostics(pop, sim) -> Mapping[str, float]:
    """Quantities that are not in the registers: eligibility and the hidden motivation."""
    enrolled = sim.enrol_month >= 0
    others = sim.eligible & ~enrolled
    return MappingProxyType({
        "eligible_persons": int(sim.eligible.sum()),
        "participants": int(enrolled.sum()),
        "uptake": float(enrolled.sum() / max(sim.eligible.sum(), 1)),
        "motivation_participants": float(pop.motivation[enrolled].mean()) if enrolled.any() else float("nan"),
        "motivation_eligible_non_participants": float(pop.motivation[others].mean()) if others.any() else float("nan"),
    })


def _tables(ids, centres, pop, sim, dates, part, design, noise, active, start, window, draws, rngs):
    """The contract tables by name."""
    return {
        "nationalities": nationality_frame(start), "persons": persons_frame(ids, pop, start),
        "centres": centres.frame, "residence": residence_frame(ids, centres, sim, dates, start),
        "decisions": decisions_frame(ids, pop, dates),
        "participation": participation_frame(ids, part, centres),
        "applications": applications_frame(ids, pop, sim, dates, draws, window[0], window[1]),
        "exits": exits_frame(ids, sim, dates),
        "surveys": surveys_frame(ids, pop, design, dates, window[1], noise),
        "costs": costs_frame(active, part, centres, start, rngs["costs"]),
    }


def _potential_outcomes(config, pop, sim, part, design, dates, noise, draws, window) -> PotentialOutcomes:
    """Exit and application outcomes on each arm; HSCL-10 at each occasion with and without the shift."""
    k = len(part.person)  # participants come first in the survey design
    msd = months_since_decision(design, dates)[:k]
    treated = hscl_items(pop, part.person, msd, design.shift[:k], noise).mean(axis=2)
    untreated = hscl_items(pop, part.person, msd, np.zeros(k), noise).mean(axis=2)
    hscl = {(occasion, arm): values[:, occasion]
            for occasion in range(3) for arm, values in (("treated", treated), ("not_enrolled", untreated))}
    exits = register_outcomes(config, pop, sim, part, dates, draws, window)
    return PotentialOutcomes(exits=exits, hscl=hscl)
