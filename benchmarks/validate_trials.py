"""Known truth for curves over a sequence of target trials with persons reused across trials.

A closed population of persons is followed on a calendar of days. Each person has a baseline
category x (0, 1, 2) and one exit: a time (exponential, faster for higher x) and a route
("return" with a probability that rises with x, otherwise "other"). One target trial starts
every 30 days: some persons at risk enrol (more often for higher x), each participant is
matched exactly on x to up to 3 persons at risk who have not enrolled (no person twice in a
trial, trials matched independently, so a person is a comparison in several trials and may
enrol later). Outcomes count from the trial's start; the data end on one calendar day, so
late trials are censored early. Participation has no effect (the truth is 0 at every
horizon), so the interval coverage measures the standard error alone.

Per trial: weighted Aalen-Johansen curves of "return" for participants and their matched
comparisons (comparison weight 1/m in a set of m), differenced, averaged over trials with
weights = participants per trial (``estimation.incidence_effect``). Standard errors:
two-way on person and matched set (the default), person only, matched set only, and units
independent (wrong here: a person's one exit appears in every trial they are in).

    python benchmarks/validate_coverage.py --part trials --reps 1000
"""

from __future__ import annotations

import numpy as np
import pandas as pd

HORIZONS = (180.0, 365.0)
CLUSTERINGS = {"person+set": ("person", "set"), "person": ("person",), "set": ("set",),
               "independent": None}


def simulate_population(rng: np.random.Generator, n_persons: int = 600, end_day: float = 920.0,
                        median_days: float = 300.0, shares=(0.4, 0.35, 0.25)):
    x = rng.choice([0, 1, 2], n_persons, p=list(shares))
    rate = np.log(2) / median_days * np.exp(0.35 * x)
    exit_day = rng.exponential(1 / rate)
    returns = rng.random(n_persons) < np.array([0.35, 0.5, 0.65])[x]
    return pd.DataFrame({"x": x, "exit_day": exit_day, "route": np.where(returns, "return", "other"),
                         "end_day": end_day})


def draw_trials(rng: np.random.Generator, people: pd.DataFrame, n_trials: int = 24,
                per_trial: int = 20, ratio: int = 3, propensity=(0.5, 1.0, 1.6)) -> pd.DataFrame:
    """One row per person per trial: trial, set, person, treated, weight, time, event."""
    enrolled = np.zeros(len(people), dtype=bool)
    rows = []
    for k in range(n_trials):
        start = 30.0 * k
        at_risk = np.flatnonzero((people["exit_day"].to_numpy() > start) & ~enrolled)
        if at_risk.size == 0:
            break
        p = np.asarray(propensity)[people["x"].to_numpy()[at_risk]]
        chosen = rng.choice(at_risk, size=min(per_trial, at_risk.size // 4), replace=False,
                            p=p / p.sum())
        enrolled[chosen] = True
        pool = np.setdiff1d(at_risk, chosen)
        rows += _match_trial(rng, people, k, start, chosen, pool, ratio)
    return pd.DataFrame(rows)


def _match_trial(rng, people, k, start, chosen, pool, ratio) -> list[dict]:
    x = people["x"].to_numpy()
    used: set[int] = set()
    rows = []
    for s, person in enumerate(chosen):
        candidates = [c for c in pool[x[pool] == x[person]] if c not in used]
        if not candidates:
            continue
        controls = rng.choice(candidates, size=min(ratio, len(candidates)), replace=False)
        used.update(int(c) for c in controls)
        members = [(int(person), 1, 1.0)] + [(int(c), 0, 1.0 / len(controls)) for c in controls]
        for who, treated, weight in members:
            rows.append(_outcome_row(people, k, f"{k}:{s}", who, treated, weight, start))
    return rows


def _outcome_row(people, k, set_id, who, treated, weight, start) -> dict:
    exit_day, end_day = people["exit_day"].iat[who], people["end_day"].iat[who]
    observed = exit_day <= end_day
    time = (min(exit_day, end_day) - start)
    event = people["route"].iat[who] if observed else "censored"
    return {"trial": k, "set": set_id, "person": who, "treated": treated, "weight": weight,
            "time": np.ceil(time), "event": event}


def estimate(trials: pd.DataFrame) -> dict:
    """The effect at the horizons under every clustering: {name: IncidenceEffect}."""
    from estimation.incidence import aalen_johansen
    from estimation.incidence_effects import incidence_effect

    strata = []
    for _, trial in trials.groupby("trial", sort=True):
        pair = []
        for group in (1, 0):
            rows = trial[trial["treated"] == group]
            pair.append(aalen_johansen(
                rows["time"], rows["event"], cause="return", censored="censored",
                weights=rows["weight"], horizons=HORIZONS,
                clusters={"person": rows["person"], "set": rows["set"]}))
        strata.append(tuple(pair))
    return {name: incidence_effect(strata, cluster=cluster)
            for name, cluster in CLUSTERINGS.items()}


DESIGNS = {
    # name: (population, trials)
    "24 monthly trials, 3:1": ({"n_persons": 600}, {"per_trial": 20, "ratio": 3}),
    "24 monthly trials, 1:1, small trials": ({"n_persons": 200},
                                             {"per_trial": 8, "ratio": 1}),
    "scarce controls (a rare category enrols often)": (
        {"n_persons": 600, "median_days": 600.0, "shares": (0.5, 0.44, 0.06)},
        {"per_trial": 12, "ratio": 2, "propensity": (0.3, 0.3, 8.0)}),
}


def run(reps: int, seed: int, designs: list[str] | None = None) -> pd.DataFrame:
    """Bias, SD, mean SE and coverage of 0 per design, horizon and clustering; with the mean
    SE of the comparison curve alone (where reusing a person matters most) and how often a
    comparison person appears."""
    records = []
    for design in designs or list(DESIGNS):
        population, trial_settings = DESIGNS[design]
        rng = np.random.default_rng(seed)
        for _ in range(reps):
            trials = draw_trials(rng, simulate_population(rng, **population), **trial_settings)
            reuse = trials[trials["treated"] == 0].groupby("person").size()
            for name, effect in estimate(trials).items():
                for j, h in enumerate(HORIZONS):
                    records.append({
                        "design": design, "clustering": name, "horizon": h,
                        "estimate": effect.estimate[j], "se": effect.std_error[j],
                        "control_se": effect.control_se[j],
                        "covered": effect.ci_low[j] <= 0 <= effect.ci_high[j],
                        "reuse": reuse.mean(), "max_reuse": reuse.max()})
    frame = pd.DataFrame(records)
    return frame.groupby(["design", "horizon", "clustering"], sort=False).agg(
        bias=("estimate", "mean"), sd=("estimate", "std"), mean_se=("se", "mean"),
        coverage=("covered", "mean"), control_se=("control_se", "mean"),
        trials_per_comparison=("reuse", "mean"), max_trials=("max_reuse", "mean"),
    ).reset_index()
