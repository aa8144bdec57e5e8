"""Known truth for standard errors after matching with replacement: rejection of a true null.

Data: x1, x2 ~ N(0, 1), x3 ~ Bernoulli(0.4); P(T = 1 | x) = logistic(-0.6 + 1.2 x1 - 0.6 x2
+ 0.5 x3) (about 40 % treated, so that good controls are scarce and reused, on average
about twice and up to ten times); Y = 1 + x1 + 0.5 x2 + x3 + e, e ~ N(0, 1): no effect.
1:1 nearest-neighbour matching with replacement on the estimated propensity score; each
estimator's two-sided test of "no effect" at 5 % should reject in about 5 % of the samples.

``HC1 on rows`` is what ``se_type="robust"`` did before issue 9: the regression on MatchIt's
``get_matches()`` rows with every row independent, although a control used k times has k
rows with the same outcome. ``robust`` now clusters those rows on the unit.

    python benchmarks/validate_coverage.py --part replace --reps 1000
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SPECS = [  # (label, covariates?, se_type)
    ("difference, robust (unit-clustered HC1)", False, "robust"),
    ("difference, HC1 on rows (before)", False, "rows"),
    ("difference, two-way set x unit", False, "cluster"),
    ("difference, Abadie-Imbens", False, "abadie_imbens"),
    ("regression, robust (unit-clustered HC1)", True, "robust"),
    ("regression, HC1 on rows (before)", True, "rows"),
    ("regression, two-way set x unit", True, "cluster"),
]


def simulate(n: int, rng: np.random.Generator) -> pd.DataFrame:
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    x3 = (rng.random(n) < 0.4).astype(float)
    p = 1 / (1 + np.exp(-(-0.6 + 1.2 * x1 - 0.6 * x2 + 0.5 * x3)))
    treat = rng.random(n) < p
    y = 1 + x1 + 0.5 * x2 + x3 + rng.normal(size=n)
    return pd.DataFrame({"x1": x1, "x2": x2, "x3": x3, "treat": treat, "y": y})


def _rows_se(sample, y: np.ndarray, adjust: bool) -> tuple[float, float]:
    """Estimate and HC1 SE on the stacked rows, every row independent (the old 'robust')."""
    from estimation.variance import fit_wls, sandwich_vcov, stacked_pairs

    units, _, weights = stacked_pairs(np.asarray(sample.match_matrix), np.asarray(sample.treat))
    columns = [np.ones(units.size), np.asarray(sample.treat, float)[units]]
    if adjust:
        columns += [sample.covariates[c].to_numpy(float)[units] for c in ("x1", "x2", "x3")]
    fit = fit_wls(np.column_stack(columns), y[units], weights)
    vcov, _ = sandwich_vcov(fit, None)
    return float(fit.coef[1]), float(np.sqrt(vcov[1, 1]))


def one_replication(frame: pd.DataFrame) -> dict:
    from estimation.effects import estimate_att
    from estimation.matching import NearestNeighborMatching

    sample = NearestNeighborMatching(ratio=1, replace=True).fit(
        frame[["x1", "x2", "x3"]], frame["treat"]).result_
    y = frame["y"].to_numpy()
    out = {}
    for label, adjust, se_type in SPECS:
        if se_type == "rows":
            estimate, se = _rows_se(sample, y, adjust)
        else:
            effect = estimate_att(sample, y, covariates=["x1", "x2", "x3"] if adjust else None,
                                  se_type=se_type, binary=False)
            estimate, se = effect.estimate, effect.std_error
        out[label] = (estimate, se)
    counts = np.bincount(sample.match_matrix[sample.match_matrix >= 0])
    out["reuse"] = (float(counts[counts > 0].mean()), float(counts.max()))
    return out


def run(reps: int, n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    records = [one_replication(simulate(n, rng)) for _ in range(reps)]
    rows = []
    for label, _, _ in SPECS:
        est = np.array([r[label][0] for r in records])
        se = np.array([r[label][1] for r in records])
        rows.append({"estimator, SE": label, "bias": est.mean(), "sd": est.std(ddof=1),
                     "mean_se": se.mean(), "se/sd": se.mean() / est.std(ddof=1),
                     "rejection at 5%": float(np.mean(np.abs(est / se) > 1.959963984540054))})
    table = pd.DataFrame(rows)
    reuse = np.array([r["reuse"] for r in records])
    table.attrs["reuse"] = (float(reuse[:, 0].mean()), float(reuse[:, 1].mean()))
    return table
