"""Known truth for Rosenbaum's Gamma in the register design: the level at Gamma = 1 under no effect.

The register pipeline's route is followed from the matching on: simulated person-months go
through ``match_pool`` (``RiskSetMatching`` with the design's settings, the months as risk
sets), ``matched_units`` (each comparison person must still be present after their
participant's start date) and the sensitivity analysis of ``tiltak.evaluation.sensitivity``:

* binary, the event by the horizon: every unit (participant, or a comparison person at a
  participant's start date) has its own outcome; ``register_set_outcomes`` keeps one unit of
  each comparison person (drawn with the seed when full matching shares them) and leaves out
  those whose outcome is unknown (censored: 10 % of comparison units, at random);
* continuous, a survey change: one value per person-month (the ``_survey`` route).

There is no effect: a person's outcome depends on a three-level covariate ``x`` (which also
drives participation, so the unmatched comparison is confounded) and on the day of the
month of their index date, never on participation. The matching is exact on ``x`` in effect
(the score takes three values, so the optimal sets never mix them), so within a set the
participants and comparison persons are exchangeable: a valid one-sided test at nominal
5 % rejects in about 5 % of the samples. Both one-sided alternatives are counted.

    python benchmarks/validate_register_gamma.py --reps 2000 [--methods full,nearest]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ALPHA = 0.05
#: evaluation.matching settings per method name (the rest are logicmodel.Matching's defaults).
METHODS = {"full": {"method": "full"}, "nearest": {"method": "nearest"},
           "nearest_3to1": {"method": "nearest", "ratio": 3}}


def simulate_months(rng: np.random.Generator, n_people: int = 250, n_months: int = 3) -> pd.DataFrame:
    """Person-months at risk: a person starts in a month with odds rising with ``x`` and is at
    risk no more after; 5 % leave in a month (at a random day) and are at risk no more after it."""
    x = rng.integers(0, 3, n_people)
    at_risk = np.ones(n_people, dtype=bool)
    rows = []
    for m in range(n_months):
        month = pd.Timestamp(2024, 1 + m, 1)
        people = np.flatnonzero(at_risk)
        start = rng.random(people.size) < 1 / (1 + np.exp(-(-2.6 + 1.6 * x[people])))
        day = rng.integers(0, 28, people.size)
        leaves = ~start & (rng.random(people.size) < 0.05)
        exit_day = rng.integers(0, 28, people.size)
        rows.append(pd.DataFrame({
            "person_id": people, "period": month.strftime("%Y-%m"), "month": month,
            "treated": start, "x": x[people].astype(float), "prior_other_measure": 0,
            "index_date": month + pd.to_timedelta(day, unit="D"),
            "exit_date": pd.Series(month + pd.to_timedelta(exit_day, unit="D")).where(leaves).to_numpy()}))
        at_risk[people[start | leaves]] = False
    frame = pd.concat(rows, ignore_index=True)
    frame["exit_date"] = pd.to_datetime(frame["exit_date"])
    return frame


def _settings(method: str) -> dict:
    from logicmodel.model import Matching
    from tiltak.evaluation.estimate import design_settings

    return design_settings(Matching.model_validate(METHODS[method]), ("x",))


def one_sample(rng: np.random.Generator, method: str, seed: int) -> dict[str, float] | None:
    """One simulated register: the p-values at Gamma = 1 of both routes, both alternatives."""
    from tiltak.evaluation.design_run import match_pool
    from tiltak.evaluation.sensitivity import bounds_for, register_set_outcomes
    from tiltak.evaluation.trials import matched_units

    data = simulate_months(rng)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        match = match_pool(data, _settings(method), seed)
    if match.error:
        return None
    trials = matched_units(match.data, match.sample, match.rows, seed, match.strata)
    units = trials.units
    frame = trials.data
    rows = units["row"].to_numpy()
    day = (units["index_date"].to_numpy(dtype="datetime64[D]")
           - units["trial"].to_numpy(dtype="datetime64[D]")).astype(float)
    x = frame["x"].to_numpy()[rows]
    p = 1 / (1 + np.exp(-(-1.0 + 0.9 * x + 0.04 * (day - 13.5))))
    y_unit = (rng.random(len(units)) < p).astype(float)
    usable = units["treated"].to_numpy() | (rng.random(len(units)) >= 0.1)
    sample, y = register_set_outcomes(trials, y_unit, usable, seed)
    survey = frame["x"].to_numpy() + rng.standard_t(3, len(frame))
    out = {"several treated": float(_several_treated(sample))}
    for name, (s, values, binary) in {"binary": (sample, y, True),
                                      "continuous": (trials.sample, survey, False)}.items():
        for alternative, sign in (("greater", 1.0), ("less", -1.0)):
            result = bounds_for(s, values, binary, sign)
            out[f"{name}, {alternative}"] = result.p_upper[result.gammas.index(1.0)]
        out[f"{name} method"] = result.method
    return out


def _several_treated(sample) -> bool:
    from estimation.mstatistic import several_treated

    return sample.structure == "sets" and several_treated(sample)


def run(reps: int = 2000, seed: int = 1, methods=("full",)) -> pd.DataFrame:
    """Rejection rates at Gamma = 1 (nominal 5 %) with their Monte Carlo SEs, per method and test."""
    records = []
    for method in methods:
        rng = np.random.default_rng(np.random.SeedSequence([seed, len(method)]))
        found = [r for r in (one_sample(rng, method, i) for i in range(reps)) if r is not None]
        results = pd.DataFrame(found)
        for test in ("binary, greater", "binary, less", "continuous, greater", "continuous, less"):
            rate = float((results[test] <= ALPHA).mean())
            records.append({"method": method, "test": test,
                            "bounds": results[test.split(",")[0] + " method"].mode().iloc[0],
                            "samples": len(results), "rejection at 5%": rate,
                            "mc_se": float(np.sqrt(ALPHA * (1 - ALPHA) / len(results))),
                            "samples with several-treated sets": float(results["several treated"].mean())})
    return pd.DataFrame(records)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--methods", default="full,nearest,nearest_3to1")
    args = parser.parse_args()
    started, cpu = time.time(), time.process_time()
    table = run(args.reps, args.seed, tuple(args.methods.split(",")))
    print(f"cores {os.cpu_count()}, load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print(f"wall {time.time() - started:.1f} s, CPU {time.process_time() - cpu:.1f} s")


if __name__ == "__main__":
    main()
