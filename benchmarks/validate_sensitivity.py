"""Known truth for sensitivity tests on matched sets: the level at Gamma = 1 under no effect.

Matched sets of one treated unit and k controls that are exchangeable given the set (as
after exact matching): a set-level covariate s ~ N(0, 1) drives the outcome, and nothing
else does, so the treated unit's outcome is one more draw like its controls'. A valid test
of "no effect" (one-sided, larger treated outcomes) at nominal 5 % rejects in at most about
5 % of the samples.

* M-statistic: ``estimation.rosenbaum_mstatistic_sets`` (senmv's defaults).
* Wilcoxon on treated minus mean of controls: the test used for k:1 sets before issue 9;
  those differences are not symmetric about 0 under the null when k > 1.
* McNemar / Wilcoxon on 1:1 pairs (k = 1), for reference: these are valid.

Designs: binary outcome (P = logistic(-1 + s)) with 3:1 sets, continuous heavy-tailed
outcome (t with 3 df) and skewed outcome (exponential) with 3:1 sets, and variable-ratio
sets (1 to 4 controls).

    python benchmarks/validate_coverage.py --part sensitivity --reps 2000
"""

from __future__ import annotations

import numpy as np
import pandas as pd

DESIGNS = {
    "binary, 3:1": ("binary", (3,)),
    "continuous t(3), 3:1": ("t3", (3,)),
    "continuous skewed (exponential), 3:1": ("exp", (3,)),
    "binary, 1 to 4 controls": ("binary", (1, 2, 3, 4)),
    "continuous t(3), 1 to 4 controls": ("t3", (1, 2, 3, 4)),
    "binary, 1:1 (reference)": ("binary", (1,)),
}


def simulate_sets(rng: np.random.Generator, n_sets: int, kind: str, sizes) -> np.ndarray:
    k = rng.choice(sizes, n_sets)
    width = 1 + max(sizes)
    s = rng.normal(size=n_sets)[:, None]
    if kind == "binary":
        y = (rng.random((n_sets, width)) < 1 / (1 + np.exp(1 - s))).astype(float)
    elif kind == "exp":
        y = s + rng.exponential(1.0, size=(n_sets, width))
    else:
        y = s + rng.standard_t(3, size=(n_sets, width))
    y[np.arange(width)[None, :] > k[:, None]] = np.nan
    return y


def _tests(y: np.ndarray) -> dict[str, float]:
    from estimation.mstatistic import rosenbaum_mstatistic_sets
    from estimation.sensitivity import rosenbaum_binary_counts, rosenbaum_wilcoxon_differences

    out = {"M-statistic": rosenbaum_mstatistic_sets(y, gammas=[1.0]).p_upper[0]}
    differences = y[:, 0] - np.nanmean(y[:, 1:], axis=1)
    out["Wilcoxon on treated - mean of controls"] = rosenbaum_wilcoxon_differences(
        differences, gammas=[1.0]).p_upper[0]
    if np.isnan(y[:, 2:]).all():  # 1:1 pairs
        if np.isin(y[:, :2], (0.0, 1.0)).all():
            t = int(((y[:, 0] == 1) & (y[:, 1] == 0)).sum())
            c = int(((y[:, 0] == 0) & (y[:, 1] == 1)).sum())
            out["McNemar (pairs)"] = rosenbaum_binary_counts(t, c, gammas=[1.0]).p_upper[0]
    return out


def run(reps: int, seed: int, n_sets: int = 150, designs: list[str] | None = None) -> pd.DataFrame:
    rows = []
    for design in designs or list(DESIGNS):
        kind, sizes = DESIGNS[design]
        rng = np.random.default_rng(seed)
        p_values: dict[str, list[float]] = {}
        for _ in range(reps):
            for name, p in _tests(simulate_sets(rng, n_sets, kind, sizes)).items():
                p_values.setdefault(name, []).append(p)
        for name, values in p_values.items():
            values = np.asarray(values)
            rows.append({"design": design, "test": name,
                         "rejection at 5%": float(np.mean(values <= 0.05)),
                         "rejection at 1%": float(np.mean(values <= 0.01)),
                         "mc_se": float(np.sqrt(0.05 * 0.95 / reps))})
    return pd.DataFrame(rows)
