"""Known-truth validation of the ATT estimators and their standard errors.

Simulates many data sets with a known population ATT, matches them with tiltak's
nearest-neighbour matching on an estimated propensity score, estimates the ATT and prints,
for each design, estimator and standard error: bias, empirical SD of the estimates, mean
standard error, and the coverage of the 95 % interval.

    python benchmarks/validate_coverage.py --reps 1000 --n 800 [--part att|trials|...]

Parts: ``att`` (below), ``trials`` (cumulative incidence over target trials with persons
reused across trials: benchmarks/validate_trials.py), ``replace`` (rejection of a true null
by the standard errors after matching with replacement: validate_replacement.py),
``sensitivity`` (the level of the Rosenbaum tests for k:1 and variable-ratio sets:
validate_sensitivity.py).

The design (Abadie and Imbens 2006 style): x1, x2 ~ N(0, 1), x3 ~ Bernoulli(0.4);
P(T = 1 | x) = logistic(-2 + 0.8 x1 - 0.5 x2 + 0.5 x3) (about 16 % treated);
Y = 1 + x1 + 0.5 x2 + x3 + tau(x) T + e with tau(x) = 1 + 0.5 x1 and e ~ N(0, 1).
The population ATT, E[tau(x) | T = 1], is computed from 4 million draws.
The known-truth test in tests/estimation/test_effects_coverage.py runs a small version.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DESIGNS = {
    # name: (matching parameters, [(estimator, covariates?, se_type), ...])
    "1:1 without replacement": (
        {"ratio": 1, "replace": False},
        [("difference", False, "cluster"), ("difference", False, "robust"),
         ("regression", True, "cluster")],
    ),
    "2:1 without replacement": (
        {"ratio": 2, "replace": False},
        [("difference", False, "cluster"), ("regression", True, "cluster")],
    ),
    "1:1 without replacement, true score": (
        {"ratio": 1, "replace": False, "distance": "true"},
        [("difference", False, "cluster"), ("regression", True, "cluster")],
    ),
    "1:1 with replacement": (
        {"ratio": 1, "replace": True},
        [("difference", False, "abadie_imbens"), ("difference", False, "cluster"),
         ("regression", True, "cluster"), ("difference", False, "robust")],
    ),
    "1:1 with replacement, true score": (
        {"ratio": 1, "replace": True, "distance": "true"},
        [("difference", False, "abadie_imbens")],
    ),
}


def simulate(n: int, rng: np.random.Generator) -> pd.DataFrame:
    """One data set of the known-truth design."""
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    x3 = (rng.random(n) < 0.4).astype(float)
    p = 1 / (1 + np.exp(-(-2.0 + 0.8 * x1 - 0.5 * x2 + 0.5 * x3)))
    treat = rng.random(n) < p
    y = 1 + x1 + 0.5 * x2 + x3 + (1 + 0.5 * x1) * treat + rng.normal(size=n)
    return pd.DataFrame({"x1": x1, "x2": x2, "x3": x3, "treat": treat, "y": y, "ps": p})


def true_att(draws: int = 4_000_000, seed: int = 20261124) -> float:
    """E[tau(x) | T = 1] by Monte Carlo (standard error about 4e-4)."""
    frame = simulate(draws, np.random.default_rng(seed))
    return float(np.mean(1 + 0.5 * frame["x1"][frame["treat"]]))


@dataclass
class Tally:
    estimates: list
    errors: list
    covered: list


def one_replication(frame: pd.DataFrame, params: dict, specs, truth: float, tallies) -> None:
    from estimation.effects import estimate_att
    from estimation.matching import NearestNeighborMatching

    X = frame[["x1", "x2", "x3"]]
    if params.get("distance") == "true":
        params = {**params, "distance": frame["ps"].to_numpy()}
    sample = NearestNeighborMatching(**params).fit(X, frame["treat"]).result_
    for estimator, adjust, se_type in specs:
        result = estimate_att(sample, frame["y"], covariates=["x1", "x2", "x3"] if adjust else None,
                              se_type=se_type)
        tally = tallies[(estimator, se_type)]
        tally.estimates.append(result.estimate)
        tally.errors.append(result.std_error)
        tally.covered.append(result.ci_low <= truth <= result.ci_high)


def run(reps: int, n: int, seed: int, truth: float | None = None,
        designs: list[str] | None = None) -> pd.DataFrame:
    """Bias, SD, mean SE and coverage for every design (or those named) and standard error."""
    truth = true_att() if truth is None else truth
    rows = []
    for design in designs or list(DESIGNS):
        params, specs = DESIGNS[design]
        rng = np.random.default_rng(seed)
        tallies = {(e, s): Tally([], [], []) for e, _, s in specs}
        for _ in range(reps):
            one_replication(simulate(n, rng), params, specs, truth, tallies)
        for (estimator, se_type), t in tallies.items():
            est = np.asarray(t.estimates)
            rows.append({
                "design": design, "estimator": estimator, "se_type": se_type,
                "bias": est.mean() - truth, "sd": est.std(ddof=1),
                "mean_se": float(np.mean(t.errors)), "coverage": float(np.mean(t.covered)),
            })
    return pd.DataFrame(rows)


PARTS = ("att", "trials", "replace", "sensitivity")


def _print_att(args) -> None:
    truth = true_att()
    table = run(args.reps, args.n, args.seed, truth)
    print(f"population ATT = {truth:.4f}; {args.reps} replications of n = {args.n}")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))


def _print_trials(args) -> None:
    import validate_trials

    table = validate_trials.run(args.reps, args.seed)
    print(f"target trials, persons reused across trials, no effect (truth 0); "
          f"{args.reps} replications")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))


def _print_replace(args) -> None:
    import validate_replacement

    table = validate_replacement.run(args.reps, args.n, args.seed)
    mean, largest = table.attrs["reuse"]
    print(f"matching with replacement, no effect; {args.reps} replications of n = {args.n}; "
          f"a used control serves {mean:.2f} treated units on average, up to {largest:.1f}")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))


def _print_sensitivity(args) -> None:
    import validate_sensitivity

    table = validate_sensitivity.run(args.reps, args.seed)
    print(f"sensitivity tests at Gamma = 1, no effect, 150 matched sets; {args.reps} "
          "replications (mc_se: Monte Carlo SE of a 5 % rate)")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=1000)
    parser.add_argument("--n", type=int, default=800)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--part", choices=(*PARTS, "all"), default="all",
                        help="att: matched ATT estimators; trials: curves over target trials "
                             "with persons reused (validate_trials.py); replace: SEs after "
                             "matching with replacement (validate_replacement.py); "
                             "sensitivity: level of the Rosenbaum tests (validate_sensitivity.py)")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    for part in PARTS if args.part == "all" else (args.part,):
        start = time.perf_counter()
        {"att": _print_att, "trials": _print_trials, "replace": _print_replace,
         "sensitivity": _print_sensitivity}[part](args)
        print(f"time: {time.perf_counter() - start:.1f} s\n")


if __name__ == "__main__":
    main()
